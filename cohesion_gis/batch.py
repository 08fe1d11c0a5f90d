"""Run many scenarios: in this process, on a local Dask cluster, or on an existing one.

:func:`run` compares every scenario file with its base and writes, per scenario, a folder
``<out_dir>/<file stem>-<hash>/`` (:func:`output_folder`: the stem and 8 hex digits of the
file's resolved path, so ``a/x.toml`` and ``b/x.toml`` never share a folder) holding
``comparison.gpkg`` (layers ``districts``, ``homes`` and ``sites`` when the HVM assessment is
available, with a ``metadata`` table), ``districts.csv``, ``sites.csv``, the offline
side-by-side ``scenario_map.html`` (all through :func:`cohesion_gis.export.write_comparison`)
and ``summary.json`` (status, summary lines, the inputs hash and provenance), then one table
across all scenarios, ``<out_dir>/summary.csv``, and the districts of every scenario stacked in
``<out_dir>/districts_all.csv`` (scenario, file × district × metric; removed when no scenario
finished).

- **Resumable.** ``summary.json`` is written last, with ``status = "done"`` and a hash
  (:func:`inputs_hash`) of the content of every input: the scenario file, the base's input
  files, every file the scenario refers to (:func:`input_files`: ``file =`` keys, also inside
  ``from``/``to`` areas), the base's effective taxonomy, the scenario's effective parameters and
  the package code (:mod:`cohesion_gis._fingerprint`); a scenario whose hash is unchanged and
  which finished is skipped.
- **All or nothing.** A scenario's folder is written beside its final place under a hidden name
  and renamed into place when complete (:func:`cohesion_gis._atomic.staged_folder`): an
  interrupted run leaves the previous folder, or none, never a half-written one; hidden
  leftovers of a killed run are removed by the next run.
- **Failures are reported, not raised.** A scenario that fails gets ``status = "failed"`` and its
  error in the summary; the others still run. A finished folder from an earlier run is kept; a
  scenario without one gets a folder holding only a ``summary.json`` that records the failure.
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
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from cohesion_gis._atomic import check_outputs, staged_folder
from cohesion_gis.export import write_comparison, write_csv, write_json

if TYPE_CHECKING:
    from cohesion_gis.comparison import Analysis
    from cohesion_gis.scenario import BaseSpec, Scenario

__all__ = [
    "SUMMARY_COLUMNS",
    "BatchResult",
    "input_files",
    "inputs_hash",
    "output_folder",
    "run",
    "run_one",
]

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
    check_outputs(out, ["summary.csv", "districts_all.csv"], overwrite=True)
    unique = {Path(p).resolve(): str(Path(p)) for p in reversed(list(paths))}
    files = list(reversed(unique.values()))  # each file once (first spelling), in given order
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


def output_folder(path: str | Path) -> str:
    """The name of a scenario file's output folder: ``<stem>-<8 hex digits>``.

    The digits are the start of the SHA-256 of the file's resolved path: stable between runs,
    different for files of the same name in different folders.
    """
    resolved = Path(path).resolve().as_posix()
    return f"{Path(path).stem}-{hashlib.sha256(resolved.encode()).hexdigest()[:8]}"


def run_one(path: str | Path, *, out_dir: str | Path, resume: bool = True) -> dict[str, Any]:
    """Run one scenario into ``<out_dir>/<output_folder(path)>/``; never raises for its fault.

    Returns
    -------
    dict
        Its row of the summary table (:data:`SUMMARY_COLUMNS`).
    """
    path = Path(path)
    folder = Path(out_dir) / output_folder(path)
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
        with staged_folder(folder) as stage:
            row.update(_compare_and_write(path, stage, digest))
        row["status"] = "done"
    except Exception as exc:  # a failing scenario is reported and the others go on
        log.warning("scenario %s failed: %s", path, exc)
        row.update(status="failed", error=f"{type(exc).__name__}: {exc}")
    row["seconds"] = round(time.perf_counter() - start, 3)
    if row["status"] == "failed" and not folder.exists():  # never replaces a finished result
        with staged_folder(folder) as stage:
            write_json({**row, "package_version": _version()}, stage / "summary.json")
    return row


def _compare_and_write(path: Path, folder: Path, digest: str) -> dict[str, Any]:
    from cohesion_gis.comparison import compare
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
    row = {
        "scenario": scenario.name,
        "recomputed": result.after.cohesion.recomputed,
        "hvm": result.after.hvm_note,
        "headline": result.summary[0],
    }
    record = {**metadata, **row, "inputs_hash": digest,
              "inputs": [str(f) for f in input_files(scenario)]}  # fmt: skip
    write_comparison(city, result, folder, overwrite=True, metadata=metadata, record=record)
    return row


@functools.lru_cache(maxsize=4)
def _base_analysis(spec: BaseSpec, cohesion_json: str, hvm_json: str) -> Analysis:
    """The base analysis for a base spec and parameter overrides, once per process."""
    from cohesion_gis.comparison import analyse
    from cohesion_gis.scenario import Scenario, load_base

    overrides = Scenario("base", cohesion_overrides=json.loads(cohesion_json),
                         hvm_overrides=json.loads(hvm_json))  # fmt: skip
    return analyse(
        load_base(spec), params=overrides.cohesion_params(), hvm_params=overrides.hvm_params()
    )


def input_files(scenario: Scenario) -> list[Path]:
    """Every file a scenario reads: its base's input files and each ``file`` it names.

    ``file`` keys are found at any depth of an intervention's options (a ``move_residents``
    ``from``/``to`` area keeps its file beside its shape).
    """
    from cohesion_gis.scenario.base import base_files

    def named(value: Any) -> Iterator[Path]:
        if isinstance(value, Mapping):
            if isinstance(value.get("file"), str):
                yield Path(value["file"])
            for inner in value.values():
                yield from named(inner)

    files = [*base_files(scenario.base)]
    for intervention in scenario.interventions:
        files.extend(named(intervention.options))
    return sorted({f.resolve() for f in files})


def inputs_hash(path: str | Path) -> str:
    """SHA-256 over the content of everything a scenario's result depends on.

    The scenario file, every file it reads (:func:`input_files`), and
    :func:`cohesion_gis._fingerprint.inputs_fingerprint` of the base's effective taxonomy, the
    scenario's effective parameters and the package code.
    """
    from cohesion_gis._fingerprint import inputs_fingerprint
    from cohesion_gis.scenario import load_scenario
    from cohesion_gis.scenario.base import base_taxonomy

    path = Path(path)
    scenario = load_scenario(path)
    digest = hashlib.sha256(path.read_bytes())
    for file in input_files(scenario):
        stat = file.stat()
        key = (stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino)
        digest.update(file.as_posix().encode() + b"\0" + _file_hash(str(file), key))
    params = {"cohesion": scenario.cohesion_params(), "hvm": scenario.hvm_params()}
    digest.update(inputs_fingerprint(taxonomy=base_taxonomy(scenario.base), params=params).encode())
    return digest.hexdigest()


@functools.lru_cache(maxsize=64)
def _file_hash(path: str, stat_key: tuple[int, int, int, int]) -> bytes:
    """Content hash of an input file, cached per file state in this process.

    ``stat_key`` (size, mtime and ctime in ns, inode) changes with every write to the file, so
    an edit is always read again; the cache only spares re-reading a large PBF per scenario.
    """
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
    """Every finished scenario's district deltas in one long table; none: no table.

    The per-scenario tables are read back as text (``001`` stays ``001``, ``NA`` stays ``NA``:
    ids and names are never parsed as numbers or missing values) and stacked as written.
    """
    parts = []
    for _, row in table.loc[table["status"] != "failed"].iterrows():
        csv = Path(row["output"]) / "districts.csv"
        if csv.is_file():
            text = pd.read_csv(csv, dtype=str, keep_default_na=False, encoding="utf-8-sig")
            parts.append(text.assign(scenario=row["scenario"], file=row["file"]))
    path = out / "districts_all.csv"
    if not parts:  # an older table would pass for this run's
        if path.is_file():
            path.unlink()
            log.info("%s removed: no scenario finished", path)
        return
    stacked = pd.concat(parts, ignore_index=True)
    first = ["scenario", "file"]
    stacked = stacked[[*first, *[c for c in stacked.columns if c not in first]]]
    write_csv(stacked, path, overwrite=True)
