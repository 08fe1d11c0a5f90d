"""Bounded multi-source shortest paths: network distances from groups of seeds.

Every cohesion component reads one table built here: for each home (a point on the walk network)
and each contact space (a *group* of entrances), the shortest walking distance in metres, if it
is within a limit. :func:`distances_to_points` runs one bounded search per group in compiled code
(:mod:`cohesion_gis.network._search`), whose cost is what the search touches, and hands every
reached node straight to the points whose edge ends there.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cohesion_gis.errors import InputError, ParameterError
from cohesion_gis.network._search import (
    aggregate_groups,
    expand_ranges,
    node_sums,
    search_groups,
    search_to_points,
)
from cohesion_gis.network.graph import Csr, group_rows
from cohesion_gis.network.snap import SnappedPoints

__all__ = [
    "EdgeSeeds",
    "SparseDistances",
    "bounded_distances",
    "bounded_distances_reference",
    "distances_from_points",
    "distances_to_points",
    "node_aggregates",
    "node_aggregates_from_seeds",
    "point_to_group_distances",
]

logger = logging.getLogger(__name__)


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
    >>> from cohesion_gis.network import csr_from_edges
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
    gseed_ptr, by_group = group_rows(seed_group, n_groups)
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
    >>> from cohesion_gis.network import csr_from_edges
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
