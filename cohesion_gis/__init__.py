"""cohesion_gis: contact-space cohesion and hostile-vehicle mitigation for city planners.

Data from OpenStreetMap: © OpenStreetMap contributors (ODbL 1.0).
"""

from __future__ import annotations

import logging

from cohesion_gis import batch
from cohesion_gis.city import City, Provenance, load_city
from cohesion_gis.cohesion import CohesionParams, CohesionResult, score_districts
from cohesion_gis.cohesion.report import write_scores
from cohesion_gis.comparison import Comparison, compare
from cohesion_gis.errors import CohesionError, DataError, InputError, ParameterError, ScenarioError
from cohesion_gis.export import write_layers
from cohesion_gis.hvm import (
    BarrierRating,
    HvmParams,
    VehicleClass,
    approach_routes,
    load_vehicles,
    parse_rating,
    required_rating,
)
from cohesion_gis.hvm.assess import SiteAssessment, assess_sites, write_assessment
from cohesion_gis.maps import cohesion_map, notebook_view, save_offline, scenario_map, sites_map
from cohesion_gis.pipeline import run_study
from cohesion_gis.scenario import Scenario, apply, load_scenario
from cohesion_gis.taxonomy import Taxonomy, load_taxonomy

__version__ = "0.1.0"

logging.getLogger(__name__).addHandler(logging.NullHandler())

__all__ = [
    "BarrierRating",
    "City",
    "CohesionError",
    "CohesionParams",
    "CohesionResult",
    "Comparison",
    "DataError",
    "HvmParams",
    "InputError",
    "ParameterError",
    "Provenance",
    "Scenario",
    "ScenarioError",
    "SiteAssessment",
    "Taxonomy",
    "VehicleClass",
    "__version__",
    "apply",
    "approach_routes",
    "assess_sites",
    "batch",
    "cohesion_map",
    "compare",
    "load_city",
    "load_scenario",
    "load_taxonomy",
    "load_vehicles",
    "notebook_view",
    "parse_rating",
    "required_rating",
    "run_study",
    "save_offline",
    "scenario_map",
    "score_districts",
    "sites_map",
    "write_assessment",
    "write_layers",
    "write_scores",
]
