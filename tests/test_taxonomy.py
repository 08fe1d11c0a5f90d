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
            r"density_persons_m2 must be float",
        ),
        ("[site_kinds.square]\ndensity_persons_m2 = -1\n", r"must be > 0"),
        ("[contact_spaces.park]\nrules = [{ leisure = 3 }]\n", r"rule 0 tag 'leisure'"),
        ("[network]\nlane_width_m = 0\n", r"lane_width_m must be > 0"),
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
