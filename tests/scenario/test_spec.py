"""Scenario files (``scenario.spec``): schema validation, then references checked with the City."""

from __future__ import annotations

from pathlib import Path

import pytest

import cohesion_gis as cg
from cohesion_gis.scenario import check_scenario, load_scenario

from .conftest import SCENARIOS, one, write

# --- stage 1: the file alone ---------------------------------------------------------------


def test_examples_load() -> None:
    names = {load_scenario(p).name for p in SCENARIOS.glob("*.toml")}
    assert {"car_park_to_park", "pedestrianise_traffic_order", "pedestrianise_physical_closure",
            "new_residents_kallio", "senaatintori_barriers"} <= names  # fmt: skip


def test_every_problem_in_one_error(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        name = "bad"
        colour = "red"
        [[interventions]]
        type = "add_bariers"
        [[interventions]]
        type = "add_barrier"
        geometry = "LINESTRING (24.95 60.17, 24.96 60.17)"
        rating = "V/7200[N2A]/480/90"
        height = 1
        [[interventions]]
        type = "add_residents"
        count = "many"
        district = "Kallio"
        [[interventions]]
        type = "pedestrianise"
        name = "Yliopistonkatu"
        mode = "closed"
        [[interventions]]
        type = "close_road"
        geometry = "LINESTRING (2495000 6670000, 2496000 6670000)"
        """,
    )
    with pytest.raises(cg.ScenarioError) as info:
        load_scenario(path)
    text = str(info.value)
    assert str(path) in text and "7 problems" in text
    assert "unknown top-level key 'colour'" in text
    assert (
        "interventions[0]: unknown intervention type 'add_bariers'; did you mean 'add_barrier'"
        in text
    )
    assert "interventions[1] (add_barrier): 'rating' is not a valid rating" in text
    assert "interventions[1] (add_barrier): unknown key 'height'" in text
    assert (
        "interventions[2] (add_residents): 'count' = 'many'; expected a whole number between 0 "
        "and 1,000,000 residents" in text
    )
    assert "\n" not in text  # one line for the command line
    assert "'mode' must be one of traffic_order, physical_closure" in text
    assert "not longitude/latitude" in text


def test_selector_and_file_problems(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        [[interventions]]
        type = "remove_barrier"
        [[interventions]]
        type = "remove_contact_space"
        id = "way/1"
        name = "x"
        [[interventions]]
        type = "add_contact_space"
        space_type = "park"
        file = "layers/missing.geojson"
        [[interventions]]
        type = "add_residents"
        count = 10
        district = "Kallio"
        groups = { new_arrival = 0.5, long_term = 0.4 }
        """,
    )
    with pytest.raises(cg.ScenarioError, match="4 problems") as info:
        load_scenario(path)
    text = str(info.value)
    assert "give exactly one of id, name, geometry, file" in text
    assert "(got id, name)" in text
    assert "file 'layers/missing.geojson' not found" in text
    assert "shares must sum to 1, got 0.9" in text


def test_missing_and_broken_file(tmp_path: Path) -> None:
    with pytest.raises(cg.ScenarioError, match="does not exist"):
        load_scenario(tmp_path / "nope.toml")
    with pytest.raises(cg.ScenarioError, match="not valid TOML"):
        load_scenario(write(tmp_path, "name = "))


def test_parameter_overrides(tmp_path: Path) -> None:
    ok = load_scenario(write(tmp_path, "[parameters.cohesion]\nwalk_speed_m_s = 1.1\n"))
    assert ok.cohesion_params().walk_speed_m_s == 1.1
    with pytest.raises(cg.ScenarioError, match="unknown key `walk_speed`"):
        load_scenario(write(tmp_path, "[parameters.cohesion]\nwalk_speed = 1.1\n"))
    with pytest.raises(cg.ScenarioError, match=r"\[parameters.hvm\]: unknown key"):
        load_scenario(write(tmp_path, "[parameters.hvm]\nmu = 1.0\n"))


@pytest.mark.parametrize(
    ("entry", "match"),
    [
        # issue 15: inf residents made every score NaN (headline "+0.00"); 1e15 loaded silently
        (
            'type = "add_residents"\ncount = inf\ndistrict = "Kallio"',
            r"interventions\[0\] \(add_residents\): 'count' = inf; expected a whole number "
            r"between 0 and 1,000,000 residents",
        ),
        (
            'type = "add_residents"\ncount = 1e15\ndistrict = "Kallio"',
            r"'count' = 1000000000000000.0",
        ),
        ('type = "add_residents"\ncount = nan\ndistrict = "Kallio"', r"'count' = nan"),
        ('type = "add_residents"\ncount = 12.5\ndistrict = "Kallio"', r"'count' = 12.5; .*whole"),
        (
            'type = "move_residents"\ncount = inf\nfrom = { district = "Kamppi" }\n'
            'to = { district = "Kallio" }',
            r"\(move_residents\): 'count' = inf",
        ),
        (
            'type = "pedestrianise"\nname = "Yliopistonkatu"\nmode = "traffic_order"\n'
            "width_m = inf",
            r"\(pedestrianise\): 'width_m' = inf; expected a finite number greater than 0 and "
            r"at most 150 m",
        ),
        (
            'type = "pedestrianise"\nname = "Yliopistonkatu"\nmode = "traffic_order"\nwidth_m = 0',
            r"'width_m' = 0; expected",
        ),
        (
            'type = "change_site_capacity"\nname = "Senaatintori"\ncapacity_persons = 1e12',
            r"'capacity_persons' = 1000000000000.0; .* between 0 and 1,000,000 persons",
        ),
        (
            'type = "add_residents"\ncount = 10\ndistrict = "Kallio"\n'
            "groups = { a = nan, b = 1.0 }",
            r"'groups' must be a table of group = share",
        ),
    ],
)
def test_non_finite_and_absurd_numbers_are_refused(tmp_path: Path, entry: str, match: str) -> None:
    with pytest.raises(cg.ScenarioError, match=match) as info:
        one(tmp_path, entry)
    assert str(info.value).startswith(str(tmp_path / "s.toml")) and "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("header", "match"),
    [
        # issue 15: a parameter `access = nan` made every score 0
        ("[parameters.cohesion.weights]\naccess = nan", r"field `weights.access` = nan"),
        ("[parameters.cohesion]\nwalk_speed_m_s = inf", r"field `walk_speed_m_s` = inf"),
        # a string used to fail with "'<' not supported between instances of 'int' and 'str'"
        ("[parameters.hvm]\nfriction_mu = 'high'", r"field `friction_mu` = 'high'; expected a"),
        ("[parameters.hvm]\nsearch_horizon_m = 1e12", r"`search_horizon_m` = 1000000000000.0"),
        (
            "[base]\nbbox = [24.9, 60.1, 25.0, inf]",
            r"field `base.bbox` = \[24.9, 60.1, 25.0, inf\]",
        ),
        ("[base]\nbbox = [25.0, 60.1, 24.9, 60.2]", r"expected west < east and south < north"),
    ],
)
def test_bad_parameters_and_base_are_named(tmp_path: Path, header: str, match: str) -> None:
    with pytest.raises(cg.ScenarioError, match=match) as info:
        load_scenario(write(tmp_path, header + "\n"))
    assert "\n" not in str(info.value)


def test_parameter_and_intervention_problems_in_one_message(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "[parameters.cohesion.weights]\naccess = nan\n[[interventions]]\n"
        'type = "add_residents"\ncount = inf\ndistrict = "Kallio"\n',
    )
    with pytest.raises(cg.ScenarioError, match="2 problems") as info:
        load_scenario(path)
    assert "`weights.access` = nan" in str(info.value) and "'count' = inf" in str(info.value)


def test_interventions_built_in_code_are_checked_too() -> None:
    from cohesion_gis.scenario.spec import Intervention

    with pytest.raises(
        cg.ScenarioError, match=r"interventions\[0\] \(add_residents\): 'count' = inf"
    ):
        Intervention(0, "add_residents", {"count": float("inf"), "district": "Kallio"})
    with pytest.raises(
        cg.ScenarioError, match=r"unknown intervention type; did you mean 'close_road'"
    ):
        Intervention(0, "close_rood", {})


def test_hvm_overrides_are_typed_like_a_parameter_file(tmp_path: Path) -> None:
    scenario = load_scenario(
        write(tmp_path, "[parameters.hvm]\ntest_speeds_kmh = [32, 48]\nfriction_mu = 1\n")
    )
    params = scenario.hvm_params()
    assert params.test_speeds_kmh == (32.0, 48.0) and params.friction_mu == 1.0
    assert "s.toml" in params.sources["friction_mu"]


def test_unreadable_scenario_files(tmp_path: Path) -> None:
    latin1 = tmp_path / "latin1.toml"
    latin1.write_bytes('name = "Sécurité"\n'.encode("latin-1"))
    with pytest.raises(cg.ScenarioError, match=r"latin1.toml: not UTF-8 text .* UTF-8"):
        load_scenario(latin1)
    with pytest.raises(cg.ScenarioError, match=r"is a folder, not a file; pass the path of a scen"):
        load_scenario(tmp_path)


# --- stage 2: references against the city -------------------------------------------------


def test_references_checked_with_the_city(tmp_path: Path, helsinki: cg.City) -> None:
    scenario = load_scenario(
        write(
            tmp_path,
            """
            [[interventions]]
            type = "remove_contact_space"
            id = "way/999999999"
            [[interventions]]
            type = "close_road"
            name = "Mannerheimintei"
            [[interventions]]
            type = "add_contact_space"
            space_type = "parc"
            geometry = "POINT (24.946 60.171)"
            [[interventions]]
            type = "add_barrier"
            geometry = "LINESTRING (25.5 61.0, 25.6 61.0)"
            [[interventions]]
            type = "add_residents"
            count = 10
            district = "Kallio"
            groups = { new_arrival = 1.0 }
            """,
        )
    )
    with pytest.raises(cg.ScenarioError, match="5 problems") as info:
        check_scenario(helsinki, scenario)
    text = str(info.value)
    assert "interventions[0] (remove_contact_space): id way/999999999 not found" in text
    assert "close names: Mannerheimintie" in text
    assert "space_type 'parc' is not a contact-space type; did you mean 'park'?" in text.replace(
        " of the taxonomy", ""
    )
    assert "interventions[3] (add_barrier): geometry" in text and "outside the study area" in text
    assert "base homes have no resident groups" in text


def test_new_feature_ids_are_unique_within_a_scenario(tmp_path: Path) -> None:
    # red-team review: two add_barrier entries with one barrier_id were accepted and merged
    point = 'geometry = "POINT (24.946 60.171)"'
    body = "".join(
        f'[[interventions]]\ntype = "{kind}"\n{point}\n{extra}\n'
        for kind, extra in [
            ("add_barrier", 'barrier_id = "b1"'),
            ("add_barrier", 'barrier_id = "b1"'),
            ("add_contact_space", 'space_type = "park"\nspace_id = "new/3"'),
            ("add_contact_space", 'space_type = "park"'),  # its default id is new/3
            ("add_barrier", 'barrier_id = "new/3"'),  # another layer: no clash
        ]
    )
    with pytest.raises(cg.ScenarioError, match="2 problems") as info:
        load_scenario(write(tmp_path, body))
    text = str(info.value)
    assert (
        "interventions[1] (add_barrier): barrier_id 'b1' is already given to interventions[0]"
        in text
    )
    assert "interventions[3] (add_contact_space): space_id 'new/3' is already given" in text
