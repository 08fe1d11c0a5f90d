"""cohesion_gis.protect: designed barrier schemes, verified by re-running the assessment."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import pytest

import cohesion_gis as cg
from cohesion_gis.errors import InputError
from cohesion_gis.hvm import parse_rating
from cohesion_gis.protect import ProtectParams, line_speed_kmh, protect, write_protection
from cohesion_gis.scenario import load_scenario

# A small place of worship in Kamppi with four open approaches on the 2019 extract.
SITE = "Hehku"


@pytest.fixture(scope="module")
def scheme(helsinki: cg.City):
    # the assessment's own 500 m horizon keeps the test quick; the default is 1,000 m
    return protect(helsinki, SITE, params=replace(ProtectParams.from_toml(), horizon_m=500.0))


def test_line_speed_follows_uniform_acceleration() -> None:
    # 0 -> 60 km/h over 100 m: v² grows linearly with distance, so 25 m in gives 30 km/h
    assert line_speed_kmh(0.0, 60.0, 100.0, 25.0) == pytest.approx(30.0)
    assert line_speed_kmh(40.0, 60.0, 100.0, 100.0) == pytest.approx(60.0)
    # braking: the fastest point before the line is the segment's start
    assert line_speed_kmh(60.0, 20.0, 100.0, 50.0) == 60.0


def test_scheme_stops_every_approach_and_costs_no_walking_access(scheme) -> None:
    assert scheme.open_before > 0
    assert scheme.open_after == 0, scheme.note
    assert "stop all" in scheme.note
    homes = scheme.comparison.homes
    assert (homes["access_delta"] >= -1e-12).all()  # bollard lines leave walkers through
    after = scheme.comparison.after.hvm.approaches
    mine = after.loc[after["site_id"] == scheme.site["site_id"]]
    stopped = mine["blocked_by"].fillna("").astype(str) != ""
    assert (stopped | (mine["impact_speed_kmh"].fillna(0) == 0)).all()
    assert stopped.any()  # stopped by the scheme's lines, not by chance


def test_every_line_is_rated_above_what_reaches_it(scheme) -> None:
    classes = [c.removeprefix("rating_") for c in scheme.lines if c.startswith("rating_")]
    assert len(scheme.lines) >= 1
    for line in scheme.lines.itertuples():
        asked = [c for c in classes if getattr(line, f"rating_{c}")]
        assert asked, line.line_id
        for cls in asked:
            rating = parse_rating(getattr(line, f"rating_{cls}"))
            speed = getattr(line, f"speed_kmh_{cls}")
            assert rating.speed_kmh >= speed * 1.1 - 1e-6  # the +10 % allowance
            assert rating.penetration_m <= line.standoff_m + 1e-9
            assert 32 <= rating.speed_kmh <= 80  # the tested range of the NPSA catalogue
        assert line.length_m >= line.width_m + 2.0 - 1e-9  # kerb to kerb at least, then façades
        assert line.open_ends in (0, 1, 2)
        assert rating.penetration_m <= 25.0  # ISO 22343-1 classifies penetration up to 25 m
        assert math.isfinite(line.cost_units) and line.cost_units > 0


def test_written_scheme_is_a_valid_scenario(scheme, helsinki, tmp_path: Path) -> None:
    paths = write_protection(scheme, helsinki, tmp_path)
    scenario = load_scenario(paths["scenario"])
    n_ratings = sum(
        bool(getattr(line, c))
        for line in scheme.lines.itertuples()
        for c in scheme.lines.columns
        if c.startswith("rating_")
    )
    assert len(scenario.interventions) == n_ratings
    assert {i.type for i in scenario.interventions} == {"add_barrier"}
    summary = paths["summary"].read_text(encoding="utf-8")
    assert '"open_approaches_after": 0' in summary and "no hostile vehicle starts" in summary
    with pytest.raises(InputError, match="previous run"):
        write_protection(scheme, helsinki, tmp_path)  # all or nothing: refused, nothing written
    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(InputError, match="other files"):
        write_protection(scheme, helsinki, tmp_path, overwrite=True)
    assert (tmp_path / "notes.txt").exists()


def test_unknown_site_names_close_ones(helsinki) -> None:
    with pytest.raises(InputError, match="Senaatintori"):
        protect(helsinki, "Senaattintori")
