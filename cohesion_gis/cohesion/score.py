r"""The contact-space cohesion score of every home and district.

.. math:: CCS_i = 100 \cdot \frac{\omega_A A_i + \omega_D D_i + \omega_B B_i + \omega_Q \hat Q_i}
                                 {\omega_A + \omega_D + \omega_B + \omega_Q}

with components from :mod:`~cohesion_gis.cohesion.access`, :mod:`~.diversity`,
:mod:`~.bridging` and :mod:`~.capacity` on the barrier-aware walk network; severance
(:mod:`~.severance`) is reported beside it. Districts are population-weighted means of their
homes, :math:`CCS_d = \sum_{i \in d} n_i CCS_i / \sum_{i \in d} n_i`; with resident groups, the
same mean weighted by each group's residents, and the gap between groups.

A sensitivity run recomputes the district scores with every distance ±25 %, at a slow walking
speed (1.0 m/s) and with Monte Carlo weights (Dirichlet around the defaults, seeded), and reports
each district's rank range and the Spearman correlation of each variant with the base ranking.
Every variant reads the same distance table, so it costs no new network search.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from numba import njit

from cohesion_gis.cohesion.access import access
from cohesion_gis.cohesion.bridging import bridging, group_columns, home_bridging, space_bridging
from cohesion_gis.cohesion.capacity import capacity, home_capacity, space_supply
from cohesion_gis.cohesion.cleaning import CleanedNetwork, clean_network
from cohesion_gis.cohesion.diversity import diversity
from cohesion_gis.cohesion.params import CohesionParams
from cohesion_gis.cohesion.reach import Reach, reach
from cohesion_gis.cohesion.severance import barrier_aware_network, severance
from cohesion_gis.errors import DataError
from cohesion_gis.network import map_chunks

__all__ = [
    "COMPONENTS",
    "CohesionResult",
    "assemble_result",
    "distance_tables",
    "home_components",
    "score_districts",
    "score_from_reach",
    "search_params",
    "space_components",
    "space_flags",
    "walk_networks",
]

log = logging.getLogger(__name__)

#: The components of the composite, in report order.
COMPONENTS = ("access", "diversity", "bridging", "capacity")


@dataclass(frozen=True)
class CohesionResult:
    """Everything :func:`score_districts` measured.

    Attributes
    ----------
    districts
        ``district_id, name, population, access, diversity, bridging, capacity, severance,
        score`` (components 0–1, score 0–100), ``access_<category>``, per-group
        ``score_<group>`` and ``score_gap`` where group data exist, sensitivity columns
        ``rank``, ``rank_min``, ``rank_max``, and ``flag`` (a reason, or empty).
    homes
        Per home: the same components, ``score``, ``district_id``, ``population``.
    spaces
        Per contact space: ``bridging`` (its users' mix, 0–1), ``catchment_persons``,
        ``supply_m2_per_person``, ``share_<group>``, ``n_entrances``, ``reached_by_persons``,
        ``unreached_reason`` (why no home reaches it, or empty).
    sensitivity
        One row per variant: ``variant``, ``spearman_rho`` with the base district ranking.
    params
        The parameters used.
    notes
        Plain-language notes every output repeats (``network``: how the walk network was
        cleaned; ``bridging``: whether resident-group data were available).
    """

    districts: gpd.GeoDataFrame
    homes: gpd.GeoDataFrame
    spaces: gpd.GeoDataFrame
    sensitivity: pd.DataFrame
    params: CohesionParams
    notes: dict[str, str] = field(default_factory=dict)


def score_districts(
    city: Any,
    params: CohesionParams | None = None,
    *,
    sensitivity: bool = True,
) -> CohesionResult:
    """Score every district of a :class:`~cohesion_gis.city.City` for contact spaces.

    Parameters
    ----------
    city
        The study area (homes with population, contact spaces, walk network, districts).
    params
        Defaults from ``cohesion_gis/defaults/cohesion.toml`` when None.
    sensitivity
        Also run the sensitivity variants (cheap: no new network search).

    Raises
    ------
    DataError
        The study area has no residents.
    InputError
        Homes with negative or missing population.

    Examples
    --------
    >>> import cohesion_gis as cg
    >>> result = cg.score_districts(cg.load_city(), sensitivity=False)
    >>> sorted(result.districts["name"])[:2]
    ['Kaartinkaupunki', 'Kallio']
    >>> bool(result.districts["score"].between(0, 100).all())
    True
    """
    params = params or CohesionParams.from_toml()
    params.validate()
    _require_residents(city)
    networks = walk_networks(city, params)
    aware, free = distance_tables(city, networks, params, sensitivity=sensitivity)
    return score_from_reach(city, aware, free, params, sensitivity=sensitivity, networks=networks)


def walk_networks(city: Any, params: CohesionParams) -> tuple[CleanedNetwork, CleanedNetwork]:
    """The barrier-aware and the plain walk network, each cleaned by ``params.network_cleaning``.

    See :mod:`~cohesion_gis.cohesion.cleaning`.
    """
    aware = barrier_aware_network(city.walk_nodes, city.walk_edges)
    return (
        clean_network(*aware, rule=params.network_cleaning),
        clean_network(city.walk_nodes, city.walk_edges, rule=params.network_cleaning),
    )


def distance_tables(
    city: Any,
    networks: tuple[CleanedNetwork, CleanedNetwork],
    params: CohesionParams,
    *,
    sensitivity: bool,
) -> tuple[Reach, Reach]:
    """The home × space tables on the barrier-aware and on the plain walk network.

    The plain one is searched only to each space's access ``d_max`` (severance reads only
    access). Each call spreads its snapping and searches over every CPU; running the two side by
    side was measured slower on 2 cores (more memory traffic, no idle core to fill).
    """
    searched = search_params(params, sensitivity=sensitivity)
    homes, spaces = city.homes, city.contact_spaces
    aware = reach(homes, spaces, *networks[0].network, params=searched)
    free = reach(homes, spaces, *networks[1].network, params=searched, access_only=True)
    return aware, free


def search_params(params: CohesionParams, *, sensitivity: bool) -> CohesionParams:
    """The parameters the network searches use.

    Without the sensitivity variants no space is searched beyond the distances the base run
    reads (with the default ±25 %, about a third less search on a large network).
    """
    return params if sensitivity else params.without_sensitivity()


def score_from_reach(
    city: Any,
    aware: Reach,
    free: Reach,
    params: CohesionParams,
    *,
    sensitivity: bool = True,
    networks: tuple[CleanedNetwork, CleanedNetwork] | None = None,
) -> CohesionResult:
    """Every step of :func:`score_districts` after the distance tables.

    For callers that build or reuse the tables themselves (incremental scenario rescoring).

    Parameters
    ----------
    city
        The study area (districts, homes, contact spaces, taxonomy).
    aware, free
        Distance tables on the barrier-aware and the plain walk network.
    params
        The parameters the tables were built with.
    sensitivity
        Also run the sensitivity variants.
    networks
        The cleaned networks the tables were searched on (:func:`walk_networks`), for the notes.
    """
    _require_residents(city)
    homes, spaces = home_components(aware, params, n_types=len(city.taxonomy.contact_spaces))
    homes["severance"] = severance(homes["access"], access(free, params)["access"])
    spaces = space_flags(spaces, aware)
    variants_of = aware if sensitivity else None
    notes = {"network": networks[0].describe()} if networks is not None else {}
    return assemble_result(city, homes, spaces, params, sensitivity_of=variants_of, notes=notes)


def assemble_result(
    city: Any,
    homes: gpd.GeoDataFrame,
    spaces: gpd.GeoDataFrame,
    params: CohesionParams,
    *,
    sensitivity_of: Reach | None = None,
    notes: dict[str, str] | None = None,
) -> CohesionResult:
    """District means and flags from scored homes and spaces; sensitivity variants of a table.

    Parameters
    ----------
    city
        The study area (districts, contact spaces).
    homes, spaces
        :func:`home_components` with ``severance``, and :func:`space_flags`.
    sensitivity_of
        The barrier-aware table to run the sensitivity variants on; None skips them.
    notes
        :attr:`CohesionResult.notes`.
    """
    districts = _districts(city.districts, homes, params)
    if city.contact_spaces.empty:
        log.warning("%s: no contact spaces in the study area: every component is 0", city.name)
        districts["flag"] = "no contact spaces in the study area"
    table = pd.DataFrame()
    if sensitivity_of is not None:
        n_types = len(city.taxonomy.contact_spaces)
        districts, table = _sensitivity(sensitivity_of, districts, homes, params, n_types=n_types)
    log.info(
        "scored %d districts, %d homes, %d spaces; mean score %.1f",
        len(districts), len(homes), len(spaces), float(districts["score"].mean()),
    )  # fmt: skip
    return CohesionResult(districts, homes, spaces, table, params, dict(notes or {}))


def _require_residents(city: Any) -> None:
    if city.homes.empty or float(city.homes["population"].sum()) <= 0:
        raise DataError(
            f"{city.name}: no residents in the study area, so there is nothing to score; "
            "pass a population raster or population_total= to load_city"
        )


def home_components(
    reach_table: Reach,
    params: CohesionParams,
    *,
    n_types: int,
    space_values: pd.DataFrame | None = None,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Per-home components and composite score, and per-space bridging and supply.

    Parameters
    ----------
    reach_table
        The distance table; with ``space_values`` it may hold only some homes.
    n_types
        Contact-space types in the taxonomy (the diversity scale).
    space_values
        :func:`space_components` of every space, when known (they depend on every home's
        residents, so an incremental rescore of some homes passes them in).
    """
    known = space_values
    if known is None:
        per_space = (partial(bridging, reach_table, params), partial(capacity, reach_table, params))
    else:
        per_space = (
            lambda: (home_bridging(reach_table, params, known["bridging"].to_numpy()), None),
            lambda: (
                home_capacity(reach_table, params, known["supply_m2_per_person"].to_numpy()),
                None,
            ),
        )
    # compiled passes over the table that release the GIL: the components run side by side
    tasks = (
        *per_space,
        partial(access, reach_table, params),
        partial(diversity, reach_table, params, n_types=n_types),
    )
    (home_b, space_b), (home_q, supply), acc, div = map_chunks(
        lambda i: tasks[i](), len(tasks), None
    )
    if space_values is None:
        space_values = pd.concat([space_b, supply], axis=1)
    homes = reach_table.homes.copy()
    homes = homes.drop(columns=[c for c in homes.columns if c in acc.columns])
    homes = pd.concat([homes, acc], axis=1)
    homes["diversity"] = div
    homes["bridging"] = home_b
    homes[["capacity_m2_per_person", "capacity"]] = home_q
    homes["score"] = composite(homes, params.weights)
    new = space_values.columns.difference(reach_table.spaces.columns, sort=False)
    spaces = pd.concat([reach_table.spaces, space_values[new]], axis=1)
    return gpd.GeoDataFrame(homes, crs=reach_table.homes.crs), gpd.GeoDataFrame(
        spaces, crs=reach_table.spaces.crs
    )


def space_components(reach_table: Reach, params: CohesionParams) -> pd.DataFrame:
    """Per space: bridging with its catchment (:func:`space_bridging`) and supply ratio.

    ``reach_table`` must hold every home.
    """
    return pd.concat(
        [space_bridging(reach_table, params), space_supply(reach_table, params)], axis=1
    )


def composite(frame: pd.DataFrame, weights: dict[str, float]) -> pd.Series:
    """Weighted mean of the components, × 100."""
    total = sum(weights.get(c, 0.0) for c in COMPONENTS)
    value = sum(weights.get(c, 0.0) * frame[c] for c in COMPONENTS)
    return 100.0 * value / total


def _districts(
    districts: gpd.GeoDataFrame, homes: pd.DataFrame, params: CohesionParams
) -> gpd.GeoDataFrame:
    columns = [*COMPONENTS, "severance", "score"] + [c for c in homes if c.startswith("access_")]
    key = _DistrictKey(homes)
    means = key.means(homes[columns])
    out = districts[["district_id", "name", "geometry"]].merge(
        means, left_on="district_id", right_index=True, how="left"
    )
    out.insert(2, "population", out["district_id"].map(key.population).fillna(0.0).to_numpy())
    counts = group_columns(homes)
    if counts is not None:
        for group in counts.columns:
            share = key.means(homes["score"], weight=counts[group].to_numpy())
            out[f"score_{group}"] = out["district_id"].map(share)
        first, *rest = counts.columns
        if rest:
            out["score_gap"] = out[f"score_{rest[0]}"] - out[f"score_{first}"]
    out["flag"] = np.where(out["population"] > 0, "", "no residents: not scored")
    low = out[list(COMPONENTS)].lt(0.2).any(axis=1) & (out["population"] > 0)
    out.loc[low, "flag"] = "a component below 0.2 (the composite is compensatory)"
    out = out[[c for c in out.columns if c != "geometry"] + ["geometry"]]
    return gpd.GeoDataFrame(out, geometry="geometry", crs=districts.crs)


def _sensitivity(
    base: Reach,
    districts: gpd.GeoDataFrame,
    homes: pd.DataFrame,
    params: CohesionParams,
    *,
    n_types: int,
) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    scored = districts["population"] > 0
    base_rank = districts["score"].where(scored).rank(ascending=False, method="min")
    scales = {f"distances x{f:g}": f for f in params.sensitivity_distance_scales}
    slow_m_s = params.sensitivity_slow_walk_speed_m_s
    scales[f"walking {slow_m_s:g} m/s"] = slow_m_s / params.walk_speed_m_s
    factors = list(scales.values())
    district = _DistrictKey(homes)
    # one after the other: each runs its components side by side (more threads than CPUs
    # were measured slower, the passes evicting each other's cached per-space arrays)
    scores = [_variant(base, params.scaled(f), n_types, district) for f in factors]
    variants: dict[str, pd.Series] = dict(zip(scales, scores, strict=True))
    rng = np.random.default_rng(params.seed)
    keys = list(COMPONENTS)
    alpha = (
        np.array([params.weights.get(k, 0.0) for k in keys])
        * params.sensitivity_weight_concentration
    )
    for draw in range(params.sensitivity_weight_draws if alpha.min() > 0 else 0):
        weights = dict(zip(keys, rng.dirichlet(alpha), strict=True))
        variants[f"weights draw {draw + 1}"] = district.means(composite(homes, weights))
    ids = districts["district_id"]
    ranks = pd.DataFrame(
        {
            name: ids.map(s).where(scored).rank(ascending=False, method="min")
            for name, s in variants.items()
        }
    )
    out = districts.copy()
    out["rank"] = base_rank
    out["rank_min"] = ranks.min(axis=1)
    out["rank_max"] = ranks.max(axis=1)
    table = pd.DataFrame(
        {
            "variant": list(variants),
            "spearman_rho": [
                _spearman(base_rank, ranks[name]) if scored.sum() > 1 else 1.0 for name in variants
            ],
        }
    )
    return out, table


def _spearman(a: pd.Series, b: pd.Series) -> float:
    """Spearman's rank correlation: Pearson's on average ranks (NaN pairs left out)."""
    both = a.notna() & b.notna()
    return float(a[both].rank().corr(b[both].rank()))


def _variant(
    base: Reach, params: CohesionParams, n_types: int, district: _DistrictKey
) -> pd.Series:
    homes, _ = home_components(base, params, n_types=n_types)
    return district.means(homes["score"])


class _DistrictKey:
    """The homes' districts as integer codes, for many weighted district means.

    The codes number the sorted ``district_id`` values (-1: a home outside every district). The
    homes are ordered by district once; each mean is then one ``np.add.reduceat`` over all its
    columns, without hashing the id strings again. As a pandas group sum does, a missing value
    adds nothing to its district's sum.
    """

    def __init__(self, homes: pd.DataFrame) -> None:
        code, self.ids = pd.factorize(homes["district_id"], sort=True)
        self.order = np.flatnonzero(code >= 0)[np.argsort(code[code >= 0], kind="stable")]
        sorted_code = code[self.order]
        first = np.r_[True, sorted_code[1:] != sorted_code[:-1]] if sorted_code.size else []
        self.starts = np.flatnonzero(first)
        self.present = sorted_code[self.starts]
        self.weight = homes["population"].to_numpy(dtype=float)
        self.population = pd.Series(self._sums(self.weight[:, None])[:, 0], index=self.ids)

    def _sums(self, values: np.ndarray) -> np.ndarray:
        """Per-district column sums of ``values`` (one row per home; NaN adds nothing)."""
        rows = values[self.order]
        out = np.zeros((len(self.ids), values.shape[1]))
        if self.starts.size:
            out[self.present] = np.add.reduceat(np.where(np.isnan(rows), 0.0, rows), self.starts)
        return out

    def means(
        self, values: pd.Series | pd.DataFrame, weight: np.ndarray | None = None
    ) -> pd.Series | pd.DataFrame:
        """Mean of ``values`` per ``district_id``, weighted by population (or by ``weight``)."""
        weight = self.weight if weight is None else np.asarray(weight, dtype=float)
        den = self._sums(weight[:, None])[:, 0]
        array = values.to_numpy(dtype=float).reshape(len(values), -1)
        means = self._sums(array * weight[:, None]) / np.where(den > 0, den, np.nan)[:, None]
        if values.ndim == 1:
            return pd.Series(means[:, 0], index=self.ids)
        return pd.DataFrame(means, index=self.ids, columns=values.columns)


def space_flags(spaces: gpd.GeoDataFrame, base: Reach) -> gpd.GeoDataFrame:
    """``reached_by_persons`` (residents within the search radius) and ``unreached_reason``.

    ``unreached_reason`` is empty for a space some home reaches, else why none does.
    """
    home, space, _ = base.columns()
    population = base.homes["population"].to_numpy(dtype=np.float64)
    out = spaces.copy()
    out["reached_by_persons"] = _reached(home, space, population, len(base.spaces))
    radius = out["search_radius_m"].to_numpy(dtype=float)
    reason = np.where(
        out["reached_by_persons"].to_numpy() > 0,
        "",
        pd.Series(radius).map(lambda r: f"no home within {r:,.0f} m walk of its entrances"),
    )
    reason[out["n_entrances"].to_numpy() == 0] = (
        "no entrance: no edge of the analysed walk network within the snapping distance"
    )
    out["unreached_reason"] = reason
    return out


@njit(cache=True, nogil=True)
def _reached(
    home: np.ndarray, space: np.ndarray, population: np.ndarray, n_spaces: int
) -> np.ndarray:  # pragma: no cover - compiled
    """Residents of the rows' homes summed per space, in row order (``np.bincount``'s sums)."""
    out = np.zeros(n_spaces)
    for row in range(home.size):
        out[space[row]] += population[home[row]]
    return out
