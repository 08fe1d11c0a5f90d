"""Compiled bounded multi-source Dijkstra on CSR arrays (the hot loop of the accessibility engine).

Internal module: the public entry point is :func:`cohesion_gis.network.bounded_distances`.

Design
------
A *group* is a set of seeds (e.g. the entrances of one park), each seed a node index with an
initial offset distance in metres. For every group the kernel runs one Dijkstra search with a
binary heap (with decrease-key) bounded by ``limit``: nodes farther than ``limit`` are never pushed,
so the cost of a search is proportional to the nodes and edges it touches, not to the graph size.

Scratch arrays (distances, heap positions, heap, touched list) are allocated once per call and
reset only at the nodes a search touched. Results are written as sparse (group, node, distance)
triples, sorted by group then node, into buffers that grow by doubling.

The kernel is compiled with ``nogil=True`` so :func:`search_groups` can run contiguous chunks of
groups on a thread pool. A ``prange`` loop cannot hand back one variable-length result per chunk
without a second counting pass, which would double the work; threads over a ``nogil`` kernel avoid
that, keep one scratch set per chunk, and concatenate in chunk order, so the output stays sorted.
``cache=True`` makes compilation a one-off cost per machine (about a second).
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from numba import njit

__all__ = ["search_groups"]

_UNSEEN = -1
_SETTLED = -2


@njit(cache=True, nogil=True, inline="always")
def _sift_up(heap_node, heap_key, pos, i):
    node = heap_node[i]
    key = heap_key[i]
    while i > 0:
        parent = (i - 1) >> 1
        if heap_key[parent] <= key:
            break
        heap_node[i] = heap_node[parent]
        heap_key[i] = heap_key[parent]
        pos[heap_node[i]] = i
        i = parent
    heap_node[i] = node
    heap_key[i] = key
    pos[node] = i


@njit(cache=True, nogil=True, inline="always")
def _sift_down(heap_node, heap_key, pos, size):
    i = 0
    node = heap_node[0]
    key = heap_key[0]
    while True:
        child = 2 * i + 1
        if child >= size:
            break
        right = child + 1
        if right < size and heap_key[right] < heap_key[child]:
            child = right
        if heap_key[child] >= key:
            break
        heap_node[i] = heap_node[child]
        heap_key[i] = heap_key[child]
        pos[heap_node[i]] = i
        i = child
    heap_node[i] = node
    heap_key[i] = key
    pos[node] = i


@njit(cache=True, nogil=True)
def _search_chunk(  # noqa: PLR0917 - numba kernels take no keyword-only arguments
    indptr,
    indices,
    weights,
    group_ptr,
    seed_node,
    seed_offset,
    limit,
    g_start,
    g_stop,
):
    n = indptr.size - 1
    dist = np.full(n, np.inf)
    pos = np.full(n, _UNSEEN, np.int32)
    heap_node = np.empty(n, np.int32)
    heap_key = np.empty(n, np.float64)
    touched = np.empty(n, np.int32)

    cap = max(1024, 64 * (g_stop - g_start))
    out_group = np.empty(cap, np.int32)
    out_node = np.empty(cap, np.int32)
    out_dist = np.empty(cap, np.float64)
    n_out = 0

    for g in range(g_start, g_stop):
        size = 0
        n_touched = 0
        for s in range(group_ptr[g], group_ptr[g + 1]):
            node = seed_node[s]
            d = seed_offset[s]
            if d > limit or d >= dist[node]:
                continue
            dist[node] = d
            if pos[node] == _UNSEEN:
                touched[n_touched] = node
                n_touched += 1
                heap_node[size] = node
                heap_key[size] = d
                size += 1
                _sift_up(heap_node, heap_key, pos, size - 1)
            else:
                heap_key[pos[node]] = d
                _sift_up(heap_node, heap_key, pos, pos[node])

        while size > 0:
            u = heap_node[0]
            du = heap_key[0]
            pos[u] = _SETTLED
            size -= 1
            if size > 0:
                heap_node[0] = heap_node[size]
                heap_key[0] = heap_key[size]
                _sift_down(heap_node, heap_key, pos, size)
            for e in range(indptr[u], indptr[u + 1]):
                v = indices[e]
                nd = du + weights[e]
                if nd > limit or nd >= dist[v]:
                    continue
                # A settled node has dist <= du <= nd, so it never gets here.
                dist[v] = nd
                if pos[v] == _UNSEEN:
                    touched[n_touched] = v
                    n_touched += 1
                    heap_node[size] = v
                    heap_key[size] = nd
                    size += 1
                    _sift_up(heap_node, heap_key, pos, size - 1)
                else:
                    heap_key[pos[v]] = nd
                    _sift_up(heap_node, heap_key, pos, pos[v])

        # Every pushed node is settled (nothing beyond the limit is pushed): touched == reached.
        reached = np.sort(touched[:n_touched])
        if n_out + n_touched > cap:
            cap = max(2 * cap, n_out + n_touched)
            out_group = _grow(out_group, cap)
            out_node = _grow(out_node, cap)
            out_dist = _grow(out_dist, cap)
        for k in range(n_touched):
            node = reached[k]
            out_group[n_out] = g
            out_node[n_out] = node
            out_dist[n_out] = dist[node]
            n_out += 1
            dist[node] = np.inf
            pos[node] = _UNSEEN

    return out_group[:n_out].copy(), out_node[:n_out].copy(), out_dist[:n_out].copy()


@njit(cache=True, nogil=True)
def _grow(a, cap):
    b = np.empty(cap, a.dtype)
    b[: a.size] = a
    return b


def search_groups(
    indptr: np.ndarray,
    indices: np.ndarray,
    weights: np.ndarray,
    *,
    group_ptr: np.ndarray,
    seed_node: np.ndarray,
    seed_offset: np.ndarray,
    limit: float,
    n_threads: int | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Run one bounded Dijkstra search per group of seeds, in parallel over chunks of groups.

    Parameters
    ----------
    indptr, indices, weights
        CSR adjacency: int64 row pointers, int32 neighbour indices, float64 edge weights (metres).
    group_ptr
        int64 array of length ``n_groups + 1``: the seeds of group ``g`` are
        ``seed_node[group_ptr[g]:group_ptr[g + 1]]``.
    seed_node, seed_offset
        int32 node index and float64 initial distance (metres) of every seed, ordered by group.
    limit
        Search radius in metres (inclusive).
    n_threads
        Worker threads; default: the number of CPUs.

    Returns
    -------
    tuple of numpy.ndarray
        ``(group int32, node int32, dist float64)``, sorted by group then node.
    """
    n_groups = group_ptr.size - 1
    n_threads = n_threads or os.cpu_count() or 1
    # A few chunks per thread balance uneven searches; each chunk costs one O(n_nodes) scratch set.
    n_chunks = max(1, min(n_groups, 4 * n_threads))
    bounds = np.linspace(0, n_groups, n_chunks + 1).astype(np.int64)
    args = (indptr, indices, weights, group_ptr, seed_node, seed_offset, float(limit))
    if n_threads == 1 or n_chunks == 1:
        parts = [_search_chunk(*args, bounds[i], bounds[i + 1]) for i in range(n_chunks)]
    else:
        with ThreadPoolExecutor(max_workers=n_threads) as pool:
            parts = list(
                pool.map(
                    lambda i: _search_chunk(*args, bounds[i], bounds[i + 1]),
                    range(n_chunks),
                )
            )
    if not parts:
        return np.empty(0, np.int32), np.empty(0, np.int32), np.empty(0, np.float64)
    return tuple(np.concatenate([p[k] for p in parts]) for k in range(3))  # type: ignore[return-value]
