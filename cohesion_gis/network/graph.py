"""Street graphs as compact arrays: the :class:`Csr` both analyses search.

:func:`csr_from_edges` turns the ``nodes``/``edges`` tables of a study area (the walk network, or
the hostile-vehicle network) into compressed sparse rows of the undirected graph, both directions
stored; :func:`components` labels its connected parts.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from cohesion_gis.errors import InputError

__all__ = ["Csr", "csr_from_edges"]

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


def group_rows(key: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Row pointer and stable order grouping ``key`` (ints in ``0 .. size - 1``) into rows."""
    order = np.argsort(key, kind="stable")
    ptr = np.zeros(size + 1, dtype=np.int64)
    np.cumsum(np.bincount(key, minlength=size), out=ptr[1:])
    return ptr, order
