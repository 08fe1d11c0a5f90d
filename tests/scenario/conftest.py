"""Helpers of the scenario tests: the example scenarios, a place in Helsinki, scenario files."""

from __future__ import annotations

from pathlib import Path

from cohesion_gis.scenario import Scenario, load_scenario

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
# a small polygon inside central Helsinki (Kluuvi), EPSG:4326
KLUUVI_WKT = "POLYGON ((24.944 60.171, 24.946 60.171, 24.946 60.172, 24.944 60.172, 24.944 60.171))"


def write(tmp_path: Path, body: str, name: str = "s.toml") -> Path:
    path = tmp_path / name
    path.write_text(body, encoding="utf-8")
    return path


def one(tmp_path: Path, entry: str, *, header: str = "") -> Scenario:
    return load_scenario(write(tmp_path, f"{header}\n[[interventions]]\n{entry}\n"))
