r"""Approach routes: the worst-case run-up to every entry of a site, per vehicle class.

Model (reference hvm.md §3, §8.3)
---------------------------------
A hostile vehicle comes from the public road network: it may start at any node of the
hostile-vehicle network within ``search_horizon_m`` network metres of the site's entries that it
can reach from outside without meeting a barrier that stops it (not inside a closed ring of rated
barriers; see :func:`_start_nodes`), at ``start_speed_kmh`` (0: from rest), and drive any route,
ignoring oneway, access and turn rules. Beyond a barrier it gets only by arriving faster than
the barrier's rating (the route search decides); a vehicle already inside a secured area (an
insider, a tailgater) is an access-control question, not modelled. Along the route it
accelerates (power-limited or constant acceleration; corrected for gradient,
:math:`a - g\sin\theta`, when edges carry a ``grade``), never exceeds its top speed, and at
every vertex of the route it is capped by the bend speed :math:`\sqrt{a_{lat} R}` with
:math:`a_{lat} = \min(\text{lat. limit}, \mu g)` and R the widest-line radius
(:func:`~cohesion_gis.hvm.kinematics.widest_line_radius_m`):

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
chicanes are separate bends; a bend split by three or more junctions is read three chains at a
time; barriers are met at the forward (run-up) speed, without crediting braking needed for a
later bend; a defeated barrier costs no speed. What is not modelled: off-road legs across
footways and squares from mount points (the straight-on over-run from a street's end is an edge
the assessment adds, :mod:`cohesion_gis.hvm.overrun`), power/drag limits, friction-circle
coupling of braking and turning, U-turns (never needed for the worst case from a free start),
top-k alternative routes.

Barriers
--------
Barriers close a street where they leave no gap as wide as the narrowest vehicle across its whole
drivable cross-section, carriageway and footways to the façades
(:func:`~cohesion_gis.hvm.barriers.street_closures`). A **rated** barrier stops a vehicle iff
:func:`~cohesion_gis.hvm.rating.covers` its class at the vehicle's speed there (so a faster
vehicle defeats it); an **unrated** one (``rating`` None) stops every vehicle only when
``params.block_unrated``. ``blocked_by`` lists the barriers that stop the worst route of the
unprotected network; ``defeated`` the barriers the reported route passes through.

References
----------
Reference hvm.md §3 (kinematics), §8.3 (approach routes: "max-speed label-correcting search"),
§8.5 (rated vs unrated barriers); THREAT Pro methodology; NPSA VDA guidance.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

import cohesion_gis.hvm._routes_kernel as kernel
from cohesion_gis._validate import metric_crs
from cohesion_gis.errors import InputError
from cohesion_gis.hvm.barriers import street_closures
from cohesion_gis.hvm.kinematics import kinetic_energy_kj, kmh_to_ms, traction_model
from cohesion_gis.hvm.params import HvmParams
from cohesion_gis.hvm.rating import BarrierRating, covers, credited_speed_kmh, parse_rating
from cohesion_gis.hvm.vehicles import VehicleClass, Vehicles
from cohesion_gis.network import (
    Csr,
    EdgeIndex,
    components,
    csr_from_edges,
    csr_from_pairs,
    nearest_edges,
    queue_shape,
)
from cohesion_gis.params import load_params

__all__ = [
    "APPROACH_COLUMNS",
    "EDGE_M",
    "LEG_COLUMN",
    "ApproachNetwork",
    "approach_network",
    "approach_routes",
    "underground",
    "vehicle_graph",
]

log = logging.getLogger(__name__)

#: Columns of the table :func:`approach_routes` returns (plus ``geometry``).
APPROACH_COLUMNS = (
    "site_id",
    "vehicle_class",
    "entry_id",
    "entry_x",
    "entry_y",
    "entry_kind",
    "overrun_m",
    "run_up_m",
    "impact_speed_kmh",
    "impact_energy_kj",
    "speeds_kmh",
    "blocked_by",
    "defeated",
    "reason",
)
#: Edge column marking straight-on over-run legs (:mod:`cohesion_gis.hvm.overrun`): their
#: entries read ``entry_kind`` "overrun".
LEG_COLUMN = "overrun"
#: A node within this distance (m) of the study area's edge is a street continuing outside.
EDGE_M = 2.0
#: Cut points closer than this (m) to each other or to an edge end are the same point.
_MERGE_M = 0.5
#: Reasons for rows without an arriving vehicle, by kernel status.
_SITE_REASONS = {
    kernel.ROW_NO_STREET: "no street of the hostile-vehicle network meets the site",
    kernel.ROW_NO_ENTRY: "no street of the hostile-vehicle network enters the site from outside",
}


@dataclass(frozen=True)
class _Network:
    """The network split at entries and barriers, as flat arrays (internal).

    Piece ``p`` runs from node ``piece_a[p]`` to ``piece_b[p]`` through the vertices
    ``vxy[vptr[p]:vptr[p + 1]]``; directed edge ``2p`` is a→b, ``2p + 1`` is b→a.
    """

    n_nodes: int
    piece_a: np.ndarray  # int64 (P,)
    piece_b: np.ndarray
    piece_parent: np.ndarray  # int64 (P,), row of the input edge
    vptr: np.ndarray  # int64 (P + 1,)
    vxy: np.ndarray  # float (V, 2)
    seg_len: np.ndarray  # float (V,), length of the segment from each vertex (0 at piece ends)
    piece_width: np.ndarray  # float (P,)
    piece_grade: np.ndarray  # float (P,), rise over run from a to b
    piece_len: np.ndarray  # float (P,), length (m)
    vertex_radius: np.ndarray  # float (V,), bend radius at each vertex (piece ends: inf)
    node_radius: np.ndarray  # float (N,), NaN at junctions
    tail: np.ndarray  # int64 (D,)
    head: np.ndarray
    h_start: np.ndarray
    h_end: np.ndarray
    out_ptr: np.ndarray
    out_idx: np.ndarray
    in_ptr: np.ndarray
    in_idx: np.ndarray
    node_barriers: dict[int, list[int]]
    graph: Csr


@dataclass(frozen=True)
class _Entries:
    """Entry points of every site, flat (internal): site ``s`` has rows ``ptr[s]:ptr[s + 1]``."""

    ptr: np.ndarray
    node: np.ndarray
    x: np.ndarray
    y: np.ndarray
    overrun_m: np.ndarray  # along the over-run leg from the street's end (NaN: on a street)


def approach_routes(
    edges: gpd.GeoDataFrame,
    sites: gpd.GeoDataFrame,
    *,
    vehicles: Sequence[str | VehicleClass] | None = None,
    barriers: gpd.GeoDataFrame | None = None,
    params: HvmParams | None = None,
    boundary: shapely.Geometry | None = None,
    obstacles: gpd.GeoDataFrame | None = None,
    graph: Csr | None = None,
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
        HVM parameters (``block_unrated``: whether unrated barriers stop vehicles); ``None``:
        the packaged defaults.
    boundary
        The study area (polygon, same CRS). A street within :data:`EDGE_M` of its edge
        continues outside it, so the part of the network it belongs to is public road reached
        from outside (see *Where a vehicle can start*). ``None``: only the largest part of each
        connected network counts as outside.
    obstacles
        What bounds the hard-standing beside the streets (building façades, level changes,
        water: :func:`~cohesion_gis.hvm.barriers.vehicle_obstacles`), same CRS: a barrier line
        closes a street only across its whole drivable cross-section, kerbs and footways to
        these (:func:`~cohesion_gis.hvm.barriers.street_closures`). ``None``: a footway of
        ``params.footway_width_m`` beside every street.
    graph
        The vehicle graph the edges belong to (``City.drive_csr``): the approach network keeps
        its node numbering and numbers the nodes it adds (entries, barriers) after them.
        ``None``: the graph of the edges (:func:`vehicle_graph`). Results do not depend on it.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per site × class × entry (:data:`APPROACH_COLUMNS`): the route (LineString from
        the start to the entry; None if no vehicle can arrive), ``run_up_m``,
        ``impact_speed_kmh``, ``impact_energy_kj`` (class test mass), ``speeds_kmh`` (speed
        at every route vertex,
        space-separated), ``blocked_by`` and ``defeated`` (barrier ids, ``;``-separated) and
        ``reason`` (empty when a vehicle arrives). A site without entries, or whose entries no
        vehicle of the class can reach, has rows with speed 0 and the reason.

    Raises
    ------
    InputError
        Missing columns, a CRS not projected in metres, CRS mismatch, invalid rating strings.
    """
    return approach_network(
        edges, sites, vehicles=vehicles, barriers=barriers, params=params, boundary=boundary,
        obstacles=obstacles, graph=graph,
    ).routes()  # fmt: skip


@dataclass(frozen=True, eq=False)
class ApproachNetwork:
    """The network :func:`approach_routes` searches, built once (:func:`approach_network`).

    The edges split at every site's entries and at every barrier, with the per-class arrays
    (edge maps, chains of pieces, barrier thresholds, start nodes). :meth:`routes` searches all
    sites or some: a site's rows do not depend on which other sites are searched with it (the
    split and the chain ends still include every site's entries), so ``routes(some)`` equals
    the rows of those sites in ``routes()``.
    """

    net: _Network
    entries: _Entries
    inside: tuple[np.ndarray, np.ndarray]
    kernel_network: tuple[np.ndarray, ...]
    kernel_classes: tuple[np.ndarray, ...]
    site_ids: np.ndarray
    classes: list[VehicleClass]
    params: HvmParams
    barriers: tuple[list[BarrierRating | None], list[str], bool]
    crs: object

    @property
    def no_start_xy(self) -> list[np.ndarray]:
        """Per class, the nodes (x, y in m, shape (k, 2)) where no vehicle of the class starts.

        Closed nodes (a barrier stopping the class at low speed) and nodes inside a closed ring
        of them (see *Where a vehicle can start*); empty where no barrier stops the class.
        """
        xy = _node_xy(self.net)
        return [xy[~ok] for ok in self.kernel_classes[-1]]

    def routes(self, sites: np.ndarray | None = None) -> gpd.GeoDataFrame:
        """The approach table (as :func:`approach_routes`) of the sites at positions ``sites``.

        Parameters
        ----------
        sites
            Sorted positions (int) of the sites to search, in the order of the ``sites`` table
            the network was built with; ``None``: every site.
        """
        entries, inside = self.entries, self.inside
        site_ids = self.site_ids
        if sites is not None:
            entries, inside = _subset(self.entries, self.inside, sites)
            site_ids = site_ids[sites]
        graph = self.net.graph
        arrays = (graph.indptr, graph.indices.astype(np.int64), graph.weights_m)
        out = _run_chunks(
            self.kernel_network,
            (*arrays, *queue_shape(arrays, self.params.search_horizon_m)),
            (entries.ptr, entries.node, *inside),
            self.kernel_classes,
            self.params.search_horizon_m,
        )
        return _table(
            out,
            self.net,
            sites=(site_ids, entries),
            classes=self.classes,
            params=self.params,
            barriers=self.barriers,
            crs=self.crs,
        )


def approach_network(
    edges: gpd.GeoDataFrame,
    sites: gpd.GeoDataFrame,
    *,
    vehicles: Sequence[str | VehicleClass] | None = None,
    barriers: gpd.GeoDataFrame | None = None,
    params: HvmParams | None = None,
    boundary: shapely.Geometry | None = None,
    obstacles: gpd.GeoDataFrame | None = None,
    graph: Csr | None = None,
) -> ApproachNetwork:
    """The split network and per-class arrays of :func:`approach_routes`, not yet searched.

    Takes the arguments of :func:`approach_routes`; ``approach_network(...).routes()`` is
    ``approach_routes(...)``.

    Raises
    ------
    InputError
        Missing columns, a CRS not projected in metres, CRS mismatch, invalid rating strings.
    """
    params = params or load_params(HvmParams)
    block_unrated = params.block_unrated
    classes = _vehicles(vehicles, params)
    _check_inputs(edges, sites, barriers)
    site_ids = sites["site_id"].to_numpy() if "site_id" in sites else sites.index.to_numpy()
    ratings, barrier_ids = _barrier_table(barriers)  # every rating validated
    if barriers is not None:  # barriers as built: where they close a street façade to façade
        as_given = barriers.assign(barrier_id=barrier_ids, rating=ratings)
        barriers = street_closures(
            as_given, edges, vehicle_width_m=min(v.width_m for v in classes),
            snap_m=params.barrier_snap_m, footway_width_m=params.footway_width_m,
            reach_m=params.closure_reach_m, obstacles=obstacles,
        )  # fmt: skip
        ratings, barrier_ids = _barrier_table(barriers)
    graph = vehicle_graph(edges) if graph is None else graph
    net, entries, inside = _build_network(edges, graph, sites, barriers, params)
    log.info(
        "approach search: %d sites, %d entries, %d street pieces, %d classes",
        len(sites), entries.node.size, net.piece_a.size, len(classes),
    )  # fmt: skip
    turns = (net.node_radius, net.h_end, net.h_start, net.piece_width, net.vptr, net.vxy,
             net.tail, net.head, net.in_ptr, net.in_idx, net.out_ptr, net.out_idx)  # fmt: skip
    has_barrier = np.isin(np.arange(net.n_nodes), list(net.node_barriers))
    # chains of pieces end at junctions, dead ends, barriers, entries and self-loops
    stop = (np.diff(net.out_ptr) != 2) | has_barrier
    stop[entries.node] = True
    stop[net.piece_a[net.piece_a == net.piece_b]] = True
    turn_ptr, turn_radius, widest, *exits = kernel.turn_radii(
        net.head, net.out_ptr, net.out_idx, turns, params.kerb_radius_m, stop
    )
    exits += kernel.split_bend_radii(
        turns, net.piece_len, stop, turn_ptr, turn_radius, params.kerb_radius_m
    )
    directed = (net.out_ptr, net.out_idx, net.head, net.tail, net.piece_len, turn_ptr,
                turn_radius, widest, net.in_ptr, net.in_idx, stop, *exits)  # fmt: skip
    # an over-run leg is driven only from its street towards the crowd (b → a never)
    legs = edges[LEG_COLUMN].to_numpy(bool) if LEG_COLUMN in edges else np.zeros(len(edges), bool)
    per_class = _class_arrays(
        net, directed, classes, params, ratings, block_unrated, one_way=legs[net.piece_parent]
    )
    start_ok = _start_nodes(net, per_class[5], _edge_nodes(net, boundary))
    kernel_network = (
        net.tail, net.head, net.h_start, net.h_end, net.out_ptr, net.out_idx, net.in_ptr,
        net.in_idx, net.node_radius, net.piece_a, net.piece_b, net.piece_width, net.piece_grade,
        net.piece_len, net.vptr, net.vxy, net.seg_len, net.vertex_radius, has_barrier, turn_ptr,
        turn_radius, widest, stop, *exits,
    )  # fmt: skip
    return ApproachNetwork(
        net=net,
        entries=entries,
        inside=inside,
        kernel_network=kernel_network,
        kernel_classes=(*per_class, start_ok),
        site_ids=site_ids,
        classes=classes,
        params=params,
        barriers=(ratings, barrier_ids, block_unrated),
        crs=edges.crs,
    )


def _subset(
    entries: _Entries, inside: tuple[np.ndarray, np.ndarray], sites: np.ndarray
) -> tuple[_Entries, tuple[np.ndarray, np.ndarray]]:
    """The entries and inner pieces (CSR by site) of the sites at positions ``sites`` only."""
    ptr, rows = _csr_rows(entries.ptr, sites)
    inside_ptr, inside_rows = _csr_rows(inside[0], sites)
    subset = _Entries(
        ptr, entries.node[rows], entries.x[rows], entries.y[rows], entries.overrun_m[rows]
    )
    return subset, (inside_ptr, inside[1][inside_rows])


def _csr_rows(ptr: np.ndarray, picks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The row pointer and the flat rows of the CSR groups ``picks`` (in that order)."""
    counts = ptr[picks + 1] - ptr[picks]
    new_ptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    rows = np.repeat(ptr[picks] - new_ptr[:-1], counts) + np.arange(new_ptr[-1])
    return new_ptr, rows


def _run_chunks(
    network: tuple[np.ndarray, ...],
    graph: tuple[np.ndarray, np.ndarray, np.ndarray, float, int, int],
    sites: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    classes: tuple[np.ndarray, ...],
    horizon_m: float,
) -> tuple[np.ndarray, ...]:
    """:func:`~cohesion_gis.hvm._routes_kernel.run_sites` on chunks of sites in threads.

    The kernel releases the GIL; chunks hold about equal numbers of entries, and their outputs
    are concatenated with site, row and vertex indices shifted, so the result equals one call
    over all sites.
    """
    entry_ptr, entry_node, inside_ptr, inside_piece = sites
    n_sites = entry_ptr.size - 1
    workers = max(1, min(os.cpu_count() or 1, n_sites))
    cuts = np.searchsorted(entry_ptr, np.linspace(0, entry_ptr[-1], 4 * workers + 1)[1:-1])
    bounds = np.unique(np.r_[0, np.minimum(cuts, n_sites), n_sites])
    if bounds.size < 2:  # no sites: one empty call for empty outputs
        bounds = np.array([0, 0])

    def run(s0: int, s1: int) -> tuple[np.ndarray, ...]:
        chunk = (
            entry_ptr[s0 : s1 + 1] - entry_ptr[s0],
            entry_node[entry_ptr[s0] : entry_ptr[s1]],
            inside_ptr[s0 : s1 + 1] - inside_ptr[s0],
            inside_piece[inside_ptr[s0] : inside_ptr[s1]],
        )
        return kernel.run_sites(network, graph, chunk, classes, horizon_m)

    with ThreadPoolExecutor(workers) as pool:
        parts = list(pool.map(run, bounds[:-1].tolist(), bounds[1:].tolist()))
    row_offset = np.cumsum([0] + [len(p[0]) for p in parts])
    vertex_offset = np.cumsum([0] + [len(p[1]) for p in parts])
    for part, s0, r0, v0 in zip(parts, bounds[:-1], row_offset, vertex_offset, strict=False):
        part[0][:, 0] += s0
        part[0][:, 7] += v0
        part[4][:, 0] += r0
        part[5][:, 0] += r0
    return tuple(np.concatenate([p[i] for p in parts]) for i in range(7))


# --------------------------------------------------------------------------- inputs


def _vehicles(
    vehicles: Sequence[str | VehicleClass] | None, params: HvmParams
) -> list[VehicleClass]:
    names = params.default_vehicle_classes if vehicles is None else vehicles
    packaged = [v for v in names if isinstance(v, str)]
    table = load_params(Vehicles).select(packaged) if packaged else {}
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
        metric_crs(layer.crs, name)
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
    index: EdgeIndex,
    sites: gpd.GeoDataFrame,
    barriers: gpd.GeoDataFrame | None,
    snap_m: float,
    *,
    below: np.ndarray,
) -> np.ndarray:
    """Points where edges must be split, sorted: rows (edge, distance along, site, barrier).

    Edges ``below`` the surface (:func:`underground`) cross no crowd perimeter: no entry.

    Site and barrier are -1 where the point is not of that kind. A point barrier closes its
    nearest edge within ``snap_m`` (:func:`~cohesion_gis.network.nearest_edges`, the compiled
    grid search homes are snapped with: ``STRtree.query_nearest``'s edge, ties settled by GEOS).
    """
    lines, tree = index.lines, index.tree
    boundaries = shapely.boundary(sites.geometry.to_numpy())
    s_idx, e_idx = tree.query(boundaries, predicate="intersects")
    s_idx, e_idx = s_idx[~below[e_idx]], e_idx[~below[e_idx]]
    parts = [_crossings(lines, e_idx, shapely.intersection(lines[e_idx], boundaries[s_idx]),
                        s_idx, kind=0)]  # fmt: skip
    if barriers is not None and len(barriers):
        geoms = barriers.geometry.to_numpy()
        is_point = shapely.get_type_id(geoms) == 0
        point_idx = np.flatnonzero(is_point)
        if point_idx.size:
            b_idx, e_near, _ = nearest_edges(index, geoms[point_idx], max_distance_m=snap_m)
            dist = shapely.line_locate_point(lines[e_near], geoms[point_idx[b_idx]])
            parts.append(
                np.column_stack([e_near, dist, np.full(e_near.size, -1), point_idx[b_idx]])
            )
        line_idx = np.flatnonzero(~is_point)
        b_idx, e_cross = tree.query(geoms[line_idx], predicate="intersects")
        crossing = shapely.intersection(lines[e_cross], geoms[line_idx[b_idx]])
        parts.append(_crossings(lines, e_cross, crossing, line_idx[b_idx], kind=1))
    cuts = np.vstack(parts)
    return cuts[np.lexsort((cuts[:, 3], cuts[:, 2], cuts[:, 1], cuts[:, 0]))]


def _crossings(
    lines: np.ndarray, edge: np.ndarray, crossing: np.ndarray, other: np.ndarray, *, kind: int
) -> np.ndarray:
    """Cut rows for intersections of ``lines[edge]`` with sites (kind 0) or barriers (kind 1).

    Point parts of each intersection, and for sites also both ends of overlapping line parts.
    """
    part, owner = shapely.get_parts(crossing, return_index=True)
    type_id = shapely.get_type_id(part)
    points = [shapely.get_coordinates(part[type_id == 0])]
    owners = [owner[type_id == 0]]
    if kind == 0:
        line = type_id == 1
        ends = np.stack(
            [shapely.get_coordinates(shapely.get_point(part[line], i)) for i in (0, -1)], 1
        )
        points.append(ends.reshape(-1, 2))
        owners.append(np.repeat(owner[line], 2))
    xy = np.vstack(points)
    row = np.concatenate(owners)
    dist = shapely.line_locate_point(lines[edge[row]], shapely.points(xy))
    site = other[row] if kind == 0 else np.full(row.size, -1)
    barrier = other[row] if kind == 1 else np.full(row.size, -1)
    return np.column_stack([edge[row], dist, site, barrier])


def vehicle_graph(edges: gpd.GeoDataFrame) -> Csr:
    """The graph of a hostile-vehicle edge table (:func:`~cohesion_gis.network.csr_from_edges`).

    Each node at the first end of the geometry where its id first appears, numbered in that
    order (not ``City.drive_csr``'s order, which follows ``drive_nodes``; the approach tables do
    not depend on the numbering, ``docs/hvm.md``).
    """
    lines = edges.geometry.to_numpy()
    ends = np.vstack([shapely.get_coordinates(shapely.get_point(lines, i)) for i in (0, -1)])
    ids = np.r_[edges["u"].to_numpy(np.int64), edges["v"].to_numpy(np.int64)]
    codes, first = np.unique(ids, return_index=True)
    order = np.argsort(first, kind="stable")
    nodes = pd.DataFrame({"x": ends[first[order], 0], "y": ends[first[order], 1]},
                         index=codes[order])  # fmt: skip
    return csr_from_edges(nodes, edges)


def _build_network(
    edges: gpd.GeoDataFrame,
    graph: Csr,
    sites: gpd.GeoDataFrame,
    barriers: gpd.GeoDataFrame | None,
    params: HvmParams,
) -> tuple[_Network, _Entries, tuple[np.ndarray, np.ndarray]]:
    """Split the edges at entries and barriers; the entries and each site's inner pieces.

    The nodes of ``graph`` keep their numbers; the nodes added by the split come after them.
    """
    index = EdgeIndex(edges)
    lines, tree = index.lines, index.tree
    cuts = _cut_points(index, sites, barriers, params.barrier_snap_m, below=underground(edges))
    n_edges = len(edges)
    u_idx = graph.node_index(edges["u"].to_numpy(np.int64), where="edges u").astype(np.int64)
    v_idx = graph.node_index(edges["v"].to_numpy(np.int64), where="edges v").astype(np.int64)
    coords_flat, owner = shapely.get_coordinates(lines, return_index=True)
    starts = np.searchsorted(owner, np.arange(n_edges + 1))
    split = _split_edges(cuts, coords_flat, starts, (u_idx, v_idx), n_nodes=graph.n_nodes,
                         n_sites=len(sites))  # fmt: skip
    n_nodes, pieces_by_edge, entries, node_barriers = split
    # pieces in edge order: unsplit edges keep their coordinates, split ones get new runs
    counts = np.ones(n_edges, np.int64)
    for e, pieces in pieces_by_edge.items():
        counts[e] = len(pieces)
    first = np.concatenate([[0], np.cumsum(counts)])
    n_pieces = int(first[-1])
    parent = np.repeat(np.arange(n_edges), counts)
    piece_a, piece_b = np.empty(n_pieces, np.int64), np.empty(n_pieces, np.int64)
    src = np.empty(n_pieces, np.int64)
    src_len = np.empty(n_pieces, np.int64)
    whole = np.ones(n_edges, bool)
    whole[list(pieces_by_edge)] = False
    at = first[:-1][whole]
    piece_a[at], piece_b[at] = u_idx[whole], v_idx[whole]
    src[at], src_len[at] = starts[:-1][whole], np.diff(starts)[whole]
    extra = [coords_flat]
    offset = len(coords_flat)
    for e, pieces in pieces_by_edge.items():
        for j, (a, b, xy) in enumerate(pieces):
            k = first[e] + j
            piece_a[k], piece_b[k], src[k], src_len[k] = a, b, offset, len(xy)
            extra.append(xy)
            offset += len(xy)
    vptr = np.concatenate([[0], np.cumsum(src_len)])
    vxy = np.vstack(extra)[np.repeat(src - vptr[:-1], src_len) + np.arange(vptr[-1])]
    widths = edges["width_m"].to_numpy(float)
    grades = edges["grade"].to_numpy(float) if "grade" in edges else np.zeros(n_edges)
    net = _assemble(
        n_nodes,
        np.column_stack([graph.x, graph.y]),
        (piece_a, piece_b, parent),
        (vptr, vxy),
        piece_width=widths[parent],
        piece_grade=grades[parent],
        node_barriers=node_barriers,
        kerb_m=params.kerb_radius_m,
    )
    if "chicane_radius_m" in edges:  # a chicane caps every turn at its middle (the v end)
        radius = edges["chicane_radius_m"].to_numpy(float)
        at = np.flatnonzero(np.isfinite(radius))
        np.fmin.at(net.node_radius, v_idx[at], radius[at])
    ptr = np.concatenate([[0], np.cumsum([len(site) for site in entries])]).astype(np.int64)
    # entries in order of position (x, then y), not of node number: entry ids follow the ground
    rows = [(n, x, y) for site in entries for n, (x, y) in sorted(site.items(), key=_position)]
    table = np.array(rows, dtype=float).reshape(-1, 3)
    entry_table = _Entries(ptr, table[:, 0].astype(np.int64), table[:, 1], table[:, 2],
                           _overrun_m(edges, table[:, 1], table[:, 2]))  # fmt: skip
    return net, entry_table, _inside_pieces(net, tree, sites, first, below=underground(edges))


def _overrun_m(edges: gpd.GeoDataFrame, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Per entry, its distance (m) along the over-run leg it lies on (NaN: on a street)."""
    out = np.full(x.size, np.nan)
    if LEG_COLUMN not in edges or not edges[LEG_COLUMN].any():
        return out
    legs = edges.geometry.to_numpy()[edges[LEG_COLUMN].to_numpy(bool)]
    points = shapely.points(x, y)
    at, leg = shapely.STRtree(legs).query(points, predicate="dwithin", distance=1e-6)
    out[at] = shapely.line_locate_point(legs[leg], points[at])
    return out


def _position(entry: tuple[int, tuple[float, float]]) -> tuple[float, float, int]:
    """Sort key of an entry ``(node, (x, y))``: x, then y (m), then the node."""
    return (*entry[1], entry[0])


def underground(edges: gpd.GeoDataFrame) -> np.ndarray:
    """Whether each vehicle edge runs below a surface crowd: a tunnel, covered, or layer < 0.

    ``tunnel`` (any value but ``no``: ``yes``, ``building_passage``...), ``covered=yes`` or a
    negative ``layer`` (:func:`cohesion_gis.streets.vehicle_network`). A vehicle may drive
    through such an edge, but it meets no crowd perimeter there (no entry), and it does not
    cross the crowd above it. An edge table without these columns is all at the surface.
    """
    n = len(edges)
    flag = np.zeros(n, bool)
    for column in ("tunnel", "covered"):
        if column in edges:
            flag |= edges[column].fillna(False).to_numpy(bool)
    if "layer" in edges:
        flag |= edges["layer"].to_numpy(float) < 0
    return flag


def _split_edges(
    cuts: np.ndarray,
    coords_flat: np.ndarray,
    starts: np.ndarray,
    ends: tuple[np.ndarray, np.ndarray],
    *,
    n_nodes: int,
    n_sites: int,
) -> tuple[
    int,
    dict[int, list[tuple[int, int, np.ndarray]]],
    list[dict[int, tuple[float, float]]],
    dict[int, list[int]],
]:
    """Pieces of every cut edge, new nodes, entries per site and barriers per node.

    Cuts within ``_MERGE_M`` of an edge end are that end; inner cuts less than ``_MERGE_M``
    apart in a row are one node, at the middle of their run; an entry met by two edges is placed
    at the smaller (x, y) of their crossings.
    """
    u_idx, v_idx = ends
    entries: list[dict[int, tuple[float, float]]] = [{} for _ in range(n_sites)]
    node_barriers: dict[int, list[int]] = {}
    pieces_by_edge: dict[int, list[tuple[int, int, np.ndarray]]] = {}
    edge_of = cuts[:, 0].astype(np.int64)
    bounds = np.flatnonzero(np.diff(edge_of)) + 1
    for group in np.split(np.arange(len(cuts)), bounds) if len(cuts) else []:
        e = int(edge_of[group[0]])
        xy = coords_flat[starts[e] : starts[e + 1]]
        cum = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(xy, axis=0).T))])
        total = cum[-1]
        rows = cuts[group].tolist()
        dists = np.array([row[1] for row in rows])
        inner = (dists > _MERGE_M) & (dists < total - _MERGE_M)
        # inner cuts closer than _MERGE_M in a row are one node, split at the middle of their
        # run: the same nodes whichever end the way is drawn from
        run = np.cumsum(np.r_[True, np.diff(dists) > _MERGE_M] | ~inner)
        stops: list[tuple[float, int]] = []  # (distance, node)
        node_of_run: dict[int, int] = {}
        for k, (_, dist, s, b) in enumerate(rows):
            if dist <= _MERGE_M:
                node = int(u_idx[e])
            elif dist >= total - _MERGE_M:
                node = int(v_idx[e])
            elif run[k] in node_of_run:
                node = node_of_run[run[k]]
            else:
                node = node_of_run[run[k]] = n_nodes
                n_nodes += 1
                members = dists[(run == run[k]) & inner]
                stops.append(((members[0] + members[-1]) / 2, node))
            point = _interpolate(xy, cum, min(max(dist, 0.0), total))
            if s >= 0:  # of two crossings at one node, the smaller (x, y): not the first edge's
                xy_cut = (float(point[0]), float(point[1]))
                entries[int(s)][node] = min(entries[int(s)].get(node, xy_cut), xy_cut)
            if b >= 0:
                node_barriers.setdefault(node, []).append(int(b))
        pieces = []
        prev_node, prev_dist = int(u_idx[e]), 0.0
        for dist, node in [*stops, (total, int(v_idx[e]))]:
            pieces.append((prev_node, node, _substring(xy, cum, prev_dist, dist)))
            prev_node, prev_dist = node, dist
        pieces_by_edge[e] = pieces
    # each node's barriers in table order, not in the order the edges were met
    return n_nodes, pieces_by_edge, entries, {n: sorted(b) for n, b in node_barriers.items()}


def _interpolate(xy: np.ndarray, cum: np.ndarray, dist: float) -> np.ndarray:
    i = min(max(int(np.searchsorted(cum, dist, side="right")) - 1, 0), len(xy) - 2)
    seg = cum[i + 1] - cum[i]
    t = 0.0 if seg == 0 else (dist - cum[i]) / seg
    return xy[i] + t * (xy[i + 1] - xy[i])


def _substring(xy: np.ndarray, cum: np.ndarray, start: float, end: float) -> np.ndarray:
    inner = xy[(cum > start) & (cum < end)]
    return np.vstack([_interpolate(xy, cum, start), inner, _interpolate(xy, cum, end)])


def _assemble(
    n_nodes: int,
    graph_xy: np.ndarray,
    pieces: tuple[np.ndarray, np.ndarray, np.ndarray],
    vertices: tuple[np.ndarray, np.ndarray],
    *,
    piece_width: np.ndarray,
    piece_grade: np.ndarray,
    node_barriers: dict[int, list[int]],
    kerb_m: float,
) -> _Network:
    piece_a, piece_b, parent = pieces
    vptr, vxy = vertices
    n_pieces = piece_a.size
    seg_len = np.zeros(len(vxy))
    seg_len[:-1] = np.hypot(*np.diff(vxy, axis=0).T)
    seg_len[vptr[1:] - 1] = 0.0  # no segment from a piece's last vertex
    lengths = _piece_lengths(vptr, seg_len)
    first = vxy[vptr[:-1] + 1] - vxy[vptr[:-1]]
    last = vxy[vptr[1:] - 1] - vxy[vptr[1:] - 2]
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
    vertex_radius, node_radius = kernel.chain_radii(
        piece_a, piece_b, vptr, vxy, piece_width, n_nodes, kerb_m
    )
    xy = np.zeros((n_nodes, 2))
    xy[: len(graph_xy)] = graph_xy  # a node on no edge keeps the graph's position
    xy[piece_a], xy[piece_b] = vxy[vptr[:-1]], vxy[vptr[1:] - 1]
    # the node graph each site's horizon is searched on: of parallel pieces the shortest
    graph = csr_from_pairs(piece_a, piece_b, lengths, x=xy[:, 0], y=xy[:, 1])
    return _Network(
        n_nodes=n_nodes,
        piece_a=piece_a,
        piece_b=piece_b,
        piece_parent=parent,
        vptr=vptr,
        vxy=vxy,
        seg_len=seg_len,
        piece_width=piece_width,
        piece_grade=piece_grade,
        piece_len=lengths,
        vertex_radius=vertex_radius,
        node_radius=node_radius,
        tail=tail,
        head=head,
        h_start=h_start,
        h_end=h_end,
        out_ptr=out_ptr.astype(np.int64),
        out_idx=out_order.astype(np.int64),
        in_ptr=in_ptr.astype(np.int64),
        in_idx=in_order.astype(np.int64),
        node_barriers=node_barriers,
        graph=graph,
    )


def _piece_lengths(vptr: np.ndarray, seg_len: np.ndarray) -> np.ndarray:
    """Length (m) of every piece, summed exactly as ``np.sum`` over its segment lengths.

    Short pieces (under 8 segments, where numpy sums in order) in one vectorised pass, longer
    ones (numpy's pairwise summation) one by one.
    """
    n_seg = np.diff(vptr) - 1
    lengths = np.zeros(n_seg.size)
    for k in range(min(int(n_seg.max(initial=0)), 7)):
        short = np.flatnonzero((n_seg > k) & (n_seg < 8))
        lengths[short] += seg_len[vptr[short] + k]
    for p in np.flatnonzero(n_seg >= 8).tolist():
        lengths[p] = seg_len[vptr[p] : vptr[p + 1] - 1].sum()
    return lengths


def _inside_pieces(
    net: _Network,
    tree: shapely.STRtree,
    sites: gpd.GeoDataFrame,
    first_piece: np.ndarray,
    *,
    below: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Per site (CSR ``ptr, piece``), the pieces whose midpoint lies inside the site polygon.

    Only pieces of edges whose bounding box meets the site can qualify, so only those are
    tested; edges ``below`` the surface pass under the crowd and never qualify. The search
    excludes them (no driving through the crowd to reach another entry).
    """
    polygons = sites.geometry.to_numpy()
    site_idx, edge_idx = tree.query(polygons)
    site_idx, edge_idx = site_idx[~below[edge_idx]], edge_idx[~below[edge_idx]]
    counts = first_piece[edge_idx + 1] - first_piece[edge_idx]
    site_idx = np.repeat(site_idx, counts)
    piece = np.repeat(first_piece[edge_idx] - np.cumsum(counts) + counts, counts) + np.arange(
        counts.sum()
    )
    n_vertex = net.vptr[piece + 1] - net.vptr[piece]
    vertex = np.repeat(net.vptr[piece] - np.cumsum(n_vertex) + n_vertex, n_vertex) + np.arange(
        n_vertex.sum()
    )
    lines = shapely.linestrings(net.vxy[vertex], indices=np.repeat(np.arange(piece.size), n_vertex))
    mid = shapely.get_coordinates(shapely.line_interpolate_point(lines, 0.5, normalized=True))
    keep = shapely.contains_xy(polygons[site_idx], mid[:, 0], mid[:, 1])
    site_idx, piece = site_idx[keep], piece[keep]
    order = np.argsort(site_idx, kind="stable")
    ptr = np.searchsorted(site_idx[order], np.arange(len(polygons) + 1))
    return ptr.astype(np.int64), piece[order].astype(np.int64)


# --------------------------------------------------------------------------- start nodes


def _edge_nodes(net: _Network, boundary: shapely.Geometry | None) -> np.ndarray:
    """Nodes within :data:`EDGE_M` of the study area's edge (streets that continue outside)."""
    if boundary is None:
        return np.empty(0, np.int64)
    xy = _node_xy(net)
    # only nodes within EDGE_M of the area's bounding box and not inside the area shrunk by
    # more than EDGE_M can be near its edge; test those exactly
    x0, y0, x1, y1 = shapely.bounds(boundary)
    box = (xy[:, 0] >= x0 - EDGE_M) & (xy[:, 0] <= x1 + EDGE_M)
    box &= (xy[:, 1] >= y0 - EDGE_M) & (xy[:, 1] <= y1 + EDGE_M)
    near = np.flatnonzero(box)
    inner = shapely.buffer(boundary, -(EDGE_M + 1.0))
    near = near[~shapely.contains_xy(inner, xy[near, 0], xy[near, 1])]
    edge = shapely.boundary(boundary)
    return near[shapely.dwithin(edge, shapely.points(xy[near]), EDGE_M)]


def _node_xy(net: _Network) -> np.ndarray:
    """Coordinates (m, shape (N, 2)) of every node, from the ends of its pieces."""
    return np.column_stack([net.graph.x, net.graph.y])


def _start_nodes(net: _Network, threshold: np.ndarray, edge_nodes: np.ndarray) -> np.ndarray:
    """Per class (C, N): nodes a hostile vehicle can reach from the public road network outside.

    A node that holds a barrier stopping the class at low speed (``threshold >= 0``) is closed:
    a vehicle driving up to it from rest is stopped, and it gets past only by arriving faster
    than the rating, which the route search itself models. Removing the closed nodes splits the
    network into parts; the outside is, within each connected network, the part with the most
    street length, or, where some part has a node at the study area's edge (``edge_nodes``),
    every such part (its streets continue outside). Only open nodes of outside parts are starts;
    the others lie inside a closed ring of barriers.
    """
    _, whole = components(net.n_nodes, net.piece_a, net.piece_b)
    out = np.ones(threshold.shape, bool)
    for c, closed in enumerate(threshold >= 0):
        if not closed.any():
            continue
        open_piece = ~(closed[net.piece_a] | closed[net.piece_b])
        a, b = net.piece_a[open_piece], net.piece_b[open_piece]
        n_parts, part = components(net.n_nodes, a, b)
        length = np.bincount(part[a], net.piece_len[open_piece], minlength=n_parts)
        half = closed[net.piece_a] != closed[net.piece_b]  # a street up to a barrier
        near = np.where(closed[net.piece_a], net.piece_b, net.piece_a)[half]
        length += np.bincount(part[near], net.piece_len[half], minlength=n_parts)
        length[part[closed]] = -1.0
        owner = np.zeros(n_parts, np.int64)
        owner[part] = whole
        order = np.lexsort((-length, owner))  # per connected network, the longest part first
        first = order[np.r_[True, owner[order][1:] != owner[order][:-1]]]
        outside = np.zeros(n_parts, bool)
        outside[part[edge_nodes]] = True
        reaches_edge = np.zeros(whole.max() + 1, bool)
        reaches_edge[owner[outside]] = True
        outside[first[~reaches_edge[owner[first]]]] = True
        out[c] = outside[part] & ~closed
    return out


# --------------------------------------------------------------------------- per class


def _class_arrays(  # noqa: PLR0917
    net: _Network,
    graph: tuple[np.ndarray, ...],
    classes: list[VehicleClass],
    params: HvmParams,
    ratings: list[BarrierRating | None],
    block_unrated: bool,
    *,
    one_way: np.ndarray,
) -> tuple[np.ndarray, ...]:
    """Per class: usable edges, edge maps, barrier thresholds, traction models, scalar limits.

    Pieces ``one_way`` (over-run legs) are usable from their ``a`` end only.

    Returns ``(width_ok, kind, shift, low, high (C, D), threshold (C, N), model (C, M),
    vehicle (C, 5))`` and the chains of pieces per class (``start_u, start_len, chain_end,
    chain_ok (C, D), chain_maps (C, D, 4)``, :func:`~cohesion_gis.hvm._routes_kernel.chain_starts`;
    ``turn_maps (C, rows, 7)``, one row per turn with a bend exit,
    :func:`~cohesion_gis.hvm._routes_kernel.turn_maps`),
    see
    :func:`cohesion_gis.hvm._routes_kernel.run_sites`. A vehicle is stopped at node ``n`` if its
    squared speed (m²/s²) is ``<= threshold[n]`` (-1: nothing stops it there).
    """
    n_dir = 2 * net.piece_a.size
    width_ok = np.empty((len(classes), n_dir), bool)
    kind = np.empty((len(classes), n_dir), np.int64)
    maps = np.empty((3, len(classes), n_dir))
    threshold = np.full((len(classes), net.n_nodes), -1.0)
    models = []
    vehicle_table = np.empty((len(classes), 5))
    starts = []
    for c, vehicle in enumerate(classes):
        lat = vehicle.lateral_limit_ms2(params.friction_mu)
        top2 = float(kmh_to_ms(vehicle.top_speed_kmh)) ** 2
        model = traction_model(vehicle.traction(params.acceleration_model), vehicle.top_speed_kmh)
        models.append(model)
        kind[c], *rest = kernel.edge_maps(
            net.vptr, net.seg_len, net.vertex_radius, net.piece_grade, model, lat, top2
        )
        maps[:, c] = rest
        start_kmh = min(params.start_speed_kmh, vehicle.top_speed_kmh)
        width_ok[c] = np.repeat(net.piece_width >= vehicle.width_m + params.width_clearance_m, 2)
        width_ok[c, 1::2] &= ~one_way
        segments = (net.vptr, net.seg_len, net.vertex_radius, net.piece_grade)
        class_maps = (kind[c], *maps[:, c], model)
        starts.append((*kernel.chain_starts(
            graph, class_maps, segments, width_ok[c],
            (lat, top2, float(kmh_to_ms(start_kmh)) ** 2, params.search_horizon_m),
        ), kernel.turn_maps(graph, class_maps, segments, lat, top2, graph[14])))  # fmt: skip
        for node, barrier_list in net.node_barriers.items():
            for b in barrier_list:
                rating = ratings[b]
                if rating is None:
                    if block_unrated:
                        threshold[c, node] = np.inf
                elif (credit := credited_speed_kmh(rating, vehicle, params=params)) > 0:
                    u = float(kmh_to_ms(credit)) ** 2
                    threshold[c, node] = max(threshold[c, node], u)
        vehicle_table[c] = (
            lat,
            vehicle.braking_limit_ms2(params.friction_mu),
            vehicle.top_speed_kmh,
            start_kmh,
            float(kmh_to_ms(start_kmh)) ** 2,
        )
    chains = tuple(np.array([start[i] for start in starts]) for i in range(6))
    return (width_ok, kind, maps[0], maps[1], maps[2], threshold, np.array(models), vehicle_table,
            *chains)  # fmt: skip


# --------------------------------------------------------------------------- result table


def _table(
    out: tuple[np.ndarray, ...],
    net: _Network,
    *,
    sites: tuple[np.ndarray, _Entries],
    classes: list[VehicleClass],
    params: HvmParams,
    barriers: tuple[list[BarrierRating | None], list[str], bool],
    crs: object,
) -> gpd.GeoDataFrame:
    """The approach table from the kernel's flat output (one row per site × class × entry)."""
    rows, v_xy, v_speed, v_dist, defeat, block, block_kmh = out
    site, cls, entry, status, n_open, wide, flags = rows[:, :7].T
    vptr = np.r_[0, rows[:, 7]]
    site_ids, entries = sites
    ratings, barrier_ids, block_unrated = barriers
    n_rows = site.size
    arrived = status == kernel.ROW_ARRIVED
    has_entry = entry >= 0
    at = entries.ptr[site] + np.where(has_entry, entry, 0)
    names = np.array([v.name for v in classes], dtype=object)
    leg_m = _gather(entries.overrun_m, at, has_entry)
    kind = np.where(np.isnan(leg_m), "street", "overrun").astype(object)
    kind[~has_entry] = None
    site_col = site_ids[site]
    last = vptr[1:] - 1
    run_up = _gather(v_dist, last, arrived, fill=0.0)
    speed = _gather(v_speed, last, arrived, fill=0.0)
    mass = np.array([v.test_mass_kg for v in classes])[cls]
    beaten = np.flatnonzero(flags & 1)
    if beaten.size:
        log.info(
            "%d of %d routes: circling back through a node would arrive faster than the best "
            "loop-free route reported (sites %s)",
            beaten.size, int(arrived.sum()), ", ".join(map(str, pd.unique(site_col[beaten])[:10])),
        )  # fmt: skip
    for r in np.flatnonzero(flags & 2):
        log.warning(
            "site %s entry %s: route profile differs from the search label", site_col[r], entry[r]
        )
    speed_text = _speed_text(v_speed, vptr, arrived)
    defeated = _barrier_text(defeat[:, 0], defeat[:, 1], n_rows, net, barrier_ids)
    blocked = _blocked_text(
        block, block_kmh, n_rows, net, classes=(classes, cls), params=params,
        barriers=(ratings, barrier_ids, block_unrated),
    )  # fmt: skip
    reason = np.full(n_rows, "", dtype=object)
    for r in np.flatnonzero(~arrived):
        if status[r] in _SITE_REASONS:
            reason[r] = _SITE_REASONS[status[r]]
        elif n_open[r]:
            names_r = f" ({', '.join(blocked[r].split(';'))})" if blocked[r] else ""
            reason[r] = f"every approach is stopped by barriers{names_r}"
        elif not wide[r]:
            vehicle = classes[cls[r]]
            reason[r] = (
                f"the streets at this entry are too narrow for {vehicle.name} ({vehicle.width_m} m)"
            )
        else:
            reason[r] = "no street outside the site leads to this entry"
    rows = np.flatnonzero(arrived)
    geometry = np.full(n_rows, None, dtype=object)
    lengths = np.diff(vptr)[rows]
    if rows.size:
        geometry[rows] = shapely.linestrings(v_xy, indices=np.repeat(np.arange(rows.size), lengths))
    table = pd.DataFrame(
        {
            "site_id": site_col,
            "vehicle_class": names[cls],
            "entry_id": [
                f"{s}:{k}" if k >= 0 else None
                for s, k in zip(site_col, entry.tolist(), strict=True)
            ],
            "entry_x": _gather(entries.x, at, has_entry),
            "entry_y": _gather(entries.y, at, has_entry),
            "entry_kind": kind,
            "overrun_m": leg_m,
            "run_up_m": run_up,
            "impact_speed_kmh": speed,
            "impact_energy_kj": np.where(arrived, kinetic_energy_kj(mass, speed), 0.0),
            "speeds_kmh": speed_text,
            "blocked_by": blocked,
            "defeated": defeated,
            "reason": reason,
        },
        columns=list(APPROACH_COLUMNS),
    )
    return gpd.GeoDataFrame(table, geometry=geometry, crs=crs)


def _gather(
    values: np.ndarray, index: np.ndarray, valid: np.ndarray, *, fill: float = np.nan
) -> np.ndarray:
    """``values[index]`` where ``valid``, else ``fill``."""
    out = np.full(index.size, fill)
    out[valid] = values[index[valid]]
    return out


def _speed_text(v_speed: np.ndarray, vptr: np.ndarray, arrived: np.ndarray) -> np.ndarray:
    """Per row, the speed (km/h) at every route vertex, one decimal, space-separated."""
    text = np.full(arrived.size, "", dtype=object)
    values = [f"{v:.1f}" for v in v_speed.tolist()]
    for r in np.flatnonzero(arrived).tolist():
        text[r] = " ".join(values[vptr[r] : vptr[r + 1]])
    return text


def _barrier_text(
    row: np.ndarray, node: np.ndarray, n_rows: int, net: _Network, ids: list[str]
) -> np.ndarray:
    """Per row, the ids of the barriers at the given (row, node) meetings, ``;``-separated."""
    parts: list[list[str]] = [[] for _ in range(n_rows)]
    for r, n in zip(row.tolist(), node.tolist(), strict=True):
        parts[r].extend(ids[b] for b in net.node_barriers[n])
    return np.array([";".join(dict.fromkeys(p)) for p in parts], dtype=object)


def _blocked_text(
    block: np.ndarray,
    block_kmh: np.ndarray,
    n_rows: int,
    net: _Network,
    *,
    classes: tuple[list[VehicleClass], np.ndarray],
    params: HvmParams,
    barriers: tuple[list[BarrierRating | None], list[str], bool],
) -> np.ndarray:
    """Per row, the barriers that stop the worst route of the network without barriers.

    ``block`` rows are (row, node) where that route passes a barrier node, ``block_kmh`` the
    run-up speed there.
    """
    vehicles, cls = classes
    ratings, ids, block_unrated = barriers
    parts: list[list[str]] = [[] for _ in range(n_rows)]
    for (r, n), speed in zip(block.tolist(), block_kmh.tolist(), strict=True):
        for b in net.node_barriers[n]:
            rating = ratings[b]
            if rating is None:
                stops = block_unrated
            else:
                vehicle = vehicles[cls[r]]
                stops = covers(rating, vehicle, speed, params=params)
            if stops:
                parts[r].append(ids[b])
    return np.array([";".join(dict.fromkeys(p)) for p in parts], dtype=object)
