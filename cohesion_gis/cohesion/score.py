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
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from cohesion_gis._gc import paused_gc
from cohesion_gis.cohesion.access import access, eligible_spaces
from cohesion_gis.cohesion.bridging import (
    NOT_AVAILABLE,
    SAME_SHARES_FLAG,
    bridging,
    group_columns,
    group_reason,
    home_bridging,
    same_shares_everywhere,
    space_bridging,
)
from cohesion_gis.cohesion.capacity import capacity, home_capacity, space_supply
from cohesion_gis.cohesion.cleaning import CleanedNetwork, clean_network
from cohesion_gis.cohesion.diversity import diversity
from cohesion_gis.cohesion.params import CohesionParams
from cohesion_gis.cohesion.reach import Reach, reach
from cohesion_gis.cohesion.severance import barrier_aware_network, detour_ratio, severance
from cohesion_gis.errors import DataError, ParameterError
from cohesion_gis.network import distances_to_points, map_chunks, snap_to_edges
from cohesion_gis.params import load_params

if TYPE_CHECKING:
    from cohesion_gis.city import City

__all__ = [
    "COMPONENTS",
    "CohesionResult",
    "DistrictKey",
    "assemble_result",
    "below_minimum",
    "composite",
    "counted_spaces",
    "distance_tables",
    "home_components",
    "other_population",
    "reported_homes",
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
        score`` (components 0–1, NaN when not available; score 0–100), ``access_<category>``,
        ``share_meeting_<category>`` (share of the scored residents within the category's
        full-credit distance), ``shortfall_<component>`` (points of 100 − score due to each
        component), ``p10_score`` and ``median_score`` (population-weighted, over the district's
        homes) and ``scored_homes`` (how many),
        ``main_shortfall``, ``unscored_persons`` (residents of homes off the walk network, left
        out of the means), ``island_persons`` (residents on walk-network pieces other than the
        largest); with resident groups ``score_<group>`` (weighted by the group's residents),
        ``group_gap`` (best- minus worst-served group, points) and ``group_gap_high`` /
        ``group_gap_low`` (those groups); sensitivity columns
        ``rank``, ``rank_min``, ``rank_max`` (empty with fewer than 10 scored districts:
        ``rank_range_note`` says why); and ``flag`` (reasons joined by "; ", or empty).
    homes
        Per home: the same components, ``score``, ``district_id``, ``population``,
        ``network_piece`` (0 the largest, 1... islands, -1 off the network), ``unscored_reason``
        (why its components are NaN, or empty); with groups, ``group_reason`` (why its group
        counts are unusable, or empty).
    spaces
        Per contact space: ``bridging`` (its users' mix, 0–1, NaN with ``bridging_reason``),
        ``catchment_persons``, ``catchment_unknown_persons``,
        ``supply_m2_per_person``, ``share_<group>``, ``n_entrances``, ``reached_by_persons``,
        ``unreached_reason`` (why no home reaches it, or empty).
    sensitivity
        One row per variant: ``variant``, ``spearman_rho`` with the base district ranking.
    params
        The parameters used.
    excluded_spaces
        Contact spaces not counted (below their type's ``min_usable_area_m2``), with
        ``excluded_reason``.
    notes
        Plain-language notes every output repeats (``network``: how the walk network was
        cleaned; ``bridging``: where the groups come from, or why bridging is not available).
    """

    districts: gpd.GeoDataFrame
    homes: gpd.GeoDataFrame
    spaces: gpd.GeoDataFrame
    sensitivity: pd.DataFrame
    params: CohesionParams
    notes: dict[str, str] = field(default_factory=dict)
    excluded_spaces: gpd.GeoDataFrame | None = None


@paused_gc()
def score_districts(
    city: City,
    params: CohesionParams | None = None,
    *,
    sensitivity: bool = True,
    population_raster: str | Path | None = None,
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
    population_raster
        A population-count raster (persons per cell, any CRS; WorldPop, GHSL, a census grid)
        for the population-source variant: the districts scored with residents from it
        instead of the City's (:func:`other_population`; a second network search). Without
        it the variant is not run and ``notes["sensitivity"]`` says why.

    Raises
    ------
    DataError
        The study area has no residents.
    InputError
        Homes with negative or missing population; an unreadable ``population_raster``.

    Examples
    --------
    >>> import cohesion_gis as cg
    >>> city = cg.load_city()  # doctest: +SKIP
    >>> result = cg.score_districts(city, sensitivity=False)
    >>> sorted(result.districts["name"])[:2]
    ['Kaartinkaupunki', 'Kallio']
    >>> bool(result.districts["score"].between(0, 100).all())
    True
    """
    params = params or load_params(CohesionParams)
    params.warn_non_monotone()
    _require_residents(city)
    networks = walk_networks(city, params)
    aware, free = distance_tables(city, networks, params, sensitivity=sensitivity)
    return score_from_reach(
        city, aware, free, params, sensitivity=sensitivity, networks=networks,
        population_raster=population_raster,
    )  # fmt: skip


def walk_networks(city: City, params: CohesionParams) -> tuple[CleanedNetwork, CleanedNetwork]:
    """The barrier-aware and the plain walk network, each cleaned by ``params.network_cleaning``.

    See :mod:`~cohesion_gis.cohesion.cleaning`.
    """
    aware = barrier_aware_network(city.walk_nodes, city.walk_edges)
    return (
        clean_network(*aware, rule=params.network_cleaning),
        clean_network(city.walk_nodes, city.walk_edges, rule=params.network_cleaning),
    )


def distance_tables(
    city: City,
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
    homes, spaces = city.homes, counted_spaces(city.contact_spaces, params)[0]
    aware = reach(homes, spaces, *networks[0].network, params=searched)
    free = reach(homes, spaces, *networks[1].network, params=searched, access_only=True)
    return aware, free


def counted_spaces(
    spaces: gpd.GeoDataFrame, params: CohesionParams
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """The contact spaces the score counts, and those below their type's minimum usable size.

    Returns
    -------
    counted, excluded
        ``excluded`` has ``excluded_reason``; point spaces (no area) are always counted.
    """
    minimum = spaces["space_type"].map(params.min_usable_area_m2).fillna(0.0).to_numpy()
    small = below_minimum(spaces, params)
    excluded = spaces.loc[small].copy()
    excluded["excluded_reason"] = [
        f"below the minimum usable size of a {t} ({m:,.0f} m²)"
        for t, m in zip(excluded["space_type"], minimum[small], strict=True)
    ]
    return spaces.loc[~small], excluded


def below_minimum(spaces: pd.DataFrame, params: CohesionParams) -> np.ndarray:
    """Which contact spaces are below their type's minimum usable size (points never are)."""
    minimum = spaces["space_type"].map(params.min_usable_area_m2).fillna(0.0).to_numpy()
    area = spaces["area_m2"].to_numpy(dtype=float)
    return np.asarray((area > 0) & (area < minimum), dtype=bool)


def search_params(params: CohesionParams, *, sensitivity: bool) -> CohesionParams:
    """The parameters the network searches use.

    Without the sensitivity variants no space is searched beyond the distances the base run
    reads (with the default ±25 %, about a third less search on a large network).
    """
    return params if sensitivity else params.without_sensitivity()


def score_from_reach(
    city: City,
    aware: Reach,
    free: Reach,
    params: CohesionParams,
    *,
    sensitivity: bool = True,
    networks: tuple[CleanedNetwork, CleanedNetwork] | None = None,
    population_raster: str | Path | None = None,
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
    population_raster
        See :func:`score_districts`.
    """
    _require_residents(city)
    homes, spaces = home_components(aware, params, n_types=len(city.taxonomy.contact_spaces))
    homes["severance"] = severance(homes["access"], access(free, params)["access"])
    homes[["detour_ratio", "detour_capped_share"]] = detour_ratio(aware, free, params)
    spaces = space_flags(spaces, aware)
    variants_of = aware if sensitivity else None
    notes = {}
    if networks is not None and aware.network is not None:
        snapped = aware.network[1]
        piece = np.where(snapped.snapped, networks[0].edge_piece[snapped.edge], -1)
        homes["network_piece"] = piece
        notes["network"] = network_note(networks[0], homes)
        data_area = getattr(city, "data_area", None)
        loaded = city.boundary if data_area is None else data_area
        homes["edge_cut_share"] = edge_cut_share(aware, networks[0].network, loaded, params)
    return assemble_result(
        city, homes, spaces, params, sensitivity_of=variants_of, notes=notes,
        population_raster=population_raster,
    )  # fmt: skip


def assemble_result(
    city: City,
    homes: gpd.GeoDataFrame,
    spaces: gpd.GeoDataFrame,
    params: CohesionParams,
    *,
    sensitivity_of: Reach | None = None,
    notes: dict[str, str] | None = None,
    population_raster: str | Path | None = None,
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
    population_raster
        See :func:`score_districts`.
    """
    homes = homes.copy()
    homes["score"] = composite(homes, params.weights, params.aggregation)
    mapped = np.asarray(eligible_spaces(spaces, params).any(axis=0), dtype=bool)
    untagged = [c.name for c, some in zip(params.access, mapped, strict=True) if not some]
    districts = _districts(city.districts, homes, params, untagged=untagged)
    notes = {
        **(notes or {}),
        "bridging": bridging_note(homes, params),
        "diversity": diversity_note(homes, params),
    }
    if "in_study_area" in homes:
        notes["study_area"] = study_area_note(city, homes, params)
    if city.contact_spaces.empty:
        log.warning("%s: no contact spaces in the study area: every component is 0", city.name)
        districts["flag"] = "no contact spaces in the study area"
    table = pd.DataFrame()
    if sensitivity_of is not None:
        n_types = len(city.taxonomy.contact_spaces)
        districts, table, why = _sensitivity(
            city, sensitivity_of, districts, homes, params, n_types=n_types,
            population_raster=population_raster,
        )  # fmt: skip
        notes = {**notes, "sensitivity": why}
    log.info(
        "scored %d districts, %d homes, %d spaces; mean score %.1f",
        len(districts), len(homes), len(spaces), float(districts["score"].mean()),
    )  # fmt: skip
    excluded = counted_spaces(city.contact_spaces, params)[1]
    return CohesionResult(districts, homes, spaces, table, params, notes, excluded)


def reported_homes(homes: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The homes inside the study area, for the outputs (homes in the buffer are left out).

    A home without ``in_study_area`` (added by a scenario, or a city loaded without the
    column) counts as inside.
    """
    if "in_study_area" not in homes:
        return homes
    return homes.loc[homes["in_study_area"].fillna(True).astype(bool).to_numpy()]


def study_area_note(city: City, homes: pd.DataFrame, params: CohesionParams) -> str:
    """What was computed and what is reported: the buffer read around the study area, if any."""
    study = getattr(getattr(city, "provenance", None), "study_area", None) or {}
    buffer, loaded = study.get("buffer_m"), study.get("loaded_area_km2")
    inside = homes["in_study_area"].fillna(True).astype(bool).to_numpy()
    population = homes["population"].to_numpy(dtype=float)
    if inside.all():
        return (
            f"computed and reported on the study area ({city.boundary.area / 1e6:,.2f} km²) "
            "alone: residents and spaces beyond its edge are missing (see edge_cut_share)."
        )
    text = (
        "computed on the study area"
        + (f" ({study['area_km2']:,.2f} km²)" if "area_km2" in study else "")
        + (f" plus a {buffer:,.0f} m buffer" if buffer else " plus the buffer read around it")
        + (f" within the extract ({loaded:,.2f} km² read)" if loaded else "")
        + f": {int((~inside).sum()):,} homes ({float(population[~inside].sum()):,.0f} "
        "residents) and the spaces in the buffer count as demand and supply; only districts and "
        "homes inside the study area are reported."
    )
    if buffer and buffer < params.search_limit_m:
        text += (
            f" The buffer is shorter than the largest search distance ({params.search_limit_m:,.0f}"
            " m): catchments near the edge may still be cut (edge_cut_share)."
        )
    return text


def network_note(cleaned: CleanedNetwork, homes: pd.DataFrame) -> str:
    """What was analysed: the cleaning, the islands scored and the residents left out."""
    population = homes["population"].to_numpy(dtype=float)
    piece = homes["network_piece"].to_numpy()
    text = cleaned.describe() + "."
    on_islands = float(population[piece > 0].sum())
    if on_islands > 0:
        text += (
            f" {on_islands:,.0f} residents live on the islands, scored against the spaces of "
            "their own piece only (districts flagged)."
        )
    off = piece < 0
    if off.any():
        text += (
            f" {int(off.sum())} homes ({float(population[off].sum()):,.0f} residents) have no "
            "walkable edge within the snapping distance: not scored (NaN, unscored_reason) and "
            "left out of district means (unscored_persons)."
        )
    return text


#: Spearman's ρ between access and diversity over the homes above which the note advises leaving
#: diversity out of the composite (reference §3.4 D: "Drop D from the composite if Spearman
#: ρ(A, D) > 0.9 in a city").
MAX_ACCESS_DIVERSITY_RHO = 0.9


def diversity_note(homes: pd.DataFrame, params: CohesionParams) -> str:
    """Spearman's ρ between the homes' ``access`` and ``diversity``, and what it advises.

    Homes with both measured, unweighted. The composite never changes with ρ: dropping diversity
    when ρ crossed :data:`MAX_ACCESS_DIVERSITY_RHO` from the run's own data let a scenario that
    pushed ρ under it lower homes it never touched (Malta 2018, ρ 0.91: 48 % of homes by up to
    10.6 points) and made cities incomparable. Above the threshold the note advises setting
    ``weights.diversity = 0`` for the city, a parameter every run on it then shares.
    """
    n_both = int((homes["access"].notna() & homes["diversity"].notna()).sum())
    if n_both < 3:
        return "Spearman rho(access, diversity) not measured (fewer than 3 homes)."
    rho = _spearman(homes["access"], homes["diversity"])
    text = f"Spearman rho(access, diversity) = {rho:.2f} over {n_both:,} homes"
    if params.weights.get("diversity", 0.0) <= 0:
        return text + "; diversity is left out of the composite (weights.diversity = 0)."
    if not rho > MAX_ACCESS_DIVERSITY_RHO:
        return text + f", at most {MAX_ACCESS_DIVERSITY_RHO}: diversity adds to access."
    return text + (
        f", above {MAX_ACCESS_DIVERSITY_RHO}: diversity measures nearly the same thing as access "
        "here. Reference §3.4 D advises leaving it out of this city's composite: set "
        "`weights.diversity = 0` in your cohesion TOML, so that the base run and every scenario "
        "share one composite. It stays in by default (scores are comparable between cities "
        "and no scenario can switch it)."
    )


def bridging_note(homes: pd.DataFrame, params: CohesionParams) -> str:
    """One plain paragraph: where bridging comes from, or why it is not available."""
    counts = group_columns(homes)
    reason = group_reason(homes)
    if counts is None or reason is None:
        others = [c for c in COMPONENTS if c != "bridging" and params.weights.get(c, 0.0) > 0]
        total = sum(params.weights[c] for c in others)
        shares = ", ".join(f"{c} {params.weights[c] / total:.0%}" for c in others)
        return (
            f"{NOT_AVAILABLE}. Bridging is NaN everywhere and the score is the weighted mean of "
            f"the other components, weights re-scaled to sum to 1 ({shares})."
        )
    unknown = reason != ""
    text = (
        f"bridging from {counts.shape[1]} resident groups ({', '.join(counts.columns)}); "
        f"space mix: {params.bridging_index}; a home's value is its best-mixed space within "
        "reach, in full within its category's standard distance and linearly less to its cut-off."
    )
    if unknown.any():
        people = float(homes.loc[unknown, "population"].sum())
        text += (
            f" {int(unknown.sum())} homes ({people:,.0f} residents) have no usable group data "
            "(see group_reason): they are left out of every space's mix."
        )
    if same_shares_everywhere(counts):
        text += f" Read with care: {SAME_SHARES_FLAG}; score without groups to compare districts."
    return text


def _require_residents(city: City) -> None:
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
    per_space: tuple[Callable[[], tuple[Any, Any]], ...]
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
    tasks: tuple[Callable[[], Any], ...] = (
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
    reason = group_reason(homes)
    if reason is not None:
        homes["group_reason"] = reason
    homes[["capacity_m2_per_person", "capacity"]] = home_q
    off = homes["snap_m"].isna().to_numpy()
    components = [*acc.columns, "diversity", "bridging", "capacity_m2_per_person", "capacity"]
    homes.loc[off, components] = np.nan
    homes["unscored_reason"] = np.where(off, unscored_reason(params), "")
    homes["score"] = composite(homes, params.weights, params.aggregation)
    new = space_values.columns.difference(reach_table.spaces.columns, sort=False)
    spaces = pd.concat([reach_table.spaces, space_values[new]], axis=1)
    return gpd.GeoDataFrame(homes, crs=reach_table.homes.crs), gpd.GeoDataFrame(
        spaces, crs=reach_table.spaces.crs
    )


def unscored_reason(params: CohesionParams) -> str:
    """Why a home off the walk network has no score (NaN components, left out of district means)."""
    return (
        f"no walk network within {params.max_snap_m:,.0f} m (max_snap_m) of the home: "
        "not scored, left out of its district's means"
    )


def space_components(reach_table: Reach, params: CohesionParams) -> pd.DataFrame:
    """Per space: bridging with its catchment (:func:`space_bridging`) and supply ratio.

    ``reach_table`` must hold every home.
    """
    return pd.concat(
        [space_bridging(reach_table, params), space_supply(reach_table, params)], axis=1
    )


def composite(
    frame: pd.DataFrame, weights: dict[str, float], aggregation: str = "arithmetic"
) -> pd.Series:
    r"""The score, 0–100: the weighted mean of the components available for each home.

    .. math:: CCS_i = 100 \frac{\sum_c \omega_c x_{ic}}{\sum_c \omega_c} \quad
              \text{or} \quad 100 \prod_c x_{ic}^{\omega_c / \sum_c \omega_c}

    (``aggregation`` ``"arithmetic"`` or ``"geometric"``) over the components that are not NaN:
    bridging without group data is left out and the other weights re-scaled.
    """
    keys = [c for c in COMPONENTS if weights.get(c, 0.0) > 0]
    values = frame[keys].to_numpy(dtype=float)
    weight = np.array([weights[c] for c in keys])
    have = ~np.isnan(values)
    total = (have * weight).sum(axis=1)
    measured = frame[list(COMPONENTS)].notna().any(axis=1).to_numpy()
    if (measured & (total <= 0)).any():
        available = [c for c in COMPONENTS if frame[c].notna().any()]
        raise ParameterError(
            f"the weights of the available components ({', '.join(available)}) sum to 0 "
            f"(weights {weights}), so no home can be scored; give one of them a positive "
            "weight in the [weights] table of the parameter file"
        )
    with np.errstate(divide="ignore", invalid="ignore"):
        if aggregation == "geometric":
            logs = np.log(np.where(have, values, 1.0))
            value = np.exp((have * weight * logs).sum(axis=1) / total)
        else:
            value = (np.where(have, values, 0.0) * weight).sum(axis=1) / total
    return pd.Series(100.0 * value, index=frame.index, name="score")


def _districts(
    districts: gpd.GeoDataFrame,
    homes: pd.DataFrame,
    params: CohesionParams,
    *,
    untagged: Sequence[str] = (),
) -> gpd.GeoDataFrame:
    """District means, the decision outputs and the group gaps; see :class:`CohesionResult`.

    ``untagged``: access categories no space in the data belongs to (flagged "none tagged").
    """
    access_columns = [c for c in homes if c.startswith("access_")]
    extra = [c for c in ("detour_ratio", "detour_capped_share", "edge_cut_share") if c in homes]
    columns = [*COMPONENTS, "severance", "score", *extra, *access_columns]
    key = DistrictKey(homes)
    # of the scored residents: a home off the walk network is outside the denominator
    measured = homes[access_columns]
    meeting = measured.ge(1.0 - 1e-12).astype(float).where(measured.notna())
    meeting.columns = [c.replace("access_", "share_meeting_", 1) for c in access_columns]
    shortfall = shortfall_contributions(homes, params)
    means = key.means(pd.concat([homes[columns], meeting, shortfall], axis=1))
    unscored = homes["score"].isna().to_numpy()
    means["unscored_persons"] = key.means(pd.Series(unscored.astype(float), index=homes.index))
    means["unscored_persons"] *= key.population.reindex(means.index).to_numpy()
    if "network_piece" in homes:
        island = (homes["network_piece"].to_numpy() > 0).astype(float)
        means["island_persons"] = key.means(pd.Series(island, index=homes.index))
        means["island_persons"] *= key.population.reindex(means.index).to_numpy()
    means["p10_score"] = key.quantile(homes["score"], 0.1)
    means["median_score"] = key.quantile(homes["score"], 0.5)
    scored = homes["score"].notna() & homes["population"].gt(0)
    means["scored_homes"] = homes.loc[scored].groupby("district_id").size()
    means["scored_homes"] = means["scored_homes"].fillna(0).astype(int)
    out = districts[["district_id", "name", "geometry"]].merge(
        means, left_on="district_id", right_index=True, how="left"
    )
    out.insert(2, "population", out["district_id"].map(key.population).fillna(0.0).to_numpy())
    shortfall_columns = list(shortfall.columns)
    largest = out[shortfall_columns].fillna(-np.inf).to_numpy().argmax(axis=1)
    out["main_shortfall"] = np.where(
        out[shortfall_columns].notna().any(axis=1),
        np.array([c.removeprefix("shortfall_") for c in shortfall_columns])[largest],
        "",
    )
    flags = [
        (out["population"] <= 0, "no residents: not scored"),
        (
            out[list(COMPONENTS)].lt(0.2).any(axis=1) & (out["population"] > 0),
            "a component below 0.2 (the composite is compensatory)",
        ),
    ]
    if untagged:
        flags.append(
            (
                out["population"] > 0,
                f"none tagged in the city: {', '.join(c.replace('_', ' ') for c in untagged)} "
                "(access 0 because no such space is mapped, not because it is far)",
            )
        )
    few = out["scored_homes"].fillna(0).astype(int)
    flags += [
        (
            few == n,
            f"p10 and median from {n} home(s), fewer than {params.percentile_min_homes}: one "
            "building decides them",
        )
        for n in sorted(few[(few > 0) & (few < params.percentile_min_homes)].unique())
    ]
    left_out = out["unscored_persons"].fillna(0.0)
    flags += [
        (
            (left_out == persons) & (out["population"] > 0),
            f"{persons:,.0f} residents left out: homes with no walk network within "
            f"{params.max_snap_m:,.0f} m",
        )
        for persons in left_out[left_out > 0].unique()
    ]
    if "island_persons" in out:
        island = out["island_persons"].fillna(0.0)
        flags += [
            (
                (island == persons) & (out["population"] > 0),
                f"island: {persons:,.0f} residents on a piece of the walk network no path joins "
                "to the largest, scored against that piece's spaces only",
            )
            for persons in island[island > 0].unique()
        ]
    if "edge_cut_share" in out:
        cut = out["edge_cut_share"].gt(params.edge_cut_flag_share) & (out["population"] > 0)
        flags += [
            (
                cut & (out["edge_cut_share"] == share),
                f"catchments cut by the data edge: {share:.0%} of its residents reach the edge "
                f"of the data read within {params.edge_radius_m:,.0f} m walk",
            )
            for share in out.loc[cut, "edge_cut_share"].unique()
        ]
    counts = group_columns(homes)
    if counts is None:
        flags.append((out["population"] > 0, "bridging not available (no resident-group data)"))
    else:
        out, uniform = _group_gaps(out, homes, counts, key)
        flags.append(
            (
                out["district_id"].map(uniform).fillna(False).astype(bool),
                "group gaps not measurable: every home has its district's group shares",
            )
        )
        if same_shares_everywhere(counts):
            flags.append((out["population"] > 0, SAME_SHARES_FLAG))
    out["flag"] = _join_flags(len(out), flags)
    out = out[[c for c in out.columns if c != "geometry"] + ["geometry"]]
    return gpd.GeoDataFrame(out, geometry="geometry", crs=districts.crs)


def edge_cut_share(
    aware: Reach,
    network: tuple[gpd.GeoDataFrame, gpd.GeoDataFrame],
    area: Any,
    params: CohesionParams,
) -> np.ndarray:
    """Per home, 1 where its walk reaches the edge of the data read within ``edge.radius_m``.

    The data edge is where the walk network meets the boundary of the area read (``area``:
    ``City.data_area``, else the study area): the network's nodes outside it or within
    ``edge.clip_tolerance_m`` of its boundary, where a clip cut a street. Spaces and residents
    beyond them are missing from the home's scores (access and diversity understated, capacity
    overstated). A coastline is no cut: no street runs into the sea, and the hull of the data
    keeps 100 m from every street (:func:`cohesion_gis.sources.osm.data_hull`). One bounded
    search from every edge node at once (:func:`~cohesion_gis.network.distances_to_points`),
    door to node.

    Parameters
    ----------
    aware
        The distance table, with its ``network`` (graph and snapped homes).
    network
        The nodes and edges tables searched (metric CRS).
    area
        The area the data were read over, in the same CRS; None: no edge.

    Returns
    -------
    numpy.ndarray
        1.0 or 0.0 per home of ``aware.homes``, NaN for homes off the network; a district's
        population-weighted mean is the share of its residents whose walks reach the edge.
    """
    if aware.network is None:
        raise ParameterError("edge_cut_share: the distance table has no network to search")
    csr, homes, _ = aware.network
    out = np.where(homes.snapped, 0.0, np.nan)
    if area is None or area.is_empty or not homes.snapped.any():
        return out
    nodes, edges = network
    x, y = nodes["x"].to_numpy(dtype=float), nodes["y"].to_numpy(dtype=float)
    inner = shapely.buffer(area, -params.edge_clip_tolerance_m)
    at_edge = ~shapely.contains_xy(inner, x, y)
    if not at_edge.any():
        return out
    points = gpd.GeoSeries(shapely.points(x[at_edge], y[at_edge]), crs=edges.crs)
    seeds = snap_to_edges(points, edges, csr, max_snap_m=1.0)
    street = distances_to_points(
        csr, seeds, homes, group=np.zeros(len(points), dtype=np.int64), limit_m=params.edge_radius_m
    )
    home = street["point"].to_numpy()
    door_m = street["dist_m"].to_numpy(dtype=float) + homes.snap_m[home]
    out[np.unique(home[door_m <= params.edge_radius_m])] = 1.0
    return out


def shortfall_contributions(homes: pd.DataFrame, params: CohesionParams) -> pd.DataFrame:
    r"""Per home, each component's share of the shortfall of the score from 100 (points).

    With the arithmetic mean, :math:`100 - CCS_i = \sum_c 100\, \omega_c (1 - x_{ic}) /
    \sum_{c'} \omega_{c'}` exactly (components not available left out), so the columns
    ``shortfall_<component>`` add up to the shortfall ("why this district is low"). With the
    geometric mean the shortfall does not split additively: the columns are NaN.
    """
    keys = [c for c in COMPONENTS if params.weights.get(c, 0.0) > 0]
    values = homes[keys].to_numpy(dtype=float)
    weight = np.array([params.weights[c] for c in keys])
    have = ~np.isnan(values)
    total = (have * weight).sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        parts = 100.0 * np.where(have, weight * (1.0 - values), np.nan) / total
    if params.aggregation != "arithmetic":
        parts[:] = np.nan
    return pd.DataFrame(parts, index=homes.index, columns=[f"shortfall_{c}" for c in keys])


def _group_gaps(
    out: pd.DataFrame, homes: pd.DataFrame, counts: pd.DataFrame, key: DistrictKey
) -> tuple[pd.DataFrame, pd.Series]:
    """``score_<group>`` and the gap between the best- and the worst-served group, both named.

    ``score_<group>`` is the district's score weighted by the group's residents (reference §3.5,
    :math:`CCS_{d,g}`); ``group_gap`` is the highest of them minus the lowest (points, ≥ 0;
    §3.5's Δ between groups, not each group against the district mean, which a majority group
    pulls toward itself), ``group_gap_high`` / ``group_gap_low`` the two groups. A group with no
    residents in the district is left out; fewer than two groups there give no gap. A gap needs
    homes of one district to differ in their group mix; where every home has its district's
    shares (group data per district) the gap is 0 by construction, so it is NaN and the
    district flagged (returned as ``uniform``, by district id).
    """
    population = homes["population"].to_numpy(dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        shares = counts.to_numpy(dtype=float) / population[:, None]
    spread = pd.DataFrame(shares, index=homes.index).groupby(homes["district_id"].to_numpy())
    uniform = (spread.max() - spread.min()).fillna(0.0).le(1e-9).all(axis=1)
    names = np.array([str(g) for g in counts.columns])
    for group in counts.columns:
        weight = counts[group].to_numpy(dtype=float)
        out[f"score_{group}"] = out["district_id"].map(key.means(homes["score"], weight=weight))
    table = out[[f"score_{g}" for g in names]].to_numpy(dtype=float)
    same_mix = out["district_id"].map(uniform).fillna(False).to_numpy(dtype=bool)
    measured = (np.isfinite(table).sum(axis=1) >= 2) & ~same_mix
    high = np.where(np.isfinite(table), table, -np.inf).argmax(axis=1)
    low = np.where(np.isfinite(table), table, np.inf).argmin(axis=1)
    rows = np.arange(len(out))
    out["group_gap"] = np.where(measured, table[rows, high] - table[rows, low], np.nan)
    out["group_gap_high"] = np.where(measured, names[high], "")
    out["group_gap_low"] = np.where(measured, names[low], "")
    return out, uniform


def _join_flags(n: int, flags: list[tuple[pd.Series, str]]) -> list[str]:
    """Each row's reasons joined by "; " (empty when none applies)."""
    parts: list[list[str]] = [[] for _ in range(n)]
    for mask, text in flags:
        for row in np.flatnonzero(np.asarray(mask, dtype=bool)):
            parts[row].append(text)
    return ["; ".join(p) for p in parts]


#: Fewest scored districts for which rank ranges are reported: with fewer, one swap of
#: neighbours already moves Spearman's ρ far (6 districts: 0.94), so ranges mislead.
MIN_DISTRICTS_FOR_RANKS = 10

#: The snapping variant: homes and spaces enter the walk network through their nearest edge only.
SNAP_VARIANT = "snapping: nearest edge only"


def _sensitivity(
    city: City,
    base: Reach,
    districts: gpd.GeoDataFrame,
    homes: pd.DataFrame,
    params: CohesionParams,
    *,
    n_types: int,
    population_raster: str | Path | None = None,
) -> tuple[gpd.GeoDataFrame, pd.DataFrame, str]:
    """District scores under every variant: ranks, the variants table and a plain note."""
    scored = districts["population"] > 0
    base_rank = districts["score"].where(scored).rank(ascending=False, method="min")
    scales = {f"distances x{f:g}": f for f in params.sensitivity_distance_scales}
    slow_m_s = params.sensitivity_slow_walk_speed_m_s
    scales[f"walking {slow_m_s:g} m/s"] = slow_m_s / params.walk_speed_m_s
    factors = list(scales.values())
    district = DistrictKey(homes)
    # one after the other: each runs its components side by side (more threads than CPUs
    # were measured slower, the passes evicting each other's cached per-space arrays)
    scores = [_variant(base, params.scaled(f), n_types, district) for f in factors]
    variants: dict[str, pd.Series] = dict(zip(scales, scores, strict=True))
    kinds = dict.fromkeys(variants, "distance")
    structural, skipped, details = _structural(
        city, base, homes, params, n_types=n_types, population_raster=population_raster
    )
    variants.update(structural)
    kinds.update(dict.fromkeys(structural, "structural"))
    rng = np.random.default_rng(params.seed)
    keys = [k for k in COMPONENTS if params.weights.get(k, 0.0) > 0]
    alpha = np.array([params.weights[k] for k in keys]) * params.sensitivity_weight_concentration
    for draw in range(params.sensitivity_weight_draws if keys else 0):
        weights = dict(zip(keys, rng.dirichlet(alpha), strict=True))
        name = f"weights draw {draw + 1}"
        variants[name] = district.means(composite(homes, weights, params.aggregation))
        kinds[name] = "weights"
    ids = districts["district_id"]
    ranks = pd.DataFrame(
        {
            name: ids.map(s).where(scored).rank(ascending=False, method="min")
            for name, s in variants.items()
        }
    )
    n_scored = int(scored.sum())
    out = districts.copy()
    out["rank"] = base_rank
    ranked = n_scored >= MIN_DISTRICTS_FOR_RANKS
    out["rank_min"] = ranks.min(axis=1) if ranked else np.nan
    out["rank_max"] = ranks.max(axis=1) if ranked else np.nan
    out["rank_range_note"] = (
        ""
        if ranked
        else f"rank range not reported: {n_scored} scored districts, fewer than "
        f"{MIN_DISTRICTS_FOR_RANKS} (one swap of neighbours moves the ranking far); read "
        "max_score_change in the sensitivity table"
    )
    base_score = districts["score"].where(scored)
    table = pd.DataFrame(
        {
            "variant": list(variants),
            "kind": [kinds[name] for name in variants],
            "spearman_rho": [
                _spearman(base_rank, ranks[name]) if n_scored > 1 else 1.0 for name in variants
            ],
            "max_score_change": [
                float((ids.map(variants[name]).where(scored) - base_score).abs().max())
                for name in variants
            ],
        }
    )
    why = (
        f"{len(variants)} variants: distances ±25 % and a slow walk, "
        f"{sum(k == 'structural' for k in kinds.values())} structural variants "
        f"({', '.join(structural) or 'none'}), {params.sensitivity_weight_draws} weight draws."
    )
    why += "".join(f" {d}" for d in details)
    if skipped:
        why += " Not run: " + "; ".join(f"{k} ({v})" for k, v in skipped.items()) + "."
    if not ranked:
        why += (
            f" Rank ranges are not reported: {n_scored} scored districts, fewer than "
            f"{MIN_DISTRICTS_FOR_RANKS}, where one swap of neighbours already moves Spearman's "
            "rho far; read max_score_change (points) instead."
        )
    return out, table, why


def _structural(
    city: City,
    base: Reach,
    homes: pd.DataFrame,
    params: CohesionParams,
    *,
    n_types: int,
    population_raster: str | Path | None = None,
) -> tuple[dict[str, pd.Series], dict[str, str], list[str]]:
    """District scores under the structural alternatives, those that could not run (why), notes.

    Aggregation rule (the other of arithmetic / geometric); bridging index (the other of entropy
    ratio / Simpson) and group definition (the largest group against the rest) with group data;
    population source (:func:`other_population`: a second network search); network cleaning
    (the other rule: a second network search); snapping (:data:`SNAP_VARIANT`: the nearest edge
    only, ``snap_tolerance_m = 0``; a second network search).
    """
    district = DistrictKey(homes)
    out: dict[str, pd.Series] = {}
    skipped: dict[str, str] = {}
    other = "geometric" if params.aggregation == "arithmetic" else "arithmetic"
    out[f"aggregation: {other}"] = district.means(composite(homes, params.weights, other))
    counts = group_columns(base.homes)
    if counts is None:
        skipped["group definition"] = "no resident-group data"
    else:
        index = "simpson" if params.bridging_index == "entropy_ratio" else "entropy_ratio"
        out[f"bridging index: {index}"] = _variant(
            base, replace(params, bridging_index=index), n_types, district
        )
        if counts.shape[1] > 2:
            largest = str(counts.sum().idxmax())
            rest = counts.drop(columns=largest).sum(axis=1, min_count=1)
            merged = base.homes.drop(columns=[f"pop_{g}" for g in counts.columns])
            merged[f"pop_{largest}"], merged["pop_rest"] = counts[largest], rest
            out[f"groups: {largest} vs the rest"] = _variant(
                replace(base, homes=merged), params, n_types, district
            )
        else:
            skipped["merged groups"] = "only two groups"
    details = []
    source, moved = other_population(city, population_raster)
    if moved is None:
        skipped["population source"] = source
    else:
        scored = score_districts(moved, params, sensitivity=False)
        out[source] = scored.districts.set_index("district_id")["score"]
        details.append(
            f"{source.capitalize()}: {float(moved.homes['population'].sum()):,.0f} residents in "
            f"{len(moved.homes):,} cells over the area read, against the City's "
            f"{float(city.homes['population'].sum()):,.0f}."
        )
    rule = "none" if params.network_cleaning != "none" else "drop_fragments"
    other_network = score_districts(city, replace(params, network_cleaning=rule), sensitivity=False)
    out[f"network cleaning: {rule}"] = other_network.districts.set_index("district_id")["score"]
    if params.snap_tolerance_m > 0:
        nearest = score_districts(city, replace(params, snap_tolerance_m=0.0), sensitivity=False)
        out[SNAP_VARIANT] = nearest.districts.set_index("district_id")["score"]
    else:
        skipped["snapping"] = "snap_tolerance_m is 0: the base run already takes the nearest edge"
    return out, skipped, details


def other_population(
    city: City, population_raster: str | Path | None = None
) -> tuple[str, City | None]:
    """The City with its residents from ``population_raster``, for the population-source variant.

    Everything else is as ``load_city(population=population_raster)`` would build it: the raster's
    cells over the area read (study area plus buffer, counts shared by area:
    :func:`~cohesion_gis.sources.population.population_from_raster`) as homes, their districts,
    the City's control total or its per-district counts (the census table it was scaled to), and
    its resident groups carried over as each district's shares of the City's homes.

    Returns
    -------
    name, city
        ``"population: raster <file name>"`` and the City; without a raster, why the variant
        is not run and None. (The reverse, a raster City against the dasymetric estimate, is
        not offered: the estimate needs the extract's point features, which a City does not
        keep, and without them it was measured 14 % higher on Helsinki.)
    """
    from cohesion_gis.sources import population as pop

    if population_raster is None:
        given = city.provenance.parameters.get("population")
        return (
            (
                f"the residents come from the raster {Path(given).name}: pass another as "
                "population_raster= or --population-raster to compare"
            )
            if given is not None
            else (
                "no population raster given to compare the dasymetric estimate with: pass "
                "score_districts(population_raster=...) or --population-raster"
            ),
            None,
        )
    parameters = city.provenance.parameters
    base = city.homes
    table = None
    if parameters.get("population_table") is not None:  # the census counts it was scaled to
        ids = city.districts["district_id"]
        census = base.groupby("district_id")["population"].sum().reindex(ids, fill_value=0.0)
        table = pd.DataFrame({"district_id": ids.to_numpy(), "population": census.to_numpy()})
    data_area = getattr(city, "data_area", None)
    homes = pop.residents(
        city.buildings, landuse=city.landuse, crs=city.crs, districts=city.districts,
        area=city.boundary if data_area is None else data_area, raster=population_raster,
        total=parameters.get("population_total"), table=table,
    )  # fmt: skip
    homes["in_study_area"] = shapely.within(
        homes.geometry.representative_point().to_numpy(), city.boundary
    )
    counts = group_columns(base)
    if counts is not None:
        by = counts.groupby(base["district_id"]).sum()
        shares = by.div(by.sum(axis=1), axis=0).dropna().reset_index()
        homes = pop.group_shares(
            homes, shares, by="district_id", known_keys=city.districts["district_id"]
        )
    name = f"population: raster {Path(population_raster).name}"
    log.info(
        "%s: %.0f residents in %d cells (the City's: %.0f)",
        name, float(homes["population"].sum()), len(homes), float(base["population"].sum()),
    )  # fmt: skip
    return name, replace(city, homes=homes)


def _spearman(a: pd.Series, b: pd.Series) -> float:
    """Spearman's rank correlation: Pearson's on average ranks (NaN pairs left out, by position).

    NaN with fewer than two pairs or a constant side. numpy and scipy's ``rankdata`` (pandas'
    rank and corr took ~50 ms on 33k homes, read once per option by incremental rescoring).
    """
    from scipy.stats import rankdata

    x, y = a.to_numpy(dtype=float), b.to_numpy(dtype=float)
    both = ~np.isnan(x) & ~np.isnan(y)
    if both.sum() < 2:
        return float("nan")
    rank_x, rank_y = rankdata(x[both]), rankdata(y[both])
    rank_x -= rank_x.mean()
    rank_y -= rank_y.mean()
    spread = float(np.sqrt((rank_x * rank_x).sum() * (rank_y * rank_y).sum()))
    return float((rank_x * rank_y).sum() / spread) if spread > 0 else float("nan")


def _variant(base: Reach, params: CohesionParams, n_types: int, district: DistrictKey) -> pd.Series:
    homes, _ = home_components(base, params, n_types=n_types)
    return district.means(homes["score"])


class DistrictKey:
    """The homes' districts as integer codes, for many weighted district means.

    The codes number the sorted ``district_id`` values (-1: a home outside every district). The
    homes are ordered by district once; each mean is then one ``np.add.reduceat`` over all its
    columns, without hashing the id strings again. A missing value adds nothing to its district's
    sum nor to its weight, so a column missing for every home of a district has a NaN mean.
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

    def quantile(self, values: pd.Series, q: float) -> pd.Series:
        """Population-weighted quantile ``q`` of ``values`` per ``district_id``.

        The smallest value whose cumulative resident share reaches ``q`` (the inverse of the
        weighted distribution function): ``p10_score`` is the score the worst-served tenth of a
        district's residents are at or below.
        """
        value = values.to_numpy(dtype=float)[self.order]
        weight = self.weight[self.order]
        out = np.full(len(self.ids), np.nan)
        bounds = np.r_[self.starts, value.size]
        for k, district in enumerate(self.present):
            v, w = value[bounds[k] : bounds[k + 1]], weight[bounds[k] : bounds[k + 1]]
            keep = ~np.isnan(v) & (w > 0)
            if keep.any():
                order = np.argsort(v[keep], kind="stable")
                cumulative = np.cumsum(w[keep][order])
                at = np.searchsorted(cumulative, q * cumulative[-1] * (1 - 1e-12))
                out[district] = v[keep][order][min(at, order.size - 1)]
        return pd.Series(out, index=self.ids)

    def means(
        self, values: pd.Series | pd.DataFrame, weight: np.ndarray | None = None
    ) -> pd.Series | pd.DataFrame:
        """Mean of ``values`` per ``district_id``, weighted by population (or by ``weight``)."""
        weight = self.weight if weight is None else np.asarray(weight, dtype=float)
        weight = np.where(np.isnan(weight), 0.0, weight)
        array = values.to_numpy(dtype=float).reshape(len(values), -1)
        den = self._sums(np.where(np.isnan(array), 0.0, weight[:, None]))
        with np.errstate(invalid="ignore", divide="ignore"):
            means = self._sums(array * weight[:, None]) / np.where(den > 0, den, np.nan)
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
    out["reached_by_persons"] = np.bincount(
        space, weights=population[home], minlength=len(base.spaces)
    )
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
