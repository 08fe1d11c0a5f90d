"""Parameters of the cohesion score, filled from ``cohesion_gis/defaults/cohesion.toml``.

Examples
--------
>>> from cohesion_gis.cohesion import CohesionParams
>>> from cohesion_gis.params import load_params
>>> params = load_params(CohesionParams)
>>> params.access[0].name, params.access[0].d_full_m, params.access[0].d_max_m
('playground', 400.0, 1000.0)
>>> params.search_limit_m   # the largest radius any variant needs: 2,000 m × 1.25
2500.0
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any, ClassVar

import numpy as np

from cohesion_gis._validate import (
    Bound,
    is_number,
    number_problem,
    raise_problems,
    strings_problem,
    table_problem,
)
from cohesion_gis.cohesion.cleaning import CLEANING_RULES
from cohesion_gis.errors import ParameterError
from cohesion_gis.params import FIX_FILE, field_problems, param, read_fields, with_attributes

log = logging.getLogger(__name__)

#: The space-mix indices ``bridging.index`` may name (:mod:`~cohesion_gis.cohesion.bridging`).
BRIDGING_INDICES = ("entropy_ratio", "simpson")

#: How the components are combined into the score (:func:`~.score.composite`).
AGGREGATIONS = ("arithmetic", "geometric")

__all__ = [
    "AGGREGATIONS",
    "BRIDGING_INDICES",
    "AccessCategory",
    "CohesionParams",
]


@dataclass(frozen=True)
class AccessCategory:
    """One line of the access standard: which spaces count and the distances that credit them.

    Attributes
    ----------
    name
        Category name (``playground``, ``local_green``...), used in column names.
    space_types
        Taxonomy contact-space types that count.
    d_full_m
        Network distance (m) up to which the category is fully covered.
    d_max_m
        Distance (m) at which the credit has fallen linearly to 0.
    min_area_m2
        Smallest space that counts (m²); 0 for any.
    source
        The standard the distances come from.
    """

    name: str
    space_types: tuple[str, ...]
    d_full_m: float
    d_max_m: float
    min_area_m2: float
    source: str


#: Plausible bounds (reasons in docs/cohesion.md, "Parameter bounds").
_SPEED = Bound(0.2, 3.0, "m/s")  # a frail walker's 0.2-0.5 m/s up to a brisk 2 m/s; 3 m/s runs
_DISTANCE = Bound(0.0, 10_000.0, "m")  # walk distances: ANGSt's largest tier is 10 km
_RADIUS = Bound(0.0, 10_000.0, "m", above=True)
_AREA = Bound(0.0, 1e8, "m²")  # 100 km²: ten times the largest urban parks (about 10 km²)
_NOMINAL_AREA = Bound(0.0, 1e8, "m²", above=True)
_WEIGHT = Bound(0.0, 100.0)  # relative: normalised by their sum (fractions or percentages)


@with_attributes
@dataclass(frozen=True)
class CohesionParams:
    """Every parameter of :func:`cohesion_gis.cohesion.score_districts`; defaults from TOML.

    Distances are network metres on the walk network. Use :func:`dataclasses.replace` or
    :meth:`scaled` for variants. See ``cohesion_gis/defaults/cohesion.toml`` for sources. Each
    value is declared once, as a field (:func:`cohesion_gis.params.param`: its description,
    bound and TOML path); the access categories and the rules across fields are checked in
    :meth:`problems`.
    """

    access: tuple[AccessCategory, ...] = param(
        "The access standard's categories (``[access.<name>]``), in file order."
    )
    weights: dict[str, float] = param(
        "Weight of each component (access, diversity, bridging, capacity), relative: "
        "normalised by their sum.",
        _WEIGHT,
    )
    aggregation: str = param(
        "How the components are combined (:func:`~.score.composite`).", choices=AGGREGATIONS
    )
    walk_speed_m_s: float = param("Walking speed (m/s).", _SPEED)
    max_snap_m: float = param(
        "Homes and spaces further than this (m) from a walkable edge are not reached.",
        Bound(0.0, 1000.0, "m", above=True),
    )
    snap_tolerance_m: float = param(
        "Distance (m) within which snapped points count as on the same spot.",
        Bound(0.0, 100.0, "m"),
    )
    network_cleaning: str = param(
        "How the walk network is cleaned (:mod:`~.cleaning`).", choices=CLEANING_RULES
    )
    decay_beta_factor: float = param(
        "β × d_max of the distance decay exp(-β d).", Bound(0.0, 20.0, above=True)
    )
    diversity_radius_m: float = param(
        "Network radius (m) of the space mix.", _RADIUS, toml="diversity.radius_m"
    )
    hill_q: float = param(
        "Order q of the Hill number (0: distinct types, monotone).",
        Bound(0.0, 10.0),
        toml="diversity.hill_q",
    )
    bridging_index: str = param(
        "Space-mix index of bridging.", choices=BRIDGING_INDICES, toml="bridging.index"
    )
    bridging_radius_m: float = param(
        "Catchment radius (m) of local spaces.", _RADIUS, toml="bridging.radius_m"
    )
    bridging_wide_radius_m: float = param(
        "Catchment radius (m) of the wide-catchment spaces.", _RADIUS,
        toml="bridging.wide_radius_m",
    )  # fmt: skip
    bridging_wide_types: tuple[str, ...] = param(
        "Space types with the wide catchment.", toml="bridging.wide_types"
    )
    bridging_wide_min_area_m2: float = param(
        "Spaces at least this large (m²) have the wide catchment.", _AREA,
        toml="bridging.wide_min_area_m2",
    )  # fmt: skip
    capacity_benchmark_m2_per_person: float = param(
        "Open space per person (m²) that meets the benchmark.",
        Bound(0.0, 1000.0, "m²/person", above=True),
        toml="capacity.benchmark_m2_per_person",
    )
    capacity_zone_limits_m: tuple[float, ...] = param(
        "Outer limits (m, increasing) of the catchment zones.", _RADIUS, min_len=1,
        toml="capacity.zone_limits_m",
    )  # fmt: skip
    capacity_zone_weights: tuple[float, ...] = param(
        "Weight (0-1) of each catchment zone.", Bound(0.0, 1.0), min_len=1,
        toml="capacity.zone_weights",
    )  # fmt: skip
    capacity_space_types: tuple[str, ...] = param(
        "Space types that count as open-space capacity.", toml="capacity.space_types"
    )
    nominal_area_m2: dict[str, float] = param(
        "Area (m²) given to a space type mapped without one.", _NOMINAL_AREA
    )
    min_usable_area_m2: dict[str, float] = param("Smallest usable area (m²) per space type.", _AREA)
    edge_radius_m: float = param(
        "Radius (m) within which a home reads the data's edge.", _RADIUS, toml="edge.radius_m"
    )
    # below the data hull's 100 m margin (sources.osm.HULL_CELL_M), or every coast is an edge
    edge_clip_tolerance_m: float = param(
        "Tolerance (m) of the data's edge.", Bound(0.0, 50.0, "m", above=True),
        toml="edge.clip_tolerance_m",
    )  # fmt: skip
    edge_cut_flag_share: float = param(
        "A district with at least this share of homes cut by the edge is flagged.",
        Bound(0.0, 1.0),
        toml="edge.flag_share",
    )
    percentile_min_homes: int = param(
        "Fewest homes a district needs for its percentiles.", Bound(1, 1000, integer=True)
    )
    sensitivity_distance_scales: tuple[float, ...] = param(
        "Distance scales of the sensitivity variants.", Bound(0.25, 4.0),
        toml="sensitivity.distance_scales",
    )  # fmt: skip
    sensitivity_slow_walk_speed_m_s: float = param(
        "Walking speed (m/s) of the slow-walker variant.", _SPEED,
        toml="sensitivity.slow_walk_speed_m_s",
    )  # fmt: skip
    sensitivity_weight_draws: int = param(
        "Random weight draws of the sensitivity.", Bound(0, 10_000, integer=True),
        toml="sensitivity.weight_draws",
    )  # fmt: skip
    sensitivity_weight_concentration: float = param(
        "Dirichlet concentration of the weight draws.", Bound(0.0, 1e6, above=True),
        toml="sensitivity.weight_concentration",
    )  # fmt: skip
    seed: int = param(
        "Seed of the random draws (numpy SeedSequence).", Bound(0, 2**32 - 1, integer=True),
        toml="sensitivity.seed",
    )  # fmt: skip
    source: str = param("The file(s) the values come from (for messages).")

    PACKAGED: ClassVar[str] = "cohesion.toml"
    OPEN_TABLES: ClassVar[tuple[str, ...]] = ("access",)

    def __post_init__(self) -> None:
        raise_problems(
            ParameterError,
            f"cohesion parameters {self.source}",
            self.problems(),
            "Fix the value(s) and run again",
        )

    @classmethod
    def from_table(
        cls, table: Mapping[str, Any], label: str, problems: list[str]
    ) -> CohesionParams:
        """Build from a full ``cohesion.toml`` table (use :func:`cohesion_gis.params.load_params`).

        Raises
        ------
        ParameterError
            ``problems`` and every unknown key, wrong type or impossible value, in one message.
        """
        tables = [p for key in _TABLES if (p := table_problem(key, table.get(key)))]
        if tables:  # only a broken packaged file: merging keeps the packaged tables
            raise_problems(ParameterError, label, problems + tables, FIX_FILE)
        problems = list(problems)
        access = []
        for name, entry in table["access"].items():
            if not isinstance(entry, Mapping):
                problems.append(f"field `access.{name}` = {entry!r}; expected a table")
                continue
            missing = [k for k in ("space_types", "d_full_m", "d_max_m") if k not in entry]
            unknown = sorted(set(entry) - _ACCESS_KEYS)
            if unknown:
                problems.append(
                    f"unknown key(s) {unknown} in [access.{name}] (allowed: "
                    f"{', '.join(sorted(_ACCESS_KEYS))})"
                )
            if missing:
                problems.append(f"[access.{name}] needs {', '.join(missing)}")
                continue
            access.append(
                AccessCategory(
                    name=name,
                    space_types=_seq(entry["space_types"]),
                    d_full_m=_num(entry["d_full_m"]),
                    d_max_m=_num(entry["d_max_m"]),
                    min_area_m2=_num(entry.get("min_area_m2", 0.0)),  # absent: any size counts
                    source=str(entry.get("source", "")),
                )
            )
        values, typed = read_fields(table, _DECLARED)
        values |= {"access": tuple(access), "source": label}
        problems += typed + _rules(values)
        raise_problems(ParameterError, label, problems, FIX_FILE)
        params = cls(**values)
        params.warn_non_monotone()
        return params

    def warn_non_monotone(self) -> None:
        """Log a warning when a setting lets a new contact space lower some home's score.

        With ``diversity.hill_q`` > 0 the Hill number weighs the evenness of the types' shares,
        so one more space of a type already near a home makes the mix less even and can lower
        that home's diversity and score (q = 0 counts distinct types and can only rise): a
        scenario that adds a playground may then show a loss. Allowed as the reference's q = 1
        sensitivity (§3.4 D), never the default.
        """
        if self.hill_q > 0:
            log.warning(
                "cohesion parameters %s: diversity.hill_q = %g > 0 weighs evenness, so adding a "
                "contact space can lower a home's diversity and score (a scenario may show a "
                "loss from a new space); use hill_q = 0 for scenarios (docs/cohesion.md)",
                self.source, self.hill_q,
            )  # fmt: skip

    def problems(self) -> list[str]:
        """Every impossible or implausible value, named by its TOML field (empty: all good).

        Numbers must be finite and within the bounds of ``docs/cohesion.md`` (e.g. distances
        0-10,000 m, walking speeds 0.2-3 m/s); lists must hold the right kind of values.
        """
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        return field_problems(values, _DECLARED) + _rules(values)

    @property
    def search_limit_m(self) -> float:
        """The largest network distance any component or sensitivity variant reads (m)."""
        radii = [c.d_max_m for c in self.access] + [
            self.diversity_radius_m,
            self.bridging_radius_m,
            self.bridging_wide_radius_m,
            max(self.capacity_zone_limits_m),
        ]
        return max(radii) * self.sensitivity_scale

    @property
    def sensitivity_scale(self) -> float:
        """The largest factor a sensitivity variant multiplies the distance thresholds by.

        The largest distance scale, or the walking-speed variant's ratio to the base speed
        (a slower walker covers less ground in the same minutes, so it shrinks the thresholds;
        a faster one would stretch them); at least 1.
        """
        speed = self.sensitivity_slow_walk_speed_m_s / self.walk_speed_m_s
        return max(1.0, speed, *self.sensitivity_distance_scales)

    def without_sensitivity(self) -> CohesionParams:
        """The same parameters with no distance variant (searches need not reach beyond)."""
        return replace(
            self,
            sensitivity_distance_scales=(),
            sensitivity_slow_walk_speed_m_s=self.walk_speed_m_s,
        )

    def space_radius_m(self, spaces: Any, *, access_only: bool = False) -> np.ndarray:
        """The largest network distance (m) at which any component reads each space.

        Access reads a space up to its categories' ``d_max``; diversity up to its radius;
        bridging up to the space's catchment radius; capacity up to the last zone for open
        space; every distance times the largest sensitivity scale. With ``access_only`` (the
        plain network, read only for severance), just the access ``d_max`` of the base run.

        Parameters
        ----------
        spaces
            Contact spaces with ``space_type`` and ``area_m2``.
        """
        kind = spaces["space_type"].to_numpy()
        area = spaces["area_m2"].to_numpy(dtype=float)
        radius: np.ndarray = np.zeros(len(spaces))
        for cat in self.access:
            counts = np.isin(kind, cat.space_types) & (area >= cat.min_area_m2)
            radius = np.where(counts, np.maximum(radius, cat.d_max_m), radius)
        if access_only:
            return radius
        wide = np.isin(kind, self.bridging_wide_types) | (area >= self.bridging_wide_min_area_m2)
        bridging = np.where(wide, self.bridging_wide_radius_m, self.bridging_radius_m)
        radius = np.maximum.reduce(
            [radius, bridging, np.full(len(spaces), self.diversity_radius_m)]
        )
        capacity = np.isin(kind, self.capacity_space_types)
        radius = np.where(capacity, np.maximum(radius, max(self.capacity_zone_limits_m)), radius)
        return radius * self.sensitivity_scale

    def scaled(self, factor: float) -> CohesionParams:
        """The same parameters with every distance threshold multiplied by ``factor``."""
        return replace(
            self,
            access=tuple(
                replace(c, d_full_m=c.d_full_m * factor, d_max_m=c.d_max_m * factor)
                for c in self.access
            ),
            diversity_radius_m=self.diversity_radius_m * factor,
            bridging_radius_m=self.bridging_radius_m * factor,
            bridging_wide_radius_m=self.bridging_wide_radius_m * factor,
            capacity_zone_limits_m=tuple(v * factor for v in self.capacity_zone_limits_m),
            sensitivity_distance_scales=(),
        )


#: The fields read by their declaration (all but the access categories and the file name).
_DECLARED = tuple(f for f in fields(CohesionParams) if f.name not in ("access", "source"))
_ACCESS_KEYS = {"space_types", "d_full_m", "d_max_m", "min_area_m2", "source"}
_TABLES = (
    "access",
    "weights",
    "diversity",
    "bridging",
    "capacity",
    "nominal_area_m2",
    "min_usable_area_m2",
    "edge",
    "sensitivity",
)


def _rules(values: Mapping[str, Any]) -> list[str]:
    """The checks no single field's declaration states, of ``values`` (name → value).

    The access categories (each distance within its bound, ``d_full_m`` < ``d_max_m``), the
    component weights (known, a positive sum, not bridging alone) and the capacity zones (as
    many weights as limits, increasing); what is missing or mistyped is skipped.
    """
    problems: list[str] = []
    for cat in values.get("access", ()):
        where = f"access.{cat.name}"
        keys = {"d_full_m": _DISTANCE, "d_max_m": _RADIUS, "min_area_m2": _AREA}
        bad = [
            p
            for key, bound in keys.items()
            if (p := number_problem(f"{where}.{key}", getattr(cat, key), bound))
        ]
        if not bad and not cat.d_full_m < cat.d_max_m:
            bad.append(
                f"[{where}] d_full_m = {cat.d_full_m:g} must be less than d_max_m = {cat.d_max_m:g}"
            )
        bad += [p for p in [strings_problem(f"{where}.space_types", cat.space_types)] if p]
        problems += bad
    weights = values.get("weights")
    if isinstance(weights, Mapping):
        unknown = set(weights) - {"access", "diversity", "bridging", "capacity"}
        if unknown:
            problems.append(f"weights: unknown component(s) {sorted(unknown)}")
        if all(_WEIGHT.holds(w) for w in weights.values()):
            if sum(weights.values()) <= 0:
                problems.append(f"weights must have a positive sum, got {dict(weights)}")
            elif sum(w for k, w in weights.items() if k != "bridging") <= 0:
                problems.append(
                    f"weights of access, diversity and capacity sum to 0 ({dict(weights)}): "
                    "bridging needs resident-group data, and without it no score is left; give "
                    "`weights.access` or `weights.capacity` a positive weight"
                )
    limits, zone_weights = values.get("capacity_zone_limits_m"), values.get("capacity_zone_weights")
    zones = [f for f in _DECLARED if f.name in ("capacity_zone_limits_m", "capacity_zone_weights")]
    if limits is not None and zone_weights is not None and not field_problems(values, zones):
        if len(limits) != len(zone_weights):
            problems.append("capacity: zone_limits_m and zone_weights must have the same length")
        elif list(limits) != sorted(limits):
            problems.append("capacity.zone_limits_m must increase")
    return problems


def _num(value: Any, *, whole: bool = False) -> Any:
    """A finite TOML number as a float (``whole``: an int if integral); anything else as read.

    Values left as read are named by :meth:`CohesionParams.problems`.
    """
    if not is_number(value) or not math.isfinite(value):
        return value
    if whole:
        return int(value) if float(value).is_integer() else value
    return float(value)


def _seq(value: Any) -> Any:
    """A TOML list as a tuple (numbers as floats); anything else as read."""
    return tuple(_num(v) for v in value) if isinstance(value, list) else value
