"""Street networks of the study area: pedestrian and hostile-vehicle, as node and edge tables.

Both networks come from the same raw OSM segments (:class:`~cohesion_gis.sources.osm.OsmExtract`)
projected to the study area's metric CRS:

- the **walk** network: every walkable way (taxonomy ``network.walk_highways`` minus
  ``walk_excluded``, which drops underground vehicle tunnels); edges of major roads and railways
  carry ``severance=True``, nodes where a crossing is mapped carry ``crossing=True`` (cohesion
  reference §3.4, severance);
- the **hostile-vehicle** network: every way a vehicle could physically use — all road classes,
  service roads, pedestrian streets and tracks, plus footways and cycleways whose tagged width is
  at least ``vehicle_min_width_m`` — ignoring oneway, access and turn restrictions (HVM reference
  §7). Each edge has a carriageway width estimate ``width_m`` from the ``width`` tag, else
  ``lanes`` × lane width, else a default by class, and says which in ``width_source``.

Edge tables hold one row per undirected segment; :func:`to_osmnx_graph` makes the osmnx-compatible
``MultiDiGraph`` with both directions.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from cohesion_gis.taxonomy import NetworkRules, Rule, matches

__all__ = ["osm_number", "to_osmnx_graph", "vehicle_network", "walk_network"]

log = logging.getLogger(__name__)

_NUMBER = re.compile(r"^\s*(\d+(?:[.,]\d+)?)\s*(m|metres|meters)?\s*$")


def walk_network(
    segments: gpd.GeoDataFrame, nodes: gpd.GeoDataFrame, *, rules: NetworkRules
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Build the pedestrian network from projected raw segments and nodes.

    Parameters
    ----------
    segments
        Raw segments (``u``, ``v``, ``osm_id``, ``tags``, geometry) in a metric CRS.
    nodes
        Raw nodes indexed by OSM node id (``tags``, geometry) in the same CRS.
    rules
        The taxonomy's network rules.

    Returns
    -------
    nodes, edges
        ``nodes`` indexed by ``node_id`` with ``x``, ``y`` (m) and ``crossing``; ``edges`` with
        ``u, v, osm_id, highway, name, length_m, severance, bridge, tunnel, entry`` and
        LineStrings; ``entry`` is False on ways homes and spaces do not enter the network by
        (tunnels, underground, indoor: taxonomy ``network.entry_excluded``).
    """
    tags = segments["tags"]
    highway = _values(tags, "highway")
    walkable = highway.isin(rules.walk_highways) & ~_any_match(tags, rules.walk_excluded)
    walkable &= _proper(segments)
    edges = _edge_table(segments.loc[walkable], highway.loc[walkable])
    edges["severance"] = edges["highway"].isin(rules.severance_highways).to_numpy()
    edges["bridge"] = _flag(segments.loc[walkable], "bridge")
    edges["tunnel"] = _flag(segments.loc[walkable], "tunnel")
    edges["entry"] = ~_any_match(tags.loc[walkable], rules.entry_excluded)
    crossing_way = _values(segments.loc[walkable, "tags"], "footway").to_numpy() == "crossing"
    out_nodes = _node_table(nodes, edges)
    crossing = _any_match(out_nodes["tags"], rules.crossing_node_tags)
    crossing_ends = pd.Index(edges.loc[crossing_way, ["u", "v"]].to_numpy().ravel())
    out_nodes["crossing"] = crossing | out_nodes.index.isin(crossing_ends)
    log.info(
        "walk network: %d nodes, %d edges (%d on major roads)",
        len(out_nodes), len(edges), int(edges["severance"].sum()),
    )  # fmt: skip
    return out_nodes.drop(columns="tags"), edges


def vehicle_network(
    segments: gpd.GeoDataFrame, nodes: gpd.GeoDataFrame, *, rules: NetworkRules
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Build the hostile-vehicle network: every way a vehicle could physically drive.

    Oneway, access and turn restrictions are ignored on purpose (a hostile driver ignores them).

    Returns
    -------
    nodes, edges
        As :func:`walk_network`, edges with ``width_m`` (carriageway width estimate, m),
        ``width_source`` (``"tag"``, ``"lanes"`` or ``"default"``), ``tunnel`` (any ``tunnel``
        value but ``no``: ``yes``, ``building_passage``...), ``covered`` and ``layer`` (OSM
        ``layer``, 0 if untagged) instead of severance columns: a vehicle may drive through a
        tunnel, but it reaches no surface crowd from one (:mod:`cohesion_gis.hvm.routes`).
    """
    tags = segments["tags"]
    highway = _values(tags, "highway")
    width = [t.get("width") or t.get("est_width") for t in tags.to_numpy()]
    tagged_width = pd.Series(_numbers(width), index=tags.index)
    lanes = pd.Series(_numbers(_values(tags, "lanes").tolist()), index=tags.index)
    wide_path = highway.isin(rules.vehicle_if_wide) & (tagged_width >= rules.vehicle_min_width_m)
    drivable = (highway.isin(rules.vehicle_highways) | wide_path) & _proper(segments)
    edges = _edge_table(segments.loc[drivable], highway.loc[drivable])
    default = edges["highway"].map(rules.default_width_m).fillna(rules.lane_width_m)
    width_tag = tagged_width.loc[drivable].to_numpy()
    width_lanes = lanes.loc[drivable].to_numpy() * rules.lane_width_m
    edges["width_m"] = np.where(
        np.isfinite(width_tag), width_tag, np.where(np.isfinite(width_lanes), width_lanes, default)
    )
    edges["width_source"] = np.where(
        np.isfinite(width_tag), "tag", np.where(np.isfinite(width_lanes), "lanes", "default")
    )
    edges["tunnel"] = _flag(segments.loc[drivable], "tunnel")
    edges["covered"] = _flag(segments.loc[drivable], "covered")
    layer = _values(tags.loc[drivable], "layer")
    edges["layer"] = pd.to_numeric(layer, errors="coerce").fillna(0.0).to_numpy(float)
    out_nodes = _node_table(nodes, edges).drop(columns="tags")
    log.info("hostile-vehicle network: %d nodes, %d edges", len(out_nodes), len(edges))
    return out_nodes, edges


def to_osmnx_graph(
    nodes: gpd.GeoDataFrame, edges: gpd.GeoDataFrame, *, crs: CRS | str | None = None
) -> nx.MultiDiGraph:
    """An osmnx-compatible ``MultiDiGraph`` of a network table, both directions of every edge.

    Node attributes ``x``, ``y``; edge attributes ``osmid``, ``highway``, ``name``, ``length``
    (metres, as osmnx expects), ``geometry`` and the table's other columns. The graph's ``crs``
    is the tables' CRS, so ``osmnx.routing.shortest_path`` and ``osmnx.graph_to_gdfs`` work.
    """
    graph = nx.MultiDiGraph(crs=crs or edges.crs, simplified=False)
    graph.add_nodes_from(
        (int(i), {"x": float(x), "y": float(y)})
        for i, x, y in zip(nodes.index, nodes["x"], nodes["y"], strict=True)
    )
    attrs = edges.drop(columns=["u", "v"]).rename(columns={"length_m": "length", "osm_id": "osmid"})
    records = attrs.to_dict("records")
    reversed_geoms = edges.geometry.reverse().to_numpy()
    for u, v, record, back in zip(edges["u"], edges["v"], records, reversed_geoms, strict=True):
        graph.add_edge(int(u), int(v), **record, reversed=False)
        graph.add_edge(int(v), int(u), **{**record, "geometry": back}, reversed=True)
    return graph


# --- helpers -------------------------------------------------------------------------------


def _proper(segments: gpd.GeoDataFrame) -> np.ndarray:
    """Per segment, whether it joins two distinct nodes a length apart.

    OSM also has ways that come back to the node they left (``u == v``) and distinct nodes at one
    point (zero length): neither is an edge.
    """
    return (segments["u"].to_numpy() != segments["v"].to_numpy()) & (
        shapely.length(segments.geometry.to_numpy()) > 0
    )


def _edge_table(segments: gpd.GeoDataFrame, highway: pd.Series) -> gpd.GeoDataFrame:
    """The edge table of :func:`_proper` segments (one row each, same order)."""
    edges = gpd.GeoDataFrame(
        {
            "u": segments["u"].to_numpy(),
            "v": segments["v"].to_numpy(),
            "osm_id": segments["osm_id"].to_numpy(),
            "highway": highway.astype(str).to_numpy(),
            "name": _values(segments["tags"], "name").to_numpy(),
            "length_m": segments.geometry.length.to_numpy(),
        },
        geometry=segments.geometry.to_numpy(),
        crs=segments.crs,
    )
    return edges


def _node_table(nodes: gpd.GeoDataFrame, edges: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    used = pd.Index(np.unique(edges[["u", "v"]].to_numpy()), name="node_id")
    table = nodes.loc[nodes.index.intersection(used)]
    missing = used.difference(table.index)
    if len(missing):  # end points absent from the node table (clipped extracts): take from lines
        ends = _end_points(edges, missing)
        table = pd.concat([table, ends])
    table = table.sort_index()
    points = table.geometry.to_numpy()
    return gpd.GeoDataFrame(
        {"x": shapely.get_x(points), "y": shapely.get_y(points), "tags": table["tags"].to_numpy()},
        geometry=points,
        index=pd.Index(table.index.astype("int64"), name="node_id"),
        crs=edges.crs,
    )


def _end_points(edges: gpd.GeoDataFrame, wanted: pd.Index) -> gpd.GeoDataFrame:
    coords = edges.geometry.get_coordinates()
    first = coords.groupby(level=0).first()
    last = coords.groupby(level=0).last()
    points = pd.concat(
        [
            pd.Series(gpd.points_from_xy(first["x"], first["y"]), index=edges["u"].to_numpy()),
            pd.Series(gpd.points_from_xy(last["x"], last["y"]), index=edges["v"].to_numpy()),
        ]
    )
    points = points[~points.index.duplicated()].loc[wanted]
    return gpd.GeoDataFrame(
        {"tags": [{} for _ in range(len(points))]},
        geometry=points.to_numpy(),
        index=points.index,
        crs=edges.crs,
    )


def _flag(segments: gpd.GeoDataFrame, key: str) -> np.ndarray:
    off = (None, "no", "0", "false")
    return np.array([t.get(key) not in off for t in segments["tags"].to_numpy()], dtype=bool)


def _values(tags: pd.Series, key: str) -> pd.Series:
    """One tag's value per row of a ``tags`` column (None where absent), same index."""
    return pd.Series([t.get(key) for t in tags.to_numpy()], index=tags.index, dtype=object)


def _any_match(tags: pd.Series, rules: tuple[Rule, ...]) -> np.ndarray:
    """Per row of a ``tags`` column, whether any rule :func:`~cohesion_gis.taxonomy.matches`.

    Decided once per distinct combination of the values of the keys the rules read: most rows
    have none of them (Malta: 122k segments, 110k nodes, a handful of combinations).
    """
    keys = sorted({key for rule in rules for key in rule})
    answers = {(None,) * len(keys): any(matches({}, rule) for rule in rules)}
    out = np.full(len(tags), answers[(None,) * len(keys)])
    for i, t in enumerate(tags.to_numpy()):
        if not t.keys().isdisjoint(keys):
            seen = tuple(map(t.get, keys))
            if seen not in answers:
                answers[seen] = any(matches(t, rule) for rule in rules)
            out[i] = answers[seen]
    return out


def _numbers(values: Sequence[Any]) -> np.ndarray:
    """:func:`osm_number` of each tag value (float array), each distinct value parsed once."""
    parsed = {v: osm_number(v) for v in set(values)}
    return np.array([parsed[v] for v in values], dtype=float)


def osm_number(value: Any) -> float:
    """Parse an OSM width or lanes value (``"7"``, ``"7.5 m"``, ``"3,5"``); NaN if not a number."""
    if value is None:
        return float("nan")
    found = _NUMBER.match(str(value))
    return float(found.group(1).replace(",", ".")) if found else float("nan")
