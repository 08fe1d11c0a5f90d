"""Independent references for the network engine's searches (scipy's Dijkstra, no compiled kernel).

Test-only: the engine (:mod:`cohesion_gis.network`) must give these answers, computed here the
plain way. ``brute_force_distances`` inserts every point as a node of the graph and runs
``scipy.sparse.csgraph.dijkstra`` from every seed, so nothing of the engine's reasoning (edge
ends, offsets, seeds on the same edge, contracted chains) is shared with it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.sparse import coo_array, csr_array
from scipy.sparse.csgraph import dijkstra

from cohesion_gis.network import Csr, SnappedPoints


def undirected_edges(csr: Csr) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each undirected edge of ``csr`` once: ``(u, v, length_m)`` with ``u < v``, in CSR order."""
    src = np.repeat(np.arange(csr.n_nodes), np.diff(csr.indptr))
    keep = src < csr.indices
    return src[keep], csr.indices[keep].astype(np.int64), csr.weights_m[keep]


def node_distances_reference(
    csr: Csr, seed_node: np.ndarray, seed_offset: np.ndarray, *, limit_m: float
) -> np.ndarray:
    """Per node, ``min over seeds (offset + dijkstra distance)``, ``inf`` beyond ``limit_m``."""
    graph = csr_array((csr.weights_m, csr.indices, csr.indptr), shape=(csr.n_nodes,) * 2)
    rows = dijkstra(graph, directed=True, indices=seed_node, limit=limit_m)
    best = (rows + np.asarray(seed_offset)[:, None]).min(axis=0, initial=np.inf)
    return np.where(best <= limit_m, best, np.inf)


def brute_force_distances(
    edges: tuple[np.ndarray, np.ndarray, np.ndarray],
    n_nodes: int,
    seeds: tuple[np.ndarray, np.ndarray, np.ndarray],
    points: tuple[np.ndarray, np.ndarray],
    *,
    limit_m: float | np.ndarray,
) -> pd.DataFrame:
    """Point-to-group distances with every seed and point inserted into its edge as a node.

    Parameters
    ----------
    edges
        ``(u, v, length_m)`` of every edge, positions in the network's edges table.
    n_nodes
        Number of nodes of the network.
    seeds
        ``(edge, along_m, group)`` of every seed.
    points
        ``(edge, along_m)`` of every point.
    limit_m
        One radius, or one per group.

    Returns
    -------
    pandas.DataFrame
        ``point`` (int64 position in ``points``), ``group`` (int32), ``dist_m``, sorted by point
        then group: what :func:`cohesion_gis.network.distances_to_points` must return.
    """
    u, v, length = edges
    seed_edge, seed_along, seed_group = seeds
    point_edge, point_along = points
    extra_edge = np.concatenate([seed_edge, point_edge])
    along = np.concatenate([seed_along, point_along])
    new_id = n_nodes + np.arange(extra_edge.size)
    rows, cols, data = [], [], []
    order = np.lexsort((along, extra_edge))
    bounds = np.searchsorted(extra_edge[order], np.arange(len(u) + 1))
    for e in range(len(u)):
        on = order[bounds[e] : bounds[e + 1]]
        chain = [u[e], *new_id[on], v[e]]
        pos = [0.0, *along[on], length[e]]
        for k in range(len(chain) - 1):
            rows += [chain[k], chain[k + 1]]
            cols += [chain[k + 1], chain[k]]
            data += [pos[k + 1] - pos[k] + 0.0] * 2
    n = n_nodes + extra_edge.size
    # explicit zeros are missing links to csgraph: points at the same place get 1e-300 m
    graph = coo_array((np.maximum(data, 1e-300), (rows, cols)), shape=(n, n)).tocsr()
    n_groups = int(seed_group.max()) + 1 if seed_group.size else 0
    limits = np.broadcast_to(np.asarray(limit_m, dtype=float), (n_groups,))
    top = float(limits.max(initial=0.0))
    dist = dijkstra(graph, indices=new_id[: seed_edge.size], limit=top)[:, new_id[seed_edge.size :]]
    frame = pd.DataFrame(
        {
            "point": np.tile(np.arange(point_edge.size), seed_edge.size),
            "group": np.repeat(seed_group, point_edge.size),
            "dist_m": dist.ravel(),
        }
    )
    frame = frame.loc[frame["dist_m"].to_numpy() <= limits[frame["group"].to_numpy()]]
    best = frame.groupby(["point", "group"], as_index=False)["dist_m"].min()
    return best.astype({"point": np.int64, "group": np.int32}).reset_index(drop=True)


def snapped_subset(points: SnappedPoints) -> SnappedPoints:
    """The snapped points only (positions renumbered; their nearest edges only)."""
    ok = np.flatnonzero(points.snapped)
    return SnappedPoints(
        **{
            f: (getattr(points, f)[ok] if f != "index" else points.index[ok])
            for f in SnappedPoints.__dataclass_fields__
            if f != "links"
        }
    )
