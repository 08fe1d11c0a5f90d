"""Batch runs: outputs, resume, a failing scenario, and the Dask path on a real LocalCluster."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from cohesion_gis import batch

# a small corner of central Helsinki (Kamppi), so each Dask worker loads its base fast
SMALL_BASE = '[base]\nsource = "helsinki"\nbbox = [24.930, 60.166, 24.942, 60.172]\n'
# a triangle inside it (longitude latitude, EPSG:4326) to house new residents
AREA = 'geometry = "POLYGON ((24.936 60.167, 24.94 60.167, 24.94 60.17, 24.936 60.167))"\n'
RESIDENTS = '[[interventions]]\ntype = "add_residents"\ncount = {count}\n' + AREA


def scenario(folder: Path, name: str, body: str) -> Path:
    path = folder / f"{name}.toml"
    path.write_text(f'name = "{name}"\n{SMALL_BASE}{body}', encoding="utf-8")
    return path


@pytest.fixture()
def files(tmp_path: Path) -> list[Path]:
    folder = tmp_path / "scenarios"
    folder.mkdir()
    return [
        scenario(
            folder,
            "park",
            '[[interventions]]\ntype = "convert_land_use"\n'
            'id = "way/27558514"\nspace_type = "park"\n',
        ),
        scenario(
            folder,
            "residents",
            RESIDENTS.format(count=500),
        ),
        scenario(
            folder, "broken", '[[interventions]]\ntype = "remove_contact_space"\nid = "way/1"\n'
        ),
    ]


def test_run_resume_and_failure(tmp_path: Path, files: list[Path]) -> None:
    out = tmp_path / "results"
    first = batch.run(files, out_dir=out, progress=False)
    status = dict(zip(first.summary["scenario"], first.summary["status"], strict=True))
    assert status == {"park": "done", "residents": "done", "broken": "failed"}
    error = first.failed["error"].iloc[0]
    assert "ScenarioError" in error and "id way/1 not found" in error
    for path in files[:2]:
        folder = out / batch.output_folder(path)
        assert {p.name for p in folder.iterdir()} >= {
            "comparison.gpkg",
            "districts.csv",
            "summary.json",
            "comparison.provenance.json",
            "scenario_map.html",
            "scenario_map.pdf",  # one page per comparison for council papers
        }
        summary = json.loads((folder / "summary.json").read_text())
        assert summary["status"] == "done" and summary["base"]["source"]
    table = pd.read_csv(out / "summary.csv")
    assert list(table["scenario"]) == ["park", "residents", "broken"]
    stacked = pd.read_csv(out / "districts_all.csv")
    assert set(stacked["scenario"]) == {"park", "residents"}
    assert "capacity_delta" in stacked.columns

    again = batch.run(files, out_dir=out, progress=False)
    assert list(again.summary["status"]) == ["skipped", "skipped", "failed"]

    files[1].write_text(files[1].read_text().replace("500", "600"), encoding="utf-8")
    third = batch.run(files, out_dir=out, progress=False)
    assert list(third.summary["status"]) == ["skipped", "done", "failed"]
    assert third.summary["inputs_hash"].iloc[1] != first.summary["inputs_hash"].iloc[1]
    assert list(batch.run(files, out_dir=out, resume=False, progress=False).summary["status"]) == [
        "done", "done", "failed"]  # fmt: skip


def test_dask_local_cluster(tmp_path: Path, files: list[Path]) -> None:
    out = tmp_path / "results"
    result = batch.run(files[:2], out_dir=out, workers=2, progress=False)
    assert list(result.summary["status"]) == ["done", "done"]
    batch.run(files[:2], out_dir=tmp_path / "serial", progress=False)
    for path in files[:2]:
        name = batch.output_folder(path)
        pd.testing.assert_frame_equal(
            pd.read_csv(out / name / "districts.csv"),
            pd.read_csv(tmp_path / "serial" / name / "districts.csv"),
        )


def test_files_of_the_same_name_get_their_own_folders(tmp_path: Path) -> None:
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
    first = scenario(tmp_path / "a", "x", RESIDENTS.format(count=300))
    second = scenario(tmp_path / "b", "x", RESIDENTS.format(count=900))
    out = tmp_path / "results"
    result = batch.run([first, second, tmp_path / "a" / ".." / "a" / "x.toml"], out_dir=out,
                       progress=False)  # fmt: skip
    assert list(result.summary["status"]) == ["done", "done"]  # the same file once
    folders = [out / batch.output_folder(p) for p in (first, second)]
    assert folders[0] != folders[1] and all(f.name.startswith("x-") for f in folders)
    headlines = [json.loads((f / "summary.json").read_text())["headline"] for f in folders]
    assert headlines[0] != headlines[1]  # neither overwrote the other
    stacked = pd.read_csv(out / "districts_all.csv")
    assert set(stacked["file"]) == {str(first), str(second)}
    again = batch.run([first, second], out_dir=out, progress=False)
    assert list(again.summary["status"]) == ["skipped", "skipped"]


def test_resume_reruns_when_a_file_the_scenario_reads_changes(tmp_path: Path) -> None:
    def square(west: float) -> str:
        east = round(west + 0.003, 4)
        ring = [[west, 60.167], [east, 60.167], [east, 60.170], [west, 60.170], [west, 60.167]]
        geometry = {"type": "Polygon", "coordinates": [ring]}
        feature = {"type": "Feature", "properties": {}, "geometry": geometry}
        return json.dumps({"type": "FeatureCollection", "features": [feature]})

    (tmp_path / "from.geojson").write_text(square(24.9355), encoding="utf-8")
    (tmp_path / "to.geojson").write_text(square(24.9388), encoding="utf-8")
    path = scenario(
        tmp_path,
        "move",
        '[[interventions]]\ntype = "move_residents"\ncount = 50\n'
        'from = {file = "from.geojson"}\nto = {file = "to.geojson"}\n',
    )
    out = tmp_path / "results"
    assert list(batch.run([path], out_dir=out, progress=False).summary["status"]) == ["done"]
    assert list(batch.run([path], out_dir=out, progress=False).summary["status"]) == ["skipped"]
    # the same size and modification time, another area: only the content tells
    target = tmp_path / "to.geojson"
    stat = target.stat()
    target.write_text(square(24.9387), encoding="utf-8")
    os.utime(target, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert target.stat().st_size == stat.st_size
    rerun = batch.run([path], out_dir=out, progress=False)
    assert list(rerun.summary["status"]) == ["done"]
    inputs = json.loads((out / batch.output_folder(path) / "summary.json").read_text())["inputs"]
    assert str(target.resolve()) in inputs and str((tmp_path / "from.geojson").resolve()) in inputs


def test_formula_names_are_text_in_the_summary_table(tmp_path: Path) -> None:
    path = tmp_path / "formula.toml"
    body = SMALL_BASE + RESIDENTS.format(count=10)
    path.write_text("name = \"=HYPERLINK('http://x.invalid')\"\n" + body, encoding="utf-8")
    out = tmp_path / "results"
    assert list(batch.run([path], out_dir=out, progress=False).summary["status"]) == ["done"]
    cells = pd.read_csv(out / "summary.csv", dtype=str)["scenario"]
    assert cells.iloc[0] == "'=HYPERLINK('http://x.invalid')"


def test_a_killed_batch_leaves_no_folder_that_looks_finished(tmp_path: Path) -> None:
    path = scenario(tmp_path, "residents", RESIDENTS.format(count=500))
    out = tmp_path / "results"
    code = (
        "import sys; from cohesion_gis import batch; "
        "batch.run([sys.argv[1]], out_dir=sys.argv[2], progress=False)"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    proc = subprocess.Popen([sys.executable, "-c", code, str(path), str(out)], env=env)
    deadline = time.monotonic() + 300
    try:
        while not (out.is_dir() and any(p.name.startswith(".residents-") for p in out.iterdir())):
            assert proc.poll() is None and time.monotonic() < deadline, "no staging folder seen"
            time.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    final = out / batch.output_folder(path)
    assert not final.exists()  # the unfinished run is hidden, not a folder with a summary
    assert any(p.name.startswith(".residents-") for p in out.iterdir())
    result = batch.run([path], out_dir=out, progress=False)
    assert list(result.summary["status"]) == ["done"]
    assert json.loads((final / "summary.json").read_text())["status"] == "done"
    assert [p.name for p in out.iterdir() if p.name.startswith(".")] == []


def test_a_layers_base_is_rerun_when_its_taxonomy_file_changes(tmp_path: Path) -> None:
    import cohesion_gis as cg
    from cohesion_gis.sources.osm import default_pbf

    taxonomy = tmp_path / "taxonomy.toml"
    packaged = Path(cg.__file__).parent / "defaults" / "taxonomy.toml"
    taxonomy.write_text(packaged.read_text(encoding="utf-8"), encoding="utf-8")
    city = cg.load_city(default_pbf(), bbox=(24.930, 60.166, 24.942, 60.172), taxonomy=taxonomy)
    cg.write_layers(city, tmp_path / "base.gpkg")
    path = tmp_path / "on_layers.toml"
    path.write_text('base = "base.gpkg"\n' + RESIDENTS.format(count=100), encoding="utf-8")
    out = tmp_path / "results"
    assert list(batch.run([path], out_dir=out, progress=False).summary["status"]) == ["done"]
    assert taxonomy.resolve() in batch.input_files(cg.load_scenario(path))
    assert list(batch.run([path], out_dir=out, progress=False).summary["status"]) == ["skipped"]
    taxonomy.write_text(taxonomy.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    assert list(batch.run([path], out_dir=out, progress=False).summary["status"]) == ["done"]


def test_stacked_districts_keep_ids_and_names_as_written(tmp_path: Path) -> None:
    from cohesion_gis.export import write_csv

    folder = tmp_path / "s-1"
    folder.mkdir()
    districts = pd.DataFrame(
        {"district_id": ["001", "1e3", "NA"], "name": ["NA", "null", "=cmd"],
         "score_delta": [-1.5, 0.0, 2.25]}
    )  # fmt: skip
    write_csv(districts, folder / "districts.csv")
    table = pd.DataFrame(
        [{"scenario": "-s", "file": "s.toml", "status": "done", "output": str(folder)}]
    )
    batch._stack_districts(table, tmp_path)
    back = pd.read_csv(tmp_path / "districts_all.csv", dtype=str, keep_default_na=False)
    assert list(back.columns) == ["scenario", "file", "district_id", "name", "score_delta"]
    assert list(back["district_id"]) == ["001", "1e3", "NA"]
    assert list(back["name"]) == ["NA", "null", "'=cmd"]  # prefixed once, not twice
    assert list(back["score_delta"]) == ["-1.5", "0.0", "2.25"]
    assert list(back["scenario"]) == ["'-s"] * 3


def test_no_stacked_table_is_left_when_no_scenario_finished(tmp_path: Path) -> None:
    good = scenario(tmp_path, "residents", RESIDENTS.format(count=100))
    broken = scenario(tmp_path, "broken", RESIDENTS.format(count=100).replace("POLYGON", "PLYGON"))
    out = tmp_path / "results"
    assert list(batch.run([good], out_dir=out, progress=False).summary["status"]) == ["done"]
    assert (out / "districts_all.csv").is_file()
    failed = batch.run([broken], out_dir=out, progress=False)
    assert list(failed.summary["status"]) == ["failed"]
    assert not (out / "districts_all.csv").exists()  # not the earlier run's table
