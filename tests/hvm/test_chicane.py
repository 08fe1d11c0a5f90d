"""Chicanes (``chicane`` interventions): a physical speed cap in the approach search.

On Unioninkatu (embedded Helsinki), a 6 m street vehicles drive at up to 150 km/h: a chicane
with the default 3 m lane and 12 m stagger caps every path through its middle at the bend speed
of its 24.4 m path radius, and vehicles re-accelerate after it.
"""

from __future__ import annotations

import math
from dataclasses import replace
from types import MappingProxyType

import geopandas as gpd
import numpy as np
import pytest
import shapely

import cohesion_gis as cg
from cohesion_gis.errors import ScenarioError
from cohesion_gis.hvm.chicane import ChicaneParams, path_radius_m
from cohesion_gis.hvm.params import HvmParams
from cohesion_gis.hvm.routes import approach_routes
from cohesion_gis.hvm.vehicles import Vehicles
from cohesion_gis.network import components
from cohesion_gis.params import load_params
from cohesion_gis.scenario import Intervention, Scenario, apply, load_scenario

#: Mid-block on Unioninkatu (m, the City's CRS), about 150 km/h for cars southbound.
MIDDLE = (386303.0, 6672125.0)
#: Probe offsets (m) along the street from the chicane's middle (north is +).
OFFSETS = (-150.0, -60.0, -20.0, -3.0, 3.0, 20.0, 60.0)


def _wgs(city: cg.City, xy: tuple[float, float]) -> shapely.Point:
    return gpd.GeoSeries([shapely.Point(xy)], crs=city.crs).to_crs(4326).iloc[0]


def _scenario(city: cg.City, xy: tuple[float, float], **options: object) -> Scenario:
    point = _wgs(city, xy)
    entry = Intervention(0, "chicane", MappingProxyType({"geometry": point.wkt, **options}), point)
    return Scenario(name="chicane", interventions=(entry,))


@pytest.fixture(scope="module")
def chicaned(helsinki: cg.City) -> cg.City:
    return apply(helsinki, _scenario(helsinki, MIDDLE))


@pytest.fixture(scope="module")
def node_xy(chicaned: cg.City) -> np.ndarray:
    edges = chicaned.drive_edges
    (line,) = edges.loc[edges["chicane_radius_m"].notna()].geometry
    return np.asarray(line.coords[-1])


@pytest.fixture(scope="module")
def probes(helsinki: cg.City, node_xy: np.ndarray) -> gpd.GeoDataFrame:
    """Discs 1 m across on Unioninkatu's centreline at :data:`OFFSETS` from the chicane."""
    edges = helsinki.drive_edges
    street = shapely.union_all(edges.loc[edges["name"] == "Unioninkatu"].geometry.to_numpy())
    points = [street.interpolate(street.project(shapely.Point(node_xy[0], node_xy[1] + dy)))
              for dy in OFFSETS]  # fmt: skip
    return gpd.GeoDataFrame(
        {"site_id": np.arange(len(points))},
        geometry=shapely.buffer(points, 0.5),
        crs=helsinki.crs,
    )


def _routes(city: cg.City, probes: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    params = replace(load_params(HvmParams), search_horizon_m=500.0)
    return approach_routes(
        city.drive_edges, probes, params=params, boundary=city.boundary, graph=city.drive_csr
    ).sort_values(["site_id", "vehicle_class", "entry_id"], ignore_index=True)


@pytest.fixture(scope="module")
def before(helsinki: cg.City, probes: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return _routes(helsinki, probes)


@pytest.fixture(scope="module")
def after(chicaned: cg.City, probes: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return _routes(chicaned, probes)


def _caps_kmh(radius_m: float) -> dict[str, float]:
    hvm = load_params(HvmParams)
    vehicles = load_params(Vehicles).select(hvm.default_vehicle_classes)
    return {
        name: math.sqrt(v.lateral_limit_ms2(hvm.friction_mu) * radius_m) * 3.6
        for name, v in vehicles.items()
    }


def test_path_radius_is_the_two_reverse_arcs() -> None:
    # R sin θ = L/2 and R (1 - cos θ) = y_e/2 for L = 12 m, y_e = 3 - (3 - 1.5) = 1.5 m
    radius = path_radius_m(12.0, 3.0, 3.0, 1.5)
    theta = math.asin(6.0 / radius)
    assert radius * (1.0 - math.cos(theta)) == pytest.approx(0.75)
    assert path_radius_m(12.0, 1.0, 3.0, 1.5) == math.inf  # a straight line leads through


def test_chicane_is_a_node_with_the_path_radius(helsinki, chicaned) -> None:
    edges = chicaned.drive_edges
    marked = edges.loc[edges["chicane_radius_m"].notna()]
    defaults = load_params(ChicaneParams)
    width = float(marked["width_m"].iloc[0])
    assert len(marked) == 1
    assert marked["chicane_radius_m"].iloc[0] == pytest.approx(
        path_radius_m(defaults.length_m, width - defaults.lane_width_m, defaults.lane_width_m, 1.5)
    )
    assert len(edges) == len(helsinki.drive_edges) + 1  # the piece split at the middle
    assert edges["length_m"].sum() == pytest.approx(helsinki.drive_edges["length_m"].sum())


def test_chicane_never_raises_a_speed_and_slows_the_street(before, after) -> None:
    assert (after["impact_speed_kmh"] <= before["impact_speed_kmh"] + 1e-9).all()
    # 3 m past it southbound (the probe's north entry): far below the 150 km/h before
    past = (after["site_id"] == OFFSETS.index(-3.0)) & (after["vehicle_class"] == "M1")
    assert after.loc[past, "impact_speed_kmh"].min() < 60.0
    assert before.loc[past, "impact_speed_kmh"].min() > 140.0


def test_speed_at_the_chicane_is_within_its_cap(after, node_xy, chicaned) -> None:
    radius = float(chicaned.drive_edges["chicane_radius_m"].dropna().iloc[0])
    caps = _caps_kmh(radius)
    checked = 0
    for row in after.itertuples():
        if row.geometry is None:
            continue
        xy = shapely.get_coordinates(row.geometry)
        at = np.flatnonzero(np.hypot(*(xy - node_xy).T) < 1e-6)
        speeds = np.array(row.speeds_kmh.split(), float)
        for i in at:
            assert speeds[i] <= caps[row.vehicle_class] + 0.05  # speeds_kmh: 0.1 km/h
            checked += 1
    assert checked >= 8  # routes through the chicane from both sides, every class


def test_removing_the_chicane_restores_the_speeds(helsinki, chicaned, probes, before) -> None:
    unmarked = replace(chicaned, drive_edges=chicaned.drive_edges.assign(chicane_radius_m=np.nan))
    again = _routes(unmarked, probes)
    # the split node alone moves nothing but float rounding (lengths summed in two parts)
    np.testing.assert_allclose(again["impact_speed_kmh"], before["impact_speed_kmh"], rtol=1e-12)
    assert (again["entry_id"] == before["entry_id"]).all()


def test_chicane_closes_no_street_to_vehicles_or_walkers(helsinki, chicaned, before, after):
    assert chicaned.walk_edges is helsinki.walk_edges  # footways untouched
    arrived = before["impact_speed_kmh"] > 0
    assert (after.loc[arrived, "impact_speed_kmh"] > 0).all()
    graph = chicaned.drive_csr
    u = graph.node_index(chicaned.drive_edges["u"].to_numpy())
    v = graph.node_index(chicaned.drive_edges["v"].to_numpy())
    base = helsinki.drive_csr
    bu = base.node_index(helsinki.drive_edges["u"].to_numpy())
    bv = base.node_index(helsinki.drive_edges["v"].to_numpy())
    assert components(graph.n_nodes, u, v)[0] == components(base.n_nodes, bu, bv)[0]


@pytest.mark.parametrize(
    ("where", "options", "match"),
    [
        ((386340.0, 6672125.0), {}, "off its carriageway"),
        (MIDDLE, {"lane_width_m": 2.5}, "close the street to N3C"),
        (MIDDLE, {"lane_width_m": 3.5}, "too narrow"),
        ((386302.0, 6672165.0), {"length_m": 100.0}, "junction or dead end"),
    ],
)
def test_a_chicane_that_cannot_be_built_is_refused(helsinki, where, options, match) -> None:
    with pytest.raises(ScenarioError, match=match):
        apply(helsinki, _scenario(helsinki, where, **options))


def test_scenario_file_numbers_are_checked(tmp_path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(
        'name = "bad"\n[[interventions]]\ntype = "chicane"\n'
        'geometry = "POINT (24.95 60.17)"\nlength_m = -3\nlane_width_m = "wide"\n',
        encoding="utf-8",
    )
    with pytest.raises(ScenarioError, match=r"2 problems.*'length_m'.*'lane_width_m'"):
        load_scenario(path)
