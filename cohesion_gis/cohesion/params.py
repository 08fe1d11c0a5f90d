"""Parameters of the cohesion score, filled from ``cohesion_gis/defaults/cohesion.toml``.

Examples
--------
>>> from cohesion_gis.cohesion import CohesionParams
>>> params = CohesionParams.from_toml()
>>> params.access[0].name, params.access[0].d_full_m, params.access[0].d_max_m
('playground', 400.0, 1000.0)
>>> params.search_limit_m   # the largest radius any variant needs: 2,000 m × 1.25
2500.0
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from cohesion_gis._toml import read_toml
from cohesion_gis.cohesion.cleaning import CLEANING_RULES
from cohesion_gis.errors import ParameterError

__all__ = ["AccessCategory", "CohesionParams"]


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
    min_area_m2: float = 0.0
    source: str = ""


@dataclass(frozen=True)
class CohesionParams:
    """Every parameter of :func:`cohesion_gis.cohesion.score_districts`; defaults from TOML.

    Distances are network metres on the walk network. Use :func:`dataclasses.replace` or
    :meth:`scaled` for variants. See ``cohesion_gis/defaults/cohesion.toml`` for sources.
    """

    access: tuple[AccessCategory, ...]
    weights: dict[str, float]
    walk_speed_m_s: float = 1.33
    max_snap_m: float = 100.0
    network_cleaning: str = "largest_component"
    decay_beta_factor: float = 4.0
    diversity_radius_m: float = 800.0
    hill_q: float = 0.0
    bridging_radius_m: float = 800.0
    bridging_wide_radius_m: float = 1200.0
    bridging_wide_types: tuple[str, ...] = ("market", "library")
    bridging_wide_min_area_m2: float = 200_000.0
    capacity_benchmark_m2_per_person: float = 30.0
    capacity_zone_limits_m: tuple[float, ...] = (400.0, 800.0, 1200.0)
    capacity_zone_weights: tuple[float, ...] = (1.0, 0.68, 0.22)
    capacity_space_types: tuple[str, ...] = ("park", "playground", "sport")
    nominal_area_m2: dict[str, float] = field(default_factory=dict)
    sensitivity_distance_scales: tuple[float, ...] = (0.75, 1.25)
    sensitivity_slow_walk_speed_m_s: float = 1.0
    sensitivity_weight_draws: int = 20
    sensitivity_weight_concentration: float = 50.0
    seed: int = 20261128
    source: str = "(packaged defaults)"

    @classmethod
    def from_toml(cls, path: str | Path | None = None) -> CohesionParams:
        """The packaged defaults, with single values overridden by a user TOML file.

        Raises
        ------
        ParameterError
            Unknown keys, wrong types or impossible values, all listed with the file name.
        """
        data, label = read_toml(None, "cohesion.toml")
        if path is not None:
            user, label = read_toml(path, "cohesion.toml")
            data = _merge(data, user, label)
        return cls._from_mapping(data, label)

    @classmethod
    def _from_mapping(cls, data: dict[str, Any], label: str) -> CohesionParams:
        try:
            access = tuple(
                AccessCategory(
                    name=name,
                    space_types=tuple(entry["space_types"]),
                    d_full_m=float(entry["d_full_m"]),
                    d_max_m=float(entry["d_max_m"]),
                    min_area_m2=float(entry.get("min_area_m2", 0.0)),
                    source=str(entry.get("source", "")),
                )
                for name, entry in data["access"].items()
            )
            sens, cap, bri, div = (
                data["sensitivity"], data["capacity"], data["bridging"], data["diversity"]
            )  # fmt: skip
            params = cls(
                access=access,
                weights={k: float(v) for k, v in data["weights"].items()},
                walk_speed_m_s=float(data["walk_speed_m_s"]),
                max_snap_m=float(data["max_snap_m"]),
                network_cleaning=str(data["network_cleaning"]),
                decay_beta_factor=float(data["decay_beta_factor"]),
                diversity_radius_m=float(div["radius_m"]),
                hill_q=float(div["hill_q"]),
                bridging_radius_m=float(bri["radius_m"]),
                bridging_wide_radius_m=float(bri["wide_radius_m"]),
                bridging_wide_types=tuple(bri["wide_types"]),
                bridging_wide_min_area_m2=float(bri["wide_min_area_m2"]),
                capacity_benchmark_m2_per_person=float(cap["benchmark_m2_per_person"]),
                capacity_zone_limits_m=tuple(float(v) for v in cap["zone_limits_m"]),
                capacity_zone_weights=tuple(float(v) for v in cap["zone_weights"]),
                capacity_space_types=tuple(cap["space_types"]),
                nominal_area_m2={k: float(v) for k, v in data["nominal_area_m2"].items()},
                sensitivity_distance_scales=tuple(float(v) for v in sens["distance_scales"]),
                sensitivity_slow_walk_speed_m_s=float(sens["slow_walk_speed_m_s"]),
                sensitivity_weight_draws=int(sens["weight_draws"]),
                sensitivity_weight_concentration=float(sens["weight_concentration"]),
                seed=int(sens["seed"]),
                source=label,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ParameterError(f"{label}: bad or missing value ({exc!r})") from exc
        params.validate()
        return params

    def validate(self) -> None:
        """Check values are possible; raise one ParameterError listing every problem."""
        problems = []
        for cat in self.access:
            if not 0 <= cat.d_full_m < cat.d_max_m:
                problems.append(
                    f"access.{cat.name}: need 0 <= d_full_m < d_max_m, got "
                    f"{cat.d_full_m} and {cat.d_max_m}"
                )
        unknown = set(self.weights) - {"access", "diversity", "bridging", "capacity"}
        if unknown:
            problems.append(f"weights: unknown component(s) {sorted(unknown)}")
        if any(w < 0 for w in self.weights.values()) or sum(self.weights.values()) <= 0:
            problems.append(f"weights must be >= 0 with a positive sum, got {self.weights}")
        if len(self.capacity_zone_limits_m) != len(self.capacity_zone_weights):
            problems.append("capacity: zone_limits_m and zone_weights must have the same length")
        if list(self.capacity_zone_limits_m) != sorted(self.capacity_zone_limits_m):
            problems.append("capacity.zone_limits_m must increase")
        positive = {
            "walk_speed_m_s": self.walk_speed_m_s,
            "max_snap_m": self.max_snap_m,
            "decay_beta_factor": self.decay_beta_factor,
            "diversity.radius_m": self.diversity_radius_m,
            "bridging.radius_m": self.bridging_radius_m,
            "capacity.benchmark_m2_per_person": self.capacity_benchmark_m2_per_person,
        }
        problems += [f"{k} must be > 0, got {v}" for k, v in positive.items() if not v > 0]
        if self.network_cleaning not in CLEANING_RULES:
            problems.append(
                f"network_cleaning must be one of {list(CLEANING_RULES)}, "
                f"got {self.network_cleaning!r}"
            )
        if self.hill_q < 0:
            problems.append(f"diversity.hill_q must be >= 0, got {self.hill_q}")
        if problems:
            raise ParameterError(f"cohesion parameters {self.source}: " + "; ".join(problems))

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
        radius = np.zeros(len(spaces))
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


def _merge(base: dict[str, Any], user: dict[str, Any], label: str) -> dict[str, Any]:
    """Override ``base`` value by value with ``user``; refuse keys ``base`` does not have.

    New access categories may be added (they need the full set of keys).
    """
    out = dict(base)
    problems = []
    for key, value in user.items():
        if key not in base:
            problems.append(f"unknown key {key!r} (allowed: {', '.join(sorted(base))})")
        elif isinstance(base[key], dict) and isinstance(value, dict):
            if key == "access":
                out[key] = {
                    **base[key],
                    **{n: {**base[key].get(n, {}), **v} for n, v in value.items()},
                }
            else:
                try:
                    out[key] = _merge(base[key], value, label)
                except ParameterError as exc:
                    problems.append(f"[{key}] {exc}")
        elif isinstance(base[key], dict) != isinstance(value, dict):
            problems.append(
                f"{key!r} must be {'a table' if isinstance(base[key], dict) else 'a value'}"
            )
        else:
            out[key] = value
    if problems:
        raise ParameterError(f"{label}: " + "; ".join(problems))
    return out
