import numpy as np
import pytest

from cohesion_gis import InputError
from cohesion_gis.cohesion import CohesionParams
from cohesion_gis.cohesion.reach import reach

from .conftest import homes, spaces


def test_distances_are_door_to_entrance_along_the_network(line):
    nodes, edges = line
    # home 10 m north of x=0; a point library 5 m south of x=350; a 40 m park centred at x=1000,
    # crossed by the footway: entered where its boundary meets the line, at x=980
    h = homes([(0.0, 10.0)], [100.0])
    s = spaces([("library", (350.0, -5.0), 0), ("park", (1000.0, 0.0), 40)])
    result = reach(h, s, nodes, edges, params=CohesionParams.from_toml())
    dist = result.table.set_index("space")["dist_m"]
    assert dist[0] == pytest.approx(10 + 350 + 5)
    assert dist[1] == pytest.approx(10 + 980)
    assert list(result.spaces["n_entrances"]) == [1, 2]


def test_search_limit_cuts_far_spaces(line):
    nodes, edges = line
    params = CohesionParams.from_toml()
    h = homes([(0.0, 0.0)], [1.0])
    s = spaces([("library", (1900.0, 0.0), 0)])
    short = reach(h, s, nodes, edges, params=params.scaled(0.5))
    assert short.limit_m == pytest.approx(1000.0)  # 2,000 m × 0.5, no sensitivity margin
    assert short.table.empty
    assert len(reach(h, s, nodes, edges, params=params).table) == 1


def test_bad_population_is_refused(line):
    nodes, edges = line
    s = spaces([("library", (100.0, 0.0), 0)])
    with pytest.raises(InputError, match=r"1 home\(s\) with negative or missing population"):
        reach(
            homes([(0.0, 0.0), (5.0, 0.0)], [np.nan, 3.0]),
            s,
            nodes,
            edges,
            params=CohesionParams.from_toml(),
        )
    with pytest.raises(InputError, match="negative"):
        reach(homes([(0.0, 0.0)], [-1.0]), s, nodes, edges, params=CohesionParams.from_toml())
