"""One-space change on a ~100k-node synthetic street grid: incremental rescoring vs a full run.

A square grid of walkable streets (100 m blocks split into 10 m edges, ~100,000 nodes), every
10th street a major road (severance) with crossings at every other junction, 20,000 homes and
400 contact spaces of every type. The scenario adds one park. The full run is
:func:`cohesion_gis.cohesion.score_districts` on the scenario City; the incremental one is
:func:`cohesion_gis.scenario.incremental.rescore` from the base state. Both give the same scores
(checked here and in tests/test_compare.py).

Run: ``.venv/bin/python bench/scenario_incremental.py``
"""

from __future__ import annotations

import time
from dataclasses import replace

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from cohesion_gis.city import City, Provenance
from cohesion_gis.cohesion import CohesionParams, score_districts
from cohesion_gis.scenario.incremental import rescore, score_state
from cohesion_gis.taxonomy import load_taxonomy

SIDE = 317  # nodes per side: 317² ≈ 100k
STEP_M = 10.0
SEED = 7


def grid_city() -> City:
    rng = np.random.default_rng(SEED)
    crs = CRS(32635)
    ij = np.arange(SIDE)
    xx, yy = np.meshgrid(ij * STEP_M, ij * STEP_M)
    node_id = np.arange(SIDE * SIDE).reshape(SIDE, SIDE)
    on_street = (np.arange(SIDE) % 10) == 0
    major = (np.arange(SIDE) % 100) == 0
    u, v, sev = [], [], []
    for axis in (0, 1):  # horizontal edges along streets rows, vertical along street columns
        a = node_id[:, :-1] if axis == 0 else node_id[:-1, :]
        b = node_id[:, 1:] if axis == 0 else node_id[1:, :]
        keep = on_street[:, None] if axis == 0 else on_street[None, :]
        keep = np.broadcast_to(keep, a.shape)
        road = np.broadcast_to(major[:, None] if axis == 0 else major[None, :], a.shape)
        u.append(a[keep]), v.append(b[keep]), sev.append(road[keep])
    u, v, sev = np.concatenate(u), np.concatenate(v), np.concatenate(sev)
    used = np.unique(np.r_[u, v])
    x, y = xx.ravel(), yy.ravel()
    nodes = gpd.GeoDataFrame(
        {"x": x[used], "y": y[used], "crossing": (x[used] % 200 == 0) & (y[used] % 200 == 0)},
        geometry=gpd.points_from_xy(x[used], y[used]),
        index=pd.Index(used, name="node_id"),
        crs=crs,
    )
    lines = shapely.linestrings(np.stack([np.c_[x[u], y[u]], np.c_[x[v], y[v]]], axis=1))
    edges = gpd.GeoDataFrame(
        {"u": u, "v": v, "osm_id": [f"way/{k // 10}" for k in range(u.size)],
         "highway": np.where(sev, "primary", "residential"), "name": None,
         "length_m": STEP_M, "severance": sev, "bridge": False, "tunnel": False},
        geometry=lines, crs=crs,
    )  # fmt: skip
    extent = (SIDE - 1) * STEP_M
    n_homes = 20_000
    hx, hy = rng.uniform(0, extent, n_homes), rng.uniform(0, extent, n_homes)
    cell = [f"d{int(a // 1000)}-{int(b // 1000)}" for a, b in zip(hx, hy, strict=True)]
    homes = gpd.GeoDataFrame(
        {"home_id": [f"h{i}" for i in range(n_homes)], "population": rng.integers(1, 40, n_homes),
         "district_id": cell},
        geometry=gpd.points_from_xy(hx, hy), crs=crs,
    )  # fmt: skip
    types = ["playground", "park", "sport", "library", "community_centre", "square", "market"]
    n_spaces = 400
    sx, sy = rng.uniform(0, extent, n_spaces), rng.uniform(0, extent, n_spaces)
    spaces = gpd.GeoDataFrame(
        {"space_id": [f"s{i}" for i in range(n_spaces)], "name": None,
         "space_type": rng.choice(types, n_spaces), "area_m2": 2500.0, "n_mapped_entrances": 0},
        geometry=gpd.GeoSeries(gpd.points_from_xy(sx, sy)).buffer(25.0, cap_style="square"),
        crs=crs,
    )  # fmt: skip
    cells = sorted(set(homes["district_id"]))
    districts = gpd.GeoDataFrame(
        {"district_id": cells, "name": cells},
        geometry=[shapely.box(int(c[1:].split("-")[0]) * 1000, int(c.split("-")[1]) * 1000,
                              int(c[1:].split("-")[0]) * 1000 + 1000,
                              int(c.split("-")[1]) * 1000 + 1000) for c in cells],
        crs=crs,
    )  # fmt: skip
    empty = gpd.GeoDataFrame(geometry=[], crs=crs)
    return City(
        name="grid", crs=crs, boundary=shapely.box(0, 0, extent, extent),
        walk_nodes=nodes, walk_edges=edges, drive_nodes=nodes, drive_edges=edges,
        contact_spaces=spaces, sites=empty, buildings=empty, barriers=empty, landuse=empty,
        parking=empty, severance_lines=empty, districts=districts, homes=homes,
        taxonomy=load_taxonomy(), provenance=Provenance("synthetic grid", "", {}, ""),
    )  # fmt: skip


def main() -> None:
    city = grid_city()
    params = CohesionParams.from_toml()
    print(f"grid: {len(city.walk_nodes):,} nodes, {len(city.walk_edges):,} edges, "
          f"{len(city.homes):,} homes, {len(city.contact_spaces)} spaces")  # fmt: skip
    t0 = time.perf_counter()
    base = score_state(city, params)
    t_base = time.perf_counter() - t0
    park = gpd.GeoDataFrame(
        {"space_id": ["new"], "name": ["new park"], "space_type": ["park"], "area_m2": [10_000.0],
         "n_mapped_entrances": [0]},
        geometry=[shapely.box(1500, 1500, 1600, 1600)], crs=city.crs,
    )  # fmt: skip
    after = replace(city, contact_spaces=pd.concat([city.contact_spaces, park], ignore_index=True))
    score_districts(after, params, sensitivity=False)  # warm-up (compiled search)
    t0 = time.perf_counter()
    full = score_districts(after, params, sensitivity=False)
    t_full = time.perf_counter() - t0
    t0 = time.perf_counter()
    inc = rescore(city, base, after, params)
    t_inc = time.perf_counter() - t0
    cols = ["access", "diversity", "bridging", "capacity", "severance", "score"]
    same = np.allclose(full.homes[cols].to_numpy(), inc.result.homes[cols].to_numpy(), rtol=1e-9)
    print(f"base state (first run): {t_base:.2f} s")
    print(f"full run on the scenario: {t_full:.2f} s")
    print(f"incremental ({inc.recomputed}): {t_inc:.2f} s")
    print(f"ratio incremental / full: {t_inc / t_full:.3f}  (same scores: {same})")


if __name__ == "__main__":
    main()
