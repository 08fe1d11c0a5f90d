"""The soft-target map: crowded sites, hostile-vehicle approach routes, entries, barriers and gaps.

Column contracts (all layers in the study area's metric CRS):

- ``sites``: ``site_id, name, kind, area_m2, capacity_persons, martyns_law_tier,
  required_rating, risk, rank`` and optionally ``max_arrival_speed_kmh`` (speed on the carriageway
  at the entry) and ``max_normal_impact_kmh`` (worst impact component square to the crowd);
  ``risk`` in 1–125 (higher is worse), ``rank`` 1 = highest priority. Points or polygons
  (polygons are also outlined).
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
from collections.abc import Mapping
from typing import Any

import folium
import geopandas as gpd
import numpy as np

from cohesion_gis import __version__
from cohesion_gis.maps._layers import (
    VectorLayer,
    as_points,
    check_frame,
    geojson_layer,
    in_view,
    scale_tolerance_m,
    to_wgs84,
)
from cohesion_gis.maps._style import (
    RISK_SCALE,
    SPEED_BANDS_KMH,
    STOPPED_COLOUR,
    WORST_CASE,
    WORST_CASE_SHORT,
    add_labels,
    add_legend,
    escape_text,
    format_number,
    header_lines,
    legend_html,
    plain_rating,
    point_style,
    popup_html,
)
from cohesion_gis.maps.basemap import base_map

__all__ = [
    "APPROACH_COLUMNS",
    "SITES_MEANING",
    "SITE_COLUMNS",
    "add_approaches",
    "sites_map",
    "speed_legend",
]

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
# Okabe-Ito bluish green for rated barriers, grey for unrated, black for gaps: none of them is a
# colour of the risk (oranges) or speed (blues) classes.
_RATED = "#009E73"
_UNRATED = "#969696"
_GAP = "#000000"
#: What the map shows, in one sentence under its title.
SITES_MEANING = (
    "Where crowds gather, ranked by risk (1 = act first), and how fast a hostile vehicle could "
    "reach each site."
)


def _text(value: object, fallback: str = "not given") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)) or str(value) == "":
        return fallback
    return str(value).replace("_", " ")


def _site_popup(row: dict[str, object], n_sites: int) -> str:
    # a merged site (a precinct) lists every kind of place in it, not only the one that ranks it
    kinds = row.get("kinds")
    if not isinstance(kinds, str) or not kinds:
        kinds = row["kind"]
    rows = {
        "Kind of site": _text(kinds).replace(";", ","),
        "Priority": f"{format_number(row['rank'])} of {n_sites} (1 = act first)",
        "Risk": f"{format_number(row['risk'], digits=0)} of 125 (people × how fast a vehicle "
        "can arrive × appeal as a target, each scored 1–5; higher is worse)",
    }
    if "max_arrival_speed_kmh" in row:  # which vehicle, where the table says per class
        speeds = {
            str(k).removeprefix("max_arrival_speed_kmh_"): v
            for k, v in row.items()
            if str(k).startswith("max_arrival_speed_kmh_") and isinstance(v, int | float)
            and not math.isnan(v)
        }  # fmt: skip
        fastest = max(speeds, key=lambda c: speeds[c]) if speeds else None
        rows["Fastest vehicle arrival"] = format_number(
            row["max_arrival_speed_kmh"], unit="km/h"
        ) + (f" (class {fastest})" if fastest else "")
    if "max_normal_impact_kmh" in row:
        normal = row["max_normal_impact_kmh"]
        rows["Fastest impact square to the crowd (any vehicle)"] = format_number(
            normal, unit="km/h"
        )
    rows |= {
        "Barrier rating needed": plain_rating(row["required_rating"]),
        "Assumes": WORST_CASE,
        "People at busy times": format_number(row["capacity_persons"], unit="people"),
        "Area": format_number(row["area_m2"], unit="m²"),
        "Martyn's Law tier": _text(row["martyns_law_tier"]),
    }
    members = row.get("member_names")
    if isinstance(members, str) and "; " in members:  # a merged site: its short name + all names
        rows["Places in it"] = members
    return popup_html(row["name"], rows)


#: Sites whose priority number is written on the web map, without a click (the first ten).
MAX_RANK_LABELS_WEB = 10


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
    place: str | None = None,
    data_date: str | None = None,
    tolerance_m: float | None = None,
    tiles: str | None = None,
    study_area: gpd.GeoDataFrame | None = None,
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
        Heading of the map (and the page's ``<title>``).
    place, data_date
        Study area name and OpenStreetMap data date for the header.
    tolerance_m
        Simplification tolerance in metres; None ties it to the map's scale
        (:func:`~cohesion_gis.maps._layers.scale_tolerance_m`).
    tiles
        None for the offline base layer, or online tiles (see ``base_map``).
    study_area
        The study area's polygon(s): the map opens on it (else on the sites), and sites wholly
        outside it are named in a warning.

    Returns
    -------
    folium.Map
        Layers "Site areas" (polygons only), "Vehicle approach routes", "Crowded sites" and the
        priority numbers of the first :data:`MAX_RANK_LABELS_WEB` sites (on), and
        the optional "Entries", "Barriers", "Gaps in the barrier line" (off at first); a layer
        control, legends that show only while their layer is on, the OSM attribution.

    Raises
    ------
    InputError
        A layer is not a GeoDataFrame in a metric CRS or lacks a required column.
    """
    check_frame(sites, layer="sites", columns=SITE_COLUMNS)
    check_frame(approaches, layer="approaches", columns=APPROACH_COLUMNS)
    frame = in_view(sites, study_area, what="sites")
    if tolerance_m is None:
        tolerance_m = scale_tolerance_m(frame)
    m = base_map(
        frame,
        streets=streets,
        buildings=buildings,
        tiles=tiles,
        title=title,
        lines=header_lines(
            place=place, data_date=data_date, version=__version__, meaning=SITES_MEANING
        ),
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
    routes = add_approaches(
        m,
        approaches,
        site_names=dict(zip(sites["site_id"], sites["name"], strict=True)),
        tolerance_m=tolerance_m,
    )
    # unknown capacity (NaN: a station without a footprint): the smallest circle
    capacity = np.nan_to_num(site_wgs["capacity_persons"].to_numpy(dtype=float), nan=0.0)
    top = max(float(capacity.max(initial=0.0)), 1.0)
    site_layer = geojson_layer(
        as_points(site_wgs),
        name="Crowded sites (circle size = people)",
        styles=[
            point_style(c, radius=5 + 15 * math.sqrt(max(cap, 0) / top), weight=1.5)
            for c, cap in zip(colours, capacity, strict=True)
        ],
        popups=popups,
        tooltips=tooltips,
    ).add_to(m)
    first = as_points(site_wgs.loc[site_wgs["rank"] <= MAX_RANK_LABELS_WEB]).sort_values("rank")
    add_labels(
        m,
        [(p.y, p.x) for p in first.geometry],
        [(format_number(rank), "") for rank in first["rank"]],
        name=f"Priority of the first {len(first)} sites (1 = act first)",
    )
    if entries is not None and not entries.empty:
        _add_entries(m, entries)
    if barriers is not None and not barriers.empty:
        _add_barriers(m, barriers, tolerance_m=tolerance_m)
    if gaps is not None and not gaps.empty:
        _add_gaps(m, gaps)
    add_legend(
        m, legend_html(RISK_SCALE.title, RISK_SCALE.items(), shape="dot"), layers=[site_layer]
    )
    if routes is not None:
        add_legend(m, speed_legend(), position="bottomleft", layers=[routes])
    folium.LayerControl(collapsed=False).add_to(m)
    return m


def speed_legend(*, stopped: bool = False) -> str:
    """The legend of approach speeds, with the worst-case assumption (and "stopped")."""
    items = SPEED_BANDS_KMH.items() + ([(STOPPED_COLOUR, "stopped (dashed)")] if stopped else [])
    return legend_html(SPEED_BANDS_KMH.title, items, shape="line") + (
        f'<div class="cg-sub" style="max-width:230px">{escape_text(WORST_CASE_SHORT)}</div>'
    )


def add_approaches(
    m: folium.Map,
    approaches: gpd.GeoDataFrame,
    *,
    site_names: Mapping[Any, object],
    tolerance_m: float,
    name: str = "Vehicle approach routes",
    show: bool = True,
    faint: bool = False,
) -> VectorLayer | None:
    """Draw approach routes coloured by speed band; a stopped one (0 km/h) grey and dashed.

    ``faint``: thin and pale (a scenario map's routes of today under the scenario's).
    Returns the layer, or None when there are no approaches.
    """
    if approaches.empty:
        return None
    read = ("site_id", "vehicle_class", "impact_speed_kmh", "blocked_by", "run_up_m",
            "impact_energy_kj")  # fmt: skip
    wgs = to_wgs84(approaches[[c for c in read if c in approaches] + [approaches.geometry.name]],
                   tolerance_m=tolerance_m)  # fmt: skip
    records = wgs.drop(columns=wgs.geometry.name).to_dict("records")  # the columns read below
    popups = []
    for r in records:
        stopped = not float(r["impact_speed_kmh"]) > 0
        rows = {
            "Vehicle": _text(r["vehicle_class"]),
            "Speed on reaching the site": "stopped before the site"
            if stopped
            else format_number(r["impact_speed_kmh"], unit="km/h"),
        }
        if stopped and _text(r.get("blocked_by"), "") != "":
            rows["Stopped by"] = _text(r["blocked_by"])
        if "run_up_m" in r:
            rows["Straight run-up"] = format_number(r["run_up_m"], unit="m")
        if "impact_energy_kj" in r:
            rows["Impact energy"] = format_number(r["impact_energy_kj"], unit="kJ")
        site = _text(site_names.get(r["site_id"]), fallback=str(r["site_id"]))
        popups.append(popup_html(f"Approach to {site}", rows))
    layer = geojson_layer(
        wgs,
        name=name,
        styles=[
            {"color": STOPPED_COLOUR, "weight": 3, "opacity": 0.9, "dashArray": "6 5"}
            if not float(r["impact_speed_kmh"]) > 0
            else {
                "color": SPEED_BANDS_KMH.colour(float(r["impact_speed_kmh"])),
                "weight": 2 if faint else 4,
                "opacity": 0.35 if faint else 0.9,
            }
            for r in records
        ],
        popups=popups,
        tooltips=[
            format_number(r["impact_speed_kmh"], unit="km/h")
            if float(r["impact_speed_kmh"]) > 0
            else f"{escape_text(_text(r['vehicle_class']))}: stopped"
            for r in records
        ],
        show=show,
    )
    layer.add_to(m)
    return layer


def _add_entries(m: folium.Map, entries: gpd.GeoDataFrame) -> None:
    check_frame(entries, layer="entries", columns=("required_rating",))
    wgs = to_wgs84(as_points(entries), tolerance_m=0)
    ratings = [_text(v) for v in wgs["required_rating"]]
    layer = geojson_layer(
        wgs,
        name="Entries",
        styles=point_style("#ffffff", radius=4, stroke="#000000", weight=1.5),
        popups=[
            popup_html("Entry", {"Barrier rating needed": plain_rating(r), "Assumes": WORST_CASE})
            for r in ratings
        ],
        tooltips=[f"Entry: {escape_text(r)}" for r in ratings],
        show=False,
    ).add_to(m)
    add_legend(
        m,
        legend_html("Entries", [("#ffffff", "where a vehicle reaches the site")], shape="dot"),
        position="bottomleft",
        layers=[layer],
    )


def _add_barriers(m: folium.Map, barriers: gpd.GeoDataFrame, *, tolerance_m: float) -> None:
    check_frame(barriers, layer="barriers", columns=("barrier_kind", "rating"))
    wgs = to_wgs84(barriers, tolerance_m=tolerance_m)
    rated = [_text(v, "") != "" for v in wgs["rating"]]
    styles = [
        point_style(_RATED if ok else _UNRATED, radius=5, stroke="#000000")
        | ({} if ok else {"dashArray": "3 3"})
        for ok in rated
    ]
    layer = geojson_layer(
        wgs,
        name="Barriers",
        styles=styles,
        popups=[
            popup_html(
                _text(kind).capitalize(),
                {"Crash rating": plain_rating(_text(rating, "not crash-rated"))},
            )
            for kind, rating in zip(wgs["barrier_kind"], wgs["rating"], strict=True)
        ],
        tooltips=[
            f"{escape_text(_text(kind))}: {'rated' if ok else 'not rated'}"
            for kind, ok in zip(wgs["barrier_kind"], rated, strict=True)
        ],
        show=False,
    ).add_to(m)
    add_legend(
        m,
        legend_html(
            "Barriers", [(_RATED, "crash-rated"), (_UNRATED, "not rated (dashed)")], shape="dot"
        ),
        position="bottomleft",
        layers=[layer],
    )


def _add_gaps(m: folium.Map, gaps: gpd.GeoDataFrame) -> None:
    check_frame(gaps, layer="gaps")
    wgs = to_wgs84(as_points(gaps), tolerance_m=0)
    widths = wgs["gap_m"].tolist() if "gap_m" in wgs else [None] * len(wgs)
    layer = geojson_layer(
        wgs,
        name="Gaps in the barrier line",
        styles=point_style(_GAP, radius=5, stroke="#ffffff", weight=2),
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
        show=False,
    ).add_to(m)
    add_legend(
        m,
        legend_html("Gaps", [(_GAP, "a vehicle can pass between barriers")], shape="dot"),
        position="bottomleft",
        layers=[layer],
    )
