"""Benchmark: a local intervention's HVM assessment, incremental vs full.

Times, best of ``--repeat``:

- **full**: :func:`cohesion_gis.hvm.assess.assess_sites` on the scenario City;
- **incremental**: :meth:`cohesion_gis.scenario.incremental.HvmState.update` from the base state
  (only the sites a change can reach are searched again).

Both results must be equal (checked here, every table; also
``tests/scenario/incremental/test_hvm.py``).
Cases:

1. Helsinki (embedded), one street closed at the study area's edge (the vehicle edge farthest
   from every site);
2. Helsinki, one street closed next to a site (the edge nearest to a site);
3. Helsinki, the ``scenarios/senaatintori_barriers.toml`` scheme (6 streets closed, 4 rated lines);
4. workload B of ``bench/hvm_sites.py``: the 100k-node grid with 500 sites, one street closed at
   the centre (``--no-grid`` skips it).

Run: ``.venv/bin/python bench/hvm_incremental.py [--repeat 3] [--no-grid]``
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely
from pandas.testing import assert_frame_equal

sys.path.insert(0, str(Path(__file__).resolve().parent))
from hvm_sites import synthetic_city
from workloads import best_of

import cohesion_gis as cg
from cohesion_gis.hvm.assess import SiteAssessment, assess_sites
from cohesion_gis.scenario import apply, hvm_state, load_scenario

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"


def without_edge(city: cg.City, row: int) -> cg.City:
    """The City with the street (every edge of its OSM id) of edge ``row`` closed."""
    edges = city.drive_edges
    street = edges["osm_id"] == edges["osm_id"].iloc[row]
    return dataclasses.replace(city, drive_edges=edges.loc[~street].reset_index(drop=True))


def site_distance(city: cg.City, base: SiteAssessment) -> np.ndarray:
    """Per vehicle edge, the distance (m) to the nearest site's crowd perimeter."""
    tree = shapely.STRtree(base.sites.geometry.to_numpy())
    (edge, _), dist = tree.query_nearest(city.drive_edges.geometry.to_numpy(), return_distance=True)
    out = np.full(len(city.drive_edges), np.inf)
    np.minimum.at(out, edge, dist)
    return out


def scenario_inputs(city: cg.City, path: Path) -> tuple[cg.City, Any]:
    """The scenario City without its rated barriers, and those (as ``compare`` passes them)."""
    scenario = apply(city, load_scenario(path))
    barriers = scenario.barriers
    rated = barriers["rating"].notna() if "rating" in barriers else pd.Series(False, barriers.index)
    plain = barriers.loc[~rated].drop(columns="rating", errors="ignore")
    proposed = barriers.loc[rated, ["barrier_id", "rating", "geometry"]] if rated.any() else None
    return dataclasses.replace(scenario, barriers=plain), proposed


def compare_runs(label: str, base_city: cg.City, scenario: cg.City, proposed: Any, repeat: int):
    base = hvm_state(base_city)
    full_s, full = best_of(repeat, lambda: assess_sites(scenario, barriers=proposed))
    fast_s, update = best_of(repeat, lambda: base.update(scenario, barriers=proposed))
    for name in ("sites", "approaches", "entries", "gaps", "barriers"):
        assert_frame_equal(getattr(full, name), getattr(update.result, name), check_exact=True)
    print(
        f"{label:<44} {full_s:>7.2f} {fast_s:>7.2f} {fast_s / full_s:>6.2f}  {update.recomputed}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3, help="runs per timing (best is kept)")
    parser.add_argument("--no-grid", action="store_true", help="skip the 100k-node grid")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    helsinki = cg.load_city()
    base = assess_sites(helsinki)  # also warms the numba caches
    dist = site_distance(helsinki, base)
    print(f"{'case':<44} {'full s':>7} {'incr s':>7} {'ratio':>6}  note")
    far, near = int(np.argmax(dist)), int(np.argmin(dist))
    cases = [
        (f"Helsinki: close {helsinki.drive_edges['osm_id'].iloc[far]} (edge)",
         without_edge(helsinki, far), None),
        (f"Helsinki: close {helsinki.drive_edges['osm_id'].iloc[near]} (at a site)",
         without_edge(helsinki, near), None),
        ("Helsinki: senaatintori_barriers.toml",
         *scenario_inputs(helsinki, SCENARIOS / "senaatintori_barriers.toml")),
    ]  # fmt: skip
    for label, scenario, proposed in cases:
        compare_runs(label, helsinki, scenario, proposed, args.repeat)
    if not args.no_grid:
        grid = synthetic_city(helsinki, 100_000, 500)
        edges = grid.drive_edges
        middle = shapely.centroid(shapely.union_all(grid.sites.geometry.to_numpy()))
        centre = int(shapely.STRtree(edges.geometry.to_numpy()).query_nearest(middle)[0])
        closed = dataclasses.replace(
            grid, drive_edges=edges.drop(index=centre).reset_index(drop=True)
        )
        label = f"grid 100k nodes, 500 sites: close edge {centre}"
        compare_runs(label, grid, closed, None, args.repeat)


if __name__ == "__main__":
    main()
