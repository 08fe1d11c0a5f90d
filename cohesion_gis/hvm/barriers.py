"""Barriers of the HVM assessment: the user's rated-barrier layer, OSM barriers, gaps in lines.

OpenStreetMap has no crash-rating tag, so every OSM bollard, block or gate is **unrated**
(reference hvm.md §7). Rated vehicle security barriers (VSBs) come from a user layer: any vector
file (GeoPackage, GeoJSON, Shapefile) in any CRS, with points or lines and a ``rating`` column of
ISO 22343-1 / IWA 14-1 / PAS 68 / ASTM F2656 strings (parsed by
:func:`cohesion_gis.hvm.rating.parse_rating`). :func:`combine_barriers` joins both into the one
table :func:`~cohesion_gis.hvm.routes.approach_routes` reads.

:func:`barrier_gaps` finds the air gaps a councillor sees as "gap violations": barrier elements
(bollards, blocks, planters, walls, rated VSBs) within ``cluster_m`` of each other form a line;
the links of each line's minimum spanning tree are the gaps between neighbouring elements, and
every link longer than the gap limit (1.2 m, DfT Traffic Advisory Leaflet 01/11) is reported.

:func:`level_changes` picks the mapped **level changes** no vehicle mounts: retaining walls and
city walls (unless their ``height`` tag is below ``level_change_min_height_m``), freestanding
walls tagged at least that high, and flights of steps (``highway=steps``). They are not
crash-rated products: the impact envelope credits one only where it stands between the street
and the crowd across every sight line of an entry (:func:`~cohesion_gis.hvm.impact.impact_envelope`,
``protected_by`` "level change ..."), and the VDA says a vehicle on the high side can still drive
off it (no DEM: the side is unknown).

Examples
--------
>>> import cohesion_gis as cg
>>> from cohesion_gis.hvm.barriers import barrier_gaps, combine_barriers
>>> city = cg.load_city()  # doctest: +SKIP
>>> barriers = combine_barriers(city.barriers)
>>> gaps = barrier_gaps(barriers)
>>> bool((gaps["gap_m"] > 1.2).all())
True
"""

from __future__ import annotations

import logging
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from cohesion_gis._validate import raise_problems
from cohesion_gis.errors import InputError, listing
from cohesion_gis.hvm.rating import BarrierRating, parse_rating
from cohesion_gis.network import components, spanning_forest
from cohesion_gis.taxonomy import Taxonomy, load_taxonomy

__all__ = [
    "BARRIER_COLUMNS",
    "GAP_COLUMNS",
    "barrier_gaps",
    "combine_barriers",
    "level_changes",
    "read_rated_barriers",
    "street_closures",
]

log = logging.getLogger(__name__)

#: Columns of the combined barrier table (plus ``geometry``).
BARRIER_COLUMNS = ("barrier_id", "barrier_kind", "rating", "source", "stops_vehicles")
#: Columns of the gap table (plus ``geometry``, the middle of the gap).
GAP_COLUMNS = ("gap_id", "gap_m", "barrier_a", "barrier_b", "barrier_ids")
#: Columns of the level-change table (plus ``geometry``, lines).
LEVEL_COLUMNS = ("level_id", "level_kind", "height_m")
#: ``barrier=*`` values that hold a level difference: counted unless tagged lower than the
#: threshold (hvm.toml ``level_change_min_height_m``).
RETAINING = ("retaining_wall", "city_wall")
#: Freestanding walls: counted only when tagged at least as high as the threshold.
FREESTANDING = ("wall",)
#: OSM ``bollard=*`` subtypes that do not stop a vehicle when trusted (OSRM car profile).
_OPEN_BOLLARDS = ("rising", "removable", "flexible", "foldable")


def level_changes(
    barriers: gpd.GeoDataFrame, walk_edges: gpd.GeoDataFrame | None, *, min_height_m: float
) -> gpd.GeoDataFrame:
    """Mapped level changes a vehicle cannot mount: retaining and city walls, tall walls, steps.

    Parameters
    ----------
    barriers
        OSM barriers (``barrier_id``, ``barrier``, optional ``height_m``), metric CRS.
    walk_edges
        Pedestrian network with ``highway`` (its ``steps``), same CRS; ``None``: no steps.
    min_height_m
        Height (m) from which a wall is a level change (``level_change_min_height_m``).

    Returns
    -------
    geopandas.GeoDataFrame
        ``level_id`` (``barrier_id`` or the steps' ``osm_id``), ``level_kind``
        (``retaining_wall``, ``city_wall``, ``wall`` or ``steps``), ``height_m`` (NaN if
        untagged) and line geometry, same CRS.

    Examples
    --------
    >>> import cohesion_gis as cg
    >>> city = cg.load_city()  # doctest: +SKIP
    >>> levels = level_changes(city.barriers, city.walk_edges, min_height_m=0.6)
    >>> sorted(set(levels["level_kind"]))
    ['retaining_wall', 'steps', 'wall']
    """
    kind = barriers["barrier"].astype(object).to_numpy() if "barrier" in barriers else None
    height = (
        barriers["height_m"].to_numpy(float)
        if "height_m" in barriers
        else np.full(len(barriers), np.nan)
    )
    lines = shapely.get_type_id(barriers.geometry.to_numpy()) != 0
    if kind is None:
        keep = np.zeros(len(barriers), bool)
    else:
        tall = height >= min_height_m
        keep = lines & (
            (np.isin(kind, RETAINING) & (np.isnan(height) | tall))
            | (np.isin(kind, FREESTANDING) & tall)
        )
    walls = pd.DataFrame(
        {
            "level_id": barriers["barrier_id"].to_numpy()[keep],
            "level_kind": kind[keep] if kind is not None else np.array([], dtype=object),
            "height_m": height[keep],
            "geometry": barriers.geometry.to_numpy()[keep],
        }
    )
    frames = [walls]
    if walk_edges is not None and "highway" in walk_edges:
        steps = walk_edges.loc[walk_edges["highway"] == "steps"]
        ids = steps["osm_id"] if "osm_id" in steps else steps.index.map(str)
        frames.append(
            pd.DataFrame(
                {
                    "level_id": ids.astype(str).to_numpy(),
                    "level_kind": "steps",
                    "height_m": np.nan,
                    "geometry": steps.geometry.to_numpy(),
                }
            )
        )
    table = pd.concat(frames, ignore_index=True)
    return gpd.GeoDataFrame(table, geometry="geometry", crs=barriers.crs)


def read_rated_barriers(
    path: str | Path,
    *,
    crs: CRS | str | int,
    layer: str | None = None,
    rating_column: str = "rating",
    id_column: str = "barrier_id",
) -> gpd.GeoDataFrame:
    """Read a user layer of rated vehicle security barriers, validated and reprojected.

    Parameters
    ----------
    path
        GeoPackage, GeoJSON, Shapefile or any file GDAL reads; points, lines or polygons (read
        as their outline), any CRS.
    crs
        The study area's metric CRS (``city.crs``); the layer is reprojected to it.
    layer
        Layer name in a multi-layer file; ``None``: the first layer.
    rating_column
        Column holding the rating strings, e.g. ``V/7200[N2A]/48/90:2.5``, ``M50/P1``. An empty
        value means an unrated barrier.
    id_column
        Column of feature ids; without it, ids are ``user/<feature id>``.

    Returns
    -------
    geopandas.GeoDataFrame
        :data:`BARRIER_COLUMNS` (``source`` = ``"user"``; ``rating`` the string as given, None
        if empty; ``stops_vehicles`` True: a user's barrier is physical, and an unrated one
        stops vehicles only with ``block_unrated``) plus ``rated_class``, ``rated_speed_kmh``
        and ``penetration_m``, in ``crs``.

    Raises
    ------
    InputError
        The file is missing or unreadable, has no CRS, lacks the rating column, has empty or
        invalid geometries or geometry collections, empty or repeated ids, or bad rating strings.
        Every problem is listed with its feature id and value.
    """
    import pyogrio

    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such file; give the rated-barrier layer's path.")
    try:
        frame = pyogrio.read_dataframe(path, layer=layer, fid_as_index=True)
    except Exception as exc:  # GDAL raises many types for a corrupt file
        raise InputError(f"{path}: cannot read as a vector layer ({exc}).") from exc
    if frame.crs is None:
        raise InputError(
            f"{path}: the layer has no CRS; set it in the file (e.g. QGIS 'Assign projection') "
            "so coordinates can be reprojected to the study area."
        )
    if rating_column not in frame.columns:
        raise InputError(
            f"{path}: no column {rating_column!r} (columns: {list(frame.columns)}); add the "
            f"rating strings in a column {rating_column!r} (in Python, rating_column= names "
            "another column)."
        )
    ids = (
        frame[id_column].astype(str).to_numpy()
        if id_column in frame.columns
        else np.array([f"user/{i}" for i in frame.index], dtype=object)
    )
    problems = _id_problems(frame, id_column) + _geometry_problems(frame, ids)
    ratings: list[str | None] = []
    parsed: list[BarrierRating | None] = []
    for fid, value in zip(ids, frame[rating_column], strict=True):
        text = None if value is None or (isinstance(value, float) and np.isnan(value)) else value
        if isinstance(text, str) and not text.strip():
            text = None
        if text is None:
            ratings.append(None)
            parsed.append(None)
            continue
        try:
            parsed.append(parse_rating(str(text)))
            ratings.append(str(text))
        except InputError as exc:
            problems.append(f"feature {fid}: bad rating {text!r} ({exc})")
    raise_problems(
        InputError,
        f"{path}: {len(problems)} problem(s) in the rated-barrier layer",
        problems,
        "Fix the features and read the layer again",
    )
    out = gpd.GeoDataFrame(
        {
            "barrier_id": ids,
            "barrier_kind": "rated",
            "rating": pd.Series(ratings, dtype=object).to_numpy(),
            "source": "user",
            "stops_vehicles": True,
            "rated_class": [r.vehicle_class if r else None for r in parsed],
            "rated_speed_kmh": [r.speed_kmh if r else np.nan for r in parsed],
            "penetration_m": [r.penetration_m if r else np.nan for r in parsed],
        },
        geometry=_as_lines(frame.geometry.to_numpy()),
        crs=frame.crs,
    )
    target = CRS.from_user_input(crs)
    if out.crs != target:
        log.info("rated barriers: reprojecting %s to %s", out.crs.to_string(), target.to_string())
        out = out.to_crs(target)
    unrated = out["rating"].isna()
    out.loc[unrated, "barrier_kind"] = "unrated"
    out["rating"] = out["rating"].astype(object).where(~unrated, None)
    log.info(
        "rated barriers: %d read from %s (%d rated)", len(out), path, out["rating"].notna().sum()
    )
    return out


def combine_barriers(
    osm_barriers: gpd.GeoDataFrame,
    rated: gpd.GeoDataFrame | None = None,
    *,
    taxonomy: Taxonomy | None = None,
) -> gpd.GeoDataFrame:
    """Join the City's unrated OSM barriers and a user's rated ones into one table.

    Parameters
    ----------
    osm_barriers
        ``City.barriers`` (``barrier_id``, ``barrier_kind``, ``bollard``); all unrated.
    rated
        From :func:`read_rated_barriers`, in the same CRS; ``None``: OSM barriers only.
    taxonomy
        Barrier kinds with ``stops_vehicles``; default: the packaged taxonomy.

    Returns
    -------
    geopandas.GeoDataFrame
        :data:`BARRIER_COLUMNS`: ``rating`` None for OSM barriers, ``source`` ``"osm"`` or
        ``"user"``, ``stops_vehicles`` whether the element can physically stop a car (rated
        barriers; OSM kinds with ``stops_vehicles`` except rising, removable, flexible and
        foldable bollards). Only these take part in routing and gap finding.
    """
    taxonomy = taxonomy or load_taxonomy()
    stops = {k.name: bool(k.stops_vehicles) for k in taxonomy.barrier_kinds}
    kinds = osm_barriers["barrier_kind"]
    bollard = (
        osm_barriers["bollard"] if "bollard" in osm_barriers else pd.Series(None, index=kinds.index)
    )
    # a scenario's added barriers live in the City's layer with their rating
    rating = (
        osm_barriers["rating"].where(osm_barriers["rating"].notna(), None).to_numpy(dtype=object)
        if "rating" in osm_barriers
        else np.full(len(osm_barriers), None, dtype=object)
    )
    has_rating = pd.notna(rating)
    osm = gpd.GeoDataFrame(
        {
            "barrier_id": osm_barriers["barrier_id"].astype(str).to_numpy(),
            "barrier_kind": kinds.to_numpy(),
            "rating": rating,
            "source": np.where(has_rating, "user", "osm"),
            "stops_vehicles": (
                (kinds.map(stops).fillna(False) & ~bollard.isin(_OPEN_BOLLARDS)).to_numpy()
                | has_rating
            ).astype(bool),
        },
        geometry=osm_barriers.geometry.to_numpy(),
        crs=osm_barriers.crs,
    )
    if rated is None or rated.empty:
        return osm
    if rated.crs != osm.crs:
        raise InputError(
            f"rated barriers: CRS {rated.crs} differs from the City's {osm.crs}; read them "
            "with read_rated_barriers(path, crs=city.crs)."
        )
    user = rated[[*BARRIER_COLUMNS, "geometry"]]
    clash = sorted(set(user["barrier_id"]) & set(osm["barrier_id"]))
    if clash:
        raise InputError(
            f"rated barriers: ids {clash[:5]} clash with OSM barrier ids; rename them."
        )
    return gpd.GeoDataFrame(pd.concat([osm, user], ignore_index=True), crs=osm.crs)


def barrier_gaps(
    barriers: gpd.GeoDataFrame,
    *,
    gap_limit_m: float = 1.2,
    cluster_m: float = 5.0,
) -> gpd.GeoDataFrame:
    """Gaps wider than the limit between neighbouring elements of barrier lines.

    Elements that can stop a vehicle (``stops_vehicles``, or every row when the column is
    absent) closer than ``cluster_m`` to each other form a barrier line. Within each line the
    minimum spanning tree over element-to-element distances links every element to its nearest
    neighbours; each link longer than ``gap_limit_m`` is a gap. Distances are between
    geometries (a bollard point to a wall line), centre to centre for points: bollard diameter
    is not subtracted, which errs towards reporting a gap.

    Parameters
    ----------
    barriers
        Barrier points and lines in a metric CRS with ``barrier_id``.
    gap_limit_m
        Largest acceptable air gap (m): 1.2 m, DfT TAL 01/11 (reference hvm.md §1, §8.4.5).
    cluster_m
        Elements closer than this (m) belong to one line [A: wider gaps are deliberate openings
        or separate lines; every gap up to it is reported].

    Returns
    -------
    geopandas.GeoDataFrame
        :data:`GAP_COLUMNS`, one row per gap: ``gap_m`` (m), the two barrier ids and both
        joined with ``;``; geometry the middle of the gap (Point).

    Examples
    --------
    >>> import geopandas as gpd
    >>> from shapely import Point
    >>> row = gpd.GeoDataFrame({"barrier_id": ["a", "b", "c"]},
    ...                        geometry=[Point(0, 0), Point(1, 0), Point(3, 0)], crs=32635)
    >>> barrier_gaps(row)[["gap_m", "barrier_ids"]].to_dict("records")
    [{'gap_m': 2.0, 'barrier_ids': 'b;c'}]
    """
    if not 0 < gap_limit_m < cluster_m:
        raise InputError(
            f"gap_limit_m={gap_limit_m!r}, cluster_m={cluster_m!r}: expected "
            "0 < gap_limit_m < cluster_m (metres)."
        )
    elements = barriers
    if "stops_vehicles" in barriers.columns:
        elements = barriers.loc[barriers["stops_vehicles"].astype(bool).to_numpy()]
    geoms = elements.geometry.to_numpy()
    ids = elements["barrier_id"].astype(str).to_numpy()
    n = len(geoms)
    a, b = shapely.STRtree(geoms).query(geoms, predicate="dwithin", distance=cluster_m)
    pair = a < b
    a, b = a[pair], b[pair]
    dist = shapely.distance(geoms[a], geoms[b])
    tree = spanning_forest(n, a, b, dist)
    wide = tree[dist[tree] > gap_limit_m + 1e-9]  # a gap of exactly the limit is allowed
    ga, gb = a[wide], b[wide]
    middles = [
        shapely.line_interpolate_point(
            shapely.shortest_line(geoms[i], geoms[j]), 0.5, normalized=True
        )
        for i, j in zip(ga, gb, strict=True)
    ]
    lines = components(n, a, b)[0] if n else 0
    gaps = gpd.GeoDataFrame(
        {
            "gap_id": [f"gap/{k}" for k in range(len(ga))],
            "gap_m": np.round(dist[wide], 3),
            "barrier_a": ids[ga],
            "barrier_b": ids[gb],
            "barrier_ids": [f"{ids[i]};{ids[j]}" for i, j in zip(ga, gb, strict=True)],
        },
        geometry=gpd.GeoSeries(middles, crs=barriers.crs),
        crs=barriers.crs,
    )
    log.info(
        "barrier gaps: %d over %.2f m among %d elements (%d lines)",
        len(gaps),
        gap_limit_m,
        n,
        lines,
    )
    return gaps


def _as_lines(geoms: np.ndarray) -> np.ndarray:
    """Polygons (a block drawn as an area) become their outline, as in the OSM barrier layer."""
    out = geoms.copy()
    areal = np.isin(shapely.get_type_id(geoms), [3, 6])
    out[areal] = shapely.boundary(geoms[areal])
    return out


def _id_problems(frame: gpd.GeoDataFrame, id_column: str) -> list[str]:
    """Empty or repeated ids in the id column (each barrier needs its own id)."""
    if id_column not in frame.columns:
        return []
    column = frame[id_column]
    text = column.astype(str).str.strip()
    empty = column.isna().to_numpy() | (text == "").to_numpy()
    problems = [f"feature {fid}: empty {id_column!r}" for fid in frame.index[empty]]
    repeated = text[~empty & text.duplicated(keep=False).to_numpy()]
    if len(repeated):
        problems.append(
            f"{id_column!r} repeats {listing(sorted(set(repeated)))}; give each barrier its own id"
        )
    return problems


def _geometry_problems(frame: gpd.GeoDataFrame, ids: np.ndarray) -> list[str]:
    geoms = frame.geometry.to_numpy()
    problems = []
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    problems += [f"feature {fid}: empty geometry" for fid in ids[missing]]
    wrong = ~missing & (shapely.get_type_id(geoms) == 7)
    problems += [
        f"feature {fid}: a GeometryCollection; draw barriers as points, lines or polygons"
        for fid in ids[wrong]
    ]
    invalid = ~missing & ~wrong & ~shapely.is_valid(geoms)
    problems += [
        f"feature {fid}: invalid geometry ({shapely.is_valid_reason(g)})"
        for fid, g in zip(ids[invalid], geoms[invalid], strict=True)
    ]
    return problems


#: Step (m) at which barrier lines are sampled across a carriageway.
SAMPLE_M = 0.25
#: Elements within this distance (m) along a street stand in the same cross-section (a row of
#: bollards drawn a little staggered; a line drawn diagonally across is sampled every SAMPLE_M).
SECTION_M = 1.0


def street_closures(
    barriers: gpd.GeoDataFrame,
    edges: gpd.GeoDataFrame,
    *,
    vehicle_width_m: float,
    snap_m: float,
) -> gpd.GeoDataFrame:
    """Where barriers as built close a street: cross-sections they block kerb to kerb.

    A barrier covers only its own footprint: a bollard point its own width, a line where it
    runs. A street (carriageway ``width_m`` centred on its centreline) is closed at a
    cross-section when the elements standing on it (points, and lines sampled every
    :data:`SAMPLE_M`, within ``width_m / 2 + snap_m`` of the centreline and within
    :data:`SECTION_M` of each other along it) leave no gap across the carriageway, kerb to
    kerb, as wide as ``vehicle_width_m``. Centre-to-centre distances are used (the bollard's
    own diameter is not subtracted: errs towards an open gap). So one bollard beside or in a
    street does not close it, a row of bollards 1.2 m apart across it does, and a line along
    the kerb closes nothing. Gaps are measured only across the carriageway: a bypass over a
    footway beyond the kerb is not seen (it is reported by :func:`barrier_gaps` when the line
    has elements there).

    Parameters
    ----------
    barriers
        Points and lines (polygons by their outline) with ``barrier_id`` and ``rating``, in
        the edges' metric CRS.
    edges
        Street centrelines with ``width_m``.
    vehicle_width_m
        Width (m) of the narrowest threat vehicle: a gap at least this wide lets it through.
    snap_m
        Mapping tolerance (m) beyond the kerb within which an element still stands on the
        street (``params.barrier_snap_m``).

    Returns
    -------
    geopandas.GeoDataFrame
        One row per closed cross-section and rating: ``barrier_id`` (the elements' ids joined
        by ``+``), ``rating``, ``max_gap_m`` and the point on the centreline where the street
        is closed (kept 0.5 m off the street's ends: it belongs to this street, not to the
        junction).
        Elements close a street together only when they carry the same rating (a line rated
        for cars and the same line rated for trucks are two closures, one per class); a row
        mixing ratings closes as each rating's elements alone would, so the weakest part of a
        line governs: a vehicle picks it.

    Examples
    --------
    >>> import geopandas as gpd, shapely
    >>> street = gpd.GeoDataFrame({"width_m": [7.0]},
    ...     geometry=[shapely.LineString([(0, 0), (100, 0)])], crs=3067)
    >>> one = gpd.GeoDataFrame({"barrier_id": ["b"], "rating": ["V/1500[M1]/48/90:1"]},
    ...     geometry=[shapely.Point(50, 1)], crs=3067)
    >>> len(street_closures(one, street, vehicle_width_m=1.8, snap_m=2.0))
    0
    >>> row = one.assign(geometry=[shapely.LineString([(50, -5), (50, 5)])])
    >>> closed = street_closures(row, street, vehicle_width_m=1.8, snap_m=2.0)
    >>> closed["max_gap_m"].tolist(), closed.geometry.iloc[0].wkt
    ([0.25], 'POINT (50 0)')
    """
    ratings = barriers["rating"].to_numpy(dtype=object)
    keys = np.array([_rating_key(r) for r in ratings], dtype=object)
    parts = [
        _closures_of(barriers.loc[keys == key], edges, vehicle_width_m, snap_m)
        for key in pd.unique(keys)
    ]
    table = (
        pd.concat(parts, ignore_index=True)
        if parts
        else _closures_of(barriers, edges, vehicle_width_m, snap_m)
    )
    return gpd.GeoDataFrame(table, geometry="geometry", crs=edges.crs)


def _rating_key(rating: object) -> str:
    """The rating as text ("" when unrated): elements with the same rating form lines together."""
    if rating is None or (isinstance(rating, float) and np.isnan(rating)):
        return ""
    return rating if isinstance(rating, str) else str(getattr(rating, "text", "")) or repr(rating)


def _closures_of(
    barriers: gpd.GeoDataFrame, edges: gpd.GeoDataFrame, vehicle_width_m: float, snap_m: float
) -> gpd.GeoDataFrame:
    """:func:`street_closures` for barriers that all carry the same rating."""
    columns = ("barrier_id", "rating", "max_gap_m")
    crs = edges.crs
    geoms = barriers.geometry.to_numpy()
    geoms = shapely.make_valid(geoms)
    polygonal = np.isin(shapely.get_type_id(geoms), (3, 6))
    geoms = np.where(polygonal, shapely.boundary(geoms), geoms)
    lines = edges.geometry.to_numpy()
    half = edges["width_m"].to_numpy(float) / 2
    tree = shapely.STRtree(geoms)
    # only streets with an element within reach get a corridor (buffering all: Malta 2.5 s);
    # a buffer lies inside its exact reach, so this skips no street an element can stand on
    reach = float((half + snap_m).max()) + 1e-6 if len(lines) else 0.0
    near = np.unique(tree.query(lines, predicate="dwithin", distance=reach)[0])
    corridors = np.full(len(lines), None, dtype=object)
    corridors[near] = shapely.buffer(lines[near], half[near] + snap_m)  # round caps: junctions
    b_idx, e_idx = tree.query(corridors, predicate="intersects")[::-1]
    rows: list[tuple[str, object, float, shapely.Geometry]] = []
    if b_idx.size:
        pieces = shapely.segmentize(shapely.intersection(geoms[b_idx], corridors[e_idx]), SAMPLE_M)
        xy, pair = shapely.get_coordinates(pieces, return_index=True)
        edge = e_idx[pair]
        along, foot, direction = _project(lines, edge, xy)
        offset = xy - foot
        lateral = direction[:, 0] * offset[:, 1] - direction[:, 1] * offset[:, 0]
        order = np.lexsort((along, edge))
        starts = _section_starts(edge[order], along[order])
        gaps = _widest_gaps(lateral[order], half[edge[order]], starts)
        ids = barriers["barrier_id"].astype(str).to_numpy()
        ratings = barriers["rating"].to_numpy(dtype=object)
        ends = np.r_[starts[1:], order.size]
        for s in np.flatnonzero(gaps < vehicle_width_m):
            k = order[starts[s] : ends[s]]
            e = int(edge[k[0]])
            members = np.unique(b_idx[pair[k]])
            at = float(np.median(along[k]))
            rows.append((
                "+".join(ids[members]), ratings[members[0]], round(float(gaps[s]), 2),
                _on_street(lines[e], at),
            ))  # fmt: skip
    table = pd.DataFrame([r[:3] for r in rows] or None, columns=list(columns)).astype(
        {"barrier_id": object, "rating": object, "max_gap_m": float}
    )
    return gpd.GeoDataFrame(table, geometry=[r[3] for r in rows], crs=crs)


def _project(
    lines: np.ndarray, edge: np.ndarray, xy: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each point's projection on its line ``lines[edge]``: along (m), foot (x, y), direction.

    The point is projected on every segment of its line and the nearest segment is kept (the
    first one on a tie, as GEOS ``line_locate_point`` does); the direction is that segment's
    unit vector (zero for a zero-length line). Vectorised: one row per point and segment.
    """
    used, line = np.unique(edge, return_inverse=True)
    coords, owner = shapely.get_coordinates(lines[used], return_index=True)
    joined = owner[1:] == owner[:-1]
    start, vec, seg_line = coords[:-1][joined], np.diff(coords, axis=0)[joined], owner[:-1][joined]
    length = np.hypot(vec[:, 0], vec[:, 1])
    first = np.searchsorted(seg_line, np.arange(used.size))
    count = np.bincount(seg_line, minlength=used.size)[line]
    cum = np.cumsum(length) - length
    base = cum - cum[np.minimum(first, max(cum.size - 1, 0))][seg_line]  # along at segment start
    row = np.repeat(np.arange(edge.size), count)
    seg = first[line][row] + np.arange(row.size) - np.repeat(np.cumsum(count) - count, count)
    rel = xy[row] - start[seg]
    sq = length[seg] ** 2
    safe = np.where(sq > 0, sq, 1.0)
    t = np.where(sq > 0, np.clip((rel * vec[seg]).sum(axis=1) / safe, 0.0, 1.0), 0.0)
    dist = ((rel - t[:, None] * vec[seg]) ** 2).sum(axis=1)
    lowest = np.minimum.reduceat(dist, np.cumsum(count) - count) if row.size else dist
    hit = np.flatnonzero(dist <= lowest[row])
    hit = hit[np.r_[True, row[hit][1:] != row[hit][:-1]]] if hit.size else hit
    seg, t = seg[hit], t[hit]
    norm = np.where(length[seg] > 0, length[seg], 1.0)
    return (
        base[seg] + t * length[seg],
        start[seg] + t[:, None] * vec[seg],
        vec[seg] / norm[:, None],
    )


def _section_starts(edge: np.ndarray, along: np.ndarray) -> np.ndarray:
    """Starts of the runs of sorted (edge, along) samples closer than SECTION_M along an edge."""
    if edge.size == 0:
        return np.zeros(0, dtype=np.int64)
    cut = (np.diff(edge) != 0) | (np.diff(along) > SECTION_M)
    return np.r_[0, np.flatnonzero(cut) + 1]


def _widest_gaps(lateral: np.ndarray, half: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Per section (runs from ``starts``), the widest uncovered stretch (m) of [-half, half].

    ``lateral`` holds the samples' offsets from the centreline, ``half`` each sample's
    half-width (the same within a section); all sections at once.
    """
    if lateral.size == 0:
        return np.zeros(0)
    section = np.repeat(np.arange(starts.size), np.diff(np.r_[starts, lateral.size]))
    stops = np.clip(lateral, -half, half)
    order = np.lexsort((stops, section))
    stops, section, half = stops[order], section[order], half[order]
    ends = np.r_[starts[1:], stops.size] - 1
    inner = np.diff(stops)
    inner[np.diff(section) != 0] = 0.0  # no gap across two sections
    widest = np.maximum(stops[starts] + half[starts], half[ends] - stops[ends])
    if inner.size:
        steps = np.maximum.reduceat(np.r_[inner, 0.0], starts)
        widest = np.maximum(widest, steps)
    return widest


def _on_street(line: shapely.LineString, at: float) -> shapely.Point:
    """The point ``at`` m along ``line``, kept 0.5 m inside its ends (off the junction node)."""
    length = float(line.length)
    return shapely.line_interpolate_point(line, min(max(at, 0.5), max(length - 0.5, 0.0)))
