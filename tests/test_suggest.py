"""cohesion_gis.suggest: candidates, exact gains, the greedy portfolio and the written scenarios."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

import cohesion_gis as cg
from cohesion_gis.comparison import compare
from cohesion_gis.errors import InputError, ParameterError
from cohesion_gis.params import load_params
from cohesion_gis.scenario import load_scenario
from cohesion_gis.scenario.write import scenario_toml
from cohesion_gis.suggest import (
    SuggestParams,
    candidate_sites,
    suggest,
    suggestions_text,
    write_suggestions,
)

# The largest surface car park of the extract (way/27558514, 1,034 m², the car_park_to_park
# example) and an underground one (node/277398925, Kluuvi).
LARGEST_SURFACE_PARK = "way/27558514"
UNDERGROUND = "node/277398925"


def _gain(comparison: cg.Comparison) -> float:
    d = comparison.districts
    pop = comparison.base_districts.set_index("district_id")["population"]
    weights = d["district_id"].map(pop).to_numpy(dtype=float)
    return float((weights * d["score_delta"].to_numpy()).sum() / weights.sum())


@pytest.fixture(scope="module")
def car_parks_only() -> SuggestParams:
    """Only car parks as candidates, to keep the module quick."""
    return dataclasses.replace(load_params(SuggestParams), land_uses=())


@pytest.fixture(scope="module")
def found(helsinki: cg.City, car_parks_only: SuggestParams):
    return suggest(helsinki, suggest_params=car_parks_only, k=3, progress=False)


@pytest.fixture(scope="module")
def written(found, helsinki: cg.City, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("suggest")
    write_suggestions(found, helsinki, out)
    return out


def test_candidates_are_surface_land_big_enough_for_their_types(helsinki: cg.City) -> None:
    params = load_params(SuggestParams)
    found = candidate_sites(helsinki, params=params)
    ids = set(found["candidate_id"])
    assert LARGEST_SURFACE_PARK in ids
    assert UNDERGROUND not in ids  # a building, not open land
    for row in found.itertuples():
        assert row.space_types, row.candidate_id
        for space_type in row.space_types:
            assert row.area_m2 >= params.min_area_m2[space_type]
            half = params.min_width_m[space_type] / 2
            assert not row.geometry.buffer(-half).is_empty  # a verge is not a site
    park = found.set_index("candidate_id").loc[LARGEST_SURFACE_PARK]
    assert "park" in park["space_types"]
    assert "sport" not in park["space_types"]  # 1,034 m² but narrower than a MUGA's 18.3 m
    assert park["district_id"] in set(helsinki.districts["district_id"])
    # grass inside an existing park is already a contact space, not a candidate
    spaces = helsinki.contact_spaces
    outlines = spaces.loc[spaces.geom_type != "Point"].geometry.make_valid().union_all()
    grass = found.loc[found["source"].str.startswith("landuse=")]
    share = grass.geometry.make_valid().intersection(outlines).area / grass.area
    assert (share <= params.max_overlap_with_spaces + 1e-9).all()


def test_ranking_is_by_exact_gain(found) -> None:
    table = found.table
    assert list(table["rank"]) == list(range(1, len(table) + 1))
    assert table["predicted_score_gain"].is_monotonic_decreasing
    assert set(table["space_type"]) <= {"park", "playground", "sport", "youth_centre",
                                        "community_centre"}  # fmt: skip
    # every option has one row per district in the long table
    n_districts = found.base.result.districts.shape[0]
    assert len(found.district_gains) == len(table) * n_districts
    assert (table["residents_newly_served"] >= 0).all()


def test_top_suggestion_compared_gives_its_predicted_gain(found, written, helsinki) -> None:
    table = pd.read_csv(written / "suggestions.csv", encoding="utf-8-sig")
    for col in ("rank", "candidate_id", "name", "space_type", "area_m2", "district_id",
                "predicted_score_gain", "residents_newly_served", "scenario_file"):  # fmt: skip
        assert col in table.columns
    top = load_scenario(written / table.at[0, "scenario_file"])
    result = compare(helsinki, top, hvm=False)
    assert _gain(result) == pytest.approx(found.table.at[0, "predicted_score_gain"], abs=1e-9)
    per_district = found.district_gains.loc[
        (found.district_gains["candidate_id"] == found.table.at[0, "candidate_id"])
        & (found.district_gains["space_type"] == found.table.at[0, "space_type"])
    ].set_index("district_id")["score_delta"]
    got = result.districts.set_index("district_id")["score_delta"]
    np.testing.assert_allclose(got.loc[per_district.index], per_district, atol=1e-9)


def test_every_written_scenario_validates_and_reads_back(found, written) -> None:
    files = sorted((written / "scenarios").glob("*.toml"))
    assert len(files) == len(found.table)
    for path in files[:10]:
        scenario = load_scenario(path)
        key = (scenario.interventions[0].options["id"],
               scenario.interventions[0].options["space_type"])  # fmt: skip
        original = found.scenarios[key]
        assert scenario.interventions[0].options == dict(original.interventions[0].options)
        assert scenario.description == original.description


def test_portfolio_marginal_gains_add_up_and_beat_or_explain(found, written) -> None:
    picks = found.portfolio
    assert 1 <= len(picks) <= 3
    assert picks["candidate_id"].is_unique
    np.testing.assert_allclose(picks["marginal_gain"].cumsum(), picks["cumulative_gain"])
    first = found.table.iloc[0]
    assert (picks.at[0, "candidate_id"], picks.at[0, "space_type"]) == (
        first["candidate_id"], first["space_type"])  # fmt: skip
    assert picks.at[0, "marginal_gain"] == pytest.approx(first["predicted_score_gain"])
    summary = json.loads((written / "suggestions.json").read_text(encoding="utf-8"))
    portfolio, independent = summary["portfolio_gain"], summary["top_k_independent_gain"]
    assert portfolio == pytest.approx(picks["cumulative_gain"].iloc[-1])
    word = "more" if portfolio > independent + 1e-9 else "equals"
    assert word in summary["portfolio_vs_independent"] or portfolio < independent


def test_types_the_map_lacks_are_warned_about_and_can_be_left_out(
    found, written, helsinki, car_parks_only
) -> None:
    # planner review: ranks 1-10 were all youth centres because the extract maps none; the
    # gain assumes none exists, so every such row, the JSON and the console say so
    assert (helsinki.contact_spaces["space_type"] == "youth_centre").sum() == 0
    assert found.unmapped_types == ("youth_centre",)
    youth = found.table["space_type"] == "youth_centre"
    assert youth.any()
    assert found.table.loc[youth, "check"].str.contains("check the map first").all()
    assert (found.table.loc[~youth, "check"] == "").all()
    summary = json.loads((written / "suggestions.json").read_text(encoding="utf-8"))
    assert len(summary["warnings"]) == 1
    assert "no youth centre is in the map data" in summary["warnings"][0]
    assert "--skip-unmapped" in summary["warnings"][0]
    mapped = suggest(helsinki, suggest_params=car_parks_only, k=1, skip_unmapped=True,
                     progress=False)  # fmt: skip
    assert "youth_centre" not in set(mapped.table["space_type"])
    assert mapped.skipped_types == ("youth_centre",)
    assert "left out" in mapped.warnings[0]
    assert (mapped.table["check"] == "").all()
    kept = found.table.loc[~youth].reset_index(drop=True)  # the same options, the same gains
    np.testing.assert_allclose(
        mapped.table["predicted_score_gain"], kept["predicted_score_gain"], atol=1e-12
    )


def test_outputs_name_districts_and_say_what_a_gain_is(found, written, helsinki) -> None:
    names = helsinki.districts.set_index("district_id")["name"]
    table = pd.read_csv(written / "suggestions.csv", encoding="utf-8-sig")
    assert table["best_district_name"].tolist() == table["best_district"].map(names).tolist()
    assert table["best_district_name"].notna().all()
    assert pd.api.types.is_integer_dtype(table["residents_newly_served"])  # whole residents
    picks = pd.read_csv(written / "portfolio.csv", encoding="utf-8-sig")
    assert picks["district_name"].tolist() == picks["district_id"].map(names).tolist()
    assert (picks["source"] == "surface car park").all()
    assert picks["rank"].iloc[0] == 1
    summary = json.loads((written / "suggestions.json").read_text(encoding="utf-8"))
    assert "average resident" in summary["gain_unit"]
    assert "per resident" not in summary["gain_unit"]
    first = next((written / "scenarios").glob("001_*.toml")).read_text(encoding="utf-8")
    assert "points per resident" not in first and "average resident's score" in first
    text = suggestions_text(found, helsinki)
    lines = text.splitlines()
    top = found.table.iloc[0]
    row = next(line for line in lines if line.split()[:2] == ["1", top["candidate_id"]])
    assert names[top["district_id"]] in row and "surface car park" in row
    assert "youth centre" in row and f"{top['predicted_score_gain']:.2f}" in row
    assert f"Portfolio of {len(found.portfolio)} sites" in text
    assert lines[-1].startswith("Check: no youth centre is in the map data")


def test_portfolio_of_three_reproduced_by_applying_the_picks(found, helsinki) -> None:
    from cohesion_gis.scenario import Scenario, apply

    picks = [found.scenarios[(p.candidate_id, p.space_type)] for p in found.portfolio.itertuples()]
    together = Scenario(
        name="portfolio",
        interventions=tuple(
            dataclasses.replace(s.interventions[0], index=i) for i, s in enumerate(picks)
        ),
    )
    city = apply(helsinki, together)
    full = cg.score_districts(city)
    base = found.base.result.districts
    merged = base.merge(full.districts[["district_id", "score"]], on="district_id")
    gain = float(
        (merged["population"] * (merged["score_y"] - merged["score_x"])).sum()
        / merged["population"].sum()
    )
    assert gain == pytest.approx(found.portfolio["cumulative_gain"].iloc[-1], abs=1e-6)


def test_candidates_lie_in_the_study_area_not_the_buffer() -> None:
    """Kamppi's bbox with the 2,500 m buffer: the car parks read around it count as land for
    nothing; only the ones inside are proposed. Given sites are kept wherever they lie."""
    city = cg.load_city(bbox=(24.930, 60.166, 24.942, 60.172))
    params = load_params(SuggestParams)
    found = candidate_sites(city, params=params)
    assert len(found) >= 1
    inside = shapely.within(found.geometry.representative_point().to_numpy(), city.boundary)
    assert inside.all() and found["district_id"].notna().all()
    # surface car parks in the buffer big enough for a playground, which were proposed before
    parking = city.parking.loc[
        city.parking["parking"].isin(params.surface_parking).to_numpy()
        & (city.parking.geom_type == "Polygon").to_numpy()
        & (city.parking.area >= params.min_area_m2["playground"]).to_numpy()
    ]
    buffer = parking.loc[
        ~shapely.within(parking.geometry.representative_point().to_numpy(), city.boundary)
    ]
    assert len(buffer) >= 5
    assert not set(buffer["parking_id"].astype(str)) & set(found["candidate_id"])
    given = candidate_sites(city, params=params, sites=buffer[["geometry"]])
    assert given["source"].eq("given site").sum() >= 5  # the user's own choice stands


def test_given_site_becomes_an_added_space(helsinki, car_parks_only) -> None:
    # a 40 m × 30 m plot in Kamppi, given in degrees with a hostile name
    centre = helsinki.districts.set_index("name").loc["Kamppi"].geometry.representative_point()
    plot = gpd.GeoDataFrame(
        {"name": ["{{7*7}}<img src=x onerror=alert(1)>"]},
        geometry=[shapely.box(centre.x - 20, centre.y - 15, centre.x + 20, centre.y + 15)],
        crs=helsinki.crs,
    ).to_crs(4326)
    params = dataclasses.replace(car_parks_only, surface_parking=())
    got = suggest(helsinki, suggest_params=params, sites=plot, k=1, progress=False)
    assert set(got.table["candidate_id"]) == {"user/0"}
    # 1,200 m² fits every type (the largest minimum, sport, is 670 m²)
    assert set(got.table["space_type"]) == {"playground", "park", "sport", "youth_centre",
                                            "community_centre"}  # fmt: skip
    text = scenario_toml(got.scenarios[("user/0", "park")])
    assert "add_contact_space" in text and "{{7*7}}" in text  # kept literally, as a TOML string


def test_bad_input_is_refused(helsinki) -> None:
    with pytest.raises(InputError, match="k = 0"):
        suggest(helsinki, k=0, progress=False)
    no_crs = gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 1, 1)])
    with pytest.raises(InputError, match="no CRS"):
        candidate_sites(helsinki, sites=no_crs)


def test_bad_parameters_are_named(tmp_path: Path) -> None:
    bad = tmp_path / "suggest.toml"
    bad.write_text(
        'surface_parking = ["surface"]\nland_uses = []\nmax_overlap_with_spaces = 2.0\n'
        "equity_exponent = 1.0\n[min_area_m2]\npark = inf\n[min_width_m]\npark = 10\n",
        encoding="utf-8",
    )
    match = r"^.*suggest.toml: field `max_overlap_with_spaces` = 2.0.*`min_area_m2\.park` = inf"
    with pytest.raises(ParameterError, match=match):
        load_params(SuggestParams, bad)


def test_equity_weights_favour_low_scoring_districts(helsinki, car_parks_only, found) -> None:
    fair = suggest(helsinki, suggest_params=car_parks_only, k=1, equity=True, progress=False)
    base = found.base.result.districts.set_index("district_id")
    pop, shortfall = base["population"], 100.0 - base["score"]
    weights = shortfall / ((pop * shortfall).sum() / pop.sum())  # exponent 1, mean 1
    assert weights[base["score"].idxmin()] > 1.0 > weights[base["score"].idxmax()]
    gains = found.district_gains
    expected = (
        gains.assign(w=gains["district_id"].map(weights * pop) * gains["score_delta"])
        .groupby(["candidate_id", "space_type"])["w"]
        .sum()
        / pop.sum()
    )
    got = fair.table.set_index(["candidate_id", "space_type"])["predicted_score_gain"]
    np.testing.assert_allclose(got.loc[expected.index], expected, atol=1e-9)


def test_cli_writes_table_scenarios_and_map(helsinki, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from cohesion_gis.cli import main

    centre = helsinki.districts.set_index("name").loc["Kallio"].geometry.representative_point()
    sites = tmp_path / "council_land.geojson"
    gpd.GeoDataFrame(
        {"name": ["Council depot"]},
        geometry=[shapely.box(centre.x - 15, centre.y - 15, centre.x + 15, centre.y + 15)],
        crs=helsinki.crs,
    ).to_file(sites)
    rules = tmp_path / "suggest.toml"
    text = (Path(cg.__file__).parent / "defaults" / "suggest.toml").read_text(encoding="utf-8")
    text = text.replace('surface_parking = ["surface", ""]', "surface_parking = []")
    text = text.replace(
        'land_uses = ["brownfield", "greenfield", "vacant", "grass"]', "land_uses = []"
    )
    rules.write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(
        main,
        ["suggest", "--out", str(out), "--sites", str(sites), "--suggest-params", str(rules),
         "--k", "1"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out / "suggestions.csv", encoding="utf-8-sig")
    assert set(table["candidate_id"]) == {"user/0"}
    assert set(table["name"]) == {"Council depot"}
    assert len(list((out / "scenarios").glob("*.toml"))) == len(table)
    assert "Council depot" in (out / "suggestions_map.html").read_text(encoding="utf-8")
    # the console names the place, district and current use, and prints the portfolio
    assert "Council depot" in result.output and "Kallio" in result.output
    assert "given site" in result.output and "Portfolio of 1 site built" in result.output
    assert "Check: no youth centre is in the map data" in result.output


def test_rerun_replaces_the_whole_run_or_nothing(found, helsinki, tmp_path: Path) -> None:
    out = tmp_path / "s"
    write_suggestions(found, helsinki, out, map_html=False)
    stray = out / "scenarios" / "999_stale.toml"
    stray.write_text("# from an earlier run\n", encoding="utf-8")
    with pytest.raises(InputError, match="previous run"):
        write_suggestions(found, helsinki, out, map_html=False)
    assert stray.exists()  # refused before writing anything
    write_suggestions(found, helsinki, out, map_html=False, overwrite=True)
    assert not stray.exists()  # the folder is replaced whole: nothing stale is left
    assert len(list((out / "scenarios").glob("*.toml"))) == len(found.table)


def test_scenario_text_round_trips_every_control_character() -> None:
    from cohesion_gis.scenario import Intervention, Scenario

    name = "".join(chr(c) for c in [*range(32), 127]) + '\u202e {{7*7}} "quoted" \\ end'
    scenario = Scenario(
        name="controls",
        description=name,
        interventions=(
            Intervention(0, "convert_land_use",
                         {"id": "way/1", "space_type": "park", "space_name": name}),
        ),
    )  # fmt: skip
    import tomllib

    data = tomllib.loads(scenario_toml(scenario))
    assert data["description"] == name
    assert data["interventions"][0]["space_name"] == name


def test_batched_rescoring_equals_full_runs_and_never_lowers_a_home(
    found, helsinki: cg.City
) -> None:
    from cohesion_gis.cohesion import CohesionParams
    from cohesion_gis.scenario import apply

    params = load_params(CohesionParams)
    base = found.base
    keys = list(found.scenarios)
    cities = [apply(helsinki, found.scenarios[key]) for key in keys]
    states = list(base.update_many(cities, batch=8))
    assert len(states) == len(keys)
    components = [base.values.columns.index(c) for c in ("access", "diversity", "capacity")]
    for state in states:
        assert state.recomputed.startswith("incremental: 1 of ")
        # adding a space never lowers any home's access, diversity or capacity
        after, before = state.values.array[:, components], base.values.array[:, components]
        assert (np.nan_to_num(after - before) >= -1e-12).all()
    # one option from the middle of a batch, against a full run of its City
    middle = len(keys) // 2
    full = cg.score_districts(cities[middle], params, sensitivity=False)
    got = states[middle]
    np.testing.assert_allclose(
        got.districts["score"].to_numpy(), full.districts["score"].to_numpy(), atol=1e-9
    )
    for column in ("access", "diversity", "capacity", "severance", "score"):
        np.testing.assert_allclose(
            got.result.homes[column].to_numpy(), full.homes[column].to_numpy(), atol=1e-9
        )
    # each state's means are its assembled result's
    np.testing.assert_allclose(
        got.districts["score"].to_numpy(), got.result.districts["score"].to_numpy(), atol=1e-12
    )


def test_params_a_partial_file_overrides_only_its_keys(tmp_path: Path) -> None:
    mine = tmp_path / "suggest.toml"
    mine.write_text('land_uses = ["brownfield"]\n[min_area_m2]\npark = 1000\n', encoding="utf-8")
    params, packaged = load_params(SuggestParams, mine), load_params(SuggestParams)
    assert params.land_uses == ("brownfield",) and params.min_area_m2["park"] == 1000.0
    assert params.surface_parking == packaged.surface_parking
    assert params.min_width_m == packaged.min_width_m
