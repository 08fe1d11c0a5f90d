"""The district score on real Helsinki: properties that must hold."""

from __future__ import annotations

import dataclasses
import html

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from cohesion_gis import DataError
from cohesion_gis.cohesion import COMPONENTS, CohesionParams, score_districts
from cohesion_gis.cohesion.report import summary
from cohesion_gis.cohesion.score import (
    SNAP_VARIANT,
    assemble_result,
    composite,
    other_population,
)
from cohesion_gis.errors import ParameterError
from cohesion_gis.params import load_params
from cohesion_gis.sources.districts import grid_districts
from cohesion_gis.sources.population import assign_to_districts, write_population_raster

DISTRICT_COLUMNS = [
    "district_id",
    "name",
    "population",
    "access",
    "diversity",
    "bridging",
    "capacity",
    "severance",
    "score",
]


@pytest.fixture(scope="module")
def base(helsinki):
    return score_districts(helsinki)


def test_district_table_has_every_component_on_fixed_scales(base, helsinki):
    districts = base.districts
    assert list(districts.columns[: len(DISTRICT_COLUMNS)]) == DISTRICT_COLUMNS
    assert len(districts) == len(helsinki.districts)
    scored = districts[districts["population"] > 0]
    measured = scored[[*list(COMPONENTS), "severance"]].drop(columns="bridging")
    assert measured.apply(lambda c: c.between(0, 1)).all().all()
    assert scored["bridging"].isna().all()  # no group data in the embedded extract
    assert scored["score"].between(0, 100).all()
    # population-weighted: district populations add up to the residents of homes in districts
    in_districts = helsinki.homes.loc[helsinki.homes["district_id"].notna(), "population"].sum()
    assert districts["population"].sum() == pytest.approx(in_districts)
    assert {f"access_{c.name}" for c in base.params.access} <= set(districts.columns)


def test_composite_is_the_weighted_mean_of_the_available_components(base):
    homes = base.homes
    w = base.params.weights
    have = [c for c in COMPONENTS if homes[c].notna().all()]
    assert have == ["access", "diversity", "capacity"]  # no group data: bridging left out
    expected = 100 * sum(w[c] * homes[c] for c in have) / sum(w[c] for c in have)
    np.testing.assert_allclose(homes["score"], expected)


def test_geometric_aggregation_is_the_weighted_geometric_mean(helsinki):
    params = dataclasses.replace(load_params(CohesionParams), aggregation="geometric")
    result = score_districts(helsinki, params, sensitivity=False)
    homes, w = result.homes, params.weights
    have = ["access", "diversity", "capacity"]
    total = sum(w[c] for c in have)
    expected = 100 * np.prod([homes[c] ** (w[c] / total) for c in have], axis=0)
    np.testing.assert_allclose(homes["score"], expected)
    assert (
        result.districts[[c for c in result.districts if c.startswith("shortfall_")]]
        .isna()
        .all()
        .all()
    )


def test_decision_outputs_per_district(base):
    d = base.districts
    for c in base.params.access:
        assert d[f"share_meeting_{c.name}"].between(0, 1).all()
    # shortfall contributions add up to 100 - score
    parts = d[[f"shortfall_{c}" for c in COMPONENTS]].sum(axis=1, min_count=1)
    np.testing.assert_allclose(parts, 100 - d["score"], rtol=1e-9)
    assert (d["p10_score"] <= d["median_score"] + 1e-12).all()
    homes = base.homes
    for _, row in d.iterrows():
        scores = homes.loc[homes["district_id"] == row["district_id"], "score"]
        assert scores.min() - 1e-9 <= row["p10_score"] <= scores.max() + 1e-9
    # Kamppi: the spread within the district is wider than between districts (issue 12)
    kamppi = d.set_index("name").loc["Kamppi"]
    assert kamppi["median_score"] - kamppi["p10_score"] > 5
    assert set(d["main_shortfall"]) <= set(COMPONENTS)


def test_sensitivity_runs_structural_variants_and_withholds_ranks_below_ten(base):
    districts, table = base.districts, base.sensitivity
    assert {"rank", "rank_min", "rank_max"} <= set(districts.columns)
    # 6 districts: no rank ranges, and the note says why
    assert districts["rank_min"].isna().all() and districts["rank_max"].isna().all()
    assert "Rank ranges are not reported: 6 scored districts" in base.notes["sensitivity"]
    assert "group definition (no resident-group data)" in base.notes["sensitivity"]
    # no raster given: the population source is not compared against a second estimate
    assert "population source (no population raster given" in base.notes["sensitivity"]
    names = set(table["variant"])
    assert {"distances x0.75", "distances x1.25", "walking 1 m/s"} <= names
    assert {"aggregation: geometric", "network cleaning: none"} <= names
    assert not any(n.startswith("population") for n in names)
    assert set(table["kind"]) == {"distance", "structural", "weights"}
    assert table["spearman_rho"].between(-1, 1).all()
    assert (table["max_score_change"] >= 0).all()
    # not cleaning the network strands 7 spaces again: the largest structural effect (measured)
    by = table.set_index("variant")["max_score_change"]
    assert by["network cleaning: none"] > by["aggregation: geometric"]
    # the nearest edge only (snap_tolerance_m = 0): Kluuvi -1.8 points, ranking unchanged (measured)
    snap = table.set_index("variant").loc[SNAP_VARIANT]
    assert snap["kind"] == "structural" and snap["spearman_rho"] == pytest.approx(1.0)
    assert 0.5 < snap["max_score_change"] < by["network cleaning: none"]


def test_snapping_variant_not_run_when_the_base_already_takes_the_nearest_edge(helsinki):
    params = dataclasses.replace(load_params(CohesionParams), snap_tolerance_m=0.0)
    result = score_districts(helsinki, params)
    assert SNAP_VARIANT not in set(result.sensitivity["variant"])
    assert "snapping (snap_tolerance_m is 0" in result.notes["sensitivity"]


def test_population_source_variant_reads_a_given_raster(helsinki, base, tmp_path):
    """``population_raster`` gives the variant: the districts scored with residents from it.

    The raster has the form of Statistics Finland's population grid (250 m cells in
    ETRS-TM35FIN, EPSG:3067), its counts from the Helsinki estimate: the study area keeps only
    the share of each edge cell inside it, and the residents spread evenly over each cell.
    """
    path = write_population_raster(helsinki.homes, tmp_path / "grid.tif", crs="EPSG:3067",
                                   cell_m=250.0)  # fmt: skip
    name, moved = other_population(helsinki, path)
    assert name == "population: raster grid.tif"
    assert moved is not None and moved.homes["home_id"].str.startswith("cell/").all()
    inside = float(moved.homes["population"].sum())
    assert 0.4 * 6313 < inside < 6313  # 3,430 of the estimate's 6,313: edge cells cut by area
    assert moved.homes["district_id"].notna().any() and moved.homes["in_study_area"].any()
    result = score_districts(helsinki, population_raster=path)
    by = result.sensitivity.set_index("variant")
    assert by.loc["population: raster grid.tif", "kind"] == "structural"
    assert by.loc["population: raster grid.tif", "max_score_change"] > 1.0  # measured 9.9
    assert (
        "3,430 residents in 28 cells over the area read, against the City's 6,313"
        in (result.notes["sensitivity"])
    )
    assert "population source" not in result.notes["sensitivity"].split("Not run:")[-1]
    pd.testing.assert_frame_equal(  # only the sensitivity run reads the raster
        result.districts.drop(columns=["rank", "rank_min", "rank_max"]),
        base.districts.drop(columns=["rank", "rank_min", "rank_max"]),
    )


def test_rank_ranges_with_ten_districts_or_more(helsinki):
    cells = grid_districts(helsinki.boundary, cell_m=250.0, crs=helsinki.crs)
    homes = assign_to_districts(helsinki.homes.drop(columns="district_id"), cells)
    city = dataclasses.replace(helsinki, districts=cells, homes=homes)
    result = score_districts(city)
    d = result.districts[result.districts["population"] > 0]
    assert len(d) >= 10
    assert (d["rank_min"] <= d["rank"]).all() and (d["rank"] <= d["rank_max"]).all()
    assert "Rank ranges are not reported" not in result.notes["sensitivity"]
    assert (d["rank_range_note"] == "").all()


def test_districts_csv_by_rank_whole_people_and_why_no_rank_range(base, helsinki, tmp_path):
    # planner review, defect 11: rows were not by rank (rank 3 first), Punavuori had 179.932
    # residents, and rank_min/rank_max were empty with the reason only in the summary JSON
    from cohesion_gis.export import write_scores

    write_scores(base, tmp_path, provenance=helsinki.provenance.as_dict())
    table = pd.read_csv(tmp_path / "cohesion_districts.csv", encoding="utf-8-sig", dtype=str)
    ranks = table["rank"].dropna().astype(int).tolist()
    assert ranks == sorted(ranks) and ranks[0] == 1
    assert table["population"].str.fullmatch(r"\d+").all()
    frame = base.districts.set_index("district_id")
    for row in table.itertuples():
        assert int(row.population) == round(frame.at[row.district_id, "population"])
    assert table["rank_min"].isna().all()
    assert table["rank_range_note"].str.startswith("rank range not reported: 6 scored").all()


def test_adding_a_park_never_lowers_any_homes_access(helsinki, base):
    # a 1 ha park beside the home with the worst green-space access
    worst = base.homes.sort_values("access_local_green").iloc[0]
    centre = worst.geometry.centroid
    park = gpd.GeoDataFrame(
        {
            "space_id": ["scenario/park"],
            "name": ["New park"],
            "space_type": ["park"],
            "area_m2": [10_000.0],
            "n_mapped_entrances": [0],
        },
        geometry=[box(centre.x + 20, centre.y - 50, centre.x + 120, centre.y + 50)],
        crs=helsinki.crs,
    )
    spaces = pd.concat([helsinki.contact_spaces, park], ignore_index=True)
    more = score_districts(dataclasses.replace(helsinki, contact_spaces=spaces), sensitivity=False)
    before = base.homes.set_index("home_id")["access"]
    after = more.homes.set_index("home_id")["access"]
    assert (after >= before - 1e-12).all()
    assert (after > before).any()


def test_no_contact_spaces_gives_zero_and_a_flag(helsinki):
    empty = helsinki.contact_spaces.iloc[:0]
    result = score_districts(dataclasses.replace(helsinki, contact_spaces=empty), sensitivity=False)
    assert (result.homes["access"] == 0).all()
    assert (result.homes["score"] == 0).all()
    assert (result.districts["flag"] == "no contact spaces in the study area").all()


def test_no_residents_is_an_error(helsinki):
    with pytest.raises(DataError, match="no residents"):
        score_districts(dataclasses.replace(helsinki, homes=helsinki.homes.iloc[:0]))


def test_district_without_residents_is_flagged_not_scored(helsinki):
    homes = helsinki.homes
    first = helsinki.districts["district_id"].iloc[0]
    result = score_districts(
        dataclasses.replace(helsinki, homes=homes[homes["district_id"] != first]),
        sensitivity=False,
    )
    row = result.districts.set_index("district_id").loc[first]
    assert row["population"] == 0 and np.isnan(row["score"])
    assert row["flag"] == "no residents: not scored"


def test_resident_groups_give_per_group_scores_and_the_gap_between_groups(helsinki):
    """Reference §3.5's gap: the best-served group's score minus the worst-served's, both named.

    By hand in Punavuori (9 homes): the smallest home is all newcomers, the other eight all
    long-term residents, so each group's score is its homes' population-weighted mean. Measured
    against the district mean instead (the old ``gap_<group>``), the long-term majority's gap
    shrank toward 0. A third group living only in Kallio is left out of the other districts.
    """
    homes = helsinki.homes.copy()
    long_term = np.linspace(0.1, 0.9, len(homes))
    in_punavuori = (homes["district_id"] == "relation/184703").to_numpy()
    newcomers = homes.index[in_punavuori][np.argmin(homes.loc[in_punavuori, "population"])]
    long_term[in_punavuori] = 1.0
    long_term[homes.index.get_loc(newcomers)] = 0.0
    in_kallio = (homes["district_id"] == "relation/184765").to_numpy()
    students = np.where(in_kallio, 0.2, 0.0)
    homes["pop_long_term"] = homes["population"] * long_term * (1 - students)
    homes["pop_new_arrival"] = homes["population"] * (1 - long_term) * (1 - students)
    homes["pop_student"] = homes["population"] * students
    result = score_districts(dataclasses.replace(helsinki, homes=homes), sensitivity=False)
    d = result.districts.set_index("name")
    scored = result.homes.loc[in_punavuori]
    new_score = float(scored.loc[newcomers, "score"])
    rest = scored.drop(index=newcomers)
    long_score = float(np.average(rest["score"], weights=rest["population"]))
    row = d.loc["Punavuori"]
    assert row["score_new_arrival"] == pytest.approx(new_score)
    assert row["score_long_term"] == pytest.approx(long_score)
    assert row["group_gap"] == pytest.approx(abs(new_score - long_score))
    high, low = (
        ("new_arrival", "long_term") if new_score > long_score else ("long_term", "new_arrival")
    )
    assert (row["group_gap_high"], row["group_gap_low"]) == (high, low)
    assert abs(row["score_long_term"] - row["score"]) < 0.5 * row["group_gap"]  # the old gap
    assert np.isnan(row["score_student"])  # no students in Punavuori: left out
    groups = d[["score_long_term", "score_new_arrival", "score_student"]]
    np.testing.assert_allclose(d["group_gap"], groups.max(axis=1) - groups.min(axis=1))
    assert d.loc["Kallio", "score_student"] > 0 and (d["group_gap"] > 0).all()
    assert (d["group_gap_high"] != d["group_gap_low"]).all()
    widest = d["group_gap"].idxmax()
    assert summary(result)["largest_group_gap"] == {
        "district": widest,
        "points": pytest.approx(d.loc[widest, "group_gap"]),
        "best_served": d.loc[widest, "group_gap_high"],
        "worst_served": d.loc[widest, "group_gap_low"],
    }
    assert "share_long_term" in result.spaces.columns
    assert result.homes["bridging"].between(0, 1).all()


def test_group_shares_per_district_cannot_show_gaps_and_say_so(helsinki):
    ids = sorted(helsinki.homes["district_id"].dropna().unique())
    share = pd.Series(np.linspace(0.2, 0.8, len(ids)), index=ids)
    homes = helsinki.homes.copy()
    homes["pop_a"] = homes["population"] * homes["district_id"].map(share)
    homes["pop_b"] = homes["population"] - homes["pop_a"]
    result = score_districts(dataclasses.replace(helsinki, homes=homes), sensitivity=False)
    d = result.districts
    assert d["group_gap"].isna().all() and (d["group_gap_low"] == "").all()
    assert d["score_a"].notna().all()  # the group-weighted scores are still reported
    assert summary(result)["largest_group_gap"] is None
    assert "largest_group_gap is null" in summary(result)["notes"]["summary"]
    assert d["flag"].str.contains("group gaps not measurable").all()


def test_same_inputs_same_outputs(helsinki, base):
    again = score_districts(helsinki)
    pd.testing.assert_frame_equal(
        base.districts.drop(columns="geometry"), again.districts.drop(columns="geometry")
    )
    pd.testing.assert_frame_equal(base.sensitivity, again.sensitivity)


def test_longer_thresholds_never_lower_access(helsinki, base):
    params = load_params(CohesionParams).scaled(1.25)
    longer = score_districts(helsinki, params, sensitivity=False)
    assert (longer.homes["access"].to_numpy() >= base.homes["access"].to_numpy() - 1e-12).all()


def test_spearman_matches_scipy_with_ties_and_missing_values():
    from scipy.stats import spearmanr

    from cohesion_gis.cohesion.score import _spearman

    a = pd.Series([1.0, 2.0, 2.0, 4.0, np.nan, 6.0, 7.0])
    b = pd.Series([2.0, 1.0, 3.0, 3.0, 5.0, np.nan, 6.0])
    keep = a.notna() & b.notna()
    assert _spearman(a, b) == pytest.approx(spearmanr(a[keep], b[keep]).statistic, rel=1e-12)


def test_scores_without_sensitivity_search_less_and_score_the_same(helsinki, base):
    params = load_params(CohesionParams)
    quick = score_districts(helsinki, params, sensitivity=False)
    columns = [*COMPONENTS, "severance", "score"]
    pd.testing.assert_frame_equal(quick.homes[columns], base.homes[columns], rtol=1e-12)
    radius = quick.spaces["search_radius_m"].to_numpy()
    np.testing.assert_allclose(base.spaces["search_radius_m"].to_numpy(), radius * 1.25)
    assert quick.sensitivity.empty and not base.sensitivity.empty


def test_sensitivity_scale_covers_every_variant():
    params = load_params(CohesionParams)
    assert params.sensitivity_scale == 1.25  # slow walking shrinks distances: not above 1.25
    faster = dataclasses.replace(params, sensitivity_slow_walk_speed_m_s=2.0)
    assert faster.sensitivity_scale == pytest.approx(2.0 / params.walk_speed_m_s)
    assert params.without_sensitivity().sensitivity_scale == 1.0


def test_edge_cut_share_by_hand_and_on_helsinki(base):
    """A 4 km street along y = 0 from x = 0 to 4,000 m, homes 10 m off it at x = 500 and 2,000.

    Clipped at both ends (the area read ends at the street's ends): the home at 500 m walks
    10 + 500 m to the clip, the one at 2,000 m 2,010 m, beyond the 1,200 m radius. With the
    area 100 m beyond every street (the data hull around a coast), nothing is cut, though a
    straight 1,200 m disk around either home would be 57-60 % outside it.
    """
    from cohesion_gis.cohesion.reach import reach
    from cohesion_gis.cohesion.score import edge_cut_share

    from .conftest import homes, network, spaces

    params = load_params(CohesionParams)
    nodes, edges = network(
        {i: (100.0 * i, 0.0) for i in range(41)}, [(i, i + 1) for i in range(40)]
    )
    r = reach(homes([(500.0, 10.0), (2000.0, 10.0)], [1.0, 1.0]), spaces([]), nodes, edges,
              params=params)  # fmt: skip
    clipped = box(0, -500, 4000, 500)
    assert edge_cut_share(r, (nodes, edges), clipped, params).tolist() == [1.0, 0.0]
    coast = box(-100, -100, 4100, 100)
    assert edge_cut_share(r, (nodes, edges), coast, params).tolist() == [0.0, 0.0]
    near = dataclasses.replace(params, edge_radius_m=505.0)  # 510 m walk: just beyond
    assert edge_cut_share(r, (nodes, edges), clipped, near).tolist() == [0.0, 0.0]
    # the 1.7 km² extract, clipped by its header box on every side: every home's walk reaches it
    d = base.districts
    assert (d["edge_cut_share"] == 1.0).all()
    assert d["flag"].str.contains("catchments cut by the data edge: 100% of its residents").all()


def test_decision_outputs_say_what_they_rest_on(base, helsinki):
    """share_meeting_* is of the scored residents; small districts and untagged categories are
    flagged. Punavuori's p10 and median come from 9 homes; Helsinki maps no district park
    (20 ha) and no youth centre, so their access is 0 by absence, not by distance."""
    d = base.districts.set_index("name")
    assert d.loc["Punavuori", "scored_homes"] == 9
    assert "p10 and median from 9 home(s), fewer than 10" in d.loc["Punavuori", "flag"]
    assert not d.drop("Punavuori")["flag"].str.contains("p10 and median from").any()
    untagged = "none tagged in the city: district green, youth centre"
    assert d["flag"].str.contains(untagged).all()
    assert (d["share_meeting_youth_centre"] == 0).all()
    # a third of Kruununhaka's homes off the network: they leave the denominator, not count 0
    homes = base.homes.copy()
    mine = np.flatnonzero(homes["district_id"].eq(d.loc["Kruununhaka", "district_id"]))[::3]
    measured = [c for c in homes if c.startswith("access") or c in COMPONENTS]
    homes.loc[homes.index[mine], [*measured, "score"]] = np.nan
    result = assemble_result(helsinki, homes, base.spaces, base.params).districts
    kept = homes.drop(index=homes.index[mine])
    kept = kept[kept["district_id"].eq(d.loc["Kruununhaka", "district_id"])]
    want = np.average(kept["access_sport"] >= 1.0 - 1e-12, weights=kept["population"])
    got = result.set_index("name").loc["Kruununhaka", "share_meeting_sport"]
    assert got == pytest.approx(want, rel=1e-12)
    assert 0.5 < got < 1.0


def test_weights_of_the_available_components_summing_to_zero_are_refused(base):
    # red-team review: bridging the only weight, without group data: every score NaN, silently
    with pytest.raises(ParameterError, match=r"available components \(access, diversity, capa"):
        composite(base.homes, {"access": 0.0, "diversity": 0.0, "bridging": 1.0, "capacity": 0.0})


def test_the_composite_never_switches_with_the_data(base, helsinki):
    """Diversity was left out of the composite when rho(access, diversity) > 0.9 in the run's own
    data, so a scenario pushing rho under 0.9 lowered homes it never touched (Malta 2018, rho
    0.91: 48 % of the homes by up to 10.6 points). The composite is now the parameters' alone:
    above 0.9 the note advises ``weights.diversity = 0``, a choice every run then shares."""
    homes = base.homes.assign(diversity=base.homes["access"])  # rho = 1
    more = homes.copy()
    more.loc[more.index[::3], "diversity"] = 1.0  # a scenario raising a third of the homes
    before = assemble_result(helsinki, homes, base.spaces, base.params)
    after = assemble_result(helsinki, more, base.spaces, base.params)
    assert "= 1.00 over" in before.notes["diversity"]
    assert "`weights.diversity = 0`" in before.notes["diversity"]
    assert "at most 0.9" in after.notes["diversity"]  # rho crossed the threshold
    gain = after.homes["score"] - before.homes["score"]
    assert (gain >= -1e-9).all()
    assert (gain > 0).sum() > 20
    # a city whose composite leaves diversity out (as advised) keeps it out in every run
    out = dataclasses.replace(base.params, weights={**base.params.weights, "diversity": 0.0})
    a = assemble_result(helsinki, homes, base.spaces, out)
    b = assemble_result(helsinki, more, base.spaces, out)
    np.testing.assert_array_equal(a.homes["score"], b.homes["score"])
    assert "left out of the composite (weights.diversity = 0)" in b.notes["diversity"]
    assert "shortfall_diversity" not in b.districts


def test_map_and_summary_page_read_the_decision_outputs(base):
    """Popups, tooltips and the summary page carry share_meeting_*, p10/median and shortfall.

    Helsinki has no group data: the map's header, bridging layer and popups and the summary
    page's footer say so in words (no bare "no data").
    """
    from cohesion_gis.maps import cohesion_map
    from cohesion_gis.maps.cohesion import district_popup, district_tooltip
    from cohesion_gis.maps.static import cohesion_caveats, weakest_rows

    kallio = base.districts.drop(columns="geometry").set_index("name").loc["Kallio"]
    row = {"name": "Kallio", **kallio.to_dict()}
    popup = html.unescape(district_popup(row))
    assert "Worst-served tenth / median home</th><td>51 / 62 of 100" in popup
    assert "by component</th><td>access 28.8, variety 12.1, room 0.0 (of 41.0)" in popup
    assert "local green 26 %, library 52 %, sport 80 %, square 100 %" in popup
    assert "Mixing of residents</th><td>not available (no resident-group data given)" in popup
    assert district_tooltip(row) == (
        "Kallio: score 59 of 100, worst-served tenth 51; most points lost on access"
    )
    page = cohesion_map(base.districts).get_root().render()
    assert "Mixing of residents (not available: no group data)" in page  # the layer's name
    assert "Mixing of residents: not available (no resident-group data given)" in page  # header
    assert "access 28.8, variety 12.1, room 0.0 (of 41.0)" in page
    rows = weakest_rows(base.districts)
    assert [r[0] for r in rows] == [
        "Kallio",
        "Kamppi",
        "Kaartinkaupunki",
        "Punavuori",
        "Kruununhaka",
    ]
    assert rows[0][1:] == [
        "59", "51 / 62", "access (29 points)", "playground, community centre, market: 0 %", "1,028"
    ]  # fmt: skip
    assert cohesion_caveats(base.districts) == [
        "Mixing of residents: not available (no resident-group data given): left out of the "
        "score, the other components re-weighted.",
        "No resident is within the standard walk of any: district green, youth centre (check "
        "that the map data are complete).",
    ]
