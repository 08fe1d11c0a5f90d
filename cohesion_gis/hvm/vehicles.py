"""Hostile-vehicle classes (ISO 22343-1 keyed) read from ``defaults/vehicles.toml``.

Each class gives test mass, size, run-up acceleration (low-speed traction limit, power at the
wheels, drag area and rolling resistance), top speed, lateral-acceleration and braking limits, every
value with its source (reference hvm.md §2, §3). A user TOML of the same layout
(:func:`cohesion_gis.params.load_params`) overrides fields by class name and may add classes.

Examples
--------
>>> from cohesion_gis.hvm.vehicles import Vehicles
>>> from cohesion_gis.params import load_params
>>> vehicles = load_params(Vehicles).select(["M1", "N2A"])
>>> vehicles["N2A"].test_mass_kg, vehicles["N2A"].accel_ms2
(7200.0, 2.0)
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from types import MappingProxyType
from typing import Any, ClassVar

from cohesion_gis._validate import Bound, is_number, number_problem, raise_problems
from cohesion_gis.errors import ParameterError
from cohesion_gis.hvm.kinematics import G_MS2, Traction
from cohesion_gis.params import FIX_FILE, bound_of, coerce, param, with_attributes

__all__ = ["MAX_TEST_MASS_KG", "NUMERIC_FIELDS", "VehicleClass", "Vehicles"]

#: The heaviest impact-test vehicle of any standard (kg): ISO 22343-1 N3G and PAS 68 N3 at
#: 30 000 kg [S/U] (ASTM F2656 H: about 29 500 kg [U]); reference hvm.md §2.
MAX_TEST_MASS_KG = 30_000.0

_NAME = re.compile(r"^[A-Za-z0-9_]+$")


@with_attributes
@dataclass(frozen=True)
class VehicleClass:
    """One threat-vehicle class.

    Each field is declared once (:func:`cohesion_gis.params.param`): its description and the
    range a real road vehicle can have; the values and their sources live in
    ``defaults/vehicles.toml``.
    """

    name: str = param('Class code, e.g. ``"N2A"`` (ISO 22343-1).')
    description: str = param("What the class is.")
    test_mass_kg: float = param("Impact-test mass (kg).", Bound(100.0, MAX_TEST_MASS_KG, "kg"))
    width_m: float = param("Body width (m).", Bound(0.5, 5.0, "m"))
    length_m: float = param("Body length (m).", Bound(1.0, 30.0, "m"))
    accel_ms2: float = param(
        "Run-up acceleration on level ground (m/s²): the constant model's acceleration, and the "
        "power model's low-speed (traction-limited) acceleration ``a0``.",
        Bound(0.05, 12.0, "m/s²"),
    )
    top_speed_kmh: float = param("Speed cap (km/h).", Bound(5.0, 400.0, "km/h"))
    lat_accel_ms2: float = param(
        "The vehicle's own lateral-acceleration limit (m/s²), e.g. its rollover threshold.",
        Bound(0.5, 15.0, "m/s²"),
    )
    braking_ms2: float = param("Braking deceleration (m/s², positive).", Bound(0.5, 15.0, "m/s²"))
    power_kw: float = param(
        "Power delivered at the wheels (kW), for the power-limited run-up.",
        Bound(1.0, 5_000.0, "kW"),
    )
    drag_area_m2: float = param(
        "Drag coefficient × frontal area, C_d·A (m²).", Bound(0.1, 30.0, "m²")
    )
    rolling_resistance: float = param(
        "Rolling-resistance coefficient C_rr (dimensionless).", Bound(0.001, 0.1)
    )
    sources: Mapping[str, str] = field(
        default_factory=dict, compare=False, repr=False,
        metadata={"doc": "Field name → source of its value."},
    )  # fmt: skip

    def __post_init__(self) -> None:
        problems = _range_problems(self.name, {f: getattr(self, f) for f in NUMERIC_FIELDS})
        raise_problems(ParameterError, "VehicleClass", problems, "Fix the value(s) of the class")

    def lateral_limit_ms2(self, friction_mu: float) -> float:
        """Lateral acceleration (m/s²) the class can hold in a bend: ``min(lat_accel, μ·g)``."""
        return min(self.lat_accel_ms2, friction_mu * G_MS2)

    def braking_limit_ms2(self, friction_mu: float) -> float:
        """Braking deceleration (m/s²) the class can hold: ``min(braking, μ·g)``."""
        return min(self.braking_ms2, friction_mu * G_MS2)

    def traction(self, model: str = "power") -> Traction:
        """The class's run-up acceleration model: ``"power"`` or ``"constant"`` (``accel_ms2``)."""
        if model == "constant":
            return Traction.constant(self.accel_ms2)
        if model != "power":
            raise ParameterError(
                f"acceleration model {model!r} of class {self.name!r}: expected "
                '"power" or "constant".'
            )
        return Traction.power(
            self.accel_ms2,
            power_kw=self.power_kw,
            mass_kg=self.test_mass_kg,
            drag_area_m2=self.drag_area_m2,
            rolling_resistance=self.rolling_resistance,
        )


#: The numeric fields of a class (declared with their bounds), in file order.
_NUMERIC = tuple(f for f in fields(VehicleClass) if f.metadata.get("bound") is not None)
#: Numeric fields of a class, with the range a real road vehicle can have (from the fields).
NUMERIC_FIELDS: Mapping[str, tuple[float, float]] = MappingProxyType(
    {f.name: (f.metadata["bound"].low, f.metadata["bound"].high) for f in _NUMERIC}
)
_ALL_FIELDS = ("description", *NUMERIC_FIELDS)


def _range_problems(name: str, values: Mapping[str, Any]) -> list[str]:
    problems = []
    for key, value in values.items():
        problem = number_problem(f"classes.{name}.{key}", value, bound_of(VehicleClass, key))
        if problem and key == "test_mass_kg" and is_number(value) and value > MAX_TEST_MASS_KG:
            problem += (
                ": no impact-test standard uses a heavier vehicle (ISO 22343-1 N3G, PAS 68 N3), "
                "so no barrier rating could cover this class; model the threat as N3G"
            )
        if problem:
            problems.append(problem)
    accel, crr = values.get("accel_ms2"), values.get("rolling_resistance")
    if not problems and accel is not None and crr is not None and accel <= G_MS2 * crr:
        problems.append(
            f"class {name!r}: accel_ms2 {accel:g} cannot overcome rolling_resistance {crr:g} "
            f"(g × C_rr = {G_MS2 * crr:.3g} m/s²); expected accel_ms2 > g × rolling_resistance"
        )
    return problems


@dataclass(frozen=True)
class Vehicles:
    """The threat-vehicle classes of ``defaults/vehicles.toml`` (and a user's file).

    Load with :func:`cohesion_gis.params.load_params`: a user file laid out like the packaged one
    (``[classes.<NAME>]`` tables and optional ``[classes.<NAME>.sources]``) overrides fields of a
    packaged class one by one and may add classes (a new class gives every field).

    Attributes
    ----------
    classes
        Classes by name, in file order.
    source
        The file(s) read, for messages.
    """

    classes: Mapping[str, VehicleClass]
    source: str

    PACKAGED: ClassVar[str] = "vehicles.toml"
    OPEN_TABLES: ClassVar[tuple[str, ...]] = ("classes",)

    @classmethod
    def from_table(cls, table: Mapping[str, Any], label: str, problems: list[str]) -> Vehicles:
        """Build from a full ``vehicles.toml`` table (use :func:`cohesion_gis.params.load_params`).

        Raises
        ------
        ParameterError
            ``problems``, and missing or unknown fields, wrong types, impossible values (a
            negative acceleration, zero mass): one message naming the file, class and field.
        """
        problems = list(problems)
        entries = table.get("classes")
        if not isinstance(entries, Mapping) or not entries:
            problems.append("no [classes.<NAME>] tables found")
            entries = {}
        built = {}
        for name, entry in entries.items():
            if not _NAME.match(name) or not isinstance(entry, Mapping):
                problems.append(
                    f"class {name!r}: expected a table [classes.{name}] with a plain name"
                )
                continue
            values, more = _class_values(name, entry, packaged=label.startswith("defaults/"))
            problems += more
            if not more:
                built[name] = VehicleClass(name=name, **values)
        raise_problems(
            ParameterError,
            label,
            problems,
            f"{FIX_FILE}; see cohesion_gis/defaults/vehicles.toml for the layout",
        )
        return cls(classes=MappingProxyType(built), source=label)

    def select(self, names: Iterable[str] | None = None) -> dict[str, VehicleClass]:
        """The classes named, in this order (``None``: every class).

        Raises
        ------
        ParameterError
            A name is not a class of the table.
        """
        if names is None:
            return dict(self.classes)
        wanted = list(names)
        unknown = [c for c in wanted if c not in self.classes]
        if unknown:
            raise ParameterError(
                f"{self.source}: unknown vehicle class(es) {unknown}; "
                f"available: {sorted(self.classes)}."
            )
        return {c: self.classes[c] for c in wanted}


def _class_values(
    name: str, entry: Mapping[str, Any], *, packaged: bool
) -> tuple[dict[str, Any], list[str]]:
    """The fields of one class, coerced, and every problem with them."""
    problems = []
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for key, value in entry.items():
        if key == "sources":
            if not isinstance(value, Mapping):
                problems.append(f"class {name!r}: 'sources' must be a table of strings")
                continue
            for fname, text in value.items():
                if fname in NUMERIC_FIELDS and isinstance(text, str):
                    sources[fname] = text
                elif fname != "description":
                    problems.append(f"class {name!r} sources: bad entry {fname!r} = {text!r}")
        elif key not in _ALL_FIELDS:
            problems.append(
                f"class {name!r}: unknown field {key!r}; known fields: {list(_ALL_FIELDS)}"
            )
        else:
            kind = "string" if key == "description" else "number"
            try:
                values[key] = coerce(value, kind)
            except TypeError:
                problems.append(f"field `classes.{name}.{key}` = {value!r}; expected a {kind}")
    missing = [k for k in _ALL_FIELDS if k not in entry]
    if missing:
        problems.append(f"class {name!r}: missing field(s) {missing}")
    undocumented = [k for k in NUMERIC_FIELDS if not sources.get(k)]
    if packaged and undocumented:
        problems.append(f"class {name!r}: no source for {undocumented}")
    numbers = {k: values[k] for k in NUMERIC_FIELDS if isinstance(values.get(k), float)}
    problems += _range_problems(name, numbers)
    values["sources"] = MappingProxyType(sources)
    return values, problems
