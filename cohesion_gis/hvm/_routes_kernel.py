"""Compiled kernels of the approach-route search (internal; see :mod:`cohesion_gis.hvm.routes`).

Everything per site runs here, in one compiled call over all sites and vehicle classes: the
horizon (Dijkstra from the entries, bounded), the label-correcting max-speed search, the choice of
the best incoming edge at every entry, route reconstruction from back-pointers and the speed
profile. Scratch arrays are allocated once and reset only where a site touched them, so the cost
of a site is what its horizon holds, not the size of the network.

Arrays (``P`` street pieces, ``D = 2P`` directed edges ``2p`` (a→b) and ``2p+1`` (b→a), ``N``
nodes, ``V`` piece vertices): piece ``p`` has vertices ``vxy[vptr[p]:vptr[p + 1]]`` from ``a`` to
``b``; ``out_idx[out_ptr[n]:out_ptr[n + 1]]`` are the directed edges leaving node ``n``,
``in_idx[in_ptr[n]:in_ptr[n + 1]]`` those arriving.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from cohesion_gis.hvm.kinematics import G_MS2, _profile_sq, group_bend_radii, widest_radius

__all__ = [
    "ROW_ARRIVED",
    "ROW_NO_ARRIVAL",
    "ROW_NO_ENTRY",
    "ROW_NO_STREET",
    "chain_radii",
    "edge_maps",
    "run_sites",
]

#: Row status codes returned by :func:`run_sites`.
ROW_ARRIVED = 0  # a vehicle arrives at this entry
ROW_NO_ARRIVAL = 1  # an entry no vehicle of the class reaches
ROW_NO_STREET = 2  # a site no street meets (one row per class)
ROW_NO_ENTRY = 3  # a site no street enters from outside (one row per class)


@njit(cache=True)
def _grow(a: np.ndarray, n: int) -> np.ndarray:  # pragma: no cover - numba
    """``a`` if it has a row ``n``, else a copy with twice the rows."""
    if n < a.shape[0]:
        return a
    b = np.empty(max(2 * a.shape[0], n + 1), a.dtype)
    b[: a.shape[0]] = a
    return b


@njit(cache=True)
def _grow2(a: np.ndarray, n: int) -> np.ndarray:  # pragma: no cover - numba
    """:func:`_grow` for a two-column array."""
    if n < a.shape[0]:
        return a
    b = np.empty((max(2 * a.shape[0], n + 1), 2), a.dtype)
    b[: a.shape[0]] = a
    return b


# --------------------------------------------------------------------------- bends along chains


@njit(cache=True)
def chain_radii(  # noqa: PLR0917 (numba has no keyword-only arguments)
    piece_a: np.ndarray,
    piece_b: np.ndarray,
    vptr: np.ndarray,
    vxy: np.ndarray,
    piece_width: np.ndarray,
    n_nodes: int,
    kerb: float,
) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover - numba
    """Bend radii along chains of pieces between junctions (curves drawn across many pieces).

    Chains are walked from every junction or dead end (degree ≠ 2), then from every node (pure
    cycles). Returns the radius at every piece vertex (piece ends ``inf``) and at every node inside
    a chain (degree 2; NaN at junctions and dead ends, where the turn decides).
    """
    n_pieces = piece_a.size
    degree = np.zeros(n_nodes, np.int64)
    for p in range(n_pieces):
        degree[piece_a[p]] += 1
        degree[piece_b[p]] += 1
    inc_ptr = np.zeros(n_nodes + 1, np.int64)
    inc_ptr[1:] = np.cumsum(degree)
    fill = inc_ptr[:-1].copy()
    incident = np.empty(2 * n_pieces, np.int64)
    for p in range(n_pieces):  # each node's pieces in piece order
        incident[fill[piece_a[p]]] = p
        fill[piece_a[p]] += 1
        incident[fill[piece_b[p]]] = p
        fill[piece_b[p]] += 1
    vertex_radius = np.full(vptr[-1], np.inf)
    node_radius = np.full(n_nodes, np.nan)
    visited = np.zeros(n_pieces, np.bool_)
    chain = np.empty(n_pieces, np.int64)
    joints = np.empty(n_pieces, np.int64)
    order = np.concatenate((np.flatnonzero(degree != 2), np.arange(n_nodes)))
    for start in order:
        for k0 in range(inc_ptr[start], inc_ptr[start + 1]):
            p = incident[k0]
            if visited[p]:
                continue
            n_chain = 0
            n_joints = 0
            node = start
            while True:
                visited[p] = True
                rev = piece_a[p] != node
                chain[n_chain] = 2 * p + (1 if rev else 0)
                n_chain += 1
                node = piece_a[p] if rev else piece_b[p]
                nxt = -1
                for k in range(inc_ptr[node], inc_ptr[node + 1]):
                    if not visited[incident[k]]:
                        nxt = incident[k]
                        break
                if degree[node] != 2 or node == start or nxt < 0:
                    break
                joints[n_joints] = node
                n_joints += 1
                p = nxt
            _assign_chain(
                chain[:n_chain], joints[:n_joints], vptr, vxy, piece_width, kerb,
                vertex_radius, node_radius,
            )  # fmt: skip
    return vertex_radius, node_radius


@njit(cache=True)
def _assign_chain(  # noqa: PLR0917
    chain: np.ndarray,
    joints: np.ndarray,
    vptr: np.ndarray,
    vxy: np.ndarray,
    piece_width: np.ndarray,
    kerb: float,
    vertex_radius: np.ndarray,
    node_radius: np.ndarray,
) -> None:  # pragma: no cover - numba
    n_xy = 1
    for d in chain:
        n_xy += vptr[(d >> 1) + 1] - vptr[d >> 1] - 1
    if n_xy < 3:
        return
    xy = np.empty((n_xy, 2))
    seg_w = np.empty(n_xy - 1)
    i = 0
    for d in chain:
        p = d >> 1
        s0 = vptr[p]
        nv = vptr[p + 1] - s0
        for k in range(nv):
            if i > 0 and k == 0:
                continue
            src = s0 + (nv - 1 - k if d & 1 else k)
            xy[i, 0] = vxy[src, 0]
            xy[i, 1] = vxy[src, 1]
            if i > 0:
                seg_w[i - 1] = piece_width[p]
            i += 1
    n_seg = n_xy - 1
    seg_len = np.empty(n_seg)
    heading = np.empty(n_seg)
    dist = np.zeros(n_xy)
    for k in range(n_seg):
        dx = xy[k + 1, 0] - xy[k, 0]
        dy = xy[k + 1, 1] - xy[k, 1]
        seg_len[k] = np.hypot(dx, dy)
        heading[k] = np.arctan2(dy, dx)
        dist[k + 1] = dist[k] + seg_len[k]
    turn = np.zeros(n_xy)
    width = np.empty(n_xy)
    width[0] = seg_w[0]
    width[-1] = seg_w[-1]
    for k in range(1, n_xy - 1):
        if seg_len[k] != 0 and seg_len[k - 1] != 0:
            delta = heading[k] - heading[k - 1]
            turn[k] = math.atan2(math.sin(delta), math.cos(delta))
        width[k] = min(seg_w[k - 1], seg_w[k])
    radius = group_bend_radii(dist, turn, width, kerb)
    offset = 0
    for j in range(chain.size):
        d = chain[j]
        p = d >> 1
        s0 = vptr[p]
        nv = vptr[p + 1] - s0
        for k in range(nv):
            r = np.inf if k == 0 or k == nv - 1 else radius[offset + k]
            vertex_radius[s0 + (nv - 1 - k if d & 1 else k)] = r
        offset += nv - 1
        if j < joints.size:
            node_radius[joints[j]] = radius[offset]


# --------------------------------------------------------------------------- per class


@njit(cache=True)
def edge_maps(  # noqa: PLR0917 (numba has no keyword-only arguments)
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


# --------------------------------------------------------------------------- per site


@njit(cache=True)
def _horizon(  # noqa: PLR0917
    indptr: np.ndarray,
    indices: np.ndarray,
    weights: np.ndarray,
    sources: np.ndarray,
    limit: float,
    dist: np.ndarray,
) -> np.ndarray:  # pragma: no cover - numba
    """Nodes within ``limit`` network metres of ``sources`` (sorted); ``dist`` is set for them.

    Same semantics as ``scipy.sparse.csgraph.dijkstra(..., min_only=True, limit=limit)``: a node
    is reached iff its distance is ``<= limit``. ``dist`` must be ``inf`` everywhere on entry;
    the caller resets the returned nodes afterwards.
    """
    heap_d = np.empty(64)
    heap_n = np.empty(64, np.int64)
    size = 0
    reached = np.empty(64, np.int64)
    n_reached = 0
    for s in sources:
        if np.isfinite(dist[s]):
            continue  # a repeated source
        dist[s] = 0.0
        reached = _grow(reached, n_reached)
        reached[n_reached] = s
        n_reached += 1
        heap_d = _grow(heap_d, size)
        heap_n = _grow(heap_n, size)
        size = _heap_push(heap_d, heap_n, size, 0.0, s)
    while size > 0:
        du = heap_d[0]
        u = heap_n[0]
        size = _heap_pop(heap_d, heap_n, size)
        if du > dist[u]:
            continue
        for k in range(indptr[u], indptr[u + 1]):
            v = indices[k]
            nd = du + weights[k]
            if nd <= limit and nd < dist[v]:
                if not np.isfinite(dist[v]):
                    reached = _grow(reached, n_reached)
                    reached[n_reached] = v
                    n_reached += 1
                dist[v] = nd
                heap_d = _grow(heap_d, size)
                heap_n = _grow(heap_n, size)
                size = _heap_push(heap_d, heap_n, size, nd, v)
    return np.sort(reached[:n_reached])


@njit(cache=True)
def _heap_push(
    heap_d: np.ndarray, heap_n: np.ndarray, size: int, key: float, node: int
) -> int:  # pragma: no cover - numba
    i = size
    while i > 0:
        parent = (i - 1) >> 1
        if heap_d[parent] <= key:
            break
        heap_d[i] = heap_d[parent]
        heap_n[i] = heap_n[parent]
        i = parent
    heap_d[i] = key
    heap_n[i] = node
    return size + 1


@njit(cache=True)
def _heap_pop(heap_d: np.ndarray, heap_n: np.ndarray, size: int) -> int:  # pragma: no cover
    size -= 1
    key = heap_d[size]
    node = heap_n[size]
    i = 0
    while True:
        child = 2 * i + 1
        if child >= size:
            break
        if child + 1 < size and heap_d[child + 1] < heap_d[child]:
            child += 1
        if heap_d[child] >= key:
            break
        heap_d[i] = heap_d[child]
        heap_n[i] = heap_n[child]
        i = child
    heap_d[i] = key
    heap_n[i] = node
    return size


@njit(cache=True)
def _search(  # noqa: PLR0917 (numba has no keyword-only arguments)
    ball: np.ndarray,
    in_ball: np.ndarray,
    active: np.ndarray,
    out_ptr: np.ndarray,
    out_idx: np.ndarray,
    head: np.ndarray,
    maps: tuple[np.ndarray, np.ndarray, np.ndarray],
    turns: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    kerb: float,
    lat: float,
    threshold: np.ndarray,
    start_u: float,
    scratch: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray],
) -> int:  # pragma: no cover - numba
    """Label-correcting max-speed search over directed edges (see the routes module docstring).

    Fills ``label`` and ``pred`` of ``scratch = (label, pred, queue, queued, touched)``, which
    must hold -1, -2 and False everywhere on entry, and returns the number ``n`` of edges it
    labelled (``touched[:n]``, for the caller to reset). ``active[d]``: the directed edge may be
    used (wide enough, not inside the site); ``in_ball[n]``: node within the horizon;
    ``threshold[n]``: a vehicle at node ``n`` is stopped if its squared speed is
    ``<= threshold[n]`` (-1: no barrier). FIFO order as a plain SPFA, so back-pointers (hence
    routes among equally fast ones) are deterministic.
    """
    shift, low, high = maps
    node_radius, h_end, h_start, width = turns
    label, pred, queue, queued, touched = scratch
    n_dir = head.size
    first = 0
    count = 0
    n_touched = 0
    for n in ball:
        for k in range(out_ptr[n], out_ptr[n + 1]):
            d = out_idx[k]
            if not (active[d] and in_ball[head[d]]):
                continue
            label[d] = min(high[d], max(low[d], start_u + shift[d]))
            pred[d] = -1
            touched[n_touched] = d
            n_touched += 1
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
            if d2 == (d ^ 1) or not (active[d2] and in_ball[head[d2]]):
                continue
            r = _junction_radius(d, d2, node, node_radius, h_end, h_start, width, kerb)
            ut = min(u, lat * r)
            if ut <= threshold[node]:
                continue
            cand = min(high[d2], max(low[d2], ut + shift[d2]))
            if cand > label[d2] + 1e-6:
                if label[d2] == -1.0 and pred[d2] == -2:
                    touched[n_touched] = d2
                    n_touched += 1
                label[d2] = cand
                pred[d2] = d
                if not queued[d2]:
                    queue[(first + count) % n_dir] = d2
                    queued[d2] = True
                    count += 1
    return n_touched


@njit(cache=True)
def _route(  # noqa: PLR0917
    pred: np.ndarray,
    best: int,
    vptr: np.ndarray,
    vxy: np.ndarray,
    vertex_radius: np.ndarray,
    piece_grade: np.ndarray,
    tail: np.ndarray,
    turns: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    kerb: float,
    work: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray],
) -> tuple[int, int, bool]:  # pragma: no cover - numba
    """Route to directed edge ``best`` from the back-pointers, into ``work``.

    ``work = (path, seen, xy, radius, grade, node_vertex)``: directed edges from the start,
    vertices (x, y), the bend radius at each vertex (junction radii at the joins), the grade of
    each segment, and the vertex index at the end of each path edge. Returns the number of path
    edges, of vertices, and whether the back-pointers looped (the route then starts at the loop).
    """
    path, seen, xy, radius, grade, node_vertex = work
    node_radius, h_end, h_start, width = turns
    n_path = 0
    d = best
    while d >= 0 and not seen[d]:
        seen[d] = True
        path[n_path] = d
        n_path += 1
        d = pred[d]
    looped = d >= 0
    for i in range(n_path):
        seen[path[i]] = False
    path[:n_path] = path[:n_path][::-1].copy()
    n_xy = 0
    for i in range(n_path):
        d = path[i]
        p = d >> 1
        s0 = vptr[p]
        nv = vptr[p + 1] - s0
        if i > 0:
            radius[n_xy - 1] = _junction_radius(
                path[i - 1], d, tail[d], node_radius, h_end, h_start, width, kerb
            )
        g = -piece_grade[p] if d & 1 else piece_grade[p]
        for k in range(0 if i == 0 else 1, nv):
            src = s0 + (nv - 1 - k if d & 1 else k)
            xy[n_xy, 0] = vxy[src, 0]
            xy[n_xy, 1] = vxy[src, 1]
            radius[n_xy] = vertex_radius[src]
            if n_xy > 0:
                grade[n_xy - 1] = g
            n_xy += 1
        node_vertex[i] = n_xy - 1
    return n_path, n_xy, looped


@njit(cache=True)
def _profile_kmh(  # noqa: PLR0917
    xy: np.ndarray,
    radius: np.ndarray,
    grade: np.ndarray,
    n_xy: int,
    vehicle: np.ndarray,
    braking: float,
) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover - numba
    """Cumulative distance (m) and speed (km/h) at the route's vertices.

    The same arithmetic as :func:`~cohesion_gis.hvm.kinematics.speed_profile_kmh` with
    :func:`~cohesion_gis.hvm.kinematics.bend_speed_kmh` caps and
    :func:`~cohesion_gis.hvm.kinematics.graded_accel_ms2` accelerations. ``vehicle`` is
    ``(lat, accel, braking, top_kmh, start_kmh, ...)``.
    """
    lat, accel, top_kmh, start_kmh = vehicle[0], vehicle[1], vehicle[3], vehicle[4]
    dist = np.empty(n_xy)
    cap2 = np.empty(n_xy)
    acc = np.empty(max(n_xy - 1, 0))
    dist[0] = 0.0
    total = 0.0
    top_ms = top_kmh / 3.6
    for i in range(n_xy):
        if i > 0:
            total += np.hypot(xy[i, 0] - xy[i - 1, 0], xy[i, 1] - xy[i - 1, 1])
            dist[i] = total
            acc[i - 1] = accel - G_MS2 * np.sin(np.arctan(grade[i - 1]))
        cap = min(np.sqrt(lat * radius[i]) * 3.6 / 3.6, top_ms)
        cap2[i] = cap * cap
    v0 = start_kmh / 3.6
    v2 = _profile_sq(dist, cap2, acc, braking, v0 * v0)
    return dist, np.sqrt(v2) * 3.6


@njit(cache=True)
def run_sites(  # noqa: PLR0917
    network: tuple[np.ndarray, ...],
    graph: tuple[np.ndarray, np.ndarray, np.ndarray],
    sites: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    classes: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    horizon_m: float,
    kerb: float,
) -> tuple[np.ndarray, ...]:  # pragma: no cover - numba
    """Search every site for every class; rows, routes and barrier meetings as flat arrays.

    Parameters (tuples of arrays)
    -----------------------------
    network
        ``(tail, head, h_start, h_end, out_ptr, out_idx, in_ptr, in_idx, node_radius,
        piece_a, piece_b, piece_width, piece_grade, vptr, vxy, vertex_radius, has_barrier)``.
    graph
        Undirected CSR ``(indptr, indices, length_m)`` of the nodes for the horizon.
    sites
        ``(entry_ptr, entry_node, inside_ptr, inside_piece)``: per site its entry nodes and the
        pieces whose midpoint lies in the site polygon.
    classes
        ``(width_ok (C, D), shift (C, D), low (C, D), high (C, D), threshold (C, N),
        vehicle (C, 6))`` with ``vehicle = (lat, accel, braking, top_kmh, start_kmh,
        start_u)``, the start speed capped by the top speed, ``start_u`` its square in (m/s)².

    Returns
    -------
    tuple
        Per row: site, class, entry (index into the site's entries or -1), status
        (``ROW_*``), open incoming edges, any wide-enough incoming edge (0/1), route
        vertex pointer (``R + 1``), warning flags (1: route loops; 2: profile differs from
        the label); per route vertex: x, y, speed (km/h), distance (m); defeated barrier
        meetings (row, node) and blocking candidates (row, node, forward speed km/h).
    """
    tail, head, h_start, h_end, out_ptr, out_idx, in_ptr, in_idx = network[:8]
    node_radius, piece_a, piece_b, piece_width, piece_grade = network[8:13]
    vptr, vxy, vertex_radius, has_barrier = network[13:]
    indptr, indices, weights = graph
    entry_ptr, entry_node, inside_ptr, inside_piece = sites
    width_ok, shift, low, high, threshold, vehicle = classes
    turns = (node_radius, h_end, h_start, piece_width)
    n_nodes = node_radius.size
    n_dir = head.size
    n_classes = width_ok.shape[0]
    n_vert = vxy.shape[0]
    free_threshold = np.full(n_nodes, -1.0)
    # scratch, reset after each site where touched
    dist = np.full(n_nodes, np.inf)
    in_ball = np.zeros(n_nodes, np.bool_)
    inside = np.zeros(piece_a.size, np.bool_)
    active = np.zeros(n_dir, np.bool_)
    scratch = (np.full(n_dir, -1.0), np.full(n_dir, -2, np.int64), np.empty(n_dir, np.int64),
               np.zeros(n_dir, np.bool_), np.empty(n_dir, np.int64))  # fmt: skip
    free = (np.full(n_dir, -1.0), np.full(n_dir, -2, np.int64), scratch[2], scratch[3],
            np.empty(n_dir, np.int64))  # fmt: skip
    n_route = 2 * n_vert + 2  # a route uses each directed edge at most once
    work = (np.empty(n_dir, np.int64), np.zeros(n_dir, np.bool_), np.empty((n_route, 2)),
            np.empty(n_route), np.empty(n_route), np.empty(n_dir, np.int64))  # fmt: skip
    # outputs
    cap = 64
    r_site = np.empty(cap, np.int64)
    r_class = np.empty(cap, np.int64)
    r_entry = np.empty(cap, np.int64)
    r_status = np.empty(cap, np.int64)
    r_open = np.empty(cap, np.int64)
    r_wide = np.empty(cap, np.int64)
    r_flags = np.empty(cap, np.int64)
    r_vptr = np.zeros(cap + 1, np.int64)
    v_xy = np.empty((cap, 2))
    v_speed = np.empty(cap)
    v_dist = np.empty(cap)
    m_defeat = np.empty((cap, 2), np.int64)
    m_block = np.empty((cap, 2), np.int64)
    m_block_kmh = np.empty(cap)
    n_rows = 0
    n_v = 0
    n_defeat = 0
    n_block = 0
    for s in range(entry_ptr.size - 1):
        e0, e1 = entry_ptr[s], entry_ptr[s + 1]
        if e0 == e1:
            ball = np.empty(0, np.int64)
        else:
            ball = _horizon(indptr, indices, weights, entry_node[e0:e1], horizon_m, dist)
        for n in ball:
            in_ball[n] = True
        for k in range(inside_ptr[s], inside_ptr[s + 1]):
            p = inside_piece[k]
            if in_ball[piece_a[p]] and in_ball[piece_b[p]]:
                inside[p] = True
        for c in range(n_classes):
            first_row = n_rows
            n_touched = 0
            n_free = 0
            need_free = False
            if e0 < e1:
                for n in ball:
                    for k in range(out_ptr[n], out_ptr[n + 1]):
                        d = out_idx[k]
                        active[d] = width_ok[c, d] and not inside[d >> 1]
                    if threshold[c, n] >= 0:
                        need_free = True
                maps = (shift[c], low[c], high[c])
                lat = vehicle[c, 0]
                start_u = vehicle[c, 5]
                n_touched = _search(
                    ball, in_ball, active, out_ptr, out_idx, head, maps, turns, kerb, lat,
                    threshold[c], start_u, scratch,
                )  # fmt: skip
                if need_free:
                    n_free = _search(
                        ball, in_ball, active, out_ptr, out_idx, head, maps, turns, kerb, lat,
                        free_threshold, start_u, free,
                    )  # fmt: skip
            label, pred = scratch[0], scratch[1]
            for e in range(e0, e1):
                node = entry_node[e]
                all_inside = True
                for k in range(in_ptr[node], in_ptr[node + 1]):
                    if not inside[in_idx[k] >> 1]:
                        all_inside = False
                if all_inside:
                    continue  # a street end on the perimeter with the street inside
                limit = max(threshold[c, node], -0.5)
                best = -1
                best_free = -1
                n_open = 0
                wide = 0
                for k in range(in_ptr[node], in_ptr[node + 1]):
                    d = in_idx[k]
                    if width_ok[c, d]:
                        wide = 1
                    if not (width_ok[c, d] and not inside[d >> 1] and in_ball[tail[d]]):
                        continue
                    n_open += 1
                    if label[d] > limit and (best < 0 or label[d] > label[best]):
                        best = d
                    if (
                        need_free
                        and free[0][d] >= 0
                        and (best_free < 0 or free[0][d] > free[0][best_free])
                    ):
                        best_free = d
                r_site = _grow(r_site, n_rows)
                r_class = _grow(r_class, n_rows)
                r_entry = _grow(r_entry, n_rows)
                r_status = _grow(r_status, n_rows)
                r_open = _grow(r_open, n_rows)
                r_wide = _grow(r_wide, n_rows)
                r_flags = _grow(r_flags, n_rows)
                r_vptr = _grow(r_vptr, n_rows + 1)
                r_site[n_rows] = s
                r_class[n_rows] = c
                r_entry[n_rows] = e - e0
                r_open[n_rows] = n_open
                r_wide[n_rows] = wide
                r_flags[n_rows] = 0
                if best_free >= 0:
                    n_path, n_xy, looped = _route(
                        free[1], best_free, vptr, vxy, vertex_radius, piece_grade, tail, turns,
                        kerb, work,
                    )  # fmt: skip
                    if looped:
                        r_flags[n_rows] |= 1
                    _, forward = _profile_kmh(work[2], work[3], work[4], n_xy, vehicle[c], 1e12)
                    for i in range(n_path):
                        n = head[work[0][i]]
                        if has_barrier[n]:
                            m_block = _grow2(m_block, n_block)
                            m_block_kmh = _grow(m_block_kmh, n_block)
                            m_block[n_block, 0] = n_rows
                            m_block[n_block, 1] = n
                            m_block_kmh[n_block] = forward[work[5][i]]
                            n_block += 1
                if best < 0:
                    r_status[n_rows] = ROW_NO_ARRIVAL
                else:
                    r_status[n_rows] = ROW_ARRIVED
                    n_path, n_xy, looped = _route(
                        pred, best, vptr, vxy, vertex_radius, piece_grade, tail, turns, kerb,
                        work,
                    )  # fmt: skip
                    if looped:
                        r_flags[n_rows] |= 1
                    route_dist, speeds = _profile_kmh(
                        work[2], work[3], work[4], n_xy, vehicle[c], vehicle[c, 2]
                    )
                    if abs(math.sqrt(label[best]) * 3.6 - speeds[-1]) > 0.01:
                        r_flags[n_rows] |= 2
                    v_xy = _grow2(v_xy, n_v + n_xy)
                    v_speed = _grow(v_speed, n_v + n_xy)
                    v_dist = _grow(v_dist, n_v + n_xy)
                    v_xy[n_v : n_v + n_xy] = work[2][:n_xy]
                    v_speed[n_v : n_v + n_xy] = speeds
                    v_dist[n_v : n_v + n_xy] = route_dist
                    n_v += n_xy
                    for i in range(n_path):
                        n = head[work[0][i]]
                        if has_barrier[n]:
                            m_defeat = _grow2(m_defeat, n_defeat)
                            m_defeat[n_defeat, 0] = n_rows
                            m_defeat[n_defeat, 1] = n
                            n_defeat += 1
                r_vptr[n_rows + 1] = n_v
                n_rows += 1
            if n_rows == first_row:
                r_site = _grow(r_site, n_rows)
                r_class = _grow(r_class, n_rows)
                r_entry = _grow(r_entry, n_rows)
                r_status = _grow(r_status, n_rows)
                r_open = _grow(r_open, n_rows)
                r_wide = _grow(r_wide, n_rows)
                r_flags = _grow(r_flags, n_rows)
                r_vptr = _grow(r_vptr, n_rows + 1)
                r_site[n_rows] = s
                r_class[n_rows] = c
                r_entry[n_rows] = -1
                r_status[n_rows] = ROW_NO_STREET if e0 == e1 else ROW_NO_ENTRY
                r_open[n_rows] = 0
                r_wide[n_rows] = 0
                r_flags[n_rows] = 0
                r_vptr[n_rows + 1] = n_v
                n_rows += 1
            # reset what this class touched
            for i in range(n_touched):
                d = scratch[4][i]
                scratch[0][d] = -1.0
                scratch[1][d] = -2
            for i in range(n_free):
                d = free[4][i]
                free[0][d] = -1.0
                free[1][d] = -2
        for n in ball:
            in_ball[n] = False
            dist[n] = np.inf
            for k in range(out_ptr[n], out_ptr[n + 1]):
                active[out_idx[k]] = False
        for k in range(inside_ptr[s], inside_ptr[s + 1]):
            inside[inside_piece[k]] = False
    return (
        r_site[:n_rows], r_class[:n_rows], r_entry[:n_rows], r_status[:n_rows],
        r_open[:n_rows], r_wide[:n_rows], r_vptr[: n_rows + 1],
        r_flags[:n_rows], v_xy[:n_v], v_speed[:n_v], v_dist[:n_v],
        m_defeat[:n_defeat], m_block[:n_block], m_block_kmh[:n_block],
    )  # fmt: skip
