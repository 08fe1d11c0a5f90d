"""Incremental rescoring (``scenario.incremental``): many scenarios against one base."""

from __future__ import annotations

from pathlib import Path

import numpy as np

import cohesion_gis as cg
from cohesion_gis.scenario import apply, load_scenario

from ..conftest import SCENARIOS, one, write

# --- incremental rescoring of many scenarios ------------------------------------------------


def test_update_many_mixed_batch_equals_one_update_each(tmp_path: Path, helsinki: cg.City) -> None:
    from cohesion_gis.cohesion import CohesionParams
    from cohesion_gis.params import load_params
    from cohesion_gis.scenario.incremental import cohesion_state

    params = load_params(CohesionParams)
    base = cohesion_state(helsinki, params)
    removed = one(tmp_path, 'type = "remove_contact_space"\nname = "Esplanadinpuisto"')
    closed = load_scenario(
        write(
            tmp_path,
            '[[interventions]]\ntype = "pedestrianise"\nname = "Pohjoisesplanadi"\n'
            'mode = "physical_closure"',
            name="closed.toml",
        )
    )
    scenarios = [
        load_scenario(SCENARIOS / "car_park_to_park.toml"),  # one new space
        closed,  # the walk network changes: a full run
        load_scenario(SCENARIOS / "new_residents_kallio.toml"),  # residents: every home
        removed,  # a space gone, none searched
        load_scenario(SCENARIOS / "car_park_to_park.toml"),  # the same again, later in the batch
    ]
    cities = [apply(helsinki, s) for s in scenarios]
    together = list(base.update_many(cities, batch=3))
    assert [s.recomputed.split(":")[0] for s in together] == [
        "incremental", "full", "incremental", "incremental", "incremental"]  # fmt: skip
    assert together[3].recomputed.startswith("incremental: 0 of ")
    for city, state in zip(cities, together, strict=True):
        alone = base.update(city)
        assert state.recomputed == alone.recomputed
        np.testing.assert_allclose(
            state.districts["score"].to_numpy(), alone.districts["score"].to_numpy(), atol=1e-9
        )
        np.testing.assert_allclose(
            state.result.districts["score"].to_numpy(),
            state.districts["score"].to_numpy(),
            atol=1e-9,
        )
    np.testing.assert_array_equal(together[0].values.array, together[4].values.array)
    assert together[0].districts["score"].sum() > base.districts["score"].sum()  # a park added
