r"""The full HVM assessment of a study area: sites, approaches, entries, gaps, risk and audit.

:func:`assess_sites` runs reference hvm.md §8.2-§8.6 on a :class:`~cohesion_gis.city.City`:

1. soft-target sites with capacity and Martyn's Law tier (:mod:`cohesion_gis.hvm.sites`);
2. barriers: the City's unrated OSM barriers plus a user's rated layer
   (:mod:`cohesion_gis.hvm.barriers`), and the gaps in barrier lines;
3. optional gradients from a DEM GeoTIFF (:func:`dem_grades`);
4. the worst-case approach to every entry of every site for every vehicle class
   (:func:`cohesion_gis.hvm.routes.approach_routes`);
5. the required rating per entry (:func:`cohesion_gis.hvm.rating.required_rating`) and a risk
   score with every factor a column:

.. math::

    R = E \cdot V \cdot A, \qquad E = \mathrm{clip}(1 + \lfloor \log_{10} N \rfloor, 1, 5)

- **E**, exposure band from the persons N (1-9 → 1, 10-99 → 2, ..., ≥ 10 000 → 5);
- **V**, vulnerability 1-5: the worst over every class's requirement at the open approaches
  (not the headline's class) of the design speed (impact speed × (1 + allowance)) against the
  10-mph steps: up to 16 → 1, 32 → 2, 48 → 3, 64 → 4, above → 5 (:func:`vulnerability`),
  plus 1 (at most 5) when ``many_approaches`` or more entries are open; 1 when no vehicle
  can arrive;
- **A**, attractiveness 1-5 by kind (``HvmParams.attractiveness``; the most attractive member kind).

Sites are ranked by R (then persons); **priority 1** is the top 10 % by R, or any site an open
approach reaches at ≥ 48 km/h with ≥ 800 persons (reference §8.2.5); priority 2 any other site
with an open approach; priority 3 sites no vehicle reaches.

An approach is **open** when a vehicle of the class arrives (impact speed > 0): no barrier on
its worst route covers the class at its speed there, and no rated line between the entry and
the crowd holds its impact envelope (``protected_by``,
:func:`cohesion_gis.hvm.impact.kerbside_cover`).

Examples
--------
>>> import cohesion_gis as cg
>>> from cohesion_gis.hvm.assess import assess_sites
>>> city = cg.load_city()  # doctest: +SKIP
>>> assessment = assess_sites(city)  # doctest: +SKIP
>>> top = assessment.sites.iloc[0]
>>> int(top["rank"]), int(top["priority"]), bool(top["risk"] >= assessment.sites["risk"].max())
(1, 1, True)
"""

from __future__ import annotations

import difflib
import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Transformer

from cohesion_gis._gc import paused_gc
from cohesion_gis.errors import InputError
from cohesion_gis.hvm.barriers import (
    BARRIER_COLUMNS,
    barrier_gaps,
    barrier_kinds,
    combine_barriers,
    level_changes,
    read_rated_barriers,
    vehicle_obstacles,
)
from cohesion_gis.hvm.impact import (
    approach_requirements,
    demand_key,
    impact_envelope,
    most_demanding,
    requirement_text,
    round_speed,
)
from cohesion_gis.hvm.overrun import overrun_legs, with_overrun_legs
from cohesion_gis.hvm.params import HvmParams
from cohesion_gis.hvm.rating import RatingRequirement, short_requirement
from cohesion_gis.hvm.routes import APPROACH_COLUMNS, ApproachNetwork, approach_network
from cohesion_gis.hvm.sites import SITE_COLUMNS, SiteParams, soft_target_sites
from cohesion_gis.hvm.vehicles import VehicleClass, Vehicles
from cohesion_gis.params import load_params

if TYPE_CHECKING:
    from cohesion_gis.city import City

__all__ = [
    "CLASS_SEPARATOR",
    "AssessmentSetup",
    "HvmOptions",
    "SiteAssessment",
    "assess_sites",
    "data_edge",
    "dem_grades",
    "exposure_band",
    "find_site",
    "friction_sensitivity",
    "horizon_sensitivity",
    "martyns_law_scope",
    "speed_column",
    "terrain_note",
    "vulnerability",
]

log = logging.getLogger(__name__)

#: Coarse lon/lat boxes of the United Kingdom (Great Britain and Northern Ireland) where
#: Martyn's Law applies; elsewhere its tiers are a UK-law proxy [A: boxes keep Dublin and the
#: continent out; border districts of Ireland may read as UK].
UK_BOXES = (
    (-5.8, 49.9, 1.8, 53.0),
    (-4.8, 53.0, 0.6, 55.8),
    (-7.7, 54.6, -0.7, 60.9),
    (-8.2, 54.0, -5.4, 55.3),
)
#: Columns of the entries table (plus per-class speed columns and ``geometry``).
ENTRY_COLUMNS = (
    "entry_id",
    "site_id",
    "entry_kind",
    "overrun_m",
    "open_classes",
    "required_rating",
    "requirements",
    "standoff_m",
)


@dataclass(frozen=True)
class SiteAssessment:
    """Result of :func:`assess_sites`; every table in the City's CRS.

    Attributes
    ----------
    sites
        Ranked sites (crowd perimeters): ``site_id, name, kind, kinds, area_m2,
        capacity_persons, capacity_source, martyns_law_tier``, ``max_arrival_speed_kmh_<class>``
        per class (speed on the carriageway at the entry, before any turn),
        ``max_energy_class`` (the class arriving with the most energy: not always the one the
        rating is for), ``max_arrival_speed_kmh`` and ``max_arrival_energy_kj`` (½ m v² at it,
        the class's test mass), ``max_normal_impact_kmh`` (the worst impact component square to
        the perimeter over every envelope angle: what a barrier faces head-on),
        ``max_crowd_entry_speed_kmh`` (fastest crossing into the crowd at any angle, glancing
        included), ``rating_needed`` (``required_rating`` in rating codes only, for a cell:
        :func:`~cohesion_gis.hvm.rating.short_requirement`), ``rating_class`` (its class),
        ``required_rating`` (the headline: the most demanding requirement by test mass, then
        test speed, the heaviest class beyond the test speeds first, with that class's other
        test angles over all the site's entries and its energy beside), ``requirements``
        (every class's most demanding requirement over the site's
        entries, headline first: a rating covers only its own class; the vulnerability band is
        the worst over all classes), ``open_approaches``, ``exposure``, ``vulnerability``,
        ``attractiveness``, ``risk``, ``rank``, ``priority``, ``access`` (why no vehicle
        arrives, if none does); sorted by rank.
    approaches
        One row per site × class × entry (:data:`cohesion_gis.hvm.routes.APPROACH_COLUMNS`),
        the worst route as a LineString.
    entries
        One row per entry point (Point): ``entry_kind`` ("street": a carriageway within the
        mount distance; "overrun": a straight-on over-run leg from a street's end,
        :mod:`~cohesion_gis.hvm.overrun`, ``overrun_m`` metres from it), per-class speeds, the
        classes that arrive, the headline required rating and every class's requirement
        (``requirements``, most demanding first), as on the sites table.
    gaps
        Gaps over the limit in barrier lines (:func:`cohesion_gis.hvm.barriers.barrier_gaps`).
    barriers
        Barriers considered (OSM unrated and user rated).
    audit
        Every assumption and input, JSON-serialisable.
    """

    sites: gpd.GeoDataFrame
    approaches: gpd.GeoDataFrame
    entries: gpd.GeoDataFrame
    gaps: gpd.GeoDataFrame
    barriers: gpd.GeoDataFrame
    audit: Mapping[str, Any]


def speed_column(vehicle_class: str) -> str:
    """Name of the per-class speed column, e.g. ``max_arrival_speed_kmh_M1``."""
    return f"max_arrival_speed_kmh_{vehicle_class}"


def find_site(sites: pd.DataFrame, site: str) -> pd.Series:
    """The assessed site a user names: its ``site_id`` or name (any case), else a unique prefix.

    Parameters
    ----------
    sites
        Ranked sites (``SiteAssessment.sites``: ``site_id``, ``name``, ``rank``).
    site
        A ``site_id`` (``relation/2919121``), a name (``Senaatintori``, ``senaatintori``) or the
        start of exactly one site's name (``Senaat``).

    Raises
    ------
    InputError
        Empty text; several sites match (up to 10 listed with their ids); or none does (the
        message lists close names).
    """
    key = site.strip().casefold()
    if not key:
        raise InputError(
            "empty site name; pass a site_id or a name (list them with `cohesion-gis hvm`: "
            "hvm_sites.csv, columns site_id and name)"
        )
    ids = sites["site_id"].astype(str)
    names = sites["name"].fillna("").astype(str)
    folded = names.str.casefold()
    hit = sites.loc[ids.str.casefold() == key]
    if hit.empty:
        hit = sites.loc[folded == key]
    if hit.empty:
        hit = sites.loc[folded.str.startswith(key)]
    if len(hit) > 1:
        ranked = hit.sort_values("rank", kind="stable")
        listed = "; ".join(f"{r.name} ({r.site_id})" for r in ranked.head(10).itertuples())
        more = f" and {len(hit) - 10} more" if len(hit) > 10 else ""
        raise InputError(
            f"{site!r} matches {len(hit)} soft-target sites: {listed}{more}; pass one site_id "
            "or the full name of one"
        )
    if hit.empty:
        close = difflib.get_close_matches(site, sorted(set(names) - {""}), n=3)
        hint = f"; close names: {', '.join(close)}" if close else ""
        raise InputError(
            f"no soft-target site named or with id {site!r}{hint}; list them with "
            "`cohesion-gis hvm` (hvm_sites.csv, columns site_id and name)"
        )
    return hit.iloc[0]


def exposure_band(persons: float) -> int:
    """Exposure band 1-5 from persons: ``clip(1 + floor(log10 N), 1, 5)``.

    Examples
    --------
    >>> [exposure_band(n) for n in (0, 9, 10, 999, 1000, 250_000)]
    [1, 1, 2, 3, 4, 5]
    """
    if not persons >= 1:
        return 1
    return int(min(5, max(1, 1 + math.floor(math.log10(persons)))))


def vulnerability(
    requirements: Sequence[RatingRequirement], open_approaches: int, *, params: HvmParams
) -> int:
    """Vulnerability 1-5: the worst band over every class's requirement, plus open entries.

    Each requirement's band comes from its design speed (impact speed × (1 + allowance))
    against the 10-mph test-speed steps ``params.vulnerability_steps_kmh``: up to 16 → 1, 32 → 2,
    48 → 3, 64 → 4, above → 5 (a design speed within half the resolution of a step counts as
    that step). The band is the worst over **all** classes, not the headline requirement's: a
    car needing 80 km/h makes the site band 5 even when the heavier truck, headlined first,
    needs only 48 km/h.

    Parameters
    ----------
    requirements
        Every class's requirements at the site's open approaches (empty: no vehicle arrives).
    open_approaches
        Entries at which at least one class arrives.
    params
        Speed allowance and resolution, band steps, what counts as many approaches.

    Examples
    --------
    >>> from cohesion_gis.hvm.params import HvmParams
    >>> from cohesion_gis.params import load_params
    >>> from cohesion_gis.hvm.rating import required_rating
    >>> p = load_params(HvmParams)
    >>> vulnerability([required_rating(40.0, "M1")], 1, params=p)  # 44 km/h → 48 → band 3
    3
    >>> vulnerability([required_rating(40.0, "N2A"), required_rating(70.0, "M1")], 1, params=p)
    5
    >>> vulnerability([required_rating(40.0, "M1")], 3, params=p)  # many open entries
    4
    >>> vulnerability([], 0, params=p)
    1
    """
    half = params.speed_resolution_kmh / 2
    designs = [r.design_speed_kmh for r in requirements if r.impact_speed_kmh > 0]
    if not designs:
        return 1
    band = 1 + sum(max(designs) > step + half for step in params.vulnerability_steps_kmh)
    return int(min(5, band + (open_approaches >= params.many_approaches)))


@dataclass(frozen=True, eq=False)
class HvmOptions:
    """How an HVM assessment runs: every option of :func:`assess_sites` besides the City.

    One object passed through :meth:`AssessmentSetup.resolve` and kept by
    :func:`~cohesion_gis.scenario.incremental.hvm_state`, so the options are declared once
    (``tests/hvm/test_assess.py`` checks :func:`assess_sites`' keywords against these fields).

    Attributes
    ----------
    vehicles
        Threat classes: names of packaged classes or :class:`VehicleClass` objects, or the
        path of a vehicle TOML overriding the packaged values of the default classes (a
        vehicle table with missing fields or impossible values raises ``ParameterError``);
        ``None``: ``params.default_vehicle_classes`` (M1, N1, N2A, N3C).
    barriers
        Rated barriers: a file path (read by :func:`~cohesion_gis.hvm.barriers.read_rated_barriers`,
        any CRS) or a GeoDataFrame with a ``rating`` column (reprojected to ``city.crs``).
        The City's unrated OSM barriers are always included.
    params
        HVM parameters; ``None``: the packaged ``defaults/hvm.toml``. Whether unrated barriers
        (OSM bollards...) stop vehicles is ``params.block_unrated`` (False; vary it with
        ``dataclasses.replace(params, block_unrated=True)``): only kinds that can stop a car
        take part.
    dem
        A DEM GeoTIFF (metres above a datum, any CRS) covering the vehicle network; street
        gradients then change run-up acceleration. ``None``: flat.
    site_params
        Site assumptions (:class:`~cohesion_gis.hvm.sites.SiteParams`); ``None``: the packaged
        ones with the station densities of ``params``.
    """

    vehicles: Sequence[str | VehicleClass] | str | Path | None = None
    barriers: gpd.GeoDataFrame | str | Path | None = None
    params: HvmParams | None = None
    dem: str | Path | None = None
    site_params: SiteParams | None = None


@paused_gc()
def assess_sites(
    city: City,
    *,
    vehicles: Sequence[str | VehicleClass] | str | Path | None = None,
    barriers: gpd.GeoDataFrame | str | Path | None = None,
    params: HvmParams | None = None,
    dem: str | Path | None = None,
    site_params: SiteParams | None = None,
) -> SiteAssessment:
    """Assess every soft-target site of a study area for hostile-vehicle mitigation.

    Parameters
    ----------
    city
        The study area (:func:`cohesion_gis.load_city`).
    vehicles, barriers, params, dem, site_params
        How to run: the fields of :class:`HvmOptions` (each described there).

    Returns
    -------
    SiteAssessment
        An empty assessment (no rows, same columns) when the area has no soft targets.

    Raises
    ------
    InputError
        Bad barrier layer (no CRS, invalid geometry, bad rating strings, named by feature), a
        DEM that does not cover the network, or inconsistent tables.
    ParameterError
        Impossible vehicle or parameter values.
    """
    options = HvmOptions(
        vehicles=vehicles, barriers=barriers, params=params, dem=dem, site_params=site_params
    )
    return AssessmentSetup.resolve(city, options).assess(city)


@dataclass(frozen=True)
class AssessmentSetup:
    """The resolved inputs of :func:`assess_sites` and the steps that use them.

    ``assess_sites(city, ...)`` is ``AssessmentSetup.resolve(city, HvmOptions(...)).assess(city)``:
    ``sites = soft_target_sites(city, params=setup.site_params)``, then
    ``setup.assessment(city, sites, setup.approaches(city, sites))``. The incremental
    reassessment (:class:`cohesion_gis.scenario.incremental.HvmState`) and ``protect`` run the
    same steps on parts of the sites through these methods only.
    """

    params: HvmParams
    site_params: SiteParams
    classes: list[VehicleClass]
    barriers: gpd.GeoDataFrame  # combined OSM and user barriers
    barrier_source: str | None
    edges: gpd.GeoDataFrame  # the vehicle network, with ``grade`` from the DEM if given
    dem: str | Path | None
    obstacles: gpd.GeoDataFrame  # what bounds the hard-standing beside the streets

    @classmethod
    def resolve(cls, city: City, options: HvmOptions) -> AssessmentSetup:
        """The options of :func:`assess_sites` resolved for ``city``."""
        params = options.params or load_params(HvmParams)
        rated, barrier_source = _rated(options.barriers, city.crs)
        return cls(
            params=params,
            site_params=options.site_params
            or replace(
                load_params(SiteParams),
                station_persons_m2=params.station_concourse_persons_m2,
                station_public_share=params.station_public_share,
            ),
            classes=_vehicles(options.vehicles, params),
            barriers=combine_barriers(city.barriers, rated, taxonomy=city.taxonomy),
            barrier_source=barrier_source,
            edges=_graded_edges(city, options.dem),
            dem=options.dem,
            obstacles=vehicle_obstacles(
                city.buildings, city.barriers, city.walk_edges, city.landuse,
                min_height_m=params.level_change_min_height_m,
            ),
        )  # fmt: skip

    def assess(self, city: City) -> SiteAssessment:
        """The assessment of every soft-target site of ``city`` (:func:`assess_sites`)."""
        sites = soft_target_sites(city, params=self.site_params)
        return self.assessment(city, sites, self.approaches(city, sites))

    def on(self, city: City, barriers: gpd.GeoDataFrame) -> AssessmentSetup:
        """The setup for another City of the same area: its graded edges and ``barriers``."""
        return replace(self, barriers=barriers, edges=_graded_edges(city, self.dem))

    @property
    def routing(self) -> gpd.GeoDataFrame:
        """The barriers that take part in the search (``barrier_id, barrier_kind, rating``).

        ``barrier_kind`` decides whether a rated line deflects a glancing vehicle
        (:func:`~cohesion_gis.hvm.impact.kerbside_cover`; VDA review item 5).
        """
        stops = self.barriers["stops_vehicles"] | self.barriers["rating"].notna()
        return self.barriers.loc[stops, ["barrier_id", "barrier_kind", "rating", "geometry"]]

    def areas(self, sites: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        """Each site's crowd perimeter grown by the mount distance (its entries on the outline).

        The crowd perimeter itself is kept in the ``crowd`` column: over-run legs end on it.
        """
        return sites[["site_id", "geometry"]].assign(
            geometry=sites.geometry.buffer(self.site_params.entry_snap_m),
            crowd=sites.geometry.to_numpy(),
        )

    def network(self, city: City, areas: gpd.GeoDataFrame) -> ApproachNetwork:
        """The approach network of the search ``areas`` (:meth:`areas`), on ``city.drive_csr``.

        Areas with a ``crowd`` column (:meth:`areas`) get the straight-on over-run legs to
        their crowds (:mod:`cohesion_gis.hvm.overrun`); other search areas (probes) none.
        """
        edges, graph = with_overrun_legs(self.edges, city.drive_csr, self.legs(city, areas))
        return approach_network(
            edges, areas, vehicles=self.classes, barriers=self.routing, params=self.params,
            boundary=city.boundary, obstacles=self.obstacles, graph=graph,
        )  # fmt: skip

    def legs(self, city: City, areas: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        """The over-run legs to the crowds of ``areas`` (:func:`.overrun.overrun_legs`)."""
        keep = areas["crowd"].to_numpy() if "crowd" in areas else np.zeros(0, object)
        crowds = gpd.GeoDataFrame(
            {"site_id": areas["site_id"].to_numpy()[: keep.size]}, geometry=keep, crs=areas.crs
        )
        return overrun_legs(
            self.edges, crowds, city.drive_csr, obstacles=self.obstacles,
            heading_m=self.params.overrun_heading_m,
            max_length_m=self.params.overrun_max_m,
            straight_deg=self.params.overrun_straight_deg,
            entry_snap_m=self.site_params.entry_snap_m,
        )  # fmt: skip

    def approaches(self, city: City, sites: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
        """Every site's approaches (an empty table with the columns when there are no sites)."""
        if len(sites):
            return self.network(city, self.areas(sites)).routes()
        return gpd.GeoDataFrame(
            pd.DataFrame({c: pd.Series(dtype=object) for c in APPROACH_COLUMNS}),
            geometry=gpd.GeoSeries([], crs=city.crs),
            crs=city.crs,
        )

    def assessment(
        self, city: City, sites: gpd.GeoDataFrame, approaches: gpd.GeoDataFrame
    ) -> SiteAssessment:
        """The assessment from the sites and their approaches: ranking, entries, gaps, audit."""
        params = self.params
        vehicles_by_name = {v.name: v for v in self.classes}
        levels = level_changes(
            city.barriers, city.walk_edges, min_height_m=params.level_change_min_height_m
        )
        approaches = impact_envelope(
            approaches, sites, self.edges, vehicles=vehicles_by_name, params=params,
            barriers=self.routing, level_changes=levels,
        )  # fmt: skip
        reqs = approach_requirements(approaches, vehicles_by_name, params=params)
        ranked = _rank(_site_table(sites, approaches, reqs, vehicles_by_name, params), params)
        entries = _entries(
            approaches, reqs, vehicles_by_name, city.crs, resolution=params.speed_resolution_kmh
        )
        ranked["martyns_law_scope"] = martyns_law_scope(city.boundary, city.crs)
        ranked["terrain"] = terrain_note(self.dem)
        area = city.data_area if city.data_area is not None else city.boundary
        ranked["data_edge_m"], ranked["data_edge_directions"] = data_edge(
            ranked.geometry.to_numpy(), area, horizon_m=params.search_horizon_m
        )
        gaps = barrier_gaps(self.barriers, gap_limit_m=params.gap_limit_m)
        audit = self.audit(city, ranked)
        log.info(
            "HVM assessment: %d sites (%d priority 1), %d approaches, %d entries, %d gaps",
            len(ranked), int((ranked["priority"] == 1).sum()), len(approaches), len(entries),
            len(gaps),
        )  # fmt: skip
        return SiteAssessment(
            sites=ranked,
            approaches=approaches,
            entries=entries,
            gaps=gaps,
            barriers=self.barriers[[*BARRIER_COLUMNS, "geometry"]],
            audit=audit,
        )

    def audit(self, city: City, sites: gpd.GeoDataFrame) -> dict[str, Any]:
        """The assessment's audit record: data, vehicles, parameters, method, counts (JSON)."""
        return _audit(city, self, sites)


def _graded_edges(city: City, dem: str | Path | None) -> gpd.GeoDataFrame:
    """The City's vehicle network, with each edge's ``grade`` from the DEM if one is given."""
    edges = city.drive_edges
    return edges if dem is None else edges.assign(grade=dem_grades(edges, dem=dem))


def horizon_sensitivity(
    city: City,
    *,
    horizons_m: Sequence[float] = (250.0, 500.0, 1000.0),
    params: HvmParams | None = None,
    **options: Any,
) -> pd.DataFrame:
    """Worst arrival speed per site and class at several search horizons (audit sensitivity).

    Runs :func:`assess_sites` once per horizon (``options`` are passed on) and tabulates
    ``max_arrival_speed_kmh_<class>`` for each, with ``horizon_limited`` at the packaged horizon.

    Returns
    -------
    pandas.DataFrame
        One row per site (``site_id``, ``name``), columns ``<class>@<horizon>m`` in km/h.
    """
    params = params or load_params(HvmParams)
    tables = []
    for horizon in horizons_m:
        result = assess_sites(
            city, params=replace(params, search_horizon_m=float(horizon)), **options
        )
        cols = [c for c in result.sites.columns if c.startswith("max_arrival_speed_kmh_")]
        part = result.sites.set_index("site_id")[cols]
        part.columns = [f"{c.removeprefix('max_arrival_speed_kmh_')}@{horizon:g}m" for c in cols]
        tables.append(part)
        if horizon == params.search_horizon_m:
            flag = result.sites.set_index("site_id")[["name", "horizon_limited"]]
            tables.insert(0, flag)
    return pd.concat(tables, axis=1).reset_index()


def friction_sensitivity(
    city: City, *, params: HvmParams | None = None, **options: Any
) -> pd.DataFrame:
    """Worst arrival and normal impact per site at μ and at ``friction_mu_sensitivity``.

    Reference hvm.md §8.3.7 asks for the band; ``friction_mu_sensitivity`` = 1.0 is
    MIL-HDBK-1013/14's value when the surface is unknown [V]. Runs :func:`assess_sites` at
    both (``options`` are passed on): every grip-limited bend speed rises by √(1.0/0.7) =
    ×1.195; classes limited by rollover (SRT 0.35 g) or on straights do not move (VDA review
    item 8: Senaatintori's M1 e2/e3 arrivals rise from 53/56 to 61/65 km/h).

    Returns
    -------
    pandas.DataFrame
        One row per site (``site_id``, ``name``); per class ``<class>@mu<μ>`` (worst arrival,
        km/h) for both μ, ``normal@mu<μ>`` (worst normal impact, km/h) and
        ``requirements@mu<μ>`` (the site's requirements, :data:`CLASS_SEPARATOR` between
        classes), then ``changed``: whether any requirement differs.
    """
    params = params or load_params(HvmParams)
    tables: list[pd.DataFrame] = []
    for mu in (params.friction_mu, params.friction_mu_sensitivity):
        result = assess_sites(city, params=replace(params, friction_mu=mu), **options)
        sites = result.sites.set_index("site_id")
        cols = [c for c in sites.columns if c.startswith("max_arrival_speed_kmh_")]
        part = sites[[*cols, "max_normal_impact_kmh", "requirements"]]
        part.columns = [
            *(f"{c.removeprefix('max_arrival_speed_kmh_')}@mu{mu:g}" for c in cols),
            f"normal@mu{mu:g}",
            f"requirements@mu{mu:g}",
        ]
        tables.append(part if tables else sites[["name"]].join(part))
    table = pd.concat(tables, axis=1)
    mus = (params.friction_mu, params.friction_mu_sensitivity)
    table["changed"] = table[f"requirements@mu{mus[0]:g}"] != table[f"requirements@mu{mus[1]:g}"]
    return table.reset_index()


#: Compass points, clockwise from north, for :func:`data_edge`.
COMPASS = ("N", "NE", "E", "SE", "S", "SW", "W", "NW")


def data_edge(
    crowds: np.ndarray, area: shapely.Geometry, *, horizon_m: float
) -> tuple[np.ndarray, list[str]]:
    """Distance (m) from each crowd perimeter to the edge of the data, and where it is near.

    Beyond the edge of the data (``City.data_area``, else ``City.boundary``) no street is
    known, so approaches from there are not assessed: a vehicle may start further out than
    the search can see (VDA review item 3: Senaatintori's east side is 31 m from the Helsinki
    extract's edge, Stade Louis-II 354 m from Monaco's, both inside the 500 m horizon).

    Parameters
    ----------
    crowds
        Crowd perimeters (polygons), in the area's CRS.
    area
        The area the data cover (polygon), same CRS.
    horizon_m
        The search horizon (m): an edge nearer than this cuts some approach.

    Returns
    -------
    distance : numpy.ndarray
        Metres from each perimeter to the nearest point of the edge (0 where it crosses it),
        to 1 m.
    directions : list of str
        Per crowd, the compass points in which the edge lies within ``horizon_m`` of the crowd
        (rays from its centroid), e.g. ``"NE, E, SE"``; "" where the edge is farther than the
        horizon.
        Where the edge is a coastline, nothing comes from there: check on the map.

    Examples
    --------
    >>> square = shapely.box(0, 0, 10, 10)
    >>> d, where = data_edge(np.array([square]), shapely.box(-1000, -1000, 40, 1000),
    ...                      horizon_m=500.0)
    >>> float(d[0]), where[0]
    (30.0, 'NE, E, SE')
    """
    edge = shapely.boundary(area)
    distance = np.round(shapely.distance(crowds, edge), 0)
    directions = []
    for crowd, d in zip(crowds, distance, strict=True):
        if not d < horizon_m:
            directions.append("")
            continue
        centre = shapely.get_coordinates(shapely.centroid(crowd))[0]
        reach = horizon_m + float(shapely.hausdorff_distance(shapely.centroid(crowd), crowd))
        angle = np.radians(np.arange(8) * 45.0)
        ends = centre + reach * np.column_stack([np.sin(angle), np.cos(angle)])
        rays = shapely.linestrings(np.stack([np.broadcast_to(centre, ends.shape), ends], axis=1))
        hits = shapely.intersection(rays, edge)
        near = [
            not shapely.is_empty(hit) and shapely.distance(crowd, hit) < horizon_m for hit in hits
        ]
        directions.append(", ".join(c for c, n in zip(COMPASS, near, strict=True) if n))
    return distance, directions


def terrain_note(dem: str | Path | None) -> str:
    """The terrain the speeds assume, for every output row: a DEM's name, or the flat caveat.

    Examples
    --------
    >>> terrain_note(None)[:40]
    'flat terrain: no DEM given, gradients no'
    """
    if dem is None:
        return (
            "flat terrain: no DEM given, gradients not modelled (a downhill run-up arrives "
            "faster; pass dem= for gradients)"
        )
    return f"gradients from the DEM {Path(dem).name}"


def martyns_law_scope(area: shapely.Geometry, crs: CRS) -> str:
    """``"UK law"`` inside the United Kingdom (:data:`UK_BOXES`), else a proxy label.

    The Terrorism (Protection of Premises) Act 2025 is UK law; outside the UK its tiers are a
    benchmark only (reference hvm.md §0.4).
    """
    point = shapely.centroid(area)
    lon, lat = Transformer.from_crs(crs, 4326, always_xy=True).transform(point.x, point.y)
    inside = any(x0 <= lon <= x1 and y0 <= lat <= y1 for x0, y0, x1, y1 in UK_BOXES)
    return "UK law" if inside else "UK-law proxy: the study area is outside the UK"


def dem_grades(edges: gpd.GeoDataFrame, *, dem: str | Path) -> np.ndarray:
    """Grade (rise over run, u → v) of every edge from a DEM's elevation at its two ends.

    Elevations are interpolated bilinearly at the first and last vertex of each edge; the grade
    is their difference over ``length_m``. A DEM in another CRS is sampled through a coordinate
    transformation (no resampling of the raster).

    Parameters
    ----------
    edges
        Network edges with ``length_m`` (m) and LineString geometry in a metric CRS.
    dem
        GeoTIFF of elevations (m), any CRS.

    Returns
    -------
    numpy.ndarray
        Grade per edge (dimensionless; +0.05 = 5 % uphill from ``u`` to ``v``).

    Raises
    ------
    InputError
        The file is missing, unreadable or has no CRS, or it does not cover every edge end
        (outside the raster or on nodata); the message gives the count and an example point.
    """
    import rasterio
    from rasterio.errors import RasterioIOError
    from scipy.ndimage import map_coordinates

    path = Path(dem)
    if not path.exists():
        raise InputError(f"{path}: no such DEM file; give a GeoTIFF of elevations.")
    try:
        with rasterio.open(path) as src:
            if src.crs is None:
                raise InputError(f"{path}: the DEM has no CRS; assign one (e.g. gdal_edit -a_srs).")
            band = src.read(1, masked=True)
            inverse = ~src.transform
            transformer = Transformer.from_crs(edges.crs, CRS(src.crs), always_xy=True)
    except RasterioIOError as exc:
        raise InputError(f"{path}: cannot read the DEM ({exc}).") from exc
    geoms = edges.geometry.to_numpy()
    ends = np.vstack([shapely.get_coordinates(shapely.get_point(geoms, i)) for i in (0, -1)])
    x, y = transformer.transform(ends[:, 0], ends[:, 1])
    x, y = np.asarray(x), np.asarray(y)
    col = inverse.a * x + inverse.b * y + inverse.c
    row = inverse.d * x + inverse.e * y + inverse.f
    height, width = band.shape
    inside = (col >= 0) & (col <= width) & (row >= 0) & (row <= height)
    mask = np.ma.getmaskarray(band)
    near_r = np.clip(row.astype(int), 0, height - 1)
    near_c = np.clip(col.astype(int), 0, width - 1)
    covered = inside & ~mask[near_r, near_c]
    if not covered.all():
        k = int(np.flatnonzero(~covered)[0])
        raise InputError(
            f"{path}: the DEM does not cover {int((~covered).sum())} of {covered.size} street "
            f"ends of the hostile-vehicle network (e.g. x={ends[k, 0]:.1f}, y={ends[k, 1]:.1f} "
            f"in {edges.crs.to_string()}); give a DEM covering the whole study area, or none."
        )
    values = np.ma.filled(band.astype(float), np.nan)
    values = np.where(np.isnan(values), np.nanmean(values), values)
    z = map_coordinates(values, [row - 0.5, col - 0.5], order=1, mode="nearest")
    n = len(geoms)
    return (z[n:] - z[:n]) / edges["length_m"].to_numpy(float)


# --------------------------------------------------------------------------- inputs


def _vehicles(
    vehicles: Sequence[str | VehicleClass] | str | Path | None, params: HvmParams
) -> list[VehicleClass]:
    if isinstance(vehicles, str | Path):
        table = load_params(Vehicles, vehicles).select(params.default_vehicle_classes)
        return list(table.values())
    names = params.default_vehicle_classes if vehicles is None else vehicles
    packaged = [v for v in names if isinstance(v, str)]
    table = load_params(Vehicles).select(packaged) if packaged else {}
    return [table[v] if isinstance(v, str) else v for v in names]


def _rated(
    barriers: gpd.GeoDataFrame | str | Path | None, crs: CRS
) -> tuple[gpd.GeoDataFrame | None, str | None]:
    if barriers is None:
        return None, None
    if isinstance(barriers, str | Path):
        return read_rated_barriers(barriers, crs=crs), str(barriers)
    if barriers.crs is None:
        raise InputError("barriers: the GeoDataFrame has no CRS; set it with .set_crs().")
    if "rating" not in barriers.columns:
        raise InputError("barriers: missing column 'rating' (e.g. 'V/7200[N2A]/48/90:2.5').")
    frame = barriers.to_crs(crs) if barriers.crs != crs else barriers
    if "barrier_id" not in frame.columns:
        frame = frame.assign(barrier_id=[f"user/{i}" for i in frame.index])
    ratings = frame["rating"].where(frame["rating"].notna(), None)
    kinds = barrier_kinds(frame)  # a bollard row stays one (not a continuous line)
    return frame.assign(
        barrier_kind=np.where(kinds != "", kinds, np.where(ratings.isna(), "unrated", "rated")),
        rating=ratings.astype(object),
        source="user",
        stops_vehicles=True,
    ), "GeoDataFrame"


# --------------------------------------------------------------------------- tables


def _governing(
    reqs: Sequence[Sequence[RatingRequirement]],
) -> tuple[RatingRequirement | None, str]:
    """The most demanding requirement over rows, and its class's full set over the rows.

    Demand is :func:`~cohesion_gis.hvm.impact.demand_key`: the heaviest class beyond test
    speeds first, then test mass, test speed, angle, energy. The text is that class's part of
    :func:`_by_class` (every test angle's most demanding requirement over all rows), not the
    other angles of the one row it came from: Senaatintori's N1 headline read 48/90 from its
    worst approach while another entry asks 64/90 (planner review, defect 10).
    """
    best = None
    for row in reqs:
        if row and (best is None or demand_key(row[0]) > demand_key(best)):
            best = row[0]
    if best is None:
        return None, "none: no vehicle approach"
    return best, requirement_text(_class_sets(reqs).get(best.vehicle_class, [best]))


#: Separator between classes in a ``requirements`` cell: never inside one requirement's text
#: (which uses ", ", "; " and " and "); requirements of one class are joined by " and ".
CLASS_SEPARATOR = " | "


def _by_class(reqs: Sequence[Sequence[RatingRequirement]]) -> str:
    """Every class's full set of requirements over rows, most demanding class first.

    Per class, the union over the rows (entries): for each test angle the most demanding
    requirement any row asks, a 45° one dropped where the class's 90° one asks at least the
    same test speed (:func:`~cohesion_gis.hvm.impact.class_requirements`), and the fastest
    glancing requirement where any row has one (a tested barrier at one entry does not hold a
    glancing run at another). Classes are joined by :data:`CLASS_SEPARATOR`, the headline
    class first; a rating is evidence only for its own class, so a line needs them all.
    """
    ranked = sorted(_class_sets(reqs).values(), key=lambda row: demand_key(row[0]), reverse=True)
    return CLASS_SEPARATOR.join(map(requirement_text, ranked)) or "none: no vehicle approach"


def _class_sets(
    reqs: Sequence[Sequence[RatingRequirement]],
) -> dict[str, list[RatingRequirement]]:
    """Per class, its requirements over all rows as :func:`_by_class` describes."""
    kept: dict[str, list[RatingRequirement]] = {}
    for row in reqs:
        for req in row:
            kept.setdefault(req.vehicle_class, []).append(req)
    best: dict[str, list[RatingRequirement]] = {}
    for cls, items in kept.items():
        tested = most_demanding([r for r in items if not r.glancing])
        glancing = [r for r in items if r.glancing]
        if glancing:
            tested.append(max(glancing, key=lambda r: r.impact_speed_kmh))
        if tested:
            best[cls] = tested
    return best


def _site_table(
    sites: gpd.GeoDataFrame,
    approaches: gpd.GeoDataFrame,
    reqs: Sequence[Sequence[RatingRequirement]],
    vehicles: Mapping[str, VehicleClass],
    params: HvmParams,
) -> gpd.GeoDataFrame:
    names = list(vehicles)
    speed = approaches.pivot_table(
        index="site_id", columns="vehicle_class", values="impact_speed_kmh", aggfunc="max"
    ).reindex(index=sites["site_id"], columns=names, fill_value=0.0)
    energy = approaches.pivot_table(
        index="site_id", columns="vehicle_class", values="impact_energy_kj", aggfunc="max"
    ).reindex(index=sites["site_id"], columns=names, fill_value=0.0)
    arrived = approaches.loc[
        (approaches["impact_speed_kmh"].astype(float) > 0) & (approaches["protected_by"] == "")
    ]
    open_counts = arrived.groupby("site_id")["entry_id"].nunique()
    reasons = approaches.loc[approaches["reason"].astype(str) != ""].groupby("site_id")["reason"]
    first_reason = reasons.first()
    table = sites[list(SITE_COLUMNS)].copy()
    speed = speed.fillna(0.0).map(lambda v: float(round_speed(v, params.speed_resolution_kmh)))
    for name in names:
        table[speed_column(name)] = speed[name].to_numpy(float)
    max_speed = speed.fillna(0.0).max(axis=1).to_numpy(float) if names else 0.0
    table["max_arrival_speed_kmh"] = max_speed
    table["max_arrival_energy_kj"] = energy.fillna(0.0).max(axis=1).to_numpy(float)
    worst = energy.fillna(0.0).idxmax(axis=1).where(energy.fillna(0.0).max(axis=1) > 0)
    table["max_energy_class"] = worst.to_numpy(dtype=object)
    table["open_approaches"] = table["site_id"].map(open_counts).fillna(0).astype(int)
    by_site: dict[str, list[Sequence[RatingRequirement]]] = {}
    for sid, row in zip(approaches["site_id"], reqs, strict=True):
        by_site.setdefault(sid, []).append(row)
    governing = [_governing(by_site.get(sid, [])) for sid in table["site_id"]]
    table["rating_needed"] = [short_requirement(text) for _, text in governing]
    table["rating_class"] = [None if r is None else r.vehicle_class for r, _ in governing]
    table["required_rating"] = [text for _, text in governing]
    table["requirements"] = [_by_class(by_site.get(sid, [])) for sid in table["site_id"]]
    normal = approaches.groupby("site_id")["normal_speed_kmh"].max()
    table["max_normal_impact_kmh"] = table["site_id"].map(normal).fillna(0.0).astype(float)
    entry = approaches.loc[approaches["protected_by"] == ""].groupby("site_id")[
        "crowd_entry_speed_kmh"
    ]
    table["max_crowd_entry_speed_kmh"] = table["site_id"].map(entry.max()).fillna(0.0)
    limited = approaches.groupby("site_id")["horizon_limited"].any()
    table["horizon_limited"] = table["site_id"].map(limited).fillna(False).astype(bool)
    table["exposure"] = table["capacity_persons"].map(exposure_band).astype(int)
    table["vulnerability"] = [
        vulnerability([r for row in by_site.get(sid, []) for r in row], n, params=params)
        for sid, n in zip(table["site_id"], table["open_approaches"], strict=True)
    ]
    table["attractiveness"] = table["kinds"].map(lambda k: _attractiveness(k, params)).astype(int)
    table["risk"] = table["exposure"] * table["vulnerability"] * table["attractiveness"]
    table["access"] = [
        "" if n > 0 else str(first_reason.get(sid, "no vehicle arrives"))
        for sid, n in zip(table["site_id"], table["open_approaches"], strict=True)
    ]
    return gpd.GeoDataFrame(table, geometry=sites.geometry.to_numpy(), crs=sites.crs)


def _attractiveness(kinds: str, params: HvmParams) -> int:
    score, default = params.attractiveness, params.default_attractiveness
    return max(score.get(k, default) for k in str(kinds).split("; "))


def _rank(table: gpd.GeoDataFrame, params: HvmParams) -> gpd.GeoDataFrame:
    ranked = table.sort_values(
        ["risk", "capacity_persons", "site_id"], ascending=[False, False, True], ignore_index=True
    )
    n = len(ranked)
    ranked["rank"] = np.arange(1, n + 1)
    top = ranked["rank"] <= math.ceil(params.priority_share * n)
    urgent = (ranked["max_arrival_speed_kmh"] >= params.priority_speed_kmh) & (
        ranked["capacity_persons"] >= params.priority_persons
    )
    ranked["priority"] = np.where(top | urgent, 1, np.where(ranked["open_approaches"] > 0, 2, 3))
    geometry = ranked.pop("geometry")
    return gpd.GeoDataFrame(ranked, geometry=geometry.to_numpy(), crs=table.crs)


def _entries(
    approaches: gpd.GeoDataFrame,
    reqs: Sequence[Sequence[RatingRequirement]],
    vehicles: Mapping[str, VehicleClass],
    crs: CRS,
    *,
    resolution: float,
) -> gpd.GeoDataFrame:
    """One row per entry: speeds per class and the rating a barrier there needs.

    A barrier at the entry (where the carriageway meets the crowd perimeter grown by the mount
    distance) may let a vehicle penetrate at most its stand-off: the distance from the entry to
    the crowd perimeter (``standoff_m``), which goes into the requirement as the penetration
    limit (reference hvm.md §8.4.4). Every class's requirements are listed (``requirements``);
    ``required_rating`` is the most demanding one with its class's other test angles.
    """
    names = list(vehicles)
    speed_cols = [speed_column(n) for n in names]
    rows = approaches.loc[approaches["entry_id"].notna()]
    if rows.empty:
        empty = pd.DataFrame({c: pd.Series(dtype=object) for c in (*ENTRY_COLUMNS, *speed_cols)})
        return gpd.GeoDataFrame(empty, geometry=gpd.GeoSeries([], crs=crs), crs=crs)
    speed = (
        rows.pivot_table(
            index="entry_id", columns="vehicle_class", values="impact_speed_kmh", aggfunc="max"
        )
        .reindex(columns=names)
        .fillna(0.0)
    )
    first = rows.groupby("entry_id")[
        ["site_id", "entry_kind", "overrun_m", "entry_x", "entry_y", "standoff_m"]
    ].first()
    first = first.loc[speed.index]
    points = shapely.points(first["entry_x"].to_numpy(float), first["entry_y"].to_numpy(float))
    standoff = first["standoff_m"].to_numpy(float)
    by_entry: dict[str, list[list[RatingRequirement]]] = {}
    for entry, row in zip(approaches["entry_id"], reqs, strict=True):
        if entry is not None:
            by_entry.setdefault(entry, []).append(list(row))
    held = rows["protected_by"].astype(str) != ""
    open_rows = rows.loc[(rows["impact_speed_kmh"].astype(float) > 0) & ~held]
    open_by_entry = open_rows.groupby("entry_id")["vehicle_class"].agg(set)
    open_classes, governing, every = [], [], []
    for entry in speed.index:
        entry_reqs = by_entry.get(entry, [])
        arriving = open_by_entry.get(entry, set())
        open_classes.append(";".join(k for k in names if k in arriving))
        governing.append(_governing(entry_reqs)[1])
        every.append(_by_class(entry_reqs))
    table = pd.DataFrame(
        {
            "entry_id": speed.index.to_numpy(),
            "site_id": first["site_id"].to_numpy(),
            "entry_kind": first["entry_kind"].to_numpy(),
            "overrun_m": first["overrun_m"].to_numpy(float),
            "open_classes": open_classes,
            "required_rating": governing,
            "requirements": every,
            "standoff_m": standoff,
            **{speed_column(n): round_speed(speed[n], resolution) for n in names},
        }
    )
    return gpd.GeoDataFrame(table, geometry=points, crs=crs)


# --------------------------------------------------------------------------- audit


def _plain(value: Any) -> Any:
    """JSON-ready copy: mappings → dict, tuples → list, numpy scalars → Python."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _audit(city: City, setup: AssessmentSetup, sites: gpd.GeoDataFrame) -> dict[str, Any]:
    """:meth:`AssessmentSetup.audit`."""
    from cohesion_gis import __version__

    params, barriers, dem = setup.params, setup.barriers, setup.dem
    param_values = {f.name: getattr(params, f.name) for f in fields(params) if f.name != "sources"}
    densities = [
        {
            "kind": k.name,
            "density_persons_m2": k.density_persons_m2,
            "floor_m2_per_person": k.floor_m2_per_person,
            "martyns_law_cap": k.martyns_law_cap,
            "attractiveness": params.attractiveness.get(k.name, params.default_attractiveness),
            "source": k.source,
        }
        for k in city.taxonomy.site_kinds
    ]
    audit = {
        "data": {**city.provenance.as_dict(), "study_area": city.name, "crs": city.crs.to_string(),
                 "package_version": __version__},
        "vehicles": [{f.name: getattr(v, f.name) for f in fields(v)} for v in setup.classes],
        "parameters": param_values,
        "parameter_sources": dict(params.sources),
        "site_parameters": setup.site_params.as_dict(),
        "site_kinds": densities,
        "block_unrated": params.block_unrated,
        "barriers": {
            "rated_layer": setup.barrier_source,
            "osm_unrated": int((barriers["source"] == "osm").sum()),
            "user": int((barriers["source"] == "user").sum()),
            "rated": int(barriers["rating"].notna().sum()),
            "routing_kinds": "rated barriers; unrated kinds that can stop a car (block_unrated)",
        },
        "dem": str(dem) if dem is not None else None,
        "gradient": "from the DEM at edge ends" if dem is not None else "flat (no DEM given)",
        "risk": {
            "formula": "risk = exposure × vulnerability × attractiveness",
            "exposure": "clip(1 + floor(log10 persons), 1, 5)",
            "vulnerability": (
                "worst over all classes' requirements of the design-speed band (≤16/32/48/64/above "
                "km/h = 1-5; not the headline class's), "
                f"+1 if at least {params.many_approaches} entries are open, at most 5; 1 if none"
            ),
            "attractiveness": dict(params.attractiveness),
            "attractiveness_source": "[A] CISA ST-CP list, EU risk factors (reference hvm.md §4)",
            "priority": (
                f"1: top {params.priority_share:.0%} by risk, or an open approach ≥ "
                f"{params.priority_speed_kmh:g} km/h into ≥ {params.priority_persons} persons "
                "(hvm.md §8.2); "
                "2: any other open approach; 3: no vehicle arrives"
            ),
        },
        "martyns_law": (
            "tiers per building-based premises only (s.2(2)(a)): none < 200 ≤ standard < 800 ≤ "
            "enhanced; worship, schools and FE colleges standard (Schedule 1), universities "
            "not capped; streets, squares and markets premises only when a building (a hall); "
            "open spaces: possible qualifying event "
            "(≥ 800 at 2 persons/m², HSG195); "
            + martyns_law_scope(city.boundary, city.crs)
        ),
        "results": {
            "sites": len(sites),
            "priority_1": int((sites["priority"] == 1).sum()),
            "sites_with_open_approach": int((sites["open_approaches"] > 0).sum()),
        },
        "impact_envelope": (
            "per approach and angle (90/60/45/30/15°): fastest impact speed turning at "
            "min(lat_accel, μg) within the hard-standing before the crowd (entry-to-crowd "
            "distance + half the carriageway; McHenry barrier impact-angle equation); "
            "requirements at the matching test angle (90° covers every angle, 45° up to 52.5°, "
            "below 22.5° glancing: none); headline = beyond test speeds, then test mass, test "
            "speed, angle, energy (heaviest class first: the vulnerability band is the worst "
            "over all classes, not the headline's)"
        ),
        "horizon_limited": (
            f"run-up ≥ {1 - params.horizon_slack:.0%} of the {params.search_horizon_m:g} m horizon "
            "below the class's top speed: the speed is a lower bound; horizon_sensitivity() "
            "gives 250/500/1000 m"
        ),
        "not_modelled": [
            "off-road legs across footways and squares other than the straight-on over-run from "
            "a street's end (hvm.overrun), from further than the entry (the "
            "impact envelope uses the hard-standing measured at the entry)",
            "stand-off at sites' own frontages: an entry's stand-off is its distance to the "
            "crowd perimeter, not a surveyed distance to the nearest person or façade",
        ],
    }  # fmt: skip
    return _plain(audit)
