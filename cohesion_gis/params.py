"""One way to load any parameter set: :func:`load_params`.

Every parameter class (:class:`~cohesion_gis.cohesion.CohesionParams`,
:class:`~cohesion_gis.hvm.HvmParams`, ...) is a frozen dataclass whose values live only in its
packaged TOML file (``cohesion_gis/defaults/<name>.toml``), each value with its source. A load
reads that file, deep-merges a user TOML over it (a partial file is enough: only the keys it
gives override), then in-code overrides (a scenario's ``[parameters.*]``), and builds the class
through its ``from_table`` method, which lists every problem of the file in one
:class:`~cohesion_gis.errors.ParameterError` naming the file and the field.

Merge rules, the same for every file:

- a key the packaged file does not have is refused (a typo is never ignored), except inside an
  *open* table of the class (``OPEN_TABLES``: access categories, building types, vehicle
  classes...), whose entries the class checks itself; a new entry there is taken whole;
- a table replaces a table key by key; a value replaces a value; one for the other is refused;
- a value overridden without its own source, where the packaged file keeps a ``sources`` table
  beside it, is recorded as coming from ``user file <file>``.

A parameter class declares

``PACKAGED``
    The packaged file name (``"cohesion.toml"``).
``OPEN_TABLES``
    Dotted paths of its open tables (``("access",)``).
``from_table(table, label, problems)``
    Build the instance from the merged table, raising one ``ParameterError`` (with
    :func:`cohesion_gis._validate.raise_problems`) that lists ``problems`` (found while merging)
    and every problem of its own.

Examples
--------
>>> from cohesion_gis.params import load_params
>>> from cohesion_gis.cohesion import CohesionParams
>>> load_params(CohesionParams).walk_speed_m_s
1.33
>>> load_params(CohesionParams, overrides={"diversity": {"radius_m": 600}}).diversity_radius_m
600.0
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar, Protocol, TypeVar, cast

from cohesion_gis._toml import read_toml

__all__ = ["FIX_FILE", "ParamsClass", "load_params"]

#: What to do about a bad parameter file (the end of every message).
FIX_FILE = "Fix the file and load it again"


class ParamsClass(Protocol):
    """What :func:`load_params` needs of a parameter class."""

    PACKAGED: ClassVar[str]
    OPEN_TABLES: ClassVar[tuple[str, ...]]

    @classmethod
    def from_table(cls, table: Mapping[str, Any], label: str, problems: list[str]) -> ParamsClass:
        """Build from the merged table; raise one error listing ``problems`` and its own."""
        ...


P = TypeVar("P", bound=ParamsClass)


def load_params(
    cls: type[P],
    toml: str | Path | None = None,
    overrides: Mapping[str, Any] | None = None,
    *,
    where: str = "overrides",
) -> P:
    """Load a parameter class: packaged defaults, then a user TOML, then overrides.

    Parameters
    ----------
    cls
        The parameter class (``CohesionParams``, ``HvmParams``, ``Vehicles``, ``SiteParams``,
        ``DasymetricParams``, ``SuggestParams``, ``ProtectParams``).
    toml
        A user TOML laid out like ``cohesion_gis/defaults/<cls.PACKAGED>``, with any subset of
        its keys; ``None``: the packaged values only.
    overrides
        Values to override last, nested like the TOML (``{"diversity": {"hill_q": 1.0}}``).
    where
        How messages name ``overrides`` (``"x.toml [parameters.hvm]"``).

    Returns
    -------
    An instance of ``cls`` (a frozen dataclass; without ``toml`` and ``overrides``, one instance
    shared by every caller: make variants with :func:`dataclasses.replace`).

    Raises
    ------
    ParameterError
        A file is missing or not TOML; or keys unknown, values of the wrong type, non-finite or
        out of their bounds: every problem in one message naming the file and the field.
    """
    spec: type[ParamsClass] = cls
    if toml is None and not overrides:
        return cast(P, _packaged_instance(spec))
    table = _packaged(spec.PACKAGED)
    label, problems = f"defaults/{spec.PACKAGED}", []
    layers: list[tuple[Mapping[str, Any], str]] = []
    if toml is not None:
        layers.append(read_toml(toml, spec.PACKAGED))
    if overrides:
        layers.append((overrides, where))
    for layer, layer_label in layers:
        table, more = _merged(table, layer, "", open_tables=spec.OPEN_TABLES, label=layer_label)
        problems += more
    if layers:
        label = " with ".join(layer_label for _, layer_label in layers)
    return cast(P, spec.from_table(table, label, problems))


@functools.cache
def _packaged_instance(spec: type[ParamsClass]) -> ParamsClass:
    """The packaged values of a class: built once per process, shared (instances are frozen)."""
    return spec.from_table(_packaged(spec.PACKAGED), f"defaults/{spec.PACKAGED}", [])


def _packaged(name: str) -> dict[str, Any]:
    """A private copy of the packaged table (read and parsed once per process)."""
    return copy.deepcopy(_read_packaged(name))


@functools.cache
def _read_packaged(name: str) -> dict[str, Any]:
    return read_toml(None, name)[0]


def _merged(
    base: Mapping[str, Any],
    user: Mapping[str, Any],
    prefix: str,
    *,
    open_tables: tuple[str, ...],
    label: str,
    checked: bool = True,
) -> tuple[dict[str, Any], list[str]]:
    """``base`` overridden key by key by ``user``, and the problems found (see module doc)."""
    out = dict(base)
    problems: list[str] = []
    is_open = prefix.rstrip(".") in open_tables
    for key, value in user.items():
        field = f"{prefix}{key}"
        if key not in base:
            if checked and not is_open:
                allowed = ", ".join(sorted(base)) or "none"
                problems.append(f"unknown key `{field}` (allowed: {allowed})")
            elif is_open and _has_tables(base) and not isinstance(value, Mapping):
                problems.append(f"field `{field}` = {value!r}; expected a table ([{field}])")
            else:
                out[key] = _new_entry(value, base, label) if is_open else value
            continue
        if isinstance(base[key], Mapping) != isinstance(value, Mapping):
            expected = (
                f"a table ([{field}])" if isinstance(base[key], Mapping) else "a value, not a table"
            )
            problems.append(f"field `{field}` = {value!r}; expected {expected}")
            continue
        if isinstance(value, Mapping):
            out[key], more = _merged(
                base[key], value, f"{field}.", open_tables=open_tables, label=label,
                checked=checked and not is_open,
            )  # fmt: skip
            problems += more
        else:
            out[key] = value
    _tag_sources(out, base, user, label)
    return out, problems


def _has_tables(table: Mapping[str, Any]) -> bool:
    return any(isinstance(v, Mapping) for v in table.values())


def _new_entry(value: Any, siblings: Mapping[str, Any], label: str) -> Any:
    """A new entry of an open table, taken whole; sourced like its siblings if they are."""
    if not isinstance(value, Mapping):
        return value
    entry = dict(value)
    if any(isinstance(s, Mapping) and "sources" in s for s in siblings.values()):
        given = entry.get("sources", {})
        if isinstance(given, Mapping):
            tags = {k: f"user file {label}" for k in entry if k != "sources"}
            entry["sources"] = {**tags, **given}
    return entry


def _tag_sources(
    out: dict[str, Any], base: Mapping[str, Any], user: Mapping[str, Any], label: str
) -> None:
    """Record ``user file <label>`` as the source of values overridden without one."""
    sources = base.get("sources")
    if not isinstance(sources, Mapping) or not isinstance(out.get("sources"), Mapping):
        return
    given = user.get("sources", {})
    given = given if isinstance(given, Mapping) else {}
    tags = {
        k: f"user file {label}"
        for k in user
        if k != "sources" and k in base and k not in given and (k in sources or _is_field(base, k))
    }
    if tags:
        out["sources"] = {**out["sources"], **tags}


def _is_field(base: Mapping[str, Any], key: str) -> bool:
    """Whether ``key`` is a parameter value (not a table of its own)."""
    return not isinstance(base[key], Mapping)
