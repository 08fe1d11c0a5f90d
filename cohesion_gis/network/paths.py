"""Bounded multi-source shortest paths: network distances from groups of seeds.

Every cohesion component reads one table built here: for each home (a point on the walk network)
and each contact space (a *group* of entrances), the shortest walking distance in metres, if it
is within a limit. :func:`distances_to_points` runs one bounded search per group in compiled code
(:mod:`cohesion_gis.network._search`), whose cost is what the search touches, and hands every
reached node straight to the points whose edge ends there. :func:`node_distances` is one search
from many seeds, for every node (how far a change on the vehicle network reaches).

For a compiled (numba) caller that runs its own rule inside a bounded region, the same search is
public as three compiled pieces: :func:`queue_shape` sizes the bucket queue for a graph and a
radius, :func:`search_scratch` allocates the search state once per thread, and
:func:`search_ball` runs one search from some sources and returns the nodes it reached (their
distances left in the state, Dijkstra's bit for bit). The HVM's route kernel searches every site's
horizon with them (``docs/hvm.md``).
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from cohesion_gis.errors import InputError, ParameterError
from cohesion_gis.network._search import (
    queue_shape,
    search_ball,
    search_nodes,
    search_scratch,
    search_to_points,
)
from cohesion_gis.network.graph import Csr, group_rows
from cohesion_gis.network.snap import Links, SnappedPoints

__all__ = [
    "distances_to_points",
    "node_distances",
    "queue_shape",
    "search_ball",
    "search_scratch",
]

logger = logging.getLogger(__name__)


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
    r"""Exact network distance from each group of snapped seeds to each snapped point, in one pass.

    A point at offsets :math:`a_u, a_v` from the ends of its edge reaches group :math:`g` at

    .. math:: d(p, g) = \min\left(a_u + d_g(u),\; a_v + d_g(v),\;
              \min_{s \in g,\ e_s = e_p} |t_p - t_s| \right)

    where :math:`d_g(v) = \min_{s \in g} (o_s + \delta(n_s, v))` over the seeds' edge ends and
    offsets, and the last term is for seeds of :math:`g` on the point's own edge (positions
    :math:`t` along it). A point or seed that enters the network through several edges
    (:attr:`SnappedPoints.links`) takes the minimum over them, each edge with its extra
    distance added. One bounded search per group hands its reached nodes straight to the
    points whose edge ends there, so no per-node (group, node) pairs, the bulk of the memory at
    metro scale, are stored. Each group may have its own radius.

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
    entry = seeds.entries  # every edge each seed enters through, with its extra distance
    node, offset, group_ptr, searched = _group_seeds(
        csr,
        np.concatenate([entry.node_u, entry.node_v]),
        np.concatenate([entry.offset_u_m + entry.extra_m, entry.offset_v_m + entry.extra_m]),
        np.concatenate([codes[entry.point], codes[entry.point]]),
        float(limits.max()) if limits.size else 0.0,
    )
    group_ptr = np.concatenate([group_ptr, np.full(n_groups - searched, group_ptr[-1])])
    end_ptr, end_point, end_offset = points.by_end
    edge_ptr, edge_point, edge_along = points.by_edge
    direct = entry.extra_m == 0.0  # joined along a shared edge in the search
    gseed_ptr, by_group = group_rows(codes[entry.point][direct], n_groups)
    n_edges = max(int(entry.edge.max(initial=-1)) + 1, edge_ptr.size - 1)
    point, grp, dist = search_to_points(
        csr.indptr,
        csr.indices,
        csr.weights_m,
        group_ptr=group_ptr,
        seed_node=node,
        seed_offset=offset,
        group_limit=limits,
        ends=(_extended(end_ptr, csr.n_nodes), end_point, end_offset),
        edge_seeds=(gseed_ptr, entry.edge[direct][by_group], entry.along_m[direct][by_group]),
        edge_points=(_extended(edge_ptr, n_edges), edge_point, edge_along),
        n_points=len(points),
        x=csr.x,
        y=csr.y,
        n_threads=n_threads,
    )
    point, grp, dist = _shared_edges(
        (point, grp, dist), entry, codes, points.entries, limits, n_groups=n_groups
    )
    logger.info(
        "distances to points: %d groups, %d points -> %d pairs",
        n_groups,
        int(points.snapped.sum()),
        point.size,
    )
    return pd.DataFrame({"point": point, "group": grp, "dist_m": dist}, copy=False)


def _shared_edges(
    table: tuple[np.ndarray, np.ndarray, np.ndarray],
    seeds: Links,
    codes: np.ndarray,
    points: Links,
    limits: np.ndarray,
    *,
    n_groups: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``table`` with the walks along an edge a seed and a point share, where either has an extra.

    The search joins a seed and a point on one edge directly only when neither enters with an
    extra distance (:attr:`SnappedPoints.by_edge`); here the others: ``|t_p - t_s| + extra_p +
    extra_s``, kept where shorter than the table's distance (or new) and within the radius.
    The table stays sorted by point then group.
    """
    point, grp, dist = table
    with_extra = np.union1d(seeds.edge[seeds.extra_m > 0], points.edge[points.extra_m > 0])
    if not with_extra.size:
        return table
    s_rows = np.flatnonzero(np.isin(seeds.edge, with_extra))
    p_rows = np.flatnonzero(np.isin(points.edge, with_extra))
    pairs = pd.merge(
        pd.DataFrame({"edge": seeds.edge[s_rows], "s": s_rows}),
        pd.DataFrame({"edge": points.edge[p_rows], "p": p_rows}),
        on="edge",
    )
    s, p = pairs["s"].to_numpy(), pairs["p"].to_numpy()
    extra = seeds.extra_m[s] + points.extra_m[p]
    walk = np.abs(points.along_m[p] - seeds.along_m[s]) + extra
    group = codes[seeds.point[s]]
    keep = (extra > 0) & (walk <= limits[group])
    if not keep.any():
        return table
    best = (
        pd.DataFrame({"key": points.point[p[keep]] * n_groups + group[keep], "d": walk[keep]})
        .groupby("key")["d"]
        .min()
    )
    key_new, d_new = best.index.to_numpy(), best.to_numpy()
    key = point * n_groups + grp
    at = np.searchsorted(key, key_new)
    found = at < key.size
    found[found] = key[at[found]] == key_new[found]
    dist = dist.copy()
    dist[at[found]] = np.minimum(dist[at[found]], d_new[found])
    new = ~found
    return (
        np.insert(point, at[new], key_new[new] // n_groups),
        np.insert(grp, at[new], (key_new[new] % n_groups).astype(grp.dtype)),
        np.insert(dist, at[new], d_new[new]),
    )


def node_distances(
    csr: Csr,
    seed_node_idx: np.ndarray,
    *,
    seed_offset_m: np.ndarray | None = None,
    limit_m: float,
) -> np.ndarray:
    r"""Shortest network distance from the nearest of some seeds to every node, within a limit.

    .. math:: d(v) = \min_{s} \left( o_s + \delta(n_s, v) \right)

    where :math:`n_s` is seed :math:`s`'s node, :math:`o_s` its offset and :math:`\delta` the
    shortest-path distance on the graph; one compiled bounded search from all seeds at once.

    Parameters
    ----------
    csr
        The graph.
    seed_node_idx
        Node index (position in ``csr.node_ids``) of every seed.
    seed_offset_m
        Initial distance of every seed in metres, ``>= 0``; default 0.
    limit_m
        Search radius in metres (inclusive).

    Returns
    -------
    numpy.ndarray
        float64, one distance in metres per node; ``inf`` where it exceeds ``limit_m``.

    Raises
    ------
    InputError
        Seeds out of range, of mismatched lengths, or with negative offsets.
    ParameterError
        A radius that is negative or not finite.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from cohesion_gis.network import csr_from_edges, node_distances
    >>> nodes = pd.DataFrame({"x": [0.0, 100.0, 200.0], "y": [0.0, 0.0, 0.0]}, index=[1, 2, 3])
    >>> edges = pd.DataFrame({"u": [1, 2], "v": [2, 3], "length_m": [100.0, 100.0]})
    >>> node_distances(csr_from_edges(nodes, edges), np.array([0]), limit_m=150.0).tolist()
    [0.0, 100.0, inf]
    """
    seeds = np.asarray(seed_node_idx)
    offset = np.zeros(seeds.shape) if seed_offset_m is None else seed_offset_m
    node, offset, _, _ = _group_seeds(csr, seeds, offset, np.zeros(seeds.shape, np.int64), limit_m)
    return search_nodes(
        csr.indptr, csr.indices, csr.weights_m, seed_node=node, seed_offset=offset, limit=limit_m
    )
