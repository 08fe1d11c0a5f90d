import dataclasses

import numpy as np
import pandas as pd
import pytest

from cohesion_gis import InputError
from cohesion_gis.cohesion import CohesionParams, score_districts
from cohesion_gis.cohesion.bridging import (
    SAME_SHARES_FLAG,
    bridging,
    entropy,
    group_columns,
    group_reason,
    same_shares_everywhere,
)
from cohesion_gis.cohesion.reach import reach
from cohesion_gis.params import load_params
from cohesion_gis.sources.population import group_shares

from .conftest import homes, spaces


def test_entropy_by_hand():
    assert entropy(np.array([0.5, 0.5])) == pytest.approx(np.log(2))
    assert entropy(np.array([1.0, 0.0])) == 0


def _two_communities():
    # group A at the west end, group B at the east end (2 km apart), equal populations
    h = homes([(0.0, 0.0), (100.0, 0.0), (1900.0, 0.0), (2000.0, 0.0)], [50.0] * 4)
    h["pop_a"] = [50.0, 50.0, 0.0, 0.0]
    h["pop_b"] = [0.0, 0.0, 50.0, 50.0]
    return h


def test_a_space_between_two_groups_bridges_and_one_inside_one_does_not(line):
    nodes, edges = line
    params = load_params(CohesionParams)
    s = spaces([("library", (50.0, 0.0), 0), ("library", (1000.0, 0.0), 0)])
    home, space = bridging(reach(_two_communities(), s, nodes, edges, params=params), params)
    # the west library (wide 1,200 m catchment) sees only group A
    assert space["bridging"].iloc[0] == pytest.approx(0.0)
    # the middle library is 900-1,000 m from both ends: equal shares -> as mixed as the city
    assert space["bridging"].iloc[1] == pytest.approx(1.0)
    assert space["share_a"].iloc[1] == pytest.approx(0.5)
    # the west home's value: the middle library (B = 1) at 1,000 m, credited as library access
    # is (full to 800 m, 0 at 1,200 m): 0.5, where e^(-4 * 1000 / 1200) = 0.04 gave almost nothing
    assert home.iloc[0] == pytest.approx((1200.0 - 1000.0) / (1200.0 - 800.0))


def test_simpson_is_the_absolute_variant(line):
    nodes, edges = line
    params = dataclasses.replace(load_params(CohesionParams), bridging_index="simpson")
    h = _two_communities()
    h["pop_a"] = [50.0, 50.0, 50.0, 0.0]  # the city is 3:1, not 1:1
    h["pop_b"] = [0.0, 0.0, 0.0, 50.0]
    s = spaces([("library", (1000.0, 0.0), 0)])
    _, space = bridging(reach(h, s, nodes, edges, params=params), params)
    p = space[["share_a", "share_b"]].iloc[0].to_numpy()
    assert space["bridging"].iloc[0] == pytest.approx((1 - (p**2).sum()) / (1 - 1 / 2))


def test_without_groups_bridging_is_not_available(line):
    nodes, edges = line
    params = load_params(CohesionParams)
    h = homes([(0.0, 0.0), (200.0, 0.0)], [100.0, 100.0], districts=["A", "B"])
    s = spaces([("square", (100.0, 0.0), 0)])
    home, space = bridging(reach(h, s, nodes, edges, params=params), params)
    # districts are never stand-in groups: NaN with the reason, not a proxy mix
    assert home.isna().all() and space["bridging"].isna().all()
    assert space["bridging_reason"].iloc[0].startswith("bridging not available")
    assert space["catchment_persons"].iloc[0] > 0


def test_no_space_reached_gives_zero_and_unreached_space_says_why(line):
    nodes, edges = line
    params = load_params(CohesionParams)
    h = _two_communities().iloc[:2]
    h["pop_a"], h["pop_b"] = [40.0, 50.0], [10.0, 0.0]
    s = spaces([("square", (1900.0, 0.0), 0)])
    home, space = bridging(reach(h, s, nodes, edges, params=params), params)
    assert home.iloc[0] == 0
    assert np.isnan(space["bridging"].iloc[0])
    assert space["bridging_reason"].iloc[0] == "no resident of known group within its catchment"


def test_a_home_without_groups_spreads_nothing(line):
    nodes, edges = line
    params = load_params(CohesionParams)
    s = spaces([("library", (50.0, 0.0), 0), ("library", (1000.0, 0.0), 0)])
    h = _two_communities()
    h.loc[1, ["pop_a", "pop_b"]] = np.nan  # e.g. outside every district
    h.loc[1, "district_id"] = None
    home, space = bridging(reach(h, s, nodes, edges, params=params), params)
    left_out = h.assign(population=[50.0, 0.0, 50.0, 50.0]).fillna({"pop_a": 0.0, "pop_b": 0.0})
    home_0, space_0 = bridging(reach(left_out, s, nodes, edges, params=params), params)
    assert np.isfinite(home).all() and np.isfinite(space["bridging"]).all()
    np.testing.assert_allclose(home, home_0)
    np.testing.assert_allclose(space["bridging"], space_0["bridging"])
    assert space["catchment_unknown_persons"].iloc[0] > 0


def test_a_home_with_negative_group_counts_is_flagged_and_spreads_nothing(line):
    """Bad input (issue 12): negative counts get a reason, and the mixes are as if it had none."""
    nodes, edges = line
    params = load_params(CohesionParams)
    s = spaces([("library", (50.0, 0.0), 0), ("library", (1000.0, 0.0), 0)])
    h = _two_communities()
    h.loc[1, ["pop_a", "pop_b"]] = [-5.0, 55.0]
    home, space = bridging(reach(h, s, nodes, edges, params=params), params)
    assert list(group_reason(h)) == [
        "", "negative group counts: left out of every space's mix", "", ""
    ]  # fmt: skip
    left_out = h.assign(population=[50.0, 0.0, 50.0, 50.0])
    left_out.loc[1, ["pop_a", "pop_b"]] = 0.0
    home_0, space_0 = bridging(reach(left_out, s, nodes, edges, params=params), params)
    assert np.isfinite(home).all() and np.isfinite(space["bridging"]).all()
    np.testing.assert_allclose(home, home_0)
    np.testing.assert_allclose(space["bridging"], space_0["bridging"])
    assert space["catchment_unknown_persons"].iloc[0] > 0


@pytest.fixture(scope="module")
def helsinki_groups(helsinki):
    """Helsinki with made-up per-home group counts (only to exercise the arithmetic)."""
    homes = helsinki.homes.copy()
    share = np.random.default_rng(7).uniform(0.05, 0.95, len(homes))
    homes["pop_long_term"] = homes["population"] * share
    homes["pop_new_arrival"] = homes["population"] * (1 - share)
    return dataclasses.replace(helsinki, homes=homes)


def test_one_home_outside_every_district_does_not_wipe_the_city(helsinki_groups):
    base = score_districts(helsinki_groups, sensitivity=False)
    homes = helsinki_groups.homes.copy()
    homes.loc[0, ["pop_long_term", "pop_new_arrival", "district_id"]] = [np.nan, np.nan, None]
    result = score_districts(dataclasses.replace(helsinki_groups, homes=homes), sensitivity=False)
    assert result.homes["bridging"].notna().all()
    assert result.spaces["bridging"].notna().all()
    assert result.homes.loc[0, "group_reason"].startswith("outside every district")
    assert "1 homes" in result.notes["bridging"]
    # every district keeps its score within a point (one home of 94 left out of the mixes)
    change = (result.districts["score"] - base.districts["score"]).abs()
    assert change.max() < 1.0
    # only the mixes can move: no other component of any home changes
    columns = ["access", "diversity", "capacity", "severance"]
    pd.testing.assert_frame_equal(result.homes[columns], base.homes[columns])


def test_helsinki_without_groups_says_so_everywhere(helsinki):
    result = score_districts(helsinki, sensitivity=False)
    assert result.homes["bridging"].isna().all()
    assert result.districts["bridging"].isna().all()
    assert result.districts["score"].notna().all()
    assert result.districts["flag"].str.contains("bridging not available").all()
    assert result.notes["bridging"].startswith("bridging not available")
    assert "re-scaled" in result.notes["bridging"]
    w = result.params.weights
    homes = result.homes
    expected = (
        100 * (w["access"] * homes["access"] + w["diversity"] * homes["diversity"]
               + w["capacity"] * homes["capacity"])
        / (w["access"] + w["diversity"] + w["capacity"])
    )  # fmt: skip
    np.testing.assert_allclose(homes["score"], expected)


@pytest.mark.parametrize(
    ("rows", "match"),
    [
        ({"district_id": ["nowhere"], "a": [0.5], "b": [0.5]}, "unknown district_id"),
        ({"a": [0.7], "b": [0.7]}, "do not sum to 1"),
        ({"a": [-0.5], "b": [1.5]}, "outside"),
        ({"a": [np.nan], "b": [np.nan]}, "missing or not numbers"),
    ],
)
def test_bad_group_tables_are_refused_with_the_rows_named(helsinki, rows, match):
    ids = sorted(helsinki.homes["district_id"].dropna().unique())
    table = pd.DataFrame({"district_id": ids, "a": 0.5, "b": 0.5})
    bad = pd.DataFrame(rows)
    if "district_id" not in bad:
        table.loc[0, list(bad.columns)] = bad.iloc[0].to_numpy()
    else:
        table = pd.concat([table, bad], ignore_index=True)
    with pytest.raises(InputError, match=match):
        group_shares(helsinki.homes, table, known_keys=helsinki.districts["district_id"])


def test_sensitivity_with_groups_varies_the_group_definition(helsinki):
    homes = helsinki.homes.copy()
    shares = np.random.default_rng(3).dirichlet([1.0, 1.0, 1.0], len(homes))
    for k, name in enumerate(["fi", "sv", "other"]):
        homes[f"pop_{name}"] = homes["population"] * shares[:, k]
    result = score_districts(dataclasses.replace(helsinki, homes=homes))
    table = result.sensitivity.set_index("variant")
    largest = max(["fi", "sv", "other"], key=lambda g: homes[f"pop_{g}"].sum())
    assert {"bridging index: simpson", f"groups: {largest} vs the rest"} <= set(table.index)
    assert (table.loc[["bridging index: simpson"], "kind"] == "structural").all()
    assert "group definition" not in result.notes["sensitivity"]


def test_a_mixed_space_within_its_standard_distance_gives_full_credit(helsinki_groups):
    from cohesion_gis.cohesion.bridging import standard_distances_m
    from cohesion_gis.cohesion.score import distance_tables, walk_networks

    params = load_params(CohesionParams)
    result = score_districts(helsinki_groups, params, sensitivity=False)
    networks = walk_networks(helsinki_groups, params)
    table = distance_tables(helsinki_groups, networks, params, sensitivity=False)[0]
    d_full, _ = standard_distances_m(table.spaces, params)
    home, space, dist = table.columns()
    b_s = result.spaces["bridging"].to_numpy()
    got = result.homes["bridging"].to_numpy()
    within = dist <= d_full[space]
    assert within.sum() > 1000
    # every home gets the full mix of each space within its standard distance (before: a park
    # 200 m away credited e^(-4 * 200 / 800) = 0.37 of its mix)
    assert (got[home[within]] >= b_s[space[within]] - 1e-12).all()
    # and never more than the best mix it reaches
    best = pd.Series(b_s[space]).groupby(home).max()
    assert (got[best.index] <= best.to_numpy() + 1e-12).all()


def test_the_same_group_shares_everywhere_are_flagged_not_trusted(helsinki, helsinki_groups):
    """National shares given to every home: every space draws the city's mix (review, 9)."""
    homes = helsinki.homes.copy()
    homes["pop_long_term"] = homes["population"] * 0.7
    homes["pop_new_arrival"] = homes["population"] * 0.3
    same = score_districts(dataclasses.replace(helsinki, homes=homes), sensitivity=False)
    scored = same.districts["population"] > 0
    assert same.districts.loc[scored, "flag"].str.contains(SAME_SHARES_FLAG, regex=False).all()
    assert same.districts.loc[scored, "bridging"].gt(0.99).all()  # full marks: says nothing
    assert "Read with care" in same.notes["bridging"]
    assert same_shares_everywhere(group_columns(homes))
    assert not same_shares_everywhere(group_columns(helsinki_groups.homes))
    # the maps' header and the summary page say it, from the districts table alone
    from cohesion_gis.maps.cohesion import same_shares_caveat

    assert same_shares_caveat(same.districts).startswith("Mixing of residents tells districts")
    varied = score_districts(helsinki_groups, sensitivity=False)
    assert same_shares_caveat(varied.districts) is None
