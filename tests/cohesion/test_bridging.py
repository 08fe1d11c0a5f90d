import numpy as np
import pytest

from cohesion_gis.cohesion import CohesionParams
from cohesion_gis.cohesion.bridging import bridging, entropy
from cohesion_gis.cohesion.reach import reach

from .conftest import homes, spaces


def test_entropy_by_hand():
    assert entropy(np.array([0.5, 0.5])) == pytest.approx(np.log(2))
    assert entropy(np.array([1.0, 0.0])) == 0


def test_a_space_between_two_communities_bridges_and_one_inside_one_does_not(line):
    nodes, edges = line
    params = CohesionParams.from_toml()
    # district A at the west end, district B at the east end (2 km apart), equal populations
    h = homes(
        [(0.0, 0.0), (100.0, 0.0), (1900.0, 0.0), (2000.0, 0.0)],
        [50.0] * 4,
        districts=["A", "A", "B", "B"],
    )
    s = spaces([("library", (50.0, 0.0), 0), ("library", (1000.0, 0.0), 0)])
    home, space = bridging(reach(h, s, nodes, edges, params=params), params)
    # the west library (wide 1,200 m catchment) sees only district A
    assert space["bridging"].iloc[0] == pytest.approx(0.0)
    # the middle library is 900-1,000 m from both ends: equal shares -> as mixed as the city
    assert space["bridging"].iloc[1] == pytest.approx(1.0)
    assert space["share_A"].iloc[1] == pytest.approx(0.5)
    # west homes reach both libraries; their bridging is the weighted mean of 0 and 1
    assert 0 < home.iloc[0] < 1


def test_group_columns_replace_districts(line):
    nodes, edges = line
    params = CohesionParams.from_toml()
    h = homes([(0.0, 0.0), (200.0, 0.0)], [100.0, 100.0])
    h["pop_long_term"] = [100.0, 0.0]
    h["pop_new_arrival"] = [0.0, 100.0]
    s = spaces([("square", (100.0, 0.0), 0)])
    home, space = bridging(reach(h, s, nodes, edges, params=params), params)
    # the square is equidistant from a home of each group
    assert space["bridging"].iloc[0] == pytest.approx(1.0)
    assert list(home) == pytest.approx([1.0, 1.0])


def test_no_space_reached_gives_zero_not_nan(line):
    nodes, edges = line
    params = CohesionParams.from_toml()
    h = homes([(0.0, 0.0)], [10.0])
    s = spaces([("square", (1900.0, 0.0), 0)])
    home, space = bridging(reach(h, s, nodes, edges, params=params), params)
    assert home.iloc[0] == 0
    assert np.isnan(space["bridging"].iloc[0])
