"""The network engine both analyses run on: graphs as arrays, snapping, bounded searches.

1. :mod:`~cohesion_gis.network.graph`: :func:`csr_from_edges` turns the ``nodes``/``edges``
   tables of a study area into a :class:`Csr` (compressed sparse rows of the undirected graph;
   :func:`csr_from_pairs` from edges already numbered), :func:`components` labels its connected
   parts, :func:`spanning_forest` picks a minimum spanning forest (barrier gaps);
2. :mod:`~cohesion_gis.network.snap`: :func:`snap_to_edges` places points on their nearest edge,
   part-way along it, :func:`entrance_points` finds where polygons (parks) meet walkable edges,
   and :func:`nearest_edges` is the nearest edge of each point (a barrier) within a distance;
3. :mod:`~cohesion_gis.network.paths`: :func:`distances_to_points` runs one bounded Dijkstra
   search per group of seeds in compiled code (:mod:`cohesion_gis.network._search`) and gives
   the exact network distance from each group to each snapped point; :func:`node_distances` is
   one search from many seeds to every node; :func:`search_ball` (with :func:`search_scratch`
   and :func:`queue_shape`) is that search for a compiled caller (the HVM's horizon per site).

:func:`map_chunks` runs compiled chunks of work on a thread pool, in order.

Users: :mod:`cohesion_gis.cohesion.reach` (homes to contact spaces), :class:`cohesion_gis.City`
(``walk_csr``, ``drive_csr``), :mod:`cohesion_gis.hvm.routes` (the approach network's graph,
its parts, barrier snapping, each site's horizon) and
:mod:`cohesion_gis.scenario.incremental.hvm` (how far a change reaches). Only the max-speed
search of :mod:`cohesion_gis.hvm` is its own. See ``docs/engine.md``.
"""

from __future__ import annotations

from cohesion_gis.network._search import map_chunks
from cohesion_gis.network.graph import (
    Csr,
    components,
    csr_from_edges,
    csr_from_pairs,
    spanning_forest,
)
from cohesion_gis.network.paths import (
    distances_to_points,
    node_distances,
    queue_shape,
    search_ball,
    search_scratch,
)
from cohesion_gis.network.snap import (
    EdgeIndex,
    SnappedPoints,
    entrance_points,
    nearest_edges,
    snap_to_edges,
)

__all__ = [
    "Csr",
    "EdgeIndex",
    "SnappedPoints",
    "components",
    "csr_from_edges",
    "csr_from_pairs",
    "distances_to_points",
    "entrance_points",
    "map_chunks",
    "nearest_edges",
    "node_distances",
    "queue_shape",
    "search_ball",
    "search_scratch",
    "snap_to_edges",
    "spanning_forest",
]
