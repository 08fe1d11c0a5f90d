r"""The impact envelope of each approach, and the rating each class needs at an entry.

An approach (:func:`cohesion_gis.hvm.routes.approach_routes`) ends where a carriageway meets a
site's crowd perimeter grown by the mount distance: the speed there is the vehicle's speed on
the carriageway. Its **arrival angle** ``impact_angle_deg`` is where its straight path strikes
the real (un-grown) crowd outline (:func:`cast_to_outline`): the heading is the chord over the
route's last vehicle length (its body axis as its front reaches the entry), cast for
``params.impact_ray_m`` (30 m); the angle is the incidence (90° head-on) to the face struck,
the outline's chord over ``params.impact_face_m`` (10 m) centred on the hit,
``hit_distance_m`` how far ahead. A path that meets no crowd within the cast runs along it:
``direct_hit`` is False and the angle 0°, so only the turn below governs. (It was the heading
of the last route step against a 1 m chord of the grown perimeter, whose rounded bumps where
footways join made streets running along a square read 70-90°: VDA review item 1.) A vehicle
driving *along* a square at 150 km/h cannot strike it head-on at 150 km/h: to turn towards
it, it needs room.
For each approach and each angle of ``params.impact_angles_deg`` (90, 60, 45, 30 and glancing
15°) the envelope is the fastest speed at which the vehicle can strike the perimeter anywhere in
that angle's band (scored at the band's worst edge, and the requirement's threat text names the
band), limited by its lateral acceleration ``min(lat_accel, μ g)`` over the hard-standing before
the perimeter (:func:`cohesion_gis.hvm.kinematics.impact_speed_at_angle_kmh`):

.. math::

    y = d_{entry} + w / 2

with :math:`d_{entry}` the distance from the entry (on the carriageway centreline) to the crowd
perimeter (the kerb, the footway and any plaza in front of the crowd; a kerb mount costs no
speed) and :math:`w/2` the far half of the carriageway the vehicle can swing out into. The
normal component (``normal_speed_kmh``, :func:`~cohesion_gis.hvm.kinematics.normal_speed_kmh`)
bounds the speed square to the perimeter over every angle.

The **stand-off** a requirement's penetration must fit (``standoff_m``) is measured from the
kerb, :math:`\max(d_{entry} - w/2, 0)`: a barrier stands at or behind the kerb, never in the
running lane, so only the footway between the kerb and the crowd edge is behind it.

Requirements per class (:func:`class_requirements`) use the test angle that matches each
envelope angle (:func:`cohesion_gis.hvm.rating.matching_test_angle_deg`: a 90° test covers
every angle, a 45° test impacts up to 52.5°, glancing impacts ask for no test), keeping for
each test angle the most demanding speed and dropping a 45° requirement a 90° one covers.

Speeds are reported at ``params.speed_resolution_kmh`` (1 km/h). ``horizon_limited`` marks
approaches whose run-up ends within ``params.horizon_slack`` of the search horizon while still
below the class's top speed: a longer horizon would give more, so the speed is a lower bound
("≥ X km/h").

References
----------
Reference hvm.md §3 (departure angle vs speed: ``cos θ = 1 − y μ g / v²``, McHenry), §8.3.6
(impact angle relative to the barrier line), §8.4 (required rating, angle).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from cohesion_gis.hvm.kinematics import envelope_bands_deg, impact_envelope_kmh, normal_speed_kmh
from cohesion_gis.hvm.params import HvmParams
from cohesion_gis.hvm.rating import RatingRequirement, required_rating
from cohesion_gis.hvm.routes import APPROACH_COLUMNS, underground
from cohesion_gis.hvm.vehicles import VehicleClass
from cohesion_gis.network import EdgeIndex, nearest_edges

__all__ = [
    "CONTINUOUS_KINDS",
    "ENVELOPE_COLUMNS",
    "approach_requirements",
    "band_of",
    "cast_to_outline",
    "class_requirements",
    "demand_key",
    "envelope_column",
    "impact_envelope",
    "kerbside_cover",
    "most_demanding",
    "requirement_text",
    "round_speed",
]


def envelope_column(angle_deg: float) -> str:
    """Name of the envelope column at an angle, e.g. ``impact_speed_kmh_45deg``."""
    return f"impact_speed_kmh_{angle_deg:g}deg"


def _envelope_names(params: HvmParams) -> list[str]:
    return [envelope_column(a) for a in params.impact_angles_deg]


#: Columns :func:`impact_envelope` adds (the envelope columns come in between, one per angle).
ENVELOPE_COLUMNS = (
    "impact_angle_deg",
    "direct_hit",
    "hit_distance_m",
    "protected_by",
    "standoff_m",
    "lateral_room_m",
    "normal_speed_kmh",
    "crowd_entry_speed_kmh",
    "design_angle_deg",
    "required_rating",
    "horizon_limited",
)


def impact_envelope(
    approaches: gpd.GeoDataFrame,
    sites: gpd.GeoDataFrame,
    edges: gpd.GeoDataFrame,
    *,
    vehicles: Mapping[str, VehicleClass],
    params: HvmParams,
    barriers: gpd.GeoDataFrame | None = None,
    level_changes: gpd.GeoDataFrame | None = None,
) -> gpd.GeoDataFrame:
    """Approaches with their impact envelope, normal speed, horizon flag and kerbside cover.

    Parameters
    ----------
    approaches
        :func:`~cohesion_gis.hvm.routes.approach_routes` rows (derived columns from an earlier
        call are recomputed, so the function is idempotent).
    sites
        The sites (``site_id``, crowd perimeter polygons), same CRS.
    edges
        The vehicle network (``width_m``), same CRS: the carriageway at each entry.
    vehicles
        Class name → :class:`VehicleClass` of every class in ``approaches``.
    params
        Friction, angles, resolution, horizon, allowance, gap limit.
    barriers
        Rated barriers (``barrier_id``, ``rating``; points and lines) that may stand between an
        entry and its crowd (:func:`kerbside_cover`); ``None``: none.
    level_changes
        Level changes (:func:`~cohesion_gis.hvm.barriers.level_changes`: retaining walls,
        steps) that may stand between an entry and its crowd (:func:`level_cover`).

    Returns
    -------
    geopandas.GeoDataFrame
        The approach columns (as searched, to 0.1 km/h) plus ``impact_angle_deg`` (incidence
        of the straight path on the real crowd outline, 90 = head-on, 0 where it misses; NaN
        where no vehicle arrives), ``direct_hit`` (the straight path meets the crowd within
        ``params.impact_ray_m``), ``hit_distance_m`` (how far ahead, m; NaN on a miss) and, at
        the speed resolution, ``standoff_m`` (kerb to crowd perimeter, m: the penetration a
        barrier at the kerb may have), ``lateral_room_m``, ``impact_speed_kmh_<angle>deg`` per
        envelope angle, ``normal_speed_kmh``, ``crowd_entry_speed_kmh`` (the fastest speed at which
        the vehicle crosses into the crowd perimeter at any envelope angle, glancing included:
        the speed a vehicle running along the crowd enters it without turning),
        ``design_angle_deg`` (test angle of the most demanding
        requirement; NaN if none), ``required_rating`` (the class's requirements at this
        entry, penetration within the stand-off), ``horizon_limited`` and ``protected_by`` (the
        rated kerbside line that holds every impact of the envelope, else ``"level change
        <kind> <id>"`` where a retaining wall or steps stand between the street and the crowd,
        "" if none).
    """
    table = approaches[[*APPROACH_COLUMNS, "geometry"]].copy()
    n = len(table)
    res = params.speed_resolution_kmh
    speed = table["impact_speed_kmh"].to_numpy(float)
    arrived = speed > 0
    room, standoff = np.zeros(n), np.full(n, np.nan)
    if arrived.any():
        standoff[arrived], room[arrived] = _lateral_room(table.loc[arrived], sites, edges)
    table["standoff_m"] = np.round(standoff, 1)
    names = table["vehicle_class"].to_numpy(dtype=object)
    lat = np.array([vehicles[c].lateral_limit_ms2(params.friction_mu) for c in names], float)
    acc = np.array([vehicles[c].accel_ms2 for c in names], float)
    top = np.array([vehicles[c].top_speed_kmh for c in names], float)
    body = np.array([vehicles[c].length_m for c in names], float)
    hit, theta0 = _arrival_cast(table.geometry.to_numpy(), table["site_id"], sites, body, params)
    theta0[~arrived] = 0.0
    table["impact_angle_deg"] = np.where(arrived, np.round(theta0, 1), np.nan)
    table["direct_hit"] = arrived & np.isfinite(hit)
    table["hit_distance_m"] = np.where(arrived, np.round(hit, 1), np.nan)
    table["lateral_room_m"] = np.round(room, 1)
    envelope = {}
    angles = params.impact_angles_deg
    v = impact_envelope_kmh(speed, theta0, room, angles, lat_accel_ms2=lat, accel_ms2=acc)
    for k, (angle, column) in enumerate(zip(angles, _envelope_names(params), strict=True)):
        envelope[angle] = np.where(arrived, round_speed(v[:, k], res), 0.0)
        table[column] = envelope[angle]
    normal = normal_speed_kmh(speed, theta0, room, lat_accel_ms2=lat, accel_ms2=acc)
    table["normal_speed_kmh"] = np.where(arrived, round_speed(normal, res), 0.0)
    table["crowd_entry_speed_kmh"] = np.max(np.column_stack(list(envelope.values())), axis=1)
    cover = kerbside_cover(table, sites, barriers, vehicles=vehicles, params=params)
    level = level_cover(table, sites, level_changes)
    table["protected_by"] = np.where(cover != "", cover, level)
    reqs = approach_requirements(table, vehicles, params=params)
    table["design_angle_deg"] = [r[0].angle_deg if r and _asks(r[0]) else np.nan for r in reqs]
    table["required_rating"] = [
        _held_text(held) if held else requirement_text(r)
        for r, held in zip(reqs, table["protected_by"], strict=True)
    ]
    run_up = table["run_up_m"].to_numpy(float)
    bound_m = (1 - params.horizon_slack) * params.search_horizon_m
    table["horizon_limited"] = arrived & (run_up >= bound_m) & (speed < top - res)
    return table


#: Start of a cast within this distance (m) of the outline is on it (float tolerance).
_ON_OUTLINE_M = 1e-6


def cast_to_outline(
    origins_xy: np.ndarray,
    headings_rad: np.ndarray,
    outlines: np.ndarray,
    max_m: float | np.ndarray,
    *,
    face_m: float | np.ndarray = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    r"""Where each straight path first meets its crowd outline, and at what incidence.

    Casts one ray per row from ``origins_xy`` along ``headings_rad`` for ``max_m`` against the
    boundary of the row's polygon (exterior and holes), exactly, segment by segment (GEOS
    STRtree for the candidate segments, the crossing in numpy): no buffer, no chord, so the
    answer is the real outline's, whatever distance the caller searched from.

    The incidence is the angle between the path and the face it strikes:

    .. math::

        \phi = \arcsin\left|\hat d \times \hat e\right|

    with :math:`\hat d` the path's unit direction and :math:`\hat e` the face's, so 90° is
    square to the face (head-on) and 0° along it. The face is the outline's chord over
    ``face_m`` centred on the hit, along the ring struck (0: the segment struck; a path through
    a vertex then takes the steeper of the two, the more demanding impact): a chord as long as
    the vehicle reads the face it strikes, not the facets of a bump smaller than itself (the
    rounded ends of the footway strips a crowd area is built from are 1-3 m across). A path
    starting inside the polygon (or on its outline heading in) is already in the crowd: its
    distance is 0 and its incidence is that of the face the same straight line crossed to get
    there (cast backwards).

    Parameters
    ----------
    origins_xy
        Start of each path, shape ``(n, 2)``, metres in a projected CRS.
    headings_rad
        Direction of travel of each path, radians anticlockwise from the +x axis, ``(n,)``.
    outlines
        Crowd polygon of each row (shapely Polygon or MultiPolygon), ``(n,)``, same CRS.
        Rows may repeat a polygon (each distinct outline is split into segments once).
    max_m
        Length of each cast (m), a scalar or ``(n,)``.
    face_m
        Length (m) of the outline chord the face is read over, a scalar or ``(n,)``; 0: the
        segment struck.

    Returns
    -------
    hit_distance_m : numpy.ndarray
        Distance (m) along the path to the first point of the outline; NaN where the path
        does not meet it within ``max_m`` (or the row has no polygon or no heading).
    incidence_deg : numpy.ndarray
        Incidence (degrees, 0-90) at that point; 0 where the path misses ("no direct impact").

    Examples
    --------
    >>> import numpy as np, shapely
    >>> square = shapely.box(0, 0, 40, 40)
    >>> d, phi = cast_to_outline(
    ...     np.array([[20.0, -4.0], [-10.0, -4.0]]), np.radians([90.0, 0.0]),
    ...     np.array([square, square]), 30.0,
    ... )
    >>> d.round(1).tolist(), phi.round(1).tolist()
    ([4.0, nan], [90.0, 0.0])
    """
    xy = np.asarray(origins_xy, float).reshape(-1, 2)
    n = xy.shape[0]
    heading = np.asarray(headings_rad, float).reshape(n)
    reach = np.broadcast_to(np.asarray(max_m, float), (n,))
    polygons = np.asarray(outlines, dtype=object).reshape(n)
    hit = np.full(n, np.nan)
    incidence = np.zeros(n)
    ok = (
        ~shapely.is_missing(polygons)
        & np.isfinite(heading)
        & np.isfinite(xy).all(axis=1)
        & (reach > 0)
    )
    ok[ok] = ~shapely.is_empty(polygons[ok])
    rows = np.flatnonzero(ok)
    if rows.size == 0:
        return hit, incidence
    d = np.column_stack([np.cos(heading[rows]), np.sin(heading[rows])])
    origin = xy[rows]
    # one segment table per distinct outline
    codes, unique = pd.factorize(pd.Series(shapely.to_wkb(polygons[rows])))
    shapes = shapely.from_wkb(np.asarray(unique, dtype=object))
    parts = shapely.get_parts(shapely.boundary(shapes), return_index=True)
    coords, ring = shapely.get_coordinates(parts[0], return_index=True)
    same = ring[1:] == ring[:-1]
    seg_a, seg_b = coords[:-1][same], coords[1:][same]
    seg_owner = parts[1][ring[:-1][same]]
    # inside (or on the outline heading in): cast backwards to the face it came through
    probe = origin + _ON_OUTLINE_M * 10 * d
    inside = shapely.contains_xy(shapes[codes], probe[:, 0], probe[:, 1])
    span = np.where(inside, _extent(shapes)[codes], reach[rows])
    sign = np.where(inside, -1.0, 1.0)
    start = np.where(inside[:, None], probe, origin)
    ends = start + (sign * span)[:, None] * d
    rays = shapely.linestrings(np.stack([start, ends], axis=1))
    segments = shapely.linestrings(np.stack([seg_a, seg_b], axis=1))
    ray_i, seg_i = shapely.STRtree(segments).query(rays, predicate="intersects")
    own = seg_owner[seg_i] == codes[ray_i]
    ray_i, seg_i = ray_i[own], seg_i[own]
    ray_d = sign[ray_i, None] * d[ray_i]
    e = seg_b[seg_i] - seg_a[seg_i]
    e_len = np.hypot(e[:, 0], e[:, 1])
    cross = ray_d[:, 0] * e[:, 1] - ray_d[:, 1] * e[:, 0]
    rel = seg_a[seg_i] - start[ray_i]
    parallel = np.abs(cross) <= 1e-12 * np.maximum(e_len, 1.0)
    along = np.maximum(  # a path along a face meets it at the face's nearer end ahead
        np.minimum(np.einsum("ij,ij->i", rel, ray_d), np.einsum("ij,ij->i", rel + e, ray_d)), 0.0
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(parallel, along, (rel[:, 0] * e[:, 1] - rel[:, 1] * e[:, 0]) / cross)
        phi = np.degrees(np.arcsin(np.clip(np.abs(cross) / np.maximum(e_len, 1e-12), 0.0, 1.0)))
    keep = inside[ray_i] | (t > _ON_OUTLINE_M)  # leaving the outline it starts on is no hit
    ray_i, seg_i, t, phi = ray_i[keep], seg_i[keep], t[keep], phi[keep]
    order = np.lexsort((-phi, np.round(t, 6), ray_i))  # nearest first, steeper face on a tie
    first = order[np.diff(ray_i[order], prepend=-1) != 0]
    found = rows[ray_i[first]]
    hit[found] = np.where(inside[ray_i[first]], 0.0, t[first])
    incidence[found] = phi[first]
    face = np.broadcast_to(np.asarray(face_m, float), (n,))[found]
    if (face > 0).any():
        k = ray_i[first]
        points = start[k] + t[first, None] * sign[k, None] * d[k]
        rings = parts[0][ring[:-1][same][seg_i[first]]]
        chord = _face_chord(rings, points, face)
        ok = np.isfinite(chord).all(axis=1) & (np.hypot(chord[:, 0], chord[:, 1]) > 0)
        ray = sign[k, None] * d[k]
        cross = ray[:, 0] * chord[:, 1] - ray[:, 1] * chord[:, 0]
        with np.errstate(invalid="ignore", divide="ignore"):
            sine = np.abs(cross) / np.hypot(chord[:, 0], chord[:, 1])
        smooth = np.degrees(np.arcsin(np.clip(sine, 0.0, 1.0)))
        incidence[found] = np.where(ok & (face > 0), smooth, incidence[found])
    return hit, incidence


def _face_chord(rings: np.ndarray, points: np.ndarray, face_m: np.ndarray) -> np.ndarray:
    """Vector (m) of each ring's chord over ``face_m`` centred on the point on it.

    NaN where the ring is no longer than the chord.
    """
    length = shapely.length(rings)
    at = shapely.line_locate_point(rings, shapely.points(points))
    half = face_m / 2
    a = shapely.line_interpolate_point(rings, np.mod(at - half, length))
    b = shapely.line_interpolate_point(rings, np.mod(at + half, length))
    out = shapely.get_coordinates(b) - shapely.get_coordinates(a)
    out[face_m >= length] = np.nan
    return out


def _extent(shapes: np.ndarray) -> np.ndarray:
    """Diagonal (m) of each geometry's bounding box plus 1 m: a cast that long crosses it."""
    bounds = shapely.bounds(shapes)
    return np.hypot(bounds[:, 2] - bounds[:, 0], bounds[:, 3] - bounds[:, 1]) + 1.0


def _arrival_cast(
    routes: np.ndarray,
    site_ids: pd.Series,
    sites: gpd.GeoDataFrame,
    chord_m: np.ndarray,
    params: HvmParams,
) -> tuple[np.ndarray, np.ndarray]:
    """Each route's straight path from its end, cast against its site's real crowd outline.

    The heading is the chord over the route's last ``chord_m`` (the vehicle's length: its body
    axis, rear to front, as its front reaches the entry; the whole route where shorter), the
    cast :func:`cast_to_outline` for ``params.impact_ray_m``, the face read over
    ``params.impact_face_m``. Returns the hit distance (m, NaN
    on a miss or without a route) and the incidence (degrees, 0 on a miss).
    """
    n = routes.size
    has = ~shapely.is_missing(routes)
    has[has] = shapely.get_type_id(routes[has]) == 1  # a LineString route
    tips, tails = np.full((n, 2), np.nan), np.full((n, 2), np.nan)
    if has.any():
        lines = routes[has]
        length = shapely.length(lines)
        tips[has] = shapely.get_coordinates(shapely.get_point(lines, -1))
        back = shapely.line_interpolate_point(lines, np.maximum(length - chord_m[has], 0.0))
        tails[has] = shapely.get_coordinates(back)
    step = tips - tails
    heading = np.where(
        np.hypot(step[:, 0], step[:, 1]) > 0, np.arctan2(step[:, 1], step[:, 0]), np.nan
    )
    perimeter = sites.set_index("site_id").geometry
    polygons = perimeter.loc[site_ids.to_numpy()].to_numpy()
    return cast_to_outline(
        tips, heading, polygons, params.impact_ray_m, face_m=params.impact_face_m
    )


def round_speed(speed: np.ndarray, resolution: float) -> np.ndarray:
    """Speeds (km/h) rounded to the model's resolution (``params.speed_resolution_kmh``)."""
    return np.round(np.asarray(speed, float) / resolution) * resolution


def _lateral_room(
    rows: gpd.GeoDataFrame, sites: gpd.GeoDataFrame, edges: gpd.GeoDataFrame
) -> tuple[np.ndarray, np.ndarray]:
    """Stand-off from the kerb and hard-standing before the crowd perimeter, m.

    The entry is on the carriageway's centreline: the kerb is half the carriageway width
    nearer the crowd, and no barrier stands in the running lane, so the stand-off a
    barrier's penetration must fit is ``max(d_entry − w/2, 0)``, what remains of the footway
    between the kerb and the crowd edge (VDA review item 6: measured from the centreline it
    allowed about 3 m too much on a 6 m street); the lateral room the vehicle can use is
    ``d_entry + w/2`` (it may swing across the far half of the carriageway). Where the street
    width is unknown the stand-off is the entry's distance.
    """
    points = shapely.points(rows["entry_x"].to_numpy(float), rows["entry_y"].to_numpy(float))
    perimeter = sites.set_index("site_id").geometry
    polygons = perimeter.loc[rows["site_id"].to_numpy()].to_numpy()
    to_crowd = shapely.distance(points, polygons)
    edges = edges.loc[~underground(edges)]  # the carriageway the entry is on, at the surface
    # the nearest street, as STRtree.query_nearest gives it (the compiled grid homes snap with)
    found, nearest, _ = nearest_edges(EdgeIndex(edges), points, max_distance_m=np.inf)
    half_width = np.full(points.size, np.nan)
    half_width[found] = edges["width_m"].to_numpy(float)[nearest] / 2
    kerb = np.where(np.isnan(half_width), to_crowd, np.maximum(to_crowd - half_width, 0.0))
    return kerb, to_crowd + half_width


def approach_requirements(
    table: gpd.GeoDataFrame, vehicles: Mapping[str, VehicleClass], *, params: HvmParams
) -> list[list[RatingRequirement]]:
    """Per approach row, its class's requirements (:func:`class_requirements`).

    The row's stand-off is the penetration limit; empty where no vehicle arrives or a rated
    kerbside line holds it (``protected_by``). Speeds come at the model's resolution and
    stand-offs to 0.1 m, so each distinct (class, angle, speed, stand-off) is rated once and
    each distinct envelope kept once (Malta: 2,091 ratings for 41,580 envelope points, 5,811
    envelopes for 8,316 approaches).
    """
    angles = params.impact_angles_deg
    bands = band_of(params)
    speeds = table[_envelope_names(params)].to_numpy(float)
    standoff = table["standoff_m"].to_numpy(float)
    held = table["protected_by"].astype(str).to_numpy() != ""
    # a straight path striking below the glancing edge is held by no separate element: its
    # glancing finding (the continuous line) stays whatever the tested speeds (VDA review 2)
    angle = table["impact_angle_deg"].to_numpy(float)
    glancing = table["direct_hit"].to_numpy(bool) & (angle < params.glancing_below_deg)
    rated: dict[tuple[str, float, float, float | None], RatingRequirement] = {}
    kept: dict[tuple[str, tuple[float, ...], float | None, bool], list[RatingRequirement]] = {}
    out: list[list[RatingRequirement]] = []
    rows = zip(table["vehicle_class"], speeds, standoff, held, glancing, strict=True)
    for name, row, room, h, strikes in rows:
        if h or not row.max() > 0:
            out.append([])
            continue
        room_m = float(room) if np.isfinite(room) else None
        envelope = tuple(row.tolist())
        key = (name, envelope, room_m, bool(strikes))
        if key not in kept:
            reqs = []
            for a, v in zip(angles, envelope, strict=True):
                if v > 0:
                    if (name, a, v, room_m) not in rated:
                        rated[name, a, v, room_m] = required_rating(
                            v, vehicles[name], angle_deg=a, standoff_m=room_m, params=params,
                            band_deg=bands.get(a),
                        )  # fmt: skip
                    reqs.append(rated[name, a, v, room_m])
            kept[key] = most_demanding(
                reqs, resolution_kmh=params.speed_resolution_kmh, strikes_glancing=key[3]
            )
        out.append(list(kept[key]))
    return out


def _asks(req: RatingRequirement) -> bool:
    """Whether a requirement asks for an impact test (not glancing-only, not "none")."""
    return req.test_speed_kmh is not None or req.exceeds_test_speeds


def demand_key(req: RatingRequirement) -> tuple[bool, float, float, float, float]:
    """Sort key, ascending demand: beyond test speeds, test mass, test speed, angle, energy.

    The heaviest class beyond every test speed comes first; a requirement with no test (no
    approach, glancing only) comes last.
    """
    asks = _asks(req)
    speed = np.inf if req.exceeds_test_speeds else float(req.test_speed_kmh or 0.0)
    return (
        req.exceeds_test_speeds,
        req.mass_kg if asks else -1.0,
        speed if asks else -1.0,
        req.angle_deg,
        req.impact_energy_kj,
    )


def class_requirements(
    speeds: Mapping[float, float],
    vehicle: VehicleClass,
    *,
    params: HvmParams,
    standoff_m: float | None = None,
) -> list[RatingRequirement]:
    """The ratings one class needs over its impact envelope, most demanding first.

    Parameters
    ----------
    speeds
        Envelope: impact angle (degrees) → fastest impact speed there (km/h).
    vehicle
        The class.
    params
        Test speeds and angles, allowance, resolution.
    standoff_m
        Stand-off behind the barrier (m): the penetration limit.

    Returns
    -------
    list of RatingRequirement
        At most one per test angle (the most demanding envelope angle it must cover); a lower
        test angle is dropped when a higher one asks at least the same test speed (a 90° test
        covers every angle), then the glancing requirement when the glancing threat is faster
        than every tested one: a vehicle arriving along the crowd enters it without turning,
        and no impact test covers that (a speed-management finding,
        :func:`~cohesion_gis.hvm.rating.glancing_credit_kmh`). Empty when no vehicle arrives.
    """
    bands = band_of(params)
    return most_demanding(
        resolution_kmh=params.speed_resolution_kmh,
        reqs=[
            required_rating(
                v, vehicle, angle_deg=a, standoff_m=standoff_m, params=params, band_deg=bands.get(a)
            )
            for a, v in speeds.items()
            if v > 0
        ],
    )


def band_of(params: HvmParams) -> dict[float, tuple[float, float]]:
    """Envelope angle → the band (degrees) its speed is the worst of (``envelope_bands_deg``)."""
    angles = params.impact_angles_deg
    rows = envelope_bands_deg(angles).tolist()
    return {float(a): (float(lo), float(hi)) for a, (lo, hi) in zip(angles, rows, strict=True)}


def most_demanding(
    reqs: Sequence[RatingRequirement],
    *,
    resolution_kmh: float = 1.0,
    strikes_glancing: bool = False,
) -> list[RatingRequirement]:
    """The requirements of one class's envelope kept as :func:`class_requirements` says.

    The glancing finding is kept where the glancing threat is faster than every tested angle's
    threat (those a higher test angle covers included) by at least ``resolution_kmh`` (the
    model's resolution: a difference below it is rounding; VDA review 2 item 5: a 29 km/h N3C
    in the glancing band asked speed management beside 29 km/h in the 45° band), or
    wherever ``strikes_glancing`` (the arrival's straight path strikes the crowd below
    ``glancing_below_deg``: only a continuous line holds it, whatever the tested speeds).
    """
    tested = [r for r in reqs if _asks(r)]
    glancing = max((r for r in reqs if r.glancing), key=lambda r: r.impact_speed_kmh, default=None)
    if not tested:
        return [glancing] if glancing is not None else []
    best: dict[float, RatingRequirement] = {}
    for req in tested:
        if req.angle_deg not in best or demand_key(req) > demand_key(best[req.angle_deg]):
            best[req.angle_deg] = req
    kept = [
        req
        for req in best.values()
        if not any(
            other.angle_deg > req.angle_deg and demand_key(other)[:3] >= demand_key(req)[:3]
            for other in best.values()
        )
    ]
    kept.sort(key=demand_key, reverse=True)
    fastest = max(r.impact_speed_kmh for r in tested)  # a test dropped as covered counts
    if glancing is not None and (
        strikes_glancing or glancing.impact_speed_kmh >= fastest + resolution_kmh
    ):
        kept.append(glancing)  # a tested barrier does not hold the faster glancing threat
    return kept


def requirement_text(reqs: Sequence[RatingRequirement]) -> str:
    """The requirements of one class joined for people (``" and "``)."""
    return " and ".join(r.text for r in reqs)


#: Points along the crowd perimeter, each side of the nearest one, that a kerbside line must
#: also screen from the entry (m): a vehicle may turn in anywhere near the entry [A: about one
#: car length plus the turn's lateral drift at 30-50 km/h].
SCREEN_M = (0.0, -5.0, 5.0, -10.0, 10.0)
#: Shapely type ids of point elements (Point, MultiPoint): a row of them is separate elements.
POINT_TYPES = (0, 4)
#: Barrier kinds built with continuous longitudinal members, the only lines credited with a
#: glancing impact's transverse component (:func:`kerbside_cover`): walls, safety fences and
#: guard rails, rated beams and rails [A: OSM barrier=wall, fence, guard_rail; a VSB beam or
#: rail system]. Any other kind (bollard, block, planter, closure, a user's line whose
#: ``barrier_kind`` is not given, "rated") is a line of separate elements, whatever geometry
#: it is drawn with (review of issue 13: a ``kind = "bollard"`` LINESTRING was credited as
#: continuous; VDA review item 5: the kind was dropped on the way in, so every line was).
CONTINUOUS_KINDS = ("wall", "guard_rail", "fence", "rail", "beam")


def _screen_rays(table: gpd.GeoDataFrame, sites: gpd.GeoDataFrame, rows: np.ndarray) -> np.ndarray:
    """Sight lines from the entries of ``rows`` to the crowd outline near each.

    One row per entry, one column per :data:`SCREEN_M` offset along the outline from the
    outline's point nearest the entry; all entries at once (GEOS vectorised).
    """
    perimeter = sites.set_index("site_id").geometry
    outlines = shapely.boundary(perimeter.to_numpy())
    outlines = outlines[perimeter.index.get_indexer(table["site_id"].to_numpy()[rows])]
    x = table["entry_x"].to_numpy(float)[rows]
    y = table["entry_y"].to_numpy(float)[rows]
    at = shapely.line_locate_point(outlines, shapely.points(x, y))
    rays = np.empty((len(rows), len(SCREEN_M)), dtype=object)
    for j, d in enumerate(SCREEN_M):
        ends = shapely.get_coordinates(shapely.line_interpolate_point(outlines, at + d))
        rays[:, j] = shapely.linestrings(np.stack([np.column_stack([x, y]), ends], axis=1))
    return rays


def _held_text(held: str) -> str:
    """The requirement text of an approach held by a rated line or a level change."""
    if held.startswith("level change"):
        return (
            f"none: {held} between the street and the crowd (not crash-rated; a vehicle on "
            "the high side can drive off it: confirm the side on site)"
        )
    return f"none: held by the rated line {held}"


def level_cover(
    table: gpd.GeoDataFrame, sites: gpd.GeoDataFrame, levels: gpd.GeoDataFrame | None
) -> np.ndarray:
    """Per approach, the level change between its entry and the crowd, "" where none.

    A level change (:func:`~cohesion_gis.hvm.barriers.level_changes`: a retaining wall, city
    wall, tall wall or flight of steps) holds an approach when the union of level changes
    crosses **every** sight line from the entry to the crowd perimeter near it (as
    :func:`kerbside_cover`): a vehicle cannot mount a vertical face higher than its wheel
    radius (``level_change_min_height_m``). One crossing a single sight line leaves the
    vehicle a way round it.

    Returns
    -------
    numpy.ndarray
        ``"level change <kind> <id>[+<id>...]"`` per approach, "" where none holds it.
    """
    out = np.full(len(table), "", dtype=object)
    if levels is None or levels.empty or table.empty:
        return out
    rows = np.flatnonzero(table["impact_speed_kmh"].to_numpy(float) > 0)
    rays = _screen_rays(table, sites, rows)
    ray_idx, hit = shapely.STRtree(levels.geometry.to_numpy()).query(
        rays.ravel(), predicate="intersects"
    )
    crossed = np.zeros(rays.shape, dtype=bool)
    crossed.flat[ray_idx] = True
    order = np.argsort(ray_idx, kind="stable")
    starts = np.searchsorted(ray_idx[order], np.arange(rays.size + 1, step=rays.shape[1]))
    kind = levels["level_kind"].astype(str).to_numpy()
    level_id = levels["level_id"].astype(str).to_numpy()
    for r in np.flatnonzero(crossed.all(axis=1)):  # a level change across every sight line
        used = np.unique(hit[order[starts[r] : starts[r + 1]]])
        kinds = "/".join(sorted(set(kind[used])))
        out[rows[r]] = f"level change {kinds} " + "+".join(level_id[used])
    return out


def kerbside_cover(
    table: gpd.GeoDataFrame,
    sites: gpd.GeoDataFrame,
    barriers: gpd.GeoDataFrame | None,
    *,
    vehicles: Mapping[str, VehicleClass],
    params: HvmParams,
) -> np.ndarray:
    """Per approach, the rated barrier line between its entry and the crowd that holds it.

    A rated line (or a row of rated points no more than ``gap_limit_m`` apart, buffered by
    half the gap limit into one band) covers an approach when it crosses every sight line from
    the entry to the crowd perimeter near the entry (:data:`SCREEN_M`) and its rating
    :func:`~cohesion_gis.hvm.rating.covers` the class at **every** non-glancing angle of the
    envelope (that angle's speed, a matching test angle, a penetration within the distance
    from the line to the crowd). Where the vehicle **arrives at a glancing heading**
    (``impact_angle_deg`` below ``glancing_below_deg``, or unknown), what was built decides:

    - a line of **separate elements** (points, or a line whose ``barrier_kind`` is not in
      :data:`CONTINUOUS_KINDS`: bollards, blocks, planters, or unsaid) holds an impact only up
      to the angle its test covers, 22.5° for a 45° or 90° test (IWA 14-1 tests at 90° or
      45°, Bailey Street Furniture Group [S]; no test below): it does not hold a vehicle
      running along it, whatever its speed. A vehicle arriving at a steeper heading is held
      where the envelope's bands are covered (VDA review item 5: the test was "any band below
      22.5° has a speed", true for every arrival, so a row held nothing).
    - a **continuous** line deflects the vehicle along its longitudinal members: it is credited
      with the transverse component of the glancing band's speed at its 22.5° edge,
      ``v · sin 22.5°``, against its head-on test [A: EN 1317 road restraint systems rank their
      containment by the impact energy of the heaviest vehicle tested at 15-20° (European Union
      Road Federation [S]), i.e. by the transverse component; a VSB is tested head-on or at
      45°, so confirm with the manufacturer] (VDA review item 7: it held any glancing speed).

    Returns
    -------
    numpy.ndarray
        ``barrier_id`` of the covering line (``+``-joined elements), "" where none covers.
    """
    from cohesion_gis.hvm.rating import BarrierRating, covers, parse_rating

    out = np.full(len(table), "", dtype=object)
    if barriers is None or barriers.empty or table.empty:
        return out
    rated = barriers.loc[barriers["rating"].notna()]
    if rated.empty:
        return out
    bands, ids, ratings, continuous = [], [], [], []
    for value, group in rated.groupby(rated["rating"].map(str), sort=True):
        band = shapely.union_all(shapely.buffer(group.geometry.to_numpy(), params.gap_limit_m / 2))
        for part in shapely.get_parts(band):
            members = group.loc[shapely.intersects(group.geometry.to_numpy(), part)]
            bands.append(part)
            ids.append("+".join(members["barrier_id"].astype(str)))
            kinds = shapely.get_type_id(members.geometry.to_numpy())
            built = members.get("barrier_kind", pd.Series("", index=members.index)).astype(str)
            continuous.append(  # no point element, and built with continuous members
                not np.isin(kinds, POINT_TYPES).any() and built.isin(CONTINUOUS_KINDS).all()
            )
            rating = members["rating"].iloc[0]
            ratings.append(rating if isinstance(rating, BarrierRating) else parse_rating(value))
    tree = shapely.STRtree(np.array(bands, dtype=object))
    names = _envelope_names(params)
    arrived = np.flatnonzero(table["impact_speed_kmh"].to_numpy(float) > 0)
    for i, rays in zip(arrived, _screen_rays(table, sites, arrived), strict=True):
        row = table.iloc[i]
        candidates = tree.query(rays[0], predicate="intersects")
        for k in candidates:
            if not all(shapely.intersects(bands[k], ray) for ray in rays):
                continue
            crossing = shapely.intersection(rays[0], bands[k])
            room = float(shapely.distance(crossing, shapely.get_point(rays[0], -1)))
            vehicle = vehicles[row["vehicle_class"]]
            tested = [
                (a, float(row[col]))
                for a, col in zip(params.impact_angles_deg, names, strict=True)
                if row[col] > 0 and a >= params.glancing_below_deg
            ]
            # glancing where the vehicle arrives at a glancing heading (VDA review item 5: "any
            # band below 22.5° reached" is every arrival, so no bollard row held any)
            heading = float(row["impact_angle_deg"])
            if not heading >= params.glancing_below_deg:  # unknown (NaN): glancing
                if not continuous[k]:
                    continue  # no test covers separate elements struck below 22.5°
                glancing = max(
                    float(row[col])
                    for a, col in zip(params.impact_angles_deg, names, strict=True)
                    if a < params.glancing_below_deg
                )  # its transverse component at the band's 22.5° edge, against the head-on test
                tested.append((90.0, glancing * np.sin(np.radians(params.glancing_below_deg))))
            held = all(
                covers(ratings[k], vehicle, v, angle_deg=a, standoff_m=room, params=params)
                for a, v in tested
            )
            if held:
                out[i] = ids[k]
                break
    return out
