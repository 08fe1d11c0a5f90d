"""What each intervention type does to a :class:`~cohesion_gis.city.City`.

Every function takes the city and one :class:`~cohesion_gis.scenario.spec.Intervention` and
returns a new City (:func:`dataclasses.replace`), replacing only the tables it changes, so the
comparison can tell what to recompute by identity (``new.walk_edges is base.walk_edges``).
A reference that cannot be resolved raises :class:`~cohesion_gis.errors.ScenarioError` with the
problem and the fix; :func:`cohesion_gis.scenario.apply` adds the file and entry.

Feature references (``id``, ``name``, ``geometry``/``file``) pick rows of the layer the type
works on: ``id`` matches the OSM id column (``"way/123"``, several rows for a street split into
segments), ``name`` the ``name`` column (case-insensitive), and a geometry every feature it
touches (within 2 m for points and lines).
"""

from __future__ import annotations

import difflib
import logging
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import shapely.ops
from shapely.geometry import LineString
from shapely.geometry.base import BaseGeometry

from cohesion_gis.errors import ScenarioError
from cohesion_gis.scenario.spec import Intervention

if TYPE_CHECKING:
    from cohesion_gis.city import City

__all__ = ["APPLY", "project_shape"]

log = logging.getLogger(__name__)

#: A point or line reference picks features within this distance (m).
TOUCH_M = 2.0
#: Width (m) of a pedestrianised street's crowd area when its edges carry no ``width_m``.
DEFAULT_STREET_WIDTH_M = 6.0
#: A rated closure's barrier line lies this far (m) inside the closed street from the junction.
CLOSURE_INSET_M = 1.0
#: ... and reaches at least this far (m) beyond each side of the carriageway (on to the façade).
CLOSURE_MARGIN_M = 1.0
#: ... stopping this far (m) short of any other street it would cross.
CLOSURE_CLEAR_M = 0.1
#: A chicane's middle within this distance (m) of a street piece's end is that end's node.
CHICANE_SNAP_M = 1.0


def project_shape(city: City, shape: BaseGeometry) -> BaseGeometry:
    """A geometry in EPSG:4326 projected to the city's CRS; refused if outside the study area.

    Raises
    ------
    ScenarioError
        The geometry does not touch the study area.
    """
    projected = gpd.GeoSeries([shape], crs=4326).to_crs(city.crs).iloc[0]
    if not projected.intersects(city.boundary):
        west, south, east, north = (
            gpd.GeoSeries([city.boundary], crs=city.crs).to_crs(4326).total_bounds
        )
        raise ScenarioError(
            f"geometry {shape.wkt[:60]}... lies outside the study area "
            f"(lon {west:.4f}..{east:.4f}, lat {south:.4f}..{north:.4f}); check the coordinates "
            "(WKT is longitude latitude, EPSG:4326)"
        )
    return projected


def _select(city: City, iv: Intervention, layer: str, id_column: str, *, what: str) -> np.ndarray:
    """Boolean mask of the rows of ``city.<layer>`` the intervention refers to."""
    table: gpd.GeoDataFrame = getattr(city, layer)
    opts = iv.options
    if "id" in opts:
        ids = opts["id"] if isinstance(opts["id"], list) else [opts["id"]]
        mask = table[id_column].isin(ids).to_numpy()
        missing = sorted(set(ids) - set(table.loc[mask, id_column]))
        if missing:
            sample = ", ".join(map(str, table[id_column].head(3)))
            raise ScenarioError(
                f"id {', '.join(missing)} not found among the {len(table)} {what} "
                f"(e.g. {sample}); check the OSM id (type/number) or refer by name or geometry"
            )
        return mask
    if "name" in opts:
        wanted = str(opts["name"]).casefold()
        names = table["name"].fillna("").astype(str)
        mask = (names.str.casefold() == wanted).to_numpy()
        if not mask.any():
            close = difflib.get_close_matches(opts["name"], sorted(set(names) - {""}), n=3)
            hint = f"; close names: {', '.join(close)}" if close else ""
            raise ScenarioError(
                f"no {what} named {opts['name']!r}{hint}; check the spelling or refer by id"
            )
        return mask
    shape = project_shape(city, iv.shape)
    if shape.geom_type not in ("Polygon", "MultiPolygon"):
        shape = shape.buffer(TOUCH_M)
    mask = table.geometry.intersects(shape).to_numpy()
    if not mask.any():
        raise ScenarioError(f"the geometry touches no {what}; move it onto one or refer by id")
    return mask


# --- contact spaces ------------------------------------------------------------------------


def _space_type(city: City, value: str) -> str:
    known = [c.name for c in city.taxonomy.contact_spaces]
    if value not in known:
        close = difflib.get_close_matches(value, known, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise ScenarioError(
            f"space_type {value!r} is not a contact-space type of the taxonomy; "
            f"{hint}known: {', '.join(known)}"
        )
    return value


def _space_rows(
    city: City, ids: list[str], names: list[Any], space_type: str, geoms: list[BaseGeometry]
) -> gpd.GeoDataFrame:
    areal = [g.geom_type in ("Polygon", "MultiPolygon") for g in geoms]
    return gpd.GeoDataFrame(
        {
            "space_id": ids,
            "name": names,
            "space_type": [space_type] * len(ids),
            "area_m2": [g.area if a else 0.0 for g, a in zip(geoms, areal, strict=True)],
            "n_mapped_entrances": np.zeros(len(ids), dtype=np.int64),
        },
        geometry=geoms,
        crs=city.crs,
    )


def _append(table: gpd.GeoDataFrame, rows: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    if table.empty:
        return rows.reset_index(drop=True)
    return gpd.GeoDataFrame(pd.concat([table, rows], ignore_index=True), crs=table.crs)


def convert_land_use(city: City, iv: Intervention) -> City:
    """Car park (or land-use area) → contact space of ``space_type``, same id and outline."""
    space_type = _space_type(city, iv.options["space_type"])
    found = []
    for layer, column in (("parking", "parking_id"), ("landuse", "osm_id")):
        try:
            found.append((layer, column, _select(city, iv, layer, column, what=layer)))
        except ScenarioError as exc:
            error = exc
    if not found:
        raise ScenarioError(f"{error} (searched car parks and land-use areas)")
    layer, column, mask = found[0]
    rows = getattr(city, layer).loc[mask]
    areal = rows.geom_type.isin(["Polygon", "MultiPolygon"])
    if not areal.all():
        raise ScenarioError(
            f"{', '.join(rows.loc[~areal, column])} mapped as a point: no outline to convert; "
            "use add_contact_space with a polygon instead"
        )
    name = iv.options.get("space_name")
    spaces = _space_rows(
        city,
        list(rows[column]),
        [name or n for n in rows["name"]],
        space_type,
        list(rows.geometry),
    )
    changes: dict[str, Any] = {"contact_spaces": _append(city.contact_spaces, spaces)}
    changes[layer] = getattr(city, layer).loc[~mask].reset_index(drop=True)
    if layer == "parking":  # the same way may also be a landuse=* area
        same = city.landuse["osm_id"].isin(rows[column]).to_numpy()
        if same.any():
            changes["landuse"] = city.landuse.loc[~same].reset_index(drop=True)
    return replace(city, **changes)


def add_contact_space(city: City, iv: Intervention) -> City:
    """A new contact space at the given polygon or point."""
    space_type = _space_type(city, iv.options["space_type"])
    geom = project_shape(city, iv.shape)
    if geom.geom_type not in ("Polygon", "MultiPolygon", "Point"):
        raise ScenarioError(f"a contact space must be a polygon or a point, got {geom.geom_type}")
    space_id = iv.options.get("space_id", f"new/{iv.index}")
    if space_id in set(city.contact_spaces["space_id"]):
        raise ScenarioError(f"space_id {space_id!r} already exists; choose another")
    rows = _space_rows(city, [space_id], [iv.options.get("name")], space_type, [geom])
    return replace(city, contact_spaces=_append(city.contact_spaces, rows))


def remove_contact_space(city: City, iv: Intervention) -> City:
    """Drop the referenced contact spaces."""
    mask = _select(city, iv, "contact_spaces", "space_id", what="contact spaces")
    return replace(city, contact_spaces=city.contact_spaces.loc[~mask].reset_index(drop=True))


# --- barriers ------------------------------------------------------------------------------


def _barrier_rows(
    city: City, ids: list[str], geoms: list[Any], *, kind: str, names: list[Any], rating: str | None
) -> gpd.GeoDataFrame:
    """The City's barrier table with new rows appended (``rating`` None: unrated)."""
    barriers = city.barriers
    if "rating" not in barriers.columns:
        barriers = barriers.assign(rating=None)
    rows = gpd.GeoDataFrame(
        {
            "barrier_id": ids,
            "barrier_kind": [kind] * len(ids),
            "barrier": [kind] * len(ids),
            "bollard": [None] * len(ids),
            "name": names,
            "rating": [rating] * len(ids),
        },
        geometry=geoms,
        crs=city.crs,
    )
    return _append(barriers, rows)


def add_barrier(city: City, iv: Intervention) -> City:
    """A barrier line (or point), with its rating string in a ``rating`` column (None: unrated)."""
    geom = project_shape(city, iv.shape)
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        geom = geom.boundary
    barrier_id = iv.options.get("barrier_id", f"new/{iv.index}")
    if barrier_id in set(city.barriers["barrier_id"].astype(str)):
        raise ScenarioError(f"barrier_id {barrier_id!r} already exists; choose another")
    kind = iv.options.get("kind", "bollard")
    rows = _barrier_rows(
        city,
        [barrier_id],
        [geom],
        kind=kind,
        names=[iv.options.get("name")],
        rating=iv.options.get("rating"),
    )
    return replace(city, barriers=rows)


def remove_barrier(city: City, iv: Intervention) -> City:
    """Drop the referenced barriers."""
    mask = _select(city, iv, "barriers", "barrier_id", what="barriers")
    return replace(city, barriers=city.barriers.loc[~mask].reset_index(drop=True))


# --- streets -------------------------------------------------------------------------------


def _drop_edges(city: City, mask: np.ndarray) -> dict[str, gpd.GeoDataFrame]:
    edges = city.drive_edges.loc[~mask].reset_index(drop=True)
    used = np.unique(edges[["u", "v"]].to_numpy())
    return {
        "drive_edges": edges,
        "drive_nodes": city.drive_nodes.loc[city.drive_nodes.index.isin(used)],
    }


def _closure_line(
    line: LineString, *, from_start: bool, width_m: float, inset_m: float, ground: Any
) -> LineString:
    """A line across a street piece, ``inset_m`` in from one end (at most its middle).

    Perpendicular to the piece there; across the carriageway plus :data:`CLOSURE_MARGIN_M`
    each side (m), and on across the footway to the façade, level change or water, or with none
    within ``closure_reach_m`` across the open ground to that reach
    (:func:`cohesion_gis.hvm.barriers.cross_section_m`, ``ground`` = (obstacles, HvmParams)): a
    line that stops at the kerb, or short of it on open ground, is driven round.
    """
    from cohesion_gis.hvm.barriers import cross_section_m

    length = line.length
    at = min(inset_m, length / 2.0)
    at = at if from_start else length - at
    centre = np.asarray(line.interpolate(at).coords[0])
    ahead = np.asarray(line.interpolate(min(at + 0.5, length)).coords[0])
    behind = np.asarray(line.interpolate(max(at - 0.5, 0.0)).coords[0])
    tangent = (ahead - behind) / np.hypot(*(ahead - behind))
    normal = np.array([-tangent[1], tangent[0]])
    obstacles, hvm = ground
    right, left = np.maximum(
        cross_section_m(
            centre[None], normal[None], np.array([width_m / 2.0]), obstacles,
            footway_width_m=hvm.footway_width_m, reach_m=hvm.closure_reach_m,
            open_m=hvm.closure_reach_m,
        )[0],
        width_m / 2.0 + CLOSURE_MARGIN_M,
    )  # fmt: skip
    return LineString([centre - normal * right, centre + normal * left])


def _across_piece(
    lines: np.ndarray,
    tree: shapely.STRtree,
    pos: int,
    *,
    from_start: bool,
    width_m: float,
    ground: Any,
) -> LineString:
    """The closure line of piece ``pos`` at one end, crossing no other street piece.

    :data:`CLOSURE_INSET_M` in from the end, cut short of other streets; where another street
    still runs through it (a piece that starts along another street), 2, 4 and 8 times as far
    in (at most the piece's middle); a piece mapped along another street all the way is logged.
    """
    for factor in (1.0, 2.0, 4.0, 8.0):
        across = _closure_line(
            lines[pos], from_start=from_start, width_m=width_m,
            inset_m=CLOSURE_INSET_M * factor, ground=ground,
        )  # fmt: skip
        near = tree.query(across, predicate="intersects")
        across = _trim(across, lines[near[near != pos]])
        if not shapely.intersects(lines[near[near != pos]], across).any():
            return across
    log.warning(
        "a rated closure line at %s also crosses another street running along the closed "
        "piece; check the mapping there",
        across.centroid.wkt,
    )
    return across


def _trim(across: LineString, others: np.ndarray) -> LineString:
    """``across`` shortened so that it stops short of every street piece in ``others``.

    A line across a closed street near a junction must not also close an open street meeting
    it at an acute angle: each half is cut :data:`CLOSURE_CLEAR_M` before its first crossing.
    """
    start, end = (np.asarray(xy) for xy in across.coords)
    centre, half = (start + end) / 2.0, np.hypot(*(end - start)) / 2.0
    unit = (end - start) / (2.0 * half)
    reach = {1.0: half, -1.0: half}
    for xy in shapely.get_coordinates(shapely.intersection(others, across)):
        offset = float(np.dot(xy - centre, unit))
        side = 1.0 if offset >= 0 else -1.0
        reach[side] = min(reach[side], max(abs(offset) - CLOSURE_CLEAR_M, CLOSURE_CLEAR_M))
    return LineString([centre - unit * reach[-1.0], centre + unit * reach[1.0]])


def _unique(wanted: str, taken: set[str]) -> str:
    """``wanted``, or ``wanted/2``, ``wanted/3``... whichever is not taken yet."""
    suffix = 2
    name = wanted
    while name in taken:
        name, suffix = f"{wanted}/{suffix}", suffix + 1
    return name


def _closures(city: City, mask: np.ndarray, rating: str, iv: Intervention) -> gpd.GeoDataFrame:
    """The barrier table with a rated line across each closed piece that meets an open street.

    Ids are ``closure/<way id>/<junction node id>``, with ``/2``, ``/3``... where that repeats
    one (a way running on through the junction; a second rated closure of the same street, e.g.
    for another vehicle class).
    """
    from cohesion_gis.hvm.barriers import vehicle_obstacles
    from cohesion_gis.hvm.params import HvmParams
    from cohesion_gis.params import load_params

    hvm = load_params(HvmParams)
    obstacles = vehicle_obstacles(
        city.buildings, city.barriers, city.walk_edges, city.landuse,
        min_height_m=hvm.level_change_min_height_m,
    )  # fmt: skip
    edges = city.drive_edges
    lines = edges.geometry.to_numpy()
    open_nodes = set(np.unique(edges.loc[~mask, ["u", "v"]].to_numpy()))
    tree = shapely.STRtree(lines)
    widths = edges["width_m"].fillna(DEFAULT_STREET_WIDTH_M).to_numpy(dtype=float)
    taken = set(city.barriers["barrier_id"].astype(str))
    ids, names, geoms = [], [], []
    for pos in np.flatnonzero(mask).tolist():
        edge = edges.iloc[pos]
        for from_start, node in ((True, edge["u"]), (False, edge["v"])):
            if node not in open_nodes:
                continue
            across = _across_piece(
                lines, tree, pos, from_start=from_start, width_m=widths[pos],
                ground=(obstacles, hvm),
            )  # fmt: skip
            barrier_id = _unique(f"closure/{edge['osm_id']}/{node}", taken)
            taken.add(barrier_id)
            street = edge["name"] if isinstance(edge["name"], str) else edge["osm_id"]
            ids.append(barrier_id)
            names.append(f"{street} closed at node {node} (rated closure)")
            geoms.append(across)
    if not ids:
        raise ScenarioError(
            "the closed streets meet no street that stays open, so a rated closure has no end "
            "to stand at; omit 'rating' (the streets are then removed) or close fewer streets"
        )
    log.info("%s: %d rated closure lines (%s)", iv.label, len(ids), rating)
    return _barrier_rows(city, ids, geoms, kind="closure", names=names, rating=rating)


def _close(city: City, iv: Intervention, mask: np.ndarray) -> dict[str, gpd.GeoDataFrame]:
    """Close the masked streets: removed (permanent layout change) or rated lines at their ends."""
    rating = iv.options.get("rating")
    if rating is None:
        return _drop_edges(city, mask)
    return {"barriers": _closures(city, mask, rating, iv)}


def pedestrianise(city: City, iv: Intervention) -> City:
    """The street becomes a crowded site; with physical closure it is also closed to vehicles.

    Both modes take the street's traffic away from walkers (its walk edges lose ``severance``).
    ``traffic_order`` keeps its edges in the hostile-vehicle network (a regulatory order does not
    stop a hostile driver); ``physical_closure`` closes it as :func:`close_road` does: removed
    from the network, or with ``rating`` a rated barrier line at each end where it meets an open
    street (VSBs at every entry, NPSA option 1/2; reference hvm.md §8.5).
    """
    mask = _select(city, iv, "drive_edges", "osm_id", what="streets of the vehicle network")
    street = city.drive_edges.loc[mask]
    width = iv.options.get("width_m")
    widths = np.full(len(street), float(width)) if width else street["width_m"].fillna(
        DEFAULT_STREET_WIDTH_M).to_numpy()  # fmt: skip
    area = shapely.union_all(street.geometry.buffer(widths / 2.0, cap_style="flat").to_numpy())
    osm_ids = list(dict.fromkeys(street["osm_id"]))
    # a proposed member: never the anchor (id) of a mapped site it joins (hvm.sites)
    site_id = f"pedestrianised/{osm_ids[0] if len(osm_ids) == 1 else iv.index}"
    names = [n for n in street["name"] if isinstance(n, str)]
    site = gpd.GeoDataFrame(
        {
            "site_id": [site_id],
            "name": [iv.options.get("site_name") or (names[0] if names else site_id)],
            "kind": ["square"],  # the taxonomy's kind for squares and pedestrian streets
            "area_m2": [area.area],
            "capacity_tag": [np.nan],
            "building_levels": [np.nan],
        },
        geometry=[area],
        crs=city.crs,
    )
    others = city.sites.loc[~city.sites["site_id"].isin(osm_ids)]
    changes: dict[str, Any] = {"sites": _append(others, site)}
    walk = city.walk_edges["osm_id"].isin(osm_ids).to_numpy() & city.walk_edges["severance"]
    if walk.any():
        changes["walk_edges"] = city.walk_edges.assign(
            severance=city.walk_edges["severance"] & ~walk
        )
    if iv.options["mode"] == "physical_closure":
        changes.update(_close(city, iv, mask))
    return replace(city, **changes)


def close_road(city: City, iv: Intervention) -> City:
    """Close streets to vehicles (walkers keep them).

    Without ``rating`` the streets leave the hostile-vehicle network: a permanent change of the
    street's layout (built over: kerbs, planting, a building line), which no vehicle crosses.
    With ``rating`` they stay in it and a barrier line of that rating is put across each closed
    piece :data:`CLOSURE_INSET_M` in from every junction with a street that stays open (as long
    as the carriageway is wide plus :data:`CLOSURE_MARGIN_M` each side, cut short of any other
    street): the HVM assessment stops a vehicle arriving within the rating and lets a faster
    one drive through (reported like any proposed barrier).
    """
    mask = _select(city, iv, "drive_edges", "osm_id", what="streets of the vehicle network")
    return replace(city, **_close(city, iv, mask))


def chicane(city: City, iv: Intervention) -> City:
    """A chicane on a street: every path through its middle is capped at its path radius.

    The street's piece is split at the middle (a new node, unless an end of the piece lies
    within :data:`CHICANE_SNAP_M`), and the piece ending there carries ``chicane_radius_m``
    (:func:`cohesion_gis.hvm.chicane.path_radius_m` for the narrowest assessed class): the
    approach search caps every path through that node
    (:func:`cohesion_gis.hvm.routes.approach_network`). The lane shifts by the carriageway width
    less ``lane_width_m``. Refused where the street is too narrow for a
    shift of one lane width, where the lane would not pass every assessed class, where a
    junction, a dead end or another chicane lies within half its length, or under the surface.
    Walk edges are untouched: the elements on the footways leave gaps walkers pass.
    """
    from cohesion_gis.hvm.chicane import ChicaneParams, path_radius_m
    from cohesion_gis.hvm.params import HvmParams
    from cohesion_gis.hvm.routes import underground
    from cohesion_gis.hvm.vehicles import Vehicles
    from cohesion_gis.params import load_params

    defaults = load_params(ChicaneParams)
    length = float(iv.options.get("length_m", defaults.length_m))
    lane = float(iv.options.get("lane_width_m", defaults.lane_width_m))
    hvm = load_params(HvmParams)
    vehicles = load_params(Vehicles).select(hvm.default_vehicle_classes).values()
    widest = max(vehicles, key=lambda v: v.width_m)
    point = project_shape(city, iv.shape)
    if point.geom_type != "Point":
        raise ScenarioError(
            f"a chicane is placed by the point at its middle on the street, got a "
            f'{point.geom_type}; give geometry = "POINT (lon lat)"'
        )
    edges = city.drive_edges
    lines = edges.geometry.to_numpy()
    widths = edges["width_m"].fillna(DEFAULT_STREET_WIDTH_M).to_numpy(float)
    e = int(shapely.STRtree(lines).query_nearest(point, all_matches=False)[0])
    where = f"the chicane at {point.x:.0f}, {point.y:.0f} ({_street(edges.iloc[e])})"
    if lines[e].distance(point) > widths[e] / 2.0 + TOUCH_M:
        raise ScenarioError(
            f"{where}: the point is {lines[e].distance(point):.1f} m from the nearest street's "
            "centreline, off its carriageway; move it onto the street"
        )
    if underground(edges.iloc[[e]])[0]:
        raise ScenarioError(f"{where}: the street runs under the surface here; move it")
    if lane < widest.width_m + hvm.width_clearance_m:
        raise ScenarioError(
            f"{where}: lane_width_m {lane:g} m would close the street to {widest.name} "
            f"({widest.width_m:g} m wide + {hvm.width_clearance_m:g} m clearance); give at least "
            f"{widest.width_m + hvm.width_clearance_m:g} m"
        )
    shift = widths[e] - lane
    if shift < lane:
        raise ScenarioError(
            f"{where}: the {widths[e]:g} m carriageway is too narrow for a {lane:g} m lane to "
            "shift by one lane width (no straight line through, ITE); choose a street at least "
            f"{2 * lane:g} m wide or a narrower lane_width_m"
        )
    ends = edges[["u", "v"]].to_numpy().ravel()
    nodes, degree = np.unique(ends, return_counts=True)
    node_xy = city.drive_nodes.loc[nodes, ["x", "y"]].to_numpy(float)
    near = np.hypot(*(node_xy - [point.x, point.y]).T) < length / 2.0
    if (near & (degree != 2)).any():
        raise ScenarioError(
            f"{where}: a junction or dead end (node {nodes[near & (degree != 2)][0]}) lies "
            f"within half its {length:g} m length; move it along the street or give a shorter "
            "length_m"
        )
    if "chicane_radius_m" in edges:
        others = edges.loc[edges["chicane_radius_m"].notna()].geometry.to_numpy()
        ahead = shapely.get_coordinates(shapely.get_point(others, -1))
        if (np.hypot(*(ahead - [point.x, point.y]).T) < length).any():
            raise ScenarioError(f"{where}: it overlaps another chicane; move it")
    narrowest = min(v.width_m for v in vehicles)
    radius = path_radius_m(length, shift, lane, narrowest)
    return replace(city, **_split_at(city, e, point, radius))


def _street(edge: pd.Series) -> str:
    """A street's name, else its OSM id."""
    return str(edge["name"]) if isinstance(edge["name"], str) else str(edge["osm_id"])


def _split_at(
    city: City, e: int, point: BaseGeometry, radius_m: float
) -> dict[str, gpd.GeoDataFrame]:
    """``drive_edges`` (and ``drive_nodes``) with edge ``e`` ending at ``point`` carrying the cap.

    An end of the edge within :data:`CHICANE_SNAP_M` is the node; else the edge is split there
    into two (a new node numbered after every other, its length shared in proportion).
    """
    edges = city.drive_edges
    if "chicane_radius_m" not in edges:
        edges = edges.assign(chicane_radius_m=np.nan)
    line = edges.geometry.iloc[e]
    at = line.project(point)
    row = edges.iloc[e]
    if at <= CHICANE_SNAP_M:  # the chicane's node is u: turn the edge round
        row = row.copy()
        row["u"], row["v"] = row["v"], row["u"]
        row["geometry"] = shapely.reverse(line)
        at = line.length
    if at >= row["geometry"].length - CHICANE_SNAP_M:
        row = row.copy()
        row["chicane_radius_m"] = radius_m
        edges = edges.copy()
        edges.iloc[e] = row
        return {"drive_edges": edges}
    node = int(max(city.drive_nodes.index.max(), edges[["u", "v"]].to_numpy().max())) + 1
    first, second = row.copy(), row.copy()
    first["v"], second["u"] = node, node
    first["geometry"] = shapely.ops.substring(line, 0.0, at)
    second["geometry"] = shapely.ops.substring(line, at, line.length)
    first["length_m"] = row["length_m"] * at / line.length
    second["length_m"] = row["length_m"] - first["length_m"]
    first["chicane_radius_m"] = radius_m
    halves = gpd.GeoDataFrame([first, second], crs=edges.crs)
    edges = gpd.GeoDataFrame(
        pd.concat([edges.iloc[:e], halves, edges.iloc[e + 1 :]], ignore_index=True),
        crs=edges.crs,
    )
    xy = shapely.get_coordinates(first["geometry"])[-1]
    new = gpd.GeoDataFrame(
        {"x": [xy[0]], "y": [xy[1]]}, geometry=[shapely.Point(xy)], crs=city.drive_nodes.crs,
        index=pd.Index([node], name=city.drive_nodes.index.name),
    )  # fmt: skip
    nodes = gpd.GeoDataFrame(pd.concat([city.drive_nodes, new]), crs=city.drive_nodes.crs)
    return {"drive_edges": edges, "drive_nodes": nodes}


# --- residents -----------------------------------------------------------------------------


def _groups(city: City) -> list[str]:
    return [c.removeprefix("pop_") for c in city.homes.columns if c.startswith("pop_")]


def _area_mask(city: City, area: Any) -> tuple[np.ndarray, BaseGeometry, str]:
    """Homes inside an area (a district id or name, or a shape), the area and its label."""
    if "district" in area:
        d = city.districts
        key = str(area["district"])
        hit = (d["district_id"] == key) | (d["name"].fillna("").str.casefold() == key.casefold())
        if not hit.any():
            raise ScenarioError(
                f"district {key!r} not found; known: {', '.join(map(str, d['name']))}"
            )
        ids = set(d.loc[hit, "district_id"])
        mask = city.homes["district_id"].isin(ids).to_numpy()
        return mask, shapely.union_all(d.loc[hit].geometry.to_numpy()), key
    shape = project_shape(city, area["shape"])
    inside = city.homes.geometry.representative_point().within(shape).to_numpy()
    return inside, shape, "the given area"


def _add_people(
    city: City, homes: gpd.GeoDataFrame, mask: np.ndarray, count: float, shares: dict[str, float]
) -> gpd.GeoDataFrame:
    """Add ``count`` residents over the masked homes, in proportion to their residents."""
    weight = homes["population"].to_numpy(dtype=float) * mask
    if weight.sum() <= 0:
        weight = mask.astype(float)
    weight = weight / weight.sum()
    out = homes.copy()
    out["population"] = out["population"] + count * weight
    for group, share in shares.items():
        out[f"pop_{group}"] = out[f"pop_{group}"] + count * share * weight
    return out


def _shares(city: City, iv: Intervention, mask: np.ndarray) -> dict[str, float]:
    """Group shares of the moved or new residents: as given, else the area's current mix."""
    groups = _groups(city)
    given = iv.options.get("groups")
    if given is not None:
        if not groups:
            raise ScenarioError(
                "the base homes have no resident groups (pop_<group> columns); remove 'groups' "
                "or load the city with groups= (a CSV of shares per district)"
            )
        unknown = sorted(set(given) - set(groups))
        if unknown:
            raise ScenarioError(f"unknown group(s) {unknown}; the base has {', '.join(groups)}")
        return {g: float(given.get(g, 0.0)) for g in groups}
    if not groups:
        return {}
    counts = city.homes.loc[mask, [f"pop_{g}" for g in groups]].sum().to_numpy(dtype=float)
    total = counts.sum()
    mix = counts / total if total > 0 else np.full(len(groups), 1.0 / len(groups))
    return dict(zip(groups, mix, strict=True))


def _new_home(city: City, iv: Intervention, area: BaseGeometry) -> tuple[Any, np.ndarray]:
    """An area with no homes: one new home there (a new development), in its district."""
    from cohesion_gis.sources.population import assign_to_districts

    row = {"home_id": f"new/{iv.index}", "population": 0.0}
    row.update({f"pop_{g}": 0.0 for g in _groups(city)})
    home = gpd.GeoDataFrame({k: [v] for k, v in row.items()}, geometry=[area], crs=city.crs)
    home = assign_to_districts(home, city.districts)
    homes = _append(city.homes, home)
    mask = np.zeros(len(homes), dtype=bool)
    mask[-1] = True
    return replace(city, homes=homes), mask


def add_residents(city: City, iv: Intervention) -> City:
    """House ``count`` new residents in an area, over its homes in proportion to their residents.

    An area without homes gets one new home (its outline) holding them all.
    """
    area = {k: v for k, v in iv.options.items() if k in ("district", "geometry", "file")}
    if "district" not in area:
        area = {"shape": iv.shape}
    mask, shape, _ = _area_mask(city, area)
    shares = _shares(city, iv, mask)
    if not mask.any():
        city, mask = _new_home(city, iv, shape)
    homes = _add_people(city, city.homes, mask, float(iv.options["count"]), shares)
    return replace(city, homes=homes)


def move_residents(city: City, iv: Intervention) -> City:
    """Move ``count`` residents from one area to another (same group mix unless ``groups``)."""
    count = float(iv.options["count"])
    source, _, label = _area_mask(city, iv.options["from"])
    available = float(city.homes.loc[source, "population"].sum())
    if count > available + 1e-9:
        raise ScenarioError(
            f"cannot move {count:g} residents: only {available:.0f} live in {label}; lower 'count'"
        )
    shares = _shares(city, iv, source)
    homes = _add_people(city, city.homes, source, -count, shares)
    if (homes.filter(like="pop_").to_numpy() < -1e-9).any():
        raise ScenarioError(
            f"{label} has too few residents of some group for these shares; change 'groups'"
        )
    moved = replace(city, homes=homes)
    target, shape, _ = _area_mask(moved, iv.options["to"])
    if not target.any():
        moved, target = _new_home(moved, iv, shape)
    return replace(moved, homes=_add_people(moved, moved.homes, target, count, shares))


# --- sites ---------------------------------------------------------------------------------


def change_site_capacity(city: City, iv: Intervention) -> City:
    """Set the crowd capacity (persons) of sites, e.g. for an event day."""
    mask = _select(city, iv, "sites", "site_id", what="sites")
    sites = city.sites.copy()
    sites.loc[mask, "capacity_tag"] = float(iv.options["capacity_persons"])
    return replace(city, sites=sites)


#: Intervention type → the function applying it.
APPLY: dict[str, Callable[[City, Intervention], City]] = {
    "convert_land_use": convert_land_use,
    "add_contact_space": add_contact_space,
    "remove_contact_space": remove_contact_space,
    "add_barrier": add_barrier,
    "remove_barrier": remove_barrier,
    "pedestrianise": pedestrianise,
    "close_road": close_road,
    "chicane": chicane,
    "add_residents": add_residents,
    "move_residents": move_residents,
    "change_site_capacity": change_site_capacity,
}
