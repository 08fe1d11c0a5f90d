"""The cohesion map: district scores, their five components, contact spaces and homes.

Column contracts (all layers in the study area's metric CRS):

- ``districts``: ``district_id, name, population, access, diversity, bridging, capacity,
  severance, score`` — components in 0–1, ``score`` in 0–100 (a ``DistrictScores`` table).
- ``spaces`` (optional): ``space_type`` (park, playground, library, ...) and optionally ``name``;
  points or polygons (drawn at a point inside).
- ``homes`` (optional): ``population`` (people); points or polygons.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from cohesion_gis import __version__
from cohesion_gis.maps._layers import (
    as_points,
    check_frame,
    geojson_layer,
    label_points,
    scale_tolerance_m,
    to_wgs84,
)
from cohesion_gis.maps._style import (
    COMPONENT_SCALE,
    SEVERANCE_SCALE,
    SPACE_TYPE_RINGS,
    ColourScale,
    add_labels,
    add_legend,
    category_colours,
    escape_text,
    format_number,
    header_lines,
    legend_html,
    point_style,
    popup_html,
    ring_style,
    score_classes,
)
from cohesion_gis.maps.basemap import base_map

__all__ = [
    "BRIDGING_NOT_AVAILABLE",
    "COMPONENTS",
    "DISTRICT_COLUMNS",
    "HOME_SQUARE_M",
    "MAX_HOME_DOTS",
    "SAME_SHARES_MARK",
    "SCORE_MEANING",
    "SHORT_NAMES",
    "Component",
    "clipped_caveat",
    "cohesion_map",
    "district_labels",
    "district_popup",
    "district_tooltip",
    "home_squares",
    "meeting_text",
    "same_shares_caveat",
    "shortfall_text",
]

DISTRICT_COLUMNS = (
    "district_id",
    "name",
    "population",
    "access",
    "diversity",
    "bridging",
    "capacity",
    "severance",
    "score",
)


@dataclass(frozen=True)
class Component:
    """How one score component is named and explained to a councillor.

    Attributes
    ----------
    column
        Column in the districts table (0–1).
    label
        Plain-language name, used for the layer and the popup row.
    meaning
        What the value measures, appended to the number in popups.
    scale
        Colour scale of its layer.
    """

    column: str
    label: str
    meaning: str
    scale: ColourScale


COMPONENTS = (
    Component(
        "access",
        "Access to contact spaces",
        "of the standard (1 = every type within its recommended walk)",
        COMPONENT_SCALE,
    ),
    Component(
        "diversity",
        "Variety of contact spaces",
        "of the types (1 = every type of contact space within a 10-minute walk)",
        COMPONENT_SCALE,
    ),
    Component(
        "bridging",
        "Mixing of residents",
        "(1 = the spaces draw people as mixed as the whole city)",
        COMPONENT_SCALE,
    ),
    Component(
        "capacity",
        "Room in contact spaces",
        "of the standard (1 = 30 m² of green space per resident)",
        COMPONENT_SCALE,
    ),
    Component(
        "severance",
        "Access lost to busy roads and railways",
        "(0 = barriers cut off nothing, 1 = they cut off everything)",
        SEVERANCE_SCALE,
    ),
)


#: Short plain names of the components, for the shortfall breakdown ("why this district is low").
SHORT_NAMES = {"access": "access", "diversity": "variety", "bridging": "mixing", "capacity": "room"}

#: What a map says where bridging is NaN: no resident-group data (``docs/cohesion.md``).
BRIDGING_NOT_AVAILABLE = (
    "not available (no resident-group data given): left out of the score, the other "
    "components re-weighted"
)


def clipped_caveat(districts: gpd.GeoDataFrame) -> str | None:
    """What a map says where districts are cut by the edge of the data (a ``clipped`` column).

    Scores and residents then count the part inside only: the embedded Helsinki extract's
    Punavuori holds 180 residents, the whole district about 9,000 (planner review). None when the
    table has no ``clipped`` column or no district is cut.

    Examples
    --------
    >>> import geopandas as gpd
    >>> clipped_caveat(gpd.GeoDataFrame({"name": ["A", "B"], "clipped": [True, False]}))
    'Cut by the edge of the data: A (its score and residents count the part inside only).'
    """
    if "clipped" not in districts:
        return None
    cut = districts.loc[districts["clipped"].fillna(False).astype(bool), "name"].astype(str)
    if cut.empty:
        return None
    if len(cut) == len(districts):
        return (
            f"All {len(cut)} districts are cut by the edge of the data: their scores and "
            "residents count the part inside only."
        )
    one = len(cut) == 1
    return (
        f"Cut by the edge of the data: {', '.join(cut)} ({'its' if one else 'their'} "
        f"score{'' if one else 's'} and residents count the part inside only)."
    )


#: What ``score_districts`` writes in every district's ``flag`` when every home has the same group
#: shares (``cohesion.bridging.SAME_SHARES_FLAG`` begins so; the maps sit below the analyses and
#: read the table, ``tests/cohesion/test_bridging.py`` ties the two).
SAME_SHARES_MARK = "group shares the same in every home"


def same_shares_caveat(districts: gpd.GeoDataFrame) -> str | None:
    """What a map says when the group data give every home the same shares.

    Every space then draws the city's own mix, so mixing of residents (bridging) tells districts
    nothing, yet it still counts in each score: a notebook's national shares for every quartier
    lifted Monaco's scores 10-22 points with no word on the map (planner review, defect 9).
    None when no district's ``flag`` holds :data:`SAME_SHARES_MARK`.
    """
    if "flag" not in districts:
        return None
    flags = districts["flag"].fillna("").astype(str)
    if not flags.str.contains(SAME_SHARES_MARK, regex=False).any():
        return None
    return (
        "Mixing of residents tells districts nothing here: the group data give every home the "
        "same shares, so every space draws the city's own mix; it still counts in every score "
        "and lifts it. Compare districts on the other components, or score without groups."
    )


def _number(value: object) -> float:
    """``value`` as a float; NaN for None or a missing cell."""
    return math.nan if value is None else float(value)  # type: ignore[arg-type]


def shortfall_text(row: Mapping[str, object]) -> str:
    """The points each component costs below 100, largest first ("" without the columns).

    From the ``shortfall_<component>`` columns of a districts row (they add up to 100 − score),
    e.g. ``"access 28.8, variety 12.1, room 0.0 (of 41.0)"``.
    """
    parts = {name: _number(row.get(f"shortfall_{c}")) for c, name in SHORT_NAMES.items()}
    ranked = sorted(((v, k) for k, v in parts.items() if not math.isnan(v)), reverse=True)
    if not ranked:
        return ""
    text = ", ".join(f"{name} {points:.1f}" for points, name in ranked)
    return f"{text} (of {sum(v for v, _ in ranked):.1f})"


def meeting_text(row: Mapping[str, object]) -> str:
    """The share of residents within each type's standard walk, fewest first ("" without).

    From the ``share_meeting_<type>`` columns of a districts row, e.g.
    ``"playground 0 %, local green 26 %, library 52 %, square 100 %"``.
    """
    shares = [
        (_number(row[c]), str(c).removeprefix("share_meeting_").replace("_", " "))
        for c in row
        if str(c).startswith("share_meeting_")
    ]
    known = sorted((share, kind) for share, kind in shares if not math.isnan(share))
    return ", ".join(f"{kind} {100 * share:.0f} %" for share, kind in known)


def district_popup(row: dict[str, object]) -> str:
    """Return the escaped popup of one district row (a mapping with :data:`DISTRICT_COLUMNS`).

    With the decision outputs of ``score_districts`` (``p10_score``, ``median_score``,
    ``shortfall_<component>``, ``share_meeting_<type>``), their rows follow the score; a NaN
    bridging says why it is not available.
    """
    rows = {
        "Cohesion score": f"{format_number(row['score'])} of 100 (higher is better)",
        "Residents": format_number(row["population"], unit="people"),
    }
    if "p10_score" in row and "median_score" in row:
        rows["Worst-served tenth / median home"] = (
            f"{format_number(row['p10_score'])} / {format_number(row['median_score'])} of 100"
        )
    if shortfall_text(row):
        rows["Points below 100, by component"] = shortfall_text(row)
    elif row.get("main_shortfall"):
        rows["Main reason the score is below 100"] = str(row["main_shortfall"])
    for comp in COMPONENTS:
        value = _number(row[comp.column])
        missing = comp.column == "bridging" and math.isnan(value)
        text = f"{format_number(value, digits=2)} {comp.meaning}"
        rows[comp.label] = BRIDGING_NOT_AVAILABLE if missing else text
    if meeting_text(row):
        rows["Residents within the standard walk of each type (fewest first)"] = meeting_text(row)
    if row.get("flag"):
        rows["Read with care"] = str(row["flag"])
    return popup_html(row["name"], rows)


def district_tooltip(row: Mapping[str, object]) -> str:
    """The hover text of a district (not escaped): score, worst-served tenth, main shortfall."""
    text = f"{row['name']}: score {format_number(row['score'])} of 100"
    if not math.isnan(_number(row.get("p10_score"))):
        text += f", worst-served tenth {format_number(row['p10_score'])}"
    main = str(row.get("main_shortfall") or "")
    if main:
        text += f"; most points lost on {SHORT_NAMES.get(main, main)}"
    return text


#: What the score means, in one sentence under every cohesion map's title.
SCORE_MEANING = (
    "Score 0–100: how well residents can walk to varied, roomy places to meet (parks, "
    "libraries, squares...) that mix people, less what busy roads cut off; higher is better."
)


def district_labels(m: folium.Map, wgs: gpd.GeoDataFrame, *, show: bool = True) -> None:
    """Write each district's name and score on the map, visible without a click.

    Each label sits where it fits best inside its district (:func:`label_points`); larger
    districts are placed first, and a label that would cover another shows its name only or
    waits for the reader to zoom in (``add_labels``).
    """
    order = np.argsort(-shapely.area(wgs.geometry.to_numpy()), kind="stable")
    ordered = wgs.iloc[order]
    add_labels(
        m,
        label_points(ordered),
        [
            (name, f"score {format_number(score)}")
            for name, score in zip(ordered["name"], ordered["score"], strict=True)
        ],
        name="District names and scores",
        show=show,
    )


#: The study area's outline: dashed, no fill (the buffer read around it is not reported).
STUDY_AREA_STYLE = {"fill": False, "color": "#222222", "weight": 2, "dashArray": "6 4"}


def _district_style(colour: str) -> dict[str, object]:
    return {"fillColor": colour, "fillOpacity": 0.6, "color": "#555555", "weight": 1}


def cohesion_map(
    districts: gpd.GeoDataFrame,
    *,
    homes: gpd.GeoDataFrame | None = None,
    spaces: gpd.GeoDataFrame | None = None,
    streets: gpd.GeoDataFrame | None = None,
    buildings: gpd.GeoDataFrame | None = None,
    title: str = "Contact spaces and cohesion by district",
    place: str | None = None,
    data_date: str | None = None,
    tolerance_m: float | None = None,
    tiles: str | None = None,
    study_area: gpd.GeoDataFrame | None = None,
) -> folium.Map:
    """Build the cohesion map: a district choropleth of the score plus one layer per component.

    Parameters
    ----------
    districts
        District scores with :data:`DISTRICT_COLUMNS` (see the module docstring), metric CRS.
    homes
        Optional homes with ``population`` (people), shown as dots (off at start).
    spaces
        Optional contact spaces with ``space_type`` (and ``name``), coloured by type.
    streets, buildings
        Optional vector base layer (see :func:`~cohesion_gis.maps.basemap.base_map`).
    title
        Heading of the map (and the page's ``<title>``).
    place, data_date
        Study area name and OpenStreetMap data date for the header (with run date, version
        and what the score means).
    tolerance_m
        Simplification tolerance in metres for every layer; None ties it to the map's scale
        (:func:`~cohesion_gis.maps._layers.scale_tolerance_m`: 1 m for a town, 4.4 m for Malta).
    tiles
        None for the offline base layer, or online tiles (see ``base_map``).
    study_area
        Optional study-area polygon(s), drawn as a dashed outline when the data were read with a
        buffer around it (scores are reported inside only; ``docs/cohesion.md``).

    Returns
    -------
    folium.Map
        Layers: "Cohesion score (0–100)" and "District names and scores" (on), the five
        components (off), "Contact spaces" (on), "Homes" (off); a layer control, legends that
        show only while their layer is on, the OSM attribution. Save with ``save_offline``.

    Raises
    ------
    InputError
        A layer is not a GeoDataFrame in a metric CRS or lacks a required column.
    """
    check_frame(districts, layer="districts", columns=DISTRICT_COLUMNS)
    if tolerance_m is None:
        tolerance_m = scale_tolerance_m(districts)
    no_groups = bool(districts["bridging"].isna().all())
    lines = header_lines(
        place=place, data_date=data_date, version=__version__, meaning=SCORE_MEANING
    )
    m = base_map(
        districts,
        streets=streets,
        buildings=buildings,
        tiles=tiles,
        title=title,
        lines=[
            *lines,
            *([f"Mixing of residents: {BRIDGING_NOT_AVAILABLE}."] if no_groups else []),
            *([same] if (same := same_shares_caveat(districts)) else []),
            *([cut] if (cut := clipped_caveat(districts)) else []),
        ],
        tolerance_m=tolerance_m,
    )
    wgs = to_wgs84(districts, tolerance_m=tolerance_m)
    records = wgs.drop(columns="geometry").to_dict("records")
    popups = [district_popup(r) for r in records]
    tooltips = [escape_text(district_tooltip(r)) for r in records]
    scale = score_classes(districts["score"])
    score_layer = geojson_layer(
        wgs,
        name="Cohesion score (0–100)",
        styles=[_district_style(scale.colour(float(r["score"]))) for r in records],
        popups=popups,
        tooltips=tooltips,
    ).add_to(m)
    layers = {}
    for comp in COMPONENTS:
        missing = comp.column == "bridging" and no_groups
        empty = comp.column == "bridging" and same is not None
        layers[comp.column] = geojson_layer(
            wgs,
            name=comp.label
            + (" (not available: no group data)" if missing else "")
            + (" (the same in every district: sets none apart)" if empty else ""),
            styles=[_district_style(comp.scale.colour(float(r[comp.column]))) for r in records],
            popups=popups,
            tooltips=[
                escape_text(f"{r['name']}: ")
                + ("not available" if missing else format_number(r[comp.column], digits=2))
                for r in records
            ],
            show=False,
        ).add_to(m)
    district_labels(m, wgs)
    if study_area is not None and not study_area.empty:
        geojson_layer(
            to_wgs84(study_area, tolerance_m=tolerance_m),
            name="Study area (scores reported inside; the buffer around it counted)",
            styles=STUDY_AREA_STYLE,
            interactive=False,
        ).add_to(m)
    add_legend(m, legend_html(scale.title, scale.items(), note=scale.note), layers=[score_layer])
    add_legend(
        m,
        legend_html("Components: " + COMPONENT_SCALE.title, COMPONENT_SCALE.items()),
        layers=[layer for column, layer in layers.items() if column != "severance"],
    )
    add_legend(
        m,
        legend_html(SEVERANCE_SCALE.title, SEVERANCE_SCALE.items()),
        layers=[layers["severance"]],
    )
    if spaces is not None and not spaces.empty:
        _add_spaces(m, spaces, tolerance_m=tolerance_m)
    if homes is not None and not homes.empty:
        _add_homes(m, homes)
    folium.LayerControl(collapsed=False).add_to(m)
    return m


def _add_spaces(m: folium.Map, spaces: gpd.GeoDataFrame, *, tolerance_m: float) -> None:
    check_frame(spaces, layer="spaces", columns=("space_type",))
    points = to_wgs84(as_points(spaces), tolerance_m=tolerance_m)
    types = points["space_type"].astype(str).tolist()
    names = points["name"].tolist() if "name" in points else [None] * len(points)
    colours = category_colours(types)
    layer = geojson_layer(
        points,
        name="Contact spaces",
        styles=[
            ring_style(colours[t]) if t in SPACE_TYPE_RINGS else point_style(colours[t])
            for t in types
        ],
        popups=[
            popup_html(_name_or(n, t), {"Type of contact space": t.replace("_", " ")})
            for n, t in zip(names, types, strict=True)
        ],
        tooltips=[escape_text(_name_or(n, t)) for n, t in zip(names, types, strict=True)],
    ).add_to(m)
    add_legend(
        m,
        legend_html(
            "Contact spaces",
            [(c, t.replace("_", " ")) for t, c in colours.items()],
            shape=["ring" if t in SPACE_TYPE_RINGS else "dot" for t in colours],
        ),
        position="bottomleft",
        layers=[layer],
    )


def _add_homes(m: folium.Map, homes: gpd.GeoDataFrame) -> None:
    check_frame(homes, layer="homes", columns=("population",))
    points = as_points(homes)
    grouped = len(points) > MAX_HOME_DOTS
    if grouped:
        points = home_squares(points)
    points = to_wgs84(points, tolerance_m=0)
    population = points["population"].to_numpy(dtype=float)
    top = max(float(np.nanmax(population)), 1.0)
    if grouped:
        tooltips = [
            f"About {format_number(p, unit='residents')} in {format_number(n, unit='homes')} "
            f"(a {HOME_SQUARE_M:g} m square)"
            for p, n in zip(population, points["homes"], strict=True)
        ]
        what = f"homes in a {HOME_SQUARE_M:g} m square; larger = more residents"
    else:
        tooltips = [f"About {format_number(p, unit='residents')}" for p in population]
        what = "a home; larger = more residents"
    layer = geojson_layer(
        points,
        name="Homes (dot size = residents)",
        styles=[
            point_style(_HOME_COLOUR, radius=1.5 + 4.5 * math.sqrt(max(p, 0) / top), weight=0)
            for p in population
        ],
        tooltips=tooltips,
        show=False,
    ).add_to(m)
    add_legend(
        m,
        legend_html("Homes", [(_HOME_COLOUR, what)], shape="dot"),
        position="bottomleft",
        layers=[layer],
    )


#: More homes than this are drawn as squares of homes (one dot per square), not one dot each:
#: beyond a few thousand SVG circles a browser pans slowly and the file grows by ~80 bytes a home.
MAX_HOME_DOTS = 5000
#: Side of the squares, metres: the 250 m grid of European population statistics (Eurostat
#: GEOSTAT grid is 1 km; national grids such as Statistics Finland's and ONS's are 250 m).
HOME_SQUARE_M = 250.0


def home_squares(homes: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Sum homes (points, metric CRS) into squares of :data:`HOME_SQUARE_M` metres.

    Returns
    -------
    geopandas.GeoDataFrame
        One point per square that holds homes, at the residents-weighted centre of its homes
        (the plain centre when nobody lives there), with ``population`` (people, summed) and
        ``homes`` (count).
    """
    x, y = homes.geometry.x.to_numpy(), homes.geometry.y.to_numpy()
    people = np.nan_to_num(homes["population"].to_numpy(dtype=float))
    frame = pd.DataFrame(
        {
            "cx": np.floor(x / HOME_SQUARE_M),
            "cy": np.floor(y / HOME_SQUARE_M),
            "population": people,
            "homes": 1,
            "wx": x * people,
            "wy": y * people,
            "x": x,
            "y": y,
        }
    )
    cells = frame.groupby(["cx", "cy"], sort=True).agg(
        population=("population", "sum"),
        homes=("homes", "sum"),
        wx=("wx", "sum"),
        wy=("wy", "sum"),
        x=("x", "mean"),
        y=("y", "mean"),
    )
    weighted = cells["population"].to_numpy() > 0
    safe = np.where(weighted, cells["population"].to_numpy(), 1.0)
    px = np.where(weighted, cells["wx"].to_numpy() / safe, cells["x"].to_numpy())
    py = np.where(weighted, cells["wy"].to_numpy() / safe, cells["y"].to_numpy())
    return gpd.GeoDataFrame(
        {"population": cells["population"].to_numpy(), "homes": cells["homes"].to_numpy()},
        geometry=gpd.points_from_xy(px, py),
        crs=homes.crs,
    )


_HOME_COLOUR = "#444444"  # dark grey: no category colour of the contact spaces


def _name_or(name: object, fallback: str) -> str:
    if name is None or (isinstance(name, float) and math.isnan(name)) or str(name) == "":
        return fallback.replace("_", " ").capitalize()
    return str(name)
