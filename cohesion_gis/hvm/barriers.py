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
from dataclasses import dataclass
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
    "KIND_COLUMNS",
    "barrier_gaps",
    "barrier_kinds",
    "combine_barriers",
    "cross_section_m",
    "level_changes",
    "read_rated_barriers",
    "street_closures",
    "vehicle_obstacles",
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
        :data:`BARRIER_COLUMNS` (``source`` = ``"user"``; ``barrier_kind`` the layer's
        ``barrier_kind`` or ``kind`` (e.g. "bollard"), else "rated"; ``rating`` the string as
        given, None if empty; ``stops_vehicles`` True: a user's barrier is physical, and an
        unrated one stops vehicles only with ``block_unrated``) plus ``rated_class``,
        ``rated_speed_kmh`` and ``penetration_m``, in ``crs``.

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
    if rating_column not in frame.columns and {"line_id", "what_it_stops"} <= set(frame):
        raise InputError(
            f"{path}: a scheme's line table from `cohesion-gis protect` (a rating per class, "
            "chicanes and closures as street changes); assess the scheme with `cohesion-gis hvm "
            "--scenario protect_<site>.toml` or `cohesion-gis compare protect_<site>.toml`"
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
    kinds = barrier_kinds(frame)
    out = gpd.GeoDataFrame(
        {
            "barrier_id": ids,
            "barrier_kind": np.where(kinds == "", "rated", kinds),
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
    out.loc[unrated & (out["barrier_kind"] == "rated"), "barrier_kind"] = "unrated"
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


#: Columns of a user's barrier layer that say how a barrier is built (the first found is read).
KIND_COLUMNS = ("barrier_kind", "kind")


def barrier_kinds(frame: pd.DataFrame) -> np.ndarray:
    """What each barrier of a user's layer is built as (``kind``: "bollard", ...), "" if unsaid.

    Lower-cased text of the first of :data:`KIND_COLUMNS` in ``frame``. A line of bollards
    is not a continuous line: it does not deflect a glancing vehicle
    (:data:`~cohesion_gis.hvm.impact.CONTINUOUS_KINDS`), so the kind is kept, not replaced by
    "rated" (second VDA review: bollard rows were credited as continuous lines).
    """
    for column in KIND_COLUMNS:
        if column in frame.columns:
            values = frame[column].where(frame[column].notna(), "")
            return values.astype(str).str.strip().str.lower().to_numpy(dtype=object)
    return np.full(len(frame), "", dtype=object)


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


#: Step (m) at which barrier lines are sampled across a street.
SAMPLE_M = 0.25
#: Elements within this distance (m) along a street stand in the same cross-section (a row of
#: bollards drawn a little staggered; a line drawn diagonally across is sampled every SAMPLE_M).
SECTION_M = 1.0
#: Length (m) of the centreline just before and just after a line that a vehicle going round
#: the line's end must regain (:func:`street_closures`, enclosure check).
GATE_M = 5.0
#: ``landuse`` values of water a vehicle cannot drive through (its edge bounds the hard-standing).
WATER = ("basin", "pond", "reservoir", "water")


def vehicle_obstacles(
    buildings: gpd.GeoDataFrame | None,
    barriers: gpd.GeoDataFrame,
    walk_edges: gpd.GeoDataFrame | None,
    landuse: gpd.GeoDataFrame | None,
    *,
    min_height_m: float,
) -> gpd.GeoDataFrame:
    """What bounds the hard-standing beside a street: façades, level changes, water's edge.

    A vehicle that leaves the carriageway drives over the footway or paving until it meets a
    building, a level change it cannot mount (:func:`level_changes`: retaining and city walls,
    walls at least ``min_height_m`` high, steps) or water. :func:`street_closures` measures a
    street's drivable cross-section to the first of them; a designed barrier line is tied into
    them (:mod:`cohesion_gis.protect`).

    Parameters
    ----------
    buildings
        Building footprints (polygons), metric CRS; ``None``: none.
    barriers
        OSM barriers (``City.barriers``), same CRS, for the level changes.
    walk_edges
        Pedestrian network (``highway``, for steps), same CRS; ``None``: no steps.
    landuse
        Land-use polygons with ``landuse`` (water: :data:`WATER`), same CRS; ``None``: none.
    min_height_m
        A wall at least this high (m) is a level change (``level_change_min_height_m``).

    Returns
    -------
    geopandas.GeoDataFrame
        ``obstacle_kind`` ("building façade", the level change's kind in words, e.g.
        "retaining wall", "steps", or "water's edge") and line geometry, same CRS.

    Examples
    --------
    >>> import cohesion_gis as cg
    >>> city = cg.load_city()  # doctest: +SKIP
    >>> obstacles = vehicle_obstacles(city.buildings, city.barriers, city.walk_edges,
    ...                               city.landuse, min_height_m=0.6)
    >>> sorted(set(obstacles["obstacle_kind"]))[:2]
    ['building façade', 'retaining wall']
    """
    parts, kinds = [], []
    if buildings is not None and len(buildings):
        parts.append(shapely.boundary(buildings.geometry.to_numpy()))
        kinds += ["building façade"] * len(buildings)
    levels = level_changes(barriers, walk_edges, min_height_m=min_height_m)
    parts.append(levels.geometry.to_numpy())
    kinds += [str(k).replace("_", " ") for k in levels["level_kind"]]
    if landuse is not None and len(landuse) and "landuse" in landuse:
        water = landuse.loc[landuse["landuse"].isin(WATER)]
        parts.append(shapely.boundary(water.geometry.to_numpy()))
        kinds += ["water's edge"] * len(water)
    return gpd.GeoDataFrame(
        {"obstacle_kind": pd.Series(kinds, dtype=object)},
        geometry=np.concatenate(parts),
        crs=barriers.crs,
    )


def cross_section_m(
    feet: np.ndarray,
    normals: np.ndarray,
    half_m: np.ndarray,
    obstacles: gpd.GeoDataFrame | None,
    *,
    footway_width_m: float,
    reach_m: float,
    open_m: float | None = None,
) -> np.ndarray:
    """The drivable cross-section of a street at points of its centreline, each side (m).

    From the centreline point along the normal on each side, the hard-standing runs to the
    first obstacle (:func:`vehicle_obstacles`) within ``reach_m`` of the centreline (at least
    to the kerb); where there is none, to the kerb plus ``footway_width_m``, or to ``open_m``
    from the centreline when given (open ground: :func:`street_closures` credits a line there
    only where it is tied or holds the reach, so a closure line is drawn out to it).

    Parameters
    ----------
    feet
        Centreline points (n, 2), metric CRS.
    normals
        Unit vectors (n, 2) across the street: the left side is ``+normal``.
    half_m
        Half the carriageway width (m) at each point.
    obstacles
        From :func:`vehicle_obstacles`, same CRS; ``None``: the footway width everywhere.
    footway_width_m
        Footway assumed beyond the kerb where no obstacle is in reach (m,
        ``params.footway_width_m``).
    reach_m
        Obstacles farther than this from the centreline (m) are not looked for
        (``params.closure_reach_m``).
    open_m
        Extent (m from the centreline, at least the kerb) of a side with no obstacle in reach;
        ``None``: the kerb plus ``footway_width_m``.

    Returns
    -------
    numpy.ndarray
        (n, 2): distance (m) from the centreline to the edge of the hard-standing, right
        (``-normal``) then left (``+normal``).

    Examples
    --------
    >>> import geopandas as gpd, numpy as np, shapely
    >>> wall = gpd.GeoDataFrame({"obstacle_kind": ["building façade"]},
    ...     geometry=[shapely.LineString([(-50, 9), (50, 9)])], crs=3067)
    >>> cross_section_m(np.array([[0.0, 0.0]]), np.array([[0.0, 1.0]]), np.array([3.5]), wall,
    ...                 footway_width_m=3.0, reach_m=20.0).tolist()
    [[6.5, 9.0]]
    """
    walls = np.array([], dtype=object) if obstacles is None else obstacles.geometry.to_numpy()
    half = np.asarray(half_m, float)
    extent, open_side = _sides(
        np.asarray(feet, float), np.asarray(normals, float), half,
        (walls, shapely.STRtree(walls)), footway_width_m=footway_width_m, reach_m=reach_m,
    )  # fmt: skip
    if open_m is None:
        return extent
    return np.where(open_side, np.maximum(open_m, half)[:, None], extent)


def _sides(
    feet: np.ndarray,
    normals: np.ndarray,
    half: np.ndarray,
    ground: tuple[np.ndarray, shapely.STRtree],
    *,
    footway_width_m: float,
    reach_m: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Extents (m, right and left) and open sides of :func:`cross_section_m`, tree built once.

    A side is open where no obstacle lies within reach (open ground).
    """
    walls, tree = ground
    out = np.repeat((half + footway_width_m)[:, None], 2, axis=1)
    open_side = np.ones(out.shape, dtype=bool)
    if not len(walls) or not len(feet):
        return out, open_side
    length = np.maximum(reach_m, half)
    origin = shapely.points(feet)
    for side, sign in enumerate((-1.0, 1.0)):
        ends = feet + sign * length[:, None] * normals
        rays = shapely.linestrings(np.stack([feet, ends], axis=1))
        ray, hit = tree.query(rays, predicate="intersects")
        if not ray.size:
            continue
        found = np.full(len(feet), np.inf)
        dist = shapely.distance(origin[ray], shapely.intersection(rays[ray], walls[hit]))
        np.minimum.at(found, ray, dist)
        near = np.isfinite(found)
        out[near, side] = np.maximum(found[near], half[near])
        open_side[near, side] = False
    return out, open_side


def street_closures(
    barriers: gpd.GeoDataFrame,
    edges: gpd.GeoDataFrame,
    *,
    vehicle_width_m: float,
    snap_m: float,
    footway_width_m: float,
    reach_m: float,
    obstacles: gpd.GeoDataFrame | None = None,
) -> gpd.GeoDataFrame:
    """Where barriers as built close a street: cross-sections they block façade to façade.

    A barrier covers only its own footprint: a bollard point its own width, a line where it
    runs. A vehicle stopped at a line across the carriageway mounts the footway and drives
    round its end, so a street is closed at a cross-section only when the elements standing
    there leave no gap as wide as ``vehicle_width_m`` across the whole **drivable
    cross-section**: the carriageway (``width_m`` centred on the centreline) plus the
    hard-standing beyond each kerb up to the first building, level change or water
    (:func:`cross_section_m`: within ``reach_m`` of the centreline). A side with none in reach
    is **open** ground (a square, a park, a car park): a vehicle drives round the line's end
    there, so that side holds only where the line is tied or encloses the street (below); it
    was credited as a footway of ``footway_width_m``, which a second VDA review refused. A side
    is also sealed where the line's outermost element comes within ``vehicle_width_m`` of such
    an obstacle (a line tied into a building corner).

    The elements of a cross-section: those within ``width_m / 2 + snap_m`` of the centreline
    (points; lines sampled every :data:`SAMPLE_M`) and within :data:`SECTION_M` of each other
    along it leave no gap wider than the vehicle across the carriageway (the candidates), plus
    every element of the same rating within the cross-section's window (its run along the
    street ± :data:`SECTION_M`, across to the edge of the hard-standing). Centre-to-centre
    distances are used (the bollard's own diameter is not subtracted: errs towards an open
    gap). So one bollard never closes a street, a row of bollards 1.2 m apart across it does
    only when it runs on across the footways to the façades, and a line along the kerb closes
    nothing.

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
        carriageway (``params.barrier_snap_m``).
    footway_width_m
        Hard-standing (m) assumed beyond each kerb where no obstacle is within ``reach_m``
        (``params.footway_width_m``).
    reach_m
        Distance (m) from the centreline within which buildings, level changes and water bound
        the cross-section (``params.closure_reach_m``).
    obstacles
        From :func:`vehicle_obstacles`, same CRS; ``None``: the ground is not known, and a
        footway of ``footway_width_m`` is assumed each side of every street (a model for
        drawn examples; an assessment passes its city's obstacles).

    Returns
    -------
    geopandas.GeoDataFrame
        One row per closed cross-section and rating: ``barrier_id`` (the elements' ids joined
        by ``+``), ``rating``, ``max_gap_m`` (the widest gap across the drivable
        cross-section) and the point on the centreline where the street is closed (kept
        0.5 m off the street's ends: it belongs to this street, not to the junction).
        Elements close a street together only when they carry the same rating (a line rated
        for cars and the same line rated for trucks are two closures, one per class); a row
        mixing ratings closes as each rating's elements alone would, so the weakest part of a
        line governs: a vehicle picks it.

    Examples
    --------
    A 7 m carriageway and no ground data: 3 m of footway assumed each side.

    >>> import geopandas as gpd, shapely
    >>> street = gpd.GeoDataFrame({"width_m": [7.0]},
    ...     geometry=[shapely.LineString([(0, 0), (100, 0)])], crs=3067)
    >>> one = gpd.GeoDataFrame({"barrier_id": ["b"], "rating": ["V/1500[M1]/48/90:1"]},
    ...     geometry=[shapely.Point(50, 1)], crs=3067)
    >>> options = dict(vehicle_width_m=1.8, snap_m=2.0, footway_width_m=3.0, reach_m=20.0)
    >>> len(street_closures(one, street, **options))
    0
    >>> kerb = one.assign(geometry=[shapely.LineString([(50, -3.5), (50, 3.5)])])
    >>> len(street_closures(kerb, street, **options))  # a car drives round it on the footway
    0
    >>> across = one.assign(geometry=[shapely.LineString([(50, -6.5), (50, 6.5)])])
    >>> closed = street_closures(across, street, **options)
    >>> closed["max_gap_m"].tolist(), closed.geometry.iloc[0].wkt
    ([0.25], 'POINT (50 0)')
    """
    ratings = barriers["rating"].to_numpy(dtype=object)
    keys = np.array([_rating_key(r) for r in ratings], dtype=object)
    walls = np.array([], dtype=object) if obstacles is None else obstacles.geometry.to_numpy()
    reach = _Reach(
        vehicle_width_m, snap_m, footway_width_m, reach_m, walls, shapely.STRtree(walls),
        measured=obstacles is not None,
    )  # fmt: skip
    parts = [_closures_of(barriers.loc[keys == key], edges, reach) for key in pd.unique(keys)]
    table = pd.concat(parts, ignore_index=True) if parts else _closures_of(barriers, edges, reach)
    return gpd.GeoDataFrame(table, geometry="geometry", crs=edges.crs)


@dataclass(frozen=True)
class _Reach:
    """The settings of :func:`street_closures`."""

    vehicle_width_m: float
    snap_m: float
    footway_width_m: float
    reach_m: float
    walls: np.ndarray  # the obstacles' line geometries
    wall_tree: shapely.STRtree
    measured: bool  # obstacles given: a side with none in reach is open, not an assumed footway


def _rating_key(rating: object) -> str:
    """The rating as text ("" when unrated): elements with the same rating form lines together."""
    if rating is None or (isinstance(rating, float) and np.isnan(rating)):
        return ""
    return rating if isinstance(rating, str) else str(getattr(rating, "text", "")) or repr(rating)


def _closures_of(
    barriers: gpd.GeoDataFrame, edges: gpd.GeoDataFrame, reach: _Reach
) -> gpd.GeoDataFrame:
    """:func:`street_closures` for barriers that all carry the same rating."""
    columns = ("barrier_id", "rating", "max_gap_m")
    geoms = barriers.geometry.to_numpy()
    geoms = shapely.make_valid(geoms)
    polygonal = np.isin(shapely.get_type_id(geoms), (3, 6))
    geoms = np.where(polygonal, shapely.boundary(geoms), geoms)
    lines = edges.geometry.to_numpy()
    half = edges["width_m"].to_numpy(float) / 2
    tree = shapely.STRtree(geoms)
    # only streets with an element within reach get a corridor (buffering all: Malta 2.5 s);
    # a buffer lies inside its exact reach, so this skips no street an element can stand on
    snap = reach.snap_m
    within = float((half + snap).max()) + 1e-6 if len(lines) else 0.0
    near = np.unique(tree.query(lines, predicate="dwithin", distance=within)[0])
    corridors = np.full(len(lines), None, dtype=object)
    corridors[near] = shapely.buffer(lines[near], half[near] + snap)  # round caps: junctions
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
        bound = half[edge[order]]
        gaps = _widest_gaps(lateral[order], -bound, bound, starts)
        # candidates: the carriageway is closed; then the whole cross-section is checked
        cand = np.flatnonzero(gaps < reach.vehicle_width_m)
        ends = np.r_[starts[1:], order.size]
        lo, hi = order[starts[cand]], order[ends[cand] - 1]
        mid = order[(starts[cand] + ends[cand] - 1) // 2]
        mid_up = order[(starts[cand] + ends[cand]) // 2]
        at = (along[mid] + along[mid_up]) / 2  # the median along the street
        frame = _Frame(
            edge=edge[lo],
            foot=foot[mid] + (at - along[mid])[:, None] * direction[mid],
            direction=direction[mid],
            span=np.column_stack([along[lo] - at, along[hi] - at]),
        )
        gaps, members = _cross_section_gaps(frame, geoms, tree, half[frame.edge], reach)
        ids = barriers["barrier_id"].astype(str).to_numpy()
        ratings = barriers["rating"].to_numpy(dtype=object)
        for c in np.flatnonzero(~(gaps >= reach.vehicle_width_m)):  # NaN: enclosed
            used = members[c]
            rows.append((
                "+".join(ids[used]), ratings[used[0]], round(float(gaps[c]), 2),
                _on_street(lines[frame.edge[c]], float(at[c])),
            ))  # fmt: skip
    table = pd.DataFrame([r[:3] for r in rows] or None, columns=list(columns)).astype(
        {"barrier_id": object, "rating": object, "max_gap_m": float}
    )
    return gpd.GeoDataFrame(table, geometry=[r[3] for r in rows], crs=edges.crs)


@dataclass(frozen=True)
class _Frame:
    """Candidate cross-sections: street, centreline point, unit direction, run along it (m)."""

    edge: np.ndarray
    foot: np.ndarray
    direction: np.ndarray
    span: np.ndarray  # (n, 2): first and last sample along the street, from ``foot``


def _cross_section_gaps(
    frame: _Frame, geoms: np.ndarray, tree: shapely.STRtree, half: np.ndarray, reach: _Reach
) -> tuple[np.ndarray, list[np.ndarray]]:
    """Widest gap (m) across each candidate's drivable cross-section, and its elements.

    The window of a candidate runs across the street to the edge of the hard-standing
    (:func:`cross_section_m`) and ``reach_m`` along it each side of its samples; the elements
    in it that form one run with the candidate's own (samples within :data:`SECTION_M` of each
    other along the street, as on the carriageway) make the cross-section.
    """
    n = len(frame.edge)
    if not n:
        return np.zeros(0), []
    normal = np.column_stack([-frame.direction[:, 1], frame.direction[:, 0]])
    extent, open_side = _sides(
        frame.foot, normal, half, (reach.walls, reach.wall_tree),
        footway_width_m=reach.footway_width_m, reach_m=reach.reach_m,
    )  # fmt: skip
    # measured ground with nothing in reach on a side: open ground a car drives round a line's
    # end on (second VDA review: it was credited as a footway of ``footway_width_m``); the
    # window then runs out to the reach, and only a tie or an enclosure closes that side
    open_side &= reach.measured
    extent = np.where(open_side, np.maximum(reach.reach_m, half)[:, None], extent)
    width = extent.max(axis=1) + reach.snap_m
    s0, s1 = frame.span[:, 0] - reach.reach_m, frame.span[:, 1] + reach.reach_m
    corners = [(s0, -width), (s1, -width), (s1, width), (s0, width)]
    ring = np.stack(
        [frame.foot + s[:, None] * frame.direction + t[:, None] * normal for s, t in corners],
        axis=1,
    )
    windows = shapely.polygons(ring)
    w_idx, g_idx = tree.query(windows, predicate="intersects")
    pieces = shapely.segmentize(shapely.intersection(geoms[g_idx], windows[w_idx]), SAMPLE_M)
    xy, pair = shapely.get_coordinates(pieces, return_index=True)
    win, owner = w_idx[pair], g_idx[pair]
    rel = xy - frame.foot[win]
    lateral = frame.direction[win, 0] * rel[:, 1] - frame.direction[win, 1] * rel[:, 0]
    along = (rel * frame.direction[win]).sum(axis=1)
    # keep the runs along the street that hold the candidate's own samples
    order = np.lexsort((along, win))
    run = np.cumsum(np.r_[0, (np.diff(win[order]) != 0) | (np.diff(along[order]) > SECTION_M)])
    own = (along[order] >= frame.span[win[order], 0] - 1e-6) & (
        along[order] <= frame.span[win[order], 1] + 1e-6
    )
    keep = order[np.isin(run, run[own])]
    xy, lateral, win, owner = xy[keep], lateral[keep], win[keep], owner[keep]
    low = np.where(open_side[:, 0], -np.inf, -extent[:, 0])
    high = np.where(open_side[:, 1], np.inf, extent[:, 1])
    low, high = _tied(xy, lateral, win, bounds=(low, high), reach=reach)
    untied = np.column_stack([np.isinf(low), np.isinf(high)])  # open sides no tie sealed
    order = np.argsort(win, kind="stable")
    counts = np.bincount(win, minlength=n)
    gaps = np.full(n, np.inf)
    has = counts > 0
    starts = (np.cumsum(counts) - counts)[has]
    gaps[has] = _widest_gaps(lateral[order], low[win[order]], high[win[order]], starts)
    owner = owner[order]
    bounds = np.r_[0, np.cumsum(counts)]
    members = [np.unique(owner[bounds[c] : bounds[c + 1]]) for c in range(n)]
    sides = np.where(untied, extent, np.column_stack([-low, high]))
    for c in np.flatnonzero(gaps >= reach.vehicle_width_m):  # a line round the footway?
        near = np.unique(g_idx[w_idx == c])
        if near.size and _enclosed(
            frame, int(c), sides=sides[c], half=half[c], elements=geoms[near], reach=reach
        ):
            gaps[c], members[c] = np.nan, near
    return gaps, members


def _enclosed(
    frame: _Frame,
    c: int,
    *,
    sides: np.ndarray,
    half: float,
    elements: np.ndarray,
    reach: _Reach,
) -> bool:
    """Whether no way leads past candidate ``c`` from carriageway to carriageway.

    The window (``reach_m`` along the street each side of the candidate, across to the edge of
    the hard-standing, ``sides`` = right and left extents, m) less the elements and obstacles,
    each grown by half the vehicle width, and shrunk by it at its edges: the ground the centre
    of a vehicle ``vehicle_width_m`` wide can reach. The street is held when no part of it
    touches the centreline both just before and just after the candidate's elements (over
    :data:`GATE_M`): a line that crosses the carriageway and then runs along the kerb, or along
    the carriageway (a ring round a square), leaves a vehicle that mounts the footway beside it
    no way back onto the street it was following within the window. On an open side (no
    obstacle in reach) the window runs out to ``reach_m``: a line must hold the ground that far
    (what lies beyond is not seen).
    """
    foot, direction = frame.foot[c], frame.direction[c]
    normal = np.array([-direction[1], direction[0]])
    s0, s1 = frame.span[c, 0] - reach.reach_m, frame.span[c, 1] + reach.reach_m

    def at(s: float, t: float) -> tuple[float, float]:
        x, y = foot + s * direction + t * normal
        return float(x), float(y)

    window = shapely.Polygon([at(s0, -sides[0]), at(s1, -sides[0]), at(s1, sides[1]),
                              at(s0, sides[1])])  # fmt: skip
    clear = reach.vehicle_width_m / 2 - 1e-6  # a gap of exactly the width lets it through
    blocks = list(shapely.buffer(shapely.intersection(elements, window), clear))
    hit = reach.wall_tree.query(window, predicate="intersects")
    blocks += list(shapely.buffer(shapely.intersection(reach.walls[hit], window), clear))
    free = shapely.difference(shapely.buffer(window, -clear), shapely.union_all(blocks))
    step = clear + 0.5  # just clear of the candidate's own elements
    before, after = frame.span[c, 0] - step, frame.span[c, 1] + step
    gates = [
        shapely.LineString([at(before - GATE_M, 0.0), at(before, 0.0)]),
        shapely.LineString([at(after, 0.0), at(after + GATE_M, 0.0)]),
    ]
    return not any(
        part.intersects(gates[0]) and part.intersects(gates[1]) for part in shapely.get_parts(free)
    )


def _tied(
    xy: np.ndarray,
    lateral: np.ndarray,
    win: np.ndarray,
    *,
    bounds: tuple[np.ndarray, np.ndarray],
    reach: _Reach,
) -> tuple[np.ndarray, np.ndarray]:
    """Each side's edge moved in to the outermost element where that element is tied.

    An element within ``vehicle_width_m`` of an obstacle leaves no way past it on that side:
    the cross-section ends there (a line tied into a building corner off the normal).
    """
    low, high = bounds
    if not len(reach.walls) or not lateral.size:
        return low, high
    tree = reach.wall_tree
    for edge_m, sign in ((low, -1.0), (high, 1.0)):
        order = np.lexsort((sign * lateral, win))
        last = np.r_[np.flatnonzero(np.diff(win[order])), order.size - 1]
        outer = order[last]  # per window with samples, its outermost sample on this side
        (found, _), _ = tree.query_nearest(
            shapely.points(xy[outer]), max_distance=reach.vehicle_width_m - 1e-9,
            return_distance=True, all_matches=False,
        )  # fmt: skip
        tied = outer[found]
        inside = (sign * lateral[tied] >= 0) & (sign * lateral[tied] < sign * edge_m[win[tied]])
        edge_m[win[tied[inside]]] = lateral[tied[inside]]
    return low, high


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


def _widest_gaps(
    lateral: np.ndarray, low: np.ndarray, high: np.ndarray, starts: np.ndarray
) -> np.ndarray:
    """Per section (runs from ``starts``), the widest uncovered stretch (m) of [low, high].

    ``lateral`` holds the samples' offsets from the centreline (m, left positive), ``low`` and
    ``high`` each sample's section bounds (the same within a section); all sections at once.
    """
    if lateral.size == 0:
        return np.zeros(0)
    section = np.repeat(np.arange(starts.size), np.diff(np.r_[starts, lateral.size]))
    stops = np.clip(lateral, low, high)
    order = np.lexsort((stops, section))
    stops, section, low, high = stops[order], section[order], low[order], high[order]
    ends = np.r_[starts[1:], stops.size] - 1
    inner = np.diff(stops)
    inner[np.diff(section) != 0] = 0.0  # no gap across two sections
    widest = np.maximum(stops[starts] - low[starts], high[ends] - stops[ends])
    if inner.size:
        widest = np.maximum(widest, np.maximum.reduceat(np.r_[inner, 0.0], starts))
    return widest


def _on_street(line: shapely.LineString, at: float) -> shapely.Point:
    """The point ``at`` m along ``line``, kept 0.5 m inside its ends (off the junction node)."""
    length = float(line.length)
    return shapely.line_interpolate_point(line, min(max(at, 0.5), max(length - 0.5, 0.0)))
