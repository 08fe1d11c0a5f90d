"""The scenario map: base and scenario side by side, with what the scenario changes and its effect.

Two Leaflet maps in one page (folium's ``DualMap``) move together. Both panels draw the
intervention itself ("Intervention: ..." layer: new contact spaces, rated barrier lines, streets
closed to vehicles or given to people on foot, homes with more or fewer residents, from
:func:`scenario_changes`); the left shows today's scores, the
right the change in score (rounded classes, a grey "no change" class; the scenario's own scores
are one click away). With an HVM comparison each panel also draws the vehicle approaches to the
sites the scenario changes, before (left) and after (right), coloured by speed, stopped ones
grey and dashed. ``DualMap`` normally loads the Leaflet.Sync plugin from a CDN;
``save_offline`` replaces it with a small synchronisation script of our own.

Both district tables follow the districts contract of :mod:`cohesion_gis.maps.cohesion`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, cast

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from folium.plugins import DualMap

from cohesion_gis import __version__
from cohesion_gis.errors import InputError
from cohesion_gis.maps._layers import (
    VectorLayer,
    check_frame,
    geojson_layer,
    label_points,
    to_wgs84,
)
from cohesion_gis.maps._style import (
    STOPPED_COLOUR,
    ColourScale,
    add_labels,
    add_legend,
    change_text,
    delta_scale,
    escape_text,
    fit_view,
    format_number,
    header_lines,
    legend_html,
    plain_rating,
    point_style,
    popup_html,
    score_classes,
)
from cohesion_gis.maps.basemap import furnish_map
from cohesion_gis.maps.cohesion import DISTRICT_COLUMNS, district_labels, district_popup
from cohesion_gis.maps.sites import add_approaches, speed_legend

if TYPE_CHECKING:
    from branca.element import Figure

    from cohesion_gis.city import City
    from cohesion_gis.comparison import Comparison

__all__ = [
    "HEADLINE_LINES",
    "INTERVENTION_STYLES",
    "MIN_SPEED_CHANGE_KMH",
    "approach_changes",
    "comparison_map",
    "scenario_changes",
    "scenario_map",
    "scenario_title",
    "score_change",
    "site_speed_labels",
]

#: Lines of a comparison's summary (largest change first) written under a scenario map's title.
HEADLINE_LINES = 2

#: Look of each kind of change (Okabe-Ito colours) and its legend shape. A new barrier line is
#: black, thick and dashed on a white halo ("cg-halo"), so it stands apart from the dark blue
#: of the fastest approaches it crosses; closed streets are vermillion, dashed, on a halo too.
INTERVENTION_STYLES: dict[str, tuple[dict[str, object], str]] = {
    "new contact space": (
        {"color": "#006d50", "weight": 3, "fillColor": "#009E73", "fillOpacity": 0.6},
        "box",
    ),
    "new barrier line": (
        {"color": "#000000", "weight": 6, "opacity": 1.0, "dashArray": "12 6",
         "lineCap": "butt", "className": "cg-halo"},
        "dash",
    ),
    "street closed to vehicles": (
        {"color": "#D55E00", "weight": 5, "opacity": 0.95, "dashArray": "8 6",
         "className": "cg-halo"},
        "dash",
    ),
    "street given to people on foot": (
        {"color": "#000000", "weight": 1, "fillColor": "#F0E442", "fillOpacity": 0.8},
        "box",
    ),
    "more residents": (
        {"color": "#CC79A7", "weight": 2, "fillColor": "#CC79A7", "fillOpacity": 0.6},
        "box",
    ),
    "fewer residents": (
        {"color": "#56B4E9", "weight": 2, "fillColor": "#56B4E9", "fillOpacity": 0.6},
        "box",
    ),
}  # fmt: skip
_CHANGE_COLUMNS = ("change", "name", "detail")


def scenario_changes(base_city: City, scenario_city: City) -> gpd.GeoDataFrame:
    """Return what a scenario changed, one drawable feature per change, in the City's CRS.

    Compares the two Cities' layers: contact spaces whose id is new; barriers whose
    ``barrier_id`` is new (one feature per line, every class rating on it listed); vehicle
    streets (``drive_edges`` by ``osm_id``) that the scenario removed, merged per street name;
    pedestrianised streets (the new ``pedestrianised/...`` sites, whatever the mode: a traffic
    order leaves the street in the vehicle network); homes that gain or lose residents.

    Parameters
    ----------
    base_city, scenario_city
        The base :class:`~cohesion_gis.city.City` and the one ``scenario.apply`` returned.

    Returns
    -------
    geopandas.GeoDataFrame
        ``change`` (a key of :data:`INTERVENTION_STYLES`), ``name``, ``detail`` (plain
        language, ratings spelled out) and geometry; empty when nothing drawable changed.
    """
    rows: list[dict[str, object]] = []
    before, after = base_city.contact_spaces, scenario_city.contact_spaces
    for r in after.loc[~after["space_id"].isin(before["space_id"])].itertuples():
        kind = str(r.space_type).replace("_", " ")
        name = r.name if isinstance(r.name, str) and r.name else f"new {kind}"
        detail = f"new {kind}, {format_number(r.area_m2, unit='m²')}"
        rows.append({"change": "new contact space", "name": name, "detail": detail,
                     "geometry": r.geometry})  # fmt: skip
    before, after = base_city.barriers, scenario_city.barriers
    added = after.loc[~after["barrier_id"].isin(before["barrier_id"])]
    if len(added):
        added = added.assign(_wkb=shapely.to_wkb(added.geometry.values))
        for _, group in added.groupby("_wkb", sort=False):
            ratings = [
                plain_rating(v) for v in group.get("rating", pd.Series(dtype=object)).dropna()
            ]
            names = sorted({str(n) for n in group.get("name", group["barrier_id"]).dropna()})
            rows.append({
                "change": "new barrier line", "name": "; ".join(names) or "new barrier",
                "detail": "; ".join(ratings) or "not crash-rated",
                "geometry": group.geometry.iloc[0],
            })  # fmt: skip
    before, after = base_city.drive_edges, scenario_city.drive_edges
    closed = before.loc[~before["osm_id"].isin(after["osm_id"])]
    if len(closed):
        names = closed["name"].where(closed["name"].notna(), "unnamed street").astype(str)
        for name, group in closed.groupby(names.to_numpy(), sort=True):
            rows.append({
                "change": "street closed to vehicles", "name": name,
                "detail": "closed to vehicles; people on foot keep it",
                "geometry": shapely.line_merge(group.geometry.union_all()),
            })  # fmt: skip
    before, after = base_city.sites, scenario_city.sites
    given = after.loc[
        ~after["site_id"].isin(before["site_id"])
        & after["site_id"].astype(str).str.startswith("pedestrianised/")
    ]
    for r in given.itertuples():
        rows.append({
            "change": "street given to people on foot", "name": str(r.name),
            "detail": "pedestrianised: its traffic no longer cuts walkers off; people gather "
                      "on it (a crowded site of its own)",
            "geometry": r.geometry,
        })  # fmt: skip
    if "home_id" in base_city.homes and "home_id" in scenario_city.homes:
        rows += _resident_changes(base_city.homes, scenario_city.homes)
    return gpd.GeoDataFrame(
        rows or None, columns=[*_CHANGE_COLUMNS, "geometry"], geometry="geometry",
        crs=base_city.crs,
    )  # fmt: skip


def _resident_changes(before: gpd.GeoDataFrame, after: gpd.GeoDataFrame) -> list[dict[str, object]]:
    """Homes that gain or lose residents (new homes count as gaining), one feature each way."""
    was = before.set_index("home_id")["population"]
    delta = after["population"].to_numpy(dtype=float) - after["home_id"].map(was).fillna(
        0
    ).to_numpy(dtype=float)
    rows: list[dict[str, object]] = []
    for sign, label in ((1, "more residents"), (-1, "fewer residents")):
        moved = sign * delta >= 0.5  # half a person: rounding, not a change
        if moved.any():
            rows.append({
                "change": label, "name": label,
                "detail": f"{format_number(sign * delta[moved].sum(), unit='residents')} "
                          f"{'more' if sign > 0 else 'fewer'} in {int(moved.sum())} homes",
                "geometry": after.geometry[moved].union_all(),
            })  # fmt: skip
    return rows


#: Least change in an approach's arrival speed a scenario map shows as a change, km/h (the
#: approach search's own resolution is finer; half a km/h is below any rating's step).
MIN_SPEED_CHANGE_KMH = 0.5
#: Changed sites named on a scenario map with their fastest arrival before and after.
MAX_SITE_LABELS = 5


def approach_changes(
    base_approaches: gpd.GeoDataFrame, scenario_approaches: gpd.GeoDataFrame
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """The approaches a scenario changes: today's rows and the scenario's, row for row.

    Approaches are matched by site, vehicle class and entry (``entry_id``, when both tables
    have it) and their order among equals. One changes when it arrives today and, with the
    scenario, arrives :data:`MIN_SPEED_CHANGE_KMH` faster or slower, is stopped (0 km/h) or is
    gone (no route left: returned as stopped on today's route). The Senaatintori barrier scheme
    changes 73 of Helsinki's 1,500 approaches; the map drew every approach of the 8 sites it
    touches, so before and after looked alike.

    Returns
    -------
    tuple of geopandas.GeoDataFrame
        Today's rows and the scenario's, in the same order (``impact_speed_kmh`` 0 = stopped).
    """
    keys = ["site_id", "vehicle_class"]
    if "entry_id" in base_approaches and "entry_id" in scenario_approaches:
        keys.append("entry_id")
    base = base_approaches.reset_index(drop=True)
    after = scenario_approaches.reset_index(drop=True)

    def index(table: pd.DataFrame) -> pd.MultiIndex:
        frame = table[keys].astype(str)
        frame["_n"] = frame.groupby(keys, sort=False).cumcount()
        return pd.MultiIndex.from_frame(frame)

    where = pd.Series(np.arange(len(after)), index=index(after)).reindex(index(base))
    found = where.notna().to_numpy()
    rows = where.fillna(0).to_numpy(dtype=np.int64)
    old = base["impact_speed_kmh"].to_numpy(dtype=float)
    new = np.where(found, after["impact_speed_kmh"].to_numpy(dtype=float)[rows], 0.0)
    changed = (old > 0) & (~found | (np.abs(old - new) >= MIN_SPEED_CHANGE_KMH))
    before = base.loc[changed]
    gone = base.loc[changed & ~found].assign(impact_speed_kmh=0.0)
    if "blocked_by" in gone:
        gone["blocked_by"] = "no route left to the site"
    kept = after.iloc[rows[changed & found]]
    now = pd.concat([kept, gone]) if len(gone) else kept
    order = np.r_[np.flatnonzero(changed & found), np.flatnonzero(changed & ~found)]
    now = now.set_axis(order).reindex(before.index)
    return before, gpd.GeoDataFrame(now, geometry=now.geometry.name, crs=after.crs)


def site_speed_labels(
    before: gpd.GeoDataFrame,
    after: gpd.GeoDataFrame,
    site_names: dict[object, object],
) -> gpd.GeoDataFrame:
    """The changed sites to name on a scenario map, largest drop in fastest arrival first.

    From :func:`approach_changes`'s two tables: per site, the fastest arrival over its changed
    approaches before and after (0 = every one stopped), at the mean of their entries (the
    routes' last points). At most :data:`MAX_SITE_LABELS` sites, those whose fastest arrival
    moves by at least a km/h.

    Returns
    -------
    geopandas.GeoDataFrame
        ``site_id, name, before_kmh, after_kmh, text`` ("151 km/h → stopped", "149 → 55 km/h")
        and the label's point, in the approaches' CRS.
    """
    ends = shapely.get_point(before.geometry.to_numpy(), -1)
    frame = pd.DataFrame(
        {
            "site_id": before["site_id"].to_numpy(),
            "before_kmh": before["impact_speed_kmh"].to_numpy(dtype=float),
            "after_kmh": after["impact_speed_kmh"].to_numpy(dtype=float),
            "x": shapely.get_x(ends),
            "y": shapely.get_y(ends),
        }
    )
    sites = frame.groupby("site_id", sort=True).agg(
        before_kmh=("before_kmh", "max"), after_kmh=("after_kmh", "max"), x=("x", "mean"),
        y=("y", "mean"),
    )  # fmt: skip
    sites["drop"] = sites["before_kmh"] - sites["after_kmh"]
    sites = sites.loc[sites["drop"].abs() >= 1].sort_values("drop", ascending=False, kind="stable")
    sites = sites.head(MAX_SITE_LABELS).reset_index()
    names = [str(site_names.get(s, s)) for s in sites["site_id"]]
    return gpd.GeoDataFrame(
        {
            "site_id": sites["site_id"],
            "name": names,
            "before_kmh": sites["before_kmh"],
            "after_kmh": sites["after_kmh"],
            "text": [
                f"{b:.0f} km/h → stopped" if not a > 0 else f"{b:.0f} → {a:.0f} km/h"
                for b, a in zip(sites["before_kmh"], sites["after_kmh"], strict=True)
            ],
        },
        geometry=gpd.points_from_xy(sites["x"], sites["y"]),
        crs=before.crs,
    )


def scenario_title(description: str | None, name: str, *, max_chars: int = 110) -> str:
    """A map title from a scenario's description: its first sentence or clause, else the name.

    Examples
    --------
    >>> scenario_title("Convert the car park into a pocket park. More text.", "car_park")
    'Convert the car park into a pocket park'
    """
    text = " ".join(str(description or "").split())
    if not text:
        return name
    for stop in (". ", ": "):
        text = text.split(stop)[0]
    text = text.rstrip(".")
    return text if len(text) <= max_chars else text[: max_chars - 1].rstrip() + "…"


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


def _score_layer(
    wgs: gpd.GeoDataFrame, scale: ColourScale, *, name: str, show: bool = True
) -> VectorLayer:
    records = wgs.drop(columns="geometry").to_dict("records")
    return geojson_layer(
        wgs,
        name=name,
        styles=[
            {
                "fillColor": scale.colour(float(r["score"])),
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
        show=show,
    )


def _intervention_layer(
    m: folium.Map, changes: gpd.GeoDataFrame, *, title: str, description: str, tolerance_m: float
) -> None:
    """Draw the changes on one panel with their legend (kinds present only).

    A barrier line across a street is a few metres long, a tick at the zoom that shows a whole
    town: its middle is also marked with a black dot on a white ring, seen at any zoom.
    """
    wgs = to_wgs84(changes, tolerance_m=tolerance_m)
    lines = wgs.loc[wgs["change"] == "new barrier line"]
    if len(lines):
        middles = shapely.line_interpolate_point(lines.geometry.values, 0.5, normalized=True)
        wgs = pd.concat([wgs, lines.set_geometry(middles)], ignore_index=True)
    styles = []
    for kind, geom in zip(wgs["change"], wgs.geometry, strict=True):
        style = dict(INTERVENTION_STYLES[kind][0])
        if geom.geom_type in ("Point", "MultiPoint"):
            style = (
                point_style("#000000", radius=6, stroke="#ffffff", weight=2.5)
                if kind == "new barrier line"
                else point_style(str(style["color"]), radius=7, stroke="#000000", weight=1.5)
            )
        styles.append(style)
    layer = geojson_layer(
        wgs,
        name="Intervention: what the scenario changes",
        styles=styles,
        popups=[
            popup_html(name, {"What changes": detail, "Scenario": description})
            for name, detail in zip(wgs["name"], wgs["detail"], strict=True)
        ],
        tooltips=[
            f"{escape_text(name)}: {escape_text(kind)}"
            for name, kind in zip(wgs["name"], wgs["change"], strict=True)
        ],
    ).add_to(m)
    named = wgs.loc[wgs["change"].isin(["new contact space", "street given to people on foot"])]
    if len(named):  # a new space is small on a city map: its name shows where it is
        points = named.geometry.representative_point()
        add_labels(
            m,
            [(pt.y, pt.x) for pt in points],
            [(name, kind) for name, kind in zip(named["name"], named["change"], strict=True)],
            name="Intervention names",
            priority=0,
        )
    kinds = list(dict.fromkeys(wgs["change"]))
    add_legend(
        m,
        legend_html(
            "Intervention",
            [(str(INTERVENTION_STYLES[k][0]["color"]), k) for k in kinds],
            shape=[INTERVENTION_STYLES[k][1] for k in kinds],
        ),
        position="topleft",
        layers=[layer],
    )


def scenario_map(
    base_districts: gpd.GeoDataFrame,
    scenario_districts: gpd.GeoDataFrame,
    *,
    scenario_name: str = "Scenario",
    description: str | None = None,
    interventions: gpd.GeoDataFrame | None = None,
    base_approaches: gpd.GeoDataFrame | None = None,
    scenario_approaches: gpd.GeoDataFrame | None = None,
    site_names: dict[object, object] | None = None,
    place: str | None = None,
    data_date: str | None = None,
    streets: gpd.GeoDataFrame | None = None,
    buildings: gpd.GeoDataFrame | None = None,
    tolerance_m: float = 1.0,
    tiles: str | None = None,
    headline: Sequence[str] = (),
) -> DualMap:
    """Build base and scenario side by side, kept in step: the intervention and its effect.

    Parameters
    ----------
    base_districts, scenario_districts
        District scores (districts contract) in the metric CRS, the same ``district_id`` values.
    scenario_name
        The scenario's id, used when it has no description (escaped).
    description
        The scenario's description: its first sentence titles the map, the whole text is in the
        intervention's popups (escaped).
    interventions
        What the scenario changes (:func:`scenario_changes`), drawn on both panels as
        "Intervention: <title>".
    base_approaches, scenario_approaches
        HVM approaches before and after (``site_id, vehicle_class, impact_speed_kmh``,
        LineStrings); those of the sites the scenario changes are drawn as "Vehicle approaches
        before/after", coloured by speed, stopped ones grey and dashed.
    site_names
        ``{site_id: name}`` for the approaches' popups.
    place, data_date
        Study area name and OpenStreetMap data date for the header.
    streets, buildings
        Optional vector base layer, drawn on both maps.
    tolerance_m
        Simplification tolerance in metres.
    tiles
        None for the offline base layer, or online tiles (see ``base_map``).
    headline
        What changes most, in words (``Comparison.summary``, largest first): each line under
        the scenario's title, so a barrier scheme's map says "worst M1 arrival speed 151 → 0
        km/h" even where the scores do not move.

    Returns
    -------
    folium.plugins.DualMap
        ``.m1`` (left: today's scores, on) and ``.m2`` (right: "Change in score", on, and the
        scenario's scores, off); both with the intervention, district labels, legends that follow
        their layers and a layer control. Save with ``save_offline``.

    Raises
    ------
    InputError
        A table lacks the district columns or a district is missing from one of them.
    """
    check_frame(base_districts, layer="base_districts", columns=DISTRICT_COLUMNS)
    check_frame(scenario_districts, layer="scenario_districts", columns=DISTRICT_COLUMNS)
    change = score_change(base_districts, scenario_districts)
    title = scenario_title(description, scenario_name)
    changed = (
        approach_changes(base_approaches, scenario_approaches)
        if base_approaches is not None and scenario_approaches is not None
        else None
    )
    west, south, east, north = _view(change, changed, interventions).total_bounds
    dual = DualMap(
        location=[(south + north) / 2, (west + east) / 2],
        tiles=None,
        prefer_canvas=False,
    )
    cast("Figure", dual.get_root()).title = escape_text(f"Scenario: {title}")
    for m in (dual.m1, dual.m2):
        fit_view(m, [[south, west], [north, east]])
    dates = header_lines(place=place, data_date=data_date, version=__version__)
    for m, heading, lines in (
        (dual.m1, "Today", dates),
        (
            dual.m2,
            f"Scenario: {title}",
            [
                *(
                    f"What changes most: {line}" if k == 0 else line
                    for k, line in enumerate(headline)
                ),
                "Colours: change in cohesion score (scenario − today)",
            ],
        ),
    ):
        furnish_map(
            m, streets=streets, buildings=buildings, tiles=tiles, title=heading, lines=lines,
            tolerance_m=tolerance_m,
        )  # fmt: skip
    base_wgs = to_wgs84(base_districts, tolerance_m=tolerance_m)
    # one set of classes for both sides, so a colour means the same score left and right
    scores = score_classes(
        [*base_districts["score"], *scenario_districts["score"]],
        what="district scores (today and with the scenario)",
    )
    score_legend = legend_html(scores.title, scores.items(), note=scores.note)
    base_layer = _score_layer(base_wgs, scores, name="Cohesion score today", show=False)
    base_layer.add_to(dual.m1)
    add_legend(dual.m1, score_legend, layers=[base_layer])
    district_labels(dual.m1, base_wgs)
    wgs = to_wgs84(change, tolerance_m=tolerance_m)
    after_layer = _score_layer(wgs, scores, name="Cohesion score with the scenario", show=False)
    after_layer.add_to(dual.m2)
    add_legend(dual.m2, score_legend, layers=[after_layer])
    deltas = wgs["score_change"].to_numpy(dtype=float)
    scale = delta_scale(float(np.nanmax(np.abs(deltas))) if len(deltas) else 0.0)
    records = wgs.drop(columns="geometry").to_dict("records")
    change_layer = geojson_layer(
        wgs,
        name="Change in score",
        styles=[
            {"fillColor": scale.colour(d), "fillOpacity": 0.7, "color": "#555555", "weight": 1}
            for d in deltas
        ],
        popups=[
            popup_html(
                r["name"],
                {
                    "Score today": f"{format_number(r['base_score'], digits=1)} of 100",
                    "Score with the scenario": f"{format_number(r['score'], digits=1)} of 100",
                    "Change": f"{change_text(r['score_change'], scale)} (above 0 = better)",
                },
            )
            for r in records
        ],
        tooltips=[
            f"{escape_text(r['name'])}: {change_text(r['score_change'], scale)}" for r in records
        ],
    ).add_to(dual.m2)
    add_legend(dual.m2, legend_html(scale.title, scale.items()), layers=[change_layer])
    _change_labels(dual.m2, wgs, scale)
    if changed is not None and base_approaches is not None and scenario_approaches is not None:
        _approach_layers(
            dual, changed, base_approaches, scenario_approaches, site_names=site_names or {},
            tolerance_m=tolerance_m,
        )  # fmt: skip
    # the intervention last: drawn over the approaches it changes
    if interventions is not None and len(interventions):
        for m in (dual.m1, dual.m2):
            _intervention_layer(
                m, interventions, title=title, description=description or title,
                tolerance_m=tolerance_m,
            )  # fmt: skip
    for m in (dual.m1, dual.m2):
        folium.LayerControl(collapsed=False).add_to(m)
    return dual


#: Room round what an HVM scenario changes when the map opens on it, metres.
VIEW_MARGIN_M = 100.0


def _view(
    districts: gpd.GeoDataFrame,
    changed: tuple[gpd.GeoDataFrame, gpd.GeoDataFrame] | None,
    interventions: gpd.GeoDataFrame | None,
) -> gpd.GeoSeries:
    """What a scenario map opens on (EPSG:4326): the districts, or what an HVM scenario changes.

    A barrier scheme changes a few streets of a town: opened on every district, its stopped
    approaches were a few pixels long. With changed approaches the view is them and the
    intervention, :data:`VIEW_MARGIN_M` round.
    """
    if changed is None or changed[0].empty:
        return districts.to_crs("EPSG:4326").geometry
    shapes = [changed[0].geometry.union_all()]
    if interventions is not None and len(interventions):
        shapes.append(interventions.to_crs(districts.crs).geometry.union_all())
    area = shapely.buffer(shapely.union_all(shapes), VIEW_MARGIN_M)
    return gpd.GeoSeries([area], crs=districts.crs).to_crs("EPSG:4326")


def _approach_layers(
    dual: DualMap,
    changed: tuple[gpd.GeoDataFrame, gpd.GeoDataFrame],
    base_approaches: gpd.GeoDataFrame,
    scenario_approaches: gpd.GeoDataFrame,
    *,
    site_names: dict[object, object],
    tolerance_m: float,
) -> None:
    """The approaches the scenario changes, today's on the left, the scenario's on the right.

    On the right today's are drawn faint under the scenario's, stopped ones grey and dashed with
    a ring where they arrived today; both panels name the changed sites with their fastest
    arrival before and after.

    A scenario that changes no approach shows them all, off at first (the map is then about
    the cohesion score).
    """
    before, after = changed
    if before.empty:
        for m, table, when in ((dual.m1, base_approaches, "before"),
                               (dual.m2, scenario_approaches, "after")):  # fmt: skip
            layer = add_approaches(
                m, table, site_names=site_names, tolerance_m=tolerance_m,
                name=f"Vehicle approaches {when} (unchanged)", show=False,
            )  # fmt: skip
            if layer is not None:
                add_legend(m, speed_legend(), position="bottomleft", layers=[layer])
        return
    stopped = after["impact_speed_kmh"].to_numpy(dtype=float) <= 0
    n = len(before)
    left = add_approaches(
        dual.m1, before, site_names=site_names, tolerance_m=tolerance_m,
        name=f"Vehicle approaches before ({n} the scenario changes)",
    )  # fmt: skip
    faint = add_approaches(
        dual.m2, before, site_names=site_names, tolerance_m=tolerance_m,
        name=f"Vehicle approaches before, faint ({n})", faint=True,
    )  # fmt: skip
    right = add_approaches(
        dual.m2, after, site_names=site_names, tolerance_m=tolerance_m,
        name=f"Vehicle approaches after ({int(stopped.sum())} stopped, "
        f"{int((~stopped).sum())} slower or faster)",
    )  # fmt: skip
    ends = before.loc[stopped].assign(
        geometry=shapely.get_point(before.geometry.to_numpy()[stopped], -1)
    )
    rings = None
    if len(ends):  # where a stopped approach reached the site today
        wgs = to_wgs84(gpd.GeoDataFrame(ends, geometry="geometry", crs=before.crs), tolerance_m=0)
        rings = geojson_layer(
            wgs, name="Stopped: where they arrived today",
            styles=point_style("#ffffff", radius=5, stroke=STOPPED_COLOUR, weight=3),
            tooltips=[f"{escape_text(c)}: stopped" for c in wgs["vehicle_class"]],
        ).add_to(dual.m2)  # fmt: skip
    if left is not None:
        add_legend(dual.m1, speed_legend(), position="bottomleft", layers=[left])
    add_legend(
        dual.m2,
        speed_legend(stopped=True)
        + legend_html("", [("#ffffff", "where a stopped approach arrived today")], shape="dot")
        + legend_html("", [("#1764ab", "today's route, faint, under the scenario's")],
                      shape="line"),
        position="bottomleft", layers=[layer for layer in (right, faint, rings) if layer],
    )  # fmt: skip
    labels = to_wgs84(site_speed_labels(before, after, site_names), tolerance_m=0)
    for m, text in ((dual.m1, "before"), (dual.m2, "text")):
        add_labels(
            m, [(p.y, p.x) for p in labels.geometry],
            [
                (name, f"fastest {b:.0f} km/h" if text == "before" else f"fastest {t}")
                for name, b, t in zip(labels["name"], labels["before_kmh"], labels["text"],
                                      strict=True)
            ],
            name="Changed sites: fastest arrival", priority=0,
        )  # fmt: skip


def _change_labels(m: folium.Map, wgs: gpd.GeoDataFrame, scale: ColourScale) -> None:
    """District names with their change in score, visible without a click (larger first)."""
    ordered = wgs.iloc[np.argsort(-shapely.area(wgs.geometry.to_numpy()), kind="stable")]
    add_labels(
        m,
        label_points(ordered),
        [
            (name, change_text(d, scale))
            for name, d in zip(ordered["name"], ordered["score_change"], strict=True)
        ],
        name="District names and changes",
    )


def comparison_map(base_city: City, comparison: Comparison, *, tolerance_m: float = 1.0) -> DualMap:
    """Build :func:`scenario_map` from a :class:`~cohesion_gis.comparison.Comparison`.

    The intervention comes from :func:`scenario_changes` (base City vs the comparison's City),
    the title from the scenario's description, and the approaches before and after from the
    two HVM assessments when the comparison has them.
    """
    before, after = comparison.base.hvm, comparison.after.hvm
    both = (before, after) if before is not None and after is not None else None
    return scenario_map(
        comparison.base_districts, comparison.scenario_districts,
        scenario_name=comparison.scenario.name, description=comparison.scenario.description,
        interventions=scenario_changes(base_city, comparison.city),
        base_approaches=both[0].approaches if both else None,
        scenario_approaches=both[1].approaches if both else None,
        site_names=dict(zip(both[0].sites["site_id"], both[0].sites["name"], strict=True))
        if both else None,
        place=base_city.name, data_date=base_city.provenance.data_date,
        streets=base_city.walk_edges, buildings=base_city.buildings, tolerance_m=tolerance_m,
        headline=comparison.summary[:HEADLINE_LINES],
    )  # fmt: skip
