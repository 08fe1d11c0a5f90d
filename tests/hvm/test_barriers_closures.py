"""Barriers as built on real Helsinki streets: a closure spans the footways to the façades."""

import geopandas as gpd
import numpy as np
import pytest
import shapely

from cohesion_gis.hvm.barriers import cross_section_m, street_closures, vehicle_obstacles
from cohesion_gis.hvm.params import HvmParams
from cohesion_gis.hvm.vehicles import Vehicles
from cohesion_gis.params import load_params

#: Vuorikatu (Kluuvi): a 5.5 m carriageway with footways of about 5.5 m to the façades.
VUORIKATU = "way/22565684"
RATING = "V/1500[M1]/80/90:1.0"
#: The narrowest default threat vehicle (M1): the smallest car, 1.5 m (CISA; was 1.8 m [A]).
CAR_M = load_params(Vehicles).select(["M1"])["M1"].width_m


@pytest.fixture(scope="module")
def ground(helsinki):
    params = load_params(HvmParams)
    obstacles = vehicle_obstacles(
        helsinki.buildings, helsinki.barriers, helsinki.walk_edges, helsinki.landuse,
        min_height_m=params.level_change_min_height_m,
    )  # fmt: skip
    options = {
        "vehicle_width_m": CAR_M,
        "snap_m": params.barrier_snap_m,
        "footway_width_m": params.footway_width_m,
        "reach_m": params.closure_reach_m,
    }
    return obstacles, options


def frames(edges):
    """Each edge's middle, unit normal (left) and half carriageway width."""
    lines = edges.geometry.to_numpy()
    mid = shapely.get_coordinates(shapely.line_interpolate_point(lines, 0.5, normalized=True))
    ends = shapely.get_coordinates(shapely.boundary(lines)).reshape(-1, 2, 2)
    along = ends[:, 1] - ends[:, 0]
    along /= np.linalg.norm(along, axis=1)[:, None]
    return mid, np.column_stack([-along[:, 1], along[:, 0]]), edges["width_m"].to_numpy() / 2


def vuorikatu(edges, obstacles, options):
    """Vuorikatu's first piece, its frame and its drivable extents (m) right and left."""
    street = edges.loc[edges["osm_id"] == VUORIKATU].iloc[[0]]
    mid, normal, half = frames(street)
    extents = cross_section_m(
        mid, normal, half, obstacles, footway_width_m=options["footway_width_m"],
        reach_m=options["reach_m"],
    )[0]  # fmt: skip
    return street, mid, normal, half, extents


def across(mid, normal, right_m, left_m, crs):
    line = shapely.LineString([mid - normal * right_m, mid + normal * left_m])
    return gpd.GeoDataFrame({"barrier_id": ["vsb"], "rating": [RATING]}, geometry=[line], crs=crs)


def on_street(closures, street):
    """The closures standing on ``street`` (one edge)."""
    return closures.loc[closures.distance(street.geometry.iloc[0]) < 1e-6]


def test_obstacles_are_facades_level_changes_and_water(helsinki, ground):
    obstacles, _ = ground
    kinds = obstacles["obstacle_kind"].value_counts()
    assert kinds["building façade"] == len(helsinki.buildings)
    assert {"steps", "retaining wall", "water's edge"} <= set(kinds.index)
    assert set(shapely.get_type_id(obstacles.geometry.to_numpy())) <= {1, 2, 5}  # lines


def test_a_kerb_to_kerb_line_is_driven_round_on_the_footway(helsinki, ground):
    obstacles, options = ground
    edges = helsinki.drive_edges
    street, mid, normal, half, (right, left) = vuorikatu(edges, obstacles, options)
    # façades on both sides, each more than a car's width beyond the kerb
    assert half[0] + CAR_M < right < options["reach_m"]
    assert half[0] + CAR_M < left < options["reach_m"]
    kerb = across(mid[0], normal[0], half[0] + 0.3, half[0] + 0.3, helsinki.crs)
    assert street_closures(kerb, edges, obstacles=obstacles, **options).empty
    # run on across one footway only: the other is still open
    one = across(mid[0], normal[0], right + 0.2, half[0] + 0.3, helsinki.crs)
    assert street_closures(one, edges, obstacles=obstacles, **options).empty
    # façade to façade: closed, at this street, with no gap
    facade = across(mid[0], normal[0], right + 0.2, left + 0.2, helsinki.crs)
    closed = on_street(street_closures(facade, edges, obstacles=obstacles, **options), street)
    assert len(closed) == 1 and closed["max_gap_m"].iloc[0] <= 0.25
    assert closed["barrier_id"].iloc[0] == "vsb"
    # stopping short of a façade by less than a car's width still closes it (no way past)
    short = across(mid[0], normal[0], right - 1.0, left - 1.0, helsinki.crs)
    assert len(on_street(street_closures(short, edges, obstacles=obstacles, **options), street))


def test_a_line_tied_into_a_building_corner_closes(helsinki, ground):
    # the left end runs from the kerb diagonally to the nearest façade point 3 m along the
    # street: a vehicle cannot pass between the line's end and the building
    obstacles, options = ground
    edges = helsinki.drive_edges
    street, mid, normal, half, (right, left) = vuorikatu(edges, obstacles, options)
    along = np.array([normal[0, 1], -normal[0, 0]])
    kerb_end = mid[0] + normal[0] * (half[0] + 0.3)
    corner = mid[0] + normal[0] * left + along * 3.0
    facades = shapely.union_all(
        obstacles.loc[obstacles["obstacle_kind"] == "building façade"].geometry.to_numpy()
    )
    target = shapely.shortest_line(shapely.Point(corner), facades).coords[-1]
    assert np.hypot(*(np.asarray(target) - kerb_end)) > CAR_M  # the tie spans the footway
    line = shapely.LineString([mid[0] - normal[0] * (right + 0.2), kerb_end, target])
    tied = gpd.GeoDataFrame({"barrier_id": ["vsb"], "rating": [RATING]}, geometry=[line],
                            crs=helsinki.crs)  # fmt: skip
    assert len(on_street(street_closures(tied, edges, obstacles=obstacles, **options), street))
    # the same line ending 3 m short of the façade, off the normal, is driven round
    loose = tied.assign(geometry=[shapely.LineString(line.coords[:2])])
    assert on_street(street_closures(loose, edges, obstacles=obstacles, **options), street).empty


def test_a_gap_as_wide_as_the_smallest_car_stays_open(helsinki, ground):
    # VDA review: the CISA Vehicle Ramming Self-Assessment Tool calls a gap under 1.50 m
    # narrower than the smallest car; a 1.6 m gap in a façade-to-façade line on Vuorikatu let
    # through a 1.5 m car, though the 1.8 m the model assumed before would not fit
    assert CAR_M == 1.5
    obstacles, options = ground
    edges = helsinki.drive_edges
    street, mid, normal, _, (right, left) = vuorikatu(edges, obstacles, options)
    pieces = [
        shapely.LineString([mid[0] - normal[0] * (right + 0.2), mid[0] - normal[0] * 0.8]),
        shapely.LineString([mid[0] + normal[0] * 0.8, mid[0] + normal[0] * (left + 0.2)]),
    ]
    line = gpd.GeoDataFrame({"barrier_id": ["vsb", "vsb2"], "rating": [RATING, RATING]},
                            geometry=pieces, crs=helsinki.crs)  # fmt: skip
    assert on_street(street_closures(line, edges, obstacles=obstacles, **options), street).empty
    wide = {**options, "vehicle_width_m": 1.8}
    assert len(on_street(street_closures(line, edges, obstacles=obstacles, **wide), street))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_one_point_closes_only_a_cross_section_narrower_than_two_cars(helsinki, ground, seed):
    # property over every Helsinki street (well apart, so no two points meet): one bollard at
    # any offset across the carriageway or footway leaves a car's width on one side unless
    # the whole drivable cross-section is narrower than two cars
    obstacles, options = ground
    edges = helsinki.drive_edges
    edges = edges.loc[edges.length > 4.0]
    mid, normal, half = frames(edges)
    picked: list[int] = []
    taken = np.empty((0, 2))
    for k in np.random.default_rng(seed).permutation(len(edges)):
        if not len(taken) or np.hypot(*(taken - mid[k]).T).min() > 2.5 * options["reach_m"]:
            picked.append(k)
            taken = np.vstack([taken, mid[k]])
    picked_ix = np.asarray(picked)
    extent = cross_section_m(
        mid[picked_ix], normal[picked_ix], half[picked_ix], obstacles,
        footway_width_m=options["footway_width_m"], reach_m=options["reach_m"],
    )  # fmt: skip
    rng = np.random.default_rng(seed)
    offset = rng.uniform(-extent[:, 0], extent[:, 1])
    points = mid[picked_ix] + normal[picked_ix] * offset[:, None]
    bollards = gpd.GeoDataFrame(
        {"barrier_id": [f"b{k}" for k in range(len(points))], "rating": RATING},
        geometry=shapely.points(points), crs=helsinki.crs,
    )  # fmt: skip
    assert len(bollards) > 100
    closed = street_closures(bollards, edges, obstacles=obstacles, **options)
    narrow = extent.sum(axis=1) < 2 * CAR_M
    at = np.array([int(b.removeprefix("b")) for b in closed["barrier_id"]], dtype=int)
    assert narrow[at].all()  # only where two cars do not fit side by side
    # and with no obstacles (a 3 m footway everywhere) no single point closes anything
    assert street_closures(bollards, edges, **options).empty


def test_a_line_ending_in_open_ground_is_not_closed(helsinki, ground):
    # second VDA review: where no façade, level change or water lies within 20 m of the
    # centreline, the side was credited as a 3 m footway, so a line stopping there closed the
    # street; it is open ground a car drives round the line's end on. Kirkkokatu beside the
    # cathedral's grounds (way/36730359): façades 7.2 m off on the left, nothing in reach on
    # the right
    obstacles, options = ground
    edges = helsinki.drive_edges
    street = edges.loc[edges["osm_id"] == "way/36730359"].iloc[[0]]
    mid, normal, half = frames(street)
    right, left = cross_section_m(
        mid, normal, half, obstacles, footway_width_m=options["footway_width_m"],
        reach_m=options["reach_m"],
    )[0]  # fmt: skip
    assert right == pytest.approx(half[0] + options["footway_width_m"])  # nothing in reach
    assert half[0] + CAR_M < left < options["reach_m"]  # the façade
    assumed = across(mid[0], normal[0], right + 0.2, left + 0.2, helsinki.crs)
    assert on_street(street_closures(assumed, edges, obstacles=obstacles, **options), street).empty
    # run on 15 m into the open side: 4 m short of the nearest façade, still driven round
    longer = across(mid[0], normal[0], 15.0, left + 0.2, helsinki.crs)
    assert on_street(street_closures(longer, edges, obstacles=obstacles, **options), street).empty
    # on to 20 m: its end within a car's width of a façade off the normal (about 1 m), tied
    tied = across(mid[0], normal[0], options["reach_m"], left + 0.2, helsinki.crs)
    assert len(on_street(street_closures(tied, edges, obstacles=obstacles, **options), street))
    # the ground unknown (no obstacles given): the assumed footway, so the first line closes
    # (and the façade is not seen, so the left end must reach the assumed footway too)
    unknown = across(mid[0], normal[0], right + 0.2, half[0] + 3.2, helsinki.crs)
    assert len(on_street(street_closures(unknown, edges, **options), street)) == 1
