"""``network.snap``: snapping points to edges, polygon entrances and nearest edges, by hand and on
Helsinki (GEOS and shapely's STRtree as the references).
"""

from __future__ import annotations

import itertools

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
    distances_to_points,
    entrance_points,
    nearest_edges,
    snap_to_edges,
)

from .conftest import CRS, points
from .reference import brute_force_distances


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
    from cohesion_gis.hvm.assess import AssessmentSetup, HvmOptions

    setup = AssessmentSetup.resolve(helsinki, HvmOptions())
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


def test_a_tolerance_links_every_edge_nearly_as_near(tiny: tuple) -> None:
    """(100, 4) is 4 m above A-B and B-C's shared node B... and 96 m from C-D's first leg; (195, 3)
    is 3 m from B-C and 5 m from C-D's vertical leg: with 6 m both edges are entrances."""
    nodes, edges = tiny
    csr = csr_from_edges(nodes, edges)
    pts = points((150, 3), (197, 10))
    nearest = snap_to_edges(pts, edges, csr)
    linked = snap_to_edges(pts, edges, csr, tolerance_m=6.0)
    assert nearest.links is None
    for field in ("edge", "along_m", "offset_u_m", "offset_v_m", "snap_m", "snapped"):
        np.testing.assert_array_equal(getattr(nearest, field), getattr(linked, field))
    links = linked.links
    # (150, 3): only B-C within 3 + 6 m; (197, 10): C-D's leg at 3 m, B-C at 10 m (+7 m: out)
    assert links.point.tolist() == [0, 1]
    assert links.edge.tolist() == [1, 2]
    wide = snap_to_edges(pts, edges, csr, tolerance_m=8.0).links
    assert wide.point.tolist() == [0, 1, 1]
    assert wide.edge.tolist() == [1, 2, 1]  # the nearest first
    np.testing.assert_allclose(wide.extra_m, [0.0, 0.0, 7.0])
    np.testing.assert_allclose(wide.along_m, [50.0, 10.0, 97.0])  # C-D measured from C
    np.testing.assert_allclose(wide.offset_v_m, [50.0, 190.0, 3.0])
    # the search takes the shortest way through either edge: from A, (197, 10) is 197 + 10 m
    # through B-C, not 200 + 10 + 3 m around C
    seed = snap_to_edges(points((0, 0)), edges, csr)
    one = distances_to_points(csr, seed, nearest, limit_m=1000.0)
    both = distances_to_points(csr, seed, snap_to_edges(pts, edges, csr, tolerance_m=8.0),
                               limit_m=1000.0)  # fmt: skip
    np.testing.assert_allclose(one["dist_m"], [150.0, 210.0])
    np.testing.assert_allclose(both["dist_m"], [150.0, 197.0 + 7.0])
    with pytest.raises(ParameterError, match="tolerance_m"):
        snap_to_edges(pts, edges, csr, tolerance_m=-1.0)
    with pytest.raises(ParameterError, match="extra_m"):
        snap_to_edges(pts, edges, csr, extra_m=np.array([1.0, np.nan]))


def test_links_give_the_exact_distance_through_any_edge(pyrosm_walk: tuple) -> None:
    """Homes and entrances entering through several edges, each with its extra distance: the
    table is the minimum over every pair of their edges of the brute-force distance (each link
    inserted as a node of the graph) plus both extras, shared edges included."""
    nodes, edges, parks = pyrosm_walk
    csr = csr_from_edges(nodes, edges)
    rng = np.random.default_rng(7)
    xmin, ymin, xmax, ymax = edges.total_bounds
    homes = snap_to_edges(
        gpd.GeoSeries(shapely.points(rng.uniform([xmin, ymin], [xmax, ymax], (120, 2))),
                      crs=edges.crs),
        edges, csr, max_snap_m=60.0, tolerance_m=10.0,
    )  # fmt: skip
    ent = entrance_points(parks, edges, max_gap_m=60.0, tolerance_m=10.0)
    extra = rng.uniform(0.0, 20.0, len(ent)) * (rng.uniform(size=len(ent)) < 0.5)
    seeds = snap_to_edges(ent, edges, csr, tolerance_m=10.0, extra_m=extra)
    h, s = homes.links, seeds.links
    assert (h.extra_m > 0).sum() > 50 and (s.extra_m > 0).sum() > 50
    group = ent["polygon"].to_numpy()
    got = distances_to_points(csr, seeds, homes, group=group, limit_m=600.0)
    assert len(got) > 300
    ends = (
        csr.node_index(edges["u"].to_numpy()),
        csr.node_index(edges["v"].to_numpy()),
        edges["length_m"].to_numpy(),
    )
    # every seed link its own group, every home link its own point, extras added after
    brute = brute_force_distances(
        ends, csr.n_nodes, (s.edge, s.along_m, np.arange(len(s))), (h.edge, h.along_m),
        limit_m=600.0,
    )  # fmt: skip
    link_s, link_p = brute["group"].to_numpy(), brute["point"].to_numpy()
    expected = (
        pd.DataFrame(
            {
                "point": h.point[link_p],
                "group": group[s.point[link_s]].astype(np.int32),
                "dist_m": brute["dist_m"].to_numpy() + h.extra_m[link_p] + s.extra_m[link_s],
            }
        )
        .groupby(["point", "group"], as_index=False)["dist_m"]
        .min()
        .query("dist_m <= 600.0")
        .reset_index(drop=True)
    )
    pd.testing.assert_frame_equal(got[["point", "group"]], expected[["point", "group"]])
    np.testing.assert_allclose(got["dist_m"], expected["dist_m"], rtol=1e-9, atol=1e-6)


def test_more_candidate_edges_never_lengthen_a_walk(pyrosm_walk: tuple) -> None:
    """Property: with a larger tolerance a point enters through a superset of edges, so no
    home-to-park distance (door to street included) grows and no pair is lost."""
    nodes, edges, parks = pyrosm_walk
    csr = csr_from_edges(nodes, edges)
    rng = np.random.default_rng(5)
    xmin, ymin, xmax, ymax = edges.total_bounds
    pts = gpd.GeoSeries(
        shapely.points(rng.uniform([xmin, ymin], [xmax, ymax], (400, 2))), crs=edges.crs
    )
    tables = []
    for tolerance in (0.0, 3.0, 6.0, 20.0):
        homes = snap_to_edges(pts, edges, csr, max_snap_m=60.0, tolerance_m=tolerance)
        ent = entrance_points(parks, edges, max_gap_m=60.0, tolerance_m=tolerance)
        gap = ent["gap_m"].to_numpy()
        near = pd.Series(gap).groupby(ent["polygon"].to_numpy()).transform("min").to_numpy()
        seeds = snap_to_edges(ent, edges, csr, extra_m=gap - near)
        t = distances_to_points(csr, seeds, homes, group=ent["polygon"].to_numpy(), limit_m=800.0)
        door = homes.snap_m[t["point"]] + near[np.searchsorted(ent["polygon"], t["group"])]
        tables.append(t.assign(dist_m=t["dist_m"] + door).set_index(["point", "group"])["dist_m"])
    for fewer, more in itertools.pairwise(tables):
        assert fewer.index.isin(more.index).all()
        assert (more.reindex(fewer.index) <= fewer + 1e-9).all()
    assert (tables[-1].reindex(tables[0].index) < tables[0] - 1.0).sum() > 20
