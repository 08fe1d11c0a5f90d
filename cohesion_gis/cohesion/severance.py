r"""Severance: access lost because major roads can be crossed only at crossings.

OSM maps a road by its centre line, so on the plain walk network anyone can cross a primary road
at every junction. The **barrier-aware** network gives each major road (``severance`` edges) a
footway on each side: every node along the road that is not a mapped crossing
(``highway=crossing`` / ``traffic_signals``, a ``footway=crossing`` way) is split in two, the
side streets joining it attach to the side they leave from, and the road's edges are doubled, one
per side. Changing side is then possible only at crossings, at junctions of several major roads
(signalised in practice), where the road ends at a junction, and over bridges and through
tunnels, which are not joined to the road anyway. Railways are not walkable edges, so both
networks already cross them only where a path is mapped across.

.. math:: S_i = 1 - \frac{A_i^{aware}}{A_i^{free}} \quad (0 \text{ when } A_i^{free} = 0)

:math:`S_i = 0` means no loss; the other components use the barrier-aware network, so severance
is priced in there and reported on its own here.

References
----------
Mindell, J. S. & Anciaes, P. R. (2020) Transport and community severance. *Advances in Transport
Policy and Planning* 6, 175-196. doi:10.1016/bs.atpp.2020.07.001.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

if TYPE_CHECKING:
    from cohesion_gis.cohesion.params import CohesionParams
    from cohesion_gis.cohesion.reach import Reach

__all__ = ["barrier_aware_network", "detour_ratio", "severance"]

log = logging.getLogger(__name__)


def severance(access_aware: pd.Series, access_free: pd.Series) -> pd.Series:
    """Share of access lost to major roads per home, 0–1 (NaN for a home off the network)."""
    free = access_free.to_numpy(dtype=float)
    aware = access_aware.to_numpy(dtype=float)
    lost = np.divide(free - aware, free, out=np.zeros_like(free), where=free > 0)
    lost[np.isnan(free) | np.isnan(aware)] = np.nan  # a home off the network: not measured
    return pd.Series(np.clip(lost, 0.0, 1.0), index=access_aware.index, name="severance")


def detour_ratio(aware: Reach, free: Reach, params: CohesionParams) -> pd.DataFrame:
    r"""Per home, how much longer its walks to nearby spaces are when roads bar crossing.

    .. math:: R_i = \frac{\sum_s \min(d^{aware}_{is}, R_s)}{\sum_s d^{free}_{is}}

    over every space ``s`` within access reach (its access ``d_max``) on the plain network:
    network distance with barriers over network distance without (1 = no detour). This adapts
    Anciaes & Mindell's detour index, which divides the route by the straight line: dividing by
    the plain network walk isolates the detour the barriers alone cause. :math:`R_s` is the
    distance to which the barrier-aware network is searched from ``s`` in the base run (the
    largest radius any component reads it at, without the sensitivity margin). A pair the
    barriers push beyond :math:`R_s` (or cut off) counts at :math:`R_s`, so the worst detours are
    kept as a lower bound rather than dropped; ``detour_capped_share`` is the share of a home's
    pairs so capped.

    Parameters
    ----------
    aware, free
        :class:`~cohesion_gis.cohesion.reach.Reach` tables of the same homes and spaces.
    params
        :class:`~cohesion_gis.cohesion.params.CohesionParams` (:math:`R_s`).

    Returns
    -------
    pandas.DataFrame
        ``detour_ratio`` and ``detour_capped_share`` (0–1), indexed like ``aware.homes``; NaN for
        a home with no space within access reach.
    """
    pairs = free.table.merge(
        aware.table, on=["home", "space"], how="left", suffixes=("_free", "_aware")
    )
    base = params.without_sensitivity()  # the same cap whether or not the variants run
    radius = base.space_radius_m(free.spaces)[pairs["space"].to_numpy()]
    d_aware = pairs["dist_m_aware"].to_numpy(dtype=float)
    capped = np.isnan(d_aware) | (d_aware > radius)
    pairs["dist_m_aware"] = np.where(capped, radius, d_aware)
    pairs["capped"] = capped.astype(float)
    by_home = pairs.groupby("home")
    sums = by_home[["dist_m_free", "dist_m_aware"]].sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = sums["dist_m_aware"] / sums["dist_m_free"].where(sums["dist_m_free"] > 0)
    out = pd.DataFrame(
        np.nan, index=aware.homes.index, columns=["detour_ratio", "detour_capped_share"]
    )
    at = ratio.index.to_numpy()
    out.iloc[at, 0] = ratio.to_numpy()
    out.iloc[at, 1] = by_home["capped"].mean().to_numpy()
    return out


def barrier_aware_network(
    nodes: gpd.GeoDataFrame, edges: gpd.GeoDataFrame
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """The walk network with major roads crossable only at mapped crossings.

    Vectorised over the edge ends (numpy, no per-row pandas work): about 1 s for a 2M-edge
    network.

    Parameters
    ----------
    nodes
        Walk nodes indexed by ``node_id`` with ``x``, ``y`` and ``crossing`` (bool).
    edges
        Walk edges with ``u``, ``v``, ``severance`` (bool), ``length_m`` and geometry.

    Returns
    -------
    nodes, edges
        A new network; split nodes get a second id (negative: ``-node_id``) for the right-hand
        side; the node table has ``side`` (``"both"``, ``"left"``, ``"right"``). Edges are the
        other edges (side streets re-attached), then each road edge's left copy, then its right
        copy, without repeated (``u``, ``v``, ``osm_id``, ``length_m``) rows. ``side`` says which
        side of its road (left or right of its own ``u`` → ``v`` direction) a copy serves
        (``"both"`` for other edges) and ``twin`` is the position of the other copy (-1 if none):
        :func:`~cohesion_gis.network.snap_to_edges` puts a home beside the road on its side's copy.
    """
    road = edges["severance"].to_numpy(dtype=bool)
    if not road.any():
        return nodes.assign(side="both"), edges
    n_edges = len(edges)
    u, v = edges["u"].to_numpy(dtype=np.int64), edges["v"].to_numpy(dtype=np.int64)
    # every edge end: its node and the edge's direction there, pointing away from the node
    end_edge = np.r_[np.arange(n_edges), np.arange(n_edges)]
    end_node = np.r_[u, v]
    at_u = np.r_[np.ones(n_edges, bool), np.zeros(n_edges, bool)]
    end_road = np.r_[road, road]
    away = _away_from_ends(nodes, edges, end_node)

    split_nodes = _split_nodes(nodes, end_node, end_road)
    if split_nodes.size == 0:
        return nodes.assign(side="both"), edges
    # reference direction at a split node: its first road end, oriented u -> v of that edge
    at_split = np.flatnonzero(np.isin(end_node, split_nodes))
    road_at = at_split[end_road[at_split]]
    _, first = np.unique(end_node[road_at], return_index=True)  # in split_nodes' (sorted) order
    ref_end = road_at[first]
    ref = away[ref_end] * np.where(at_u[ref_end], 1.0, -1.0)[:, None]
    ref_at = ref[np.searchsorted(split_nodes, end_node[at_split])]
    here = away[at_split]
    node_at = end_node[at_split]

    # side streets: left (cross product > 0) keeps the node id, right gets -id
    cross = ref_at[:, 0] * here[:, 1] - ref_at[:, 1] * here[:, 0]
    side_end = ~end_road[at_split]
    new_end = np.where(cross > 0, node_at, -node_at)
    new_u, new_v = u.copy(), v.copy()
    for ends_at_u, column in ((True, new_u), (False, new_v)):
        pick = side_end & (at_u[at_split] == ends_at_u)
        column[end_edge[at_split][pick]] = new_end[pick]
    # road edges: one copy per side; at a split end, this edge's orientation says which id is
    # the left one (agreeing with the node's reference direction: left = +id)
    oriented = np.where(at_u[at_split], 1.0, -1.0)
    agree = (ref_at[:, 0] * here[:, 0] + ref_at[:, 1] * here[:, 1]) * oriented > 0
    left_id = np.where(agree, node_at, -node_at)
    left_u, left_v = new_u.copy(), new_v.copy()
    right_u, right_v = new_u.copy(), new_v.copy()
    for ends_at_u, left, right in ((True, left_u, right_u), (False, left_v, right_v)):
        pick = ~side_end & (at_u[at_split] == ends_at_u)
        left[end_edge[at_split][pick]] = left_id[pick]
        right[end_edge[at_split][pick]] = -left_id[pick]
    kept, roads = np.flatnonzero(~road), np.flatnonzero(road)
    rows = np.r_[kept, roads, roads]
    out_u = np.r_[new_u[kept], left_u[roads], right_u[roads]]
    out_v = np.r_[new_v[kept], left_v[roads], right_v[roads]]
    keep = ~_repeated(edges, rows, out_u, out_v)
    side, twin = _sides(kept.size, roads.size, keep)
    out = edges.iloc[rows[keep]].reset_index(drop=True)
    out["u"], out["v"] = out_u[keep], out_v[keep]
    out = out.assign(side=side, twin=twin)

    right_nodes = nodes.loc[split_nodes].copy()
    right_nodes.index = pd.Index(-split_nodes, name=nodes.index.name)
    side = np.where(nodes.index.isin(split_nodes), "left", "both")
    out_nodes = pd.concat([nodes.assign(side=side), right_nodes.assign(side="right")])
    log.info(
        "barrier-aware walk network: %d road nodes split, %d edges (was %d)",
        split_nodes.size, len(out), n_edges,
    )  # fmt: skip
    return gpd.GeoDataFrame(out_nodes, geometry=out_nodes.geometry, crs=nodes.crs), out


def _sides(n_kept: int, n_roads: int, keep: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``side`` and ``twin`` of the edge rows ``[kept..., left copies..., right copies...]``.

    A road edge's left copy (left of its own u → v direction) and right copy are each other's
    ``twin`` (position among the rows ``keep`` leaves); a copy whose twin repeated it (both ends
    unsplit) is the road on both sides. Other edges are ``"both"`` with twin -1.
    """
    side = np.array(["both"] * n_kept + ["left"] * n_roads + ["right"] * n_roads, dtype=object)
    position = np.cumsum(keep) - 1
    left = n_kept + np.arange(n_roads)
    right = left + n_roads
    paired = keep[left] & keep[right]
    twin = np.full(keep.size, -1, dtype=np.int64)
    twin[left[paired]] = position[right[paired]]
    twin[right[paired]] = position[left[paired]]
    side[left[~paired]] = "both"
    return side[keep].astype(str), twin[keep]


def _away_from_ends(
    nodes: gpd.GeoDataFrame, edges: gpd.GeoDataFrame, end_node: np.ndarray
) -> np.ndarray:
    """(2 n_edges, 2) direction of each edge at its ``u`` end, then at its ``v`` end (metres).

    From the node to the edge's second vertex (``u`` end) or second-to-last vertex (``v`` end).
    """
    coords, which = shapely.get_coordinates(edges.geometry.to_numpy(), return_index=True)
    start = np.searchsorted(which, np.arange(len(edges) + 1))
    inner = np.r_[coords[start[:-1] + 1], coords[start[1:] - 2]]
    at = nodes.index.get_indexer(end_node)
    return inner - np.stack([nodes["x"].to_numpy()[at], nodes["y"].to_numpy()[at]], axis=1)


def _split_nodes(nodes: gpd.GeoDataFrame, end_node: np.ndarray, end_road: np.ndarray) -> np.ndarray:
    """Sorted ids of the road nodes split in two: through or dangling road nodes, not crossings."""
    road_node, per_node = np.unique(end_node[end_road], return_counts=True)
    all_node, degree = np.unique(end_node, return_counts=True)
    degree = degree[np.searchsorted(all_node, road_node)]
    found = nodes.index.get_indexer(road_node)
    crossing = np.zeros(road_node.size, bool)
    crossing[found >= 0] = nodes["crossing"].to_numpy()[found[found >= 0]].astype(bool)
    through = per_node == 2
    dangling = (per_node == 1) & (degree == 1)  # a road cut by the study-area edge
    return road_node[(through | dangling) & ~crossing]


def _repeated(edges: pd.DataFrame, rows: np.ndarray, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Which edge rows ``rows``, with new ends ``u`` and ``v``, repeat an earlier one's values.

    The values are (``u``, ``v``, ``osm_id``, ``length_m``). Candidates are the rows sharing a
    64-bit hash of (``u``, ``v``, ``length_m``) with another row (found by sorting the hashes);
    only those are compared in full (a collision costs a comparison, never a wrong row).
    """
    length = edges["length_m"].to_numpy(dtype=np.float64)[rows] + 0.0  # -0.0 and 0.0 alike
    with np.errstate(over="ignore"):
        mixed = u.astype(np.int64).view(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
        mixed ^= v.astype(np.int64).view(np.uint64) * np.uint64(0xBF58476D1CE4E5B9)
        mixed ^= length.view(np.uint64) * np.uint64(0x94D049BB133111EB)
    order = np.argsort(mixed)
    same = mixed[order[1:]] == mixed[order[:-1]]
    shared = np.zeros(mixed.size, bool)
    shared[order[1:][same]] = True
    shared[order[:-1][same]] = True
    candidates = np.flatnonzero(shared)
    repeated = np.zeros(mixed.size, bool)
    subset = pd.DataFrame(
        {
            "u": u[candidates],
            "v": v[candidates],
            "osm_id": edges["osm_id"].to_numpy()[rows[candidates]],
            "length_m": edges["length_m"].to_numpy()[rows[candidates]],
        }
    )
    repeated[candidates] = subset.duplicated().to_numpy()
    return repeated
