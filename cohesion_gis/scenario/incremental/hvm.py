r"""Incremental HVM assessment: a scenario searched again only where its changes can reach.

The approach search (:mod:`cohesion_gis.hvm.routes`) dominates :func:`~cohesion_gis.hvm.assess.
assess_sites`; a scenario (a closed road, a rated barrier line, a pedestrianised street) changes
the approaches of the sites near it only. :func:`hvm_state` assesses a City in full and keeps what
a scenario starts from (:class:`HvmState`); :meth:`HvmState.update` takes the scenario City and

1. finds what changed for the search:

   - vehicle-network edges added, removed or changed (``u, v, length_m, width_m``, geometry);
   - routing barriers added, removed or re-rated (``barrier_id``, rating, geometry; every barrier
     of the search: rated ones, and unrated kinds that can stop a car);
   - sites added, removed, or whose crowd perimeter changed (their search areas' outlines: the
     network is split there, so neighbours' routes gain or lose a vertex);
   - per class, the nodes where a vehicle may start (:func:`~cohesion_gis.hvm.routes.
     approach_routes`, *Where a vehicle can start*: a global rule, a closed ring far away can
     change it): the nodes whose status differs between base and scenario;

2. grows every change to the whole street it lies on, junction to junction (bends drawn across
   many pieces are merged along such a street, so a change anywhere on it can move a radius
   elsewhere on it), taking every edge within :func:`touch_m` of the change (a point barrier
   snaps to a street 2 m away; cuts within 0.5 m merge);
3. searches again every added or changed site, and every site whose search area (the crowd
   perimeter grown by the mount distance) lies within :func:`touch_m` of a change or changed
   edge (an entry on it), or has an entry edge with an end within the search horizon plus
   :func:`touch_m` of a changed edge's end, in network distance on the base or the scenario
   network (:func:`_reached`: one search of the network engine,
   :func:`~cohesion_gis.network.node_distances`, on the City's vehicle graph
   ``City.drive_csr``). A site's search never leaves the horizon's ball around its entries,
   and a route reaches a change on another edge through one of that edge's ends, so nothing
   else enters it. The network is still split at every site's entries and barriers
   (:class:`~cohesion_gis.hvm.routes.ApproachNetwork`), so a re-searched site's rows are those
   of a full run;
4. takes every other site's approach rows from the base assessment, and rebuilds the site
   table, ranking, entries, gaps and audit from the merged approaches (cheap, global). When the
   site inputs (candidate sites, buildings, the footways of the walk network, the taxonomy) are
   unchanged, the base site table is reused instead of running
   :func:`~cohesion_gis.hvm.sites.soft_target_sites` again.

The result equals a full :func:`~cohesion_gis.hvm.assess.assess_sites` of the scenario
(``tests/scenario/incremental/test_hvm.py``: every example scenario, a road closed far from any
site, one next to a site, and a closure far from a site that moves where vehicles start). Other
parameters than the base's, a changed study-area boundary, or edges or barriers whose unchanged
rows come in another order fall back to a full run; :attr:`HvmState.recomputed` says which.

Examples
--------
>>> import dataclasses
>>> import cohesion_gis as cg
>>> from cohesion_gis.scenario.incremental import hvm_state
>>> city = cg.load_city()  # doctest: +SKIP
>>> base = hvm_state(city)
>>> closed = city.drive_edges["name"] == "Unioninkatu"
>>> after = base.update(dataclasses.replace(city, drive_edges=city.drive_edges.loc[~closed]))
>>> after.recomputed.startswith("HVM incremental:"), 0 < len(after.searched) < len(base.searched)
(True, True)
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from cohesion_gis._gc import paused_gc
from cohesion_gis.hvm.assess import AssessmentSetup, HvmOptions, SiteAssessment
from cohesion_gis.hvm.params import HvmParams
from cohesion_gis.hvm.routes import ApproachNetwork
from cohesion_gis.hvm.sites import SITE_COLUMNS, soft_target_sites
from cohesion_gis.network import components, node_distances

if TYPE_CHECKING:
    from cohesion_gis.city import City
    from cohesion_gis.network import Csr

__all__ = ["HvmState", "hvm_state", "touch_m"]

log = logging.getLogger(__name__)

#: Audit entries that must equal the base assessment's for its approaches to be reused.
_SETTINGS = ("vehicles", "parameters", "site_parameters", "block_unrated", "dem")
#: Columns of a vehicle-network edge that the approach search reads (plus geometry).
_EDGE_COLUMNS = ("u", "v", "length_m", "width_m")


@dataclass(frozen=True)
class HvmState:
    """An HVM assessment with what a scenario's update starts from.

    Attributes
    ----------
    city
        The City assessed.
    result
        Its assessment (:class:`~cohesion_gis.hvm.assess.SiteAssessment`), equal to a full
        :func:`~cohesion_gis.hvm.assess.assess_sites` with :attr:`options`.
    options
        How it was assessed (:class:`~cohesion_gis.hvm.assess.HvmOptions`): an update assesses
        with the same options but its own ``barriers`` (and ``params`` if given).
    searched
        Ids of the sites whose approaches were searched (every site after a full run).
    recomputed
        What was computed: ``"HVM full"``, ``"HVM incremental: 3 of 81 sites searched"`` (plus
        ``", site table rebuilt"`` when the site inputs changed), or ``"HVM full: <why>"``.
    """

    city: City
    result: SiteAssessment
    options: HvmOptions = field(default_factory=HvmOptions)
    searched: tuple[str, ...] = ()
    recomputed: str = "HVM full"

    def update(
        self,
        city: City,
        *,
        barriers: gpd.GeoDataFrame | str | Path | None = None,
        params: HvmParams | None = None,
    ) -> HvmState:
        """Assess a scenario City, searching again only the sites its changes can reach.

        Parameters
        ----------
        city
            The scenario City (e.g. :func:`cohesion_gis.scenario.apply` on :attr:`city`), same
            CRS.
        barriers
            The scenario's rated barriers (as :func:`~cohesion_gis.hvm.assess.assess_sites`);
            the base's are read from ``result.barriers``.
        params
            HVM parameters; ``None``: those of this state. Others than the base's (checked
            against its audit, as every option) give a full run.

        Returns
        -------
        HvmState
            The scenario's state: its assessment equals a full ``assess_sites`` of ``city``.

        Raises
        ------
        InputError, ParameterError
            As :func:`~cohesion_gis.hvm.assess.assess_sites`.
        """
        options = replace(self.options, barriers=barriers, params=params or self.options.params)
        setup = AssessmentSetup.resolve(city, options)
        base, base_city = self.result, self.city
        base_sites = _base_sites(base)
        reused = _same_site_inputs(base_city, city)
        sites = base_sites if reused else soft_target_sites(city, params=setup.site_params)
        why = _why_full(base_city, base, city, setup, sites)
        if not why:
            base_setup = setup.on(base_city, base.barriers)
            before = _Side(base_city, base_setup, base_sites)
            try:
                approaches, searched = _merged(before, _Side(city, setup, sites), base.approaches)
            except _ReorderedError as exc:
                why = str(exc)
        if why:
            approaches, searched = setup.approaches(city, sites), tuple(sites["site_id"])
            note = f"HVM full: {why}"
        else:
            note = f"HVM incremental: {len(searched)} of {len(sites)} sites searched"
            note += "" if reused else ", site table rebuilt"
        log.info("update: %s", note)
        assessment = setup.assessment(city, sites, approaches)
        return HvmState(city, assessment, self.options, searched, note)


@paused_gc()
def hvm_state(city: City, options: HvmOptions | None = None) -> HvmState:
    """Assess a City in full (:func:`~cohesion_gis.hvm.assess.assess_sites`), keeping its state.

    ``options`` (:class:`~cohesion_gis.hvm.assess.HvmOptions`; ``None``: the defaults) are what
    ``assess_sites`` takes besides the City; :meth:`HvmState.update` then assesses scenarios of
    this City with the same options (and their own rated ``barriers``).
    """
    options = options or HvmOptions()
    result = AssessmentSetup.resolve(city, options).assess(city)
    searched = tuple(result.sites["site_id"])
    return HvmState(city, result, options, searched)


def touch_m(params: HvmParams) -> float:
    """How far (m) a change can act on the network: ``2 × max(snap, closure reach) + 1``.

    That is ``2 × max(barrier_snap_m, closure_reach_m) + 1`` (41 m by default). A barrier
    element takes part in closing a street within ``closure_reach_m`` of its centreline (its
    footways, :func:`~cohesion_gis.hvm.barriers.street_closures`) or on a carriageway within
    ``barrier_snap_m`` of its kerb, so a changed street can move a barrier onto another street
    up to twice that away; cut points within 0.5 m merge.
    """
    return 2.0 * max(params.barrier_snap_m, params.closure_reach_m) + 1.0


# --- whether the base can be reused ---------------------------------------------------------


def _why_full(
    base_city: City,
    base: SiteAssessment,
    city: City,
    setup: AssessmentSetup,
    sites: gpd.GeoDataFrame,
) -> str:
    """Why the base approaches cannot be reused ("" if they can)."""
    audit = setup.audit(city, base.sites)
    if any(audit[k] != base.audit.get(k) for k in _SETTINGS):
        return "parameters differ from the base assessment's"
    if not shapely.equals_exact(base_city.boundary, city.boundary, 0.0):
        return "the study area's boundary changed"
    if sites.empty or base.sites.empty:
        return "no sites in the base or the scenario"
    return ""


def _same_site_inputs(base_city: City, city: City) -> bool:
    """Whether :func:`soft_target_sites` would give the base's site table again."""
    same = (
        city.sites is base_city.sites
        and city.buildings is base_city.buildings
        and city.taxonomy is base_city.taxonomy
    )
    if not same or city.walk_edges is base_city.walk_edges:
        return same
    before, after = base_city.walk_edges, city.walk_edges  # only the footways are read
    return (
        len(before) == len(after)
        and before["highway"].equals(after["highway"])
        and bool(before.geometry.geom_equals_exact(after.geometry, 0.0).all())
    )


def _base_sites(base: SiteAssessment) -> gpd.GeoDataFrame:
    """The base :func:`soft_target_sites` table, from the ranked site table."""
    return base.sites[[*SITE_COLUMNS, "geometry"]].sort_values("site_id", ignore_index=True)


# --- the merged approaches ------------------------------------------------------------------


@dataclass(frozen=True)
class _Side:
    """One side of the comparison: the City, its resolved inputs and its site table."""

    city: City
    setup: AssessmentSetup
    sites: gpd.GeoDataFrame

    @cached_property
    def areas(self) -> gpd.GeoDataFrame:
        """The sites' search areas."""
        return self.setup.areas(self.sites)

    def network(self) -> ApproachNetwork:
        """The approach network of this side (built anew each call)."""
        return self.setup.network(self.city, self.areas)

    @cached_property
    def legs(self) -> gpd.GeoDataFrame:
        """The straight-on over-run legs of this side (:mod:`cohesion_gis.hvm.overrun`)."""
        return self.setup.legs(self.city, self.areas)


def _merged(
    base: _Side, scenario: _Side, base_approaches: gpd.GeoDataFrame
) -> tuple[gpd.GeoDataFrame, tuple[str, ...]]:
    """Base rows of the sites no change reaches, fresh rows of the others, in site order."""
    sites, params = scenario.sites, scenario.setup.params
    changed_sites, outlines = _changed_sites(base, scenario)
    changes = [
        outlines,
        _changed_rows(base.setup.edges, scenario.setup.edges, _EDGE_COLUMNS),
        _changed_rows(
            _routing(base.setup), _routing(scenario.setup), ("barrier_id", "barrier_kind", "rating")
        ),
        # a closure can make a dead end whose over-run leg reaches a site, or end one
        _changed_rows(base.legs, scenario.legs, ("u", "overrun_site")),
    ]
    network = None
    if any(len(c) for c in changes) and (_may_close(scenario.setup) or _may_close(base.setup)):
        network = scenario.network()  # the start rule is global: compare every node
        changes.append(_start_changes(_no_starts(base), network.no_start_xy))
    region = np.concatenate(changes)
    areas = scenario.areas.geometry.to_numpy()
    ids = scenario.sites["site_id"].to_numpy()
    reached = changed_sites | _reached(base, region, (areas, ids), params)
    search = np.flatnonzero(reached | _reached(scenario, region, (areas, ids), params))
    searched = tuple(sites["site_id"].iloc[search])
    ids = base_approaches["site_id"]
    parts = [base_approaches.loc[ids.isin(sites["site_id"]) & ~ids.isin(searched)]]
    if search.size:
        parts.append((network or scenario.network()).routes(search))
    merged = pd.concat([p for p in parts if len(p)]) if len(parts) > 1 else parts[0]
    position = pd.Series(np.arange(len(sites)), index=sites["site_id"])
    order = np.argsort(position.loc[merged["site_id"]].to_numpy(), kind="stable")
    return merged.iloc[order].reset_index(drop=True), searched


def _changed_sites(base: _Side, scenario: _Side) -> tuple[np.ndarray, np.ndarray]:
    """Scenario sites to search (added or changed), and the outlines of every changed area.

    The outlines are the search areas' boundaries, base and scenario, of sites added, removed
    or whose perimeter changed: where the network is cut for entries.
    """
    sites = scenario.sites
    before = base.sites.set_index("site_id").geometry
    common = sites["site_id"].isin(before.index).to_numpy()
    same = np.zeros(len(sites), bool)
    old = before.reindex(sites["site_id"][common]).to_numpy()
    same[common] = shapely.equals_exact(old, sites.geometry.to_numpy()[common], 0.0)
    gone = ~base.sites["site_id"].isin(sites["site_id"][same]).to_numpy()
    outlines = [base.areas.geometry.to_numpy()[gone], scenario.areas.geometry.to_numpy()[~same]]
    return ~same, shapely.boundary(np.concatenate(outlines))


def _routing(setup: AssessmentSetup) -> gpd.GeoDataFrame:
    """The routing barriers with the rating as text ("" for unrated), for comparison."""
    routing = setup.routing
    rating = routing["rating"].map(lambda r: "" if r is None or pd.isna(r) else str(r))
    return routing.assign(rating=rating)


def _changed_rows(
    before: gpd.GeoDataFrame, after: gpd.GeoDataFrame, columns: Sequence[str]
) -> np.ndarray:
    """Geometries of the rows found on one side only (by ``columns`` and geometry).

    Rows are matched by ``columns`` in order (the k-th base row with some values to the k-th
    scenario row with them), then their geometries compared exactly.

    Raises
    ------
    _ReorderedError
        The rows found on both sides come in another relative order (the network's node and
        piece numbering, which breaks ties in the search, would differ).
    """
    if before is after:
        return np.empty(0, object)
    both = pd.concat([before[list(columns)], after[list(columns)]], ignore_index=True)
    codes = both.groupby(list(columns), sort=False, dropna=False).ngroup().to_numpy()
    left, right = codes[: len(before)], codes[len(before) :]
    counts = np.bincount(left, minlength=codes.max(initial=-1) + 1)
    matched = counts == np.bincount(right, minlength=counts.size)
    kept = [np.flatnonzero(matched[side]) for side in (left, right)]
    if not np.array_equal(left[kept[0]], right[kept[1]]):
        raise _ReorderedError(f"unchanged rows of the {columns[0]}... table come in another order")
    old, new = before.geometry.to_numpy(), after.geometry.to_numpy()
    moved = ~shapely.equals_exact(old[kept[0]], new[kept[1]], 0.0)
    changed = [np.ones(len(before), bool), np.ones(len(after), bool)]
    changed[0][kept[0][~moved]] = False
    changed[1][kept[1][~moved]] = False
    return np.concatenate([old[changed[0]], new[changed[1]]])


class _ReorderedError(Exception):
    """Unchanged rows of a table come in another order in the scenario."""


def _may_close(setup: AssessmentSetup) -> bool:
    """Whether some routing barrier can stop a class (only then are start nodes restricted)."""
    rated = setup.routing["rating"].notna()
    return bool(rated.any() or (setup.params.block_unrated and (~rated).any()))


def _start_changes(before: list[np.ndarray], after: list[np.ndarray]) -> np.ndarray:
    """Points (m) where a class may start in one network and not in the other."""
    moved = set()
    for a, b in zip(before, after, strict=True):
        moved |= set(map(tuple, a.tolist())) ^ set(map(tuple, b.tolist()))
    return shapely.points(np.array(sorted(moved), dtype=float).reshape(-1, 2))


def _no_starts(side: _Side) -> list[np.ndarray]:
    """Per class, the nodes (x, y) where no vehicle starts (none unless a barrier may close)."""
    if _may_close(side.setup):
        return side.network().no_start_xy
    return [np.empty((0, 2)) for _ in side.setup.classes]


def _reached(
    side: _Side, changes: np.ndarray, sites: tuple[np.ndarray, np.ndarray], params: HvmParams
) -> np.ndarray:
    """Per search area (``sites``: geometries and site ids), whether a change lies within reach.

    The edges within :func:`touch_m` of a change, grown to their whole streets, are changed. A
    site is reached when its search area lies within :func:`touch_m` of a change or a changed
    edge (an entry on a changed edge), or when an edge crossing its outline (where its entries
    are) has an end within the horizon plus :func:`touch_m` of a changed edge's end, in network
    distance on the City's vehicle graph (``City.drive_csr``, weighted by the edges' lengths,
    which are their geometries' lengths: :func:`cohesion_gis.streets.vehicle_network`): a route
    from an entry to a change on another edge enters that edge at one of its ends, so that end
    is no farther than the change. The street end an over-run leg into a site starts from
    (:mod:`cohesion_gis.hvm.overrun`) counts as one of its entries.
    """
    areas, site_ids = sites
    edges, graph = side.setup.edges, side.city.drive_csr
    lines = edges.geometry.to_numpy()
    tree = shapely.STRtree(lines)
    touch = touch_m(params)
    a, b = _ends(edges, graph)
    street = _street_ids(a, b, graph.n_nodes)
    changed = np.isin(street, street[tree.query(changes, "dwithin", distance=touch)[1]])
    out = np.zeros(len(areas), bool)
    near = np.concatenate([changes, lines[changed]])
    out[shapely.STRtree(near).query(areas, "dwithin", distance=touch)[0]] = True
    if not changed.any():
        return out
    limit = params.search_horizon_m + touch
    sources = np.unique(np.r_[a[changed], b[changed]])
    dist = node_distances(graph, sources, limit_m=limit)
    site, edge = tree.query(shapely.boundary(areas), predicate="intersects")
    out[site[np.minimum(dist[a[edge]], dist[b[edge]]) <= limit]] = True
    legs = side.legs
    at = pd.Index(site_ids).get_indexer(legs["overrun_site"])
    start = graph.node_index(legs["u"].to_numpy(np.int64), where="over-run legs u")
    out[at[(at >= 0) & (dist[start] <= limit)]] = True
    return out


def _ends(edges: gpd.GeoDataFrame, graph: Csr) -> tuple[np.ndarray, np.ndarray]:
    """Node index (in ``graph``) of each edge's ``u`` and ``v`` end."""
    u = graph.node_index(edges["u"].to_numpy(), where="drive_edges u")
    v = graph.node_index(edges["v"].to_numpy(), where="drive_edges v")
    return u.astype(np.int64), v.astype(np.int64)


def _street_ids(a: np.ndarray, b: np.ndarray, n_nodes: int) -> np.ndarray:
    """Per edge (node indices ``a``, ``b``), an id shared by the edges of one street.

    Edges of one street are joined at nodes of degree 2.
    """
    n = a.size
    codes = np.r_[a, b]
    degree = np.bincount(codes, minlength=n_nodes)
    through = degree[codes] == 2
    edge, node = np.tile(np.arange(n), 2)[through], codes[through]
    pairs = edge[np.argsort(node, kind="stable")].reshape(-1, 2)
    return components(n, pairs[:, 0], pairs[:, 1])[1]
