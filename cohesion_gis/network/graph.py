"""Street graphs as compact arrays: the :class:`Csr` both analyses search.

:func:`csr_from_edges` turns the ``nodes``/``edges`` tables of a study area (the walk network, or
the hostile-vehicle network) into compressed sparse rows of the undirected graph, both directions
stored; :func:`csr_from_pairs` does the same for edges already given as node positions, and
:func:`components` labels the connected parts of a graph and :func:`spanning_forest` picks a
minimum spanning forest.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd
from numba import njit

from cohesion_gis.errors import InputError

__all__ = ["Csr", "components", "csr_from_edges", "csr_from_pairs", "spanning_forest"]

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
        return np.asarray(idx, dtype=np.int32)


def require_columns(table: pd.DataFrame, columns: Sequence[str], where: str) -> None:
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise InputError(
            f"{where}: missing column(s) {missing}; got {list(table.columns)}. "
            "Build the network tables with cohesion_gis.load_city() or follow the data contract."
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
    require_columns(nodes, ["x", "y"], "nodes table")
    require_columns(edges, ["u", "v", weight], "edges table")
    if not nodes.index.is_unique:
        dup = nodes.index[nodes.index.duplicated()].unique()
        raise InputError(
            f"nodes table: {dup.size} node id(s) repeat (first: {dup[:5].tolist()}); "
            "node ids must be unique."
        )
    node_ids = nodes.index.to_numpy(dtype=np.int64)
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
    return csr_from_pairs(
        u,
        v,
        w,
        x=nodes["x"].to_numpy(dtype=np.float64),
        y=nodes["y"].to_numpy(dtype=np.float64),
        node_ids=node_ids,
        weight=weight,
    )


def csr_from_pairs(
    u: np.ndarray,
    v: np.ndarray,
    weights_m: np.ndarray,
    *,
    x: np.ndarray,
    y: np.ndarray,
    node_ids: np.ndarray | None = None,
    weight: str = "length_m",
) -> Csr:
    """Build the compact undirected graph of edges given as node positions.

    What :func:`csr_from_edges` builds once it has checked the tables; also the graph of a
    network already numbered (the hostile-vehicle network split at entries and barriers).

    Parameters
    ----------
    u, v
        Node positions (``0 .. len(x) - 1``) of each edge's ends.
    weights_m
        float64 traversal cost of each edge in metres (finite, ``>= 0``; not checked here).
    x, y
        float64 node coordinates in metres.
    node_ids
        int64 id of each node; default: its position.
    weight
        Name of what the weights measure (``Csr.weight``).

    Returns
    -------
    Csr
        Both directions of every edge, neighbours in ascending order; self-loops are dropped
        (they never shorten a path) and of parallel edges the shortest is kept.
    """
    n = int(np.size(x))
    keep = u != v
    u, v, w = u[keep], v[keep], weights_m[keep]
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
        node_ids=np.arange(n, dtype=np.int64) if node_ids is None else node_ids,
        x=np.asarray(x, dtype=np.float64),
        y=np.asarray(y, dtype=np.float64),
        weight=weight,
    )
    logger.info("graph: %d nodes, %d undirected edges (weight %r)", n, csr.n_edges, weight)
    return csr


def components(n_nodes: int, u: np.ndarray, v: np.ndarray) -> tuple[int, np.ndarray]:
    """The connected parts of an undirected graph given as node pairs.

    Parameters
    ----------
    n_nodes
        Number of nodes (a node in no pair is a part alone).
    u, v
        Node positions (``0 .. n_nodes - 1``) of each edge's ends.

    Returns
    -------
    tuple
        The number of parts and the int64 part of every node. Parts are numbered in the order of
        their lowest node (the numbering of scipy's ``connected_components``).

    Examples
    --------
    >>> import numpy as np
    >>> components(5, np.array([3, 1]), np.array([4, 0]))
    (3, array([0, 0, 1, 2, 2]))
    """
    count, label = _components(
        int(n_nodes), np.asarray(u, dtype=np.int64).ravel(), np.asarray(v, dtype=np.int64).ravel()
    )
    return int(count), np.asarray(label)


def spanning_forest(n_nodes: int, u: np.ndarray, v: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """The edges of a minimum spanning forest of an undirected graph given as node pairs.

    Kruskal's algorithm: edges by increasing weight, ties in order of ``(u, v)``, each kept if
    it joins two parts. That tie order is the one of scipy's ``minimum_spanning_tree`` on the
    matrix with entries ``(u, v)`` (its entries sorted stably by weight, in row then column
    order), so the same forest is chosen (tested, with many ties).

    Parameters
    ----------
    n_nodes
        Number of nodes.
    u, v
        Node positions of each edge's ends (no edge listed twice).
    weight
        Weight of each edge; zero is a weight like any other.

    Returns
    -------
    numpy.ndarray
        int64 positions (in ``u``, ``v``) of the kept edges, in order of ``(u, v)``.
    """
    u, v = np.asarray(u, dtype=np.int64), np.asarray(v, dtype=np.int64)
    order = np.lexsort((v, u, np.asarray(weight, dtype=np.float64)))
    kept: np.ndarray = order[_kruskal(int(n_nodes), u[order], v[order])]
    return kept[np.lexsort((v[kept], u[kept]))]


@njit(cache=True, nogil=True)
def _kruskal(n: int, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Whether each edge, taken in the order given, joins two parts (union-find)."""
    parent = np.arange(n)
    keep = np.zeros(u.size, np.bool_)
    for i in range(u.size):
        a = _root(parent, u[i])
        b = _root(parent, v[i])
        if a != b:
            parent[max(a, b)] = min(a, b)
            keep[i] = True
    return keep


@njit(cache=True, nogil=True)
def _root(parent: np.ndarray, x: int) -> int:
    """The root of ``x``'s tree (halving the path on the way)."""
    while parent[x] != x:
        parent[x] = parent[parent[x]]
        x = parent[x]
    return x


@njit(cache=True, nogil=True)
def _components(n: int, u: np.ndarray, v: np.ndarray) -> tuple[int, np.ndarray]:
    """Union-find whose roots are the lowest node of their part; then parts numbered by root."""
    parent = np.arange(n)
    for i in range(u.size):
        a = _root(parent, u[i])
        b = _root(parent, v[i])
        if a < b:
            parent[b] = a
        elif b < a:
            parent[a] = b
    label = np.empty(n, np.int64)
    count = 0
    for x in range(n):
        r = _root(parent, x)
        if r == x:
            label[x] = count
            count += 1
        else:
            label[x] = label[r]
    return count, label


def group_rows(key: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Row pointer and stable order grouping ``key`` (ints in ``0 .. size - 1``) into rows."""
    order = np.argsort(key, kind="stable")
    ptr = np.zeros(size + 1, dtype=np.int64)
    np.cumsum(np.bincount(key, minlength=size), out=ptr[1:])
    return ptr, order
