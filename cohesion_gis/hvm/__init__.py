"""Hostile-vehicle mitigation: vehicle classes, kinematics, barrier ratings and approach routes.

The vehicle dynamics assessment (VDA) of the HVM reference (reference hvm.md §3, §8):

- :mod:`~cohesion_gis.hvm.vehicles` and :mod:`~cohesion_gis.hvm.params`: the threat classes and
  global parameters, from ``defaults/vehicles.toml`` and ``defaults/hvm.toml``;
- :mod:`~cohesion_gis.hvm.kinematics`: run-up, bend caps (widest line), gradients, speed profiles;
- :mod:`~cohesion_gis.hvm.rating`: rating strings, coverage, required ratings;
- :mod:`~cohesion_gis.hvm.routes`: the worst-case approach to every entry of every site.
"""

from __future__ import annotations

from cohesion_gis.hvm.params import HvmParams, load_params
from cohesion_gis.hvm.rating import (
    FAMILY_EQUIVALENCE,
    BarrierRating,
    RatingRequirement,
    covers,
    parse_rating,
    required_rating,
)
from cohesion_gis.hvm.routes import approach_routes
from cohesion_gis.hvm.vehicles import VehicleClass, load_vehicles

__all__ = [
    "FAMILY_EQUIVALENCE",
    "BarrierRating",
    "HvmParams",
    "RatingRequirement",
    "VehicleClass",
    "approach_routes",
    "covers",
    "load_params",
    "load_vehicles",
    "parse_rating",
    "required_rating",
]
