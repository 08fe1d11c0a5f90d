"""Checks shared by every reader of parameters and scenarios: type, finiteness and range.

Each check returns a problem (a short text naming the field, the value got and what was
expected) or ``None``; a reader gathers every problem of a file and raises once with
:func:`raise_problems`, so a planner fixes a file in one pass (the style of osmnx
``_validate``)::

    my.toml: field `weights.access` = nan; expected a finite number between 0 and 100;
    field `walk_speed_m_s` = 0.0; expected a finite number between 0.2 and 3 m/s. Fix the file
    and load it again

TOML itself reads ``inf`` and ``nan`` as floats, so every number is checked for finiteness as
well as range. Bounds are plausible limits stated, with their reasons, in ``docs/cohesion.md``,
``docs/hvm.md`` and ``docs/scenarios.md``.

Examples
--------
>>> from cohesion_gis._validate import Bound, number_problem
>>> width = Bound(0, 150, "m", above=True)
>>> number_problem("width_m", 7.5, width) is None
True
>>> number_problem("width_m", float("inf"), width)
'field `width_m` = inf; expected a finite number greater than 0 and at most 150 m'
>>> Bound(0, 1_000_000, "residents", integer=True).problem(2.5)
'= 2.5; expected a whole number between 0 and 1,000,000 residents'

Every distance is measured in metres in a projected CRS; one check says whether a CRS is one:

>>> from cohesion_gis._validate import metric_crs_problem
>>> metric_crs_problem("EPSG:32635") is None
True
>>> metric_crs_problem("EPSG:4326").split(";")[0]
'is in EPSG:4326, a geographic CRS (degrees)'
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import pyproj

from cohesion_gis.errors import CohesionError, InputError

__all__ = [
    "Bound",
    "is_number",
    "metric_crs",
    "metric_crs_problem",
    "number_problem",
    "numbers_problems",
    "raise_problems",
    "strings_problem",
    "table_problem",
]


@dataclass(frozen=True)
class Bound:
    """The values a numeric field may take.

    Attributes
    ----------
    low, high
        Smallest and largest allowed value, in ``unit``.
    unit
        Unit for messages (``"m"``, ``"m/s"``, ``"persons"``); empty for a pure number.
    above
        ``True``: ``low`` itself is excluded (the value must be greater than ``low``).
    integer
        Whether the value must be a whole number.
    """

    low: float
    high: float
    unit: str = ""
    above: bool = False
    integer: bool = False

    def expected(self) -> str:
        """What a valid value looks like, for messages."""
        kind = "a whole number" if self.integer else "a finite number"
        unit = f" {self.unit}" if self.unit else ""
        if self.above:
            return f"{kind} greater than {_fmt(self.low)} and at most {_fmt(self.high)}{unit}"
        return f"{kind} between {_fmt(self.low)} and {_fmt(self.high)}{unit}"

    def holds(self, value: Any) -> bool:
        """Whether a value is a finite number within the bound."""
        if not is_number(value) or not math.isfinite(value) or value > self.high:
            return False
        if self.integer and value != int(value):
            return False
        return value > self.low if self.above else value >= self.low

    def problem(self, value: Any) -> str | None:
        """``"= inf; expected a finite number between 0 and 150 m"``, or ``None`` if it holds."""
        return None if self.holds(value) else f"= {value!r}; expected {self.expected()}"


def _fmt(x: float) -> str:
    """``1000000`` → ``'1,000,000'``; ``0.25`` → ``'0.25'``."""
    if float(x).is_integer() and abs(x) < 1e15:
        return f"{int(x):,}"
    return f"{x:g}"


def is_number(value: Any) -> bool:
    """Whether a value read from TOML is an int or a float (booleans are not numbers)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def number_problem(field: str, value: Any, bound: Bound) -> str | None:
    """The problem with one numeric field, or ``None`` if it is a number within ``bound``."""
    problem = bound.problem(value)
    return problem and f"field `{field}` {problem}"


def numbers_problems(field: str, values: Any, bound: Bound, *, min_len: int = 0) -> list[str]:
    """Problems with a list of numbers, each element within ``bound``."""
    if not isinstance(values, list | tuple) or len(values) < min_len:
        return [
            f"field `{field}` = {values!r}; expected a list of at least {min_len} number(s), "
            f"each {bound.expected()}"
        ]
    problems = (number_problem(f"{field}[{i}]", v, bound) for i, v in enumerate(values))
    return [p for p in problems if p]


def strings_problem(field: str, value: Any) -> str | None:
    """The problem with a list of strings (e.g. taxonomy types), or ``None``."""
    if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        return None
    return f"field `{field}` = {value!r}; expected a list of strings"


def table_problem(field: str, value: Any) -> str | None:
    """The problem with a value that must be a TOML table, or ``None``."""
    if isinstance(value, Mapping):
        return None
    return f"field `{field}` = {value!r}; expected a table ([{field}])"


def raise_problems(
    error: type[CohesionError], where: str, problems: Iterable[str], todo: str
) -> None:
    """Raise one ``error`` listing every problem on one line, if there are any.

    Parameters
    ----------
    error
        The error type (:class:`~cohesion_gis.errors.ParameterError`,
        :class:`~cohesion_gis.errors.ScenarioError`, ...).
    where
        The file (or object) the problems are in.
    problems
        Problems found, in file order.
    todo
        What to do, a sentence.
    """
    problems = list(problems)
    if problems:
        raise error(f"{where}: " + "; ".join(problems) + f". {todo}")


def metric_crs_problem(crs: Any) -> str | None:
    """Why ``crs`` cannot measure distances in metres; ``None`` for a projected CRS in metres.

    The one answer to "is this CRS projected and metric?" for the whole package. Refused, each
    with what to do: no CRS, one pyproj cannot read, a geographic CRS (degrees), a projected CRS
    in other units (US survey feet: lengths would be off by 3.28x), Web Mercator (EPSG:3857: its
    map metres are 1/cos(latitude) true metres, 2x in Helsinki) and one neither geographic nor
    projected (geocentric, engineering).

    Parameters
    ----------
    crs
        Anything :meth:`pyproj.CRS.from_user_input` reads (a ``CRS``, ``"EPSG:32635"``, 32635),
        or ``None``.

    Returns
    -------
    str or None
        The problem, phrased to follow the name of what holds the CRS (``"streets " + problem``).
    """
    if crs is None:
        return "has no CRS; set it with .set_crs(<EPSG code of the data>)"
    try:
        parsed = pyproj.CRS.from_user_input(crs)
    except pyproj.exceptions.CRSError:
        return f"has a CRS pyproj cannot read ({crs!r}); pass e.g. 'EPSG:32635'"
    horizontal = parsed.sub_crs_list[0] if parsed.is_compound else parsed
    units = sorted({axis.unit_name for axis in horizontal.axis_info})
    operation = horizontal.coordinate_operation
    if parsed.is_geographic:
        why = "a geographic CRS (degrees)"
    elif not parsed.is_projected:
        why = "neither geographic nor projected"
    elif units != ["metre"]:
        why = f"projected in {' and '.join(units)}, not metres"
    elif operation is not None and "Pseudo Mercator" in operation.method_name:
        why = "Web Mercator, whose metres stretch with latitude (x2 at 60°N)"
    else:
        return None
    return (
        f"is in {parsed.to_string()}, {why}; reproject it to a metric CRS, "
        "e.g. .to_crs(gdf.estimate_utm_crs())"
    )


def metric_crs(crs: Any, what: str) -> pyproj.CRS:
    """``crs`` as a pyproj CRS, or an :class:`~cohesion_gis.errors.InputError` naming ``what``.

    Parameters
    ----------
    crs
        The CRS to check (see :func:`metric_crs_problem`).
    what
        What holds it, for the message (``"streets"``, ``"crs"``).

    Raises
    ------
    InputError
        ``crs`` is not a projected CRS in metres: the message says why and what to do.
    """
    problem = metric_crs_problem(crs)
    if problem:
        raise InputError(f"{what} {problem}")
    return pyproj.CRS.from_user_input(crs)
