r"""Designed barrier schemes: the cheapest set of rated lines that stops every approach to a site.

:func:`protect` turns a site's vehicle dynamics assessment into a scheme:

1. the open approaches to the site (every class asked for) are taken from
   :func:`cohesion_gis.hvm.assess.assess_sites`: routes from where a vehicle can start to the
   site's entries, with the speed the vehicle reaches at every vertex;
2. their segments form a directed network from a super-source (every route's start) to a
   super-sink (every entry); a segment's capacity is the cost of a barrier line across it,

   .. math:: c_e = (w_e + 2 m) \sum_k u(v^{test}_{e,k}), \qquad
             v^{test}_{e,k} = \text{required test speed of class } k
             \text{ at the segment's faster end}

   with :math:`w_e` the carriageway width, :math:`m` the margin beyond each kerb and
   :math:`u` a relative cost per metre that rises with the test speed (``defaults/protect.toml``);
   a segment where some class is faster than any test speed covers cannot hold a line
   (infinite cost), so the cut moves to where vehicles are still slow (after a bend, near a
   junction);
3. the minimum cut (Ford–Fulkerson max-flow / min-cut, networkx) is the cheapest set of lines
   crossing every route; each becomes a line across the street at the segment's midpoint, with a
   required rating per class (:func:`cohesion_gis.hvm.required_rating`, head-on, penetration no
   more than the stand-off left to the site);
4. the scheme is **verified**: applied as a scenario (``add_barrier`` per line and class) and
   compared (:func:`cohesion_gis.compare`): the full VDA is run again, and any approach still
   open (a new route round the lines, or one faster than a line's rating) is added to the
   network and the cut solved again, until no approach to the site is open or ``max_rounds``
   is reached. The cohesion engine runs too: barrier lines are pedestrian-permeable (bollards
   with gaps of at most 1.2 m), so no home may lose walking access, and the comparison says so.

The costs are relative units, not money: they rank layouts, they do not price them. A line
across a street closes it to vehicles; where access must stay (deliveries, emergency services),
the form column suggests an active (retractable) barrier with the same rating.

References
----------
NPSA (2023). *Hostile Vehicle Mitigation: guidance* (vehicle dynamics assessment, stand-off,
integration with the streetscape). DfT Traffic Advisory Leaflet 01/11 (pedestrian gaps ≤ 1.2 m).
Ford, L. R. & Fulkerson, D. R. (1956). Maximal flow through a network. *Can. J. Math.* 8, 399-404.
"""

from __future__ import annotations

import difflib
import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import LineString

from cohesion_gis._toml import read_toml
from cohesion_gis.errors import InputError, ParameterError
from cohesion_gis.scenario import Intervention, Scenario
from cohesion_gis.scenario.write import base_spec

__all__ = ["ProtectParams", "Protection", "protect", "write_protection"]

log = logging.getLogger(__name__)

_SOURCE, _SINK = "source", "sink"


@dataclass(frozen=True)
class ProtectParams:
    """Costs and geometry of designed barrier lines (``defaults/protect.toml``).

    Attributes
    ----------
    cost_per_m
        Relative cost per metre of line by test speed (km/h → units), one entry per test speed.
    margin_m
        How far a line reaches beyond each kerb (m).
    default_width_m
        Carriageway width (m) where the street has none.
    classes
        Vehicle classes the scheme must stop.
    max_rounds
        Verification rounds (cut, apply, re-assess) before giving up.
    """

    cost_per_m: Mapping[float, float]
    margin_m: float
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
                default_width_m=float(data["default_width_m"]),
                classes=tuple(str(c) for c in data["classes"]),
                max_rounds=int(data["max_rounds"]),
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ParameterError(
                f"{label}: {exc!r}; lay it out like cohesion_gis/defaults/protect.toml"
            ) from exc
        values = [*costs.values(), params.margin_m, params.default_width_m]
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
    """Approaches to the site that no barrier stops and that reach it moving."""
    mine = approaches.loc[
        (approaches["site_id"] == site_id)
        & approaches["vehicle_class"].isin(classes)
        & approaches.geometry.notna()
    ]
    blocked = mine["blocked_by"].fillna("").astype(str).str.len() > 0
    moving = mine["impact_speed_kmh"].fillna(0).to_numpy(dtype=float) > 0
    return mine.loc[~blocked.to_numpy() & moving]


# --- the cut -------------------------------------------------------------------------------


def _key(xy: tuple[float, float]) -> tuple[float, float]:
    return (round(xy[0], 2), round(xy[1], 2))


@dataclass
class _Segment:
    start: tuple[float, float]
    end: tuple[float, float]
    to_entry_m: float
    speed_kmh: dict[str, float]


def _add_routes(pool: dict[tuple, _Segment], routes: gpd.GeoDataFrame) -> None:
    """Merge the routes' segments into ``pool`` (keyed by end points), keeping top speeds."""
    for row in routes.itertuples():
        coords = list(row.geometry.coords)
        speeds = [float(s) for s in str(row.speeds_kmh).split()]
        lengths = np.hypot(*np.diff(np.asarray(coords), axis=0).T)
        remaining = np.concatenate([np.cumsum(lengths[::-1])[::-1], [0.0]])
        for i in range(len(coords) - 1):
            key = (_key(coords[i]), _key(coords[i + 1]))
            seg = pool.setdefault(key, _Segment(coords[i], coords[i + 1], remaining[i + 1], {}))
            seg.to_entry_m = min(seg.to_entry_m, float(remaining[i + 1]))
            fastest = max(speeds[i], speeds[i + 1])
            cls = str(row.vehicle_class)
            seg.speed_kmh[cls] = max(seg.speed_kmh.get(cls, 0.0), fastest)
        pool.setdefault(("route", _key(coords[0]), _key(coords[-1])), _Segment(
            coords[0], coords[-1], 0.0, {}))  # fmt: skip


def _widths(city: Any, pool: Mapping[tuple, _Segment], default_m: float) -> dict[tuple, float]:
    """Carriageway width (m) of the drive edge nearest each segment's midpoint."""
    keys = [k for k in pool if k[0] != "route"]
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


def _requirement(speed_kmh: float, vehicle_class: str, standoff_m: float, hvm_params: Any) -> Any:
    from cohesion_gis.hvm import required_rating

    return required_rating(speed_kmh, vehicle_class, standoff_m=standoff_m, params=hvm_params)


def _cost(
    seg: _Segment, width_m: float, params: ProtectParams, hvm_params: Any
) -> tuple[float, dict[str, Any]]:
    """Cost units of a line across ``seg`` and its requirement per class (inf: no product)."""
    needs, units = {}, 0.0
    for cls, speed in seg.speed_kmh.items():
        need = _requirement(speed, cls, seg.to_entry_m, hvm_params)
        needs[cls] = need
        if need.exceeds_test_speeds or need.test_speed_kmh is None:
            return math.inf, needs
        per_m = next(
            (c for s, c in params.cost_per_m.items() if s >= need.test_speed_kmh - 1e-6),
            math.inf,
        )
        units += per_m
    return units * (width_m + 2 * params.margin_m), needs


def _cut(
    city: Any, pool: dict[tuple, _Segment], params: ProtectParams, hvm_params: Any
) -> list[tuple[tuple, float, float, dict[str, Any]]]:
    """Minimum-cost set of segments crossing every route: (key, cost, width, needs) each."""
    widths = _widths(city, pool, params.default_width_m)
    graph = nx.DiGraph()
    info = {}
    for key, seg in pool.items():
        if key[0] == "route":
            graph.add_edge(_SOURCE, key[1])  # no capacity attribute: infinite
            graph.add_edge(key[2], _SINK)
            continue
        cost, needs = _cost(seg, widths[key], params, hvm_params)
        info[key] = (cost, widths[key], needs)
        if math.isfinite(cost):
            graph.add_edge(key[0], key[1], capacity=cost)
        else:
            graph.add_edge(key[0], key[1])
    value, (reach, _) = nx.minimum_cut(graph, _SOURCE, _SINK)
    if not math.isfinite(value):
        return []
    return [(key, *info[key]) for key in info if key[0] in reach and key[1] not in reach]


# --- lines and the scenario ----------------------------------------------------------------


def _line(seg: _Segment, width_m: float, margin_m: float) -> LineString:
    """A line across the segment at its midpoint, ``width + 2 margin`` long."""
    (x0, y0), (x1, y1) = seg.start, seg.end
    mx, my = (x0 + x1) / 2, (y0 + y1) / 2
    length = math.hypot(x1 - x0, y1 - y0) or 1.0
    nx_, ny_ = -(y1 - y0) / length, (x1 - x0) / length
    half = width_m / 2 + margin_m
    return LineString([(mx - nx_ * half, my - ny_ * half), (mx + nx_ * half, my + ny_ * half)])


def _rating(need: Any) -> str:
    """The rating string asked of a line: head-on test, penetration within the stand-off."""
    pen = max(0.0, math.floor((need.max_penetration_m or 0.0) * 10) / 10)
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
    city: Any,
    chosen: Sequence[tuple[tuple, float, float, dict[str, Any]]],
    pool: Mapping[tuple, _Segment],
    params: ProtectParams,
) -> gpd.GeoDataFrame:
    rows = []
    for i, (key, cost, width, needs) in enumerate(sorted(chosen, key=lambda c: (c[0][0], c[0][1]))):
        seg = pool[key]
        row: dict[str, Any] = {
            "line_id": f"protect/{i}",
            "length_m": width + 2 * params.margin_m,
            "width_m": width,
            "standoff_m": seg.to_entry_m,
            "cost_units": cost,
        }
        for cls in params.classes:
            need = needs.get(cls)
            row[f"speed_kmh_{cls}"] = need.impact_speed_kmh if need else 0.0
            row[f"rating_{cls}"] = _rating(need) if need else ""
        row["requirement"] = "; ".join(n.text for n in needs.values())
        row["form"] = _form(needs)
        row["geometry"] = _line(seg, width, params.margin_m)
        rows.append(row)
    columns = ["line_id", "length_m", "width_m", "standoff_m", "cost_units", "requirement",
               "form", "geometry"]  # fmt: skip
    if not rows:
        return gpd.GeoDataFrame(columns=columns, geometry="geometry", crs=city.crs)
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=city.crs)


def _scheme(
    city: Any, site: pd.Series, lines: gpd.GeoDataFrame, classes: Sequence[str]
) -> Scenario:
    wgs = lines.to_crs(4326)
    interventions = []
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
    city: Any,
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
    base = analyse(city, hvm_params=hvm_params)
    if base.hvm is None:
        raise InputError(f"the HVM assessment is not available ({base.hvm_note})")
    row = _find_site(base.hvm.sites, site)
    site_id = str(row["site_id"])
    threats = _open(base.hvm.approaches, site_id, classes)
    open_before = len(threats)
    pool: dict[tuple, _Segment] = {}
    lines = _lines(city, [], pool, params)
    scheme = _scheme(city, row, lines, classes)
    comparison, rounds, open_after = None, 0, open_before
    while open_after and rounds < params.max_rounds:
        rounds += 1
        _add_routes(pool, threats)
        chosen = _cut(city, pool, params, hvm_params)
        if not chosen:
            break
        lines = _lines(city, chosen, pool, params)
        scheme = _scheme(city, row, lines, classes)
        comparison = compare(city, scheme, base=base, hvm_params=hvm_params)
        threats = _open(comparison.after.hvm.approaches, site_id, classes)
        open_after = len(threats)
        log.info("protect %s round %d: %d lines, %d approaches open", row["name"], rounds,
                 len(lines), open_after)  # fmt: skip
    note = _note(row, lines, open_before, open_after, rounds=rounds, segments=len(pool))
    return Protection(row, lines, scheme, comparison, open_before, open_after, rounds, note)


def _note(
    row: pd.Series, lines: gpd.GeoDataFrame, before: int, after: int, *, rounds: int, segments: int
) -> str:
    name = row["name"]
    if before == 0:
        return f"{name}: no open vehicle approach; nothing to protect"
    if after == 0:
        return (
            f"{name}: {len(lines)} rated lines stop all {before} open approaches "
            f"(verified by re-running the assessment; {rounds} round(s))"
        )
    if not lines.empty:
        return (
            f"{name}: after {rounds} round(s), {after} of {before} approaches are still open; "
            "the scheme is partial"
        )
    return (
        f"{name}: every approach is faster than any test speed covers along its whole route "
        f"({segments} segments); no rated line can stop it: reduce approach speeds first"
    )


def write_protection(result: Protection, city: Any, out_dir: str | Path, *,
                     overwrite: bool = False) -> dict[str, Path]:  # fmt: skip
    """Write the scheme: scenario TOML, lines (GeoPackage and CSV), summary JSON and a map.

    Returns
    -------
    dict
        Output name → path.
    """
    from cohesion_gis.export import write_csv, write_geopackage, write_json
    from cohesion_gis.scenario.write import write_scenario

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    stem = result.scenario.name
    header = f"Barrier scheme by cohesion-gis protect. {result.note}."
    paths = {
        "scenario": write_scenario(result.scenario, out / f"{stem}.toml", header=header,
                                   overwrite=overwrite),
        "lines_csv": write_csv(result.lines, out / f"{stem}_lines.csv", overwrite=overwrite,
                               geometry=True),
        "lines": write_geopackage({"barrier_lines": result.lines}, out / f"{stem}.gpkg",
                                  metadata=city.provenance.as_dict(), overwrite=overwrite),
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
    paths["summary"] = write_json(summary, out / f"{stem}.json", overwrite=overwrite)
    return paths
