"""Incremental recomputation: a scenario's analyses from the base's, recomputing what changed.

Both analyses have one shape. ``<analysis>_state(city, ...)`` runs the analysis in full and
keeps what a scenario can reuse; ``state.update(scenario_city)`` returns the scenario's state,
whose ``result`` equals a full run of the scenario City, recomputing only what the change can
reach; every state has ``city`` (the City analysed), ``result`` and ``recomputed`` (what was
computed, in words):

=====================================  ==========================  ===========================
analysis                               full run, kept              scenario
=====================================  ==========================  ===========================
cohesion score (:mod:`.cohesion`)      :func:`cohesion_state`      :meth:`CohesionState.update`
                                       -> :class:`CohesionState`   (``update_many``: a batch)
HVM site assessment (:mod:`.hvm`)      :func:`hvm_state`           :meth:`HvmState.update`
                                       -> :class:`HvmState`
=====================================  ==========================  ===========================

Both read only the public names of their analysis (:mod:`cohesion_gis.cohesion.score`,
:mod:`cohesion_gis.hvm.assess`) and of the network engine. ``docs/scenarios.md`` describes what
each reuses and the measured gain.

Examples
--------
>>> import cohesion_gis as cg
>>> from cohesion_gis.scenario import apply, load_scenario
>>> from cohesion_gis.scenario.incremental import cohesion_state
>>> city = cg.load_city()  # doctest: +SKIP
>>> base = cohesion_state(city)
>>> after = base.update(apply(city, load_scenario("scenarios/car_park_to_park.toml")))
>>> after.recomputed.startswith("incremental:")
True
"""

from cohesion_gis.scenario.incremental.cohesion import (
    CohesionState,
    HomeValues,
    cohesion_state,
    district_scores,
)
from cohesion_gis.scenario.incremental.hvm import HvmState, hvm_state, touch_m

__all__ = [
    "CohesionState",
    "HomeValues",
    "HvmState",
    "cohesion_state",
    "district_scores",
    "hvm_state",
    "touch_m",
]
