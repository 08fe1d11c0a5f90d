"""Global parameters of the hostile-vehicle-mitigation analysis, read from ``defaults/hvm.toml``.

Every value carries its source in the file's ``[sources]`` table. A user TOML of the same layout
(:func:`cohesion_gis.params.load_params`) overrides values by name; unknown keys, wrong types and
impossible values are refused with a :class:`~cohesion_gis.errors.ParameterError` naming the file
and the field.

Each parameter is declared once, as a field of :class:`HvmParams` made by :func:`_param`: its
annotation gives the TOML type (``float`` a number, ``tuple[float, ...]`` a list of numbers, ...),
its metadata the description, the plausible :class:`~cohesion_gis._validate.Bound` of a number
(of each element of a list or table), a list's order and a string's choices. The checks, the
known keys and the class's ``Attributes`` are derived from the fields; the values and their
sources live in the TOML only.

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
from dataclasses import Field, dataclass, field, fields
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

__all__ = ["PARAMETERS", "HvmParams", "coerce", "kind_of", "parameter_bound"]

#: A 1-5 score (attractiveness).
_SCORE = Bound(1, 5, integer=True)
#: Each envelope or test angle (degrees): (0, 90], 90 = head-on.
_ANGLE = Bound(0.0, 90.0, "degrees", above=True)
#: Each test speed: ISO 22343-1 / PAS 68 test at 16-112 km/h; ratings are parsed up to 200 km/h.
_TEST_SPEED = Bound(0.0, 200.0, "km/h", above=True)
#: A list of speeds is strictly ascending, one of angles strictly descending.
_SPEEDS, _ANGLES = "ascending speeds", "descending angles"


def _param(
    doc: str,
    bound: Bound | None = None,
    *,
    order: str = "",
    example: str = "",
    choices: tuple[str, ...] = (),
    compare: bool = True,
    show: bool = True,
) -> Any:
    """Declare one parameter: a dataclass field whose metadata says what a valid value is.

    Parameters
    ----------
    doc
        What the value means, with its unit (the class docstring's entry).
    bound
        Plausible values of a number, or of each number of a list or table (reasons in
        docs/hvm.md, "Bounds").
    order
        A list's order, ``"ascending speeds"`` or ``"descending angles"`` (strict).
    example
        A valid list for messages (``"[32, 48, 64, 80]"``).
    choices
        The values a string may take.
    compare, show
        Whether the field takes part in ``==`` (mappings do not) and in ``repr``.
    """
    meta = {"doc": doc, "bound": bound, "order": order, "example": example, "choices": choices}
    return field(metadata=MappingProxyType(meta), compare=compare, repr=show)


@dataclass(frozen=True)
class HvmParams:
    """Global HVM parameters; load them with :func:`cohesion_gis.params.load_params`.

    The ``Attributes`` section below is written from each field's declaration.
    """

    friction_mu: float = _param(
        "Tyre-road friction coefficient (dimensionless) for bend caps and braking.",
        Bound(0.0, 2.0, above=True),
    )
    friction_mu_sensitivity: float = _param(
        "Friction coefficient of the sensitivity run (MIL-HDBK-1013/14 conservative value).",
        Bound(0.0, 2.0, above=True),
    )
    speed_allowance: float = _param(
        "Fractional allowance added to an impact speed before rounding up to a test speed.",
        Bound(0.0, 0.5),
    )
    test_speeds_kmh: tuple[float, ...] = _param(
        "Full-scale impact-test speeds (km/h), ascending, of every class not in "
        "``class_test_speeds_kmh``; a design speed is rounded up to one of these.",
        _TEST_SPEED, order=_SPEEDS, example="[32, 48, 64, 80]",
    )  # fmt: skip
    gap_limit_m: float = _param(
        "Largest air gap (m) allowed in a pedestrian-permeable barrier line.",
        Bound(0.0, 3.0, "m", above=True),
    )
    search_horizon_m: float = _param(
        "Vehicles start anywhere within this network distance (m) of a site's entries.",
        Bound(0.0, 5000.0, "m", above=True),
    )
    start_speed_kmh: float = _param(
        "Speed (km/h) of a vehicle at its start point (0: from rest).",
        Bound(0.0, 140.0, "km/h"),
    )
    kerb_radius_m: float = _param(
        "Inner kerb radius (m) of a bend when nothing better is known.", Bound(0.0, 100.0, "m")
    )
    width_clearance_m: float = _param(
        "A street is drivable for a class if its width is at least vehicle width + this (m).",
        Bound(0.0, 5.0, "m"),
    )
    angle_band_deg: float = _param(
        "Width (degrees) of impact-angle bands in reports.",
        Bound(0.0, 90.0, "degrees", above=True),
    )
    barrier_snap_m: float = _param(
        "A barrier element within the carriageway half-width plus this distance (m) of a street "
        "centreline stands on its carriageway.",
        Bound(0.0, 50.0, "m"),
    )
    footway_width_m: float = _param(
        "Hard-standing (m) assumed beyond each kerb where the ground is not known (no obstacles "
        "given, :func:`~cohesion_gis.hvm.barriers.street_closures`); with obstacles, a side with "
        "none within ``closure_reach_m`` is open and a line is not credited there.",
        Bound(0.0, 20.0, "m"),
    )
    closure_reach_m: float = _param(
        "Distance (m) from a street centreline within which a building, level change or water "
        "bounds the drivable cross-section a closure must span.",
        Bound(0.0, 100.0, "m", above=True),
    )
    block_unrated: bool = _param(
        "Whether unrated barriers stop vehicles (default ``False``: conservative)."
    )
    acceleration_model: str = _param(
        '``"power"`` (default): power-, drag- and rolling-resistance-limited acceleration per '
        'class; ``"constant"``: each class\'s constant acceleration up to its top speed (the '
        "reference's worked examples).",
        choices=("power", "constant"),
    )
    default_vehicle_classes: tuple[str, ...] = _param(
        "Vehicle classes analysed when none are given (at least one)."
    )
    speed_resolution_kmh: float = _param(
        "Resolution (km/h) of reported speeds; a design speed within half a step of a test "
        "speed counts as that test speed (the allowance is the margin, rounding adds none).",
        Bound(0.0, 10.0, "km/h", above=True),
    )
    impact_angles_deg: tuple[float, ...] = _param(
        'Impact angles (degrees, descending) of the impact envelope; the last is "glancing".',
        _ANGLE, order=_ANGLES, example="[90, 60, 45, 30, 15]",
    )  # fmt: skip
    test_angles_deg: tuple[float, ...] = _param(
        "Impact-test angles (degrees, descending) a requirement may ask for.",
        _ANGLE, order=_ANGLES, example="[90, 45]",
    )  # fmt: skip
    glancing_below_deg: float = _param(
        "Impacts at smaller angles (degrees) are glancing: no impact test covers them (speed "
        "management; a line of separate elements holds them up to this angle).",
        Bound(0.0, 89.0, "degrees"),
    )
    station_concourse_persons_m2: float = _param(
        "Persons per m² of a station's public floor at busy times "
        "(:mod:`~cohesion_gis.hvm.sites`).",
        Bound(0.0, 5.0, "persons/m²", above=True),
    )
    station_public_share: float = _param(
        "Share (0-1] of a station building's gross floor (footprint × levels) that is public "
        "concourse, ticket hall and waiting room.",
        Bound(0.0, 1.0, above=True),
    )
    level_change_min_height_m: float = _param(
        "A mapped retaining wall, city wall or wall at least this high (m, OSM ``height``) is a "
        "level change no vehicle mounts (:func:`~cohesion_gis.hvm.barriers.level_changes`).",
        Bound(0.0, 10.0, "m", above=True),
    )
    egress_minutes: float = _param(
        "Time (min) in which a stadium or arena releases its capacity into the streets.",
        Bound(0.0, 60.0, "min", above=True),
    )
    egress_persons_m2: float = _param(
        "Density (persons/m²) of the egress crowd outside the gates.",
        Bound(0.0, 7.0, "persons/m²", above=True),
    )
    egress_ring_m: float = _param(
        "Distance (m) from a stadium or arena within which the egress crowd is drawn and held.",
        Bound(0.0, 1000.0, "m", above=True),
    )
    horizon_slack: float = _param(
        "A run-up longer than (1 − this) × ``search_horizon_m`` is horizon-limited (unless the "
        "class is at its top speed): its speed is a lower bound.",
        Bound(0.0, 0.5),
    )
    vulnerability_steps_kmh: tuple[float, ...] = _param(
        "Design speeds (km/h, ascending) bounding the vulnerability bands 1-4 (above the last: "
        "5).",
        _TEST_SPEED, order=_SPEEDS, example="[16, 32, 48, 64]",
    )  # fmt: skip
    many_approaches: int = _param(
        "Open entries (count) from which a site counts as having many approaches "
        "(vulnerability + 1).",
        Bound(1, 100, "entries", integer=True),
    )
    priority_share: float = _param(
        "Top share (0-1] of sites by risk that are priority 1.", Bound(0.0, 1.0, above=True)
    )
    priority_speed_kmh: float = _param(
        "An open approach at least this fast (km/h) into a site holding at least "
        "``priority_persons`` makes it priority 1.",
        Bound(0.0, 200.0, "km/h", above=True),
    )
    priority_persons: int = _param(
        "Persons a site holds from which a fast approach (``priority_speed_kmh``) makes it "
        "priority 1.",
        Bound(0, 1_000_000, "persons", integer=True),
    )
    default_attractiveness: int = _param(
        "Attractiveness (1-5) of a site kind missing from ``attractiveness``.", _SCORE
    )
    attractiveness: Mapping[str, int] = _param(
        "Site kind → attractiveness (1-5) as a target.", _SCORE, compare=False
    )
    equivalence: Mapping[str, tuple[str, ...]] = _param(
        "Threat class → extra rated classes that cover it (empty: strict, own class only).",
        compare=False,
    )
    class_test_speeds_kmh: Mapping[str, tuple[float, ...]] = _param(
        "Class → its own test speeds (km/h, ascending), for a class the standard tests at other "
        "speeds than ``test_speeds_kmh`` (empty by default).",
        _TEST_SPEED, order=_SPEEDS, compare=False,
    )  # fmt: skip
    sources: Mapping[str, str] = _param(
        "Field name → source of its value.", compare=False, show=False
    )

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
        missing = [name for name in _KINDS if name not in table]
        problems += [f"missing field `{name}`" for name in missing]
        mistyped = [name for name in _KINDS if name in table and name not in values]
        if not missing:  # check the values of the well-typed fields too, in the same message
            blank = {k: _BLANK[_KINDS[k]] for k in mistyped}
            more = _value_problems(SimpleNamespace(**values, **blank))
            problems += [p for p in more if not any(f"`{k}" in p for k in mistyped)]
        raise_problems(ParameterError, label, problems, FIX_FILE)
        return cls(**values, sources=MappingProxyType(sources))


#: The TOML type each annotation stands for (``from __future__ import annotations``: as text).
_KIND_OF_ANNOTATION = {
    "float": "number", "int": "whole number", "bool": "boolean", "str": "string",
    "tuple[float, ...]": "list of numbers", "tuple[str, ...]": "list of strings",
    "Mapping[str, int]": "table of whole numbers",
    "Mapping[str, tuple[str, ...]]": "table of lists of strings",
    "Mapping[str, tuple[float, ...]]": "table of lists of numbers",
}  # fmt: skip


def kind_of(declared: Field[Any]) -> str:
    """The TOML type of a parameter field (``"number"``, ``"list of numbers"``, ...).

    Raises
    ------
    KeyError
        The field's annotation is not one a TOML value can fill.
    """
    return _KIND_OF_ANNOTATION[str(declared.type)]


#: The parameters (every field but ``sources``), in declaration order.
PARAMETERS: tuple[Field[Any], ...] = tuple(f for f in fields(HvmParams) if f.name != "sources")
#: Parameter name → its TOML type.
_KINDS: dict[str, str] = {f.name: kind_of(f) for f in PARAMETERS}


def parameter_bound(name: str) -> Bound:
    """The declared bound of a numeric parameter (for a class that takes the value over).

    Raises
    ------
    KeyError
        ``name`` is not a numeric parameter of :class:`HvmParams`.
    """
    bound = HvmParams.__dataclass_fields__[name].metadata["bound"]
    if not isinstance(bound, Bound):
        raise KeyError(name)
    return bound


def _attributes() -> str:
    """The numpydoc ``Attributes`` section of :class:`HvmParams`, from the fields' ``doc``."""
    lines = ["", "    Attributes", "    ----------"]
    for f in fields(HvmParams):
        lines += [f"    {f.name}", f"        {f.metadata['doc']}"]
    return "\n".join(lines) + "\n"


HvmParams.__doc__ = (HvmParams.__doc__ or "").rstrip() + "\n" + _attributes()


def _ordered(name: str, values: Any, meta: Mapping[str, Any]) -> list[str]:
    """Problems with a list of speeds (strictly ascending) or angles (strictly descending)."""
    bad = numbers_problems(name, values, meta["bound"], min_len=1)
    descending = meta["order"] == _ANGLES
    if not bad and list(values) != sorted(set(values), reverse=descending):
        example = meta["example"]
        bad.append(
            f"field `{name}` = {list(values)}; expected strictly {meta['order']}"
            + (f", e.g. {example}" if example else "")
        )
    return bad


def _value_problems(params: Any) -> list[str]:
    """Every impossible or implausible value of ``params``, named by field, in field order."""
    problems: list[str] = []
    for declared in PARAMETERS:
        name, meta, kind = declared.name, declared.metadata, _KINDS[declared.name]
        value = getattr(params, name)
        if kind in ("number", "whole number"):
            problems += [p for p in [number_problem(name, value, meta["bound"])] if p]
        elif kind == "list of numbers":
            problems += _ordered(name, value, meta)
        elif kind == "table of lists of numbers":
            for key, values in value.items():
                problems += _ordered(f"{name}.{key}", values, meta)
        elif kind == "table of whole numbers":
            problems += [
                p
                for key, number in value.items()
                if (p := number_problem(f"{name}.{key}", number, meta["bound"]))
            ]
        elif meta["choices"] and value not in meta["choices"]:
            wanted = " or ".join(f'"{c}"' for c in meta["choices"])
            problems.append(f"field `{name}` = {value!r}; expected {wanted}")
    if not params.default_vehicle_classes:
        problems.append("field `default_vehicle_classes` = []; expected at least one class name")
    return problems


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


#: Each scalar kind: does a TOML value fit, and how to convert it.
_SCALARS: dict[str, tuple[Callable[[Any], bool], Callable[[Any], Any]]] = {
    "number": (is_number, float), "whole number": (_is_whole, int),
    "boolean": (_is_bool, bool), "string": (_is_str, str),
}  # fmt: skip


def coerce(value: Any, kind: str) -> Any:
    """Convert a TOML value to ``kind`` (:func:`kind_of`); ``TypeError`` if it does not fit."""
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
                if name not in _KINDS:
                    problems.append(f"[sources] names unknown field {name!r}")
                elif not isinstance(text, str):
                    problems.append(f"field `sources.{name}` = {text!r}; expected a string")
                else:
                    sources[name] = text
        elif key not in _KINDS:
            problems.append(f"unknown key {key!r}; known keys: {', '.join(sorted(_KINDS))}")
        else:
            try:
                values[key] = coerce(raw, _KINDS[key])
            except TypeError:
                problems.append(f"field `{key}` = {raw!r}; expected a {_KINDS[key]}")
    return problems
