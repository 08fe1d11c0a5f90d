"""Scenarios: "what if" changes to a study area, written as TOML files.

:func:`load_scenario` reads and validates a file (``docs/scenarios.md`` documents the schema),
:func:`check_scenario` checks its references against a City, and :func:`apply` returns the
changed City. :func:`cohesion_gis.comparison.compare` analyses base and scenario side by side;
:func:`cohesion_state` and :func:`hvm_state` run an analysis in full and keep its state, whose
``update(scenario_city)`` recomputes only what changed (:mod:`cohesion_gis.scenario.incremental`).
"""

from cohesion_gis.scenario.apply import apply, check_scenario
from cohesion_gis.scenario.base import load_base
from cohesion_gis.scenario.incremental import CohesionState, HvmState, cohesion_state, hvm_state
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
    "HvmState",
    "Intervention",
    "Scenario",
    "apply",
    "check_scenario",
    "cohesion_state",
    "hvm_state",
    "load_base",
    "load_scenario",
]
