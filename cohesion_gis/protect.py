r"""Designed barrier schemes: the cheapest lines and closures that stop every approach to a site.

:func:`protect` turns a site's vehicle dynamics assessment into a scheme:

1. the open approaches to the site (every class asked for) are taken from
   :func:`cohesion_gis.hvm.assess.assess_sites`: routes from where a vehicle can start to the
   site's entries, with the speed the vehicle reaches at every vertex;
2. every route segment within ``max_standoff_m`` of the entry may hold a line across the street
   a few metres past its upstream vertex (where vehicles are slowest, :func:`line_speed_kmh`); a
   (segment, class) slot must stop that class at the fastest speed any of its routes reaches
   there, rated by :func:`cohesion_gis.hvm.required_rating` (head-on, penetration within the
   stand-off), takes the lightest :class:`Form` tested for it, and costs

   .. math:: c = u(v^{test}) \,\ell\,(1 + i_{form})\,(1 + \lambda\, s / 100)

   with :math:`u` a relative cost per metre rising with the test speed, :math:`\ell` the line's
   length (façade to façade), :math:`i` the form's intrusiveness, :math:`s` the stand-off (m)
   and :math:`\lambda` the distance weight; a street every class drives along slowly may instead
   be closed with landscaping (:func:`closure_cost`), and an entry may take a continuous
   kerbside line between it and the crowd, rated for the fastest non-glancing impact of the
   VDA's envelope (what ``hvm.impact.kerbside_cover`` credits: the only hold on a vehicle running
   along the site too fast for any test); slots no tested product covers are left out;
3. the cheapest set of slots that every route crosses at least once (a weighted hitting set,
   solved exactly as a 0/1 integer programme by HiGHS) becomes the scheme, one physical line per
   segment with a rating per class;
4. the scheme is **verified**: applied as a scenario (``add_barrier`` per line and class,
   ``close_road`` per closure) and the site searched again on the scheme's whole network (its
   rows of a full VDA); any approach still open (a new route round the lines, or one faster than
   a line's rating) joins the threats and the choice is solved again, until none is open or
   ``max_rounds`` is reached. The final scheme is compared with the base
   (:func:`cohesion_gis.compare`): the full VDA of every site (or of the site only) and the
   cohesion engine: lines are pedestrian-permeable (gaps of at most 1.2 m) and closures keep
   walkers, so no home may lose walking access, and the comparison says so.

The costs are relative units, not money: they rank layouts, they do not price them. A line
across a street closes it to vehicles; where access must stay (deliveries, emergency services),
the bollard form suggests an active (retractable) barrier with the same rating. Method, every
rule and cost with its source, Helsinki results and limits: ``docs/protect.md``.

References
----------
NPSA (2023). *Hostile Vehicle Mitigation: guidance* (vehicle dynamics assessment, stand-off,
integration with the streetscape). DfT Traffic Advisory Leaflet 01/11 (pedestrian gaps ≤ 1.2 m).
Huangfu, Q. & Hall, J. A. J. (2018). Parallelizing the dual revised simplex method. *Math. Prog.
Comp.* 10, 119-142 (HiGHS, behind :func:`scipy.optimize.milp`).
"""

from __future__ import annotations

import logging
import math
import textwrap
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, ClassVar

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import shapely.ops
from shapely.geometry import LineString

from cohesion_gis._validate import (
    Bound,
    is_number,
    number_problem,
    raise_problems,
    strings_problem,
)
from cohesion_gis.errors import InputError, ParameterError, ScenarioError
from cohesion_gis.hvm.rating import ISO_MAX_PENETRATION_M
from cohesion_gis.hvm.vehicles import MAX_TEST_MASS_KG
from cohesion_gis.params import FIX_FILE, load_params
from cohesion_gis.scenario import Intervention, Scenario, apply
from cohesion_gis.scenario.write import base_spec

if TYPE_CHECKING:
    from cohesion_gis.city import City
    from cohesion_gis.comparison import Comparison

__all__ = [
    "PAGE_NAMES",
    "Closure",
    "Form",
    "ProtectParams",
    "Protection",
    "closure_cost",
    "line_speed_kmh",
    "protect",
    "rating_words",
    "scheme_figure",
    "scheme_html",
    "write_protection",
]

log = logging.getLogger(__name__)

#: What a scheme assumes, written beside it for the client (see ``docs/decisions.md``).
ASSUMPTIONS = (
    "no hostile vehicle starts inside the ring of lines (parked cars, garages, deliveries and "
    "service access inside it need their own management plan or active barriers)",
    "a line is built from façade to façade or tied to the nearest building, level change or water "
    "(ties stand on the City's mapped buildings, walls, steps and water); an end marked open must "
    "be continued on site to something a vehicle cannot pass, or a car drives round it",
    "speeds come from the assessment's model (flat ground unless a DEM is given; run-up horizon "
    "as stated) and each line is rated head-on for the fastest class that reaches it",
    "costs are relative units for ranking layouts, not prices",
)


@dataclass(frozen=True)
class Form:
    """A built form a rated line can take (``[forms.<name>]`` of ``defaults/protect.toml``).

    Attributes
    ----------
    name
        Key in the TOML (``street_furniture``, ``planters``, ``bollards``).
    label
        The form in plain words, for the table and the map.
    max_test_speed_kmh, max_mass_kg
        The fastest test speed (km/h) and heaviest test vehicle (kg) products of this form are
        tested with: a line asking more takes the next form.
    intrusiveness
        Penalty on the cost (0: none), for hardware a walker notices.
    """

    name: str
    label: str
    max_test_speed_kmh: float
    max_mass_kg: float
    intrusiveness: float


@dataclass(frozen=True)
class Closure:
    """A street closure with landscaping (``[closure]`` of ``defaults/protect.toml``).

    Attributes
    ----------
    label
        The form in plain words.
    depth_m
        Length of street (m) built over with planting, trees and seating, kerb to kerb.
    cost_per_m2
        Relative cost per m² of carriageway built over (units of ``cost_per_m``).
    max_speed_kmh
        Offered only where every class arrives at most this fast (km/h).
    intrusiveness
        Penalty on the cost (0: none).
    """

    label: str
    depth_m: float
    cost_per_m2: float
    max_speed_kmh: float
    intrusiveness: float


@dataclass(frozen=True)
class ChicaneCost:
    """What a designed chicane costs (``[chicane]`` of ``defaults/protect.toml``).

    Attributes
    ----------
    label
        Plain words for the summary.
    works_units
        Kerb build-outs, drainage and resurfacing of one chicane (units).
    structure_cost_per_m
        A structural build-out (building line, retaining wall, berm) per metre (units/m), where
        the arrival speed is beyond every tested product.
    intrusiveness
        Penalty on the cost (0: none).
    """

    label: str
    works_units: float
    structure_cost_per_m: float
    intrusiveness: float


@dataclass(frozen=True)
class ProtectParams:
    """Costs and geometry of designed barrier schemes (``defaults/protect.toml``).

    Attributes
    ----------
    cost_per_m
        Relative cost per metre of line by test speed (km/h → units), one entry per test speed.
    margin_m
        How far a line reaches beyond each kerb (m).
    distance_weight
        Extra cost per 100 m of stand-off from the site (0: distance is free).
    max_standoff_m
        Lines and closures stand at most this far (m, along the route) from the site's entry:
        any street node may be a start, so only a compact ring of lines closes the site off.
    ring_m
        When no line near the site can stop an approach, the site is closed off by a ring of
        lines (:func:`_ring`) on streets within this distance (m, along the network).
    horizon_m
        Run-up search horizon (m) of the threat search and of the verification (at least the
        assessment's own): long enough for every class to reach its top speed.
    max_reach_m
        A line runs from façade to façade; this far (m) from the street's centreline on each
        side without meeting a building, level change or water, its end is tied or open.
    tie_reach_m
        An end with no obstacle straight ahead in ``max_reach_m`` is continued from its kerb
        end to the nearest obstacle within this distance (m); beyond, it is reported open.
    tie_crosses
        OSM ``highway`` values of the access ways a tie may cross (and so close too); no tie
        crosses any other street.
    placement_m
        A line stands this far past the upstream end of its segment (or mid-segment if shorter),
        where vehicles are slowest.
    closure_streets
        OSM ``highway`` values of the minor streets the ring may close with landscaping;
        through routes keep their traffic (a rated line across them, active where it must open).
    default_width_m
        Carriageway width (m) where the street has none.
    classes
        Vehicle classes the scheme must stop.
    max_rounds
        Design-and-verify rounds before the scheme is reported partial.
    gap_m
        Largest gap (m) between the elements of a line: walkers pass, vehicles do not.
    forms
        The forms a rated line can take, lightest first.
    closure
        The street closure with landscaping.
    chicane
        The chicane the ring may place before a street no product holds.
    """

    cost_per_m: Mapping[float, float]
    margin_m: float
    placement_m: float
    distance_weight: float
    max_standoff_m: float
    ring_m: float
    horizon_m: float
    max_reach_m: float
    tie_reach_m: float
    tie_crosses: tuple[str, ...]
    closure_streets: tuple[str, ...]
    default_width_m: float
    classes: tuple[str, ...]
    max_rounds: int
    gap_m: float
    forms: tuple[Form, ...]
    closure: Closure
    chicane: ChicaneCost

    PACKAGED: ClassVar[str] = "protect.toml"
    OPEN_TABLES: ClassVar[tuple[str, ...]] = ("cost_per_m", "forms")

    @classmethod
    def from_table(cls, table: Mapping[str, Any], label: str, problems: list[str]) -> ProtectParams:
        """Build from a full ``protect.toml`` table (see :func:`cohesion_gis.params.load_params`).

        Raises
        ------
        ParameterError
            ``problems`` and every mistyped, non-finite or out-of-range value, in one message.
        """
        problems = list(problems)
        problems += [p for k, b in _PROTECT_BOUNDS.items() if (p := number_problem(k, table[k], b))]
        costs = {}
        for speed, cost in table["cost_per_m"].items():
            field = f"cost_per_m.{speed}"
            if not is_number(_speed(speed)) or not _TEST_SPEED.holds(_speed(speed)):
                problems.append(
                    f"field `{field}`: the key must be a test speed, {_TEST_SPEED.expected()}"
                )
            elif p := number_problem(field, cost, _COST):
                problems.append(p)
            else:
                costs[_speed(speed)] = float(cost)
        for key in ("tie_crosses", "closure_streets"):
            if p := strings_problem(key, table[key]):
                problems.append(p)
        if p := strings_problem("classes", table["classes"]):
            problems.append(p)
        elif not table["classes"]:
            problems.append("field `classes` = []; expected at least one vehicle class")
        forms = []
        for name, entry in table["forms"].items():
            more = _entry_problems(f"forms.{name}", entry, _FORM_BOUNDS)
            problems += more
            if not more:
                numbers = {k: float(entry[k]) for k in _FORM_BOUNDS}
                forms.append(Form(str(name), entry["label"], **numbers))
        if not table["forms"]:
            problems.append("field `forms` is empty; expected at least one [forms.<name>]")
        closure = table["closure"]
        problems += _entry_problems("closure", closure, _CLOSURE_BOUNDS)
        chicane = table["chicane"]
        problems += _entry_problems("chicane", chicane, _CHICANE_BOUNDS)
        raise_problems(ParameterError, label, problems, FIX_FILE)
        forms.sort(key=lambda f: (f.max_test_speed_kmh, f.max_mass_kg))
        return cls(
            cost_per_m=MappingProxyType(dict(sorted(costs.items()))),
            **{k: float(table[k]) for k in _PROTECT_BOUNDS if k != "max_rounds"},
            classes=tuple(table["classes"]),
            tie_crosses=tuple(table["tie_crosses"]),
            closure_streets=tuple(table["closure_streets"]),
            max_rounds=int(table["max_rounds"]),
            forms=tuple(forms),
            closure=Closure(closure["label"], **{k: float(closure[k]) for k in _CLOSURE_BOUNDS}),
            chicane=ChicaneCost(
                chicane["label"], **{k: float(chicane[k]) for k in _CHICANE_BOUNDS}
            ),
        )


def _speed(key: Any) -> Any:
    """A ``cost_per_m`` key as a speed (km/h), or the key as read if it is not a number."""
    try:
        return float(key)
    except (TypeError, ValueError):
        return key


def _entry_problems(where: str, entry: Any, bounds: Mapping[str, Bound]) -> list[str]:
    """The problems of a ``[forms.<name>]`` or ``[closure]`` table: a label and its numbers."""
    if not isinstance(entry, Mapping):
        return [f"field `{where}` = {entry!r}; expected a table ([{where}])"]
    problems = [f"[{where}] needs {key}" for key in ("label", *bounds) if key not in entry]
    unknown = sorted(set(entry) - {"label", *bounds})
    if unknown:
        problems.append(f"unknown key(s) {unknown} in [{where}]")
    if "label" in entry and not isinstance(entry["label"], str):
        problems.append(f"field `{where}.label` = {entry['label']!r}; expected a string")
    return problems + [
        p
        for key, bound in bounds.items()
        if key in entry and (p := number_problem(f"{where}.{key}", entry[key], bound))
    ]


#: Bounds of the scheme parameters (reasons in docs/decisions.md, "Method").
_PROTECT_BOUNDS = {
    "margin_m": Bound(0.0, 10.0, "m"),
    "placement_m": Bound(0.0, 100.0, "m"),
    "distance_weight": Bound(0.0, 100.0),
    "max_standoff_m": Bound(0.0, 5000.0, "m", above=True),  # within the horizon
    "ring_m": Bound(0.0, 5000.0, "m"),
    "horizon_m": Bound(0.0, 5000.0, "m", above=True),  # as hvm.toml search_horizon_m
    "max_reach_m": Bound(0.0, 200.0, "m", above=True),
    "tie_reach_m": Bound(0.0, 500.0, "m"),
    "default_width_m": Bound(0.0, 50.0, "m", above=True),
    "gap_m": Bound(0.0, 1.2, "m (DfT Traffic Advisory Leaflet 01/11)", above=True),
    "max_rounds": Bound(1, 20, integer=True),
}
_TEST_SPEED = Bound(0.0, 200.0, "km/h", above=True)  # as hvm.toml test_speeds_kmh
_COST = Bound(0.0, 1e6, "units/m")
_PENALTY = Bound(0.0, 100.0)
_FORM_BOUNDS = {
    "max_test_speed_kmh": _TEST_SPEED,
    "max_mass_kg": Bound(0.0, MAX_TEST_MASS_KG, "kg", above=True),
    "intrusiveness": _PENALTY,
}
_CLOSURE_BOUNDS = {
    "depth_m": Bound(0.0, 100.0, "m", above=True),
    "cost_per_m2": Bound(0.0, 1e6, "units/m²"),
    "max_speed_kmh": _TEST_SPEED,
    "intrusiveness": _PENALTY,
}
_CHICANE_BOUNDS = {
    "works_units": Bound(0.0, 1e6, "units"),
    "structure_cost_per_m": _COST,
    "intrusiveness": _PENALTY,
}


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
    approaches_before, approaches_after
        The site's approach rows (classes asked) of the base assessment and of the verified
        scheme's (``protected_by`` names the line holding an approach).
    rounds
        Cut-and-verify rounds run.
    note
        Plain-language outcome (protected, or what is left and why).
    """

    site: pd.Series
    lines: gpd.GeoDataFrame
    scenario: Scenario
    comparison: Comparison | None
    open_before: int
    open_after: int
    approaches_before: gpd.GeoDataFrame
    approaches_after: gpd.GeoDataFrame
    rounds: int
    note: str


# --- finding the site and its threats ------------------------------------------------------


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
    leg: bool = False  # on an over-run leg (off the street, across a junction and footway)

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
    """One open approach: class, segments in order, speed at a line on each, fastest on each.

    Speeds in km/h.
    """

    vehicle_class: str
    segments: tuple[_Key, ...]
    speeds_kmh: tuple[float, ...]
    peaks_kmh: tuple[float, ...]
    envelope_kmh: float = 0.0  # fastest non-glancing impact at the entry (the VDA's envelope)


def _add_routes(
    pool: dict[_Key, _Segment],
    routes: list[_Route],
    found: gpd.GeoDataFrame,
    placement_m: float,
    glancing_below_deg: float = 22.5,
) -> None:
    """Add the approaches' segments to ``pool`` (keyed by end points) and the routes to ``routes``.

    A route's last vertex is its entry, a node of its own (``("entry", xy)``), so a vehicle that
    starts at one entry and drives to another still crosses a segment that can hold a line. A
    route also keeps the fastest impact of its envelope at angles of at least
    ``glancing_below_deg`` (``defaults/hvm.toml``), what a kerbside line must stop.
    """
    angles = {
        c: float(c.removeprefix("impact_speed_kmh_").removesuffix("deg"))
        for c in found.columns
        if c.startswith("impact_speed_kmh_") and c.endswith("deg")
    }
    tested = [c for c, a in angles.items() if a >= glancing_below_deg]
    envelope = found[tested].max(axis=1).to_numpy(float) if tested else np.zeros(len(found))
    for row, env in zip(found.itertuples(), envelope, strict=True):
        leg_m = float(getattr(row, "overrun_m", math.nan))  # the route's last metres, if any
        coords = [_key(c) for c in row.geometry.coords]
        speeds = [float(s) for s in str(row.speeds_kmh).split()]
        lengths = np.hypot(*np.diff(np.asarray(coords), axis=0).T)
        remaining = np.concatenate([np.cumsum(lengths[::-1])[::-1], [0.0]])
        nodes: list[Any] = [*coords[:-1], ("entry", coords[-1])]
        keys, at_line, peaks = [], [], []
        for i in range(len(coords) - 1):
            if coords[i] == coords[i + 1]:
                continue
            key = (nodes[i], nodes[i + 1])
            seg = pool.setdefault(key, _Segment(coords[i], coords[i + 1], float(remaining[i])))
            seg.leg |= bool(remaining[i] <= leg_m + 1e-6)  # NaN: on a street
            keys.append(key)
            at_line.append(
                line_speed_kmh(speeds[i], speeds[i + 1], seg.length_m, seg.offset_m(placement_m))
            )
            peaks.append(max(speeds[i], speeds[i + 1]))
        route = _Route(
            str(row.vehicle_class), tuple(keys), tuple(at_line), tuple(peaks), float(env)
        )
        if keys and route not in routes:
            routes.append(route)


#: A route segment lies on a street of the vehicle network when its midpoint is this close (m).
ON_STREET_M = 1.0
#: A closure is referred to in its scenario by a point at its street's middle, which picks every
#: street within 2 m (:data:`cohesion_gis.scenario.interventions.TOUCH_M`); with a margin, no
#: other street may come this close (m).
CLOSURE_CLEAR_M = 2.5


def _streets(
    city: City, pool: Mapping[_Key, _Segment], default_m: float
) -> tuple[dict[_Key, float], dict[_Key, int]]:
    """Per segment, the carriageway width (m) of the nearest street, and where it lies.

    The second mapping is the street's position in ``city.drive_edges`` when the segment lies
    on it (within :data:`ON_STREET_M`), else -1.
    """
    keys = list(pool)
    if not keys:
        return {}, {}
    mids = shapely.points([
        ((pool[k].start[0] + pool[k].end[0]) / 2, (pool[k].start[1] + pool[k].end[1]) / 2)
        for k in keys
    ])  # fmt: skip
    edges = city.drive_edges
    tree = shapely.STRtree(edges.geometry.to_numpy())
    (_, nearest), dist = tree.query_nearest(mids, all_matches=False, return_distance=True)
    raw = edges.get("width_m", pd.Series(np.nan, index=edges.index)).to_numpy(dtype=float)
    width = np.nan_to_num(raw[nearest], nan=default_m)
    width = np.where(width > 0, width, default_m)
    on = np.where(dist <= ON_STREET_M, nearest, -1)
    return (
        dict(zip(keys, width.tolist(), strict=True)),
        dict(zip(keys, on.tolist(), strict=True)),
    )


@dataclass(frozen=True)
class _Ground:
    """What a line's ends may be tied to and what a tie may not cross (City CRS).

    ``obstacles`` are line geometries a vehicle cannot pass: building outlines, mapped level
    changes (retaining and city walls, walls at least ``level_change_min_height_m`` high,
    steps) and water edges; ``kinds`` names each in plain words. A tie may not cross a street
    of the vehicle network (it would close that street too) nor the protected site.
    """

    obstacles: np.ndarray
    kinds: np.ndarray
    tree: shapely.STRtree
    streets: np.ndarray
    names: np.ndarray
    street_tree: shapely.STRtree
    crowd: Any = None


def _ground(
    city: City, crowd: Any = None, *, min_height_m: float | None = None,
    crosses: Sequence[str] = (),
) -> _Ground:  # fmt: skip
    """The obstacles a line may be tied to in ``city`` and the streets a tie may not cross.

    Streets whose ``highway`` is in ``crosses`` (access ways) are left out: a tie may cross
    them, closing them too.
    """
    from cohesion_gis.hvm.barriers import vehicle_obstacles
    from cohesion_gis.hvm.params import HvmParams

    if min_height_m is None:
        min_height_m = load_params(HvmParams).level_change_min_height_m
    found = vehicle_obstacles(
        city.buildings, city.barriers, city.walk_edges, city.landuse, min_height_m=min_height_m
    )  # the VDA's own: what bounds a street's cross-section (hvm.barriers.street_closures)
    obstacles, kinds = found.geometry.to_numpy(), found["obstacle_kind"].to_numpy(dtype=object)
    edges = city.drive_edges
    if crosses and "highway" in edges:
        edges = edges.loc[~edges["highway"].isin(crosses)]
    streets = edges.geometry.to_numpy()
    names = (
        edges["name"].astype(object).to_numpy()
        if "name" in edges
        else np.full(len(streets), None, dtype=object)
    )
    return _Ground(
        obstacles, kinds, shapely.STRtree(obstacles), streets, names,
        shapely.STRtree(streets), crowd,
    )  # fmt: skip


@dataclass(frozen=True)
class _Span:
    """Where a line across a segment stands and how far it reaches on each side (m).

    ``ties`` holds, per side (left, right), the point on an obstacle the line continues to
    from its kerb end (None: straight to a façade in reach, or open); ``tied_to`` the obstacle
    each tied end meets and ``reasons`` why each open end stays open.
    """

    x: float
    y: float
    normal: tuple[float, float]
    left_m: float
    right_m: float
    ties: tuple[tuple[float, float] | None, tuple[float, float] | None] = (None, None)
    tied_to: tuple[str, ...] = ()
    reasons: tuple[str, ...] = ()

    @property
    def open_ends(self) -> int:
        return len(self.reasons)

    def ends(self) -> tuple[tuple[float, float], tuple[float, float]]:
        """The line's two ends across the street (before any tie)."""
        nx_, ny_ = self.normal
        return (
            (self.x - nx_ * self.left_m, self.y - ny_ * self.left_m),
            (self.x + nx_ * self.right_m, self.y + ny_ * self.right_m),
        )

    @property
    def length_m(self) -> float:
        ends = self.ends()
        tied = sum(math.dist(e, t) for e, t in zip(ends, self.ties, strict=True) if t)
        return self.left_m + self.right_m + tied


def _tie(
    end: tuple[float, float], outward: tuple[float, float], kerb_m: float, ground: _Ground,
    reach_m: float,
) -> tuple[tuple[float, float] | None, str]:  # fmt: skip
    """The nearest point of an obstacle a line's open end can be continued to, or why none.

    ``end`` is the kerb end, ``kerb_m`` out from the centreline along the unit vector
    ``outward``. Candidates are obstacles within ``reach_m`` on that side of the street,
    nearest first; a tie may not cross a street of the vehicle network (it would close it
    too) nor the protected site (a vehicle going round the end is already in it). Returns the
    point and the obstacle's kind, or None and the reason the end stays open.
    """
    point = shapely.Point(end)
    near = ground.tree.query(point, predicate="dwithin", distance=reach_m)
    links = shapely.shortest_line(point, ground.obstacles[near]) if near.size else np.array([])
    if near.size:
        far = shapely.get_coordinates(shapely.get_point(links, 1))
        ahead = (far - np.asarray(end)) @ np.asarray(outward) > -kerb_m  # not back across
        near, links = near[ahead], links[ahead]
    if not near.size:
        return None, f"no façade, level change or water within {reach_m:.0f} m on this side"
    streets, site = "", False
    for j in np.argsort(shapely.length(links), kind="stable")[:_TIE_CANDIDATES]:
        link = links[j]
        crossed = ground.street_tree.query(link, predicate="intersects")
        if crossed.size:
            name = ground.names[crossed[0]]
            streets = streets or (name if isinstance(name, str) and name else "a street")
            continue
        if ground.crowd is not None and link.intersection(ground.crowd).length > _TIE_CROWD_M:
            site = True
            continue
        x, y = link.coords[-1]
        return (float(x), float(y)), str(ground.kinds[near[j]])
    if site:
        return None, _ONTO_SITE
    return None, f"every façade within {reach_m:.0f} m lies across {streets}"


_ONTO_SITE = "opens onto the protected site: continue it along the site's edge (a kerbside line)"


def _onto_site(
    end: tuple[float, float], outward: tuple[float, float], reach_m: float, ground: _Ground
) -> bool:
    """Whether the line, continued straight out from its kerb end, runs into the site."""
    if ground.crowd is None:
        return False
    ahead = (end[0] + outward[0] * reach_m, end[1] + outward[1] * reach_m)
    return LineString([end, ahead]).intersection(ground.crowd).length > _TIE_CROWD_M


#: Obstacles tried per open end, nearest first; a tie may run this far (m) inside the site's
#: outline (a line drawn along its edge touches it).
_TIE_CANDIDATES, _TIE_CROWD_M = 24, 1.0


def _spans(
    city: City,
    pool: Mapping[_Key, _Segment],
    widths: Mapping[_Key, float],
    params: ProtectParams,
    ground: _Ground | None = None,
) -> dict[_Key, _Span]:
    """Each candidate line from façade to façade, its open ends tied to the nearest obstacle.

    Out from the centreline on both sides to the first obstacle (building, level change,
    water) within ``max_reach_m``, at least to the kerb plus the margin. An end with none in
    reach is continued from its kerb end to the nearest obstacle within ``tie_reach_m`` that
    it reaches without crossing another street or the site (:func:`_tie`); else it stops at
    ``max_reach_m`` and counts as open (a car could drive round it), with the reason.
    """
    ground = ground or _ground(city, crosses=params.tie_crosses)
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
    what = np.full((len(keys), 2), "", dtype=object)
    obstacles = ground.obstacles
    if keys and len(obstacles):
        pts = np.asarray(origins)
        nrm = np.asarray(normals)
        for side, sign in enumerate((-1.0, 1.0)):
            rays = shapely.linestrings(np.stack([pts, pts + sign * reach * nrm], axis=1))
            ray_i, b_i = ground.tree.query(rays, predicate="intersects")
            if ray_i.size:
                hits = shapely.intersection(rays[ray_i], obstacles[b_i])
                dist = shapely.distance(shapely.points(pts[ray_i]), hits)
                np.minimum.at(found[:, side], ray_i, dist)
                best = dist <= found[ray_i, side]
                what[ray_i[best], side] = ground.kinds[b_i[best]]
    spans = {}
    for i, key in enumerate(keys):
        kerb = widths[key] / 2 + params.margin_m
        sides: list[float] = []
        ties: list[tuple[float, float] | None] = []
        tied_to: list[str] = []
        reasons: list[str] = []
        for side, sign in enumerate((-1.0, 1.0)):
            if np.isfinite(found[i, side]):
                sides.append(max(kerb, float(found[i, side])))
                ties.append(None)
                tied_to.append(str(what[i, side]))
                continue
            end = (
                origins[i][0] + sign * normals[i][0] * kerb,
                origins[i][1] + sign * normals[i][1] * kerb,
            )
            outward = (sign * normals[i][0], sign * normals[i][1])
            point, why = _tie(end, outward, kerb, ground, params.tie_reach_m)
            if point is not None:
                sides.append(kerb)
                ties.append(point)
                tied_to.append(why)
            else:
                sides.append(max(kerb, reach))
                ties.append(None)
                reasons.append(_ONTO_SITE if _onto_site(end, outward, reach, ground) else why)
        spans[key] = _Span(
            *origins[i], normals[i], sides[0], sides[1], (ties[0], ties[1]), tuple(tied_to),
            tuple(reasons),
        )  # fmt: skip
    return spans


def _room(span: _Span, standoff_m: float, ground: _Ground) -> float:
    """The penetration (m) a line may allow: its stand-off, or less where a tie comes closer.

    A tie to an obstacle may run nearer the site than the line across the street does.
    """
    if ground.crowd is None or not any(span.ties):
        return standoff_m
    return min(standoff_m, float(_line(span).distance(ground.crowd)))


def _requirement(speed_kmh: float, vehicle_class: Any, standoff_m: float, hvm_params: Any) -> Any:
    """The head-on rating a line square to the street needs.

    :func:`~cohesion_gis.hvm.required_rating` at 90°: a vehicle following the street meets the
    line square on. The penetration asked is the stand-off, at most the 25 m ISO 22343-1 rates
    (:data:`~cohesion_gis.hvm.rating.ISO_MAX_PENETRATION_M`; the requirement read "penetration
    ≤ 421.4 m" where the line stood that far out).
    """
    from cohesion_gis.hvm import required_rating

    standoff_m = min(standoff_m, ISO_MAX_PENETRATION_M)
    return required_rating(
        speed_kmh, vehicle_class, angle_deg=90.0, standoff_m=standoff_m, params=hvm_params
    )


def _form_of(needs: Sequence[Any], params: ProtectParams) -> Form:
    """The lightest form whose tested range covers every requirement (the last form else)."""
    top = max((n.test_speed_kmh or 0.0 for n in needs), default=0.0)
    heavy = max((n.mass_kg for n in needs), default=0.0)
    return next(
        (f for f in params.forms if top <= f.max_test_speed_kmh + 1e-6 and heavy <= f.max_mass_kg),
        params.forms[-1],
    )


def _spread(standoff_m: float, params: ProtectParams) -> float:
    """Cost factor of distance: a line further out closes more of the city to traffic."""
    return 1.0 + params.distance_weight * max(standoff_m, 0.0) / 100.0


def _cost(need: Any, length_m: float, standoff_m: float, params: ProtectParams) -> float:
    """Cost units of a line ``length_m`` long meeting ``need`` (inf: no tested product can).

    Per metre by test speed, times the form's ``1 + intrusiveness`` and :func:`_spread`.
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
    penalty = 1.0 + _form_of([need], params).intrusiveness
    return per_m * length_m * penalty * _spread(standoff_m, params)


def closure_cost(
    width_m: float, standoff_m: float, params: ProtectParams, *, across_m: float | None = None
) -> float:
    r"""Cost units of a street closure with landscaping.

    .. math:: c = d\,(w + 2m)\,u_{m^2}\,(1 + i)\,(1 + \lambda\, s / 100)

    with :math:`d` the built-over depth, :math:`w` the carriageway width, :math:`m` the margin,
    :math:`u_{m^2}` the cost per m², :math:`i` the intrusiveness and :math:`s` the stand-off (m).
    ``across_m``: the width built over when it is more than the carriageway (façade to façade,
    :func:`_closure_spans`), replacing :math:`w + 2m`.
    """
    c = params.closure
    area_m2 = c.depth_m * (width_m + 2 * params.margin_m if across_m is None else across_m)
    return area_m2 * c.cost_per_m2 * (1.0 + c.intrusiveness) * _spread(standoff_m, params)


@dataclass(frozen=True)
class _Cut:
    """The chosen lines per class and closures, what each meets, and the routes nothing stops."""

    needs: Mapping[_Key, Any]  # (segment key, class) -> RatingRequirement
    closures: Mapping[int, Mapping[str, float]]  # drive-edge position -> class -> peak km/h
    costs: Mapping[_Key, float]  # ("line", key, class), ("closure", position), ("kerb", ...)
    unstoppable: tuple[_Route, ...]
    kerb_needs: Mapping[_Key, Any] = field(default_factory=dict)  # (entry, class) -> need
    kerbs: Mapping[_Key, _Kerb] = field(default_factory=dict)  # entry -> its kerbside line


#: Half the length (m) of a kerbside line: the sight lines the assessment checks reach 10 m
#: each side of the entry along the crowd (``hvm.impact.SCREEN_M``), plus 5 m.
KERB_HALF_M = 15.0
#: How far (m) a kerbside line stands back from the kerb edge, on the footway [U]: the VDA
#: reviewer's "set back from the kerb edge (typically about 0.5 m)", clear of car doors.
KERB_SETBACK_M = 0.5
#: Shortest kerbside line (m) worth building once cut to the footway: the sight lines 5 m each
#: side of the entry (``hvm.impact.SCREEN_M``) must still cross it.
KERB_MIN_M = 10.0
#: The nearest crowd edge must lie at least this far (degrees) off the street's direction for a
#: kerbside line: an entry with the crowd straight ahead takes a line across its street.
KERB_SIDE_DEG = 30.0
#: Two entries' kerbside lines this close (m, Hausdorff) are one line.
KERB_SAME_M = 2.0


@dataclass(frozen=True)
class _Kerb:
    """A kerbside line on the footway between an entry's street and the crowd, along the kerb."""

    line: LineString
    setback_m: float  # band to crowd (m): the penetration it may allow
    closes: tuple[str, ...] = ()  # streets whose carriageway it crosses: it closes them


def _kerb(
    entry_xy: tuple[float, float], crowd: Any, band_m: float, streets: gpd.GeoDataFrame,
    default_width_m: float,
) -> _Kerb | None:  # fmt: skip
    """The kerbside line of an entry: parallel to its street's kerb, on the crowd's side.

    Entries lie on street centrelines. The line runs :data:`KERB_HALF_M` each way along the
    street's direction at the entry, :data:`KERB_SETBACK_M` behind the kerb (half the
    carriageway out from the centreline) on the side of the nearest crowd edge: on the footway,
    never in the running lane or in the crowd (VDA review item 4: lines square to the segment
    joining the entry to the crowd's nearest point came out oblique, in the lane and up to 9 m
    into the crowd). Parts inside the crowd or the street's own carriageway are cut off, the
    piece at the entry kept. None where the crowd lies ahead along the street (its nearest
    edge within :data:`KERB_SIDE_DEG` of the street's direction, or the street running on into
    it within :data:`KERB_HALF_M`: a line across the street does that), reaches the footway line (no
    room), or the piece left is shorter than :data:`KERB_MIN_M`. A line crossing another
    street's carriageway closes that street: ``closes`` names it, and the scheme counts it as
    a closure. The penetration it may allow is the distance from the assessment's band
    (``band_m`` each side, ``hvm.impact.kerbside_cover``) to the crowd.
    """
    entry = shapely.Point(entry_xy)
    edge = shapely.ops.nearest_points(shapely.boundary(crowd), entry)[0]
    gap = entry.distance(edge)
    lines = streets.geometry.to_numpy()
    tree = shapely.STRtree(lines)
    own = int(tree.query_nearest(entry, all_matches=False)[0])
    street = lines[own]
    width = streets.get("width_m", pd.Series(np.nan, index=streets.index)).to_numpy(float)
    width = np.where(np.nan_to_num(width) > 0, width, default_width_m)
    at = street.project(entry)
    a = np.asarray(street.interpolate(max(at - 2.0, 0.0)).coords[0])
    b = np.asarray(street.interpolate(min(at + 2.0, street.length)).coords[0])
    if gap < 1.0 or np.hypot(*(b - a)) < 1e-6:
        return None
    t = (b - a) / np.hypot(*(b - a))
    n = np.array([-t[1], t[0]])
    to_crowd = (np.asarray(edge.coords[0]) - np.asarray(entry_xy)) / gap
    side = float(n @ to_crowd)
    ahead = [LineString([entry_xy, tuple(np.asarray(entry_xy) + s * t * KERB_HALF_M)])
             for s in (-1.0, 1.0)]  # fmt: skip
    if abs(side) < math.sin(math.radians(KERB_SIDE_DEG)) or any(
        g.intersection(crowd).length > 1.0 for g in ahead
    ):
        return None  # the street runs into the crowd: a line across it, not along it
    middle = np.asarray(entry_xy) + np.sign(side) * n * (width[own] / 2 + KERB_SETBACK_M)
    if crowd.distance(shapely.Point(middle)) < 0.1:
        return None  # the crowd reaches the footway line: no room beside the lane
    name = streets["name"].iloc[own] if "name" in streets else None
    same = (
        streets["name"].to_numpy(object) == name if isinstance(name, str)
        else np.arange(len(lines)) == own
    )  # fmt: skip
    full = LineString([middle - t * KERB_HALF_M, middle + t * KERB_HALF_M])
    near = tree.query(full, predicate="dwithin", distance=float(width.max()))
    carriageways = shapely.buffer(lines[near], width[near] / 2, cap_style="flat")
    lane = shapely.union_all(carriageways[same[near]])
    pieces = shapely.get_parts(full.difference(shapely.union_all([crowd, lane])))
    kept = [g for g in pieces if g.distance(shapely.Point(middle)) < 1e-6]
    if not kept or kept[0].length < KERB_MIN_M:
        return None
    line = kept[0]
    crossed = near[~same[near] & shapely.intersects(carriageways, line)]
    names = streets["name"] if "name" in streets else streets["osm_id"]
    closes = tuple(sorted({
        str(names.iloc[j]) if isinstance(names.iloc[j], str) else str(streets["osm_id"].iloc[j])
        for j in crossed
    }))  # fmt: skip
    setback = max(crowd.distance(shapely.Point(middle)) - band_m, 0.0)
    return _Kerb(line, setback, closes)


def _closure_spans(
    city: City, edges: Sequence[int], params: ProtectParams, ground: _Ground
) -> dict[int, _Span]:
    """Per drive-edge position, the cross-section its closure must be built over at its middle.

    A closure built kerb to kerb leaves the footways and any open ground beside them: a vehicle
    stopped by the planting drives round it there (VDA review item 11). So the landscaping is
    built as a line across the street is (:func:`_spans`): out to the façades, level changes or
    water each side, an end with none in reach tied to the nearest one; a closure with an end
    left open (open ground, or every façade across a through street) is not offered.
    """
    pool: dict[_Key, _Segment] = {}
    widths: dict[_Key, float] = {}
    raw = city.drive_edges.get("width_m", pd.Series(np.nan, index=city.drive_edges.index))
    for e in edges:
        line = city.drive_edges.geometry.iloc[e]
        mid = line.length / 2
        a, b = line.interpolate(mid - 1.0), line.interpolate(mid + 1.0)
        pool[e,] = _Segment((a.x, a.y), (b.x, b.y), 0.0)  # a line at the middle, across it
        width = float(raw.iloc[e])
        widths[e,] = width if width > 0 else params.default_width_m
    spans = _spans(city, pool, widths, params, ground) if pool else {}
    return {key[0]: span for key, span in spans.items()}


def _closure_candidates(
    city: City, routes: Sequence[_Route], on_street: Mapping[_Key, int], params: ProtectParams,
    ground: _Ground,
) -> dict[int, dict[str, float]]:  # fmt: skip
    """Streets a closure may take: every class that drives along them arrives slowly enough.

    Per drive-edge position, the fastest speed (km/h) each class reaches anywhere along it; kept
    when all are at most ``closure.max_speed_kmh``, the street is long enough for the built-over
    depth plus a metre each side, no other street comes within :data:`CLOSURE_CLEAR_M` of its
    middle (the point the scenario refers to it by), and no vehicle can drive round it
    (:func:`_closure_spans`: façade to façade, ends tied).
    """
    peaks: dict[int, dict[str, float]] = {}
    for route in routes:
        for key, peak in zip(route.segments, route.peaks_kmh, strict=True):
            edge = on_street.get(key, -1)
            if edge >= 0:
                by_class = peaks.setdefault(edge, {})
                by_class[route.vehicle_class] = max(by_class.get(route.vehicle_class, 0.0), peak)
    lines = city.drive_edges.geometry.to_numpy()
    tree = shapely.STRtree(lines)
    out = {}
    for edge, by_class in peaks.items():
        line = lines[edge]
        if max(by_class.values()) > params.closure.max_speed_kmh + 1e-9:
            continue
        if line.length < params.closure.depth_m + 2.0:
            continue
        near = tree.query(line.interpolate(0.5, normalized=True), "dwithin", CLOSURE_CLEAR_M)
        if np.array_equal(near, [edge]):
            out[edge] = by_class
    spans = _closure_spans(city, sorted(out), params, ground)
    return {e: by_class for e, by_class in out.items() if not spans[e].open_ends}


def _cut(
    city: City,
    pool: Mapping[_Key, _Segment],
    routes: Sequence[_Route],
    params: ProtectParams,
    hvm_params: Any,
    *,
    kerbs: Mapping[_Key, _Kerb] | None = None,
    ground: _Ground | None = None,
    fixed: _Cut | None = None,
    floors: Mapping[_Key, float] | None = None,
) -> _Cut:
    """The cheapest lines and closures that every route crosses at least once (a hitting set).

    ``fixed`` (the ring, :func:`_ring`) is built whatever else is chosen: a route crossing one
    of its lines or closures needs nothing more. ``floors`` ((segment key, class) → km/h): the
    speed the verification found a vehicle driving through a built line at
    (:func:`_driven_through`); the line is rated for at least that (:func:`_floored`).

    A candidate line is a segment: one physical line rated for every class whose routes cross
    it, each at the fastest speed any of the class's routes reaches there (so it holds whatever
    else the scheme does, and no vehicle drives through it), costing the sum of
    :func:`_cost` per class; a class no tested product holds there is not rated and its routes
    must be stopped elsewhere. A candidate closure is a street every class drives along slowly
    (:func:`_closure_candidates`): it stops every class and costs :func:`closure_cost`. Slots no
    tested product could hold are left out; a route with none left is reported as unstoppable.
    The choice is exact, by a mixed-integer program (HiGHS through :func:`scipy.optimize.milp`):
    minimise the summed cost subject to every route crossing a chosen slot.
    """
    from scipy.optimize import Bounds, LinearConstraint, milp
    from scipy.sparse import csr_array

    from cohesion_gis.hvm.vehicles import Vehicles

    widths, on_street = _streets(city, pool, params.default_width_m)
    ground = ground or _ground(city, crosses=params.tie_crosses)
    spans = _spans(city, pool, widths, params, ground)
    floors = floors or {}
    vehicles = load_params(Vehicles).select(
        sorted({r.vehicle_class for r in routes} | {c for _, c in floors})
    )  # once
    fastest: dict[_Key, float] = {}
    for route in routes:
        for key, speed in zip(route.segments, route.speeds_kmh, strict=True):
            slot = (key, route.vehicle_class)
            fastest[slot] = max(fastest.get(slot, 0.0), speed)
    needs: dict[_Key, Any] = {}
    line_costs: dict[_Key, float] = {}  # (segment key, class) -> cost of that rating
    costs: dict[_Key, float] = {}  # ("line", segment key), ("closure", position), ("kerb", ...)
    for (key, cls), speed in fastest.items():
        standoff = pool[key].to_entry_m - pool[key].offset_m(params.placement_m)
        if standoff > params.max_standoff_m or _ONTO_SITE in spans[key].reasons or pool[key].leg:
            continue  # too far out, a vehicle going round its end is already in the site, or
            # across an over-run leg (it would stand in the street the leg crosses)
        need = _requirement(speed, vehicles[cls], _room(spans[key], standoff, ground), hvm_params)
        cost = _cost(need, spans[key].length_m, standoff, params)
        if math.isfinite(cost):
            needs[key, cls], line_costs[key, cls] = need, cost
    for (key, _), cost in line_costs.items():  # one physical line, rated for every class on it
        costs["line", key] = costs.get(("line", key), 0.0) + cost
    kerbs = kerbs or {}
    owner: dict[_Key, _Key] = {}  # entries sharing one kerbside line: the first one's slot
    first: dict[int, _Key] = {}
    for entry in sorted(kerbs, key=str):
        owner[entry] = first.setdefault(id(kerbs[entry]), entry)
    envelope: dict[_Key, float] = {}
    for route in routes:
        entry = route.segments[-1][1]  # ("entry", xy)
        if entry in kerbs:
            slot = (owner[entry], route.vehicle_class)
            envelope[slot] = max(envelope.get(slot, 0.0), route.envelope_kmh)
    kerb_needs: dict[_Key, Any] = {}
    kerb_costs: dict[_Key, float] = {}
    for (entry, cls), speed in envelope.items():
        kerb = kerbs[entry]
        need = _requirement(speed, vehicles[cls], kerb.setback_m, hvm_params)
        cost = _cost(need, kerb.line.length, 0.0, params)
        if math.isfinite(cost):
            kerb_needs[entry, cls], kerb_costs[entry, cls] = need, cost
    for (entry, _), cost in kerb_costs.items():  # one kerbside line, rated for every class
        costs["kerb", entry] = costs.get(("kerb", entry), 0.0) + cost
    closures = _closure_candidates(city, routes, on_street, params, ground)
    edge_width = {on_street[k]: widths[k] for k in pool if on_street[k] >= 0}
    across = _closure_spans(city, sorted(closures), params, ground)
    for edge in closures:
        standoff = min(pool[k].to_entry_m for k in pool if on_street[k] == edge)
        if standoff <= params.max_standoff_m:
            costs["closure", edge] = closure_cost(
                edge_width[edge], standoff, params, across_m=across[edge].length_m
            )
    slots = sorted(costs, key=str)
    index = {slot: i for i, slot in enumerate(slots)}
    matrix_rows: list[int] = []
    matrix_cols: list[int] = []
    unstoppable = []
    held = fixed or _Cut({}, {}, {}, ())
    for route in routes:
        cls = route.vehicle_class
        if any(
            on_street[k] in held.closures
            or ((k, cls) in held.needs and held.needs[k, cls].impact_speed_kmh >= speed - 1e-6)
            for k, speed in zip(route.segments, route.speeds_kmh, strict=True)
        ):
            continue  # the ring holds it
        hits = {index["line", k] for k in route.segments if (k, cls) in needs}
        hits |= {index["closure", on_street[k]] for k in route.segments
                 if ("closure", on_street[k]) in index}  # fmt: skip
        arrives_at = owner.get(route.segments[-1][1])
        if (arrives_at, cls) in kerb_needs:
            hits.add(index["kerb", arrives_at])
        if not hits:
            unstoppable.append(route)
            continue
        row = len(set(matrix_rows))
        matrix_cols += sorted(hits)
        matrix_rows += [row] * len(hits)
    n_rows = len(set(matrix_rows))
    rated = {
        "spans": spans, "pool": pool, "vehicles": vehicles, "ground": ground,
        "params": params, "hvm_params": hvm_params,
    }  # fmt: skip
    if not slots or n_rows == 0:
        return _floored(_merge(_Cut({}, {}, {}, tuple(unstoppable)), held), floors, **rated)
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
    built = {s[1] for s in chosen if s[0] == "line"}
    kerbed = {s[1] for s in chosen if s[0] == "kerb"}
    return _floored(_merge(
        _Cut(
            {(k, c): need for (k, c), need in needs.items() if k in built},
            {s[1]: closures[s[1]] for s in chosen if s[0] == "closure"},
            {s: costs[s] for s in chosen if s[0] == "closure"}
            | {("line", k, c): cost for (k, c), cost in line_costs.items() if k in built}
            | {("kerb", e, c): cost for (e, c), cost in kerb_costs.items() if e in kerbed},
            tuple(unstoppable),
            {(e, c): need for (e, c), need in kerb_needs.items() if e in kerbed},
            {s[1]: kerbs[s[1]] for s in chosen if s[0] == "kerb"},
        ),
        held,
    ), floors, **rated)  # fmt: skip


def _floored(
    cut: _Cut, floors: Mapping[_Key, float], *, spans: Mapping[_Key, _Span],
    pool: Mapping[_Key, _Segment], vehicles: Mapping[str, Any], ground: _Ground,
    params: ProtectParams, hvm_params: Any,
) -> _Cut:  # fmt: skip
    """``cut`` with each built line rated for at least the speed it was driven through at.

    A line is rated for what the design measured where it stands (the routes crossing its
    segment, or the ring's probe on its street, one direction); a vehicle may cross it
    elsewhere along its length (another carriageway its end spans) or the other way, faster.
    The verification finds such runs (:func:`_driven_through`), and the line is rated again for
    the class at that speed, when a tested product holds it (else it stays open, and the note
    says so).
    """
    built = {k for k, _ in cut.needs}
    needs, costs = dict(cut.needs), dict(cut.costs)
    for (key, cls), speed in floors.items():
        old = needs.get((key, cls))
        if key not in built or (old is not None and old.impact_speed_kmh >= speed):
            continue
        standoff = pool[key].to_entry_m - pool[key].offset_m(params.placement_m)
        need = _requirement(speed, vehicles[cls], _room(spans[key], standoff, ground), hvm_params)
        cost = _cost(need, spans[key].length_m, standoff, params)
        if math.isfinite(cost):
            needs[key, cls], costs["line", key, cls] = need, cost
    return replace(cut, needs=needs, costs=costs)


def _segment_order(cut: _Cut | None) -> list[_Key]:
    """The segments of the scheme's lines across streets, in line-id order (``protect/<i>``)."""
    return sorted({k for k, _ in cut.needs}, key=str) if cut is not None else []


def _driven_through(
    threats: gpd.GeoDataFrame, lines: gpd.GeoDataFrame, cut: _Cut | None
) -> dict[_Key, float]:
    """Per (segment key, class), the fastest an open approach drives through a built line.

    From the verification's own rows: each barrier in ``defeated`` that is a line of the scheme
    rated for the row's class (``<line_id>:<class>``), and the route's speed where it crosses the
    line (km/h; :func:`line_speed_kmh` between the route's vertices).
    """
    keys = {f"protect/{i}": key for i, key in enumerate(_segment_order(cut))}
    shapes = dict(zip(lines["line_id"], lines.geometry, strict=True)) if len(lines) else {}
    out: dict[_Key, float] = {}
    for row in threats.itertuples():
        cls = str(row.vehicle_class)
        members = {
            m.rpartition(":")[0]
            for group in str(getattr(row, "defeated", "") or "").split(";")
            for m in group.split("+")
            if m.endswith(f":{cls}")
        }
        xy = shapely.get_coordinates(row.geometry)
        speeds = np.array(str(row.speeds_kmh).split(), float)
        if len(xy) < 2 or len(speeds) != len(xy):
            continue
        along = np.r_[0.0, np.cumsum(np.hypot(*np.diff(xy, axis=0).T))]
        for line_id in sorted(members & set(keys)):
            crossing = row.geometry.intersection(shapes[line_id])
            for point in shapely.get_parts(shapely.centroid(shapely.get_parts(crossing))):
                d = float(row.geometry.project(point))
                i = int(np.clip(np.searchsorted(along, d), 1, len(xy) - 1))
                seg = along[i] - along[i - 1]
                v = line_speed_kmh(speeds[i - 1], speeds[i], seg, d - along[i - 1])
                slot = (keys[line_id], cls)
                out[slot] = max(out.get(slot, 0.0), v)
    return out


def _merge(cut: _Cut, ring: _Cut) -> _Cut:
    """The ring's lines and closures added to ``cut`` (the ring's rating where both rate one)."""
    return replace(
        cut,
        needs={**cut.needs, **ring.needs},
        closures={**cut.closures, **ring.closures},
        costs={**cut.costs, **ring.costs},
    )


# --- the ring: a minimum cut where vehicles are still slow enough -----------------------------

#: Width (m) of the probe disc that measures the speed a vehicle can have at a candidate line.
PROBE_M = 1.0
#: Capacity of an arc no line may cut (no tested product holds the speed there): the cut
#: avoids it unless nothing else closes the ring.
_NO_CUT = 1e12


def _oriented(line: Any, tail_xy: np.ndarray) -> np.ndarray:
    """The street's vertices from its end nearest ``tail_xy``, repeated points dropped."""
    xy = shapely.get_coordinates(line)
    if np.hypot(*(xy[-1] - tail_xy)) < np.hypot(*(xy[0] - tail_xy)):
        xy = xy[::-1]
    keep = np.r_[True, np.any(np.abs(np.diff(xy, axis=0)) > 1e-9, axis=1)]
    return xy[keep]


def _probe_horizon_m(classes: Sequence[str], params: ProtectParams, hvm_params: Any) -> float:
    """Run-up (m) the probes search: twice the longest any class needs to outrun every test.

    From rest on the level, to pass the fastest speed the top test speed credits (with the
    allowance). A vehicle faster than that at a line has no product to stop it whatever its
    run-up; one slower was capped by a bend within its last metres, so a longer run-up adds
    nothing there.
    The horizon is the margin (2x); the verification re-runs the full VDA at ``horizon_m``.
    """
    from cohesion_gis.hvm.kinematics import traction_run_up_distance_m
    from cohesion_gis.hvm.vehicles import Vehicles

    top = (max(params.cost_per_m) + 0.5) / (1.0 + hvm_params.speed_allowance)
    run_up = [
        float(traction_run_up_distance_m(
            top, v.traction(hvm_params.acceleration_model), top_speed_kmh=v.top_speed_kmh
        ))
        for v in load_params(Vehicles).select(list(classes)).values()
    ]  # fmt: skip
    return min(2.0 * max(run_up), params.horizon_m)


def _ring(
    city: City,
    check: _SiteCheck,
    area: Any,
    *,
    params: ProtectParams,
    hvm_params: Any,
    ground: _Ground,
    pool: dict[_Key, _Segment],
) -> tuple[_Cut, tuple[str, ...], tuple[tuple[int, int], ...]]:
    """The cheapest closed ring of lines and closures round the site: a minimum s-t cut.

    The vehicle network's streets within ``ring_m`` of the site are arcs, one per direction;
    an arc can hold a line ``placement_m`` past its tail, rated per class for the fastest a
    vehicle can pass there coming from the tail (:meth:`_SiteCheck.speeds_at`: the VDA's own
    search, any start, any path), costed as a line (:func:`_cost`); an arc no tested product
    holds cannot be cut. A minor street (``closure_streets``) every class passes slowly may be
    closed instead. The source is every node beyond ``ring_m`` or at the study area's edge
    (vehicles come from there), the sink the streets entering the site's search area; the
    minimum cut (networkx, exact) closes the site off at least cost, so no vehicle starts
    inside it (``hvm.routes``: a closed ring of rated lines) and every line stops what
    reaches it. An arc may also leave a chicane's middle (``chicane_radius_m``, where vehicles
    are slowest). Segments of the chosen lines are added to ``pool``. Returns the cut, the
    names of the streets it had to cross where no product holds (empty: the ring is closed) and
    those crossings (drive-edge position, tail node index).
    """
    import networkx as nx

    from cohesion_gis.hvm.routes import EDGE_M
    from cohesion_gis.hvm.vehicles import Vehicles
    from cohesion_gis.network import node_distances

    edges, graph = city.drive_edges, city.drive_csr
    u = graph.node_index(edges["u"].to_numpy(), where="drive_edges u").astype(np.int64)
    v = graph.node_index(edges["v"].to_numpy(), where="drive_edges v").astype(np.int64)
    node_xy = np.column_stack([graph.x, graph.y])
    length = edges["length_m"].to_numpy(float)
    lines = edges.geometry.to_numpy()
    touching = shapely.intersects(lines, area)
    overrun = check.overrun_nodes()  # street ends driven straight on into the site
    seeds = np.unique(np.r_[u[touching], v[touching], overrun])
    # the network engine's bounded search; a head one street beyond ring_m is still measured
    dist = node_distances(graph, seeds, limit_m=params.ring_m + float(length.max(initial=0.0)))
    near = np.flatnonzero(np.minimum(dist[u], dist[v]) <= params.ring_m)
    # lines leave junctions and dead ends, and chicanes' middles (where their street is slowest)
    leaves = np.bincount(np.r_[u, v], minlength=graph.n_nodes) != 2
    if "chicane_radius_m" in edges:
        leaves[v[edges["chicane_radius_m"].notna().to_numpy()]] = True
    # one candidate line per street and direction, placement_m past a junction or dead end
    # (along a street between junctions the slowest place is just past the junction)
    arcs: list[tuple[int, int, int]] = []  # (edge position, tail node, head node)
    keys: list[_Key] = []
    points, upstream = [], []
    flow = nx.DiGraph()
    streets: dict[tuple[int, int], list[int]] = {}  # arc -> the streets it runs along
    for e in range(len(edges)):
        for tail, head in ((int(u[e]), int(v[e])), (int(v[e]), int(u[e]))):
            target = -2 if touching[e] else head
            flow.add_edge(tail, target, capacity=_NO_CUT)
            streets.setdefault((tail, target), []).append(e)
    for node in overrun.tolist():  # its over-run leg (hvm.overrun): the ring is cut before it
        flow.add_edge(node, -2, capacity=_NO_CUT)
        streets.setdefault((node, -2), [])
    for e in near.tolist():
        for tail, head in ((u[e], v[e]), (v[e], u[e])):
            xy = _oriented(lines[e], node_xy[tail])
            if len(xy) < 2 or not leaves[tail]:
                continue
            seg = _Segment(_key(tuple(xy[0])), _key(tuple(xy[1])), 0.0)
            direction = (np.asarray(seg.end) - np.asarray(seg.start)) / (seg.length_m or 1.0)
            at = np.asarray(seg.start) + direction * seg.offset_m(params.placement_m)
            if area.contains(shapely.Point(at)):
                continue
            seg.to_entry_m = (
                float(dist[head] + length[e]) if not touching[e]
                else float(shapely.Point(at).distance(area)) + seg.offset_m(params.placement_m)
            )  # fmt: skip
            key = (seg.start, seg.end)
            seg = pool.setdefault(key, seg)
            arcs.append((int(e), int(tail), int(head)))
            keys.append(key)
            points.append(at)
            upstream.append(at - direction * PROBE_M / 2)
    if not arcs:
        return _Cut({}, {}, {}, ()), ("every street (no line offered)",), ()
    horizon = _probe_horizon_m(check.classes, params, hvm_params)
    speeds = check.speeds_at(np.asarray(points), np.asarray(upstream), horizon)
    widths, _ = _streets(city, {k: pool[k] for k in keys}, params.default_width_m)
    vehicles = load_params(Vehicles).select(list(check.classes))
    spans = _spans(city, {k: pool[k] for k in keys}, widths, params, ground)
    arc_needs: list[dict[str, Any]] = []
    arc_cost = np.full(len(arcs), _NO_CUT)
    for i, key in enumerate(keys):
        standoff = pool[key].to_entry_m - pool[key].offset_m(params.placement_m)
        needs, total = {}, 0.0
        if standoff <= params.ring_m and _ONTO_SITE not in spans[key].reasons:
            room = _room(spans[key], standoff, ground)
            for cls in check.classes:
                if speeds[cls][i] <= 0:
                    continue
                needs[cls] = _requirement(speeds[cls][i], vehicles[cls], room, hvm_params)
                total += _cost(needs[cls], spans[key].length_m, standoff, params)
            if needs and math.isfinite(total):
                arc_cost[i] = total
        arc_needs.append(needs)
    # closures: a minor street every class passes slowly, both ways (probed at its middle)
    closable = [
        e for e in sorted({a[0] for a in arcs})
        if edges["highway"].iloc[e] in params.closure_streets
        and lines[e].length >= params.closure.depth_m + 2.0
    ]  # fmt: skip
    closure_cost_of: dict[int, float] = {}
    closure_peaks: dict[int, dict[str, float]] = {}
    if closable:
        mids = np.array([shapely.get_coordinates(lines[e].interpolate(0.5, normalized=True))[0]
                         for e in closable])  # fmt: skip
        tree = shapely.STRtree(lines)
        mid_speeds = check.speeds_at(mids, None, horizon)
        across = _closure_spans(city, closable, params, ground)
        for j, e in enumerate(closable):
            peaks = {c: float(mid_speeds[c][j]) for c in check.classes}
            if max(peaks.values()) > params.closure.max_speed_kmh + 1e-9:
                continue
            if not np.array_equal(tree.query(shapely.Point(mids[j]), "dwithin", CLOSURE_CLEAR_M),
                                  [e]):  # fmt: skip
                continue
            if across[e].open_ends:
                continue  # a vehicle drives round the planting over open ground
            standoff = float(min(dist[u[e]], dist[v[e]]))
            width = float(edges["width_m"].iloc[e]) if "width_m" in edges else math.nan
            width = width if width > 0 else params.default_width_m
            closure_cost_of[e] = closure_cost(width, standoff, params,
                                              across_m=across[e].length_m)  # fmt: skip
            closure_peaks[e] = peaks
    # the minimum cut: an arc no line is offered on keeps _NO_CUT
    source, sink = -1, -2
    choice: dict[tuple[int, int], list[tuple[int, str]]] = {}
    for i, (e, tail, head) in enumerate(arcs):
        cost, what = float(arc_cost[i]), "line"
        if e in closure_cost_of and closure_cost_of[e] < cost:
            cost, what = closure_cost_of[e], "closure"
        target = sink if touching[e] else head
        picks = choice.setdefault((tail, target), [])
        capacity = sum(float(arc_cost[j]) for j, _ in picks) if picks else 0.0
        flow.add_edge(tail, target, capacity=min(capacity + cost, _NO_CUT))
        picks.append((i, what))
    edge_nodes = np.flatnonzero(
        shapely.dwithin(shapely.boundary(city.boundary), shapely.points(node_xy), EDGE_M)
    )
    outside = set(np.flatnonzero(~(dist <= params.ring_m)).tolist()) | set(edge_nodes.tolist())
    for node in outside & set(flow.nodes):
        flow.add_edge(source, node, capacity=_NO_CUT * 10)
    if sink not in flow or source not in flow:
        return _Cut({}, {}, {}, ()), ("every street (no line offered)",), ()
    _, (reach, _) = nx.minimum_cut(flow, source, sink)
    crossing = [(a, b) for a, b, c in flow.edges(data="capacity")
                if a in reach and b not in reach]  # fmt: skip
    names = edges["name"].where(edges["name"].notna(), edges["osm_id"]).astype(str).to_numpy()
    leaking = sorted({
        (e, a) for a, b in crossing if flow[a][b]["capacity"] >= _NO_CUT for e in streets[a, b]
    })  # fmt: skip
    leaks = sorted({names[e] for e, _ in leaking})
    needs_out: dict[_Key, Any] = {}
    closures: dict[int, Mapping[str, float]] = {}
    costs: dict[_Key, float] = {}
    for tail, target in crossing:
        for i, what in choice.get((tail, target), []):
            e = arcs[i][0]
            if what == "closure":
                closures[e] = closure_peaks[e]
                costs["closure", e] = closure_cost_of[e]
            elif arc_cost[i] < _NO_CUT:
                for cls, need in arc_needs[i].items():
                    needs_out[keys[i], cls] = need
                    costs["line", keys[i], cls] = _cost(
                        need, spans[keys[i]].length_m,
                        pool[keys[i]].to_entry_m - pool[keys[i]].offset_m(params.placement_m),
                        params,
                    )  # fmt: skip
    return _Cut(needs_out, closures, costs, ()), tuple(leaks), tuple(leaking)


# --- chicanes: slowing a street the ring must cross where no product holds -------------------

#: How far (m) up a street from the junction a chicane's middle is tried, and in what steps.
CHICANE_SEARCH_M, CHICANE_STEP_M = 200.0, 4.0
#: A street runs on straight through a node where it turns by no more than this (degrees).
STRAIGHT_ON_DEG = 30.0


def _unholdable(threats: gpd.GeoDataFrame, top_kmh: float, standoff_m: float) -> list[np.ndarray]:
    """Each open approach faster than ``top_kmh`` all along its last ``standoff_m``, backwards.

    The route's vertices from its entry back to its start (m): where a chicane must slow it.
    """
    paths = []
    for row in threats.itertuples():
        xy = shapely.get_coordinates(row.geometry)
        speeds = np.array(str(row.speeds_kmh).split(), float)
        to_entry = np.r_[np.cumsum(np.hypot(*np.diff(xy, axis=0).T)[::-1])[::-1], 0.0]
        if len(xy) > 1 and (speeds[to_entry <= standoff_m] > top_kmh).all():
            paths.append(xy[::-1])
    return paths


def _upstream_xy(city: City, e: int, tail: int, reach_m: float) -> np.ndarray:
    """The street's vertices back from node index ``tail`` against the travel along edge ``e``.

    Through every node on the straightest piece (turning at most :data:`STRAIGHT_ON_DEG`), for
    at least ``reach_m`` metres or until no piece runs on straight: the way a vehicle comes
    into ``tail`` at speed.
    """
    edges, graph = city.drive_edges, city.drive_csr
    u = graph.node_index(edges["u"].to_numpy()).astype(np.int64)
    v = graph.node_index(edges["v"].to_numpy()).astype(np.int64)
    lines = edges.geometry.to_numpy()
    node_xy = np.column_stack([graph.x, graph.y])
    ahead = _oriented(lines[e], node_xy[tail])
    heading = ahead[1] - ahead[0]  # the travel direction at tail
    xy = [node_xy[[tail]]]
    node, edge, total = tail, e, 0.0
    while total < reach_m:
        best, best_turn = -1, STRAIGHT_ON_DEG
        for f in np.flatnonzero((u == node) | (v == node)).tolist():
            if f == edge:
                continue
            back = _oriented(lines[f], node_xy[node])  # from node, away (against the travel)
            (ax, ay), (bx, by) = -heading, back[1] - back[0]
            turn = math.degrees(math.atan2(abs(ax * by - ay * bx), ax * bx + ay * by))
            if turn < best_turn:
                best, best_turn = f, turn
        if best < 0:
            break
        back = _oriented(lines[best], node_xy[node])
        xy.append(back[1:])
        heading = back[-2] - back[-1]
        total += lines[best].length
        node, edge = int(v[best] if u[best] == node else u[best]), best
        if node == tail:
            break
    return np.vstack(xy)


def _chicanes(
    city: City,
    check: _SiteCheck,
    paths: Sequence[np.ndarray],
    area: Any,
    *,
    params: ProtectParams,
    hvm_params: Any,
    site_name: str,
    first: int = 0,
) -> tuple[Scenario, list[dict[str, Any]]]:
    """A chicane on each path, as near its start as one can be built.

    Each path (vertices, m) runs from where vehicles must be slow back the way they come: up
    the street into a junction the ring must cross where no product holds (:func:`_upstream_xy`),
    or back along an approach no line near the site holds. Its chicane's middle is the first
    place from ``length_m / 2 + 1`` m along it (in :data:`CHICANE_STEP_M` steps up to
    :data:`CHICANE_SEARCH_M`) where one can be built
    (:func:`cohesion_gis.scenario.interventions.chicane`); a path already passing within a
    chicane's length of one gets none. Vehicles come out at its cap, so a line just past it is
    rateable. Its build-outs are rated for the fastest arrival either way there (the
    assessment's own search within ``horizon_m``, :meth:`_SiteCheck.speeds_at`), head-on;
    where that is beyond every test they are permanent structures (costed per metre as such),
    which no product rating covers. Returns the chicanes as a scenario (ids from ``first``)
    and their rows.
    """
    from cohesion_gis.hvm.chicane import ChicaneParams
    from cohesion_gis.hvm.vehicles import Vehicles
    from cohesion_gis.scenario.interventions import APPLY

    geometry = load_params(ChicaneParams)
    edges = city.drive_edges
    widths = edges["width_m"].fillna(params.default_width_m).to_numpy(float)
    tree = shapely.STRtree(edges.geometry.to_numpy())
    placed: list[tuple[Intervention, np.ndarray, int, Any]] = []
    built = city
    half = geometry.length_m / 2
    for path in paths:
        xy = path[np.r_[True, np.any(np.abs(np.diff(path, axis=0)) > 1e-9, axis=1)]]
        if len(xy) < 2:
            continue  # one point (no street runs straight into the junction): nowhere to build
        line = LineString(xy)
        near = line.interpolate(min(CHICANE_SEARCH_M, line.length))
        reach = shapely.ops.substring(line, 0.0, line.project(near))
        if any(reach.distance(shapely.Point(m)) < geometry.length_m for _, m, _, _ in placed):
            continue  # slowed already
        for at in np.arange(half + 1.0, min(CHICANE_SEARCH_M, line.length - half), CHICANE_STEP_M):
            middle = line.interpolate(float(at))
            point = gpd.GeoSeries([middle], crs=city.crs).to_crs(4326).iloc[0]
            number = first + len(placed)
            iv = Intervention(
                number, "chicane",
                MappingProxyType({"geometry": point.wkt, "name": f"{site_name}: chicane {number}"}),
                point,
            )  # fmt: skip
            try:
                built = APPLY["chicane"](built, iv)
            except ScenarioError as exc:
                log.debug("no chicane %.0f m up the path: %s", at, exc)
                continue
            e = int(tree.query_nearest(middle, all_matches=False)[0])
            placed.append((iv, np.asarray(middle.coords[0]), e,
                           shapely.ops.substring(line, at - half, at + half)))  # fmt: skip
            break
    if not placed:
        return Scenario(name="chicanes"), []
    # the full threat horizon: a build-out no product holds says how fast it is met
    speeds = check.speeds_at(np.array([p[1] for p in placed]), None, params.horizon_m)
    vehicles = load_params(Vehicles).select(list(check.classes))
    top = (max(params.cost_per_m) + 0.5) / (1.0 + hvm_params.speed_allowance)
    rows = []
    for i, (_, middle, e, along) in enumerate(placed):
        width = widths[e]
        # two build-outs, each from a façade across its footway and the carriageway to the lane
        length = 2.0 * (width - geometry.lane_width_m + hvm_params.footway_width_m)
        arrival = {c: float(speeds[c][i]) for c in check.classes}
        standoff = float(area.distance(shapely.Point(middle)))  # straight line: at least
        structural = max(arrival.values()) > top + 1e-9
        needs = {} if structural else {
            c: _requirement(v, vehicles[c], standoff, hvm_params)
            for c, v in arrival.items() if v > 0
        }  # fmt: skip
        if structural:
            cost = params.chicane.structure_cost_per_m * length
            cost *= (1.0 + params.chicane.intrusiveness) * _spread(standoff, params)
            form: Form | Closure = params.closure  # drawn as a built structure
            kind_words = "permanent structures (a building line, retaining wall or berm)"
        else:
            cost = sum(_cost(n, length, standoff, params) for n in needs.values())
            form = _form_of(list(needs.values()), params)
            kind_words = form.label
        fastest = max(arrival, key=lambda c: arrival[c])
        row = _base_row(f"chicane/{first + i}", "chicane", form, along)
        row["form"] = f"{params.chicane.label}; build-outs: {kind_words}"
        row |= {
            "length_m": length,
            "width_m": width,
            "open_ends": 0,
            "tied_to": "",
            "open_end_reasons": "",
            "standoff_m": standoff,
            "gap_m": params.gap_m,
            "cost_units": cost + params.chicane.works_units,
            "intrusiveness": params.chicane.intrusiveness,
            "street": str(edges["name"].iloc[e]) if isinstance(edges["name"].iloc[e], str)
            else str(edges["osm_id"].iloc[e]),
        }  # fmt: skip
        for cls in params.classes:
            need = needs.get(cls)
            row[f"speed_kmh_{cls}"] = round(arrival.get(cls, 0.0), 1)
            row[f"angle_deg_{cls}"] = 90.0 if cls in arrival else np.nan
            row[f"rating_{cls}"] = _rating(need) if need else ""
        row["what_it_stops"] = (
            f"slows every vehicle through it to its cap; its build-outs stop one that does not "
            f"take the path, arriving head-on at up to {arrival[fastest]:.0f} km/h ({fastest})"
        )
        row["requirement"] = (
            "; ".join(needs[c].text for c in sorted(needs)) if needs else
            f"arrival {arrival[fastest]:.0f} km/h ({fastest}) head-on is beyond every tested "
            f"product ({max(params.cost_per_m):.0f} km/h test): structural build-outs"
        )  # fmt: skip
        rows.append(row)
    scenario = Scenario(
        name="chicanes",
        description=f"{len(placed)} chicanes designed by cohesion-gis protect.",
        base=base_spec(city),
        interventions=tuple(p[0] for p in placed),
    )
    return scenario, rows


# --- lines and the scenario ----------------------------------------------------------------


def _line(span: _Span) -> LineString:
    """The line across the street, façade to façade, and any tie to an obstacle (`_spans`)."""
    (left, right), (tie_left, tie_right) = span.ends(), span.ties
    return LineString([p for p in (tie_left, left, right, tie_right) if p is not None])


#: Test vehicles in plain words, by the first letters of the ISO 22343-1 class.
_VEHICLE_WORDS = (("M1", "car"), ("N1", "van"), ("N2", "truck"), ("N3", "truck"))


def _rating(need: Any) -> str:
    """The rating string asked of a line: head-on test, penetration within the stand-off."""
    # ISO 22343-1 rates penetration up to 25 m: a larger stand-off is not needed, not tested
    standoff = min(need.max_penetration_m or 0.0, ISO_MAX_PENETRATION_M)
    pen = max(0.0, math.floor(standoff * 10) / 10)
    return f"V/{need.mass_kg:.0f}[{need.vehicle_class}]/{need.test_speed_kmh:.0f}/90:{pen:.1f}"


def rating_words(needs: Mapping[str, Any]) -> str:
    """What a line must stop, in plain words: ``"stops a 1.5 t car (M1) at 64 km/h head-on..."``."""
    parts = []
    for cls in sorted(needs, key=lambda c: needs[c].mass_kg):
        need = needs[cls]
        noun = next((w for prefix, w in _VEHICLE_WORDS if cls.startswith(prefix)), "vehicle")
        parts.append(
            f"a {need.mass_kg / 1000:.1f} t {noun} ({cls}) at {need.test_speed_kmh:.0f} km/h"
        )
    if not parts:
        return ""
    pen = min(*(n.max_penetration_m or 0.0 for n in needs.values()), ISO_MAX_PENETRATION_M)
    return (
        f"stops {', '.join(parts)}, head-on (90°), moving no more than "
        f"{math.floor(pen * 10) / 10:.1f} m"
    )


def _base_row(line_id: str, kind: str, form: Form | Closure, geometry: Any) -> dict[str, Any]:
    form_type = form.name if isinstance(form, Form) else "closure"
    return {"line_id": line_id, "kind": kind, "form_type": form_type, "form": form.label,
            "closes_streets": "", "geometry": geometry}  # fmt: skip


def _lines(
    city: City,
    cut: _Cut | None,
    pool: Mapping[_Key, _Segment],
    params: ProtectParams,
    ground: _Ground | None = None,
) -> gpd.GeoDataFrame:
    """One physical line per cut segment (a rating per class it stops), one row per closure."""
    by_segment: dict[_Key, dict[str, Any]] = {}
    if cut is not None:
        for (key, cls), need in cut.needs.items():
            by_segment.setdefault(key, {})[cls] = need
    chosen = {k: pool[k] for k in by_segment}
    widths, _ = _streets(city, chosen, params.default_width_m)
    ground = ground or _ground(city, crosses=params.tie_crosses)
    spans = _spans(city, chosen, widths, params, ground)
    rows = []
    for i, key in enumerate(_segment_order(cut)):
        seg, needs, width, span = pool[key], by_segment[key], widths[key], spans[key]
        form = _form_of(list(needs.values()), params)
        row = _base_row(f"protect/{i}", "rated line", form, _line(span))
        row |= {
            "length_m": span.length_m,
            "width_m": width,
            "open_ends": span.open_ends,
            "tied_to": "; ".join(span.tied_to),
            "open_end_reasons": "; ".join(span.reasons),
            "standoff_m": seg.to_entry_m - seg.offset_m(params.placement_m),
            "gap_m": params.gap_m,
            "cost_units": sum(cut.costs["line", key, cls] for cls in needs) if cut else 0.0,
            "intrusiveness": form.intrusiveness,
        }
        for cls in params.classes:
            need = needs.get(cls)
            row[f"speed_kmh_{cls}"] = round(need.impact_speed_kmh, 1) if need else 0.0
            row[f"angle_deg_{cls}"] = need.angle_deg if need else np.nan
            row[f"rating_{cls}"] = _rating(need) if need else ""
        row["what_it_stops"] = rating_words(needs)
        row["requirement"] = "; ".join(needs[c].text for c in sorted(needs))
        closes = _tie_closes(city, span)
        if closes:  # a tie across an access way closes it too (method step 6): count it
            row["closes_streets"] = "; ".join(closes)
            row["what_it_stops"] += f"; its tie closes {' and '.join(closes)} to vehicles"
        rows.append(row)
    rows += _kerb_rows(cut, params, start=len(rows))
    rows += _closure_rows(city, cut, pool, params, ground)
    columns = ["line_id", "kind", "form_type", "form", "length_m", "width_m", "open_ends",
               "tied_to", "open_end_reasons", "standoff_m", "gap_m", "cost_units",
               "intrusiveness", "what_it_stops", "requirement", "geometry"]  # fmt: skip
    if not rows:
        return gpd.GeoDataFrame(columns=columns, geometry="geometry", crs=city.crs)
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=city.crs)


def _tie_closes(city: City, span: _Span) -> tuple[str, ...]:
    """Streets a line's ties cross (access ways, ``tie_crosses``): the tie closes them."""
    parts = [LineString([e, t]) for e, t in zip(span.ends(), span.ties, strict=True) if t]
    if not parts:
        return ()
    edges = city.drive_edges
    hit = np.unique(shapely.STRtree(edges.geometry.to_numpy()).query(
        np.array(parts, dtype=object), predicate="intersects")[1])  # fmt: skip
    names = edges["name"] if "name" in edges else pd.Series(None, index=edges.index)
    return tuple(sorted({
        str(names.iloc[j]) if isinstance(names.iloc[j], str) else str(edges["osm_id"].iloc[j])
        for j in hit
    }))  # fmt: skip


def _kerb_rows(cut: _Cut | None, params: ProtectParams, *, start: int) -> list[dict[str, Any]]:
    """One row per kerbside line: between an entry and the crowd, a rating per class it stops.

    A continuous line (linked rated planters, a rated seating wall): the assessment credits it
    against glancing impacts too; walkers pass round its ends.
    """
    if cut is None or not cut.kerb_needs:
        return []
    by_entry: dict[_Key, dict[str, Any]] = {}
    for (entry, cls), need in cut.kerb_needs.items():
        by_entry.setdefault(entry, {})[cls] = need
    rows = []
    for i, entry in enumerate(sorted(by_entry, key=str)):
        needs, kerb = by_entry[entry], cut.kerbs[entry]
        form = _form_of(list(needs.values()), params)
        row = _base_row(f"protect/{start + i}", "kerbside line", form, kerb.line)
        row["form"] = f"continuous kerbside line: {form.label}; walkers pass round its ends"
        row |= {
            "length_m": kerb.line.length,
            "width_m": np.nan,
            "open_ends": 0,
            "tied_to": "",
            "open_end_reasons": "",
            "standoff_m": kerb.setback_m,
            "gap_m": params.gap_m,
            "cost_units": sum(cut.costs["kerb", entry, cls] for cls in needs),
            "intrusiveness": form.intrusiveness,
        }
        for cls in params.classes:
            need = needs.get(cls)
            row[f"speed_kmh_{cls}"] = round(need.impact_speed_kmh, 1) if need else 0.0
            row[f"angle_deg_{cls}"] = need.angle_deg if need else np.nan
            row[f"rating_{cls}"] = _rating(need) if need else ""
        row["what_it_stops"] = rating_words(needs)
        row["requirement"] = "; ".join(needs[c].text for c in sorted(needs))
        if kerb.closes:  # it runs across another street's carriageway: that street is closed
            row["closes_streets"] = "; ".join(kerb.closes)
            row["what_it_stops"] += f"; it closes {' and '.join(kerb.closes)} to vehicles"
        rows.append(row)
    return rows


def _closure_rows(
    city: City, cut: _Cut | None, pool: Mapping[_Key, _Segment], params: ProtectParams,
    ground: _Ground,
) -> list[dict[str, Any]]:  # fmt: skip
    """One row per closure: the built-over middle of its street (a line along it)."""
    if cut is None or not cut.closures:
        return []
    widths, on_street = _streets(city, pool, params.default_width_m)
    edges = city.drive_edges
    across = _closure_spans(city, sorted(cut.closures), params, ground)
    rows = []
    for i, edge in enumerate(sorted(cut.closures)):
        street = edges.geometry.iloc[edge]
        mid, half = street.length / 2, params.closure.depth_m / 2
        keys = [k for k in pool if on_street[k] == edge]
        name = edges["name"].iloc[edge] if "name" in edges else None
        row = _base_row(f"closure/{i}", "closure", params.closure,
                        shapely.ops.substring(street, mid - half, mid + half))  # fmt: skip
        row |= {
            "length_m": params.closure.depth_m,
            "width_m": widths[keys[0]],
            "open_ends": across[edge].open_ends,
            "tied_to": "; ".join(across[edge].tied_to),
            "open_end_reasons": "; ".join(across[edge].reasons),
            "standoff_m": min(pool[k].to_entry_m for k in keys),
            "gap_m": params.gap_m,
            "cost_units": cut.costs["closure", edge],
            "intrusiveness": params.closure.intrusiveness,
            "street": name if isinstance(name, str) else str(edges["osm_id"].iloc[edge]),
        }
        peaks = cut.closures[edge]
        for cls in params.classes:
            row[f"speed_kmh_{cls}"] = round(peaks.get(cls, 0.0), 1)
            row[f"angle_deg_{cls}"] = np.nan
            row[f"rating_{cls}"] = ""
        fastest = max(peaks.values())
        row["what_it_stops"] = (
            f"closes the street to every vehicle; they arrive at no more than {fastest:.0f} km/h"
        )
        row["requirement"] = (
            f"street built over for {params.closure.depth_m:.0f} m, "
            f"{across[edge].length_m:.0f} m across from façade to façade (tied to "
            f"{' and '.join(across[edge].tied_to) or 'nothing'}: no way round it); every class "
            f"arrives at ≤ {params.closure.max_speed_kmh:.0f} km/h (fastest {fastest:.0f} km/h)"
        )
        rows.append(row)
    return rows


def _scheme(
    city: City,
    site: pd.Series,
    lines: gpd.GeoDataFrame,
    classes: Sequence[str],
    hvm_overrides: Mapping[str, Any],
) -> Scenario:
    """The scheme as a scenario: ``add_barrier`` per line and class, ``close_road`` per closure.

    A closure refers to its street by a point at the street's middle (no other street within
    :data:`CLOSURE_CLEAR_M`); ``hvm_overrides`` (the search horizon) make a comparison of the
    written file assess as the design did.
    """
    wgs = lines.to_crs(4326) if len(lines) else lines
    interventions: list[Intervention] = []
    for line, shape in zip(lines.itertuples(), wgs.geometry, strict=True):
        if line.kind == "closure":
            middle = shape.interpolate(0.5, normalized=True)
            options = {"geometry": middle.wkt}
            interventions.append(
                Intervention(len(interventions), "close_road", MappingProxyType(options), middle)
            )
            continue
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
                        # a kerbside line is one continuous rated line (docs/protect.md), so it
                        # may hold glancing runs (hvm.impact.CONTINUOUS_KINDS); across a street
                        # a line is a row of bollards walkers pass between
                        "kind": "rail" if line.kind == "kerbside line" else "bollard",
                        "name": f"{site['name']}: line {line.line_id} ({cls})",
                        "barrier_id": f"{line.line_id}:{cls}",
                    }),
                    shape,
                )
            )  # fmt: skip
    n_lines = int((lines["kind"] != "closure").sum()) if len(lines) else 0
    return Scenario(
        name=f"protect_{''.join(c if c.isalnum() else '_' for c in str(site['site_id']))}",
        description=(
            f"Designed barrier scheme for {site['name']}: {n_lines} rated lines and "
            f"{len(lines) - n_lines} street closures (classes {', '.join(classes)}), by "
            "cohesion-gis protect."
        ),
        base=base_spec(city),
        hvm_overrides=MappingProxyType(dict(hvm_overrides)),
        interventions=tuple(interventions),
    )


# --- verification ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _SiteCheck:
    """The vehicle dynamics assessment of one site on a scheme's City.

    The approach network is built whole (every street, barrier and site entry of the scheme's
    City) and only the site is searched: :class:`~cohesion_gis.hvm.routes.ApproachNetwork`
    gives a site the rows a full assessment gives it, whichever sites are searched with it.
    """

    city: City
    sites: gpd.GeoDataFrame  # soft_target_sites of the City, in the assessment's order
    site_id: str
    classes: tuple[str, ...]
    hvm_params: Any

    def site_params(self) -> Any:
        """The site parameters the assessment uses (entry band, capacities)."""
        return self._setup(None)[1].site_params

    def overrun_nodes(self) -> np.ndarray:
        """Street ends (``city.drive_csr`` positions) whose over-run leg enters the site.

        A vehicle there goes straight on across the junction and footway into the crowd
        (:mod:`cohesion_gis.hvm.overrun`): for the ring, the end is an entry of the site.
        """
        plain, setup = self._setup(None)
        legs = setup.legs(plain, setup.areas(self.sites))
        ends = legs.loc[legs["overrun_site"] == self.site_id, "u"].to_numpy(np.int64)
        return self.city.drive_csr.node_index(ends).astype(np.int64)

    def _setup(self, scheme: Scenario | None) -> tuple[City, Any]:
        """The scheme's City without its rated lines, and the assessment's setup with them."""
        from cohesion_gis.comparison import split_rated
        from cohesion_gis.hvm.assess import AssessmentSetup, HvmOptions

        city = apply(self.city, scheme) if scheme is not None else self.city
        plain, proposed = split_rated(city)
        options = HvmOptions(barriers=proposed, params=self.hvm_params)
        return plain, AssessmentSetup.resolve(plain, options)

    def speeds_at(
        self, points: np.ndarray, upstream: np.ndarray | None, horizon_m: float
    ) -> dict[str, np.ndarray]:
        """Per class, the fastest a vehicle can pass each point (km/h), coming from upstream.

        Each point becomes a probe site (a disc :data:`PROBE_M` across) searched by the
        assessment on the base City within ``horizon_m``: its entry nearest ``upstream``
        (None: any entry, either way) is reached at the fastest speed any start, on any path,
        gives there (the VDA's own search, not one route's).
        """
        plain, setup = self._setup(None)
        setup = replace(setup, params=replace(setup.params, search_horizon_m=horizon_m))
        probes = gpd.GeoDataFrame(
            {"site_id": np.arange(len(points))},
            geometry=shapely.buffer(shapely.points(points), PROBE_M / 2),
            crs=self.city.crs,
        )
        rows = setup.network(plain, probes).routes()
        rows = rows.loc[rows["vehicle_class"].isin(self.classes)]
        site = rows["site_id"].to_numpy(dtype=int)
        if upstream is None:
            near = -rows["impact_speed_kmh"].fillna(0.0).to_numpy(float)
        else:
            near = np.hypot(
                rows["entry_x"].to_numpy(float) - upstream[site, 0],
                rows["entry_y"].to_numpy(float) - upstream[site, 1],
            )
        rows = rows.assign(_near=near).sort_values(["site_id", "vehicle_class", "_near"])
        first = rows.drop_duplicates(["site_id", "vehicle_class"])
        out = {}
        for cls in self.classes:
            mine = first.loc[first["vehicle_class"] == cls]
            speed = np.zeros(len(points))
            speed[mine["site_id"].to_numpy(dtype=int)] = mine["impact_speed_kmh"].fillna(0.0)
            out[cls] = speed
        return out

    def rows(self, scheme: Scenario) -> gpd.GeoDataFrame:
        """The site's approach rows (classes asked) with ``scheme`` built."""
        from cohesion_gis.hvm.impact import impact_envelope

        plain, setup = self._setup(scheme)
        network = setup.network(plain, setup.areas(self.sites))
        position = np.flatnonzero(self.sites["site_id"].to_numpy() == self.site_id)
        rows = impact_envelope(
            network.routes(position), self.sites, setup.edges,
            vehicles={v.name: v for v in setup.classes}, params=setup.params,
            barriers=setup.routing,
        )  # fmt: skip
        return _rows(rows, self.site_id, self.classes)


# --- the loop ------------------------------------------------------------------------------


def protect(
    city: City,
    site: str,
    *,
    classes: Sequence[str] | None = None,
    params: ProtectParams | None = None,
    hvm_params: Any = None,
    verify: str = "all",
    given: Scenario | None = None,
) -> Protection:
    """Design and verify the cheapest barrier scheme that stops every approach to ``site``.

    Each round solves the hitting set over the open approaches known so far and re-assesses the
    site alone on the scheme's City (its rows of a full assessment, searched on the whole
    network); approaches still open join the threats. The final scheme is then compared with the
    base (:func:`cohesion_gis.compare`): the full assessment of every site and the cohesion
    engine, whose verdict is reported.

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
        HVM parameters (packaged defaults when None); the search horizon is raised to
        ``params.horizon_m``.
    verify
        ``"all"``: the final comparison re-runs the VDA of every site (the scheme's effect on
        the other sites too); ``"site"``: only the site's own (its rows of a full VDA, searched
        on the whole network) and the cohesion engine, much faster on a large study area.
    given
        A street change the planner makes first (e.g. a street stopped up): the scheme is
        designed on ``apply(city, given)``, its scenario holds the given interventions first,
        and the comparison is against ``city`` (homes losing access through ``given`` count).

    Returns
    -------
    Protection
        ``open_after == 0`` when the verified scheme leaves no approach open.

    Raises
    ------
    InputError
        No site matches ``site``, a class is not one the assessment runs, ``verify`` is
        neither "all" nor "site", or ``given`` has another base or parameter overrides.
    """
    from cohesion_gis.comparison import analyse, compare
    from cohesion_gis.hvm.assess import find_site
    from cohesion_gis.hvm.chicane import ChicaneParams
    from cohesion_gis.hvm.params import HvmParams
    from cohesion_gis.hvm.sites import soft_target_sites

    params = params or load_params(ProtectParams)
    classes = tuple(classes or params.classes)
    if classes != params.classes:
        params = replace(params, classes=classes)
    hvm_params = hvm_params or load_params(HvmParams)
    unknown = sorted(set(classes) - set(hvm_params.default_vehicle_classes))
    if unknown:
        raise InputError(
            f"classes {', '.join(unknown)} are not assessed; choose among "
            f"{', '.join(hvm_params.default_vehicle_classes)} (defaults/hvm.toml)"
        )
    if verify not in {"all", "site"}:
        raise InputError(f"verify: got {verify!r}, expected 'all' or 'site'")
    original = city
    if given is not None:
        city = apply(city, _given_checked(city, given))
    horizon = max(hvm_params.search_horizon_m, params.horizon_m)
    hvm_params = replace(hvm_params, search_horizon_m=horizon)
    design = replace(hvm_params, test_speeds_kmh=tuple(params.cost_per_m))
    every = verify == "all"
    sites = soft_target_sites(city)
    find_site(sites.assign(rank=0), site)  # a misspelt name fails before the long analysis
    base = analyse(city, hvm_params=hvm_params, hvm=every)
    # the assessment's ranked table, else the site table in site_id order (rank 0 for all)
    row = find_site(base.hvm.sites if base.hvm is not None else sites.assign(rank=0), site)
    site_id = str(row["site_id"])
    check = _SiteCheck(city, sites, site_id, classes, hvm_params)
    overrides = {"search_horizon_m": horizon}
    pool: dict[_Key, _Segment] = {}
    routes: list[_Route] = []
    crowd = sites.loc[sites["site_id"] == site_id].geometry.iloc[0]
    ground = _ground(
        city, crowd, min_height_m=hvm_params.level_change_min_height_m,
        crosses=params.tie_crosses,
    )  # fmt: skip
    kerbs: dict[_Key, _Kerb | None] = {}
    lines = _lines(city, None, pool, params, ground)
    scheme = _scheme(city, row, lines, classes, overrides)
    before = (
        _rows(base.hvm.approaches, site_id, classes) if base.hvm is not None else check.rows(scheme)
    )
    threats = _open(before, site_id, classes)
    open_before = len(threats)
    after = before
    rounds, open_after, unstoppable = 0, open_before, 0
    ring: _Cut | None = None
    leaks: tuple[str, ...] = ()
    calming, calm_rows = Scenario(name="chicanes"), []  # chicanes the ring needs
    try_ring, limit, start = params.ring_m > 0, params.max_rounds, 0
    floors: dict[_Key, float] = {}  # lines the verification found driven through, and how fast
    shown: _Cut | None = None  # the cut ``lines`` were drawn from
    while open_after and rounds < limit:
        known = len(routes)
        _add_routes(pool, routes, threats, params.placement_m, hvm_params.glancing_below_deg)
        raised = {
            slot: v for slot, v in _driven_through(threats, lines, shown).items()
            if v > floors.get(slot, 0.0) + 1e-6
        }  # fmt: skip
        floors |= raised
        if raised:
            log.info("protect %s round %d: %d lines driven through, rated again", row["name"],
                     rounds, len({k for k, _ in raised}))  # fmt: skip
        if rounds > start and len(routes) == known and not raised:
            break  # what is still open was already in the cut: nothing offered can stop it
        rounds += 1
        for entry in sorted({r.segments[-1][1] for r in routes} - set(kerbs), key=str):
            kerb = _kerb(entry[1], crowd, hvm_params.gap_limit_m / 2, city.drive_edges,
                         params.default_width_m)  # fmt: skip
            kerbs[entry] = next(
                (k for k in kerbs.values()
                 if k and kerb and k.line.hausdorff_distance(kerb.line) < KERB_SAME_M),
                kerb,
            )  # two entries beside each other share one line  # fmt: skip
        usable = {e: k for e, k in kerbs.items() if k}
        cut = _cut(city, pool, routes, params, design, kerbs=usable, ground=ground, fixed=ring,
                   floors=floors)  # fmt: skip
        unstoppable = len(cut.unstoppable)
        if unstoppable and try_ring:
            # too fast for any test near the site: close it off where vehicles are still slow
            try_ring = False
            area = crowd.buffer(check.site_params().entry_snap_m)
            closed, leaks, leaking = _ring(
                city, check, area, params=params, hvm_params=design, ground=ground, pool=pool
            )
            if leaking:  # slow the streets it must cross before their junctions, then again
                reach = CHICANE_SEARCH_M + load_params(ChicaneParams).length_m
                slowing, slow_rows = _chicanes(
                    city, check, [_upstream_xy(city, e, n, reach) for e, n in leaking], area,
                    params=params, hvm_params=design, site_name=str(row["name"]),
                )  # fmt: skip
                slowed = replace(check, city=apply(city, slowing))
                if slowing.interventions:
                    retry, still, _ = _ring(
                        slowed.city, slowed, area, params=params, hvm_params=design,
                        ground=ground, pool=pool,
                    )  # fmt: skip
                    log.info("protect %s: %d chicanes, the ring then open on %s", row["name"],
                             len(slow_rows), "; ".join(still) or "no street")  # fmt: skip
                    if not still:  # the chicanes close the ring: design on the slowed city
                        check, city, closed, leaks = slowed, slowed.city, retry, still
                        calming, calm_rows = slowing, slow_rows
            log.info("protect %s: ring of %d lines and closures, open on %s", row["name"],
                     len({k for k, _ in closed.needs}) + len(closed.closures),
                     "; ".join(leaks) or "no street")  # fmt: skip
            if not leaks:  # closed: design again inside it, from what it leaves open
                ring, routes, kerbs, start = closed, [], {}, rounds
                limit = rounds + params.max_rounds
                cut, unstoppable = closed, 0
        if unstoppable and not try_ring:  # no line near the site holds them: slow each one
            top = (max(params.cost_per_m) + 0.5) / (1.0 + design.speed_allowance)
            slowing, slow_rows = _chicanes(
                city, check, _unholdable(threats, top, params.max_standoff_m), crowd,
                params=params, hvm_params=design, site_name=str(row["name"]),
                first=len(calm_rows),
            )  # fmt: skip
            if slowing.interventions:  # verify on the slowed city, then design from there
                check = replace(check, city=apply(city, slowing))
                city, calm_rows = check.city, [*calm_rows, *slow_rows]
                calming = replace(
                    slowing, interventions=(*calming.interventions, *slowing.interventions)
                )
                routes, kerbs, start, limit = [], {}, rounds, max(limit, rounds + 3)
                after = check.rows(scheme)
                threats = _open(after, site_id, classes)
                open_after = len(threats)
                log.info("protect %s round %d: %d chicanes on approaches, %d open", row["name"],
                         rounds, len(slow_rows), open_after)  # fmt: skip
                continue
        if not cut.costs:
            break
        lines, shown = _lines(city, cut, pool, params, ground), cut
        scheme = _scheme(city, row, lines, classes, overrides)
        after = check.rows(scheme)
        threats = _open(after, site_id, classes)
        open_after = len(threats)
        log.info("protect %s round %d: %d lines, %d approaches open", row["name"], rounds,
                 len(lines), open_after)  # fmt: skip
    comparison = None
    if calm_rows:  # the chicanes first (the lines' places are on their split streets)
        lines = pd.concat([gpd.GeoDataFrame(calm_rows, geometry="geometry", crs=city.crs), lines],
                          ignore_index=True)  # fmt: skip
        scheme = replace(
            scheme,
            description=f"{scheme.description} With {len(calm_rows)} chicanes.",
            interventions=(*calming.interventions, *scheme.interventions),
        )
    if given is not None:  # the given change first; compared with the city before it
        scheme = replace(
            scheme,
            description=f"{scheme.description} After {given.name}: {given.description}".strip(),
            interventions=(*given.interventions, *scheme.interventions),
        )
    scheme = replace(
        scheme,
        interventions=tuple(
            replace(change, index=i) for i, change in enumerate(scheme.interventions)
        ),
    )
    if scheme.interventions:
        comparison = compare(
            original, scheme, base=base if given is None else None, hvm_params=hvm_params,
            hvm=every,
        )  # fmt: skip
        if every:
            if comparison.after.hvm is None:  # compare assesses the sites unless told not to
                raise RuntimeError("protect: the comparison ran no HVM assessment")
            after = _rows(comparison.after.hvm.approaches, site_id, classes)
        open_after = len(_open(after, site_id, classes))
    note = _note(
        row, lines, open_before, open_after, rounds=rounds, unstoppable=unstoppable, leaks=leaks
    )
    return Protection(
        row, lines, scheme, comparison, open_before, open_after, before, after, rounds, note
    )


def _given_checked(city: City, given: Scenario) -> Scenario:
    """``given`` if it changes ``city``'s own base and streets only, else an InputError."""
    where = given.path or given.name
    if given.base != base_spec(city):
        raise InputError(
            f"{where}: base {given.base.source!r} is not the study area's "
            f"({base_spec(city).source!r}); write the given scenario on the same base"
        )
    if given.cohesion_overrides or given.hvm_overrides:
        raise InputError(
            f"{where}: [parameters] are not used by protect; give a scenario of street changes only"
        )
    return given


def _rows(approaches: gpd.GeoDataFrame, site_id: str, classes: Sequence[str]) -> gpd.GeoDataFrame:
    """The site's approach rows of the classes asked."""
    mine = (approaches["site_id"] == site_id) & approaches["vehicle_class"].isin(classes)
    return approaches.loc[mine].reset_index(drop=True)


def _note(
    row: pd.Series, lines: gpd.GeoDataFrame, before: int, after: int, *, rounds: int,
    unstoppable: int, leaks: Sequence[str] = (),
) -> str:  # fmt: skip
    name = row["name"]
    if before == 0:
        return f"{name}: no open vehicle approach; nothing to protect"
    kinds = lines["kind"].value_counts() if len(lines) else pd.Series(dtype=int)
    closures, kerbside = int(kinds.get("closure", 0)), int(kinds.get("kerbside line", 0))
    chicanes = int(kinds.get("chicane", 0))
    closed = _closed_by_lines(lines)
    what = (
        f"{len(lines) - closures - chicanes} rated lines"
        + (f" ({kerbside} of them kerbside)" if kerbside else "")
        + (f" and {closures} street closures" if closures else "")
        + (f", closing {len(closed)} street(s) they cross" if closed else "")
        + (
            f", after {chicanes} chicanes that slow the streets no product holds"
            if chicanes
            else ""
        )
    )
    if after == 0:
        return (
            f"{name}: {what} stop all {before} open approaches "
            f"(verified by re-running the assessment; {rounds} round(s))"
        )
    why = (
        f"; {unstoppable} approach(es) are faster than any test speed covers all along their "
        "route: slow them first (traffic calming, a bend, a narrowing)"
        if unstoppable
        else ""
    )
    if leaks:
        why += f"; no tested ring closes it off: slow or close {', '.join(leaks)} first"
    return (
        f"{name}: partial scheme: {what}; {after} of {before} approaches "
        f"still open after {rounds} round(s){why}"
    )


def write_protection(
    result: Protection, city: City, out_dir: str | Path, *, overwrite: bool = False
) -> dict[str, Path]:
    """Write the scheme: scenario TOML, lines (GeoPackage, CSV), summary JSON, map and page.

    ``scheme_map.html`` is the offline map (:func:`cohesion_gis.maps.protect.scheme_map`) and
    ``scheme_summary.html`` the one-page summary (:func:`scheme_html`; print it to PDF from a
    browser). The files are written together: a staging folder replaces ``out_dir`` whole (a
    folder holding anything but an earlier scheme of the same site is refused).

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


#: Names of the map and the one-page summary (HTML and PDF), beside the scheme's table.
MAP_NAME, PAGE_NAME, PDF_NAME = "scheme_map.html", "scheme_summary.html", "scheme_summary.pdf"
PAGE_NAMES = (MAP_NAME, PAGE_NAME, PDF_NAME)


def protect_outputs(stem: str) -> tuple[str, ...]:
    """The names :func:`write_protection` writes for a scheme named ``stem``."""
    return (f"{stem}.toml", f"{stem}_lines.csv", f"{stem}.gpkg", f"{stem}.provenance.json",
            f"{stem}.json", *PAGE_NAMES)  # fmt: skip


def _closed_by_lines(lines: gpd.GeoDataFrame) -> list[str]:
    """Streets a kerbside line closes (it crosses their carriageway), as "line_id: street"."""
    if not len(lines) or "closes_streets" not in lines:
        return []
    return [
        f"{r.line_id}: {street}"
        for r in lines.itertuples()
        for street in str(r.closes_streets or "").split("; ")
        if street and street != "nan"
    ]


#: Decimals of the walking-access and severance changes written (scores; the page shows 3
#: significant figures). Lengths are written to 0.1 m and costs to whole units, as documented.
SCORE_DIGITS = 4


def _summary(result: Protection) -> dict[str, Any]:
    """The scheme's figures (the JSON and the one-page summary), rounded to what they resolve."""
    lines = result.lines
    closures = int((lines["kind"] == "closure").sum()) if len(lines) else 0
    chicanes = int((lines["kind"] == "chicane").sum()) if len(lines) else 0
    closed = _closed_by_lines(lines)
    out: dict[str, Any] = {
        "site_id": str(result.site["site_id"]),
        "site": str(result.site["name"]),
        "note": result.note,
        "lines": len(lines) - closures - chicanes,
        "closures": closures + len(closed),
        "streets_closed_by_lines": closed,
        "chicanes": chicanes,
        "total_length_m": round(float(lines["length_m"].sum()), 1) if len(lines) else 0.0,
        "cost_units": round(float(lines["cost_units"].sum())) if len(lines) else 0,
        "open_line_ends": int(lines["open_ends"].sum()) if len(lines) else 0,
        "open_line_end_reasons": [
            f"{r.line_id}: {r.open_end_reasons}" for r in lines.itertuples() if r.open_ends
        ],
        "open_approaches_before": result.open_before,
        "open_approaches_after": result.open_after,
        "rounds": result.rounds,
    }
    if result.comparison is not None:
        homes = result.comparison.homes
        out["homes_losing_access"] = int((homes["access_delta"] < -1e-9).sum())
        loss = max(0.0, -float(homes["access_delta"].min()))
        out["largest_access_loss"] = round(loss, SCORE_DIGITS)
        out["largest_severance_change"] = round(
            float(homes["severance_delta"].abs().max()), SCORE_DIGITS
        )
        out["comparison_summary"] = list(result.comparison.summary)
    return out


def _write_scheme(result: Protection, city: City, out: Path) -> dict[str, Path]:
    """Every output of :func:`write_protection`, into the (staging) folder ``out``."""
    from cohesion_gis.export import write_csv, write_geopackage, write_json
    from cohesion_gis.maps.offline import save_offline
    from cohesion_gis.maps.protect import scheme_map
    from cohesion_gis.maps.static import save_pdf
    from cohesion_gis.scenario.write import write_scenario

    stem = result.scenario.name
    header = f"Barrier scheme by cohesion-gis protect. {result.note}."
    paths = {
        "scenario": write_scenario(result.scenario, out / f"{stem}.toml", header=header),
        "lines_csv": write_csv(result.lines, out / f"{stem}_lines.csv", geometry=True),
        "lines": write_geopackage({"barrier_lines": result.lines}, out / f"{stem}.gpkg",
                                  metadata=city.provenance.as_dict()),
    }  # fmt: skip
    summary = _summary(result)
    summary["provenance"] = city.provenance.as_dict()
    summary["assumptions"] = list(ASSUMPTIONS)
    paths["summary"] = write_json(summary, out / f"{stem}.json")
    site = _site_geometry(city, result)
    paths["map"] = save_offline(
        scheme_map(result, streets=city.drive_edges, buildings=city.buildings, site_geometry=site),
        out / MAP_NAME,
    )
    page = out / PAGE_NAME
    page.write_text(scheme_html(result), encoding="utf-8")
    paths["page"] = page
    figure = scheme_figure(result, streets=city.drive_edges, buildings=city.buildings,
                           site_geometry=site)  # fmt: skip
    paths["pdf"] = save_pdf(figure, out / PDF_NAME)
    return paths


def _site_geometry(city: City, result: Protection) -> Any:
    """The site's crowd perimeter (City CRS), or None when the assessment has no geometry."""
    assessed = result.comparison.base.hvm if result.comparison is not None else None
    sites = assessed.sites if assessed is not None else None
    if sites is None or "geometry" not in sites:
        from cohesion_gis.hvm.sites import soft_target_sites

        sites = soft_target_sites(city)
    hit = sites.loc[sites["site_id"] == result.site["site_id"]]
    return hit.geometry.iloc[0] if len(hit) else None


def _ends_words(row: Any) -> str:
    """A line's ends in words: façade to façade, tied to obstacles, or open and why."""
    if row.kind == "closure":
        return "kerb to kerb"
    if row.kind == "kerbside line":
        return "walkers pass round its ends"
    tied = f"tied to {row.tied_to}" if row.tied_to else ""
    if not row.open_ends:
        return tied or "façade to façade"
    why: dict[str, list[str]] = {}  # "every façade ... across A; ... across B": "... A or B"
    for reason in str(row.open_end_reasons).split("; "):
        head, _, what = reason.rpartition(" across ")
        why.setdefault(head or reason, []).extend([what] if head else [])
    reasons = "; ".join(
        f"{head} across {' or '.join(dict.fromkeys(names))}" if names else head
        for head, names in why.items()
    )
    return "; ".join(x for x in (tied, f"{row.open_ends} open: {reasons}") if x)


#: What the summary pages say besides the assumptions.
CAVEATS = (
    *ASSUMPTIONS,
    "a screening, not a vehicle dynamics assessment by a suitably qualified practitioner: "
    "have it reviewed (NPSA, CTSA) before specifying products; a rating is evidence only "
    "for its test vehicle, speed, angle and penetration",
    "a street closure with landscaping is credited only where every vehicle arrives slowly "
    "(defaults/protect.toml); its elements still need a practitioner's check",
)


def _left_open(result: Protection, *, short: bool = False) -> list[str]:
    """Each approach the scheme leaves open, fastest first, in plain words.

    ``short``: the requirement as rating codes only (:func:`hvm.rating.short_requirement`).
    """
    from cohesion_gis.hvm.rating import short_requirement
    from cohesion_gis.maps import format_number as num

    after = result.approaches_after
    still = _open(after, str(result.site["site_id"]), list(after["vehicle_class"].unique()))
    return [
        f"{r.vehicle_class} at entry {r.entry_id}: {num(r.impact_speed_kmh)} km/h "
        f"— {short_requirement(r.required_rating) if short else r.required_rating}"
        for r in still.sort_values("impact_speed_kmh", ascending=False).itertuples()
    ]


def _walking(figures: Mapping[str, Any]) -> str:
    """The cohesion check of the summary in one sentence."""
    from cohesion_gis.maps import format_number as num

    if "homes_losing_access" not in figures:
        return "No scheme, so no change to check."
    return (
        f"{figures['homes_losing_access']} homes lose walking access (largest loss "
        f"{num(figures['largest_access_loss'], digits=3)}); largest change in severance "
        f"{num(figures['largest_severance_change'], digits=3)}."
    )


def scheme_html(result: Protection) -> str:
    """The one-page summary of a scheme as a standalone HTML page (print it to PDF).

    Outcome, lines and closures (form, what each must stop in plain words, the ISO 22343-1
    rating asked per class, length, stand-off, open ends, relative cost), the approaches left
    open with their requirement, the cohesion check, and the caveats. Every text is escaped.
    """
    from cohesion_gis.maps import escape_text as esc
    from cohesion_gis.maps import format_number as num

    figures = _summary(result)
    classes = [c.removeprefix("rating_") for c in result.lines if c.startswith("rating_")]
    body = []
    for row in result.lines.itertuples():
        codes = "<br>".join(esc(getattr(row, f"rating_{c}")) for c in classes
                            if getattr(row, f"rating_{c}"))  # fmt: skip
        ends = _ends_words(row)
        body.append(
            f"<tr><td>{esc(row.line_id)}</td><td>{esc(row.form)}</td>"
            f"<td>{esc(row.what_it_stops)}</td><td>{codes or '—'}</td>"
            f"<td>{num(row.length_m, digits=1)}</td><td>{num(row.standoff_m, digits=1)}</td>"
            f"<td>{esc(ends)}</td><td>{num(row.cost_units, digits=1)}</td></tr>"
        )
    left = [f"<li>{esc(text)}</li>" for text in _left_open(result)]
    check = _walking(figures)
    caveats = CAVEATS
    name = esc(result.site["name"])
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Barrier scheme for {name}</title>
<style>body{{font-family:sans-serif;font-size:12px;max-width:1000px;margin:1em auto}}
table{{border-collapse:collapse}}td,th{{border:1px solid #999;padding:3px;vertical-align:top}}
@page{{size:A4 landscape;margin:10mm}}</style></head><body>
<h1>Barrier scheme for {name}</h1>
<p><b>{esc(result.note)}.</b></p>
<p>Open vehicle approaches: <b>{figures["open_approaches_before"]} before, \
{figures["open_approaches_after"]} after</b>. {figures["lines"]} rated lines and \
{figures["closures"]} street closures, {num(figures["total_length_m"])} m in all, \
{num(figures["cost_units"], digits=1)} relative cost units (for ranking layouts, not prices). \
Walking: {esc(check)} Map: {esc(MAP_NAME)}.</p>
<table><tr><th>line</th><th>form</th><th>must</th><th>rating asked (ISO 22343-1)</th>
<th>length m</th><th>to the site m</th><th>ends</th><th>cost units</th></tr>
{"".join(body)}</table>
<h2>Approaches left open</h2>
<ul>{"".join(left) or "<li>none</li>"}</ul>
<h2>Caveats</h2><ul>{"".join(f"<li>{esc(c)}</li>" for c in caveats)}</ul>
</body></html>
"""


#: Rows of the lines table on the PDF page (the costliest first; all in the CSV).
PAGE_ROWS = 8
#: Open ends and approaches left open listed on the PDF page (all in the JSON).
PAGE_ITEMS = 3
_FORM_SHORT = {"chicane": "chicane", "street_furniture": "street furniture", "planters": "planters",
               "bollards": "bollards", "closure": "closure with landscaping"}  # fmt: skip


def scheme_figure(
    result: Protection,
    *,
    streets: gpd.GeoDataFrame | None = None,
    buildings: gpd.GeoDataFrame | None = None,
    site_geometry: Any = None,
) -> Any:
    """The one-page summary of a scheme as an A4 landscape matplotlib figure (for the PDF).

    The words of :func:`scheme_html` drawn with the static-map machinery of
    :mod:`cohesion_gis.maps.static`: a map of the lines by form, the site and the approaches
    left open; the outcome, the open line ends and approaches with their reasons; the
    :data:`PAGE_ROWS` costliest lines (fewer when their rows would run out of the panel); the
    caveats. Every text from data is drawn literally
    (:func:`cohesion_gis.maps.static.mpl_text`) and wrapped, never cut.

    Parameters
    ----------
    result
        The scheme.
    streets, buildings
        Base layers (City CRS); ``None``: not drawn.
    site_geometry
        The site's crowd perimeter (City CRS); ``None``: not drawn.

    Returns
    -------
    matplotlib.figure.Figure
        Made without pyplot; save it with :func:`cohesion_gis.maps.static.save_pdf`.
    """
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    from cohesion_gis import __version__
    from cohesion_gis.maps.protect import FORM_COLOURS, drawn_as
    from cohesion_gis.maps.static import (
        draw_base,
        draw_table,
        finish_map,
        page_figure,
        page_footer,
        page_heading,
    )

    figures, lines, stem = _summary(result), result.lines, result.scenario.name
    fig = page_figure()  # A4 landscape; heading, footer and layout inside its margins
    page_heading(fig, f"Barrier scheme for {result.site['name']} (screening, not a signed VDA)",
                 fontsize=13)  # fmt: skip
    credit = f"cohesion_gis {__version__}; © OpenStreetMap contributors"
    page_footer(fig, [*("• " + c for c in CAVEATS), credit], fontsize=6.5)
    grid = fig.add_gridspec(2, 2, height_ratios=[2.4, 3.4], width_ratios=[1, 1.25])
    ax = fig.add_subplot(grid[0, 0])
    crs = lines.crs
    shapes = [g for g in [*lines.geometry, site_geometry] if g is not None and not g.is_empty]
    frame = gpd.GeoDataFrame(geometry=[shapely.buffer(shapely.union_all(shapes), 40.0)], crs=crs)
    west, south, east, north = frame.total_bounds
    draw_base(
        ax,
        streets=None if streets is None else streets.cx[west:east, south:north],
        buildings=None if buildings is None else buildings.cx[west:east, south:north],
    )
    handles: list[Any] = []
    if site_geometry is not None:
        gpd.GeoSeries([site_geometry], crs=crs).plot(
            ax=ax, facecolor="#CC79A7", edgecolor="#CC79A7", alpha=0.3, zorder=3
        )
        handles.append(Patch(facecolor="#CC79A7", alpha=0.3, label="protected site"))
    after = result.approaches_after
    still = _open(after, str(result.site["site_id"]), list(after["vehicle_class"].unique()))
    if len(still):
        still.plot(ax=ax, color="#000000", linewidth=1.0, linestyle=":", zorder=4)
        handles.append(Line2D([], [], color="#000000", ls=":", label="approach left open"))
    drawn = drawn_as(lines) if len(lines) else pd.Series(dtype=str)
    for form, colour in FORM_COLOURS.items():
        mine = lines.loc[drawn == form] if len(lines) else lines
        if len(mine):
            mine.plot(ax=ax, color=colour, linewidth=3.0, zorder=5)
            handles.append(Line2D([], [], color=colour, lw=3, label=_FORM_SHORT[form]))
    if handles:
        ax.legend(handles=handles, loc="upper left", fontsize=6, framealpha=0.9)
    finish_map(ax, "The scheme: lines by form", frame)
    text = fig.add_subplot(grid[0, 1])
    text.axis("off")
    ends = [
        f"{r.line_id}: {_ends_words(r)}"  # "across A; ... across B" read "across A or B"
        for r in lines.itertuples()
        if r.kind == "rated line" and r.open_ends
    ]
    costliest = lines.sort_values("cost_units", ascending=False, kind="stable")
    table = fig.add_subplot(grid[1, :])
    for rows in range(min(PAGE_ROWS, len(lines)), -1, -1):  # the most rows its panel holds
        shown = costliest.head(rows)
        draw_table(
            table,
            f"The {len(shown)} costliest of {len(lines)} lines and closures (every one in "
            f"{stem}_lines.csv and on {MAP_NAME})",
            ("line", "form", "must", "length m", "to site m", "ends", "cost units"),
            [
                [
                    str(r.line_id),
                    _wrap(_form_short(r), 16),
                    _wrap(r.what_it_stops, 96),
                    f"{r.length_m:,.1f}",
                    f"{r.standoff_m:,.1f}",
                    _wrap(_ends_words(r), 44),
                    f"{r.cost_units:,.1f}",
                ]
                for r in shown.itertuples()
            ],
            widths=(0.07, 0.09, 0.41, 0.06, 0.06, 0.25, 0.06),
        )
        renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]  # page_figure's Agg
        bottom = table.get_window_extent(renderer).y0
        if not table.tables or table.tables[0].get_window_extent(renderer).y0 >= bottom - 1:
            break
        table.tables[0].remove()  # its rows run past the panel, over the caveats: one fewer
    left = _left_open(result, short=True)
    outcome = (
        f"Open vehicle approaches: {figures['open_approaches_before']} before, "
        f"{figures['open_approaches_after']} after. {figures['lines']} rated lines and "
        f"{figures['closures']} street closures, {figures['total_length_m']:,.0f} m in all; "
        f"{figures['cost_units']:,.1f} relative cost units (they rank layouts; "
        "docs/protect.md gives the sourced money ranges)."
    )
    _fill_notes(
        text,
        lambda n: [
            result.note + ".",
            outcome,
            f"Walking: {_walking(figures)}",
            _listed(f"Open line ends ({figures['open_line_ends']})", ends, n, f"{stem}_lines.csv"),
            _listed(f"Approaches left open ({len(left)})", left, n, f"{stem}.json"),
        ],
        f"{stem}.json",
    )
    return fig


def _form_short(row: Any) -> str:
    """A line's form in two or three words."""
    form = "chicane" if row.kind == "chicane" else row.form_type
    words = _FORM_SHORT.get(form, form)
    return words + (" (kerbside)" if row.kind == "kerbside line" else "")


def _wrap(value: object, width: int) -> str:
    """Text on lines of at most ``width`` characters: wrapped, never cut."""
    return "\n".join(textwrap.wrap(str(value), width, break_long_words=True)) or "–"


def _listed(title: str, items: Sequence[str], shown: int, where: str) -> str:
    """A titled list of its first ``shown`` items, then how many more and in which file."""
    if not items:
        return f"{title}: none."
    more = len(items) - shown
    tail = [f"… {more} more, see {where}"] if more > 0 else []
    return "\n".join([f"{title}:", *("• " + i for i in items[:shown]), *tail])


#: Type sizes of the note panel, points: the largest at which its text fits is used.
_NOTE_SIZES_PT = (7.0, 6.5, 6.0)


def _fill_notes(ax: Any, blocks: Callable[[int], list[str]], where: str) -> None:
    """Write the note panel's paragraphs in ``ax`` so that they fit it, measured, never overflow.

    ``blocks(n)`` gives the paragraphs with ``n`` items of each list. Tried from
    :data:`PAGE_ITEMS` items at 7 pt down to no items at 6 pt; text that still overflows ends
    with the lines that fit and "… the rest in ``where``". Call once the layout is final.
    """
    from cohesion_gis.maps.static import fit_lines, mpl_text

    figure = ax.get_figure()
    figure.get_layout_engine().execute(figure)  # the panel where the layout puts it
    renderer = figure.canvas.get_renderer()  # page_figure's Agg canvas
    panel = ax.get_window_extent(renderer)
    width_pt = 0.9 * panel.width * 72 / figure.dpi  # Agg's hinted glyphs run up to 8 % wider

    def put(lines: list[str], size: float) -> bool:
        text = ax.text(0, 1, "\n".join(lines), va="top", ha="left", fontsize=size,
                       transform=ax.transAxes)  # fmt: skip
        if text.get_window_extent(renderer).height <= panel.height:
            return True
        text.remove()
        return False

    for size in _NOTE_SIZES_PT:
        for n in range(PAGE_ITEMS, -1, -1):
            lines = fit_lines(mpl_text("\n\n".join(blocks(n))), width_pt, size).split("\n")
            if put(lines, size):
                return
    tail = fit_lines(mpl_text(f"… the rest in {where}"), width_pt, size).split("\n")
    for keep in range(len(lines) - 1, -1, -1):
        if put([*lines[:keep], *tail], size):
            return
