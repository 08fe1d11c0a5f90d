"""The main job in one call: study-area layers, cohesion scores, site assessment and maps.

:func:`run_study` is what ``cohesion-gis demo`` runs on the embedded Helsinki extract, and what a
notebook calls for any other area. Each step is a public function of its own module; this only
chains them and puts the outputs in one folder.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = [
    "cohesion_maps",
    "example_scenarios",
    "run_study",
    "sites_maps",
    "summary_page",
    "write_comparison",
]

log = logging.getLogger(__name__)


def example_scenarios() -> list[Path]:
    """The Helsinki example scenarios shipped in the repository's ``scenarios/`` folder."""
    folder = Path(__file__).resolve().parent.parent / "scenarios"
    return sorted(folder.glob("*.toml"))


def run_study(
    city: Any,
    out_dir: str | Path,
    *,
    layers_path: str | Path | None = None,
    overwrite: bool = False,
    maps: bool = True,
    scenarios: Sequence[str | Path] | None = None,
) -> dict[str, list[Path]]:
    """Write layers, cohesion scores, the site assessment, scenarios and maps of a study area.

    Parameters
    ----------
    city
        A loaded :class:`~cohesion_gis.city.City`.
    out_dir
        Folder for every output (created if needed).
    layers_path
        Where to write the layers GeoPackage; default ``<out_dir>/<city.name>_layers.gpkg``.
    overwrite
        Replace existing outputs.
    maps
        Also write the offline HTML maps, PNG/PDF figures and the one-page summary.
    scenarios
        Scenario files to compare with their base (:mod:`cohesion_gis.batch`, into
        ``<out_dir>/scenarios``), each with a side-by-side map; ``None``: the Helsinki examples
        when ``city`` is the embedded default, else none.

    Returns
    -------
    dict
        Paths written, by step (``layers``, ``cohesion``, ``sites``, ``scenarios``, ``maps``).
    """
    from cohesion_gis.cohesion import score_districts
    from cohesion_gis.cohesion.report import write_scores
    from cohesion_gis.export import write_layers
    from cohesion_gis.hvm.assess import assess_sites, write_assessment
    from cohesion_gis.sources.osm import default_pbf

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    provenance = city.provenance.as_dict()
    written: dict[str, list[Path]] = {}
    layers = Path(layers_path) if layers_path else out / f"{city.name}_layers.gpkg"
    written["layers"] = list(write_layers(city, layers, overwrite=overwrite))
    scores = score_districts(city)
    written["cohesion"] = write_scores(scores, out, provenance=provenance, overwrite=overwrite)
    sites = assess_sites(city)
    written["sites"] = list(write_assessment(sites, out, overwrite=overwrite).values())
    if scenarios is None:
        scenarios = example_scenarios() if city.provenance.source == str(default_pbf()) else []
    if scenarios:
        written["scenarios"] = _scenarios(city, scenarios, out / "scenarios", overwrite=overwrite)
    if maps:
        written["maps"] = [
            *cohesion_maps(city, scores, out, overwrite=overwrite),
            *sites_maps(city, sites, out, overwrite=overwrite),
            summary_page(city, scores, sites, out, overwrite=overwrite),
        ]
    for step, paths in written.items():
        log.info("%s: %s", step, ", ".join(p.name for p in paths))
    return written


def _scenarios(city: Any, files: Sequence[str | Path], out: Path, *, overwrite: bool) -> list[Path]:
    """Batch-run scenarios: tables and a side-by-side map per scenario, and a summary table."""
    from cohesion_gis.batch import run

    result = run(files, out_dir=out, resume=not overwrite, progress=False)
    finished = result.summary.loc[result.summary["status"] != "failed", "output"]
    maps = [Path(folder) / "scenario_map.html" for folder in finished]
    return [result.path, *(m for m in maps if m.exists())]


def write_comparison(
    base_city: Any,
    comparison: Any,
    out_dir: str | Path,
    *,
    overwrite: bool = False,
    metadata: dict[str, Any] | None = None,
) -> list[Path]:
    """Write one comparison: districts, homes and sites tables, summary and side-by-side map.

    ``metadata`` (default: the base's provenance and the scenario name) goes into the
    GeoPackage's metadata table.
    """
    from cohesion_gis.export import write_csv, write_geopackage, write_json

    out = Path(out_dir)
    tables = {"districts": comparison.districts, "homes": comparison.homes}
    if comparison.sites is not None:
        tables["sites"] = comparison.sites
    if metadata is None:
        metadata = {**base_city.provenance.as_dict(), "scenario": comparison.scenario.name}
    paths = [
        write_geopackage(tables, out / "comparison.gpkg", metadata=metadata, overwrite=overwrite),
        write_csv(comparison.districts, out / "districts.csv", overwrite=overwrite),
        write_json(
            {"scenario": comparison.scenario.name, "summary": list(comparison.summary)},
            out / "summary.json",
            overwrite=overwrite,
        ),
    ]
    if comparison.sites is not None:
        paths.append(write_csv(comparison.sites, out / "sites.csv", overwrite=overwrite))
    paths.append(_scenario_map(base_city, comparison, out, overwrite=overwrite))
    return paths


def _scenario_map(city: Any, comparison: Any, out: Path, *, overwrite: bool) -> Path:
    from cohesion_gis.export import atomic_path
    from cohesion_gis.maps import save_offline, scenario_map

    m = scenario_map(
        comparison.base_districts, comparison.scenario_districts,
        scenario_name=comparison.scenario.name,
        streets=city.walk_edges, buildings=city.buildings,
    )  # fmt: skip
    path = out / "scenario_map.html"
    with atomic_path(path, overwrite=overwrite) as tmp:
        save_offline(m, tmp)
    return path


def cohesion_maps(
    city: Any, scores: Any, out_dir: str | Path, *, overwrite: bool = False
) -> list[Path]:
    """The offline cohesion map (HTML) and its static PNG and PDF."""
    from cohesion_gis.export import atomic_path, refuse_existing
    from cohesion_gis.maps import cohesion_map, save_offline
    from cohesion_gis.maps.static import cohesion_figure, save_pdf, save_png

    out = Path(out_dir)
    streets, buildings = city.walk_edges, city.buildings
    m = cohesion_map(
        scores.districts, homes=scores.homes, spaces=scores.spaces,
        streets=streets, buildings=buildings,
        title=f"Contact spaces and cohesion by district: {city.name}",
    )  # fmt: skip
    html = out / "cohesion_map.html"
    with atomic_path(html, overwrite=overwrite) as tmp:
        save_offline(m, tmp)
    figure = cohesion_figure(
        scores.districts, streets=streets, buildings=buildings, spaces=scores.spaces
    )
    png, pdf = out / "cohesion_map.png", out / "cohesion_map.pdf"
    refuse_existing(png, pdf, overwrite=overwrite)
    return [html, save_png(figure, png), save_pdf(figure, pdf)]


def sites_maps(
    city: Any, sites: Any, out_dir: str | Path, *, overwrite: bool = False
) -> list[Path]:
    """The offline soft-target map (HTML) and its static PNG and PDF."""
    from cohesion_gis.export import atomic_path, refuse_existing
    from cohesion_gis.maps import save_offline, sites_map
    from cohesion_gis.maps.static import save_pdf, save_png, sites_figure

    out = Path(out_dir)
    arriving = sites.approaches.loc[sites.approaches["impact_speed_kmh"] > 0]
    m = sites_map(
        sites.sites, arriving, entries=sites.entries, barriers=sites.barriers,
        gaps=sites.gaps, streets=city.drive_edges, buildings=city.buildings,
        title=f"Crowded sites and hostile-vehicle approaches: {city.name}",
    )  # fmt: skip
    html = out / "sites_map.html"
    with atomic_path(html, overwrite=overwrite) as tmp:
        save_offline(m, tmp)
    figure = sites_figure(sites.sites, arriving, streets=city.drive_edges, buildings=city.buildings)
    png, pdf = out / "sites_map.png", out / "sites_map.pdf"
    refuse_existing(png, pdf, overwrite=overwrite)
    return [html, save_png(figure, png), save_pdf(figure, pdf)]


def summary_page(
    city: Any, scores: Any, sites: Any, out_dir: str | Path, *, overwrite: bool = False
) -> Path:
    """The one-page PDF summary for council papers."""
    from cohesion_gis.export import refuse_existing
    from cohesion_gis.maps.static import summary_figure

    path = Path(out_dir) / "summary.pdf"
    refuse_existing(path, overwrite=overwrite)
    return summary_figure(
        scores.districts, sites.sites, path,
        approaches=sites.approaches.loc[sites.approaches["impact_speed_kmh"] > 0],
        streets=city.walk_edges, buildings=city.buildings,
        title=f"Contact spaces and crowded-site protection: {city.name}",
    )  # fmt: skip
