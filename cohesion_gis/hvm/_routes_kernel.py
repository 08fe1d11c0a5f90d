"""Compiled kernels of the approach-route search (internal; see :mod:`cohesion_gis.hvm.routes`).

Everything per site runs here, in one compiled call over all sites and vehicle classes: the
horizon (the network engine's bounded search from the entries,
:func:`cohesion_gis.network.search_ball`), the max-speed search under the run-up budget
(labels settled in order of run-up), the choice of the best incoming edge at every entry, route
reconstruction from the labels and the speed profile. Scratch arrays are allocated once and reset
only where a site touched them, so the cost of a site is what its horizon holds, not the size of
the network.

Arrays (``P`` street pieces, ``D = 2P`` directed edges ``2p`` (a→b) and ``2p+1`` (b→a), ``N``
nodes, ``V`` piece vertices): piece ``p`` has vertices ``vxy[vptr[p]:vptr[p + 1]]`` from ``a`` to
``b``; ``out_idx[out_ptr[n]:out_ptr[n + 1]]`` are the directed edges leaving node ``n``,
``in_idx[in_ptr[n]:in_ptr[n + 1]]`` those arriving.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from cohesion_gis.hvm.kinematics import (
    G_MS2,
    advance_sq,
    group_bend_radii,
    level_run_up_m,
    level_speed_sq,
    profile_sq,
    widest_radius,
)
from cohesion_gis.network import search_ball, search_scratch

__all__ = [
    "MAP_DISTANCE",
    "MAP_SPEED",
    "MAP_STEPS",
    "ROW_ARRIVED",
    "ROW_NO_ARRIVAL",
    "ROW_NO_ENTRY",
    "ROW_NO_STREET",
    "SPEED_QUANTUM_MS",
    "chain_radii",
    "chain_starts",
    "edge_maps",
    "run_sites",
    "split_bend_radii",
    "turn_maps",
    "turn_radii",
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
def _grow2d(a: np.ndarray, n: int) -> np.ndarray:  # pragma: no cover - numba
    """:func:`_grow` for a two-dimensional array (any number of columns)."""
    if n < a.shape[0]:
        return a
    b = np.empty((max(2 * a.shape[0], n + 1), a.shape[1]), a.dtype)
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

    Chains are walked from every junction or dead end (degree ≠ 2); a ring of degree-2 nodes with
    no junction is cut at its straightest node (:func:`_ring_cut`; it was cut at its
    lowest-numbered node, issue 17), and every chain is measured from its end with the smaller
    x, then y (:func:`_backwards`): neither depends on the node numbering, so the radii are the
    same bit for bit under any numbering. Returns the radius at every piece vertex
    (piece ends ``inf``) and at every node inside a chain (degree 2; NaN at junctions and dead
    ends and at a ring's cut, where the turn decides).
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
    for node0 in np.concatenate((np.flatnonzero(degree != 2), np.flatnonzero(degree == 2))):
        start = node0
        if degree[node0] == 2 and not visited[incident[inc_ptr[node0]]]:
            # a ring of degree-2 nodes: cut where it runs straightest, not at its first node
            start = _ring_cut(node0, piece_a, piece_b, vptr, vxy, inc_ptr, incident)
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
            path, inner = chain[:n_chain], joints[:n_joints]
            if _backwards(path, vptr, vxy):  # walk every chain one way: the same sums
                path, inner = path[::-1] ^ 1, inner[::-1]
            _assign_chain(
                path, inner, vptr, vxy, piece_width, kerb, vertex_radius, node_radius
            )  # fmt: skip
    return vertex_radius, node_radius


@njit(cache=True)
def _backwards(chain: np.ndarray, vptr: np.ndarray, vxy: np.ndarray) -> bool:  # pragma: no cover
    """Whether a chain (directed edges) runs from its larger end (x, then y) to its smaller.

    A chain back to its own node compares its second vertex with its last but one.
    """
    first, last = chain[0], chain[-1]
    p, q = first >> 1, last >> 1
    a = vptr[p + 1] - 1 if first & 1 else vptr[p]  # the chain's first vertex
    b = vptr[q] if last & 1 else vptr[q + 1] - 1  # its last
    if vxy[a, 0] == vxy[b, 0] and vxy[a, 1] == vxy[b, 1]:
        a = a - 1 if first & 1 else a + 1
        b = b + 1 if last & 1 else b - 1
    return (vxy[b, 0], vxy[b, 1]) < (vxy[a, 0], vxy[a, 1])


@njit(cache=True)
def _ring_cut(  # noqa: PLR0917
    node: int,
    piece_a: np.ndarray,
    piece_b: np.ndarray,
    vptr: np.ndarray,
    vxy: np.ndarray,
    inc_ptr: np.ndarray,
    incident: np.ndarray,
) -> int:  # pragma: no cover - numba
    """The node where a ring of degree-2 nodes (through ``node``) runs straightest.

    Its smallest heading change, ties to the smallest x, then y: a place set by the geometry
    alone, so the ring's bends (merged along the cut ring) do not depend on the numbering.
    """
    best = node
    best_key = (np.inf, np.inf, np.inf)
    p = incident[inc_ptr[node]]
    n = node
    while True:
        q = incident[inc_ptr[n]] if incident[inc_ptr[n]] != p else incident[inc_ptr[n] + 1]
        # outward neighbour vertices of n on its two pieces (a self-loop: both ends of one)
        a = vxy[vptr[p] + 1] if piece_a[p] == n and piece_b[p] != n else vxy[vptr[p + 1] - 2]
        b = vxy[vptr[q] + 1] if piece_a[q] == n else vxy[vptr[q + 1] - 2]
        o = vxy[vptr[p]] if piece_a[p] == n else vxy[vptr[p + 1] - 1]
        ax, ay, bx, by = a[0] - o[0], a[1] - o[1], b[0] - o[0], b[1] - o[1]
        # the angle between the outward legs, the same whichever leg comes first
        bend = math.pi - math.atan2(abs(ax * by - ay * bx), ax * bx + ay * by)
        key = (bend, o[0], o[1])
        if key < best_key:
            best, best_key = n, key
        n = piece_b[q] if piece_a[q] == n else piece_a[q]
        p = q
        if n == node:
            return best


@njit(cache=True)
def _path_bend_radii(
    path: np.ndarray, vptr: np.ndarray, vxy: np.ndarray, piece_width: np.ndarray, kerb: float
) -> np.ndarray:  # pragma: no cover - numba
    """Bend radius (m) at every vertex of a path of directed edges (:func:`group_bend_radii`).

    The rule of :func:`~cohesion_gis.hvm.kinematics.bend_radii_m` on the path's own geometry,
    each segment as wide as its piece; ``inf`` everywhere on a path of fewer than 3 vertices.
    """
    n_xy = 1
    for d in path:
        n_xy += vptr[(d >> 1) + 1] - vptr[d >> 1] - 1
    if n_xy < 3:
        return np.full(n_xy, np.inf)
    xy = np.empty((n_xy, 2))
    seg_w = np.empty(n_xy - 1)
    i = 0
    for d in path:
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
    return group_bend_radii(dist, turn, width, kerb)


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
    radius = _path_bend_radii(chain, vptr, vxy, piece_width, kerb)
    if radius.size < 3:
        return
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

#: Edge-map kinds: a clamp in squared speed (constant model), a clamp in level run-up distance
#: D (power model, level piece), or a walk over the piece's segments (power model, graded piece).
MAP_SPEED, MAP_DISTANCE, MAP_STEPS = 0, 1, 2


@njit(cache=True)
def edge_maps(  # noqa: PLR0917 (numba has no keyword-only arguments)
    vptr: np.ndarray,
    seg_len: np.ndarray,
    radius: np.ndarray,
    grade: np.ndarray,
    model: np.ndarray,
    lat: float,
    top2: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:  # pragma: no cover - numba
    """Traversal map of every directed edge: ``(kind, shift, low, high)``.

    A piece is a run of segments, each an advance followed by the cap at its end vertex. With
    constant acceleration an advance is ``u ↦ max(0, u + 2aΔs)`` in squared speed u; for the power
    model on level ground it is ``D ↦ D + Δs`` in level run-up distance ``D(u)`` (the distance
    table). Either way the composition is one clamp ``x_end = min(hi, max(lo, x_start + T))``
    (kinds :data:`MAP_SPEED`, :data:`MAP_DISTANCE`); graded pieces under the power model are
    walked segment by segment (:data:`MAP_STEPS`).
    """
    n_pieces = vptr.size - 1
    kind = np.empty(2 * n_pieces, np.int64)
    shift = np.zeros(2 * n_pieces)
    low = np.zeros(2 * n_pieces)
    high = np.zeros(2 * n_pieces)
    power = model[4] != 0.0
    for p in range(n_pieces):
        s0 = vptr[p]
        nv = vptr[p + 1] - s0
        for direction in range(2):
            d = 2 * p + direction
            g = grade[p] if direction == 0 else -grade[p]
            if power and g != 0.0:
                kind[d] = MAP_STEPS
                continue
            kind[d] = MAP_DISTANCE if power else MAP_SPEED
            a = model[0] - G_MS2 * math.sin(math.atan(g))
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
                cap = min(top2, lat * r)
                if power:
                    step = length
                    cap = level_run_up_m(cap, model)
                else:
                    step = 2.0 * a * length
                t += step
                lo = min(cap, max(0.0, lo + step))
                hi = min(cap, max(0.0, hi + step))
            shift[d] = t
            low[d] = lo
            high[d] = hi
    return kind, shift, low, high


@njit(cache=True, inline="always")
def _traverse(  # noqa: PLR0917
    d: int,
    u: float,
    maps: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    segments: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    lat: float,
    top2: float,
) -> float:  # pragma: no cover - numba
    """Squared speed (m²/s²) at the end of directed edge ``d`` entered at squared speed ``u``.

    ``maps = (kind, shift, low, high, model)`` from :func:`edge_maps` and the class's traction
    model; ``segments = (vptr, seg_len, vertex_radius, piece_grade)`` for graded pieces.
    """
    kind, shift, low, high, model = maps
    if kind[d] == MAP_SPEED:
        return min(high[d], max(low[d], u + shift[d]))
    if kind[d] == MAP_DISTANCE:
        return level_speed_sq(min(high[d], max(low[d], level_run_up_m(u, model) + shift[d])), model)
    vptr, seg_len, radius, grade = segments
    p = d >> 1
    s0 = vptr[p]
    nv = vptr[p + 1] - s0
    g = -grade[p] if d & 1 else grade[p]
    for k in range(nv - 1):
        if d & 1:
            length = seg_len[s0 + nv - 2 - k]
            r = radius[s0 + nv - 2 - k]
        else:
            length = seg_len[s0 + k]
            r = radius[s0 + k + 1]
        u = min(top2, lat * r, advance_sq(u, length, g, model))
    return u


@njit(cache=True)
def _junction_bend(
    d: int,
    d2: int,
    node: int,
    turns: tuple[np.ndarray, ...],
    kerb: float,
) -> tuple[float, float, int, int]:  # pragma: no cover - numba
    """Bend radius (m) of the turn from directed edge ``d`` into ``d2`` at ``node``, and its ends.

    ``turns = (node_radius, h_end, h_start, piece_width, vptr, vxy, tail, head, in_ptr,
    in_idx, out_ptr, out_idx)``. Inside a chain of pieces the chain's radius. At a junction the
    bend of the joined path (:func:`_joined_path`: the chain of pieces ending with ``d``, then
    the one starting with ``d2``) by the rule of the chains, so a curve split by the junction is
    one bend (it was the widest line of the heading change at the node alone: each part of a
    split curve counted as a milder bend of its own). The joined path only ever tightens a turn:
    where it reads wider than the turn at the node alone (the widest line for the widths before
    and after it), the node's turn is kept; a U-turn too.

    Returns ``(radius, exit_radius, exit_segments, entry_segments)``: where the merged bend
    (the sharper reading) runs on past the node into ``d2``'s chain, the vehicle may not speed
    up again inside it: its radius caps the speed at the bend's last vertex, ``exit_segments``
    segments past the node along the chain (0: no such cap); it begins ``entry_segments``
    before the node (for the route's reported profile). A bend split by a junction was capped at
    the node only and the pieces after it kept their own chain's milder radii (second VDA
    review: speed regained inside a bend after a junction).
    """
    node_radius, h_end, h_start, width, vptr, vxy = turns[:6]
    r = node_radius[node]
    if not math.isnan(r):
        return r, np.inf, 0, 0
    turn = h_start[d2] - h_end[d]
    turn = math.atan2(math.sin(turn), math.cos(turn))
    single = widest_radius(turn, width[d >> 1], width[d2 >> 1], kerb)
    if d2 == (d ^ 1):
        return single, np.inf, 0, 0
    path, at = _joined_path(d, d2, node, turns)
    radii = _path_bend_radii(path, vptr, vxy, width, kerb)
    r = radii[at]
    if r < single * (1.0 - 1e-9):  # (not the bits of a heading)
        k = at  # merged into a sharper bend: it ends where the vertices leave its radius
        while k + 1 < radii.size - 1 and radii[k + 1] == r:
            k += 1
        first = at
        while first > 1 and radii[first - 1] == r:
            first -= 1
        return r, r, k - at, at - first
    # a merge that reads the corner as a wider bend smears a sharp node over its neighbours'
    # vertices (Helsinki: up to +18 km/h at a pedestrian street's mouth): the corner governs
    return single, np.inf, 0, 0


@njit(cache=True)
def _joined_path(
    d: int, d2: int, node: int, turns: tuple[np.ndarray, ...]
) -> tuple[np.ndarray, int]:  # pragma: no cover - numba
    """Directed edges of the chain of pieces ending with ``d`` then of the one from ``d2``.

    Each chain runs through degree-2 nodes up to a junction or dead end (or back to ``node``).
    Returns the path and the index of ``node``'s vertex on it.
    """
    vptr, tail, head, in_ptr, in_idx, out_ptr, out_idx = (
        turns[4], turns[6], turns[7], turns[8], turns[9], turns[10], turns[11]
    )  # fmt: skip
    limit = head.size
    n_back = 1
    x = d
    while n_back < limit:
        t = tail[x]
        if out_ptr[t + 1] - out_ptr[t] != 2 or t == node:
            break
        x = _chain_prev(x, tail, in_ptr, in_idx)
        n_back += 1
    n_fwd = 1
    y = d2
    while n_fwd < limit:
        h = head[y]
        if out_ptr[h + 1] - out_ptr[h] != 2 or h == node:
            break
        y = _chain_next(y, head, out_ptr, out_idx)
        n_fwd += 1
    path = np.empty(n_back + n_fwd, np.int64)
    x = d
    for i in range(n_back - 1, -1, -1):
        path[i] = x
        if i > 0:
            x = _chain_prev(x, tail, in_ptr, in_idx)
    y = d2
    for i in range(n_back, n_back + n_fwd):
        path[i] = y
        if i + 1 < n_back + n_fwd:
            y = _chain_next(y, head, out_ptr, out_idx)
    at = 0
    for i in range(n_back):
        at += vptr[(path[i] >> 1) + 1] - vptr[path[i] >> 1] - 1
    return path, at


#: A bend is read across two junctions only where the street piece between them is shorter
#: than this (m) [A]: two 90° turns on a 7 m street merge into one bend when closer than about
#: 53 m (twice the 26 m tangent of their 30 m widest line), so the sharp bends that cap speeds
#: are split by shorter pieces, as are a roundabout's arcs between its arms; gentler turns
#: merge over longer pieces but cap little. It bounds the work: at 100 m every block of an
#: 80 m street grid was read (network build 2.3 -> 6.2 s CPU on 100 k nodes).
SPLIT_BEND_M = 60.0


@njit(cache=True)
def _chain_first(x: int, tail: np.ndarray, in_ptr: np.ndarray, in_idx: np.ndarray,
                 stop: np.ndarray) -> int:  # fmt: skip  # pragma: no cover - numba
    """The first directed edge of the chain of pieces (between ``stop`` nodes) ending with ``x``."""
    y = x
    while not stop[tail[y]]:
        y = _chain_prev(y, tail, in_ptr, in_idx)
        if y == x:
            return -1  # a ring with no stop node
    return y


@njit(cache=True)
def split_bend_radii(  # noqa: PLR0917
    turns: tuple[np.ndarray, ...],
    piece_len: np.ndarray,
    stop: np.ndarray,
    turn_ptr: np.ndarray,
    turn_radius: np.ndarray,
    kerb: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # pragma: no cover - numba
    """Bends split by two junctions: the turn radius at the second given the road before the first.

    For a chain of pieces ``B`` from junction J1 to junction J2 (both of degree ≠ 2, no stop
    node between, shorter than :data:`SPLIT_BEND_M`), entered from directed edge ``a`` at J1
    and left by the ``j``-th edge at J2: the radius at J2 of the path ``chain(a) + B +
    chain(j)`` by the rule of :func:`_path_bend_radii` (each turn of :func:`_junction_bend`
    sees two chains, so a bend split twice was read as two milder bends; second VDA review,
    Stade Louis-II e3). Kept only where some ``(a, j)`` reads tighter than the turn itself:
    ``state_ptr[d]`` (per last edge ``d`` of ``B``) numbers a slot per edge into J1 (the
    search keeps labels at ``d`` apart by the edge they entered ``B`` from), ``table_ptr[d]``
    the radii ``table[table_ptr[d] + i·n_out + j]`` (``i``: the edge's place among J1's
    incoming edges).
    """
    vptr, tail, head, in_ptr, in_idx, out_ptr, out_idx = (
        turns[4], turns[6], turns[7], turns[8], turns[9], turns[10], turns[11]
    )  # fmt: skip
    width, vxy = turns[3], turns[5]
    n_dir = head.size
    state_ptr = np.zeros(n_dir + 1, np.int64)
    table_ptr = np.zeros(n_dir + 1, np.int64)
    table = np.empty(64)
    n_table = 0
    for d in range(n_dir):
        state_ptr[d + 1] = state_ptr[d]
        table_ptr[d + 1] = table_ptr[d]
        j2 = head[d]
        if not stop[j2] or out_ptr[j2 + 1] - out_ptr[j2] == 2:
            continue
        x = _chain_first(d, tail, in_ptr, in_idx, stop)
        if x < 0:
            continue
        j1 = tail[x]
        if j1 == j2 or out_ptr[j1 + 1] - out_ptr[j1] == 2:
            continue
        length = piece_len[x >> 1]
        y = x
        while y != d and length < SPLIT_BEND_M:
            y = _chain_next(y, head, out_ptr, out_idx)
            length += piece_len[y >> 1]
        if length >= SPLIT_BEND_M:
            continue
        n_in = in_ptr[j1 + 1] - in_ptr[j1]
        n_out = out_ptr[j2 + 1] - out_ptr[j2]
        table = _grow(table, n_table + n_in * n_out)
        tighter = False
        for i in range(n_in):
            a = in_idx[in_ptr[j1] + i]
            for j in range(n_out):
                d2 = out_idx[out_ptr[j2] + j]
                r = np.inf
                if a != (x ^ 1) and d2 != (d ^ 1):
                    back, _ = _joined_path(a, x, j1, turns)  # chain(a), then from x
                    path, at = _joined_path(d, d2, j2, turns)  # B (from J1), then chain(d2)
                    n_a = 0
                    while back[n_a] != x:
                        n_a += 1
                    joined = np.concatenate((back[:n_a], path))
                    for k in range(n_a):
                        at += vptr[(back[k] >> 1) + 1] - vptr[back[k] >> 1] - 1
                    r = _path_bend_radii(joined, vptr, vxy, width, kerb)[at]
                    tighter = tighter or r < turn_radius[turn_ptr[d] + j] * (1.0 - 1e-9)
                table[n_table + i * n_out + j] = r
        if tighter:
            state_ptr[d + 1] += n_in
            table_ptr[d + 1] += n_in * n_out
            n_table += n_in * n_out
    return state_ptr, table_ptr, table[:n_table].copy()


# --------------------------------------------------------------------------- per site


@njit(cache=True, inline="always")
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


@njit(cache=True, inline="always")
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


#: A label is kept only if it is faster than every shorter label of its directed edge by more than
#: this (m/s; 0.1 km/h).
SPEED_QUANTUM_MS = 0.1 / 3.6


@njit(cache=True)
def _grow_pool(
    pool: tuple[np.ndarray, ...],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:  # pragma: no cover
    """The label pool with twice the room.

    Per label: its last directed edge, squared speed (m²/s²) there, run-up (m), predecessor
    label (-1: a start) and the first directed edge of its own chain segment.
    """
    n = pool[0].size
    return (_grow(pool[0], n), _grow(pool[1], n), _grow(pool[2], n), _grow(pool[3], n),
            _grow(pool[4], n))  # fmt: skip


@njit(cache=True)
def _chain_prev(
    x: int, tail: np.ndarray, in_ptr: np.ndarray, in_idx: np.ndarray
) -> int:  # pragma: no cover - numba
    """The directed edge before ``x`` on its chain (``tail[x]`` has degree 2)."""
    node = tail[x]
    for k in range(in_ptr[node], in_ptr[node + 1]):
        if in_idx[k] != (x ^ 1):
            return in_idx[k]
    return -1


@njit(cache=True, inline="always")
def _chain_next(
    y: int, head: np.ndarray, out_ptr: np.ndarray, out_idx: np.ndarray
) -> int:  # pragma: no cover - numba
    """The directed edge after ``y`` on its chain (``head[y]`` has degree 2)."""
    node = head[y]
    first = out_idx[out_ptr[node]]
    return first if first != (y ^ 1) else out_idx[out_ptr[node] + 1]


@njit(cache=True)
def _label_path(
    pool: tuple[np.ndarray, ...],
    lab: int,
    tail: np.ndarray,
    in_ptr: np.ndarray,
    in_idx: np.ndarray,
) -> np.ndarray:  # pragma: no cover - numba
    """Directed edges of label ``lab``'s route, from the start.

    Each label covers the chain segment from its first directed edge to its last, after its
    predecessor's route.
    """
    edge, prev, first = pool[0], pool[3], pool[4]
    n = 0
    k = lab
    while k >= 0:
        x = edge[k]
        n += 1
        while x != first[k]:
            x = _chain_prev(x, tail, in_ptr, in_idx)
            n += 1
        k = prev[k]
    path = np.empty(n, np.int64)
    k = lab
    while k >= 0:
        x = edge[k]
        n -= 1
        path[n] = x
        while x != first[k]:
            x = _chain_prev(x, tail, in_ptr, in_idx)
            n -= 1
            path[n] = x
        k = prev[k]
    return path


@njit(cache=True)
def _mark_path(
    path: np.ndarray, head: np.ndarray, tail: np.ndarray, on_path: np.ndarray, value: bool
) -> None:  # pragma: no cover - numba
    """Set ``on_path`` to ``value`` at every node of a route (directed edges ``path``)."""
    on_path[tail[path[0]]] = value
    for d in path:
        on_path[head[d]] = value


@njit(cache=True)
def _mark_label(
    pool: tuple[np.ndarray, ...],
    lab: int,
    graph: tuple[np.ndarray, ...],
    on_path: np.ndarray,
    value: bool,
) -> None:  # pragma: no cover - numba
    """:func:`_mark_path` on label ``lab``'s route, without building it."""
    edge, prev, first = pool[0], pool[3], pool[4]
    head, tail, in_ptr, in_idx = graph[2], graph[3], graph[8], graph[9]
    x = edge[lab]
    while lab >= 0:
        x = edge[lab]
        on_path[head[x]] = value
        while x != first[lab]:
            x = _chain_prev(x, tail, in_ptr, in_idx)
            on_path[head[x]] = value
        lab = prev[lab]
    on_path[tail[x]] = value


@njit(cache=True)
def _chain_clear(  # noqa: PLR0917
    x: int, e: int, head: np.ndarray, out_ptr: np.ndarray, out_idx: np.ndarray, on_path: np.ndarray
) -> bool:  # pragma: no cover - numba
    """Whether no node of the chain segment from directed edge ``x`` to ``e`` is on the path."""
    while not on_path[head[x]]:
        if x == e:
            return True
        node = head[x]
        for k in range(out_ptr[node], out_ptr[node + 1]):
            if out_idx[k] != (x ^ 1):
                x = out_idx[k]
                break
    return False


@njit(cache=True)
def turn_radii(  # noqa: PLR0917
    head: np.ndarray,
    out_ptr: np.ndarray,
    out_idx: np.ndarray,
    turns: tuple[np.ndarray, ...],
    kerb: float,
    stop: np.ndarray,
) -> tuple[np.ndarray, ...]:  # pragma: no cover - numba
    """Bend radius (m) of every turn (:func:`_junction_bend`; U-turns included) and its ends.

    ``radius[ptr[d] + j]`` is the turn from directed edge ``d`` into the ``j``-th directed edge
    leaving its head; ``widest[d]`` the largest radius over those turns but the U-turn (0 at a
    dead end): no continuation can use a speed above ``sqrt(a_lat · widest[d])``.
    ``exit_seg``, ``exit_radius`` per turn: the bend's cap at its last vertex past a junction
    (``exit_seg`` segments along the chain of pieces entered, at most to its end at the next
    ``stop`` node; 0: none); ``entry_seg`` the segments of the bend before the node;
    ``exit_row`` the turn's row in :func:`turn_maps` (-1: no exit).
    """
    n_dir = head.size
    ptr = np.zeros(n_dir + 1, np.int64)
    for d in range(n_dir):
        ptr[d + 1] = ptr[d] + out_ptr[head[d] + 1] - out_ptr[head[d]]
    radius = np.empty(ptr[-1])
    exit_seg = np.zeros(ptr[-1], np.int64)
    exit_radius = np.full(ptr[-1], np.inf)
    entry_seg = np.zeros(ptr[-1], np.int64)
    widest = np.zeros(n_dir)
    vptr = turns[4]
    for d in range(n_dir):
        node = head[d]
        for j in range(out_ptr[node + 1] - out_ptr[node]):
            d2 = out_idx[out_ptr[node] + j]
            t = ptr[d] + j
            radius[t], r_exit, n_exit, entry_seg[t] = _junction_bend(d, d2, node, turns, kerb)
            if d2 != (d ^ 1):
                widest[d] = max(widest[d], radius[t])
            if n_exit > 0 and out_ptr[node + 1] - out_ptr[node] != 2:
                y = d2  # the exit lies on the chain of pieces the search takes in one step
                n_chain = vptr[(y >> 1) + 1] - vptr[y >> 1] - 1
                while n_chain < n_exit and not stop[head[y]]:
                    y = _chain_next(y, head, out_ptr, out_idx)
                    n_chain += vptr[(y >> 1) + 1] - vptr[y >> 1] - 1
                exit_seg[t] = min(n_exit, n_chain)
                exit_radius[t] = r_exit
    exit_row = np.full(ptr[-1], -1, np.int64)
    n_rows = 0
    for t in range(ptr[-1]):
        if exit_seg[t] > 0:
            exit_row[t] = n_rows
            n_rows += 1
    return ptr, radius, widest, exit_seg, exit_radius, entry_seg, exit_row


@njit(cache=True)
def _compose(
    f: tuple[float, float, float], g: tuple[float, float, float]
) -> tuple[float, float, float]:  # pragma: no cover - numba
    """Clamp ``g ∘ f`` of clamps ``x ↦ min(hi, max(lo, x + T))`` given as ``(T, lo, hi)``."""
    return (f[0] + g[0], min(g[2], max(g[1], f[1] + g[0])), min(g[2], max(g[1], f[2] + g[0])))


@njit(cache=True)
def chain_starts(
    graph: tuple[np.ndarray, ...],
    maps: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    segments: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    width_ok: np.ndarray,
    limits: tuple[float, float, float, float],
) -> tuple[np.ndarray, ...]:  # pragma: no cover - numba
    """Per directed edge ``x``: its chain of pieces, from ``tail[x]`` to the next stop node.

    The chain runs on from ``x`` through degree-2 nodes (each turn capped). Returns, per ``x``:
    the squared speed (m²/s²) at the chain's end of a start there, the chain's length (m,
    ``inf`` beyond the horizon), its last directed edge (-1 beyond the horizon), whether every
    piece is wide enough, and its traversal map ``(kind, T, lo, hi)`` (C, 4): one clamp as in
    :func:`edge_maps` when every piece is one, else walked piece by piece.
    ``limits = (lat, top2, start_u, horizon)``; ``graph`` as in :func:`_search`.
    """
    kind, model = maps[0], maps[4]
    out_ptr, out_idx, head, piece_len = graph[0], graph[1], graph[2], graph[4]
    turn_ptr, turn_radius, stop = graph[5], graph[6], graph[10]
    lat, top2, start_u, horizon = limits
    n_dir = head.size
    speed2 = np.empty(n_dir)
    length = np.full(n_dir, np.inf)
    end = np.full(n_dir, -1, np.int64)
    ok = np.zeros(n_dir, np.bool_)
    chain_maps = np.zeros((n_dir, 4))
    for x in range(n_dir):
        u = _traverse(x, start_u, maps, segments, lat, top2)
        total = piece_len[x >> 1]
        fits = width_ok[x]
        clamp = (maps[1][x], maps[2][x], maps[3][x])
        walk = kind[x] == MAP_STEPS
        d = x
        while not stop[head[d]] and total <= horizon:
            node = head[d]
            for j in range(out_ptr[node + 1] - out_ptr[node]):
                d2 = out_idx[out_ptr[node] + j]
                if d2 != (d ^ 1):
                    cap = lat * turn_radius[turn_ptr[d] + j]
                    u = _traverse(d2, min(u, cap), maps, segments, lat, top2)
                    total += piece_len[d2 >> 1]
                    fits = fits and width_ok[d2]
                    walk = walk or kind[d2] == MAP_STEPS
                    if kind[d2] == MAP_DISTANCE:
                        cap = level_run_up_m(min(cap, top2), model)
                    clamp = _compose(_compose(clamp, (0.0, -np.inf, cap)),
                                     (maps[1][d2], maps[2][d2], maps[3][d2]))  # fmt: skip
                    d = d2
                    break
        if total <= horizon:
            speed2[x] = u
            length[x] = total
            end[x] = d
            ok[x] = fits
            chain_maps[x, 0] = MAP_STEPS if walk else kind[x]
            chain_maps[x, 1:] = clamp
    return speed2, length, end, ok, chain_maps


@njit(cache=True)
def turn_maps(  # noqa: PLR0917
    graph: tuple[np.ndarray, ...],
    maps: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    segments: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    lat: float,
    top2: float,
    exit_row: np.ndarray,
) -> np.ndarray:  # pragma: no cover - numba
    """Per turn with a bend exit (``exit_seg > 0``): the map of the chain it enters, in two.

    Row ``exit_row[t]`` (:func:`turn_radii`; only such turns have one): the kind
    (:data:`MAP_STEPS` when a piece of the chain is walked), the clamp ``(T, lo, hi)`` of the
    chain's first ``exit_seg[t]`` segments, then that of the rest (as in :func:`chain_starts`;
    turns at its degree-2 nodes included), so the bend's cap at its last vertex goes between
    the two. ``graph`` as in :func:`_search`.
    """
    out_ptr, out_idx, head = graph[0], graph[1], graph[2]
    turn_ptr, turn_radius, stop, exit_seg = graph[5], graph[6], graph[10], graph[11]
    kind, model = maps[0], maps[4]
    vptr, seg_len, radius, grade = segments
    power = model[4] != 0.0
    out = np.zeros((max(exit_row.max() + 1, 0) if exit_row.size else 0, 7))
    for d in range(head.size):
        node = head[d]
        for j in range(out_ptr[node + 1] - out_ptr[node]):
            t = turn_ptr[d] + j
            if exit_seg[t] == 0:
                continue
            y = out_idx[out_ptr[node] + j]
            parts = [(0.0, -np.inf, np.inf), (0.0, -np.inf, np.inf)]
            n = 0
            walk = False
            while True:
                walk = walk or kind[y] == MAP_STEPS
                p = y >> 1
                s0 = vptr[p]
                nv = vptr[p + 1] - s0
                a = model[0] - G_MS2 * math.sin(math.atan(-grade[p] if y & 1 else grade[p]))
                for k in range(nv - 1):
                    i = s0 + nv - 2 - k if y & 1 else s0 + k
                    cap = min(top2, lat * radius[i if y & 1 else i + 1])
                    if power:
                        step, cap = seg_len[i], level_run_up_m(cap, model)
                    else:
                        step = 2.0 * a * seg_len[i]
                    side = 0 if n < exit_seg[t] else 1
                    parts[side] = _compose(parts[side], (step, 0.0, cap))
                    n += 1
                if stop[head[y]]:
                    break
                y2 = _chain_next(y, head, out_ptr, out_idx)
                for jj in range(out_ptr[head[y] + 1] - out_ptr[head[y]]):
                    if out_idx[out_ptr[head[y]] + jj] == y2:
                        cap = min(top2, lat * turn_radius[turn_ptr[y] + jj])
                        if power:
                            cap = level_run_up_m(cap, model)
                        side = 0 if n < exit_seg[t] else 1
                        parts[side] = _compose(parts[side], (0.0, -np.inf, cap))
                y = y2
            row = exit_row[t]
            out[row, 0] = MAP_STEPS if walk else kind[y]
            out[row, 1:4] = parts[0]
            out[row, 4:] = parts[1]
    return out


@njit(cache=True)
def _exit_traverse(  # noqa: PLR0917
    t: int,
    x: int,
    u: float,
    cap: float,
    tmaps: np.ndarray,
    graph: tuple[np.ndarray, ...],
    maps: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    segments: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    lat: float,
    top2: float,
) -> float:  # pragma: no cover - numba
    """:func:`_chain_traverse` after turn ``t`` into ``x``, capped at the bend's exit.

    ``cap`` (m²/s²) applies after ``exit_seg[t]`` segments (:func:`turn_maps`, row
    ``exit_row[t]``).
    """
    m = tmaps[graph[16][t]]
    k = m[0]
    if k == MAP_SPEED:
        u = min(m[3], max(m[2], u + m[1]), cap)
        return min(m[6], max(m[5], u + m[4]))
    model = maps[4]
    if k == MAP_DISTANCE:
        dist = min(m[3], max(m[2], level_run_up_m(u, model) + m[1]))
        dist = min(dist, level_run_up_m(min(cap, top2), model))
        return level_speed_sq(min(m[6], max(m[5], dist + m[4])), model)
    out_ptr, out_idx, head, turn_ptr, turn_radius, stop = (
        graph[0], graph[1], graph[2], graph[5], graph[6], graph[10]
    )  # fmt: skip
    vptr, seg_len, radius, grade = segments
    n_exit = graph[11][t]
    n = 0
    y = x
    while True:  # walked segment by segment, as :func:`_traverse` walks a graded piece
        p = y >> 1
        s0 = vptr[p]
        nv = vptr[p + 1] - s0
        g = -grade[p] if y & 1 else grade[p]
        for kk in range(nv - 1):
            i = s0 + nv - 2 - kk if y & 1 else s0 + kk
            u = min(top2, lat * radius[i if y & 1 else i + 1], advance_sq(u, seg_len[i], g, model))
            n += 1
            if n == n_exit:
                u = min(u, cap)
        if stop[head[y]]:
            return u
        y2 = _chain_next(y, head, out_ptr, out_idx)
        for jj in range(out_ptr[head[y] + 1] - out_ptr[head[y]]):
            if out_idx[out_ptr[head[y]] + jj] == y2:
                u = min(u, lat * turn_radius[turn_ptr[y] + jj])
        y = y2


@njit(cache=True, inline="always")
def _chain_traverse(  # noqa: PLR0917
    x: int,
    u: float,
    chain_maps: np.ndarray,
    graph: tuple[np.ndarray, ...],
    maps: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    segments: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    lat: float,
    top2: float,
) -> float:  # pragma: no cover - numba
    """Squared speed (m²/s²) at the end of the chain of pieces from ``x``, entered at ``u``."""
    k = chain_maps[x, 0]
    if k == MAP_SPEED:
        return min(chain_maps[x, 3], max(chain_maps[x, 2], u + chain_maps[x, 1]))
    if k == MAP_DISTANCE:
        model = maps[4]
        d = level_run_up_m(u, model) + chain_maps[x, 1]
        return level_speed_sq(min(chain_maps[x, 3], max(chain_maps[x, 2], d)), model)
    out_ptr, out_idx, head, turn_ptr, turn_radius, stop = (
        graph[0], graph[1], graph[2], graph[5], graph[6], graph[10]
    )  # fmt: skip
    u = _traverse(x, u, maps, segments, lat, top2)
    d = x
    while not stop[head[d]]:
        node = head[d]
        for j in range(out_ptr[node + 1] - out_ptr[node]):
            d2 = out_idx[out_ptr[node] + j]
            if d2 != (d ^ 1):
                u = _traverse(d2, min(u, lat * turn_radius[turn_ptr[d] + j]), maps, segments,
                              lat, top2)  # fmt: skip
                d = d2
                break
    return u


@njit(cache=True)
def _search(  # noqa: PLR0917 (numba has no keyword-only arguments)
    ball: np.ndarray,
    to_entry: np.ndarray,
    active: np.ndarray,
    graph: tuple[np.ndarray, ...],
    maps: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    segments: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    limits: tuple[float, float, float],
    starts: tuple[np.ndarray, ...],
    threshold: np.ndarray,
    simple: bool,
    scratch: tuple[np.ndarray, ...],
    pool: tuple[np.ndarray, ...],
    n_lab: int,
) -> tuple[tuple[np.ndarray, ...], int, int]:  # pragma: no cover
    """Max-speed search under a run-up budget: labels settled in order of run-up length.

    A label is a route ending with directed edge ``d``: its squared speed at the end of ``d``,
    its run-up (m) and the label it extends. Labels are settled in increasing run-up (a heap),
    so a label is non-dominated (no shorter route to the same edge is as fast) iff it is faster
    than every label settled at its edge before it, by more than :data:`SPEED_QUANTUM_MS`:
    only then is it kept and extended. A new label no faster than a pending (pushed, not yet
    settled) shorter label of its edge is not pushed. A route may not exceed ``horizon``
    metres, counting the network distance still to go to the nearest entry (``to_entry``, a
    lower bound), and may not make a U-turn; with ``simple`` it may not revisit a node either.

    Routes start from rest (the start speed) at any node with ``start_ok`` (reached from the
    road network outside without meeting a barrier that stops the class); all starts on a chain
    of pieces between stop nodes (junctions, dead ends, entries, barriers) are put directly on
    the chain's last piece, from ``starts = (start_u, start_len, chain_end, chain_ok,
    chain_maps, tmaps, start_ok)`` (:func:`chain_starts`, :func:`turn_maps`), so a chain of
    ``k`` pieces costs ``k`` start labels, not ``k²``.

    ``graph = (out_ptr, out_idx, head, tail, piece_len, turn_ptr, turn_radius, widest, in_ptr,
    in_idx, stop, exit_seg, exit_radius, state_ptr, table_ptr, table, exit_row)``
    (:func:`turn_radii`, :func:`split_bend_radii`); ``limits = (lat, top2, horizon)``;
    ``scratch = (best_v, best_lab, pend_v, pend_dist, touched, on_path, is_entry)`` with
    ``best_v``, ``best_lab``, ``pend_v`` -1 and ``on_path`` False everywhere on entry:
    ``best_v[s]`` becomes the largest settled speed (m/s) in state ``s`` (:func:`_state`: the
    edge, or the edge and the road before a bend split by two junctions: labels at one edge
    whose next turns differ are kept apart, so the search stays exact) and ``best_lab[d]`` the
    fastest label settled at ``d``. Labels are appended to ``pool`` from index ``n_lab``.
    Returns the pool, its new size and the number of edges labelled
    (``touched[:n]``, for the caller to reset with :func:`_reset`).
    """
    out_ptr, out_idx, head, tail = graph[:4]
    turn_ptr, turn_radius, widest, in_ptr, in_idx, stop, exit_seg, exit_radius = graph[5:13]
    table_ptr, table = graph[14], graph[15]
    best_v, best_lab, pend_v, pend_dist, touched, on_path, is_entry, blocked = scratch
    lab_edge, lab_u, lab_dist, lab_prev, lab_first = pool
    lat, top2, horizon = limits
    start_u, start_len, chain_end, chain_ok, chain_maps, tmaps, start_ok = starts
    horizon += 1e-6
    heap_d = np.empty(max(64, 4 * ball.size))
    heap_n = np.empty(heap_d.size, np.int64)
    size = 0
    n_touched = 0
    for n in ball:
        if not stop[n]:
            continue
        for k in range(in_ptr[n], in_ptr[n + 1]):
            # every start on the chain of pieces ending here: one label at the chain's end
            e = in_idx[k]
            x = e
            while chain_ok[x] and not blocked[x] and start_len[x] + to_entry[n] <= horizon:
                u = start_u[x]
                v = math.sqrt(u) if simple else _useful(e, u, head, widest, is_entry, lat)
                if pend_v[e] < 0 and start_ok[tail[x]]:
                    touched[n_touched] = e
                    n_touched += 1
                if start_ok[tail[x]] and (v > pend_v[e] or simple):
                    pend_v[e] = max(v, pend_v[e])
                    pend_dist[e] = start_len[x]
                    if n_lab == lab_edge.size:
                        lab_edge, lab_u, lab_dist, lab_prev, lab_first = _grow_pool(
                            (lab_edge, lab_u, lab_dist, lab_prev, lab_first)
                        )
                    lab_edge[n_lab] = e
                    lab_u[n_lab] = u
                    lab_dist[n_lab] = start_len[x]
                    lab_prev[n_lab] = -1
                    lab_first[n_lab] = x
                    if size == heap_d.size:
                        heap_d = _grow(heap_d, size)
                        heap_n = _grow(heap_n, size)
                    size = _heap_push(heap_d, heap_n, size, start_len[x], n_lab)
                    n_lab += 1
                if stop[tail[x]]:
                    break
                x = _chain_prev(x, tail, in_ptr, in_idx)
                if x == e:
                    break  # a ring of pieces with no stop node on it
    while size > 0:
        lab = heap_n[0]
        size = _heap_pop(heap_d, heap_n, size)
        d = lab_edge[lab]
        u = lab_u[lab]
        s, i_a = _state(d, lab_edge[lab_prev[lab]] if lab_prev[lab] >= 0 else -1, graph)
        v = math.sqrt(u) if simple else _useful(d, u, head, widest, is_entry, lat)
        if v <= best_v[s] + SPEED_QUANTUM_MS:
            continue
        best_v[s] = v
        if best_lab[d] < 0 or u > lab_u[best_lab[d]]:  # an entry's fastest, whatever the state
            if best_lab[d] < 0:
                touched[n_touched] = d
                n_touched += 1
            best_lab[d] = lab
        node = head[d]
        if simple:
            _mark_label((lab_edge, lab_u, lab_dist, lab_prev, lab_first), lab, graph, on_path,
                        True)  # fmt: skip
        for j in range(out_ptr[node + 1] - out_ptr[node]):
            x = out_idx[out_ptr[node] + j]  # into the chain of pieces from x to d2
            d2 = chain_end[x]
            if x == (d ^ 1) or d2 < 0 or not chain_ok[x] or blocked[x]:
                continue
            dist = lab_dist[lab] + start_len[x]
            if dist + to_entry[head[d2]] > horizon:
                continue
            if simple and not _chain_clear(x, d2, head, out_ptr, out_idx, on_path):
                continue
            t = turn_ptr[d] + j
            r, r_exit = turn_radius[t], exit_radius[t]
            if i_a >= 0:  # a bend split by two junctions, read with the road before the first
                n_out = out_ptr[node + 1] - out_ptr[node]
                r3 = table[table_ptr[d] + i_a * n_out + j]
                r, r_exit = min(r, r3), min(r_exit, r3)
            ut = min(u, lat * r)
            if ut <= threshold[node]:
                continue
            if exit_seg[t] > 0:  # a bend running on past the junction: no speed regained in it
                u2 = _exit_traverse(t, x, ut, lat * r_exit, tmaps, graph, maps, segments, lat,
                                    top2)  # fmt: skip
            else:
                u2 = _chain_traverse(x, ut, chain_maps, graph, maps, segments, lat, top2)
            v2 = math.sqrt(u2) if simple else _useful(d2, u2, head, widest, is_entry, lat)
            s2 = _state(d2, d, graph)[0]
            if v2 <= best_v[s2] + SPEED_QUANTUM_MS:
                continue
            if pend_v[s2] < 0:
                touched[n_touched] = s2
                n_touched += 1
            elif not simple and pend_dist[s2] <= dist and v2 <= pend_v[s2]:
                continue  # a shorter pending label is as fast
            if v2 > pend_v[s2]:
                pend_v[s2] = v2
                pend_dist[s2] = dist
            if n_lab == lab_edge.size:
                lab_edge, lab_u, lab_dist, lab_prev, lab_first = _grow_pool(
                    (lab_edge, lab_u, lab_dist, lab_prev, lab_first)
                )
            lab_edge[n_lab] = d2
            lab_u[n_lab] = u2
            lab_dist[n_lab] = dist
            lab_prev[n_lab] = lab
            lab_first[n_lab] = x
            if size == heap_d.size:
                heap_d = _grow(heap_d, size)
                heap_n = _grow(heap_n, size)
            size = _heap_push(heap_d, heap_n, size, dist, n_lab)
            n_lab += 1
        if simple:
            _mark_label((lab_edge, lab_u, lab_dist, lab_prev, lab_first), lab, graph, on_path,
                        False)  # fmt: skip
    return (lab_edge, lab_u, lab_dist, lab_prev, lab_first), n_lab, n_touched


@njit(cache=True, inline="always")
def _state(
    d: int, before: int, graph: tuple[np.ndarray, ...]
) -> tuple[int, int]:  # pragma: no cover - numba
    """The search state of a label at ``d`` whose chain was entered from ``before`` (-1: none).

    ``d`` itself, or where a bend split by two junctions ends at ``d``
    (:func:`split_bend_radii`) a state per edge into the first junction: ``(n_dir +
    state_ptr[d] + i, i)`` with ``i`` that edge's place among the junction's incoming edges.
    """
    head, in_ptr, in_idx, state_ptr = graph[2], graph[8], graph[9], graph[13]
    if before < 0 or state_ptr[d + 1] == state_ptr[d]:
        return d, -1
    j1 = head[before]
    for i in range(in_ptr[j1 + 1] - in_ptr[j1]):
        if in_idx[in_ptr[j1] + i] == before:
            return head.size + state_ptr[d] + i, i
    return d, -1


@njit(cache=True, inline="always")
def _useful(  # noqa: PLR0917
    d: int, u: float, head: np.ndarray, widest: np.ndarray, is_entry: np.ndarray, lat: float
) -> float:  # pragma: no cover - numba
    """The part of squared speed ``u`` at the end of ``d`` that matters, as a speed (m/s).

    At an entry all of it (the arrival speed); elsewhere no more than the fastest continuation
    allows (``sqrt(a_lat · widest[d])``), so labels faster than that compare as equal.
    """
    if is_entry[head[d]]:
        return math.sqrt(u)
    return math.sqrt(min(u, lat * widest[d]))


@njit(cache=True)
def _reset(
    scratch: tuple[np.ndarray, ...],
    n_touched: int,
) -> None:  # pragma: no cover - numba
    """Reset the per-edge scratch of :func:`_search` where it labelled edges."""
    best_v, best_lab, pend_v, _, touched, _, _, _ = scratch
    for i in range(n_touched):
        best_v[touched[i]] = -1.0
        if touched[i] < best_lab.size:
            best_lab[touched[i]] = -1
        pend_v[touched[i]] = -1.0


@njit(cache=True)
def _entry_labels(  # noqa: PLR0917
    nodes: np.ndarray,
    in_ptr: np.ndarray,
    in_idx: np.ndarray,
    usable: np.ndarray,
    threshold: np.ndarray,
    best_lab: np.ndarray,
    pool_u: np.ndarray,
) -> np.ndarray:  # pragma: no cover - numba
    """Per entry node, the fastest settled label over its usable incoming edges (-1: none).

    A vehicle stopped by a barrier at the entry itself (squared speed ``<= threshold``) does
    not count.
    """
    out = np.full(nodes.size, -1, np.int64)
    for i in range(nodes.size):
        node = nodes[i]
        limit = max(threshold[node], -0.5)
        for k in range(in_ptr[node], in_ptr[node + 1]):
            lab = best_lab[in_idx[k]]
            if not usable[in_idx[k]] or lab < 0 or pool_u[lab] <= limit:
                continue
            if out[i] < 0 or pool_u[lab] > pool_u[out[i]]:
                out[i] = lab
    return out


@njit(cache=True)
def _loops(
    path: np.ndarray, head: np.ndarray, tail: np.ndarray, on_path: np.ndarray
) -> bool:  # pragma: no cover - numba
    """Whether a route visits a node twice (``on_path`` False on entry and exit)."""
    looped = False
    on_path[tail[path[0]]] = True
    for d in path:
        looped = looped or on_path[head[d]]
        on_path[head[d]] = True
    _mark_path(path, head, tail, on_path, False)
    return looped


@njit(cache=True)
def _class_routes(  # noqa: PLR0917
    ball: np.ndarray,
    to_entry: np.ndarray,
    active: np.ndarray,
    graph: tuple[np.ndarray, ...],
    maps: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    segments: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    limits: tuple[float, float, float],
    starts: tuple[np.ndarray, ...],
    threshold: np.ndarray,
    entries: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    scratch: tuple[np.ndarray, ...],
    pool: tuple[np.ndarray, ...],
) -> tuple[tuple[np.ndarray, ...], np.ndarray, np.ndarray]:
    """Best loop-free route (a label of ``pool``) to every entry node, and a bound per entry.

    First the search over all routes (walks) within the budget; an entry whose best walk is
    loop-free has the exact answer. If some entry's best walk revisits a node, the search is
    repeated with loop-free routes only, and those entries take its answer; ``bound`` (m²/s²)
    is then the best walk's squared speed, an upper bound for any loop-free route (else -1).
    ``entries = (nodes, in_ptr, in_idx, usable)``.
    """
    nodes, in_ptr, in_idx, usable = entries
    best_lab, on_path = scratch[1], scratch[5]
    head, tail = graph[2], graph[3]
    bound = np.full(nodes.size, -1.0)
    pool, n_lab, n_touched = _search(ball, to_entry, active, graph, maps, segments, limits,
                                     starts, threshold, False, scratch, pool, 0)  # fmt: skip
    chosen = _entry_labels(nodes, in_ptr, in_idx, usable, threshold, best_lab, pool[1])
    looped = False
    for i in range(nodes.size):
        if chosen[i] >= 0 and _loops(
            _label_path(pool, chosen[i], tail, graph[8], graph[9]), head, tail,
            on_path,
        ):  # fmt: skip
            bound[i] = pool[1][chosen[i]]
            looped = True
    _reset(scratch, n_touched)
    if not looped:
        return pool, chosen, bound
    pool, n_lab, n_touched = _search(ball, to_entry, active, graph, maps, segments, limits,
                                     starts, threshold, True, scratch, pool, n_lab)  # fmt: skip
    simple = _entry_labels(nodes, in_ptr, in_idx, usable, threshold, best_lab, pool[1])
    for i in range(nodes.size):
        if bound[i] >= 0:
            chosen[i] = simple[i]
    _reset(scratch, n_touched)
    return pool, chosen, bound


@njit(cache=True)
def _route(
    path: np.ndarray,
    pieces: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    tail: np.ndarray,
    turns: tuple[np.ndarray, ...],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:  # pragma: no cover - numba
    """Geometry of a route (directed edges ``path``): ``(node_vertex, xy, radius, grade)``.

    Per path edge the index of its end vertex; vertices (x, y); the bend radius at each vertex
    (turn radii at the joins, and a bend's radius at its exit past a junction, as the search
    applies them); the grade of each segment. ``pieces = (vptr, vxy, vertex_radius,
    piece_grade)``; ``turns = (out_ptr, out_idx, turn_ptr, turn_radius, exit_seg,
    exit_radius, tail, table_ptr, table, in_ptr, in_idx, entry_seg)`` (:func:`turn_radii`,
    :func:`split_bend_radii`). A bend's radius caps every vertex of it on the route, before
    the junction and after it up to its exit (a split bend's from where the bend at its first
    junction begins): the search needs it only at the junction and at the exit (on level
    ground every speed from there on is the same), the reported profile everywhere.
    """
    vptr, vxy, vertex_radius, piece_grade = pieces
    out_ptr, out_idx, turn_ptr, turn_radius, exit_seg, exit_radius = turns[:6]
    table_ptr, table, in_ptr, in_idx, entry_seg = turns[7:]
    n_path = path.size
    n_xy = 1
    for d in path:
        n_xy += vptr[(d >> 1) + 1] - vptr[d >> 1] - 1
    node_vertex = np.empty(n_path, np.int64)
    xy = np.empty((n_xy, 2))
    radius = np.empty(n_xy)
    grade = np.empty(max(n_xy - 1, 0))
    exit_at = np.full(n_path, -1, np.int64)
    exit_r = np.full(n_path, np.inf)
    bend_from = np.full(n_path, -1, np.int64)  # first vertex the bend at join i caps
    bend_r = np.full(n_path, np.inf)
    n_xy = 0
    for i in range(n_path):
        d = path[i]
        p = d >> 1
        s0 = vptr[p]
        nv = vptr[p + 1] - s0
        if i > 0:
            node = tail[d]
            t = turn_ptr[path[i - 1]]
            for j in range(out_ptr[node + 1] - out_ptr[node]):
                if out_idx[out_ptr[node] + j] == d:
                    t += j
                    break
            r, r_exit = turn_radius[t], exit_radius[t]
            before = path[i - 1]
            if table_ptr[before + 1] > table_ptr[before]:  # a bend split by two junctions?
                k = i - 1  # back to the first edge of the chain ending with ``before``
                while k > 0 and out_ptr[tail[path[k]] + 1] - out_ptr[tail[path[k]]] == 2:
                    k -= 1
                j1 = tail[path[k]]
                if k > 0 and out_ptr[j1 + 1] - out_ptr[j1] != 2:
                    n_out = out_ptr[node + 1] - out_ptr[node]
                    for i_a in range(in_ptr[j1 + 1] - in_ptr[j1]):
                        if in_idx[in_ptr[j1] + i_a] == path[k - 1]:
                            r3 = table[table_ptr[before] + i_a * n_out + t - turn_ptr[before]]
                            if r3 < r:  # from where the bend at the first junction begins
                                t1 = turn_ptr[path[k - 1]]
                                while out_idx[out_ptr[j1] + t1 - turn_ptr[path[k - 1]]] != path[k]:
                                    t1 += 1
                                start = max(node_vertex[k - 1] - entry_seg[t1], 0)
                                bend_from[i], bend_r[i] = start, r3
                            r, r_exit = min(r, r3), min(r_exit, r3)
            radius[n_xy - 1] = r
            if entry_seg[t] > 0 and bend_from[i] < 0:
                bend_from[i], bend_r[i] = max(n_xy - 1 - entry_seg[t], 0), r
            if exit_seg[t] > 0:
                exit_at[i] = n_xy - 1 + exit_seg[t]
                exit_r[i] = r_exit
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
    for i in range(n_path):
        if exit_at[i] >= 0:  # every vertex to the exit (the search needs only the exit)
            join = node_vertex[i - 1]
            stretch = radius[join : exit_at[i] + 1]
            radius[join : exit_at[i] + 1] = np.minimum(stretch, exit_r[i])
        if bend_from[i] >= 0:
            join = node_vertex[i - 1]
            radius[bend_from[i] : join] = np.minimum(radius[bend_from[i] : join], bend_r[i])
    return node_vertex, xy, radius, grade


@njit(cache=True)
def _profile_kmh(  # noqa: PLR0917
    xy: np.ndarray,
    radius: np.ndarray,
    grade: np.ndarray,
    model: np.ndarray,
    vehicle: np.ndarray,
    braking: float,
) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover - numba
    """Cumulative distance (m) and speed (km/h) at the route's vertices.

    The arithmetic of :func:`~cohesion_gis.hvm.kinematics.speed_profile_kmh` with
    :func:`~cohesion_gis.hvm.kinematics.bend_speed_kmh` caps. ``vehicle`` is
    ``(lat, braking, top_kmh, start_kmh, start_u)``.
    """
    lat, top_ms, start_ms = vehicle[0], vehicle[2] / 3.6, vehicle[3] / 3.6
    n_xy = radius.size
    dist = np.empty(n_xy)
    cap2 = np.empty(n_xy)
    total = 0.0
    for i in range(n_xy):
        if i > 0:
            total += np.hypot(xy[i, 0] - xy[i - 1, 0], xy[i, 1] - xy[i - 1, 1])
        dist[i] = total
        cap = min(np.sqrt(lat * radius[i]), top_ms)
        cap2[i] = cap * cap
    v2 = profile_sq(dist, cap2, grade, model, braking, start_ms * start_ms)
    return dist, np.sqrt(v2) * 3.6


@njit(cache=True)
def _block_chain(  # noqa: PLR0917
    d: int,
    blocked: np.ndarray,
    tail: np.ndarray,
    stop: np.ndarray,
    in_ptr: np.ndarray,
    in_idx: np.ndarray,
    value: bool,
) -> None:  # pragma: no cover - numba
    """Set ``blocked`` for ``d`` and every directed edge before it on its chain."""
    x = d
    while True:
        blocked[x] = value
        if stop[tail[x]]:
            return
        x = _chain_prev(x, tail, in_ptr, in_idx)
        if x == d:
            return


@njit(cache=True)
def _rows_append(  # noqa: PLR0917
    rows: np.ndarray, n_rows: int, s: int, c: int, entry: int, status: int
) -> np.ndarray:  # pragma: no cover - numba
    """Append row ``n_rows``: columns site, class, entry, status, open, wide, flags, vertex end."""
    rows = _grow2d(rows, n_rows)
    rows[n_rows, 0] = s
    rows[n_rows, 1] = c
    rows[n_rows, 2] = entry
    rows[n_rows, 3] = status
    rows[n_rows, 4:] = 0
    return rows


@njit(cache=True, nogil=True)
def run_sites(
    network: tuple[np.ndarray, ...],
    graph: tuple[np.ndarray, np.ndarray, np.ndarray, float, int, int],
    sites: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    classes: tuple[np.ndarray, ...],
    horizon_m: float,
) -> tuple[np.ndarray, ...]:  # pragma: no cover - numba
    """Search every site for every class; rows, routes and barrier meetings as flat arrays.

    Parameters (tuples of arrays)
    -----------------------------
    network
        ``(tail, head, h_start, h_end, out_ptr, out_idx, in_ptr, in_idx, node_radius,
        piece_a, piece_b, piece_width, piece_grade, piece_len, vptr, vxy, seg_len,
        vertex_radius, has_barrier, turn_ptr, turn_radius, widest, stop, exit_seg,
        exit_radius, entry_seg, exit_row, state_ptr, table_ptr, table)`` (``turn_*``,
        ``widest``, ``exit_*`` and ``entry_seg`` from :func:`turn_radii`, the last three from
        :func:`split_bend_radii`; ``stop``: nodes where chains of pieces end).
    graph
        Undirected CSR ``(indptr, indices, length_m)`` of the nodes for the horizon (the split
        network's :func:`cohesion_gis.network.csr_from_pairs`), then the network engine's queue
        shape for it ``(inv, n_buckets, n_entries)`` (:func:`cohesion_gis.network.queue_shape`).
    sites
        ``(entry_ptr, entry_node, inside_ptr, inside_piece)``: per site its entry nodes and the
        pieces whose midpoint lies in the site polygon.
    classes
        ``(width_ok (C, D), kind (C, D), shift (C, D), low (C, D), high (C, D), threshold
        (C, N), model (C, M), vehicle (C, 5), start_u (C, D), start_len (C, D))``: edge maps
        (:func:`edge_maps`), barrier thresholds, traction models
        (:func:`~cohesion_gis.hvm.kinematics.traction_model`), ``vehicle = (lat, braking,
        top_kmh, start_kmh, start_u)`` with the start speed capped by the top speed and
        ``start_u`` its square in (m/s)², the chain starts (:func:`chain_starts`), the turns'
        chain maps split at a bend's exit (C, rows, 7) (:func:`turn_maps`) and
        ``start_ok (C, N)``: nodes where a vehicle may start (reached from outside).

    Returns
    -------
    tuple
        ``rows`` (R, 8): site, class, entry (index into the site's entries or -1), status
        (``ROW_*``), open incoming edges, any wide-enough incoming edge (0/1), flags (1: a
        route revisiting a node would be faster than the loop-free one reported, by more than
        0.1 km/h; 2: profile differs from the label), end of the row's route vertices; per route
        vertex: x, y, speed (km/h), distance (m); defeated barrier meetings (row, node) and
        blocking candidates (row, node) with the forward speed (km/h) there.
    """
    tail, head, _, _, out_ptr, out_idx, in_ptr, in_idx = network[:8]
    node_radius, piece_a, piece_b, _, piece_grade, piece_len = network[8:14]
    vptr, vxy, seg_len, vertex_radius, has_barrier, turn_ptr, turn_radius, widest = network[14:22]
    stop, exit_seg, exit_radius, entry_seg, exit_row, state_ptr, table_ptr, table = network[22:30]
    indptr, indices, weights, inv, n_buckets, n_entries = graph
    entry_ptr, entry_node, inside_ptr, inside_piece = sites
    width_ok, kind, shift, low, high, threshold, model, vehicle = classes[:8]
    start_u, start_len, chain_end, chain_ok, chain_maps, tmaps, start_ok = classes[8:]
    turns = (out_ptr, out_idx, turn_ptr, turn_radius, exit_seg, exit_radius, tail, table_ptr,
             table, in_ptr, in_idx, entry_seg)  # fmt: skip
    dir_graph = (out_ptr, out_idx, head, tail, piece_len, turn_ptr, turn_radius, widest, in_ptr,
                 in_idx, stop, exit_seg, exit_radius, state_ptr, table_ptr, table,
                 exit_row)  # fmt: skip
    segments = (vptr, seg_len, vertex_radius, piece_grade)
    pieces = (vptr, vxy, vertex_radius, piece_grade)
    n_nodes = node_radius.size
    n_dir = head.size
    free_threshold = np.full(n_nodes, -1.0)
    free_start = np.ones(n_nodes, np.bool_)  # no barriers: every node is reached
    # scratch, reset after each site where touched
    dist, touched, queue = search_scratch(n_nodes, n_buckets, n_entries)  # the horizon's
    in_ball = np.zeros(n_nodes, np.bool_)
    inside = np.zeros(piece_a.size, np.bool_)
    active = np.zeros(n_dir, np.bool_)
    is_entry = np.zeros(n_nodes, np.bool_)
    blocked = np.zeros(n_dir, np.bool_)  # chains through a piece inside the site
    n_state = n_dir + state_ptr[-1]  # per edge, and per edge into a split bend's first junction
    scratch = (np.full(n_state, -1.0), np.full(n_dir, -1, np.int64), np.full(n_state, -1.0),
               np.empty(n_state), np.empty(n_state + n_dir, np.int64),
               np.zeros(n_nodes, np.bool_), is_entry, blocked)  # fmt: skip
    pool: tuple[np.ndarray, ...] = (np.empty(1024, np.int64), np.empty(1024), np.empty(1024),
                                    np.empty(1024, np.int64), np.empty(1024, np.int64))  # fmt: skip
    free_pool: tuple[np.ndarray, ...] = (np.empty(1024, np.int64), np.empty(1024), np.empty(1024),
                 np.empty(1024, np.int64), np.empty(1024, np.int64))  # fmt: skip
    # outputs
    rows = np.empty((64, 8), np.int64)
    v_xy = np.empty((64, 2))
    v_speed = np.empty(64)
    v_dist = np.empty(64)
    m_defeat = np.empty((64, 2), np.int64)
    m_block = np.empty((64, 2), np.int64)
    m_block_kmh = np.empty(64)
    n_rows = 0
    n_v = 0
    n_defeat = 0
    n_block = 0
    for s in range(entry_ptr.size - 1):
        e0, e1 = entry_ptr[s], entry_ptr[s + 1]
        nodes = entry_node[e0:e1]
        ball = np.empty(0, np.int64)
        if e0 < e1:
            ball, queue = search_ball(
                indptr, indices, weights, nodes, horizon_m, dist, touched, queue, inv
            )
        for n in ball:
            in_ball[n] = True
        for n in nodes:
            is_entry[n] = True
        for k in range(inside_ptr[s], inside_ptr[s + 1]):
            p = inside_piece[k]
            if in_ball[piece_a[p]] and in_ball[piece_b[p]]:
                inside[p] = True
                _block_chain(2 * p, blocked, tail, stop, in_ptr, in_idx, True)
                _block_chain(2 * p + 1, blocked, tail, stop, in_ptr, in_idx, True)
        for c in range(width_ok.shape[0]):
            first_row = n_rows
            need_free = False
            for n in ball:
                for k in range(out_ptr[n], out_ptr[n + 1]):
                    d = out_idx[k]
                    active[d] = width_ok[c, d] and not inside[d >> 1] and in_ball[head[d]]
                if threshold[c, n] >= 0:
                    need_free = True
            maps = (kind[c], shift[c], low[c], high[c], model[c])
            limits = (vehicle[c, 0], (vehicle[c, 2] / 3.6) ** 2, horizon_m)
            starts = (start_u[c], start_len[c], chain_end[c], chain_ok[c], chain_maps[c],
                      tmaps[c], start_ok[c])  # fmt: skip
            entries = (nodes, in_ptr, in_idx, active)
            pool, chosen, bound = _class_routes(
                ball, dist, active, dir_graph, maps, segments, limits, starts, threshold[c],
                entries, scratch, pool,
            )  # fmt: skip
            if need_free:
                free_starts = (*starts[:6], free_start)
                free_pool, free_chosen, _ = _class_routes(
                    ball, dist, active, dir_graph, maps, segments, limits, free_starts,
                    free_threshold, entries, scratch, free_pool,
                )  # fmt: skip
            for e in range(e0, e1):
                node = entry_node[e]
                all_inside = True
                n_open = 0
                wide = 0
                for k in range(in_ptr[node], in_ptr[node + 1]):
                    d = in_idx[k]
                    all_inside = all_inside and inside[d >> 1]
                    wide = max(wide, int(width_ok[c, d]))
                    n_open += int(active[d])
                if all_inside:
                    continue  # a street end on the perimeter with the street inside
                lab = chosen[e - e0]
                rows = _rows_append(rows, n_rows, s, c, e - e0,
                                    ROW_NO_ARRIVAL if lab < 0 else ROW_ARRIVED)  # fmt: skip
                rows[n_rows, 4] = n_open
                rows[n_rows, 5] = wide
                if need_free and free_chosen[e - e0] >= 0:
                    path = _label_path(free_pool, free_chosen[e - e0], tail, in_ptr, in_idx)
                    node_vertex, xy, radius, grade = _route(path, pieces, tail, turns)
                    _, forward = _profile_kmh(xy, radius, grade, model[c], vehicle[c], 1e12)
                    for i in range(path.size):
                        n = head[path[i]]
                        if has_barrier[n]:
                            m_block = _grow2d(m_block, n_block)
                            m_block_kmh = _grow(m_block_kmh, n_block)
                            m_block[n_block, 0] = n_rows
                            m_block[n_block, 1] = n
                            m_block_kmh[n_block] = forward[node_vertex[i]]
                            n_block += 1
                if lab >= 0:
                    path = _label_path(pool, lab, tail, in_ptr, in_idx)
                    node_vertex, xy, radius, grade = _route(path, pieces, tail, turns)
                    route_dist, speeds = _profile_kmh(
                        xy, radius, grade, model[c], vehicle[c], vehicle[c, 1]
                    )
                    if (
                        bound[e - e0] >= 0
                        and math.sqrt(bound[e - e0]) > math.sqrt(pool[1][lab]) + SPEED_QUANTUM_MS
                    ):
                        rows[n_rows, 6] |= 1
                    if abs(math.sqrt(pool[1][lab]) * 3.6 - speeds[-1]) > 0.01:
                        rows[n_rows, 6] |= 2
                    n_xy = speeds.size
                    v_xy = _grow2d(v_xy, n_v + n_xy)
                    v_speed = _grow(v_speed, n_v + n_xy)
                    v_dist = _grow(v_dist, n_v + n_xy)
                    v_xy[n_v : n_v + n_xy] = xy
                    v_speed[n_v : n_v + n_xy] = speeds
                    v_dist[n_v : n_v + n_xy] = route_dist
                    n_v += n_xy
                    for i in range(path.size):
                        n = head[path[i]]
                        if has_barrier[n]:
                            m_defeat = _grow2d(m_defeat, n_defeat)
                            m_defeat[n_defeat, 0] = n_rows
                            m_defeat[n_defeat, 1] = n
                            n_defeat += 1
                rows[n_rows, 7] = n_v
                n_rows += 1
            if n_rows == first_row:
                status = ROW_NO_STREET if e0 == e1 else ROW_NO_ENTRY
                rows = _rows_append(rows, n_rows, s, c, -1, status)
                rows[n_rows, 7] = n_v
                n_rows += 1
        for n in nodes:
            is_entry[n] = False
        for n in ball:
            in_ball[n] = False
            dist[n] = np.inf
            for k in range(out_ptr[n], out_ptr[n + 1]):
                active[out_idx[k]] = False
        for k in range(inside_ptr[s], inside_ptr[s + 1]):
            p = inside_piece[k]
            if inside[p]:
                _block_chain(2 * p, blocked, tail, stop, in_ptr, in_idx, False)
                _block_chain(2 * p + 1, blocked, tail, stop, in_ptr, in_idx, False)
            inside[p] = False
    return (
        rows[:n_rows], v_xy[:n_v], v_speed[:n_v], v_dist[:n_v], m_defeat[:n_defeat],
        m_block[:n_block], m_block_kmh[:n_block],
    )  # fmt: skip
