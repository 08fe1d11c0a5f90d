r"""Approach routes: the worst-case run-up to every entry of a site, per vehicle class.

Model (reference hvm.md §3, §8.3)
---------------------------------
A hostile vehicle may start **anywhere** on the hostile-vehicle network within
``search_horizon_m`` network metres of the site's entries, at ``start_speed_kmh`` (0: from rest),
and drive any route, ignoring oneway, access and turn rules. Along the route it accelerates at the
class's constant acceleration (corrected for gradient, :math:`a - g\sin\theta`, when edges carry
a ``grade``), never exceeds its top speed, and at every vertex of the route it is capped by the
bend speed :math:`\sqrt{a_{lat} R}` with :math:`a_{lat} = \min(\text{lat. limit}, \mu g)` and R the
widest-line radius (:func:`~cohesion_gis.hvm.kinematics.widest_line_radius_m`):

- at a junction (a node where three or more street pieces meet, or a dead end), R follows from the
  heading change between the incoming and outgoing edge and both widths;
- along a street, curves drawn as many small turns are merged into one bend over the whole chain of
  pieces between junctions (:func:`~cohesion_gis.hvm.kinematics.bend_radii_m`).

The entry points are where the network crosses the site perimeter; the impact point is the entry,
the impact speed is the speed of arrival there from outside the site.

Method: forward label-correcting search (exact for this model)
--------------------------------------------------------------
Arrival speed is not a shortest-path quantity, so the search is a Bellman-Ford-style
label-correcting pass over **directed edges** (node + incoming heading). The label of a directed
edge is the largest squared speed a vehicle can have at its end. Every directed edge in the
horizon starts with the label of a start from rest at its tail; a label is pushed through each
turn (capped at the turn's bend speed) and along the next edge. Traversing an edge maps an entry
speed to an exit speed by a composition of ``u → min(cap², max(0, u + 2 a Δs))`` steps in squared
speed u, which collapses to one clamp ``min(hi, max(lo, u + T))`` per directed edge and class: a
relaxation is O(1). All these maps are monotone, so keeping only the largest speed per state loses
nothing and the fixed point is the maximum over all routes (including loops around a block). It
terminates because labels only grow, by at least a tolerance, and are bounded by the top speed.
The speed needed to brake before a later bend does not limit the arrival speed (no braking is
needed at the impact point), so the forward labels are the exact attainable arrival speeds; the
reported per-vertex speeds come from the forward/backward profile pass along the found route
(:func:`~cohesion_gis.hvm.kinematics.speed_profile_kmh`), whose last value equals the label.

What is conservative (over-estimates speed): constant (not power-limited) acceleration; the widest
line is assumed realisable even where the legs before and after a bend are short; S-bends and
chicanes are separate bends; a bend split by a junction is two bends; barriers are met at the
forward (run-up) speed, without crediting braking needed for a later bend; a defeated barrier costs
no speed. What is not modelled: off-road legs across footways and squares from mount points,
power/drag limits, friction-circle coupling of braking and turning, U-turns (never needed for the
worst case from a free start), top-k alternative routes.

Barriers
--------
A barrier point within ``barrier_snap_m`` of a street, or a barrier line crossing it, closes the
street at that point. A **rated** barrier stops a vehicle iff
:func:`~cohesion_gis.hvm.rating.covers` its class at the vehicle's speed there (so a faster
vehicle defeats it); an **unrated** one (``rating`` None) stops every vehicle only when
``block_unrated=True``. ``blocked_by`` lists the barriers that stop the worst route of the
unprotected network; ``defeated`` the barriers the reported route passes through.

References
----------
Reference hvm.md §3 (kinematics), §8.3 (approach routes: "max-speed label-correcting search"),
§8.5 (rated vs unrated barriers); THREAT Pro methodology; NPSA VDA guidance.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numba import njit
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from cohesion_gis.errors import InputError
from cohesion_gis.hvm.kinematics import (
    G_MS2,
    bend_speed_kmh,
    graded_accel_ms2,
    group_bend_radii,
    kinetic_energy_kj,
    kmh_to_ms,
    ms_to_kmh,
    speed_profile_kmh,
    widest_radius,
)
from cohesion_gis.hvm.params import HvmParams, load_params
from cohesion_gis.hvm.rating import BarrierRating, covers, parse_rating
from cohesion_gis.hvm.vehicles import VehicleClass, load_vehicles

__all__ = ["APPROACH_COLUMNS", "approach_routes"]

log = logging.getLogger(__name__)

#: Columns of the table :func:`approach_routes` returns (plus ``geometry``).
APPROACH_COLUMNS = (
    "site_id",
    "vehicle_class",
    "entry_id",
    "entry_x",
    "entry_y",
    "run_up_m",
    "impact_speed_kmh",
    "impact_energy_kj",
    "impact_angle_deg",
    "speeds_kmh",
    "blocked_by",
    "defeated",
    "reason",
)
#: Cut points closer than this (m) to each other or to an edge end are the same point.
_MERGE_M = 0.5
#: Label improvements smaller than this (m²/s²) are ignored (termination of the search).
_EPS_U = 1e-6


@dataclass(frozen=True)
class _Network:
    """The network split at entries and barriers, as arrays (internal)."""

    n_nodes: int
    piece_a: np.ndarray  # int64 (P,)
    piece_b: np.ndarray
    piece_coords: list[np.ndarray]
    piece_width: np.ndarray  # float (P,)
    piece_grade: np.ndarray  # float (P,), rise over run from a to b
    piece_length: np.ndarray
    piece_mid: np.ndarray  # float (P, 2), midpoint along each piece
    vertex_radius: list[np.ndarray]  # per piece, radius at each vertex (ends: inf)
    node_radius: np.ndarray  # float (N,), NaN at junctions
    # directed edges d = 2p (a→b), 2p+1 (b→a)
    tail: np.ndarray
    head: np.ndarray
    h_start: np.ndarray
    h_end: np.ndarray
    out_ptr: np.ndarray
    out_idx: np.ndarray
    in_ptr: np.ndarray
    in_idx: np.ndarray
    node_barriers: dict[int, list[int]]
    graph: csr_matrix


def approach_routes(
    edges: gpd.GeoDataFrame,
    sites: gpd.GeoDataFrame,
    *,
    vehicles: Sequence[str | VehicleClass] | None = None,
    barriers: gpd.GeoDataFrame | None = None,
    params: HvmParams | None = None,
    block_unrated: bool | None = None,
) -> gpd.GeoDataFrame:
    """Worst-case approach route to every entry of every site, for each vehicle class.

    Parameters
    ----------
    edges
        Hostile-vehicle network: one row per undirected street segment with ``u``, ``v``,
        ``length_m``, ``width_m`` (carriageway width, m) and LineString geometry in a metric CRS;
        an optional ``grade`` column (rise over run from ``u`` to ``v``, e.g. from a DEM).
    sites
        Site polygons (the perimeter where crowds stand) in the same CRS, with a ``site_id``
        column (else the index is used).
    vehicles
        Vehicle classes (names of packaged classes or :class:`VehicleClass`); ``None``:
        ``params.default_vehicle_classes``.
    barriers
        Barrier points or lines in the same CRS with a ``rating`` column (a
        :class:`BarrierRating`, a rating string, or None/NaN for unrated) and optionally
        ``barrier_id`` (else the index).
    params
        HVM parameters; ``None``: the packaged defaults.
    block_unrated
        Whether unrated barriers stop vehicles; ``None``: ``params.block_unrated`` (False).

    Returns
    -------
    geopandas.GeoDataFrame
        One row per site × class × entry (:data:`APPROACH_COLUMNS`): the route (LineString from
        the start to the entry; None if no vehicle can arrive), ``run_up_m``,
        ``impact_speed_kmh``, ``impact_energy_kj`` (class test mass), ``impact_angle_deg``
        (90 = square to the perimeter), ``speeds_kmh`` (speed at every route vertex,
        space-separated), ``blocked_by`` and ``defeated`` (barrier ids, ``;``-separated) and
        ``reason`` (empty when a vehicle arrives). A site without entries, or whose entries no
        vehicle of the class can reach, has rows with speed 0 and the reason.

    Raises
    ------
    InputError
        Missing columns, missing or geographic CRS, CRS mismatch, invalid rating strings.
    """
    params = params or load_params()
    block_unrated = params.block_unrated if block_unrated is None else block_unrated
    classes = _vehicles(vehicles, params)
    _check_inputs(edges, sites, barriers)
    site_ids = sites["site_id"].to_numpy() if "site_id" in sites else sites.index.to_numpy()
    ratings, barrier_ids = _barrier_table(barriers)
    net, entries = _build_network(edges, sites, barriers, params)
    log.info(
        "approach search: %d sites, %d entries, %d street pieces, %d classes",
        len(sites), sum(len(e) for e in entries), net.piece_a.size, len(classes),
    )  # fmt: skip
    per_class = [
        _ClassArrays.build(net, vehicle, params, ratings, block_unrated) for vehicle in classes
    ]
    barrier_info = (ratings, barrier_ids, block_unrated)
    rows: list[tuple[dict[str, object], object]] = []
    for site_id, polygon, site_entries in zip(site_ids, sites.geometry, entries, strict=True):
        if not site_entries:
            reason = "no street of the hostile-vehicle network meets the site"
            rows.extend((_empty_row(site_id, vehicle, reason), None) for vehicle in classes)
            continue
        area = _site_area(net, polygon, [n for n, _, _ in site_entries], params)
        for arrays in per_class:
            site = (site_id, polygon, site_entries)
            rows.extend(
                _site_rows(net, arrays, params, area=area, site=site, barriers=barrier_info)
            )
    table = pd.DataFrame([row for row, _ in rows], columns=list(APPROACH_COLUMNS))
    return gpd.GeoDataFrame(table, geometry=[geom for _, geom in rows], crs=edges.crs)


# --------------------------------------------------------------------------- inputs


def _vehicles(
    vehicles: Sequence[str | VehicleClass] | None, params: HvmParams
) -> list[VehicleClass]:
    names = params.default_vehicle_classes if vehicles is None else vehicles
    packaged = [v for v in names if isinstance(v, str)]
    table = load_vehicles(classes=packaged) if packaged else {}
    return [table[v] if isinstance(v, str) else v for v in names]


def _check_inputs(
    edges: gpd.GeoDataFrame, sites: gpd.GeoDataFrame, barriers: gpd.GeoDataFrame | None
) -> None:
    missing = [c for c in ("u", "v", "length_m", "width_m") if c not in edges.columns]
    if missing:
        raise InputError(
            f"edges: missing column(s) {missing}; the hostile-vehicle network needs u, v, "
            "length_m, width_m (see the City's vehicle network)."
        )
    layers = {"edges": edges, "sites": sites}
    if barriers is not None:
        layers["barriers"] = barriers
    for name, layer in layers.items():
        if layer.crs is None:
            raise InputError(f"{name}: has no CRS; set it with .set_crs().")
        if layer.crs.is_geographic:
            raise InputError(
                f"{name}: CRS {layer.crs.to_string()} is geographic (degrees); reproject to "
                "the study area's metric CRS with .to_crs()."
            )
        if layer.crs != edges.crs:
            raise InputError(
                f"{name}: CRS {layer.crs.to_string()} differs from the network's "
                f"{edges.crs.to_string()}; reproject with .to_crs(edges.crs)."
            )
    widths = edges["width_m"].to_numpy(float)
    if not np.all(np.isfinite(widths) & (widths > 0)):
        bad = edges.index[~(np.isfinite(widths) & (widths > 0))][:5].tolist()
        raise InputError(f"edges: width_m must be a positive number; bad rows {bad}.")
    if barriers is not None and "rating" not in barriers.columns:
        raise InputError(
            "barriers: missing column 'rating' (a rating string such as "
            "'V/7200[N2A]/48/90:2.5', or None for unrated barriers)."
        )


def _barrier_table(
    barriers: gpd.GeoDataFrame | None,
) -> tuple[list[BarrierRating | None], list[str]]:
    if barriers is None:
        return [], []
    ids = barriers["barrier_id"] if "barrier_id" in barriers else barriers.index.to_series()
    ratings: list[BarrierRating | None] = []
    for bid, value in zip(ids, barriers["rating"], strict=True):
        if isinstance(value, BarrierRating) or value is None:
            ratings.append(value)
        elif isinstance(value, float) and math.isnan(value):
            ratings.append(None)
        elif isinstance(value, str):
            try:
                ratings.append(parse_rating(value))
            except InputError as exc:
                raise InputError(f"barriers: barrier {bid!r}: {exc}") from exc
        else:
            raise InputError(
                f"barriers: barrier {bid!r}: rating {value!r} is neither a rating string, a "
                "BarrierRating nor None."
            )
    return ratings, [str(i) for i in ids]


# --------------------------------------------------------------------------- network


def _cut_points(
    edges: gpd.GeoDataFrame,
    sites: gpd.GeoDataFrame,
    barriers: gpd.GeoDataFrame | None,
    snap_m: float,
) -> tuple[list[tuple[int, float, int, int]], np.ndarray]:
    """Points where edges must be split: (edge row, distance along, site or -1, barrier or -1)."""
    lines = edges.geometry.to_numpy()
    tree = shapely.STRtree(lines)
    cuts: list[tuple[int, float, int, int]] = []
    boundaries = shapely.boundary(sites.geometry.to_numpy())
    site_idx, edge_idx = tree.query(boundaries, predicate="intersects")
    for s, e in zip(site_idx, edge_idx, strict=True):
        for point in _points(shapely.intersection(lines[e], boundaries[s])):
            cuts.append((int(e), float(shapely.line_locate_point(lines[e], point)), int(s), -1))
    if barriers is not None and len(barriers):
        geoms = barriers.geometry.to_numpy()
        is_point = shapely.get_type_id(geoms) == 0
        point_idx = np.flatnonzero(is_point)
        if point_idx.size:
            b_idx, e_idx = tree.query_nearest(
                geoms[point_idx], max_distance=snap_m, all_matches=False
            )
            for b, e in zip(point_idx[b_idx], e_idx, strict=True):
                dist = float(shapely.line_locate_point(lines[e], geoms[b]))
                cuts.append((int(e), dist, -1, int(b)))
        line_idx = np.flatnonzero(~is_point)
        b_idx, e_idx = tree.query(geoms[line_idx], predicate="intersects")
        for b, e in zip(line_idx[b_idx], e_idx, strict=True):
            for point in _points(shapely.intersection(lines[e], geoms[b]), lines_too=False):
                cuts.append((int(e), float(shapely.line_locate_point(lines[e], point)), -1, int(b)))
    return cuts, lines


def _points(geom: shapely.Geometry, *, lines_too: bool = True) -> list[shapely.Point]:
    """Point parts of an intersection (and ends of overlapping line parts if ``lines_too``)."""
    out = []
    for part in shapely.get_parts(geom):
        kind = shapely.get_type_id(part)
        if kind == 0:
            out.append(part)
        elif kind == 1 and lines_too:
            out.extend(shapely.points(shapely.get_coordinates(part)[[0, -1]]))
    return out


def _build_network(
    edges: gpd.GeoDataFrame,
    sites: gpd.GeoDataFrame,
    barriers: gpd.GeoDataFrame | None,
    params: HvmParams,
) -> tuple[_Network, list[list[tuple[int, float, float]]]]:
    cuts, lines = _cut_points(edges, sites, barriers, params.barrier_snap_m)
    node_codes, node_values = pd.factorize(pd.concat([edges["u"], edges["v"]], ignore_index=True))
    n_edges = len(edges)
    u_idx, v_idx = node_codes[:n_edges].astype(np.int64), node_codes[n_edges:].astype(np.int64)
    n_nodes = len(node_values)
    coords_flat, owner = shapely.get_coordinates(lines, return_index=True)
    starts = np.searchsorted(owner, np.arange(n_edges + 1))
    widths = edges["width_m"].to_numpy(float)
    grades = edges["grade"].to_numpy(float) if "grade" in edges else np.zeros(n_edges)
    by_edge: dict[int, list[tuple[float, int, int]]] = {}
    for e, dist, s, b in cuts:
        by_edge.setdefault(e, []).append((dist, s, b))

    piece_a: list[int] = []
    piece_b: list[int] = []
    piece_coords: list[np.ndarray] = []
    piece_parent: list[int] = []
    entries: list[dict[int, tuple[float, float]]] = [{} for _ in range(len(sites))]
    node_barriers: dict[int, list[int]] = {}
    for e in range(n_edges):
        xy = coords_flat[starts[e] : starts[e + 1]]
        if e not in by_edge:
            piece_a.append(int(u_idx[e]))
            piece_b.append(int(v_idx[e]))
            piece_coords.append(xy)
            piece_parent.append(e)
            continue
        seg = np.hypot(*np.diff(xy, axis=0).T)
        cum = np.concatenate([[0.0], np.cumsum(seg)])
        total = cum[-1]
        stops: list[tuple[float, int]] = []  # (distance, node)
        for dist, s, b in sorted(by_edge[e]):
            if dist <= _MERGE_M:
                node = int(u_idx[e])
            elif dist >= total - _MERGE_M:
                node = int(v_idx[e])
            elif stops and dist - stops[-1][0] <= _MERGE_M:
                node = stops[-1][1]
            else:
                node = n_nodes
                n_nodes += 1
                stops.append((dist, node))
            point = _interpolate(xy, cum, min(max(dist, 0.0), total))
            if s >= 0:
                entries[s].setdefault(node, (float(point[0]), float(point[1])))
            if b >= 0:
                node_barriers.setdefault(node, []).append(b)
        prev_node, prev_dist = int(u_idx[e]), 0.0
        for dist, node in [*stops, (total, int(v_idx[e]))]:
            piece_a.append(prev_node)
            piece_b.append(node)
            piece_coords.append(_substring(xy, cum, prev_dist, dist))
            piece_parent.append(e)
            prev_node, prev_dist = node, dist
    parent = np.asarray(piece_parent, dtype=np.int64)
    net = _assemble(
        n_nodes,
        np.asarray(piece_a, dtype=np.int64),
        np.asarray(piece_b, dtype=np.int64),
        piece_coords,
        piece_width=widths[parent],
        piece_grade=grades[parent],
        node_barriers=node_barriers,
        kerb_m=params.kerb_radius_m,
    )
    entry_lists = [sorted((n, x, y) for n, (x, y) in site.items()) for site in entries]
    return net, entry_lists


def _interpolate(xy: np.ndarray, cum: np.ndarray, dist: float) -> np.ndarray:
    i = int(np.clip(np.searchsorted(cum, dist, side="right") - 1, 0, len(xy) - 2))
    seg = cum[i + 1] - cum[i]
    t = 0.0 if seg == 0 else (dist - cum[i]) / seg
    return xy[i] + t * (xy[i + 1] - xy[i])


def _substring(xy: np.ndarray, cum: np.ndarray, start: float, end: float) -> np.ndarray:
    inner = xy[(cum > start) & (cum < end)]
    return np.vstack([_interpolate(xy, cum, start), inner, _interpolate(xy, cum, end)])


def _assemble(
    n_nodes: int,
    piece_a: np.ndarray,
    piece_b: np.ndarray,
    piece_coords: list[np.ndarray],
    *,
    piece_width: np.ndarray,
    piece_grade: np.ndarray,
    node_barriers: dict[int, list[int]],
    kerb_m: float,
) -> _Network:
    n_pieces = piece_a.size
    lengths = np.array([np.hypot(*np.diff(c, axis=0).T).sum() for c in piece_coords])
    first = np.array([c[1] - c[0] for c in piece_coords])
    last = np.array([c[-1] - c[-2] for c in piece_coords])
    head_ab = np.arctan2(first[:, 1], first[:, 0])
    tail_ab = np.arctan2(last[:, 1], last[:, 0])
    tail = np.empty(2 * n_pieces, np.int64)
    head = np.empty(2 * n_pieces, np.int64)
    tail[0::2], head[0::2] = piece_a, piece_b
    tail[1::2], head[1::2] = piece_b, piece_a
    h_start = np.empty(2 * n_pieces)
    h_end = np.empty(2 * n_pieces)
    h_start[0::2], h_end[0::2] = head_ab, tail_ab
    h_start[1::2], h_end[1::2] = tail_ab + math.pi, head_ab + math.pi
    out_order = np.argsort(tail, kind="stable")
    out_ptr = np.searchsorted(tail[out_order], np.arange(n_nodes + 1))
    in_order = np.argsort(head, kind="stable")
    in_ptr = np.searchsorted(head[in_order], np.arange(n_nodes + 1))
    vertex_radius, node_radius = _chain_radii(
        (piece_a, piece_b), piece_coords, n_nodes=n_nodes, piece_width=piece_width, kerb_m=kerb_m
    )
    graph = csr_matrix(
        (
            np.concatenate([lengths, lengths]) + 1e-9,
            (np.r_[piece_a, piece_b], np.r_[piece_b, piece_a]),
        ),
        shape=(n_nodes, n_nodes),
    )
    return _Network(
        n_nodes=n_nodes,
        piece_a=piece_a,
        piece_b=piece_b,
        piece_coords=piece_coords,
        piece_width=piece_width,
        piece_grade=piece_grade,
        piece_length=lengths,
        piece_mid=shapely.get_coordinates(
            shapely.line_interpolate_point(
                shapely.linestrings(
                    np.vstack(piece_coords),
                    indices=np.repeat(np.arange(n_pieces), [len(c) for c in piece_coords]),
                ),
                0.5,
                normalized=True,
            )
        ),
        vertex_radius=vertex_radius,
        node_radius=node_radius,
        tail=tail,
        head=head,
        h_start=h_start,
        h_end=h_end,
        out_ptr=out_ptr,
        out_idx=out_order.astype(np.int64),
        in_ptr=in_ptr,
        in_idx=in_order.astype(np.int64),
        node_barriers=node_barriers,
        graph=graph,
    )


def _chain_radii(
    ends: tuple[np.ndarray, np.ndarray],
    piece_coords: list[np.ndarray],
    *,
    n_nodes: int,
    piece_width: np.ndarray,
    kerb_m: float,
) -> tuple[list[np.ndarray], np.ndarray]:
    """Bend radii along chains of pieces between junctions (curves drawn across many pieces).

    Returns the radius at every vertex of every piece (ends ``inf``) and at every node inside a
    chain (degree 2; NaN at junctions and dead ends, where the turn decides).
    """
    piece_a, piece_b = ends
    degree = np.bincount(np.r_[piece_a, piece_b], minlength=n_nodes)
    incident: list[list[int]] = [[] for _ in range(n_nodes)]
    for p, (a, b) in enumerate(zip(piece_a.tolist(), piece_b.tolist(), strict=True)):
        incident[a].append(p)
        incident[b].append(p)
    vertex_radius: list[np.ndarray] = [np.full(len(c), np.inf) for c in piece_coords]
    node_radius = np.full(n_nodes, np.nan)
    visited = np.zeros(piece_a.size, bool)
    junctions = np.flatnonzero(degree != 2).tolist()
    for start in junctions + list(range(n_nodes)):  # then pure cycles
        for p0 in incident[start]:
            if visited[p0]:
                continue
            pieces: list[tuple[int, bool]] = []  # (piece, reversed)
            joints: list[int] = []
            node, p = start, p0
            while True:
                visited[p] = True
                rev = bool(piece_a[p] != node)
                pieces.append((p, rev))
                node = int(piece_a[p] if rev else piece_b[p])
                nxt = [q for q in incident[node] if not visited[q]]
                if degree[node] != 2 or node == start or not nxt:
                    break
                joints.append(node)
                p = nxt[0]
            _assign_chain(
                pieces, joints, piece_coords, piece_width=piece_width, kerb_m=kerb_m,
                out=(vertex_radius, node_radius),
            )  # fmt: skip
    return vertex_radius, node_radius


def _assign_chain(
    pieces: list[tuple[int, bool]],
    joints: list[int],
    piece_coords: list[np.ndarray],
    *,
    piece_width: np.ndarray,
    kerb_m: float,
    out: tuple[list[np.ndarray], np.ndarray],
) -> None:
    vertex_radius, node_radius = out
    parts = [piece_coords[p][::-1] if rev else piece_coords[p] for p, rev in pieces]
    xy = np.vstack([parts[0], *(part[1:] for part in parts[1:])])
    if len(xy) < 3:
        return
    seg_w = np.concatenate(
        [np.full(len(part) - 1, piece_width[p]) for part, (p, _) in zip(parts, pieces, strict=True)]
    )
    d = np.diff(xy, axis=0)
    seg_len = np.hypot(d[:, 0], d[:, 1])
    dist = np.concatenate([[0.0], np.cumsum(seg_len)])
    heading = np.arctan2(d[:, 1], d[:, 0])
    turn = np.zeros(len(xy))
    turn[1:-1] = np.angle(np.exp(1j * (heading[1:] - heading[:-1])))
    turn[1:-1][(seg_len[1:] == 0) | (seg_len[:-1] == 0)] = 0.0
    vertex_w = np.concatenate([[seg_w[0]], np.minimum(seg_w[:-1], seg_w[1:]), [seg_w[-1]]])
    radius = group_bend_radii(dist, turn, vertex_w, kerb_m)
    offset = 0
    for k, (part, (p, rev)) in enumerate(zip(parts, pieces, strict=True)):
        r = radius[offset : offset + len(part)].copy()
        r[0] = r[-1] = np.inf
        vertex_radius[p] = r[::-1] if rev else r
        offset += len(part) - 1
        if k < len(joints):
            node_radius[joints[k]] = radius[offset]


# --------------------------------------------------------------------------- per class


@dataclass(frozen=True)
class _ClassArrays:
    """Per-class edge maps, limits and barrier thresholds (internal)."""

    vehicle: VehicleClass
    width_ok: np.ndarray  # bool (D,)
    shift: np.ndarray  # T (D,): u_end = min(hi, max(lo, u_start + T))
    low: np.ndarray
    high: np.ndarray
    lat_ms2: float
    accel_ms2: float
    braking_ms2: float
    start_u: float
    threshold: np.ndarray  # float (N,): stopped at node if u <= threshold; -1 none

    @classmethod
    def build(
        cls,
        net: _Network,
        vehicle: VehicleClass,
        params: HvmParams,
        ratings: list[BarrierRating | None],
        block_unrated: bool,
    ) -> _ClassArrays:
        lat = vehicle.lateral_limit_ms2(params.friction_mu)
        top2 = float(kmh_to_ms(vehicle.top_speed_kmh)) ** 2
        vptr = np.cumsum([0, *(len(c) for c in net.piece_coords)])
        seg_len = np.concatenate(
            [np.r_[np.hypot(*np.diff(c, axis=0).T), 0.0] for c in net.piece_coords]
        )
        radius = np.concatenate(net.vertex_radius)
        shift, low, high = _edge_maps(
            vptr, seg_len, radius, net.piece_grade, vehicle.accel_ms2, lat, top2
        )
        wide = net.piece_width >= vehicle.width_m + params.width_clearance_m
        threshold = np.full(net.n_nodes, -1.0)
        for node, barrier_list in net.node_barriers.items():
            for b in barrier_list:
                rating = ratings[b]
                if rating is None:
                    if block_unrated:
                        threshold[node] = np.inf
                elif covers(rating, vehicle, rating.speed_kmh, equivalence=params.equivalence):
                    u = float(kmh_to_ms(rating.speed_kmh)) ** 2
                    threshold[node] = max(threshold[node], u)
        return cls(
            vehicle=vehicle,
            width_ok=np.repeat(wide, 2),
            shift=shift,
            low=low,
            high=high,
            lat_ms2=lat,
            accel_ms2=vehicle.accel_ms2,
            braking_ms2=vehicle.braking_limit_ms2(params.friction_mu),
            start_u=float(kmh_to_ms(min(params.start_speed_kmh, vehicle.top_speed_kmh))) ** 2,
            threshold=threshold,
        )


@njit(cache=True)
def _edge_maps(  # noqa: PLR0917 (numba has no keyword-only arguments)
    vptr: np.ndarray,
    seg_len: np.ndarray,
    radius: np.ndarray,
    grade: np.ndarray,
    accel: float,
    lat: float,
    top2: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # pragma: no cover - numba
    """Clamp map of every directed edge: u_end = min(hi, max(lo, u_start + T)) in (m/s)²."""
    n_pieces = vptr.size - 1
    shift = np.empty(2 * n_pieces)
    low = np.empty(2 * n_pieces)
    high = np.empty(2 * n_pieces)
    for p in range(n_pieces):
        s0 = vptr[p]
        nv = vptr[p + 1] - s0
        for direction in range(2):
            g = grade[p] if direction == 0 else -grade[p]
            a = accel - G_MS2 * math.sin(math.atan(g))
            t = 0.0
            lo = -np.inf
            hi = np.inf
            for k in range(nv - 1):
                if direction == 0:
                    length = seg_len[s0 + k]
                    r = radius[s0 + k + 1]
                else:
                    length = seg_len[s0 + nv - 2 - k]
                    r = radius[s0 + nv - 2 - k]
                step = 2.0 * a * length
                cap = min(top2, lat * r)
                t += step
                lo = min(cap, max(0.0, lo + step))
                hi = min(cap, max(0.0, hi + step))
            shift[2 * p + direction] = t
            low[2 * p + direction] = lo
            high[2 * p + direction] = hi
    return shift, low, high


@njit(cache=True)
def _junction_radius(  # noqa: PLR0917 (numba has no keyword-only arguments)
    d: int,
    d2: int,
    node: int,
    node_radius: np.ndarray,
    h_end: np.ndarray,
    h_start: np.ndarray,
    width: np.ndarray,
    kerb: float,
) -> float:  # pragma: no cover - numba
    r = node_radius[node]
    if not math.isnan(r):
        return r
    turn = h_start[d2] - h_end[d]
    turn = math.atan2(math.sin(turn), math.cos(turn))
    return widest_radius(turn, width[d >> 1], width[d2 >> 1], kerb)


@njit(cache=True)
def _search(  # noqa: PLR0917 (numba has no keyword-only arguments)
    ball_nodes: np.ndarray,
    active_node: np.ndarray,
    active_edge: np.ndarray,
    out_ptr: np.ndarray,
    out_idx: np.ndarray,
    head: np.ndarray,
    maps: tuple[np.ndarray, np.ndarray, np.ndarray],
    geometry: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    kerb: float,
    lat: float,
    threshold: np.ndarray,
    start_u: float,
) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover - numba
    """Label-correcting max-speed search over directed edges (see the module docstring)."""
    shift, low, high = maps
    node_radius, h_end, h_start, width = geometry
    n_dir = head.size
    label = np.full(n_dir, -1.0)
    pred = np.full(n_dir, -2, np.int64)
    queue = np.empty(n_dir, np.int64)
    queued = np.zeros(n_dir, np.bool_)
    first = 0
    count = 0
    for n in ball_nodes:
        for k in range(out_ptr[n], out_ptr[n + 1]):
            d = out_idx[k]
            if not (active_edge[d] and active_node[head[d]]):
                continue
            label[d] = min(high[d], max(low[d], start_u + shift[d]))
            pred[d] = -1
            queue[(first + count) % n_dir] = d
            queued[d] = True
            count += 1
    while count > 0:
        d = queue[first]
        first = (first + 1) % n_dir
        count -= 1
        queued[d] = False
        node = head[d]
        u = label[d]
        for k in range(out_ptr[node], out_ptr[node + 1]):
            d2 = out_idx[k]
            if d2 == (d ^ 1) or not (active_edge[d2] and active_node[head[d2]]):
                continue
            r = _junction_radius(d, d2, node, node_radius, h_end, h_start, width, kerb)
            ut = min(u, lat * r)
            if ut <= threshold[node]:
                continue
            cand = min(high[d2], max(low[d2], ut + shift[d2]))
            if cand > label[d2] + 1e-6:
                label[d2] = cand
                pred[d2] = d
                if not queued[d2]:
                    queue[(first + count) % n_dir] = d2
                    queued[d2] = True
                    count += 1
    return label, pred


# --------------------------------------------------------------------------- per site


def _site_area(
    net: _Network, polygon: shapely.Geometry, entry_nodes: list[int], params: HvmParams
) -> tuple[np.ndarray, np.ndarray]:
    """Nodes within the search horizon of the entries, and street pieces inside the site."""
    dist = dijkstra(net.graph, indices=entry_nodes, min_only=True, limit=params.search_horizon_m)
    in_ball = np.isfinite(dist)
    pieces = np.flatnonzero(in_ball[net.piece_a] & in_ball[net.piece_b])
    inside = np.zeros(net.piece_a.size, bool)
    mids = net.piece_mid[pieces]
    inside[pieces] = shapely.contains_xy(polygon, mids[:, 0], mids[:, 1])
    return in_ball, inside


def _site_rows(
    net: _Network,
    arrays: _ClassArrays,
    params: HvmParams,
    *,
    area: tuple[np.ndarray, np.ndarray],
    site: tuple[object, shapely.Geometry, list[tuple[int, float, float]]],
    barriers: tuple[list[BarrierRating | None], list[str], bool],
) -> list[tuple[dict[str, object], object]]:
    """Rows of one site for one class: search once, then read every entry."""
    in_ball, inside = area
    site_id, polygon, entries = site
    active_edge = arrays.width_ok & ~np.repeat(inside, 2)
    ball_nodes = np.flatnonzero(in_ball)
    geometry = (net.node_radius, net.h_end, net.h_start, net.piece_width)
    maps = (arrays.shift, arrays.low, arrays.high)

    def search(threshold: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return _search(
            ball_nodes, in_ball, active_edge, net.out_ptr, net.out_idx, net.head, maps,
            geometry, params.kerb_radius_m, arrays.lat_ms2, threshold, arrays.start_u,
        )  # fmt: skip

    label, pred = search(arrays.threshold)
    free = None
    if np.any(arrays.threshold[ball_nodes] >= 0):
        free = search(np.full(net.n_nodes, -1.0))
    rows: list[tuple[dict[str, object], object]] = []
    for k, (node, x, y) in enumerate(entries):
        incoming = net.in_idx[net.in_ptr[node] : net.in_ptr[node + 1]]
        if inside[incoming >> 1].all():
            continue  # a street end on the perimeter with the street inside: not an entry
        row: dict[str, object] = {
            "site_id": site_id,
            "vehicle_class": arrays.vehicle.name,
            "entry_id": f"{site_id}:{k}",
            "entry_x": x,
            "entry_y": y,
            "run_up_m": 0.0,
            "impact_speed_kmh": 0.0,
            "impact_energy_kj": 0.0,
            "impact_angle_deg": np.nan,
            "speeds_kmh": "",
            "blocked_by": "",
            "defeated": "",
            "reason": "",
        }
        open_in = incoming[active_edge[incoming] & in_ball[net.tail[incoming]]]
        arrived = open_in[label[open_in] > max(arrays.threshold[node], -0.5)]
        blocked: list[str] = []
        if free is not None:
            blocked = _blocked_by(
                net, arrays, params, free=free, open_in=open_in, barriers=barriers
            )
            row["blocked_by"] = ";".join(blocked)
        if arrived.size == 0:
            row["reason"] = _no_route_reason(arrays, incoming, open_in, blocked)
            rows.append((row, None))
            continue
        best = int(arrived[np.argmax(label[arrived])])
        route = _route(net, arrays, params, pred, best)
        speeds = route.speeds_kmh
        if abs(float(ms_to_kmh(math.sqrt(label[best]))) - speeds[-1]) > 0.01:
            log.warning("site %s entry %s: route profile differs from the search label", site_id, k)
        heading = np.arctan2(*(route.xy[-1] - route.xy[-2])[::-1])
        row.update(
            run_up_m=float(route.distance_m[-1]),
            impact_speed_kmh=float(speeds[-1]),
            impact_energy_kj=float(kinetic_energy_kj(arrays.vehicle.test_mass_kg, speeds[-1])),
            impact_angle_deg=_impact_angle(polygon, x, y, heading),
            speeds_kmh=" ".join(f"{v:.1f}" for v in speeds),
            defeated=";".join(
                barriers[1][b] for n in route.nodes for b in net.node_barriers.get(n, [])
            ),
        )
        rows.append((row, shapely.LineString(route.xy)))
    if not rows:
        reason = "no street of the hostile-vehicle network enters the site from outside"
        rows.append((_empty_row(site_id, arrays.vehicle, reason), None))
    return rows


@dataclass(frozen=True)
class _Route:
    """A reconstructed route and its speed profile (internal)."""

    xy: np.ndarray
    distance_m: np.ndarray
    speeds_kmh: np.ndarray
    forward_kmh: np.ndarray  # run-up speeds without braking for later bends
    nodes: list[int]  # nodes passed (junctions and the entry)
    node_vertex: list[int]  # vertex index of each of those nodes


def _route(
    net: _Network, arrays: _ClassArrays, params: HvmParams, pred: np.ndarray, best: int
) -> _Route:
    path: list[int] = []
    seen: set[int] = set()
    d = best
    while d >= 0 and d not in seen:
        seen.add(d)
        path.append(d)
        d = int(pred[d])
    if d >= 0:
        log.warning("route to edge %d loops; reporting the route from the loop onwards", best)
    path.reverse()
    xy: list[np.ndarray] = []
    radius: list[float] = []
    grade: list[float] = []
    nodes: list[int] = []
    node_vertex: list[int] = []
    for i, d in enumerate(path):
        p, rev = d >> 1, bool(d & 1)
        coords = net.piece_coords[p][::-1] if rev else net.piece_coords[p]
        r = net.vertex_radius[p][::-1] if rev else net.vertex_radius[p]
        if i == 0:
            xy.append(coords)
            radius.extend(r.tolist())
        else:
            radius[-1] = _junction_radius(
                path[i - 1], d, int(net.tail[d]), net.node_radius, net.h_end, net.h_start,
                net.piece_width, params.kerb_radius_m,
            )  # fmt: skip
            xy.append(coords[1:])
            radius.extend(r[1:].tolist())
        grade.extend([-net.piece_grade[p] if rev else net.piece_grade[p]] * (len(coords) - 1))
        nodes.append(int(net.head[d]))
        node_vertex.append(len(radius) - 1)
    points = np.vstack(xy)
    dist = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(points, axis=0).T))])
    caps = bend_speed_kmh(np.asarray(radius), arrays.lat_ms2)
    accel = graded_accel_ms2(arrays.accel_ms2, np.asarray(grade))
    profile = {
        "start_speed_kmh": min(params.start_speed_kmh, arrays.vehicle.top_speed_kmh),
        "top_speed_kmh": arrays.vehicle.top_speed_kmh,
    }
    speeds = speed_profile_kmh(dist, caps, accel, arrays.braking_ms2, **profile)
    forward = speed_profile_kmh(dist, caps, accel, 1e12, **profile)
    return _Route(points, dist, speeds, forward, nodes, node_vertex)


def _blocked_by(
    net: _Network,
    arrays: _ClassArrays,
    params: HvmParams,
    *,
    free: tuple[np.ndarray, np.ndarray],
    open_in: np.ndarray,
    barriers: tuple[list[BarrierRating | None], list[str], bool],
) -> list[str]:
    """Barriers that stop the worst route of the network without barriers, for one entry."""
    ratings, ids, block_unrated = barriers
    label, pred = free
    reached = open_in[label[open_in] >= 0]
    if reached.size == 0:
        return []
    route = _route(net, arrays, params, pred, int(reached[np.argmax(label[reached])]))
    out = []
    for node, vertex in zip(route.nodes, route.node_vertex, strict=True):
        speed = float(route.forward_kmh[vertex])
        for b in net.node_barriers.get(node, []):
            rating = ratings[b]
            if rating is None:
                stops = block_unrated
            else:
                stops = covers(rating, arrays.vehicle, speed, equivalence=params.equivalence)
            if stops:
                out.append(ids[b])
    return out


def _no_route_reason(
    arrays: _ClassArrays, incoming: np.ndarray, open_in: np.ndarray, blocked: list[str]
) -> str:
    vehicle = arrays.vehicle
    if open_in.size:
        names = f" ({', '.join(blocked)})" if blocked else ""
        return f"every approach is stopped by barriers{names}"
    if incoming.size and not arrays.width_ok[incoming].any():
        return f"the streets at this entry are too narrow for {vehicle.name} ({vehicle.width_m} m)"
    return "no street outside the site leads to this entry"


def _impact_angle(polygon: shapely.Geometry, x: float, y: float, heading: float) -> float:
    """Angle (degrees) between the travel direction and the perimeter (90: square on)."""
    boundary = shapely.boundary(polygon)
    at = shapely.line_locate_point(boundary, shapely.Point(x, y))
    a, b = shapely.line_interpolate_point(boundary, [max(at - 0.5, 0.0), at + 0.5])
    tangent = math.atan2(b.y - a.y, b.x - a.x)
    return float(np.degrees(math.asin(min(abs(math.sin(heading - tangent)), 1.0))))


def _empty_row(site_id: object, vehicle: VehicleClass, reason: str) -> dict[str, object]:
    return {
        "site_id": site_id,
        "vehicle_class": vehicle.name,
        "entry_id": None,
        "entry_x": np.nan,
        "entry_y": np.nan,
        "run_up_m": 0.0,
        "impact_speed_kmh": 0.0,
        "impact_energy_kj": 0.0,
        "impact_angle_deg": np.nan,
        "speeds_kmh": "",
        "blocked_by": "",
        "defeated": "",
        "reason": reason,
    }
