import pytest

from cohesion_gis.errors import InputError
from cohesion_gis.maps import scenario_map, score_change


def test_score_change_by_district(helsinki, scenario_districts):
    change = score_change(helsinki.districts, scenario_districts).set_index("district_id")
    assert change.loc["d03", "score_change"] == pytest.approx(12.0)
    assert change.loc["d07", "score_change"] == pytest.approx(-4.0)
    assert (change.drop(index=["d03", "d07"])["score_change"] == 0).all()
    assert "score_change" not in scenario_districts  # argument untouched


def test_score_change_needs_the_same_districts(helsinki, scenario_districts):
    with pytest.raises(InputError, match=r"only in base: \['d01'\]"):
        score_change(helsinki.districts, scenario_districts.iloc[1:])


def test_scenario_map_is_two_maps_with_the_change_layer(helsinki, scenario_districts):
    dual = scenario_map(helsinki.districts, scenario_districts, scenario_name="New park")
    page = dual.get_root().render()
    assert page.count("L.map(") == 2
    assert '"Cohesion score today"' in page and '"Change in score"' in page
    assert '"Cohesion score with the scenario"' in page
    assert "<title>Scenario: New park</title>" in page
    assert "+12.0 points" in page and "-4.0 points" in page
