"""Network cleaning: the score runs on every piece of the walk network larger than a fragment.

OSM walk networks hold many small pieces no path joins to the rest: corridors inside a market
hall, a library's indoor footways, a pedestrian square drawn as a closed ring. A home or a space
that enters the network on such a piece reaches nothing beyond it, so on central Helsinki seven
spaces (Oodi, the Kaisa library, Vanha Kauppahalli...) were reached by no home. Islands are
different: Gozo and Comino are separate pieces of Malta's walk network with 42,000 residents and
their own parks, and keeping only the largest piece scored all of them 0.

The default rule ``"drop_fragments"`` does what cityseer's ``graphs.nx_remove_dangling_nodes``
does by default (``remove_disconnected=100``): pieces of fewer than :data:`MIN_COMPONENT_NODES`
nodes are dropped and every larger piece is kept, each analysed on its own (no path joins two
pieces, so a home reaches only its own piece's spaces). Homes and spaces on a dropped fragment
enter the nearest kept edge (within ``max_snap_m``). On Helsinki the largest fragment has 33
nodes (208 m of path), so only the main network is kept; on Malta, Malta, Gozo and Comino are.
Pieces other than the largest are *islands*: the result flags the districts with residents on
them.

``"largest_component"`` keeps only the largest piece (osmnx ``truncate.largest_component``);
``"none"`` keeps every piece (the sensitivity variant).

References
----------
Boeing, G. (2017) OSMnx: New methods for acquiring, constructing, analyzing, and visualizing
complex street networks. *Computers, Environment and Urban Systems* 65, 126-139.
doi:10.1016/j.compenvurbsys.2017.05.004.
Simons, G. (2023) The cityseer Python package for pedestrian-scale network-based urban analysis.
*Environment and Planning B* 50(5), 1328-1344. doi:10.1177/23998083221133827.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd

from cohesion_gis.network import components

__all__ = ["CLEANING_RULES", "CleanedNetwork", "clean_network"]

log = logging.getLogger(__name__)

#: The cleaning rules ``network_cleaning`` may name.
CLEANING_RULES = ("drop_fragments", "largest_component", "none")

#: Pieces with fewer nodes are fragments (cityseer ``nx_remove_dangling_nodes`` default).
MIN_COMPONENT_NODES = 100


@dataclass(frozen=True)
class CleanedNetwork:
    """A walk network after cleaning, and what was left out.

    Attributes
    ----------
    nodes, edges
        The network analysed (edges renumbered ``0..n-1``; a ``twin`` column is remapped).
    rule
        The rule applied (:data:`CLEANING_RULES`).
    n_components
        Connected pieces of the network before cleaning.
    dropped_edges
        Edges left out (on the pieces other than the largest).
    dropped_length_m
        Their total length, m.
    edge_piece
        Per kept edge, its piece: 0 the largest, 1, 2... the islands, largest first.
    piece_nodes
        Nodes of each kept piece, in that order.
    """

    nodes: gpd.GeoDataFrame
    edges: gpd.GeoDataFrame
    rule: str
    n_components: int
    dropped_edges: int
    dropped_length_m: float
    edge_piece: np.ndarray
    piece_nodes: np.ndarray

    @property
    def network(self) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
        """``(nodes, edges)``."""
        return self.nodes, self.edges

    def describe(self) -> str:
        """One plain sentence for reports."""
        kept = len(self.piece_nodes)
        islands = (
            f"; {kept - 1} island(s) of {', '.join(f'{n:,}' for n in self.piece_nodes[1:6])}"
            f"{'...' if kept > 6 else ''} nodes scored on their own (no path joins them)"
            if kept > 1
            else ""
        )
        if self.rule == "none":
            return f"not cleaned: all {self.n_components} connected pieces of the walk network kept"
        what = {
            "drop_fragments": f"pieces of fewer than {MIN_COMPONENT_NODES} nodes dropped",
            "largest_component": "only the largest connected piece kept",
        }[self.rule]
        return (
            f"walk network: {self.n_components} connected pieces, {what}: "
            f"{self.n_components - kept} pieces ({self.dropped_edges} edges, "
            f"{self.dropped_length_m:,.0f} m) left out, homes and spaces on them enter the nearest "
            f"kept edge; the largest piece has {self.piece_nodes[:1].sum():,} nodes{islands}"
        )


def clean_network(
    nodes: gpd.GeoDataFrame, edges: gpd.GeoDataFrame, *, rule: str = "drop_fragments"
) -> CleanedNetwork:
    """Drop the fragments of a walk network (or keep only its largest piece, or all of it).

    Parameters
    ----------
    nodes
        Nodes indexed by ``node_id``.
    edges
        Edges with ``u``, ``v``, ``length_m``; an optional ``twin`` column (positions of the
        barrier-aware network's other road copy) is remapped to the kept edges (-1 if dropped).
    rule
        One of :data:`CLEANING_RULES`.

    Examples
    --------
    >>> import cohesion_gis as cg
    >>> city = cg.load_city()  # doctest: +SKIP
    >>> cleaned = clean_network(city.walk_nodes, city.walk_edges)
    >>> cleaned.n_components, cleaned.dropped_edges, len(cleaned.piece_nodes)
    (47, 149, 1)
    """
    if rule not in CLEANING_RULES:
        raise ValueError(f"network_cleaning: expected one of {CLEANING_RULES}, got {rule!r}")
    ids = pd.Index(nodes.index)
    u = ids.get_indexer(edges["u"].to_numpy())
    v = ids.get_indexer(edges["v"].to_numpy())
    n = len(ids)
    known = (u >= 0) & (v >= 0)
    n_components, label = components(n, u[known], v[known])
    size = np.bincount(label, minlength=n_components)
    # pieces largest first (ties: the lowest label, i.e. the first node's piece)
    order = np.lexsort((np.arange(n_components), -size))
    rank = np.empty(n_components, dtype=np.int64)
    rank[order] = np.arange(n_components)
    if rule == "none":
        keep_piece = np.ones(n_components, dtype=bool)
    elif rule == "largest_component":
        keep_piece = rank == 0
    else:
        keep_piece = (size >= MIN_COMPONENT_NODES) | (rank == 0)
    piece_nodes = size[order][keep_piece[order]]
    new_rank = np.cumsum(keep_piece[order]) - 1  # rank among the kept pieces
    node_piece = new_rank[rank[label]]
    keep_node = keep_piece[label]
    keep = known & keep_node[np.where(known, u, 0)]
    if rule == "none" or keep.all():
        piece = np.where(known, node_piece[np.where(known, u, 0)], 0)
        return CleanedNetwork(nodes, edges, rule, int(n_components), 0, 0.0, piece, piece_nodes)
    edge_piece = node_piece[u[keep]]
    kept_edges = edges.loc[keep].reset_index(drop=True)
    if "twin" in edges.columns:
        position = np.cumsum(keep) - 1
        twin = edges["twin"].to_numpy()[keep]
        valid = twin >= 0
        twin_kept = np.zeros_like(valid)
        twin_kept[valid] = keep[twin[valid]]
        kept_edges["twin"] = np.where(twin_kept, position[np.where(valid, twin, 0)], -1)
    dropped = int((~keep).sum())
    length = float(edges.loc[~keep, "length_m"].sum())
    log.info(
        "network cleaning (%s): %d connected pieces; kept %d (%d of %d nodes); "
        "%d edges (%.0f m) left out",
        rule, n_components, len(piece_nodes), int(keep_node.sum()), n, dropped, length,
    )  # fmt: skip
    return CleanedNetwork(
        nodes.loc[keep_node], kept_edges, rule, int(n_components), dropped, length,
        edge_piece, piece_nodes,
    )  # fmt: skip
