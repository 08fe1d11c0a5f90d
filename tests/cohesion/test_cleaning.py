"""Network cleaning on real Helsinki: spaces stranded on path fragments are reached again."""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from cohesion_gis.cohesion import CohesionParams, score_districts
from cohesion_gis.cohesion.cleaning import clean_network
from cohesion_gis.cohesion.severance import barrier_aware_network
from cohesion_gis.params import load_params

#: Spaces whose mapped paths are isolated pieces (footway rings) in the extract.
STRANDED = ["Makasiinipuisto"]
#: Spaces whose indoor corridors are isolated pieces: entered from the street (indoor ways are
#: never entry edges, taxonomy network.entry_excluded), so reached cleaned or not.
INDOOR = ["Oodi", "Vanha Kauppahalli"]
#: The Kaisa library (a point) is within 6 m (snap_tolerance_m) of a street as well as of its
#: indoor corridor, a fragment: it enters the network through both, cleaned or not.
KAISA = "Helsingin yliopiston pääkirjasto"


@pytest.fixture(scope="module")
def cleaned(helsinki):
    return score_districts(helsinki, sensitivity=False)


@pytest.fixture(scope="module")
def uncleaned(helsinki):
    params = dataclasses.replace(load_params(CohesionParams), network_cleaning="none")
    return score_districts(helsinki, params, sensitivity=False)


def _row(spaces, name):
    rows = spaces[spaces["name"].fillna("").str.contains(name, regex=False)]
    assert len(rows) == 1, name
    return rows.iloc[0]


def test_the_fragments_are_dropped_and_counted(helsinki):
    out = clean_network(helsinki.walk_nodes, helsinki.walk_edges)
    assert out.n_components == 47  # measured on the April 2019 extract
    assert out.dropped_edges == 149
    assert len(out.edges) == len(helsinki.walk_edges) - 149
    assert set(out.edges["u"]) | set(out.edges["v"]) <= set(out.nodes.index)
    # the largest fragment has 33 nodes (208 m): only the main piece is over 100 nodes (5,673
    # before the underground delivery tunnels were left out of the walk network)
    assert out.piece_nodes.tolist() == [5508]
    assert (out.edge_piece == 0).all()
    assert "46 pieces" in out.describe()
    largest = clean_network(helsinki.walk_nodes, helsinki.walk_edges, rule="largest_component")
    assert largest.dropped_edges == out.dropped_edges
    # cleaning twice changes nothing
    again = clean_network(out.nodes, out.edges)
    assert again.n_components == 1 and again.dropped_edges == 0


def test_twin_positions_follow_the_kept_edges(helsinki):
    nodes, edges = barrier_aware_network(helsinki.walk_nodes, helsinki.walk_edges)
    out = clean_network(nodes, edges)
    twin = out.edges["twin"].to_numpy()
    has = np.flatnonzero(twin >= 0)
    assert has.size > 0
    # each copy's twin points back to it and is a copy of the same OSM way
    assert (twin[twin[has]] == has).all()
    assert (out.edges["osm_id"].to_numpy()[twin[has]] == out.edges["osm_id"].to_numpy()[has]).all()


@pytest.mark.parametrize("name", STRANDED)
def test_stranded_spaces_are_reached_after_cleaning(cleaned, uncleaned, name):
    before, after = _row(uncleaned.spaces, name), _row(cleaned.spaces, name)
    assert before["reached_by_persons"] == 0
    assert before["unreached_reason"].startswith("no home within")
    assert after["reached_by_persons"] > 500  # Makasiinipuisto: 672 residents
    assert after["unreached_reason"] == ""


@pytest.mark.parametrize("name", INDOOR)
def test_a_space_with_indoor_corridors_is_entered_from_the_street(cleaned, uncleaned, name):
    # on main before the entry rule its entrances sat on its corridors, a fragment: reached by
    # nobody unless the network was cleaned
    for result in (uncleaned, cleaned):
        assert _row(result.spaces, name)["reached_by_persons"] > 1000


def test_a_space_beside_a_fragment_and_a_street_enters_through_both(cleaned, uncleaned):
    assert _row(uncleaned.spaces, KAISA)["reached_by_persons"] > 1000
    assert _row(cleaned.spaces, KAISA)["reached_by_persons"] > 1000


def test_every_space_reached_by_no_home_says_why(cleaned, uncleaned):
    for result in (cleaned, uncleaned):
        spaces = result.spaces
        nobody = spaces["reached_by_persons"] <= 0
        assert (spaces.loc[nobody, "unreached_reason"] != "").all()
        assert (spaces.loc[~nobody, "unreached_reason"] == "").all()
    # 4 with the April 2019 extract and its estimated homes: Makasiinipuisto, Kaivopiha,
    # Tekla Hultinin aukio and a small park (Oodi, Topelia and Vanha Kauppahalli were too before
    # indoor ways stopped being entry edges)
    assert (uncleaned.spaces["reached_by_persons"] <= 0).sum() >= len(STRANDED)
    assert (cleaned.spaces["reached_by_persons"] <= 0).sum() == 0
    assert "pieces of fewer than 100 nodes dropped" in cleaned.notes["network"]
    assert "not cleaned" in uncleaned.notes["network"]


def test_market_access_is_no_longer_zero_for_everyone(cleaned, uncleaned):
    # Vanha Kauppahalli, the only market: 0 for everyone while it was entered by its corridors
    assert (cleaned.homes["access_market"] > 0).mean() > 0.5
    assert (uncleaned.homes["access_market"] > 0).mean() > 0.5


def test_a_space_with_no_edge_in_reach_says_so(helsinki, cleaned):
    """Bad input (issue 12): a flagged row, and no component of any home changes."""
    far = helsinki.contact_spaces.iloc[:1].copy()
    far["geometry"] = far.geometry.translate(5000, 5000)
    far["space_id"] = "test/far"
    spaces = pd.concat([helsinki.contact_spaces, far], ignore_index=True)
    city = dataclasses.replace(helsinki, contact_spaces=spaces)
    result = score_districts(city, sensitivity=False)
    row = result.spaces.set_index("space_id").loc["test/far"]
    assert row["n_entrances"] == 0
    assert row["unreached_reason"].startswith("no entrance")
    columns = ["access", "diversity", "capacity", "severance", "score"]
    pd.testing.assert_frame_equal(result.homes[columns], cleaned.homes[columns])
