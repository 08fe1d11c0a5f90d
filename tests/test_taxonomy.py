from pathlib import Path

import pytest

from cohesion_gis import ParameterError
from cohesion_gis.taxonomy import classify, load_taxonomy, matches


def test_rules_match_values_lists_presence_and_absence():
    assert matches({"leisure": "park"}, {"leisure": "park"})
    assert matches({"leisure": "pitch"}, {"leisure": ["pitch", "track"]})
    assert not matches({"leisure": "garden"}, {"leisure": ["pitch", "track"]})
    assert matches({"amenity": "x"}, {"amenity": True})
    assert not matches({}, {"amenity": True})
    assert matches({"access": "no"}, {"access": "no", "foot": False})
    assert not matches({"access": "no", "foot": "yes"}, {"access": "no", "foot": False})


def test_first_matching_type_wins_so_youth_centres_are_not_community_centres():
    tax = load_taxonomy()
    youth = {"amenity": "community_centre", "community_centre": "youth_centre"}
    assert classify(youth, tax.contact_spaces) == "youth_centre"
    assert classify({"amenity": "community_centre"}, tax.contact_spaces) == "community_centre"
    assert classify({"amenity": "cafe"}, tax.contact_spaces) is None


def test_every_default_entry_cites_a_source():
    tax = load_taxonomy()
    for family in (tax.contact_spaces, tax.site_kinds, tax.barrier_kinds):
        for category in family:
            assert category.source, category.name
    for kind in tax.site_kinds:
        assert kind.density_persons_m2 or kind.floor_m2_per_person, kind.name


def test_user_toml_overrides_and_adds_entries(tmp_path: Path):
    user = tmp_path / "tax.toml"
    user.write_text(
        '[contact_spaces.library]\nrules = [{ amenity = "library" }, { amenity = "bookcase" }]\n'
        '[contact_spaces.cafe]\nlabel = "Cafe"\nrules = [{ amenity = "cafe" }]\n'
        "[network]\nlane_width_m = 3.5\n"
    )
    tax = load_taxonomy(user)
    assert classify({"amenity": "bookcase"}, tax.contact_spaces) == "library"
    assert classify({"amenity": "cafe"}, tax.contact_spaces) == "cafe"
    assert tax.network.lane_width_m == 3.5
    assert tax.path == str(user)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[contact_spaces.park]\nrulez = []\n", r"unknown key 'rulez'"),
        ("[sites]\n", r"unknown section \[sites\]"),
        (
            '[site_kinds.square]\ndensity_persons_m2 = "dense"\n',
            r"field `site_kinds.square.density_persons_m2` = 'dense'; expected a finite number",
        ),
        ("[site_kinds.square]\ndensity_persons_m2 = -1\n", r"greater than 0 and at most 10"),
        ("[contact_spaces.park]\nrules = [{ leisure = 3 }]\n", r"rule 0 tag 'leisure'"),
        ("[network]\nlane_width_m = 0\n", r"`network.lane_width_m` = 0; expected .* 2 and 6 m"),
        ("[contact_spaces.park\n", r"not valid TOML"),
    ],
)
def test_bad_taxonomy_names_the_file_and_the_problem(tmp_path: Path, text: str, message: str):
    user = tmp_path / "bad.toml"
    user.write_text(text)
    with pytest.raises(ParameterError, match=message) as info:
        load_taxonomy(user)
    assert "bad.toml" in str(info.value)


def test_missing_taxonomy_file(tmp_path: Path):
    with pytest.raises(ParameterError, match="does not exist"):
        load_taxonomy(tmp_path / "nope.toml")


RULES = 'rules = [{ place = "square" }]\n'


@pytest.mark.parametrize(
    ("text", "message"),
    [
        # non-finite and absurd numbers (issue 15): each used to load silently
        (
            "[network.default_width_m]\nresidential = -5.5\n",
            r"field `network.default_width_m.residential` = -5.5; expected a finite number "
            r"greater than 0 and at most 150 m",
        ),
        (
            f"[site_kinds.square]\n{RULES}density_persons_m2 = inf\n",
            r"field `site_kinds.square.density_persons_m2` = inf; expected a finite number",
        ),
        (
            f"[site_kinds.square]\n{RULES}density_persons_m2 = nan\n",
            r"`site_kinds.square.density_persons_m2` = nan",
        ),
        (
            f"[site_kinds.square]\n{RULES}floor_m2_per_person = 0.001\n",
            r"`site_kinds.square.floor_m2_per_person` = 0.001; .* between 0.1 and 100",
        ),
        ("[network]\nlane_width_m = inf\n", r"`network.lane_width_m` = inf"),
        ("[network]\nvehicle_min_width_m = 1e9\n", r"`network.vehicle_min_width_m` = 1000000000.0"),
        # wrong types: these raised a raw ValueError or AttributeError
        (
            '[network.default_width_m]\nresidential = "wide"\n',
            r"`network.default_width_m.residential` = 'wide'; expected a finite number",
        ),
        ("[network]\ndefault_width_m = 5\n", r"`network.default_width_m` = 5; expected a table"),
        ("network = 3\n", r"field `network` = 3; expected a table"),
        ("contact_spaces = 3\n", r"field `contact_spaces` = 3; expected a table"),
        ('[network]\nwalk_highways = "footway"\n', r"`network.walk_highways` = 'footway'; .*list"),
        ("[barrier_kinds.bollard]\nstops_vehicles = 1\n", r"stops_vehicles` = 1; expected true"),
    ],
)
def test_bad_numbers_and_types_are_named_with_the_bounds(tmp_path: Path, text: str, message: str):
    user = tmp_path / "bad.toml"
    user.write_text(text)
    with pytest.raises(ParameterError, match=message) as info:
        load_taxonomy(user)
    assert str(info.value).startswith(f"taxonomy {user}: ")
    assert "\n" not in str(info.value)  # one line for the command line


def test_every_problem_of_a_file_in_one_message(tmp_path: Path):
    user = tmp_path / "bad.toml"
    user.write_text("[network]\nlane_width_m = inf\n[network.default_width_m]\nservice = -1\n")
    with pytest.raises(ParameterError) as info:
        load_taxonomy(user)
    text = str(info.value)
    assert (
        "`network.lane_width_m` = inf" in text and "`network.default_width_m.service` = -1" in text
    )


def test_non_utf8_file_is_a_parameter_error(tmp_path: Path):
    user = tmp_path / "latin1.toml"
    user.write_bytes('[contact_spaces.park]\nlabel = "Parc à thème"\n'.encode("latin-1"))
    with pytest.raises(
        ParameterError, match=r"latin1.toml: not UTF-8 text .* save the file as UTF-8"
    ):
        load_taxonomy(user)


def test_a_folder_is_not_a_taxonomy_file(tmp_path: Path):
    with pytest.raises(ParameterError, match="is a folder, not a file"):
        load_taxonomy(tmp_path)
