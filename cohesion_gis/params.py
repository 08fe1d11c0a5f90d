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

A class may declare each parameter once, as a field made by :func:`param`: the annotation is its
TOML type (``float`` a number, ``int`` a whole number, ``tuple[float, ...]`` a list of numbers,
``Mapping[str, int]`` a table of whole numbers, ...: :func:`kind_of`), the metadata its
description, bound, a list's order and a string's choices; :func:`read_fields` then types and
checks a table against the fields, :func:`field_problems` checks an instance (``__post_init__``)
and :func:`with_attributes` writes the class docstring's ``Attributes`` from the descriptions
(:class:`~cohesion_gis.hvm.HvmParams`, :class:`~cohesion_gis.hvm.SiteParams`,
:class:`~cohesion_gis.suggest.SuggestParams`, :class:`~cohesion_gis.hvm.VehicleClass`).

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
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import Field, field, fields
from pathlib import Path
from types import MappingProxyType
from typing import Any, ClassVar, Protocol, TypeVar, cast

from cohesion_gis._toml import read_toml
from cohesion_gis._validate import (
    Bound,
    is_number,
    number_problem,
    numbers_problems,
    strings_problem,
)

__all__ = [
    "ASCENDING",
    "DESCENDING",
    "FIX_FILE",
    "ParamsClass",
    "bound_of",
    "coerce",
    "field_problems",
    "kind_of",
    "load_params",
    "param",
    "read_fields",
    "toml_name",
    "with_attributes",
]

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
T = TypeVar("T")


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


# --------------------------------------------------------------------------- declared fields

#: A list of speeds is strictly ascending, one of angles strictly descending (``param(order=)``).
ASCENDING, DESCENDING = "ascending speeds", "descending angles"


def param(
    doc: str,
    bound: Bound | None = None,
    *,
    order: str = "",
    example: str = "",
    choices: tuple[str, ...] = (),
    toml: str = "",
    min_len: int | None = None,
    compare: bool = True,
    show: bool = True,
) -> Any:
    """Declare one parameter: a dataclass field whose metadata says what a valid value is.

    Parameters
    ----------
    doc
        What the value means, with its unit (the class docstring's entry).
    bound
        Plausible values of a number, or of each number of a list or table.
    order
        A list's order, :data:`ASCENDING` or :data:`DESCENDING` (strict).
    example
        A valid list for messages (``"[32, 48, 64, 80]"``).
    choices
        The values a string may take.
    toml
        The value's dotted path in the TOML (``"diversity.radius_m"``), which messages name;
        default the field's name.
    min_len
        The fewest numbers a list may hold; default 1 for an ordered list, else 0.
    compare, show
        Whether the field takes part in ``==`` (mappings do not) and in ``repr``.
    """
    shortest = (1 if order else 0) if min_len is None else min_len
    meta = {"doc": doc, "bound": bound, "order": order, "example": example, "choices": choices,
            "toml": toml, "min_len": shortest}  # fmt: skip
    return field(metadata=MappingProxyType(meta), compare=compare, repr=show)


#: The TOML type each annotation stands for (``from __future__ import annotations``: as text).
_KIND_OF_ANNOTATION = {
    "float": "number", "int": "whole number", "bool": "boolean", "str": "string",
    "tuple[float, ...]": "list of numbers", "tuple[str, ...]": "list of strings",
    "Mapping[str, int]": "table of whole numbers", "Mapping[str, float]": "table of numbers",
    "dict[str, float]": "table of numbers",
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


def bound_of(cls: type, name: str) -> Bound:
    """The declared bound of a numeric parameter of ``cls`` (a class taking the value over).

    Raises
    ------
    KeyError
        ``name`` is not a declared numeric parameter of ``cls``.
    """
    bound = {f.name: f for f in fields(cls)}[name].metadata.get("bound")
    if not isinstance(bound, Bound):
        raise KeyError(name)
    return bound


def with_attributes(cls: type[T]) -> type[T]:
    """Append the numpydoc ``Attributes`` section of ``cls``, written from its fields' ``doc``."""
    lines = ["", "    Attributes", "    ----------"]
    for declared in fields(cast(Any, cls)):
        lines += [f"    {declared.name}", f"        {declared.metadata['doc']}"]
    cls.__doc__ = (cls.__doc__ or "").rstrip() + "\n" + "\n".join(lines) + "\n"
    return cls


def _is_whole(value: Any) -> bool:
    """A TOML number with no fractional part (``3`` or ``3.0``)."""
    return is_number(value) and math.isfinite(value) and float(value).is_integer()


#: Each scalar kind: does a TOML value fit, and how to convert it.
_SCALARS: dict[str, tuple[Callable[[Any], bool], Callable[[Any], Any]]] = {
    "number": (is_number, float), "whole number": (_is_whole, int),
    "boolean": (lambda v: isinstance(v, bool), bool), "string": (lambda v: isinstance(v, str), str),
}  # fmt: skip


def coerce(value: Any, kind: str) -> Any:
    """Convert a TOML value to ``kind`` (:func:`kind_of`); ``TypeError`` if it does not fit."""
    element = kind.removeprefix("table of ").removeprefix("lists of ").removeprefix("list of ")
    fits, convert = _SCALARS[element.removesuffix("s") if element != kind else kind]
    if element == kind and fits(value):
        return convert(value)
    if kind.startswith("list of ") and isinstance(value, list) and all(map(fits, value)):
        return tuple(map(convert, value))
    if kind.startswith("table of ") and isinstance(value, dict):
        lists = kind.startswith("table of lists of ")
        if lists and all(isinstance(v, list) and all(map(fits, v)) for v in value.values()):
            return MappingProxyType({k: tuple(map(convert, v)) for k, v in value.items()})
        if not lists and all(map(fits, value.values())):
            return MappingProxyType({k: convert(v) for k, v in value.items()})
    raise TypeError(kind)


def read_fields(
    table: Mapping[str, Any], declared: Iterable[Field[Any]]
) -> tuple[dict[str, Any], list[str]]:
    """The declared fields' values typed from ``table``, and every problem with them.

    Problems, in field order: a value of the wrong type (``expected a number``), a missing field,
    then each well-typed value out of its bound, order or choices (:func:`field_problems`).
    """
    values: dict[str, Any] = {}
    problems: list[str] = []
    declared = list(declared)
    for item in declared:
        path = toml_name(item)
        raw = _lookup(table, path)
        if raw is _MISSING:
            problems.append(f"missing field `{path}`")
            continue
        kind = kind_of(item)
        try:
            value = coerce(raw, kind)
        except TypeError:
            problems.append(f"field `{path}` = {raw!r}; expected a {kind}")
            continue
        values[item.name] = dict(value) if str(item.type).startswith("dict[") else value
    typed = [item for item in declared if item.name in values]
    return values, problems + field_problems(values, typed)


def toml_name(declared: Field[Any]) -> str:
    """How the TOML (and every message) names a parameter field: its dotted path."""
    return str(declared.metadata.get("toml") or declared.name)


_MISSING = object()


def _lookup(table: Mapping[str, Any], path: str) -> Any:
    """The value at a dotted ``path`` of a table, or ``_MISSING``."""
    value: Any = table
    for part in path.split("."):
        value = value.get(part, _MISSING) if isinstance(value, Mapping) else _MISSING
    return value


def _numbers(name: str, values: Any, meta: Mapping[str, Any]) -> list[str]:
    """Problems with a list of numbers: each within the bound; strictly ordered if declared so."""
    order = meta["order"]
    bad = numbers_problems(name, values, meta["bound"], min_len=meta.get("min_len", 0))
    if not bad and order and list(values) != sorted(set(values), reverse=order == DESCENDING):
        example = meta["example"]
        bad.append(
            f"field `{name}` = {list(values)}; expected strictly {order}"
            + (f", e.g. {example}" if example else "")
        )
    return bad


def field_problems(values: Mapping[str, Any], declared: Iterable[Field[Any]]) -> list[str]:
    """Every value of ``values`` (name → value) out of its field's bound, order or choices.

    A value of the wrong type (set with :func:`dataclasses.replace`) is a problem too, except in
    tables and strings (which :func:`read_fields` types).
    """
    problems: list[str] = []
    for item in declared:
        name, meta, kind = toml_name(item), item.metadata, kind_of(item)
        value, bound = values[item.name], meta.get("bound")
        if bound is not None and kind in ("number", "whole number"):
            problems += [p for p in [number_problem(name, value, bound)] if p]
        elif bound is not None and kind == "list of numbers":
            problems += _numbers(name, value, meta)
        elif bound is not None and kind == "table of lists of numbers":
            for key, numbers in value.items():
                problems += _numbers(f"{name}.{key}", numbers, meta)
        elif bound is not None and kind in ("table of numbers", "table of whole numbers"):
            problems += [
                p
                for key, number in value.items()
                if (p := number_problem(f"{name}.{key}", number, bound))
            ]
        elif kind == "list of strings":
            problems += [p for p in [strings_problem(name, value)] if p]
        elif meta.get("choices") and value not in meta["choices"]:
            wanted = ", ".join(map(repr, meta["choices"]))
            problems.append(f"field `{name}` = {value!r}; expected one of {wanted}")
    return problems
