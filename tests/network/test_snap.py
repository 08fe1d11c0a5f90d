"""``network.snap``: snapping points to edges, polygon entrances and nearest edges, by hand and on
Helsinki (GEOS and shapely's STRtree as the references).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import Point, Polygon

from cohesion_gis.errors import InputError, ParameterError
from cohesion_gis.network import (
    EdgeIndex,
    SnappedPoints,
    csr_from_edges,
    entrance_points,
    nearest_edges,
    snap_to_edges,
)

from .conftest import CRS, points


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
