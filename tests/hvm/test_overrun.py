"""Straight-on over-run legs (hvm.overrun) on the embedded Helsinki: Sofiankatu → Senaatintori."""

from __future__ import annotations

import dataclasses

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from cohesion_gis.hvm.assess import AssessmentSetup, HvmOptions
from cohesion_gis.hvm.kinematics import bend_speed_kmh, widest_line_radius_m
from cohesion_gis.hvm.overrun import overrun_legs
from cohesion_gis.hvm.sites import soft_target_sites
from cohesion_gis.hvm.vehicles import Vehicles
from cohesion_gis.params import load_params

SENAATINTORI = "relation/2919121"
#: Sofiankatu's north end, where it meets Aleksanterinkatu facing the square (EPSG:3067, m).
SOFIANKATU_END = (386367.2, 6671999.3)


@pytest.fixture(scope="module")
def setup(helsinki):
    return AssessmentSetup.resolve(helsinki, HvmOptions(vehicles=["M1", "N3C"]))


@pytest.fixture(scope="module")
def sites(helsinki, setup):
    return soft_target_sites(helsinki, params=setup.site_params)


def legs_of(helsinki, setup, sites, *, obstacles=None):
    return overrun_legs(
        setup.edges, sites, helsinki.drive_csr,
        obstacles=setup.obstacles if obstacles is None else obstacles,
        heading_m=setup.params.overrun_heading_m, max_length_m=setup.params.overrun_max_m,
        straight_deg=setup.params.overrun_straight_deg,
        entry_snap_m=setup.site_params.entry_snap_m,
    )  # fmt: skip


def leg_keys(legs):
    """Each leg as (street end node, length m)."""
    return set(zip(legs["u"], legs["length_m"].round(6), strict=True))


def sofiankatu_leg(legs):
    start = shapely.get_coordinates(shapely.get_point(legs.geometry.to_numpy(), 0))
    near = np.hypot(*(start - SOFIANKATU_END).T) < 0.5
    return legs.loc[near & (legs["overrun_site"] == SENAATINTORI).to_numpy()]


def senaatintori_rows(helsinki, setup, sites, barriers=None):
    if barriers is not None:
        setup = dataclasses.replace(setup, barriers=pd.concat([setup.barriers, barriers]))
    position = np.flatnonzero(sites["site_id"].to_numpy() == SENAATINTORI)
    return setup.network(helsinki, setup.areas(sites)).routes(position)


def overrun_entry(rows):
    """The rows of the entry on Sofiankatu's over-run leg (x within 1 m of the street's end)."""
    on_leg = (rows["entry_kind"] == "overrun") & ((rows["entry_x"] - SOFIANKATU_END[0]).abs() < 1.0)
    return rows.loc[on_leg].set_index("vehicle_class")


def test_sofiankatu_runs_straight_on_across_the_junction_into_senaatintori(helsinki, setup, sites):
    legs = legs_of(helsinki, setup, sites)
    leg = sofiankatu_leg(legs)
    assert len(leg) == 1
    # the reviewer's ray from the street's end meets the square at y = 6672021
    assert leg["length_m"].iloc[0] == pytest.approx(21.8, abs=0.1)
    assert leg["name"].iloc[0] == "Sofiankatu"
    rows = senaatintori_rows(helsinki, setup, sites)
    entry = overrun_entry(rows)
    assert set(entry.index) == {"M1", "N3C"}
    assert (entry["overrun_m"] > 0).all() and (entry["overrun_m"] < leg["length_m"].iloc[0]).all()
    vehicles = load_params(Vehicles).select(["M1", "N3C"])
    radius = widest_line_radius_m(90.0, 6.0, kerb_radius_m=setup.params.kerb_radius_m)
    for cls in ("M1", "N3C"):
        turn_cap = float(bend_speed_kmh(radius, vehicles[cls].lateral_limit_ms2(0.7)))
        # a vehicle turning at the junction is capped there; going straight on it is not
        assert entry.loc[cls, "impact_speed_kmh"] > turn_cap + 20
    # the reviewer's hand figures at the crowd perimeter (7.5 m further on): M1 108.9, N3C 72.7
    assert entry.loc["M1", "impact_speed_kmh"] == pytest.approx(107.3, abs=1.0)
    assert entry.loc["N3C", "impact_speed_kmh"] == pytest.approx(71.3, abs=1.0)
    street = rows.loc[rows["entry_kind"] == "street"]
    assert street["overrun_m"].isna().all()


def test_a_building_across_the_leg_removes_it(helsinki, setup, sites):
    kiosk = shapely.box(SOFIANKATU_END[0] - 3, 6672006.0, SOFIANKATU_END[0] + 3, 6672009.0)
    obstacles = pd.concat(
        [setup.obstacles,
         gpd.GeoDataFrame({"obstacle_kind": ["building façade"]},
                          geometry=[kiosk.boundary], crs=setup.obstacles.crs)],
        ignore_index=True,
    )  # fmt: skip
    before = legs_of(helsinki, setup, sites)
    after = legs_of(helsinki, setup, sites, obstacles=obstacles)
    assert len(sofiankatu_leg(before)) == 1
    assert sofiankatu_leg(after).empty
    assert len(after) == len(before) - 1  # no other leg crosses the kiosk


def test_a_rated_line_across_the_leg_stops_it_or_is_driven_through(helsinki, setup, sites):
    # across the leg between Aleksanterinkatu and the square, out to the 20 m reach each side
    line = shapely.LineString(
        [(SOFIANKATU_END[0] - 21, 6672008.0), (SOFIANKATU_END[0] + 21, 6672008.0)]
    )

    def line_rated(rating):
        return gpd.GeoDataFrame(
            {"barrier_id": ["leg_line"], "barrier_kind": ["wall"], "rating": [rating],
             "source": ["user"], "stops_vehicles": [True]},
            geometry=[line], crs=setup.edges.crs,
        )  # fmt: skip

    free = overrun_entry(senaatintori_rows(helsinki, setup, sites)).loc["N3C"]
    assert free["impact_speed_kmh"] > 65  # N3C about 70 km/h at the line
    held = senaatintori_rows(
        helsinki, setup, sites, line_rated("ISO 22343-1: V/7200[N3C]/80/90:1.0")
    )
    row = overrun_entry(held).loc["N3C"]
    assert row["impact_speed_kmh"] == 0
    assert "leg_line" in row["reason"]
    weak = senaatintori_rows(
        helsinki, setup, sites, line_rated("ISO 22343-1: V/7200[N3C]/48/90:1.0")
    )
    row = overrun_entry(weak).loc["N3C"]
    assert row["impact_speed_kmh"] == pytest.approx(free["impact_speed_kmh"])
    assert row["defeated"] == "leg_line"


def test_an_obstacle_never_raises_a_speed(helsinki, setup, sites):
    rng = np.random.default_rng(13)
    base = senaatintori_rows(helsinki, setup, sites)
    base_legs = legs_of(helsinki, setup, sites)
    keys = leg_keys(base_legs)
    for _ in range(3):
        x = rng.uniform(386290, 386450, 6)
        y = rng.uniform(6671990, 6672100, 6)
        boxes = shapely.box(x, y, x + rng.uniform(2, 12, 6), y + rng.uniform(2, 12, 6))
        extra = gpd.GeoDataFrame(
            {"obstacle_kind": ["building façade"] * 6}, geometry=shapely.boundary(boxes),
            crs=setup.obstacles.crs,
        )  # fmt: skip
        obstacles = pd.concat([setup.obstacles, extra], ignore_index=True)
        legs = legs_of(helsinki, setup, sites, obstacles=obstacles)
        assert leg_keys(legs) <= keys
        rows = senaatintori_rows(helsinki, dataclasses.replace(setup, obstacles=obstacles), sites)
        for cls in ("M1", "N3C"):
            before = base.loc[base["vehicle_class"] == cls, "impact_speed_kmh"].max()
            after = rows.loc[rows["vehicle_class"] == cls, "impact_speed_kmh"].max()
            assert after <= before + 1e-9
        by_point = base.set_index(["vehicle_class", "entry_x", "entry_y"])["impact_speed_kmh"]
        for key, speed in rows.set_index(["vehicle_class", "entry_x", "entry_y"])[
            "impact_speed_kmh"
        ].items():
            if key in by_point.index:
                assert speed <= by_point.loc[key] + 1e-9


def test_no_legs_when_turned_off(helsinki, setup, sites):
    off = dataclasses.replace(setup, params=dataclasses.replace(setup.params, overrun_max_m=0.0))
    rows = senaatintori_rows(helsinki, off, sites)
    assert (rows["entry_kind"].dropna() == "street").all()
