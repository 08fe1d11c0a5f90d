"""The network engine both analyses run on: graphs as arrays, snapping, bounded searches.

1. :mod:`~cohesion_gis.network.graph`: :func:`csr_from_edges` turns the ``nodes``/``edges``
   tables of a study area into a :class:`Csr` (compressed sparse rows of the undirected graph);
2. :mod:`~cohesion_gis.network.snap`: :func:`snap_to_edges` places points on their nearest edge,
   part-way along it, and :func:`entrance_points` finds where polygons (parks) meet walkable
   edges;
3. :mod:`~cohesion_gis.network.paths`: :func:`distances_to_points` runs one bounded Dijkstra
   search per group of seeds in compiled code (:mod:`cohesion_gis.network._search`) and gives
   the exact network distance from each group to each snapped point.

See ``docs/engine.md`` for the methods and their measured costs.
"""

from __future__ import annotations

from cohesion_gis.network._search import map_chunks
from cohesion_gis.network.graph import Csr, csr_from_edges
from cohesion_gis.network.paths import (
    EdgeSeeds,
    SparseDistances,
    bounded_distances,
    bounded_distances_reference,
    distances_from_points,
    distances_to_points,
    node_aggregates,
    node_aggregates_from_seeds,
    point_to_group_distances,
)
from cohesion_gis.network.snap import EdgeIndex, SnappedPoints, entrance_points, snap_to_edges

__all__ = [
    "Csr",
    "EdgeIndex",
    "EdgeSeeds",
    "SnappedPoints",
    "SparseDistances",
    "bounded_distances",
    "bounded_distances_reference",
    "csr_from_edges",
    "distances_from_points",
    "distances_to_points",
    "entrance_points",
    "map_chunks",
    "node_aggregates",
    "node_aggregates_from_seeds",
    "point_to_group_distances",
    "snap_to_edges",
]
