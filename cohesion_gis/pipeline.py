"""The main job in one call: study-area layers, cohesion scores, site assessment and maps.

:func:`run_study` is what ``cohesion-gis demo`` runs on the embedded Helsinki extract, and what a
notebook calls for any other area. Each step is a public function of its own module; this only
chains them and puts the outputs in one folder.

Every step writes its files together or not at all (a hidden staging folder, moved into place
when the step is complete: :func:`cohesion_gis._atomic.staged_files`), after checking that the
folder is writable and that no output name is a folder. ``<out_dir>/study.json`` records each
finished step with the hash of its inputs (:func:`study_hash`), so a run interrupted after some
steps resumes: finished steps whose inputs are unchanged are skipped.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
from tqdm.auto import tqdm

from cohesion_gis._atomic import check_outputs, staged_files
from cohesion_gis._gc import paused_gc
from cohesion_gis.errors import InputError, ScenarioError

if TYPE_CHECKING:
    import geopandas as gpd

    from cohesion_gis.city import City
    from cohesion_gis.cohesion import CohesionResult
    from cohesion_gis.hvm.assess import SiteAssessment

__all__ = [
    "MAP_NAMES",
    "STUDY_RECORD",
    "cohesion_maps",
    "example_scenarios",
    "run_study",
    "sites_maps",
    "study_hash",
    "study_outputs",
    "study_steps",
    "summary_page",
]

log = logging.getLogger(__name__)

#: The record of finished steps of :func:`run_study`.
STUDY_RECORD = "study.json"
#: Files of :func:`cohesion_maps`, :func:`sites_maps` and :func:`summary_page`.
MAP_NAMES = {
    "cohesion": ("cohesion_map.html", "cohesion_map.png", "cohesion_map.pdf"),
    "sites": ("sites_map.html", "sites_map.png", "sites_map.pdf"),
    "summary": ("summary.pdf",),
}


def example_scenarios() -> list[Path]:
    """The Helsinki example scenarios shipped in the repository's ``scenarios/`` folder."""
    folder = Path(__file__).resolve().parent.parent / "scenarios"
    return sorted(folder.glob("*.toml"))


def study_steps(
    name: str, out_dir: str | Path, *, layers_path: str | Path | None = None, maps: bool = True
) -> dict[str, tuple[Path, tuple[str, ...]]]:
    """The folder and file names of each step of :func:`run_study` (scenarios excepted).

    ``name`` is the City's name (the default layers file is ``<out_dir>/<name>_layers.gpkg``).
    """
    from cohesion_gis.export import ASSESSMENT_NAMES, layers_names, score_names

    out = Path(out_dir)
    layers = Path(layers_path) if layers_path else out / f"{name}_layers.gpkg"
    steps = {
        "layers": (layers.parent, layers_names(layers)),
        "cohesion": (out, score_names("cohesion")),
        "sites": (out, ASSESSMENT_NAMES),
    }
    if maps:
        steps["maps"] = (out, tuple(n for names in MAP_NAMES.values() for n in names))
    return steps


def study_outputs(
    name: str,
    out_dir: str | Path,
    *,
    layers_path: str | Path | None = None,
    maps: bool = True,
    scenarios: bool = True,
) -> dict[Path, str]:
    """Every path :func:`run_study` writes, with the step writing it; checked before computing.

    Raises
    ------
    InputError
        Two steps would write the same path (e.g. ``--layers-out OUT/cohesion.gpkg``): one
        would silently replace the other.
    """
    out = Path(out_dir)
    declared: list[tuple[Path, str]] = [(out / STUDY_RECORD, "the record of finished steps")]
    for step, (folder, names) in study_steps(name, out, layers_path=layers_path, maps=maps).items():
        declared += [(folder / n, f"the {step} step") for n in names]
    if scenarios:
        names = ("summary.csv", "districts_all.csv")
        declared += [(out / "scenarios" / n, "the scenarios step") for n in names]
    owners: dict[Path, str] = {}
    clashes = []
    for path, owner in declared:
        key = path.resolve()
        if key in owners:
            clashes.append(f"{path} would be written by {owners[key]} and by {owner}")
        owners.setdefault(key, owner)
    if clashes:
        raise InputError(
            "; ".join(clashes) + "; give the layers file another name or folder "
            "(CLI: --layers-out) or another output folder (CLI: --out)"
        )
    return dict(declared)


def study_hash(city: City) -> str:
    """SHA-256 of what the steps of :func:`run_study` read.

    The City's content and :func:`cohesion_gis._fingerprint.inputs_fingerprint` of its
    effective taxonomy (``city.taxonomy``), the parameters the steps use and the package code.

    The City is hashed by content (every layer's values and geometry as WKB), so any change of
    its inputs (OSM file, district file, population raster, a live query's answer) changes the
    hash, whatever the file names.
    """
    from cohesion_gis._fingerprint import inputs_fingerprint
    from cohesion_gis.cohesion import CohesionParams
    from cohesion_gis.hvm import HvmParams
    from cohesion_gis.params import load_params

    fingerprint = inputs_fingerprint(
        taxonomy=city.taxonomy,
        params={"cohesion": load_params(CohesionParams), "hvm": load_params(HvmParams)},
    )
    digest = hashlib.sha256(f"{city.name}|{city.crs.to_wkt()}|{fingerprint}".encode())
    digest.update(city.boundary.wkb)
    for name, layer in sorted(city.layers().items()):
        digest.update(f"{name}|{','.join(map(str, layer.columns))}|{len(layer)}".encode())
        frame = pd.DataFrame(layer)
        for column in frame.columns:
            values = layer[column]
            if column == getattr(layer, "_geometry_column_name", None):
                digest.update(b"".join(g or b"" for g in values.to_wkb()))
            else:
                text = values.map(str) if values.dtype == object else values
                digest.update(pd.util.hash_pandas_object(text, index=True).to_numpy().tobytes())
    return digest.hexdigest()


def run_study(
    city: City,
    out_dir: str | Path,
    *,
    layers_path: str | Path | None = None,
    overwrite: bool = False,
    maps: bool = True,
    scenarios: Sequence[str | Path] | None = None,
) -> dict[str, list[Path]]:
    """Write layers, cohesion scores, the site assessment, scenarios and maps of a study area.

    Resumable: a step recorded as finished in ``<out_dir>/study.json`` with the same
    :func:`study_hash` and whose files are all present is skipped (scenarios resume by
    :mod:`cohesion_gis.batch`'s own hash). Each step's files are written together or not at all.

    Parameters
    ----------
    city
        A loaded :class:`~cohesion_gis.city.City`.
    out_dir
        Folder for every output (created if needed).
    layers_path
        Where to write the layers GeoPackage; default ``<out_dir>/<city.name>_layers.gpkg``.
    overwrite
        Recompute every step and replace existing outputs. Without it, a step's existing files
        that were not written by a finished step of the same inputs are refused.
    maps
        Also write the offline HTML maps, PNG/PDF figures and the one-page summary.
    scenarios
        Scenario files to compare with their base (:mod:`cohesion_gis.batch`, into
        ``<out_dir>/scenarios``), each with a side-by-side map; ``None``: the Helsinki examples
        when ``city`` is the embedded default, else none.

    Returns
    -------
    dict
        Paths written or kept, by step (``layers``, ``cohesion``, ``sites``, ``scenarios``,
        ``maps``).

    Raises
    ------
    InputError
        Before any computation: two steps would write the same path (:func:`study_outputs`), a
        folder cannot be written, an output name is a folder, or an output exists that no
        finished step of the same inputs wrote and ``overwrite`` is False.
    ScenarioError
        After every other step is written and recorded: a scenario failed (each is named with
        its error; ``<out_dir>/scenarios/summary.csv`` holds them too).
    """
    from cohesion_gis.sources.osm import default_pbf

    out = Path(out_dir)
    if scenarios is None:
        scenarios = example_scenarios() if city.provenance.source == str(default_pbf()) else []
    study_outputs(city.name, out, layers_path=layers_path, maps=maps, scenarios=bool(scenarios))
    steps = study_steps(city.name, out, layers_path=layers_path, maps=maps)
    digest = study_hash(city)
    record = {} if overwrite else _record(out, digest)
    # a step's own files: recorded (sha256) before they were moved into place, so a run killed
    # between the move and the record, or half-way through the move, leaves none refused
    own = {
        step: _own_files(folder, names, record.get(step)) for step, (folder, names) in steps.items()
    }
    finished = {
        step
        for step, (folder, names) in steps.items()
        if step in record
        and all((folder / n).is_file() for n in names)
        and (own[step] == set(names) or "sha256" not in record[step])
    }
    check_outputs(out, [STUDY_RECORD], overwrite=True)
    if scenarios:
        check_outputs(out / "scenarios", ["summary.csv"], overwrite=True)
    for step, (folder, names) in steps.items():
        if step not in finished:
            check_outputs(folder, [n for n in names if n not in own[step]], overwrite=overwrite)
    written: dict[str, list[Path]] = {}
    results: dict[str, Any] = {}
    failed = pd.DataFrame()
    # one bar over the steps, named after the running one (Malta: sites 30 s, maps 20 s);
    # shown only on a terminal (tqdm's disable=None), so logs and tests stay clean
    bar = tqdm(total=len(steps), desc="study", unit="step", disable=None, leave=False)
    for step, (folder, names) in steps.items():
        bar.set_description(step)
        started = time.perf_counter()
        if step in finished:
            log.info("%s: finished in an earlier run with the same inputs; skipped", step)
        else:
            with staged_files(folder, names, overwrite=overwrite or bool(own[step])) as stage:
                _STEPS[step](city, stage, names, results)
                hashes = {n: _sha256(stage / n) for n in names if (stage / n).is_file()}
                record[step] = {"inputs_hash": digest, "files": list(names), "sha256": hashes}
                _write_record(out, record)  # before the files move: see `own` above
            _milestone(step, started, folder, names)
        bar.update()
        written[step] = [folder / n for n in names]
        if step == "sites" and scenarios:
            started = time.perf_counter()
            written["scenarios"], failed = _scenarios(
                scenarios, out / "scenarios", overwrite=overwrite
            )
            done = len(scenarios) - len(failed)
            _milestone("scenarios", started, out / "scenarios",
                       [f"{done} of {len(scenarios)} compared", "summary.csv"])  # fmt: skip
    bar.close()
    if len(failed):
        raise ScenarioError(
            f"{len(failed)} of {len(scenarios)} scenarios failed (every other output is written; "
            f"see {written['scenarios'][0]}): "
            + "; ".join(f"{row.file}: {row.error}" for row in failed.itertuples())
        )
    return written


def _milestone(step: str, started: float, folder: Path, names: Sequence[str]) -> None:
    """Log, as soon as a step finishes, its wall time (s) and what it wrote where."""
    seconds = time.perf_counter() - started
    log.info("%s: done in %.0f s, in %s: %s", step, seconds, folder, ", ".join(names))


def _record(out: Path, digest: str) -> dict[str, Any]:
    """The steps ``<out>/study.json`` records as finished with inputs of hash ``digest``."""
    try:
        data = json.loads((out / STUDY_RECORD).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return {}
    steps = data.get("steps") if isinstance(data, dict) else None
    if not isinstance(steps, dict):
        return {}
    return {
        step: entry
        for step, entry in steps.items()
        if isinstance(entry, dict) and entry.get("inputs_hash") == digest
    }


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _own_files(folder: Path, names: Sequence[str], entry: dict[str, Any] | None) -> set[str]:
    """The names whose file is the one a step of the same inputs recorded (same sha256)."""
    hashes = entry.get("sha256") if entry is not None else None
    if not isinstance(hashes, dict):
        return set()
    return {n for n in names if (folder / n).is_file() and hashes.get(n) == _sha256(folder / n)}


def _write_record(out: Path, steps: dict[str, Any]) -> None:
    from cohesion_gis import __version__
    from cohesion_gis.export import write_json

    write_json({"steps": steps, "package_version": __version__}, out / STUDY_RECORD,
               overwrite=True)  # fmt: skip


def _layers_step(city: City, stage: Path, names: tuple[str, ...], results: dict[str, Any]) -> None:
    from cohesion_gis.export import write_layers

    write_layers(city, stage / names[0])


def _cohesion_step(
    city: City, stage: Path, names: tuple[str, ...], results: dict[str, Any]
) -> None:
    from cohesion_gis.cohesion import score_districts
    from cohesion_gis.export import write_scores

    results["scores"] = score_districts(city)
    write_scores(results["scores"], stage, provenance=city.provenance.as_dict())


def _sites_step(city: City, stage: Path, names: tuple[str, ...], results: dict[str, Any]) -> None:
    from cohesion_gis.export import write_assessment
    from cohesion_gis.hvm.assess import assess_sites

    results["sites"] = assess_sites(city)
    write_assessment(results["sites"], stage)


def _maps_step(city: City, stage: Path, names: tuple[str, ...], results: dict[str, Any]) -> None:
    from cohesion_gis.cohesion import score_districts
    from cohesion_gis.hvm.assess import assess_sites

    # after a resumed run the tables come from a finished step: recompute, not read back
    scores = results["scores"] if "scores" in results else score_districts(city, sensitivity=False)
    sites = results["sites"] if "sites" in results else assess_sites(city)
    cohesion_maps(city, scores, stage)
    sites_maps(city, sites, stage)
    summary_page(city, scores, sites, stage)


_STEPS = {
    "layers": _layers_step,
    "cohesion": _cohesion_step,
    "sites": _sites_step,
    "maps": _maps_step,
}


def _scenarios(
    files: Sequence[str | Path], out: Path, *, overwrite: bool
) -> tuple[list[Path], pd.DataFrame]:
    """Batch-run scenarios: tables and a side-by-side map per scenario, and a summary table.

    Returns the paths written and the summary rows of the scenarios that failed.
    """
    from cohesion_gis.batch import run

    result = run(files, out_dir=out, resume=not overwrite, progress=False)
    finished = result.summary.loc[result.summary["status"] != "failed", "output"]
    maps = [Path(folder) / "scenario_map.html" for folder in finished]
    return [result.path, *(m for m in maps if m.exists())], result.failed


@paused_gc()
def cohesion_maps(
    city: City, scores: CohesionResult, out_dir: str | Path, *, overwrite: bool = False
) -> list[Path]:
    """The offline cohesion map (HTML) and its static PNG and PDF, written together."""
    import geopandas as gpd

    from cohesion_gis.cohesion.score import reported_homes
    from cohesion_gis.maps import cohesion_map, save_offline
    from cohesion_gis.maps.static import cohesion_figure, save_pdf, save_png

    out = Path(out_dir)
    streets, buildings = city.walk_edges, city.buildings
    study = (
        None  # no buffer was read: the districts are the whole picture
        if getattr(city, "data_area", None) is None
        else gpd.GeoDataFrame(geometry=[city.boundary], crs=city.crs)
    )
    districts = _with_clipped(scores.districts, city)
    with staged_files(out, MAP_NAMES["cohesion"], overwrite=overwrite) as stage:
        m = cohesion_map(
            districts, homes=reported_homes(scores.homes), spaces=scores.spaces,
            streets=streets, buildings=buildings, study_area=study,
            place=city.name, data_date=city.provenance.data_date,
        )  # fmt: skip
        html, png, pdf = (stage / name for name in MAP_NAMES["cohesion"])
        save_offline(m, html)
        figure = cohesion_figure(
            districts, streets=streets, buildings=buildings, spaces=scores.spaces,
            study_area=study, place=city.name, data_date=city.provenance.data_date,
        )  # fmt: skip
        save_png(figure, png)
        save_pdf(figure, pdf)
    return [out / name for name in MAP_NAMES["cohesion"]]


@paused_gc()
def sites_maps(
    city: City, sites: SiteAssessment, out_dir: str | Path, *, overwrite: bool = False
) -> list[Path]:
    """The offline soft-target map (HTML) and its static PNG and PDF, written together."""
    import geopandas as gpd

    from cohesion_gis.maps import save_offline, sites_map
    from cohesion_gis.maps.static import save_pdf, save_png, sites_figure

    out = Path(out_dir)
    arriving = sites.approaches.loc[sites.approaches["impact_speed_kmh"] > 0]
    study = gpd.GeoDataFrame(geometry=[city.boundary], crs=city.crs)  # the maps' frame
    with staged_files(out, MAP_NAMES["sites"], overwrite=overwrite) as stage:
        m = sites_map(
            sites.sites, arriving, entries=sites.entries, barriers=sites.barriers,
            gaps=sites.gaps, streets=city.drive_edges, buildings=city.buildings,
            place=city.name, data_date=city.provenance.data_date, study_area=study,
        )  # fmt: skip
        html, png, pdf = (stage / name for name in MAP_NAMES["sites"])
        save_offline(m, html)
        figure = sites_figure(
            sites.sites, arriving, streets=city.drive_edges, buildings=city.buildings,
            study_area=study, place=city.name, data_date=city.provenance.data_date,
        )  # fmt: skip
        save_png(figure, png)
        save_pdf(figure, pdf)
    return [out / name for name in MAP_NAMES["sites"]]


def _with_clipped(districts: gpd.GeoDataFrame, city: City) -> gpd.GeoDataFrame:
    """``districts`` with the City's ``clipped`` flag, for the maps' "cut by the edge" line."""
    if "clipped" not in city.districts or "clipped" in districts:
        return districts
    flag = city.districts.set_index("district_id")["clipped"]
    return districts.assign(clipped=districts["district_id"].map(flag).fillna(False).astype(bool))


@paused_gc()
def summary_page(
    city: City,
    scores: CohesionResult,
    sites: SiteAssessment,
    out_dir: str | Path,
    *,
    overwrite: bool = False,
) -> Path:
    """The one-page PDF summary for council papers."""
    import geopandas as gpd

    from cohesion_gis.maps.static import summary_figure

    path = Path(out_dir) / MAP_NAMES["summary"][0]
    with staged_files(path.parent, [path.name], overwrite=overwrite) as stage:
        summary_figure(
            _with_clipped(scores.districts, city), sites.sites, stage / path.name,
            approaches=sites.approaches.loc[sites.approaches["impact_speed_kmh"] > 0],
            streets=city.walk_edges, buildings=city.buildings,
            place=city.name, data_date=city.provenance.data_date,
            study_area=gpd.GeoDataFrame(geometry=[city.boundary], crs=city.crs),
        )  # fmt: skip
    return path
