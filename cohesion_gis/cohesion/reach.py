"""Who reaches which contact space: the one home × space distance table every component reads.

Homes enter the walk network at the nearest point of the nearest surface edge (never a tunnel,
an underground or an indoor way: those are walked through, not entered) and of every further one
within ``snap_tolerance_m`` of it (door to street, counted in the distance; the walk takes the
shortest way through any of them); polygon spaces at every point where their boundary meets a
walkable edge, or, when none does, at the nearest points of the same edges as a home would take
(:func:`cohesion_gis.network.entrance_points`); point spaces (a library mapped as a node) too.
One bounded search per space over all
its entrances (:func:`cohesion_gis.network.distances_to_points`) gives exact network distances,
each space searched only as far as a component reads it
(:meth:`CohesionParams.space_radius_m`), kept as a sparse table.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numba import njit

from cohesion_gis.cohesion.params import CohesionParams
from cohesion_gis.errors import InputError
from cohesion_gis.network import (
    Csr,
    EdgeIndex,
    SnappedPoints,
    csr_from_edges,
    distances_to_points,
    entrance_points,
    snap_to_edges,
)

__all__ = ["Reach", "reach"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Reach:
    """Homes, spaces and the sparse table of walking distances between them.

    Attributes
    ----------
    homes
        Homes with ``population`` (and ``pop_<group>`` columns), row ``i`` is home ``i`` of the
        table; ``snap_m`` is the door-to-street distance, NaN when no edge is within reach.
    spaces
        Contact spaces; row ``j`` is space ``j``; ``size_m2`` is the area, or the nominal area
        of its type for a point; ``n_entrances`` the entrances found on the network.
        ``search_radius_m`` is how far it was searched.
    table
        ``home``, ``space``, ``dist_m`` (network metres, door to entrance), sorted.
    limit_m
        The largest distance kept (the largest search radius).
    network
        The compact graph searched, the homes snapped to it and the edges' spatial index, for
        reuse by searches of further spaces on the same network and homes (incremental
        scenarios).
    """

    homes: gpd.GeoDataFrame
    spaces: gpd.GeoDataFrame
    table: pd.DataFrame
    limit_m: float
    network: tuple[Csr, SnappedPoints, EdgeIndex] | None = field(default=None, repr=False)

    def columns(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The table's ``home``, ``space`` and ``dist_m`` (float64, m) columns as arrays."""
        return (
            self.table["home"].to_numpy(),
            self.table["space"].to_numpy(),
            self.table["dist_m"].to_numpy(dtype=np.float64),
        )


def reach(
    homes: gpd.GeoDataFrame,
    spaces: gpd.GeoDataFrame,
    nodes: gpd.GeoDataFrame,
    edges: gpd.GeoDataFrame,
    *,
    params: CohesionParams,
    access_only: bool = False,
    network: tuple[Csr, SnappedPoints, EdgeIndex] | None = None,
) -> Reach:
    """Walking distances from every home to every contact space within its search radius.

    Parameters
    ----------
    homes
        ``home_id``, ``population`` and geometry (buildings, cells or points), metric CRS.
    spaces
        ``space_id``, ``space_type``, ``area_m2`` and geometry (polygons or points).
    nodes, edges
        The walk network (possibly the barrier-aware variant).
    params
        Search radii, snapping distance and nominal sizes.
    access_only
        Search each space only to its access ``d_max`` (the plain network, read for severance).
    network
        ``Reach.network`` of an earlier call on the same network and homes, to skip rebuilding
        the graph, snapping the homes and indexing the edges again.
    """
    _check_population(homes)
    spaces = spaces.reset_index(drop=True).copy()
    radius = params.space_radius_m(spaces, access_only=access_only)
    spaces["search_radius_m"] = radius
    limit_m = float(radius.max()) if len(radius) else 0.0
    spaces["size_m2"] = np.where(
        spaces["area_m2"] > 0,
        spaces["area_m2"],
        spaces["space_type"].map(params.nominal_area_m2).fillna(0.0),
    )
    homes = homes.reset_index(drop=True).copy()
    if network is None:
        csr, index = csr_from_edges(nodes, edges), EdgeIndex(edges, entry=_entries(edges))
        home_points = _doors(homes.geometry)
        snapped_homes = snap_to_edges(
            home_points, edges, csr, max_snap_m=params.max_snap_m,
            tolerance_m=params.snap_tolerance_m, index=index,
        )  # fmt: skip
        network = (csr, snapped_homes, index)
    csr, snapped_homes, index = network
    homes["snap_m"] = np.where(snapped_homes.snapped, snapped_homes.snap_m, np.nan)
    if spaces.empty or homes.empty:
        table = pd.DataFrame({"home": [], "space": [], "dist_m": []})
        spaces["n_entrances"] = 0
        table = table.astype({"home": int, "space": int})
        return Reach(homes, spaces, table, limit_m, network)

    entrances = entrance_points(
        spaces.geometry, edges, max_gap_m=params.max_snap_m,
        tolerance_m=params.snap_tolerance_m, index=index,
    )  # fmt: skip
    gap_m, nearest_gap_m = _entrance_gaps(spaces, entrances)
    seeds = snap_to_edges(
        entrances.geometry, edges, csr, max_snap_m=params.max_snap_m, index=index,
        side_points=_toward_space(spaces, entrances),
        extra_m=gap_m - nearest_gap_m[entrances["polygon"].to_numpy()],
    )  # fmt: skip
    group = entrances["polygon"].to_numpy()
    spaces["n_entrances"] = np.bincount(group[seeds.snapped], minlength=len(spaces))
    # one radius per space up to the last with an entrance (spaces after it have no seeds)
    n_seeded = int(group.max()) + 1 if group.size else 0
    street = distances_to_points(csr, seeds, snapped_homes, group=group, limit_m=radius[:n_seeded])
    # door to street, and from the street to a point space across its gap
    home, space, dist_m = _door_to_door(
        street["point"].to_numpy(),
        street["group"].to_numpy(),
        street["dist_m"].to_numpy(dtype=np.float64),
        homes["snap_m"].to_numpy(dtype=np.float64),
        nearest_gap_m,
        radius,
    )
    table = pd.DataFrame({"home": home, "space": space, "dist_m": dist_m}, copy=False)
    log.info(
        "reach: %d homes (%d off the network), %d spaces (%d without entrance), %d pairs "
        "within at most %.0f m",
        len(homes), int(homes["snap_m"].isna().sum()), len(spaces),
        int((spaces["n_entrances"] == 0).sum()), len(table), limit_m,
    )  # fmt: skip
    return Reach(homes, spaces, table, limit_m, network)


def _entries(edges: gpd.GeoDataFrame) -> np.ndarray | None:
    """The edges homes and spaces enter by: the walk network's ``entry`` column, if any.

    Tunnels, underground and indoor ways are walked through, never entered
    (:func:`cohesion_gis.streets.walk_network`); an edge a scenario added without the column
    is an entry.
    """
    if "entry" not in edges.columns:
        return None
    return ~edges["entry"].eq(False).to_numpy(dtype=bool)


def _doors(homes: gpd.GeoSeries) -> gpd.GeoSeries:
    """A point of each home: the home itself where every home is a point, else a point inside."""
    if (shapely.get_type_id(homes.to_numpy()) == shapely.GeometryType.POINT).all():
        return homes
    return homes.representative_point()


def _toward_space(
    spaces: gpd.GeoDataFrame, entrances: gpd.GeoDataFrame
) -> Callable[[np.ndarray], np.ndarray]:
    """The nearest point of its space to each entrance at the given positions.

    An entrance on a two-sided road serves the side its space is on.
    """
    points = entrances.geometry.to_numpy()
    owner = spaces.geometry.to_numpy()[entrances["polygon"].to_numpy()]

    def toward(at: np.ndarray) -> np.ndarray:
        return shapely.get_point(shapely.shortest_line(points[at], owner[at]), 1)

    return toward


def _entrance_gaps(
    spaces: gpd.GeoDataFrame, entrances: gpd.GeoDataFrame
) -> tuple[np.ndarray, np.ndarray]:
    """Metres from each entrance point to its space, and from each space's nearest one (0 on it).

    The nearest gap is added to every walk to the space; an entrance's gap beyond it is walked
    only through that entrance (``snap_to_edges``' ``extra_m``).
    """
    nearest = np.zeros(len(spaces))
    gap = entrances["gap_m"].to_numpy(dtype=np.float64)
    if gap.size:
        per_space = pd.Series(gap).groupby(entrances["polygon"].to_numpy()).min()
        nearest[per_space.index.to_numpy()] = per_space.to_numpy()
    return gap, nearest


@njit(cache=True, nogil=True)
def _door_to_door(  # noqa: PLR0917 (numba has no keyword-only arguments)
    home: np.ndarray,
    space: np.ndarray,
    street_m: np.ndarray,
    snap_m: np.ndarray,
    gap_m: np.ndarray,
    radius_m: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:  # pragma: no cover - compiled
    """The rows within their space's radius once the door-to-street and entrance gaps (m) are added.

    ``street_m + (snap_m[home] + gap_m[space])``, order kept; counted first, so that only the
    rows kept are allocated (fresh memory costs about as much as the sums on C's 33M rows).
    """
    n = 0
    for row in range(home.size):
        n += street_m[row] + (snap_m[home[row]] + gap_m[space[row]]) <= radius_m[space[row]]
    out_home = np.empty(n, home.dtype)
    out_space = np.empty(n, space.dtype)
    out_dist = np.empty(n)
    k = 0
    for row in range(home.size):
        dist_m = street_m[row] + (snap_m[home[row]] + gap_m[space[row]])
        if dist_m <= radius_m[space[row]]:
            out_home[k], out_space[k], out_dist[k] = home[row], space[row], dist_m
            k += 1
    return out_home, out_space, out_dist


def _check_population(homes: gpd.GeoDataFrame) -> None:
    if "population" not in homes.columns:
        raise InputError(f"homes: no 'population' column; columns found: {list(homes.columns)}")
    pop = homes["population"].to_numpy(dtype=float)
    bad = ~np.isfinite(pop) | (pop < 0)
    if bad.any():
        ids = homes.loc[bad, "home_id"].head(10).tolist() if "home_id" in homes else []
        raise InputError(
            f"homes: {int(bad.sum())} home(s) with negative or missing population "
            f"(e.g. {ids}); fix the population input or drop those homes"
        )
