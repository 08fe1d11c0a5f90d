"""The main job (``pipeline``): its outputs declared before computing, its resume key."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

import cohesion_gis as cg
from cohesion_gis.errors import InputError
from cohesion_gis.pipeline import study_hash, study_outputs
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
