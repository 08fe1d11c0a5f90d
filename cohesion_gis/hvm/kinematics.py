"""Vehicle kinematics of a vehicle dynamics assessment (VDA): run-up, bends, gradients, profiles.

Pure, vectorised functions of the quasi-steady point-mass model used in VDAs (reference hvm.md §3):
constant acceleration on a run-up, a speed cap in every bend from the lateral-acceleration limit
and the widest line the carriageway allows, braking before bends, and a top-speed cap. Speeds are
km/h at the interface (as planners and rating strings use them), m/s inside; distances in metres;
accelerations in m/s².

References
----------
- HVM research brief, reference hvm.md §3 (formulas, worked examples), §8.3 (method).
- MIL-HDBK-1013/14, *Selection and Application of Vehicle Barriers*, eqs. 5-6 (skid speed,
  ``v = sqrt(μ g R)``).
- THREAT Pro methodology (ikirugai/threat-docs): bend speed by the widest line the carriageway
  allows.

Examples
--------
>>> from cohesion_gis.hvm.kinematics import run_up_distance_m, run_up_speed_kmh
>>> round(float(run_up_speed_kmh(50.0, 3.2)))  # M1 after 50 m from rest
64
>>> round(float(run_up_distance_m(48.0, 2.0)))  # N2A run-up to 48 km/h
44
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from numba import njit

__all__ = [
    "G_MS2",
    "bend_radii_m",
    "bend_speed_kmh",
    "graded_accel_ms2",
    "kinetic_energy_kj",
    "kmh_to_ms",
    "ms_to_kmh",
    "run_up_distance_m",
    "run_up_speed_kmh",
    "speed_profile_kmh",
    "turn_angles_deg",
    "widest_line_radius_m",
]

#: Standard gravity (m/s²) as used by the reference's worked examples.
G_MS2 = 9.81
#: Turns smaller than this (radians, 0.5°) are digitising noise, not bends.
MIN_TURN_RAD = math.radians(0.5)

ArrayLike = npt.ArrayLike
FloatArray = npt.NDArray[np.float64]


def kmh_to_ms(speed_kmh: ArrayLike) -> FloatArray:
    """Convert km/h to m/s."""
    return np.asarray(speed_kmh, dtype=float) / 3.6


def ms_to_kmh(speed_ms: ArrayLike) -> FloatArray:
    """Convert m/s to km/h."""
    return np.asarray(speed_ms, dtype=float) * 3.6


def run_up_speed_kmh(
    run_up_m: ArrayLike,
    accel_ms2: ArrayLike,
    *,
    start_speed_kmh: ArrayLike = 0.0,
    top_speed_kmh: ArrayLike = np.inf,
) -> FloatArray:
    r"""Speed after a straight run-up at constant acceleration, capped at top speed.

    .. math::

        v = \\min\\left(v_{top},\\ \\sqrt{\\max(0,\\ v_0^2 + 2 a d)}\right)

    Parameters
    ----------
    run_up_m
        Run-up distance ``d`` (m).
    accel_ms2
        Acceleration ``a`` (m/s²); negative values (e.g. uphill) slow the vehicle, not below 0.
    start_speed_kmh
        Speed ``v0`` at the start of the run-up (km/h).
    top_speed_kmh
        Speed cap (km/h).

    Returns
    -------
    numpy.ndarray
        Speed (km/h).

    References
    ----------
    Reference hvm.md §3, "Straight-line run-up"; worked example table (M1 at 3.2 m/s²: 64 km/h
    after 50 m).
    """
    v0 = kmh_to_ms(start_speed_kmh)
    v2 = np.maximum(v0**2 + 2.0 * np.asarray(accel_ms2, float) * np.asarray(run_up_m, float), 0)
    return np.minimum(ms_to_kmh(np.sqrt(v2)), np.asarray(top_speed_kmh, float))


def run_up_distance_m(
    speed_kmh: ArrayLike, accel_ms2: ArrayLike, *, start_speed_kmh: ArrayLike = 0.0
) -> FloatArray:
    r"""Run-up distance needed to reach a speed at constant acceleration.

    .. math::

        d = \frac{v^2 - v_0^2}{2 a}

    Parameters
    ----------
    speed_kmh
        Target speed ``v`` (km/h).
    accel_ms2
        Acceleration ``a`` (m/s², > 0).
    start_speed_kmh
        Start speed ``v0`` (km/h); a target at or below it needs 0 m.

    Returns
    -------
    numpy.ndarray
        Distance (m).

    References
    ----------
    Reference hvm.md §3, "Run-up needed to reach 32 / 48 / 64 / 80 km/h" (M1: 12 / 28 / 49 / 77 m).
    """
    v = kmh_to_ms(speed_kmh)
    v0 = kmh_to_ms(start_speed_kmh)
    return np.maximum(v**2 - v0**2, 0.0) / (2.0 * np.asarray(accel_ms2, float))


def kinetic_energy_kj(mass_kg: ArrayLike, speed_kmh: ArrayLike) -> FloatArray:
    r"""Kinetic energy (kJ) of a vehicle.

    .. math::

        E = \tfrac{1}{2} m v^2

    References
    ----------
    Reference hvm.md §2, "Kinetic energy at common rating points" (7 200 kg at 48 km/h: 640 kJ).
    """
    return 0.5 * np.asarray(mass_kg, float) * kmh_to_ms(speed_kmh) ** 2 / 1000.0


def graded_accel_ms2(accel_ms2: ArrayLike, grade: ArrayLike) -> FloatArray:
    r"""Acceleration on a gradient (uphill positive), as from a DEM-derived grade.

    .. math::

        a_{eff} = a - g \\sin\theta, \\qquad \theta = \arctan(\text{grade})

    Parameters
    ----------
    accel_ms2
        Level-ground acceleration (m/s²).
    grade
        Rise over run in the direction of travel (0.05 = 5 % uphill; negative downhill).

    References
    ----------
    Reference hvm.md §3, "Gradient θ (uphill +)" (M1 over 50 m: 69 / 64 / 59 km/h at
    -5 / 0 / +5 %).
    """
    theta = np.arctan(np.asarray(grade, float))
    return np.asarray(accel_ms2, float) - G_MS2 * np.sin(theta)


def widest_line_radius_m(
    turn_deg: ArrayLike,
    width_m: ArrayLike,
    width_out_m: ArrayLike | None = None,
    *,
    kerb_radius_m: ArrayLike = 6.0,
) -> FloatArray:
    r"""Radius (m) of the widest (racing) line through a bend, using the whole carriageway.

    The line is the circle tangent to the outer edges of the road before and after the bend and
    to the inner kerb, a circle of radius :math:`r_k` (outside → apex → outside). With equal
    widths this is the reference's formula

    .. math::

        R = r_k + \frac{w}{1 - \\cos(\\Delta/2)}

    (90°, 7 m, :math:`r_k` = 6 m: R = 29.9 m). With different widths :math:`w_1, w_2` before
    and after the bend, R is the larger root of

    .. math::

        \\sin^2(\tfrac{\\Delta}{2}) R^2 - 2 (m - c^2 r_k) R
        + m^2 - c^2 r_k^2 + \\left(\frac{c (w_2 - w_1)}{2 \\sin(\\Delta/2)}\right)^2 = 0,

    with :math:`c = \\cos(\\Delta/2)` and :math:`m = r_k + (w_1 + w_2)/2` (exact for straight
    road edges; it reduces to the formula above when :math:`w_1 = w_2`). Heading changes above
    180° are taken as 180° (the outer edge of a hairpin).

    Parameters
    ----------
    turn_deg
        Heading change Δ (degrees, sign ignored); 0 gives an infinite radius.
    width_m
        Carriageway width before the bend (m).
    width_out_m
        Carriageway width after the bend (m); ``None``: same as ``width_m``.
    kerb_radius_m
        Inner kerb radius :math:`r_k` (m); reference default 6 m when unknown.

    Returns
    -------
    numpy.ndarray
        Radius (m); ``inf`` for a straight.

    References
    ----------
    Reference hvm.md §3, "Widest line through a bend" [A, derived] and §8.3.3; THREAT Pro
    methodology ("the widest line the carriageway allows").
    """
    w1 = np.asarray(width_m, float)
    w2 = w1 if width_out_m is None else np.asarray(width_out_m, float)
    delta = np.radians(np.asarray(turn_deg, float))
    arrays = np.broadcast_arrays(delta, w1, w2, np.asarray(kerb_radius_m, float))
    flat = [np.ascontiguousarray(x, dtype=float).ravel() for x in arrays]
    return _widest_many(*flat).reshape(arrays[0].shape)


@njit(cache=True)
def widest_radius(delta: float, w1: float, w2: float, kerb: float) -> float:  # pragma: no cover
    """Scalar compiled core of :func:`widest_line_radius_m` (``delta`` in radians)."""
    delta = min(abs(delta), math.pi)
    if delta < MIN_TURN_RAD:
        return np.inf
    c = math.cos(delta / 2.0)
    s = math.sin(delta / 2.0)
    m = kerb + (w1 + w2) / 2.0
    b = -2.0 * (m - c * c * kerb)
    k = m * m - c * c * kerb * kerb + (c * (w2 - w1) / (2.0 * s)) ** 2
    return (-b + math.sqrt(max(b * b - 4.0 * s * s * k, 0.0))) / (2.0 * s * s)


@njit(cache=True)
def _widest_many(
    delta: FloatArray, w1: FloatArray, w2: FloatArray, kerb: FloatArray
) -> FloatArray:  # pragma: no cover - numba
    out = np.empty(delta.size)
    for i in range(delta.size):
        out[i] = widest_radius(delta[i], w1[i], w2[i], kerb[i])
    return out


def bend_speed_kmh(radius_m: ArrayLike, lat_accel_ms2: ArrayLike) -> FloatArray:
    r"""Highest speed (km/h) through a bend of radius R at a lateral-acceleration limit.

    .. math::

        v = \sqrt{a_{lat} R}, \qquad a_{lat} = \min(\mu g,\ SRT \cdot g)

    References
    ----------
    MIL-HDBK-1013/14 eq. 6 (``sqrt(μ g R)``); reference hvm.md §3 "Cornering limit" (R = 30 m,
    μ = 0.7: 52 km/h; truck SRT 0.35: 37 km/h).
    """
    return ms_to_kmh(np.sqrt(np.asarray(lat_accel_ms2, float) * np.asarray(radius_m, float)))


def turn_angles_deg(xy: ArrayLike) -> FloatArray:
    """Signed heading change (degrees, left positive) at every vertex of a polyline.

    Parameters
    ----------
    xy
        Vertex coordinates, shape (n, 2), in a metric CRS.

    Returns
    -------
    numpy.ndarray
        Shape (n,); 0 at both ends and at repeated vertices.
    """
    pts = np.asarray(xy, float)
    out = np.zeros(len(pts))
    if len(pts) < 3:
        return out
    d = np.diff(pts, axis=0)
    heading = np.arctan2(d[:, 1], d[:, 0])
    turn = np.angle(np.exp(1j * (heading[1:] - heading[:-1])))
    zero = (np.hypot(d[1:, 0], d[1:, 1]) == 0) | (np.hypot(d[:-1, 0], d[:-1, 1]) == 0)
    out[1:-1] = np.where(zero, 0.0, np.degrees(turn))
    return out


def bend_radii_m(xy: ArrayLike, width_m: ArrayLike, *, kerb_radius_m: float = 6.0) -> FloatArray:
    r"""Widest-line radius (m) at every vertex of a street polyline, merging digitised curves.

    A curve drawn as many small turns is one bend: consecutive same-direction turns whose
    widest lines overlap (the vertices are closer than the sum of the two tangent lengths
    :math:`(R - w/2)\tan(\\Delta/2)`) are merged into a bend with the total heading change, an
    inner kerb radius :math:`\\max(r_c - w/2,\\ r_k)` where :math:`r_c` is the drawn centreline
    radius (arc length over heading change), and the narrowest width in it. Every vertex of a
    bend gets the bend's radius; straights get ``inf``. Turns in opposite directions (S-bends,
    chicanes) stay separate bends, which over-estimates speed (conservative).

    Parameters
    ----------
    xy
        Vertex coordinates, shape (n, 2), metric CRS.
    width_m
        Carriageway width (m): one value, or one per segment (shape (n - 1,)).
    kerb_radius_m
        Inner kerb radius of a sharp corner (m).

    Returns
    -------
    numpy.ndarray
        Radius per vertex (m), shape (n,); ``inf`` at both ends.

    References
    ----------
    Reference hvm.md §3 "Widest line through a bend", §8.3.3 ("along edges, compute polyline
    curvature similarly"); THREAT Pro methodology ("not by how the map draws the bend").
    """
    pts = np.asarray(xy, float)
    n = len(pts)
    seg_w = np.broadcast_to(np.asarray(width_m, float), (max(n - 1, 0),)).copy()
    if n < 3:
        return np.full(n, np.inf)
    seg_len = np.hypot(*np.diff(pts, axis=0).T)
    dist = np.concatenate([[0.0], np.cumsum(seg_len)])
    turn = np.radians(turn_angles_deg(pts))
    vertex_w = np.concatenate([[seg_w[0]], np.minimum(seg_w[:-1], seg_w[1:]), [seg_w[-1]]])
    return group_bend_radii(dist, turn, vertex_w, float(kerb_radius_m))


@njit(cache=True)
def _tangent(radius: float, delta: float, width: float) -> float:  # pragma: no cover - numba
    """Approximate length along the centreline the widest line of a bend needs on each side."""
    return max(radius - width / 2.0, 0.0) * math.tan(min(delta, math.radians(170.0)) / 2.0)


@njit(cache=True)
def _group_radius(arc: float, total: float, width: float, kerb: float) -> float:  # pragma: no cover
    """Radius of a merged bend: arc length ``arc`` (m) along the drawn curve, turn ``total``."""
    inner = max(arc / total - width / 2.0, kerb) if arc > 0 else kerb
    return widest_radius(total, width, width, inner)


@njit(cache=True)
def group_bend_radii(
    dist: FloatArray, turn: FloatArray, width: FloatArray, kerb: float
) -> FloatArray:  # pragma: no cover - numba
    """Compiled core of :func:`bend_radii_m` on distances, signed turns (rad) and widths."""
    n = dist.size
    radius = np.full(n, np.inf)
    i = 1
    while i < n - 1:
        if abs(turn[i]) < MIN_TURN_RAD:
            i += 1
            continue
        first = i
        last = i
        total = turn[i]
        w = width[i]
        r_group = _group_radius(dist[last] - dist[first], abs(total), w, kerb)
        j = i + 1
        while j < n - 1:
            if abs(turn[j]) < MIN_TURN_RAD:
                j += 1
                continue
            if turn[j] * total < 0:
                break
            r_j = widest_radius(turn[j], width[j], width[j], kerb)
            reach = _tangent(r_group, abs(total), w) + _tangent(r_j, abs(turn[j]), width[j])
            if dist[j] - dist[last] >= reach:
                break
            last = j
            total += turn[j]
            w = min(w, width[j])
            r_group = _group_radius(dist[last] - dist[first], abs(total), w, kerb)
            j += 1
        for k in range(first, last + 1):
            radius[k] = r_group
        i = last + 1
    return radius


def speed_profile_kmh(
    distance_m: ArrayLike,
    cap_kmh: ArrayLike,
    accel_ms2: ArrayLike,
    braking_ms2: float,
    *,
    start_speed_kmh: float = 0.0,
    top_speed_kmh: float = np.inf,
) -> FloatArray:
    r"""Speed (km/h) at every vertex of a path: accelerate forward, cap at bends, brake backward.

    Forward pass (acceleration-limited, capped at each vertex's bend cap and the top speed), then
    backward pass (the vehicle must be able to brake down to every later cap):

    .. math::

        v_{i+1}^2 &= \\min\\left(c_{i+1}^2,\\ v_{top}^2,\
                     \\max(0,\\ v_i^2 + 2 a_i \\Delta s_i)\right)

        v_i^2 &\\leftarrow \\min\\left(v_i^2,\\ v_{i+1}^2 + 2 b \\Delta s_i\right)

    No braking is needed at the last vertex (the impact point), so its speed is the forward-pass
    value: the arrival speed is exactly the run-up speed under the caps.

    Parameters
    ----------
    distance_m
        Cumulative distance (m) of the vertices along the path, shape (n,), non-decreasing.
    cap_kmh
        Bend cap at each vertex (km/h), shape (n,); ``inf`` where there is none.
    accel_ms2
        Acceleration (m/s²), scalar or one per segment (shape (n - 1,)), e.g. from
        :func:`graded_accel_ms2`.
    braking_ms2
        Braking deceleration (m/s², > 0).
    start_speed_kmh
        Speed at the first vertex (km/h), itself capped.
    top_speed_kmh
        Speed cap (km/h).

    Returns
    -------
    numpy.ndarray
        Speed (km/h) at each vertex.

    References
    ----------
    Reference hvm.md §3, "Speed profile along a path: quasi-steady-state forward/backward
    passes".
    """
    dist = np.asarray(distance_m, float)
    n = dist.size
    cap2 = np.minimum(kmh_to_ms(cap_kmh), kmh_to_ms(top_speed_kmh)) ** 2
    cap2 = np.broadcast_to(cap2, (n,)).astype(float)
    accel = np.broadcast_to(np.asarray(accel_ms2, float), (max(n - 1, 0),)).astype(float)
    v0 = float(kmh_to_ms(start_speed_kmh))
    return ms_to_kmh(np.sqrt(_profile_sq(dist, cap2, accel, float(braking_ms2), v0 * v0)))


@njit(cache=True)
def _profile_sq(
    dist: FloatArray, cap2: FloatArray, accel: FloatArray, braking: float, start2: float
) -> FloatArray:  # pragma: no cover - numba
    n = dist.size
    v2 = np.empty(n)
    if n == 0:
        return v2
    v2[0] = min(start2, cap2[0])
    for i in range(1, n):
        ds = dist[i] - dist[i - 1]
        v2[i] = min(cap2[i], max(0.0, v2[i - 1] + 2.0 * accel[i - 1] * ds))
    for i in range(n - 2, -1, -1):
        ds = dist[i + 1] - dist[i]
        v2[i] = min(v2[i], v2[i + 1] + 2.0 * braking * ds)
    return v2
