"""Exception types of cohesion_gis.

Every error says what went wrong, where (file, layer, feature or field), and what to do.
Each type also subclasses the builtin it refines, so ``except ValueError`` keeps working.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = [
    "CohesionError",
    "DataError",
    "InputError",
    "ParameterError",
    "ScenarioError",
    "listing",
]


class CohesionError(Exception):
    """Root of every error raised by cohesion_gis."""


class InputError(CohesionError, ValueError):
    """An input file, layer or argument is missing, corrupt or inconsistent."""


class DataError(CohesionError, ValueError):
    """Readable input that holds nothing the analysis can use (e.g. no walkable ways)."""


class ParameterError(CohesionError, ValueError):
    """A parameter or TOML parameter file has an unknown key, wrong type or impossible value."""


class ScenarioError(CohesionError, ValueError):
    """A scenario file is invalid: unknown intervention, missing feature, bad geometry or rating."""


def listing(items: Iterable[object], limit: int = 10) -> str:
    """Join the first ``limit`` items for a message, saying how many more there are."""
    items = list(items)
    text = ", ".join(str(x) for x in items[:limit])
    return text + (f" and {len(items) - limit} more" if len(items) > limit else "")
