"""``hvm.impact``: the impact envelope of an approach, its requirements and kerbside cover.

A hand-built scene in metres: a 40 m square crowd perimeter with a straight 8 m carriageway
15 m south of it, a vehicle arriving along the perimeter. Speeds are checked against the
kinematics (:func:`~cohesion_gis.hvm.kinematics.impact_speed_at_angle_kmh`) on the room the
scene gives by hand (15 m stand-off + half the carriageway).
"""

from __future__ import annotations

from dataclasses import replace

import geopandas as gpd
import numpy as np
import pytest
import shapely

from cohesion_gis.hvm.impact import (
    ENVELOPE_COLUMNS,
    cast_to_outline,
    class_requirements,
    demand_key,
    envelope_column,
    impact_envelope,
    requirement_text,
    round_speed,
)
from cohesion_gis.hvm.kinematics import (
    envelope_bands_deg,
    impact_speed_at_angle_kmh,
    kinetic_energy_kj,
    normal_speed_kmh,
)
from cohesion_gis.hvm.params import HvmParams
from cohesion_gis.hvm.rating import required_rating
from cohesion_gis.hvm.routes import APPROACH_COLUMNS
from cohesion_gis.hvm.sites import soft_target_sites
from cohesion_gis.hvm.vehicles import Vehicles
from cohesion_gis.params import load_params

CRS = "EPSG:32635"
PARAMS = load_params(HvmParams)
VEHICLES = load_params(Vehicles).select()
M1 = VEHICLES["M1"]


def scene(
    speed_kmh: float, *, run_up_m: float = 300.0, entry_y: float = -15.0
) -> dict[str, gpd.GeoDataFrame]:
    """Two approaches to site ``s`` along the street: one arriving at ``speed_kmh``, one not.

    ``entry_y``: where the first entry stands (the room is its distance to the crowd + 4 m).
    """
    sites = gpd.GeoDataFrame({"site_id": ["s"]}, geometry=[shapely.box(0, 0, 40, 40)], crs=CRS)
    street = shapely.LineString([(-200, -15), (200, -15)])
    edges = gpd.GeoDataFrame({"width_m": [8.0]}, geometry=[street], crs=CRS)
    rows = {
        "site_id": ["s", "s"],
        "vehicle_class": ["M1", "M1"],
        "entry_id": ["e1", "e2"],
        "entry_x": [20.0, 30.0],
        "entry_y": [entry_y, -15.0],
        "entry_kind": ["street", "street"],
        "overrun_m": [np.nan, np.nan],
        "run_up_m": [run_up_m, 0.0],
        "impact_speed_kmh": [speed_kmh, 0.0],
        "impact_energy_kj": [float(kinetic_energy_kj(M1.test_mass_kg, speed_kmh)), 0.0],
        "speeds_kmh": ["", ""],
        "blocked_by": ["", ""],
        "defeated": ["", ""],
        "reason": ["", "no vehicle arrives"],
    }
    assert set(rows) == set(APPROACH_COLUMNS)
    geometry = [shapely.LineString([(-100, -15), (20, -15)]), shapely.Point(30, -15)]
    approaches = gpd.GeoDataFrame(rows, geometry=geometry, crs=CRS)
    return {"approaches": approaches, "sites": sites, "edges": edges}


def envelope(speed_kmh: float, barriers: gpd.GeoDataFrame | None = None, **kw: float):
    tables = scene(speed_kmh, **kw)
    return impact_envelope(
        tables["approaches"], tables["sites"], tables["edges"], vehicles=VEHICLES,
        params=PARAMS, barriers=barriers,
    )  # fmt: skip


def test_envelope_by_hand_on_the_scene() -> None:
    table = envelope(100.0)
    assert set(ENVELOPE_COLUMNS) <= set(table.columns)
    arrived, still = table.iloc[0], table.iloc[1]
    # VDA review item 6: the stand-off is from the kerb, the entry (20, -15) on the centreline
    # of the 8 m street is 15 m from the square's south side: 15 - 4 = 11 m behind the kerb
    assert arrived["standoff_m"] == 11.0
    assert arrived["lateral_room_m"] == 19.0  # + half the 8 m carriageway
    lat = M1.lateral_limit_ms2(PARAMS.friction_mu)
    # each band at its worst edge (VDA review): the arrival runs along the square (0°), so
    # the edge nearest it, the lower one, is the fastest; the glancing band holds the arrival
    bands = envelope_bands_deg(PARAMS.impact_angles_deg)
    for angle, (lo, _) in zip(PARAMS.impact_angles_deg, bands, strict=True):
        if lo == 0:
            continue
        expected = impact_speed_at_angle_kmh(
            100.0, 0.0, 19.0, lo, lat_accel_ms2=lat, accel_ms2=M1.accel_ms2
        )
        middle = impact_speed_at_angle_kmh(
            100.0, 0.0, 19.0, angle, lat_accel_ms2=lat, accel_ms2=M1.accel_ms2
        )
        assert arrived[envelope_column(angle)] == round_speed(expected, 1.0)
        assert expected >= middle
    faster = impact_speed_at_angle_kmh(100.0, 0.0, 19.0, 37.5, lat_accel_ms2=lat,
                                       accel_ms2=M1.accel_ms2)  # fmt: skip
    middle45 = impact_speed_at_angle_kmh(100.0, 0.0, 19.0, 45.0, lat_accel_ms2=lat,
                                         accel_ms2=M1.accel_ms2)  # fmt: skip
    assert arrived[envelope_column(45)] == round_speed(faster, 1.0) > round_speed(middle45, 1.0)
    assert arrived[envelope_column(15)] == 100.0  # glancing: the approach speed stands
    assert arrived[envelope_column(90)] < arrived[envelope_column(45)] < 100.0
    normal = normal_speed_kmh(100.0, 0.0, 19.0, lat_accel_ms2=lat, accel_ms2=M1.accel_ms2)
    assert arrived["normal_speed_kmh"] == round_speed(normal, 1.0)
    assert arrived["crowd_entry_speed_kmh"] == 100.0
    # 100 km/h still at 30° (a 45° test's range), beyond the 80 km/h M1 tests; the glancing
    # threat is no faster, so no glancing requirement
    assert arrived[envelope_column(30)] == 100.0
    assert arrived["required_rating"].startswith("beyond tested speeds")
    assert "glancing" not in arrived["required_rating"]
    assert arrived["design_angle_deg"] == 45.0
    assert not arrived["horizon_limited"]  # 300 m of a 500 m horizon
    # no arrival: nothing measured, nothing required
    assert np.isnan(still["standoff_m"])
    assert still[[envelope_column(a) for a in PARAMS.impact_angles_deg]].eq(0).all()
    assert still["required_rating"] == "" and np.isnan(still["design_angle_deg"])
    # idempotent: the derived columns of an earlier call are recomputed
    again = impact_envelope(
        table, scene(100.0)["sites"], scene(100.0)["edges"], vehicles=VEHICLES, params=PARAMS
    )
    assert again[list(ENVELOPE_COLUMNS)].equals(table[list(ENVELOPE_COLUMNS)])


def test_a_run_up_cut_by_the_horizon_is_flagged() -> None:
    near_horizon = envelope(60.0, run_up_m=0.95 * PARAMS.search_horizon_m)
    assert near_horizon["horizon_limited"].tolist() == [True, False]
    short = envelope(60.0, run_up_m=0.5 * PARAMS.search_horizon_m)
    assert not short["horizon_limited"].any()


def test_a_steady_envelope_asks_one_head_on_test() -> None:
    reqs = class_requirements(
        dict.fromkeys(PARAMS.impact_angles_deg, 70.0), M1, params=PARAMS, standoff_m=5.0
    )
    # 70 km/h + 10 % allowance = 77 km/h: the 80 km/h test; the 90° test covers every angle
    assert [(r.angle_deg, r.test_speed_kmh) for r in reqs] == [(90.0, 80.0)]
    assert "penetration ≤ 5.0 m" in requirement_text(reqs)


def test_requirements_most_demanding_first_then_glancing() -> None:
    speeds = {90.0: 30.0, 60.0: 40.0, 45.0: 55.0, 30.0: 80.0, 15.0: 150.0}
    reqs = class_requirements(speeds, M1, params=PARAMS, standoff_m=5.0)
    assert [demand_key(r) for r in reqs[:2]] == sorted(
        (demand_key(r) for r in reqs[:2]), reverse=True
    )
    first, second, last = reqs
    assert first.exceeds_test_speeds and first.angle_deg == 45.0  # 80 km/h at 30°: > 80 test
    assert second.test_speed_kmh == 48.0 and second.angle_deg == 90.0  # 40 km/h at 60°
    assert last.glancing and "150 km/h" in last.text  # faster than every tested threat
    assert requirement_text(reqs).count(" and ") == 2
    assert class_requirements({90.0: 0.0}, M1, params=PARAMS) == []
    only_glancing = class_requirements({15.0: 100.0}, M1, params=PARAMS)
    assert len(only_glancing) == 1 and only_glancing[0].glancing


def barrier(geoms: list, rating: str) -> gpd.GeoDataFrame:
    ids = [f"b{i}" for i in range(len(geoms))]
    return gpd.GeoDataFrame({"barrier_id": ids, "rating": rating}, geometry=geoms, crs=CRS)


@pytest.mark.parametrize(
    ("geoms", "rating", "held"),
    [
        # a continuous rated line 5 m before the crowd, tested faster than every impact
        ([shapely.LineString([(-50, -5), (90, -5)])], "V/1500[M1]/80/90:1.0", "b0"),
        # the same line tested too slow
        ([shapely.LineString([(-50, -5), (90, -5)])], "V/1500[M1]/32/90:1.0", ""),
        # penetration beyond the 5 m from the line to the crowd
        ([shapely.LineString([(-50, -5), (90, -5)])], "V/1500[M1]/80/90:7.0", ""),
        # too short to cross every sight line from the entry to the crowd
        ([shapely.LineString([(19, -5), (21, -5)])], "V/1500[M1]/80/90:1.0", ""),
        # a bollard row 1 m apart: one band, but separate elements never hold the car running
        # along them (no test covers an impact below 22.5°)
        ([shapely.Point(x, -5) for x in range(-50, 91)], "V/1500[M1]/80/90:1.0", ""),
    ],
)
def test_kerbside_cover(geoms: list, rating: str, held: str) -> None:
    # the lines are guard rails (continuous members); the car runs along the crowd at 40 km/h
    table = envelope(40.0, barrier(geoms, rating).assign(barrier_kind="guard_rail"))
    assert table["protected_by"].tolist() == [held, ""]
    if held:
        assert table["required_rating"].iloc[0] == f"none: held by the rated line {held}"
        assert np.isnan(table["design_angle_deg"].iloc[0])
    else:
        assert table["required_rating"].iloc[0].startswith(("ISO", "speed management", "beyond"))


def narrow(speed_kmh: float, barriers: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The scene with the entry 3 m from the crowd (7 m of room, as at Senaatintori)."""
    tables = scene(speed_kmh, entry_y=-3.0)
    return impact_envelope(
        tables["approaches"], tables["sites"], tables["edges"], vehicles=VEHICLES,
        params=PARAMS, barriers=barriers,
    )  # fmt: skip


def test_a_bollard_row_holds_a_vehicle_arriving_at_a_steep_angle() -> None:
    # second VDA review: a row was refused wherever the envelope's glancing band had a speed,
    # which is every arrival, so no bollard row held anything. Glancing is the arrival's
    # heading: the same row holds the car arriving at 60°, not the one running along at 0°
    line = [shapely.LineString([(-50, -5), (90, -5)])]
    bollards = barrier(line, "V/1500[M1]/80/90:1.0").assign(barrier_kind="bollard")
    tables = scene(40.0)
    # the same entry reached by a street rising at 60° towards the square's south side
    rising = shapely.LineString([(20 - 100 * np.cos(np.pi / 3), -15 - 100 * np.sin(np.pi / 3)),
                                 (20, -15)])  # fmt: skip
    steep = tables["approaches"].set_geometry([rising, shapely.Point(30, -15)], crs=CRS)
    table = impact_envelope(
        steep, tables["sites"], tables["edges"], vehicles=VEHICLES, params=PARAMS,
        barriers=bollards,
    )  # fmt: skip
    assert table["impact_angle_deg"].iloc[0] == pytest.approx(60.0)
    assert table["hit_distance_m"].iloc[0] == pytest.approx(15 / np.sin(np.pi / 3), abs=0.05)
    assert table["protected_by"].tolist() == ["b0", ""]
    assert envelope(40.0, bollards)["protected_by"].tolist() == ["", ""]  # along it: glancing


@pytest.mark.parametrize(
    ("kind", "held"),
    [
        ("bollard", ""),  # separate elements: 151 km/h at 22.5° is beyond any test
        ("rated", ""),  # a user's line that does not say what was built: the lesser credit
        ("guard_rail", "b0"),  # continuous: credited with 151 sin 22.5° = 58 km/h transverse
        ("wall", "b0"),
    ],
)
def test_what_was_built_decides_the_glancing_cover(kind: str, held: str) -> None:
    # VDA review item 5: a car runs along the crowd at 151 km/h, 7 m of room: its turn-in
    # reaches 90 km/h at 22.5° (the 30° band's edge), which a 112 km/h test covers (102 km/h
    # credited); its glancing run does not turn. A continuous line deflects it along its
    # members (transverse 58 km/h); a row of separate elements holds it only up to the angle
    # its test covers, the band's 22.5° edge, where 151 km/h is beyond every test.
    line = barrier([shapely.LineString([(-50, -2.0), (90, -2.0)])], "V/1500[M1]/112/90:1.0")
    table = narrow(151.0, line.assign(barrier_kind=kind))
    assert table[envelope_column(30)].iloc[0] == pytest.approx(90.0, abs=2.0)
    assert table["protected_by"].iloc[0] == held
    if not held:  # open: the glancing run is a speed-management finding
        assert "speed management for M1" in table["required_rating"].iloc[0]
    # the same continuous line rated 48 km/h: its head-on credit, 44 km/h, is below both the
    # 90 km/h turn-in and the 58 km/h transverse glancing component: it holds nothing
    slow = line.assign(barrier_kind="guard_rail", rating="V/1500[M1]/48/90:1.0")
    assert narrow(151.0, slow)["protected_by"].iloc[0] == ""


def test_the_glancing_finding_is_speed_management_not_a_product() -> None:
    # VDA review item 7: an EN 1317-2 containment level is no VSB rating a specifier can buy;
    # the finding is for traffic management, with the continuous line kerbside_cover credits
    car = required_rating(151.0, "M1", angle_deg=15.0, params=PARAMS).text
    assert "EN 1317" not in car and "reduce the speed along this frontage" in car
    truck = required_rating(90.0, "N3C", angle_deg=15.0, params=PARAMS).text
    assert truck.startswith("speed management for N3C") and "V/7200[N3C]/48/90" in truck


def test_cast_to_outline_by_hand():
    # a 40 m square crowd with a 10 m courtyard hole; rays 4 m outside as an entry stands
    crowd = shapely.box(0, 0, 40, 40).difference(shapely.box(15, 15, 25, 25))
    origins = np.array(
        [[20, -4], [-10, -4], [20, -4], [20, -4], [20, 20], [20, 0], [20, 0], [-4, 20], [0, -10]],
        float,
    )
    headings = np.radians([90, 0, 60, -90, 0, 90, -90, 180, 90])
    hit, phi = cast_to_outline(origins, headings, np.array([crowd] * 9, dtype=object), 30.0)
    # head-on: 4 m, 90°; along the south side, parallel: a miss, 0°; at 60° to the face
    assert hit[0] == pytest.approx(4.0) and phi[0] == pytest.approx(90.0)
    assert np.isnan(hit[1]) and phi[1] == 0.0
    assert hit[2] == pytest.approx(4 / np.sin(np.radians(60))) and phi[2] == pytest.approx(60.0)
    assert np.isnan(hit[3]) and phi[3] == 0.0  # heading away
    # inside the courtyard hole, heading east: its wall 5 m ahead, head-on
    assert hit[4] == pytest.approx(5.0) and phi[4] == pytest.approx(90.0)
    # on the outline heading in: already in the crowd (0 m), through the south face square on;
    # on it heading out: no hit
    assert hit[5] == 0.0 and phi[5] == pytest.approx(90.0)
    assert np.isnan(hit[6])
    assert np.isnan(hit[7])  # west of the square heading west
    # straight up the west side's line: it first touches the corner (0, 0), the steeper face
    assert hit[8] == pytest.approx(10.0) and phi[8] == pytest.approx(90.0)
    # beyond the cast length: a miss
    far, _ = cast_to_outline(origins[:1], headings[:1], np.array([crowd], dtype=object), 3.9)
    assert np.isnan(far[0])
    # a 2 m rounded bump on the south side (a footway's end cap): a path striking its flank
    # square on meets a facet at about 45°, the side over 10 m at 90°
    bumped = shapely.union(crowd, shapely.Point(20, 0).buffer(2.0, quad_segs=4))
    start = np.array([[21.4, -6.0]])
    rows = np.array([bumped], dtype=object)
    hit0, facet = cast_to_outline(start, np.radians([90.0]), rows, 30.0)
    hit10, side = cast_to_outline(start, np.radians([90.0]), rows, 30.0, face_m=10.0)
    assert hit0[0] == hit10[0] < 6.0  # the same point, on the bump
    assert 30.0 < facet[0] < 60.0 and side[0] == pytest.approx(90.0, abs=1.0)


def test_cast_to_outline_does_not_depend_on_where_along_the_path_it_starts(helsinki):
    # the real crowd outline of Senaatintori (its frontage footways give it rounded bumps):
    # starting the same straight path 4 m or 8 m further back (as another mount distance would)
    # gives the same face and incidence, the distance 4 m longer
    keep = helsinki.sites["name"].fillna("").str.contains("Senaatintori", regex=False)
    sites = soft_target_sites(replace(helsinki, sites=helsinki.sites.loc[keep]))
    crowd = sites.loc[sites["name"] == "Senaatintori"].geometry.iloc[0]
    rng = np.random.default_rng(13)
    headings = rng.uniform(-np.pi, np.pi, 200)
    # targets on the outline, origins 12 m back along each heading (outside or inside)
    targets = shapely.get_coordinates(
        shapely.line_interpolate_point(crowd.exterior, rng.uniform(0, 1, 200), normalized=True)
    )
    step = np.column_stack([np.cos(headings), np.sin(headings)])
    near = targets - 12.0 * step
    outlines = np.array([crowd] * 200, dtype=object)
    d_near, phi_near = cast_to_outline(near, headings, outlines, 60.0)
    d_far, phi_far = cast_to_outline(near - 4.0 * step, headings, outlines, 60.0)
    outside = ~shapely.intersects(crowd, shapely.points(near - 4.0 * step)) & ~shapely.intersects(
        crowd, shapely.points(near)
    )
    assert outside.sum() > 50
    both = outside & np.isfinite(d_near)
    assert both.sum() > 50
    np.testing.assert_allclose(d_far[both], d_near[both] + 4.0, atol=1e-6)
    np.testing.assert_allclose(phi_far[both], phi_near[both], atol=1e-6)
    assert (d_near[both] <= 12.0 + 1e-6).all()  # the path meets the outline at or before its target
