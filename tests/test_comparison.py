"""Base vs scenario comparison, and the incremental rescoring against a full recompute."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import cohesion_gis as cg
from cohesion_gis.cohesion import CohesionParams, score_districts
from cohesion_gis.comparison import Comparison, _site_deltas, analyse, compare
from cohesion_gis.params import load_params
from cohesion_gis.scenario import Scenario, apply, load_scenario
from cohesion_gis.scenario.incremental import cohesion_state

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
COLUMNS = ["access", "diversity", "bridging", "capacity", "severance", "score"]


@pytest.fixture(scope="module")
def base(helsinki: cg.City):
    return analyse(helsinki, params=load_params(CohesionParams), hvm=False)


@pytest.fixture(scope="module")
def car_park(helsinki: cg.City, base) -> Comparison:
    scenario = load_scenario(SCENARIOS / "car_park_to_park.toml")
    return compare(helsinki, scenario, base=base, hvm=False)


def scenario_file(tmp_path: Path, entry: str) -> Scenario:
    path = tmp_path / "s.toml"
    path.write_text(f"[[interventions]]\n{entry}\n", encoding="utf-8")
    return load_scenario(path)


def assert_same_scores(result, full) -> None:
    for got, want in ((result.districts, full.districts), (result.homes, full.homes)):
        pd.testing.assert_frame_equal(
            got[COLUMNS].reset_index(drop=True), want[COLUMNS].reset_index(drop=True), rtol=1e-9
        )


@pytest.mark.parametrize("name", ["car_park_to_park", "new_residents_kallio"])
def test_incremental_equals_full_recompute(helsinki: cg.City, base, name: str) -> None:
    scenario = load_scenario(SCENARIOS / f"{name}.toml")
    result = compare(helsinki, scenario, base=base, hvm=False)
    assert result.after.cohesion.recomputed.startswith("incremental")
    full = score_districts(
        apply(helsinki, scenario), load_params(CohesionParams), sensitivity=False
    )
    assert_same_scores(result.after.cohesion.result, full)


def test_incremental_add_and_remove_spaces(tmp_path: Path, helsinki: cg.City, base) -> None:
    scenario = scenario_file(
        tmp_path,
        'type = "remove_contact_space"\nname = "Esplanadinpuisto"\n'
        '[[interventions]]\ntype = "add_contact_space"\nspace_type = "playground"\n'
        'geometry = "POINT (24.9455 60.1715)"',
    )
    result = compare(helsinki, scenario, base=base, hvm=False)
    n_spaces, n_homes = len(base.cohesion.aware.spaces), len(helsinki.homes)
    note = result.after.cohesion.recomputed
    assert note.startswith(f"incremental: 1 of {n_spaces} spaces searched, ")
    touched = int(note.split(", ")[1].split()[0])
    assert 0 < touched < n_homes  # only homes within reach of the two changed spaces
    full = score_districts(result.city, load_params(CohesionParams), sensitivity=False)
    assert_same_scores(result.after.cohesion.result, full)
    spaces = result.after.cohesion.result.spaces
    want = full.spaces.drop(columns="geometry")
    pd.testing.assert_frame_equal(spaces[want.columns].reset_index(drop=True), want, rtol=1e-9)
    # the merged tables, built on first use, are the tables of a full run
    merged = result.after.cohesion.aware.table
    fresh = analyse(result.city, params=load_params(CohesionParams), hvm=False).cohesion.aware.table
    pd.testing.assert_frame_equal(merged, fresh, rtol=1e-12)


def test_incremental_with_resident_groups_equals_full(helsinki: cg.City) -> None:
    homes = helsinki.homes.copy()
    share = np.linspace(0.1, 0.9, len(homes))
    homes["pop_a"], homes["pop_b"] = homes["population"] * share, homes["population"] * (1 - share)
    homes.loc[0, ["pop_a", "pop_b", "district_id"]] = [np.nan, np.nan, None]  # no group data
    city = dataclasses.replace(helsinki, homes=homes)
    params = load_params(CohesionParams)
    scenario = load_scenario(SCENARIOS / "car_park_to_park.toml")
    after = apply(city, scenario)
    state = cohesion_state(city, params).update(after)
    assert state.recomputed.startswith("incremental")
    full = score_districts(after, params, sensitivity=False)
    assert full.homes["bridging"].notna().all()
    assert_same_scores(state.result, full)
    pd.testing.assert_frame_equal(
        state.result.districts.drop(columns="geometry"),
        full.districts.drop(columns="geometry"),
        rtol=1e-9,
    )


def test_incremental_with_sensitivity_and_moved_residents(
    tmp_path: Path, helsinki: cg.City, base
) -> None:
    scenario = scenario_file(
        tmp_path,
        'type = "add_contact_space"\nspace_type = "library"\ngeometry = "POINT (24.9455 60.1715)"\n'
        '[[interventions]]\ntype = "add_residents"\ncount = 500\ndistrict = "Kamppi"',
    )
    city = apply(helsinki, scenario)
    params = load_params(CohesionParams)
    full = score_districts(city, params, sensitivity=True)
    # a base searched without the variants is too short for them: a full run
    short = base.cohesion.update(city, sensitivity=True)
    assert short.recomputed == "full"
    assert_same_scores(short.result, full)
    wide = cohesion_state(helsinki, params, sensitivity=True)
    state = wide.update(city, sensitivity=True)
    assert state.recomputed.endswith(f"{len(city.homes)} of {len(city.homes)} homes evaluated")
    assert_same_scores(state.result, full)
    pd.testing.assert_frame_equal(state.result.sensitivity, full.sensitivity, rtol=1e-9)


def test_changed_network_falls_back_to_full(tmp_path: Path, helsinki: cg.City, base) -> None:
    scenario = scenario_file(
        tmp_path, 'type = "pedestrianise"\nname = "Pohjoisesplanadi"\nmode = "physical_closure"'
    )
    result = compare(helsinki, scenario, base=base, hvm=False)
    assert result.after.cohesion.recomputed == "full"
    full = score_districts(result.city, load_params(CohesionParams), sensitivity=False)
    assert_same_scores(result.after.cohesion.result, full)
    assert (result.districts["score_delta"].abs() > 0).any()  # the road no longer severs


def test_a_new_park_never_lowers_access(car_park: Comparison) -> None:
    assert (car_park.homes["access_delta"] >= -1e-12).all()
    assert (car_park.districts["access_delta"] >= -1e-12).all()


def test_car_park_to_park_raises_access_or_capacity(car_park: Comparison) -> None:
    gained = (car_park.districts["access_delta"] > 0) | (car_park.districts["capacity_delta"] > 0)
    assert gained.any()
    # the park is 1,034 m²: below the 0.5 ha "local green" size, so it adds capacity, not access
    assert (car_park.districts["capacity_delta"] > 0).any()
    assert car_park.districts.crs == car_park.city.crs


def test_delta_columns_are_scenario_minus_base(car_park: Comparison) -> None:
    d = car_park.districts
    for column in COLUMNS:
        np.testing.assert_allclose(
            d[f"{column}_delta"], d[f"{column}_scenario"] - d[f"{column}_base"]
        )
    base = car_park.base.cohesion.result.districts.set_index("district_id")["score"]
    np.testing.assert_allclose(d["score_base"], d["district_id"].map(base))


def test_summary_lines(helsinki: cg.City, base) -> None:
    result = compare(helsinki, load_scenario(SCENARIOS / "new_residents_kallio.toml"), base=base,
                     hvm=False)  # fmt: skip
    # 500 more residents in Kallio share the green space of its neighbours, whose capacity falls
    # most (Kallio's own stays near its cap of 1); largest change first
    assert result.summary[0] == "Punavuori: capacity -0.09, score -2.19"
    assert result.summary[-1] == "Kallio: capacity -0.01, score -0.25"
    quiet = compare(helsinki, load_scenario(SCENARIOS / "pedestrianise_traffic_order.toml"),
                    base=base, hvm=False)  # fmt: skip
    assert quiet.summary == ("No district or site changes beyond rounding.",)


def test_site_deltas() -> None:
    base = pd.DataFrame({
        "site_id": ["a", "b"], "name": ["Senaatintori", "B"],
        "max_arrival_speed_kmh_N2A": [52.0, 30.0], "max_arrival_speed_kmh_M1": [60.0, 31.0],
        "required_rating": ["V/7200[N2A]/64/90", "V/7200[N2A]/48/90"], "risk": [40.0, 10.0],
    })  # fmt: skip
    after = pd.DataFrame({
        "site_id": ["a", "b", "c"], "name": ["Senaatintori", "B", "Street"],
        "max_arrival_speed_kmh_N2A": [0.0, 30.0, 45.0],
        "max_arrival_speed_kmh_M1": [58.0, 31.0, 50.0],
        "required_rating": ["", "V/7200[N2A]/48/90", "V/7200[N2A]/64/90"],
        "risk": [5.0, 10.0, 30.0],
    })  # fmt: skip
    table = _site_deltas(base, after).set_index("site_id")
    assert table["status"].to_dict() == {"a": "changed", "b": "same", "c": "added"}
    assert table.loc["a", "max_arrival_speed_kmh_N2A_delta"] == -52.0
    assert table.loc["a", "risk_delta"] == -35.0
    from cohesion_gis.comparison import _summary

    districts = pd.DataFrame(columns=["name", "score_delta"])
    lines = _summary(districts, table.reset_index())
    assert lines[0] == "Street (new crowded site): worst M1 arrival speed 50 km/h"
    assert lines[1] == "Senaatintori: worst N2A arrival speed 52 → 0 km/h, risk 40 → 5"
    assert len(lines) == 2


def test_summary_says_when_a_proposed_barrier_is_driven_through(tmp_path, helsinki):
    # Senaatintori's perimeter alone, with Unioninkatu open: trucks arrive at 90 km/h, beyond the
    # ring's 64 km/h rating, so the ring is defeated
    scheme = (SCENARIOS / "senaatintori_barriers.toml").read_text(encoding="utf-8")
    ring = scheme[scheme.index('geometry = """') :].split('"""')[1]
    entry = f'type = "add_barrier"\nrating = "V/7200[N3C]/64/90:1.5"\ngeometry = """{ring}"""'
    scenario = scenario_file(tmp_path, entry)
    result = cg.compare(helsinki, scenario)
    assert any("barrier new/0 would be driven through" in line for line in result.summary)
    assert "defeated_barriers_scenario" in result.sites.columns
