"""Agreement with a peer library on the same graph and points: pandana (test-only dependency).

What is checked is the path every cohesion component runs: the City's walk graph
(``City.walk_csr``), points snapped with :func:`~cohesion_gis.network.snap_to_edges` and the
one-pass :func:`~cohesion_gis.network.distances_to_points`. pandana puts a POI on its nearest node
and aggregates at nodes, so here the POIs (contact spaces and sites) are moved to their nearest
node and the "homes" are the nodes themselves (those snapped onto their own edges), both
snapped to the walk edges as the product snaps homes and entrances.

pandana stores edge lengths as whole millimetres, so along a path of many edges its distances
drift by up to a few centimetres: a POI that close to a threshold can fall on the other side of it
there. Counts must therefore agree on every node except those with a POI within 5 cm of the
threshold (measured on Helsinki: 16 of 5,863 nodes at 800 m, all within 3 cm), and gravity sums
to 1e-4 relative.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from scipy.spatial import cKDTree

from cohesion_gis.network import EdgeIndex, SnappedPoints, distances_to_points, snap_to_edges


def test_counts_and_gravity_agree_with_pandana(helsinki) -> None:
    pandana = pytest.importorskip("pandana")  # installed by the test extra
    csr, edges = helsinki.walk_csr, helsinki.walk_edges
    index = EdgeIndex(edges)

    def snapped_nodes(node: np.ndarray) -> SnappedPoints:
        at = gpd.GeoSeries(shapely.points(csr.x[node], csr.y[node]), crs=edges.crs)
        snapped = snap_to_edges(at, edges, csr, index=index)
        assert snapped.snapped.all()
        np.testing.assert_array_equal(snapped.snap_m, 0.0)  # every node lies on its edges
        return snapped

    nodes = snapped_nodes(np.arange(csr.n_nodes))
    # A few nodes share their place with another node (two OSM nodes, one position): a point
    # there is snapped to either node's edge. Only nodes snapped onto their own edges count.
    own = (nodes.node_u == np.arange(csr.n_nodes)) | (nodes.node_v == np.arange(csr.n_nodes))
    assert own.mean() > 0.97
    centroids = pd.concat([helsinki.contact_spaces.geometry, helsinki.sites.geometry]).centroid
    _, k = cKDTree(np.c_[csr.x[own], csr.y[own]]).query(np.c_[centroids.x, centroids.y])
    nearest = np.flatnonzero(own)[k]
    pois = snapped_nodes(nearest)
    # point = node, group = POI; searched beyond 800 m to see POIs just over a threshold
    table = distances_to_points(csr, pois, nodes, limit_m=850.0)
    node, dist = table["point"].to_numpy(), table["dist_m"].to_numpy()
    ours = {limit: np.bincount(node[dist <= limit], minlength=csr.n_nodes) for limit in (400, 800)}
    within = dist <= 800.0
    ours_gravity = np.bincount(node[within], np.exp(-dist[within] / 800.0), minlength=csr.n_nodes)

    ids = csr.node_ids
    src = np.repeat(np.arange(ids.size), np.diff(csr.indptr))
    keep = src < csr.indices  # each undirected edge once
    net = pandana.Network(
        pd.Series(csr.x, index=ids),
        pd.Series(csr.y, index=ids),
        pd.Series(ids[src[keep]]),
        pd.Series(ids[csr.indices[keep]]),
        pd.DataFrame({"length": csr.weights_m[keep]}),
        twoway=True,
    )
    net.precompute(800.0)
    poi_ids = pd.Series(ids[nearest])
    net.set(poi_ids, variable=pd.Series(np.ones(poi_ids.size)), name="poi")
    for limit in (400, 800):
        theirs = net.aggregate(float(limit), type="count", decay="flat", name="poi").reindex(ids)
        assert ours[limit].sum() > 10 * ids.size
        differ = np.flatnonzero((ours[limit] != theirs.to_numpy()) & own)
        assert differ.size <= 0.01 * ids.size
        for n in differ:
            margin = np.abs(dist[node == n] - limit).min()
            assert margin < 0.05, f"node {ids[n]}: nearest POI {margin:.3f} m from {limit} m"
    gravity = net.aggregate(800.0, type="sum", decay="exp", name="poi").reindex(ids).to_numpy()
    # where a POI sits on the 800 m threshold, the sums differ by exactly its weight e^-1
    extra = theirs.to_numpy() - ours[800]
    np.testing.assert_allclose(
        (ours_gravity + extra * np.exp(-1.0))[own], gravity[own], rtol=1e-4, atol=1e-4
    )
