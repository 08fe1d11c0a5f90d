r"""Straight-on over-run legs: a street that ends facing a crowd, driven straight on across it.

The classic vehicle-dynamics threat line is a street ending at a T-junction (or a dead end)
that faces a crowded place: the vehicle does not turn, it goes straight on across the junction,
the kerb and the footway into the crowd. The street network alone does not hold that line: a
crowd is met only where a carriageway comes within the mount distance of it, and every route
through the junction turns (capped at the bend speed). An **over-run leg** continues each
street end straight on over the hard-standing:

- from every directed street piece arriving at a junction or a dead end where **no street
  continues straight on** (none leaves within ``overrun_straight_deg`` of the arrival heading:
  a T-junction's stem, a dead end), along the arrival heading over the street's last
  ``overrun_heading_m``;
- up to ``overrun_max_m`` metres, to the first crowd perimeter it meets;
- kept only when no building façade, level change a vehicle cannot mount (walls at least
  ``level_change_min_height_m`` high, retaining walls, steps) or water's edge stands on it
  before the crowd (:func:`~cohesion_gis.hvm.barriers.vehicle_obstacles`, the obstacles that
  bound the hard-standing for barrier closures too), and when the street end is not already
  within the mount distance of that crowd (the street itself enters it there).

A leg is added to the hostile-vehicle network as a straight edge from the street's end node
to the crowd perimeter (:func:`with_overrun_legs`), as wide as the street, level. The approach
search then treats it like any street: the vehicle arriving straight on is not capped at the
junction (the heading change is about 0, the widest-line radius unbounded), it keeps
accelerating along the leg (traction/power run-up, no braking), the leg enters the crowd where
it crosses the perimeter grown by the mount distance, and barriers crossing the street or the
leg stop it or are driven through by the same rules
(:func:`~cohesion_gis.hvm.barriers.street_closures`: a line across the leg is closed only
across the hard-standing to the obstacles, or tied in, or enclosing). A leg is driven only from
its street towards the crowd (a vehicle does not start in the crowd and drive out along it).
Approaches arriving by a leg read ``entry_kind = "overrun"`` and ``overrun_m``
(the leg's length from the street end to the entry).

References
----------
Reference hvm.md §8.3.6 (off-road legs: "straight or least-curvature paths through free
space ... minus buildings, walls and stopping barriers"; the straight-on leg is that path for a
vehicle that does not turn), §0.5 (attackers mount footways, cross open space); second VDA
review, item 2 (Sofiankatu → Senaatintori).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from cohesion_gis.hvm.impact import cast_to_outline
from cohesion_gis.hvm.routes import LEG_COLUMN, underground
from cohesion_gis.network import Csr, csr_from_edges

__all__ = ["overrun_legs", "with_overrun_legs"]
#: A leg whose first obstacle lies this close (m) beyond its crowd hit still reaches the crowd.
_TIE_M = 1e-6


def overrun_legs(
    edges: gpd.GeoDataFrame,
    crowds: gpd.GeoDataFrame,
    graph: Csr,
    *,
    obstacles: gpd.GeoDataFrame | None,
    heading_m: float,
    max_length_m: float,
    straight_deg: float,
    entry_snap_m: float,
) -> gpd.GeoDataFrame:
    """The straight-on over-run legs from the street ends facing a crowd.

    Parameters
    ----------
    edges
        Hostile-vehicle network (``u``, ``v``, ``width_m``, LineStrings drawn from ``u`` to
        ``v``), metric CRS.
    crowds
        Crowd perimeters (polygons, ``site_id``), same CRS.
    graph
        The graph of ``edges`` (``City.drive_csr``): node coordinates.
    obstacles
        What stops a vehicle on the hard-standing (building façades, level changes, water's
        edge: :func:`~cohesion_gis.hvm.barriers.vehicle_obstacles`), same CRS; ``None``: none.
    heading_m
        The arrival heading is taken over this length (m) at the street's end (a vehicle
        length).
    max_length_m
        Longest leg (m) from the street's end to the crowd perimeter.
    straight_deg
        A street leaving the node within this angle (degrees) of the arrival heading carries
        the straight-on vehicle: no leg.
    entry_snap_m
        Mount distance (m): a street end this close to the crowd already enters it.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per leg: ``u`` (the street's end node), ``v`` (a new node id, negative, on the
        crowd perimeter), ``length_m``, ``width_m`` (the street's), ``overrun`` (True),
        ``overrun_site`` (the crowd it reaches), ``osm_id``, ``name`` and ``highway`` of the
        street it continues, and the straight LineString; same CRS. Empty when no leg reaches
        a crowd.
    """
    columns = ["u", "v", "length_m", "width_m", LEG_COLUMN, "overrun_site", "osm_id", "name",
               "highway"]  # fmt: skip
    empty = gpd.GeoDataFrame(
        pd.DataFrame({c: pd.Series(dtype=object) for c in columns}),
        geometry=gpd.GeoSeries([], crs=edges.crs), crs=edges.crs,
    )  # fmt: skip
    surface = np.flatnonzero(~underground(edges))
    if surface.size == 0 or len(crowds) == 0 or max_length_m <= 0:
        return empty
    arrive = _arrivals(edges, graph, surface, heading_m)
    go_on = _continues(arrive, _departures(edges, graph, surface, heading_m), straight_deg)
    ends = graph.node_index(np.r_[edges["u"].to_numpy(np.int64), edges["v"].to_numpy(np.int64)])
    degree = np.bincount(ends, minlength=graph.n_nodes)  # street pieces meeting at each node
    at_end = degree[arrive["node"].to_numpy()] != 2  # a junction or a dead end, not a corner
    arrive = arrive.loc[~go_on & at_end].reset_index(drop=True)
    if arrive.empty:
        return empty
    start = np.column_stack([graph.x[arrive["node"]], graph.y[arrive["node"]]])
    unit = arrive[["dx", "dy"]].to_numpy(float)
    rays = shapely.linestrings(np.stack([start, start + max_length_m * unit], axis=1))
    ray, site, hit = _first_crowd(rays, unit, start, crowds, entry_snap_m)
    if ray.size == 0:
        return empty
    ends = start[ray] + hit[:, None] * unit[ray]
    legs = shapely.linestrings(np.stack([start[ray], ends], axis=1))
    clear = _clear(legs, obstacles)
    ray, site, hit, ends, legs = ray[clear], site[clear], hit[clear], ends[clear], legs[clear]
    row = arrive["edge"].to_numpy()[ray]
    street = edges.iloc[row]
    first_id = min(int(graph.node_ids.min(initial=0)), 0) - 1
    table = pd.DataFrame(
        {
            "u": graph.node_ids[arrive["node"].to_numpy()[ray]],
            "v": first_id - np.arange(ray.size, dtype=np.int64),
            "length_m": hit,
            "width_m": street["width_m"].to_numpy(float),
            LEG_COLUMN: True,
            "overrun_site": crowds["site_id"].to_numpy()[site],
            **{c: _column(street, c) for c in ("osm_id", "name", "highway")},
        }
    )
    return gpd.GeoDataFrame(table, geometry=legs, crs=edges.crs)


def with_overrun_legs(
    edges: gpd.GeoDataFrame, graph: Csr, legs: gpd.GeoDataFrame
) -> tuple[gpd.GeoDataFrame, Csr]:
    """The network with its over-run legs: the edges and their graph (its nodes kept in order).

    The graph's nodes keep their numbers; each leg's end node follows them. Legs are level
    (``grade`` 0 where the edges have one) and at the surface.
    """
    if legs.empty:
        return edges, graph
    extra = legs.assign(tunnel=False, covered=False, layer=0.0)
    if "grade" in edges:
        extra = extra.assign(grade=0.0)
    extra = extra.drop(columns="overrun_site")
    joined = pd.concat([edges.assign(**{LEG_COLUMN: False}), extra], ignore_index=True)
    joined = gpd.GeoDataFrame(joined, geometry="geometry", crs=edges.crs)
    end = shapely.get_coordinates(shapely.get_point(legs.geometry.to_numpy(), -1))
    nodes = pd.DataFrame(
        {"x": np.r_[graph.x, end[:, 0]], "y": np.r_[graph.y, end[:, 1]]},
        index=np.r_[graph.node_ids, legs["v"].to_numpy(np.int64)],
    )
    return joined, csr_from_edges(nodes, joined, weight=graph.weight)


def _column(frame: pd.DataFrame, name: str) -> np.ndarray:
    """A column's values, or None for each row when the table has no such column."""
    if name in frame:
        return frame[name].to_numpy(dtype=object)
    return np.full(len(frame), None, dtype=object)


def _ends(
    edges: gpd.GeoDataFrame, graph: Csr, rows: np.ndarray, heading_m: float, *, last: bool
) -> pd.DataFrame:
    """Each edge's end (``last``: its v end) with the unit heading over ``heading_m`` there.

    The heading points along the edge towards that end (the direction of arrival).
    """
    lines = edges.geometry.to_numpy()[rows]
    length = shapely.length(lines)
    back = np.clip(length - heading_m, 0.0, None) if last else np.minimum(heading_m, length)
    tip = shapely.get_point(lines, -1 if last else 0)
    behind = shapely.line_interpolate_point(lines, back)
    d = shapely.get_coordinates(tip) - shapely.get_coordinates(behind)
    norm = np.hypot(d[:, 0], d[:, 1])
    ok = norm > 0
    ids = edges["v" if last else "u"].to_numpy(np.int64)[rows]
    node = graph.node_index(ids, where="edges").astype(np.int64)
    return pd.DataFrame(
        {"edge": rows[ok], "node": node[ok], "at_v": last,
         "dx": d[ok, 0] / norm[ok], "dy": d[ok, 1] / norm[ok]}
    )  # fmt: skip


def _arrivals(
    edges: gpd.GeoDataFrame, graph: Csr, rows: np.ndarray, heading_m: float
) -> pd.DataFrame:
    """Every directed street piece arriving at a node: (edge, node, at_v, unit heading)."""
    both = [_ends(edges, graph, rows, heading_m, last=last) for last in (True, False)]
    return pd.concat(both, ignore_index=True)


def _departures(
    edges: gpd.GeoDataFrame, graph: Csr, rows: np.ndarray, heading_m: float
) -> pd.DataFrame:
    """Every directed street piece leaving a node, heading away from it."""
    leaving = _arrivals(edges, graph, rows, heading_m)
    return leaving.assign(dx=-leaving["dx"], dy=-leaving["dy"], at_v=~leaving["at_v"])


def _continues(arrive: pd.DataFrame, leave: pd.DataFrame, straight_deg: float) -> np.ndarray:
    """Per arrival, whether another street leaves its node within ``straight_deg`` of straight."""
    pairs = arrive.reset_index().merge(leave, on="node", suffixes=("", "_out"))
    pairs = pairs.loc[pairs["edge"] != pairs["edge_out"]]  # not back along the same piece
    cos = pairs["dx"] * pairs["dx_out"] + pairs["dy"] * pairs["dy_out"]
    ahead = pairs.loc[cos.to_numpy() >= np.cos(np.radians(straight_deg)), "index"]
    out = np.zeros(len(arrive), bool)
    out[ahead.to_numpy()] = True
    return out


def _first_crowd(
    rays: np.ndarray,
    unit: np.ndarray,
    start: np.ndarray,
    crowds: gpd.GeoDataFrame,
    entry_snap_m: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rays that reach a crowd: (ray, crowd row, distance m to its outline), first crowd only.

    The distance is :func:`~cohesion_gis.hvm.impact.cast_to_outline`'s (the real crowd
    outline). A crowd the ray starts in is passed through (the street already runs in it: a
    pedestrian street mapped as a square); a ray starting within ``entry_snap_m`` of the
    crowd it first enters gives none (the street already enters it there).
    """
    polygons = crowds.geometry.to_numpy()
    ray, site = shapely.STRtree(polygons).query(rays, predicate="intersects")
    outside = ~shapely.intersects_xy(polygons[site], start[ray, 0], start[ray, 1])
    ray, site = ray[outside], site[outside]
    heading = np.arctan2(unit[ray, 1], unit[ray, 0])
    hit, _ = cast_to_outline(start[ray], heading, polygons[site], shapely.length(rays[ray]))
    found = np.isfinite(hit)
    ray, site, hit = ray[found], site[found], hit[found]
    order = np.lexsort((site, hit, ray))
    ray, site, hit = ray[order], site[order], hit[order]
    first = np.r_[True, ray[1:] != ray[:-1]] if ray.size else np.zeros(0, bool)
    ray, site, hit = ray[first], site[first], hit[first]
    near = shapely.dwithin(polygons[site], shapely.points(start[ray]), entry_snap_m)
    return ray[~near], site[~near], hit[~near]


def _clear(legs: np.ndarray, obstacles: gpd.GeoDataFrame | None) -> np.ndarray:
    """Whether each leg reaches its end before any obstacle (a tie goes to the crowd)."""
    clear = np.ones(legs.size, bool)
    if obstacles is None or len(obstacles) == 0 or legs.size == 0:
        return clear
    geoms = obstacles.geometry.to_numpy()
    leg, obstacle = shapely.STRtree(geoms).query(legs, predicate="intersects")
    start = shapely.get_point(legs[leg], 0)
    first = shapely.distance(start, shapely.intersection(legs[leg], geoms[obstacle]))
    blocked = first < shapely.length(legs[leg]) - _TIE_M
    clear[leg[blocked]] = False
    return clear
