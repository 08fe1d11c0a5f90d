import dataclasses
import itertools

import numpy as np
import pytest

from cohesion_gis import InputError
from cohesion_gis.cohesion import CohesionParams, score_districts
from cohesion_gis.cohesion.reach import _doors, reach
from cohesion_gis.cohesion.score import distance_tables, walk_networks
from cohesion_gis.network import snap_to_edges
from cohesion_gis.params import load_params

from .conftest import homes, network, spaces


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


def test_a_home_enters_through_the_street_nearly_as_near_as_a_dead_end_footway():
    """A 2 km street along the x axis and a footway from its east end back west, 14 m above it at
    x=0. The home at (100, 9) is 4.3 m from the footway and 9 m from the street it fronts: with
    the nearest edge only it walks 1.9 km round by the footway's end; with the 6 m tolerance it
    steps onto the street: 9 + 500 + 5 m to a library at (600, -5)."""
    points = {i: (100.0 * i, 0.0) for i in range(21)} | {99: (0.0, 14.0)}
    nodes, edges = network(points, [(i, i + 1) for i in range(20)] + [(20, 99)])
    params = load_params(CohesionParams)
    assert params.snap_tolerance_m == 6.0
    h = homes([(100.0, 9.0)], [10.0])
    s = spaces([("library", (600.0, -5.0), 0)])
    nearest = reach(h, s, nodes, edges, params=dataclasses.replace(params, snap_tolerance_m=0.0))
    assert nearest.homes["snap_m"].iloc[0] == pytest.approx(4.3, abs=0.05)
    assert nearest.table.empty  # 4.3 + 1,900 + ... m: beyond the library's 1,500 m
    linked = reach(h, s, nodes, edges, params=params)
    assert linked.homes["snap_m"].iloc[0] == nearest.homes["snap_m"].iloc[0]  # still reported
    assert linked.table["dist_m"].tolist() == pytest.approx([9.0 + 500.0 + 5.0])


def test_more_candidate_edges_never_lengthen_a_helsinki_walk(helsinki):
    """Property on real Helsinki: with a larger snapping tolerance every home and space enters
    through a superset of edges, so no home x space distance (door to entrance) grows, no pair is
    lost, and no home's access falls."""
    base = load_params(CohesionParams)
    networks = walk_networks(helsinki, base)
    tables = {}
    for tolerance in (0.0, 6.0, 20.0):
        params = dataclasses.replace(base, snap_tolerance_m=tolerance)
        reach_, _ = distance_tables(helsinki, networks, params, sensitivity=False)
        tables[tolerance] = reach_.table.set_index(["home", "space"])["dist_m"]
    for fewer, more in itertools.pairwise(tables.values()):
        assert fewer.index.isin(more.index).all()
        assert (more.reindex(fewer.index) <= fewer + 1e-9).all()
    shorter = tables[6.0].reindex(tables[0.0].index) < tables[0.0] - 1.0
    assert shorter.sum() > 100  # the rule matters on real data
    access = {
        t: score_districts(
            helsinki, params=dataclasses.replace(base, snap_tolerance_m=t), sensitivity=False
        ).homes.set_index("home_id")["access"]
        for t in (0.0, 6.0)
    }
    assert (access[6.0] >= access[0.0] - 1e-12).all()


def test_no_home_enters_the_helsinki_network_by_a_tunnel(helsinki):
    """Helsinki's underground delivery tunnels (service, layer -3/-4, access=destination, e.g.
    way/43997238) are not walkable; pedestrian tunnels stay, walked through but never entered. On
    main before the rule 17 of 167 homes (875 residents) had a tunnel as their nearest edge."""
    edges = helsinki.walk_edges
    assert "way/43997238" in set(helsinki.drive_edges["osm_id"])
    assert "way/43997238" not in set(edges["osm_id"])
    assert (edges.loc[edges["tunnel"], "highway"] != "service").sum() > 0
    assert not edges.loc[edges["tunnel"], "entry"].any()
    params = load_params(CohesionParams)
    network_ = walk_networks(helsinki, params)[0].network
    r = reach(helsinki.homes, helsinki.contact_spaces.iloc[:0], *network_, params=params)
    snapped = r.network[1]
    entry = network_[1]["entry"].to_numpy(dtype=bool)
    assert snapped.snapped.all()
    assert entry[snapped.entries.edge].all()
    # indexing every edge, some homes would still enter by a pedestrian tunnel or passage
    every = snap_to_edges(
        _doors(r.homes.geometry), network_[1], r.network[0],
        max_snap_m=params.max_snap_m, tolerance_m=params.snap_tolerance_m,
    )  # fmt: skip
    assert (~entry[every.entries.edge]).sum() > 0


def test_a_monaco_home_above_a_footway_tunnel_walks_the_street(monaco):
    """way/94399627 stands over the layer -1 footway way/400398287: entering by the tunnel it
    walked 1,191 m to Parc Princesse Antoinette (nearest edge only, main before the rule); from
    the street it is 79 m (58.8 m with the 6 m tolerance, as before)."""
    params = load_params(CohesionParams)
    network_ = walk_networks(monaco, params)[0].network
    home = monaco.homes.loc[monaco.homes["home_id"].eq("way/94399627")]
    park = monaco.contact_spaces.loc[monaco.contact_spaces["name"].eq("Parc Princesse Antoinette")]
    walk = {}
    for tolerance in (0.0, params.snap_tolerance_m):
        p = dataclasses.replace(params, snap_tolerance_m=tolerance)
        r = reach(home, park, *network_, params=p)
        snapped = r.network[1]
        assert network_[1]["osm_id"].iloc[snapped.edge[0]] != "way/400398287"
        walk[tolerance] = r.table["dist_m"].iloc[0]
    assert walk[0.0] == pytest.approx(78.7, abs=0.1)
    assert walk[params.snap_tolerance_m] == pytest.approx(58.8, abs=0.1)


def test_the_tolerance_shortens_a_tenth_of_monaco_s_walks_by_more_than_50_m(monaco):
    """Why snapping is a structural sensitivity variant (docs/cohesion.md, Sensitivity): on the
    whole Monaco extract 11.5 % of the 31,034 home-space pairs reached with the nearest edge only
    are more than 50 m shorter with the 6 m tolerance, and 746 pairs are reached only with it."""
    params = load_params(CohesionParams)
    networks = walk_networks(monaco, params)
    tables = {}
    for tolerance in (0.0, params.snap_tolerance_m):
        p = dataclasses.replace(params, snap_tolerance_m=tolerance)
        aware, _ = distance_tables(monaco, networks, p, sensitivity=False)
        tables[tolerance] = aware.table.set_index(["home", "space"])["dist_m"]
    nearest, tolerant = tables[0.0], tables[params.snap_tolerance_m]
    assert nearest.index.isin(tolerant.index).all()  # no pair lost
    shorter_m = nearest - tolerant.reindex(nearest.index)
    assert (shorter_m >= -1e-6).all()
    assert 0.10 < float((shorter_m > 50.0).mean()) < 0.13  # measured 0.115
    assert len(tolerant) - len(nearest) == pytest.approx(746, abs=40)
