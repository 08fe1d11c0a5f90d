"""cohesion_gis: contact-space cohesion and hostile-vehicle mitigation for city planners.

Data from OpenStreetMap: © OpenStreetMap contributors (ODbL 1.0).
"""

from __future__ import annotations

import logging

from cohesion_gis.city import City, Provenance, load_city
from cohesion_gis.errors import CohesionError, DataError, InputError, ParameterError, ScenarioError
from cohesion_gis.export import write_layers
from cohesion_gis.taxonomy import Taxonomy, load_taxonomy

__version__ = "0.1.0"

logging.getLogger(__name__).addHandler(logging.NullHandler())

__all__ = [
    "City",
    "CohesionError",
    "DataError",
    "InputError",
    "ParameterError",
    "Provenance",
    "ScenarioError",
    "Taxonomy",
    "__version__",
    "load_city",
    "load_taxonomy",
    "write_layers",
]
