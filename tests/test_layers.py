"""Feature layers classified from OSM (``layers``): the real places of the embedded Helsinki."""

from __future__ import annotations


def test_helsinki_layers_have_the_real_places(helsinki):
    spaces, sites = helsinki.contact_spaces, helsinki.sites
    kinds = sites["kind"].value_counts()
    assert kinds["place_of_worship"] == 8  # reference data.md: 8 places of worship
    assert kinds["theatre"] == 8
    assert kinds["cinema"] == 4
    assert kinds["nightclub"] == 8
    assert spaces["space_type"].value_counts()["park"] in (15, 16)  # pyrosm 15 + 1 relation
    assert spaces["space_type"].value_counts()["playground"] == 5
    # 7 libraries, minus the National Library's node 25 m from its own building polygon
    assert spaces["space_type"].value_counts()["library"] == 6
    assert (spaces["name"] == "Kansalliskirjasto").sum() == 1
    bollards = helsinki.barriers["barrier_kind"].eq("bollard").sum()
    assert 180 <= bollards <= 186  # 186 raw, 182 via pyrosm
    names = set(sites["name"].dropna())
    assert {"Senaatintori", "Rautatientori", "Narinkkatori"} <= names
    cathedral = sites.loc[sites["name"].fillna("").str.contains("tuomiokirkko", case=False)]
    assert len(cathedral) == 1 and cathedral["kind"].iloc[0] == "place_of_worship"
    assert (spaces.loc[spaces.geom_type != "Point", "area_m2"] > 0).all()
    senate = sites.loc[sites["name"].eq("Senaatintori")]
    assert 5_000 < senate["area_m2"].iloc[0] < 12_000


def test_parking_and_landuse_layers(helsinki):
    assert len(helsinki.parking) > 10
    assert (helsinki.parking.loc[helsinki.parking.geom_type != "Point", "area_m2"] > 0).all()
    landuse = helsinki.landuse["landuse"].value_counts()
    assert landuse["residential"] >= 20 and landuse["commercial"] >= 40
