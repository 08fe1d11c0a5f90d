import numpy as np
import pytest

from cohesion_gis import InputError
from cohesion_gis.cohesion import CohesionParams
from cohesion_gis.cohesion.reach import reach
from cohesion_gis.params import load_params

from .conftest import homes, spaces


def test_distances_are_door_to_entrance_along_the_network(line):
    nodes, edges = line
    # home 10 m north of x=0; a point library 5 m south of x=350; a 40 m park centred at x=1000,
    # crossed by the footway: entered where its boundary meets the line, at x=980
    h = homes([(0.0, 10.0)], [100.0])
    s = spaces([("library", (350.0, -5.0), 0), ("park", (1000.0, 0.0), 40)])
    result = reach(h, s, nodes, edges, params=load_params(CohesionParams))
    dist = result.table.set_index("space")["dist_m"]
    assert dist[0] == pytest.approx(10 + 350 + 5)
    assert dist[1] == pytest.approx(10 + 980)
    assert list(result.spaces["n_entrances"]) == [1, 2]


def test_each_space_is_searched_as_far_as_a_component_reads_it(line):
    nodes, edges = line
    params = load_params(CohesionParams)
    h = homes([(0.0, 0.0)], [1.0])
    # a library is read up to 1,200 m (access d_max, wide bridging catchment) x 1.25 = 1,500 m;
    # a square up to 800 m x 1.25 = 1,000 m
    s = spaces(
        [
            ("library", (1450.0, 0.0), 0),
            ("library", (1550.0, 0.0), 0),
            ("square", (950.0, 0.0), 0),
            ("square", (1050.0, 0.0), 0),
        ]
    )
    result = reach(h, s, nodes, edges, params=params)
    assert list(result.spaces["search_radius_m"]) == [1500.0, 1500.0, 1000.0, 1000.0]
    assert list(result.table["space"]) == [0, 2]
    # the plain network, read only for severance: access d_max, no sensitivity margin
    plain = reach(h, s, nodes, edges, params=params, access_only=True)
    assert list(plain.spaces["search_radius_m"]) == [1200.0, 1200.0, 800.0, 800.0]
    assert plain.table.empty
    assert reach(h, s, nodes, edges, params=params.scaled(0.5)).limit_m == pytest.approx(600.0)


def test_bad_population_is_refused(line):
    nodes, edges = line
    s = spaces([("library", (100.0, 0.0), 0)])
    with pytest.raises(InputError, match=r"1 home\(s\) with negative or missing population"):
        reach(
            homes([(0.0, 0.0), (5.0, 0.0)], [np.nan, 3.0]),
            s,
            nodes,
            edges,
            params=load_params(CohesionParams),
        )
    with pytest.raises(InputError, match="negative"):
        reach(homes([(0.0, 0.0)], [-1.0]), s, nodes, edges, params=load_params(CohesionParams))
