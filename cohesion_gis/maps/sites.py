"""The soft-target map: crowded sites, hostile-vehicle approach routes, entries, barriers and gaps.

Column contracts (all layers in the study area's metric CRS):

- ``sites``: ``site_id, name, kind, area_m2, capacity_persons, martyns_law_tier,
  required_rating, risk, rank`` and optionally ``max_impact_speed_kmh``; ``risk`` in 1–125 (higher
  is worse), ``rank`` 1 = highest priority. Points or polygons (polygons are also outlined).
- ``approaches``: ``site_id, vehicle_class, impact_speed_kmh`` (LineStrings, the route to the
  site); optional ``run_up_m``, ``impact_energy_kj``.
- ``entries`` (optional): ``required_rating`` (text, e.g. ``IWA 14-1 V/7200[N3C]/48/90``);
  optional ``site_id``.
- ``barriers`` (optional): ``barrier_kind`` and ``rating`` (text; empty or missing = not
  crash-rated), as in :class:`~cohesion_gis.hvm.assess.SiteAssessment` ``barriers``.
- ``gaps`` (optional): points where a vehicle can pass; optional ``gap_m`` (gap width, m).
"""

from __future__ import annotations

import math

import folium
import geopandas as gpd
import pandas as pd

from cohesion_gis.maps._layers import as_points, check_frame, geojson_layer, to_wgs84
from cohesion_gis.maps._style import (
    RISK_SCALE,
    SPEED_BANDS_KMH,
    add_legend,
    escape_text,
    format_number,
    legend_html,
    point_style,
    popup_html,
)
from cohesion_gis.maps.basemap import base_map

__all__ = ["APPROACH_COLUMNS", "SITE_COLUMNS", "sites_map"]

SITE_COLUMNS = (
    "site_id",
    "name",
    "kind",
    "area_m2",
    "capacity_persons",
    "martyns_law_tier",
    "required_rating",
    "risk",
    "rank",
)
APPROACH_COLUMNS = ("site_id", "vehicle_class", "impact_speed_kmh")
_RATED = "#08519c"
_UNRATED = "#969696"
_GAP = "#e31a1c"


def _text(value: object, fallback: str = "not given") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)) or str(value) == "":
        return fallback
    return str(value).replace("_", " ")


def _site_popup(row: dict[str, object], n_sites: int) -> str:
    rows = {
        "Kind of site": _text(row["kind"]),
        "Priority": f"{format_number(row['rank'])} of {n_sites} (1 = act first)",
        "Risk": f"{format_number(row['risk'], digits=0)} of 125 (people × vulnerability × "
        "attractiveness, each scored 1–5; higher is worse)",
        "People at busy times": format_number(row["capacity_persons"], unit="people"),
        "Area": format_number(row["area_m2"], unit="m²"),
        "Martyn's Law tier": _text(row["martyns_law_tier"]),
        "Barrier rating needed": _text(row["required_rating"]),
    }
    if "max_impact_speed_kmh" in row:
        rows["Fastest vehicle impact"] = format_number(row["max_impact_speed_kmh"], unit="km/h")
    members = row.get("member_names")
    if isinstance(members, str) and "; " in members:  # a merged site: its short name + all names
        rows["Places in it"] = members
    return popup_html(row["name"], rows)


def sites_map(
    sites: gpd.GeoDataFrame,
    approaches: gpd.GeoDataFrame,
    *,
    entries: gpd.GeoDataFrame | None = None,
    barriers: gpd.GeoDataFrame | None = None,
    gaps: gpd.GeoDataFrame | None = None,
    streets: gpd.GeoDataFrame | None = None,
    buildings: gpd.GeoDataFrame | None = None,
    title: str = "Crowded sites and hostile-vehicle approaches",
    tolerance_m: float = 1.0,
    tiles: str | None = None,
) -> folium.Map:
    """Build the soft-target map: sites sized by capacity and coloured by risk, routes by speed.

    Parameters
    ----------
    sites
        Site assessment with :data:`SITE_COLUMNS` (see the module docstring), metric CRS.
    approaches
        Approach routes with :data:`APPROACH_COLUMNS`, coloured by speed band
        (< 32, 32–48, 48–64, > 64 km/h, the standard crash-test speeds).
    entries, barriers, gaps
        Optional layers (see the module docstring).
    streets, buildings
        Optional vector base layer.
    title
        Heading of the map.
    tolerance_m
        Simplification tolerance in metres.
    tiles
        None for the offline base layer, or online tiles (see ``base_map``).

    Returns
    -------
    folium.Map
        Layers "Site areas" (polygons only), "Vehicle approach routes", "Crowded sites", and the
        optional "Entries", "Barriers", "Gaps in the barrier line"; a layer control, legends, the
        OSM attribution.

    Raises
    ------
    InputError
        A layer is not a GeoDataFrame in a metric CRS or lacks a required column.
    """
    check_frame(sites, layer="sites", columns=SITE_COLUMNS)
    check_frame(approaches, layer="approaches", columns=APPROACH_COLUMNS)
    m = base_map(
        sites,
        streets=streets,
        buildings=buildings,
        tiles=tiles,
        title=title,
        tolerance_m=tolerance_m,
    )
    site_wgs = to_wgs84(sites, tolerance_m=tolerance_m)
    records = site_wgs.drop(columns="geometry").to_dict("records")
    popups = [_site_popup(r, len(records)) for r in records]
    colours = [RISK_SCALE.colour(float(r["risk"])) for r in records]
    tooltips = [f"{escape_text(r['name'])}: priority {format_number(r['rank'])}" for r in records]
    polygonal = site_wgs.geom_type.isin(["Polygon", "MultiPolygon"])
    if polygonal.any():
        geojson_layer(
            site_wgs[polygonal].reset_index(drop=True),
            name="Site areas",
            styles=[
                {"color": c, "weight": 2, "fillColor": c, "fillOpacity": 0.35}
                for c, keep in zip(colours, polygonal, strict=True)
                if keep
            ],
            popups=[p for p, keep in zip(popups, polygonal, strict=True) if keep],
            tooltips=[t for t, keep in zip(tooltips, polygonal, strict=True) if keep],
        ).add_to(m)
    _add_approaches(
        m,
        approaches,
        site_names=dict(zip(sites["site_id"], sites["name"], strict=True)),
        tolerance_m=tolerance_m,
    )
    capacity = site_wgs["capacity_persons"].to_numpy(dtype=float)
    top = max(float(pd.Series(capacity).max(skipna=True) or 1.0), 1.0)
    geojson_layer(
        as_points(site_wgs),
        name="Crowded sites (circle size = people)",
        styles=[
            point_style(c, radius=5 + 15 * math.sqrt(max(cap, 0) / top), weight=1.5)
            for c, cap in zip(colours, capacity, strict=True)
        ],
        popups=popups,
        tooltips=tooltips,
    ).add_to(m)
    if entries is not None and not entries.empty:
        _add_entries(m, entries)
    if barriers is not None and not barriers.empty:
        _add_barriers(m, barriers, tolerance_m=tolerance_m)
    if gaps is not None and not gaps.empty:
        _add_gaps(m, gaps)
    add_legend(m, legend_html(RISK_SCALE.title, RISK_SCALE.items(), shape="dot"))
    add_legend(
        m,
        legend_html(SPEED_BANDS_KMH.title, SPEED_BANDS_KMH.items(), shape="line"),
        position="bottomleft",
    )
    add_legend(
        m,
        legend_html(
            "Barriers and gaps",
            [(_RATED, "crash-rated barrier"), (_UNRATED, "barrier, not rated"), (_GAP, "gap")],
            shape="dot",
        ),
        position="bottomleft",
    )
    folium.LayerControl(collapsed=False).add_to(m)
    return m


def _add_approaches(
    m: folium.Map,
    approaches: gpd.GeoDataFrame,
    *,
    site_names: dict[object, object],
    tolerance_m: float,
) -> None:
    if approaches.empty:
        return
    wgs = to_wgs84(approaches, tolerance_m=tolerance_m)
    records = wgs.drop(columns="geometry").to_dict("records")
    popups = []
    for r in records:
        rows = {
            "Vehicle": _text(r["vehicle_class"]),
            "Speed on reaching the site": format_number(r["impact_speed_kmh"], unit="km/h"),
        }
        if "run_up_m" in r:
            rows["Straight run-up"] = format_number(r["run_up_m"], unit="m")
        if "impact_energy_kj" in r:
            rows["Impact energy"] = format_number(r["impact_energy_kj"], unit="kJ")
        site = _text(site_names.get(r["site_id"]), fallback=str(r["site_id"]))
        popups.append(popup_html(f"Approach to {site}", rows))
    geojson_layer(
        wgs,
        name="Vehicle approach routes",
        styles=[
            {
                "color": SPEED_BANDS_KMH.colour(float(r["impact_speed_kmh"])),
                "weight": 5,
                "opacity": 0.9,
            }
            for r in records
        ],
        popups=popups,
        tooltips=[format_number(r["impact_speed_kmh"], unit="km/h") for r in records],
    ).add_to(m)


def _add_entries(m: folium.Map, entries: gpd.GeoDataFrame) -> None:
    check_frame(entries, layer="entries", columns=("required_rating",))
    wgs = to_wgs84(as_points(entries), tolerance_m=0)
    ratings = [_text(v) for v in wgs["required_rating"]]
    geojson_layer(
        wgs,
        name="Entries",
        styles=point_style("#ffffff", radius=5, stroke="#000000", weight=2),
        popups=[popup_html("Entry", {"Barrier rating needed": r}) for r in ratings],
        tooltips=[f"Entry: {escape_text(r)}" for r in ratings],
    ).add_to(m)


def _add_barriers(m: folium.Map, barriers: gpd.GeoDataFrame, *, tolerance_m: float) -> None:
    check_frame(barriers, layer="barriers", columns=("barrier_kind", "rating"))
    wgs = to_wgs84(barriers, tolerance_m=tolerance_m)
    rated = [_text(v, "") != "" for v in wgs["rating"]]
    styles = [
        point_style(_RATED if ok else _UNRATED, radius=5, stroke="#000000")
        | ({} if ok else {"dashArray": "3 3"})
        for ok in rated
    ]
    geojson_layer(
        wgs,
        name="Barriers",
        styles=styles,
        popups=[
            popup_html(
                _text(kind).capitalize(),
                {"Crash rating": _text(rating, "not crash-rated")},
            )
            for kind, rating in zip(wgs["barrier_kind"], wgs["rating"], strict=True)
        ],
        tooltips=[
            f"{escape_text(_text(kind))}: {'rated' if ok else 'not rated'}"
            for kind, ok in zip(wgs["barrier_kind"], rated, strict=True)
        ],
    ).add_to(m)


def _add_gaps(m: folium.Map, gaps: gpd.GeoDataFrame) -> None:
    check_frame(gaps, layer="gaps")
    wgs = to_wgs84(as_points(gaps), tolerance_m=0)
    widths = wgs["gap_m"].tolist() if "gap_m" in wgs else [None] * len(wgs)
    geojson_layer(
        wgs,
        name="Gaps in the barrier line",
        styles=point_style(_GAP, radius=6, stroke="#000000", weight=2),
        popups=[
            popup_html(
                "Gap in the barrier line",
                {"Width": format_number(w, digits=1, unit="m")}
                if w is not None
                else {"What it means": "a vehicle can pass here"},
            )
            for w in widths
        ],
        tooltips=["Gap in the barrier line"] * len(wgs),
    ).add_to(m)
