"""Apply a scenario to a City, and check its references against that City.

Interventions run in file order on a new City each time (:func:`dataclasses.replace`), sharing
every table they leave alone with the base; the base is never changed.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import TYPE_CHECKING

from cohesion_gis.errors import ScenarioError
from cohesion_gis.scenario.interventions import APPLY
from cohesion_gis.scenario.spec import Scenario, scenario_problem

if TYPE_CHECKING:
    from cohesion_gis.city import City

__all__ = ["apply", "check_scenario"]

log = logging.getLogger(__name__)


def _run(city: City, scenario: Scenario) -> tuple[City, list[str]]:
    problems = []
    for iv in scenario.interventions:
        try:
            city = APPLY[iv.type](city, iv)
        except ScenarioError as exc:
            problems.append(f"{iv.label}: {exc}")
    return city, problems


def apply(city: City, scenario: Scenario) -> City:
    """The City after the scenario's interventions; ``city`` itself is left unchanged.

    Parameters
    ----------
    city
        The base study area (:class:`~cohesion_gis.city.City`).
    scenario
        A scenario from :func:`~cohesion_gis.scenario.load_scenario`.

    Returns
    -------
    City
        A new City; unchanged tables are the base's own objects.

    Raises
    ------
    ScenarioError
        References the city cannot resolve (unknown id or name, geometry outside the study area,
        unknown space type or group), all listed with their entries.

    Examples
    --------
    >>> import cohesion_gis as cg
    >>> from cohesion_gis.scenario import apply, load_scenario
    >>> city = cg.load_city()  # doctest: +SKIP
    >>> after = apply(city, load_scenario("scenarios/car_park_to_park.toml"))
    >>> len(after.contact_spaces) - len(city.contact_spaces), after.walk_edges is city.walk_edges
    (1, True)
    """
    new, problems = _run(city, scenario)
    if problems:
        raise scenario_problem(scenario.where, problems)
    provenance = replace(
        city.provenance,
        parameters={
            **city.provenance.parameters,
            "scenario": scenario.name,
            "scenario_file": str(scenario.path) if scenario.path else None,
        },
    )
    log.info("applied %s: %d interventions", scenario.name, len(scenario.interventions))
    return replace(new, name=f"{city.name}+{scenario.name}", provenance=provenance)


def check_scenario(city: City, scenario: Scenario) -> None:
    """Check every reference of the scenario against the city (the second validation stage).

    Raises
    ------
    ScenarioError
        As :func:`apply`.
    """
    _, problems = _run(city, scenario)
    if problems:
        raise scenario_problem(scenario.where, problems)
