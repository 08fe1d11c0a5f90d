"""Run many scenarios: in this process, on a local Dask cluster, or on an existing one.

:func:`run` compares every scenario file with its base and writes, per scenario, a folder
``<out_dir>/<file stem>/`` holding ``comparison.gpkg`` (layers ``districts``, ``homes`` and
``sites`` when the HVM assessment is available, with a ``metadata`` table), ``districts.csv``,
``sites.csv``, the offline side-by-side ``scenario_map.html`` (all through
:func:`cohesion_gis.pipeline.write_comparison`) and ``summary.json`` (status, summary lines, the
inputs hash and provenance),
then one table across all scenarios, ``<out_dir>/summary.csv``, and the districts of every
scenario stacked in ``<out_dir>/districts_all.csv`` (scenario × district × metric).

- **Resumable.** ``summary.json`` is written last and records a hash of the scenario file, the
  base input files, the files the scenario refers to, the packaged default parameters and the
  package version; a scenario whose hash is unchanged and which finished is skipped.
- **Atomic.** Every file is written to a temporary sibling and renamed
  (:func:`cohesion_gis.export.atomic_path`).
- **Failures are reported, not raised.** A scenario that fails gets ``status = "failed"`` and its
  error in the summary; the others still run.
- **Parallel.** ``workers=N`` starts a ``dask.distributed.LocalCluster`` (N single-threaded
  worker processes); ``scheduler="tcp://host:port"`` uses a running cluster. Each worker process
  loads a base City (and its base analysis) once, cached by base spec, whatever the number of
  scenarios it runs.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd

from cohesion_gis.export import write_csv, write_json

__all__ = ["SUMMARY_COLUMNS", "BatchResult", "inputs_hash", "run", "run_one"]

log = logging.getLogger(__name__)

#: Columns of the summary table across scenarios.
SUMMARY_COLUMNS = (
    "scenario", "file", "status", "error", "output", "seconds", "recomputed", "hvm", "headline",
    "inputs_hash",
)  # fmt: skip


@dataclass(frozen=True)
class BatchResult:
    """What :func:`run` did.

    Attributes
    ----------
    summary
        One row per scenario (:data:`SUMMARY_COLUMNS`); ``status`` is ``done``, ``skipped``
        (unchanged since a finished run) or ``failed`` (with ``error``).
    path
        The summary table written (``<out_dir>/summary.csv``).
    """

    summary: pd.DataFrame
    path: Path

    @property
    def failed(self) -> pd.DataFrame:
        """The rows of failed scenarios."""
        return self.summary.loc[self.summary["status"] == "failed"]


def run(
    paths: Iterable[str | Path],
    *,
    out_dir: str | Path,
    workers: int | None = None,
    scheduler: str | None = None,
    resume: bool = True,
    progress: bool = True,
) -> BatchResult:
    """Compare every scenario with its base and write the results.

    Parameters
    ----------
    paths
        Scenario files (TOML).
    out_dir
        Output folder (created).
    workers
        Start a local Dask cluster with this many single-threaded worker processes; ``None``
        runs in this process.
    scheduler
        Address of a running Dask scheduler (``"tcp://host:port"``); overrides ``workers``.
    resume
        Skip scenarios whose inputs are unchanged since a finished run.
    progress
        Show a progress bar (``tqdm.auto``).

    Returns
    -------
    BatchResult

    Examples
    --------
    >>> from cohesion_gis import batch
    >>> result = batch.run(["scenarios/car_park_to_park.toml"], out_dir="results",
    ...                    progress=False)  # doctest: +SKIP
    >>> result.summary[["scenario", "status"]]  # doctest: +SKIP
    """
    out = Path(out_dir)
    files = list(dict.fromkeys(str(Path(p)) for p in paths))
    rows = list(
        _execute(
            files,
            out=str(out),
            resume=resume,
            workers=workers,
            scheduler=scheduler,
            progress=progress,
        )
    )
    order = {f: i for i, f in enumerate(files)}
    table = pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS))
    table = table.sort_values("file", key=lambda s: s.map(order), ignore_index=True)
    path = write_csv(table, out / "summary.csv", overwrite=True)
    _stack_districts(table, out)
    counts = table["status"].value_counts().to_dict()
    log.info("batch of %d scenarios: %s; summary in %s", len(table), counts, path)
    return BatchResult(table, path)


def _execute(
    files: list[str],
    *,
    out: str,
    resume: bool,
    workers: int | None,
    scheduler: str | None,
    progress: bool,
) -> Iterator[dict[str, Any]]:
    from tqdm.auto import tqdm

    bar = tqdm(total=len(files), desc="scenarios", unit="scenario", disable=not progress)
    if scheduler is None and not workers:
        for file in files:
            row = run_one(file, out_dir=out, resume=resume)
            bar.update()
            yield row
        bar.close()
        return
    try:
        from dask.distributed import Client, LocalCluster, as_completed
    except ImportError as exc:  # pragma: no cover - dask is a declared dependency
        raise ImportError(
            "parallel batches need dask.distributed: pip install 'dask[distributed]'"
        ) from exc
    if scheduler is not None:
        client, cluster = Client(scheduler), None
    else:
        # ":0": a free port (dashboard_address=None falls back to 8787, often taken)
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, dashboard_address=":0")
        client = Client(cluster)
    try:
        futures = [
            client.submit(run_one, file, out_dir=out, resume=resume, pure=False) for file in files
        ]
        for future in as_completed(futures):
            bar.update()
            yield future.result()
    finally:
        bar.close()
        client.close()
        if cluster is not None:
            cluster.close()


def run_one(path: str | Path, *, out_dir: str | Path, resume: bool = True) -> dict[str, Any]:
    """Run one scenario into ``<out_dir>/<file stem>/``; never raises for a scenario's fault.

    Returns
    -------
    dict
        Its row of the summary table (:data:`SUMMARY_COLUMNS`).
    """
    path = Path(path)
    folder = Path(out_dir) / path.stem
    start = time.perf_counter()
    row: dict[str, Any] = dict.fromkeys(SUMMARY_COLUMNS, "")
    row.update(scenario=path.stem, file=str(path), output=str(folder))
    try:
        digest = inputs_hash(path)
        row["inputs_hash"] = digest
        previous = _previous(folder)
        if resume and previous.get("inputs_hash") == digest and previous.get("status") == "done":
            row.update(
                {k: previous.get(k, "") for k in ("scenario", "recomputed", "hvm", "headline")}
            )
            row.update(status="skipped", seconds=0.0)
            return row
        row.update(_compare_and_write(path, folder))
        row["status"] = "done"
    except Exception as exc:  # a failing scenario is reported and the others go on
        log.warning("scenario %s failed: %s", path, exc)
        row.update(status="failed", error=f"{type(exc).__name__}: {exc}")
    row["seconds"] = round(time.perf_counter() - start, 3)
    if row["status"] == "failed":
        write_json({**row, "package_version": _version()}, folder / "summary.json", overwrite=True)
    return row


def _compare_and_write(path: Path, folder: Path) -> dict[str, Any]:
    from cohesion_gis.comparison import compare
    from cohesion_gis.pipeline import write_comparison
    from cohesion_gis.scenario import load_base, load_scenario

    scenario = load_scenario(path)
    city = load_base(scenario.base)
    params = scenario.cohesion_params()
    base = _base_analysis(
        scenario.base,
        json.dumps(dict(scenario.cohesion_overrides), sort_keys=True),
        json.dumps(dict(scenario.hvm_overrides), sort_keys=True),
    )
    result = compare(city, scenario, params=params, base=base)
    metadata = {
        "scenario": scenario.name,
        "scenario_file": str(path),
        "description": scenario.description,
        "base": city.provenance.as_dict(),
        "cohesion_parameters": params.source,
        "cohesion_overrides": dict(scenario.cohesion_overrides),
        "hvm_overrides": dict(scenario.hvm_overrides),
        "package_version": _version(),
    }
    write_comparison(city, result, folder, overwrite=True, metadata=metadata)
    row = {
        "scenario": scenario.name,
        "recomputed": result.after.cohesion.recomputed,
        "hvm": result.after.hvm_note,
        "headline": result.summary[0],
    }
    summary = {**metadata, **row, "status": "done", "summary": list(result.summary),
               "inputs_hash": inputs_hash(path)}  # fmt: skip
    write_json(summary, folder / "summary.json", overwrite=True)  # last: marks the run finished
    return row


@functools.lru_cache(maxsize=4)
def _base_analysis(spec: Any, cohesion_json: str, hvm_json: str) -> Any:
    """The base analysis for a base spec and parameter overrides, once per process."""
    from cohesion_gis.comparison import analyse
    from cohesion_gis.scenario import Scenario, load_base

    overrides = Scenario("base", cohesion_overrides=json.loads(cohesion_json),
                         hvm_overrides=json.loads(hvm_json))  # fmt: skip
    return analyse(
        load_base(spec), params=overrides.cohesion_params(), hvm_params=overrides.hvm_params()
    )


def inputs_hash(path: str | Path) -> str:
    """SHA-256 over everything a scenario's result depends on.

    The scenario file, the base's input files, the geometry files it refers to, the packaged
    default parameter and taxonomy files, and the package version.
    """
    from cohesion_gis.scenario import load_scenario
    from cohesion_gis.scenario.base import base_files

    path = Path(path)
    digest = hashlib.sha256(path.read_bytes())
    scenario = load_scenario(path)
    files = [*base_files(scenario.base)]
    files += [Path(iv.options["file"]) for iv in scenario.interventions if "file" in iv.options]
    for file in files:
        digest.update(_file_hash(str(file.resolve()), file.stat().st_size, file.stat().st_mtime))
    defaults = resources.files("cohesion_gis.defaults")
    for name in ("cohesion.toml", "hvm.toml", "taxonomy.toml", "vehicles.toml"):
        digest.update(defaults.joinpath(name).read_bytes())
    digest.update(str(scenario.base.bbox).encode())
    digest.update(_version().encode())
    return digest.hexdigest()


@functools.lru_cache(maxsize=64)
def _file_hash(path: str, size: int, mtime: float) -> bytes:
    """Content hash of an input file, cached per (path, size, mtime) in this process."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.digest()


def _previous(folder: Path) -> dict[str, Any]:
    try:
        return json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return {}


def _version() -> str:
    from cohesion_gis import __version__

    return __version__


def _stack_districts(table: pd.DataFrame, out: Path) -> None:
    """Every finished scenario's district deltas in one long table."""
    parts = []
    for _, row in table.loc[table["status"] != "failed"].iterrows():
        csv = Path(row["output"]) / "districts.csv"
        if csv.is_file():
            parts.append(pd.read_csv(csv).assign(scenario=row["scenario"]))
    if parts:
        stacked = pd.concat(parts, ignore_index=True)
        stacked = stacked[["scenario", *[c for c in stacked.columns if c != "scenario"]]]
        write_csv(stacked, out / "districts_all.csv", overwrite=True)
