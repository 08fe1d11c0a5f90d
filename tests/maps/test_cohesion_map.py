import pytest

from cohesion_gis.errors import InputError
from cohesion_gis.maps import cohesion_map
from cohesion_gis.maps.cohesion import COMPONENTS, district_popup

EVIL = "<script>alert(1)</script>"


def test_cohesion_map_layers_and_escaping(helsinki):
    m = cohesion_map(
        helsinki.districts,
        homes=helsinki.homes,
        spaces=helsinki.spaces,
        streets=helsinki.streets,
        buildings=helsinki.buildings,
    )
    page = m.get_root().render()
    for name in ("Cohesion score (0\\u2013100)", "Contact spaces", "Homes (dot size = residents)"):
        assert f'"{name}"' in page
    for comp in COMPONENTS:
        assert f'"{comp.label}"' in page
    assert EVIL not in page  # only the escaped form travels
    assert "\\u0026lt;script\\u0026gt;alert(1)" in page


def test_district_popup_speaks_plain_words():
    row = {
        "name": "Kamppi",
        "population": 12345,
        "score": 61.6,
        "access": 0.62,
        "diversity": 0.5,
        "bridging": 0.7,
        "capacity": 0.8,
        "severance": 0.1,
    }
    out = district_popup(row)
    assert "Access to contact spaces</th><td>0.62 of the standard (1 = every type" in out
    assert "62 of 100" in out and "12,345 people" in out
    for raw in ("severance", "bridging", "population"):
        assert raw not in out


def test_missing_district_columns_are_listed(helsinki):
    with pytest.raises(InputError, match=r"districts: columns \['bridging', 'score'\] are missing"):
        cohesion_map(helsinki.districts.drop(columns=["bridging", "score"]))


def test_district_popup_gives_the_decision_outputs():
    row = {
        "name": "Kallio", "population": 1028, "score": 58.0, "access": 0.45,
        "diversity": 0.46, "bridging": float("nan"), "capacity": 1.0, "severance": 0.0,
        "p10_score": 50.1, "median_score": 61.4, "main_shortfall": "access",
        "flag": "bridging not available (no resident-group data)",
    }  # fmt: skip
    out = district_popup(row)
    assert "Worst-served tenth / median home</th><td>50 / 61 of 100" in out
    assert "Main reason the score is below 100</th><td>access" in out
    assert "Read with care</th><td>bridging not available (no resident-group data)" in out


def test_districts_cut_by_the_data_edge_are_said_so(helsinki):
    # the summary listed Punavuori with 180 residents (the whole district holds about 9,000):
    # neither map nor page said the extract cuts it
    from cohesion_gis.maps.static import cohesion_caveats

    cut = helsinki.districts.assign(clipped=[k < 2 for k in range(len(helsinki.districts))])
    names = ", ".join(cut["name"].astype(str).iloc[:2])
    page = cohesion_map(cut).get_root().render()
    assert f"Cut by the edge of the data: {names} (their scores and residents" in page
    assert any(line.startswith("Cut by the edge of the data") for line in cohesion_caveats(cut))
    every = cohesion_caveats(helsinki.districts.assign(clipped=True))
    assert f"All {len(cut)} districts are cut by the edge of the data" in " ".join(every)
    assert "edge of the data" not in cohesion_map(helsinki.districts).get_root().render()


def test_the_same_group_shares_everywhere_are_said_on_the_map_and_the_page(helsinki):
    # national shares in every quartier lifted each score 10-22 points, unflagged (review, 9)
    from cohesion_gis.cohesion.bridging import SAME_SHARES_FLAG
    from cohesion_gis.maps.static import cohesion_caveats

    same = helsinki.districts.assign(flag=f"a component below 0.2; {SAME_SHARES_FLAG}")
    page = cohesion_map(same).get_root().render()
    assert "Mixing of residents tells districts nothing here: the group data give" in page
    assert "(the same in every district: sets none apart)" in page
    assert any(line.startswith("Mixing of residents tells") for line in cohesion_caveats(same))
    assert "tells districts nothing" not in cohesion_map(helsinki.districts).get_root().render()
