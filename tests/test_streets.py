"""The walk and vehicle networks built from OSM ways (``streets``), on the embedded Helsinki."""

from __future__ import annotations

import itertools

import networkx as nx
import numpy as np
import osmnx as ox
import pandas as pd
import pytest
import shapely
from shapely.ops import nearest_points

from cohesion_gis.sources.osm import default_pbf, read_pbf
from cohesion_gis.streets import osm_number, vehicle_network, walk_network
from cohesion_gis.taxonomy import load_taxonomy


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


@pytest.fixture(scope="module")
def helsinki_raw():
    """The embedded extract's raw segments and nodes, projected as ``load_city`` projects them."""
    extract = read_pbf(default_pbf())
    crs = extract.segments.estimate_utm_crs()
    return extract.segments.to_crs(crs), extract.nodes.to_crs(crs)


@pytest.mark.parametrize("build", [walk_network, vehicle_network])
def test_loops_and_zero_length_segments_are_dropped_not_a_crash(helsinki_raw, build):
    # OSM has both: a way that comes back to the node it left (u == v), and two distinct nodes
    # at one point (a zero-length segment). Each row-aligned column must still line up.
    segments, nodes = helsinki_raw
    rules = load_taxonomy().network
    want_nodes, want_edges = build(segments, nodes, rules=rules)
    tagged = segments.loc[
        segments["tags"].map(lambda t: t.get("highway") == "secondary" and "bridge" in t)
    ].iloc[:2]
    loop = tagged.iloc[[0]].assign(v=tagged["u"].iloc[0])
    point = shapely.get_point(tagged.geometry.iloc[1], 0)
    zero = tagged.iloc[[1]].assign(geometry=[shapely.LineString([point, point])])
    hostile = pd.concat([loop, segments, zero], ignore_index=True)
    got_nodes, got_edges = build(hostile, nodes, rules=rules)
    assert len(got_edges) == len(want_edges)
    pd.testing.assert_frame_equal(got_edges, want_edges)
    pd.testing.assert_frame_equal(got_nodes, want_nodes)
