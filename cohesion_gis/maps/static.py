"""Static maps for council papers: PNG and PDF drawn with matplotlib, no tiles, no internet.

Each figure draws the same vector base layer as the web maps (buildings, streets) under the
results, in the study area's metric CRS, with the same colour classes and the OSM attribution.
Figures are ``matplotlib.figure.Figure`` objects made without pyplot, so nothing opens a window.
Every text from data (titles, scenario and place names, table cells) goes through
:func:`_mpl_text`, so a name is drawn as written and never parsed as mathtext.
"""

from __future__ import annotations

import math
import os
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, cast

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from matplotlib import patheffects
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg, RendererAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.layout_engine import ConstrainedLayoutEngine
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, PathPatch
from matplotlib.path import Path as MplPath
from matplotlib.textpath import TextToPath
from matplotlib.transforms import Bbox

from cohesion_gis import __version__
from cohesion_gis._atomic import atomic_path
from cohesion_gis.errors import ParameterError
from cohesion_gis.maps._layers import check_frame, in_view, label_points, single_parts
from cohesion_gis.maps._style import (
    RISK_MEANING,
    RISK_SCALE,
    SHORT_RATING_NOTE,
    SPEED_BANDS_KMH,
    STOPPED_COLOUR,
    WORST_CASE,
    ColourScale,
    change_text,
    delta_scale,
    header_lines,
    place_name,
    plain_rating,
    plain_text,
    score_classes,
)
from cohesion_gis.maps.basemap import BACKGROUND_COLOUR
from cohesion_gis.maps.cohesion import (
    BRIDGING_NOT_AVAILABLE,
    DISTRICT_COLUMNS,
    SCORE_MEANING,
    SHORT_NAMES,
    clipped_caveat,
    same_shares_caveat,
)
from cohesion_gis.maps.scenario import (
    INTERVENTION_STYLES,
    approach_changes,
    scenario_title,
    score_change,
    site_speed_labels,
)
from cohesion_gis.maps.sites import APPROACH_COLUMNS, SITE_COLUMNS

if TYPE_CHECKING:
    from matplotlib.typing import LegendLocType

__all__ = [
    "A4_LANDSCAPE_IN",
    "MAX_RANK_LABELS",
    "PAGE_MARGIN_MM",
    "PDF_METADATA",
    "cohesion_caveats",
    "cohesion_figure",
    "draw_base",
    "draw_table",
    "finish_map",
    "fit_lines",
    "mpl_text",
    "page_artists",
    "page_figure",
    "page_footer",
    "page_heading",
    "pdf_page",
    "save_pdf",
    "save_png",
    "scenario_figure",
    "sites_figure",
    "summary_figure",
    "weakest_rows",
]

_ATTRIBUTION = "© OpenStreetMap contributors"
#: Metadata of every PDF written: no ``CreationDate``, so the same inputs give the same bytes.
PDF_METADATA = {"Creator": "cohesion_gis", "CreationDate": None}
#: ... and of every PNG (matplotlib writes no date into a PNG).
_PNG_METADATA = {"Creator": "cohesion_gis"}
#: An A4 sheet in landscape, inches (ISO 216: 297 × 210 mm): every PDF page is one.
A4_LANDSCAPE_IN = (297 / 25.4, 210 / 25.4)
#: White margin round everything drawn on a page, mm: inside the unprintable edge of office
#: printers (about 4–6 mm) with room to spare, so a page prints at 100 % without scaling.
PAGE_MARGIN_MM = 10.0


def page_figure(*, portrait: bool = False) -> Figure:
    """An A4 figure whose constrained layout keeps everything :data:`PAGE_MARGIN_MM` inside.

    Every figure of this module is drawn on one, so its PDF is an A4 page and its PNG the same
    drawing cropped to what is drawn. The page's heading and footer (:func:`_heading`,
    :func:`_footer`) sit on the margins; the layout fills what lies between them.
    """
    size = A4_LANDSCAPE_IN[::-1] if portrait else A4_LANDSCAPE_IN
    fig = Figure(figsize=size, layout="constrained")
    _page_margins(fig)
    return fig


_HEADING, _FOOTER = "cg-heading", "cg-footer"  # gids of a page's heading and footer texts


def _page_margins(fig: Figure) -> None:
    """Confine the constrained layout to the page less its margins, heading and footer."""
    engine = fig.get_layout_engine()
    if not isinstance(engine, ConstrainedLayoutEngine):
        return
    width_in, height_in = fig.get_size_inches()
    renderer = FigureCanvasAgg(fig).get_renderer()  # type: ignore[no-untyped-call]
    gap_in = 0.08  # between the heading or footer and the maps
    held = {
        gid: sum(
            t.get_window_extent(renderer).height / fig.dpi + gap_in
            for t in fig.texts
            if t.get_gid() == gid
        )
        for gid in (_HEADING, _FOOTER)
    }
    mx, my = PAGE_MARGIN_MM / 25.4 / width_in, PAGE_MARGIN_MM / 25.4 / height_in
    top, bottom = held[_HEADING] / height_in, held[_FOOTER] / height_in
    engine.set(rect=(mx, my + bottom, 1 - 2 * mx, 1 - 2 * my - top - bottom))


def _page_text_width_pt(fig: Figure) -> float:
    """Width a line of text may fill on ``fig``'s page, points (margins and slack off)."""
    return _SLACK * (fig.get_figwidth() * 72 - 2 * PAGE_MARGIN_MM / 25.4 * 72)


def _heading(fig: Figure, text: str, *, fontsize: float) -> None:
    """The page's bold title (escaped) on its top margin; the layout keeps clear of it."""
    margin = PAGE_MARGIN_MM / 25.4 / fig.get_figheight()
    fig.text(0.5, 1 - margin, _mpl_text(text), fontsize=fontsize, fontweight="bold",
             ha="center", va="top", gid=_HEADING, in_layout=False)  # fmt: skip
    _page_margins(fig)


def _footer(
    fig: Figure, lines: Sequence[str], *, fontsize: float = 7.0, width_pt: float | None = None
) -> None:
    """``lines`` at the foot of the page, each wrapped (never cut) to ``width_pt`` points.

    On the bottom margin; the layout keeps clear of it. The width is the page's by default.
    """
    width_pt = min(width_pt or math.inf, _page_text_width_pt(fig))
    text = "\n".join(_fit_lines(_mpl_text(line), width_pt, fontsize) for line in lines)
    margin = PAGE_MARGIN_MM / 25.4 / fig.get_figheight()
    fig.text(0.5, margin, text, fontsize=fontsize, ha="center", va="bottom", gid=_FOOTER,
             in_layout=False)  # fmt: skip
    _page_margins(fig)


def _mpl_text(value: object) -> str:
    r"""Return ``value`` as literal matplotlib text: ``$`` escaped, control characters as ``�``.

    A pair of ``$`` makes matplotlib read the text between as mathtext: ``$x^2$`` would be
    typeset and ``$\frac$`` stops the figure from being drawn at all.

    Examples
    --------
    >>> _mpl_text("Plan $x^2$")
    'Plan \\$x^2\\$'
    """
    return plain_text(value).replace("$", r"\$")


def _base(
    ax: Axes, *, streets: gpd.GeoDataFrame | None, buildings: gpd.GeoDataFrame | None
) -> None:
    ax.set_facecolor(BACKGROUND_COLOUR)
    # the base is an image inside a PDF (data stay vector): Malta's PDF 52 s -> 4 s, 2.6 -> 0.5 MB
    if buildings is not None and not buildings.empty:
        _draw_path(ax, buildings, facecolor="#d9d0c9", edgecolor="#b9aea5", linewidth=0.2,
                   zorder=1, rasterized=True)  # fmt: skip
    if streets is not None and not streets.empty:
        _draw_path(ax, streets, edgecolor="#ffffff", linewidth=0.8, zorder=2, rasterized=True)


def _draw_path(ax: Axes, frame: gpd.GeoDataFrame, **style: object) -> None:
    """Draw every polygon (holes kept) or every line of ``frame`` as one artist in one style.

    One path instead of one matplotlib object per feature: Malta's 13k buildings and 120k street
    edges drew in 30 s through ``GeoDataFrame.plot``, in under a second this way.
    """
    parts = single_parts(frame.geometry.to_numpy())
    kinds = shapely.get_type_id(parts)
    polygons = parts[kinds == shapely.GeometryType.POLYGON]
    # exteriors anticlockwise, holes clockwise: the non-zero fill rule leaves holes empty
    rings = shapely.get_rings(shapely.orient_polygons(polygons))
    lines = parts[kinds == shapely.GeometryType.LINESTRING]
    pieces = np.concatenate([rings, lines])
    if not len(pieces):
        return
    coords, index = shapely.get_coordinates(pieces, return_index=True)
    codes = np.full(len(coords), MplPath.LINETO, dtype=MplPath.code_type)
    starts = np.r_[True, index[1:] != index[:-1]]
    codes[starts] = MplPath.MOVETO
    ring_ends = np.r_[starts[1:], True] & (index < len(rings))
    codes[ring_ends] = MplPath.CLOSEPOLY
    fill = "facecolor" in style
    # add_artist, not add_patch: its limit update walks the path in Python (Malta: 57 s)
    ax.add_artist(PathPatch(MplPath(coords, codes), fill=fill, **style))
    ax.update_datalim([coords.min(axis=0), coords.max(axis=0)])


def _finish(ax: Axes, title: str, frame: gpd.GeoDataFrame) -> None:
    west, south, east, north = frame.total_bounds
    pad = 0.03 * max(east - west, north - south)
    ax.set_xlim(west - pad, east + pad)
    ax.set_ylim(south - pad, north + pad)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("")
    ax.set_ylabel("")
    ax.set_title(_mpl_text(title), fontsize=11)
    _scale_bar(ax, width_m=east - west + 2 * pad)
    _north_arrow(ax)
    ax.text(
        0.99,
        0.01,
        _ATTRIBUTION,
        transform=ax.transAxes,
        ha="right",
        va="bottom",
        fontsize=6,
        color="#333333",
        bbox={"facecolor": "white", "alpha": 0.7, "lw": 0},
    )


def _scale_bar(ax: Axes, *, width_m: float) -> None:
    """A scale bar of a round length (1, 2 or 5 × 10^k m), about a fifth of the map's width."""
    target = width_m / 5
    length = max(
        (s * 10**k for k in range(0, 6) for s in (1, 2, 5) if s * 10**k <= target), default=1
    )
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    left, base = x0 + 0.03 * (x1 - x0), y0 + 0.04 * (y1 - y0)
    ax.plot([left, left + length], [base, base], color="#000000", lw=3, solid_capstyle="butt",
            zorder=9)  # fmt: skip
    label = f"{length / 1000:g} km" if length >= 1000 else f"{length:g} m"
    ax.text(left + length / 2, base + 0.012 * (y1 - y0), label, ha="center", va="bottom",
            fontsize=7, zorder=9, bbox={"facecolor": "white", "alpha": 0.7, "lw": 0})  # fmt: skip


def _north_arrow(ax: Axes) -> None:
    """An arrow and "N" at the top right: up is (grid) north in the metric CRS."""
    ax.annotate("N", xy=(0.96, 0.97), xytext=(0.96, 0.87), xycoords="axes fraction",
                ha="center", va="center", fontsize=9, fontweight="bold", zorder=9,
                arrowprops={"arrowstyle": "-|>", "color": "#000000", "lw": 1.5})  # fmt: skip


def _legend(
    ax: Axes,
    scale: ColourScale,
    *,
    loc: LegendLocType = "upper left",
    anchor: tuple[float, float] = (1.01, 1),
    note: str = "",
) -> None:
    """A legend beside the map (outside the axes), never over it; ``note`` wrapped under it."""
    handles = [Patch(facecolor=c, edgecolor="#777777", label=lab) for c, lab in scale.items()]
    for line in (scale.note, note):  # explanation lines: legend entries without a swatch
        if line:
            handles.append(Patch(facecolor="none", edgecolor="none", label=_wrap(line, 34)))
    previous = ax.get_legend()
    ax.legend(
        handles=handles, title=scale.title, loc=loc, bbox_to_anchor=anchor, fontsize=7,
        title_fontsize=7, framealpha=0.9, borderaxespad=0,
    )  # fmt: skip
    if previous is not None:  # kept beside the new one, unclipped so the layout makes room
        ax.add_artist(previous).set_clip_on(False)


def _choropleth(ax: Axes, districts: gpd.GeoDataFrame, column: str, scale: ColourScale) -> None:
    colours = [scale.colour(float(v)) for v in districts[column]]
    districts.plot(ax=ax, color=colours, edgecolor="#555555", linewidth=0.6, alpha=0.75, zorder=3)


def cohesion_figure(
    districts: gpd.GeoDataFrame,
    *,
    streets: gpd.GeoDataFrame | None = None,
    buildings: gpd.GeoDataFrame | None = None,
    spaces: gpd.GeoDataFrame | None = None,
    title: str = "Contact spaces and cohesion by district",
    study_area: gpd.GeoDataFrame | None = None,
    place: str | None = None,
    data_date: str | None = None,
) -> Figure:
    """Draw the district cohesion score (0–100) with contact spaces over the base layer.

    Parameters
    ----------
    districts
        Districts contract (see :mod:`cohesion_gis.maps.cohesion`), metric CRS.
    streets, buildings, spaces
        Optional layers in the same CRS.
    title
        Figure title.
    study_area
        Optional study-area polygon(s), outlined dashed (scores are reported inside only).
    place, data_date
        Study area and OpenStreetMap data date: the title names the place, a footer line says
        place, data date, run date and version (as the web map's header and the summary's
        footer), so a figure pasted into a paper keeps its source.

    Returns
    -------
    matplotlib.figure.Figure
        One map on an A4 landscape page (:func:`page_figure`).
    """
    check_frame(districts, layer="districts", columns=DISTRICT_COLUMNS)
    fig = page_figure()
    ax = fig.add_subplot()
    _base(ax, streets=streets, buildings=buildings)
    scale = score_classes(districts["score"])
    _choropleth(ax, districts, "score", scale)
    if study_area is not None and not study_area.empty:
        study_area.boundary.plot(ax=ax, color="#222222", linewidth=1.5, linestyle="--", zorder=3)
    _legend(ax, scale)
    if spaces is not None and not spaces.empty:
        spaces.representative_point().plot(ax=ax, color="#222222", markersize=8, zorder=4)
        previous = ax.get_legend()
        ax.legend(
            handles=[Line2D([], [], marker="o", color="#222222", linestyle="none",
                            markersize=4, label="contact space (park, library, square…)")],
            loc="lower left", bbox_to_anchor=(1.01, 0), fontsize=7, framealpha=0.9,
            borderaxespad=0,
        )  # fmt: skip
        if previous is not None:  # kept beside the new one, unclipped so the layout makes room
            ax.add_artist(previous).set_clip_on(False)
    _finish(ax, _titled(title, place), districts)
    _source_line(ax, place, data_date, [SCORE_MEANING, *cohesion_caveats(districts)])
    _district_labels(ax, districts)
    return fig


def _titled(title: str, place: str | None) -> str:
    """``title`` with the place after a colon, as the summary page's heading."""
    return f"{title}: {place_name(place)}" if place else title


def _source_line(
    ax: Axes, place: str | None, data_date: str | None, meaning: Sequence[str]
) -> None:
    """Place, OSM data date, run date and version at the foot of the page, and what it shows.

    Wrapped to the width of the map and its legends, so a PNG cropped to the drawing stays the
    map's width. Call before placing labels: the footer's room changes the layout.
    """
    fig = cast("Figure", ax.get_figure())
    drawn = ax.get_tightbbox(_renderer(fig))
    _footer(
        fig,
        [*header_lines(place=place, data_date=data_date, version=__version__), *meaning],
        width_pt=_SLACK * drawn.width / fig.dpi * 72 if drawn is not None else None,
    )


def _district_labels(
    ax: Axes,
    districts: gpd.GeoDataFrame,
    *,
    fontsize: float = 9,
    column: str = "score",
    scale: ColourScale | None = None,
) -> None:
    """Each district's name and value where it fits best, on a white halo (escaped text).

    ``column`` ``"score"`` writes "score 64", ``"score_change"`` what
    :func:`~cohesion_gis.maps._style.change_text` says in ``scale`` ("+0.12 points", "no change";
    required then).
    Larger districts first; a label that would cover one already placed keeps its name only,
    or is left out (the static map cannot be zoomed: the table and the web map name them).
    Call once the figure's layout is final.
    """
    halo = [patheffects.withStroke(linewidth=3, foreground="white")]
    order = np.argsort(-districts.geometry.area.to_numpy(), kind="stable")
    ordered = districts.iloc[order]
    points = label_points(ordered.to_crs("EPSG:4326"))
    anchors = gpd.GeoSeries(
        gpd.points_from_xy([p[1] for p in points], [p[0] for p in points]), crs="EPSG:4326"
    ).to_crs(districts.crs)
    renderer = _renderer(cast("Figure", ax.get_figure()))
    placed: list[Bbox] = []
    for name, value, point in zip(ordered["name"], ordered[column], anchors, strict=True):
        label = _mpl_text(name if isinstance(name, str) and name else "district")
        for text in (f"{label}\n{_label_value(value, column, scale)}", label):
            artist = ax.annotate(
                text, (point.x, point.y), ha="center", va="center", fontsize=fontsize,
                fontweight="bold", color="#111111", path_effects=halo, zorder=8,
                annotation_clip=True, in_layout=False,
            )  # fmt: skip
            box = artist.get_window_extent(renderer).padded(1)
            if not any(box.overlaps(other) for other in placed):
                placed.append(box)
                break
            artist.remove()


def _label_value(value: object, column: str, scale: ColourScale | None) -> str:
    if pd.isna(value):
        return "no score"
    number = float(value)  # type: ignore[arg-type]
    if column == "score_change" and scale is not None:  # as the web map
        return change_text(number, scale)
    return f"score {number:.0f}"


def _renderer(figure: Figure) -> RendererAgg:
    """A renderer to measure text with (an Agg canvas; saving picks its own)."""
    canvas = FigureCanvasAgg(figure)
    engine = figure.get_layout_engine()
    if engine is not None:
        engine.execute(figure)  # text is measured where the layout puts the axes
    for ax in figure.axes:  # ... and where the equal aspect of a map then draws its data
        ax.apply_aspect()
    return cast("RendererAgg", canvas.get_renderer())  # type: ignore[no-untyped-call]


def _draw_sites(
    ax: Axes,
    sites: gpd.GeoDataFrame,
    approaches: gpd.GeoDataFrame | None,
) -> None:
    if approaches is not None:
        _draw_approaches(ax, approaches)
    capacity = sites["capacity_persons"].to_numpy(dtype=float)
    top = max(float(np.nanmax(capacity)), 1.0) if len(capacity) else 1.0
    points = sites.representative_point()
    ax.scatter(
        points.x,
        points.y,
        s=30 + 400 * np.sqrt(np.clip(capacity, 0, None) / top),
        c=[RISK_SCALE.colour(float(v)) for v in sites["risk"]],
        edgecolors="#222222",
        linewidths=0.8,
        zorder=5,
    )


def _draw_approaches(ax: Axes, approaches: gpd.GeoDataFrame) -> None:
    """Approach routes coloured by speed band, one path per band."""
    if approaches.empty:
        return
    colours = [SPEED_BANDS_KMH.colour(float(v)) for v in approaches["impact_speed_kmh"]]
    for colour, band in approaches.groupby(colours, sort=False):
        _draw_path(ax, band, edgecolor=colour, linewidth=2.5, zorder=4)


def _rank_labels(ax: Axes, sites: gpd.GeoDataFrame) -> None:
    """The first :data:`MAX_RANK_LABELS` sites' priority numbers, never over one another.

    In priority order, a number that would cover one already written is left out (its circle
    stays): Monaco's summary printed "3", "38" and "40" on top of each other. Call once the
    figure's layout is final.
    """
    first = sites.loc[sites["rank"] <= MAX_RANK_LABELS].sort_values("rank", kind="stable")
    renderer = _renderer(cast("Figure", ax.get_figure()))
    placed: list[Bbox] = []
    for point, rank in zip(first.representative_point(), first["rank"], strict=True):
        artist = ax.text(point.x, point.y, _mpl_text(rank), ha="center", va="center",
                         fontsize=7, zorder=6, clip_on=True, in_layout=False)  # fmt: skip
        box = artist.get_window_extent(renderer).padded(2)  # never touching either
        if any(box.overlaps(other) for other in placed):
            artist.remove()
        else:
            placed.append(box)


#: Sites labelled with their priority on a static map: the first ones only. Beyond about 50 the
#: labels of a country (Malta: 912 sites) cover each other and the sites, and took 20 s to draw.
MAX_RANK_LABELS = 50


def sites_figure(
    sites: gpd.GeoDataFrame,
    approaches: gpd.GeoDataFrame,
    *,
    streets: gpd.GeoDataFrame | None = None,
    buildings: gpd.GeoDataFrame | None = None,
    title: str = "Crowded sites and hostile-vehicle approaches",
    study_area: gpd.GeoDataFrame | None = None,
    place: str | None = None,
    data_date: str | None = None,
) -> Figure:
    """Draw sites (size = capacity, colour = risk, label = rank) and approaches by speed band.

    Parameters
    ----------
    sites, approaches
        Sites and approaches contracts (see :mod:`cohesion_gis.maps.sites`), metric CRS.
    streets, buildings
        Optional base layer.
    title
        Figure title.
    study_area
        The study area's polygon(s): the map is framed on it (else on the sites).
    place, data_date
        In the title and a footer line, as :func:`cohesion_figure`.

    Returns
    -------
    matplotlib.figure.Figure
        One map.
    """
    check_frame(sites, layer="sites", columns=SITE_COLUMNS)
    check_frame(approaches, layer="approaches", columns=APPROACH_COLUMNS)
    fig = page_figure()
    ax = fig.add_subplot()
    _base(ax, streets=streets, buildings=buildings)
    _draw_sites(ax, sites, approaches)
    _legend(ax, RISK_SCALE, note=RISK_MEANING)
    _legend(ax, SPEED_BANDS_KMH, loc="lower left", anchor=(1.01, 0))
    _finish(ax, _titled(title, place), in_view(sites, study_area, what="sites"))
    _source_line(ax, place, data_date, [RISK_MEANING + ".", WORST_CASE])
    _rank_labels(ax, sites)
    return fig


def scenario_figure(
    base_districts: gpd.GeoDataFrame,
    scenario_districts: gpd.GeoDataFrame,
    *,
    scenario_name: str = "Scenario",
    description: str | None = None,
    interventions: gpd.GeoDataFrame | None = None,
    streets: gpd.GeoDataFrame | None = None,
    buildings: gpd.GeoDataFrame | None = None,
    headline: Sequence[str] = (),
    place: str | None = None,
    data_date: str | None = None,
    base_approaches: gpd.GeoDataFrame | None = None,
    scenario_approaches: gpd.GeoDataFrame | None = None,
    site_names: dict[object, object] | None = None,
) -> Figure:
    """Draw today's score and the change in score side by side, with the intervention on both.

    When the scenario changes vehicle approaches (an HVM scheme), the page leads with them: the
    approaches it changes today and with the scenario (stopped ones grey and dashed, the changed
    sites named with their fastest arrival before and after), framed on them, then the change in
    score; a barrier scheme's page said "no change" everywhere and nothing on vehicles.

    Parameters
    ----------
    base_districts, scenario_districts
        Districts contract, the same ``district_id`` values, metric CRS.
    scenario_name
        The scenario's id, the title when there is no description.
    description
        The scenario's description; its first sentence is the figure's title.
    interventions
        What the scenario changes (:func:`~cohesion_gis.maps.scenario.scenario_changes`).
    streets, buildings
        Optional base layer.
    headline
        What changes most, in words (``Comparison.summary``, largest first), under the maps:
        a barrier scheme's page says what it does to vehicles, not only to the scores.
    place, data_date
        Study area and OpenStreetMap data date, in the footer (with run date and version).
    base_approaches, scenario_approaches
        HVM approaches before and after (``site_id, vehicle_class, impact_speed_kmh``, lines).
    site_names
        ``{site_id: name}`` for the changed sites' labels.

    Returns
    -------
    matplotlib.figure.Figure
        Two maps in a row (three with changed approaches), legends beside them, on an A4
        landscape page.
    """
    check_frame(base_districts, layer="base_districts", columns=DISTRICT_COLUMNS)
    check_frame(scenario_districts, layer="scenario_districts", columns=DISTRICT_COLUMNS)
    change = score_change(base_districts, scenario_districts)
    deltas = change["score_change"].to_numpy(dtype=float)
    scale = delta_scale(float(np.nanmax(np.abs(deltas))) if len(deltas) else 0.0)
    fig = page_figure()
    _heading(fig, f"Scenario: {scenario_title(description, scenario_name)}", fontsize=13)
    _footer(
        fig,
        [
            *(f"What changes most: {line}" if k == 0 else line for k, line in enumerate(headline)),
            *header_lines(place=place, data_date=data_date, version=__version__),
        ],
        fontsize=8,
    )
    changed = (
        approach_changes(base_approaches, scenario_approaches)
        if base_approaches is not None and scenario_approaches is not None
        else None
    )
    site_labels: list[tuple[Axes, list[tuple[float, float, object, str]]]] = []
    if changed is not None and len(changed[0]):
        site_labels = _vehicle_panels(
            fig, changed, site_names=site_names or {}, interventions=interventions,
            streets=streets, buildings=buildings,
        )  # fmt: skip
        axes = [fig.axes[-1]]
        panels: tuple[tuple[gpd.GeoDataFrame, str, ColourScale, str], ...] = (
            (change, "score_change", scale, "Change in cohesion score"),
        )
    else:
        axes = list(fig.subplots(1, 2))
        panels = (
            (base_districts, "score", score_classes(base_districts["score"]),
             "Today: cohesion score"),
            (change, "score_change", scale, "Change in score with the scenario"),
        )  # fmt: skip
    for ax, (frame, column, colours, title) in zip(axes, panels, strict=True):
        _base(ax, streets=streets, buildings=buildings)
        _choropleth(ax, frame, column, colours)
        _legend(ax, colours)
        if interventions is not None and len(interventions):
            _draw_interventions(ax, interventions)
        _finish(ax, title, frame)
    for ax, (frame, column, colours, _) in zip(axes, panels, strict=True):  # layout final
        _district_labels(ax, frame, fontsize=8, column=column, scale=colours)
    for ax, labels in site_labels:
        _point_labels(ax, labels)
    return fig


def _vehicle_panels(
    fig: Figure,
    changed: tuple[gpd.GeoDataFrame, gpd.GeoDataFrame],
    *,
    site_names: dict[object, object],
    interventions: gpd.GeoDataFrame | None,
    streets: gpd.GeoDataFrame | None,
    buildings: gpd.GeoDataFrame | None,
) -> list[tuple[Axes, list[tuple[float, float, object, str]]]]:
    """Today's and the scenario's changed approaches, framed on them, and a third axes after.

    Stopped approaches grey and dashed on today's route, with a ring where they arrived.
    Returns each panel with its labels (the changed sites with their fastest arrival before
    and after, as the web map) for :func:`_point_labels` once the layout is final.
    """
    before, after = changed
    panels: list[Axes] = []
    grid = fig.add_gridspec(1, 3, width_ratios=[1, 1, 0.9])
    frame = gpd.GeoDataFrame(geometry=[before.union_all().buffer(60)], crs=before.crs)
    labels = site_speed_labels(before, after, site_names)
    stopped = after["impact_speed_kmh"].to_numpy(dtype=float) <= 0
    for k, (table, title) in enumerate(
        ((before, "Approaches it changes: today"), (after, "With the scenario"))
    ):  # fmt: skip
        ax = fig.add_subplot(grid[0, k])
        _base(ax, streets=streets, buildings=buildings)
        if k == 1:  # today's routes faint under the scenario's
            _draw_path(ax, before, edgecolor="#1764ab", linewidth=1.0, alpha=0.3, zorder=3)
            _draw_approaches(ax, after.loc[~stopped])
            if stopped.any():
                _draw_path(ax, before.loc[stopped], edgecolor=STOPPED_COLOUR, linewidth=2.0,
                           linestyle=(0, (4, 3)), zorder=4)  # fmt: skip
                ends = shapely.get_point(before.geometry.to_numpy()[stopped], -1)
                ax.scatter(shapely.get_x(ends), shapely.get_y(ends), s=30, facecolor="white",
                           edgecolor=STOPPED_COLOUR, linewidths=2, zorder=6)  # fmt: skip
        else:
            _draw_approaches(ax, table)
        if interventions is not None and len(interventions):
            _draw_interventions(ax, interventions)
        handles: list[Artist] = [
            Line2D([], [], color=c, lw=2.5, label=lab) for c, lab in SPEED_BANDS_KMH.items()
        ]
        if k == 1:
            handles += [
                Line2D([], [], color=STOPPED_COLOUR, lw=2, linestyle=(0, (4, 3)),
                       marker="o", markerfacecolor="white", markeredgecolor=STOPPED_COLOUR,
                       label="stopped (ring: where it arrived today)"),
                Line2D([], [], color="#1764ab", lw=1, alpha=0.3, label="today's route, faint"),
            ]  # fmt: skip
        drawn = ax.get_legend()  # the intervention's, joined to this one under the map
        if drawn is not None:
            handles += [h for h in drawn.legend_handles if h is not None]
            drawn.remove()
        ax.legend(handles=handles, title=SPEED_BANDS_KMH.title + "; intervention",
                  loc="upper left", bbox_to_anchor=(0, -0.02), fontsize=6.5, title_fontsize=7,
                  framealpha=0.9, borderaxespad=0, handlelength=3)  # fmt: skip
        _finish(ax, title, frame)
        panels.append(ax)
    fig.add_subplot(grid[0, 2])
    return [
        (ax, [(row.geometry.x, row.geometry.y, row.name,
               f"fastest {row.before_kmh:.0f} km/h" if k == 0 else f"fastest {row.text}")
              for row in labels.itertuples()])
        for k, ax in enumerate(panels)
    ]  # fmt: skip


def _point_labels(ax: Axes, labels: Sequence[tuple[float, float, object, str]]) -> None:
    """Name and detail at each point, most important first, never over one another.

    A label that would cover one already written keeps its name only, or is left out. Call once
    the figure's layout is final.
    """
    halo = [patheffects.withStroke(linewidth=3, foreground="white")]
    renderer = _renderer(cast("Figure", ax.get_figure()))
    placed: list[Bbox] = []
    for x, y, name, detail in labels:
        for text in (f"{_mpl_text(name)}\n{_mpl_text(detail)}", _mpl_text(name)):
            artist = ax.annotate(text, (x, y), ha="center", va="bottom", fontsize=7,
                                 fontweight="bold", path_effects=halo, zorder=8,
                                 annotation_clip=True, in_layout=False)  # fmt: skip
            box = artist.get_window_extent(renderer).padded(1)
            if not any(box.overlaps(other) for other in placed):
                placed.append(box)
                break
            artist.remove()


def _draw_interventions(ax: Axes, changes: gpd.GeoDataFrame) -> None:
    """The changes in the web map's styles: a new barrier line black, thick, dashed on a halo."""
    handles: list[Artist] = []
    for kind, group in changes.groupby("change", sort=False):
        style = INTERVENTION_STYLES[str(kind)][0]
        colour = str(style["color"])
        line: dict[str, Any] = {  # Line2D keywords
            "color": colour,
            "linewidth": 0.6 * float(str(style.get("weight", 5))),  # screen px -> points
            "linestyle": (0, (4, 2)) if "dashArray" in style else "-",
            "path_effects": [
                patheffects.Stroke(linewidth=0.6 * float(str(style.get("weight", 5))) + 3,
                                   foreground="white"),
                patheffects.Normal(),
            ] if style.get("className") == "cg-halo" else [],
        }  # fmt: skip
        polygons = group.geom_type.isin(["Polygon", "MultiPolygon"])
        if polygons.any():
            group[polygons].plot(ax=ax, facecolor=str(style.get("fillColor", colour)),
                                 edgecolor=colour, linewidth=1.5, alpha=0.8, zorder=6)  # fmt: skip
            handles.append(Patch(facecolor=str(style.get("fillColor", colour)), edgecolor=colour,
                                 label=_mpl_text(kind)))  # fmt: skip
        if (~polygons).any():
            group[~polygons].plot(ax=ax, markersize=30, zorder=7, **line)
            mark: dict[str, Any] = {}
            if kind == "new barrier line":  # a short line across a street: marked to be seen
                mark = {"marker": "D", "markersize": 7, "markerfacecolor": colour,
                        "markeredgecolor": "white", "markeredgewidth": 1.2}  # fmt: skip
                middle = shapely.line_interpolate_point(
                    group[~polygons].geometry.values, 0.5, normalized=True
                )
                ax.plot(shapely.get_x(middle), shapely.get_y(middle), linestyle="none",
                        zorder=7.5, **mark)  # fmt: skip
            handles.append(Line2D([], [], label=_mpl_text(kind), **line, **mark))
    previous = ax.get_legend()
    ax.legend(handles=handles, title="Intervention", loc="lower left", bbox_to_anchor=(1.01, 0),
              fontsize=7, title_fontsize=7, framealpha=0.9, borderaxespad=0,
              handlelength=3.5)  # fmt: skip
    if previous is not None:  # kept beside the new one, unclipped so the layout makes room
        ax.add_artist(previous).set_clip_on(False)


#: Font size of table cells, points; smaller sizes tried in turn when the rows would not fit.
_TABLE_PT = 7.0
_TABLE_SIZES_PT = (_TABLE_PT, 6.5, 6.0)
#: Height of a line of table text, in font sizes (matplotlib's 1.2 line spacing and a little air).
_LINE = 1.25
_CELL_PAD = 0.1  # matplotlib's text inset in a cell: a tenth of the cell's width (Cell.PAD)
#: Share of a measured width that text may fill: a PNG's hinted glyphs come out up to 8 % wider
#: than their outlines (7 pt at 150 dpi), a PDF's as measured.
_SLACK = 0.9


def _text_width_pt(text: str, size: float = _TABLE_PT) -> float:
    """Width of one line of ``text`` in points (DejaVu Sans, matplotlib's default)."""
    width, _, _ = TextToPath().get_text_width_height_descent(
        text, FontProperties(size=size), ismath=False
    )
    return float(width)


def _fit_lines(text: str, width_pt: float, size: float = _TABLE_PT) -> str:
    """``text`` wrapped onto lines no wider than ``width_pt`` points at ``size`` points."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for word in paragraph.split():
            candidate = f"{line} {word}" if line else word
            if _text_width_pt(candidate, size) <= width_pt:
                line = candidate
                continue
            if line:
                lines.append(line)
            rest = word
            while _text_width_pt(rest, size) > width_pt and len(rest) > 1:
                cut = max(
                    (k for k in range(1, len(rest)) if _text_width_pt(rest[:k], size) <= width_pt),
                    default=1,
                )
                lines.append(rest[:cut])
                rest = rest[cut:]
            line = rest
        lines.append(line)
    return "\n".join(lines)


def _table(
    ax: Axes,
    title: str,
    header: Sequence[str],
    rows: list[list[str]],
    *,
    widths: Sequence[float],
) -> None:
    """A table filling ``ax``'s width whose cells wrap to their column: nothing is cut.

    ``widths`` are the columns' shares of the width; a column is widened to hold its longest
    word (a header such as "Priority" included), the others giving way in proportion. Rows too
    many for the axes at 7 pt are set at 6.5 or 6 pt, never squeezed below their lines (the
    summary's fifth rating overlapped its cell's border). Call once the figure's layout is
    final (the width is measured).
    """
    ax.axis("off")
    ax.set_title(_mpl_text(title), fontsize=10, loc="left")
    if not rows:
        return
    figure = cast("Figure", ax.get_figure())
    _renderer(figure)  # settles the layout
    axes_pt = ax.get_position().width * figure.get_figwidth() * 72
    texts = [[_mpl_text(c) for c in header], *[[_mpl_text(c) for c in row] for row in rows]]
    axes_height_pt = ax.get_position().height * figure.get_figheight() * 72
    for size in _TABLE_SIZES_PT:  # the largest type at which every row fits its lines
        shares = _column_shares(texts, widths, axes_pt, size)
        cells = [
            [
                _fit_lines(cell, _SLACK * (shares[j] * axes_pt * (1 - _CELL_PAD)) - 2, size)
                for j, cell in enumerate(row)
            ]
            for row in texts
        ]
        lines = [max(cell.count("\n") + 1 for cell in row) for row in cells]
        if _LINE * size * sum(n + 0.5 for n in lines) <= 0.95 * axes_height_pt:
            break
    table = ax.table(
        cellText=cells[1:], colLabels=cells[0], loc="upper center", colWidths=list(shares),
        cellLoc="left", colLoc="left",
    )  # fmt: skip
    table.set_in_layout(False)
    table.auto_set_font_size(False)
    table.set_fontsize(size)
    line = _LINE * size / axes_height_pt  # a line of text, as a share of the axes' height
    for (row, _col), cell in table.get_celld().items():
        cell.set_height(line * (lines[row] + 0.5))


def _column_shares(
    texts: list[list[str]], widths: Sequence[float], axes_pt: float, size: float
) -> np.ndarray:
    """Columns' shares of the width: ``widths``, each widened to hold its longest word."""
    need = [  # the longest word, inset and 2 pt clear of the right edge
        (max(_text_width_pt(word, size) for row in texts for word in (row[j].split() or [""])) + 3)
        / (1 - _CELL_PAD)
        / _SLACK
        for j in range(len(widths))
    ]
    shares = np.asarray(widths, dtype=float) / sum(widths)
    floor = np.asarray(need) / axes_pt
    for _ in range(len(shares)):  # widen to the floor, take it from the columns above theirs
        short = shares < floor
        if not short.any():
            break
        extra = float((floor[short] - shares[short]).sum())
        shares[short] = floor[short]
        spare = ~short & (shares > floor)
        room = shares[spare] - floor[spare]
        shares[spare] -= extra * room / max(float(room.sum()), 1e-9)
    return shares


def summary_figure(
    districts: gpd.GeoDataFrame,
    sites: gpd.GeoDataFrame,
    path: str | os.PathLike[str],
    *,
    approaches: gpd.GeoDataFrame | None = None,
    streets: gpd.GeoDataFrame | None = None,
    buildings: gpd.GeoDataFrame | None = None,
    title: str = "Contact spaces and crowded-site protection",
    place: str | None = None,
    data_date: str | None = None,
    dpi: int = 150,
    study_area: gpd.GeoDataFrame | None = None,
) -> Path:
    """Write a one-page A4 summary for council papers: both maps and two short tables.

    Parameters
    ----------
    districts
        Districts contract, metric CRS.
    sites
        Sites contract, metric CRS.
    path
        Output file; ``.pdf`` or ``.png`` (written atomically).
    approaches, streets, buildings
        Optional layers.
    title
        Page heading (the place is added after a colon).
    place, data_date
        Study area and OpenStreetMap data date, in the heading and the footer (with the run
        date, the version, what the score means and the worst case the ratings assume).
    dpi
        Resolution of a PNG, dots per inch.
    study_area
        The study area's polygon(s): the sites panel is framed on it (else on the sites).

    Returns
    -------
    pathlib.Path
        The file written.

    Raises
    ------
    ParameterError
        ``path`` ends neither in ``.pdf`` nor ``.png``.
    """
    check_frame(districts, layer="districts", columns=DISTRICT_COLUMNS)
    check_frame(sites, layer="sites", columns=SITE_COLUMNS)
    fig = page_figure()
    heading = f"{title}: {place_name(place)}" if place else title
    _heading(fig, heading, fontsize=14)
    first = sites.nsmallest(5, "rank")
    ratings = [plain_rating(r, code=False, short=True) for r in first["required_rating"]]
    footer = [
        *header_lines(place=place, data_date=data_date, version=__version__),
        SCORE_MEANING,
        *cohesion_caveats(districts),
        RISK_MEANING + ".",
        WORST_CASE,
        *([SHORT_RATING_NOTE] if any(r.startswith("none at") for r in ratings) else []),
    ]
    _footer(fig, footer)
    # maps and tables in grids of their own: the tables take the full half page, not the maps'
    # width less their legends (Monaco's district table ran into the footer)
    outer = fig.add_gridspec(2, 1, height_ratios=[3, 2])
    maps, tables = outer[0].subgridspec(1, 2), outer[1].subgridspec(1, 2)
    left, right = fig.add_subplot(maps[0, 0]), fig.add_subplot(maps[0, 1])
    _base(left, streets=streets, buildings=buildings)
    scale = score_classes(districts["score"])
    _choropleth(left, districts, "score", scale)
    _legend(left, scale)
    _finish(left, "Cohesion score by district (0–100)", districts)
    _base(right, streets=streets, buildings=buildings)
    _draw_sites(right, sites, approaches)
    _legend(right, RISK_SCALE, note=RISK_MEANING)
    if approaches is not None:
        _legend(right, SPEED_BANDS_KMH, loc="lower left", anchor=(1.01, 0))
    _finish(
        right, "Crowded sites: size = people, colour = risk, label = priority",
        in_view(sites, study_area, what="sites"),
    )  # fmt: skip
    _table(
        fig.add_subplot(tables[0, 0]),
        "Districts with the lowest cohesion score",
        ("District", "Score (0–100)", "Worst tenth / median", "Most points lost on",
         "Fewest residents within the standard walk of", "Residents"),
        weakest_rows(districts),
        widths=(0.3, 0.08, 0.13, 0.15, 0.22, 0.12),
    )  # fmt: skip
    _table(
        fig.add_subplot(tables[0, 1]),
        "Sites to protect first",
        ("Priority", "Site", "People", "Barrier rating needed"),
        [
            [str(r.rank), str(r.name), f"{r.capacity_persons:,.0f}", rating]
            for r, rating in zip(first.itertuples(), ratings, strict=True)
        ],
        widths=(0.08, 0.34, 0.1, 0.48),
    )
    _district_labels(left, districts, fontsize=7)  # the layout is final: labels measured in it
    _rank_labels(right, sites)
    return _save(fig, path, dpi=dpi)


def weakest_rows(districts: gpd.GeoDataFrame, n: int = 5) -> list[list[str]]:
    """The summary page's table rows: the ``n`` lowest scores with their decision outputs.

    Per district: p10 / median home score, the component costing most points
    (``main_shortfall``, with its ``shortfall_<component>`` points) and the type of contact space
    the fewest residents have within its standard walk (``share_meeting_<type>``, among the types
    some district's residents have): "–" where the table lacks the columns.
    """
    meeting = [
        c for c in districts if str(c).startswith("share_meeting_") and districts[c].max() > 0
    ]
    rows = []
    for _, r in districts.nsmallest(n, "score").iterrows():
        main = str(r.get("main_shortfall") or "")
        points = r.get(f"shortfall_{main}", np.nan) if main else np.nan
        lost = f"{SHORT_NAMES.get(main, main)} ({points:.0f} points)" if main else "–"
        fewest = "–"
        shares = r[meeting].astype(float).dropna()
        if len(shares):
            low = shares[shares <= shares.min() + 1e-9].index
            kinds = ", ".join(str(c).removeprefix("share_meeting_").replace("_", " ") for c in low)
            fewest = f"{kinds}: {100 * shares.min():.0f} %"
        spread = "–"
        if "p10_score" in r and pd.notna(r["p10_score"]):
            spread = f"{r['p10_score']:.0f} / {r['median_score']:.0f}"
        rows.append(
            [str(r["name"]), f"{r['score']:.0f}", spread, lost, fewest, f"{r['population']:,.0f}"]
        )
    return rows


def cohesion_caveats(districts: gpd.GeoDataFrame) -> list[str]:
    """Footer lines: bridging not available or saying nothing, districts cut, types out of walk.

    Bridging without group data, or from the same group shares in every home; districts cut by
    the edge of the data (a ``clipped`` column); the types of space no resident has within its
    standard walk.
    """
    lines = []
    if districts["bridging"].isna().all():
        lines.append(f"Mixing of residents: {BRIDGING_NOT_AVAILABLE}.")
    if same := same_shares_caveat(districts):
        lines.append(same)
    if cut := clipped_caveat(districts):
        lines.append(cut)
    never = [
        str(c).removeprefix("share_meeting_").replace("_", " ")
        for c in districts
        if str(c).startswith("share_meeting_") and not districts[c].max() > 0
    ]
    if never:
        lines.append(
            "No resident is within the standard walk of any: " + ", ".join(never) + " (check "
            "that the map data are complete)."
        )
    return lines


def _wrap(value: object, width: int) -> str:
    """Text wrapped onto lines of at most ``width`` characters: never cut."""
    return "\n".join(textwrap.wrap(plain_text(value), width, break_long_words=True)) or "–"


def page_artists(fig: Figure) -> list[Artist]:
    """What a crop to the drawing keeps: the layout's artists and the page's heading and footer.

    The heading and footer sit on the margins outside the layout (``in_layout=False``), which
    matplotlib's tight box leaves out.
    """
    own = [t for t in fig.texts if t.get_gid() in (_HEADING, _FOOTER)]
    return [*fig.get_default_bbox_extra_artists(), *own]


def _save(fig: Figure, path: str | os.PathLike[str], *, dpi: int) -> Path:
    """Write ``fig``: a PDF as a whole A4 page, a PNG cropped to what is drawn.

    A figure not drawn on :func:`page_figure` (another module's page) is set to A4 in its own
    orientation while the PDF is written (its layout re-flows), then restored.
    """
    out = Path(path)
    fmt = out.suffix.lower().lstrip(".")
    if fmt not in {"png", "pdf"}:
        raise ParameterError(f"{out}: expected a .png or .pdf file name, got {out.suffix!r}")
    with atomic_path(out, overwrite=True) as tmp:
        if fmt == "pdf":
            pdf_page(fig, tmp)
        else:  # cropped to the drawing
            fig.savefig(tmp, format=fmt, dpi=dpi, metadata=_PNG_METADATA, bbox_inches="tight",
                        pad_inches=0.15, bbox_extra_artists=page_artists(fig))  # fmt: skip
    return out


def pdf_page(fig: Figure, target: str | os.PathLike[str] | BinaryIO) -> None:
    """Write ``fig`` as one whole A4 page of PDF (no date: same inputs, same bytes).

    A figure not drawn on :func:`page_figure` (another module's page, e.g. the VDA page) is set
    to A4 in its own orientation while it is written (its layout re-flows), then restored.
    """
    size = tuple(fig.get_size_inches())
    fig.set_size_inches(A4_LANDSCAPE_IN if size[0] >= size[1] else A4_LANDSCAPE_IN[::-1])
    try:
        fig.savefig(target, format="pdf", metadata=PDF_METADATA)
    finally:
        fig.set_size_inches(size)


def save_png(fig: Figure, path: str | os.PathLike[str], *, dpi: int = 150) -> Path:
    """Write ``fig`` as a PNG (atomically) at ``dpi`` dots per inch and return the path."""
    if Path(path).suffix.lower() != ".png":
        raise ParameterError(f"{path}: save_png needs a file name ending in .png")
    return _save(fig, path, dpi=dpi)


def save_pdf(fig: Figure, path: str | os.PathLike[str]) -> Path:
    """Write ``fig`` as a vector PDF (atomically) and return the path."""
    if Path(path).suffix.lower() != ".pdf":
        raise ParameterError(f"{path}: save_pdf needs a file name ending in .pdf")
    return _save(fig, path, dpi=150)


#: The page-building helpers of these figures under public names, for one-page figures drawn
#: outside this module (the VDA page of :mod:`cohesion_gis.hvm.report`): the base layers, the
#: map frame (limits, title, scale bar, north arrow, attribution), a table panel, literal text,
#: text wrapped to a measured width, the page's heading and footer on its margins.
draw_base = _base
finish_map = _finish
draw_table = _table
mpl_text = _mpl_text
fit_lines = _fit_lines
page_heading = _heading
page_footer = _footer
