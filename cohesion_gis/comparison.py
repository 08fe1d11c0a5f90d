"""Base vs scenario, side by side: per-district and per-site deltas and a plain-language summary.

:func:`compare` applies a scenario to a base City, runs both analyses and tabulates the change:

- **districts**: every cohesion component (access, diversity, bridging, capacity), severance,
  the score, each access category and group score, as ``<metric>_base``, ``<metric>_scenario``
  and ``<metric>_delta``;
- **homes**: the same for every home (a "who gains" map);
- **sites** (when the HVM assessment is available): worst arrival speed per vehicle class,
  required rating and risk, base and scenario, with ``status`` (``added``, ``removed``,
  ``changed``, ``same``);
- **summary**: short sentences for a councillor ("Kluuvi: capacity +0.03, score +0.4";
  "Senaatintori: worst N2A arrival speed 52 → 0 km/h").

Only what the interventions touch is recomputed (:mod:`cohesion_gis.scenario.incremental`: the
cohesion score and the HVM approaches, one shape); pass the base
:class:`Analysis` to reuse it across scenarios (the batch runner does).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd

from cohesion_gis.cohesion.params import CohesionParams
from cohesion_gis.cohesion.score import COMPONENTS, reported_homes
from cohesion_gis.hvm.assess import SiteAssessment, assess_sites
from cohesion_gis.hvm.rating import short_requirement
from cohesion_gis.params import load_params
from cohesion_gis.scenario.apply import apply
from cohesion_gis.scenario.incremental import CohesionState, HvmState, cohesion_state
from cohesion_gis.scenario.spec import Scenario

if TYPE_CHECKING:
    from cohesion_gis.city import City
    from cohesion_gis.hvm.params import HvmParams

__all__ = ["Analysis", "Comparison", "analyse", "compare", "split_rated"]

log = logging.getLogger(__name__)

#: Changes smaller than these are rounding, left out of the summary (components 0–1, score 0–100,
#: speed km/h).
SUMMARY_MIN_COMPONENT = 0.005
SUMMARY_MIN_SCORE = 0.05
SUMMARY_MIN_SPEED_KMH = 0.5
_SITE_METRICS = ("required_rating", "risk", "rank")


@dataclass(frozen=True)
class Analysis:
    """Both analyses of one City.

    Attributes
    ----------
    cohesion
        Cohesion scores with the distance tables behind them.
    sites
        The HVM site table (``site_id, name, max_arrival_speed_kmh_<class>, required_rating,
        risk, rank``...), or ``None`` when the HVM assessment is not available.
    hvm_note
        What the HVM assessment computed (``"HVM full"``, ``"HVM incremental: 3 of 81 sites
        searched"``, see :meth:`cohesion_gis.scenario.incremental.HvmState.update`), or why
        ``sites`` is missing.
    hvm
        The whole HVM assessment (a :class:`~cohesion_gis.hvm.assess.SiteAssessment`), which a
        scenario's assessment starts from; ``None`` without HVM.
    """

    cohesion: CohesionState
    sites: pd.DataFrame | None
    hvm_note: str = ""
    hvm: SiteAssessment | None = None


@dataclass(frozen=True)
class Comparison:
    """The result of :func:`compare`.

    Attributes
    ----------
    scenario
        The scenario compared.
    city
        The scenario City.
    districts
        One row per district: ``district_id, name``, ``<metric>_base``, ``<metric>_scenario``,
        ``<metric>_delta`` for every cohesion metric, and geometry.
    homes
        The same per home (``home_id, district_id``), and geometry.
    sites
        Per site: ``site_id, name, status`` and ``<metric>_base/_scenario/_delta`` for impact
        speeds per class and risk, ``required_rating_base/_scenario``; ``None`` without HVM.
    summary
        Plain-language lines, largest changes first.
    base, after
        The analyses of the base and of the scenario.
    """

    scenario: Scenario
    city: City
    districts: gpd.GeoDataFrame
    homes: gpd.GeoDataFrame
    sites: pd.DataFrame | None
    summary: tuple[str, ...]
    base: Analysis
    after: Analysis

    @property
    def base_districts(self) -> gpd.GeoDataFrame:
        """The base district scores (the districts contract), e.g. for ``scenario_map``."""
        return self.base.cohesion.result.districts

    @property
    def scenario_districts(self) -> gpd.GeoDataFrame:
        """The scenario's district scores."""
        return self.after.cohesion.result.districts


def analyse(
    city: City,
    *,
    params: CohesionParams | None = None,
    hvm_params: HvmParams | None = None,
    hvm: bool = True,
) -> Analysis:
    """Run the cohesion score (keeping its distance tables) and, if asked, the HVM assessment.

    Parameters
    ----------
    city
        The study area.
    params
        Cohesion parameters (packaged defaults when None).
    hvm_params
        HVM parameters (packaged defaults when None).
    hvm
        Run the HVM site assessment too.
    """
    params = params or load_params(CohesionParams)
    sites, note, assessment = _assess(city, hvm_params) if hvm else _NO_HVM
    return Analysis(cohesion_state(city, params), sites, note, assessment)


def compare(
    base_city: City,
    scenario: Scenario,
    *,
    params: CohesionParams | None = None,
    hvm_params: HvmParams | None = None,
    base: Analysis | None = None,
    hvm: bool = True,
) -> Comparison:
    """Apply a scenario to a City and compare both analyses.

    Parameters
    ----------
    base_city
        The base study area (left unchanged).
    scenario
        From :func:`cohesion_gis.scenario.load_scenario`.
    params, hvm_params
        Parameters of both runs; default: the scenario's (packaged defaults plus its
        ``[parameters]`` overrides).
    base
        The base :func:`analyse` result, to reuse (recomputed if its parameters differ).
    hvm
        Also compare the HVM site assessment (when :mod:`cohesion_gis.hvm.assess` exists).

    Returns
    -------
    Comparison

    Raises
    ------
    ScenarioError
        The scenario's references do not resolve in ``base_city``.

    Examples
    --------
    >>> import cohesion_gis as cg
    >>> from cohesion_gis.comparison import compare
    >>> from cohesion_gis.scenario import load_scenario
    >>> city = cg.load_city()  # doctest: +SKIP
    >>> result = compare(city, load_scenario("scenarios/car_park_to_park.toml"))
    >>> bool((result.districts["capacity_delta"] > 0).any())
    True
    """
    params = params or scenario.cohesion_params()
    hvm_params = hvm_params or scenario.hvm_params()
    city = apply(base_city, scenario)
    if base is None or base.cohesion.result.params != params:
        base = analyse(base_city, params=params, hvm_params=hvm_params, hvm=hvm)
    state = base.cohesion.update(city)
    sites, note, assessment = _assess(city, hvm_params, (base_city, base)) if hvm else _NO_HVM
    after = Analysis(state, sites, note, assessment)
    districts = _deltas(base.cohesion.result.districts, state.result.districts, "district_id")
    homes = _deltas(  # the homes inside the study area (not its buffer)
        reported_homes(base.cohesion.result.homes), reported_homes(state.result.homes), "home_id"
    )
    site_table = _site_deltas(base.sites, sites)
    summary = _summary(districts, site_table, _street_lines(base_city, city) if hvm else [])
    log.info(
        "compared %s: %s; %s; %d summary lines",
        scenario.name, state.recomputed, note, len(summary),
    )  # fmt: skip
    return Comparison(scenario, city, districts, homes, site_table, summary, base, after)


# --- HVM -----------------------------------------------------------------------------------

_NO_HVM = (None, "HVM not requested", None)


def _assess(
    city: City, hvm_params: HvmParams | None, base: tuple[City, Analysis] | None = None
) -> tuple[pd.DataFrame, str, SiteAssessment]:
    """The HVM site table, the note and the assessment.

    With ``base`` (the base City and its analysis) only the sites the scenario's changes can
    reach are searched again (:meth:`cohesion_gis.scenario.incremental.HvmState.update`; same
    result).
    """
    plain, proposed = split_rated(city)
    if base is None or base[1].hvm is None:
        assessment = assess_sites(plain, barriers=proposed, params=hvm_params)
        note = "HVM full"
    else:
        update = HvmState(base[0], base[1].hvm).update(plain, barriers=proposed, params=hvm_params)
        assessment, note = update.result, update.recomputed
    sites = pd.DataFrame(assessment.sites.drop(columns="geometry", errors="ignore"))
    rated_ids = set() if proposed is None else set(proposed["barrier_id"].astype(str))
    defeated = _defeated(assessment.approaches, sites, rated_ids)
    return sites.assign(defeated_barriers=defeated), note, assessment


def split_rated(city: City) -> tuple[City, gpd.GeoDataFrame | None]:
    """The City without its rated barriers, and those (``barrier_id, barrier_kind, rating``).

    A scenario's rated lines are barrier rows with a ``rating``; the assessment takes them as
    its ``barriers`` argument (validated and snapped there), the City keeps the unrated ones.
    ``barrier_kind`` goes with them where given: a bollard row is not a continuous line
    (second VDA review: the kind was dropped here, so every scenario credited rows as lines).
    """
    barriers = city.barriers
    rated = barriers["rating"].notna() if "rating" in barriers else pd.Series(False, barriers.index)
    plain = replace(city, barriers=barriers.loc[~rated].drop(columns="rating", errors="ignore"))
    keep = ["barrier_id", "rating", "geometry"]
    keep[2:2] = ["barrier_kind"] if "barrier_kind" in barriers else []
    proposed = barriers.loc[rated, keep] if rated.any() else None
    return plain, proposed


def _defeated(approaches: pd.DataFrame, sites: pd.DataFrame, rated: set[str]) -> list[str]:
    """Per site, the rated barriers some vehicle drives through (faster or heavier than rated).

    Unrated barriers (OSM bollards) stop nothing by default, so passing them is no news.
    """
    if "defeated" not in approaches or approaches.empty or not rated:
        return [""] * len(sites)
    ids = (
        approaches.loc[approaches["defeated"].fillna("").astype(str) != ""]
        .groupby("site_id")["defeated"]
        .agg(lambda v: ";".join(sorted({i for text in v for i in _ids(text)} & rated)))
    )
    return sites["site_id"].map(ids).fillna("").tolist()


def _speed_columns(table: pd.DataFrame) -> list[str]:
    return [c for c in table.columns if c.startswith("max_arrival_speed_kmh_")]


def _site_deltas(base: pd.DataFrame | None, after: pd.DataFrame | None) -> pd.DataFrame | None:
    if base is None or after is None:
        return None
    speeds = sorted(set(_speed_columns(base)) | set(_speed_columns(after)))
    numeric = [*speeds, *(m for m in ("capacity_persons", "risk") if m in base or m in after)]
    text = [m for m in ("required_rating", "defeated_barriers") if m in base or m in after]
    keep = ["site_id", "name", *numeric, *text]
    left = base.reindex(columns=keep).set_index("site_id")
    right = after.reindex(columns=keep).set_index("site_id")
    ids = left.index.union(right.index, sort=False)
    out = pd.DataFrame(index=ids)
    out["name"] = right["name"].reindex(ids).fillna(left["name"].reindex(ids))
    out["status"] = np.where(
        ~ids.isin(left.index), "added", np.where(~ids.isin(right.index), "removed", "same")
    )
    changed = pd.Series(False, index=ids)
    for m in numeric:
        b, a = left[m].reindex(ids).astype(float), right[m].reindex(ids).astype(float)
        out[f"{m}_base"], out[f"{m}_scenario"], out[f"{m}_delta"] = b, a, a - b
        changed |= (a - b).abs().fillna(0.0) > 1e-9
    for m in text:
        b, a = left[m].reindex(ids), right[m].reindex(ids)
        out[f"{m}_base"], out[f"{m}_scenario"] = b, a
        changed |= (b.fillna("") != a.fillna("")).to_numpy()
    out.loc[changed & (out["status"] == "same"), "status"] = "changed"
    return out.reset_index(names="site_id")


# --- cohesion ------------------------------------------------------------------------------


def _metrics(table: pd.DataFrame) -> list[str]:
    found = [*COMPONENTS, "severance", "score", "population"]
    found += [c for c in table.columns if c.startswith(("access_", "score_"))]
    return [c for c in found if c in table.columns]


def _deltas(base: gpd.GeoDataFrame, after: gpd.GeoDataFrame, key: str) -> gpd.GeoDataFrame:
    """``<metric>_base``, ``<metric>_scenario``, ``<metric>_delta`` per row, matched on ``key``."""
    ids = [c for c in (key, "name", "district_id") if c in after.columns]
    metrics = _metrics(after)
    metrics += [m for m in _metrics(base) if m not in metrics]
    left = base.set_index(key).reindex(after[key])
    out = pd.DataFrame(after[list(dict.fromkeys(ids))]).reset_index(drop=True)
    for m in metrics:
        b = left[m].to_numpy(dtype=float) if m in left else np.full(len(after), np.nan)
        a = after[m].to_numpy(dtype=float) if m in after else np.full(len(after), np.nan)
        out[f"{m}_base"], out[f"{m}_scenario"], out[f"{m}_delta"] = b, a, a - b
    return gpd.GeoDataFrame(out, geometry=after.geometry.to_numpy(), crs=after.crs)


def _summary(
    districts: pd.DataFrame,
    sites: pd.DataFrame | None,
    streets: list[tuple[float, str]] | None = None,
) -> tuple[str, ...]:
    lines: list[tuple[float, str]] = list(streets or [])
    for _, row in districts.iterrows():
        parts = [
            f"{c} {row[f'{c}_delta']:+.2f}"
            for c in (*COMPONENTS, "severance")
            if abs(np.nan_to_num(row[f"{c}_delta"])) >= SUMMARY_MIN_COMPONENT
        ]
        score = np.nan_to_num(row["score_delta"])
        if parts or abs(score) >= SUMMARY_MIN_SCORE:
            parts.append(f"score {score:+.2f}")
            lines.append((abs(score), f"{row['name']}: " + ", ".join(parts)))
    for _, row in (sites if sites is not None else pd.DataFrame()).iterrows():
        line = _site_line(row)
        if line:
            lines.append(line)
        before = set(_ids(row.get("defeated_barriers_base")))
        new = sorted(set(_ids(row.get("defeated_barriers_scenario"))) - before)
        if new:
            name = row["name"] if isinstance(row["name"], str) else row["site_id"]
            lines.append(
                (
                    500.0,
                    f"{name}: barrier {', '.join(new)} would be driven through (a vehicle "
                    "arrives faster than, or is heavier than, its rating covers)",
                )
            )
    if not lines:
        return ("No district or site changes beyond rounding.",)
    return tuple(text for _, text in sorted(lines, key=lambda x: -x[0]))


def _ids(text: Any) -> list[str]:
    """Barrier ids of a ``;``-separated cell, ``+``-joined groups split (empty for NaN or None).

    Lines of one rating that touch are met as one element named ``a+b`` (``impact``); each of
    them is driven through.
    """
    if not isinstance(text, str):
        return []
    return [i for part in text.split(";") for i in part.split("+") if i]


def _street_lines(base_city: City, city: City) -> list[tuple[float, str]]:
    """One line per pedestrianised street: whether a hostile vehicle can still drive along it.

    The carriageway of the hostile-vehicle network inside the street's new crowd area, in the
    base and in the scenario: a traffic order leaves it (vehicles drive along the crowd), a
    physical closure removes the street's own carriageway, leaving only cross streets.
    """
    sites = city.sites
    new = sites.loc[sites["site_id"].astype(str).str.startswith("pedestrianised/")]
    lines = []
    for _, street in new.iterrows():
        area = street.geometry
        before, after = (
            float(edges.geometry.intersection(area).length.sum())
            for edges in (base_city.drive_edges, city.drive_edges)
        )
        name = street["name"] if isinstance(street["name"], str) else street["site_id"]
        ids = city.barriers["barrier_id"].astype(str)
        rated_ends = ids.str.startswith("closure/") & city.barriers.intersects(area)
        if rated_ends.any():  # close_road/pedestrianise with a rating: lines at its ends
            text = (f"{name} (pedestrianised, rated closure at {rated_ends.sum()} ends): a "
                    f"vehicle faster or heavier than the rating covers can still drive {after:.0f} "
                    "m of carriageway along the crowd")  # fmt: skip
        elif after > before - 1.0:  # none of its carriageway left the vehicle network
            text = (f"{name} (pedestrianised, still drivable): a hostile vehicle can drive "
                    f"{after:.0f} m of carriageway along the crowd; a traffic order does not stop "
                    "it")  # fmt: skip
        else:
            text = (f"{name} (pedestrianised, physically closed): no vehicle can drive along it "
                    f"(carriageway in the crowd {before:.0f} → {after:.0f} m, cross streets "
                    "only)")  # fmt: skip
        lines.append((2000.0, text))
    return lines


def _site_line(row: pd.Series) -> tuple[float, str] | None:
    """The class whose arrival speed changed most, for one site; None if nothing changed."""
    classes = [c.removeprefix("max_arrival_speed_kmh_") for c in row.index
               if c.startswith("max_arrival_speed_kmh_") and c.endswith("_delta")]  # fmt: skip
    classes = [c.removesuffix("_delta") for c in classes]
    deltas = {c: row[f"max_arrival_speed_kmh_{c}_delta"] for c in classes}
    name = row["name"] if isinstance(row["name"], str) else row["site_id"]
    if row["status"] == "added" and classes:
        latest = {c: np.nan_to_num(row[f"max_arrival_speed_kmh_{c}_scenario"]) for c in classes}
        worst = max(classes, key=latest.__getitem__)
        speed = row[f"max_arrival_speed_kmh_{worst}_scenario"]
        return 1000.0, f"{name} (new crowded site): worst {worst} arrival speed {speed:.0f} km/h"
    moved = {c: d for c, d in deltas.items() if abs(np.nan_to_num(d)) >= SUMMARY_MIN_SPEED_KMH}
    if not moved:
        return None
    worst = max(moved, key=lambda c: abs(moved[c]))
    before = row[f"max_arrival_speed_kmh_{worst}_base"]
    after = row[f"max_arrival_speed_kmh_{worst}_scenario"]
    text = f"{name}: worst {worst} arrival speed {before:.0f} → {after:.0f} km/h"
    if abs(np.nan_to_num(row.get("risk_delta", 0.0))) > 0:
        text += f", risk {row['risk_base']:.0f} → {row['risk_scenario']:.0f}"
    today = str(row.get("required_rating_base", ""))
    after_text = str(row.get("required_rating_scenario", ""))
    if after_text.startswith("none"):
        text += "; no vehicle gets through (every approach stopped"
        if today.startswith("beyond"):  # the site's own rating says no barrier at its edge can
            text += (
                " by the scheme's closures and barriers further out, where vehicles are slower; "
                "no barrier at the site's edge alone could: today vehicles arrive there faster "
                "than any crash test"
            )
        text += ")"
    elif today.startswith("beyond") and not after_text.startswith("beyond"):
        text += (
            "; rated barriers at its edge now can hold it (most demanding: "
            f"{short_requirement(after_text)})"
        )
    return abs(moved[worst]), text
