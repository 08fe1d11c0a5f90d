"""The compiled bounded searches against scipy's Dijkstra, on random graphs and on Helsinki.

Each search the product runs is checked against an independent reference
(``tests/network/reference.py``): :func:`~cohesion_gis.network.distances_to_points` against a
brute force that inserts every point into the graph, :func:`~cohesion_gis.network.node_distances`
against ``scipy.sparse.csgraph.dijkstra``, :func:`~cohesion_gis.network.components` against
``connected_components``.
"""

from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pyrosm
import pytest
import shapely
from scipy.sparse import csr_array
from scipy.sparse.csgraph import dijkstra

from cohesion_gis.errors import InputError, ParameterError
from cohesion_gis.network import (
    Csr,
    SnappedPoints,
    _search,
    csr_from_edges,
    distances_to_points,
    node_distances,
)

from .conftest import random_graph
from .reference import brute_force_distances, node_distances_reference, undirected_edges


def random_points(
    csr: Csr, n: int, rng: np.random.Generator, *, edge: np.ndarray | None = None
) -> SnappedPoints:
    """``n`` points at random places along random edges (or along ``edge``); an edge is its
    position in :func:`undirected_edges`."""
    u, v, length = undirected_edges(csr)
    edge = rng.integers(0, u.size, n) if edge is None else edge
    along = rng.uniform(0, 1, n) * length[edge]
    return SnappedPoints(
        index=pd.RangeIndex(n),
        edge=edge.astype(np.int64),
        node_u=u[edge].astype(np.int32),
        node_v=v[edge].astype(np.int32),
        along_m=along,
        offset_u_m=along.copy(),
        offset_v_m=length[edge] - along,
        snap_m=np.zeros(n),
        snapped=np.ones(n, bool),
    )


def assert_matches_brute_force(
    csr: Csr,
    seeds: SnappedPoints,
    group: np.ndarray,
    points: SnappedPoints,
    limit_m: float | np.ndarray,
    *,
    n_threads: int | None = None,
) -> pd.DataFrame:
    """distances_to_points equals the brute force: same pairs, distances to rounding."""
    got = distances_to_points(csr, seeds, points, group=group, limit_m=limit_m, n_threads=n_threads)
    expected = brute_force_distances(
        undirected_edges(csr),
        csr.n_nodes,
        (seeds.edge, seeds.along_m, group),
        (points.edge, points.along_m),
        limit_m=limit_m,
    )
    pd.testing.assert_frame_equal(got[["point", "group"]], expected[["point", "group"]])
    np.testing.assert_allclose(got["dist_m"], expected["dist_m"], rtol=1e-9, atol=1e-6)
    return got


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_distances_to_points_match_brute_force_on_random_graphs(seed: int) -> None:
    csr = random_graph(3000, seed)
    rng = np.random.default_rng(100 + seed)
    seeds = random_points(csr, 300, rng)
    group = rng.integers(0, 120, 300)  # about 3 seeds per group, some groups empty
    points = random_points(csr, 400, rng)
    got = assert_matches_brute_force(csr, seeds, group, points, 500.0)
    assert len(got) > 2_000
    # every group its own radius
    radius = rng.uniform(100.0, 500.0, group.max() + 1)
    assert_matches_brute_force(csr, seeds, group, points, radius)


def test_results_do_not_depend_on_thread_count() -> None:
    csr = random_graph(2000, 7)
    rng = np.random.default_rng(7)
    seeds, points = random_points(csr, 300, rng), random_points(csr, 500, rng)
    group = rng.integers(0, 100, 300)
    one = distances_to_points(csr, seeds, points, group=group, limit_m=400.0, n_threads=1)
    two = distances_to_points(csr, seeds, points, group=group, limit_m=400.0, n_threads=2)
    assert len(one) > 1000
    pd.testing.assert_frame_equal(one, two, check_exact=True)


def test_node_distances_equal_scipy_bit_for_bit() -> None:
    """One search from many seeds: scipy's ``dijkstra(min_only=True)``, bit for bit (what the
    HVM's reach of a change relied on), and the minimum over seeds with offsets."""
    for csr in (random_graph(2000, 4), subdivided_graph(4)):
        rng = np.random.default_rng(4)
        seed_node = rng.integers(0, csr.n_nodes, 25)
        graph = csr_array((csr.weights_m, csr.indices, csr.indptr), shape=(csr.n_nodes,) * 2)
        expected = dijkstra(graph, indices=seed_node, min_only=True, limit=300.0)
        got = node_distances(csr, seed_node, limit_m=300.0)
        assert np.isfinite(got).sum() > 0.2 * csr.n_nodes
        np.testing.assert_array_equal(got, expected)
        offset = rng.uniform(0, 50, 25)
        np.testing.assert_allclose(
            node_distances(csr, seed_node, seed_offset_m=offset, limit_m=300.0),
            node_distances_reference(csr, seed_node, offset, limit_m=300.0),
            rtol=1e-12,
        )


def test_limit_offsets_and_seeds_beyond_the_limit() -> None:
    nodes = pd.DataFrame({"x": [0.0, 100, 200, 300], "y": 0.0}, index=[1, 2, 3, 4])
    edges = pd.DataFrame({"u": [1, 2, 3], "v": [2, 3, 4], "length_m": [100.0, 100.0, 100.0]})
    csr = csr_from_edges(nodes, edges)
    # two seeds; a third whose offset exceeds the limit adds nothing
    got = node_distances(
        csr, np.array([0, 3, 1]), seed_offset_m=np.array([10.0, 40.0, 300.0]), limit_m=150.0
    )
    assert got.tolist() == [10.0, 110.0, 140.0, 40.0]
    # a node exactly at the limit is reached (inclusive)
    at = node_distances(csr, np.array([0]), limit_m=200.0)
    assert at.tolist() == [0.0, 100.0, 200.0, np.inf]
    assert np.isinf(node_distances(csr, np.array([], int), limit_m=50.0)).all()


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
def test_contracted_chains_match_brute_force(seed: int) -> None:
    csr = subdivided_graph(seed)
    degree = np.diff(csr.indptr)
    assert np.mean(degree == 2) > 0.5  # the kernel contracts chains on such graphs
    assert np.sum(degree == 1) >= 40
    rng = np.random.default_rng(seed)
    # seeds on edges of junctions, chain interiors and dead ends, several per group, including
    # the ring, the loop and the lone path (edges with an end among the last 12 nodes)
    u, v, _ = undirected_edges(csr)
    special = np.flatnonzero(np.maximum(u, v) >= csr.n_nodes - 12)
    edge = np.r_[rng.integers(0, u.size, 300 - special.size), special]
    seeds = random_points(csr, 300, rng, edge=edge)
    group = rng.integers(0, 120, 300)
    points = random_points(csr, 400, rng)
    for limit in (150.0, 600.0):
        got = assert_matches_brute_force(csr, seeds, group, points, limit)
        assert len(got) > 1000


def test_bad_seeds_and_radii_raise() -> None:
    csr = random_graph(50, 0)
    with pytest.raises(InputError, match=r"node indices must lie in 0\.\.49"):
        node_distances(csr, np.array([50]), limit_m=10.0)
    with pytest.raises(InputError, match="one length"):
        node_distances(csr, np.array([1, 2]), seed_offset_m=np.array([0.0]), limit_m=10.0)
    with pytest.raises(InputError, match="offsets must be finite"):
        node_distances(csr, np.array([1]), seed_offset_m=np.array([-1.0]), limit_m=10.0)
    with pytest.raises(ParameterError, match="limit_m"):
        node_distances(csr, np.array([1]), limit_m=np.inf)
    rng = np.random.default_rng(0)
    seeds, points = random_points(csr, 4, rng), random_points(csr, 4, rng)
    with pytest.raises(InputError, match="one code per seed"):
        distances_to_points(csr, seeds, points, group=np.array([0, 1]), limit_m=10.0)


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


def test_searches_match_scipy_on_helsinki(helsinki: tuple[Csr, np.ndarray]) -> None:
    csr, poi_node = helsinki
    assert csr.n_nodes == 5559
    assert poi_node.size == 1132
    graph = csr_array((csr.weights_m, csr.indices, csr.indptr), shape=(csr.n_nodes,) * 2)
    expected = dijkstra(graph, indices=poi_node, min_only=True, limit=400.0)
    np.testing.assert_array_equal(node_distances(csr, poi_node, limit_m=400.0), expected)
    rng = np.random.default_rng(12)
    seeds, points = random_points(csr, 300, rng), random_points(csr, 600, rng)
    got = assert_matches_brute_force(csr, seeds, rng.integers(0, 100, 300), points, 800.0)
    assert len(got) > 20_000


@pytest.mark.parametrize("seed", [0, 1])
def test_bucket_queue_is_exact_whatever_its_width_and_size(seed: int) -> None:
    """One wide bucket (every node scanned in any order, many re-scans), hair-thin buckets, and a
    queue of two entries that must grow: the same distances, bit for bit, as the default queue."""
    csr = subdivided_graph(seed) if seed else random_graph(2000, 11)
    rng = np.random.default_rng(seed)
    seed_node = rng.integers(0, csr.n_nodes, 20).astype(np.int32)
    seed_offset = rng.uniform(0, 40, 20)
    for contract in (False, True):  # chains contracted on the subdivided graph
        graph, chains = _search.graph_for_search(
            csr.indptr, csr.indices, csr.weights_m, contract=contract
        )

        def run(inv: float, n_buckets: int, n_entries: int) -> np.ndarray:
            args = (*graph, seed_node, seed_offset, 500.0, chains)  # noqa: B023
            return _search._nodes_kernel(*args, inv, n_buckets, n_entries)

        inv, n_buckets, n_entries = _search.queue_shape(graph, 500.0)
        default = run(inv, n_buckets, n_entries)
        assert np.isfinite(default).sum() > 0.2 * csr.n_nodes
        for queue in [(1e-4, 1, n_entries), (1.0 / 0.05, 10_001, n_entries), (inv, n_buckets, 2)]:
            np.testing.assert_array_equal(run(*queue), default)


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
