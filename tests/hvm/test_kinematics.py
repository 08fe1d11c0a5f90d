import numpy as np
import pytest
from scipy.integrate import quad, solve_ivp

from cohesion_gis.errors import ParameterError
from cohesion_gis.hvm.kinematics import (
    G_MS2,
    Traction,
    bend_radii_m,
    bend_speed_kmh,
    envelope_bands_deg,
    graded_accel_ms2,
    impact_envelope_kmh,
    impact_speed_at_angle_kmh,
    kinetic_energy_kj,
    ms_to_kmh,
    normal_speed_kmh,
    run_up_distance_m,
    run_up_speed_kmh,
    speed_profile_kmh,
    traction_accel_ms2,
    traction_run_up_distance_m,
    traction_run_up_speed_kmh,
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


def test_bend_radii_do_not_depend_on_the_drawing_direction():
    # same-direction turns are merged from both ends and each vertex keeps the wider bend: one
    # greedy pass from the first vertex gave another radius to 12 of these 300 curves reversed
    rng = np.random.default_rng(0)
    for _ in range(300):
        heading = np.cumsum(rng.uniform(0.0, 0.8, 11) * rng.choice([0, 1], 11))
        step = rng.uniform(1, 40, 11)
        xy = np.vstack(
            [[0, 0], np.cumsum(np.c_[step * np.cos(heading), step * np.sin(heading)], 0)]
        )
        np.testing.assert_allclose(
            bend_radii_m(xy[::-1], 7.0)[::-1], bend_radii_m(xy, 7.0), rtol=1e-12
        )


def test_speed_profile_caps_and_brakes_before_bends():
    speeds = speed_profile_kmh([0, 100, 200], [np.inf, 30, np.inf], 3.2, 6.87)
    assert speeds[0] == 0
    assert speeds[1] == pytest.approx(30)
    assert speeds[2] == pytest.approx(run_up_speed_kmh(100, 3.2, start_speed_kmh=30))
    # braking: a vertex just before a bend cannot be faster than braking allows
    dense = speed_profile_kmh([0, 90, 100], [np.inf, np.inf, 20], 3.2, 5.0)
    assert (dense[1] / 3.6) ** 2 <= (20 / 3.6) ** 2 + 2 * 5.0 * 10 + 1e-9
    assert dense[-1] == pytest.approx(20)


CAR = Traction.power(3.2, power_kw=100, mass_kg=1500, drag_area_m2=0.7, rolling_resistance=0.012)
TRUCK = Traction.power(1.25, power_kw=200, mass_kg=7200, drag_area_m2=5.0, rolling_resistance=0.008)


def test_power_model_acceleration_by_hand():
    # a(v) = min(a0, P/(m v)) - g C_rr - rho C_d A v^2 / (2 m)
    drag = 1.225 * 0.7 / (2 * 1500)
    rolling = 9.81 * 0.012
    assert traction_accel_ms2(0, CAR) == pytest.approx(3.2 - rolling)
    v = 50 / 3.6  # traction-limited: P/(m v) = 4.8 > 3.2
    assert traction_accel_ms2(50, CAR) == pytest.approx(3.2 - rolling - drag * v**2)
    v = 100 / 3.6  # power-limited: P/(m v) = 2.4
    assert traction_accel_ms2(100, CAR) == pytest.approx(
        100_000 / (1500 * v) - rolling - drag * v**2
    )
    assert traction_accel_ms2(100, CAR) == pytest.approx(2.062, abs=1e-3)
    # 5 % uphill: g (C_rr cos θ + sin θ)
    theta = np.arctan(0.05)
    assert traction_accel_ms2(0, CAR, grade=0.05) == pytest.approx(
        3.2 - 9.81 * (0.012 * np.cos(theta) + np.sin(theta))
    )
    # the constant model is a0 - g sin θ
    assert traction_accel_ms2([0, 150], Traction.constant(3.2)).tolist() == [3.2, 3.2]
    v_term = CAR.terminal_speed_kmh() / 3.6  # P/(m v) = g C_rr + drag v^2 there
    assert 100_000 / (1500 * v_term) == pytest.approx(rolling + drag * v_term**2)
    assert v_term * 3.6 == pytest.approx(213.6, abs=0.1)


@pytest.mark.parametrize("traction", [CAR, TRUCK], ids=["car", "truck"])
def test_distance_table_matches_a_fine_integral(traction):
    def accel(v):
        return float(traction_accel_ms2(v * 3.6, traction))

    kink = traction.power_w_per_kg / traction.accel_ms2
    for speed_kmh in [10, 37, 80, 89.9]:
        v = speed_kmh / 3.6
        exact = quad(lambda w: w / accel(w), 0, v, points=[kink] if kink < v else None)[0]
        table = traction_run_up_distance_m(speed_kmh, traction, top_speed_kmh=90)
        assert table == pytest.approx(exact, rel=1e-6)
    # the inverse: speed after the integral's distance is the speed
    d = traction_run_up_distance_m(80, traction, top_speed_kmh=90)
    assert traction_run_up_speed_kmh(d, traction, top_speed_kmh=90) == pytest.approx(80, abs=1e-6)
    mid = traction_run_up_distance_m(80, traction, start_speed_kmh=37, top_speed_kmh=90)
    assert traction_run_up_speed_kmh(
        mid, traction, start_speed_kmh=37, top_speed_kmh=90
    ) == pytest.approx(80, abs=1e-6)


def test_graded_steps_match_an_ode_solution():
    # du/ds = 2 a(v) on a 6 % downhill and an 8 % uphill, 2 m steps against a fine ODE solver
    for grade in (-0.06, 0.08):

        def rhs(_, u, grade=grade):
            return [2 * float(traction_accel_ms2(np.sqrt(max(u[0], 0)) * 3.6, CAR, grade=grade))]

        exact = solve_ivp(rhs, (0, 150), [(20 / 3.6) ** 2], rtol=1e-10, atol=1e-10).y[0, -1]
        got = traction_run_up_speed_kmh(150, CAR, start_speed_kmh=20, grade=grade)
        assert got == pytest.approx(np.sqrt(exact) * 3.6, abs=0.01)


def test_power_never_gives_a_higher_speed_than_constant():
    rng = np.random.default_rng(3)
    for _ in range(200):
        d, start, grade = rng.uniform(1, 600), rng.uniform(0, 60), rng.uniform(-0.1, 0.1)
        for traction, top in ((CAR, 160), (TRUCK, 90)):
            power = traction_run_up_speed_kmh(
                d, traction, start_speed_kmh=start, top_speed_kmh=top, grade=grade
            )
            constant = run_up_speed_kmh(
                d, graded_accel_ms2(traction.accel_ms2, grade), start_speed_kmh=start,
                top_speed_kmh=top,
            )  # fmt: skip
            assert power <= constant + 1e-9
    # and the constant model through the same code path is the closed form
    same = traction_run_up_speed_kmh([10, 50, 150], Traction.constant(3.2))
    assert same == pytest.approx(run_up_speed_kmh([10, 50, 150], 3.2))


def test_power_speed_profile_and_bad_traction():
    speeds = speed_profile_kmh([0, 100, 200], [np.inf, 30, np.inf], CAR, 6.87, top_speed_kmh=160)
    assert speeds[1] == pytest.approx(30)
    assert speeds[2] == pytest.approx(
        traction_run_up_speed_kmh(100, CAR, start_speed_kmh=30, top_speed_kmh=160)
    )
    with pytest.raises(ParameterError, match="rolling resistance"):
        Traction(0.05, rolling_resistance=0.012)


def test_impact_envelope_hand_check():
    # 150 km/h along a perimeter, μ 0.7: turn radius v²/(μ g) ≈ 253 m; with 10 m of room the
    # fastest 45° impact is ~55 km/h and a 90° impact ~30 km/h (McHenry, reference hvm.md §3)
    lat = 0.7 * G_MS2
    v = impact_speed_at_angle_kmh(150.0, 0.0, 10.0, [90, 60, 45, 30, 15], lat_accel_ms2=lat,
                                  accel_ms2=3.2)  # fmt: skip
    assert v[0] == pytest.approx(ms_to_kmh(np.sqrt(lat * 10.0)), abs=0.01)  # 29.8
    assert v[2] == pytest.approx(55.1, abs=0.1)
    assert v[4] == 150.0  # glancing: the approach speed stands
    assert np.all(np.diff(v) >= 0)  # steeper is slower
    # a street straight at the perimeter: full speed only at its own heading; flattening
    # needs room as steepening does (the same arc), so 60° from 80° is turn-limited
    head_on = impact_speed_at_angle_kmh(60.0, 80.0, 5.0, [80, 60], lat_accel_ms2=lat,
                                        accel_ms2=3.2)  # fmt: skip
    flat = ms_to_kmh(np.sqrt(lat * 5.0 / (np.cos(np.radians(60)) - np.cos(np.radians(80)))))
    assert head_on[0] == pytest.approx(60.0)
    assert head_on[1] == pytest.approx(flat, abs=0.01) and flat < 60.0  # 34.7 km/h
    # slow enough to turn square on inside the room: the approach speed
    assert impact_speed_at_angle_kmh(20.0, 0.0, 10.0, 90, lat_accel_ms2=lat, accel_ms2=3.2) == 20
    # no room at all: no square impact from a line along the perimeter
    assert impact_speed_at_angle_kmh(150.0, 0.0, 0.0, 90, lat_accel_ms2=lat, accel_ms2=3.2) == 0


def test_flattening_needs_lateral_room_like_steepening():
    # Stade Louis-II e1 (review of issue 13): an M1 at 125 km/h arriving at 77° with 6 m of
    # room. Flattening to 15° at 125 km/h takes R (cos 15° − cos 77°) ≈ 0.74 × 175 m ≈ 130 m
    # of lateral room: with 6 m the glancing blow is slow, not 125 km/h.
    lat = 0.7 * G_MS2
    r = (125 / 3.6) ** 2 / lat
    assert r * (np.cos(np.radians(15)) - np.cos(np.radians(77))) == pytest.approx(130, abs=2)
    env = impact_envelope_kmh(125.0, 77.0, 6.0, [90, 60, 45, 30, 15], lat_accel_ms2=lat,
                              accel_ms2=3.2)[0]  # fmt: skip
    assert env[0] == pytest.approx(125.0)  # 77° lies in the 90° band (75-90°): the arrival itself
    # the 60° band (52.5-75°) is scored at its 75° edge, 2° of turn away: the arrival speed
    # (turning 2° needs only R (cos 75° - cos 77°) = 5.9 m of room), not 44 km/h at 60°
    assert r * (np.cos(np.radians(75)) - np.cos(np.radians(77))) < 6.0
    assert env[1] == pytest.approx(125.0)
    # 45° band at its 52.5° edge: turn-limited
    turn52 = ms_to_kmh(np.sqrt(lat * 6.0 / (np.cos(np.radians(52.5)) - np.cos(np.radians(77)))))
    assert env[2] == pytest.approx(turn52, abs=0.01)  # 37.3 km/h
    # glancing band at its 22.5° edge (0° is no impact): slow down, turn, then accelerate
    # 6 / sin 22.5° = 16 m straight: 36.1 km/h
    straight = ms_to_kmh(np.sqrt(2 * 3.2 * 6.0 / np.sin(np.radians(22.5))))
    assert env[4] == pytest.approx(straight, abs=0.01)
    assert env[2:].max() < 40.0
    # the same arc both ways: 30° either side of the heading asks the same room
    up, down = impact_speed_at_angle_kmh(125.0, 45.0, 6.0, [75.0, 15.0], lat_accel_ms2=lat,
                                         accel_ms2=0.0)  # fmt: skip
    cu, cd = (
        np.cos(np.radians(45)) - np.cos(np.radians(75)),
        np.cos(np.radians(15)) - np.cos(np.radians(45)),
    )
    assert up / down == pytest.approx(np.sqrt(cd / cu))


def test_envelope_bands_and_the_arrival_band():
    assert envelope_bands_deg([90, 60, 45, 30, 15]).tolist() == [
        [75.0, 90.0], [52.5, 75.0], [37.5, 52.5], [22.5, 37.5], [0.0, 22.5]]  # fmt: skip
    lat = 0.7 * G_MS2
    speeds = np.array([151.0, 69.0, 60.0, 80.0])
    heading = np.array([8.0, 74.0, 90.0, 37.5])
    env = impact_envelope_kmh(speeds, heading, 7.0, [90, 60, 45, 30, 15], lat_accel_ms2=lat,
                              accel_ms2=3.2)  # fmt: skip
    assert env.shape == (4, 5)
    # the arrival's own band always holds the arrival speed, and nothing exceeds it
    own = [env[0, 4], env[1, 1], env[2, 0], env[3, 2]]
    assert own == pytest.approx(speeds.tolist())
    assert np.all(env <= speeds[:, None] + 1e-9)
    # Senaatintori e0 (review): 69 km/h at 74° no longer reads 69 at 45/30/15°
    assert env[1, 2:].max() < 60.0
    # the arrival's own band holds the arrival speed, and so does a band whose edge is 1° away
    # (69 km/h at 74°: the 90° band's 75° edge); the rest are turn-limited
    assert np.isclose(env[:3], speeds[:3, None]).sum(axis=1).tolist() == [1, 2, 1]


def test_bands_are_scored_at_their_worst_edge_not_their_middle():
    # VDA review: Senaatintori e0, M1 151 km/h heading 8.6° with 7 m of room. The 45° test
    # must cover the 30° band down to 22.5°, where the car turns least: 97.9 km/h, not the
    # 71 km/h it reaches at 30°; the 60° band's 52.5° edge gives 40.5, not 35.7 at 60°.
    lat = 0.7 * G_MS2
    env = impact_envelope_kmh(151.0, 8.6, 7.0, [90, 60, 45, 30, 15], lat_accel_ms2=lat,
                              accel_ms2=3.2)[0]  # fmt: skip
    mid = impact_speed_at_angle_kmh(151.0, 8.6, 7.0, [90, 60, 45, 30], lat_accel_ms2=lat,
                                    accel_ms2=3.2)  # fmt: skip
    assert env[3] == pytest.approx(97.9, abs=0.1)
    assert mid[3] == pytest.approx(70.8, abs=0.5)
    assert env[1] == pytest.approx(40.5, abs=0.1)
    assert np.all(env[:4] > mid)  # every band's edge is faster than its middle
    assert env[4] == 151.0  # the arrival's own (glancing) band
    # each band's score is the maximum over the band (sampled every 0.1°)
    for k, (lo, hi) in enumerate(envelope_bands_deg([90, 60, 45, 30, 15])[:4]):
        inside = impact_speed_at_angle_kmh(151.0, 8.6, 7.0, np.arange(lo, hi + 1e-9, 0.1),
                                           lat_accel_ms2=lat, accel_ms2=3.2)  # fmt: skip
        assert env[k] == pytest.approx(inside.max(), rel=1e-9)


def test_normal_speed_is_bounded_by_lateral_acceleration_over_the_room():
    lat = 0.7 * G_MS2
    vn = normal_speed_kmh(150.0, 0.0, 10.0, lat_accel_ms2=lat, accel_ms2=0.0)
    assert vn == pytest.approx(ms_to_kmh(np.sqrt(2 * lat * 10.0)), abs=0.01)  # 42.2
    # never above the arcs' own normal components, at any angle
    angles = np.linspace(1, 90, 90)
    v = impact_speed_at_angle_kmh(150.0, 0.0, 10.0, angles, lat_accel_ms2=lat, accel_ms2=0.0)
    assert np.all(v * np.sin(np.radians(angles)) <= vn + 1e-6)
    # head-on approach: the whole speed is normal
    assert normal_speed_kmh(50.0, 90.0, 3.0, lat_accel_ms2=lat, accel_ms2=3.2) == 50.0
