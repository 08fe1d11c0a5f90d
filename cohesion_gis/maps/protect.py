"""The scheme map: a designed barrier scheme with the site's approaches before and after it.

:func:`scheme_map` draws a :class:`cohesion_gis.protect.Protection`: its lines coloured by form
(street furniture, planters, bollards, a closure with landscaping, a chicane) with what each
must stop in plain words, and the vehicle approaches to the site before and after the scheme,
coloured by the speed they reach it at, the ones the scheme stops grey and dashed. Every text
goes through :func:`~cohesion_gis.maps._style.escape_text`; each legend follows its layers.
"""

from __future__ import annotations

from typing import Any

import folium
import geopandas as gpd
import pandas as pd

from cohesion_gis import __version__
from cohesion_gis.maps._layers import VectorLayer, check_frame, geojson_layer, to_wgs84
from cohesion_gis.maps._style import (
    OKABE_ITO,
    add_legend,
    escape_text,
    format_number,
    header_lines,
    legend_html,
    popup_html,
)
from cohesion_gis.maps.basemap import base_map
from cohesion_gis.maps.sites import add_approaches, speed_legend

__all__ = ["FORM_COLOURS", "drawn_as", "scheme_map"]

#: Colour of each form (Okabe & Ito, colour-blind safe; apart from the blue speed ramp and the
#: grey of stopped approaches): closure green, street furniture yellow, planters orange,
#: bollards vermillion, and chicanes (whatever their build-outs are made of) Okabe & Ito's black.
FORM_COLOURS = {
    "chicane": "#000000",
    "closure": OKABE_ITO[5],
    "street_furniture": OKABE_ITO[4],
    "planters": OKABE_ITO[1],
    "bollards": OKABE_ITO[3],
}
_FORM_WORDS = {
    "chicane": "chicane (slows every vehicle through it)",
    "closure": "street closure with landscaping",
    "street_furniture": "rated street furniture",
    "planters": "rated planters",
    "bollards": "rated bollards",
}


def drawn_as(lines: gpd.GeoDataFrame) -> pd.Series:
    """Each row's key in :data:`FORM_COLOURS`: its form, or "chicane" for a chicane."""
    return lines["form_type"].where(lines["kind"] != "chicane", "chicane").astype(str)


_SITE_COLOUR = "#CC79A7"  # reddish purple (Okabe & Ito): the protected site
_SITE_STYLE = {"color": _SITE_COLOUR, "weight": 2, "fillColor": _SITE_COLOUR, "fillOpacity": 0.15}
SCHEME_MEANING = (
    "Thick lines: the designed barrier scheme, coloured by form; thin lines: vehicle approaches "
    "to the site, coloured by the speed they reach it at, grey and dashed where the scheme stops "
    "them."
)


def _held(approaches: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Approaches a rated line holds (``protected_by``) drawn as stopped (0 km/h, by that line)."""
    out = approaches.copy()
    held = out["protected_by"].fillna("").astype(str) != ""
    out.loc[held, "impact_speed_kmh"] = 0.0
    out["blocked_by"] = out["blocked_by"].astype(object)
    out.loc[held, "blocked_by"] = out.loc[held, "protected_by"]
    return out[out.geometry.notna()].reset_index(drop=True)


def _with_scheme(
    before: gpd.GeoDataFrame, after: gpd.GeoDataFrame, lines: gpd.GeoDataFrame
) -> gpd.GeoDataFrame:
    """The approaches with the scheme: those still arriving, and the stopped ones marked.

    A stopped approach has no route of its own any more; it is drawn along its route before the
    scheme, at 0 km/h, stopped by the scheme's lines it crosses.
    """
    moving = after.loc[after["impact_speed_kmh"].astype(float) > 0]
    still = set(zip(moving["entry_id"], moving["vehicle_class"], strict=True))
    was = before.loc[before["impact_speed_kmh"].astype(float) > 0]
    gone = was.loc[[(e, c) not in still for e, c in zip(was["entry_id"], was["vehicle_class"],
                                                        strict=True)]].copy()  # fmt: skip
    crossing = [
        ", ".join(lines.loc[lines.intersects(route), "line_id"]) or "the scheme"
        for route in gone.geometry
    ]
    gone["impact_speed_kmh"] = 0.0
    gone["blocked_by"] = crossing
    return gpd.GeoDataFrame(pd.concat([moving, gone], ignore_index=True), crs=before.crs)


def scheme_map(
    result: Any,
    *,
    streets: gpd.GeoDataFrame | None = None,
    buildings: gpd.GeoDataFrame | None = None,
    site_geometry: Any = None,
    tolerance_m: float = 1.0,
) -> folium.Map:
    """Build the offline map of a designed barrier scheme.

    Parameters
    ----------
    result
        A :class:`cohesion_gis.protect.Protection` (lines, approaches before and after, in the
        City's metric CRS).
    streets, buildings
        Optional vector base layer (the City's ``drive_edges`` and ``buildings``).
    site_geometry
        The site's crowd perimeter (same CRS), drawn as an outline; None to leave it out.
    tolerance_m
        Simplification tolerance of the drawn layers (m).

    Returns
    -------
    folium.Map
        Layers "Protected site", "Approaches before the scheme" (off), "Approaches with the
        scheme" and "Barrier scheme (by form)", with legends and a layer control.
    """
    lines = check_frame(
        result.lines, layer="barrier scheme", columns=("kind", "form_type", "length_m")
    )
    before = _held(result.approaches_before)
    after = _with_scheme(before, _held(result.approaches_after), lines)
    frames = [f[["geometry"]] for f in (lines, before, after) if len(f)]
    extent = (
        gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=lines.crs)
        if frames
        else gpd.GeoDataFrame(geometry=[site_geometry], crs=lines.crs)
    )
    name = str(result.site["name"])
    m = base_map(
        extent,
        streets=streets,
        buildings=buildings,
        title=f"Barrier scheme for {name}",
        lines=[*header_lines(version=__version__, meaning=SCHEME_MEANING), result.note],
        tolerance_m=tolerance_m,
    )
    if site_geometry is not None:
        site = gpd.GeoDataFrame(geometry=[site_geometry], crs=lines.crs)
        geojson_layer(
            to_wgs84(site, tolerance_m=tolerance_m),
            name="Protected site",
            styles=_SITE_STYLE,
            tooltips=[escape_text(name)],
        ).add_to(m)
    names = {result.site["site_id"]: name}
    layers = []
    for frame, label, show in (
        (before, "Approaches before the scheme", False),
        (after, "Approaches with the scheme", True),
    ):
        layer = add_approaches(
            m, frame, site_names=names, tolerance_m=tolerance_m, name=label, show=show
        )
        if layer is not None:
            layers.append(layer)
    if layers:
        add_legend(m, speed_legend(stopped=True), position="bottomleft", layers=layers)
    if len(lines):
        scheme = _scheme_layer(lines, tolerance_m=tolerance_m).add_to(m)
        present = [k for k in FORM_COLOURS if k in set(drawn_as(lines))]
        add_legend(
            m,
            legend_html(
                "Barrier scheme (by form)",
                [(FORM_COLOURS[k], _FORM_WORDS[k]) for k in present],
                shape="line",
            ),
            layers=[scheme],
        )
    folium.LayerControl(collapsed=False).add_to(m)
    return m


def _scheme_layer(lines: gpd.GeoDataFrame, *, tolerance_m: float) -> VectorLayer:
    """The lines and closures, coloured by form, each with a popup in plain words."""
    wgs = to_wgs84(lines, tolerance_m=tolerance_m)
    popups, tooltips, styles = [], [], []
    records = wgs.drop(columns="geometry").to_dict("records")
    for row, form in zip(records, drawn_as(lines), strict=True):
        rows = {
            "Form": row["form"],
            "Must": row["what_it_stops"],
            "Length": format_number(row["length_m"], digits=1, unit="m"),
            "Carriageway": format_number(row["width_m"], digits=1, unit="m"),
            "Distance to the site": format_number(row["standoff_m"], digits=1, unit="m"),
            "Gaps for walkers": f"at most {format_number(row['gap_m'], digits=1, unit='m')}",
            "Relative cost": format_number(row["cost_units"], digits=1, unit="units"),
        }
        if row.get("tied_to"):
            rows["Ends tied to"] = row["tied_to"]
        if int(row["open_ends"]):
            rows["Open ends"] = (
                f"{int(row['open_ends'])}: {row.get('open_end_reasons') or 'nothing in reach'}; "
                "continue it on site to something a vehicle cannot pass, or a car drives round it"
            )
        if row.get("requirement"):
            rows["Rating asked (ISO 22343-1)"] = row["requirement"]
        popups.append(popup_html(f"{_FORM_WORDS[form]} ({row['line_id']})", rows))
        tooltips.append(escape_text(f"{_FORM_WORDS[form]}: {row['what_it_stops']}"))
        styles.append({"color": FORM_COLOURS[form], "weight": 7, "opacity": 0.95})
    return geojson_layer(
        wgs, name="Barrier scheme (by form)", styles=styles, popups=popups, tooltips=tooltips
    )
