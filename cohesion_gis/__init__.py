"""cohesion_gis: contact-space cohesion and hostile-vehicle mitigation for city planners.

Data from OpenStreetMap: © OpenStreetMap contributors (ODbL 1.0).
"""

from __future__ import annotations

import importlib
import logging
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cohesion_gis import batch
    from cohesion_gis.city import City, Provenance, load_city
    from cohesion_gis.cohesion import CohesionParams, CohesionResult, score_districts
    from cohesion_gis.comparison import Comparison, compare
    from cohesion_gis.errors import (
        CohesionError,
        DataError,
        InputError,
        ParameterError,
        ScenarioError,
    )
    from cohesion_gis.export import write_assessment, write_layers, write_scores
    from cohesion_gis.hvm import (
        BarrierRating,
        HvmParams,
        VehicleClass,
        Vehicles,
        approach_routes,
        parse_rating,
        required_rating,
    )
    from cohesion_gis.hvm.assess import SiteAssessment, assess_sites
    from cohesion_gis.maps import (
        cohesion_map,
        comparison_map,
        notebook_view,
        save_offline,
        scenario_map,
        sites_map,
    )
    from cohesion_gis.params import load_params
    from cohesion_gis.pipeline import run_study
    from cohesion_gis.read import read_layers
    from cohesion_gis.scenario import Scenario, load_scenario
    from cohesion_gis.scenario.apply import apply
    from cohesion_gis.taxonomy import Taxonomy, load_taxonomy

# Where each public name is defined. Imported on first use (PEP 562), so that
# ``import cohesion_gis.network`` does not load folium, networkx, rasterio and the rest.
_EXPORTS = {
    "cohesion_gis.city": ("City", "Provenance", "load_city"),
    "cohesion_gis.cohesion": ("CohesionParams", "CohesionResult", "score_districts"),
    "cohesion_gis.comparison": ("Comparison", "compare"),
    "cohesion_gis.errors": (
        "CohesionError",
        "DataError",
        "InputError",
        "ParameterError",
        "ScenarioError",
    ),
    "cohesion_gis.export": ("write_assessment", "write_layers", "write_scores"),
    "cohesion_gis.hvm": (
        "BarrierRating",
        "HvmParams",
        "VehicleClass",
        "Vehicles",
        "approach_routes",
        "parse_rating",
        "required_rating",
    ),
    "cohesion_gis.hvm.assess": ("SiteAssessment", "assess_sites"),
    "cohesion_gis.maps": (
        "cohesion_map",
        "comparison_map",
        "notebook_view",
        "save_offline",
        "scenario_map",
        "sites_map",
    ),
    "cohesion_gis.params": ("load_params",),
    "cohesion_gis.pipeline": ("run_study",),
    "cohesion_gis.read": ("read_layers",),
    "cohesion_gis.scenario": ("Scenario", "apply", "load_scenario"),
    "cohesion_gis.taxonomy": ("Taxonomy", "load_taxonomy"),
}
_LAZY = {name: module for module, names in _EXPORTS.items() for name in names}
_SUBMODULES = ("batch",)

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
    "Vehicles",
    "__version__",
    "apply",
    "approach_routes",
    "assess_sites",
    "batch",
    "cohesion_map",
    "compare",
    "comparison_map",
    "load_city",
    "load_params",
    "load_scenario",
    "load_taxonomy",
    "notebook_view",
    "parse_rating",
    "read_layers",
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


def __getattr__(name: str) -> Any:
    """Import a public name's module on first use (PEP 562)."""
    if name in _SUBMODULES:
        return importlib.import_module(f"cohesion_gis.{name}")
    if name not in _LAZY:
        raise AttributeError(f"module 'cohesion_gis' has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
