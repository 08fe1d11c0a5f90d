"""cohesion_gis: contact-space cohesion and hostile-vehicle mitigation for city planners.

Data from OpenStreetMap: © OpenStreetMap contributors (ODbL 1.0).
"""

from __future__ import annotations

import logging

from cohesion_gis.city import City, Provenance, load_city
from cohesion_gis.cohesion import CohesionParams, CohesionResult, score_districts
from cohesion_gis.cohesion.report import write_scores
from cohesion_gis.errors import CohesionError, DataError, InputError, ParameterError, ScenarioError
from cohesion_gis.export import write_layers
from cohesion_gis.maps import cohesion_map, notebook_view, save_offline, scenario_map, sites_map
from cohesion_gis.pipeline import run_study
from cohesion_gis.taxonomy import Taxonomy, load_taxonomy

__version__ = "0.1.0"

logging.getLogger(__name__).addHandler(logging.NullHandler())

__all__ = [
    "City",
    "CohesionError",
    "CohesionParams",
    "CohesionResult",
    "DataError",
    "InputError",
    "ParameterError",
    "Provenance",
    "ScenarioError",
    "Taxonomy",
    "__version__",
    "cohesion_map",
    "load_city",
    "load_taxonomy",
    "notebook_view",
    "run_study",
    "save_offline",
    "scenario_map",
    "score_districts",
    "sites_map",
    "write_layers",
    "write_scores",
]
