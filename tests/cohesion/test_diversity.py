import numpy as np
import pytest

from cohesion_gis.cohesion import CohesionParams
from cohesion_gis.cohesion.diversity import diversity, hill_number
from cohesion_gis.cohesion.reach import reach
from cohesion_gis.params import load_params

from .conftest import homes, spaces


def test_hill_numbers_by_hand():
    shares = np.array([[0.5, 0.5, 0.0], [1.0, 0.0, 0.0], [0.25, 0.25, 0.5], [0.0, 0.0, 0.0]])
    np.testing.assert_allclose(hill_number(shares, 0), [2, 1, 3, 0])
    # q = 1: exp(Shannon); for (1/4, 1/4, 1/2): H = 1.5 ln 2 -> 2^1.5
    np.testing.assert_allclose(hill_number(shares, 1), [2, 1, 2**1.5, 0])
    # q = 2: inverse Simpson 1 / sum p^2
    np.testing.assert_allclose(hill_number(shares, 2), [2, 1, 1 / 0.375, 0])


def test_diversity_counts_types_within_800_m(line):
    nodes, edges = line
    params = load_params(CohesionParams)
    h = homes([(0.0, 0.0)], [1.0])
    # three types within 800 m (two playgrounds count once), a market beyond
    s = spaces(
        [
            ("playground", (100.0, 0.0), 0),
            ("playground", (200.0, 0.0), 0),
            ("library", (300.0, 0.0), 0),
            ("square", (700.0, 0.0), 0),
            ("market", (900.0, 0.0), 0),
        ]
    )
    d = diversity(reach(h, s, nodes, edges, params=params), params, n_types=8)
    assert d.iloc[0] == pytest.approx((3 - 1) / (8 - 1))


def test_one_type_or_none_gives_zero(line):
    nodes, edges = line
    params = load_params(CohesionParams)
    s = spaces([("playground", (100.0, 0.0), 0)])
    d = diversity(
        reach(homes([(0.0, 0.0), (2000.0, 0.0)], [1.0, 1.0]), s, nodes, edges, params=params),
        params,
        n_types=8,
    )
    assert list(d) == [0.0, 0.0]
