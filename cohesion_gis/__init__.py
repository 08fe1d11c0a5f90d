"""cohesion_gis: contact-space cohesion and hostile-vehicle mitigation for city planners."""

from __future__ import annotations

import logging

from cohesion_gis.errors import CohesionError, DataError, InputError, ParameterError, ScenarioError

__version__ = "0.1.0"

logging.getLogger(__name__).addHandler(logging.NullHandler())

__all__ = [
    "CohesionError",
    "DataError",
    "InputError",
    "ParameterError",
    "ScenarioError",
    "__version__",
]
