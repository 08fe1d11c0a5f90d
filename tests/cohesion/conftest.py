"""Tiny hand-built networks for hand-computed cohesion cases (EPSG:3067, metres)."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import LineString, Point, box

CRS = "EPSG:3067"


def network(points: dict[int, tuple[float, float]], links: list[tuple[int, int]], **flags):
    """Nodes and edges tables of the data contract from coordinates and node pairs."""
    nodes = gpd.GeoDataFrame(
        {
            "x": [p[0] for p in points.values()],
            "y": [p[1] for p in points.values()],
            "crossing": [n in flags.get("crossings", ()) for n in points],
        },
        geometry=[Point(p) for p in points.values()],
        index=pd.Index(list(points), name="node_id"),
        crs=CRS,
    )
    lines = [LineString([points[u], points[v]]) for u, v in links]
    edges = gpd.GeoDataFrame(
        {
            "u": [u for u, _ in links],
            "v": [v for _, v in links],
            "osm_id": [f"way/{i}" for i in range(len(links))],
            "highway": [
                "primary" if (u, v) in flags.get("roads", ()) else "footway" for u, v in links
            ],
            "name": None,
            "length_m": [line.length for line in lines],
            "severance": [(u, v) in flags.get("roads", ()) for u, v in links],
        },
        geometry=lines,
        crs=CRS,
    )
    return nodes, edges


def homes(points: list[tuple[float, float]], population: list[float], districts=None):
    return gpd.GeoDataFrame(
        {
            "home_id": [f"way/{i}" for i in range(len(points))],
            "population": population,
            "district_id": districts or ["d1"] * len(points),
        },
        geometry=[Point(p) for p in points],
        crs=CRS,
    )


def spaces(items: list[tuple[str, tuple[float, float], float]]):
    """(space_type, centre, side length m; 0 for a point) per space."""
    geoms = [
        Point(c)
        if side == 0
        else box(c[0] - side / 2, c[1] - side / 2, c[0] + side / 2, c[1] + side / 2)
        for _, c, side in items
    ]
    return gpd.GeoDataFrame(
        {
            "space_id": [f"way/{100 + i}" for i in range(len(items))],
            "space_type": [t for t, _, _ in items],
            "area_m2": [side * side for _, _, side in items],
        },
        geometry=geoms,
        crs=CRS,
    )


@pytest.fixture
def line():
    """A straight 2 km footway along the x axis, nodes every 100 m."""
    points = {i: (100.0 * i, 0.0) for i in range(21)}
    return network(points, [(i, i + 1) for i in range(20)])
