"""What a scenario changed, drawn on its map: every example scenario draws something."""

from pathlib import Path

import pytest

import cohesion_gis as cg
from cohesion_gis.maps import scenario_changes
from cohesion_gis.maps.scenario import INTERVENTION_STYLES
from cohesion_gis.scenario import apply, load_scenario

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"


@pytest.fixture(scope="module")
def city() -> cg.City:
    return cg.load_city()  # the embedded central-Helsinki extract (tests/maps has its own helsinki)


@pytest.mark.parametrize(
    ("stem", "kinds"),
    [
        ("car_park_to_park", {"new contact space"}),
        ("new_residents_kallio", {"more residents"}),
        ("pedestrianise_traffic_order", {"street given to people on foot"}),
        (
            "pedestrianise_physical_closure",
            {"street given to people on foot", "street closed to vehicles"},
        ),
        ("senaatintori_barriers", {"new barrier line", "street closed to vehicles"}),
    ],
)
def test_every_example_scenario_draws_its_intervention(city, stem, kinds):
    changes = scenario_changes(city, apply(city, load_scenario(SCENARIOS / f"{stem}.toml")))
    assert set(changes["change"]) == kinds
    assert set(changes["change"]) <= set(INTERVENTION_STYLES)
    assert changes.crs == city.crs and changes.geometry.notna().all()


def test_barrier_lines_say_their_ratings_plainly(city):
    scenario = load_scenario(SCENARIOS / "senaatintori_barriers.toml")
    lines = scenario_changes(city, apply(city, scenario)).query("change == 'new barrier line'")
    detail = lines["detail"].iloc[0]
    assert "a barrier tested against a 1.5 t car (M1) at 80 km/h head-on" in detail
    assert "7.2 t lorry (N2A) at 64 km/h" in detail  # every class rating on the same line


def test_residents_are_counted(city):
    scenario = load_scenario(SCENARIOS / "new_residents_kallio.toml")
    (row,) = scenario_changes(city, apply(city, scenario)).itertuples()
    assert row.detail.startswith("2,000 residents more in ")
