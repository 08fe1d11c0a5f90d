"""The accessibility engine: compact graphs, snapping to edges, bounded multi-source shortest paths.

Every cohesion component reads one table built here: for each home (a point on the walk network)
and each contact space (a *group* of entrances), the shortest walking distance in metres, if it
is within a limit. The steps are

1. :func:`csr_from_edges` turns the ``nodes``/``edges`` tables of a study area into a :class:`Csr`
   (compressed sparse rows of the undirected graph, both directions stored);
2. :func:`snap_to_edges` places points on their nearest edge, part-way along it, and
   :func:`entrance_points` finds where polygons (parks) meet walkable edges;
3. :func:`bounded_distances` (seeds given as nodes and offsets) or :func:`distances_from_points`
   (seeds given as snapped points) runs one bounded Dijkstra search per group in compiled code
   (:mod:`cohesion_gis._search`), whose cost is what the search touches, and returns sparse
   (group, node, distance) triples;
4. :func:`point_to_group_distances` turns those into exact point-to-group distances, through either
   end of the point's edge or directly along a shared edge; :func:`distances_to_points` does steps
   3 and 4 in one pass without storing the per-node triples (what metro-scale studies need), and
   lets every group have its own radius;
5. :func:`node_aggregates` gives the standard per-node counts and gravity sums from the triples;
   :func:`node_aggregates_from_seeds` gives the same straight from the searches, storing no pairs.

:func:`bounded_distances_reference` is the same computation with ``scipy.sparse.csgraph.dijkstra``;
the tests check the compiled kernel against it.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from cohesion_gis._nearest import SegmentGrid, cell_order, nearest_segments
from cohesion_gis._search import (
    aggregate_groups,
    expand_ranges,
    map_chunks,
    node_sums,
    search_groups,
    search_to_points,
)
from cohesion_gis.errors import InputError, ParameterError

__all__ = [
    "Csr",
    "EdgeIndex",
    "EdgeSeeds",
    "SnappedPoints",
    "SparseDistances",
    "bounded_distances",
    "bounded_distances_reference",
    "csr_from_edges",
    "distances_from_points",
    "distances_to_points",
    "entrance_points",
    "node_aggregates",
    "node_aggregates_from_seeds",
    "point_to_group_distances",
    "snap_to_edges",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class Csr:
    """An undirected street graph as compressed sparse rows (both directions stored).

    Attributes
    ----------
    indptr
        int64, length ``n_nodes + 1``: the neighbours of node ``i`` are
        ``indices[indptr[i]:indptr[i + 1]]``.
    indices
        int32 neighbour node indices (positions in ``node_ids``).
    weights_m
        float64 edge weights in metres, aligned with ``indices``; of parallel edges only the
        shortest is kept.
    node_ids
        int64 original node id (OSM node id) of each node index, in ``nodes`` table order.
    x, y
        float64 node coordinates in metres, in the study area's projected CRS.
    weight
        Name of the ``edges`` column the weights came from (e.g. ``"length_m"``).
    """

    indptr: np.ndarray
    indices: np.ndarray
    weights_m: np.ndarray
    node_ids: np.ndarray
    x: np.ndarray
    y: np.ndarray
    weight: str = "length_m"

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return int(self.node_ids.size)

    @property
    def n_edges(self) -> int:
        """Number of undirected edges (each stored twice, once per direction)."""
        return int(self.indices.size // 2)

    @cached_property
    def _id_index(self) -> pd.Index:
        """``node_ids`` as an index (its hash table built once, on first look-up)."""
        return pd.Index(self.node_ids)

    def node_index(
        self, node_ids: Sequence[int] | np.ndarray, *, where: str = "node ids"
    ) -> np.ndarray:
        """Return the int32 node index of each node id.

        Raises
        ------
        InputError
            If a node id is not in the graph; ``where`` names the input in the message.
        """
        idx = self._id_index.get_indexer(np.asarray(node_ids, dtype=np.int64))
        if (idx < 0).any():
            missing = np.asarray(node_ids)[idx < 0]
            raise InputError(
                f"{where}: {missing.size} node id(s) are not in the network's nodes table "
                f"(first: {missing[:5].tolist()}); build the graph from matching nodes and edges."
            )
        return idx.astype(np.int32)


@dataclass(frozen=True, eq=False)
class EdgeSeeds:
    """Seeds that sit part-way along an edge, kept so that points on the same edge connect directly.

    Attributes
    ----------
    edge
        int64 position of the seed's edge in the ``edges`` table.
    along_m
        float64 distance in metres from the edge's ``u`` end along the edge.
    group
        int32 group of each seed.
    """

    edge: np.ndarray
    along_m: np.ndarray
    group: np.ndarray


@dataclass(frozen=True, eq=False)
class SparseDistances:
    """Bounded shortest distances from groups of seeds to nodes, as sparse triples.

    Attributes
    ----------
    group, node, dist_m
        int32 group, int32 node index and float64 distance in metres of every reached
        (group, node) pair with ``dist_m <= limit_m``, sorted by group then node.
    n_groups
        Number of groups (group codes are ``0 .. n_groups - 1``).
    n_nodes
        Number of nodes of the graph searched.
    limit_m
        The search radius in metres.
    edge_seeds
        The seeds' positions along edges, when the seeds were snapped points
        (:func:`distances_from_points`); ``None`` when they were nodes.
    """

    group: np.ndarray
    node: np.ndarray
    dist_m: np.ndarray
    n_groups: int
    n_nodes: int
    limit_m: float
    edge_seeds: EdgeSeeds | None = None

    def __len__(self) -> int:
        return int(self.node.size)


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

    def __len__(self) -> int:
        return int(self.edge.size)

    @cached_property
    def by_end(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The snapped points listed by edge end: ``(ptr, point, offset_m)``.

        The points whose edge ends at node ``n`` are ``point[ptr[n]:ptr[n + 1]]``, each with its
        distance along the edge to that node; ``ptr`` runs to the highest node any edge ends at.
        Computed once per snapping, as every search against these points reads it.
        """
        pts = np.flatnonzero(self.snapped)
        end_node = np.concatenate([self.node_u[pts], self.node_v[pts]]).astype(np.int64)
        ptr, order = _csr_of(end_node, int(end_node.max(initial=-1)) + 1)
        offset = np.concatenate([self.offset_u_m[pts], self.offset_v_m[pts]])
        return ptr, np.concatenate([pts, pts])[order], offset[order]

    @cached_property
    def by_edge(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The snapped points listed by edge: ``(ptr, point, along_m)``, as :attr:`by_end`."""
        pts = np.flatnonzero(self.snapped)
        ptr, order = _csr_of(self.edge[pts], int(self.edge[pts].max(initial=-1)) + 1)
        return ptr, pts[order], self.along_m[pts][order]


def _require_columns(table: pd.DataFrame, columns: Sequence[str], where: str) -> None:
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise InputError(
            f"{where}: missing column(s) {missing}; got {list(table.columns)}. "
            "Build the network tables with cohesion_gis.load_city() or follow the data contract."
        )


def _require_metric_crs(frame: gpd.GeoDataFrame | gpd.GeoSeries, where: str) -> None:
    if frame.crs is None:
        raise InputError(f"{where}: has no CRS; set it with .set_crs() before snapping.")
    if frame.crs.is_geographic:
        raise InputError(
            f"{where}: CRS {frame.crs.to_string()} is geographic (degrees); distances need metres. "
            "Reproject with .to_crs(frame.estimate_utm_crs())."
        )


def csr_from_edges(nodes: pd.DataFrame, edges: pd.DataFrame, *, weight: str = "length_m") -> Csr:
    """Build the compact undirected graph of a street network.

    Parameters
    ----------
    nodes
        Nodes table indexed by unique int64 ``node_id``, with ``x`` and ``y`` columns in metres.
    edges
        Edges table, one row per undirected segment, with ``u`` and ``v`` node ids and the
        ``weight`` column.
    weight
        Edge column holding the traversal cost in metres (non-negative, finite).

    Returns
    -------
    Csr
        Both directions of every edge; self-loops are dropped (they never shorten a path) and of
        parallel edges the shortest is kept.

    Raises
    ------
    InputError
        If a column is missing, node ids repeat, an edge names an unknown node, or a weight is
        negative or not finite.

    Examples
    --------
    >>> import pandas as pd
    >>> nodes = pd.DataFrame({"x": [0.0, 100.0, 100.0], "y": [0.0, 0.0, 50.0]}, index=[7, 8, 9])
    >>> edges = pd.DataFrame({"u": [7, 8, 7], "v": [8, 9, 8], "length_m": [100.0, 50.0, 120.0]})
    >>> csr = csr_from_edges(nodes, edges)
    >>> csr.n_nodes, csr.n_edges, csr.weights_m.tolist()
    (3, 2, [100.0, 100.0, 50.0, 50.0])
    """
    _require_columns(nodes, ["x", "y"], "nodes table")
    _require_columns(edges, ["u", "v", weight], "edges table")
    if not nodes.index.is_unique:
        dup = nodes.index[nodes.index.duplicated()].unique()
        raise InputError(
            f"nodes table: {dup.size} node id(s) repeat (first: {dup[:5].tolist()}); "
            "node ids must be unique."
        )
    node_ids = nodes.index.to_numpy(dtype=np.int64)
    n = node_ids.size
    w = edges[weight].to_numpy(dtype=np.float64)
    bad = ~np.isfinite(w) | (w < 0)
    if bad.any():
        rows = np.flatnonzero(bad)
        raise InputError(
            f"edges table, column {weight!r}: {rows.size} weight(s) are negative or not finite "
            f"(rows {rows[:5].tolist()}, values {w[rows[:5]].tolist()}); expected metres >= 0."
        )
    lookup = pd.Index(node_ids)
    u = lookup.get_indexer(edges["u"].to_numpy(dtype=np.int64))
    v = lookup.get_indexer(edges["v"].to_numpy(dtype=np.int64))
    unknown = (u < 0) | (v < 0)
    if unknown.any():
        rows = np.flatnonzero(unknown)
        raise InputError(
            f"edges table: {rows.size} edge(s) name node ids missing from the nodes table "
            f"(rows {rows[:5].tolist()}); drop them or add the nodes."
        )
    keep = u != v
    u, v, w = u[keep], v[keep], w[keep]
    src = np.concatenate([u, v]).astype(np.int64)
    dst = np.concatenate([v, u]).astype(np.int64)
    ww = np.concatenate([w, w])
    key = src * n + dst
    order = np.argsort(key, kind="stable")
    key, ww = key[order], ww[order]
    if key.size:
        starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
        ww = np.minimum.reduceat(ww, starts)
        key = key[starts]
    src = key // n
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(src, minlength=n), out=indptr[1:])
    csr = Csr(
        indptr=indptr,
        indices=(key % n).astype(np.int32),
        weights_m=np.ascontiguousarray(ww, dtype=np.float64),
        node_ids=node_ids,
        x=nodes["x"].to_numpy(dtype=np.float64),
        y=nodes["y"].to_numpy(dtype=np.float64),
        weight=weight,
    )
    logger.info("graph: %d nodes, %d undirected edges (weight %r)", n, csr.n_edges, weight)
    return csr


def _group_seeds(
    csr: Csr,
    seed_node_idx: np.ndarray,
    seed_offset_m: np.ndarray,
    seed_group: np.ndarray,
    limit_m: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Validate seeds; return them ordered by group with the group pointer and group count."""
    node = np.asarray(seed_node_idx, dtype=np.int64)
    offset = np.asarray(seed_offset_m, dtype=np.float64)
    group = np.asarray(seed_group, dtype=np.int64)
    if not (node.shape == offset.shape == group.shape) or node.ndim != 1:
        raise InputError(
            "seeds: seed_node_idx, seed_offset_m and seed_group must be 1-D arrays of one length; "
            f"got shapes {node.shape}, {offset.shape}, {group.shape}."
        )
    if not np.isfinite(limit_m) or limit_m < 0:
        raise ParameterError(f"limit_m: expected a finite distance >= 0 in metres, got {limit_m}.")
    if node.size and (node.min() < 0 or node.max() >= csr.n_nodes):
        raise InputError(
            f"seeds: node indices must lie in 0..{csr.n_nodes - 1}; "
            f"got {node.min()}..{node.max()}. Convert node ids with Csr.node_index()."
        )
    if node.size and group.min() < 0:
        raise InputError(f"seeds: group codes must be >= 0, got {group.min()}.")
    if (~np.isfinite(offset) | (offset < 0)).any():
        raise InputError("seeds: offsets must be finite distances >= 0 in metres.")
    n_groups = int(group.max()) + 1 if group.size else 0
    order = np.argsort(group, kind="stable")
    group_ptr = np.zeros(n_groups + 1, dtype=np.int64)
    np.cumsum(np.bincount(group, minlength=n_groups), out=group_ptr[1:])
    return node[order].astype(np.int32), offset[order], group_ptr, n_groups


def bounded_distances(
    csr: Csr,
    seed_node_idx: np.ndarray,
    seed_offset_m: np.ndarray,
    seed_group: np.ndarray,
    *,
    limit_m: float,
    n_threads: int | None = None,
) -> SparseDistances:
    r"""Shortest network distance from each group of seeds to every node within a limit.

    A group's distance to node :math:`v` is

    .. math:: d_g(v) = \min_{s \in g} \left( o_s + \delta(n_s, v) \right)

    where :math:`n_s` is seed :math:`s`'s node, :math:`o_s` its offset and :math:`\delta` the
    shortest-path distance on the graph. Pairs with :math:`d_g(v) \le` ``limit_m`` are returned.
    One Dijkstra search runs per group in compiled code; its cost grows with the nodes it reaches,
    not with the size of the graph.

    Parameters
    ----------
    csr
        The graph.
    seed_node_idx
        Node index (position in ``csr.node_ids``) of every seed.
    seed_offset_m
        Initial distance of every seed in metres (e.g. from an entrance part-way along an edge to
        the node); ``>= 0``.
    seed_group
        Group code (``>= 0``) of every seed; groups are numbered ``0 .. max(seed_group)``.
    limit_m
        Search radius in metres (inclusive).
    n_threads
        Worker threads; default: every CPU.

    Returns
    -------
    SparseDistances
        Triples sorted by group then node.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> nodes = pd.DataFrame({"x": [0.0, 100.0, 200.0], "y": [0.0, 0.0, 0.0]}, index=[1, 2, 3])
    >>> edges = pd.DataFrame({"u": [1, 2], "v": [2, 3], "length_m": [100.0, 100.0]})
    >>> csr = csr_from_edges(nodes, edges)
    >>> d = bounded_distances(csr, np.array([0]), np.array([30.0]), np.array([0]), limit_m=150.0)
    >>> d.node.tolist(), d.dist_m.tolist()
    ([0, 1], [30.0, 130.0])
    """
    node, offset, group_ptr, n_groups = _group_seeds(
        csr, seed_node_idx, seed_offset_m, seed_group, limit_m
    )
    group, reached, dist = search_groups(
        csr.indptr,
        csr.indices,
        csr.weights_m,
        group_ptr=group_ptr,
        seed_node=node,
        seed_offset=offset,
        limit=limit_m,
        x=csr.x,
        y=csr.y,
        n_threads=n_threads,
    )
    logger.info(
        "bounded search: %d groups, %d seeds, limit %.0f m -> %d (group, node) pairs",
        n_groups,
        node.size,
        limit_m,
        reached.size,
    )
    return SparseDistances(
        group=group,
        node=reached,
        dist_m=dist,
        n_groups=n_groups,
        n_nodes=csr.n_nodes,
        limit_m=float(limit_m),
    )


def bounded_distances_reference(
    csr: Csr,
    seed_node_idx: np.ndarray,
    seed_offset_m: np.ndarray,
    seed_group: np.ndarray,
    *,
    limit_m: float,
) -> SparseDistances:
    """Compute :func:`bounded_distances` with plain ``scipy.sparse.csgraph.dijkstra``.

    The reference the tests compare the compiled kernel with: one bounded scipy search per seed
    (in batches), the seed's offset added, then the minimum per (group, node). Slow on large graphs
    (scipy returns a dense row per source), exact everywhere.
    """
    # Imported here: the engine itself does not need scipy (22 MB of a process that only searches).
    from scipy.sparse import csr_array
    from scipy.sparse.csgraph import dijkstra

    node, offset, group_ptr, n_groups = _group_seeds(
        csr, seed_node_idx, seed_offset_m, seed_group, limit_m
    )
    group = np.repeat(np.arange(n_groups, dtype=np.int64), np.diff(group_ptr))
    graph = csr_array((csr.weights_m, csr.indices, csr.indptr), shape=(csr.n_nodes,) * 2)
    batch = max(1, 20_000_000 // max(csr.n_nodes, 1))
    parts_g, parts_n, parts_d = [], [], []
    for start in range(0, node.size, batch):
        sl = slice(start, start + batch)
        rows = dijkstra(graph, directed=True, indices=node[sl], limit=limit_m)
        total = rows + offset[sl, None]
        r, c = np.nonzero(total <= limit_m)
        parts_g.append(group[sl][r])
        parts_n.append(c)
        parts_d.append(total[r, c])
    g = np.concatenate([np.empty(0, np.int64), *parts_g])
    n = np.concatenate([np.empty(0, np.int64), *parts_n])
    d = np.concatenate([np.empty(0, np.float64), *parts_d])
    order = np.lexsort((d, n, g))
    g, n, d = g[order], n[order], d[order]
    first = np.r_[True, (g[1:] != g[:-1]) | (n[1:] != n[:-1])] if g.size else np.zeros(0, bool)
    return SparseDistances(
        group=g[first].astype(np.int32),
        node=n[first].astype(np.int32),
        dist_m=d[first],
        n_groups=n_groups,
        n_nodes=csr.n_nodes,
        limit_m=float(limit_m),
    )


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
    """

    def __init__(self, edges: gpd.GeoDataFrame) -> None:
        self.lines = edges.geometry.to_numpy()

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


def _nearest_edges(
    index: EdgeIndex, pts: np.ndarray, *, max_distance: float, n_threads: int | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Nearest line of each point within ``max_distance``: point, line, distance (metres).

    The same answer as ``STRtree(lines).query_nearest(pts, all_matches=False)``: a compiled grid
    search (:mod:`cohesion_gis._nearest`, GEOS's distances bit for bit) over chunks of points on
    threads, and GEOS itself for the points with several lines at exactly the nearest distance,
    where only GEOS's traversal order says which one it returns. The points are searched cell
    by cell (:func:`~cohesion_gis._nearest.cell_order`), so that neighbours share cached cells.
    """
    grid = index.grid
    xy = shapely.get_coordinates(pts)
    order = cell_order(grid, xy)
    xy = xy[order]
    bounds = _bounds(pts.size, n_threads)

    def chunk(i: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return nearest_segments(grid, xy[bounds[i] : bounds[i + 1]], max_distance)

    parts = list(map_chunks(chunk, bounds.size - 1, n_threads))
    line, dist, tied = (np.empty_like(parts[0][k], shape=order.size) for k in range(3))
    for k, out in enumerate((line, dist, tied)):
        out[order] = np.concatenate([p[k] for p in parts])
    tied = np.flatnonzero(tied)
    if tied.size:
        p_idx, e_idx, _ = _nearest(
            index.tree, pts[tied], max_distance=max_distance, n_threads=n_threads
        )
        line[tied[p_idx]] = e_idx
    found = np.flatnonzero(line >= 0)
    return found, line[found], dist[found]


def _nearest_lines(
    index: EdgeIndex, geoms: np.ndarray, max_distance: float, *, n_threads: int | None
) -> tuple[np.ndarray, np.ndarray]:
    """``tree.query_nearest`` (first match) of any geometries: geometry and line, by geometry.

    Points take the compiled grid search (:func:`_nearest_edges`, the same answer), the rest
    GEOS's tree.
    """
    point = (shapely.get_type_id(geoms) == shapely.GeometryType.POINT) & ~shapely.is_empty(geoms)
    points, others = np.flatnonzero(point), np.flatnonzero(~point)
    p_idx, p_line, _ = _nearest_edges(
        index, geoms[points], max_distance=max_distance, n_threads=n_threads
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
        return found + np.array([[bounds[i]], [0]])

    pairs = np.concatenate(list(map_chunks(chunk, bounds.size - 1, n_threads)), axis=1)
    return pairs[0], pairs[1]


def snap_to_edges(
    points: gpd.GeoSeries | gpd.GeoDataFrame,
    edges: gpd.GeoDataFrame,
    csr: Csr,
    *,
    max_snap_m: float = 100.0,
    n_threads: int | None = None,
    index: EdgeIndex | None = None,
    side_points: Callable[[np.ndarray], np.ndarray] | None = None,
) -> SnappedPoints:
    """Place each point on its nearest edge of the network.

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

    Raises
    ------
    InputError
        If a CRS is missing, geographic or differs between points and edges, or a geometry is not
        a point.
    """
    geoms = points.geometry
    _require_metric_crs(edges, "edges table")
    _require_metric_crs(geoms, "points")
    if not geoms.crs.equals(edges.crs):
        raise InputError(
            f"points: CRS {geoms.crs.to_string()} differs from the edges' {edges.crs.to_string()}; "
            "reproject the points with .to_crs(edges.crs)."
        )
    _require_columns(edges, ["u", "v", csr.weight], "edges table")
    pts = geoms.to_numpy()
    not_point = shapely.get_type_id(pts) != shapely.GeometryType.POINT
    if not_point.any():
        bad = geoms.index[not_point]
        raise InputError(
            f"points: {bad.size} geometrie(s) are not points (index {bad[:5].tolist()}); "
            "pass entrance points for polygons (see entrance_points())."
        )
    if not np.isfinite(max_snap_m) or max_snap_m < 0:
        raise ParameterError(f"max_snap_m: expected a distance >= 0 in metres, got {max_snap_m}.")

    n = pts.size
    index = (index or EdgeIndex(edges)).check(edges)
    lines = index.lines
    p_idx, e_idx, dist = _nearest_edges(index, pts, max_distance=max_snap_m, n_threads=n_threads)
    if "twin" in edges.columns:
        e_idx = _own_side(edges, lines, e_idx, p_idx, side_points or pts.__getitem__)
    edge = np.full(n, -1, dtype=np.int64)
    snap_m = np.full(n, np.nan)
    edge[p_idx] = e_idx
    snap_m[p_idx] = dist
    ok = edge >= 0

    ends_u = csr.node_index(edges["u"].to_numpy()[e_idx], where="edges table, column 'u'")
    ends_v = csr.node_index(edges["v"].to_numpy()[e_idx], where="edges table, column 'v'")
    length_m = edges[csr.weight].to_numpy(dtype=np.float64)[e_idx]
    geom_len = shapely.length(lines[e_idx])
    located = _chunked(shapely.line_locate_point, lines[e_idx], pts[p_idx], n_threads=n_threads)
    scale = np.divide(length_m, geom_len, out=np.zeros_like(length_m), where=geom_len > 0)
    along = np.clip(located * scale, 0.0, length_m)

    node_u = np.full(n, -1, dtype=np.int32)
    node_v = np.full(n, -1, dtype=np.int32)
    along_m = np.full(n, np.nan)
    offset_v = np.full(n, np.nan)
    node_u[p_idx], node_v[p_idx] = ends_u, ends_v
    along_m[p_idx] = along
    offset_v[p_idx] = length_m - along
    logger.info("snapped %d of %d points to edges (limit %.0f m)", int(ok.sum()), n, max_snap_m)
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
    )


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
    n_threads: int | None = None,
    index: EdgeIndex | None = None,
) -> gpd.GeoDataFrame:
    """Find where each polygon can be entered from the walk network.

    An entrance is every point where the polygon's boundary meets a walkable edge. A polygon no
    edge crosses (a park behind a fence line of houses, a small square) is entered at the nearest
    point of the nearest edge, if that edge is within ``max_gap_m``. Point geometries are handled
    like polygons with no crossing edge.

    Parameters
    ----------
    polygons
        Geometries (Polygon, MultiPolygon, or Point) in the edges' projected CRS.
    edges
        Walk network edges with LineString geometry.
    max_gap_m
        Largest distance in metres from a polygon to its nearest edge for the fallback entrance.
    n_threads
        Threads the GEOS queries and intersections are split over; default: every CPU. The
        result does not depend on it.
    index
        An :class:`EdgeIndex` of ``edges``, to share between calls; built here when None.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``polygon`` (int64 position of the polygon in ``polygons``), ``edge`` (int64
        position of the edge the entrance lies on) and Point ``geometry``; sorted by polygon,
        edge, x, y.
        Polygons with no entrance within ``max_gap_m`` have no rows.
    """
    geoms = polygons.geometry
    _require_metric_crs(edges, "edges table")
    _require_metric_crs(geoms, "polygons")
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
    nearest = shapely.get_point(
        _chunked(shapely.shortest_line, lines[n_idx], polys[missing][m_idx], n_threads=n_threads),
        0,
    )
    fallback = pd.DataFrame(
        {
            "polygon": missing[m_idx],
            "edge": n_idx,
            "x": shapely.get_x(nearest),
            "y": shapely.get_y(nearest),
        }
    )
    table = pd.concat([found, fallback], ignore_index=True).sort_values(
        ["polygon", "edge", "x", "y"], ignore_index=True
    )
    logger.info(
        "entrances: %d crossings for %d polygons, %d by nearest edge, %d polygons with none",
        len(found),
        found["polygon"].nunique(),
        len(fallback),
        missing.size - len(fallback),
    )
    return gpd.GeoDataFrame(
        table[["polygon", "edge"]].astype(np.int64),
        geometry=gpd.points_from_xy(table["x"], table["y"]),
        crs=edges.crs,
    )


def distances_from_points(
    csr: Csr,
    seeds: SnappedPoints,
    *,
    group: np.ndarray | None = None,
    limit_m: float,
    n_threads: int | None = None,
) -> SparseDistances:
    """Bounded distances from groups of snapped points (e.g. the entrances of each park).

    Each snapped seed enters the graph at both ends of its edge with the matching offsets, and its
    place on the edge is kept so that :func:`point_to_group_distances` connects points on the same
    edge directly. Unsnapped seeds are ignored.

    Parameters
    ----------
    csr
        The graph the seeds were snapped to.
    seeds
        Snapped seed points.
    group
        Group code (``>= 0``) of each seed, e.g. the ``polygon`` column of
        :func:`entrance_points`; default: every seed is its own group.
    limit_m
        Search radius in metres.
    n_threads
        Worker threads; default: every CPU.
    """
    codes = np.arange(len(seeds)) if group is None else np.asarray(group, dtype=np.int64)
    if codes.shape != (len(seeds),):
        raise InputError(f"group: expected one code per seed ({len(seeds)}), got {codes.shape}.")
    ok = seeds.snapped
    node = np.concatenate([seeds.node_u[ok], seeds.node_v[ok]])
    offset = np.concatenate([seeds.offset_u_m[ok], seeds.offset_v_m[ok]])
    doubled = np.concatenate([codes[ok], codes[ok]])
    sparse = bounded_distances(csr, node, offset, doubled, limit_m=limit_m, n_threads=n_threads)
    n_groups = int(codes.max()) + 1 if codes.size else 0
    return SparseDistances(
        group=sparse.group,
        node=sparse.node,
        dist_m=sparse.dist_m,
        n_groups=max(n_groups, sparse.n_groups),
        n_nodes=sparse.n_nodes,
        limit_m=sparse.limit_m,
        edge_seeds=EdgeSeeds(
            edge=seeds.edge[ok], along_m=seeds.along_m[ok], group=codes[ok].astype(np.int32)
        ),
    )


def point_to_group_distances(
    sparse: SparseDistances, points: SnappedPoints, *, limit_m: float
) -> pd.DataFrame:
    r"""Exact network distance from each snapped point to each group within a limit.

    A point at offsets :math:`a_u, a_v` from the ends of its edge reaches group :math:`g` at

    .. math:: d(p, g) = \min\left(a_u + d_g(u),\; a_v + d_g(v),\;
              \min_{s \in g,\ e_s = e_p} |t_p - t_s| \right)

    the last term for seeds of :math:`g` on the point's own edge (positions :math:`t` along it),
    available when ``sparse`` came from :func:`distances_from_points`.

    Parameters
    ----------
    sparse
        Bounded distances from the groups.
    points
        Snapped points (e.g. homes), snapped to the same edges.
    limit_m
        Largest distance in metres to keep; at most ``sparse.limit_m``.

    Returns
    -------
    pandas.DataFrame
        Columns ``point`` (int64 position in ``points``; labels are ``points.index[point]``),
        ``group`` (int32) and ``dist_m`` (float64, metres), sorted by point then group.
    """
    if not 0 <= limit_m <= sparse.limit_m:
        raise ParameterError(
            f"limit_m: must lie in 0..{sparse.limit_m} m (the radius the groups were searched "
            f"with), got {limit_m}; search again with a larger limit_m."
        )
    node_count = np.bincount(sparse.node, minlength=sparse.n_nodes)
    node_ptr = np.concatenate([[0], np.cumsum(node_count)])
    by_node = np.argsort(sparse.node, kind="stable")
    pts = np.flatnonzero(points.snapped)
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    for end, offset in ((points.node_u, points.offset_u_m), (points.node_v, points.offset_v_m)):
        ends = end[pts]
        count = node_count[ends]
        triple = by_node[expand_ranges(node_ptr[ends], count)]
        dist = np.repeat(offset[pts], count) + sparse.dist_m[triple]
        keep = dist <= limit_m
        parts.append((np.repeat(pts, count)[keep], sparse.group[triple][keep], dist[keep]))
    if sparse.edge_seeds is not None:
        seeds = sparse.edge_seeds
        order = np.argsort(seeds.edge, kind="stable")
        seed_edge = seeds.edge[order]
        lo = np.searchsorted(seed_edge, points.edge[pts], side="left")
        count = np.searchsorted(seed_edge, points.edge[pts], side="right") - lo
        seed = order[expand_ranges(lo, count)]
        dist = np.abs(np.repeat(points.along_m[pts], count) - seeds.along_m[seed])
        keep = dist <= limit_m
        parts.append((np.repeat(pts, count)[keep], seeds.group[seed][keep], dist[keep]))
    point = np.concatenate([p[0] for p in parts]).astype(np.int64)
    group = np.concatenate([p[1] for p in parts]).astype(np.int64)
    dist = np.concatenate([p[2] for p in parts])
    order = np.lexsort((dist, group, point))
    point, group, dist = point[order], group[order], dist[order]
    first = np.r_[True, (point[1:] != point[:-1]) | (group[1:] != group[:-1])][: point.size]
    return pd.DataFrame(
        {"point": point[first], "group": group[first].astype(np.int32), "dist_m": dist[first]}
    )


def _extended(ptr: np.ndarray, size: int) -> np.ndarray:
    """Row pointer ``ptr`` extended with empty rows to ``size`` rows."""
    if ptr.size > size:
        return ptr
    return np.concatenate([ptr, np.full(size + 1 - ptr.size, ptr[-1])])


def _csr_of(key: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Row pointer and stable order grouping ``key`` (ints in ``0 .. size - 1``) into rows."""
    order = np.argsort(key, kind="stable")
    ptr = np.zeros(size + 1, dtype=np.int64)
    np.cumsum(np.bincount(key, minlength=size), out=ptr[1:])
    return ptr, order


def distances_to_points(
    csr: Csr,
    seeds: SnappedPoints,
    points: SnappedPoints,
    *,
    group: np.ndarray | None = None,
    limit_m: float | np.ndarray,
    n_threads: int | None = None,
) -> pd.DataFrame:
    """Exact network distance from each group of snapped seeds to each snapped point, in one pass.

    The same table as ``point_to_group_distances(distances_from_points(csr, seeds, group=group,
    limit_m=limit_m), points, limit_m=limit_m)``, but every search hands its reached nodes straight
    to the points whose edge ends there, so the per-node triples (groups × nodes within the limit,
    the bulk of the memory at metro scale) are never stored. Each group may have its own radius.

    Parameters
    ----------
    csr
        The graph both seeds and points were snapped to.
    seeds
        Snapped seed points (e.g. entrances); unsnapped seeds are ignored.
    points
        Snapped points (e.g. homes); unsnapped points get no rows.
    group
        Group code (``>= 0``) of each seed; default: every seed is its own group.
    limit_m
        Search radius in metres: one value, or one per group (``0 .. max(group)``), e.g. the
        largest distance a space of that type is read at.
    n_threads
        Worker threads; default: every CPU.

    Returns
    -------
    pandas.DataFrame
        Columns ``point`` (int64 position in ``points``), ``group`` (int32) and ``dist_m``
        (float64, metres) for every pair within its group's radius, sorted by point then group.

    Raises
    ------
    InputError
        Group codes of the wrong length or negative.
    ParameterError
        A radius that is negative or not finite, or radii of the wrong length.
    """
    codes = np.arange(len(seeds)) if group is None else np.asarray(group, dtype=np.int64)
    if codes.shape != (len(seeds),):
        raise InputError(f"group: expected one code per seed ({len(seeds)}), got {codes.shape}.")
    n_groups = int(codes.max()) + 1 if codes.size else 0
    limits = (
        np.broadcast_to(np.asarray(limit_m, dtype=np.float64), (n_groups,)).copy()
        if (np.ndim(limit_m) == 0 or np.size(limit_m) == n_groups)
        else None
    )
    if limits is None:
        raise ParameterError(
            f"limit_m: expected one radius or one per group ({n_groups}), got {np.size(limit_m)}."
        )
    if (~np.isfinite(limits) | (limits < 0)).any():
        raise ParameterError("limit_m: radii must be finite distances >= 0 in metres.")
    ok = seeds.snapped
    node, offset, group_ptr, searched = _group_seeds(
        csr,
        np.concatenate([seeds.node_u[ok], seeds.node_v[ok]]),
        np.concatenate([seeds.offset_u_m[ok], seeds.offset_v_m[ok]]),
        np.concatenate([codes[ok], codes[ok]]),
        float(limits.max()) if limits.size else 0.0,
    )
    group_ptr = np.concatenate([group_ptr, np.full(n_groups - searched, group_ptr[-1])])
    end_ptr, end_point, end_offset = points.by_end
    edge_ptr, edge_point, edge_along = points.by_edge
    seed_group = codes[ok]
    gseed_ptr, by_group = _csr_of(seed_group, n_groups)
    n_edges = max(int(seeds.edge[ok].max(initial=-1)) + 1, edge_ptr.size - 1)
    point, grp, dist = search_to_points(
        csr.indptr,
        csr.indices,
        csr.weights_m,
        group_ptr=group_ptr,
        seed_node=node,
        seed_offset=offset,
        group_limit=limits,
        ends=(_extended(end_ptr, csr.n_nodes), end_point, end_offset),
        edge_seeds=(gseed_ptr, seeds.edge[ok][by_group], seeds.along_m[ok][by_group]),
        edge_points=(_extended(edge_ptr, n_edges), edge_point, edge_along),
        n_points=len(points),
        x=csr.x,
        y=csr.y,
        n_threads=n_threads,
    )
    logger.info(
        "distances to points: %d groups, %d points -> %d pairs",
        n_groups,
        int(points.snapped.sum()),
        point.size,
    )
    return pd.DataFrame({"point": point, "group": grp, "dist_m": dist}, copy=False)


def node_aggregates(
    sparse: SparseDistances,
    csr: Csr,
    *,
    count_limits_m: Sequence[float] = (400.0, 800.0),
    gravity_beta_m: float = 200.0,
    gravity_limit_m: float = 800.0,
) -> pd.DataFrame:
    r"""Per node: how many groups (POIs) lie within each distance, and a gravity sum.

    On an undirected graph the distance from a POI to a node equals the distance from the node to
    the POI, so searching from the (few) POIs gives every node's figures exactly.

    .. math:: n_t(v) = |\{g : d_g(v) \le t\}|, \qquad
              G(v) = \sum_{g : d_g(v) \le L} e^{-d_g(v) / \beta}

    Parameters
    ----------
    sparse
        Bounded distances from the POIs (one group per POI), searched to at least the largest
        limit.
    csr
        The graph searched (for node ids).
    count_limits_m
        Distances in metres for the counts.
    gravity_beta_m
        Decay length :math:`\beta` in metres (200 m equals cityseer's default
        :math:`\beta = 4 / 800` per metre at 800 m).
    gravity_limit_m
        Distance :math:`L` in metres beyond which POIs add nothing to the gravity sum.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``node_id``; columns ``count_<t>m`` (int64) and ``gravity_<L>m`` (float64).
    """
    largest = max([*count_limits_m, gravity_limit_m])
    if largest > sparse.limit_m:
        raise ParameterError(
            f"node_aggregates: limits up to {largest} m need a search radius at least that large; "
            f"the search used {sparse.limit_m} m."
        )
    if gravity_beta_m <= 0:
        raise ParameterError(f"gravity_beta_m: expected metres > 0, got {gravity_beta_m}.")
    limits = np.asarray(count_limits_m, dtype=np.float64)
    counts, gravity = node_sums(
        sparse.node,
        sparse.dist_m,
        csr.n_nodes,
        limits,
        float(gravity_beta_m),
        float(gravity_limit_m),
    )
    return _aggregate_frame(counts, gravity, csr, count_limits_m, gravity_limit_m)


def node_aggregates_from_seeds(
    csr: Csr,
    seed_node_idx: np.ndarray,
    seed_offset_m: np.ndarray,
    seed_group: np.ndarray,
    *,
    count_limits_m: Sequence[float] = (400.0, 800.0),
    gravity_beta_m: float = 200.0,
    gravity_limit_m: float = 800.0,
    n_threads: int | None = None,
) -> pd.DataFrame:
    """:func:`node_aggregates` of :func:`bounded_distances`, in one pass with no pairs stored.

    Every search adds its nodes straight into the counts and gravity sums, so the memory is a few
    arrays per thread the size of the graph, however many (group, node) pairs there are. Groups
    with the same seeds (POIs snapped to one node) are searched once and counted with their
    multiplicity. The counts equal those of :func:`node_aggregates`; the gravity sums are added
    in another order (by chunk of searches, then in search order), so they agree to a few ulps.

    Parameters
    ----------
    csr, seed_node_idx, seed_offset_m, seed_group, n_threads
        As :func:`bounded_distances`; each group is one POI (or one set of entrances).
    count_limits_m, gravity_beta_m, gravity_limit_m
        As :func:`node_aggregates`; the search radius is the largest of the limits.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``node_id``; columns ``count_<t>m`` (int64) and ``gravity_<L>m`` (float64).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> nodes = pd.DataFrame({"x": [0.0, 100.0, 200.0], "y": [0.0, 0.0, 0.0]}, index=[1, 2, 3])
    >>> edges = pd.DataFrame({"u": [1, 2], "v": [2, 3], "length_m": [100.0, 100.0]})
    >>> csr = csr_from_edges(nodes, edges)
    >>> agg = node_aggregates_from_seeds(
    ...     csr, np.array([0, 2]), np.zeros(2), np.array([0, 1]), count_limits_m=(150.0,),
    ...     gravity_limit_m=150.0,
    ... )
    >>> agg["count_150m"].tolist()
    [1, 2, 1]
    """
    if gravity_beta_m <= 0:
        raise ParameterError(f"gravity_beta_m: expected metres > 0, got {gravity_beta_m}.")
    limits = np.asarray(count_limits_m, dtype=np.float64)
    largest = float(max([*limits.tolist(), gravity_limit_m]))
    node, offset, group_ptr, _ = _group_seeds(
        csr, seed_node_idx, seed_offset_m, seed_group, largest
    )
    counts, gravity = aggregate_groups(
        csr.indptr,
        csr.indices,
        csr.weights_m,
        group_ptr=group_ptr,
        seed_node=node,
        seed_offset=offset,
        count_limits=limits,
        beta=float(gravity_beta_m),
        gravity_limit=float(gravity_limit_m),
        x=csr.x,
        y=csr.y,
        n_threads=n_threads,
    )
    return _aggregate_frame(counts, gravity, csr, count_limits_m, gravity_limit_m)


def _aggregate_frame(
    counts: np.ndarray,
    gravity: np.ndarray,
    csr: Csr,
    count_limits_m: Sequence[float],
    gravity_limit_m: float,
) -> pd.DataFrame:
    """The per-node table of :func:`node_aggregates`: one count column per limit, then gravity."""
    columns = {f"count_{t:g}m": counts[k] for k, t in enumerate(count_limits_m)}
    columns[f"gravity_{gravity_limit_m:g}m"] = gravity
    return pd.DataFrame(columns, index=pd.Index(csr.node_ids, name="node_id"))
