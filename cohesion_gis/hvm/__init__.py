"""Hostile-vehicle mitigation: vehicle classes, kinematics, barrier ratings and approach routes.

The vehicle dynamics assessment (VDA) of the HVM reference (reference hvm.md §3, §8):

- :mod:`~cohesion_gis.hvm.vehicles` and :mod:`~cohesion_gis.hvm.params`: the threat classes and
  global parameters, from ``defaults/vehicles.toml`` and ``defaults/hvm.toml``;
- :mod:`~cohesion_gis.hvm.kinematics`: run-up, bend caps (widest line), gradients, speed profiles;
- :mod:`~cohesion_gis.hvm.rating`: rating strings, coverage, required ratings;
- :mod:`~cohesion_gis.hvm.routes`: the worst-case approach to every entry of every site;
- :mod:`~cohesion_gis.hvm.sites`, :mod:`~cohesion_gis.hvm.barriers`,
  :mod:`~cohesion_gis.hvm.assess`: crowded sites, rated barriers and gaps, the full assessment.

A scenario's assessment from the base one (searching only the sites a change reaches) is
:func:`cohesion_gis.scenario.incremental.hvm_state`, beside the cohesion score's.
"""

from __future__ import annotations

from cohesion_gis.hvm.assess import HvmOptions, SiteAssessment, assess_sites, dem_grades
from cohesion_gis.hvm.barriers import barrier_gaps, combine_barriers, read_rated_barriers
from cohesion_gis.hvm.params import HvmParams
from cohesion_gis.hvm.rating import (
    FAMILY_EQUIVALENCE,
    BarrierRating,
    RatingRequirement,
    covers,
    parse_rating,
    required_rating,
)
from cohesion_gis.hvm.routes import approach_routes
from cohesion_gis.hvm.sites import SiteParams, martyns_law_tier, soft_target_sites
from cohesion_gis.hvm.vehicles import VehicleClass, Vehicles

__all__ = [
    "FAMILY_EQUIVALENCE",
    "BarrierRating",
    "HvmOptions",
    "HvmParams",
    "RatingRequirement",
    "SiteAssessment",
    "SiteParams",
    "VehicleClass",
    "Vehicles",
    "approach_routes",
    "assess_sites",
    "barrier_gaps",
    "combine_barriers",
    "covers",
    "dem_grades",
    "martyns_law_tier",
    "parse_rating",
    "read_rated_barriers",
    "required_rating",
    "soft_target_sites",
]
