"""Islands on real Malta: Gozo and Comino are scored on their own walk network, not set to 0.

Malta's walk network has three pieces of more than 100 nodes that no path joins: Malta, Gozo
and Comino (the ferries are not walkable). Keeping only the largest piece scored the 14 Gozo
councils (about 42,000 residents with Comino) 0 and counted their homes as served by nothing.
"""

from __future__ import annotations

import numpy as np
import pytest

from cohesion_gis.cohesion import score_districts

#: Gozo local councils (OSM relations): Ir-Rabat (Victoria), Għajnsielem, Ix-Xagħra.
GOZO = ["relation/7508583", "relation/6311965", "relation/7508585"]


@pytest.fixture(scope="module")
def scored(malta):
    return score_districts(malta, sensitivity=False)


def test_gozo_councils_are_scored_on_their_island(scored):
    districts = scored.districts.set_index("district_id")
    for council in GOZO:
        row = districts.loc[council]
        assert row["score"] > 0, row["name"]
        assert row["access"] > 0, row["name"]
        assert row["island_persons"] > 0.9 * row["population"], row["name"]
        assert "island:" in row["flag"], row["name"]
    homes = scored.homes
    # Gozo's homes are on islands (Gozo's main piece, 92 %, and a second piece of 1,481 nodes
    # in the 2018 extract), never on the main island's network
    gozo = homes["district_id"].isin(GOZO)
    assert (homes.loc[gozo & homes["score"].notna(), "network_piece"] >= 1).all()
    # the main island is not flagged
    assert districts.loc[districts["island_persons"] == 0, "flag"].str.contains("island").sum() == 0
    assert "3 island(s)" in scored.notes["network"]
    assert "residents live on the islands" in scored.notes["network"]


def test_homes_off_the_network_are_left_out_with_a_reason(scored):
    homes, districts = scored.homes, scored.districts
    off = homes["snap_m"].isna()
    assert off.sum() > 0  # farmhouses more than 100 m from any mapped way
    for column in ("access", "diversity", "capacity", "score", "severance"):
        assert homes.loc[off, column].isna().all(), column
        assert homes.loc[~off, column].notna().all(), column
    assert (homes.loc[off, "unscored_reason"].str.startswith("no walk network within 100 m")).all()
    assert (homes.loc[~off, "unscored_reason"] == "").all()
    # district means skip them and say how many residents were left out
    per_district = homes.loc[off].groupby("district_id")["population"].sum()
    left = districts.set_index("district_id")["unscored_persons"]
    np.testing.assert_allclose(left.reindex(per_district.index), per_district, rtol=1e-9)
    assert left.drop(per_district.index, errors="ignore").eq(0).all()
    assert f"{int(off.sum())} homes" in scored.notes["network"]
    scored_homes = homes.loc[~off]
    for district_id, row in districts.set_index("district_id").iterrows():
        mine = scored_homes[scored_homes["district_id"] == district_id]
        if mine["population"].sum() > 0:
            mean = np.average(mine["score"], weights=mine["population"])
            assert row["score"] == pytest.approx(mean, rel=1e-9), district_id


def test_diversity_collinear_with_access_is_advised_out_not_switched(scored, helsinki):
    # Malta 2018: Spearman rho(access, diversity) = 0.91 over the homes (reference §3.4 D: drop D
    # above 0.9). The note advises weights.diversity = 0; the composite keeps the parameters'
    # weights (access, diversity, capacity without group data) so no scenario can switch it
    note = scored.notes["diversity"]
    assert "rho(access, diversity) = 0.91" in note and "`weights.diversity = 0`" in note
    homes = scored.homes.dropna(subset=["score"])
    expected = (
        100 * (0.35 * homes["access"] + 0.15 * homes["diversity"] + 0.15 * homes["capacity"]) / 0.65
    )
    np.testing.assert_allclose(homes["score"], expected, rtol=1e-12)
    assert "shortfall_diversity" in scored.districts
    # Helsinki: rho 0.67 (0.65 before tunnels were left out of snapping), nothing to advise
    kept = score_districts(helsinki, sensitivity=False)
    note = kept.notes["diversity"]
    assert "= 0.67" in note and "diversity adds to access" in note
    assert "shortfall_diversity" in kept.districts


def test_the_sea_is_no_data_edge(scored):
    # the straight 1,200 m disk counted the sea as missing data: Ix-Xgħajra was flagged 25 %,
    # Tas-Sliema 24 %, though Malta is read whole; no street reaches the edge of the data read
    districts = scored.districts
    assert (districts["edge_cut_share"] == 0.0).all()
    assert not districts["flag"].str.contains("cut by the data edge").any()
