import dataclasses

import numpy as np
import pandas as pd
import pytest
from access import Access, weights

from cohesion_gis.cohesion import CohesionParams
from cohesion_gis.cohesion.capacity import capacity, step_weight
from cohesion_gis.cohesion.reach import Reach, reach
from cohesion_gis.params import load_params

from .conftest import homes, spaces

ZONES = {"limits_m": (400.0, 800.0, 1200.0), "weights": (1.0, 0.68, 0.22)}


def zone_weight_reference(dist_m, limits_m, weights) -> np.ndarray:
    """The step weights by NumPy alone (the package's are compiled: ``step_weight``)."""
    zone = np.searchsorted(np.asarray(limits_m), np.asarray(dist_m, dtype=float), side="left")
    return np.append(np.asarray(weights, dtype=float), 0.0)[zone]


def e2sfca_reference(home, space, weight, demand, supply):
    """Both E2SFCA steps as the plain formula on a sparse (home, space, weight) list."""
    competing = np.bincount(space, weights=demand[home] * weight, minlength=supply.size)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(competing > 0, supply / competing, np.nan)
    per_home = np.bincount(
        home, weights=np.nan_to_num(ratio[space]) * weight, minlength=demand.size
    )
    return per_home, ratio


def zone_weight(dist_m, limits_m, weights) -> np.ndarray:
    """The package's compiled ``step_weight`` applied to each distance."""
    limits, table = np.asarray(limits_m, dtype=float), np.asarray(weights, dtype=float)
    return np.array([step_weight(float(d), limits, table) for d in dist_m])


def e2sfca(home, space, dist_m, demand, supply, *, limits_m, weights):
    """Both E2SFCA steps by the passes the score runs (``capacity``), every space a park."""
    params = dataclasses.replace(
        load_params(CohesionParams), capacity_zone_limits_m=limits_m, capacity_zone_weights=weights
    )
    table = Reach(
        homes=pd.DataFrame({"population": np.asarray(demand, dtype=float)}),
        spaces=pd.DataFrame({"space_type": "park", "size_m2": np.asarray(supply, dtype=float)}),
        table=pd.DataFrame({"home": home, "space": space, "dist_m": dist_m}),
        limit_m=max(limits_m),
    )
    per_home, ratio = capacity(table, params)
    return per_home["capacity_m2_per_person"].to_numpy(), ratio.to_numpy()


def test_zone_weights():
    w = zone_weight(np.array([0, 400, 401, 800, 1200, 1201]), (400, 800, 1200), (1, 0.68, 0.22))
    np.testing.assert_allclose(w, [1, 1, 0.68, 0.68, 0.22, 0])
    d = np.random.default_rng(3).uniform(0, 1500, 10_000)
    d[:3] = (400.0, 800.0, np.nan)
    want = zone_weight_reference(d, ZONES["limits_m"], ZONES["weights"])
    np.testing.assert_array_equal(zone_weight(d, **ZONES), want)


def test_e2sfca_by_hand():
    # two homes (100 and 300 residents), one park of 6,000 m2; home 0 in zone 1, home 1 in zone 2
    home = np.array([0, 1])
    space = np.array([0, 0])
    dist_m = np.array([300.0, 600.0])
    per_home, ratio = e2sfca(
        home, space, dist_m, np.array([100.0, 300.0]), np.array([6000.0]), **ZONES
    )
    demand = 100 * 1 + 300 * 0.68
    assert ratio[0] == pytest.approx(6000 / demand)
    np.testing.assert_allclose(per_home, [6000 / demand, 0.68 * 6000 / demand])


def test_e2sfca_agrees_with_pysal_access():
    rng = np.random.default_rng(7)
    n_homes, n_spaces = 30, 6
    pairs = pd.DataFrame(
        [
            (i, s, rng.uniform(0, 1500))
            for i in range(n_homes)
            for s in range(n_spaces)
            if rng.random() < 0.6
        ],
        columns=["origin", "dest", "cost"],
    )
    population = rng.integers(1, 500, n_homes).astype(float)
    supply = rng.uniform(500, 20_000, n_spaces)
    limits, ws = ZONES["limits_m"], ZONES["weights"]
    ours, _ = e2sfca(  # the compiled passes the score runs
        pairs["origin"].to_numpy(), pairs["dest"].to_numpy(), pairs["cost"].to_numpy(),
        population, supply, **ZONES,
    )  # fmt: skip
    peer = Access(
        demand_df=pd.DataFrame({"pop": population}, index=pd.RangeIndex(n_homes, name="origin")),
        demand_value="pop",
        supply_df=pd.DataFrame({"m2": supply}, index=pd.RangeIndex(n_spaces, name="dest")),
        supply_value="m2",
        cost_df=pairs,
        cost_origin="origin",
        cost_dest="dest",
        cost_name="cost",
    )
    result = peer.enhanced_two_stage_fca(
        weight_fn=weights.step_fn(dict(zip(limits, ws, strict=True))), max_cost=1200.0
    )
    theirs = result.iloc[:, 0].reindex(range(n_homes)).fillna(0.0).to_numpy()
    np.testing.assert_allclose(ours, theirs, rtol=1e-9)


def test_capacity_against_the_30_m2_benchmark(line):
    nodes, edges = line
    params = load_params(CohesionParams)
    # 100 residents beside a 60 m x 60 m park (3,600 m2): 36 m2 each, above the benchmark
    h = homes([(0.0, 0.0)], [100.0])
    s = spaces([("park", (100.0, 0.0), 60)])
    per_home, supply = capacity(reach(h, s, nodes, edges, params=params), params)
    assert per_home["capacity_m2_per_person"].iloc[0] == pytest.approx(36.0)
    assert per_home["capacity"].iloc[0] == 1.0
    assert supply.iloc[0] == pytest.approx(36.0)
    # libraries are not open space
    per_home, _ = capacity(
        reach(h, spaces([("library", (100.0, 0.0), 60)]), nodes, edges, params=params), params
    )
    assert per_home["capacity"].iloc[0] == 0


def test_capacity_on_helsinki_equals_the_plain_e2sfca(helsinki):
    # the compiled passes against the plain formula, on real Helsinki
    params = load_params(CohesionParams)
    table = reach(helsinki.homes, helsinki.contact_spaces, helsinki.walk_nodes,
                  helsinki.walk_edges, params=params)  # fmt: skip
    per_home, supply = capacity(table, params)
    eligible = table.spaces["space_type"].isin(params.capacity_space_types).to_numpy()
    rows = table.table.loc[eligible[table.table["space"].to_numpy()]]
    limits, weights = params.capacity_zone_limits_m, params.capacity_zone_weights
    weight = zone_weight_reference(rows["dist_m"], limits, weights)
    want_home, want_ratio = e2sfca_reference(
        rows["home"].to_numpy(), rows["space"].to_numpy(), weight,
        table.homes["population"].to_numpy(dtype=float),
        np.where(eligible, table.spaces["size_m2"].to_numpy(), 0.0),
    )  # fmt: skip
    np.testing.assert_allclose(per_home["capacity_m2_per_person"], want_home, rtol=1e-12)
    np.testing.assert_allclose(supply, np.where(eligible, want_ratio, np.nan), rtol=1e-12)
    assert (per_home["capacity_m2_per_person"] > 0).mean() > 0.5
