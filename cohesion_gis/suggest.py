r"""Where would a new contact space do the most for cohesion? Ranked, exactly scored suggestions.

:func:`candidate_sites` lists the land that could become a contact space: surface car parks,
vacant, brownfield or grass land-use areas (not already part of a contact space) and any sites the
user gives, each with the space types its area allows (``defaults/suggest.toml``, sourced minimum
sizes). :func:`suggest` scores every candidate × type as a real scenario: the change is applied to
the City (:func:`cohesion_gis.scenario.apply`) and rescored by the incremental engine
(:meth:`cohesion_gis.scenario.CohesionState.update_many`), so each predicted gain *is* what
:func:`compare` reports for the written scenario file, not an estimate.

The objective is the change in the study area's mean score per resident,

.. math:: G = \frac{\sum_d w_d\, P_d\, \Delta S_d}{\sum_d P_d}

with :math:`P_d` the residents and :math:`\Delta S_d` the score change (0–100) of district
:math:`d`; :math:`w_d = 1` by default, or with ``equity=True``
:math:`w_d \propto (100 - S_d)^{e}` normalised to a population-weighted mean of 1, so gains in
the lowest-scoring districts count more.

The portfolio of ``k`` sites is chosen by lazy greedy selection (Minoux 1978): gains are kept in
a priority queue; the best is re-evaluated exactly against the City with every earlier pick
applied and taken only if it still leads. Gains interact (two parks 100 m apart serve the same
homes), so each pick reports its *marginal* gain. Lazy greedy is exact greedy when gains only
shrink as picks are added (submodularity); access and diversity can break that (a second space
type completes a home's menu), so the queue is re-evaluated in full whenever a re-evaluated gain
*grows* (see ``docs/decisions.md``).

References
----------
Minoux, M. (1978). Accelerated greedy algorithms for maximizing submodular set functions.
*Optimization Techniques*, LNCIS 7, 234-243. https://doi.org/10.1007/BFb0006528
"""

from __future__ import annotations

import heapq
import logging
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, ClassVar

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from tqdm.auto import tqdm

from cohesion_gis._validate import Bound, raise_problems
from cohesion_gis.cohesion.params import CohesionParams
from cohesion_gis.errors import InputError, ParameterError
from cohesion_gis.params import (
    FIX_FILE,
    field_problems,
    load_params,
    param,
    read_fields,
    with_attributes,
)
from cohesion_gis.scenario import (
    CohesionState,
    Intervention,
    Scenario,
    apply,
    cohesion_state,
)
from cohesion_gis.scenario.write import base_spec

if TYPE_CHECKING:
    from cohesion_gis.city import City

__all__ = [
    "SUGGEST_OUTPUTS",
    "SuggestParams",
    "Suggestions",
    "candidate_sites",
    "suggest",
    "suggestions_text",
    "unmapped_types",
    "unmapped_warning",
    "write_suggestions",
]

log = logging.getLogger(__name__)

#: Gains below this (points of the average resident's score) are rounding noise, not a gain.
GAIN_TOLERANCE = 1e-9
#: What a gain is, in words (the CSV's ``predicted_score_gain``, JSON ``gain_unit``, console).
GAIN_UNIT = (
    "points: rise in the average resident's score (0-100 scale, the population-weighted mean "
    "over the study area; not points added to each resident)"
)


@with_attributes
@dataclass(frozen=True)
class SuggestParams:
    """What land can become a contact space, and how big each type must be.

    Each is declared once, as a field (:func:`cohesion_gis.params.param`: description and
    plausible bound, reasons in docs/decisions.md, "Candidates"); the values and their sources
    live in ``defaults/suggest.toml``.
    """

    surface_parking: tuple[str, ...] = param(
        'OSM ``parking=*`` values of car parks that are open land (``""``: untagged).'
    )
    land_uses: tuple[str, ...] = param("OSM ``landuse=*`` values of land with no built use.")
    max_overlap_with_spaces: float = param(
        "A land-use area more than this share (0–1) inside existing contact spaces is not a "
        "candidate.",
        Bound(0.0, 1.0),
    )
    min_area_m2: Mapping[str, float] = param(
        "Smallest outline (m²) per contact-space type a candidate can become.",
        Bound(0.0, 1e8, "m²", above=True),
    )
    min_width_m: Mapping[str, float] = param(
        "Narrowest usable width (m) per type: the outline must hold a square of this side.",
        Bound(0.0, 10_000.0, "m", above=True),
    )
    equity_exponent: float = param(
        "Exponent :math:`e` of the equity weights (0 = none).", Bound(0.0, 4.0)
    )

    PACKAGED: ClassVar[str] = "suggest.toml"
    OPEN_TABLES: ClassVar[tuple[str, ...]] = ("min_area_m2", "min_width_m")

    def __post_init__(self) -> None:
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        problems = field_problems(values, fields(self)) + _same_types(values)
        raise_problems(ParameterError, "SuggestParams", problems, "Fix the value(s)")

    @classmethod
    def from_table(cls, table: Mapping[str, Any], label: str, problems: list[str]) -> SuggestParams:
        """Build from a full ``suggest.toml`` table (see :func:`cohesion_gis.params.load_params`).

        Raises
        ------
        ParameterError
            ``problems`` and every missing, mistyped, non-finite or out-of-range value, in one
            message.
        """
        values, more = read_fields(table, fields(cls))
        raise_problems(ParameterError, label, problems + more + _same_types(values), FIX_FILE)
        return cls(**values)


def _same_types(values: Mapping[str, Any]) -> list[str]:
    """The one rule across fields: both size tables name the same contact-space types."""
    widths, areas = values.get("min_width_m"), values.get("min_area_m2")
    if widths is None or areas is None or set(widths) == set(areas):
        return []
    return [
        f"min_width_m and min_area_m2 must name the same types "
        f"(got {sorted(widths)} and {sorted(areas)})"
    ]


@dataclass(frozen=True)
class Suggestions:
    """The result of :func:`suggest`.

    Attributes
    ----------
    table
        One row per candidate × type, best first: ``rank, candidate_id, name, source,
        space_type, area_m2, district_id, predicted_score_gain`` (rise in the average
        resident's score, points on the 0–100 scale: :data:`GAIN_UNIT`; equity-weighted when
        asked), ``residents_newly_served`` (residents brought
        within the full-credit distance of a category the new space counts for),
        ``best_district``, ``best_district_gain``, ``<component>_gain`` (per-resident change of
        access, diversity, bridging and capacity, 0–1) and ``main_driver`` (the component that
        changed most), ``check`` (:func:`unmapped_warning` where the City maps no space of the
        type, else empty) and geometry (City CRS).
    district_gains
        Long table ``candidate_id, space_type, district_id, score_delta`` plus every component's
        delta, for every evaluated option and district.
    portfolio
        The greedy picks in order: ``pick, candidate_id, space_type, marginal_gain,
        cumulative_gain`` and geometry.
    independent_gain
        The gain of the top ``k`` distinct sites of ``table`` applied together, to compare with
        the portfolio's ``cumulative_gain``.
    base
        The base cohesion state scored from.
    scenarios
        The in-memory scenario of each option, keyed ``(candidate_id, space_type)``.
    unmapped_types
        Space types the candidates could become of which the City maps none: their gains
        assume none exists (a gap in the map reads as a need), so the caller is warned.
    skipped_types
        Of those, the types left out of the ranking (``skip_unmapped=True``).
    """

    table: gpd.GeoDataFrame
    district_gains: pd.DataFrame
    portfolio: gpd.GeoDataFrame
    independent_gain: float
    base: CohesionState
    scenarios: Mapping[tuple[str, str], Scenario]
    unmapped_types: tuple[str, ...] = ()
    skipped_types: tuple[str, ...] = ()

    @property
    def warnings(self) -> tuple[str, ...]:
        """One sentence per space type the City maps none of (:func:`unmapped_warning`)."""
        return tuple(
            unmapped_warning(t, skipped=t in self.skipped_types) for t in self.unmapped_types
        )


def unmapped_types(city: City, space_types: Iterable[str]) -> tuple[str, ...]:
    """The ``space_types`` of which the City's data hold no contact space at all (sorted).

    A new space of such a type scores as the first of its kind: its gain is real only if none
    exists on the ground, and a map with none tagged (the embedded Helsinki has no
    ``youth_centre``) more often means a gap in the map than in the city.
    """
    mapped = set(city.contact_spaces["space_type"].astype(str))
    return tuple(sorted(set(space_types) - mapped))


def unmapped_warning(space_type: str, *, skipped: bool = False, short: bool = False) -> str:
    """The warning for a space type the City maps none of.

    ``short``: without the way to leave such types out (the CSV's ``check`` cell); ``skipped``:
    says the type was left out instead.
    """
    kind = space_type.replace("_", " ")
    if skipped:
        return f"no {kind} is in the map data: {kind} options left out (--skip-unmapped)"
    text = (
        f"no {kind} is in the map data: gains for a {kind} assume none exists; check the map first"
    )
    if short:
        return text
    return text + " (or leave such types out: CLI --skip-unmapped, suggest(skip_unmapped=True))"


# --- candidates ----------------------------------------------------------------------------


def candidate_sites(
    city: City,
    *,
    sites: gpd.GeoDataFrame | None = None,
    params: SuggestParams | None = None,
) -> gpd.GeoDataFrame:
    """Land that could become a contact space, with the types its area allows.

    Car parks and land-use areas are proposed only inside the study area (``City.boundary``),
    not in the buffer read around it; given ``sites`` are kept wherever they lie.

    Parameters
    ----------
    city
        The study area.
    sites
        Extra candidate outlines (polygons, any CRS; optional ``name`` column), e.g. council land.
    params
        Candidate rules; packaged defaults when None.

    Returns
    -------
    geopandas.GeoDataFrame
        ``candidate_id`` (``way/123`` for OSM features, ``user/0`` for given sites), ``name``,
        ``source`` (``surface car park``, ``landuse=brownfield``, ``given site``), ``area_m2``,
        ``district_id``, ``space_types`` (tuple, smallest first) and geometry (City CRS); only
        candidates that fit at least one type by area and width.

    Raises
    ------
    InputError
        ``sites`` has no CRS or holds no polygons.
    """
    params = params or load_params(SuggestParams)
    known = {c.name for c in city.taxonomy.contact_spaces}
    sizes = {t: a for t, a in params.min_area_m2.items() if t in known}
    found = [_parking_candidates(city, params), _landuse_candidates(city, params)]
    parts = [_in_study_area(city, frame) for frame in found]  # not the buffer read around it
    if sites is not None:
        parts.append(_given_sites(city, sites))
    frame = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs=city.crs)
    frame["area_m2"] = frame.geometry.area
    order = sorted(sizes, key=lambda t: (sizes[t], t))
    fits = {
        t: (frame["area_m2"].to_numpy() >= sizes[t])
        & ~frame.geometry.buffer(-params.min_width_m[t] / 2).is_empty.to_numpy()
        for t in order
    }
    frame["space_types"] = [tuple(t for t in order if fits[t][i]) for i in range(len(frame))]
    frame = frame.loc[frame["space_types"].map(len) > 0]
    frame = frame.drop_duplicates("candidate_id").reset_index(drop=True)
    frame["district_id"] = _district_of(city, frame)
    log.info("%d candidate sites for new contact spaces", len(frame))
    cols = ["candidate_id", "name", "source", "area_m2", "district_id", "space_types", "geometry"]
    return frame[cols]


def _polygons(frame: gpd.GeoDataFrame) -> np.ndarray:
    return frame.geom_type.isin(["Polygon", "MultiPolygon"]).to_numpy()


def _in_study_area(city: City, frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The rows whose representative point lies in the study area (as homes' ``in_study_area``)."""
    points = frame.geometry.representative_point().to_numpy()
    return frame.loc[shapely.within(points, city.boundary)]


def _parking_candidates(city: City, params: SuggestParams) -> gpd.GeoDataFrame:
    parking = city.parking
    kind = parking["parking"].fillna("").astype(str)
    keep = _polygons(parking) & kind.isin(params.surface_parking).to_numpy()
    rows = parking.loc[keep]
    return gpd.GeoDataFrame(
        {
            "candidate_id": rows["parking_id"].astype(str),
            "name": rows["name"],
            "source": "surface car park",
        },
        geometry=rows.geometry.to_numpy(),
        crs=city.crs,
    )


def _landuse_candidates(city: City, params: SuggestParams) -> gpd.GeoDataFrame:
    landuse = city.landuse
    keep = _polygons(landuse) & landuse["landuse"].isin(params.land_uses).to_numpy()
    rows = landuse.loc[keep]
    outlines = city.contact_spaces.loc[_polygons(city.contact_spaces)].geometry.make_valid()
    spaces = outlines.union_all()
    inside = rows.geometry.make_valid().intersection(spaces).area / rows.geometry.area
    rows = rows.loc[(inside <= params.max_overlap_with_spaces).to_numpy()]
    return gpd.GeoDataFrame(
        {
            "candidate_id": rows["osm_id"].astype(str),
            "name": rows["name"],
            "source": "landuse=" + rows["landuse"].astype(str),
        },
        geometry=rows.geometry.to_numpy(),
        crs=city.crs,
    )


def _given_sites(city: City, sites: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    if sites.crs is None:
        raise InputError(
            "the given candidate sites have no CRS; set one with sites.set_crs(...) first"
        )
    polygons = sites.loc[_polygons(sites)].to_crs(city.crs)
    if polygons.empty:
        raise InputError(
            f"the given candidate sites hold no polygons ({len(sites)} rows); a new space "
            "needs an outline"
        )
    names = polygons["name"] if "name" in polygons else pd.Series(None, index=polygons.index)
    return gpd.GeoDataFrame(
        {
            "candidate_id": [f"user/{i}" for i in range(len(polygons))],
            "name": names.to_numpy(),
            "source": "given site",
        },
        geometry=polygons.geometry.to_numpy(),
        crs=city.crs,
    )


def _district_of(city: City, frame: gpd.GeoDataFrame) -> np.ndarray:
    """The district holding each candidate's representative point (None outside all)."""
    points = gpd.GeoDataFrame(geometry=frame.geometry.representative_point(), crs=city.crs)
    joined = gpd.sjoin(points, city.districts[["district_id", "geometry"]], how="left")
    joined = joined[~joined.index.duplicated(keep="first")]
    return joined["district_id"].reindex(frame.index).to_numpy(dtype=object)


# --- evaluating options --------------------------------------------------------------------


def _option_scenario(city: City, row: pd.Series, space_type: str) -> Scenario:
    """The scenario that builds ``space_type`` on candidate ``row``."""
    label = row["name"] if isinstance(row["name"], str) and row["name"] else row["candidate_id"]
    space_name = f"{space_type.replace('_', ' ')} at {label} (proposed)"
    if str(row["candidate_id"]).startswith("user/"):
        shape = gpd.GeoSeries([row.geometry], crs=city.crs).to_crs(4326).iloc[0]
        iv = Intervention(
            0,
            "add_contact_space",
            MappingProxyType({"space_type": space_type, "name": space_name, "geometry": shape.wkt}),
            shape,
        )
    else:
        iv = Intervention(
            0,
            "convert_land_use",
            MappingProxyType(
                {"id": row["candidate_id"], "space_type": space_type, "space_name": space_name}
            ),
        )
    slug = "".join(c if c.isalnum() else "_" for c in str(row["candidate_id"]))
    return Scenario(
        name=f"suggest_{space_type}_{slug}",
        description=(
            f"Build a {space_type.replace('_', ' ')} on the {row['source']} {label} "
            f"({row['area_m2']:,.0f} m²), suggested by cohesion-gis suggest."
        ),
        base=base_spec(city),
        interventions=(iv,),
    )


def _weights(districts: pd.DataFrame, exponent: float) -> np.ndarray:
    """Equity weights per district: shortfall from 100 to the power ``exponent``, mean 1."""
    pop = districts["population"].to_numpy(dtype=float)
    short = np.clip(100.0 - districts["score"].to_numpy(dtype=float), 0.0, None) ** exponent
    short = np.nan_to_num(short, nan=0.0)
    mean = float((pop * short).sum() / pop.sum()) if pop.sum() > 0 else 0.0
    return short / mean if mean > 0 else np.ones(len(pop))


def _aligned(base: pd.DataFrame, after: pd.DataFrame, columns: list[str]) -> np.ndarray:
    """``after[columns]`` in the district order of ``base`` (float array)."""
    ids = base["district_id"].to_numpy()
    if not np.array_equal(after["district_id"].to_numpy(), ids):
        after = after.set_index("district_id").reindex(ids).reset_index()
    return after[columns].to_numpy(dtype=float)


def _gain(base: pd.DataFrame, after: pd.DataFrame, weights: np.ndarray) -> float:
    """Weighted change of the mean score per resident (0–100 scale)."""
    pop = base["population"].to_numpy(dtype=float)
    delta = _aligned(base, after, ["score"])[:, 0] - base["score"].to_numpy(dtype=float)
    delta = np.nan_to_num(delta)
    return float((weights * pop * delta).sum() / pop.sum()) if pop.sum() > 0 else 0.0


def _newly_served(base: CohesionState, after: CohesionState, columns: list[str]) -> float:
    """Residents of homes brought to full credit (1) in any of ``columns``."""
    if not columns:
        return 0.0
    at = [base.values.columns.index(c) for c in columns]
    before = base.values.array[:, at] >= 1.0
    now = after.values.array[:, at] >= 1.0
    gained = (now & ~before).any(axis=1)
    return float(base.homes["population"].to_numpy(dtype=float)[gained].sum())


def _served_columns(params: CohesionParams, space_type: str, area_m2: float) -> list[str]:
    return [
        f"access_{c.name}"
        for c in params.access
        if space_type in c.space_types and area_m2 >= c.min_area_m2
    ]


@dataclass(frozen=True)
class _Step:
    """The City and cohesion state after the picks so far, with the district weights."""

    city: City
    state: CohesionState
    weights: np.ndarray


def _evaluate(
    step: _Step, scenario: Scenario, params: CohesionParams
) -> tuple[float, CohesionState, Any]:
    return next(_evaluate_many(step, [scenario], params))


def _evaluate_many(
    step: _Step, scenarios: Iterable[Scenario], params: CohesionParams
) -> Iterator[tuple[float, CohesionState, Any]]:
    """Gain, state and City of each scenario applied after ``step``, rescored in batches."""
    applied: deque[Any] = deque()

    def cities() -> Iterator[Any]:
        for scenario in scenarios:
            applied.append(apply(step.city, scenario))
            yield applied[-1]

    for state in step.state.update_many(cities()):
        yield _gain(step.state.districts, state.districts, step.weights), state, applied.popleft()


def suggest(
    city: City,
    *,
    params: CohesionParams | None = None,
    suggest_params: SuggestParams | None = None,
    sites: gpd.GeoDataFrame | None = None,
    k: int = 3,
    equity: bool = False,
    skip_unmapped: bool = False,
    progress: bool = True,
) -> Suggestions:
    """Rank every candidate × contact-space type by its exact effect on the cohesion score.

    A type of which the City maps no space at all (:func:`unmapped_types`) scores as the first
    of its kind, so a gap in the map reads as a need: such types are kept and warned about
    (:attr:`Suggestions.warnings`, a ``check`` column), or left out with ``skip_unmapped``.

    Parameters
    ----------
    city
        The study area.
    params
        Cohesion parameters; packaged defaults when None.
    suggest_params
        Candidate rules and minimum sizes; packaged defaults when None.
    sites
        Extra candidate outlines (see :func:`candidate_sites`).
    k
        Sites in the portfolio (≥ 1).
    equity
        Weight each district's gain by its shortfall from 100 (see the module docstring).
    skip_unmapped
        Leave out the space types of which the City maps none.
    progress
        Show a progress bar.

    Returns
    -------
    Suggestions

    Raises
    ------
    InputError
        ``k`` < 1, or no candidate fits any type (any type left after ``skip_unmapped``).

    Examples
    --------
    >>> import cohesion_gis as cg
    >>> from cohesion_gis.suggest import suggest
    >>> city = cg.load_city()  # doctest: +SKIP
    >>> found = suggest(city, k=2, progress=False)
    >>> bool(found.table["predicted_score_gain"].is_monotonic_decreasing)
    True
    """
    if k < 1:
        raise InputError(f"k = {k}: a portfolio needs at least one site; pass k ≥ 1")
    params = params or load_params(CohesionParams)
    suggest_params = suggest_params or load_params(SuggestParams)
    candidates = candidate_sites(city, sites=sites, params=suggest_params)
    unmapped = unmapped_types(city, {t for types in candidates["space_types"] for t in types})
    skipped = unmapped if skip_unmapped else ()
    candidates["space_types"] = [
        tuple(t for t in types if t not in skipped) for types in candidates["space_types"]
    ]
    candidates = candidates.loc[candidates["space_types"].map(len) > 0]
    if candidates.empty:
        raise InputError(
            f"{city.name}: no surface car park, vacant or given site is large enough for any "
            "contact space" + (f" but {', '.join(skipped)}" if skipped else "")
            + "; pass sites= with outlines of land the council could use"
        )  # fmt: skip
    for space_type in unmapped:
        log.warning("%s: %s", city.name, unmapped_warning(space_type, skipped=skip_unmapped))
    base_state = cohesion_state(city, params)
    base_districts = base_state.districts
    exponent = suggest_params.equity_exponent if equity else 0.0
    base_step = _Step(city, base_state, _weights(base_districts, exponent))
    options = [
        (row, space_type) for _, row in candidates.iterrows() for space_type in row["space_types"]
    ]
    scenarios = {
        (str(row["candidate_id"]), space_type): _option_scenario(city, row, space_type)
        for row, space_type in options
    }
    evaluated = _evaluate_many(base_step, scenarios.values(), params)
    rows, long_parts = [], []
    best_so_far: dict[tuple[str, str], tuple[float, CohesionState, Any]] = {}
    for (row, space_type), (gain, state, option_city) in zip(
        tqdm(options, desc="suggest", disable=not progress, unit="option"), evaluated, strict=True
    ):
        key = (str(row["candidate_id"]), space_type)
        if not best_so_far or (-gain, key) < min((-g, k) for k, (g, _, _) in best_so_far.items()):
            best_so_far = {key: (gain, state, option_city)}  # the top row: the first pick
        served = _served_columns(params, space_type, float(row["area_m2"]))
        deltas = _district_deltas(base_districts, state.districts)
        best = deltas.iloc[int(np.argmax(deltas["score_delta"].fillna(-np.inf).to_numpy()))]
        components = _component_gains(base_districts, deltas)
        rows.append(
            {
                "candidate_id": key[0],
                "name": row["name"],
                "source": row["source"],
                "space_type": space_type,
                "area_m2": float(row["area_m2"]),
                "district_id": row["district_id"],
                "predicted_score_gain": gain,
                "residents_newly_served": _newly_served(base_state, state, served),
                "best_district": best["district_id"],
                "best_district_gain": float(best["score_delta"]),
                **components,
                "check": unmapped_warning(space_type, short=True) if space_type in unmapped else "",
                "geometry": row.geometry,
            }
        )
        long_parts.append(deltas.assign(candidate_id=key[0], space_type=space_type))
    table = gpd.GeoDataFrame(rows, geometry="geometry", crs=city.crs)
    table = table.sort_values(
        ["predicted_score_gain", "candidate_id", "space_type"],
        ascending=[False, True, True],
        kind="stable",
    ).reset_index(drop=True)
    table.insert(0, "rank", np.arange(1, len(table) + 1))
    district_gains = pd.concat(long_parts, ignore_index=True)
    lead = ["candidate_id", "space_type"]
    district_gains = district_gains[lead + [c for c in district_gains if c not in lead]]
    portfolio, steps = _portfolio(base_step, table, scenarios, params, k, first=best_so_far)
    independent = _independent(base_step, table, scenarios, params, k, known=steps)
    log.info(
        "suggest: %d options on %d sites; best %s as %s (+%.3f); portfolio of %d +%.3f",
        len(table), len(candidates), table.at[0, "candidate_id"], table.at[0, "space_type"],
        table.at[0, "predicted_score_gain"], len(portfolio),
        portfolio["cumulative_gain"].iloc[-1] if len(portfolio) else 0.0,
    )  # fmt: skip
    return Suggestions(
        table, district_gains, portfolio, independent, base_state, MappingProxyType(scenarios),
        unmapped_types=unmapped, skipped_types=skipped,
    )  # fmt: skip


def _component_gains(base: pd.DataFrame, deltas: pd.DataFrame) -> dict[str, Any]:
    """Per-resident change of each component (0–1) and the one that changed most.

    ``deltas`` are in the district order of ``base`` (:func:`_district_deltas`).
    """
    pop = base["population"].to_numpy(dtype=float)
    gains = {
        f"{c}_gain": float(np.nansum(pop * deltas[f"{c}_delta"].to_numpy()) / pop.sum())
        for c in ("access", "diversity", "bridging", "capacity")
        if f"{c}_delta" in deltas and pop.sum() > 0
    }
    driver = max(gains, key=lambda k: gains[k], default="")
    return {**gains, "main_driver": driver.removesuffix("_gain")}


def _district_deltas(base: pd.DataFrame, after: pd.DataFrame) -> pd.DataFrame:
    metrics = [
        c
        for c in ("score", "access", "diversity", "bridging", "capacity", "severance")
        if c in base and c in after
    ]
    delta = _aligned(base, after, metrics) - base[metrics].to_numpy(dtype=float)
    return pd.DataFrame(
        {"district_id": base["district_id"].to_numpy(),
         **{f"{m}_delta": delta[:, j] for j, m in enumerate(metrics)}}
    )  # fmt: skip


#: Stale queue entries the lazy greedy re-evaluates together (one batched rescore): more than
#: the one strictly needed costs little in a batch and saves a batch when the top one falls.
REEVALUATE_BATCH = 8


def _portfolio(
    base: _Step,
    table: gpd.GeoDataFrame,
    scenarios: Mapping[tuple[str, str], Scenario],
    params: CohesionParams,
    k: int,
    *,
    first: Mapping[tuple[str, str], tuple[float, CohesionState, Any]],
) -> tuple[gpd.GeoDataFrame, dict[tuple[tuple[str, str], ...], tuple[_Step, float]]]:
    """Lazy greedy picks of up to ``k`` distinct sites, each with its exact marginal gain.

    ``first`` holds the evaluation (gain, state, City) of the top-ranked option, if kept.

    The top of the queue is taken when its gain was computed against the current picks;
    otherwise it and the next stale entries are re-evaluated exactly (together) and pushed back.
    Also returns every evaluation kept (the picks', and each re-evaluated batch's), as the step
    it leads to and its marginal gain, keyed by the picks before it and its own key.
    """
    geometry = {(r.candidate_id, r.space_type): r.geometry for r in table.itertuples()}
    # queue entries: (-gain, order, key, round the gain was computed in)
    queue = [
        (-float(r.predicted_score_gain), i, (r.candidate_id, r.space_type), 0)
        for i, r in enumerate(table.itertuples())
    ]
    heapq.heapify(queue)
    step, taken, total, round_ = base, set(), 0.0, 0
    picks: list[tuple[Any, ...]] = []  # pick, candidate_id, space_type, gains, geometry
    # every exact evaluation kept, by the picks it was made after and its key: a pick, or a
    # top-k-independent step, found here costs no rescore
    steps: dict[tuple[tuple[str, str], ...], tuple[_Step, float]] = {
        (key,): (_Step(c, st, base.weights), g) for key, (g, st, c) in first.items()
    }
    prefix: tuple[tuple[str, str], ...] = ()
    while queue and len(picks) < k:
        neg, order, key, computed = heapq.heappop(queue)
        if key[0] in taken:
            continue
        if computed == round_:
            if -neg <= GAIN_TOLERANCE:
                break  # nothing left raises the score
            prefix = (*prefix, key)
            if prefix not in steps:
                gain, state, city = _evaluate(step, scenarios[key], params)
                steps[prefix] = (_Step(city, state, step.weights), gain)
            step, gain = steps[prefix]
            taken.add(key[0])
            total += gain
            picks.append((len(picks) + 1, *key, gain, total, geometry[key]))
            round_ += 1
            continue
        stale: list[tuple[float, int, tuple[str, str]]] = [(neg, order, key)]
        while queue and len(stale) < REEVALUATE_BATCH:
            entry = heapq.heappop(queue)
            if entry[2][0] in taken:
                continue
            if entry[3] == round_:
                heapq.heappush(queue, entry)
                break
            stale.append(entry[:3])
        results = list(_evaluate_many(step, (scenarios[e[2]] for e in stale), params))
        if any(g > -e[0] + GAIN_TOLERANCE for e, (g, _, _) in zip(stale, results, strict=True)):
            # gains grew: not submodular here, refresh them all
            left = [e for e in queue if e[2][0] not in taken]
            again = _evaluate_many(step, (scenarios[e[2]] for e in left), params)
            queue = [(-g, e[1], e[2], round_) for e, (g, _, _) in zip(left, again, strict=True)]
            heapq.heapify(queue)
        for done, (gain, state, city) in zip(stale, results, strict=True):
            heapq.heappush(queue, (-gain, done[1], done[2], round_))
            steps[(*prefix, done[2])] = (_Step(city, state, step.weights), gain)
    frame = gpd.GeoDataFrame(
        picks,
        columns=["pick", "candidate_id", "space_type", "marginal_gain", "cumulative_gain",
                 "geometry"],
        geometry="geometry",
        crs=table.crs,
    )  # fmt: skip
    return frame, steps


def _independent(
    base: _Step,
    table: gpd.GeoDataFrame,
    scenarios: Mapping[tuple[str, str], Scenario],
    params: CohesionParams,
    k: int,
    *,
    known: Mapping[tuple[tuple[str, str], ...], tuple[_Step, float]],
) -> float:
    """Gain of the ``k`` best distinct sites of the single ranking, applied together.

    ``known`` steps (the portfolio's, by the picks applied) are reused where the picks agree.
    """
    firsts = table.drop_duplicates("candidate_id").head(k)
    step, total = base, 0.0
    applied: tuple[tuple[str, str], ...] = ()
    for r in firsts.itertuples():
        key = (r.candidate_id, r.space_type)
        applied = (*applied, key)
        if applied in known:
            step, gain = known[applied]
        else:
            gain, state, city = _evaluate(step, scenarios[key], params)
            step = _Step(city, state, step.weights)
        total += gain
    return total


# --- writing -------------------------------------------------------------------------------


def write_suggestions(
    found: Suggestions,
    city: City,
    out_dir: str | Path,
    *,
    map_html: bool = True,
    overwrite: bool = False,
) -> dict[str, Path]:
    """Write the ranked table, one scenario file per option, the portfolio and a map.

    Files: ``suggestions.csv`` (``rank, candidate_id, name, space_type, area_m2, district_id,
    district_name, predicted_score_gain, residents_newly_served`` (whole residents), ``check``
    (the warning where the City maps no space of the type), ``scenario_file`` and context
    columns, ``best_district`` with ``best_district_name``), ``portfolio.csv`` (the picks with
    their rank, name, current use, district and ``check``), ``suggestions.json`` (the method,
    the gain's unit, the warnings, the portfolio against the top ``k`` taken independently,
    provenance), ``scenarios/<rank>_<type>_<id>.toml`` and
    ``suggestions_map.html``, written together (a staging folder replaces ``out_dir`` whole, so a
    rerun never leaves files of an earlier one). Each scenario, compared with
    :func:`cohesion_gis.compare`, gives exactly its ``predicted_score_gain``.

    Parameters
    ----------
    found
        From :func:`suggest`.
    city
        The City it was run on.
    out_dir
        Output folder (created).
    map_html
        Also write the offline map.
    overwrite
        Replace a previous run in ``out_dir`` (a folder holding anything else is refused).

    Returns
    -------
    dict
        Output name → path.
    """
    from cohesion_gis._atomic import check_run_folder, staged_folder

    check_run_folder(out_dir, SUGGEST_OUTPUTS, overwrite=overwrite)
    with staged_folder(out_dir) as stage:
        written = _write(found, city, stage, map_html=map_html)
    return {name: Path(out_dir) / path.relative_to(stage) for name, path in written.items()}


#: What :func:`write_suggestions` writes into its folder (a rerun replaces exactly these).
SUGGEST_OUTPUTS = (
    "suggestions.csv",
    "portfolio.csv",
    "suggestions.json",
    "suggestions_map.html",
    "scenarios",
)


def _write(found: Suggestions, city: City, out: Path, *, map_html: bool) -> dict[str, Path]:
    """Write every output of :func:`write_suggestions` into the (staging) folder ``out``."""
    from cohesion_gis.export import write_csv, write_json
    from cohesion_gis.scenario.write import write_scenario

    folder = out / "scenarios"
    folder.mkdir()
    table = found.table.copy()
    files = []
    for row in table.itertuples():
        scenario = found.scenarios[(row.candidate_id, row.space_type)]
        path = folder / f"{row.rank:03d}_{scenario.name.removeprefix('suggest_')}.toml"
        header = (
            f"Suggestion {row.rank} of {len(table)} by cohesion-gis suggest: predicted rise in the "
            f"average resident's score +{row.predicted_score_gain:.3f} points (0-100 scale; "
            "exact, incremental engine)."
        )
        write_scenario(scenario, path, header=header)
        files.append(str(path.relative_to(out)))
    table["scenario_file"] = files
    names = city.districts.set_index("district_id")["name"]
    districts = found.base.result.districts.set_index("district_id")
    edge = districts.get("edge_cut_share")
    table["edge_cut_share"] = table["district_id"].map(edge) if edge is not None else np.nan
    table["district_name"] = table["district_id"].map(names)
    table["best_district_name"] = table["best_district"].map(names)
    # residents are whole people (the homes' estimates are fractional)
    table["residents_newly_served"] = table["residents_newly_served"].round().astype(int)
    columns = [
        "rank", "candidate_id", "name", "space_type", "area_m2", "district_id", "district_name",
        "predicted_score_gain", "residents_newly_served", "check", "scenario_file", "source",
        "best_district", "best_district_name", "best_district_gain", "main_driver",
        "access_gain", "diversity_gain", "capacity_gain", "edge_cut_share",
    ]  # fmt: skip
    portfolio = found.portfolio.drop(columns="geometry").merge(
        table[["candidate_id", "space_type", "rank", "name", "source", "district_id",
               "district_name", "check"]],
        on=["candidate_id", "space_type"], how="left",
    )  # fmt: skip
    paths = {
        "suggestions": write_csv(pd.DataFrame(table[columns]), out / "suggestions.csv"),
        "portfolio": write_csv(pd.DataFrame(portfolio), out / "portfolio.csv"),
    }
    portfolio_gain = (
        float(found.portfolio["cumulative_gain"].iloc[-1]) if len(found.portfolio) else 0.0
    )
    k = len(found.portfolio)
    paths["summary"] = write_json(
        {
            "options": len(table),
            "candidate_sites": int(table["candidate_id"].nunique()),
            "best": {
                "candidate_id": table.at[0, "candidate_id"],
                "space_type": table.at[0, "space_type"],
                "predicted_score_gain": float(table.at[0, "predicted_score_gain"]),
            },
            "portfolio_gain": portfolio_gain,
            "top_k_independent_gain": found.independent_gain,
            "portfolio_vs_independent": _portfolio_note(portfolio_gain, found.independent_gain, k),
            "gain_unit": GAIN_UNIT,
            "warnings": list(found.warnings),
            "method": __doc__.split("\n\n")[0],
            "provenance": city.provenance.as_dict(),
        },
        out / "suggestions.json",
    )
    if map_html:
        from cohesion_gis.maps import save_offline
        from cohesion_gis.maps.suggest import suggestions_map

        m = suggestions_map(
            found.table, found.portfolio, found.base.result.districts,
            streets=city.walk_edges, buildings=city.buildings,
            place=city.name, data_date=city.provenance.data_date,
        )  # fmt: skip
        paths["map"] = save_offline(m, out / "suggestions_map.html")
    return paths


def suggestions_text(found: Suggestions, city: City, *, top: int = 10) -> str:
    """The console report of :func:`suggest`: the best options, the portfolio, the warnings.

    Each option by rank, name (its id when unnamed), district name, current use, space type,
    gain (:data:`GAIN_UNIT`) and whole residents newly served; then the greedy portfolio with
    each pick's marginal and cumulative gain; then one line per :attr:`Suggestions.warnings`.
    """
    from cohesion_gis._text import clean_table

    names = city.districts.set_index("district_id")["name"]

    def rows(frame: pd.DataFrame) -> pd.DataFrame:
        named = frame["name"].map(lambda v: isinstance(v, str) and v != "").to_numpy()
        return pd.DataFrame(
            {
                "name": np.where(named, frame["name"], frame["candidate_id"]),
                "district": frame["district_id"].map(names).fillna("outside all").to_numpy(),
                "current use": frame["source"].to_numpy(),
                "space type": frame["space_type"].str.replace("_", " ").to_numpy(),
            }
        )

    table = found.table.head(top)
    head = rows(table)
    head.insert(0, "rank", table["rank"].to_numpy())
    head["gain"] = table["predicted_score_gain"].round(2).to_numpy()
    served = table["residents_newly_served"].round().astype(int).to_numpy()
    head["residents newly served"] = served
    lines = [
        f"Best {len(table)} of {len(found.table)} options; gain in {GAIN_UNIT}:",
        clean_table(head).to_string(index=False),
    ]
    picks = found.portfolio.merge(
        found.table[["candidate_id", "space_type", "rank", "name", "source", "district_id"]],
        on=["candidate_id", "space_type"], how="left",
    )  # fmt: skip
    if len(picks):
        chosen = rows(picks)
        chosen.insert(0, "pick", picks["pick"].to_numpy())
        chosen.insert(1, "rank", picks["rank"].to_numpy())
        chosen["gain"] = picks["marginal_gain"].round(2).to_numpy()
        chosen["total"] = picks["cumulative_gain"].round(2).to_numpy()
        lines += [
            f"Portfolio of {len(picks)} {'site' if len(picks) == 1 else 'sites'} built together "
            "(each pick's gain given the picks before it):",
            clean_table(chosen).to_string(index=False),
        ]
    lines += [f"Check: {w}" for w in found.warnings]
    return "\n".join(lines)


def _portfolio_note(portfolio: float, independent: float, k: int) -> str:
    if portfolio > independent + GAIN_TOLERANCE:
        return (
            f"the greedy portfolio of {k} gains {portfolio - independent:+.3f} points more than "
            f"the top {k} sites of the single ranking built together: those overlap (they serve "
            "the same homes or add the same type), so their gains do not add up"
        )
    if portfolio < independent - GAIN_TOLERANCE:
        return (
            f"the top {k} sites of the single ranking gain {independent - portfolio:+.3f} points "
            "more than the greedy portfolio: gains here grow with earlier picks (two types "
            "completing the same homes' menu), which greedy selection can miss"
        )
    return (
        f"the greedy portfolio equals the top {k} sites of the single ranking: their catchments "
        "do not overlap, so each site's gain is unchanged by the others"
    )
