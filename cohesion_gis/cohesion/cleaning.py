"""Network cleaning: the cohesion score runs on the largest connected piece of the walk network.

OSM walk networks hold many small pieces no path joins to the rest: corridors inside a market
hall, a library's indoor footways, a pedestrian square drawn as a closed ring. A home or a space
that enters the network on such a piece reaches nothing beyond it, so on central Helsinki seven
spaces (Oodi, the Kaisa library, Vanha Kauppahalli...) were reached by no home. As osmnx
(``osmnx.truncate.largest_component``) and cityseer (``graphs.nx_remove_dangling_nodes`` with
``remove_disconnected``) do by default for walk analyses, the score keeps the largest connected
component; homes and spaces then enter it at its nearest edge (within ``max_snap_m``), so a space
whose own paths are an island is entered through the nearest edge of the main network.

``network_cleaning = "none"`` in ``cohesion.toml`` keeps every piece (a sensitivity variant).

References
----------
Boeing, G. (2017) OSMnx: New methods for acquiring, constructing, analyzing, and visualizing
complex street networks. *Computers, Environment and Urban Systems* 65, 126-139.
doi:10.1016/j.compenvurbsys.2017.05.004.
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
CLEANING_RULES = ("largest_component", "none")


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
    """

    nodes: gpd.GeoDataFrame
    edges: gpd.GeoDataFrame
    rule: str
    n_components: int
    dropped_edges: int
    dropped_length_m: float

    @property
    def network(self) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
        """``(nodes, edges)``."""
        return self.nodes, self.edges

    def describe(self) -> str:
        """One plain sentence for reports."""
        if self.rule == "none":
            return f"not cleaned: all {self.n_components} connected pieces of the walk network kept"
        return (
            f"largest connected piece of the walk network kept; {self.n_components - 1} "
            f"isolated pieces ({self.dropped_edges} edges, {self.dropped_length_m:,.0f} m) "
            "left out, homes and spaces on them enter the main network at its nearest edge"
        )


def clean_network(
    nodes: gpd.GeoDataFrame, edges: gpd.GeoDataFrame, *, rule: str = "largest_component"
) -> CleanedNetwork:
    """Keep the largest connected component of a walk network (or, with ``"none"``, all of it).

    Parameters
    ----------
    nodes
        Nodes indexed by ``node_id``.
    edges
        Edges with ``u``, ``v``, ``length_m``; an optional ``twin`` column (positions of the
        barrier-aware network's other road copy) is remapped to the kept edges (-1 if dropped).
    rule
        ``"largest_component"`` or ``"none"``.

    Examples
    --------
    >>> import cohesion_gis as cg
    >>> city = cg.load_city()
    >>> cleaned = clean_network(city.walk_nodes, city.walk_edges)
    >>> cleaned.n_components, cleaned.dropped_edges
    (47, 149)
    """
    if rule not in CLEANING_RULES:
        raise ValueError(f"network_cleaning: expected one of {CLEANING_RULES}, got {rule!r}")
    ids = pd.Index(nodes.index)
    u = ids.get_indexer(edges["u"].to_numpy())
    v = ids.get_indexer(edges["v"].to_numpy())
    n = len(ids)
    known = (u >= 0) & (v >= 0)
    n_components, label = components(n, u[known], v[known])
    if rule == "none" or n_components <= 1 or edges.empty:
        return CleanedNetwork(nodes, edges, rule, int(n_components), 0, 0.0)
    main = int(np.bincount(label).argmax())  # ties: the lowest label, i.e. the first node's piece
    keep_node = label == main
    keep = known & keep_node[np.where(known, u, 0)]
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
        "network cleaning: %d connected pieces; kept the largest (%d of %d nodes); "
        "%d edges (%.0f m) left out",
        n_components, int(keep_node.sum()), n, dropped, length,
    )  # fmt: skip
    return CleanedNetwork(
        nodes.loc[keep_node], kept_edges, rule, int(n_components), dropped, length
    )
