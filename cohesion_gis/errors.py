"""Exception types of cohesion_gis.

Every error says what went wrong, where (file, layer, feature or field), and what to do.
Each type also subclasses the builtin it refines, so ``except ValueError`` keeps working.
"""

from __future__ import annotations

__all__ = [
    "CohesionError",
    "DataError",
    "InputError",
    "ParameterError",
    "ScenarioError",
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
