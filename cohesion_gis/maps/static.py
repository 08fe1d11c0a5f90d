"""Static maps for council papers: PNG and PDF drawn with matplotlib, no tiles, no internet.

Each figure draws the same vector base layer as the web maps (buildings, streets) under the
results, in the study area's metric CRS, with the same colour classes and the OSM attribution.
Figures are ``matplotlib.figure.Figure`` objects made without pyplot, so nothing opens a window.
Every text from data (titles, scenario and place names, table cells) goes through
:func:`_mpl_text`, so a name is drawn as written and never parsed as mathtext.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import geopandas as gpd
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from cohesion_gis._atomic import atomic_path
from cohesion_gis.errors import ParameterError
from cohesion_gis.maps._layers import check_frame
from cohesion_gis.maps._style import (
    RISK_SCALE,
    SCORE_SCALE,
    SPEED_BANDS_KMH,
    ColourScale,
    delta_scale,
    plain_text,
)
from cohesion_gis.maps.basemap import BACKGROUND_COLOUR
from cohesion_gis.maps.cohesion import DISTRICT_COLUMNS
from cohesion_gis.maps.scenario import score_change
from cohesion_gis.maps.sites import APPROACH_COLUMNS, SITE_COLUMNS

__all__ = [
    "cohesion_figure",
    "save_pdf",
    "save_png",
    "scenario_figure",
    "sites_figure",
    "summary_figure",
]

_ATTRIBUTION = "© OpenStreetMap contributors"


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
        buildings.plot(
            ax=ax, color="#d9d0c9", edgecolor="#b9aea5", linewidth=0.2, zorder=1, rasterized=True
        )
    if streets is not None and not streets.empty:
        streets.plot(ax=ax, color="#ffffff", linewidth=0.8, zorder=2, rasterized=True)


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


def _legend(ax: Axes, scale: ColourScale, *, loc: str = "lower left") -> None:
    handles = [Patch(facecolor=c, edgecolor="#777777", label=lab) for c, lab in scale.items()]
    ax.legend(
        handles=handles, title=scale.title, loc=loc, fontsize=7, title_fontsize=7, framealpha=0.9
    )


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

    Returns
    -------
    matplotlib.figure.Figure
        One map, A4-landscape proportions.
    """
    check_frame(districts, layer="districts", columns=DISTRICT_COLUMNS)
    fig = Figure(figsize=(11.7, 8.3))
    ax = fig.add_subplot()
    _base(ax, streets=streets, buildings=buildings)
    _choropleth(ax, districts, "score", SCORE_SCALE)
    if spaces is not None and not spaces.empty:
        spaces.representative_point().plot(ax=ax, color="#222222", markersize=8, zorder=4)
    _legend(ax, SCORE_SCALE)
    _finish(ax, title, districts)
    return fig


def _draw_sites(
    ax: Axes,
    sites: gpd.GeoDataFrame,
    approaches: gpd.GeoDataFrame | None,
) -> None:
    if approaches is not None and not approaches.empty:
        colours = [SPEED_BANDS_KMH.colour(float(v)) for v in approaches["impact_speed_kmh"]]
        approaches.plot(ax=ax, color=colours, linewidth=2.5, zorder=4)
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
    for point, rank in zip(points, sites["rank"], strict=True):
        ax.annotate(
            _mpl_text(rank), (point.x, point.y), ha="center", va="center", fontsize=7, zorder=6
        )


def sites_figure(
    sites: gpd.GeoDataFrame,
    approaches: gpd.GeoDataFrame,
    *,
    streets: gpd.GeoDataFrame | None = None,
    buildings: gpd.GeoDataFrame | None = None,
    title: str = "Crowded sites and hostile-vehicle approaches",
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

    Returns
    -------
    matplotlib.figure.Figure
        One map.
    """
    check_frame(sites, layer="sites", columns=SITE_COLUMNS)
    check_frame(approaches, layer="approaches", columns=APPROACH_COLUMNS)
    fig = Figure(figsize=(11.7, 8.3))
    ax = fig.add_subplot()
    _base(ax, streets=streets, buildings=buildings)
    _draw_sites(ax, sites, approaches)
    _legend(ax, RISK_SCALE, loc="upper right")
    _legend_speed(ax)
    _finish(ax, title, sites)
    return fig


def _legend_speed(ax: Axes) -> None:
    previous = ax.get_legend()
    handles = [Patch(facecolor=c, label=lab) for c, lab in SPEED_BANDS_KMH.items()]
    ax.legend(
        handles=handles,
        title=SPEED_BANDS_KMH.title,
        loc="lower left",
        fontsize=7,
        title_fontsize=7,
        framealpha=0.9,
    )
    if previous is not None:
        ax.add_artist(previous)


def scenario_figure(
    base_districts: gpd.GeoDataFrame,
    scenario_districts: gpd.GeoDataFrame,
    *,
    scenario_name: str = "Scenario",
    streets: gpd.GeoDataFrame | None = None,
    buildings: gpd.GeoDataFrame | None = None,
) -> Figure:
    """Draw base score, scenario score and the change side by side (three panels).

    Parameters
    ----------
    base_districts, scenario_districts
        Districts contract, the same ``district_id`` values, metric CRS.
    scenario_name
        Name of the scenario in the panel titles.
    streets, buildings
        Optional base layer.

    Returns
    -------
    matplotlib.figure.Figure
        Three maps in a row.
    """
    check_frame(base_districts, layer="base_districts", columns=DISTRICT_COLUMNS)
    check_frame(scenario_districts, layer="scenario_districts", columns=DISTRICT_COLUMNS)
    change = score_change(base_districts, scenario_districts)
    deltas = change["score_change"].to_numpy(dtype=float)
    scale = delta_scale(max(float(np.nanmax(np.abs(deltas))), 1.0))
    fig = Figure(figsize=(16.5, 6.5), layout="constrained")
    axes = fig.subplots(1, 3)
    panels = (
        (base_districts, "score", SCORE_SCALE, "Base: cohesion score"),
        (change, "score", SCORE_SCALE, f"{scenario_name}: cohesion score"),
        (change, "score_change", scale, f"Change in score ({scenario_name} − base)"),
    )
    for ax, (frame, column, colours, title) in zip(axes, panels, strict=True):
        _base(ax, streets=streets, buildings=buildings)
        _choropleth(ax, frame, column, colours)
        _legend(ax, colours)
        _finish(ax, title, frame)
    return fig


def _table(
    ax: Axes,
    title: str,
    header: Sequence[str],
    rows: list[list[str]],
    *,
    widths: Sequence[float],
) -> None:
    ax.axis("off")
    ax.set_title(_mpl_text(title), fontsize=10, loc="left")
    if rows:
        table = ax.table(
            cellText=[[_mpl_text(cell) for cell in row] for row in rows],
            colLabels=[_mpl_text(label) for label in header],
            loc="upper center",
            colWidths=list(widths),
            cellLoc="left",
            colLoc="left",
        )
        table.auto_set_font_size(False)
        table.set_fontsize(8)
        table.scale(1, 1.3)


def summary_figure(
    districts: gpd.GeoDataFrame,
    sites: gpd.GeoDataFrame,
    path: str | os.PathLike[str],
    *,
    approaches: gpd.GeoDataFrame | None = None,
    streets: gpd.GeoDataFrame | None = None,
    buildings: gpd.GeoDataFrame | None = None,
    title: str = "Contact spaces and crowded-site protection: summary",
    dpi: int = 150,
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
        Page heading.
    dpi
        Resolution of a PNG, dots per inch.

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
    fig = Figure(figsize=(11.7, 8.3), layout="constrained")
    fig.suptitle(_mpl_text(title), fontsize=14, fontweight="bold")
    grid = fig.add_gridspec(2, 2, height_ratios=[3, 1.3])
    left, right = fig.add_subplot(grid[0, 0]), fig.add_subplot(grid[0, 1])
    _base(left, streets=streets, buildings=buildings)
    _choropleth(left, districts, "score", SCORE_SCALE)
    _legend(left, SCORE_SCALE)
    _finish(left, "Cohesion score by district (0–100)", districts)
    _base(right, streets=streets, buildings=buildings)
    _draw_sites(right, sites, approaches)
    _legend(right, RISK_SCALE, loc="upper right")
    if approaches is not None:
        _legend_speed(right)
    _finish(right, "Crowded sites: size = people, colour = risk, label = priority", sites)
    weakest = districts.nsmallest(5, "score")
    _table(
        fig.add_subplot(grid[1, 0]),
        "Districts with the lowest cohesion score",
        ("District", "Score (0–100)", "Residents"),
        [
            [str(r.name)[:40], f"{r.score:.0f}", f"{r.population:,.0f}"]
            for r in weakest.itertuples()
        ],
        widths=(0.5, 0.25, 0.25),
    )
    first = sites.nsmallest(5, "rank")
    _table(
        fig.add_subplot(grid[1, 1]),
        "Sites to protect first",
        ("Priority", "Site", "People", "Barrier rating needed"),
        [
            [str(r.rank), str(r.name)[:26], f"{r.capacity_persons:,.0f}", str(r.required_rating)]
            for r in first.itertuples()
        ],
        widths=(0.1, 0.34, 0.12, 0.44),
    )
    return _save(fig, path, dpi=dpi)


def _save(fig: Figure, path: str | os.PathLike[str], *, dpi: int) -> Path:
    out = Path(path)
    fmt = out.suffix.lower().lstrip(".")
    if fmt not in {"png", "pdf"}:
        raise ParameterError(f"{out}: expected a .png or .pdf file name, got {out.suffix!r}")
    with atomic_path(out, overwrite=True) as tmp:
        fig.savefig(tmp, format=fmt, dpi=dpi, metadata={"Creator": "cohesion_gis"})
    return out


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
