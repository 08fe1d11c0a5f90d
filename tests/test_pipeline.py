"""The main job (``pipeline``): its outputs declared before computing, its resume key."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

import cohesion_gis as cg
from cohesion_gis.errors import InputError
from cohesion_gis.pipeline import run_study, study_hash, study_outputs, study_steps
from cohesion_gis.taxonomy import load_taxonomy

DENSER_SQUARES = (
    '[site_kinds.square]\nlabel = "Square"\nrules = [{ place = "square" }]\n'
    "density_persons_m2 = 1.0\n"
    'source = "test: twice the packaged Fruin LOS C density"\n'
)


def test_every_output_is_declared_once(tmp_path: Path) -> None:
    out = tmp_path / "DC"
    declared = study_outputs("helsinki", out, layers_path=tmp_path / "elsewhere.gpkg")
    assert len(declared) == len(set(declared)) and out / "study.json" in declared
    assert declared[tmp_path / "elsewhere.gpkg"] == "the layers step"
    with pytest.raises(InputError, match="by the layers step and by the cohesion step"):
        study_outputs("helsinki", out, layers_path=out / "cohesion.gpkg")


def test_study_hash_follows_the_effective_taxonomy(helsinki: cg.City, tmp_path: Path) -> None:
    user = tmp_path / "my.toml"
    user.write_text(DENSER_SQUARES, encoding="utf-8")
    denser = dataclasses.replace(helsinki, taxonomy=load_taxonomy(user))
    # the layers are the same; only the capacity density the assessment reads differs
    assert denser.taxonomy.category(denser.taxonomy.site_kinds, "square").density_persons_m2 == 1.0
    assert study_hash(denser) != study_hash(helsinki)
    assert study_hash(dataclasses.replace(helsinki)) == study_hash(helsinki)


def test_a_run_killed_while_moving_a_steps_files_resumes(tmp_path: Path) -> None:
    # red-team review: a step's files were moved into place and then recorded in study.json; a
    # kill in between left files the rerun refused ("exist; pass --overwrite"). The record is
    # now written first, with each file's sha256, and files matching it are the step's own.
    city = cg.load_city(bbox=(24.930, 60.166, 24.942, 60.172))  # Kamppi
    out = tmp_path / "out"
    run_study(city, out, maps=False, scenarios=[])
    steps = study_steps(city.name, out, maps=False)
    folder, names = steps["layers"]
    (folder / names[-1]).unlink()  # killed before the last file moved
    cohesion = [steps["cohesion"][0] / n for n in steps["cohesion"][1]]
    before = [p.stat().st_mtime_ns for p in cohesion]
    run_study(city, out, maps=False, scenarios=[])
    assert all((folder / n).is_file() for n in names)
    assert [p.stat().st_mtime_ns for p in cohesion] == before  # finished steps still skipped
    # a file that is not the one recorded is never taken for the step's own
    (folder / names[-1]).unlink()
    with (folder / names[0]).open("ab") as f:
        f.write(b"edited")
    with pytest.raises(InputError, match=rf"{names[0]} exists; pass overwrite=True"):
        run_study(city, out, maps=False, scenarios=[])
