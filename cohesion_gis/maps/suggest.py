"""The suggestions map: where a new contact space would raise the cohesion score most.

Candidates are drawn as outlines coloured by their best predicted gain (the rise, in points, of
the average resident's score: the study area's population-weighted mean), the portfolio's picks
numbered in the order chosen, over the district scores; district names give way to the picks.
"""

from __future__ import annotations

import folium
import geopandas as gpd

from cohesion_gis import __version__
from cohesion_gis.maps._layers import check_frame, geojson_layer, to_wgs84
from cohesion_gis.maps._style import (
    ColourScale,
    MapScript,
    add_legend,
    escape_text,
    format_number,
    header_lines,
    legend_html,
    popup_html,
    score_classes,
)
from cohesion_gis.maps.basemap import base_map
from cohesion_gis.maps.cohesion import district_labels

__all__ = ["suggestions_map"]

#: Gain bins (points of the average resident's score), a single-hue ramp readable under colour
#: blindness. "Points per resident" read as a per-head figure; it is the mean's rise.
GAIN_SCALE = ColourScale(
    "Best predicted rise in the average resident's score (points)",
    (0.0, 0.5, 1.0, 2.0, 3.0, 100.0),
    ("#deebf7", "#9ecae1", "#4292c6", "#08519c", "#08306b"),
    ("below 0.5", "0.5 – 1", "1 – 2", "2 – 3", "3 or more"),
)

SUGGEST_MEANING = (
    "Outlines: land that could become a contact space, coloured by the largest rise in the "
    "cohesion score it would bring; numbers: the suggested picks in order."
)

_PICK_CSS = (
    "var s = document.createElement('style');"
    "s.textContent = '.cg-pick{width:24px;height:24px;border-radius:12px;background:#E69F00;"
    "border:2px solid #000;font:bold 13px sans-serif;color:#000;text-align:center;"
    "line-height:20px;box-sizing:border-box}"
    ".cg-pick-what{position:absolute;top:26px;left:12px;transform:translateX(-50%);"
    "white-space:nowrap;font:bold 11px sans-serif;color:#111;"
    "text-shadow:0 0 3px #fff,0 0 3px #fff,0 0 2px #fff}';"
    "document.head.appendChild(s);"
)


def suggestions_map(
    table: gpd.GeoDataFrame,
    portfolio: gpd.GeoDataFrame,
    districts: gpd.GeoDataFrame,
    *,
    streets: gpd.GeoDataFrame | None = None,
    buildings: gpd.GeoDataFrame | None = None,
    title: str = "Where a new contact space would do the most",
    place: str | None = None,
    data_date: str | None = None,
    tolerance_m: float = 1.0,
) -> folium.Map:
    """Build the map of ranked suggestions.

    Parameters
    ----------
    table
        ``Suggestions.table`` (one row per candidate × type, metric CRS).
    portfolio
        ``Suggestions.portfolio`` (the greedy picks).
    districts
        District scores (``name, score``) drawn underneath.
    streets, buildings
        Optional vector base layer.
    title
        Heading of the map (escaped).
    place, data_date
        Study area and OpenStreetMap data date, in the header line as on the other maps.
    tolerance_m
        Simplification tolerance in metres.

    Returns
    -------
    folium.Map
        Layers "District score (0–100)" (off), "Candidate sites by best gain" (on) and
        "Suggested portfolio" (on), with legends and a layer control.
    """
    check_frame(
        table, layer="suggestions", columns=("candidate_id", "space_type", "predicted_score_gain")
    )
    check_frame(districts, layer="districts", columns=("name", "score"))
    m = base_map(
        districts, streets=streets, buildings=buildings, title=title, tolerance_m=tolerance_m,
        lines=header_lines(
            place=place, data_date=data_date, version=__version__, meaning=SUGGEST_MEANING
        ),
    )  # fmt: skip
    wgs_districts = to_wgs84(districts, tolerance_m=tolerance_m)
    scores = score_classes(districts["score"])
    geojson_layer(
        wgs_districts,
        name="District score (0–100)",
        styles=[
            _fill(scores.colour(float(s)), edge="#555555", weight=1, opacity=0.45)
            for s in wgs_districts["score"]
        ],
        tooltips=[
            f"{escape_text(n)}: score {format_number(s)} of 100"
            for n, s in zip(wgs_districts["name"], wgs_districts["score"], strict=True)
        ],
        show=False,
    ).add_to(m)
    best = table.sort_values("predicted_score_gain", ascending=False, kind="stable")
    best = best.drop_duplicates("candidate_id").reset_index(drop=True)
    options = table.groupby("candidate_id")
    wgs = to_wgs84(best, tolerance_m=tolerance_m)
    popups = []
    for row in best.itertuples():
        rows = {
            "Land now": row.source,
            "Area": format_number(row.area_m2, unit="m²"),
        }
        for opt in options.get_group(row.candidate_id).itertuples():
            rows[f"As a {opt.space_type.replace('_', ' ')}"] = (
                f"+{format_number(opt.predicted_score_gain, digits=2)} points; "
                f"{format_number(opt.residents_newly_served)} residents newly within the standard"
            )
        popups.append(popup_html(_label(row.name, row.candidate_id), rows))
    candidates = geojson_layer(
        wgs,
        name="Candidate sites by best gain",
        styles=[
            _fill(GAIN_SCALE.colour(float(g)), edge="#222222", weight=1.5, opacity=0.85)
            for g in best["predicted_score_gain"]
        ],
        popups=popups,
        tooltips=[
            f"{escape_text(_label(r.name, r.candidate_id))}: best as "
            f"{escape_text(r.space_type.replace('_', ' '))}, "
            f"+{format_number(r.predicted_score_gain, digits=2)} points"
            for r in best.itertuples()
        ],
    ).add_to(m)
    if not portfolio.empty:
        picks = folium.FeatureGroup(name="Suggested portfolio (numbered in order of choice)")
        points = portfolio.geometry.representative_point().to_crs(4326)
        for p, point in zip(portfolio.itertuples(), points, strict=True):
            folium.Marker(
                [point.y, point.x],
                icon=folium.DivIcon(
                    html=f'<div class="cg-pick cg-keep-clear">{int(p.pick)}</div>'
                    f'<div class="cg-pick-what cg-keep-clear">'
                    f"{escape_text(p.space_type.replace('_', ' '))}</div>",
                    icon_size=(24, 24),
                    icon_anchor=(12, 12),
                ),
                tooltip=(
                    f"Pick {int(p.pick)}: {escape_text(p.space_type.replace('_', ' '))} "
                    f"(+{format_number(p.marginal_gain, digits=2)} points given the earlier picks)"
                ),
            ).add_to(picks)
        picks.add_to(m)
        MapScript(_PICK_CSS).add_to(m)
    add_legend(m, legend_html(GAIN_SCALE.title, GAIN_SCALE.items()), layers=[candidates])
    if not portfolio.empty:
        add_legend(
            m,
            legend_html(
                "Suggested portfolio",
                [("#E69F00", "a pick, numbered in order of choice, with what to build")],
                shape="dot",
            ),
            position="bottomleft",
            layers=[picks],
        )
    district_labels(m, wgs_districts)
    folium.LayerControl(collapsed=False).add_to(m)
    return m


def _fill(colour: str, *, edge: str, weight: float, opacity: float) -> dict[str, object]:
    """The Leaflet style of a filled polygon."""
    return {"fillColor": colour, "color": edge, "weight": weight, "fillOpacity": opacity}


def _label(name: object, fallback: str) -> str:
    return name if isinstance(name, str) and name else f"unnamed site {fallback}"
