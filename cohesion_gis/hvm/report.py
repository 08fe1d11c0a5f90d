"""One-page vehicle dynamics assessment (VDA) of a site, as an HTML section or a PDF page.

:func:`vda_html` and :func:`vda_figure` turn one site of a
:class:`~cohesion_gis.hvm.assess.SiteAssessment` into the page a planner hands to a security
adviser: the worst approaches drawn (HTML: an inline SVG in the study area's metric CRS, no
tiles, works offline; PDF: the static-map machinery of :mod:`cohesion_gis.maps.static`), the
impact envelope and requirement per entry and class, the options (traffic management,
landscaping, a rated product, an active barrier), the egress crowd of a stadium or arena
(:func:`egress_crowd`: its capacity released into the streets in the Green Guide's 8 minutes)
and the caveats (terrain without a DEM, level changes taken as impassable, the model).
:func:`cohesion_gis.export.write_vda` writes either, by the file's suffix;
``cohesion-gis hvm --vda SITE`` writes both beside the assessment.

It is not a VDA signed by a suitably qualified practitioner: the caveats say so on the page.

Examples
--------
>>> import cohesion_gis as cg
>>> from cohesion_gis.hvm.assess import assess_sites
>>> from cohesion_gis.hvm.report import vda_html
>>> city = cg.load_city()  # doctest: +SKIP
>>> assessment = assess_sites(city)  # doctest: +SKIP
>>> sid = assessment.sites.loc[assessment.sites["name"] == "Senaatintori", "site_id"].iloc[0]
>>> page = vda_html(assessment, sid)
>>> "<svg" in page and "Senaatintori" in page and "V/1500[M1]/&gt;80/90" in page
True
"""

from __future__ import annotations

import dataclasses
import math
import re
import textwrap
from dataclasses import dataclass
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import shapely.ops

from cohesion_gis.errors import InputError
from cohesion_gis.hvm.params import HvmParams
from cohesion_gis.hvm.rating import GLANCING_CELL, short_requirement
from cohesion_gis.maps import escape_text
from cohesion_gis.params import load_params

if TYPE_CHECKING:
    from collections.abc import Sequence

    from matplotlib.figure import Figure

    from cohesion_gis.city import City
    from cohesion_gis.hvm.assess import HvmOptions, SiteAssessment

__all__ = [
    "EGRESS_KINDS",
    "SPEED_COLOURS",
    "Egress",
    "egress_assessment",
    "egress_crowd",
    "governing_by_class",
    "requirements_by_entry",
    "vda_figure",
    "vda_html",
]

#: Route colours by arrival speed band (km/h), the reference's map bands (hvm.md §8.6).
SPEED_COLOURS = ((32.0, "#1a9850"), (48.0, "#fee08b"), (64.0, "#f46d43"), (np.inf, "#a50026"))
#: Routes are drawn within this distance (m) of the site (the last part of each run-up).
NEAR_M = 150.0
#: Arrivals listed and drawn at most: the fastest (the approaches table has every row); the
#: PDF page lists and draws those that fit its table.
LISTED = 16
_W, _H = 640, 420
#: Where a page's truncated tables continue: every arrival, in the assessment's GeoPackage.
APPROACHES_LAYER = "hvm_assessment.gpkg, layer approaches"
#: Site kinds that empty at once at the end of an event (stadiums, arenas and event halls).
EGRESS_KINDS = ("stadium", "events_venue")


@dataclass(frozen=True)
class Egress:
    """The crowd a stadium or arena releases into its streets at the end of an event.

    Attributes
    ----------
    persons
        Capacity released (persons).
    minutes
        Time to release it (min, ``params.egress_minutes``).
    per_minute
        Persons leaving per minute.
    zone
        Open ground (no building) within ``params.egress_ring_m`` outside the crowd perimeter.
    zone_m2
        Its area (m²).
    held_persons
        Persons the zone holds at ``params.egress_persons_m2``.
    """

    persons: float
    minutes: float
    per_minute: float
    zone: shapely.Geometry
    zone_m2: float
    held_persons: float

    def text(self, params: HvmParams) -> str:
        """The egress note of the VDA, with its numbers and their sources."""
        spill = (
            "the crowd spills beyond it into the approach streets, where the carriageway "
            "itself is crowd"
            if self.persons > self.held_persons
            else "it holds the crowd"
        )
        return (
            f"Egress: about {self.persons:,.0f} persons leave in {self.minutes:.0f} min "
            f"(Green Guide normal egress time) = {self.per_minute:,.0f} per minute. The open "
            f"ground within {params.egress_ring_m:.0f} m ({self.zone_m2:,.0f} m²) holds "
            f"{self.held_persons:,.0f} at {params.egress_persons_m2:g} persons/m²: {spill}. "
            "On event days assess the approaches to that zone too (an event-day crowd "
            "overlay), and manage traffic there during egress."
        )


def egress_crowd(
    site: pd.Series,
    buildings: gpd.GeoDataFrame | None,
    *,
    params: HvmParams,
) -> Egress | None:
    """The egress crowd of a stadium or arena site (:data:`EGRESS_KINDS`), else ``None``.

    The site's whole ``capacity_persons`` leaves in ``params.egress_minutes`` (Green Guide: 8
    minutes) onto the open ground within ``params.egress_ring_m`` of the crowd perimeter
    (buildings removed), held at ``params.egress_persons_m2`` (reference hvm.md §6).

    Parameters
    ----------
    site
        A row of ``SiteAssessment.sites`` (``kinds``, ``capacity_persons``, ``geometry``).
    buildings
        Building footprints (same CRS); ``None``: the ring is not reduced by buildings.
    params
        Egress time, density and distance.
    """
    kinds = str(site.get("kinds", "")).split("; ")
    persons = float(site["capacity_persons"])
    if not set(kinds) & set(EGRESS_KINDS) or not persons > 0:
        return None
    crowd = site.geometry
    zone = shapely.difference(shapely.buffer(crowd, params.egress_ring_m), crowd)
    if buildings is not None and not buildings.empty:
        near = buildings.geometry.to_numpy()
        near = near[shapely.intersects(near, zone)]
        if near.size:
            zone = shapely.difference(zone, shapely.union_all(shapely.make_valid(near)))
    area = float(shapely.area(zone))
    return Egress(
        persons=persons,
        minutes=params.egress_minutes,
        per_minute=persons / params.egress_minutes,
        zone=zone,
        zone_m2=area,
        held_persons=area * params.egress_persons_m2,
    )


def egress_assessment(
    city: City,
    result: SiteAssessment,
    site_id: str,
    options: HvmOptions | None = None,
) -> SiteAssessment | None:
    """The egress zone of a stadium or arena assessed as a crowd area (event days), else None.

    At the end of an event the whole capacity stands on the open ground around the venue
    (:func:`egress_crowd`), the carriageways included: the site's perimeter plus that zone is
    assessed as one crowd area (kind ``stadium``, its capacity as the tag) with the same
    approach search, envelope and requirements as any site, so the page can say how fast a
    vehicle reaches the egress crowd, not only the façade.

    Parameters
    ----------
    city
        The City the assessment was made on.
    result, site_id
        The assessment and the site (a stadium or arena; other kinds return ``None``).
    options
        How ``result`` was assessed (:class:`~cohesion_gis.hvm.assess.HvmOptions`: vehicles,
        barriers, parameters, DEM); ``None``: the defaults.

    Returns
    -------
    SiteAssessment or None
        One site, ``site_id`` ``egress/<site_id>``.
    """
    from cohesion_gis.hvm.assess import AssessmentSetup, HvmOptions

    options = options or HvmOptions()
    params = options.params or load_params(HvmParams)
    sites = result.sites.set_index("site_id")
    if site_id not in sites.index:
        raise InputError(f"site {site_id!r} is not in the assessment; see result.sites.site_id.")
    site = sites.loc[site_id]
    egress = egress_crowd(site, city.buildings, params=params)
    if egress is None:
        return None
    crowd = gpd.GeoDataFrame(
        {
            "site_id": [f"egress/{site_id}"],
            "name": [f"{site['name']} egress zone"],
            "kind": ["stadium"],
            "capacity_tag": [egress.persons],
            "building_levels": [np.nan],
        },
        geometry=[shapely.union(sites.geometry.loc[site_id], egress.zone)],
        crs=result.sites.crs,
    )
    zone_city = dataclasses.replace(city, sites=crowd)
    return AssessmentSetup.resolve(zone_city, options).assess(zone_city)


def _colour(speed: float) -> str:
    return next(colour for top, colour in SPEED_COLOURS if speed < top)


def _svg(
    site: shapely.Geometry,
    rows: list[tuple[shapely.Geometry, float]],
    legs: Sequence[shapely.Geometry] = (),
) -> str:
    """The crowd perimeter and the routes (over-run legs dashed), fitted to the page."""
    shapes = [site, *(g for g, _ in rows if g is not None)]
    x0, y0, x1, y1 = shapely.total_bounds(np.array(shapes, dtype=object))
    scale = min(_W / max(x1 - x0, 1.0), _H / max(y1 - y0, 1.0)) * 0.95

    def path(geom: shapely.Geometry) -> str:
        xy = shapely.get_coordinates(geom)
        px = (xy[:, 0] - x0) * scale + 0.025 * _W
        py = _H - ((xy[:, 1] - y0) * scale + 0.025 * _H)
        return " ".join(f"{a:.1f},{b:.1f}" for a, b in zip(px, py, strict=True))

    parts = [
        f'<polygon points="{path(shapely.boundary(p))}" fill="#9ecae1" stroke="#08519c"/>'
        for p in shapely.get_parts(site)
    ]
    for geom, speed in rows:
        if geom is not None:
            parts.append(
                f'<polyline points="{path(geom)}" fill="none" stroke="{_colour(speed)}" '
                'stroke-width="3"/>'
            )
    parts += [
        f'<polyline points="{path(leg)}" fill="none" stroke="black" stroke-width="1.5" '
        'stroke-dasharray="5,3"/>'
        for leg in legs
    ]
    metres = 10 ** np.floor(np.log10(max(max(x1 - x0, y1 - y0) / 2, 1.0)))
    bar = metres * scale
    parts.append(
        f'<line x1="10" y1="{_H - 10}" x2="{10 + bar:.1f}" y2="{_H - 10}" stroke="black" '
        f'stroke-width="2"/><text x="10" y="{_H - 14}" font-size="11">{metres:.0f} m</text>'
    )
    return (
        f'<svg viewBox="0 0 {_W} {_H}" width="{_W}" height="{_H}" '
        f'xmlns="http://www.w3.org/2000/svg">{"".join(parts)}</svg>'
    )


@dataclass(frozen=True)
class _Page:
    """What one VDA page says, shared by the HTML and the PDF (one set of words)."""

    site: pd.Series
    crowd: shapely.Geometry
    arrived: gpd.GeoDataFrame
    drawn: list[tuple[shapely.Geometry, float]]
    legs: list[shapely.Geometry]  # the over-run legs of the drawn approaches (hvm.overrun)
    angles: list[str]
    headline: str
    per_entry: pd.DataFrame
    options: list[tuple[str, str]]
    caveats: list[str]
    egress: Egress | None
    egress_approaches: str
    levels: gpd.GeoDataFrame | None


def _egress_text(egress: SiteAssessment | None, params: HvmParams) -> str:
    """What the egress zone's own assessment (:func:`egress_assessment`) says, for the page."""
    if egress is None or egress.sites.empty:
        return ""
    rows = egress.approaches.loc[egress.approaches["impact_speed_kmh"].astype(float) > 0]
    head = (
        f"Egress zone assessed as a crowd area (event days: the stadium and the open ground "
        f"within {params.egress_ring_m:.0f} m, carriageways included)"
    )
    if rows.empty:
        return f"{head}: no vehicle reaches it."
    top = rows.sort_values("impact_speed_kmh", ascending=False).iloc[0]
    by_class = "; ".join(f"{c} {r}" for c, r in governing_by_class(rows).items())
    return (
        f"{head}: {len(rows)} arrivals at {rows['entry_id'].nunique()} entries; fastest "
        f"{top['vehicle_class']} {_arrival(top)} km/h ({_entry(top['entry_id'])}, "
        f"{top['run_up_m']:.0f} m run-up, straight path {_angle(top)}); worst normal "
        f"impact {rows['normal_speed_kmh'].max():.0f} km/h {_modelled(rows)}; requirements by "
        f"class at the zone's entries: {by_class}. Close these streets to traffic during "
        "egress, or meet these ratings where they enter the zone."
    )


def _modelled(approaches: pd.DataFrame) -> str:
    """What a worst normal impact is the worst of (VDA review 2 item 1: never "an upper bound").

    The normal speed bounds each modelled arrival (docs/hvm.md), not the site: a path the
    model does not draw may be faster. Over-run legs (:mod:`cohesion_gis.hvm.overrun`, the
    ``entry_kind`` column) are named as modelled or not.
    """
    if "entry_kind" in approaches.columns:
        return "(of the modelled street approaches and over-run legs; other off-road paths not)"
    return (
        "(of the modelled street approaches only, not a bound for the site: over-run legs, "
        "straight on off a street's end across the crowd, are not modelled)"
    )


def _edge_text(site: pd.Series, params: HvmParams) -> str:
    """The data-edge warning of a site whose crowd is nearer the data's edge than the horizon.

    Beyond the edge no street is known, so approaches from there are not assessed (VDA review
    item 3). "" when the edge is at least the search horizon away.
    """
    distance = float(site.get("data_edge_m", np.inf))
    if not distance < params.search_horizon_m:
        return ""
    where = str(site.get("data_edge_directions", "") or "") or "some directions"
    return (
        f"Data edge {distance:.0f} m away: approaches from {where} not assessed: the data end "
        f"{distance:.0f} m from the crowd, within the {params.search_horizon_m:.0f} m search "
        "horizon, so streets and run-ups beyond them are unknown. Load a larger area (a "
        "buffer of at least the horizon) before relying on this page; where the edge is a "
        "coastline, nothing comes from there."
    )


def _friction_text(
    site_id: str, arrived: pd.DataFrame, friction: SiteAssessment | None, params: HvmParams
) -> str:
    """The μ sensitivity band of the page: what moves at ``friction_mu_sensitivity``.

    Reference hvm.md §8.3.7 asks for the band; MIL-HDBK-1013/14 recommends μ 1.0 when the
    surface is unknown [V]. Every bend-limited speed rises by √(μ'/μ); classes limited by
    rollover (SRT) or on straights do not move. "" without the second assessment.
    """
    if friction is None or arrived.empty:
        return ""
    rows = friction.approaches
    rows = rows.loc[(rows["site_id"] == site_id) & (rows["impact_speed_kmh"].astype(float) > 0)]
    mu, high = params.friction_mu, params.friction_mu_sensitivity
    speeds = []
    for cls in _class_order(arrived):
        before = arrived.loc[arrived["vehicle_class"] == cls, "impact_speed_kmh"].max()
        after = rows.loc[rows["vehicle_class"] == cls, "impact_speed_kmh"].max()
        speeds.append(f"{cls} {before:.0f} → {after:.0f}")
    keys = ["entry_id", "vehicle_class"]
    both = arrived.merge(rows, on=keys, suffixes=("", "_mu"))
    rise = both["impact_speed_kmh_mu"] - both["impact_speed_kmh"]
    moved = both.loc[rise >= 1.0].assign(rise=rise).sort_values("rise", ascending=False)
    arrivals = [
        f"{_entry(r.entry_id)} {r.vehicle_class} {r.impact_speed_kmh:.0f} → "
        f"{r.impact_speed_kmh_mu:.0f}"
        for r in moved.head(6).itertuples()
    ]
    was, now = requirements_by_entry(arrived), requirements_by_entry(rows)
    changed = [
        f"{e} {c} {was.at[e, c]} → {now.at[e, c]}"
        for e in was.index
        for c in was.columns
        if e in now.index and c in now.columns and now.at[e, c] != was.at[e, c]
    ]
    site_was, site_now = governing_by_class(arrived), governing_by_class(rows)
    rises = [f"{c} {site_was[c]} → {site_now.get(c, 'none')}" for c in site_was
             if site_now.get(c) != site_was[c]]  # fmt: skip
    normal = (arrived["normal_speed_kmh"].max(), rows["normal_speed_kmh"].max())
    return (
        f"Friction sensitivity (μ {high:g} instead of {mu:g}: MIL-HDBK-1013/14's value when the "
        f"surface is unknown; grip-limited bend speeds rise by √({high:g}/{mu:g}) = "
        f"×{math.sqrt(high / mu):.2f}, rollover-limited trucks do not): worst arrival by class "
        f"{', '.join(speeds)} km/h; worst normal impact {normal[0]:.0f} → {normal[1]:.0f} km/h; "
        + (f"arrivals that rise: {', '.join(arrivals)} km/h; " if arrivals else "")
        + (f"entry requirements that change: {'; '.join(changed)}; " if changed else "")
        + (
            "the site's requirements by class change: " + "; ".join(rises)
            if rises
            else "the site's requirements by class do not change"
        )
        + "."
    )


def _page(
    result: SiteAssessment,
    site_id: str,
    buildings: gpd.GeoDataFrame | None,
    levels: gpd.GeoDataFrame | None,
    params: HvmParams,
    *,
    egress: SiteAssessment | None = None,
    friction: SiteAssessment | None = None,
) -> _Page:
    sites = result.sites.set_index("site_id")
    if site_id not in sites.index:
        raise InputError(f"site {site_id!r} is not in the assessment; see result.sites.site_id.")
    site = sites.loc[site_id]
    rows = result.approaches.loc[result.approaches["site_id"] == site_id]
    arrived = rows.loc[rows["impact_speed_kmh"].astype(float) > 0].sort_values(
        "impact_speed_kmh", ascending=False
    )
    crowd = sites.geometry.loc[site_id]
    near = shapely.intersection(arrived.geometry.to_numpy(), shapely.buffer(crowd, NEAR_M))
    speeds = arrived["impact_speed_kmh"].astype(float)
    drawn = list(zip(near, speeds, strict=True))[:LISTED]
    legs = _legs(arrived.iloc[:LISTED])
    angles = [c for c in rows.columns if c.startswith("impact_speed_kmh_") and c.endswith("deg")]
    per_entry = requirements_by_entry(arrived)
    by_class = "; ".join(f"{c} {r}" for c, r in governing_by_class(arrived).items())
    capacity = float(site["capacity_persons"])
    persons = (
        f"about {capacity:,.0f} persons ({site['capacity_source']})"
        if np.isfinite(capacity)
        else f"capacity unknown ({site['capacity_source']})"
    )
    premises = str(site.get("martyns_law_premises", "") or "")
    event = str(site.get("martyns_law_event", "") or "")
    edge = _edge_text(site, params)
    headline = (
        (f"{edge.split(': the data end')[0]}. " if edge else "")
        + f"{site['kinds']}; {persons}; Martyn's Law tier {site['martyns_law_tier']}"
        f"{' (' + premises + ')' if premises else ''}{'; ' + event if event else ''}. "
        f"Rank {site['rank']}, priority {site['priority']}, risk {site['risk']}. Worst normal "
        f"impact {site['max_normal_impact_kmh']:.0f} km/h {_modelled(rows)}; crowd entry without "
        f"turning {site.get('max_crowd_entry_speed_kmh', 0.0):.0f} km/h. Requirements by class "
        f"(a rating is evidence only for its own class, so each class needs its own): "
        f"{by_class or 'none: no vehicle arrives'}."
    )
    fastest = arrived.iloc[0] if len(arrived) else None
    runs = (
        f"the longest run-up is {fastest['run_up_m']:.0f} m ({fastest['vehicle_class']} "
        f"{fastest['impact_speed_kmh']:.0f} km/h at entry {fastest['entry_id']})"
        if fastest is not None
        else "no vehicle reaches the site"
    )
    options = [
        ("Traffic management", f"close or re-route the straight run-ups; {runs}."),
        (
            "Landscaping and street geometry",
            "bends, narrowing or planting upstream lower the speed at every entry; the "
            "requirement falls with it (a rated barrier is credited up to its test speed / "
            f"{1 + params.speed_allowance:.2f}).",
        ),
        (
            "Rated product",
            "a rating for every class that arrives (the requirements by class above): a "
            "product rated for a truck is no evidence against a car, so either one line tested "
            f"for each class or one line per class; continuous, gaps ≤ {params.gap_limit_m:g} m "
            "(DfT TAL 01/11), across every entry in the table of requirements per entry.",
        ),
        (
            "Active barrier",
            "where vehicles must enter (deliveries, emergency access): rated as above, closed "
            "by default, with an operating regime.",
        ),
    ]
    held = arrived.loc[arrived["protected_by"].astype(str).str.startswith("level change")]
    caveats = [
        "Not a vehicle dynamics assessment by a suitably qualified practitioner: a screening "
        "for one; have it reviewed (NPSA, CTSA) before specifying products.",
        *([edge] if edge else []),
        f"Terrain: {site.get('terrain', '')}. Every speed here assumes it.",
        *([text] if (text := _friction_text(site_id, arrived, friction, params)) else []),
        "Level changes: mapped retaining and city walls (unless tagged lower than "
        f"{params.level_change_min_height_m:g} m), walls tagged at least that high and flights "
        "of steps are taken as faces no vehicle mounts where they stand between the street and "
        f"the crowd ({len(held)} of {len(arrived)} arrivals here are held by one). They are not "
        "crash-rated, and a vehicle on the high side can drive off a wall or down steps: "
        "confirm on site which side the street is on. Kerbs, low walls and untagged "
        "freestanding walls are taken as passable.",
        "Speeds from a point-mass model (μ, power, drag assumptions in the audit), from rest "
        "within the search horizon; '≥' marks speeds the horizon limits.",
        "Over-run: a street ending at a junction or dead end is driven straight on across it "
        f"and the footway, up to {params.overrun_max_m:g} m, into the crowd where no building, "
        "level change or water stands on the line (dashed; entries 'overrun'); turning "
        "off-road paths across open ground are not modelled.",
        "Impact envelope: hard-standing measured at the entry; off-road paths from further "
        "away are not modelled. 'Straight path': the angle at which the arrival's straight "
        "path (its last vehicle length) strikes the crowd outline within "
        f"{params.impact_ray_m:.0f} m (90° head-on; buildings on the way not checked), "
        "'misses' where it runs along the crowd and must turn to strike it. Ratings are "
        "evidence only for their class, speed, angle and "
        "penetration; energy is shown, never substituted.",
        "Stand-off (the 'penetration ≤' of every rating): from the kerb to the crowd edge, "
        "what remains of the footway behind a barrier at the kerb (the entry's distance to the "
        "crowd, 4 m by construction, less half the carriageway), not a surveyed distance; a "
        "line set back on the footway has less. Penetration is measured from the rear face of "
        "the barrier in PAS 68 and ASTM F2656, from the front face in IWA 14-1 / ISO 22343-1 "
        "(to be confirmed): measure the stand-off from the face the rating's datum uses.",
        f"Martyn's Law: {site.get('martyns_law_scope', '')}.",
    ]
    return _Page(
        site=site,
        crowd=crowd,
        arrived=arrived,
        drawn=drawn,
        legs=legs,
        angles=angles,
        headline=headline,
        per_entry=per_entry,
        options=options,
        caveats=caveats,
        egress=egress_crowd(site, buildings, params=params),
        egress_approaches=_egress_text(egress, params),
        levels=levels,
    )


def vda_html(
    result: SiteAssessment,
    site_id: str,
    *,
    buildings: gpd.GeoDataFrame | None = None,
    params: HvmParams | None = None,
    egress: SiteAssessment | None = None,
    friction: SiteAssessment | None = None,
) -> str:
    """The one-page VDA of one site as an HTML ``<section>``.

    Parameters
    ----------
    result
        An assessment (:func:`~cohesion_gis.hvm.assess.assess_sites`).
    site_id
        The site (``result.sites["site_id"]``).
    buildings
        Building footprints (same CRS), for a stadium's or arena's egress zone; ``None``: the
        zone is not reduced by buildings.
    params
        The assessment's parameters (allowance, gap limit, egress); default the packaged ones.
    egress
        The stadium's or arena's egress zone assessed as a crowd area
        (:func:`egress_assessment`); ``None``: only the egress note.
    friction
        The same assessment at ``params.friction_mu_sensitivity`` (μ 1.0,
        :func:`~cohesion_gis.hvm.assess.friction_sensitivity`): the page states what moves;
        ``None``: no sensitivity line.

    Returns
    -------
    str
        A ``<section class="vda">`` with its own styles: headline, map, table, options,
        egress (stadiums and arenas), caveats. Speeds a longer search horizon would raise
        read "≥ X".

    Raises
    ------
    InputError
        The site is not in the assessment.
    """
    page = _page(
        result, site_id, buildings, None, params or load_params(HvmParams), egress=egress,
        friction=friction,
    )  # fmt: skip
    head = "".join(
        f"<th>{escape_text(c.removeprefix('impact_speed_kmh_'))}</th>" for c in page.angles
    )
    body = []
    for _, r in page.arrived.head(LISTED).iterrows():
        cells = "".join(f"<td>{r[c]:.0f}</td>" for c in page.angles)
        body.append(
            f"<tr><td>{escape_text(_entry_label(r))}</td>"
            f"<td>{escape_text(r['vehicle_class'])}</td>"
            f"<td>{_arrival(r)}</td><td>{_angle(r)}</td>"
            f"<td>{r['run_up_m']:.0f}</td>{cells}<td>{r['normal_speed_kmh']:.0f}</td>"
            f"<td>{escape_text(str(r['required_rating']))}</td></tr>"
        )
    options = "".join(
        f"<li><b>{escape_text(k)}</b>: {escape_text(v)}</li>" for k, v in page.options
    )
    caveats = "".join(f"<li>{escape_text(c)}</li>" for c in page.caveats)
    params = params or load_params(HvmParams)
    egress_html = (
        f"<h3>Egress crowd</h3><p>{escape_text(page.egress.text(params))}</p>"
        + (f"<p>{escape_text(page.egress_approaches)}</p>" if page.egress_approaches else "")
        if page.egress
        else ""
    )
    n = len(page.arrived)
    return f"""<section class="vda" style="font-family:sans-serif;max-width:1000px">
<h2>{escape_text(str(page.site["name"]))} — vehicle dynamics screening</h2>
<p>{escape_text(page.headline)}</p>
{_svg(page.crowd, page.drawn, page.legs)}
<p style="font-size:11px">{escape_text(_drawn_title(min(LISTED, n), n))}, map and table
(the rest in {APPROACHES_LAYER}); on the map by arrival speed: green &lt; 32, yellow 32-48,
orange 48-64, red ≥ 64 km/h; dashed: straight-on over-run legs across a junction and footway.
Crowd perimeter in blue. Table: speeds in km/h; straight path: the angle its straight path
strikes the crowd at, 90° head-on, or misses; envelope: fastest impact at each angle.</p>
<table border="1" cellspacing="0" cellpadding="3" style="font-size:11px">
<tr><th>entry</th><th>class</th><th>arrival km/h</th><th>straight path</th><th>run-up m</th>{head}
<th>normal km/h</th><th>requirement</th></tr>
{"".join(body)}</table>
<h3>Requirement per entry and class</h3>
<p style="font-size:11px">A rating is evidence only for its own class: every cell of an entry's
line must be met there.</p>
{_html_table(page.per_entry)}
<h3>Options</h3><ul>{options}</ul>{egress_html}
<h3>Caveats</h3><ul style="font-size:11px">{caveats}</ul>
</section>"""


def _html_table(table: pd.DataFrame) -> str:
    """A small HTML table of a frame with its index (the requirements per entry)."""
    if table.empty:
        return "<p>No vehicle arrives.</p>"
    head = "".join(f"<th>{escape_text(str(c))}</th>" for c in ["entry", *table.columns])
    body = "".join(
        f"<tr><td>{escape_text(str(i))}</td>"
        + "".join(f"<td>{escape_text(str(v))}</td>" for v in row)
        + "</tr>"
        for i, row in zip(table.index, table.to_numpy(), strict=True)
    )
    return (
        '<table border="1" cellspacing="0" cellpadding="3" style="font-size:11px">'
        f"<tr>{head}</tr>{body}</table>"
    )


def _arrival(row: pd.Series) -> str:
    """Arrival speed (km/h), "≥ X" where the search horizon limits it."""
    return f"{'≥ ' if row['horizon_limited'] else ''}{row['impact_speed_kmh']:.0f}"


def _angle(row: pd.Series) -> str:
    """Where the arrival's straight path meets the crowd: its angle (90° head-on) or "misses"."""
    return f"{row['impact_angle_deg']:.0f}°" if row["direct_hit"] else "misses"


def vda_figure(
    result: SiteAssessment,
    site_id: str,
    *,
    buildings: gpd.GeoDataFrame | None = None,
    streets: gpd.GeoDataFrame | None = None,
    levels: gpd.GeoDataFrame | None = None,
    params: HvmParams | None = None,
    egress: SiteAssessment | None = None,
    friction: SiteAssessment | None = None,
) -> Figure:
    """The one-page VDA of one site as an A4 landscape matplotlib figure (for the PDF).

    The same words as :func:`vda_html`, set on an A4 page within
    :data:`~cohesion_gis.maps.static.PAGE_MARGIN_MM` margins: the title; the map (the
    static-map machinery of :mod:`cohesion_gis.maps.static`: the arrivals listed in the
    envelope table, their last :data:`NEAR_M` m by arrival speed, over-run legs dashed, the
    crowd perimeter, the level changes, a stadium's or arena's egress zone) beside the
    headline, options and egress notes; the envelope and the requirement per entry side by
    side; the caveats, whole, at the foot. Every block is wrapped to its width and measured
    with the renderer before the next is placed, the type set smaller (7 to 5.5 pt) until the
    text leaves the tables room, and the tables keep only the rows that fit, ending
    "… N more in hvm_assessment.gpkg, layer approaches": no block overprints another whatever
    the number of rows.

    Parameters
    ----------
    result, site_id
        As :func:`vda_html`.
    buildings, streets
        Base layers (same CRS); ``None``: not drawn (the egress zone then keeps buildings).
    levels
        Level changes (:func:`~cohesion_gis.hvm.barriers.level_changes`) to draw; ``None``:
        none drawn.
    params
        The assessment's parameters; default the packaged ones.
    egress, friction
        As :func:`vda_html`.

    Returns
    -------
    matplotlib.figure.Figure
        A4 landscape, made without pyplot (no window); write it with
        :func:`cohesion_gis.maps.static.pdf_page` (:func:`cohesion_gis.export.write_vda`).
    """
    from matplotlib.figure import Figure

    from cohesion_gis import __version__
    from cohesion_gis.maps.static import A4_LANDSCAPE_IN, PAGE_MARGIN_MM

    params = params or load_params(HvmParams)
    page = _page(result, site_id, buildings, levels, params, egress=egress, friction=friction)
    fig = Figure(figsize=A4_LANDSCAPE_IN, dpi=_MEASURE_DPI)
    sheet = _Sheet(fig, margin_pt=PAGE_MARGIN_MM / 25.4 * 72)
    title = f"{page.site['name']} — vehicle dynamics screening (not a signed VDA)"
    top = sheet.put(title, sheet.left, sheet.top, sheet.width, 12.0, bold=True) + _GAP_PT
    foot = f"cohesion_gis {__version__}; © OpenStreetMap contributors"
    bottom = sheet.bottom - sheet.height_of(foot, 6.0)
    sheet.put(foot, sheet.left, bottom, sheet.width, 6.0)
    notes = [page.headline, *(f"{k}: {v}" for k, v in page.options)]
    if page.egress is not None:
        notes.append(page.egress.text(params))
    if page.egress_approaches:
        notes.append(page.egress_approaches)
    caveats = ["• " + c for c in page.caveats]
    map_w = 0.38 * sheet.width  # left column: map, then the envelope of what it draws
    map_h = _MAP_PT + 18.0  # and the map's title
    text_x, text_w = sheet.left + map_w + _GAP_PT, sheet.width - map_w - _GAP_PT
    for size in _BODY_PT:  # the largest type at which the text leaves the tables room
        notes_h = sheet.stack_height(notes, text_w, size)
        caveats_h = sheet.stack_height(caveats, sheet.width, size - 0.5)
        columns_bottom = bottom - 2 * _GAP_PT - caveats_h
        env_h = columns_bottom - (top + map_h + _GAP_PT)
        req_h = columns_bottom - (top + notes_h + _GAP_PT)
        if min(env_h, req_h) >= _TABLES_MIN_PT:
            break
    sheet.stack(notes, text_x, top, text_w, size)
    sheet.stack(caveats, sheet.left, columns_bottom + _GAP_PT, sheet.width, size - 0.5)
    short = [c.removeprefix("impact_speed_kmh_").removesuffix("deg") + "°" for c in page.angles]
    listed = sheet.table(
        "Envelope, km/h (fastest impact per angle band) of the arrivals the map draws",
        ["entry", "class", "arrival", "straight", "run-up m", *short, "normal"],
        [
            [
                _entry_label(r),
                str(r["vehicle_class"]),
                _arrival(r),
                _angle(r),
                f"{r['run_up_m']:.0f}",
                *(f"{r[c]:.0f}" for c in page.angles),
                f"{r['normal_speed_kmh']:.0f}",
            ]
            for _, r in page.arrived.head(LISTED).iterrows()
        ],
        box=(sheet.left, top + map_h + _GAP_PT, map_w, env_h),
        widths=[1.3, 1.0, 1.2, 1.2, 1.1, *([0.9] * len(short)), 1.1],
        size=size - 0.5,
        total=len(page.arrived),
    )
    if not page.per_entry.empty:
        n_cls = len(page.per_entry.columns)
        sheet.table(
            "Requirement per entry and class (a rating is evidence only for its own class: "
            "meet every cell of a line)",
            ["entry", *page.per_entry.columns],
            [[str(i), *map(str, row)]
             for i, row in zip(page.per_entry.index, page.per_entry.to_numpy(), strict=True)],
            box=(text_x, top + notes_h + _GAP_PT, text_w, req_h),
            widths=[0.9, *([3.0] * n_cls)],
            size=size - 0.5,
            total=len(page.per_entry),
        )  # fmt: skip
    map_box = (sheet.left, top, map_w, map_h)
    _draw_map(fig, sheet.axes_rect(map_box), page, page.arrived.head(listed), result.sites.crs,
              streets=streets, buildings=buildings)  # fmt: skip
    return fig


def _draw_map(
    fig: Figure,
    rect: tuple[float, float, float, float],
    page: _Page,
    listed: pd.DataFrame,
    crs: object,
    *,
    streets: gpd.GeoDataFrame | None,
    buildings: gpd.GeoDataFrame | None,
) -> None:
    """The page's map in ``rect`` (figure fractions): the arrivals the envelope table lists."""
    from matplotlib.artist import Artist
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    from cohesion_gis.maps.static import draw_base, finish_map, mpl_text

    ax = fig.add_axes(rect)
    view = shapely.buffer(page.crowd, NEAR_M)
    frame = gpd.GeoDataFrame(geometry=[view], crs=crs)
    clip = frame.total_bounds
    draw_base(
        ax,
        streets=None if streets is None else streets.cx[clip[0] : clip[2], clip[1] : clip[3]],
        buildings=None if buildings is None else buildings.cx[clip[0] : clip[2], clip[1] : clip[3]],
    )
    handles: list[Artist] = [
        Patch(facecolor="#9ecae1", edgecolor="#08519c", label="crowd perimeter")
    ]
    if page.egress is not None:
        gpd.GeoSeries([page.egress.zone], crs=crs).plot(
            ax=ax, facecolor="none", edgecolor="#6a3d9a", hatch="///", linewidth=0.4, zorder=2
        )
        handles.append(
            Patch(facecolor="none", edgecolor="#6a3d9a", hatch="///", label="egress zone")
        )
    gpd.GeoSeries([page.crowd], crs=crs).plot(
        ax=ax, facecolor="#9ecae1", edgecolor="#08519c", alpha=0.8, zorder=3
    )
    if page.levels is not None and not page.levels.empty:
        near = page.levels.loc[page.levels.intersects(view)]
        if len(near):
            near.plot(ax=ax, color="#000000", linewidth=1.6, linestyle=":", zorder=4)
            handles.append(
                Line2D([], [], color="#000000", ls=":", label="level change (wall, steps)")
            )
    geoms = shapely.intersection(listed.geometry.to_numpy(), view)
    for geom, speed in zip(geoms, listed["impact_speed_kmh"], strict=True):
        if geom is not None and not geom.is_empty:
            gpd.GeoSeries([geom], crs=crs).plot(ax=ax, color=_colour(float(speed)),
                                                linewidth=2.5, zorder=5)  # fmt: skip
    legs = _legs(listed)
    if legs:
        gpd.GeoSeries(legs, crs=crs).plot(ax=ax, color="#000000", linewidth=1.4,
                                          linestyle="--", zorder=6)  # fmt: skip
        handles.append(Line2D([], [], color="#000000", ls="--", lw=1.4,
                              label="straight-on over-run"))  # fmt: skip
    bands = ("< 32", "32-48", "48-64", "≥ 64")
    handles += [
        Line2D([], [], color=c, lw=2.5, label=f"{b} km/h")
        for (_, c), b in zip(SPEED_COLOURS, bands, strict=True)
    ]
    for _, r in listed.drop_duplicates("entry_id").iterrows():
        ax.annotate(
            mpl_text(_entry(r["entry_id"])), (r["entry_x"], r["entry_y"]), fontsize=7,
            zorder=6, bbox={"facecolor": "white", "alpha": 0.8, "lw": 0, "pad": 0.5},
        )  # fmt: skip
    ax.legend(handles=handles, loc="upper left", fontsize=6, framealpha=0.9)
    finish_map(ax, _drawn_title(len(listed), len(page.arrived)), frame)
    ax.title.set_fontsize(8)


def _drawn_title(shown: int, total: int) -> str:
    """What the map and the envelope table show, in one wording (VDA review 2 item 4)."""
    return f"The {shown} fastest of {total} arrivals (entry × class), last {NEAR_M:.0f} m"


def _legs(rows: pd.DataFrame) -> list[shapely.Geometry]:
    """The over-run legs (:mod:`cohesion_gis.hvm.overrun`) of these arrivals: their routes' ends."""
    return [
        shapely.ops.substring(route, route.length - leg_m, route.length)
        for route, kind, leg_m in zip(
            rows.geometry,
            rows.get("entry_kind", pd.Series("street", index=rows.index)),
            rows.get("overrun_m", pd.Series(np.nan, index=rows.index)),
            strict=True,
        )
        if kind == "overrun"
    ]


def _entry_label(row: pd.Series) -> str:
    """An entry's label in a table, "(over-run)" where the arrival comes by an over-run leg."""
    leg = "entry_kind" in row.index and str(row["entry_kind"]) == "overrun"
    return _entry(row["entry_id"]) + (" (over-run)" if leg else "")


#: Resolution (dots per inch) text is measured at: at 100 dpi Agg's hinting of 5-6 pt type
#: made lines up to 3 % narrower than the PDF sets them (Stade Louis-II's caveats ran past the
#: right margin); at 300 dpi the hinted widths are within the margin's rounding.
_MEASURE_DPI = 300

#: Body type sizes (pt) tried, largest first, until the text leaves the tables room.
_BODY_PT = (7.0, 6.5, 6.0, 5.5)
#: Space between blocks on the page (pt).
_GAP_PT = 6.0
#: Height of the map (pt, its title apart) and the least of a table (a title, a header and a
#: few rows).
_MAP_PT = 200.0
_TABLES_MIN_PT = 120.0
#: Line spacing of every block (matplotlib's ``linespacing``).
_SPACING = 1.2


#: A rectangle: x, y, width, height.
_Box = tuple[float, float, float, float]


class _Sheet:
    """Text set on a page in points from its top-left corner, each block measured as it is set.

    A block is wrapped to its width by measuring words with the renderer (not by counting
    characters), so it never runs wider than its box; its height is measured before the next
    block is placed (VDA review 2 item 3: table rows printed over the disclaimer).
    """

    def __init__(self, fig: Figure, *, margin_pt: float) -> None:
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        self.fig = fig
        self.renderer = FigureCanvasAgg(fig).get_renderer()  # type: ignore[no-untyped-call]
        self.page_w, self.page_h = (float(v) * 72 for v in fig.get_size_inches())
        self.left, self.top = margin_pt, margin_pt
        self.width, self.bottom = self.page_w - 2 * margin_pt, self.page_h - margin_pt
        self._px = fig.dpi / 72.0

    def _font(self, size: float, bold: bool) -> object:
        from matplotlib.font_manager import FontProperties

        return FontProperties(size=size, weight="bold" if bold else "normal")

    def _width(self, text: str, size: float, bold: bool = False) -> float:
        from cohesion_gis.maps.static import mpl_text

        w, _, _ = self.renderer.get_text_width_height_descent(
            mpl_text(text), self._font(size, bold), ismath=False
        )
        return float(w) / self._px

    def wrap(self, text: str, width_pt: float, size: float, bold: bool = False) -> str:
        """``text`` broken into lines no wider than ``width_pt`` (a long word is split)."""
        lines: list[str] = []
        for para in str(text).split("\n"):
            line = ""
            for word in para.split(" "):
                trial = f"{line} {word}" if line else word
                if self._width(trial, size, bold) <= width_pt:
                    line = trial
                    continue
                if line:
                    lines.append(line)
                line = word
                while self._width(line, size, bold) > width_pt and len(line) > 1:
                    fits = [k for k in range(1, len(line))
                            if self._width(line[:k], size, bold) <= width_pt]  # fmt: skip
                    cut = max(fits, default=1)
                    lines.append(line[:cut])
                    line = line[cut:]
            lines.append(line)
        return "\n".join(lines)

    def height_of(self, text: str, size: float, bold: bool = False) -> float:
        """Height (pt) of ``text`` (already wrapped) set at ``size``."""
        from matplotlib.text import Text

        from cohesion_gis.maps.static import mpl_text

        probe = Text(0, 0, mpl_text(text), fontsize=size, linespacing=_SPACING,
                     fontweight="bold" if bold else "normal")  # fmt: skip
        probe.set_figure(self.fig)
        return float(probe.get_window_extent(self.renderer).height) / self._px

    def put(self, text: str, x: float, y: float, width: float, size: float, *,
            bold: bool = False) -> float:  # fmt: skip
        """Set ``text`` wrapped to ``width`` with its top-left at (x, y); return its bottom."""
        from cohesion_gis.maps.static import mpl_text

        wrapped = self.wrap(text, width, size, bold)
        self.fig.text(x / self.page_w, 1 - y / self.page_h, mpl_text(wrapped), fontsize=size,
                      va="top", ha="left", linespacing=_SPACING,
                      fontweight="bold" if bold else "normal")  # fmt: skip
        return y + self.height_of(wrapped, size, bold)

    def stack_height(self, blocks: list[str], width: float, size: float) -> float:
        """Height (pt) of ``blocks`` set one under another (:meth:`stack`)."""
        heights = [self.height_of(self.wrap(b, width, size), size) for b in blocks]
        return sum(heights) + size * 0.6 * max(len(blocks) - 1, 0)

    def stack(self, blocks: list[str], x: float, y: float, width: float, size: float) -> float:
        """Set paragraphs one under another from (x, y); return the bottom of the last."""
        for block in blocks:
            y = self.put(block, x, y, width, size) + size * 0.6
        return y

    def table(
        self,
        title: str,
        header: list[str],
        rows: list[list[str]],
        *,
        box: _Box,
        widths: list[float],
        size: float,
        total: int,
    ) -> int:
        """A table in ``box`` (x, y, width, height; pt): the rows that fit, then "… N more".

        Cells wrap to their column; a rule under the header and under each row. Returns the
        number of rows set (``total`` counts every row the CSV has).
        """
        from matplotlib.lines import Line2D

        x, y, width, height = box
        bottom = y + height
        shares = np.asarray(widths, float) / sum(widths)
        edges = x + width * np.concatenate([[0.0], np.cumsum(shares)])
        pad = 1.5

        def wrapped(row: list[str], bold: bool) -> tuple[list[str], float]:
            cells = [self.wrap(c, edges[j + 1] - edges[j] - 2 * pad, size, bold)
                     for j, c in enumerate(row)]  # fmt: skip
            return cells, max(self.height_of(c, size, bold) for c in cells) + 2 * pad

        note = f"… {{}} more in {APPROACHES_LAYER}"
        note_h = self.height_of(note, size) + pad
        y = self.put(title, x, y, width, size + 0.5, bold=True) + pad
        cells, h = wrapped(header, True)
        set_rows: list[tuple[list[str], float, bool]] = [(cells, h, True)]
        used = y + h
        shown = 0
        for k, row in enumerate(rows):
            cells, h = wrapped(row, False)
            room = bottom - (note_h if k < total - 1 else 0.0)
            if used + h > room:
                break
            set_rows.append((cells, h, False))
            used += h
            shown += 1
        for cells, h, bold in set_rows:
            for j, cell in enumerate(cells):
                self.put(cell, edges[j] + pad, y + pad, edges[j + 1] - edges[j] - 2 * pad, size,
                         bold=bold)  # fmt: skip
            y += h
            line = Line2D(
                [x / self.page_w, (x + width) / self.page_w], [1 - y / self.page_h] * 2,
                lw=0.6 if bold else 0.3, color="#777777",
            )  # fmt: skip
            self.fig.add_artist(line)
        if shown < total:
            self.put(note.format(total - shown), x, y + pad, width, size)
        return shown

    def axes_rect(self, box: _Box) -> _Box:
        """``box`` (x, y from the top-left, width, height; pt) as a figure-fraction rectangle.

        Less a title line above the axes.
        """
        x, y, width, height = box
        title = 18.0  # the map's title (8 pt) and its pad
        return (x / self.page_w, 1 - (y + height) / self.page_h, width / self.page_w,
                (height - title) / self.page_h)  # fmt: skip


def _entry(entry_id: object) -> str:
    """An entry's short label on the page: its number at the site (``relation/1:3`` → ``e3``)."""
    return "e" + str(entry_id).rsplit(":", 1)[-1]


#: The parts of a rating code: test mass, class, ">" beyond the test speeds, speed, angle.
_CODE_PARTS = re.compile(r"V/(\d+)\[([A-Z0-9]+)\]/(>?)(\d+)/(\d+)")


def _class_order(arrived: pd.DataFrame) -> list[str]:
    """The classes that arrive, heaviest test mass first (from the rating codes), by name."""
    mass: dict[str, float] = {}
    for cls, text in zip(arrived["vehicle_class"], arrived["required_rating"], strict=True):
        for m in _CODE_PARTS.findall(str(text)):
            mass[str(cls)] = max(mass.get(str(cls), 0.0), float(m[0]))
    classes = set(arrived["vehicle_class"].astype(str))
    return sorted(classes, key=lambda c: (-mass.get(c, 0.0), c))


def requirements_by_entry(approaches: pd.DataFrame) -> pd.DataFrame:
    """One line per entry, one column per class: the rating codes that class needs there.

    Parameters
    ----------
    approaches
        Arrivals of one site (``SiteAssessment.approaches`` rows with a speed): ``entry_id``,
        ``vehicle_class``, ``required_rating``, ``impact_speed_kmh``.

    Returns
    -------
    pandas.DataFrame
        Index: entry labels (``e3``), fastest arrival first; columns: classes, heaviest first;
        cells: :func:`~cohesion_gis.hvm.rating.short_requirement` of that class at that entry,
        "–" where the class does not arrive. A rating is evidence only for its own class, so a
        line needs every cell.
    """
    if approaches.empty:
        return pd.DataFrame()
    rows = approaches.sort_values("impact_speed_kmh", ascending=False, kind="stable")
    table = rows.pivot_table(
        index="entry_id", columns="vehicle_class", values="required_rating",
        aggfunc="first", sort=False,
    )  # fmt: skip
    order = list(dict.fromkeys(rows["entry_id"]))
    table = table.reindex(index=order, columns=_class_order(rows))
    table = table.map(lambda v: short_requirement(v) if isinstance(v, str) else "–")
    table.index = [_entry(e) for e in table.index]
    table.columns.name = None
    return table


def governing_by_class(approaches: pd.DataFrame) -> dict[str, str]:
    """Per class (heaviest first), the most demanding rating over the site's entries.

    For each test angle the highest test speed any entry asks ("beyond tested speeds" above
    all); a 45° requirement is dropped where the class's 90° one asks at least as much (a 90°
    test covers every angle); a glancing requirement (:data:`GLANCING_CELL`) is added where any
    entry has one. Never one headline for all classes: a rating covers only its own class.

    Examples
    --------
    >>> rows = pd.DataFrame({
    ...     "entry_id": ["s:0", "s:3", "s:0"], "vehicle_class": ["M1", "M1", "N2A"],
    ...     "impact_speed_kmh": [69.0, 151.0, 52.0],
    ...     "required_rating": ["ISO 22343-1: V/1500[M1]/80/90, penetration ≤ 4.0 m",
    ...         "ISO 22343-1: V/1500[M1]/80/45 and speed management for M1: glancing",
    ...         "ISO 22343-1: V/7200[N2A]/64/90, penetration ≤ 4.0 m"]})
    >>> governing_by_class(rows)
    {'N2A': 'V/7200[N2A]/64/90', 'M1': 'V/1500[M1]/80/90 + speed management (glancing)'}
    """
    out: dict[str, str] = {}
    for cls in _class_order(approaches):
        texts = approaches.loc[approaches["vehicle_class"].astype(str) == cls, "required_rating"]
        best: dict[int, tuple[float, str]] = {}
        for text in texts.astype(str):
            for mass, name, beyond, speed, angle in _CODE_PARTS.findall(text):
                level = np.inf if beyond else float(speed)
                code = f"V/{mass}[{name}]/{beyond}{speed}/{angle}"
                if int(angle) not in best or level > best[int(angle)][0]:
                    best[int(angle)] = (level, code)
        kept = []
        if best:
            top = max(best)
            kept = [
                code for angle, (level, code) in sorted(best.items(), reverse=True)
                if angle == top or level > best[top][0]
            ]  # fmt: skip
        if texts.astype(str).str.contains("speed management for").any():
            kept.append(GLANCING_CELL)
        if not kept:
            held = texts.astype(str).str.startswith("none").all()
            kept.append("none: held at every entry" if held else "none")
        out[cls] = " + ".join(kept)
    return out


def _wrap(value: object, width: int) -> str:
    return "\n".join(textwrap.wrap(str(value), width)) or "–"
