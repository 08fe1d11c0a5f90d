import numpy as np
import pytest
from scipy.sparse.csgraph import dijkstra

from cohesion_gis.cohesion.severance import barrier_aware_network, severance
from cohesion_gis.network import csr_from_edges

from .conftest import network


def _distance(nodes, edges, a, b):
    csr = csr_from_edges(nodes, edges)
    from scipy.sparse import csr_array

    graph = csr_array((csr.weights_m, csr.indices, csr.indptr), shape=(len(csr.node_ids),) * 2)
    index = {int(n): i for i, n in enumerate(csr.node_ids)}
    return dijkstra(graph, indices=index[a])[index[b]]


@pytest.fixture
def crossroads():
    """A primary road along y=0 (nodes 1-5, 100 m apart); side streets north (10) and south (20)
    of node 2; a crossing only at node 4."""
    points = {
        1: (0, 0),
        2: (100, 0),
        3: (200, 0),
        4: (300, 0),
        5: (400, 0),
        10: (100, 50),
        20: (100, -50),
    }
    roads = [(1, 2), (2, 3), (3, 4), (4, 5)]
    return network(points, [*roads, (2, 10), (2, 20)], roads=roads, crossings=[4])


def test_crossing_the_major_road_needs_a_crossing(crossroads):
    nodes, edges = crossroads
    assert _distance(nodes, edges, 10, 20) == pytest.approx(100)  # straight across at node 2
    aware_nodes, aware_edges = barrier_aware_network(nodes, edges)
    # north side to the crossing at x=300 and back on the south side: 50 + 200 + 200 + 50
    assert _distance(aware_nodes, aware_edges, 10, 20) == pytest.approx(500)
    # walking along one side is not made longer
    assert _distance(aware_nodes, aware_edges, 10, 5) == pytest.approx(
        _distance(nodes, edges, 10, 5)
    )


def test_road_edges_are_doubled_and_split_nodes_get_a_second_id(crossroads):
    nodes, edges = crossroads
    aware_nodes, aware_edges = barrier_aware_network(nodes, edges)
    # through nodes 2, 3 and the dangling ends 1, 5 are split; the crossing 4 is not
    assert set(aware_nodes.loc[aware_nodes["side"] == "right"].index) == {-1, -2, -3, -5}
    assert aware_edges["severance"].sum() > edges["severance"].sum()
    assert (aware_nodes.loc[[2, 3], "side"] == "left").all()


def test_reversed_road_way_keeps_sides_consistent():
    # the same road drawn with one way reversed: sides must still line up along it
    points = {1: (0, 0), 2: (100, 0), 3: (200, 0), 4: (300, 0), 10: (100, 50), 20: (200, -50)}
    roads = [(1, 2), (3, 2), (3, 4)]
    nodes, edges = network(points, [*roads, (2, 10), (3, 20)], roads=roads, crossings=[4])
    aware_nodes, aware_edges = barrier_aware_network(nodes, edges)
    # 10 (north of 2) to 20 (south of 3): must go to the crossing at node 4 and back
    assert _distance(aware_nodes, aware_edges, 10, 20) == pytest.approx(50 + 200 + 100 + 50)


def test_no_major_roads_leaves_the_network_alone(line):
    nodes, edges = line
    edges = edges.assign(severance=False)
    nodes = nodes.assign(crossing=False)
    aware_nodes, aware_edges = barrier_aware_network(nodes, edges)
    assert len(aware_edges) == len(edges) and len(aware_nodes) == len(nodes)


def test_severance_share():
    import pandas as pd

    lost = severance(pd.Series([0.5, 0.0, 1.0]), pd.Series([1.0, 0.0, 1.0]))
    np.testing.assert_allclose(lost, [0.5, 0.0, 0.0])


@pytest.mark.parametrize("reverse", [False, True])
def test_a_home_beside_the_road_is_put_on_its_own_side(crossroads, reverse):
    import geopandas as gpd
    import shapely

    from cohesion_gis.network import snap_to_edges

    nodes, edges = crossroads
    if reverse:  # the road drawn east to west: sides follow each edge's own direction
        road = edges["severance"].to_numpy()
        edges = edges.copy()
        edges.loc[road, ["u", "v"]] = edges.loc[road, ["v", "u"]].to_numpy()
        edges.loc[road, "geometry"] = shapely.reverse(edges.loc[road, "geometry"].to_numpy())
    aware_nodes, aware_edges = barrier_aware_network(nodes, edges)
    assert set(aware_edges["side"]) == {"both", "left", "right"}
    csr = csr_from_edges(aware_nodes, aware_edges)
    points = gpd.GeoSeries(shapely.points([(150, 8), (150, -8)]), crs=edges.crs)
    snapped = snap_to_edges(points, aware_edges, csr, max_snap_m=50.0)
    ends = [set(csr.node_ids[[snapped.node_u[i], snapped.node_v[i]]]) for i in range(2)]
    # the north side is where the side street to node 10 joins node 2, the south side node 20's
    uv = aware_edges[["u", "v"]].to_numpy()
    north = {int(n) for n in uv[(uv == 10).any(axis=1)].ravel() if n != 10}
    south = {int(n) for n in uv[(uv == 20).any(axis=1)].ravel() if n != 20}
    assert north == {2 if not reverse else -2} and south == {-n for n in north}
    assert north < ends[0] and south < ends[1]
    np.testing.assert_allclose(snapped.snap_m, [8.0, 8.0])


def test_homes_and_spaces_on_the_same_side_need_no_crossing(crossroads):
    from cohesion_gis.cohesion import CohesionParams
    from cohesion_gis.cohesion.reach import reach
    from cohesion_gis.params import load_params

    from .conftest import homes, spaces

    nodes, edges = crossroads
    params = load_params(CohesionParams)
    aware_nodes, aware_edges = barrier_aware_network(nodes, edges)
    h = homes([(150, 8), (150, -8)], [10.0, 10.0])
    s = spaces([("library", (250, 6), 0), ("library", (250, -6), 0)])
    table = reach(h, s, aware_nodes, aware_edges, params=params).table
    dist = table.set_index(["home", "space"])["dist_m"]
    # same side: along the road, 8 + 100 + 6 m; across: to the crossing at x=300 and back
    assert dist[(0, 0)] == pytest.approx(114.0) and dist[(1, 1)] == pytest.approx(114.0)
    assert dist[(0, 1)] == pytest.approx(8 + 150 + 50 + 6)
    assert dist[(1, 0)] == pytest.approx(8 + 150 + 50 + 6)


def test_detour_ratio_is_the_walk_with_barriers_over_the_walk_without(crossroads):
    from cohesion_gis.cohesion import CohesionParams
    from cohesion_gis.cohesion.reach import reach
    from cohesion_gis.cohesion.severance import detour_ratio
    from cohesion_gis.params import load_params

    from .conftest import homes, spaces

    nodes, edges = crossroads
    params = load_params(CohesionParams)
    h = homes([(100.0, 50.0), (300.0, 60.0)], [10.0, 10.0])  # north of node 2, and of the crossing
    s = spaces([("library", (100.0, -50.0), 0)])  # south of node 2
    free = reach(h, s, nodes, edges, params=params)
    aware = reach(h, s, *barrier_aware_network(nodes, edges), params=params)
    ratio = detour_ratio(aware, free, params)["detour_ratio"]
    d_free = free.table.set_index("home")["dist_m"]
    d_aware = aware.table.set_index("home")["dist_m"]
    assert d_aware[0] - d_free[0] == pytest.approx(400)  # round the crossing 200 m away
    assert ratio.iloc[0] == pytest.approx(d_aware[0] / d_free[0])
    assert ratio.iloc[1] == pytest.approx(1.0)  # crosses at the crossing either way


@pytest.fixture(scope="module")
def helsinki_without_crossings(helsinki):
    """Real Helsinki with no mapped crossing: major roads crossable only at their junctions."""
    import dataclasses

    from cohesion_gis.cohesion import CohesionParams
    from cohesion_gis.cohesion.score import distance_tables, walk_networks
    from cohesion_gis.params import load_params

    city = dataclasses.replace(helsinki, walk_nodes=helsinki.walk_nodes.assign(crossing=False))
    params = load_params(CohesionParams)
    aware, free = distance_tables(city, walk_networks(city, params), params, sensitivity=False)
    return aware, free, params


def test_detour_ratio_keeps_the_pairs_barriers_push_beyond_reach(helsinki_without_crossings):
    from cohesion_gis.cohesion.severance import detour_ratio

    aware, free, params = helsinki_without_crossings
    out = detour_ratio(aware, free, params)
    pairs = free.table.merge(aware.table, on=["home", "space"], how="left", suffixes=("", "_a"))
    radius = params.without_sensitivity().space_radius_m(free.spaces)[pairs["space"]]
    pushed = pairs["dist_m_a"].isna() | (pairs["dist_m_a"] > radius)
    # without crossings some walks within reach on the plain network are pushed beyond it
    assert pushed.sum() > 100
    # every pair counts, a pushed one at the radius searched (a lower bound of its detour)
    capped = pairs.assign(dist_m_a=np.where(pushed, radius, pairs["dist_m_a"]))
    sums = capped.groupby("home")[["dist_m", "dist_m_a"]].sum()
    expected = sums["dist_m_a"] / sums["dist_m"]
    np.testing.assert_allclose(out["detour_ratio"].iloc[expected.index], expected, rtol=1e-12)
    share = pushed.groupby(pairs["home"]).mean()
    np.testing.assert_allclose(out["detour_capped_share"].iloc[share.index], share, rtol=1e-12)
    assert out["detour_ratio"].dropna().ge(1.0 - 1e-9).all()
    # homes with no space within access reach have no ratio
    assert out["detour_ratio"].isna().sum() == len(aware.homes) - pairs["home"].nunique()
