"""An offline vector base map: streets and buildings of the study area instead of remote tiles.

Many council networks block tile servers, so by default a map has no tiles: a paper-coloured
background with the study area's buildings (polygons) and streets (lines), simplified in the metric
CRS and drawn by Leaflet. Online tiles remain an option. Every map carries
"© OpenStreetMap contributors" in its attribution control, tiles or not.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import folium
import geopandas as gpd
import numpy as np
import shapely

from cohesion_gis.errors import InputError, ParameterError
from cohesion_gis.maps._layers import (
    VectorLayer,
    check_frame,
    geojson_layer,
    single_parts,
    to_wgs84,
)
from cohesion_gis.maps._style import (
    OSM_ATTRIBUTION,
    MapScript,
    add_attribution,
    add_title,
    fit_view,
    js_literal,
)

__all__ = [
    "BACKGROUND_COLOUR",
    "base_map",
    "furnish_map",
    "vector_base_layers",
]

logger = logging.getLogger(__name__)

BACKGROUND_COLOUR = "#f2efe9"
_BUILDING_STYLE = {"color": "#b9aea5", "weight": 0.5, "fillColor": "#d9d0c9", "fillOpacity": 1.0}
_STREET_STYLE = {"color": "#ffffff", "weight": 2.5, "opacity": 1.0}


def vector_base_layers(
    *,
    streets: gpd.GeoDataFrame | None = None,
    buildings: gpd.GeoDataFrame | None = None,
    tolerance_m: float = 1.0,
) -> list[VectorLayer]:
    """Return the buildings and streets of the study area as non-interactive folium layers.

    Parameters
    ----------
    streets
        Street centrelines (LineStrings) in the study area's metric CRS.
    buildings
        Building footprints (Polygons) in the same CRS.
    tolerance_m
        Simplification tolerance in metres, applied in the metric CRS before reprojection to
        EPSG:4326 (1 m keeps shapes recognisable at street zoom and roughly halves the vertices;
        the map builders tie it to the map's scale, see ``_layers.scale_tolerance_m``). Streets
        are joined into chains between junctions first, then simplified.

    Returns
    -------
    list of VectorLayer
        "Buildings" then "Streets" (buildings underneath), each toggleable; absent inputs are
        skipped.

    Raises
    ------
    InputError
        A layer is not a GeoDataFrame in a projected CRS.
    """
    if tolerance_m < 0:
        raise ParameterError(f"tolerance_m must be >= 0 metres, got {tolerance_m}")
    layers = []
    for name, gdf, style in (
        ("Buildings", buildings, _BUILDING_STYLE),
        ("Streets", streets, _STREET_STYLE),
    ):
        if gdf is None or gdf.empty:
            continue
        check_frame(gdf, layer=name.lower())
        # the base layer is drawing only: no attributes, streets merged into one feature
        drawing = gpd.GeoDataFrame(geometry=gdf.geometry.to_numpy(), crs=gdf.crs)
        if name == "Streets":
            drawing = to_wgs84(_street_chains(drawing), tolerance_m=tolerance_m)
            drawing = gpd.GeoDataFrame(
                geometry=[shapely.multilinestrings(drawing.geometry.values)], crs=drawing.crs
            )  # one feature: one SVG path for the browser, no per-feature overhead in the file
        else:
            drawing = to_wgs84(drawing, tolerance_m=tolerance_m)
        layers.append(geojson_layer(drawing, name=name, styles=style, interactive=False))
        logger.info("base layer %s: %d features", name, len(gdf))
    return layers


def _street_chains(streets: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Street edges joined into chains between junctions, one LineString per row.

    OSM street edges run node to node (Malta: 120k two-point segments), so simplifying them one
    by one removes nothing; joined first, a chain can be simplified. The edges already meet at
    shared end points, so no noding (``union_all``: 7 s on Malta) is needed: see
    :func:`_join_chains`.
    """
    parts = single_parts(streets.geometry.to_numpy())
    parts = parts[shapely.get_type_id(parts) == shapely.GeometryType.LINESTRING]
    return gpd.GeoDataFrame(geometry=_join_chains(parts), crs=streets.crs)


def _join_chains(lines: np.ndarray) -> np.ndarray:
    """Lines joined end to end through every point where exactly two line ends meet.

    The chains of ``shapely.line_merge`` (each line once, closed chains where every point is such
    a meeting point), found with array operations: each line is two half-edges (one per
    direction), a half-edge arriving at a meeting point is followed by the other line leaving it,
    and pointer doubling ranks every half-edge along its chain. One direction of each chain is
    kept, its coordinates taken in order. Malta's 120k walkable edges: 0.1-0.2 s CPU
    (``line_merge``: 0.5-0.6 s), the same 44,324 chains. A chain may start at the other end, or a
    closed one at another point, than ``line_merge`` would have it.
    """
    n = len(lines)
    if n == 0:
        return lines
    coords, owner = shapely.get_coordinates(lines, return_index=True)
    counts = np.bincount(owner, minlength=n)
    first = np.concatenate([[0], np.cumsum(counts)[:-1]])
    last = first + counts - 1
    # end j < n: start of line j; end j >= n: end of line j - n. Half-edge h leaves through end
    # h (h < n: line h forward; h >= n: line h - n backward) and arrives through end (h + n) % 2n
    points = np.concatenate([coords[first], coords[last]])  # x + iy: one sort, exact equality
    _, node = np.unique(points.view(np.complex128).ravel(), return_inverse=True)
    ends = np.argsort(node, kind="stable")
    pairs = ends[np.bincount(node)[node[ends]] == 2].reshape(-1, 2)
    mirror = (np.arange(2 * n) + n) % (2 * n)
    succ = np.full(2 * n, -1)
    succ[mirror[pairs[:, 0]]] = pairs[:, 1]
    succ[mirror[pairs[:, 1]]] = pairs[:, 0]
    # closed chains: broken before their smallest half-edge
    steps = max(1, int(2 * n).bit_length())
    ahead = np.where(succ < 0, np.arange(2 * n), succ)
    for _ in range(steps):
        ahead = ahead[ahead]
    closed = succ[ahead] >= 0
    smallest = np.where(closed, np.arange(2 * n), 2 * n)
    ahead = np.where(closed, succ, np.arange(2 * n))
    for _ in range(steps):
        smallest = np.minimum(smallest, smallest[ahead])
        ahead = ahead[ahead]
    succ[np.flatnonzero(closed & (succ == smallest))] = -1
    has_succ = succ >= 0
    pred = np.full(2 * n, -1)
    pred[succ[has_succ]] = np.flatnonzero(has_succ)
    # rank of every half-edge from its chain's first one, and that first one
    rank = (pred >= 0).astype(np.int64)
    head = np.where(pred < 0, np.arange(2 * n), pred)
    for _ in range(steps):
        rank = rank + rank[head]
        head = head[head]
    # one direction per chain: the one starting with the smaller half-edge (an open chain's
    # reverse starts with the mirror of its last half-edge; a closed one's with its smallest)
    tail_of = np.empty(2 * n, dtype=np.int64)
    tails = np.flatnonzero(~has_succ)
    tail_of[head[tails]] = tails
    other = np.where(closed, smallest[mirror], mirror[tail_of[head]])
    keep = np.flatnonzero(np.where(closed, smallest, head) < other)
    keep = keep[np.lexsort((rank[keep], head[keep]))]
    # coordinates in order, the first of every half-edge but a chain's first dropped
    line, backward, skip = keep % n, keep >= n, (rank[keep] > 0).astype(np.int64)
    take = counts[line] - skip
    offset = np.arange(take.sum()) - np.repeat(np.cumsum(take) - take, take)
    start = np.where(backward, last[line] - skip, first[line] + skip)
    index = np.repeat(start, take) + np.where(np.repeat(backward, take), -offset, offset)
    chain = np.repeat(np.cumsum(rank[keep] == 0) - 1, take)
    return shapely.linestrings(coords[index], indices=chain)


def base_map(
    bounds_gdf: gpd.GeoDataFrame,
    *,
    streets: gpd.GeoDataFrame | None = None,
    buildings: gpd.GeoDataFrame | None = None,
    tiles: str | None = None,
    title: str | None = None,
    lines: Sequence[str] = (),
    tolerance_m: float = 1.0,
    background: str = BACKGROUND_COLOUR,
) -> folium.Map:
    """Create a folium map framed on ``bounds_gdf`` with the offline vector base layer.

    Parameters
    ----------
    bounds_gdf
        Any layer with a CRS; the map opens on its extent.
    streets, buildings
        Vector base layer (see :func:`vector_base_layers`).
    tiles
        None (default) for no tiles; or a folium tile name (``"OpenStreetMap"``,
        ``"CartoDB positron"``) or an ``https://.../{z}/{x}/{y}.png`` template for online
        tiles. A map with online tiles must be saved with ``save_offline(...,
        allow_remote_tiles=True)`` and shows them only with internet.
    title
        Heading shown at the top left (escaped), also the page's ``<title>``.
    lines
        Smaller lines under the heading (escaped), e.g. from ``_style.header_lines``.
    tolerance_m
        Simplification tolerance of the base layer in metres.
    background
        CSS colour behind everything.

    Returns
    -------
    folium.Map
        With SVG rendering (``prefer_canvas=False``), the attribution
        "© OpenStreetMap contributors" and a scale bar. Add layers, then a
        ``folium.LayerControl``.

    Raises
    ------
    InputError
        ``bounds_gdf`` has no CRS or is empty, or a base layer is not in a projected CRS.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> area = gpd.GeoDataFrame(geometry=[shapely.box(385000, 6671000, 386000, 6672000)],
    ...                         crs="EPSG:3067")
    >>> m = base_map(area)
    >>> "OpenStreetMap" in m.get_root().render()
    True
    """
    if bounds_gdf.crs is None or bounds_gdf.empty:
        raise InputError(
            "bounds_gdf: needs a CRS and at least one feature to frame the map "
            f"(got crs={bounds_gdf.crs}, {len(bounds_gdf)} features)"
        )
    west, south, east, north = bounds_gdf.to_crs("EPSG:4326").total_bounds
    m = folium.Map(
        location=[(south + north) / 2, (west + east) / 2],
        tiles=None,
        prefer_canvas=False,
    )
    fit_view(m, [[south, west], [north, east]])
    furnish_map(
        m,
        streets=streets,
        buildings=buildings,
        tiles=tiles,
        title=title,
        lines=lines,
        tolerance_m=tolerance_m,
        background=background,
    )
    return m


def furnish_map(
    m: folium.Map,
    *,
    streets: gpd.GeoDataFrame | None = None,
    buildings: gpd.GeoDataFrame | None = None,
    tiles: str | None = None,
    title: str | None = None,
    lines: Sequence[str] = (),
    tolerance_m: float = 1.0,
    background: str = BACKGROUND_COLOUR,
) -> None:
    """Give an existing map the background, base layers, attribution and title of ``base_map``.

    Used for maps folium creates itself, such as the two halves of a ``DualMap``. Parameters are
    those of :func:`base_map`. The map is changed in place (it is the caller's new map).
    """
    MapScript(f"map.getContainer().style.background = {js_literal(background)};").add_to(m)
    # Leaflet's scale bar, at least 75 px long (its default 100 px limit drew "100 m" on 50 px,
    # past the bar's end tick)
    MapScript("L.control.scale({maxWidth: 150}).addTo(map);").add_to(m)
    if tiles is not None:
        folium.TileLayer(
            tiles,
            name="Online map tiles",
            attr=OSM_ATTRIBUTION if "{z}" in tiles else None,
            overlay=False,
            control=True,
        ).add_to(m)
    for layer in vector_base_layers(streets=streets, buildings=buildings, tolerance_m=tolerance_m):
        layer.add_to(m)
    add_attribution(m)
    if title:
        add_title(m, title, lines=lines)
