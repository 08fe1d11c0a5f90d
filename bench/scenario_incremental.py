"""One-space scenario change on workload B (~100k walk nodes): incremental rescoring vs a full run.

The study area is ``bench/cohesion_scale.py``'s synthetic city on workload B's lattice: ~100k
walk nodes with major roads and crossings, ~33k homes in two resident groups, 5,000 contact
spaces of every type. The scenario adds one 1 ha park in the middle. Timed, best of ``--repeat``:

- **full**: :func:`cohesion_gis.cohesion.score_districts` on the scenario (no sensitivity), what a
  user pays without the base state;
- **incremental**: :meth:`cohesion_gis.scenario.incremental.CohesionState.update` from the base
  state: one bounded search per network for the new park, then the components of the homes
  within its reach.

Both must give the same scores (checked here, to 1e-9, and in ``tests/test_comparison.py``).

Run: ``.venv/bin/python bench/scenario_incremental.py [--workload B] [--repeat 3]``
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cohesion_scale import study_area
from workloads import best_of

from cohesion_gis.cohesion import CohesionParams, score_districts
from cohesion_gis.params import load_params
from cohesion_gis.scenario.incremental import cohesion_state

COLUMNS = ["access", "diversity", "bridging", "capacity", "severance", "score"]


def with_new_park(city: SimpleNamespace) -> SimpleNamespace:
    """The study area with one 100 m × 100 m park at the centre of its network."""
    x = city.walk_nodes["x"].median()
    y = city.walk_nodes["y"].median()
    park = gpd.GeoDataFrame(
        {"space_id": [-1], "space_type": ["park"], "area_m2": [10_000.0]},
        geometry=[shapely.box(x - 50, y - 50, x + 50, y + 50)],
        crs=city.contact_spaces.crs,
    )
    spaces = pd.concat([city.contact_spaces, park], ignore_index=True)
    return SimpleNamespace(**{**vars(city), "contact_spaces": spaces})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workload", default="B", choices=["B", "C", "L10k", "L300k"])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    city = study_area(args.workload, nodes_per_home=3)
    after = with_new_park(city)
    params = load_params(CohesionParams)
    print(
        f"workload {args.workload}: {len(city.walk_nodes):,} walk nodes, "
        f"{len(city.homes):,} homes, {len(city.contact_spaces):,} spaces; scenario: one new park"
    )
    t0 = time.perf_counter()
    base = cohesion_state(city, params)
    print(f"base state (first run, includes the compile): {time.perf_counter() - t0:.2f} s")
    t_full, full = best_of(args.repeat, lambda: score_districts(after, params, sensitivity=False))
    t_inc, inc = best_of(args.repeat, lambda: base.update(after))
    same = all(
        np.allclose(want[COLUMNS].to_numpy(), got[COLUMNS].to_numpy(), rtol=1e-9, equal_nan=True)
        for want, got in ((full.homes, inc.result.homes), (full.districts, inc.result.districts))
    )
    print(f"full run on the scenario: {t_full:.3f} s (best of {args.repeat})")
    print(f"incremental, {inc.recomputed}: {t_inc:.3f} s (best of {args.repeat})")
    print(f"ratio incremental / full: {t_inc / t_full:.3f}; same scores: {same}")


if __name__ == "__main__":
    main()
