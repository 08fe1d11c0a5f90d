"""Global parameters of the hostile-vehicle-mitigation analysis, read from ``defaults/hvm.toml``.

Every value carries its source in the file's ``[sources]`` table. A user TOML of the same layout
overrides values by name; unknown keys, wrong types and impossible values are refused with a
:class:`~cohesion_gis.errors.ParameterError` naming the file and the field.

Examples
--------
>>> from cohesion_gis.hvm.params import load_params
>>> params = load_params()
>>> params.friction_mu, params.speed_allowance, params.test_speeds_kmh
(0.7, 0.1, (16.0, 32.0, 48.0, 64.0, 80.0))
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

from cohesion_gis._toml import read_toml
from cohesion_gis.errors import ParameterError

__all__ = ["HvmParams", "load_params"]

#: A field check: (predicate on the value, what a valid value looks like).
Check = tuple[Callable[[Any], bool], str]


@dataclass(frozen=True)
class HvmParams:
    """Global HVM parameters; load them with :func:`load_params`.

    Attributes
    ----------
    friction_mu
        Tyre-road friction coefficient (dimensionless) for bend caps and braking.
    friction_mu_sensitivity
        Friction coefficient of the sensitivity run (MIL-HDBK-1013/14 conservative value).
    speed_allowance
        Fractional allowance added to an impact speed before rounding up to a test speed.
    test_speeds_kmh
        Impact-test speeds (km/h), ascending; a design speed is rounded up to one of these.
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
        A barrier point within this distance (m) of a street centreline closes the street.
    block_unrated
        Whether unrated barriers stop vehicles (default ``False``: conservative).
    acceleration_model
        ``"power"`` (default): power-, drag- and rolling-resistance-limited acceleration per class;
        ``"constant"``: each class's constant acceleration up to its top speed (the reference's
        worked examples).
    default_vehicle_classes
        Vehicle classes analysed when none are given.
    equivalence
        Threat class → extra rated classes that cover it (empty: strict, own class only).
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
    block_unrated: bool
    acceleration_model: str
    default_vehicle_classes: tuple[str, ...]
    equivalence: Mapping[str, tuple[str, ...]] = field(default_factory=dict, compare=False)
    sources: Mapping[str, str] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        problems = _value_problems(self, _PARAM_CHECKS)
        if problems:
            raise ParameterError(_message("HvmParams", problems, "fix the value(s)"))


def _positive(x: float) -> bool:
    return math.isfinite(x) and x > 0


def _non_negative(x: float) -> bool:
    return math.isfinite(x) and x >= 0


_PARAM_CHECKS: dict[str, Check] = {
    "friction_mu": (lambda x: 0 < x <= 2, "0 < friction_mu <= 2"),
    "friction_mu_sensitivity": (lambda x: 0 < x <= 2, "0 < value <= 2"),
    "speed_allowance": (lambda x: 0 <= x < 1, "a fraction in [0, 1), e.g. 0.10 for +10 %"),
    "test_speeds_kmh": (
        lambda s: len(s) > 0 and all(_positive(v) for v in s) and list(s) == sorted(set(s)),
        "a non-empty strictly ascending list of positive speeds, e.g. [16, 32, 48, 64, 80]",
    ),
    "gap_limit_m": (_positive, "> 0"),
    "search_horizon_m": (_positive, "> 0"),
    "start_speed_kmh": (_non_negative, ">= 0"),
    "kerb_radius_m": (_non_negative, ">= 0"),
    "width_clearance_m": (_non_negative, ">= 0"),
    "angle_band_deg": (lambda x: 0 < x <= 90, "0 < value <= 90"),
    "barrier_snap_m": (_non_negative, ">= 0"),
    "block_unrated": (lambda x: True, "true or false"),
    "acceleration_model": (lambda x: x in {"power", "constant"}, '"power" or "constant"'),
    "default_vehicle_classes": (lambda s: len(s) > 0, "a non-empty list of class names"),
}

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
    "block_unrated": "boolean",
    "acceleration_model": "string",
    "default_vehicle_classes": "list of strings",
    "equivalence": "table of lists of strings",
}


def _value_problems(obj: object, checks: Mapping[str, Check]) -> list[str]:
    problems = []
    for name, (ok, expected) in checks.items():
        value = getattr(obj, name)
        if not ok(value):
            problems.append(f"field {name!r}: got {value!r}, expected {expected}")
    return problems


def _message(where: str, problems: list[str], todo: str) -> str:
    head = f"{where}: {len(problems)} problem(s) with HVM parameters"
    return head + ":\n  - " + "\n  - ".join(problems) + f"\n{todo}."


def is_number(value: Any) -> bool:
    """Whether a TOML value is an int or float (bools are not numbers here)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_str(value: Any) -> bool:
    return isinstance(value, str)


def coerce(value: Any, kind: str) -> Any:
    """Convert a TOML value to ``kind`` (see ``_TYPES``); raise ``TypeError`` if it does not fit."""
    if kind == "number" and is_number(value):
        return float(value)
    if kind == "boolean" and isinstance(value, bool):
        return value
    if kind == "string" and isinstance(value, str):
        return value
    if kind == "list of numbers" and isinstance(value, list) and all(map(is_number, value)):
        return tuple(float(v) for v in value)
    if kind == "list of strings" and isinstance(value, list) and all(map(_is_str, value)):
        return tuple(value)
    if kind == "table of lists of strings" and isinstance(value, dict):
        lists = value.values()
        if all(isinstance(v, list) and all(map(_is_str, v)) for v in lists):
            return MappingProxyType({k: tuple(v) for k, v in value.items()})
    raise TypeError(kind)


def _fill(
    table: Mapping[str, Any], label: str, values: dict[str, Any], sources: dict[str, str]
) -> list[str]:
    """Validate a parsed hvm TOML table and merge it into ``values`` and ``sources``."""
    problems = []
    for key, raw in table.items():
        if key == "sources":
            if not isinstance(raw, dict):
                problems.append("'sources' must be a table of strings")
                continue
            for name, text in raw.items():
                if name not in _TYPES:
                    problems.append(f"[sources] names unknown field {name!r}")
                elif not isinstance(text, str):
                    problems.append(f"[sources] {name!r}: got {text!r}, expected a string")
                else:
                    sources[name] = text
        elif key not in _TYPES:
            problems.append(f"unknown key {key!r}; known keys: {sorted(_TYPES)}")
        else:
            try:
                values[key] = coerce(raw, _TYPES[key])
            except TypeError:
                problems.append(f"field {key!r}: got {raw!r}, expected a {_TYPES[key]}")
    return problems


def load_params(path: Path | str | None = None) -> HvmParams:
    """Load the HVM parameters: the packaged defaults, overridden by a user TOML if given.

    Parameters
    ----------
    path
        A TOML file with any subset of the keys of ``defaults/hvm.toml`` (and optionally a
        ``[sources]`` table); ``None`` for the packaged defaults only.

    Returns
    -------
    HvmParams
        The validated parameters; ``sources`` names where each value came from.

    Raises
    ------
    ParameterError
        If a file is missing or not TOML, or has unknown keys, wrong types or impossible values;
        the message lists every problem with the file and field.
    """
    if path is None:
        return _default_params()
    values, sources = _raw_defaults()
    values, sources = dict(values), dict(sources)
    table, label = read_toml(path, "hvm.toml")
    problems = _fill(table, label, values, sources)
    given_sources = table.get("sources") if isinstance(table.get("sources"), dict) else {}
    for key in table:
        if key in _TYPES and key not in given_sources:
            sources[key] = f"user file {label}"
    if problems:
        raise ParameterError(_message(label, problems, "Fix the file and load it again"))
    return _build(values, sources, label)


def _build(values: dict[str, Any], sources: dict[str, str], label: str) -> HvmParams:
    try:
        return HvmParams(**values, sources=MappingProxyType(sources))
    except ParameterError as exc:
        raise ParameterError(f"{label}: {exc}") from exc


@lru_cache(maxsize=1)
def _raw_defaults() -> tuple[dict[str, Any], dict[str, str]]:
    table, label = read_toml(None, "hvm.toml")
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    problems = _fill(table, label, values, sources)
    missing = [f.name for f in fields(HvmParams) if f.name not in values and f.name != "sources"]
    problems += [f"missing field {name!r}" for name in missing]
    if problems:  # a broken install, not a user error
        raise ParameterError(_message(label, problems, "Reinstall cohesion_gis"))
    return values, sources


@lru_cache(maxsize=1)
def _default_params() -> HvmParams:
    values, sources = _raw_defaults()
    return _build(dict(values), dict(sources), "defaults/hvm.toml")
