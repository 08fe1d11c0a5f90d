"""The main job in one call: study-area layers, cohesion scores, site assessment and maps.

:func:`run_study` is what ``cohesion-gis demo`` runs on the embedded Helsinki extract, and what a
notebook calls for any other area. Each step is a public function of its own module; this only
chains them and puts the outputs in one folder.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

__all__ = ["cohesion_maps", "run_study"]

log = logging.getLogger(__name__)


def run_study(
    city: Any,
    out_dir: str | Path,
    *,
    layers_path: str | Path | None = None,
    overwrite: bool = False,
    maps: bool = True,
) -> dict[str, list[Path]]:
    """Write layers, cohesion scores, the site assessment and the maps of a study area.

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

    Returns
    -------
    dict
        Paths written, by step (``layers``, ``cohesion``, ``sites``, ``maps``).
    """
    from cohesion_gis.cohesion import score_districts
    from cohesion_gis.cohesion.report import write_scores
    from cohesion_gis.export import write_layers

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    provenance = city.provenance.as_dict()
    written: dict[str, list[Path]] = {}
    layers = Path(layers_path) if layers_path else out / f"{city.name}_layers.gpkg"
    written["layers"] = list(write_layers(city, layers, overwrite=overwrite))
    scores = score_districts(city)
    written["cohesion"] = write_scores(scores, out, provenance=provenance, overwrite=overwrite)
    if maps:
        written["maps"] = cohesion_maps(city, scores, out, overwrite=overwrite)
    for step, paths in written.items():
        log.info("%s: %s", step, ", ".join(p.name for p in paths))
    return written


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
