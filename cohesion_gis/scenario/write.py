"""Writing a :class:`~cohesion_gis.scenario.spec.Scenario` back to a TOML file.

The reader is :func:`cohesion_gis.scenario.load_scenario`; what this module writes reads back to
an equal scenario (``tests/test_suggest.py`` checks the round trip). Text is written as TOML basic
strings with every control character escaped, so a name from OpenStreetMap cannot break the file
or add keys to it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cohesion_gis.scenario.spec import BaseSpec, Scenario

if TYPE_CHECKING:
    from cohesion_gis.city import City

__all__ = ["base_spec", "scenario_toml", "write_scenario"]


def base_spec(city: City) -> BaseSpec:
    """The scenario ``base`` that reloads ``city``: the embedded extract, or its PBF and box."""
    given = city.provenance.parameters
    if given.get("pbf"):
        bbox = given.get("bbox")
        return BaseSpec(str(Path(given["pbf"]).resolve()), tuple(bbox) if bbox else None)
    return BaseSpec()


def _value(value: Any) -> str:
    """One TOML value: a string, number, boolean or list of them."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{value!r} is not a finite number; a scenario holds none")
        return repr(value)
    if isinstance(value, str):
        # a JSON string is a TOML basic string, except that TOML also forbids a raw DEL (U+007F)
        return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007F")
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    if isinstance(value, Mapping):
        return "{ " + ", ".join(f"{_key(k)} = {_value(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"cannot write {type(value).__name__} {value!r} to a scenario file")


def _key(key: str) -> str:
    bare = key.replace("_", "").replace("-", "").isalnum() and key.isascii()
    return key if bare else json.dumps(key)


def scenario_toml(scenario: Scenario, *, header: str = "") -> str:
    """The text of a scenario file for ``scenario`` (optionally after ``#`` comment lines)."""
    lines = [f"# {line}".rstrip() for line in header.splitlines()]
    lines += [f"name = {_value(scenario.name)}", f"description = {_value(scenario.description)}"]
    if scenario.base.bbox is None:
        lines.append(f"base = {_value(scenario.base.source)}")
    else:
        lines += [
            f"base = {{ source = {_value(scenario.base.source)}, "
            f"bbox = {_value(list(scenario.base.bbox))} }}"
        ]
    for table, overrides in (("cohesion", scenario.cohesion_overrides),
                             ("hvm", scenario.hvm_overrides)):  # fmt: skip
        if overrides:
            lines += ["", f"[parameters.{table}]"]
            lines += [f"{_key(k)} = {_value(v)}" for k, v in overrides.items()]
    for iv in scenario.interventions:
        lines += ["", "[[interventions]]", f"type = {_value(iv.type)}"]
        lines += [f"{_key(k)} = {_value(v)}" for k, v in iv.options.items() if k != "type"]
    return "\n".join(lines) + "\n"


def write_scenario(
    scenario: Scenario, path: str | Path, *, header: str = "", overwrite: bool = False
) -> Path:
    """Write ``scenario`` as a TOML file at ``path`` (UTF-8, atomically) and return the path."""
    from cohesion_gis._atomic import atomic_path

    with atomic_path(path, overwrite=overwrite) as tmp:
        tmp.write_text(scenario_toml(scenario, header=header), encoding="utf-8")
    return Path(path)
