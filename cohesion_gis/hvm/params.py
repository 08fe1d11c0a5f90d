"""Global parameters of the hostile-vehicle-mitigation analysis, read from ``defaults/hvm.toml``.

Every value carries its source in the file's ``[sources]`` table. A user TOML of the same layout
(:func:`cohesion_gis.params.load_params`) overrides values by name; unknown keys, wrong types and
impossible values are refused with a :class:`~cohesion_gis.errors.ParameterError` naming the file
and the field.

Examples
--------
>>> from cohesion_gis.hvm.params import HvmParams
>>> from cohesion_gis.params import load_params
>>> params = load_params(HvmParams)
>>> params.friction_mu, params.speed_allowance, params.test_speeds_kmh
(0.7, 0.1, (32.0, 48.0, 64.0, 80.0))
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from types import MappingProxyType, SimpleNamespace
from typing import Any, ClassVar

from cohesion_gis._validate import (
    Bound,
    is_number,
    number_problem,
    numbers_problems,
    raise_problems,
)
from cohesion_gis.errors import ParameterError
from cohesion_gis.params import FIX_FILE

__all__ = ["HvmParams", "coerce"]


@dataclass(frozen=True)
class HvmParams:
    """Global HVM parameters; load them with :func:`cohesion_gis.params.load_params`.

    Attributes
    ----------
    friction_mu
        Tyre-road friction coefficient (dimensionless) for bend caps and braking.
    friction_mu_sensitivity
        Friction coefficient of the sensitivity run (MIL-HDBK-1013/14 conservative value).
    speed_allowance
        Fractional allowance added to an impact speed before rounding up to a test speed.
    test_speeds_kmh
        Full-scale impact-test speeds (km/h), ascending, of every class not in
        ``class_test_speeds_kmh``; a design speed is rounded up to one of these.
    gap_limit_m
        Largest air gap (m) allowed in a pedestrian-permeable barrier line.
    search_horizon_m
        Vehicles start anywhere within this network distance (m) of a site's entries.
    start_speed_kmh
        Speed (km/h) of a vehicle at its start point (0: from rest).
    kerb_radius_m
        Inner kerb radius (m) of a bend when nothing better is known.
    width_clearance_m
        A street is drivable for a class if its width is at least vehicle width + this (m).
    angle_band_deg
        Width (degrees) of impact-angle bands in reports.
    barrier_snap_m
        A barrier element within the carriageway half-width plus this distance (m) of a street
        centreline stands on its carriageway.
    footway_width_m
        Hard-standing (m) assumed beyond each kerb where the ground is not known (no obstacles
        given, :func:`~cohesion_gis.hvm.barriers.street_closures`); with obstacles, a side with
        none within ``closure_reach_m`` is open and a line is not credited there.
    closure_reach_m
        Distance (m) from a street centreline within which a building, level change or water
        bounds the drivable cross-section a closure must span.
    block_unrated
        Whether unrated barriers stop vehicles (default ``False``: conservative).
    acceleration_model
        ``"power"`` (default): power-, drag- and rolling-resistance-limited acceleration per class;
        ``"constant"``: each class's constant acceleration up to its top speed (the reference's
        worked examples).
    default_vehicle_classes
        Vehicle classes analysed when none are given.
    speed_resolution_kmh
        Resolution (km/h) of reported speeds; a design speed within half a step of a test speed
        counts as that test speed (the allowance is the margin, rounding adds none).
    impact_angles_deg
        Impact angles (degrees, descending) of the impact envelope; the last is "glancing".
    test_angles_deg
        Impact-test angles (degrees, descending) a requirement may ask for.
    glancing_below_deg
        Impacts at smaller angles (degrees) are glancing: no impact test covers them (speed
        management; a line of separate elements holds them up to this angle).
    station_concourse_persons_m2
        Persons per m² of a station's public floor at busy times (:mod:`~cohesion_gis.hvm.sites`).
    station_public_share
        Share (0-1] of a station building's gross floor (footprint × levels) that is public
        concourse, ticket hall and waiting room.
    level_change_min_height_m
        A mapped retaining wall, city wall or wall at least this high (m, OSM ``height``) is a
        level change no vehicle mounts (:func:`~cohesion_gis.hvm.barriers.level_changes`).
    egress_minutes
        Time (min) in which a stadium or arena releases its capacity into the streets.
    egress_persons_m2
        Density (persons/m²) of the egress crowd outside the gates.
    egress_ring_m
        Distance (m) from a stadium or arena within which the egress crowd is drawn and held.
    horizon_slack
        A run-up longer than (1 − this) × ``search_horizon_m`` is horizon-limited (unless the
        class is at its top speed): its speed is a lower bound.
    vulnerability_steps_kmh
        Design speeds (km/h, ascending) bounding the vulnerability bands 1-4 (above the last: 5).
    many_approaches
        Open entries (count) from which a site counts as having many approaches
        (vulnerability + 1).
    priority_share
        Top share (0-1] of sites by risk that are priority 1.
    priority_speed_kmh, priority_persons
        An open approach at least this fast (km/h) into a site holding at least this many
        persons makes it priority 1.
    default_attractiveness
        Attractiveness (1-5) of a site kind missing from ``attractiveness``.
    attractiveness
        Site kind → attractiveness (1-5) as a target.
    equivalence
        Threat class → extra rated classes that cover it (empty: strict, own class only).
    class_test_speeds_kmh
        Class → its own test speeds (km/h, ascending), for a class the standard tests at other
        speeds than ``test_speeds_kmh`` (empty by default).
    sources
        Field name → source of its value.
    """

    friction_mu: float
    friction_mu_sensitivity: float
    speed_allowance: float
    test_speeds_kmh: tuple[float, ...]
    gap_limit_m: float
    search_horizon_m: float
    start_speed_kmh: float
    kerb_radius_m: float
    width_clearance_m: float
    angle_band_deg: float
    barrier_snap_m: float
    footway_width_m: float
    closure_reach_m: float
    block_unrated: bool
    acceleration_model: str
    default_vehicle_classes: tuple[str, ...]
    speed_resolution_kmh: float
    impact_angles_deg: tuple[float, ...]
    test_angles_deg: tuple[float, ...]
    glancing_below_deg: float
    station_concourse_persons_m2: float
    station_public_share: float
    level_change_min_height_m: float
    egress_minutes: float
    egress_persons_m2: float
    egress_ring_m: float
    horizon_slack: float
    vulnerability_steps_kmh: tuple[float, ...]
    many_approaches: int
    priority_share: float
    priority_speed_kmh: float
    priority_persons: int
    default_attractiveness: int
    attractiveness: Mapping[str, int] = field(compare=False)
    equivalence: Mapping[str, tuple[str, ...]] = field(compare=False)
    class_test_speeds_kmh: Mapping[str, tuple[float, ...]] = field(compare=False)
    sources: Mapping[str, str] = field(compare=False, repr=False)

    PACKAGED: ClassVar[str] = "hvm.toml"
    OPEN_TABLES: ClassVar[tuple[str, ...]] = (
        "attractiveness", "equivalence", "class_test_speeds_kmh"
    )  # fmt: skip

    def __post_init__(self) -> None:
        raise_problems(ParameterError, "HVM parameters", _value_problems(self), "Fix the value(s)")

    @classmethod
    def from_table(cls, table: Mapping[str, Any], label: str, problems: list[str]) -> HvmParams:
        """Build from a full ``hvm.toml`` table (use :func:`cohesion_gis.params.load_params`).

        Raises
        ------
        ParameterError
            ``problems``, and every missing or unknown key, wrong type, non-finite or
            implausible value, in one message.
        """
        values: dict[str, Any] = {}
        sources: dict[str, str] = {}
        problems = problems + _fill(table, values, sources)
        names = [f.name for f in fields(cls) if f.name != "sources"]
        missing = [name for name in names if name not in table]
        problems += [f"missing field `{name}`" for name in missing]
        mistyped = [name for name in names if name in table and name not in values]
        if not missing:  # check the values of the well-typed fields too, in the same message
            blank = {k: _BLANK[_TYPES[k]] for k in mistyped}
            more = _value_problems(SimpleNamespace(**values, **blank))
            problems += [p for p in more if not any(f"`{k}" in p for k in mistyped)]
        raise_problems(ParameterError, label, problems, FIX_FILE)
        return cls(**values, sources=MappingProxyType(sources))


#: A 1-5 score (attractiveness).
_SCORE = Bound(1, 5, integer=True)
#: Plausible bounds of the numeric parameters (reasons in docs/hvm.md, "Parameter bounds").
_BOUNDS: dict[str, Bound] = {
    "friction_mu": Bound(0.0, 2.0, above=True),  # racing tyres on dry asphalt stay below 2
    "friction_mu_sensitivity": Bound(0.0, 2.0, above=True),
    "speed_allowance": Bound(0.0, 0.5),  # practice is +5-15 %
    "gap_limit_m": Bound(0.0, 3.0, "m", above=True),  # DfT TAL 01/11: 1.2 m
    "search_horizon_m": Bound(0.0, 5000.0, "m", above=True),  # top speed within 1,000 m
    "start_speed_kmh": Bound(0.0, 140.0, "km/h"),  # highest posted European limit (Poland)
    "kerb_radius_m": Bound(0.0, 100.0, "m"),
    "width_clearance_m": Bound(0.0, 5.0, "m"),
    "angle_band_deg": Bound(0.0, 90.0, "degrees", above=True),
    "barrier_snap_m": Bound(0.0, 50.0, "m"),
    "footway_width_m": Bound(0.0, 20.0, "m"),  # a boulevard's promenade
    "closure_reach_m": Bound(0.0, 100.0, "m", above=True),
    "speed_resolution_kmh": Bound(0.0, 10.0, "km/h", above=True),
    "glancing_below_deg": Bound(0.0, 89.0, "degrees"),
    "station_concourse_persons_m2": Bound(0.0, 5.0, "persons/m²", above=True),  # Fruin LOS F
    "station_public_share": Bound(0.0, 1.0, above=True),
    "level_change_min_height_m": Bound(0.0, 10.0, "m", above=True),
    "egress_minutes": Bound(0.0, 60.0, "min", above=True),
    "egress_persons_m2": Bound(0.0, 7.0, "persons/m²", above=True),  # static critical ~7
    "egress_ring_m": Bound(0.0, 1000.0, "m", above=True),
    "horizon_slack": Bound(0.0, 0.5),
    "many_approaches": Bound(1, 100, "entries", integer=True),
    "priority_share": Bound(0.0, 1.0, above=True),
    "priority_speed_kmh": Bound(0.0, 200.0, "km/h", above=True),
    "priority_persons": Bound(0, 1_000_000, "persons", integer=True),
    "default_attractiveness": _SCORE,
}
#: Each envelope or test angle (degrees): (0, 90], 90 = head-on.
_ANGLE = Bound(0.0, 90.0, "degrees", above=True)
#: Each test speed: ISO 22343-1 / PAS 68 test at 16-112 km/h; ratings are parsed up to 200 km/h.
_TEST_SPEED = Bound(0.0, 200.0, "km/h", above=True)


def _ordered(name: str, values: Any, *, example: str = "") -> list[str]:
    """Problems with a list of speeds (strictly ascending) or angles (strictly descending)."""
    angles = name.endswith("_deg")
    bad = numbers_problems(name, values, _ANGLE if angles else _TEST_SPEED, min_len=1)
    if not bad and list(values) != sorted(set(values), reverse=angles):
        order = "descending angles" if angles else "ascending speeds"
        bad.append(
            f"field `{name}` = {list(values)}; expected strictly {order}"
            + (f", e.g. {example}" if example else "")
        )
    return bad


def _value_problems(params: Any) -> list[str]:
    """Every impossible or implausible value of ``params``, named by field."""
    problems = [
        p
        for name, bound in _BOUNDS.items()
        if (p := number_problem(name, getattr(params, name), bound))
    ]
    problems += _ordered("test_speeds_kmh", params.test_speeds_kmh, example="[32, 48, 64, 80]")
    for cls, values in params.class_test_speeds_kmh.items():
        problems += _ordered(f"class_test_speeds_kmh.{cls}", values)
    problems += _ordered(
        "vulnerability_steps_kmh", params.vulnerability_steps_kmh, example="[16, 32, 48, 64]"
    )
    problems += [
        p
        for kind, score in params.attractiveness.items()
        if (p := number_problem(f"attractiveness.{kind}", score, _SCORE))
    ]
    for name in ("impact_angles_deg", "test_angles_deg"):
        problems += _ordered(name, getattr(params, name), example="[90, 60, 45, 30, 15]")
    if params.acceleration_model not in {"power", "constant"}:
        problems.append(
            f"field `acceleration_model` = {params.acceleration_model!r}; expected "
            '"power" or "constant"'
        )
    if not params.default_vehicle_classes:
        problems.append("field `default_vehicle_classes` = []; expected at least one class name")
    return problems


_TYPES: dict[str, str] = {
    "friction_mu": "number",
    "friction_mu_sensitivity": "number",
    "speed_allowance": "number",
    "test_speeds_kmh": "list of numbers",
    "gap_limit_m": "number",
    "search_horizon_m": "number",
    "start_speed_kmh": "number",
    "kerb_radius_m": "number",
    "width_clearance_m": "number",
    "angle_band_deg": "number",
    "barrier_snap_m": "number",
    "footway_width_m": "number",
    "closure_reach_m": "number",
    "block_unrated": "boolean",
    "acceleration_model": "string",
    "default_vehicle_classes": "list of strings",
    "speed_resolution_kmh": "number",
    "impact_angles_deg": "list of numbers",
    "test_angles_deg": "list of numbers",
    "glancing_below_deg": "number",
    "station_concourse_persons_m2": "number",
    "station_public_share": "number",
    "level_change_min_height_m": "number",
    "egress_minutes": "number",
    "egress_persons_m2": "number",
    "egress_ring_m": "number",
    "horizon_slack": "number",
    "vulnerability_steps_kmh": "list of numbers",
    "many_approaches": "whole number",
    "priority_share": "number",
    "priority_speed_kmh": "number",
    "priority_persons": "whole number",
    "default_attractiveness": "whole number",
    "attractiveness": "table of whole numbers",
    "equivalence": "table of lists of strings",
    "class_test_speeds_kmh": "table of lists of numbers",
}


#: A value of each kind that stands in for a mistyped one while the others are checked.
_BLANK: dict[str, Any] = {
    "number": 0.0, "whole number": 0, "boolean": False, "string": "", "list of numbers": (),
    "list of strings": (), "table of whole numbers": {},
    "table of lists of strings": {}, "table of lists of numbers": {},
}  # fmt: skip


def _is_str(value: Any) -> bool:
    return isinstance(value, str)


def _is_whole(value: Any) -> bool:
    """A TOML number with no fractional part (``3`` or ``3.0``)."""
    return is_number(value) and math.isfinite(value) and float(value).is_integer()


def _is_bool(value: Any) -> bool:
    return isinstance(value, bool)


#: Each scalar kind of ``_TYPES``: does a TOML value fit, and how to convert it.
_SCALARS: dict[str, tuple[Callable[[Any], bool], Callable[[Any], Any]]] = {
    "number": (is_number, float), "whole number": (_is_whole, int),
    "boolean": (_is_bool, bool), "string": (_is_str, str),
}  # fmt: skip


def coerce(value: Any, kind: str) -> Any:
    """Convert a TOML value to ``kind`` (see ``_TYPES``); raise ``TypeError`` if it does not fit."""
    element = kind.removeprefix("table of ").removeprefix("lists of ").removeprefix("list of ")
    fits, cast = _SCALARS[element.removesuffix("s") if element != kind else kind]
    if element == kind and fits(value):
        return cast(value)
    if kind.startswith("list of ") and isinstance(value, list) and all(map(fits, value)):
        return tuple(map(cast, value))
    if kind.startswith("table of ") and isinstance(value, dict):
        lists = kind.startswith("table of lists of ")
        if lists and all(isinstance(v, list) and all(map(fits, v)) for v in value.values()):
            return MappingProxyType({k: tuple(map(cast, v)) for k, v in value.items()})
        if not lists and all(map(fits, value.values())):
            return MappingProxyType({k: cast(v) for k, v in value.items()})
    raise TypeError(kind)


def _fill(table: Mapping[str, Any], values: dict[str, Any], sources: dict[str, str]) -> list[str]:
    """Validate a parsed hvm TOML table and merge it into ``values`` and ``sources``."""
    problems = []
    for key, raw in table.items():
        if key == "sources":
            if not isinstance(raw, dict):
                problems.append(f"field `sources` = {raw!r}; expected a table of strings")
                continue
            for name, text in raw.items():
                if name not in _TYPES:
                    problems.append(f"[sources] names unknown field {name!r}")
                elif not isinstance(text, str):
                    problems.append(f"field `sources.{name}` = {text!r}; expected a string")
                else:
                    sources[name] = text
        elif key not in _TYPES:
            problems.append(f"unknown key {key!r}; known keys: {', '.join(sorted(_TYPES))}")
        else:
            try:
                values[key] = coerce(raw, _TYPES[key])
            except TypeError:
                problems.append(f"field `{key}` = {raw!r}; expected a {_TYPES[key]}")
    return problems
