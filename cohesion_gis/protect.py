r"""Designed barrier schemes: the cheapest set of rated lines that stops every approach to a site.

:func:`protect` turns a site's vehicle dynamics assessment into a scheme:

1. the open approaches to the site (every class asked for) are taken from
   :func:`cohesion_gis.hvm.assess.assess_sites`: routes from where a vehicle can start to the
   site's entries, with the speed the vehicle reaches at every vertex;
2. every route segment may hold a line across the street a few metres past its upstream vertex
   (where vehicles are slowest, :func:`line_speed_kmh`); a (segment, class) slot must stop that
   class at the fastest speed any of its routes reaches there, rated by
   :func:`cohesion_gis.hvm.required_rating` (head-on, penetration within the stand-off), and costs

   .. math:: c = u(v^{test}) \,(w + 2 m)\,(1 + \lambda\, s / 100)

   with :math:`u` a relative cost per metre rising with the test speed, :math:`w` the carriageway
   width, :math:`m` the margin beyond each kerb, :math:`s` the stand-off (m) and :math:`\lambda`
   the distance weight (``defaults/protect.toml``); slots no tested product covers are left out;
3. the cheapest set of slots that every route crosses at least once (a weighted hitting set,
   solved exactly as a 0/1 integer programme by HiGHS) becomes the scheme, one physical line per
   segment with a rating per class;
4. the scheme is **verified**: applied as a scenario (``add_barrier`` per line and class) and
   compared (:func:`cohesion_gis.compare`): the full VDA is run again, and any approach still
   open (a new route round the lines, or one faster than a line's rating) joins the threats and
   the choice is solved again, until no approach to the site is open or ``max_rounds`` is
   reached. The cohesion engine runs too: barrier lines are pedestrian-permeable (bollards with
   gaps of at most 1.2 m), so no home may lose walking access, and the comparison says so.

The costs are relative units, not money: they rank layouts, they do not price them. A line
across a street closes it to vehicles; where access must stay (deliveries, emergency services),
the form column suggests an active (retractable) barrier with the same rating. Method, Helsinki
results and limits: ``docs/decisions.md``.

References
----------
NPSA (2023). *Hostile Vehicle Mitigation: guidance* (vehicle dynamics assessment, stand-off,
integration with the streetscape). DfT Traffic Advisory Leaflet 01/11 (pedestrian gaps ≤ 1.2 m).
Huangfu, Q. & Hall, J. A. J. (2018). Parallelizing the dual revised simplex method. *Math. Prog.
Comp.* 10, 119-142 (HiGHS, behind :func:`scipy.optimize.milp`).
"""

from __future__ import annotations

import difflib
import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import LineString

from cohesion_gis._toml import read_toml
from cohesion_gis.errors import InputError, ParameterError
from cohesion_gis.scenario import Intervention, Scenario
from cohesion_gis.scenario.write import base_spec

if TYPE_CHECKING:
    from cohesion_gis.city import City

__all__ = ["ProtectParams", "Protection", "protect", "write_protection"]

log = logging.getLogger(__name__)

#: What a scheme assumes, written beside it for the client (see ``docs/decisions.md``).
ASSUMPTIONS = (
    "no hostile vehicle starts inside the ring of lines (parked cars, garages, deliveries and "
    "service access inside it need their own management plan or active barriers)",
    "a line is built from façade to façade; an end marked open (no building within reach) must be "
    "continued to a wall, water or a level change on site, or a car drives round it",
    "speeds come from the assessment's model (flat ground unless a DEM is given; run-up horizon "
    "as stated) and each line is rated head-on for the fastest class that reaches it",
    "costs are relative units for ranking layouts, not prices",
)


@dataclass(frozen=True)
class ProtectParams:
    """Costs and geometry of designed barrier lines (``defaults/protect.toml``).

    Attributes
    ----------
    cost_per_m
        Relative cost per metre of line by test speed (km/h → units), one entry per test speed.
    margin_m
        How far a line reaches beyond each kerb (m).
    distance_weight
        Extra cost per 100 m of stand-off from the site (0: distance is free).
    horizon_m
        Run-up search horizon (m) of the threat search and of the verification (at least the
        assessment's own): long enough for every class to reach its top speed.
    max_reach_m
        A line runs from façade to façade; this far (m) from the street's centreline on each
        side without meeting a building, its end is reported as open.
    placement_m
        A line stands this far past the upstream end of its segment (or mid-segment if shorter),
        where vehicles are slowest.
    default_width_m
        Carriageway width (m) where the street has none.
    classes
        Vehicle classes the scheme must stop.
    max_rounds
        Verification rounds (cut, apply, re-assess) before giving up.
    """

    cost_per_m: Mapping[float, float]
    margin_m: float
    placement_m: float
    distance_weight: float
    horizon_m: float
    max_reach_m: float
    default_width_m: float
    classes: tuple[str, ...]
    max_rounds: int

    @classmethod
    def from_toml(cls, path: str | Path | None = None) -> ProtectParams:
        """The packaged defaults, or a user file of the same layout.

        Raises
        ------
        ParameterError
            Missing keys, or costs and sizes that are not finite and positive.
        """
        data, label = read_toml(path, "protect.toml")
        try:
            costs = {float(k): float(v) for k, v in data["cost_per_m"].items()}
            params = cls(
                cost_per_m=MappingProxyType(dict(sorted(costs.items()))),
                margin_m=float(data["margin_m"]),
                placement_m=float(data["placement_m"]),
                distance_weight=float(data["distance_weight"]),
                horizon_m=float(data["horizon_m"]),
                max_reach_m=float(data["max_reach_m"]),
                default_width_m=float(data["default_width_m"]),
                classes=tuple(str(c) for c in data["classes"]),
                max_rounds=int(data["max_rounds"]),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ParameterError(
                f"{label}: {exc!r}; lay it out like cohesion_gis/defaults/protect.toml"
            ) from exc
        values = [
            *costs.values(),
            params.margin_m,
            params.placement_m,
            params.distance_weight,
            params.default_width_m,
        ]
        if not all(math.isfinite(v) and v >= 0 for v in values) or params.default_width_m <= 0:
            raise ParameterError(f"{label}: costs and widths must be finite and positive")
        if not 1 <= params.max_rounds <= 20 or not params.classes:
            raise ParameterError(f"{label}: max_rounds must be 1-20 and classes not empty")
        return params


@dataclass(frozen=True)
class Protection:
    """The result of :func:`protect`.

    Attributes
    ----------
    site
        The site's row of the assessment (``site_id, name, ...``).
    lines
        One row per barrier line: ``line_id, length_m, width_m, standoff_m, cost_units``,
        ``speed_kmh_<class>`` and ``rating_<class>`` (the rating string asked of the line),
        ``requirement`` (plain words), ``form`` (suggested product) and geometry (City CRS).
    scenario
        The scheme as a scenario (one ``add_barrier`` per line and class).
    comparison
        The verification: :func:`cohesion_gis.compare` of the scheme with the base.
    open_before, open_after
        Open approaches to the site (any class asked) before and after the scheme.
    rounds
        Cut-and-verify rounds run.
    note
        Plain-language outcome (protected, or what is left and why).
    """

    site: pd.Series
    lines: gpd.GeoDataFrame
    scenario: Scenario
    comparison: Any
    open_before: int
    open_after: int
    rounds: int
    note: str


# --- finding the site and its threats ------------------------------------------------------


def _find_site(sites: pd.DataFrame, site: str) -> pd.Series:
    ids = sites["site_id"].astype(str)
    names = sites["name"].fillna("").astype(str)
    hit = sites.loc[(ids == site) | (names.str.casefold() == site.casefold())]
    if hit.empty:
        hit = sites.loc[names.str.casefold().str.startswith(site.casefold())]
    if hit.empty:
        close = difflib.get_close_matches(site, sorted(set(names) - {""}), n=3)
        hint = f"; close names: {', '.join(close)}" if close else ""
        raise InputError(
            f"no soft-target site named or with id {site!r}{hint}; list them with "
            "`cohesion-gis hvm` (hvm_sites.csv, columns site_id and name)"
        )
    return hit.sort_values("rank", kind="stable").iloc[0]


def _open(approaches: gpd.GeoDataFrame, site_id: str, classes: Sequence[str]) -> gpd.GeoDataFrame:
    """Approaches that reach the site moving with no line holding them (the assessment's rule).

    As :func:`cohesion_gis.hvm.assess.assess_sites` counts ``open_approaches``: an impact speed
    above 0 and no barrier in ``protected_by``. (``blocked_by`` names barriers the *reported*
    route avoided, so a route listed there may still arrive.)
    """
    mine = approaches.loc[
        (approaches["site_id"] == site_id)
        & approaches["vehicle_class"].isin(classes)
        & approaches.geometry.notna()
    ]
    held = mine["protected_by"].fillna("").astype(str).str.len() > 0
    moving = mine["impact_speed_kmh"].fillna(0).to_numpy(dtype=float) > 0
    return mine.loc[~held.to_numpy() & moving]


# --- the cut -------------------------------------------------------------------------------


def _key(xy: tuple[float, float]) -> tuple[float, float]:
    return (round(xy[0], 2), round(xy[1], 2))


#: A route segment's key: its two end nodes, (x, y) or ("entry", (x, y)) at an entry; the
#: cut's tables key (segment key, class).
_Key = tuple[Any, ...]


@dataclass
class _Segment:
    """One route segment (shared by every route that uses it)."""

    start: tuple[float, float]
    end: tuple[float, float]
    to_entry_m: float

    @property
    def length_m(self) -> float:
        return math.hypot(self.end[0] - self.start[0], self.end[1] - self.start[1])

    def offset_m(self, placement_m: float) -> float:
        """Where a line goes: ``placement_m`` past the upstream end, or mid-segment if shorter."""
        return min(placement_m, self.length_m / 2)


def line_speed_kmh(v0_kmh: float, v1_kmh: float, length_m: float, offset_m: float) -> float:
    r"""Top speed (km/h) a route reaches at a line ``offset_m`` into a segment.

    Between two vertices the model accelerates or brakes uniformly, so
    :math:`v(d)^2 = v_0^2 + (v_1^2 - v_0^2)\, d / L`; when braking the fastest point before the
    line is the segment's start, :math:`v_0`.
    """
    if v1_kmh <= v0_kmh or length_m <= 0:
        return v0_kmh
    return math.sqrt(v0_kmh**2 + (v1_kmh**2 - v0_kmh**2) * min(offset_m / length_m, 1.0))


@dataclass(frozen=True)
class _Route:
    """One open approach: its class, its segments in order and its speed at a line on each."""

    vehicle_class: str
    segments: tuple[_Key, ...]
    speeds_kmh: tuple[float, ...]


def _add_routes(
    pool: dict[_Key, _Segment], routes: list[_Route], found: gpd.GeoDataFrame, placement_m: float
) -> None:
    """Add the approaches' segments to ``pool`` (keyed by end points) and the routes to ``routes``.

    A route's last vertex is its entry, a node of its own (``("entry", xy)``), so a vehicle that
    starts at one entry and drives to another still crosses a segment that can hold a line.
    """
    for row in found.itertuples():
        coords = [_key(c) for c in row.geometry.coords]
        speeds = [float(s) for s in str(row.speeds_kmh).split()]
        lengths = np.hypot(*np.diff(np.asarray(coords), axis=0).T)
        remaining = np.concatenate([np.cumsum(lengths[::-1])[::-1], [0.0]])
        nodes: list[Any] = [*coords[:-1], ("entry", coords[-1])]
        keys, at_line = [], []
        for i in range(len(coords) - 1):
            if coords[i] == coords[i + 1]:
                continue
            key = (nodes[i], nodes[i + 1])
            seg = pool.setdefault(key, _Segment(coords[i], coords[i + 1], float(remaining[i])))
            keys.append(key)
            at_line.append(
                line_speed_kmh(speeds[i], speeds[i + 1], seg.length_m, seg.offset_m(placement_m))
            )
        route = _Route(str(row.vehicle_class), tuple(keys), tuple(at_line))
        if keys and route not in routes:
            routes.append(route)


def _widths(city: City, pool: Mapping[_Key, _Segment], default_m: float) -> dict[_Key, float]:
    """Carriageway width (m) of the drive edge nearest each segment's midpoint."""
    keys = list(pool)
    mids = gpd.GeoDataFrame(
        geometry=[
            shapely.Point(
                (pool[k].start[0] + pool[k].end[0]) / 2, (pool[k].start[1] + pool[k].end[1]) / 2
            )
            for k in keys
        ],
        crs=city.crs,
    )
    edges = city.drive_edges[["geometry"]].assign(width_m=city.drive_edges.get("width_m", np.nan))
    near = gpd.sjoin_nearest(mids, edges, how="left")
    near = near[~near.index.duplicated(keep="first")]
    width = near["width_m"].reindex(mids.index).fillna(default_m).to_numpy(dtype=float)
    return dict(zip(keys, np.where(width > 0, width, default_m), strict=True))


@dataclass(frozen=True)
class _Span:
    """Where a line across a segment stands and how far it reaches on each side (m)."""

    x: float
    y: float
    normal: tuple[float, float]
    left_m: float
    right_m: float
    open_ends: int

    @property
    def length_m(self) -> float:
        return self.left_m + self.right_m


def _spans(
    city: City, pool: Mapping[_Key, _Segment], widths: Mapping[_Key, float], params: ProtectParams
) -> dict[_Key, _Span]:
    """Each candidate line from façade to façade.

    Out from the centreline on both sides to the first building within ``max_reach_m``, at least
    to the kerb plus the margin; an end with no building in reach stops at ``max_reach_m`` and
    counts as open (a car could drive round it).
    """
    keys = list(pool)
    origins, normals = [], []
    for key in keys:
        seg = pool[key]
        (x0, y0), (x1, y1) = seg.start, seg.end
        length = seg.length_m or 1.0
        share = seg.offset_m(params.placement_m) / length
        origins.append((x0 + (x1 - x0) * share, y0 + (y1 - y0) * share))
        normals.append((-(y1 - y0) / length, (x1 - x0) / length))
    reach = params.max_reach_m
    found = np.full((len(keys), 2), np.inf)
    buildings = city.buildings.geometry.to_numpy() if len(city.buildings) else np.empty(0)
    if keys and len(buildings):
        pts = np.asarray(origins)
        nrm = np.asarray(normals)
        tree = shapely.STRtree(buildings)
        for side, sign in enumerate((-1.0, 1.0)):
            rays = shapely.linestrings(np.stack([pts, pts + sign * reach * nrm], axis=1))
            ray_i, b_i = tree.query(rays, predicate="intersects")
            if ray_i.size:
                hits = shapely.intersection(rays[ray_i], buildings[b_i])
                dist = shapely.distance(shapely.points(pts[ray_i]), hits)
                np.minimum.at(found[:, side], ray_i, dist)
    spans = {}
    for i, key in enumerate(keys):
        kerb = widths[key] / 2 + params.margin_m
        sides = [max(kerb, d) if np.isfinite(d) else max(kerb, reach) for d in found[i]]
        spans[key] = _Span(
            *origins[i], normals[i], sides[0], sides[1], int((~np.isfinite(found[i])).sum())
        )
    return spans


def _requirement(speed_kmh: float, vehicle_class: str, standoff_m: float, hvm_params: Any) -> Any:
    from cohesion_gis.hvm import required_rating

    return required_rating(speed_kmh, vehicle_class, standoff_m=standoff_m, params=hvm_params)


def _cost(need: Any, length_m: float, standoff_m: float, params: ProtectParams) -> float:
    """Cost units of a line ``length_m`` long meeting ``need`` (inf: no tested product can).

    A line further from the site closes more of the city to traffic and protects a larger,
    emptier area, so its cost grows by ``distance_weight`` per 100 m of stand-off.
    """
    if (
        need.exceeds_test_speeds
        or need.test_speed_kmh is None
        or need.test_speed_kmh > max(params.cost_per_m) + 1e-6
    ):
        return math.inf
    per_m = next(
        (c for s, c in params.cost_per_m.items() if s >= need.test_speed_kmh - 1e-6), math.inf
    )
    spread = 1.0 + params.distance_weight * max(standoff_m, 0.0) / 100.0
    return per_m * length_m * spread


@dataclass(frozen=True)
class _Cut:
    """The chosen lines per class, the requirement each meets, and the routes no line can stop."""

    needs: Mapping[_Key, Any]  # (segment key, class) -> RatingRequirement
    costs: Mapping[_Key, float]
    unstoppable: tuple[_Route, ...]


def _cut(
    city: City,
    pool: Mapping[_Key, _Segment],
    routes: Sequence[_Route],
    params: ProtectParams,
    hvm_params: Any,
) -> _Cut:
    """The cheapest lines that every route crosses at least once (a weighted hitting set).

    A candidate line is a (segment, class) slot: it must stop that class at the fastest speed
    any of the class's routes reaches there (so it holds whatever else the scheme does), and
    costs :func:`_cost`. Slots no tested product could hold are left out; a route with none left
    is reported as unstoppable. The choice is exact, by a mixed-integer program (HiGHS through
    :func:`scipy.optimize.milp`): minimise the summed cost subject to every route crossing a
    chosen slot.
    """
    from scipy.optimize import Bounds, LinearConstraint, milp
    from scipy.sparse import csr_array

    spans = _spans(city, pool, _widths(city, pool, params.default_width_m), params)
    fastest: dict[_Key, float] = {}
    for route in routes:
        for key, speed in zip(route.segments, route.speeds_kmh, strict=True):
            slot = (key, route.vehicle_class)
            fastest[slot] = max(fastest.get(slot, 0.0), speed)
    needs, costs = {}, {}
    for (key, cls), speed in fastest.items():
        standoff = pool[key].to_entry_m - pool[key].offset_m(params.placement_m)
        need = _requirement(speed, cls, standoff, hvm_params)
        cost = _cost(need, spans[key].length_m, standoff, params)
        if math.isfinite(cost):
            needs[key, cls], costs[key, cls] = need, cost
    slots = sorted(costs, key=str)
    index = {slot: i for i, slot in enumerate(slots)}
    matrix_rows: list[int] = []
    matrix_cols: list[int] = []
    unstoppable = []
    for route in routes:
        cls = route.vehicle_class
        hits = sorted({index[k, cls] for k in route.segments if (k, cls) in index})
        if not hits:
            unstoppable.append(route)
            continue
        matrix_cols += hits
        matrix_rows += [len(set(matrix_rows))] * len(hits)
    n_rows = len(set(matrix_rows))
    if not slots or n_rows == 0:
        return _Cut({}, {}, tuple(unstoppable))
    cover = csr_array(
        (np.ones(len(matrix_rows)), (matrix_rows, matrix_cols)), shape=(n_rows, len(slots))
    )
    solution = milp(
        np.array([costs[s] for s in slots]),
        constraints=LinearConstraint(cover, lb=1),
        integrality=np.ones(len(slots)),
        bounds=Bounds(0, 1),
    )
    chosen = (
        [slots[i] for i in np.flatnonzero(np.round(solution.x) > 0)] if solution.success else []
    )
    return _Cut({s: needs[s] for s in chosen}, {s: costs[s] for s in chosen}, tuple(unstoppable))


# --- lines and the scenario ----------------------------------------------------------------


def _line(span: _Span) -> LineString:
    """The line across the street, from façade to façade (see :func:`_spans`)."""
    nx_, ny_ = span.normal
    return LineString([
        (span.x - nx_ * span.left_m, span.y - ny_ * span.left_m),
        (span.x + nx_ * span.right_m, span.y + ny_ * span.right_m),
    ])  # fmt: skip


#: Longest penetration (m) a designed line asks for: ISO 22343-1 classifies penetration up to
#: 25 m (reference hvm.md §2 [V]); a larger stand-off is not needed and not tested.
MAX_PENETRATION_M = 25.0


def _rating(need: Any) -> str:
    """The rating string asked of a line: head-on test, penetration within the stand-off."""
    standoff = min(need.max_penetration_m or 0.0, MAX_PENETRATION_M)
    pen = max(0.0, math.floor(standoff * 10) / 10)
    return f"V/{need.mass_kg:.0f}[{need.vehicle_class}]/{need.test_speed_kmh:.0f}/90:{pen:.1f}"


def _form(needs: Mapping[str, Any]) -> str:
    """A suggested product for the line (NPSA's palette of integrated measures)."""
    top = max((n.test_speed_kmh or 0 for n in needs.values()), default=0)
    heavy = max((n.mass_kg for n in needs.values()), default=0) >= 3500
    if top <= 32 and not heavy:
        return "rated street furniture or planters (benches, cycle stands) at ≤ 1.2 m gaps"
    if top <= 48:
        return "rated planters or bollards at ≤ 1.2 m gaps, in the street's paving palette"
    return (
        "rated bollards on a shallow foundation at ≤ 1.2 m gaps; an active (retractable) "
        "bollard where service or emergency access must stay"
    )


def _lines(
    city: City, cut: _Cut | None, pool: Mapping[_Key, _Segment], params: ProtectParams
) -> gpd.GeoDataFrame:
    """One physical line per cut segment, with the rating asked for each class it stops."""
    by_segment: dict[_Key, dict[str, Any]] = {}
    if cut is not None:
        for (key, cls), need in cut.needs.items():
            by_segment.setdefault(key, {})[cls] = need
    chosen = {k: pool[k] for k in by_segment}
    widths = _widths(city, chosen, params.default_width_m)
    spans = _spans(city, chosen, widths, params)
    rows = []
    for i, key in enumerate(sorted(by_segment, key=str)):
        seg, needs, width, span = pool[key], by_segment[key], widths[key], spans[key]
        row: dict[str, Any] = {
            "line_id": f"protect/{i}",
            "length_m": span.length_m,
            "width_m": width,
            "open_ends": span.open_ends,
            "standoff_m": seg.to_entry_m - seg.offset_m(params.placement_m),
            "cost_units": sum(cut.costs[key, cls] for cls in needs) if cut else 0.0,
        }
        for cls in params.classes:
            need = needs.get(cls)
            row[f"speed_kmh_{cls}"] = round(need.impact_speed_kmh, 1) if need else 0.0
            row[f"rating_{cls}"] = _rating(need) if need else ""
        row["requirement"] = "; ".join(needs[c].text for c in sorted(needs))
        row["form"] = _form(needs)
        row["geometry"] = _line(span)
        rows.append(row)
    columns = ["line_id", "length_m", "width_m", "open_ends", "standoff_m", "cost_units",
               "requirement", "form", "geometry"]  # fmt: skip
    if not rows:
        return gpd.GeoDataFrame(columns=columns, geometry="geometry", crs=city.crs)
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=city.crs)


def _scheme(
    city: City, site: pd.Series, lines: gpd.GeoDataFrame, classes: Sequence[str]
) -> Scenario:
    wgs = lines.to_crs(4326)
    interventions: list[Intervention] = []
    for line, shape in zip(lines.itertuples(), wgs.geometry, strict=True):
        for cls in classes:
            rating = getattr(line, f"rating_{cls}", "")
            if not rating:
                continue
            interventions.append(
                Intervention(
                    len(interventions),
                    "add_barrier",
                    MappingProxyType({
                        "geometry": shape.wkt,
                        "rating": rating,
                        "kind": "bollard",
                        "name": f"{site['name']}: line {line.line_id} ({cls})",
                        "barrier_id": f"{line.line_id}:{cls}",
                    }),
                    shape,
                )
            )  # fmt: skip
    return Scenario(
        name=f"protect_{''.join(c if c.isalnum() else '_' for c in str(site['site_id']))}",
        description=(
            f"Designed barrier scheme for {site['name']}: {len(lines)} rated lines across the "
            f"approach streets (classes {', '.join(classes)}), by cohesion-gis protect."
        ),
        base=base_spec(city),
        interventions=tuple(interventions),
    )


# --- the loop ------------------------------------------------------------------------------


def protect(
    city: City,
    site: str,
    *,
    classes: Sequence[str] | None = None,
    params: ProtectParams | None = None,
    hvm_params: Any = None,
) -> Protection:
    """Design and verify the cheapest barrier scheme that stops every approach to ``site``.

    Parameters
    ----------
    city
        The study area.
    site
        Site name (case-insensitive; a unique prefix is enough) or ``site_id``.
    classes
        Vehicle classes to stop; default ``params.classes``.
    params
        Costs and geometry; packaged defaults when None.
    hvm_params
        HVM parameters (packaged defaults when None).

    Returns
    -------
    Protection
        ``open_after == 0`` when the verified scheme leaves no approach open.

    Raises
    ------
    InputError
        No site matches ``site``.
    """
    from cohesion_gis.comparison import analyse, compare

    params = params or ProtectParams.from_toml()
    classes = tuple(classes or params.classes)
    if classes != params.classes:
        params = replace(params, classes=classes)
    from cohesion_gis.hvm.params import load_params

    hvm_params = hvm_params or load_params()
    hvm_params = replace(
        hvm_params, search_horizon_m=max(hvm_params.search_horizon_m, params.horizon_m)
    )
    design = replace(hvm_params, test_speeds_kmh=tuple(params.cost_per_m))
    base = analyse(city, hvm_params=hvm_params)
    if base.hvm is None:
        raise InputError(f"the HVM assessment is not available ({base.hvm_note})")
    row = _find_site(base.hvm.sites, site)
    site_id = str(row["site_id"])
    threats = _open(base.hvm.approaches, site_id, classes)
    open_before = len(threats)
    pool: dict[_Key, _Segment] = {}
    routes: list[_Route] = []
    lines = _lines(city, None, pool, params)
    scheme = _scheme(city, row, lines, classes)
    comparison, rounds, open_after, unstoppable = None, 0, open_before, 0
    while open_after and rounds < params.max_rounds:
        known = len(routes)
        _add_routes(pool, routes, threats, params.placement_m)
        if rounds and len(routes) == known:
            break  # what is still open was already in the cut: no line can stop it
        rounds += 1
        cut = _cut(city, pool, routes, params, design)
        unstoppable = len(cut.unstoppable)
        if not cut.needs:
            break
        lines = _lines(city, cut, pool, params)
        scheme = _scheme(city, row, lines, classes)
        comparison = compare(city, scheme, base=base, hvm_params=hvm_params)
        after = comparison.after.hvm
        if after is None:  # compare assesses the sites unless told not to
            raise RuntimeError("protect: the comparison ran no HVM assessment")
        threats = _open(after.approaches, site_id, classes)
        open_after = len(threats)
        log.info("protect %s round %d: %d lines, %d approaches open", row["name"], rounds,
                 len(lines), open_after)  # fmt: skip
    note = _note(row, lines, open_before, open_after, rounds=rounds, unstoppable=unstoppable)
    return Protection(row, lines, scheme, comparison, open_before, open_after, rounds, note)


def _note(
    row: pd.Series, lines: gpd.GeoDataFrame, before: int, after: int, *, rounds: int,
    unstoppable: int,
) -> str:  # fmt: skip
    name = row["name"]
    if before == 0:
        return f"{name}: no open vehicle approach; nothing to protect"
    if after == 0:
        return (
            f"{name}: {len(lines)} rated lines stop all {before} open approaches "
            f"(verified by re-running the assessment; {rounds} round(s))"
        )
    why = (
        f"; {unstoppable} approach(es) are faster than any test speed covers all along their "
        "route: slow them first (traffic calming, a bend, a narrowing)"
        if unstoppable
        else ""
    )
    return (
        f"{name}: partial scheme: {len(lines)} rated lines; {after} of {before} approaches "
        f"still open after {rounds} round(s){why}"
    )


def write_protection(
    result: Protection, city: City, out_dir: str | Path, *, overwrite: bool = False
) -> dict[str, Path]:
    """Write the scheme: scenario TOML, lines (GeoPackage and CSV) and a summary JSON.

    The files are written together: a staging folder replaces ``out_dir`` whole (a folder
    holding anything but an earlier scheme of the same site is refused).

    Returns
    -------
    dict
        Output name → path.
    """
    from cohesion_gis._atomic import check_run_folder, staged_folder

    stem = result.scenario.name
    check_run_folder(out_dir, protect_outputs(stem), overwrite=overwrite)
    with staged_folder(out_dir) as stage:
        written = _write_scheme(result, city, stage)
    return {name: Path(out_dir) / path.relative_to(stage) for name, path in written.items()}


def protect_outputs(stem: str) -> tuple[str, ...]:
    """The names :func:`write_protection` writes for a scheme named ``stem``."""
    return (f"{stem}.toml", f"{stem}_lines.csv", f"{stem}.gpkg", f"{stem}.provenance.json",
            f"{stem}.json")  # fmt: skip


def _write_scheme(result: Protection, city: City, out: Path) -> dict[str, Path]:
    from cohesion_gis.export import write_csv, write_geopackage, write_json
    from cohesion_gis.scenario.write import write_scenario

    """Every output of :func:`write_protection`, into the (staging) folder ``out``."""
    stem = result.scenario.name
    header = f"Barrier scheme by cohesion-gis protect. {result.note}."
    paths = {
        "scenario": write_scenario(result.scenario, out / f"{stem}.toml", header=header),
        "lines_csv": write_csv(result.lines, out / f"{stem}_lines.csv", geometry=True),
        "lines": write_geopackage({"barrier_lines": result.lines}, out / f"{stem}.gpkg",
                                  metadata=city.provenance.as_dict()),
    }  # fmt: skip
    summary: dict[str, Any] = {
        "site_id": str(result.site["site_id"]),
        "site": str(result.site["name"]),
        "note": result.note,
        "lines": len(result.lines),
        "total_length_m": float(result.lines["length_m"].sum()) if len(result.lines) else 0.0,
        "cost_units": float(result.lines["cost_units"].sum()) if len(result.lines) else 0.0,
        "open_approaches_before": result.open_before,
        "open_approaches_after": result.open_after,
        "rounds": result.rounds,
    }
    if result.comparison is not None:
        homes = result.comparison.homes
        summary["homes_losing_access"] = int((homes["access_delta"] < -1e-9).sum())
        summary["largest_severance_change"] = float(homes["severance_delta"].abs().max())
        summary["comparison_summary"] = list(result.comparison.summary)
    summary["provenance"] = city.provenance.as_dict()
    summary["assumptions"] = list(ASSUMPTIONS)
    paths["summary"] = write_json(summary, out / f"{stem}.json")
    return paths
