"""Incremental HVM assessment (``HvmState.update``): equal to a full run, searching only the sites
a change reaches."""

from __future__ import annotations

import dataclasses
import itertools
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from pandas.testing import assert_frame_equal

from cohesion_gis.city import City
from cohesion_gis.hvm.assess import HvmOptions, SiteAssessment, assess_sites, speed_column
from cohesion_gis.hvm.params import HvmParams
from cohesion_gis.params import load_params
from cohesion_gis.scenario import apply, load_scenario
from cohesion_gis.scenario.incremental import HvmState, hvm_state

SCENARIOS = sorted((Path(__file__).resolve().parents[3] / "scenarios").glob("*.toml"))
TABLES = ("sites", "approaches", "entries", "gaps", "barriers")


@pytest.fixture(scope="module")
def state(helsinki) -> HvmState:
    return hvm_state(helsinki)


@pytest.fixture(scope="module")
def base(state) -> SiteAssessment:
    return state.result


def hvm_inputs(city):
    """The City without its rated barriers, and those as the assessment's ``barriers``."""
    barriers = city.barriers
    rated = barriers["rating"].notna() if "rating" in barriers else pd.Series(False, barriers.index)
    plain = dataclasses.replace(
        city, barriers=barriers.loc[~rated].drop(columns="rating", errors="ignore")
    )
    proposed = barriers.loc[rated, ["barrier_id", "rating", "geometry"]] if rated.any() else None
    return plain, proposed


def assert_same(full: SiteAssessment, fast: SiteAssessment) -> None:
    for name in TABLES:
        assert_frame_equal(getattr(full, name), getattr(fast, name), check_exact=True)
    assert full.audit == fast.audit


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_every_example_scenario_equals_a_full_run(helsinki, state, base, path) -> None:
    city, proposed = hvm_inputs(apply(helsinki, load_scenario(path)))
    update = state.update(city, barriers=proposed)
    assert_same(assess_sites(city, barriers=proposed), update.result)
    assert update.recomputed.startswith("HVM incremental: ")
    if (
        city.drive_edges is helsinki.drive_edges
        and proposed is None
        and city.sites is helsinki.sites
    ):
        assert update.searched == ()  # nothing the search reads changed
    else:
        assert 0 < len(update.searched) < len(base.sites)


def distance_to_sites(city, base) -> np.ndarray:
    """Per vehicle edge, the distance (m) to the nearest site's crowd perimeter."""
    tree = shapely.STRtree(base.sites.geometry.to_numpy())
    (edge, _), dist = tree.query_nearest(city.drive_edges.geometry.to_numpy(), return_distance=True)
    out = np.full(len(city.drive_edges), np.inf)
    np.minimum.at(out, edge, dist)
    return out


def _without_street(city: City, row: int) -> tuple[City, pd.Series]:
    """``city`` with every drive edge of the street (``osm_id``) of edge ``row`` closed."""
    edges = city.drive_edges
    street = edges["osm_id"] == edges["osm_id"].iloc[row]
    return dataclasses.replace(city, drive_edges=edges.loc[~street].reset_index(drop=True)), street


def test_closing_a_road_far_from_every_site_searches_nothing(helsinki, state, base) -> None:
    city, _ = _without_street(helsinki, int(np.argmax(distance_to_sites(helsinki, base))))
    update = state.update(city)
    assert_same(assess_sites(city), update.result)
    assert update.searched == ()
    assert update.recomputed == f"HVM incremental: 0 of {len(base.sites)} sites searched"


def test_closing_a_road_at_a_site_searches_that_site_and_its_neighbours(
    helsinki, state, base
) -> None:
    city, street = _without_street(helsinki, int(np.argmin(distance_to_sites(helsinki, base))))
    edges = helsinki.drive_edges
    update = state.update(city)
    assert_same(assess_sites(city), update.result)
    touching = base.sites.loc[base.sites.intersects(shapely.union_all(edges.geometry[street]))]
    assert set(touching["site_id"]) <= set(update.searched)
    assert len(update.searched) < len(base.sites)


def test_a_removed_site_leaves_the_table_and_its_neighbours_are_searched(
    helsinki, state, base
) -> None:
    single = base.sites.loc[base.sites["n_members"] == 1, "site_id"].iloc[0]
    city = dataclasses.replace(
        helsinki, sites=helsinki.sites.loc[helsinki.sites["site_id"] != single]
    )
    update = state.update(city)
    assert_same(assess_sites(city), update.result)
    assert single not in set(update.result.approaches["site_id"])
    assert update.recomputed.endswith(", site table rebuilt")


def test_other_parameters_or_reordered_edges_give_a_full_run(helsinki, state, base) -> None:
    params = dataclasses.replace(load_params(HvmParams), friction_mu=0.8)
    update = state.update(helsinki, params=params)
    assert update.recomputed == "HVM full: parameters differ from the base assessment's"
    assert len(update.searched) == len(base.sites)
    shuffled = helsinki.drive_edges.iloc[::-1].reset_index(drop=True)
    update = state.update(dataclasses.replace(helsinki, drive_edges=shuffled))
    assert update.recomputed.startswith("HVM full: unchanged rows of the u... table")


def test_walk_network_change_off_the_footways_reuses_the_site_table(helsinki, state, base) -> None:
    walk = helsinki.walk_edges.assign(severance=False)
    update = state.update(dataclasses.replace(helsinki, walk_edges=walk))
    assert update.recomputed == f"HVM incremental: 0 of {len(base.sites)} sites searched"
    assert_frame_equal(update.result.sites, base.sites, check_exact=True)


# --- the start rule is global: a change far away moves where vehicles start ----------------


def line_city(helsinki):
    """A straight 5 km road along x, from the study area's edge (x = 0) to a dead end.

    Edges 0-1, 1-2, 2-3, 3-4 (nodes at x = 0, 1000, 1500, 2500, 5000 m), 50 m side streets at
    nodes 1-3 (so each edge is a street of its own, junction to junction), and one 50 m square
    site across the road at x = 2600-2650.
    """
    x0, y0 = shapely.centroid(helsinki.boundary).coords[0]
    xs = [0.0, 1000.0, 1500.0, 2500.0, 5000.0]
    lines = [shapely.LineString([(x0 + a, y0), (x0 + b, y0)]) for a, b in itertools.pairwise(xs)]
    lines += [shapely.LineString([(x0 + x, y0), (x0 + x, y0 + 50)]) for x in xs[1:4]]
    edges = gpd.GeoDataFrame(
        {"u": [0, 1, 2, 3, 1, 2, 3], "v": [1, 2, 3, 4, 5, 6, 7],
         "osm_id": [f"way/{k}" for k in range(7)], "highway": "primary", "name": None,
         "length_m": shapely.length(lines), "width_m": 7.0},
        geometry=lines, crs=helsinki.crs,
    )  # fmt: skip
    square = shapely.box(x0 + 2600, y0 - 25, x0 + 2650, y0 + 25)
    sites = gpd.GeoDataFrame(
        {"site_id": ["way/10"], "name": ["Square"], "kind": ["square"], "area_m2": [2500.0],
         "capacity_tag": [np.nan], "building_levels": [np.nan]},
        geometry=[square], crs=helsinki.crs,
    )  # fmt: skip
    walk = gpd.GeoDataFrame({"highway": pd.Series(dtype=str)}, geometry=[], crs=helsinki.crs)
    ends = [(x0 + x, y0) for x in xs] + [(x0 + x, y0 + 50) for x in xs[1:4]]
    nodes = gpd.GeoDataFrame(
        {"x": [x for x, _ in ends], "y": [y for _, y in ends]},
        geometry=shapely.points(ends), index=pd.Index(range(8), name="node_id"), crs=helsinki.crs,
    )  # fmt: skip
    return dataclasses.replace(
        helsinki,
        drive_nodes=nodes,
        drive_edges=edges,
        sites=sites,
        walk_edges=walk,
        buildings=helsinki.buildings.iloc[:0],
        barriers=helsinki.barriers.iloc[:0],
        boundary=shapely.box(x0, y0 - 100, x0 + 5100, y0 + 100),
    )


def test_a_far_closure_that_moves_the_outside_searches_the_site_again(helsinki) -> None:
    city = line_city(helsinki)
    x0, y0 = shapely.centroid(helsinki.boundary).coords[0]
    ring = gpd.GeoDataFrame(
        {"barrier_id": ["line"], "rating": ["V/1500[M1]/80/90:1.0"]},
        geometry=[shapely.LineString([(x0 + 2000, y0 - 20), (x0 + 2000, y0 + 20)])],
        crs=helsinki.crs,
    )
    before = hvm_state(city, HvmOptions(barriers=ring))
    base = before.result
    # the road beyond the barrier is longer than what is left outside once 0-1 is closed, so
    # it becomes the outside: an M1 now starts there, within reach of the square
    closed = dataclasses.replace(city, drive_edges=city.drive_edges.iloc[1:])
    update = before.update(closed, barriers=ring)
    full = assess_sites(closed, barriers=ring)
    assert_same(full, update.result)
    assert update.searched == ("way/10",)
    m1 = speed_column("M1")
    assert base.sites[m1].iloc[0] == 0.0  # no start inside, outside starts beyond the horizon
    assert full.sites[m1].iloc[0] > 80.0  # from node 3, 96 m before the square
    far_m = city.drive_edges.geometry.iloc[0].distance(city.sites.geometry.iloc[0])
    assert far_m > load_params(HvmParams).search_horizon_m + 500.0
