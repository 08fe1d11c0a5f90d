"""Placing points and polygons on a street network: nearest edges and entrances.

:func:`snap_to_edges` puts each point (a home, an entrance) on its nearest edge, part-way along
it, and with a tolerance on every further edge within the tolerance of the nearest too
(:class:`Links`, searched by :func:`lines_near`); :func:`entrance_points` finds where polygons
(parks, squares) meet the walkable edges, or the edges within the same tolerance of the nearest;
:func:`nearest_lines` is the nearest edge of any geometry (a barrier point or line). All three
answer what shapely's ``STRtree`` would: points by a compiled grid search
(:mod:`cohesion_gis.network._nearest`, GEOS's distances bit for bit, GEOS itself for exact ties),
other geometries by GEOS's tree. An :class:`EdgeIndex` shares the indexes between calls.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from cohesion_gis._validate import metric_crs
from cohesion_gis.errors import InputError, ParameterError
from cohesion_gis.network._nearest import SegmentGrid, cell_order, lines_within, nearest_segments
from cohesion_gis.network._search import map_chunks
from cohesion_gis.network.graph import Csr, group_rows, require_columns

__all__ = [
    "EdgeIndex",
    "Links",
    "SnappedPoints",
    "entrance_points",
    "nearest_edges",
    "snap_to_edges",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class Links:
    """Every edge some points enter the network through, one row per point and edge.

    Rows are sorted by point; a point's nearest edge comes first. A path through a row costs its
    ``extra_m`` on top of the point's ``snap_m``: the row's own straight distance to the point
    minus the nearest edge's (plus any distance the caller gave the point, ``snap_to_edges``'
    ``extra_m``).

    Attributes
    ----------
    point
        int64 position of the point.
    edge, node_u, node_v, along_m, offset_u_m, offset_v_m
        As in :class:`SnappedPoints`, for this row's edge.
    extra_m
        float64 metres, >= 0.
    """

    point: np.ndarray
    edge: np.ndarray
    node_u: np.ndarray
    node_v: np.ndarray
    along_m: np.ndarray
    offset_u_m: np.ndarray
    offset_v_m: np.ndarray
    extra_m: np.ndarray

    def __len__(self) -> int:
        return int(self.point.size)


@dataclass(frozen=True, eq=False)
class SnappedPoints:
    """Points placed on their nearest network edge.

    All arrays are aligned with the input points. Points farther than the snapping limit have
    ``snapped`` False, ``edge``, ``node_u`` and ``node_v`` -1 and NaN distances.

    Attributes
    ----------
    index
        The input points' index.
    edge
        int64 position in the ``edges`` table of the nearest edge.
    node_u, node_v
        int32 node indices (in the :class:`Csr`) of the edge's ``u`` and ``v`` ends.
    along_m
        float64 distance in metres from ``u`` along the edge to the snapped position. The position
        is measured on the edge geometry and scaled to the edge's weight (``length_m``), so that
        offsets add up with network distances.
    offset_u_m, offset_v_m
        float64 distance in metres along the edge to its ``u`` and ``v`` ends
        (``offset_u_m + offset_v_m`` is the edge's weight).
    snap_m
        float64 straight-line distance in metres from the point to the edge.
    snapped
        bool, True where the nearest edge is within the snapping limit.
    links
        Every edge each point enters through (:class:`Links`), when :func:`snap_to_edges` was
        given a tolerance or extra distances; None: each snapped point's nearest edge only.
    """

    index: pd.Index
    edge: np.ndarray
    node_u: np.ndarray
    node_v: np.ndarray
    along_m: np.ndarray
    offset_u_m: np.ndarray
    offset_v_m: np.ndarray
    snap_m: np.ndarray
    snapped: np.ndarray
    links: Links | None = None

    def __len__(self) -> int:
        return int(self.edge.size)

    @cached_property
    def entries(self) -> Links:
        """Every edge the snapped points enter through: :attr:`links`, or each nearest edge."""
        if self.links is not None:
            return self.links
        pts = np.flatnonzero(self.snapped)
        return Links(
            point=pts,
            edge=self.edge[pts],
            node_u=self.node_u[pts],
            node_v=self.node_v[pts],
            along_m=self.along_m[pts],
            offset_u_m=self.offset_u_m[pts],
            offset_v_m=self.offset_v_m[pts],
            extra_m=np.zeros(pts.size),
        )

    @cached_property
    def by_end(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The snapped points listed by edge end: ``(ptr, point, offset_m)``.

        The points whose edge (any of :attr:`entries`) ends at node ``n`` are
        ``point[ptr[n]:ptr[n + 1]]``, each with its distance to that node: along the edge, plus
        the row's ``extra_m``; ``ptr`` runs to the highest node any edge ends at. Computed once
        per snapping, as every search against these points reads it.
        """
        e = self.entries
        end_node = np.concatenate([e.node_u, e.node_v]).astype(np.int64)
        ptr, order = group_rows(end_node, int(end_node.max(initial=-1)) + 1)
        offset = np.concatenate([e.offset_u_m + e.extra_m, e.offset_v_m + e.extra_m])
        return ptr, np.concatenate([e.point, e.point])[order], offset[order]

    @cached_property
    def by_edge(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The entries with no extra distance listed by edge: ``(ptr, point, along_m)``.

        As :attr:`by_end`; rows with ``extra_m`` > 0 are left out (a search joins them along
        their edge separately, see :func:`cohesion_gis.network.distances_to_points`).
        """
        e = self.entries
        rows = np.flatnonzero(e.extra_m == 0.0)
        ptr, order = group_rows(e.edge[rows], int(e.edge[rows].max(initial=-1)) + 1)
        return ptr, e.point[rows][order], e.along_m[rows][order]


#: Fewest geometries per thread worth the start of a thread.
_GEOS_CHUNK = 2_000


def _bounds(n: int, n_threads: int | None) -> np.ndarray:
    """Chunk bounds over ``n`` items: a few chunks per thread, none smaller than _GEOS_CHUNK."""
    n_threads = n_threads or os.cpu_count() or 1
    n_chunks = max(1, min(4 * n_threads, n // _GEOS_CHUNK))
    return np.linspace(0, n, n_chunks + 1).astype(np.int64)


def _chunked(
    func: Callable[[np.ndarray, np.ndarray], np.ndarray],
    a: np.ndarray,
    b: np.ndarray,
    *,
    n_threads: int | None,
) -> np.ndarray:
    """``func(a, b)`` of a vectorised shapely function, in chunks on threads; the same array."""
    bounds = _bounds(a.size, n_threads)

    def chunk(i: int) -> np.ndarray:
        return func(a[bounds[i] : bounds[i + 1]], b[bounds[i] : bounds[i + 1]])

    return np.concatenate(list(map_chunks(chunk, bounds.size - 1, n_threads)))


def _nearest(
    tree: shapely.STRtree, geoms: np.ndarray, *, max_distance: float, n_threads: int | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``tree.query_nearest`` (first match) in chunks on threads: geometry, tree item, distance.

    Each geometry's answer does not depend on the others, so the result is that of one call.
    """
    bounds = _bounds(geoms.size, n_threads)

    def chunk(i: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        (g, item), dist = tree.query_nearest(
            geoms[bounds[i] : bounds[i + 1]],
            max_distance=max_distance,
            return_distance=True,
            all_matches=False,
        )
        return g + bounds[i], item, dist

    geom, item, dist = zip(*map_chunks(chunk, bounds.size - 1, n_threads), strict=True)
    return np.concatenate(geom), np.concatenate(item), np.concatenate(dist)


class EdgeIndex:
    """Spatial indexes of an edges table's lines, built on first use and shared between calls.

    Snapping homes, finding entrances and snapping entrances on one network each need the same
    indexes; pass one ``EdgeIndex`` to :func:`snap_to_edges` and :func:`entrance_points` to build
    them once (on a 1M-node network, about 3 s a call).

    Parameters
    ----------
    edges
        The edges table (LineString geometry); the index must be used with this table only.
    entry
        Which edges points and polygons may enter the network by (bool per edge); the others
        (tunnels, indoor ways) are left out of the index: nothing snaps to them, but searches
        still walk through them. Default: every edge.
    """

    def __init__(self, edges: gpd.GeoDataFrame, *, entry: np.ndarray | None = None) -> None:
        lines = edges.geometry.to_numpy()
        if entry is not None:
            lines = np.where(np.asarray(entry, dtype=bool), lines, shapely.LineString())
        self.lines = lines

    @cached_property
    def grid(self) -> SegmentGrid:
        """The lines' segments binned into a grid, for the compiled nearest-edge search."""
        return SegmentGrid(self.lines)

    @cached_property
    def tree(self) -> shapely.STRtree:
        """GEOS's tree of the lines (intersections and exact ties)."""
        return shapely.STRtree(self.lines)

    def check(self, edges: gpd.GeoDataFrame) -> EdgeIndex:
        """Return the index after checking it was built from a table of ``edges``' size."""
        if self.lines.size != len(edges):
            raise ParameterError(
                f"index: built from {self.lines.size} edges, used with a table of {len(edges)}; "
                "build an EdgeIndex from the same edges table"
            )
        return self


def nearest_edges(
    index: EdgeIndex,
    points: np.ndarray,
    *,
    max_distance_m: float,
    n_threads: int | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Nearest edge of each point within a distance, as ``STRtree.query_nearest`` gives it.

    The same answer as ``STRtree(lines).query_nearest(points, max_distance=max_distance_m,
    return_distance=True, all_matches=False)``: a compiled grid search
    (:mod:`cohesion_gis.network._nearest`, GEOS's distances bit for bit) over chunks of points
    on threads, and GEOS itself (``index.tree``) for the points with several lines at exactly
    the nearest distance, where only GEOS's traversal order says which one it returns. The
    points are searched cell by cell (:func:`~cohesion_gis.network._nearest.cell_order`), so
    that neighbours share cached cells.

    Parameters
    ----------
    index
        The :class:`EdgeIndex` of the edges.
    points
        shapely Points, in the edges' CRS; empty or missing ones have no nearest edge.
    max_distance_m
        Edges farther than this (metres) are not returned.
    n_threads
        Threads the search is split over; default: every CPU. The result does not depend on it.

    Returns
    -------
    tuple of numpy.ndarray
        Positions of the points with an edge within the distance (ascending), the position of
        that edge in the edges table, and the distance in metres.
    """
    grid = index.grid
    xy = np.column_stack([shapely.get_x(points), shapely.get_y(points)])  # NaN for empty points
    order = cell_order(grid, xy)
    xy = xy[order]
    bounds = _bounds(points.size, n_threads)

    def chunk(i: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return nearest_segments(grid, xy[bounds[i] : bounds[i + 1]], max_distance_m)

    parts = list(map_chunks(chunk, bounds.size - 1, n_threads))
    line, dist, tied = (np.empty_like(parts[0][k], shape=order.size) for k in range(3))
    for k, out in enumerate((line, dist, tied)):
        out[order] = np.concatenate([p[k] for p in parts])
    tied = np.flatnonzero(tied)
    if tied.size:
        p_idx, e_idx, _ = _nearest(
            index.tree, points[tied], max_distance=max_distance_m, n_threads=n_threads
        )
        line[tied[p_idx]] = e_idx
    found = np.flatnonzero(line >= 0)
    return found, line[found], dist[found]


def _nearest_lines(
    index: EdgeIndex, geoms: np.ndarray, max_distance: float, *, n_threads: int | None
) -> tuple[np.ndarray, np.ndarray]:
    """``tree.query_nearest`` (first match) of any geometries: geometry and line, by geometry.

    Points take the compiled grid search (:func:`nearest_edges`, the same answer), the rest
    GEOS's tree.
    """
    point = (shapely.get_type_id(geoms) == shapely.GeometryType.POINT) & ~shapely.is_empty(geoms)
    points, others = np.flatnonzero(point), np.flatnonzero(~point)
    p_idx, p_line, _ = nearest_edges(
        index, geoms[points], max_distance_m=max_distance, n_threads=n_threads
    )
    o_idx, o_line, _ = _nearest(
        index.tree, geoms[others], max_distance=max_distance, n_threads=n_threads
    )
    geom = np.concatenate([points[p_idx], others[o_idx]])
    order = np.argsort(geom, kind="stable")
    return geom[order], np.concatenate([p_line, o_line])[order]


def _intersecting(
    tree: shapely.STRtree, geoms: np.ndarray, *, n_threads: int | None
) -> tuple[np.ndarray, np.ndarray]:
    """``tree.query(geoms, predicate="intersects")`` in chunks on threads: geometry, tree item."""
    bounds = _bounds(geoms.size, n_threads)

    def chunk(i: int) -> np.ndarray:
        found = tree.query(geoms[bounds[i] : bounds[i + 1]], predicate="intersects")
        shifted: np.ndarray = found + np.array([[bounds[i]], [0]])
        return shifted

    pairs = np.concatenate(list(map_chunks(chunk, bounds.size - 1, n_threads)), axis=1)
    return pairs[0], pairs[1]


def snap_to_edges(
    points: gpd.GeoSeries | gpd.GeoDataFrame,
    edges: gpd.GeoDataFrame,
    csr: Csr,
    *,
    max_snap_m: float = 100.0,
    tolerance_m: float = 0.0,
    extra_m: np.ndarray | None = None,
    n_threads: int | None = None,
    index: EdgeIndex | None = None,
    side_points: Callable[[np.ndarray], np.ndarray] | None = None,
) -> SnappedPoints:
    """Place each point on its nearest edge of the network, and on the edges nearly as near.

    Parameters
    ----------
    points
        Point geometries in the network's projected CRS (metres).
    edges
        The edges table ``csr`` was built from (``u``, ``v``, the weight column, LineString
        geometry oriented from ``u`` to ``v``).
    csr
        The graph of ``edges``.
    max_snap_m
        Points farther than this (metres) from every edge are left unsnapped (``snapped`` False).
    tolerance_m
        A point also enters the network through every further edge within ``tolerance_m`` of its
        nearest (and within ``max_snap_m``), each at its own straight distance
        (:attr:`SnappedPoints.links`); a search takes the shortest way through any of them.
        0: the nearest edge only.
    extra_m
        Metres already walked to reach each point (>= 0), added to every path through it (an
        entrance farther from its space than the space's nearest entrance); default 0.
    n_threads
        Threads the nearest-edge search and ``line_locate_point`` are split over; default: every
        CPU. The result does not depend on it.
    index
        An :class:`EdgeIndex` of ``edges``, to share between calls; built here when None.
    side_points
        Where each point's side of a two-sided road is judged from: given positions of points,
        one shapely point for each (default: the points themselves), asked only about points
        that need it. Edges with a ``twin`` column (the barrier-aware network's two copies of a
        major road, :func:`cohesion_gis.cohesion.severance.barrier_aware_network`)
        tie for the nearest edge; a point is put on the copy of its side. An entrance on the
        road itself is judged from the space it leads to.

    Returns
    -------
    SnappedPoints
        Nearest edge, position along it, offsets to both ends (scaled to the edge's weight) and
        the straight snapping distance: the edge and distance of shapely's
        ``STRtree.query_nearest``, found by a compiled grid search (GEOS settles exact ties).
        With a tolerance or ``extra_m``, ``links`` lists every edge each point enters through.

    Raises
    ------
    InputError
        If a CRS is missing, geographic or differs between points and edges, or a geometry is not
        a point.
    """
    geoms = points.geometry
    metric_crs(edges.crs, "edges table")
    metric_crs(geoms.crs, "points")
    if not geoms.crs.equals(edges.crs):
        raise InputError(
            f"points: CRS {geoms.crs.to_string()} differs from the edges' {edges.crs.to_string()}; "
            "reproject the points with .to_crs(edges.crs)."
        )
    require_columns(edges, ["u", "v", csr.weight], "edges table")
    pts = geoms.to_numpy()
    not_point = shapely.get_type_id(pts) != shapely.GeometryType.POINT
    if not_point.any():
        bad = geoms.index[not_point]
        raise InputError(
            f"points: {bad.size} geometrie(s) are not points (index {bad[:5].tolist()}); "
            "pass entrance points for polygons (see entrance_points())."
        )
    for name, value in (("max_snap_m", max_snap_m), ("tolerance_m", tolerance_m)):
        if not np.isfinite(value) or value < 0:
            raise ParameterError(f"{name}: expected a distance >= 0 in metres, got {value}.")
    if extra_m is not None:
        extra_m = np.asarray(extra_m, dtype=np.float64)
        if extra_m.shape != (pts.size,) or not (np.isfinite(extra_m) & (extra_m >= 0)).all():
            raise ParameterError(
                f"extra_m: expected {pts.size} finite distances >= 0 in metres, one per point."
            )

    n = pts.size
    index = (index or EdgeIndex(edges)).check(edges)
    lines = index.lines
    side_of = side_points or pts.__getitem__
    p_idx, e_idx, dist = nearest_edges(index, pts, max_distance_m=max_snap_m, n_threads=n_threads)
    if "twin" in edges.columns:
        e_idx = _own_side(edges, lines, e_idx, p_idx, side_of)
    edge = np.full(n, -1, dtype=np.int64)
    snap_m = np.full(n, np.nan)
    edge[p_idx] = e_idx
    snap_m[p_idx] = dist
    ok = edge >= 0
    ends_u, ends_v, along, length_m = _place(
        edges, csr, lines, e_idx, pts[p_idx], n_threads=n_threads
    )

    node_u = np.full(n, -1, dtype=np.int32)
    node_v = np.full(n, -1, dtype=np.int32)
    along_m = np.full(n, np.nan)
    offset_v = np.full(n, np.nan)
    node_u[p_idx], node_v[p_idx] = ends_u, ends_v
    along_m[p_idx] = along
    offset_v[p_idx] = length_m - along
    links = None
    if tolerance_m > 0 or extra_m is not None:
        links = _links(
            edges, csr, index, pts, edge=edge, snap_m=snap_m,
            nearest=(node_u, node_v, along_m, offset_v),
            limit_m=np.minimum(dist + tolerance_m, max_snap_m) if tolerance_m > 0 else None,
            extra_m=np.zeros(n) if extra_m is None else extra_m,
            side_of=side_of, n_threads=n_threads,
        )  # fmt: skip
    logger.info(
        "snapped %d of %d points to edges (limit %.0f m), %d further edges within %.1f m",
        int(ok.sum()), n, max_snap_m, len(links) - int(ok.sum()) if links else 0, tolerance_m,
    )  # fmt: skip
    return SnappedPoints(
        index=geoms.index,
        edge=edge,
        node_u=node_u,
        node_v=node_v,
        along_m=along_m,
        offset_u_m=along_m.copy(),
        offset_v_m=offset_v,
        snap_m=snap_m,
        snapped=ok,
        links=links,
    )


def _place(
    edges: gpd.GeoDataFrame,
    csr: Csr,
    lines: np.ndarray,
    e_idx: np.ndarray,
    pts: np.ndarray,
    *,
    n_threads: int | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Each point's edge's ends (node indices), the point's place along it and its weight (m).

    The place is measured on the geometry and scaled to the edge's weight.
    """
    ends_u = csr.node_index(edges["u"].to_numpy()[e_idx], where="edges table, column 'u'")
    ends_v = csr.node_index(edges["v"].to_numpy()[e_idx], where="edges table, column 'v'")
    length_m = edges[csr.weight].to_numpy(dtype=np.float64)[e_idx]
    geom_len = shapely.length(lines[e_idx])
    located = _chunked(shapely.line_locate_point, lines[e_idx], pts, n_threads=n_threads)
    scale = np.divide(length_m, geom_len, out=np.zeros_like(length_m), where=geom_len > 0)
    return ends_u, ends_v, np.clip(located * scale, 0.0, length_m), length_m


def _links(
    edges: gpd.GeoDataFrame,
    csr: Csr,
    index: EdgeIndex,
    pts: np.ndarray,
    *,
    edge: np.ndarray,
    snap_m: np.ndarray,
    nearest: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    limit_m: np.ndarray | None,
    extra_m: np.ndarray,
    side_of: Callable[[np.ndarray], np.ndarray],
    n_threads: int | None,
) -> Links:
    """Each snapped point's nearest edge, and every further edge within its ``limit_m``.

    ``limit_m`` has one distance per snapped point (None: the nearest edges only); a two-sided
    road's further edge is its copy on the point's side.
    """
    node_u, node_v, along_m, offset_v = nearest
    ok = np.flatnonzero(edge >= 0)
    point, line, dist = ok, edge[ok], snap_m[ok]
    if limit_m is not None:
        w_point, w_line, w_dist = lines_near(index, pts[ok], limit_m, n_threads=n_threads)
        w_point = ok[w_point]
        if "twin" in edges.columns:
            w_line = _own_side(edges, index.lines, w_line, w_point, side_of)
        point = np.concatenate([point, w_point])
        line = np.concatenate([line, w_line])
        dist = np.concatenate([dist, w_dist])
    # one row per point and edge, the nearest first; the nearest edge keeps its own placement
    first = np.r_[np.ones(ok.size, bool), np.zeros(point.size - ok.size, bool)]
    order = np.lexsort((~first, dist, line, point))
    point, line, dist, first = point[order], line[order], dist[order], first[order]
    keep = np.r_[True, (point[1:] != point[:-1]) | (line[1:] != line[:-1])]
    keep &= first | (line != edge[point])
    point, line, dist, first = point[keep], line[keep], dist[keep], first[keep]
    order = np.lexsort((~first, point))  # by point, the nearest edge first
    point, line, dist, first = point[order], line[order], dist[order], first[order]
    further = np.flatnonzero(~first)
    u = node_u[point].copy()
    v = node_v[point].copy()
    along = along_m[point].copy()
    to_v = offset_v[point].copy()
    u[further], v[further], along[further], length_m = _place(
        edges, csr, index.lines, line[further], pts[point[further]], n_threads=n_threads
    )
    to_v[further] = length_m - along[further]
    return Links(
        point=point,
        edge=line,
        node_u=u,
        node_v=v,
        along_m=along,
        offset_u_m=along.copy(),
        offset_v_m=to_v,
        extra_m=np.maximum(dist - snap_m[point], 0.0) + extra_m[point],
    )


def lines_near(
    index: EdgeIndex,
    geoms: np.ndarray,
    limit_m: np.ndarray,
    *,
    n_threads: int | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every edge within each geometry's distance limit: geometry, edge and distance (m).

    Points by the compiled grid (:func:`~cohesion_gis.network._nearest.lines_within`, GEOS's
    distances bit for bit), other geometries by GEOS's tree (``dwithin``) and
    ``shapely.distance``.

    Parameters
    ----------
    index
        The :class:`EdgeIndex` of the edges.
    geoms
        shapely geometries in the edges' CRS.
    limit_m
        float64 largest distance (m, inclusive) of each geometry's edges.
    n_threads
        Threads the search is split over; default: every CPU. The result does not depend on it.

    Returns
    -------
    tuple of numpy.ndarray
        Positions of the geometries, positions of the edges, distances; by geometry then edge.
    """
    limit_m = np.asarray(limit_m, dtype=np.float64)
    point = (shapely.get_type_id(geoms) == shapely.GeometryType.POINT) & ~shapely.is_empty(geoms)
    points, others = np.flatnonzero(point), np.flatnonzero(~point)
    xy = np.column_stack([shapely.get_x(geoms[points]), shapely.get_y(geoms[points])])
    bounds = _bounds(points.size, n_threads)

    def chunk(i: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        lo, hi = bounds[i], bounds[i + 1]
        g, line, dist = lines_within(index.grid, xy[lo:hi], limit_m[points[lo:hi]])
        return points[g + lo], line, dist

    parts = list(map_chunks(chunk, bounds.size - 1, n_threads))
    g_idx, o_line = index.tree.query(geoms[others], predicate="dwithin", distance=limit_m[others])
    o_geom = others[g_idx]
    o_dist = shapely.distance(geoms[o_geom], index.lines[o_line])
    near = o_dist <= limit_m[o_geom]
    geom = np.concatenate([*(p[0] for p in parts), o_geom[near]])
    line = np.concatenate([*(p[1] for p in parts), o_line[near]])
    dist = np.concatenate([*(p[2] for p in parts), o_dist[near]])
    order = np.lexsort((line, geom))
    return geom[order], line[order], dist[order]


def _own_side(
    edges: gpd.GeoDataFrame,
    lines: np.ndarray,
    e_idx: np.ndarray,
    p_idx: np.ndarray,
    side_of: Callable[[np.ndarray], np.ndarray],
) -> np.ndarray:
    """``e_idx`` (the nearest edge of points ``p_idx``), each beside a road put on its side's copy.

    Edges with a ``twin`` (the barrier-aware network's left and right copies of a major road,
    same geometry) are a tie for the nearest edge; the point's side is the sign of the cross
    product of the line's direction at its nearest point (over ±0.5 m) and the offset to the
    point ``side_of(positions)`` gives. A point on the line itself keeps the copy it was given.
    """
    twin = edges["twin"].to_numpy()[e_idx]
    todo = np.flatnonzero(twin >= 0)
    if not todo.size:
        return e_idx
    line, pt = lines[e_idx[todo]], side_of(p_idx[todo])
    at = shapely.line_locate_point(line, pt)
    a = shapely.line_interpolate_point(line, np.maximum(at - 0.5, 0.0))
    b = shapely.line_interpolate_point(line, np.minimum(at + 0.5, shapely.length(line)))
    ax, ay = shapely.get_x(a), shapely.get_y(a)
    cross = (shapely.get_x(b) - ax) * (shapely.get_y(pt) - ay) - (shapely.get_y(b) - ay) * (
        shapely.get_x(pt) - ax
    )
    left = edges["side"].to_numpy()[e_idx[todo]] == "left"
    wrong = np.where(left, cross < 0.0, cross > 0.0)
    out = e_idx.copy()
    out[todo[wrong]] = twin[todo[wrong]]
    return out


def entrance_points(
    polygons: gpd.GeoSeries | gpd.GeoDataFrame,
    edges: gpd.GeoDataFrame,
    *,
    max_gap_m: float = 50.0,
    tolerance_m: float = 0.0,
    n_threads: int | None = None,
    index: EdgeIndex | None = None,
) -> gpd.GeoDataFrame:
    """Find where each polygon can be entered from the walk network.

    An entrance is every point where the polygon's boundary meets a walkable edge. A polygon no
    edge crosses (a park behind a fence line of houses, a small square) is entered at the nearest
    point of the nearest edge, if that edge is within ``max_gap_m``, and of every further edge
    within ``tolerance_m`` of the nearest (the rule :func:`snap_to_edges` applies to points).
    Point geometries are handled like polygons with no crossing edge.

    Parameters
    ----------
    polygons
        Geometries (Polygon, MultiPolygon, or Point) in the edges' projected CRS.
    edges
        Walk network edges with LineString geometry.
    max_gap_m
        Largest distance in metres from a polygon to its nearest edge for the fallback entrance.
    tolerance_m
        Further edges within this many metres of the nearest give fallback entrances too.
    n_threads
        Threads the GEOS queries and intersections are split over; default: every CPU. The
        result does not depend on it.
    index
        An :class:`EdgeIndex` of ``edges``, to share between calls; built here when None.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``polygon`` (int64 position of the polygon in ``polygons``), ``edge`` (int64
        position of the edge the entrance lies on), ``gap_m`` (float64 metres from the entrance
        to its polygon: 0 where the boundary crosses the edge) and Point ``geometry``; sorted by
        polygon, edge, x, y.
        Polygons with no entrance within ``max_gap_m`` have no rows.
    """
    geoms = polygons.geometry
    metric_crs(edges.crs, "edges table")
    metric_crs(geoms.crs, "polygons")
    if not geoms.crs.equals(edges.crs):
        raise InputError(
            f"polygons: CRS {geoms.crs.to_string()} differs from the edges' "
            f"{edges.crs.to_string()}; reproject with .to_crs(edges.crs)."
        )
    polys = geoms.to_numpy()
    index = (index or EdgeIndex(edges)).check(edges)
    lines, tree = index.lines, index.tree
    boundary = shapely.boundary(polys)
    b_idx, e_idx = _intersecting(tree, boundary, n_threads=n_threads)
    crossings = _chunked(shapely.intersection, boundary[b_idx], lines[e_idx], n_threads=n_threads)
    coords, which = shapely.get_coordinates(crossings, return_index=True)
    found = pd.DataFrame(
        {"polygon": b_idx[which], "edge": e_idx[which], "x": coords[:, 0], "y": coords[:, 1]}
    ).drop_duplicates(["polygon", "x", "y"])

    missing = np.setdiff1d(np.arange(polys.size), found["polygon"].to_numpy())
    m_idx, n_idx = _nearest_lines(index, polys[missing], max_gap_m, n_threads=n_threads)
    if tolerance_m > 0 and m_idx.size:
        gap = shapely.distance(polys[missing][m_idx], lines[n_idx])
        near = np.minimum(gap + tolerance_m, max_gap_m)
        w_idx, w_line, _ = lines_near(index, polys[missing][m_idx], near, n_threads=n_threads)
        pairs = pd.DataFrame(
            {"m": np.r_[m_idx, m_idx[w_idx]], "line": np.r_[n_idx, w_line]}
        ).drop_duplicates()
        m_idx, n_idx = pairs["m"].to_numpy(), pairs["line"].to_numpy()
    to_line = _chunked(
        shapely.shortest_line, lines[n_idx], polys[missing][m_idx], n_threads=n_threads
    )
    nearest = shapely.get_point(to_line, 0)
    fallback = pd.DataFrame(
        {
            "polygon": missing[m_idx],
            "edge": n_idx,
            "x": shapely.get_x(nearest),
            "y": shapely.get_y(nearest),
            "gap_m": shapely.length(to_line),
        }
    )
    table = pd.concat([found.assign(gap_m=0.0), fallback], ignore_index=True).sort_values(
        ["polygon", "edge", "x", "y"], ignore_index=True
    )
    logger.info(
        "entrances: %d crossings for %d polygons, %d by nearest edges, %d polygons with none",
        len(found),
        found["polygon"].nunique(),
        len(fallback),
        missing.size - fallback["polygon"].nunique(),
    )
    return gpd.GeoDataFrame(
        table[["polygon", "edge"]].astype(np.int64).assign(gap_m=table["gap_m"].to_numpy()),
        geometry=gpd.points_from_xy(table["x"], table["y"]),
        crs=edges.crs,
    )
