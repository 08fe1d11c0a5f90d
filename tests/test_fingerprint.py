"""The resume key of ``demo`` and ``batch``: effective taxonomy, parameters and package code."""

from __future__ import annotations

import shutil
from pathlib import Path

import cohesion_gis as cg
from cohesion_gis import _fingerprint, batch
from cohesion_gis.pipeline import study_hash


def test_code_digest_changes_with_any_module_or_default(tmp_path: Path) -> None:
    package = Path(cg.__file__).parent
    copy = tmp_path / "pkg"
    shutil.copytree(package, copy, ignore=shutil.ignore_patterns("__pycache__", "data"))
    before = _fingerprint.code_digest(copy)
    assert before == _fingerprint.code_digest(package)  # content, not location
    (copy / "cohesion" / "score.py").write_text(
        (copy / "cohesion" / "score.py").read_text(encoding="utf-8") + "\n# edited\n",
        encoding="utf-8",
    )
    edited = _fingerprint.code_digest.__wrapped__(copy)
    assert edited != before
    (copy / "defaults" / "hvm.toml").write_text("# edited\n", encoding="utf-8")
    assert _fingerprint.code_digest.__wrapped__(copy) not in (before, edited)


def test_demo_and_batch_keys_follow_the_code(
    helsinki: cg.City, tmp_path: Path, monkeypatch
) -> None:
    path = tmp_path / "s.toml"
    path.write_text(
        'name = "s"\n[[interventions]]\ntype = "add_residents"\ncount = 10\n'
        'geometry = "POLYGON ((24.936 60.167, 24.94 60.167, 24.94 60.17, 24.936 60.167))"\n',
        encoding="utf-8",
    )
    keys = (study_hash(helsinki), batch.inputs_hash(path))
    monkeypatch.setattr(_fingerprint, "code_digest", lambda: "another build, same __version__")
    changed = (study_hash(helsinki), batch.inputs_hash(path))
    assert changed[0] != keys[0] and changed[1] != keys[1]
