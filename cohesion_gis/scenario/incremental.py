"""Rescoring a scenario City by recomputing only what its interventions touched.

The expensive part of the cohesion score is the network search behind the home × space distance
table (:func:`cohesion_gis.cohesion.reach.reach`), run on two walk networks (barrier-aware and
free), then evaluating every component for every home. A scenario that leaves the walk network
and the homes' locations alone changes the table only in the rows of the spaces it added,
removed or changed:

- rows of an unchanged space are the same (each space's bounded search is independent of the
  others), so they are taken from the base table;
- a new or changed space gets one bounded search from its entrances, on each network.

When the residents are unchanged too, each unchanged space keeps its catchment, so its bridging
:math:`B_s` and supply ratio :math:`R_s` are taken from the base result; a new space gets them
from its own search (which holds every home within its catchment). Only the homes with a row
for a space that changed (within its search radius, on either network) are evaluated again; the
others keep their base values, and the district means are taken over all homes again. Residents
added or moved change every catchment they fall in, so then the tables are reused whole and every
home is evaluated again; so are the sensitivity variants, which rescale every distance.

The result equals a full recompute (``tests/test_comparison.py``). A changed walk network
(pedestrianising a major road changes severance), new home locations or other parameters fall
back to the full computation. ``bench/scenario_incremental.py`` measures the gain. The scenario's
merged distance tables (:attr:`CohesionState.aware`, ``.free``) are built only when read.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property, partial
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from cohesion_gis.cohesion.access import access
from cohesion_gis.cohesion.bridging import group_columns
from cohesion_gis.cohesion.cleaning import CleanedNetwork
from cohesion_gis.cohesion.params import CohesionParams
from cohesion_gis.cohesion.reach import Reach, reach
from cohesion_gis.cohesion.score import (
    CohesionResult,
    assemble_result,
    counted_spaces,
    distance_tables,
    home_components,
    score_from_reach,
    search_params,
    space_components,
    space_flags,
    walk_networks,
)
from cohesion_gis.cohesion.severance import detour_ratio, severance

if TYPE_CHECKING:
    from cohesion_gis.city import City

__all__ = ["CohesionState", "rescore", "score_state"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CohesionState:
    """A cohesion result with the distance tables it came from, for incremental rescoring.

    Attributes
    ----------
    result
        The scores.
    networks
        The cleaned barrier-aware and plain walk networks searched
        (:func:`~cohesion_gis.cohesion.score.walk_networks`).
    tables
        Returns the distance tables ``(aware, free)``; read them as :attr:`aware` and
        :attr:`free` (an incremental state merges them on first use).
    recomputed
        What was computed: ``"full"``, or ``"incremental: N of M spaces searched, K of H homes
        evaluated"``.
    """

    result: CohesionResult
    networks: tuple[CleanedNetwork, CleanedNetwork]
    tables: Callable[[], tuple[Reach, Reach]] = field(repr=False)
    recomputed: str = "full"

    @cached_property
    def _reach(self) -> tuple[Reach, Reach]:
        return self.tables()

    @property
    def aware(self) -> Reach:
        """The distance table on the barrier-aware walk network."""
        return self._reach[0]

    @property
    def free(self) -> Reach:
        """The distance table on the plain walk network (to each space's access radius)."""
        return self._reach[1]


def score_state(city: City, params: CohesionParams, *, sensitivity: bool = False) -> CohesionState:
    """Score a City in full, keeping the distance tables (as :func:`score_districts` does)."""
    networks = walk_networks(city, params)
    aware, free = distance_tables(city, networks, params, sensitivity=sensitivity)
    result = score_from_reach(city, aware, free, params, sensitivity=sensitivity, networks=networks)
    return CohesionState(result, networks, partial(_given, aware, free))


def rescore(
    base_city: City,
    base: CohesionState,
    city: City,
    params: CohesionParams,
    *,
    sensitivity: bool = False,
) -> CohesionState:
    """Score a scenario City, reusing the base distance tables and scores where the change allows.

    Parameters
    ----------
    base_city, base
        The base City and its :func:`score_state` (same ``params``).
    city
        The scenario City (from :func:`cohesion_gis.scenario.apply` on ``base_city``).
    params
        Cohesion parameters (must be those of ``base``).
    sensitivity
        Also run the sensitivity variants (every home is then evaluated again).
    """
    same_network = (
        city.walk_edges is base_city.walk_edges and city.walk_nodes is base_city.walk_nodes
    )
    counted = counted_spaces(city.contact_spaces, params)[0]
    plan = _space_plan(base.aware.spaces, counted)
    same_homes = city.homes is base_city.homes
    homes = base.aware.homes if same_homes else _homes_in_place(base.aware.homes, city.homes)
    short = sensitivity and base.result.sensitivity.empty  # base searched without the variants
    if not same_network or homes is None or plan is None or params != base.result.params or short:
        log.info("rescore: full recompute (network, home locations or parameters changed)")
        return score_state(city, params, sensitivity=sensitivity)
    searched_with = search_params(params, sensitivity=not base.result.sensitivity.empty)
    searched = np.flatnonzero(plan < 0)
    changed = counted.iloc[searched]
    aware_net, free_net = (cleaned.network for cleaned in base.networks)
    fresh_aware = _search(homes, changed, aware_net, searched_with, snapped=base.aware.network)
    fresh_free = _search(
        homes, changed, free_net, searched_with, access_only=True, snapped=base.free.network
    )
    change = _Change(homes, plan, fresh_aware, fresh_free)
    tables = partial(_merged_tables, base.aware, base.free, change)
    note = f"incremental: {searched.size} of {len(plan)} spaces searched"
    unchanged = same_homes or _same_residents(base.aware.homes, homes)
    if sensitivity or not unchanged:
        aware, free = tables()
        result = score_from_reach(
            city, aware, free, params, sensitivity=sensitivity, networks=base.networks
        )
        note += f", {len(homes)} of {len(homes)} homes evaluated"
    else:
        touched = _touched_homes(base, change)
        result = _rescore_homes(city, base, change, touched, params)
        note += f", {touched.size} of {len(homes)} homes evaluated"
    log.info("rescore: %s", note)
    return CohesionState(result, base.networks, tables, note)


@dataclass(frozen=True)
class _Change:
    """What a scenario changes in the base tables.

    ``homes`` are the scenario's (with the base snapping); ``plan`` gives each scenario space its
    base position, or -1 when it was searched again, into ``fresh_aware`` and ``fresh_free``
    (None when no space was).
    """

    homes: gpd.GeoDataFrame
    plan: np.ndarray
    fresh_aware: Reach | None
    fresh_free: Reach | None


# --- the touched homes ---------------------------------------------------------------------


def _touched_homes(base: CohesionState, change: _Change) -> np.ndarray:
    """Sorted positions of the homes with a row for a removed, changed or new space."""
    dropped = np.ones(len(base.aware.spaces), dtype=bool)
    dropped[change.plan[change.plan >= 0]] = False
    parts = [
        table["home"].to_numpy()[dropped[table["space"].to_numpy()]]
        for table in (base.aware.table, base.free.table)
        if dropped.any()
    ]
    fresh = (change.fresh_aware, change.fresh_free)
    parts += [reached.table["home"].to_numpy() for reached in fresh if reached is not None]
    return np.unique(np.concatenate([np.empty(0, np.int64), *parts])).astype(np.int64)


def _rescore_homes(
    city: City, base: CohesionState, change: _Change, touched: np.ndarray, params: CohesionParams
) -> CohesionResult:
    """The base result with the touched homes evaluated again and the spaces merged."""
    fresh_spaces = None
    if change.fresh_aware is not None:
        values = space_components(change.fresh_aware, params)
        fresh_spaces = space_flags(
            pd.concat([change.fresh_aware.spaces, values], axis=1), change.fresh_aware
        )
    spaces = _by_plan(base.result.spaces, fresh_spaces, change.plan)
    some = change.homes.iloc[touched].reset_index(drop=True)
    aware, free = (
        Reach(some, spaces, _scenario_rows(table, fresh, change.plan, touched), table.limit_m)
        for table, fresh in ((base.aware, change.fresh_aware), (base.free, change.fresh_free))
    )
    n_types = len(city.taxonomy.contact_spaces)
    scored, _ = home_components(aware, params, n_types=n_types, space_values=spaces)
    scored["severance"] = severance(scored["access"], access(free, params)["access"])
    scored[["detour_ratio", "detour_capped_share"]] = detour_ratio(aware, free, params)
    out = base.result.homes.copy(deep=False)
    for column in (c for c in scored.columns if c not in some.columns):
        values = out[column].to_numpy(copy=True)
        values[touched] = scored[column].to_numpy()
        out[column] = values
    return assemble_result(city, out, spaces, params, notes=base.result.notes)


# --- merging base and fresh ----------------------------------------------------------------


def _given(aware: Reach, free: Reach) -> tuple[Reach, Reach]:
    return aware, free


def _merged_tables(base_aware: Reach, base_free: Reach, change: _Change) -> tuple[Reach, Reach]:
    """Both scenario tables in full: base rows of kept spaces, fresh rows of searched ones."""
    every = np.arange(len(change.homes), dtype=np.int64)
    merged = []
    for base, fresh in ((base_aware, change.fresh_aware), (base_free, change.fresh_free)):
        spaces = _by_plan(base.spaces, None if fresh is None else fresh.spaces, change.plan)
        table = _scenario_rows(base, fresh, change.plan, every)
        merged.append(Reach(change.homes, spaces, table, base.limit_m, base.network))
    return merged[0], merged[1]


def _by_plan(
    base_rows: pd.DataFrame, fresh_rows: pd.DataFrame | None, plan: np.ndarray
) -> gpd.GeoDataFrame:
    """Per-space rows in the scenario's order: base rows of kept spaces, fresh rows of the rest."""
    kept = np.flatnonzero(plan >= 0)
    parts = [base_rows.iloc[plan[kept]].set_axis(kept)]
    if fresh_rows is not None:
        parts.append(fresh_rows.set_axis(np.flatnonzero(plan < 0)))
    return gpd.GeoDataFrame(pd.concat(parts).sort_index(), crs=base_rows.crs)


def _scenario_rows(
    base: Reach, fresh: Reach | None, plan: np.ndarray, homes: np.ndarray
) -> pd.DataFrame:
    """Rows of ``homes`` (sorted positions) in the scenario table, renumbered to ``0..k-1``.

    Base rows come from the home-sorted base table by slicing, with spaces renumbered to the
    scenario's order (rows of dropped spaces left out); fresh rows of new spaces are added. The
    result is sorted by home then space, as :func:`reach` returns it.
    """
    home_col = base.table["home"].to_numpy()
    start = np.searchsorted(home_col, homes, side="left")
    stop = np.searchsorted(home_col, homes, side="right")
    length = stop - start
    rows = np.arange(length.sum()) + np.repeat(start - (np.cumsum(length) - length), length)
    new_position = np.full(len(base.spaces), -1, dtype=np.int64)
    kept = np.flatnonzero(plan >= 0)
    new_position[plan[kept]] = kept
    space = new_position[base.table["space"].to_numpy()[rows]]
    keep = space >= 0
    home = np.repeat(np.arange(homes.size), length)[keep]
    space, dist = space[keep], base.table["dist_m"].to_numpy()[rows][keep]
    if fresh is not None:
        searched = np.flatnonzero(plan < 0)
        fresh_home = fresh.table["home"].to_numpy()
        inside = np.isin(fresh_home, homes)
        home = np.r_[home, np.searchsorted(homes, fresh_home[inside])]
        space = np.r_[space, searched[fresh.table["space"].to_numpy()[inside]]]
        dist = np.r_[dist, fresh.table["dist_m"].to_numpy()[inside]]
        order = np.lexsort((space, home))
        home, space, dist = home[order], space[order], dist[order]
    dtype = base.table.dtypes
    return pd.DataFrame(
        {"home": home.astype(dtype["home"]), "space": space.astype(dtype["space"]), "dist_m": dist}
    )


# --- what changed --------------------------------------------------------------------------


def _space_plan(base_spaces: gpd.GeoDataFrame, spaces: gpd.GeoDataFrame) -> np.ndarray | None:
    """For each scenario space, its position in the base table, or -1 if it must be searched.

    A space is kept when its id, type, area and outline are those of a base space. None when
    ids repeat (the plan could not tell spaces apart).
    """
    base_ids, ids = pd.Index(base_spaces["space_id"]), pd.Index(spaces["space_id"])
    if base_ids.has_duplicates or ids.has_duplicates:
        return None
    position = base_ids.get_indexer(ids)
    found = np.flatnonzero(position >= 0)
    before, after = base_spaces.iloc[position[found]], spaces.iloc[found]
    same = (
        (before["space_type"].to_numpy() == after["space_type"].to_numpy())
        & (before["area_m2"].to_numpy() == after["area_m2"].to_numpy())
        & shapely.equals_exact(before.geometry.to_numpy(), after.geometry.to_numpy(), 0.0)
    )
    plan = np.full(len(spaces), -1, dtype=np.int64)
    plan[found[same]] = position[found[same]]
    return plan


def _homes_in_place(base_homes: gpd.GeoDataFrame, homes: gpd.GeoDataFrame) -> Any:
    """The scenario homes with the base snapping, if they are the same homes at the same places."""
    if len(homes) != len(base_homes):
        return None
    homes = homes.reset_index(drop=True)
    same_ids = "home_id" not in homes or homes["home_id"].equals(base_homes["home_id"])
    if not same_ids or not homes.geometry.geom_equals_exact(base_homes.geometry, 0.0).all():
        return None
    return homes.assign(snap_m=base_homes["snap_m"].to_numpy())


def _same_residents(base_homes: gpd.GeoDataFrame, homes: gpd.GeoDataFrame) -> bool:
    """Whether every home has the same residents, per group and per district."""
    columns = ["population", "district_id", *(f"pop_{g}" for g in _groups(base_homes))]
    if list(_groups(base_homes)) != list(_groups(homes)):
        return False
    return all(homes[c].equals(base_homes[c]) for c in columns if c in base_homes)


def _groups(homes: pd.DataFrame) -> list[str]:
    counts = group_columns(homes)
    return [] if counts is None else list(counts.columns)


def _search(
    homes: gpd.GeoDataFrame,
    spaces: gpd.GeoDataFrame,
    network: tuple[gpd.GeoDataFrame, gpd.GeoDataFrame],
    params: CohesionParams,
    *,
    access_only: bool = False,
    snapped: Any = None,
) -> Reach | None:
    if not len(spaces):
        return None
    return reach(homes, spaces, *network, params=params, access_only=access_only, network=snapped)
