"""The full contact-space cohesion score at metro scale, timed stage by stage.

Builds a City-like study area on the synthetic lattices of ``bench/workloads.py`` (B: ~100k
walk nodes, C: ~1M) and runs :func:`cohesion_gis.cohesion.score_districts` on it, unchanged,
printing wall time, CPU time and peak RSS of every stage:

- ``barrier-aware network``: major roads split so they are crossed only at crossings;
- ``reach (aware)`` / ``reach (free)``: snapping, entrances, the engine's bounded searches and the
  home × space distance table, on the barrier-aware and on the plain network;
- ``components``: access, diversity, bridging, capacity per home and space;
- ``districts``, ``sensitivity`` (distances ±25 %, slow walking, 20 weight draws), ``space flags``.

The synthetic study area:

- walk network: the workload's lattice; every 20th row and column of the lattice (1 km apart) is a
  major road (``severance`` True, ``highway`` "primary") with a mapped crossing at every 4th node;
- homes: one per ``--nodes-per-home`` nodes (default 3), points 5-30 m beside a random edge,
  population 1 + Poisson(20), split into two resident groups (``pop_long_term``,
  ``pop_new_arrivals``) whose share drifts across the city, so bridging has something to find;
- contact spaces: 5 per 100 nodes (5,000 on B, 50,000 on C), of the taxonomy's eight types; parks,
  squares and sports grounds are square polygons (park sides lognormal, ~2 % of parks over 20 ha),
  the rest points;
- districts: 2.5 km squares.

Usage::

    .venv/bin/python bench/cohesion_scale.py --workload B|C [--no-sensitivity]

Inside ``reach`` the snapping (``snap_to_edges``), the entrances (``entrance_points``), the graph
(``csr_from_edges``) and the engine (``distances_to_points``) are timed one by one.

Each workload runs in its own process; a watchdog thread stops the run if its RSS passes
``--max-rss-gb`` (default 10), since the machine is shared.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import workloads

SPACING_M = 50.0
ROAD_EVERY = 20
DISTRICT_M = 2500.0
TYPES = {  # share of spaces, polygon?
    "playground": (0.22, False),
    "park": (0.20, True),
    "sport": (0.18, True),
    "square": (0.08, True),
    "community_centre": (0.10, False),
    "youth_centre": (0.07, False),
    "library": (0.08, False),
    "market": (0.07, False),
}


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


class Watch:
    """Polls RSS in a thread: the peak within each stage, and a hard stop above a limit."""

    def __init__(self, max_rss_mb: float) -> None:
        self.max_rss_mb = max_rss_mb
        self.stage_peak = 0.0
        self.rows: list[dict[str, Any]] = []
        self.depth = 0
        threading.Thread(target=self._poll, daemon=True).start()

    def _poll(self) -> None:
        while True:
            now = rss_mb()
            self.stage_peak = max(self.stage_peak, now)
            if now > self.max_rss_mb:
                print(
                    f"ABORT: RSS {now:.0f} MB over the {self.max_rss_mb:.0f} MB limit", flush=True
                )
                os._exit(3)
            time.sleep(0.02)

    @contextlib.contextmanager
    def stage(self, name: str) -> Iterator[None]:
        outer_peak = self.stage_peak
        self.stage_peak = rss_mb()
        self.depth += 1
        t, c = time.perf_counter(), time.process_time()
        yield
        wall, cpu = time.perf_counter() - t, time.process_time() - c
        self.depth -= 1
        row = {"stage": name, "wall_s": wall, "cpu_s": cpu, "peak_rss_mb": self.stage_peak}
        self.rows.append(row)
        print(
            f"  {'  ' * self.depth}{name:28s} {wall:8.2f} s wall {cpu:8.2f} s cpu  "
            f"peak RSS {self.stage_peak:7.0f} MB",
            flush=True,
        )
        self.stage_peak = max(outer_peak, self.stage_peak)

    def wrap(self, module: Any, attr: str, name: str) -> None:
        """Time every call of ``module.attr`` (the real function, called by the real code)."""
        real: Callable[..., Any] = getattr(module, attr)
        counter = {"n": 0}

        def timed(*args: Any, **kwargs: Any) -> Any:
            counter["n"] += 1
            label = name if counter["n"] == 1 else f"{name} #{counter['n']}"
            with self.stage(label):
                return real(*args, **kwargs)

        setattr(module, attr, timed)


def study_area(name: str, *, nodes_per_home: float, seed: int = 1) -> SimpleNamespace:
    """A City-like namespace on workload ``name``'s lattice (see the module docstring)."""
    import geopandas as gpd
    import pandas as pd
    import shapely

    import cohesion_gis

    w = workloads.load(name)
    rng = np.random.default_rng(seed)
    crs = "EPSG:32635"
    ids, x, y = w["node_ids"], w["x"], w["y"]
    col, row = np.rint(x / SPACING_M).astype(np.int64), np.rint(y / SPACING_M).astype(np.int64)
    u, v = w["u"], w["v"]
    mid = ROAD_EVERY // 2
    road = ((row[u] == row[v]) & (row[u] % ROAD_EVERY == mid)) | (
        (col[u] == col[v]) & (col[u] % ROAD_EVERY == mid)
    )
    crossing = ((row % ROAD_EVERY == ROAD_EVERY // 2) | (col % ROAD_EVERY == ROAD_EVERY // 2)) & (
        (row + col) % 4 == 0
    )
    nodes = gpd.GeoDataFrame(
        {"x": x, "y": y, "crossing": crossing},
        geometry=gpd.points_from_xy(x, y),
        index=pd.Index(ids, name="node_id"),
        crs=crs,
    )
    lines = shapely.linestrings(np.stack([np.stack([x[u], y[u]], 1), np.stack([x[v], y[v]], 1)], 1))
    edges = gpd.GeoDataFrame(
        {
            "u": ids[u],
            "v": ids[v],
            "osm_id": [f"way/{k}" for k in range(u.size)],
            "highway": np.where(road, "primary", "residential"),
            "name": None,
            "length_m": w["length_m"],
            "severance": road,
        },
        geometry=lines,
        crs=crs,
    )

    n_homes = int(x.size / nodes_per_home)
    e = rng.integers(0, u.size, n_homes)
    t = rng.uniform(0.1, 0.9, n_homes)
    dx, dy = x[v[e]] - x[u[e]], y[v[e]] - y[u[e]]
    norm = np.hypot(dx, dy)
    side = rng.choice([-1.0, 1.0], n_homes) * rng.uniform(5.0, 30.0, n_homes)
    hx = x[u[e]] + t * dx - dy / norm * side
    hy = y[u[e]] + t * dy + dx / norm * side
    population = 1.0 + rng.poisson(20.0, n_homes)
    # the share of new arrivals drifts from 10 % in the west to 60 % in the east, with noise
    share = np.clip(0.1 + 0.5 * (hx - x.min()) / np.ptp(x) + rng.normal(0, 0.1, n_homes), 0, 1)
    district = (
        (hx // DISTRICT_M).astype(np.int64) * 1000 + (hy // DISTRICT_M).astype(np.int64)
    ).astype(str)
    homes = gpd.GeoDataFrame(
        {
            "home_id": np.arange(n_homes),
            "population": population,
            "pop_long_term": population * (1 - share),
            "pop_new_arrivals": population * share,
            "district_id": np.char.add("d", district),
        },
        geometry=gpd.points_from_xy(hx, hy),
        crs=crs,
    )

    n_spaces = round(0.05 * x.size)
    kinds = list(TYPES)
    kind = rng.choice(len(kinds), n_spaces, p=[TYPES[k][0] for k in kinds])
    at = rng.integers(0, x.size, n_spaces)
    sx, sy = x[at] + rng.uniform(-20, 20, n_spaces), y[at] + rng.uniform(-20, 20, n_spaces)
    area = np.zeros(n_spaces)
    park = kind == kinds.index("park")
    area[park] = np.clip(rng.lognormal(np.log(8000.0), 1.3, park.sum()), 300.0, 600_000.0)
    for k in ("sport", "square"):
        pick = kind == kinds.index(k)
        area[pick] = rng.uniform(400.0, 6000.0, pick.sum())
    polygon = np.array([TYPES[kinds[k]][1] for k in kind])
    half = np.sqrt(area) / 2
    geoms = np.where(
        polygon,
        shapely.box(sx - half, sy - half, sx + half, sy + half),
        shapely.points(sx, sy),
    )
    spaces = gpd.GeoDataFrame(
        {
            "space_id": np.arange(n_spaces),
            "space_type": np.array(kinds)[kind],
            "area_m2": np.where(polygon, area, 0.0),
        },
        geometry=geoms,
        crs=crs,
    )

    gx = np.arange(x.min() // DISTRICT_M, x.max() // DISTRICT_M + 1)
    gy = np.arange(y.min() // DISTRICT_M, y.max() // DISTRICT_M + 1)
    cx, cy = (a.ravel() for a in np.meshgrid(gx, gy))
    ids_d = np.char.add("d", (cx.astype(np.int64) * 1000 + cy.astype(np.int64)).astype(str))
    districts = gpd.GeoDataFrame(
        {"district_id": ids_d, "name": np.char.add("District ", ids_d)},
        geometry=shapely.box(
            cx * DISTRICT_M, cy * DISTRICT_M, (cx + 1) * DISTRICT_M, (cy + 1) * DISTRICT_M
        ),
        crs=crs,
    )
    return SimpleNamespace(
        name=f"synthetic {name}",
        walk_nodes=nodes,
        walk_edges=edges,
        homes=homes,
        contact_spaces=spaces,
        districts=districts,
        taxonomy=cohesion_gis.load_taxonomy(),
    )


def run(name: str, *, nodes_per_home: float, sensitivity: bool, max_rss_gb: float) -> dict:
    from cohesion_gis.cohesion import score

    watch = Watch(max_rss_gb * 1024)
    with watch.stage("build synthetic study area"):
        city = study_area(name, nodes_per_home=nodes_per_home)
    print(
        f"  {len(city.walk_nodes):,} walk nodes, {len(city.walk_edges):,} edges "
        f"({int(city.walk_edges['severance'].sum()):,} major road), {len(city.homes):,} homes "
        f"({city.homes['population'].sum():,.0f} residents), {len(city.contact_spaces):,} spaces "
        f"({int((city.contact_spaces.geom_type == 'Polygon').sum()):,} polygons), "
        f"{len(city.districts)} districts",
        flush=True,
    )
    import cohesion_gis.cohesion.reach as reach_module

    watch.wrap(score, "barrier_aware_network", "barrier-aware network")
    watch.wrap(score, "reach", "reach")
    for attr in ("csr_from_edges", "snap_to_edges", "entrance_points"):
        watch.wrap(reach_module, attr, attr)
    watch.wrap(reach_module, "distances_to_points", "engine: distances_to_points")
    watch.wrap(score, "home_components", "components")
    watch.wrap(score, "_districts", "districts")
    watch.wrap(score, "_sensitivity", "sensitivity")
    watch.wrap(score, "space_flags", "space flags")
    with watch.stage("score_districts (total)"):
        result = score.score_districts(city, sensitivity=sensitivity)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    total = watch.rows[-1]
    checksum = float(result.homes["score"].sum())
    print(
        f"== {name}: score_districts {total['wall_s']:.1f} s wall "
        f"({total['cpu_s']:.1f} s cpu), process peak RSS {peak:,.0f} MB; "
        f"{len(result.districts)} districts, mean district score "
        f"{result.districts['score'].mean():.3f}, sum of home scores {checksum!r}",
        flush=True,
    )
    return {
        "workload": name,
        "stages": watch.rows,
        "process_peak_rss_mb": peak,
        "home_score_sum": checksum,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workload", default="B", choices=["B", "C", "L10k", "L300k"])
    parser.add_argument("--nodes-per-home", type=float, default=3.0)
    parser.add_argument("--no-sensitivity", action="store_true")
    parser.add_argument("--max-rss-gb", type=float, default=10.0)
    args = parser.parse_args()
    report = run(
        args.workload,
        nodes_per_home=args.nodes_per_home,
        sensitivity=not args.no_sensitivity,
        max_rss_gb=args.max_rss_gb,
    )
    workloads.OUTPUT.mkdir(exist_ok=True)
    out = workloads.OUTPUT / f"cohesion_scale_{args.workload}.json"
    out.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
