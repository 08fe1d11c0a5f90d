"""Property: adding contact spaces never lowers any home's value (real Helsinki, seeded)."""

from __future__ import annotations

import dataclasses

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point, box

from cohesion_gis.cohesion import COMPONENTS, score_districts

CHECKED = [*COMPONENTS, "score"]


@pytest.fixture(scope="module")
def grouped(helsinki):
    """Helsinki with per-home group counts that differ between homes (made up, seeded)."""
    homes = helsinki.homes.copy()
    rng = np.random.default_rng(20261202)
    shares = rng.dirichlet([1.0, 1.0, 1.0], len(homes))
    for k, name in enumerate(["finnish", "swedish", "other"]):
        homes[f"pop_{name}"] = homes["population"] * shares[:, k]
    return dataclasses.replace(helsinki, homes=homes)


def _random_spaces(city, seed: int) -> gpd.GeoDataFrame:
    """One space of every taxonomy type at a random place in the homes' extent."""
    rng = np.random.default_rng(seed)
    west, south, east, north = city.homes.total_bounds
    rows, geoms = [], []
    for k, category in enumerate(city.taxonomy.contact_spaces):
        x, y = rng.uniform(west, east), rng.uniform(south, north)
        side = float(rng.choice([0.0, 20.0, 80.0, 200.0]))  # 0: a point space
        geoms.append(Point(x, y) if side == 0 else box(x, y, x + side, y + side))
        rows.append(
            {
                "space_id": f"test/{seed}/{k}",
                "name": f"New {category.name}",
                "space_type": category.name,
                "area_m2": side * side,
                "n_mapped_entrances": 0,
            }
        )
    return gpd.GeoDataFrame(rows, geometry=geoms, crs=city.crs)


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("with_groups", [True, False])
def test_adding_spaces_of_every_type_lowers_no_home(helsinki, grouped, seed, with_groups):
    city = grouped if with_groups else helsinki
    base = score_districts(city, sensitivity=False)
    added = _random_spaces(city, seed)
    spaces = pd.concat([city.contact_spaces, added], ignore_index=True)
    more = score_districts(dataclasses.replace(city, contact_spaces=spaces), sensitivity=False)
    before = base.homes.set_index("home_id")[CHECKED]
    after = more.homes.set_index("home_id")[CHECKED]
    for column in CHECKED:
        if not with_groups and column == "bridging":
            assert after[column].isna().all() and before[column].isna().all()
            continue
        fell = after[column] < before[column] - 1e-9
        assert not fell.any(), f"{column} fell for {list(before.index[fell])[:5]}"
    # the spaces were reached: somebody gained
    assert (after["score"] > before["score"] + 1e-9).any()


def test_hill_q_above_zero_can_lower_a_home_and_is_warned(helsinki, tmp_path, caplog):
    from cohesion_gis.cohesion import CohesionParams
    from cohesion_gis.params import load_params

    path = tmp_path / "q1.toml"
    path.write_text("[diversity]\nhill_q = 1.0\n")
    with caplog.at_level("WARNING", logger="cohesion_gis.cohesion.params"):
        params = load_params(CohesionParams, path)
    assert "hill_q = 1 > 0" in caplog.text and "can lower" in caplog.text
    caplog.clear()
    with caplog.at_level("WARNING", logger="cohesion_gis.cohesion.params"):
        load_params(CohesionParams).warn_non_monotone()
    assert "hill_q" not in caplog.text
    # the warning is true on real Helsinki: one more space of every type lowers some homes
    base = score_districts(helsinki, params, sensitivity=False)
    spaces = pd.concat([helsinki.contact_spaces, _random_spaces(helsinki, 1)], ignore_index=True)
    more = score_districts(
        dataclasses.replace(helsinki, contact_spaces=spaces), params, sensitivity=False
    )
    fell = more.homes["diversity"] < base.homes["diversity"] - 1e-9
    assert fell.any()
