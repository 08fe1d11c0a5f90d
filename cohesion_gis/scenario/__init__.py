"""Scenarios: "what if" changes to a study area, written as TOML files.

:func:`load_scenario` reads and validates a file (``docs/scenarios.md`` documents the schema),
:func:`check_scenario` checks its references against a City, and :func:`apply` returns the
changed City. :func:`cohesion_gis.comparison.compare` analyses base and scenario side by side;
:func:`rescore` scores a scenario City from the base :func:`score_state`, recomputing only what
changed.
"""

from cohesion_gis.scenario.apply import apply, check_scenario
from cohesion_gis.scenario.base import load_base
from cohesion_gis.scenario.incremental import CohesionState, rescore, score_state
from cohesion_gis.scenario.spec import (
    INTERVENTIONS,
    BaseSpec,
    Intervention,
    Scenario,
    load_scenario,
)

__all__ = [
    "INTERVENTIONS",
    "BaseSpec",
    "CohesionState",
    "Intervention",
    "Scenario",
    "apply",
    "check_scenario",
    "load_base",
    "load_scenario",
    "rescore",
    "score_state",
]
