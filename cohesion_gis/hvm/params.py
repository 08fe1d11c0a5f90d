"""Global parameters of the hostile-vehicle-mitigation analysis, read from ``defaults/hvm.toml``.

Every value carries its source in the file's ``[sources]`` table. A user TOML of the same layout
(:func:`cohesion_gis.params.load_params`) overrides values by name; unknown keys, wrong types and
impossible values are refused with a :class:`~cohesion_gis.errors.ParameterError` naming the file
and the field.

Each parameter is declared once, as a field of :class:`HvmParams` made by
:func:`cohesion_gis.params.param`: its annotation gives the TOML type (``float`` a number,
``tuple[float, ...]`` a list of numbers, ...), its metadata the description, the plausible
:class:`~cohesion_gis._validate.Bound` of a number (of each element of a list or table), a
list's order and a string's choices. The checks, the known keys and the class's ``Attributes``
are derived from the fields; the values and their sources live in the TOML only.

Examples
--------
>>> from cohesion_gis.hvm.params import HvmParams
>>> from cohesion_gis.params import load_params
>>> params = load_params(HvmParams)
>>> params.friction_mu, params.speed_allowance, params.test_speeds_kmh
(0.7, 0.1, (32.0, 48.0, 64.0, 80.0))
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import Field, dataclass, fields
from types import MappingProxyType
from typing import Any, ClassVar

from cohesion_gis._validate import Bound, raise_problems
from cohesion_gis.errors import ParameterError
from cohesion_gis.params import (
    ASCENDING,
    DESCENDING,
    FIX_FILE,
    field_problems,
    param,
    read_fields,
    with_attributes,
)

__all__ = ["PARAMETERS", "HvmParams"]

#: A 1-5 score (attractiveness).
_SCORE = Bound(1, 5, integer=True)
#: Each envelope or test angle (degrees): (0, 90], 90 = head-on.
_ANGLE = Bound(0.0, 90.0, "degrees", above=True)
#: Each test speed: ISO 22343-1 / PAS 68 test at 16-112 km/h; ratings are parsed up to 200 km/h.
_TEST_SPEED = Bound(0.0, 200.0, "km/h", above=True)


@with_attributes
@dataclass(frozen=True)
class HvmParams:
    """Global HVM parameters; load them with :func:`cohesion_gis.params.load_params`.

    The ``Attributes`` section below is written from each field's declaration
    (:func:`cohesion_gis.params.with_attributes`).
    """

    friction_mu: float = param(
        "Tyre-road friction coefficient (dimensionless) for bend caps and braking.",
        Bound(0.0, 2.0, above=True),
    )
    friction_mu_sensitivity: float = param(
        "Friction coefficient of the sensitivity run (MIL-HDBK-1013/14 conservative value).",
        Bound(0.0, 2.0, above=True),
    )
    speed_allowance: float = param(
        "Fractional allowance added to an impact speed before rounding up to a test speed.",
        Bound(0.0, 0.5),
    )
    test_speeds_kmh: tuple[float, ...] = param(
        "Full-scale impact-test speeds (km/h), ascending, of every class not in "
        "``class_test_speeds_kmh``; a design speed is rounded up to one of these.",
        _TEST_SPEED, order=ASCENDING, example="[32, 48, 64, 80]",
    )  # fmt: skip
    gap_limit_m: float = param(
        "Largest air gap (m) allowed in a pedestrian-permeable barrier line.",
        Bound(0.0, 3.0, "m", above=True),
    )
    search_horizon_m: float = param(
        "Vehicles start anywhere within this network distance (m) of a site's entries.",
        Bound(0.0, 5000.0, "m", above=True),
    )
    start_speed_kmh: float = param(
        "Speed (km/h) of a vehicle at its start point (0: from rest).",
        Bound(0.0, 140.0, "km/h"),
    )
    kerb_radius_m: float = param(
        "Inner kerb radius (m) of a bend when nothing better is known.", Bound(0.0, 100.0, "m")
    )
    width_clearance_m: float = param(
        "A street is drivable for a class if its width is at least vehicle width + this (m).",
        Bound(0.0, 5.0, "m"),
    )
    angle_band_deg: float = param(
        "Width (degrees) of impact-angle bands in reports.",
        Bound(0.0, 90.0, "degrees", above=True),
    )
    barrier_snap_m: float = param(
        "A barrier element within the carriageway half-width plus this distance (m) of a street "
        "centreline stands on its carriageway.",
        Bound(0.0, 50.0, "m"),
    )
    footway_width_m: float = param(
        "Hard-standing (m) assumed beyond each kerb where the ground is not known (no obstacles "
        "given, :func:`~cohesion_gis.hvm.barriers.street_closures`); with obstacles, a side with "
        "none within ``closure_reach_m`` is open and a line is not credited there.",
        Bound(0.0, 20.0, "m"),
    )
    closure_reach_m: float = param(
        "Distance (m) from a street centreline within which a building, level change or water "
        "bounds the drivable cross-section a closure must span.",
        Bound(0.0, 100.0, "m", above=True),
    )
    block_unrated: bool = param(
        "Whether unrated barriers stop vehicles (default ``False``: conservative)."
    )
    acceleration_model: str = param(
        '``"power"`` (default): power-, drag- and rolling-resistance-limited acceleration per '
        'class; ``"constant"``: each class\'s constant acceleration up to its top speed (the '
        "reference's worked examples).",
        choices=("power", "constant"),
    )
    default_vehicle_classes: tuple[str, ...] = param(
        "Vehicle classes analysed when none are given (at least one)."
    )
    speed_resolution_kmh: float = param(
        "Resolution (km/h) of reported speeds; a design speed within half a step of a test "
        "speed counts as that test speed (the allowance is the margin, rounding adds none).",
        Bound(0.0, 10.0, "km/h", above=True),
    )
    impact_angles_deg: tuple[float, ...] = param(
        'Impact angles (degrees, descending) of the impact envelope; the last is "glancing".',
        _ANGLE, order=DESCENDING, example="[90, 60, 45, 30, 15]",
    )  # fmt: skip
    test_angles_deg: tuple[float, ...] = param(
        "Impact-test angles (degrees, descending) a requirement may ask for.",
        _ANGLE, order=DESCENDING, example="[90, 45]",
    )  # fmt: skip
    glancing_below_deg: float = param(
        "Impacts at smaller angles (degrees) are glancing: no impact test covers them (speed "
        "management; a line of separate elements holds them up to this angle).",
        Bound(0.0, 89.0, "degrees"),
    )
    impact_ray_m: float = param(
        "Length (m) of the straight path cast from each entry against the real crowd outline "
        "(:func:`~cohesion_gis.hvm.impact.cast_to_outline`): a path that does not meet the "
        "crowd within it is no direct impact (the arrival runs along the crowd, angle 0°).",
        Bound(0.0, 200.0, "m", above=True),
    )
    impact_face_m: float = param(
        "Length (m) of the crowd-outline chord, centred on where the straight path strikes it, "
        "whose direction is the face the impact angle is measured to (0: the segment struck).",
        Bound(0.0, 100.0, "m"),
    )
    station_concourse_persons_m2: float = param(
        "Persons per m² of a station's public floor at busy times "
        "(:mod:`~cohesion_gis.hvm.sites`).",
        Bound(0.0, 5.0, "persons/m²", above=True),
    )
    station_public_share: float = param(
        "Share (0-1] of a station building's gross floor (footprint × levels) that is public "
        "concourse, ticket hall and waiting room.",
        Bound(0.0, 1.0, above=True),
    )
    level_change_min_height_m: float = param(
        "A mapped retaining wall, city wall or wall at least this high (m, OSM ``height``) is a "
        "level change no vehicle mounts (:func:`~cohesion_gis.hvm.barriers.level_changes`).",
        Bound(0.0, 10.0, "m", above=True),
    )
    overrun_max_m: float = param(
        "Longest straight-on over-run leg (m) from a street's end to a crowd "
        "(:mod:`~cohesion_gis.hvm.overrun`; 0: none).",
        Bound(0.0, 500.0, "m"),
    )
    overrun_heading_m: float = param(
        "An over-run leg continues a street's heading over this last length (m) of it.",
        Bound(0.0, 50.0, "m", above=True),
    )
    overrun_straight_deg: float = param(
        "A street leaving a node within this angle (degrees) of the arrival heading carries the "
        "straight-on vehicle: no over-run leg there.",
        Bound(0.0, 90.0, "degrees"),
    )
    egress_minutes: float = param(
        "Time (min) in which a stadium or arena releases its capacity into the streets.",
        Bound(0.0, 60.0, "min", above=True),
    )
    egress_persons_m2: float = param(
        "Density (persons/m²) of the egress crowd outside the gates.",
        Bound(0.0, 7.0, "persons/m²", above=True),
    )
    egress_ring_m: float = param(
        "Distance (m) from a stadium or arena within which the egress crowd is drawn and held.",
        Bound(0.0, 1000.0, "m", above=True),
    )
    horizon_slack: float = param(
        "A run-up longer than (1 − this) × ``search_horizon_m`` is horizon-limited (unless the "
        "class is at its top speed): its speed is a lower bound.",
        Bound(0.0, 0.5),
    )
    vulnerability_steps_kmh: tuple[float, ...] = param(
        "Design speeds (km/h, ascending) bounding the vulnerability bands 1-4 (above the last: "
        "5).",
        _TEST_SPEED, order=ASCENDING, example="[16, 32, 48, 64]",
    )  # fmt: skip
    many_approaches: int = param(
        "Open entries (count) from which a site counts as having many approaches "
        "(vulnerability + 1).",
        Bound(1, 100, "entries", integer=True),
    )
    priority_share: float = param(
        "Top share (0-1] of sites by risk that are priority 1.", Bound(0.0, 1.0, above=True)
    )
    priority_speed_kmh: float = param(
        "An open approach at least this fast (km/h) into a site holding at least "
        "``priority_persons`` makes it priority 1.",
        Bound(0.0, 200.0, "km/h", above=True),
    )
    priority_persons: int = param(
        "Persons a site holds from which a fast approach (``priority_speed_kmh``) makes it "
        "priority 1.",
        Bound(0, 1_000_000, "persons", integer=True),
    )
    default_attractiveness: int = param(
        "Attractiveness (1-5) of a site kind missing from ``attractiveness``.", _SCORE
    )
    attractiveness: Mapping[str, int] = param(
        "Site kind → attractiveness (1-5) as a target.", _SCORE, compare=False
    )
    equivalence: Mapping[str, tuple[str, ...]] = param(
        "Threat class → extra rated classes that cover it (empty: strict, own class only).",
        compare=False,
    )
    class_test_speeds_kmh: Mapping[str, tuple[float, ...]] = param(
        "Class → its own test speeds (km/h, ascending), for a class the standard tests at other "
        "speeds than ``test_speeds_kmh`` (empty by default).",
        _TEST_SPEED, order=ASCENDING, compare=False,
    )  # fmt: skip
    sources: Mapping[str, str] = param(
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
        sources, more = _sources_and_keys(table)
        values, typed = read_fields(table, PARAMETERS)
        problems = problems + more + typed + _rules(values)
        raise_problems(ParameterError, label, problems, FIX_FILE)
        return cls(**values, sources=MappingProxyType(sources))


#: The parameters (every field but ``sources``), in declaration order.
PARAMETERS: tuple[Field[Any], ...] = tuple(f for f in fields(HvmParams) if f.name != "sources")
_NAMES = frozenset(f.name for f in PARAMETERS)


def _rules(values: Mapping[str, Any]) -> list[str]:
    """The rules no single field's declaration states (of the well-typed ``values``)."""
    if values.get("default_vehicle_classes", ("",)):
        return []
    return ["field `default_vehicle_classes` = []; expected at least one class name"]


def _value_problems(params: HvmParams) -> list[str]:
    """Every impossible or implausible value of ``params``, named by field, in field order."""
    values = {f.name: getattr(params, f.name) for f in PARAMETERS}
    return field_problems(values, PARAMETERS) + _rules(values)


def _sources_and_keys(table: Mapping[str, Any]) -> tuple[dict[str, str], list[str]]:
    """The ``[sources]`` of a parsed hvm table, and its unknown keys and bad sources."""
    problems = [
        f"unknown key {key!r}; known keys: {', '.join(sorted(_NAMES))}"
        for key in table
        if key not in _NAMES and key != "sources"
    ]
    raw = table.get("sources", {})
    if not isinstance(raw, dict):
        return {}, [*problems, f"field `sources` = {raw!r}; expected a table of strings"]
    sources = {}
    for name, text in raw.items():
        if name not in _NAMES:
            problems.append(f"[sources] names unknown field {name!r}")
        elif not isinstance(text, str):
            problems.append(f"field `sources.{name}` = {text!r}; expected a string")
        else:
            sources[name] = text
    return sources, problems
