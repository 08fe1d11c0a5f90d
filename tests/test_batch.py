"""Batch runs: outputs, resume, a failing scenario, and the Dask path on a real LocalCluster."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from cohesion_gis import batch

# a small corner of central Helsinki (Kamppi), so each Dask worker loads its base fast
SMALL_BASE = '[base]\nsource = "helsinki"\nbbox = [24.930, 60.166, 24.942, 60.172]\n'


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
            '[[interventions]]\ntype = "add_residents"\ncount = 500\ndistrict = "Kamppi"\n',
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
    for name in ("park", "residents"):
        folder = out / name
        assert {p.name for p in folder.iterdir()} >= {
            "comparison.gpkg",
            "districts.csv",
            "summary.json",
            "comparison.provenance.json",
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
    for name in ("park", "residents"):
        pd.testing.assert_frame_equal(
            pd.read_csv(out / name / "districts.csv"),
            pd.read_csv(tmp_path / "serial" / name / "districts.csv"),
        )
