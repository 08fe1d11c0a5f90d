"""The scenario map: base and scenario cohesion scores side by side, plus the change.

Two Leaflet maps in one page (folium's ``DualMap``) move together: the left shows the base scores,
the right the scenario's, with a "Change in score" layer (diverging colours, red = worse) that can
be switched on. ``DualMap`` normally loads the Leaflet.Sync plugin from a CDN; ``save_offline``
replaces it with a small synchronisation script of our own.

Both tables follow the districts contract of :mod:`cohesion_gis.maps.cohesion`.
"""

from __future__ import annotations

import folium
import geopandas as gpd
import numpy as np
from folium.plugins import DualMap

from cohesion_gis.errors import InputError
from cohesion_gis.maps._layers import check_frame, geojson_layer, to_wgs84
from cohesion_gis.maps._style import (
    SCORE_SCALE,
    add_legend,
    delta_scale,
    escape_text,
    format_number,
    legend_html,
    popup_html,
)
from cohesion_gis.maps.basemap import furnish_map
from cohesion_gis.maps.cohesion import DISTRICT_COLUMNS, district_popup

__all__ = ["scenario_map", "score_change"]


def score_change(
    base_districts: gpd.GeoDataFrame, scenario_districts: gpd.GeoDataFrame
) -> gpd.GeoDataFrame:
    """Return the scenario districts with ``base_score`` and ``score_change`` (points, 0–100 scale).

    Parameters
    ----------
    base_districts, scenario_districts
        District tables with ``district_id`` and ``score``; the same districts in both.

    Returns
    -------
    geopandas.GeoDataFrame
        A new frame: the scenario rows (same order) plus the two columns.

    Raises
    ------
    InputError
        A district is in one table but not the other.
    """
    base = base_districts.set_index("district_id")["score"]
    ids = scenario_districts["district_id"]
    only_base = sorted(set(base.index) - set(ids))
    only_scenario = sorted(set(ids) - set(base.index))
    if only_base or only_scenario:
        raise InputError(
            "scenario_districts: base and scenario must hold the same districts; "
            f"only in base: {only_base[:10]}, only in scenario: {only_scenario[:10]}"
        )
    out = scenario_districts.copy()
    out["base_score"] = ids.map(base).to_numpy(dtype=float)
    out["score_change"] = out["score"].to_numpy(dtype=float) - out["base_score"].to_numpy()
    return out


def _score_layer(wgs: gpd.GeoDataFrame, *, name: str) -> folium.GeoJson:
    records = wgs.drop(columns="geometry").to_dict("records")
    return geojson_layer(
        wgs,
        name=name,
        styles=[
            {
                "fillColor": SCORE_SCALE.colour(float(r["score"])),
                "fillOpacity": 0.6,
                "color": "#555555",
                "weight": 1,
            }
            for r in records
        ],
        popups=[district_popup(r) for r in records],
        tooltips=[
            f"{escape_text(r['name'])}: score {format_number(r['score'])} of 100" for r in records
        ],
    )


def scenario_map(
    base_districts: gpd.GeoDataFrame,
    scenario_districts: gpd.GeoDataFrame,
    *,
    scenario_name: str = "Scenario",
    streets: gpd.GeoDataFrame | None = None,
    buildings: gpd.GeoDataFrame | None = None,
    tolerance_m: float = 1.0,
    tiles: str | None = None,
) -> DualMap:
    """Build base and scenario maps side by side, kept in step, with the change in score.

    Parameters
    ----------
    base_districts, scenario_districts
        District scores (districts contract) in the metric CRS, the same ``district_id`` values.
    scenario_name
        Name of the scenario in titles and popups (escaped).
    streets, buildings
        Optional vector base layer, drawn on both maps.
    tolerance_m
        Simplification tolerance in metres.
    tiles
        None for the offline base layer, or online tiles (see ``base_map``).

    Returns
    -------
    folium.plugins.DualMap
        ``.m1`` (left, "Base: cohesion score") and ``.m2`` (right, "<scenario>: cohesion score"
        and "Change in score", off at start); each with a layer control and legends. Save with
        ``save_offline``.

    Raises
    ------
    InputError
        A table lacks the district columns or a district is missing from one of them.
    """
    check_frame(base_districts, layer="base_districts", columns=DISTRICT_COLUMNS)
    check_frame(scenario_districts, layer="scenario_districts", columns=DISTRICT_COLUMNS)
    change = score_change(base_districts, scenario_districts)
    west, south, east, north = change.to_crs("EPSG:4326").total_bounds
    dual = DualMap(
        location=[(south + north) / 2, (west + east) / 2],
        tiles=None,
        prefer_canvas=False,
        control_scale=True,
    )
    dual.fit_bounds([[south, west], [north, east]])
    for m, title in (
        (dual.m1, "Base: cohesion score"),
        (dual.m2, f"{scenario_name}: cohesion score"),
    ):
        furnish_map(
            m,
            streets=streets,
            buildings=buildings,
            tiles=tiles,
            title=title,
            tolerance_m=tolerance_m,
        )
        add_legend(m, legend_html(SCORE_SCALE.title, SCORE_SCALE.items()))
    _score_layer(to_wgs84(base_districts, tolerance_m=tolerance_m), name="Base score").add_to(
        dual.m1
    )
    wgs = to_wgs84(change, tolerance_m=tolerance_m)
    _score_layer(wgs, name=f"{scenario_name} score").add_to(dual.m2)
    deltas = wgs["score_change"].to_numpy(dtype=float)
    scale = delta_scale(max(float(np.nanmax(np.abs(deltas))), 1.0) if len(deltas) else 1.0)
    records = wgs.drop(columns="geometry").to_dict("records")
    geojson_layer(
        wgs,
        name="Change in score",
        styles=[
            {
                "fillColor": "#ffffff" if d == 0 else scale.colour(d),
                "fillOpacity": 0.75,
                "color": "#555555",
                "weight": 1,
            }
            for d in deltas
        ],
        popups=[
            popup_html(
                r["name"],
                {
                    "Base score": f"{format_number(r['base_score'])} of 100",
                    f"{scenario_name} score": f"{format_number(r['score'])} of 100",
                    "Change": f"{r['score_change']:+.1f} points (above 0 = better)",
                },
            )
            for r in records
        ],
        tooltips=[f"{escape_text(r['name'])}: {r['score_change']:+.1f} points" for r in records],
        show=False,
    ).add_to(dual.m2)
    add_legend(
        dual.m2,
        legend_html(scale.title + " (white = no change)", scale.items()),
        position="bottomleft",
    )
    for m in (dual.m1, dual.m2):
        folium.LayerControl(collapsed=False).add_to(m)
    return dual
