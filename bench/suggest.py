"""Suggestions: every candidate × type scored exactly, against one full score run and a naive loop.

Two measurements (issue 18's targets):

- **Helsinki**: :func:`cohesion_gis.suggest.suggest` on the embedded extract (every surface car
  park, vacant or grass plot × every type it fits, plus the greedy portfolio of 3), against one
  full :func:`cohesion_gis.score_districts` run (target: within 10×) and against the naive way,
  a full score of every option's scenario City (timed on a sample, extrapolated);
- **workload B** (``bench/cohesion_scale.py``'s ~100k-node synthetic city): 500 one-space options
  (a 30 m × 30 m park at 500 spread walk nodes), rescored by the incremental engine as
  ``suggest`` does (:meth:`cohesion_gis.scenario.incremental.CohesionState.update_many`, batches
  of 64), each option's district means read (target: within a minute).

No open tool suggests sites (issue 18), so the peer is the naive full recompute. Times are the
best of ``--repeat`` runs, wall and CPU (every thread of the process; steadier than wall time on a
shared machine); ratios are taken within one run. Peak memory is the process's maximum resident
set size.

Run: ``.venv/bin/python bench/suggest.py [--repeat 3] [--options 500] [--part B]``
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cohesion_scale import study_area
from workloads import best_of

import cohesion_gis as cg
from cohesion_gis.cohesion import CohesionParams
from cohesion_gis.params import load_params
from cohesion_gis.scenario import apply, cohesion_state
from cohesion_gis.suggest import suggest


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _cpu(repeat: int, run: Callable[[], Any]) -> float:
    """The smallest CPU time of ``repeat`` calls (s, every thread of the process)."""
    times = []
    for _ in range(repeat):
        t0 = time.process_time()
        run()
        times.append(time.process_time() - t0)
    return min(times)


def helsinki(repeat: int) -> None:
    city = cg.load_city()
    params = load_params(CohesionParams)

    def full() -> Any:
        return cg.score_districts(city, params, sensitivity=False)

    def every() -> Any:
        return suggest(city, params=params, k=3, progress=False)

    full()  # compile
    t_full, _ = best_of(repeat, full)
    t_suggest, found = best_of(repeat, every)
    c_full, c_suggest = _cpu(repeat, full), _cpu(repeat, every)
    n = len(found.table)
    sample = list(found.scenarios.values())[:5]
    t0 = time.perf_counter()
    for scenario in sample:
        cg.score_districts(apply(city, scenario), params, sensitivity=False)
    t_naive = (time.perf_counter() - t0) / len(sample) * n
    print(f"Helsinki: {found.table['candidate_id'].nunique()} sites, {n} options + portfolio of 3")
    print(f"  one full score run:        {t_full:8.2f} s")
    print(
        f"  suggest (every option):    {t_suggest:8.2f} s  = {t_suggest / t_full:.1f} x one run"
        " (target: 10 x)"
    )
    print(
        f"  the same in CPU time:      {c_full:8.2f} s one run, {c_suggest:.2f} s suggest "
        f"= {c_suggest / c_full:.1f} x"
    )
    print(f"  naive (full run each):     {t_naive:8.2f} s  (extrapolated from {len(sample)})")
    print(f"  ratio naive / suggest:     {t_naive / t_suggest:8.1f}")
    print(f"  peak memory:               {_peak_mb():8.0f} MB")


def workload_b(n_options: int) -> None:
    city = study_area("B", nodes_per_home=3)
    city.boundary = shapely.box(*city.walk_edges.total_bounds)  # the data edge: the network's
    params = load_params(CohesionParams)
    t0 = time.perf_counter()
    base = cohesion_state(city, params)
    t_base = time.perf_counter() - t0
    nodes = city.walk_nodes.iloc[np.linspace(0, len(city.walk_nodes) - 1, n_options).astype(int)]

    def options() -> Iterator[SimpleNamespace]:
        for i, (x, y) in enumerate(zip(nodes["x"], nodes["y"], strict=True)):
            park = gpd.GeoDataFrame(
                {"space_id": [-1 - i], "space_type": ["park"], "area_m2": [900.0]},
                geometry=[shapely.box(x - 15, y - 15, x + 15, y + 15)],
                crs=city.contact_spaces.crs,
            )
            spaces = pd.concat([city.contact_spaces, park], ignore_index=True)
            yield SimpleNamespace(**{**vars(city), "contact_spaces": spaces})

    t0 = time.perf_counter()
    before = base.districts["score"].mean()
    gains = [state.districts["score"].mean() - before for state in base.update_many(options())]
    t_options = time.perf_counter() - t0
    print(
        f"workload B: {len(city.walk_nodes):,} walk nodes, {len(city.homes):,} homes, "
        f"{len(city.contact_spaces):,} spaces"
    )
    print(f"  base state (with compile): {t_base:8.2f} s")
    print(f"  {n_options} options rescored:    {t_options:8.2f} s (target: under 60 s)")
    print(f"  per option:                {t_options / n_options * 1000:8.1f} ms")
    print(f"  largest mean gain:         {max(gains):8.4f} points")
    print(f"  peak memory:               {_peak_mb():8.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--options", type=int, default=500)
    parser.add_argument("--part", choices=["helsinki", "B", "both"], default="both")
    args = parser.parse_args()
    if args.part in {"helsinki", "both"}:
        helsinki(args.repeat)
    if args.part in {"B", "both"}:
        workload_b(args.options)


if __name__ == "__main__":
    main()
