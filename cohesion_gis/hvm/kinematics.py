"""Vehicle kinematics of a vehicle dynamics assessment (VDA): run-up, bends, gradients, profiles.

Pure, vectorised functions of the quasi-steady point-mass model used in VDAs (reference hvm.md §3):
run-up acceleration (constant, or power- and drag-limited, :class:`Traction`), a speed cap in every
bend from the lateral-acceleration limit and the widest line the carriageway allows, braking before
bends, and a top-speed cap. Speeds are km/h at the interface (as planners and rating strings use
them), m/s inside; distances in metres; accelerations in m/s².

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
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from numba import njit

from cohesion_gis.errors import ParameterError

__all__ = [
    "AIR_DENSITY_KGM3",
    "G_MS2",
    "Traction",
    "advance_sq",
    "bend_radii_m",
    "bend_speed_kmh",
    "envelope_bands_deg",
    "graded_accel_ms2",
    "impact_envelope_kmh",
    "impact_speed_at_angle_kmh",
    "impact_speed_ms",
    "kinetic_energy_kj",
    "kmh_to_ms",
    "level_run_up_m",
    "level_speed_sq",
    "ms_to_kmh",
    "normal_speed_kmh",
    "profile_sq",
    "run_up_distance_m",
    "run_up_speed_kmh",
    "speed_profile_kmh",
    "traction_accel_ms2",
    "traction_model",
    "traction_run_up_distance_m",
    "traction_run_up_speed_kmh",
    "turn_angles_deg",
    "widest_line_radius_m",
]

#: Standard gravity (m/s²) as used by the reference's worked examples.
G_MS2 = 9.81
#: Air density (kg/m³): ISA sea level, 15 °C.
AIR_DENSITY_KGM3 = 1.225
#: Cells of the distance-to-speed table :func:`run_up_distance_table_m` (uniform in speed).
TABLE_CELLS = 2048
#: Step (m) of the fixed-step integration of the power model on graded ground.
GRADED_STEP_M = 2.0
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


@dataclass(frozen=True)
class Traction:
    r"""Run-up acceleration of a vehicle class as a function of speed and gradient.

    .. math::

        a(v) = \min\left(a_0,\ \frac{P}{m v}\right) - g\,(C_{rr}\cos\theta + \sin\theta)
               - \frac{\rho\, C_d A}{2 m} v^2, \qquad \theta = \arctan(\text{grade})

    With no power limit, drag or rolling resistance (:meth:`constant`) this is the constant
    acceleration :math:`a_0 - g\sin\theta` of the reference's worked examples.

    Attributes
    ----------
    accel_ms2
        :math:`a_0`, the traction (grip and gearing) limited acceleration at low speed (m/s²).
    power_w_per_kg
        :math:`P/m`, power delivered at the wheels per kilogram (W/kg); ``inf``: no power limit.
    drag_per_m
        :math:`\rho C_d A / (2 m)` (1/m); 0: no aerodynamic drag.
    rolling_resistance
        :math:`C_{rr}` (dimensionless).

    References
    ----------
    Reference hvm.md §3, "Power-limited acceleration (better at high speed)" and the note that
    heavy-truck best-effort acceleration falls off with speed (Stopper et al. 2010).
    """

    accel_ms2: float
    power_w_per_kg: float = math.inf
    drag_per_m: float = 0.0
    rolling_resistance: float = 0.0

    def __post_init__(self) -> None:
        if not (math.isfinite(self.accel_ms2) and self.accel_ms2 > 0):
            raise ParameterError(f"Traction: accel_ms2 must be > 0, got {self.accel_ms2!r}.")
        if not (self.power_w_per_kg > 0 and self.drag_per_m >= 0 and self.rolling_resistance >= 0):
            raise ParameterError(
                f"Traction: got power_w_per_kg={self.power_w_per_kg!r}, drag_per_m="
                f"{self.drag_per_m!r}, rolling_resistance={self.rolling_resistance!r}; expected "
                "power > 0 and drag, rolling resistance >= 0."
            )
        if self.accel_ms2 <= G_MS2 * self.rolling_resistance:
            raise ParameterError(
                f"Traction: accel_ms2 {self.accel_ms2:g} m/s² cannot overcome rolling resistance "
                f"{self.rolling_resistance:g} (g × C_rr = {G_MS2 * self.rolling_resistance:.3g} "
                "m/s²); raise accel_ms2 or lower rolling_resistance."
            )

    @classmethod
    def constant(cls, accel_ms2: float) -> Traction:
        """Constant acceleration ``accel_ms2`` on level ground (no power, drag or rolling limit)."""
        return cls(float(accel_ms2))

    @classmethod
    def power(
        cls,
        accel_ms2: float,
        *,
        power_kw: float,
        mass_kg: float,
        drag_area_m2: float,
        rolling_resistance: float,
    ) -> Traction:
        """Power- and drag-limited model from vehicle data (power at the wheels, C_d·A in m²)."""
        return cls(
            float(accel_ms2),
            power_w_per_kg=1000.0 * power_kw / mass_kg,
            drag_per_m=AIR_DENSITY_KGM3 * drag_area_m2 / (2.0 * mass_kg),
            rolling_resistance=float(rolling_resistance),
        )

    @property
    def is_constant(self) -> bool:
        """Whether this is the constant-acceleration model."""
        return (
            math.isinf(self.power_w_per_kg)
            and self.drag_per_m == 0
            and self.rolling_resistance == 0
        )

    def terminal_speed_kmh(self) -> float:
        """Speed (km/h) at which the level-ground acceleration reaches 0 (``inf`` if never)."""
        model = np.array([self.accel_ms2, self.power_w_per_kg, self.drag_per_m,
                          self.rolling_resistance])  # fmt: skip
        return float(_terminal_ms(model)) * 3.6


def traction_model(traction: Traction | float, top_speed_kmh: float = np.inf) -> FloatArray:
    """The compiled kernels' form of a traction model: parameters and distance table (internal).

    ``[a0, P/m, drag, C_rr, is_power, dv, D_0 … D_n]`` where ``D_i`` is the level-ground run-up
    distance (m) from rest to speed ``i · dv`` (m/s), ``n`` = :data:`TABLE_CELLS`, up to the top
    speed or 0.999 × the terminal speed, whichever is lower. The constant model has no table
    (zeros): its run-up has the closed form.
    """
    traction = traction if isinstance(traction, Traction) else Traction.constant(traction)
    model = np.zeros(_M_TABLE + TABLE_CELLS + 1)
    model[:4] = (traction.accel_ms2, traction.power_w_per_kg, traction.drag_per_m,
                 traction.rolling_resistance)  # fmt: skip
    if traction.is_constant:
        return model
    top_ms = float(top_speed_kmh) / 3.6
    v_hi = min(top_ms, 0.999 * _terminal_ms(model[:4]), 200.0)
    model[_M_POWER] = 1.0
    model[_M_DV] = v_hi / TABLE_CELLS
    model[_M_TABLE:] = _distance_table(model[:4], v_hi, TABLE_CELLS)
    return model


#: Layout of :func:`traction_model`.
_M_POWER, _M_DV, _M_TABLE = 4, 5, 6
#: Gauss-Legendre nodes and weights on [0, 1] (5 points, exact for degree-9 polynomials).
_GL_X = (0.5 - np.array([0.9061798459386640, 0.5384693101056831, 0.0, -0.5384693101056831,
                         -0.9061798459386640]) / 2)  # fmt: skip
_GL_W = np.array([0.2369268850561891, 0.4786286704993665, 0.5688888888888889,
                  0.4786286704993665, 0.2369268850561891]) / 2  # fmt: skip


@njit(cache=True)
def _accel(v: float, grade: float, model: FloatArray) -> float:  # pragma: no cover - numba
    """a(v) (m/s²) of :class:`Traction` at speed ``v`` (m/s) on a grade (rise over run)."""
    a0, pm, k, crr = model[0], model[1], model[2], model[3]
    drive = a0 if v * a0 <= pm else pm / v
    if grade == 0.0:
        resist = G_MS2 * crr
    else:
        theta = math.atan(grade)
        resist = G_MS2 * (crr * math.cos(theta) + math.sin(theta))
    return drive - resist - k * v * v


@njit(cache=True)
def _terminal_ms(model: FloatArray) -> float:  # pragma: no cover - numba
    """Level-ground speed (m/s) where a(v) = 0 (bisection; a is decreasing); inf if none."""
    lo, hi = 0.0, 1000.0
    if _accel(hi, 0.0, model) > 0:
        return np.inf
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if _accel(mid, 0.0, model) > 0:
            lo = mid
        else:
            hi = mid
    return lo


@njit(cache=True)
def _cell_integral(v0: float, v1: float, model: FloatArray) -> float:  # pragma: no cover
    """∫ v / a(v) dv over [v0, v1] by 5-point Gauss-Legendre."""
    total = 0.0
    for j in range(5):
        v = v0 + (v1 - v0) * _GL_X[j]
        total += _GL_W[j] * v / _accel(v, 0.0, model)
    return total * (v1 - v0)


@njit(cache=True)
def _distance_table(model: FloatArray, v_hi: float, n: int) -> FloatArray:  # pragma: no cover
    """D(v_i) = ∫₀^{v_i} v / a(v) dv (m) at v_i = i · v_hi / n, each cell split at the kink."""
    kink = model[1] / model[0]  # P/(m a0): where the power limit takes over
    table = np.zeros(n + 1)
    dv = v_hi / n
    for i in range(n):
        v0, v1 = i * dv, (i + 1) * dv
        if v0 < kink < v1:
            cell = _cell_integral(v0, kink, model) + _cell_integral(kink, v1, model)
        else:
            cell = _cell_integral(v0, v1, model)
        table[i + 1] = table[i] + cell
    return table


@njit(cache=True)
def level_run_up_m(u: float, model: FloatArray) -> float:  # pragma: no cover - numba
    """Level run-up distance D (m) from rest to squared speed ``u`` (linear in u per cell)."""
    n = model.size - _M_TABLE - 1
    dv = model[_M_DV]
    i = int(math.sqrt(u) / dv)
    if i >= n:
        return model[_M_TABLE + n]
    u0 = (i * dv) ** 2
    u1 = ((i + 1) * dv) ** 2
    d0 = model[_M_TABLE + i]
    return d0 + (model[_M_TABLE + i + 1] - d0) * (u - u0) / (u1 - u0)


@njit(cache=True)
def level_speed_sq(dist: float, model: FloatArray) -> float:  # pragma: no cover - numba
    """Squared speed (m²/s²) after a level run-up ``dist`` from rest (:func:`level_run_up_m`⁻¹)."""
    n = model.size - _M_TABLE - 1
    dv = model[_M_DV]
    if dist >= model[_M_TABLE + n]:
        return (n * dv) ** 2
    lo, hi = 0, n  # table[lo] <= dist < table[hi]
    while hi - lo > 1:
        mid = (lo + hi) >> 1
        if model[_M_TABLE + mid] <= dist:
            lo = mid
        else:
            hi = mid
    d0 = model[_M_TABLE + lo]
    u0 = (lo * dv) ** 2
    u1 = (hi * dv) ** 2
    return u0 + (dist - d0) / (model[_M_TABLE + hi] - d0) * (u1 - u0)


@njit(cache=True)
def advance_sq(
    u: float, length: float, grade: float, model: FloatArray
) -> float:  # pragma: no cover
    """Squared speed (m²/s²) after ``length`` m from squared speed ``u`` (no caps).

    Constant model: closed form ``max(0, u + 2 (a0 - g sin θ) L)``. Power model on level ground:
    the distance table, ``D⁻¹(D(v0) + L)``; on a grade: midpoint (RK2) integration of
    ``du/ds = 2 a(v)`` in steps of at most :data:`GRADED_STEP_M`.
    """
    if model[_M_POWER] == 0.0:
        a = model[0] if grade == 0.0 else model[0] - G_MS2 * math.sin(math.atan(grade))
        return max(0.0, u + 2.0 * a * length)
    if grade == 0.0:
        return level_speed_sq(level_run_up_m(u, model) + length, model)
    n = max(1, math.ceil(length / GRADED_STEP_M))
    h = length / n
    for _ in range(n):
        mid = max(0.0, u + _accel(math.sqrt(u), grade, model) * h)
        u = max(0.0, u + 2.0 * _accel(math.sqrt(mid), grade, model) * h)
    return u


def traction_accel_ms2(
    speed_kmh: ArrayLike, traction: Traction, *, grade: ArrayLike = 0.0
) -> FloatArray:
    r"""Acceleration a(v) (m/s²) of a :class:`Traction` model at a speed and grade.

    Parameters
    ----------
    speed_kmh
        Speed (km/h).
    traction
        The acceleration model.
    grade
        Rise over run in the direction of travel (0.05 = 5 % uphill).

    Examples
    --------
    >>> car = Traction.power(3.2, power_kw=100, mass_kg=1500, drag_area_m2=0.7,
    ...                      rolling_resistance=0.012)
    >>> round(float(traction_accel_ms2(100, car)), 2)  # P/(m v) - g C_rr - drag
    2.06
    """
    model = np.array([traction.accel_ms2, traction.power_w_per_kg, traction.drag_per_m,
                      traction.rolling_resistance])  # fmt: skip
    v, g = np.broadcast_arrays(kmh_to_ms(speed_kmh), np.asarray(grade, float))
    flat = [_accel(float(a), float(b), model) for a, b in zip(v.ravel(), g.ravel(), strict=True)]
    return np.array(flat).reshape(v.shape)


def traction_run_up_distance_m(
    speed_kmh: ArrayLike,
    traction: Traction,
    *,
    start_speed_kmh: ArrayLike = 0.0,
    top_speed_kmh: float = np.inf,
) -> FloatArray:
    r"""Level run-up distance (m) from ``start_speed_kmh`` to ``speed_kmh`` under a(v).

    .. math::

        d = D(v) - D(v_0), \qquad D(v) = \int_0^v \frac{w}{a(w)}\,dw

    tabulated per class (:data:`TABLE_CELLS` cells, each integrated exactly to quadrature
    precision, linear in v² inside a cell). Speeds above the top speed (or the terminal speed)
    are taken at it.
    """
    model = traction_model(traction, top_speed_kmh)
    u, u0 = np.broadcast_arrays(kmh_to_ms(speed_kmh) ** 2, kmh_to_ms(start_speed_kmh) ** 2)
    if model[_M_POWER] == 0.0:
        return np.maximum(u - u0, 0.0) / (2.0 * traction.accel_ms2)
    d = [max(level_run_up_m(a, model) - level_run_up_m(b, model), 0.0)
         for a, b in zip(u.ravel(), u0.ravel(), strict=True)]  # fmt: skip
    return np.array(d).reshape(u.shape)


def traction_run_up_speed_kmh(
    run_up_m: ArrayLike,
    traction: Traction,
    *,
    start_speed_kmh: float = 0.0,
    top_speed_kmh: float = np.inf,
    grade: float = 0.0,
) -> FloatArray:
    """Speed (km/h) after a straight run-up under a :class:`Traction` model, capped at top speed.

    Level ground: ``D⁻¹(D(v0) + L)`` from the distance table; on a grade a fixed-step
    integration (:func:`advance_sq`). With :meth:`Traction.constant` this equals
    :func:`run_up_speed_kmh`.
    """
    model = traction_model(traction, top_speed_kmh)
    top2 = float(kmh_to_ms(top_speed_kmh)) ** 2
    u0 = min(float(kmh_to_ms(start_speed_kmh)) ** 2, top2)
    lengths = np.asarray(run_up_m, float)
    out = [min(advance_sq(u0, float(d), float(grade), model), top2) for d in lengths.ravel()]
    return ms_to_kmh(np.sqrt(np.array(out))).reshape(lengths.shape)


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
    """Compiled core of :func:`bend_radii_m` on distances, signed turns (rad) and widths.

    Turns are merged greedily from each end of the polyline in turn, and every vertex takes the
    larger of its two radii: a bend does not depend on the direction the street was drawn or
    walked in (one direction alone changed Helsinki arrival speeds by up to 14 km/h when the
    nodes were renumbered, issue 17), and the wider reading is the faster one (conservative).
    """
    n = dist.size
    radius = np.full(n, np.inf)
    forward = _greedy_bends(dist, turn, width, kerb, False)
    backward = _greedy_bends(dist, turn, width, kerb, True)
    for k in range(n):
        radius[k] = max(forward[k], backward[k])
    return radius


@njit(cache=True)
def _greedy_bends(
    dist: FloatArray, turn: FloatArray, width: FloatArray, kerb: float, reverse: bool
) -> FloatArray:  # pragma: no cover - numba
    """Bend radius per vertex; same-direction turns merged greedily from the first vertex on.

    With ``reverse`` from the last vertex back.
    """
    n = dist.size
    radius = np.full(n, np.inf)
    i = 1
    while i < n - 1:
        a = n - 1 - i if reverse else i
        if abs(turn[a]) < MIN_TURN_RAD:
            i += 1
            continue
        first = a
        last = a
        total = turn[a]
        w = width[a]
        r_group = _group_radius(abs(dist[last] - dist[first]), abs(total), w, kerb)
        j = i + 1
        while j < n - 1:
            b = n - 1 - j if reverse else j
            if abs(turn[b]) < MIN_TURN_RAD:
                j += 1
                continue
            if turn[b] * total < 0:
                break
            r_j = widest_radius(turn[b], width[b], width[b], kerb)
            reach = _tangent(r_group, abs(total), w) + _tangent(r_j, abs(turn[b]), width[b])
            if abs(dist[b] - dist[last]) >= reach:
                break
            last = b
            total += turn[b]
            w = min(w, width[b])
            r_group = _group_radius(abs(dist[last] - dist[first]), abs(total), w, kerb)
            j += 1
        for k in range(min(first, last), max(first, last) + 1):
            radius[k] = r_group
        i = (n - 1 - last if reverse else last) + 1
    return radius


def speed_profile_kmh(
    distance_m: ArrayLike,
    cap_kmh: ArrayLike,
    traction: Traction | float,
    braking_ms2: float,
    *,
    grade: ArrayLike = 0.0,
    start_speed_kmh: float = 0.0,
    top_speed_kmh: float = np.inf,
) -> FloatArray:
    r"""Speed (km/h) at every vertex of a path: accelerate forward, cap at bends, brake backward.

    Forward pass (acceleration-limited, capped at each vertex's bend cap and the top speed), then
    backward pass (the vehicle must be able to brake down to every later cap), in squared speed
    :math:`u = v^2`:

    .. math::

        u_{i+1} &= \min\left(c_{i+1}^2,\ v_{top}^2,\ A(u_i, \Delta s_i, \text{grade}_i)\right)

        u_i &\leftarrow \min\left(u_i,\ u_{i+1} + 2 b \Delta s_i\right)

    where :math:`A` advances a run-up by :math:`\Delta s_i` (:func:`advance_sq`: closed form for
    constant acceleration, the distance table or a 2 m-step integration for the power model).
    No braking is needed at the last vertex (the impact point), so its speed is the forward-pass
    value: the arrival speed is exactly the run-up speed under the caps.

    Parameters
    ----------
    distance_m
        Cumulative distance (m) of the vertices along the path, shape (n,), non-decreasing.
    cap_kmh
        Bend cap at each vertex (km/h), shape (n,); ``inf`` where there is none.
    traction
        Acceleration model (:class:`Traction`), or a constant acceleration (m/s²) on level
        ground.
    braking_ms2
        Braking deceleration (m/s², > 0).
    grade
        Rise over run of each segment in the direction of travel, scalar or shape (n - 1,).
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
    grades = np.broadcast_to(np.asarray(grade, float), (max(n - 1, 0),)).astype(float)
    model = traction_model(traction, top_speed_kmh)
    v0 = float(kmh_to_ms(start_speed_kmh))
    return ms_to_kmh(np.sqrt(profile_sq(dist, cap2, grades, model, float(braking_ms2), v0 * v0)))


@njit(cache=True)
def profile_sq(  # noqa: PLR0917 (numba has no keyword-only arguments)
    dist: FloatArray,
    cap2: FloatArray,
    grade: FloatArray,
    model: FloatArray,
    braking: float,
    start2: float,
) -> FloatArray:  # pragma: no cover - numba
    """Compiled core of :func:`speed_profile_kmh` in squared speeds (m²/s²)."""
    n = dist.size
    v2 = np.empty(n)
    if n == 0:
        return v2
    v2[0] = min(start2, cap2[0])
    for i in range(1, n):
        v2[i] = min(cap2[i], advance_sq(v2[i - 1], dist[i] - dist[i - 1], grade[i - 1], model))
    for i in range(n - 2, -1, -1):
        ds = dist[i + 1] - dist[i]
        v2[i] = min(v2[i], v2[i + 1] + 2.0 * braking * ds)
    return v2


def impact_speed_at_angle_kmh(
    approach_kmh: ArrayLike,
    approach_angle_deg: ArrayLike,
    lateral_room_m: ArrayLike,
    impact_angle_deg: ArrayLike,
    *,
    lat_accel_ms2: ArrayLike,
    accel_ms2: ArrayLike,
) -> FloatArray:
    r"""Fastest speed (km/h) at which a vehicle can strike a perimeter at a given angle.

    A vehicle arrives at speed :math:`v_a` heading at :math:`\theta_0` to the perimeter (0:
    driving along it, 90: straight at it) with :math:`y` metres of hard-standing between its
    line and the perimeter (the far half of the carriageway, the kerb and the footway up to
    the crowd edge; a kerb mount costs no speed, conservative). To strike at any other angle
    :math:`\theta` it must turn inside that room, steeper (towards the perimeter) or flatter
    (away from the normal): turning at the lateral limit :math:`a_{lat}` on an arc of radius
    :math:`R = v^2 / a_{lat}` from :math:`\theta_0` to :math:`\theta` moves it
    :math:`R\,|\cos\theta_0 - \cos\theta|` towards the perimeter either way (the barrier
    impact-angle equation, McHenry; reference hvm.md §3 "Departure angle"), so

    .. math::

        v(\theta) = \min\Big(v_a,\ \max\Big(\sqrt{\frac{a_{lat}\, y}
        {|\cos\theta_0 - \cos\theta|}},\ \sqrt{\frac{2 a_0 y}{\sin\theta}}\Big)\Big)

    and :math:`v(\theta_0) = v_a`. The second term is the other end of the trade-off (slow
    down, turn, then accelerate at :math:`a_0` straight across the room along the new
    heading); the impact speed is linear in the turn speed squared, so one of the two ends is
    the fastest. A vehicle running straight at the perimeter cannot flatten to a glancing
    blow at speed any more than one running along it can turn square on. Hand checks: 150
    km/h along the perimeter (:math:`\theta_0 = 0`), μ 0.7 (turn radius 253 m), 10 m of room:
    45° at 55 km/h, 90° at 30 km/h; 125 km/h at 77° with 6 m of room: 60° at 44 km/h (not
    125: flattening at 125 km/h needs about 130 m to 15°).

    Parameters
    ----------
    approach_kmh
        Speed on arrival at the entry (km/h).
    approach_angle_deg
        Heading to the perimeter on arrival (degrees, 0-90).
    lateral_room_m
        Hard-standing between the vehicle's line and the perimeter (m).
    impact_angle_deg
        Impact angle asked for (degrees, 0-90).
    lat_accel_ms2
        Lateral-acceleration limit (m/s²): ``min(lat_accel, μ g)`` of the class.
    accel_ms2
        Straight-line acceleration a0 (m/s²) of the class.

    Returns
    -------
    numpy.ndarray
        Impact speed (km/h), broadcast over the inputs.

    References
    ----------
    Reference hvm.md §3 (departure angle vs speed, ``cos θ = 1 − y μ g / v²``; McHenry Software,
    *Barrier impact angle equation*); MIL-HDBK-1013/14 eq. 6.
    """
    args = np.broadcast_arrays(
        kmh_to_ms(approach_kmh), np.radians(np.asarray(approach_angle_deg, float)),
        np.asarray(lateral_room_m, float), np.radians(np.asarray(impact_angle_deg, float)),
        np.asarray(lat_accel_ms2, float), np.asarray(accel_ms2, float),
    )  # fmt: skip
    flat = [np.ascontiguousarray(a, dtype=float).ravel() for a in args]
    return ms_to_kmh(_impact_speeds(*flat).reshape(args[0].shape))


def envelope_bands_deg(angles_deg: ArrayLike) -> FloatArray:
    """The band of impact angles (degrees) each envelope angle stands for, as ``(lo, hi)`` rows.

    Bands meet half-way between neighbouring envelope angles and span 0-90° together: with the
    defaults 90/60/45/30/15 they are 75-90, 52.5-75, 37.5-52.5, 22.5-37.5 and 0-22.5 (the
    glancing band ends where ``glancing_below_deg`` does, the 45° band where a 45° test's
    cover does).

    >>> envelope_bands_deg([90, 60, 45, 30, 15]).tolist()
    [[75.0, 90.0], [52.5, 75.0], [37.5, 52.5], [22.5, 37.5], [0.0, 22.5]]
    """
    angles = np.asarray(angles_deg, float)
    order = np.argsort(angles)
    sorted_ = angles[order]
    edges = np.concatenate([[0.0], (sorted_[1:] + sorted_[:-1]) / 2, [90.0]])
    bands = np.empty((angles.size, 2))
    bands[order, 0], bands[order, 1] = edges[:-1], edges[1:]
    return bands


def impact_envelope_kmh(
    approach_kmh: ArrayLike,
    approach_angle_deg: ArrayLike,
    lateral_room_m: ArrayLike,
    angles_deg: ArrayLike,
    *,
    lat_accel_ms2: ArrayLike,
    accel_ms2: ArrayLike,
) -> FloatArray:
    r"""The impact envelope (km/h): fastest impact in each angle band, one column per angle.

    Each envelope angle stands for its band (:func:`envelope_bands_deg`) and is scored at the
    band's worst point, never its middle. The band holding the arrival heading
    :math:`\theta_0` takes the arrival speed (the vehicle need not turn); every other band takes
    the faster of :func:`impact_speed_at_angle_kmh` at its two edges: the turn term is fastest
    at the edge nearest :math:`\theta_0` (least turning), the straight-run term at the
    shallower edge, so the faster edge is the band's maximum. A 0° edge is no impact and is
    not scored: the glancing band is scored at its upper edge (22.5° with the defaults, the
    angle the glancing finding uses). Senaatintori's M1 at 151 km/h along the square
    (8.6°, 7 m of room) strikes the 30° band at its 22.5° edge at 98 km/h, not 71 at 30°; an
    arrival at 77° strikes the 60° band at its 75° edge at nearly the arrival speed.

    Parameters are those of :func:`impact_speed_at_angle_kmh` (1-D, one per approach), with
    ``angles_deg`` the envelope angles.

    Returns
    -------
    numpy.ndarray
        Shape ``(approaches, angles)``.
    """
    bands = envelope_bands_deg(angles_deg)
    theta0 = np.atleast_1d(np.asarray(approach_angle_deg, float))[:, None]
    inside = (theta0 >= bands[:, 0]) & ((theta0 < bands[:, 1]) | (bands[:, 1] >= 90.0))
    lower = np.where(bands[:, 0] > 0.0, bands[:, 0], bands[:, 1])  # a 0° edge is no impact
    column = [np.atleast_1d(np.asarray(x, float))[:, None] for x in
              (approach_kmh, lateral_room_m, lat_accel_ms2, accel_ms2)]  # fmt: skip
    at_edge = [
        impact_speed_at_angle_kmh(
            column[0], theta0, column[1], edge[None, :], lat_accel_ms2=column[2],
            accel_ms2=column[3],
        )
        for edge in (lower, bands[:, 1])
    ]  # fmt: skip
    return np.where(inside, column[0], np.maximum(*at_edge))


def normal_speed_kmh(
    approach_kmh: ArrayLike,
    approach_angle_deg: ArrayLike,
    lateral_room_m: ArrayLike,
    *,
    lat_accel_ms2: ArrayLike,
    accel_ms2: ArrayLike,
) -> FloatArray:
    r"""Largest speed component (km/h) normal to the perimeter at impact, over every angle.

    The normal velocity grows only by acceleration towards the perimeter, at most
    :math:`a_n = \sqrt{a_{lat}^2 + a_0^2}` (turning plus driving), over the room :math:`y`:

    .. math::

        v_n \le \min\Big(v_a,\ \sqrt{(v_a \sin\theta_0)^2 + 2\, a_n\, y}\Big)

    Parameters are those of :func:`impact_speed_at_angle_kmh` without the angle. Hand check:
    150 km/h along the perimeter, μ 0.7, 10 m: 42 km/h normal (about 44 with a car's a0).
    """
    v = kmh_to_ms(approach_kmh)
    s = np.sin(np.radians(np.asarray(approach_angle_deg, float)))
    a_n = np.hypot(np.asarray(lat_accel_ms2, float), np.asarray(accel_ms2, float))
    room = np.maximum(np.asarray(lateral_room_m, float), 0.0)
    return ms_to_kmh(np.minimum(v, np.sqrt((v * s) ** 2 + 2.0 * a_n * room)))


@njit(cache=True)
def impact_speed_ms(  # noqa: PLR0917 (numba has no keyword-only arguments)
    v_a: float, th0: float, room: float, th: float, a_lat: float, a0: float
) -> float:  # pragma: no cover - numba
    """Compiled core of :func:`impact_speed_at_angle_kmh` (m/s, radians)."""
    turned = abs(math.cos(th0) - math.cos(th))
    if turned <= 1e-12:
        return v_a
    room = max(room, 0.0)
    turn = math.sqrt(a_lat * room / turned)
    straight = math.sqrt(2.0 * a0 * room / max(math.sin(th), 1e-9))
    return min(v_a, max(turn, straight))


@njit(cache=True)
def _impact_speeds(  # noqa: PLR0917 (numba has no keyword-only arguments)
    v_a: FloatArray,
    th0: FloatArray,
    room: FloatArray,
    th: FloatArray,
    a_lat: FloatArray,
    a0: FloatArray,
) -> FloatArray:  # pragma: no cover - numba
    out = np.empty(v_a.size)
    for i in range(v_a.size):
        out[i] = impact_speed_ms(v_a[i], th0[i], room[i], th[i], a_lat[i], a0[i])
    return out
