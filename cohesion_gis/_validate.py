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
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from cohesion_gis.errors import CohesionError

__all__ = [
    "Bound",
    "is_number",
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
