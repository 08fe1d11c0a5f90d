"""``network.graph``: CSR tables from edges and pairs, components and spanning forests (scipy as
the reference).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.sparse import coo_array
from scipy.sparse.csgraph import connected_components, minimum_spanning_tree

from cohesion_gis.errors import InputError
from cohesion_gis.network import components, csr_from_edges, csr_from_pairs, spanning_forest

from .conftest import random_graph
from .reference import undirected_edges


def test_csr_keeps_shortest_parallel_edge_and_drops_loops() -> None:
    nodes = pd.DataFrame({"x": [0.0, 1, 2], "y": [0.0, 0, 0]}, index=[30, 10, 20])
    edges = pd.DataFrame(
        {
            "u": [30, 10, 20, 30, 10],
            "v": [10, 30, 10, 30, 20],
            "length_m": [5.0, 3.0, 7.0, 1.0, 9.0],
        }
    )
    csr = csr_from_edges(nodes, edges)
    assert csr.node_ids.tolist() == [30, 10, 20]
    assert csr.n_edges == 2
    assert csr.indptr.tolist() == [0, 1, 3, 4]
    assert csr.indices.tolist() == [1, 0, 2, 1]
    assert csr.weights_m.tolist() == [3.0, 3.0, 7.0, 7.0]
    assert csr.indices.dtype == np.int32
    assert csr.indptr.dtype == np.int64
    assert csr.node_index([20, 30]).tolist() == [2, 0]


def test_csr_rejects_bad_tables() -> None:
    nodes = pd.DataFrame({"x": [0.0, 1], "y": [0.0, 0]}, index=[1, 2])
    edges = pd.DataFrame({"u": [1], "v": [2], "length_m": [1.0]})
    with pytest.raises(InputError, match=r"missing column\(s\) \['length_m'\]"):
        csr_from_edges(nodes, edges.drop(columns="length_m"))
    with pytest.raises(InputError, match="name node ids missing"):
        csr_from_edges(nodes, edges.assign(v=[9]))
    with pytest.raises(InputError, match="negative or not finite"):
        csr_from_edges(nodes, edges.assign(length_m=[-1.0]))
    with pytest.raises(InputError, match="node id\\(s\\) repeat"):
        csr_from_edges(nodes.set_axis([1, 1]), edges)
    with pytest.raises(InputError, match="not in the network's nodes table"):
        csr_from_edges(nodes, edges).node_index([5])


def test_components_and_csr_from_pairs_match_scipy_and_csr_from_edges() -> None:
    csr = random_graph(3000, 9)
    u, v, length = undirected_edges(csr)
    cut = length < np.quantile(length, 0.6)  # drop the longest edges: many parts
    n_parts, label = components(csr.n_nodes, u[cut], v[cut])
    graph = coo_array((np.ones(cut.sum()), (u[cut], v[cut])), shape=(csr.n_nodes,) * 2)
    expected = connected_components(graph, directed=False)
    assert 10 < n_parts == expected[0]
    np.testing.assert_array_equal(label, expected[1])
    again = csr_from_pairs(
        np.r_[u, v[:5]], np.r_[v, u[:5]], np.r_[length, length[:5] + 1], x=csr.x, y=csr.y
    )
    for field in ("indptr", "indices", "weights_m", "x", "y"):
        np.testing.assert_array_equal(getattr(again, field), getattr(csr, field))


def test_spanning_forest_is_scipys_with_ties() -> None:
    """Points on a 1 m grid (many equal distances) in a few clusters: the forest scipy picks."""
    rng = np.random.default_rng(13)
    xy = np.r_[rng.integers(0, 12, (150, 2)), rng.integers(40, 50, (100, 2))].astype(float)
    xy = np.unique(xy, axis=0)
    a, b = np.triu_indices(len(xy), 1)
    dist = np.hypot(*(xy[a] - xy[b]).T)
    near = dist <= 3.0
    a, b, dist = a[near], b[near], dist[near]
    assert np.unique(dist).size < 0.01 * dist.size  # ties everywhere
    kept = spanning_forest(len(xy), a, b, dist)
    tree = minimum_spanning_tree(coo_array((dist, (a, b)), shape=(len(xy),) * 2).tocsr()).tocoo()
    assert kept.size == tree.row.size > 100
    np.testing.assert_array_equal(a[kept], tree.row)
    np.testing.assert_array_equal(b[kept], tree.col)
    np.testing.assert_array_equal(dist[kept], tree.data)
