"""One-page vehicle dynamics assessment (VDA) of a site, as a self-contained HTML section.

:func:`vda_html` turns one site of a :class:`~cohesion_gis.hvm.assess.SiteAssessment` into the
page a planner hands to a security adviser: the worst approaches drawn (an inline SVG in the
study area's metric CRS, no tiles, works offline), the impact envelope and requirement per entry
and class, the options (traffic management, landscaping, a rated product, an active barrier)
and the caveats. Print it to PDF from any browser (or ``chromium --headless --print-to-pdf``).

It is not a VDA signed by a suitably qualified practitioner: the caveats say so on the page.

Examples
--------
>>> import cohesion_gis as cg
>>> from cohesion_gis.hvm.assess import assess_sites
>>> from cohesion_gis.hvm.report import vda_html
>>> result = assess_sites(cg.load_city())
>>> sid = result.sites.loc[result.sites["name"] == "Senaatintori", "site_id"].iloc[0]
>>> page = vda_html(result, sid)
>>> "<svg" in page and "Senaatintori" in page and "V/1500[M1]/80/45" in page
True
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import shapely

from cohesion_gis.errors import InputError

if TYPE_CHECKING:
    from cohesion_gis.hvm.assess import SiteAssessment

__all__ = ["SPEED_COLOURS", "vda_html", "write_vda"]

#: Route colours by arrival speed band (km/h), the reference's map bands (hvm.md §8.6).
SPEED_COLOURS = ((32.0, "#1a9850"), (48.0, "#fee08b"), (64.0, "#f46d43"), (np.inf, "#a50026"))
#: Approaches drawn: the fastest this many per site, within ``NEAR_M`` of it.
DRAWN = 8
#: Routes are drawn within this distance (m) of the site (the last part of each run-up).
NEAR_M = 150.0
#: Rows of the table: the fastest arrivals (the approaches table has every row).
LISTED = 16
_W, _H = 640, 420


def _colour(speed: float) -> str:
    return next(colour for top, colour in SPEED_COLOURS if speed < top)


def _svg(site: shapely.Geometry, rows: list[tuple[shapely.Geometry, float]]) -> str:
    """The crowd perimeter and the routes, fitted to the page."""
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


def vda_html(result: SiteAssessment, site_id: str) -> str:
    """The one-page VDA of one site as an HTML ``<section>``.

    Parameters
    ----------
    result
        An assessment (:func:`~cohesion_gis.hvm.assess.assess_sites`).
    site_id
        The site (``result.sites["site_id"]``).

    Returns
    -------
    str
        A ``<section class="vda">`` with its own styles: headline, map, table, options,
        caveats. Speeds a longer search horizon would raise read "≥ X".

    Raises
    ------
    InputError
        The site is not in the assessment.
    """
    sites = result.sites.set_index("site_id")
    if site_id not in sites.index:
        raise InputError(f"site {site_id!r} is not in the assessment; see result.sites.site_id.")
    site = sites.loc[site_id]
    rows = result.approaches.loc[result.approaches["site_id"] == site_id]
    arrived = rows.loc[rows["impact_speed_kmh"].astype(float) > 0].sort_values(
        "impact_speed_kmh", ascending=False
    )
    esc = html.escape
    speeds = arrived["impact_speed_kmh"].astype(float)
    crowd = result.sites.set_index("site_id").geometry.loc[site_id]
    near = shapely.intersection(arrived.geometry.to_numpy(), shapely.buffer(crowd, NEAR_M))
    drawn = list(zip(near, speeds, strict=True))[:DRAWN]
    angles = [c for c in rows.columns if c.startswith("impact_speed_kmh_") and c.endswith("deg")]
    head = "".join(f"<th>{esc(c.removeprefix('impact_speed_kmh_'))}</th>" for c in angles)
    body = []
    for _, r in arrived.head(LISTED).iterrows():
        ge = "≥ " if r["horizon_limited"] else ""
        cells = "".join(f"<td>{r[c]:.0f}</td>" for c in angles)
        body.append(
            f"<tr><td>{esc(str(r['entry_id']))}</td><td>{esc(r['vehicle_class'])}</td>"
            f"<td>{ge}{r['impact_speed_kmh']:.0f}</td><td>{r['impact_angle_deg']:.0f}°</td>"
            f"<td>{r['run_up_m']:.0f}</td>{cells}<td>{r['normal_speed_kmh']:.0f}</td>"
            f"<td>{esc(str(r['required_rating']))}</td></tr>"
        )
    fastest = arrived.iloc[0] if len(arrived) else None
    runs = (
        f"the longest run-up is {fastest['run_up_m']:.0f} m ({fastest['vehicle_class']} "
        f"{fastest['impact_speed_kmh']:.0f} km/h at entry {esc(str(fastest['entry_id']))})"
        if fastest is not None
        else "no vehicle reaches the site"
    )
    options = [
        f"<b>Traffic management</b>: close or re-route the straight run-ups; {runs}.",
        "<b>Landscaping and street geometry</b>: bends, narrowing or planting upstream lower the "
        "speed at every entry; the requirement falls with it (a rated barrier is credited up to "
        "its test speed / 1.10).",
        f"<b>Rated product</b>: {esc(str(site['required_rating']))}, and every other class's "
        "requirement in the table; a continuous line, gaps ≤ 1.2 m (DfT TAL 01/11), across "
        "every entry listed.",
        "<b>Active barrier</b> where vehicles must enter (deliveries, emergency access): rated "
        "as above, closed by default, with an operating regime.",
    ]
    caveats = [
        "Not a vehicle dynamics assessment by a suitably qualified practitioner: a screening "
        "for one; have it reviewed (NPSA, CTSA) before specifying products.",
        "Speeds from a point-mass model (μ, power, drag assumptions in the audit), from rest "
        "within the search horizon; '≥' marks speeds the horizon limits.",
        "Impact envelope: hard-standing measured at the entry; off-road paths from further "
        "away are not modelled. Ratings are evidence only for their class, speed, angle and "
        "penetration; energy is shown, never substituted.",
        f"Martyn's Law: {esc(str(site.get('martyns_law_scope', '')))}.",
        f"Terrain: {esc(str(site.get('terrain', '')))}.",
    ]
    tier = esc(str(site["martyns_law_tier"]))
    event = esc(str(site.get("martyns_law_event", "")))
    return f"""<section class="vda" style="font-family:sans-serif;max-width:1000px">
<h2>{esc(str(site["name"]))} — vehicle dynamics screening</h2>
<p>{esc(str(site["kinds"]))}; about {site["capacity_persons"]:,.0f} persons
({esc(str(site["capacity_source"]))}); Martyn's Law tier <b>{tier}</b>
{esc(str(site.get("martyns_law_premises", "")))} {event}. Rank {site["rank"]}, priority
{site["priority"]}, risk {site["risk"]}. Worst normal impact {site["max_normal_speed_kmh"]:.0f}
km/h; crowd entry without turning {site.get("max_crowd_entry_speed_kmh", 0.0):.0f} km/h;
governing requirement: <b>{esc(str(site["required_rating"]))}</b>.</p>
{_svg(crowd, drawn)}
<p style="font-size:11px">The last {NEAR_M:.0f} m of the {min(DRAWN, len(arrived))} fastest
approaches, by arrival speed: green &lt; 32, yellow 32-48, orange 48-64, red ≥ 64 km/h. Crowd
perimeter in blue. Table: the {min(LISTED, len(arrived))} fastest of {len(arrived)} arrivals
(speeds in km/h; envelope: fastest impact at each angle).</p>
<table border="1" cellspacing="0" cellpadding="3" style="font-size:11px">
<tr><th>entry</th><th>class</th><th>arrival km/h</th><th>heading</th><th>run-up m</th>{head}
<th>normal km/h</th><th>requirement</th></tr>
{"".join(body)}</table>
<h3>Options</h3><ul>{"".join(f"<li>{o}</li>" for o in options)}</ul>
<h3>Caveats</h3><ul style="font-size:11px">{"".join(f"<li>{c}</li>" for c in caveats)}</ul>
</section>"""


def write_vda(
    result: SiteAssessment, site_id: str, path: str | Path, *, overwrite: bool = False
) -> Path:
    """Write :func:`vda_html` of one site as a standalone HTML file.

    Raises
    ------
    InputError
        The file exists and ``overwrite`` is False, or the site is unknown.
    """
    from cohesion_gis.export import atomic_path

    out = Path(path)
    with atomic_path(out, overwrite=overwrite) as tmp:  # refuses an existing file first
        page = vda_html(result, site_id)
        tmp.write_text(f"<!doctype html><meta charset='utf-8'>{page}", encoding="utf-8")
    return out
