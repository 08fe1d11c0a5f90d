"""Benchmark: the full HVM site assessment on Helsinki and on synthetic grids.

Measures :func:`cohesion_gis.hvm.assess.assess_sites` (sites, approach search for 4 vehicle
classes, requirements, risk, gaps) on

1. the embedded Helsinki study area (every site × M1, N1, N2A, N3C);
2. synthetic street grids (50 m blocks, 7 m streets) of 10k-100k nodes with 500 square sites
   (60 m squares centred on random junctions, so four streets enter each), to see how the cost
   grows with network size;
3. the 100k-node grid with 50-500 sites, to see how it grows with the number of sites.

Run: ``.venv/bin/python bench/hvm_sites.py`` (``--quick`` for smaller sizes). Prints seconds.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import time

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

import cohesion_gis as cg
from cohesion_gis.hvm.assess import assess_sites

BLOCK_M = 50.0
SITE_HALF_M = 30.0


def grid_edges(n_side: int, crs: object) -> gpd.GeoDataFrame:
    """A square street grid of ``n_side``² nodes, one row per undirected edge."""
    ids = np.arange(n_side * n_side).reshape(n_side, n_side)
    xy = np.stack(np.meshgrid(np.arange(n_side), np.arange(n_side)), axis=-1) * BLOCK_M
    u = np.concatenate([ids[:, :-1].ravel(), ids[:-1, :].ravel()])
    v = np.concatenate([ids[:, 1:].ravel(), ids[1:, :].ravel()])
    flat = xy.reshape(-1, 2)
    lines = shapely.linestrings(np.stack([flat[u], flat[v]], axis=1))
    return gpd.GeoDataFrame(
        {
            "u": u,
            "v": v,
            "osm_id": "way/0",
            "highway": "residential",
            "name": None,
            "length_m": BLOCK_M,
            "width_m": 7.0,
            "width_source": "default",
        },
        geometry=lines,
        crs=crs,
    )


def grid_sites(n_side: int, n_sites: int, crs: object, seed: int = 0) -> gpd.GeoDataFrame:
    """Square candidate sites centred on random interior junctions, never touching each other."""
    rng = np.random.default_rng(seed)
    lattice = np.arange(3, n_side - 3, 3)  # junctions 150 m apart: 60 m squares never touch
    picks = rng.choice(len(lattice) ** 2, size=min(n_sites, len(lattice) ** 2), replace=False)
    rows, cols = lattice[picks // len(lattice)], lattice[picks % len(lattice)]
    boxes = shapely.box(
        cols * BLOCK_M - SITE_HALF_M,
        rows * BLOCK_M - SITE_HALF_M,
        cols * BLOCK_M + SITE_HALF_M,
        rows * BLOCK_M + SITE_HALF_M,
    )
    return gpd.GeoDataFrame(
        {
            "site_id": [f"way/{k}" for k in range(len(boxes))],
            "name": [f"Square {k}" for k in range(len(boxes))],
            "kind": "square",
            "area_m2": shapely.area(boxes),
            "capacity_tag": np.nan,
            "building_levels": np.nan,
        },
        geometry=boxes,
        crs=crs,
    )


def synthetic_city(base: cg.City, n_nodes: int, n_sites: int) -> cg.City:
    n_side = round(n_nodes**0.5)
    crs = base.crs
    empty_walk = gpd.GeoDataFrame({"highway": pd.Series(dtype=str)}, geometry=[], crs=crs)
    xy = np.stack(np.meshgrid(np.arange(n_side), np.arange(n_side)), axis=-1).reshape(-1, 2)
    nodes = gpd.GeoDataFrame(
        {"x": xy[:, 0] * BLOCK_M, "y": xy[:, 1] * BLOCK_M},
        geometry=shapely.points(xy * BLOCK_M),
        index=pd.Index(np.arange(n_side * n_side), name="node_id"),
        crs=crs,
    )
    return dataclasses.replace(
        base,
        drive_nodes=nodes,
        drive_edges=grid_edges(n_side, crs),
        sites=grid_sites(n_side, n_sites, crs),
        walk_edges=empty_walk,
        buildings=base.buildings.iloc[:0],
        barriers=base.barriers.iloc[:0],
    )


def timed(city: cg.City) -> tuple[float, int, int]:
    start = time.perf_counter()
    result = assess_sites(city)
    return time.perf_counter() - start, len(result.sites), len(result.approaches)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller sizes")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    start = time.perf_counter()
    helsinki = cg.load_city()
    print(f"load Helsinki: {time.perf_counter() - start:.1f} s")
    timed(helsinki)  # warm up numba caches
    seconds, n_sites, n_rows = timed(helsinki)
    print(
        f"Helsinki: {n_sites} sites × 4 classes, {len(helsinki.drive_edges)} vehicle edges, "
        f"{n_rows} approach rows: {seconds:.1f} s"
    )
    sizes = (2_500, 10_000, 25_000) if args.quick else (10_000, 25_000, 50_000, 100_000)
    counts = (25, 50, 100) if args.quick else (50, 100, 250, 500)
    print("\nnetwork size (sites fixed)")
    print(f"{'nodes':>8} {'edges':>8} {'sites':>6} {'rows':>7} {'seconds':>8}")
    for n in sizes:
        city = synthetic_city(helsinki, n, counts[-1])
        seconds, n_sites, n_rows = timed(city)
        print(f"{n:>8} {len(city.drive_edges):>8} {n_sites:>6} {n_rows:>7} {seconds:>8.1f}")
    print("\nsite count (network fixed)")
    print(f"{'nodes':>8} {'sites':>6} {'rows':>7} {'seconds':>8} {'ms/site':>8}")
    for k in counts:
        city = synthetic_city(helsinki, sizes[-1], k)
        seconds, n_sites, n_rows = timed(city)
        per_site = 1000 * seconds / max(n_sites, 1)
        print(f"{sizes[-1]:>8} {n_sites:>6} {n_rows:>7} {seconds:>8.1f} {per_site:>8.0f}")


if __name__ == "__main__":
    main()
