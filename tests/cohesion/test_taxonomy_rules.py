"""Contact spaces are open to all without paying, and squares are usable places (real Helsinki)."""

from __future__ import annotations

import pytest

from cohesion_gis.cohesion import CohesionParams, score_districts
from cohesion_gis.cohesion.score import counted_spaces
from cohesion_gis.params import load_params
from cohesion_gis.taxonomy import classify, load_taxonomy


@pytest.fixture(scope="module")
def spaces():
    return load_taxonomy().contact_spaces


@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        ({"leisure": "pitch"}, "sport"),
        ({"leisure": "pitch", "access": "private"}, None),  # a school's pitch
        ({"leisure": "fitness_centre", "name": "Fitness 24Seven"}, None),
        ({"leisure": "sports_centre", "name": "UniSport"}, None),  # membership, no fee=no
        ({"leisure": "sports_centre", "sport": "swimming"}, None),  # paid indoor pool
        ({"leisure": "sports_centre", "fee": "no"}, "sport"),
        ({"leisure": "playground", "access": "customers"}, None),
        ({"leisure": "park", "fee": "yes"}, None),
        ({"amenity": "library"}, "library"),
        ({"place": "square", "highway": "pedestrian"}, "square"),
        ({"place": "square"}, "square"),
        ({"place": "square", "highway": "tertiary"}, None),  # a street called a square
        ({"highway": "pedestrian", "area": "yes"}, "square"),
        ({"highway": "pedestrian", "area": "yes", "motor_vehicle": "destination"}, None),
        ({"leisure": "garden"}, "park"),  # most public gardens carry no access tag
        ({"leisure": "garden", "access": "private"}, None),
        ({"leisure": "garden", "garden:type": "residential"}, None),  # a house's garden
        ({"natural": "beach"}, None),  # no distance standard in the reference: not counted
    ],
)
def test_open_to_all_without_paying(spaces, tags, expected):
    assert classify(tags, spaces) == expected


def test_every_contact_space_rule_is_sourced(spaces):
    assert all(c.source for c in spaces)
    assert all(c.exclude for c in spaces)  # every type refuses private and paid places


def test_helsinki_gyms_pool_and_studio_are_gone(helsinki):
    names = set(helsinki.contact_spaces["name"].dropna())
    for gone in ["Fitness 24Seven Hakaniemi", "Somatic Studio", "Yrjönkadun uimahalli"]:
        assert gone not in names
    sport = helsinki.contact_spaces[helsinki.contact_spaces["space_type"] == "sport"]
    assert len(sport) == 8  # 5 pitches and 3 fitness stations, all outdoor


def test_square_fragments_are_not_counted(helsinki):
    params = load_params(CohesionParams)
    counted, excluded = counted_spaces(helsinki.contact_spaces, params)
    assert len(excluded) == 12
    assert (excluded["space_type"] == "square").all()
    assert (
        excluded["area_m2"].max()
        < 400
        <= counted.loc[counted["space_type"] == "square", "area_m2"].min()
    )
    assert "relation/8909850" in set(excluded["space_id"])  # the 26 m² fragment
    assert "Kaivopiha" in set(counted["name"].dropna())  # a real small square, 431 m²
    result = score_districts(helsinki, params, sensitivity=False)
    assert len(result.spaces) == len(counted)
    assert result.excluded_spaces["excluded_reason"].str.startswith("below the minimum").all()


def test_monaco_public_gardens_count_and_private_or_paid_ones_do_not(monaco):
    kinds = monaco.contact_spaces.set_index("space_id")["space_type"]
    # Jardins de Saint-Martin, Roseraie Princesse Grace, Jardin de l'Unesco: no access tag
    for garden in ["way/88875704", "way/177052156", "way/627022271"]:
        assert kinds.get(garden) == "park", garden
    assert "way/48808812" not in kinds.index  # leisure=garden + access=private
    assert "way/157455610" not in kinds.index  # Jardin Exotique: fee=yes (7.20 EUR)
