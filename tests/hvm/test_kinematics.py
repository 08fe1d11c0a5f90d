import numpy as np
import pytest

from cohesion_gis.hvm.kinematics import (
    bend_radii_m,
    bend_speed_kmh,
    graded_accel_ms2,
    kinetic_energy_kj,
    run_up_distance_m,
    run_up_speed_kmh,
    speed_profile_kmh,
    turn_angles_deg,
    widest_line_radius_m,
)


def test_run_up_distances_match_reference_worked_examples():
    # reference hvm.md §3: M1 12/28/49/77 m, N2A 20/44/79/124 m, N3C 32/71/126/198 m
    speeds = [32, 48, 64, 80]
    assert np.round(run_up_distance_m(speeds, 3.2)).tolist() == [12, 28, 49, 77]
    assert np.round(run_up_distance_m(speeds, 2.0)).tolist() == [20, 44, 79, 123]
    assert np.round(run_up_distance_m(speeds, 1.25)).tolist() == [32, 71, 126, 198]


def test_run_up_speed_table_and_top_speed_cap():
    d = [10, 20, 30, 50, 75, 100, 150]
    assert np.round(run_up_speed_kmh(d, 3.2)).tolist() == [29, 41, 50, 64, 79, 91, 112]
    assert np.round(run_up_speed_kmh(d, 0.8)).tolist() == [14, 20, 25, 32, 39, 46, 56]
    assert run_up_speed_kmh(1000, 3.2, top_speed_kmh=90) == 90
    assert run_up_speed_kmh(10, 1.0, start_speed_kmh=36) == pytest.approx(np.sqrt(10**2 + 20) * 3.6)


def test_kinetic_energy_reference_points():
    assert kinetic_energy_kj(7200, 48) == pytest.approx(640, abs=1)
    assert kinetic_energy_kj(1500, 80) == pytest.approx(370, abs=1)
    assert kinetic_energy_kj(30000, 80) == pytest.approx(7407, abs=1)


def test_gradient_matches_reference_example():
    # M1 over 50 m: 69 / 64 / 59 / 54 km/h at -5 / 0 / +5 / +10 %
    v = run_up_speed_kmh(50, graded_accel_ms2(3.2, [-0.05, 0, 0.05, 0.10]))
    assert np.round(v).tolist() == [69, 64, 59, 54]


def test_widest_line_90_degree_junction_reference_8_7():
    radius = widest_line_radius_m(90, 7.0, kerb_radius_m=6.0)
    assert radius == pytest.approx(6 + 7 / (1 - np.cos(np.radians(45))))
    assert radius == pytest.approx(29.9, abs=0.05)
    assert bend_speed_kmh(radius, 0.7 * 9.81) == pytest.approx(51.6, abs=0.1)  # ≈ 52 km/h car
    assert bend_speed_kmh(radius, 0.35 * 9.81) == pytest.approx(36.5, abs=0.1)  # truck SRT 0.35


def test_widest_line_geometry_with_unequal_widths():
    # the circle must touch both outer road edges and the inner kerb circle
    turn, w1, w2, kerb = 70.0, 5.0, 9.0, 4.0
    radius = float(widest_line_radius_m(turn, w1, w2, kerb_radius_m=kerb))
    delta = np.radians(turn)
    # outer edges as lines through the origin, bisector along x; kerb centre at offsets
    s, c = np.cos(delta / 2), np.sin(delta / 2)
    a1, a2 = kerb + w1, kerb + w2
    kerb_centre = np.array([(a1 + a2) / (2 * s), (a2 - a1) / (2 * c)])
    centre = np.array([radius / s, 0.0])
    assert np.linalg.norm(centre - kerb_centre) == pytest.approx(radius - kerb)
    assert widest_line_radius_m(0, 7) == np.inf
    assert widest_line_radius_m(180, 7, kerb_radius_m=6) == pytest.approx(13)


def test_bend_radii_merge_a_digitised_curve():
    t = np.radians(np.arange(0, 91, 10))
    arc = np.c_[20 * np.sin(t), 20 * np.cos(t)]
    xy = np.vstack([[-100, 20], arc, [20, -100]])
    radii = bend_radii_m(xy, 7.0)
    # one bend: centreline radius 20 m -> inner kerb 16.5 m, R = 16.5 + 7/(1-cos 45°)
    assert np.isinf(radii[[0, -1]]).all()
    assert radii[1:-1] == pytest.approx(16.5 + 7 / (1 - np.cos(np.radians(45))), abs=0.1)
    assert turn_angles_deg(xy)[1:-1].sum() == pytest.approx(-90)
    # a single sharp corner gets the junction formula
    corner = bend_radii_m([(0, 0), (100, 0), (100, 100)], 7.0)
    assert corner[1] == pytest.approx(29.9, abs=0.05)


def test_speed_profile_caps_and_brakes_before_bends():
    speeds = speed_profile_kmh([0, 100, 200], [np.inf, 30, np.inf], 3.2, 6.87)
    assert speeds[0] == 0
    assert speeds[1] == pytest.approx(30)
    assert speeds[2] == pytest.approx(run_up_speed_kmh(100, 3.2, start_speed_kmh=30))
    # braking: a vertex just before a bend cannot be faster than braking allows
    dense = speed_profile_kmh([0, 90, 100], [np.inf, np.inf, 20], 3.2, 5.0)
    assert (dense[1] / 3.6) ** 2 <= (20 / 3.6) ** 2 + 2 * 5.0 * 10 + 1e-9
    assert dense[-1] == pytest.approx(20)
