"""Incremental cohesion score: a scenario City rescored where its interventions touched.

:func:`cohesion_state` scores a City in full and keeps what a scenario starts from
(:class:`CohesionState`); :meth:`CohesionState.update` scores a scenario City of it.

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
others keep their base values (one float array per state, :class:`HomeValues`, whose touched rows
are replaced), and the district means are taken over all homes again from that array
(:func:`district_scores`). Residents added or moved change every catchment they fall in, so then
the tables are reused whole and every home is evaluated again; so are the sensitivity variants,
which rescale every distance.

:meth:`CohesionState.update_many` scores many scenarios of one base together: their new spaces
are searched in one call per network and their touched homes evaluated in one pass (each
scenario's homes as separate rows of one stacked table), so the fixed cost of a search and an
evaluation is paid once per batch; :meth:`~CohesionState.update` is ``update_many`` of one City.

The result equals a full recompute (``tests/test_comparison.py``, ``tests/test_suggest.py``). A
changed walk network (pedestrianising a major road changes severance) or new home locations fall
back to the full computation; an update scores with the base's parameters (other parameters: a
new :func:`cohesion_state`). ``bench/scenario_incremental.py`` and
``bench/suggest.py`` measure the gain. The scenario's merged distance tables
(:attr:`CohesionState.aware`, ``.free``), spaces and full :attr:`CohesionState.result` are built
only when read.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
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
    COMPONENTS,
    CohesionResult,
    DistrictKey,
    assemble_result,
    below_minimum,
    composite,
    distance_tables,
    home_components,
    score_from_reach,
    search_params,
    space_components,
    space_flags,
    walk_networks,
)
from cohesion_gis.cohesion.severance import detour_ratio, severance
from cohesion_gis.params import load_params

if TYPE_CHECKING:
    from cohesion_gis.city import City

__all__ = [
    "CohesionState",
    "HomeValues",
    "cohesion_state",
    "district_scores",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class HomeValues:
    """Per-home values that depend on the contact spaces, one float column each, every home.

    The incremental engine replaces the rows of the homes a change touches and takes district
    means from these arrays (:func:`district_scores`); the full :class:`CohesionResult` is
    assembled from them only when read.

    Attributes
    ----------
    columns
        ``access_<category>``, ``access``, ``diversity``, ``bridging``,
        ``capacity_m2_per_person``, ``capacity``, ``severance``, ``detour_ratio``,
        ``detour_capped_share`` (see :class:`CohesionResult`).
    array
        ``(n_homes, len(columns))`` float64, NaN where not measured.
    """

    columns: tuple[str, ...]
    array: np.ndarray = field(repr=False)

    @classmethod
    def of(cls, homes: pd.DataFrame, params: CohesionParams) -> HomeValues:
        """The values of scored homes (:func:`home_components` with severance and detour)."""
        columns = value_columns(params)
        return cls(columns, homes[list(columns)].to_numpy(dtype=np.float64, copy=True))

    def replaced(self, rows: np.ndarray, values: np.ndarray) -> HomeValues:
        """These values with rows ``rows`` (positions) replaced by ``values`` (same order)."""
        array = self.array.copy()
        array[rows] = values
        return HomeValues(self.columns, array)

    def frame(self) -> pd.DataFrame:
        """The values as a DataFrame (one row per home)."""
        return pd.DataFrame(self.array, columns=list(self.columns), copy=False)


def value_columns(params: CohesionParams) -> tuple[str, ...]:
    """The per-home columns that change with the contact spaces (:class:`HomeValues`)."""
    return (
        *(f"access_{c.name}" for c in params.access),
        "access", "diversity", "bridging", "capacity_m2_per_person", "capacity",
        "severance", "detour_ratio", "detour_capped_share",
    )  # fmt: skip


#: District columns :func:`district_scores` gives (population-weighted means over the homes).
DISTRICT_SCORES = (*COMPONENTS, "severance", "score")


def district_scores(
    values: HomeValues, key: DistrictKey, order: pd.Index, params: CohesionParams
) -> pd.DataFrame:
    """District means of the components, severance and score, from the per-home arrays.

    The same steps as the full run (:func:`~cohesion_gis.cohesion.score.assemble_result`): the
    composite of every home, then population-weighted means per
    district (one ``np.add.reduceat`` per column), so the values equal its ``districts``.

    Returns
    -------
    pandas.DataFrame
        ``district_id`` (in ``order``), ``population`` and :data:`DISTRICT_SCORES`.
    """
    frame = values.frame()
    frame["score"] = composite(frame, params.weights, params.aggregation)
    means = key.means(frame[list(DISTRICT_SCORES)]).reindex(order)
    means.insert(0, "population", key.population.reindex(order).fillna(0.0).to_numpy())
    return means.rename_axis("district_id").reset_index()


@dataclass(frozen=True)
class CohesionState:
    """A cohesion score with what a scenario's update reuses: distance tables, per-home arrays.

    Attributes
    ----------
    city
        The City scored.
    networks
        The cleaned barrier-aware and plain walk networks searched
        (:func:`~cohesion_gis.cohesion.score.walk_networks`).
    tables
        Returns the distance tables ``(aware, free)``; read them as :attr:`aware` and
        :attr:`free` (an incremental state merges them on first use).
    assemble
        Returns the full :class:`CohesionResult`; read it as :attr:`result` (an incremental
        state assembles it on first use).
    values
        Per-home values (:class:`HomeValues`).
    districts
        District means (:func:`district_scores`): what ranking many options reads, without
        assembling each option's full result.
    space_table
        Returns, per counted space, the values the homes read (``bridging``,
        ``supply_m2_per_person``) with the table's columns (:attr:`CohesionResult.spaces`); read
        it as :attr:`spaces` (an incremental state merges it on first use).
    homes
        The scored homes of the full run this state descends from (their static columns;
        value columns are replaced from :attr:`values` on assembly).
    key
        The homes' districts, for the means.
    params
        The parameters scored with.
    sensitivity
        Whether the tables were searched for the sensitivity variants.
    recomputed
        What was computed: ``"full"``, or ``"incremental: N of M spaces searched, K of H homes
        evaluated"``.
    """

    city: City
    networks: tuple[CleanedNetwork, CleanedNetwork]
    tables: Callable[[], tuple[Reach, Reach]] = field(repr=False)
    assemble: Callable[[], CohesionResult] = field(repr=False)
    values: HomeValues = field(repr=False)
    districts: pd.DataFrame = field(repr=False)
    space_table: Callable[[], gpd.GeoDataFrame] = field(repr=False)
    homes: gpd.GeoDataFrame = field(repr=False)
    key: DistrictKey = field(repr=False)
    params: CohesionParams = field(repr=False)
    sensitivity: bool = False
    notes: dict[str, str] = field(default_factory=dict, repr=False)
    recomputed: str = "full"

    @cached_property
    def _reach(self) -> tuple[Reach, Reach]:
        return self.tables()

    @cached_property
    def spaces(self) -> gpd.GeoDataFrame:
        """The counted spaces with their values (see :attr:`space_table`)."""
        return self.space_table()

    @cached_property
    def result(self) -> CohesionResult:
        """The full result (districts with every column and flag, homes, spaces)."""
        return self.assemble()

    @property
    def aware(self) -> Reach:
        """The distance table on the barrier-aware walk network."""
        return self._reach[0]

    @property
    def free(self) -> Reach:
        """The distance table on the plain walk network (to each space's access radius)."""
        return self._reach[1]

    def update(self, city: City, *, sensitivity: bool = False) -> CohesionState:
        """Score a scenario City, reusing this state's tables and scores where the change allows.

        Parameters
        ----------
        city
            The scenario City (from :func:`cohesion_gis.scenario.apply` on :attr:`city`).
        sensitivity
            Also run the sensitivity variants (every home is then evaluated again).

        Returns
        -------
        CohesionState
            The scenario's state, scored with :attr:`params`; its result equals a full
            :func:`cohesion_state` of ``city``.
        """
        return next(self.update_many([city], sensitivity=sensitivity))

    def update_many(
        self, cities: Iterable[City], *, sensitivity: bool = False, batch: int = 64
    ) -> Iterator[CohesionState]:
        """:meth:`update` each scenario City of this base, in order, several at a time.

        The changed spaces of up to ``batch`` scenarios are searched in one call per network,
        and the homes they touch evaluated in one pass (each scenario's touched homes as
        separate rows of one table), so the fixed cost of a search and of an evaluation is paid
        once per batch. Each space's search and each home's values depend only on that space's
        and that home's rows, so the states equal those of one :meth:`update` per City.
        """
        chunk: list[Any] = []
        for city in cities:
            chunk.append(city)
            if len(chunk) == batch:
                yield from _update_chunk(self, chunk, sensitivity)
                chunk = []
        if chunk:
            yield from _update_chunk(self, chunk, sensitivity)


def _full_state(
    city: City,
    result: CohesionResult,
    networks: tuple[CleanedNetwork, CleanedNetwork],
    tables: Callable[[], tuple[Reach, Reach]],
    note: str = "full",
) -> CohesionState:
    """The state of a result computed in full."""
    values = HomeValues.of(result.homes, result.params)
    key = DistrictKey(result.homes)
    order = pd.Index(result.districts["district_id"])
    return CohesionState(
        city, networks, tables, partial(_given, result), values,
        district_scores(values, key, order, result.params), partial(_given, result.spaces),
        result.homes, key,
        result.params, not result.sensitivity.empty, result.notes, note,
    )  # fmt: skip


def cohesion_state(
    city: City, params: CohesionParams | None = None, *, sensitivity: bool = False
) -> CohesionState:
    """Score a City in full (as :func:`~cohesion_gis.cohesion.score_districts`), keeping its state.

    Parameters
    ----------
    city
        The study area.
    params
        Cohesion parameters; ``None``: the packaged defaults.
    sensitivity
        Also run the sensitivity variants.

    Returns
    -------
    CohesionState
        The score with its distance tables; :meth:`CohesionState.update` scores scenarios of
        ``city`` from it.
    """
    params = params or load_params(CohesionParams)
    networks = walk_networks(city, params)
    aware, free = distance_tables(city, networks, params, sensitivity=sensitivity)
    result = score_from_reach(city, aware, free, params, sensitivity=sensitivity, networks=networks)
    return _full_state(city, result, networks, partial(_given, aware, free))


@dataclass(frozen=True)
class _Change:
    """What a scenario changes in the base tables.

    ``counted`` are the positions of the spaces the score counts in the scenario's
    ``contact_spaces``, and ``homes`` its homes (with the base snapping); ``plan`` gives each
    counted space its base position, or -1 when it was searched
    again, into ``fresh_aware`` and ``fresh_free`` (None when no space was), whose spaces are
    ``fresh_start...`` of the spaces searched with it; ``same_residents``: every home keeps its
    residents.
    """

    city: City
    counted: np.ndarray
    homes: gpd.GeoDataFrame
    plan: np.ndarray
    same_residents: bool
    fresh_aware: Reach | None = None
    fresh_free: Reach | None = None
    fresh_start: int = 0


def _update_chunk(
    base: CohesionState, cities: list[City], sensitivity: bool
) -> Iterator[CohesionState]:
    params = base.params
    changes = [_change(base, city, sensitivity) for city in cities]
    found = [c for c in changes if c is not None]
    found, fresh_spaces = _search_changed(base, found, params)
    quick = [c for c in found if c.same_residents and not sensitivity]
    evaluated = iter(_evaluate_touched(base, quick, fresh_spaces, params))
    done = iter(found)
    for city, planned in zip(cities, changes, strict=True):
        if planned is None:
            log.info("update: full recompute (network, home locations or parameters changed)")
            yield cohesion_state(city, params, sensitivity=sensitivity)
            continue
        change = next(done)
        note = f"incremental: {int((change.plan < 0).sum())} of {len(change.plan)} spaces searched"
        tables = partial(_merged_tables, base.aware, base.free, change)
        if change.same_residents and not sensitivity:
            state = next(evaluated)
            log.info("update: %s", state.recomputed)
            yield state
            continue
        aware, free = tables()
        result = score_from_reach(
            city, aware, free, params, sensitivity=sensitivity, networks=base.networks
        )
        note += f", {len(change.homes)} of {len(change.homes)} homes evaluated"
        log.info("update: %s", note)
        yield _full_state(city, result, base.networks, tables, note)


def _change(base: CohesionState, city: City, sensitivity: bool) -> _Change | None:
    """What ``city`` changes against the base, or None when it must be scored in full."""
    base_city, params = base.city, base.params
    same_network = (
        city.walk_edges is base_city.walk_edges and city.walk_nodes is base_city.walk_nodes
    )
    counted = np.flatnonzero(~below_minimum(city.contact_spaces, params))
    plan = _space_plan(base.spaces, city.contact_spaces, counted)
    same_homes = city.homes is base_city.homes
    homes = base.aware.homes if same_homes else _homes_in_place(base.aware.homes, city.homes)
    short = sensitivity and not base.sensitivity  # base searched without the variants
    if not same_network or homes is None or plan is None or short:
        return None
    same = same_homes or _same_residents(base.aware.homes, homes)
    return _Change(city, counted, homes, plan, same)


def _search_changed(
    base: CohesionState, changes: list[_Change], params: CohesionParams
) -> tuple[list[_Change], gpd.GeoDataFrame | None]:
    """The changes with their fresh tables, and the values of every searched space.

    Every change's new or changed spaces are searched in one call per network; the spaces get
    their values (:func:`space_components`, flags) there too.
    """
    parts = [c.city.contact_spaces.iloc[c.counted[c.plan < 0]] for c in changes]
    sizes = np.array([len(p) for p in parts], dtype=np.int64)
    if not sizes.sum():
        return changes, None
    changed = pd.concat(parts, ignore_index=True)
    searched_with = search_params(params, sensitivity=base.sensitivity)
    homes = changes[0].homes
    aware_net, free_net = (cleaned.network for cleaned in base.networks)
    aware = reach(homes, changed, *aware_net, params=searched_with, network=base.aware.network)
    free = reach(
        homes, changed, *free_net, params=searched_with, access_only=True,
        network=base.free.network,
    )  # fmt: skip
    values = space_components(aware, params)
    spaces = space_flags(pd.concat([aware.spaces, values], axis=1), aware)
    starts = np.r_[0, np.cumsum(sizes)]
    by_space = [np.argsort(t.table["space"].to_numpy(), kind="stable") for t in (aware, free)]
    return (
        [
            replace(
                c,
                fresh_aware=_part(aware, by_space[0], a, b),
                fresh_free=_part(free, by_space[1], a, b),
                fresh_start=a,
            )
            for c, a, b in zip(changes, starts[:-1], starts[1:], strict=True)
        ],
        spaces,
    )


def _part(table: Reach, by_space: np.ndarray, start: int, stop: int) -> Reach | None:
    """The spaces ``start:stop`` of a table, renumbered from 0 (None when there are none).

    ``by_space`` orders the table's rows by space (stable), so each part is one slice.
    """
    if stop == start:
        return None
    home, space, dist_m = table.columns()
    sorted_space = space[by_space]
    lo, hi = np.searchsorted(sorted_space, [start, stop])
    at = np.sort(by_space[lo:hi])  # back to the table's order: by home, then space
    rows = pd.DataFrame(
        {"home": home[at], "space": space[at] - start, "dist_m": dist_m[at]}, copy=False
    )
    spaces = table.spaces.iloc[start:stop].reset_index(drop=True)
    limit = float(spaces["search_radius_m"].max())
    return Reach(table.homes, spaces, rows, limit, table.network)


# --- the touched homes ---------------------------------------------------------------------


def _touched_homes(base: CohesionState, change: _Change) -> np.ndarray:
    """Sorted positions of the homes with a row for a removed, changed or new space."""
    dropped = np.ones(len(base.spaces), dtype=bool)
    dropped[change.plan[change.plan >= 0]] = False
    parts = [
        table["home"].to_numpy()[dropped[table["space"].to_numpy()]]
        for table in (base.aware.table, base.free.table)
        if dropped.any()
    ]
    fresh = (change.fresh_aware, change.fresh_free)
    parts += [reached.table["home"].to_numpy() for reached in fresh if reached is not None]
    return np.unique(np.concatenate([np.empty(0, np.int64), *parts])).astype(np.int64)


def _evaluate_touched(
    base: CohesionState,
    changes: list[_Change],
    fresh_spaces: gpd.GeoDataFrame | None,
    params: CohesionParams,
) -> Iterator[CohesionState]:
    """The state of each change: its touched homes evaluated again, every change in one pass.

    The touched homes of every change are stacked as separate rows of one table whose spaces
    are the base spaces followed by every change's fresh spaces (change ``k``'s rows read only
    its own), so one :func:`home_components` call evaluates them all.
    """
    if not changes:
        return
    n_base = len(base.spaces)
    union = base.spaces if fresh_spaces is None else _stacked(base.spaces, fresh_spaces)
    touched = [_touched_homes(base, c) for c in changes]
    offsets = np.r_[0, np.cumsum([t.size for t in touched])]
    stacked = []
    for table, which in ((base.aware, "fresh_aware"), (base.free, "fresh_free")):
        parts = []
        for k, change in enumerate(changes):
            kept = change.plan[change.plan >= 0]
            keep = np.full(n_base, -1, dtype=np.int64)
            keep[kept] = kept  # base spaces keep their numbers; fresh ones follow them all
            first = n_base + change.fresh_start
            fresh_at = np.arange(first, first + len(change.plan) - kept.size, dtype=np.int64)
            fresh = getattr(change, which)
            home, space, dist = _rows(table, keep, touched[k], fresh, fresh_at)
            parts.append((home + offsets[k], space, dist))
        home, space, dist = (np.concatenate(p) for p in zip(*parts, strict=True))
        rows = pd.DataFrame(
            {"home": home.astype(table.table.dtypes["home"]),
             "space": space.astype(table.table.dtypes["space"]), "dist_m": dist}
        )  # fmt: skip
        some = changes[0].homes.iloc[np.concatenate(touched)].reset_index(drop=True)
        stacked.append(Reach(some, union, rows, table.limit_m))
    aware, free = stacked
    n_types = len(changes[0].city.taxonomy.contact_spaces)
    scored, _ = home_components(aware, params, n_types=n_types, space_values=union)
    scored["severance"] = severance(scored["access"], access(free, params)["access"])
    scored[["detour_ratio", "detour_capped_share"]] = detour_ratio(aware, free, params)
    new = scored[list(base.values.columns)].to_numpy(dtype=np.float64)
    order = pd.Index(base.districts["district_id"])
    for k, change in enumerate(changes):
        rows = touched[k]
        values = base.values.replaced(rows, new[offsets[k] : offsets[k + 1]])
        n_fresh = int((change.plan < 0).sum())
        mine = None
        if fresh_spaces is not None and n_fresh:
            mine = fresh_spaces.iloc[change.fresh_start : change.fresh_start + n_fresh]
        spaces = partial(_by_plan, base.spaces, mine, change.plan)
        note = (
            f"incremental: {int((change.plan < 0).sum())} of {len(change.plan)} spaces searched, "
            f"{rows.size} of {len(change.homes)} homes evaluated"
        )
        yield CohesionState(
            change.city,
            base.networks,
            partial(_merged_tables, base.aware, base.free, change),
            partial(_assembled, change.city, base.homes, values, spaces, params=params,
                    notes=base.notes),
            values, district_scores(values, base.key, order, params), spaces, base.homes,
            base.key, params, base.sensitivity, base.notes, note,
        )  # fmt: skip


def _stacked(base_spaces: gpd.GeoDataFrame, fresh: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The base spaces followed by the fresh ones, renumbered from 0."""
    return gpd.GeoDataFrame(pd.concat([base_spaces, fresh], ignore_index=True), crs=base_spaces.crs)


def _assembled(
    city: City,
    homes: gpd.GeoDataFrame,
    values: HomeValues,
    spaces: Callable[[], gpd.GeoDataFrame],
    *,
    params: CohesionParams,
    notes: dict[str, str],
) -> CohesionResult:  # spaces: the state's space_table
    """The full result of scored ``homes`` with their value columns replaced by ``values``."""
    out = homes.copy(deep=False)
    for j, column in enumerate(values.columns):
        out[column] = values.array[:, j]
    return assemble_result(city, out, spaces(), params, notes=notes)


# --- merging base and fresh ----------------------------------------------------------------


def _given(*values: Any) -> Any:
    """The values passed in (one alone, or as a tuple): a state's precomputed tables or result."""
    return values[0] if len(values) == 1 else values


def _merged_tables(base_aware: Reach, base_free: Reach, change: _Change) -> tuple[Reach, Reach]:
    """Both scenario tables in full: base rows of kept spaces, fresh rows of searched ones."""
    every = np.arange(len(change.homes), dtype=np.int64)
    kept = np.flatnonzero(change.plan >= 0)
    position = np.full(len(base_aware.spaces), -1, dtype=np.int64)
    position[change.plan[kept]] = kept
    searched = np.flatnonzero(change.plan < 0)
    merged = []
    for base, fresh in ((base_aware, change.fresh_aware), (base_free, change.fresh_free)):
        spaces = _by_plan(base.spaces, None if fresh is None else fresh.spaces, change.plan)
        home, space, dist = _rows(base, position, every, fresh, searched)
        table = pd.DataFrame(
            {"home": home.astype(base.table.dtypes["home"]),
             "space": space.astype(base.table.dtypes["space"]), "dist_m": dist}
        )  # fmt: skip
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


def _rows(
    base: Reach,
    position: np.ndarray,
    homes: np.ndarray,
    fresh: Reach | None,
    fresh_position: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``home, space, dist_m`` of ``homes`` (sorted positions), renumbered ``0..k-1``, sorted.

    Sorted by home then space. Base rows come from the home-sorted base table by slicing, base
    space ``s`` becoming ``position[s]`` (rows of spaces at -1 left out); fresh rows of these
    homes are added, fresh space ``f`` becoming ``fresh_position[f]``.
    """
    home_col = base.table["home"].to_numpy()
    start = np.searchsorted(home_col, homes, side="left")
    stop = np.searchsorted(home_col, homes, side="right")
    length = stop - start
    rows = np.arange(length.sum()) + np.repeat(start - (np.cumsum(length) - length), length)
    space = position[base.table["space"].to_numpy()[rows]]
    keep = space >= 0
    home = np.repeat(np.arange(homes.size), length)[keep]
    space, dist = space[keep], base.table["dist_m"].to_numpy()[rows][keep]
    if fresh is not None:
        fresh_home = fresh.table["home"].to_numpy()
        fresh_space = fresh.table["space"].to_numpy()
        inside = np.isin(fresh_home, homes)
        home = np.r_[home, np.searchsorted(homes, fresh_home[inside])]
        at = fresh_space[inside]
        space = np.r_[space, fresh_position[at]]
        dist = np.r_[dist, fresh.table["dist_m"].to_numpy()[inside]]
        order = np.lexsort((space, home))
        home, space, dist = home[order], space[order], dist[order]
    return home, space, dist


# --- what changed --------------------------------------------------------------------------


def _space_plan(
    base_spaces: gpd.GeoDataFrame, spaces: gpd.GeoDataFrame, counted: np.ndarray
) -> np.ndarray | None:
    """For each counted scenario space, its position in the base table, or -1 to search it.

    ``counted`` are the positions of the counted spaces in ``spaces``. A space is kept when its
    id, type, area and outline are those of a base space. None when ids repeat (the plan could
    not tell spaces apart).
    """
    base_ids = pd.Index(base_spaces["space_id"])
    ids = pd.Index(spaces["space_id"].to_numpy()[counted])
    if base_ids.has_duplicates or ids.has_duplicates:
        return None
    position = base_ids.get_indexer(ids)
    found = np.flatnonzero(position >= 0)
    before, after = position[found], counted[found]
    same = (
        (base_spaces["space_type"].to_numpy()[before] == spaces["space_type"].to_numpy()[after])
        & (base_spaces["area_m2"].to_numpy()[before] == spaces["area_m2"].to_numpy()[after])
        & shapely.equals_exact(
            base_spaces.geometry.to_numpy()[before], spaces.geometry.to_numpy()[after], 0.0
        )
    )
    plan = np.full(counted.size, -1, dtype=np.int64)
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
