"""Per-node counts and gravity sums of POIs in one pass: what the peers (pandana, cityseer) compute.

Bench-only: cohesion_gis itself never needs per-node aggregates (every component reads
home-to-space distances, :func:`cohesion_gis.network.distances_to_points`). To compare the
engine with pandana and cityseer on the work they do, this runs the engine's compiled search
(:func:`cohesion_gis.network._search.search_one`: bucket queue, contracted chains, spatial order)
once per distinct POI and adds every search straight into per-node counts and gravity sums, with
no (POI, node) pairs stored. POIs snapped to one node are searched once and counted with their
multiplicity; the chunks of searches are fixed (:data:`_AGGREGATE_CHUNKS`) and summed in order,
so the results do not depend on the thread count.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from numba import njit

from cohesion_gis.errors import ParameterError
from cohesion_gis.network import Csr, map_chunks
from cohesion_gis.network._search import (
    graph_for_search,
    queue_shape,
    search_one,
    search_scratch,
    spatial_order,
)


def expand_ranges(start: np.ndarray, count: np.ndarray) -> np.ndarray:
    """Concatenate ``arange(start[i], start[i] + count[i])`` for all i, vectorised (int64)."""
    count = np.asarray(count, dtype=np.int64)
    total = int(count.sum())
    shift = np.repeat(np.asarray(start, dtype=np.int64) - np.cumsum(count) + count, count)
    return shift + np.arange(total, dtype=np.int64)


#: Chunks of searches whose sums :func:`aggregate_groups` adds up, in order (fixed, so that the
#: floating-point sums do not depend on the thread count).
_AGGREGATE_CHUNKS = 16


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
    r"""Per node: how many groups (POIs) lie within each distance, and a gravity sum.

    .. math:: n_t(v) = |\{g : d_g(v) \le t\}|, \qquad
              G(v) = \sum_{g : d_g(v) \le L} e^{-d_g(v) / \beta}

    with :math:`d_g(v) = \min_{s \in g} (o_s + \delta(n_s, v))`. On an undirected graph the
    distance from a POI to a node equals the distance from the node to the POI, so searching
    from the (few) POIs gives every node's figures exactly. Every search adds its nodes straight
    into the sums, so the memory is a few arrays per thread the size of the graph.

    Parameters
    ----------
    csr
        The graph.
    seed_node_idx, seed_offset_m, seed_group
        Node index, initial distance (m) and group (``>= 0``, one per POI) of every seed.
    count_limits_m
        Distances in metres for the counts.
    gravity_beta_m
        Decay length :math:`\beta` in metres (200 m equals cityseer's default
        :math:`\beta = 4 / 800` per metre at 800 m).
    gravity_limit_m
        Distance :math:`L` in metres beyond which POIs add nothing to the gravity sum.
    n_threads
        Worker threads; default: every CPU (the result does not depend on it).

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
    order = np.argsort(seed_group, kind="stable")
    n_groups = int(np.max(seed_group, initial=-1)) + 1
    group_ptr = np.zeros(n_groups + 1, dtype=np.int64)
    np.cumsum(np.bincount(seed_group, minlength=n_groups), out=group_ptr[1:])
    node = np.asarray(seed_node_idx)[order].astype(np.int32)
    offset = np.asarray(seed_offset_m, dtype=np.float64)[order]
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
    """The per-node table: one count column per limit, then gravity."""
    columns = {f"count_{t:g}m": counts[k] for k, t in enumerate(count_limits_m)}
    columns[f"gravity_{gravity_limit_m:g}m"] = gravity
    return pd.DataFrame(columns, index=pd.Index(csr.node_ids, name="node_id"))


def _distinct_groups(
    group_ptr: np.ndarray, seed_node: np.ndarray, seed_offset: np.ndarray
) -> np.ndarray:
    """For every group, the first group with exactly the same seeds (itself if none).

    Seeds are compared as sorted (node, offset) pairs: candidates share a seed count and an
    order-independent 64-bit hash, and are then compared element by element, so a hash collision
    can only cost a search, never change a result.
    """
    n_groups = group_ptr.size - 1
    size = np.diff(group_ptr)
    seed_group = np.repeat(np.arange(n_groups), size)
    order = np.lexsort((seed_offset, seed_node, seed_group))
    node, offset = seed_node[order].astype(np.uint64), seed_offset[order]
    with np.errstate(over="ignore"):
        mixed = (node + np.uint64(0x9E3779B97F4A7C15)) * np.uint64(0xBF58476D1CE4E5B9)
        mixed ^= offset.view(np.uint64) * np.uint64(0x94D049BB133111EB)
        cumulative = np.concatenate([np.zeros(1, np.uint64), np.cumsum(mixed, dtype=np.uint64)])
        digest = cumulative[group_ptr[1:]] - cumulative[group_ptr[:-1]]
    by_key = np.lexsort((digest, size))
    key_size, key_digest = size[by_key], digest[by_key]
    new_run = np.r_[True, (key_size[1:] != key_size[:-1]) | (key_digest[1:] != key_digest[:-1])]
    first = by_key[np.flatnonzero(new_run)[np.cumsum(new_run) - 1]]
    rep = np.empty(n_groups, np.int64)
    rep[by_key] = first
    dup = np.flatnonzero(rep != np.arange(n_groups))
    if dup.size:
        mine = expand_ranges(group_ptr[dup], size[dup])
        theirs = expand_ranges(group_ptr[rep[dup]], size[dup])
        differs = (seed_node[order][mine] != seed_node[order][theirs]) | (
            offset[mine] != offset[theirs]
        )
        owner = np.repeat(dup, size[dup])
        rep[np.unique(owner[differs])] = np.unique(owner[differs])
    return rep


def aggregate_groups(
    indptr: np.ndarray,
    indices: np.ndarray,
    weights: np.ndarray,
    *,
    group_ptr: np.ndarray,
    seed_node: np.ndarray,
    seed_offset: np.ndarray,
    count_limits: np.ndarray,
    beta: float,
    gravity_limit: float,
    x: np.ndarray,
    y: np.ndarray,
    n_threads: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Per node: groups within each count limit and their gravity sum, with no pairs stored.

    The searches of :func:`search_groups` (one per distinct seed set, in spatial order), each
    added into per-chunk sums as it ends. The chunks depend only on the groups, never on
    ``n_threads``, and are summed in order, so the results do not depend on the thread count.

    Parameters
    ----------
    indptr, indices, weights, group_ptr, seed_node, seed_offset, x, y, n_threads
        As :func:`search_groups`.
    count_limits
        float64 distances in metres for the counts.
    beta
        Gravity decay length in metres: a group at ``d`` adds ``exp(-d / beta)``.
    gravity_limit
        Metres beyond which a group adds nothing to the gravity sum.

    Returns
    -------
    tuple of numpy.ndarray
        ``(counts int64 (len(count_limits), n_nodes), gravity float64 (n_nodes,))``.
    """
    n = indptr.size - 1
    counts = np.zeros((count_limits.size, n), np.int64)
    gravity = np.zeros(n)
    n_groups = group_ptr.size - 1
    if n_groups == 0:
        return counts, gravity
    limit = float(max(count_limits.max(initial=0.0), gravity_limit))
    rep = _distinct_groups(group_ptr, seed_node, seed_offset)
    multiplicity = np.bincount(rep, minlength=n_groups)
    distinct = np.flatnonzero(multiplicity)
    run = spatial_order(distinct, group_ptr, seed_node, x=x, y=y, strip_m=limit)
    bounds = np.linspace(0, run.size, min(run.size, _AGGREGATE_CHUNKS) + 1).astype(np.int64)
    graph, chains = graph_for_search(indptr, indices, weights)
    args = (*graph, group_ptr, seed_node, seed_offset, limit)
    queue = queue_shape(graph, limit)

    def chunk(i: int) -> tuple[np.ndarray, np.ndarray]:
        part = run[bounds[i] : bounds[i + 1]]
        return _aggregate_chunk(
            *args, part, multiplicity[part], chains, count_limits, float(beta), gravity_limit,
            *queue,
        )  # fmt: skip

    for part_counts, part_gravity in map_chunks(chunk, bounds.size - 1, n_threads):
        counts += part_counts
        gravity += part_gravity
    return counts, gravity


@njit(cache=True, nogil=True)
def _aggregate_chunk(  # noqa: PLR0917 - numba kernels take no keyword arguments
    indptr,
    indices,
    weights,
    group_ptr,
    seed_node,
    seed_offset,
    limit,
    groups,
    multiplicity,
    chains,
    count_limits,
    beta,
    gravity_limit,
    inv,
    n_buckets,
    n_entries,
):
    """Search each of ``groups`` and add it straight into per-node counts and gravity sums.

    Group ``groups[k]`` stands for ``multiplicity[k]`` groups with the same seeds. Nothing per
    (group, node) pair is stored: the counts are int64 ``(len(count_limits), n)``, the gravity
    sums float64 ``(n,)``, each added in search order.
    """
    n = indptr.size - 1
    dist, touched, queue = search_scratch(n, n_buckets, n_entries)
    seen = np.zeros(chains[1].size, np.int64)
    counts = np.zeros((count_limits.size, n), np.int64)
    gravity = np.zeros(n)
    for k in range(groups.size):
        n_touched, queue = search_one(
            groups[k], k + 1, limit, indptr, indices, weights, group_ptr, seed_node, seed_offset,
            chains, seen, dist, touched, queue, inv,
        )  # fmt: skip
        m = multiplicity[k]
        for i in range(n_touched):
            node = touched[i]
            d = dist[node]
            for c in range(count_limits.size):
                if d <= count_limits[c]:
                    counts[c, node] += m
            if d <= gravity_limit:
                gravity[node] += m * np.exp(-d / beta)
            dist[node] = np.inf
    return counts, gravity
