import numpy as np
import pandas as pd
import pytest

from cohesion_gis.cohesion import CohesionParams
from cohesion_gis.cohesion.access import access, coverage_credit
from cohesion_gis.cohesion.reach import reach
from cohesion_gis.params import load_params

from .conftest import homes, spaces


def coverage_reference(dist_m, d_full_m: float, d_max_m: float) -> np.ndarray:
    """The access credit g(d) by NumPy alone (the package's is compiled: ``coverage_credit``)."""
    return np.clip((d_max_m - np.asarray(dist_m, dtype=float)) / (d_max_m - d_full_m), 0.0, 1.0)


def coverage(dist_m, d_full_m: float, d_max_m: float) -> np.ndarray:
    """The package's compiled ``coverage_credit`` applied to each distance."""
    return np.array([coverage_credit(float(d), d_full_m, d_max_m) for d in dist_m])


def test_coverage_is_full_then_linear_then_zero():
    d = np.array([0.0, 400.0, 500.0, 700.0, 1000.0, 1200.0])
    np.testing.assert_allclose(coverage(d, 400.0, 1000.0), [1, 1, 5 / 6, 0.5, 0, 0])


def test_coverage_equals_the_plain_formula_bit_for_bit():
    d = np.random.default_rng(5).uniform(-10.0, 3000.0, 20_000)
    d[:4] = (400.0, 1000.0, np.nan, np.inf)
    for d_full, d_max in [(400.0, 1000.0), (300.0, 800.0), (0.0, 1234.5)]:
        want = coverage_reference(d, d_full, d_max)
        np.testing.assert_array_equal(coverage(d, d_full, d_max), want)


def test_access_takes_the_best_space_per_category_and_averages_categories(line):
    nodes, edges = line
    params = load_params(CohesionParams)
    h = homes([(0.0, 0.0)], [10.0])
    # playgrounds at 500 m and 900 m: best credit (1000-500)/600; library at 1,000 m:
    # (1200-1000)/400 = 0.5; nothing else
    s = spaces(
        [
            ("playground", (500.0, 0.0), 0),
            ("playground", (900.0, 0.0), 0),
            ("library", (1000.0, 0.0), 0),
        ]
    )
    a = access(reach(h, s, nodes, edges, params=params), params)
    assert a["access_playground"].iloc[0] == pytest.approx(5 / 6)
    assert a["access_library"].iloc[0] == pytest.approx(0.5)
    assert a["access_market"].iloc[0] == 0
    assert a["access"].iloc[0] == pytest.approx((5 / 6 + 0.5) / len(params.access))


def test_small_parks_do_not_count_as_local_green_space(line):
    nodes, edges = line
    params = load_params(CohesionParams)
    h = homes([(0.0, 0.0)], [10.0])
    small = spaces([("park", (200.0, 0.0), 50)])  # 0.25 ha < 0.5 ha
    big = spaces([("park", (200.0, 0.0), 80)])  # 0.64 ha
    assert (
        access(reach(h, small, nodes, edges, params=params), params)["access_local_green"].iloc[0]
        == 0
    )
    assert (
        access(reach(h, big, nodes, edges, params=params), params)["access_local_green"].iloc[0]
        == 1
    )


def test_no_spaces_gives_zero_access(line):
    nodes, edges = line
    params = load_params(CohesionParams)
    a = access(reach(homes([(0.0, 0.0)], [1.0]), spaces([]), nodes, edges, params=params), params)
    assert (a["access"] == 0).all()


def test_access_on_helsinki_equals_a_plain_groupby(helsinki):
    params = load_params(CohesionParams)
    table = reach(helsinki.homes, helsinki.contact_spaces, helsinki.walk_nodes,
                  helsinki.walk_edges, params=params)  # fmt: skip
    got = access(table, params)
    rows = table.table.merge(table.spaces[["space_type", "area_m2"]], left_on="space",
                             right_index=True)  # fmt: skip
    for cat in params.access:
        pick = rows["space_type"].isin(cat.space_types) & (rows["area_m2"] >= cat.min_area_m2)
        credit = pd.Series(
            coverage_reference(rows["dist_m"], cat.d_full_m, cat.d_max_m), index=rows.index
        )
        want = credit[pick].groupby(rows.loc[pick, "home"]).max()
        want = want.reindex(range(len(table.homes)), fill_value=0.0).to_numpy()
        np.testing.assert_array_equal(got[f"access_{cat.name}"].to_numpy(), want)
    assert got["access"].between(0, 1).all() and (got["access"] > 0).mean() > 0.9
