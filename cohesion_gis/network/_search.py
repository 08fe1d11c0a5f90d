"""Compiled bounded multi-source Dijkstra on CSR arrays (the hot loop of the network engine).

Internal module: the public entry points are :func:`cohesion_gis.network.distances_to_points`
(every cohesion component), :func:`cohesion_gis.network.node_distances` (the HVM's reach of a
change) and, for a compiled caller, :func:`cohesion_gis.network.search_ball` with
:func:`~cohesion_gis.network.search_scratch` and :func:`~cohesion_gis.network.queue_shape`
(each HVM site's horizon), all public in :mod:`cohesion_gis.network.paths`.

Design
------
A *group* is a set of seeds (e.g. the entrances of one park), each seed a node index with an
initial offset distance in metres. For every group the kernel runs one shortest-path search
bounded by ``limit``, with a bucket queue (see :func:`_offer`): nodes farther than ``limit`` are
never queued, so the cost of a search is proportional to the nodes and edges it touches, not to
the graph size. Its distances are exactly Dijkstra's.

Around the kernel (:func:`search_one`):

- **chains of degree-2 nodes contracted** (when at least ``_CONTRACT_SHARE`` of the nodes have
  degree 2, as on unsimplified OSM networks where every way vertex is a node): the queue sees only
  the other ("core") nodes, joined by one edge per chain; a chain's interior nodes then get
  ``min(d(a) + t, d(b) + L - t)`` from its ends ``a``, ``b`` (and directly from a seed on the
  same chain), which is exactly their shortest distance; dead ends (degree 1) are chain
  interiors too, on chains with one end;
- **searches in spatial order** (:func:`spatial_order`): the groups are run in strips of the
  search radius, west to east, so consecutive searches cover overlapping nodes and find them in
  cache;
- **parallel chunks**: contiguous chunks of that order run on a thread pool (the kernel releases
  the GIL). A ``prange`` loop cannot hand back one variable-length result per chunk without a
  second counting pass, which would double the work.

:func:`search_to_points` hands every reached node straight to the points (homes) whose edge ends
there, so no per-node triples are stored; a counting sort puts the (point, group, distance) rows
in order. :func:`search_nodes` runs one search from many seeds and returns every node's distance.

Scratch arrays (distances, touched list, queue) are allocated once per chunk and reset only at
the nodes a search touched. ``cache=True`` makes compilation a one-off cost per machine.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import numpy as np
from numba import njit

__all__ = [
    "graph_for_search",
    "map_chunks",
    "queue_shape",
    "search_ball",
    "search_nodes",
    "search_one",
    "search_scratch",
    "search_to_points",
    "spatial_order",
]

T = TypeVar("T")

#: Buckets of the queue at most (the bucket width grows for very long search radii).
_MAX_BUCKETS = 1 << 16
#: Edge lengths sampled to choose the bucket width.
_WIDTH_SAMPLE = 4096
#: Pairs from which the sort by point runs on threads (below, starting them costs more).
_THREADED_SORT_ROWS = 1 << 20
#: Contract chains of degree-2 nodes when at least this share of the nodes has degree 2.
_CONTRACT_SHARE = 0.2


# The queue is a bucket queue: entries (node, distance) in lists by ``floor(d / width)``. Every
# shorter distance offered to a node adds an entry, and an entry whose distance is no longer its
# node's is skipped when its bucket is emptied (lazy deletion). A bucket's entries are scanned in
# any order, so a node can be scanned again when a shorter distance reaches it from the same
# bucket: a label-correcting search, which ends with every distance exact and equal, bit for bit,
# to Dijkstra's (each is the same floating-point minimum over its neighbours' final distances).
# With the width a low quantile of the edge lengths, re-scans are rare and each queue operation
# is a few writes: about 30 % less CPU than the 4-ary heap with decrease-key used before.
@njit(cache=True, nogil=True, inline="always")
def _offer(node, d, dist, touched, n_touched, top, n_entries, queue, inv):  # noqa: PLR0917
    """Offer distance ``d`` to ``node``; return the new (n_touched, top bucket, n_entries)."""
    if d >= dist[node]:
        return n_touched, top, n_entries
    if dist[node] == np.inf:
        touched[n_touched] = node
        n_touched += 1
    dist[node] = d
    head, entry_node, entry_dist, entry_next = queue
    b = int(d * inv)
    entry_node[n_entries] = node
    entry_dist[n_entries] = d
    entry_next[n_entries] = head[b]
    head[b] = n_entries
    return n_touched, max(top, b), n_entries + 1


@njit(cache=True, nogil=True, inline="always")
def _settle(indptr, indices, weights, limit, dist, touched, n_touched, top, n_entries, queue, inv):  # noqa: PLR0917
    """Run the search from the offered seeds to ``limit``; return the number of nodes touched.

    Nothing beyond the limit is offered, so every touched node ends with its exact distance.
    Returns -1, with the queue and the touched nodes reset, if the queue has too few entries.
    """
    head, entry_node, entry_dist, entry_next = queue
    b = 0
    while b <= top:
        k = head[b]
        if k < 0:
            b += 1
            continue
        head[b] = entry_next[k]
        u = entry_node[k]
        du = entry_dist[k]
        if du != dist[u]:
            continue
        if n_entries + indptr[u + 1] - indptr[u] > entry_node.size:
            head[: top + 1] = -1
            for i in range(n_touched):
                dist[touched[i]] = np.inf
            return -1
        for e in range(indptr[u], indptr[u + 1]):
            nd = du + weights[e]
            if nd <= limit:
                n_touched, top, n_entries = _offer(
                    indices[e], nd, dist, touched, n_touched, top, n_entries, queue, inv
                )
    return n_touched


@njit(cache=True, nogil=True)
def search_scratch(n, n_buckets, n_entries):
    """Per-chunk search state: distances, touched list and an empty bucket queue."""
    return np.full(n, np.inf), np.empty(n, np.int32), _queue(n_buckets, n_entries)


@njit(cache=True, nogil=True)
def _queue(n_buckets, n_entries):
    """An empty bucket queue: list heads, then each entry's node, distance and next entry."""
    return (
        np.full(n_buckets, -1, np.int32),
        np.empty(n_entries, np.int32),
        np.empty(n_entries, np.float64),
        np.empty(n_entries, np.int32),
    )


def queue_shape(graph: tuple[np.ndarray, ...], limit: float) -> tuple[float, int, int]:
    """Inverse bucket width (1/m), bucket count and initial entries of the searches' queues.

    The width is the 5th percentile of the positive edge lengths (at least ``limit`` over
    ``_MAX_BUCKETS``; of every k-th edge on large graphs, which is as good and costs no more
    than a search), so that few nodes are scanned twice and few buckets are empty. A search
    offers a shorter distance at most once per edge unless it scans a node twice, so one entry
    per edge and node rarely runs out; a queue that does is doubled and the search rerun.
    """
    indptr, indices, weights = graph
    sample = weights[:: max(1, weights.size // _WIDTH_SAMPLE)]
    positive = sample[(sample > 0) & (sample < np.inf)]
    width = float(np.percentile(positive, 5)) if positive.size else 1.0
    width = max(width, limit / _MAX_BUCKETS, 1e-6)
    inv = 1.0 / width
    return inv, int(limit * inv) + 1, indices.size + indptr.size


@njit(cache=True, nogil=True)
def _grow(a, cap):
    b = np.empty(cap, a.dtype)
    b[: a.size] = a
    return b


@njit(cache=True, nogil=True, inline="always")
def _expand_chain(ch, g, limit, chains, group_ptr, seed_node, seed_offset, dist, touched, n):  # noqa: PLR0917
    """Give the interior nodes of chain ``ch`` their distance from its ends and group ``g``'s seeds.

    An interior node is reached through one end of its chain or, from a seed on the same chain,
    along it; nothing else can be shorter.
    """
    _, chain_a, chain_b, chain_len, chain_ptr, interior, interior_pos, node_chain, node_pos = chains
    da = dist[chain_a[ch]]
    db = dist[chain_b[ch]]
    length = chain_len[ch]
    seeded = False
    for s in range(group_ptr[g], group_ptr[g + 1]):
        if node_chain[seed_node[s]] == ch:
            seeded = True
    for j in range(chain_ptr[ch], chain_ptr[ch + 1]):
        p = interior_pos[j]
        d = min(da + p, db + (length - p))
        if seeded:
            for s in range(group_ptr[g], group_ptr[g + 1]):
                if node_chain[seed_node[s]] == ch:
                    d = min(d, seed_offset[s] + abs(p - node_pos[seed_node[s]]))
        if d <= limit:
            x = interior[j]
            dist[x] = d
            touched[n] = x
            n += 1
    return n


@njit(cache=True, nogil=True, inline="always")
def _search_core(  # noqa: PLR0917
    g, limit, indptr, indices, weights, group_ptr, seed_node, seed_offset, chains, dist, touched,
    queue, inv,
):  # fmt: skip
    """Offer group ``g``'s seeds (or their chains' ends) and settle; as :func:`_settle`."""
    _, chain_a, chain_b, chain_len, _, _, _, node_chain, node_pos = chains
    if 2 * (group_ptr[g + 1] - group_ptr[g]) > queue[1].size:
        return -1
    top = -1
    n_touched = 0
    n_entries = 0
    for s in range(group_ptr[g], group_ptr[g + 1]):
        node = seed_node[s]
        d = seed_offset[s]
        if d > limit:
            continue
        if node_chain.size and node_chain[node] >= 0:
            ch = node_chain[node]
            to_a = d + node_pos[node]
            to_b = d + (chain_len[ch] - node_pos[node])
            if to_a <= limit:
                n_touched, top, n_entries = _offer(
                    chain_a[ch], to_a, dist, touched, n_touched, top, n_entries, queue, inv
                )
            if to_b <= limit:
                n_touched, top, n_entries = _offer(
                    chain_b[ch], to_b, dist, touched, n_touched, top, n_entries, queue, inv
                )
        else:
            n_touched, top, n_entries = _offer(
                node, d, dist, touched, n_touched, top, n_entries, queue, inv
            )
    return _settle(
        indptr, indices, weights, limit, dist, touched, n_touched, top, n_entries, queue, inv
    )


@njit(cache=True, nogil=True)
def search_one(  # noqa: PLR0917
    g, stamp, limit, indptr, indices, weights, group_ptr, seed_node, seed_offset, chains, seen,
    dist, touched, queue, inv,
):  # fmt: skip
    """Search from group ``g``'s seeds; return the nodes reached (in ``touched``) and the queue.

    The queue returned is a larger one if the search needed more entries than it had. With
    ``chains`` from :func:`_contract` (``indptr``, ``indices``, ``weights`` then being the core
    graph) the queue sees only core nodes and the chains' interiors are filled in afterwards;
    ``seen`` marks the chains done in this search (``stamp``, unique per search of a chunk).
    """
    c_chain, node_chain = chains[0], chains[7]
    contracted = node_chain.size > 0
    while True:
        n_touched = _search_core(
            g, limit, indptr, indices, weights, group_ptr, seed_node, seed_offset, chains, dist,
            touched, queue, inv,
        )  # fmt: skip
        if n_touched >= 0:
            break
        queue = _queue(queue[0].size, 2 * queue[1].size)
    if contracted:
        for i in range(n_touched):
            u = touched[i]
            for e in range(indptr[u], indptr[u + 1]):
                ch = c_chain[e]
                if ch >= 0 and seen[ch] != stamp:
                    seen[ch] = stamp
                    n_touched = _expand_chain(
                        ch, g, limit, chains, group_ptr, seed_node, seed_offset, dist,
                        touched, n_touched,
                    )  # fmt: skip
        for s in range(group_ptr[g], group_ptr[g + 1]):
            ch = node_chain[seed_node[s]]
            if ch >= 0 and seen[ch] != stamp:
                seen[ch] = stamp
                n_touched = _expand_chain(
                    ch, g, limit, chains, group_ptr, seed_node, seed_offset, dist,
                    touched, n_touched,
                )  # fmt: skip
    return n_touched, queue


def graph_for_search(
    indptr: np.ndarray, indices: np.ndarray, weights: np.ndarray, *, contract: bool = True
) -> tuple[tuple[np.ndarray, ...], tuple[np.ndarray, ...]]:
    """The graph the kernels search and its chains: contracted when degree-2 nodes abound.

    ``contract=False`` (one search only, which costs no more than contracting) keeps the graph:
    every distance is then a sum along the path in path order, Dijkstra's to the last bit (a
    chain's interior node adds its offset to the chain end's distance, a few ulps apart).
    """
    degree = np.diff(indptr)
    if contract and np.count_nonzero(degree == 2) >= _CONTRACT_SHARE * degree.size:
        core_indptr, core_indices, core_weights, *chains = _contract(indptr, indices, weights)
        return (core_indptr, core_indices, core_weights), tuple(chains)
    return (indptr, indices, weights), _no_chains()


@njit(cache=True, nogil=True)
def _no_chains():
    """The chains of a graph searched as it is (none): the 9 arrays :func:`_contract` gives."""
    empty_i = np.empty(0, np.int64)
    empty_f = np.empty(0)
    return (empty_i, empty_i, empty_i, empty_f, np.zeros(1, np.int64), np.empty(0, np.int32),
            empty_f, empty_i, empty_f)  # fmt: skip


@njit(cache=True, nogil=True)
def _nodes_kernel(  # noqa: PLR0917 - numba kernels take no keyword arguments
    indptr, indices, weights, seed_node, seed_offset, limit, chains, inv, n_buckets, n_entries
):  # fmt: skip
    """One search from all the seeds; every node's distance (``inf`` beyond ``limit``)."""
    dist, touched, queue = search_scratch(indptr.size - 1, n_buckets, n_entries)
    seen = np.zeros(chains[1].size, np.int64)
    group_ptr = np.array([0, seed_node.size], np.int64)
    search_one(
        0, 1, limit, indptr, indices, weights, group_ptr, seed_node, seed_offset, chains, seen,
        dist, touched, queue, inv,
    )  # fmt: skip
    return dist


@njit(cache=True, nogil=True)
def search_ball(indptr, indices, weights, sources, limit, dist, touched, queue, inv):  # noqa: PLR0917
    """One search from ``sources`` (at distance 0) to ``limit``, for a compiled caller.

    Returns the nodes reached, sorted (int64), and the queue (a larger one if it had to grow).
    ``dist`` must be ``inf`` everywhere on entry and holds the reached nodes' distances after;
    the caller resets them. The graph is searched as it is (no chains), so the distances are
    Dijkstra's bit for bit (:func:`search_nodes`). The HVM's horizon around a site's entries
    (``cohesion_gis.hvm._routes_kernel.run_sites``) is this search.
    """
    group_ptr = np.array([0, sources.size], np.int64)
    n_touched, queue = search_one(
        0, 1, limit, indptr, indices, weights, group_ptr, sources, np.zeros(sources.size),
        _no_chains(), np.empty(0, np.int64), dist, touched, queue, inv,
    )  # fmt: skip
    return np.sort(touched[:n_touched]).astype(np.int64), queue


def search_nodes(
    indptr: np.ndarray,
    indices: np.ndarray,
    weights: np.ndarray,
    *,
    seed_node: np.ndarray,
    seed_offset: np.ndarray,
    limit: float,
) -> np.ndarray:
    """One bounded search from every seed at once: each node's distance to its nearest seed.

    Parameters
    ----------
    indptr, indices, weights
        CSR adjacency: int64 row pointers, int32 neighbour indices, float64 edge weights (metres).
    seed_node, seed_offset
        int32 node index and float64 initial distance (metres) of every seed.
    limit
        Search radius in metres (inclusive).

    Returns
    -------
    numpy.ndarray
        float64 distance in metres of every node, ``inf`` where it exceeds ``limit``; with no
        offsets, scipy's ``dijkstra(min_only=True)`` bit for bit (the graph is searched as it
        is, no chains contracted).
    """
    graph, chains = graph_for_search(indptr, indices, weights, contract=False)
    return _nodes_kernel(
        *graph, seed_node, seed_offset, float(limit), chains, *queue_shape(graph, float(limit))
    )


def map_chunks(chunk: Callable[[int], T], n_chunks: int, n_threads: int | None) -> Iterator[T]:
    """``chunk(0), chunk(1), ...`` in order, run on ``n_threads`` threads (default: every CPU)."""
    n_threads = n_threads or os.cpu_count() or 1
    if n_threads == 1 or n_chunks <= 1:
        yield from (chunk(i) for i in range(n_chunks))
        return
    with ThreadPoolExecutor(max_workers=min(n_threads, n_chunks)) as pool:
        yield from pool.map(chunk, range(n_chunks))


@njit(cache=True, nogil=True)
def _search_to_points_chunk(  # noqa: PLR0917 - numba kernels take no keyword arguments
    indptr,
    indices,
    weights,
    group_ptr,
    seed_node,
    seed_offset,
    group_limit,
    groups,
    end_ptr,
    end_point,
    end_offset,
    gseed_ptr,
    gseed_edge,
    gseed_along,
    edge_ptr,
    edge_point,
    edge_along,
    n_points,
    chains,
    inv,
    n_buckets,
    n_entries,
):
    """Search each of ``groups`` and map the reached nodes straight to points (see above)."""
    n = indptr.size - 1
    dist, touched, queue = search_scratch(n, n_buckets, n_entries)
    seen = np.zeros(chains[1].size, np.int64)
    best = np.full(n_points, np.inf)
    hit = np.empty(n_points, np.int64)

    counts = np.zeros(groups.size, np.int64)
    cap = max(1024, 64 * groups.size)
    out_point = np.empty(cap, np.int64)
    out_dist = np.empty(cap, np.float64)
    n_out = 0

    for k in range(groups.size):
        g = groups[k]
        limit = group_limit[g]
        n_touched, queue = search_one(
            g, k + 1, limit, indptr, indices, weights, group_ptr, seed_node, seed_offset,
            chains, seen, dist, touched, queue, inv,
        )  # fmt: skip

        # Points through either end of their edge, then directly along an edge a seed shares.
        n_hit = 0
        for i in range(n_touched):
            node = touched[i]
            dn = dist[node]
            for j in range(end_ptr[node], end_ptr[node + 1]):
                cand = end_offset[j] + dn
                p = end_point[j]
                if cand <= limit and cand < best[p]:
                    if best[p] == np.inf:
                        hit[n_hit] = p
                        n_hit += 1
                    best[p] = cand
            dist[node] = np.inf
        for s in range(gseed_ptr[g], gseed_ptr[g + 1]):
            edge = gseed_edge[s]
            for j in range(edge_ptr[edge], edge_ptr[edge + 1]):
                cand = abs(edge_along[j] - gseed_along[s])
                p = edge_point[j]
                if cand <= limit and cand < best[p]:
                    if best[p] == np.inf:
                        hit[n_hit] = p
                        n_hit += 1
                    best[p] = cand
        if n_out + n_hit > cap:
            cap = max(2 * cap, n_out + n_hit)
            out_point = _grow(out_point, cap)
            out_dist = _grow(out_dist, cap)
        for i in range(n_hit):
            p = hit[i]
            out_point[n_out] = p
            out_dist[n_out] = best[p]
            n_out += 1
            best[p] = np.inf
        counts[k] = n_hit

    return counts, out_point[:n_out].copy(), out_dist[:n_out].copy()


@njit(cache=True, nogil=True)
def _point_counts(block, block_len, point, lo, hi, n_points):  # noqa: PLR0917
    """How many pairs of groups ``lo .. hi - 1`` each point has (group g's start at block[g])."""
    counts = np.zeros(n_points, np.int64)
    for g in range(lo, hi):
        for i in range(block[g], block[g] + block_len[g]):
            counts[point[i]] += 1
    return counts


@njit(cache=True, nogil=True)
def _scatter_by_point(block, block_len, point, dist, lo, hi, slot, out):  # noqa: PLR0917
    """Write the pairs of groups ``lo .. hi - 1``, in group order, at each point's next ``slot``."""
    out_point, out_group, out_dist = out
    for g in range(lo, hi):
        for i in range(block[g], block[g] + block_len[g]):
            p = point[i]
            k = slot[p]
            slot[p] = k + 1
            out_point[k] = p
            out_group[k] = g
            out_dist[k] = dist[i]


def _sort_by_point(  # noqa: PLR0917
    run: np.ndarray,
    run_count: np.ndarray,
    point: np.ndarray,
    dist: np.ndarray,
    n_points: int,
    n_threads: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sort blocks of (point, dist) pairs, one per group in ``run`` order, by point then group.

    A counting sort with no comparisons, on threads: each thread counts the points of one range
    of groups, and then writes its pairs after those of the ranges before it, so the order is
    that of one thread.
    """
    n_groups = run.size
    block_len = np.empty(n_groups, np.int64)
    block_len[run] = run_count
    block = np.empty(n_groups, np.int64)
    block[run] = np.cumsum(run_count) - run_count
    # Ranges of groups with about the same number of pairs (one range for a small table).
    n_parts = n_threads if point.size >= _THREADED_SORT_ROWS else 1
    edges = np.searchsorted(np.cumsum(block_len), np.linspace(0, point.size, n_parts + 1)[1:-1])
    bounds = np.r_[0, edges, n_groups].astype(np.int64)
    parts = range(bounds.size - 1)

    def count(t: int) -> np.ndarray:
        return _point_counts(block, block_len, point, bounds[t], bounds[t + 1], n_points)

    counts = list(map_chunks(count, len(parts), n_threads))
    total = np.sum(counts, axis=0)
    slots = [np.cumsum(total) - total + sum(counts[:t]) for t in parts]
    out = (np.empty(point.size, np.int64), np.empty(point.size, np.int32), np.empty(point.size))

    def scatter(t: int) -> None:
        _scatter_by_point(block, block_len, point, dist, bounds[t], bounds[t + 1], slots[t], out)

    list(map_chunks(scatter, len(parts), n_threads))
    return out


def spatial_order(
    groups: np.ndarray,
    group_ptr: np.ndarray,
    seed_node: np.ndarray,
    *,
    x: np.ndarray,
    y: np.ndarray,
    strip_m: float,
) -> np.ndarray:
    """``groups`` reordered in strips ``strip_m`` high, west to east (groups with no seed first)."""
    if not seed_node.size:
        return groups
    has_seed = group_ptr[groups + 1] > group_ptr[groups]
    anchor = seed_node[np.minimum(group_ptr[groups], seed_node.size - 1)]
    strip = np.where(has_seed, np.floor(y[anchor] / max(strip_m, 1.0)), -np.inf)
    return groups[np.lexsort((np.where(has_seed, x[anchor], 0.0), strip))]


def search_to_points(
    indptr: np.ndarray,
    indices: np.ndarray,
    weights: np.ndarray,
    *,
    group_ptr: np.ndarray,
    seed_node: np.ndarray,
    seed_offset: np.ndarray,
    group_limit: np.ndarray,
    ends: tuple[np.ndarray, np.ndarray, np.ndarray],
    edge_seeds: tuple[np.ndarray, np.ndarray, np.ndarray],
    edge_points: tuple[np.ndarray, np.ndarray, np.ndarray],
    n_points: int,
    x: np.ndarray,
    y: np.ndarray,
    n_threads: int | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One bounded search per group, reached nodes mapped straight to points; nothing per node kept.

    Parameters
    ----------
    indptr, indices, weights
        CSR adjacency: int64 row pointers, int32 neighbour indices, float64 edge weights (metres).
    group_ptr
        int64 array of length ``n_groups + 1``: the seeds of group ``g`` are
        ``seed_node[group_ptr[g]:group_ptr[g + 1]]``.
    seed_node, seed_offset
        int32 node index and float64 initial distance (metres) of every seed, ordered by group.
    x, y
        float64 node coordinates in metres, used only to run nearby searches one after another.
    n_threads
        Worker threads; default: the number of CPUs.
    group_limit
        float64 search radius of every group, metres.
    ends
        ``(ptr, point, offset)``: CSR from node to the points whose edge ends there, with the
        distance along the edge from the point to that node.
    edge_seeds
        ``(ptr, edge, along)``: CSR from group to its seeds' edges and positions along them.
    edge_points
        ``(ptr, point, along)``: CSR from edge to the points on it and their positions.
    n_points
        Number of points.

    Returns
    -------
    tuple of numpy.ndarray
        ``(point int64, group int32, dist float64)`` sorted by point then group.
    """
    n_groups = group_ptr.size - 1
    if n_groups == 0 or n_points == 0:
        return np.empty(0, np.int64), np.empty(0, np.int32), np.empty(0, np.float64)
    run = spatial_order(
        np.arange(n_groups), group_ptr, seed_node, x=x, y=y, strip_m=float(np.median(group_limit))
    )
    n_threads = n_threads or os.cpu_count() or 1
    n_chunks = max(1, min(run.size, 4 * n_threads))
    bounds = np.linspace(0, run.size, n_chunks + 1).astype(np.int64)
    graph, chains = graph_for_search(indptr, indices, weights)
    args = (*graph, group_ptr, seed_node, seed_offset, group_limit)
    queue = queue_shape(graph, float(group_limit.max()))

    def chunk(i: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return _search_to_points_chunk(
            *args, run[bounds[i] : bounds[i + 1]], *ends, *edge_seeds, *edge_points, n_points,
            chains, *queue,
        )  # fmt: skip

    parts = list(map_chunks(chunk, n_chunks, n_threads))
    run_count = np.concatenate([p[0] for p in parts])
    point = np.concatenate([p[1] for p in parts])
    dist = np.concatenate([p[2] for p in parts])
    del parts
    return _sort_by_point(run, run_count, point, dist, n_points, n_threads)


@njit(cache=True)
def _contract(indptr, indices, weights):
    """Contract chains of degree-2 nodes into single edges between the other ("core") nodes.

    A chain that ends in a dead end (a degree-1 node, interior too) has one end: its second end is
    its first and its length infinite, so its core edge is never relaxed and its interior is
    reached only through the first end (or from a seed on it).

    Returns the core graph on the same node numbering (chain interiors have no edges), the chain
    id of every core edge (-1 for an original edge), each chain's ends, length and interior nodes
    in order with their distance from the chain's first end, and each node's chain (-1: core).
    """
    n = indptr.size - 1
    degree = indptr[1:] - indptr[:-1]
    core = (degree != 2) & (degree != 1)
    node_chain = np.full(n, -1, np.int64)
    node_pos = np.zeros(n)
    chain_a, chain_b, chain_len = [], [], []
    interior = np.empty(n, np.int32)
    interior_pos = np.empty(n)
    chain_ptr = [0]
    n_interior = 0
    # Chains from core nodes; then components with no core node (loops of degree-2 nodes, paths
    # between two dead ends), one node of each made core.
    for rounds in range(2):
        for start in range(n):
            if rounds == 1 and not core[start] and node_chain[start] < 0:
                core[start] = True
            elif rounds == 1 or not core[start]:
                continue
            for e in range(indptr[start], indptr[start + 1]):
                nxt = indices[e]
                if core[nxt] or node_chain[nxt] >= 0:
                    continue
                chain = len(chain_a)
                prev, cur, length = start, nxt, weights[e]
                while not core[cur]:
                    node_chain[cur] = chain
                    node_pos[cur] = length
                    interior[n_interior] = cur
                    interior_pos[n_interior] = length
                    n_interior += 1
                    k = indptr[cur]
                    if indptr[cur + 1] - k == 1:  # a dead end: the chain has one end
                        cur, length = start, np.inf
                        break
                    step = k if indices[k] != prev else k + 1
                    prev, cur = cur, indices[step]
                    length += weights[step]
                chain_a.append(start)
                chain_b.append(np.int64(cur))
                chain_len.append(length)
                chain_ptr.append(n_interior)
    # Core graph: original core-core edges plus one edge each way per chain.
    n_chains = len(chain_a)
    count = np.zeros(n, np.int64)
    for u in range(n):
        if core[u]:
            for e in range(indptr[u], indptr[u + 1]):
                if core[indices[e]]:
                    count[u] += 1
    for c in range(n_chains):
        count[chain_a[c]] += 1
        count[chain_b[c]] += 1
    c_indptr = np.zeros(n + 1, np.int64)
    for u in range(n):
        c_indptr[u + 1] = c_indptr[u] + count[u]
    fill = c_indptr[:-1].copy()
    c_indices = np.empty(c_indptr[n], np.int32)
    c_weights = np.empty(c_indptr[n])
    c_chain = np.empty(c_indptr[n], np.int64)
    for u in range(n):
        if core[u]:
            for e in range(indptr[u], indptr[u + 1]):
                if core[indices[e]]:
                    c_indices[fill[u]] = indices[e]
                    c_weights[fill[u]] = weights[e]
                    c_chain[fill[u]] = -1
                    fill[u] += 1
    for c in range(n_chains):
        for a, b in ((chain_a[c], chain_b[c]), (chain_b[c], chain_a[c])):
            c_indices[fill[a]] = b
            c_weights[fill[a]] = chain_len[c]
            c_chain[fill[a]] = c
            fill[a] += 1
    return (
        c_indptr,
        c_indices,
        c_weights,
        c_chain,
        np.array(chain_a, np.int64),
        np.array(chain_b, np.int64),
        np.array(chain_len),
        np.array(chain_ptr, np.int64),
        interior[:n_interior].copy(),
        interior_pos[:n_interior].copy(),
        node_chain,
        node_pos,
    )
