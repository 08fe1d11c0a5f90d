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

import geopandas as gpd
import numpy as np
import pandas as pd

__all__ = ["barrier_aware_network", "severance"]

log = logging.getLogger(__name__)


def severance(access_aware: pd.Series, access_free: pd.Series) -> pd.Series:
    """Share of access lost to major roads per home, 0–1."""
    free = access_free.to_numpy(dtype=float)
    aware = access_aware.to_numpy(dtype=float)
    lost = np.divide(free - aware, free, out=np.zeros_like(free), where=free > 0)
    return pd.Series(np.clip(lost, 0.0, 1.0), index=access_aware.index, name="severance")


def barrier_aware_network(
    nodes: gpd.GeoDataFrame, edges: gpd.GeoDataFrame
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """The walk network with major roads crossable only at mapped crossings.

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
        side; the node table has ``side`` (``"both"``, ``"left"``, ``"right"``).
    """
    road = edges["severance"].to_numpy(dtype=bool)
    if not road.any():
        return nodes.assign(side="both"), edges
    u, v = edges["u"].to_numpy(), edges["v"].to_numpy()
    coords = edges.geometry.get_coordinates()
    first = coords.groupby(level=0).nth(1)  # second vertex: direction leaving u
    last = coords.groupby(level=0).nth(-2)  # second-to-last vertex: direction arriving at v
    xy = nodes[["x", "y"]]
    # direction of each edge at each of its ends, pointing away from that end
    away_u = first[["x", "y"]].to_numpy() - xy.loc[u].to_numpy()
    away_v = last[["x", "y"]].to_numpy() - xy.loc[v].to_numpy()
    ends = pd.DataFrame(
        {
            "edge": np.r_[np.arange(len(edges)), np.arange(len(edges))],
            "node": np.r_[u, v],
            "at_u": np.r_[np.ones(len(edges), bool), np.zeros(len(edges), bool)],
            "road": np.r_[road, road],
            "dx": np.r_[away_u[:, 0], away_v[:, 0]],
            "dy": np.r_[away_u[:, 1], away_v[:, 1]],
        }
    )
    road_ends = ends.loc[ends["road"]]
    per_node = road_ends.groupby("node").size()
    crossing = nodes["crossing"].reindex(per_node.index).fillna(False).to_numpy(dtype=bool)
    degree = ends.groupby("node").size().reindex(per_node.index).to_numpy()
    through = per_node.to_numpy() == 2
    dangling = (per_node.to_numpy() == 1) & (degree == 1)  # a road cut by the study-area edge
    split_nodes = per_node.index[(through | dangling) & ~crossing]
    if split_nodes.empty:
        return nodes.assign(side="both"), edges
    # reference direction at a split node: its first road end, oriented u -> v of that edge
    ref = road_ends.loc[road_ends["node"].isin(split_nodes)].drop_duplicates("node")
    sign = np.where(ref["at_u"], 1.0, -1.0)
    ref_dir = pd.DataFrame(
        {"rx": ref["dx"].to_numpy() * sign, "ry": ref["dy"].to_numpy() * sign},
        index=ref["node"].to_numpy(),
    )
    at_split = ends.loc[ends["node"].isin(split_nodes)].join(ref_dir, on="node")
    cross = at_split["rx"] * at_split["dy"] - at_split["ry"] * at_split["dx"]
    # side streets: left (cross > 0) keeps the node id, right gets -id
    side_left = (cross > 0).to_numpy()
    new_end = at_split["node"].where(side_left, -at_split["node"])

    out = edges.copy()
    side_rows = ~at_split["road"].to_numpy()
    side = at_split.loc[side_rows]
    for at_u_value, column in ((True, "u"), (False, "v")):
        pick = side["at_u"].to_numpy() == at_u_value
        idx = side["edge"].to_numpy()[pick]
        out.loc[idx, column] = new_end.loc[side.index[pick]].to_numpy()
    # road edges: one copy per side; at a split end, this edge's orientation says which id is
    # the left one (agreeing with the node's reference direction: left = +id)
    road_at = at_split.loc[at_split["road"].to_numpy()]
    oriented = np.where(road_at["at_u"], 1.0, -1.0)
    agree = (
        road_at["rx"] * road_at["dx"] * oriented + road_at["ry"] * road_at["dy"] * oriented
    ) > 0
    left_id = np.where(agree, road_at["node"], -road_at["node"])
    lookup = pd.DataFrame(
        {"edge": road_at["edge"].to_numpy(), "at_u": road_at["at_u"].to_numpy(), "left": left_id}
    )
    road_edges = out.loc[road].copy()
    left_copy, right_copy = road_edges.copy(), road_edges.copy()
    for at_u_value, column in ((True, "u"), (False, "v")):
        part = lookup.loc[lookup["at_u"] == at_u_value].set_index("edge")["left"]
        has = road_edges.index.isin(part.index)
        left_copy.loc[has, column] = part.loc[road_edges.index[has]].to_numpy()
        right_copy.loc[has, column] = -part.loc[road_edges.index[has]].to_numpy()
    out = pd.concat([out.loc[~road], left_copy, right_copy], ignore_index=True)
    out = out.drop_duplicates(subset=["u", "v", "osm_id", "length_m"]).reset_index(drop=True)

    right_nodes = nodes.loc[split_nodes].copy()
    right_nodes.index = pd.Index(-split_nodes.to_numpy(), name=nodes.index.name)
    out_nodes = pd.concat([nodes.assign(side="both"), right_nodes.assign(side="right")])
    out_nodes.loc[split_nodes, "side"] = "left"
    log.info(
        "barrier-aware walk network: %d road nodes split, %d edges (was %d)",
        len(split_nodes), len(out), len(edges),
    )  # fmt: skip
    return gpd.GeoDataFrame(out_nodes, geometry=out_nodes.geometry, crs=nodes.crs), out
