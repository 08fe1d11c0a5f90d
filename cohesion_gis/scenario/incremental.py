"""Rescoring a scenario City by recomputing only what its interventions touched.

The expensive part of the cohesion score is the network search behind the home × space distance
table (:func:`cohesion_gis.cohesion.reach.reach`), run on two walk networks (barrier-aware and
free). A scenario that leaves the walk network and the homes' locations alone changes the table
only in the columns of the spaces it added, removed or changed:

- rows of an unchanged space are the same (each space's bounded search is independent of the
  others), so they are taken from the base table;
- a new or changed space gets one bounded search from its entrances;
- residents added to or moved between existing homes change no distance, only the weights the
  components read, so the table is reused whole.

Every component is then evaluated on the merged table, which is cheap (vectorised sums over the
sparse table), and equals a full recompute (``tests/test_compare.py`` checks it). A changed walk
network (pedestrianising a major road changes severance) or a new home location falls back to the
full computation. ``bench/scenario_incremental.py`` measures the gain.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from cohesion_gis.cohesion.params import CohesionParams
from cohesion_gis.cohesion.reach import Reach, reach
from cohesion_gis.cohesion.score import CohesionResult, score_from_reach
from cohesion_gis.cohesion.severance import barrier_aware_network

__all__ = ["CohesionState", "rescore", "score_state"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CohesionState:
    """A cohesion result with the distance tables it came from, for incremental rescoring.

    Attributes
    ----------
    result
        The scores.
    aware, free
        Distance tables on the barrier-aware and the free walk network.
    aware_network
        The barrier-aware walk network ``(nodes, edges)``.
    recomputed
        What was computed: ``"full"``, or ``"incremental: N of M spaces searched"``.
    """

    result: CohesionResult
    aware: Reach
    free: Reach
    aware_network: tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]
    recomputed: str = "full"


def score_state(city: Any, params: CohesionParams, *, sensitivity: bool = False) -> CohesionState:
    """Score a City in full, keeping the distance tables (as :func:`score_districts` does)."""
    network = barrier_aware_network(city.walk_nodes, city.walk_edges)
    aware = reach(city.homes, city.contact_spaces, *network, params=params)
    free = reach(
        city.homes, city.contact_spaces, city.walk_nodes, city.walk_edges,
        params=params, access_only=True,
    )  # fmt: skip
    return CohesionState(
        score_from_reach(city, aware, free, params, sensitivity=sensitivity), aware, free, network
    )


def rescore(
    base_city: Any,
    base: CohesionState,
    city: Any,
    params: CohesionParams,
    *,
    sensitivity: bool = False,
) -> CohesionState:
    """Score a scenario City, reusing the base distance tables where the change allows.

    Parameters
    ----------
    base_city, base
        The base City and its :func:`score_state` (same ``params``).
    city
        The scenario City (from :func:`cohesion_gis.scenario.apply` on ``base_city``).
    params
        Cohesion parameters (must be those of ``base``).
    sensitivity
        Also run the sensitivity variants.
    """
    same_network = (
        city.walk_edges is base_city.walk_edges and city.walk_nodes is base_city.walk_nodes
    )
    plan = _space_plan(base.aware.spaces, city.contact_spaces)
    homes = _homes_in_place(base.aware.homes, city.homes)
    if not same_network or homes is None or plan is None or params != base.result.params:
        log.info("rescore: full recompute (network, home locations or parameters changed)")
        return score_state(city, params, sensitivity=sensitivity)
    fresh = np.flatnonzero(plan < 0)
    changed = city.contact_spaces.iloc[fresh]
    aware = _merge(
        base.aware,
        homes,
        plan,
        _search(city.homes, changed, base.aware_network, params, snapped=base.aware.network),
    )
    free_net = (city.walk_nodes, city.walk_edges)
    free = _merge(
        base.free,
        homes,
        plan,
        _search(city.homes, changed, free_net, params, access_only=True, snapped=base.free.network),
    )
    note = f"incremental: {fresh.size} of {len(plan)} spaces searched"
    log.info("rescore: %s", note)
    result = score_from_reach(city, aware, free, params, sensitivity=sensitivity)
    return CohesionState(result, aware, free, base.aware_network, note)


# --- helpers -------------------------------------------------------------------------------


def _space_key(spaces: gpd.GeoDataFrame) -> pd.Series:
    wkb = shapely.to_wkb(spaces.geometry.to_numpy(), hex=True)
    return (
        spaces["space_id"].astype(str)
        + "|" + spaces["space_type"].astype(str)
        + "|" + spaces["area_m2"].round(6).astype(str)
        + "|" + pd.Series(wkb, index=spaces.index)
    )  # fmt: skip


def _space_plan(base_spaces: gpd.GeoDataFrame, spaces: gpd.GeoDataFrame) -> np.ndarray | None:
    """For each scenario space, its position in the base table, or -1 if it must be searched.

    None when base keys are ambiguous (duplicate spaces), which the merge cannot map.
    """
    base_key = _space_key(base_spaces)
    if base_key.duplicated().any():
        return None
    lookup = pd.Series(np.arange(len(base_key)), index=base_key.to_numpy())
    return _space_key(spaces).map(lookup).fillna(-1).to_numpy(dtype=np.int64)


def _homes_in_place(base_homes: gpd.GeoDataFrame, homes: gpd.GeoDataFrame) -> Any:
    """The scenario homes with the base snapping, if they are the same homes at the same places."""
    if len(homes) != len(base_homes):
        return None
    homes = homes.reset_index(drop=True)
    same_ids = "home_id" not in homes or homes["home_id"].equals(base_homes["home_id"])
    if not same_ids or not homes.geometry.geom_equals_exact(base_homes.geometry, 0.0).all():
        return None
    return homes.assign(snap_m=base_homes["snap_m"].to_numpy())


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


def _merge(base: Reach, homes: gpd.GeoDataFrame, plan: np.ndarray, fresh: Reach | None) -> Reach:
    """Base rows of kept spaces and fresh rows of searched ones, in the scenario's space order."""
    kept = np.flatnonzero(plan >= 0)
    new_position = np.full(len(base.spaces), -1, dtype=np.int64)
    new_position[plan[kept]] = kept
    rows = base.table.assign(space=new_position[base.table["space"].to_numpy()])
    parts = [rows.loc[rows["space"] >= 0]]
    spaces = base.spaces.iloc[plan[kept]].set_axis(kept)
    space_parts = [spaces]
    if fresh is not None:
        searched = np.flatnonzero(plan < 0)
        parts.append(fresh.table.assign(space=searched[fresh.table["space"].to_numpy()]))
        space_parts.append(fresh.spaces.set_axis(searched))
    table = pd.concat(parts, ignore_index=True)  # components need no particular row order
    table["space"] = table["space"].astype(base.table["space"].dtype)
    merged = gpd.GeoDataFrame(pd.concat(space_parts).sort_index(), crs=base.spaces.crs)
    return Reach(homes, merged, table, base.limit_m, base.network)
