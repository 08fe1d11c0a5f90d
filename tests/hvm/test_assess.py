import dataclasses
import inspect
import itertools
import json
import math
import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
import shapely
from affine import Affine

from cohesion_gis.errors import InputError, ParameterError
from cohesion_gis.export import write_assessment
from cohesion_gis.hvm.assess import (
    CLASS_SEPARATOR,
    HvmOptions,
    SiteAssessment,
    assess_sites,
    data_edge,
    exposure_band,
    find_site,
    friction_sensitivity,
    horizon_sensitivity,
    martyns_law_scope,
    speed_column,
    vulnerability,
)
from cohesion_gis.hvm.barriers import cross_section_m, vehicle_obstacles
from cohesion_gis.hvm.params import HvmParams
from cohesion_gis.hvm.rating import required_rating
from cohesion_gis.hvm.routes import underground
from cohesion_gis.hvm.sites import SiteParams
from cohesion_gis.params import load_params

CLASSES = ("M1", "N1", "N2A", "N3C")
#: A square whose fastest car approach stays under 73 km/h, and a rating that covers it (an
#: 80 km/h test is credited up to 80.5 / 1.1 = 73.2 km/h: the one allowance).
RING_SITE = "Paasikivenaukio"
RING_RATING = "V/1500[M1]/80/90:1.0"


@pytest.fixture(scope="module")
def result(helsinki_assessment):
    return helsinki_assessment


def only_sites(city, text):
    """The City with only the candidate sites whose name contains ``text`` (fast runs)."""
    keep = city.sites["name"].fillna("").str.contains(text, regex=False)
    return dataclasses.replace(city, sites=city.sites.loc[keep].reset_index(drop=True))


def test_assess_sites_takes_the_hvm_options_as_keywords():
    """assess_sites' keywords are HvmOptions' fields, in order, with the same defaults and types:
    the options are declared once (HvmOptions) and the user's keyword API cannot drift from it."""
    signature = inspect.signature(assess_sites)
    keywords = [p for p in signature.parameters.values() if p.kind is p.KEYWORD_ONLY]
    declared = dataclasses.fields(HvmOptions)
    assert [(p.name, p.default, p.annotation) for p in keywords] == [
        (f.name, f.default, f.type) for f in declared
    ]
    assert "block_unrated" not in signature.parameters  # one way to set it: HvmParams


def test_bands_by_hand():
    assert [exposure_band(n) for n in (0.5, 1, 9, 10, 99, 100, 3353, 10_000, 1e6)] == [
        1, 1, 1, 2, 2, 3, 4, 5, 5,
    ]  # fmt: skip
    p = load_params(HvmParams)
    # 30 km/h × 1.1 = 33 → above 32 → band 3; 10 km/h → 11 → band 1
    assert vulnerability([required_rating(30.0, "M1")], 1, params=p) == 3
    assert vulnerability([required_rating(10.0, "M1")], 1, params=p) == 1
    assert vulnerability([required_rating(60.0, "N2A")], 1, params=p) == 5  # 66 → above 64
    assert vulnerability([required_rating(100.0, "M1")], 5, params=p) == 5  # capped
    assert vulnerability([required_rating(50.0, "M1")], 3, params=p) == 5  # 55 → 4, +1
    assert vulnerability([], 0, params=p) == 1
    # the steps and what counts as many approaches are parameters (hvm.toml)
    two = dataclasses.replace(p, many_approaches=2, vulnerability_steps_kmh=(16.0, 64.0))
    assert vulnerability([required_rating(50.0, "M1")], 2, params=two) == 3  # 55 → 2, +1
    # the worst class sets the band, whichever class is headlined (heaviest first)
    truck, car = required_rating(40.0, "N2A"), required_rating(70.0, "M1")
    assert vulnerability([truck], 1, params=p) == 3
    assert vulnerability([truck, car], 1, params=p) == 5


def test_helsinki_assessment_tables(result, helsinki):
    assert isinstance(result, SiteAssessment)
    sites = result.sites
    for column in ("site_id", "name", "kind", "area_m2", "capacity_persons", "martyns_law_tier",
                   "max_energy_class", "max_arrival_speed_kmh", "required_rating",
                   "open_approaches", "exposure", "vulnerability", "attractiveness", "risk",
                   "rank", "priority",
                   *(speed_column(c) for c in CLASSES)):  # fmt: skip
        assert column in sites.columns, column
    assert sites["rank"].tolist() == list(range(1, len(sites) + 1))
    assert sites["risk"].is_monotonic_decreasing
    assert (
        sites["risk"] == sites["exposure"] * sites["vulnerability"] * sites["attractiveness"]
    ).all()
    per_class = sites[[speed_column(c) for c in CLASSES]].max(axis=1)
    assert np.allclose(sites["max_arrival_speed_kmh"], per_class)
    # priority 1: top 10 %, or an open approach ≥ 48 km/h into ≥ 800 persons
    top = sites["rank"] <= math.ceil(0.1 * len(sites))
    urgent = (sites["max_arrival_speed_kmh"] >= 48) & (sites["capacity_persons"] >= 800)
    assert ((sites["priority"] == 1) == (top | urgent)).all()
    assert (sites.loc[sites["priority"] == 3, "open_approaches"] == 0).all()
    # every approach belongs to a site; every entry to an approach
    assert set(result.approaches["site_id"]) == set(sites["site_id"])
    assert set(result.approaches["vehicle_class"]) == set(CLASSES)
    assert set(result.entries["entry_id"]) <= set(result.approaches["entry_id"].dropna())
    assert (result.entries.geom_type == "Point").all()
    assert (
        result.entries["required_rating"]
        .str.match(r"ISO 22343-1|none|beyond tested speeds|speed management")
        .all()
    )
    assert result.sites.crs == helsinki.crs == result.entries.crs == result.gaps.crs


def test_helsinki_senate_square_speeds_and_priority(result):
    senate = result.sites.loc[result.sites["name"] == "Senaatintori"].iloc[0]
    m1, n3c = senate[speed_column("M1")], senate[speed_column("N3C")]
    # reachable by road; the approach search accelerates at a constant 3.2 m/s² up to the
    # class top speed (160 km/h), so long straight streets saturate it (see docs/hvm_assess.md)
    assert 20 < m1 <= 160
    assert m1 > n3c > 0  # the car accelerates harder than the 7.2 t truck
    assert senate[speed_column("N2A")] <= 90 and n3c <= 90  # truck limiters
    assert senate["open_approaches"] >= 1
    assert senate["priority"] == 1  # ≥ 48 km/h into thousands of people
    # VDA review: the 30° band scored at its 22.5° edge puts the N1 at 84 km/h (92 km/h
    # design; 91 when its heading read 7-9°) beyond the top N1 test speed, and the headline
    # says so
    assert senate["required_rating"].startswith("beyond tested speeds: reduce approach speed")
    # the street entries' N1 turn-in at 22.5° (91 km/h) is beyond the top N1 test; the
    # straight-on over-runs (hvm.overrun) add arrivals beyond every test too
    rows = result.approaches.loc[result.approaches["site_id"] == senate["site_id"]]
    street = rows.loc[(rows["entry_kind"] == "street") & (rows["vehicle_class"] == "N1")]
    assert street["required_rating"].str.contains("V/3500[N1]/>80/45", regex=False).any()


def test_sites_without_vehicle_access_are_reported_not_dropped(result, helsinki):
    closed = result.sites.loc[result.sites["open_approaches"] == 0]
    assert len(closed) >= 1
    assert (closed["access"].str.len() > 0).all()
    assert (closed["max_arrival_speed_kmh"] == 0).all()
    assert (closed["required_rating"] == "none: no vehicle approach").all()
    members = {m for ids in result.sites["members"] for m in ids.split("+")}
    assert members == set(helsinki.sites["site_id"])


def test_audit_records_every_assumption(result):
    audit = json.loads(json.dumps(result.audit))  # JSON-serialisable
    assert [v["name"] for v in audit["vehicles"]] == list(CLASSES)
    assert audit["vehicles"][0]["test_mass_kg"] == 1500 and audit["vehicles"][0]["sources"]
    kinds = {k["kind"]: k for k in audit["site_kinds"]}
    assert kinds["square"]["density_persons_m2"] == 0.5 and kinds["square"]["source"]
    assert audit["parameters"]["speed_allowance"] == 0.1
    assert audit["parameters"]["friction_mu"] == 0.7
    assert audit["data"]["data_date"] == "2019-04-21"
    assert audit["gradient"].startswith("flat")
    assert audit["block_unrated"] is False


def _ring(city, base, rating):
    """A rated line 5 m outside the square's entries, across every street entering it."""
    area = base.sites.geometry.iloc[0].buffer(9.0)
    return gpd.GeoDataFrame(
        {"barrier_id": ["vsb/ring"], "rating": [rating]},
        geometry=[shapely.boundary(area)],
        crs=city.crs,
    )


def test_rated_ring_stops_the_car_but_an_unrated_ring_does_not(helsinki):
    city = only_sites(helsinki, RING_SITE)
    base = assess_sites(city)
    m1 = base.entries[speed_column("M1")]
    assert len(base.entries) >= 1 and m1.max() > 20  # a square reachable by road
    # credited with the one allowance: an 80 km/h test holds cars up to 80.5 / 1.1 = 73.2 km/h
    assert m1.max() <= 70  # (the ring meets them a little further out, no faster)
    ring = _ring(city, base, RING_RATING)
    rated = assess_sites(city, barriers=ring)
    m1_rows = rated.approaches.loc[rated.approaches["vehicle_class"] == "M1"]
    assert (m1_rows["impact_speed_kmh"] == 0).all()
    assert m1_rows["blocked_by"].str.contains("vsb/ring").all()
    assert rated.sites[speed_column("M1")].iloc[0] == 0
    assert rated.sites[speed_column("N2A")].iloc[0] > 0  # an M1 test is no evidence for N2A
    unrated = assess_sites(city, barriers=ring.assign(rating=None))
    assert unrated.sites[speed_column("M1")].iloc[0] == pytest.approx(m1.max())
    blocking = dataclasses.replace(load_params(HvmParams), block_unrated=True)
    blocked = assess_sites(city, barriers=ring.assign(rating=None), params=blocking)
    assert blocked.sites["open_approaches"].iloc[0] == 0
    assert rated.audit["barriers"]["rated"] == len(ring)


def test_one_rated_bollard_beside_each_street_closes_nothing(helsinki):
    # a point barrier covers its own width: a car drives round a lone bollard (issue 13). Street
    # cross-sections only: the straight-on over-run from Arkadiankatu across Mannerheimintie
    # (hvm.overrun, beyond every test) is left out; rows across a leg: tests/hvm/test_overrun.py
    city = only_sites(helsinki, RING_SITE)
    streets_only = dataclasses.replace(load_params(HvmParams), overrun_max_m=0.0)
    base = assess_sites(city, params=streets_only)
    edges = city.drive_edges
    lines = edges.geometry.to_numpy()
    entries = base.entries.geometry.to_numpy()
    _, nearest = shapely.STRtree(lines).query_nearest(entries)
    params = load_params(HvmParams)
    obstacles = vehicle_obstacles(
        city.buildings, city.barriers, city.walk_edges, city.landuse,
        min_height_m=params.level_change_min_height_m,
    )  # fmt: skip
    lone, rows, ids, kerb_ids, assumed_ids = [], [], [], [], []
    n_open = 0
    for k, (pt, e) in enumerate(zip(entries, nearest, strict=True)):
        at = lines[e].project(pt)
        a, b = lines[e].interpolate(max(at - 0.5, 0.0)), lines[e].interpolate(at + 0.5)
        norm = ((b.x - a.x) ** 2 + (b.y - a.y) ** 2) ** 0.5
        nx, ny = -(b.y - a.y) / norm, (b.x - a.x) / norm  # square across the street
        half = edges["width_m"].iloc[e] / 2
        lone.append(shapely.Point(pt.x + nx * (half - 0.3), pt.y + ny * (half - 0.3)))
        right, left = cross_section_m(
            np.array([[pt.x, pt.y]]), np.array([[nx, ny]]), np.array([half]), obstacles,
            footway_width_m=params.footway_width_m, reach_m=params.closure_reach_m,
        )[0]  # fmt: skip
        # a side with no façade, level change or water in reach is open ground (the cross
        # section reads the assumed footway there): the row must hold the reach
        opened = np.isclose([right, left], half + params.footway_width_m)
        n_open += int(opened.sum())
        ends = np.where(opened, params.closure_reach_m + 1.2, [right, left])
        for off in np.arange(-ends[0], ends[1] + 1.2, 1.2):  # façade to façade
            rows.append(shapely.Point(pt.x + nx * off, pt.y + ny * off))
            ids.append(f"vsb/{k}/{len(ids)}")
            if abs(off) <= half + 0.6:
                kerb_ids.append(ids[-1])
            if -right - 1.2 < off < left + 1.2:
                assumed_ids.append(ids[-1])
    beside = gpd.GeoDataFrame(
        {"barrier_id": [f"vsb/{k}" for k in range(len(lone))], "rating": RING_RATING},
        geometry=lone,
        crs=city.crs,
    )
    kept = assess_sites(city, barriers=beside, params=streets_only)
    assert kept.sites[speed_column("M1")].iloc[0] == base.sites[speed_column("M1")].iloc[0]
    # a row of bollards 1.2 m apart across each street and its footways to the façades (or
    # across the open ground to the reach) closes it
    row = gpd.GeoDataFrame({"barrier_id": ids, "rating": RING_RATING}, geometry=rows,
                           crs=city.crs)  # fmt: skip
    closed = assess_sites(city, barriers=row, params=streets_only)
    assert closed.sites[speed_column("M1")].iloc[0] == 0
    # second VDA review: stopping 3 m past the kerb on open ground (the footway it assumed) is
    # driven round
    assert n_open > 0
    assumed_row = row.loc[row["barrier_id"].isin(assumed_ids)]
    assumed = assess_sites(city, barriers=assumed_row, params=streets_only)
    assert assumed.sites[speed_column("M1")].iloc[0] > 0
    # the same rows kerb to kerb only: a car mounts the footway and drives round their ends
    kerb = row.loc[row["barrier_id"].isin(kerb_ids)]
    assert len(kerb) < len(row)
    round_them = assess_sites(city, barriers=kerb, params=streets_only)
    assert round_them.sites[speed_column("M1")].iloc[0] == base.sites[speed_column("M1")].iloc[0]
    # every third bollard only (3.6 m apart: at least 3 m of carriageway open) lets a car through
    sparse = assess_sites(city, barriers=row.iloc[::3], params=streets_only)
    assert sparse.sites[speed_column("M1")].iloc[0] > 0


def test_rated_barrier_file_in_another_crs(helsinki, tmp_path):
    city = only_sites(helsinki, RING_SITE)
    base = assess_sites(city)
    ring = _ring(city, base, RING_RATING).drop(columns="barrier_id").to_crs(4326)
    path = tmp_path / "ring.geojson"
    ring.to_file(path, engine="pyogrio")
    rated = assess_sites(city, barriers=path)
    assert rated.sites[speed_column("M1")].iloc[0] == 0  # reprojected onto the entries
    assert rated.audit["barriers"]["rated_layer"] == str(path)
    bad = ring.assign(rating=["V/1500[M1]/64/90"])  # no penetration
    bad.to_file(tmp_path / "bad.geojson", engine="pyogrio")
    with pytest.raises(InputError, match=r"(?s)bad\.geojson.*feature user/0: bad rating"):
        assess_sites(city, barriers=tmp_path / "bad.geojson")


def test_impossible_vehicle_table(helsinki, tmp_path):
    city = only_sites(helsinki, "Senaatintori")
    path = tmp_path / "vehicles.toml"
    path.write_text("[classes.M1]\naccel_ms2 = -1.0\n\n[classes.N1]\ntest_mass_kg = 0\n")
    with pytest.raises(ParameterError, match=r"(?s)M1.*accel_ms2.*N1.*test_mass_kg"):
        assess_sites(city, vehicles=path)
    path.write_text("[classes.M1]\naccel_ms2 = 2.0\n")
    slower = assess_sites(city, vehicles=path)
    assert slower.audit["vehicles"][0]["accel_ms2"] == 2.0


# --------------------------------------------------------------------------- DEM


def ramp_city(helsinki):
    """A 150 m straight road running east into a 50 m square, away from Helsinki's data."""
    x0, y0 = helsinki.boundary.bounds[0] - 3000.0, helsinki.boundary.bounds[1]
    xs = [x0 - 150, x0 - 100, x0 - 50, x0 + 25]
    edges = gpd.GeoDataFrame(
        {"u": [1, 2, 3], "v": [2, 3, 4], "osm_id": "way/1", "highway": "primary", "name": None,
         "length_m": np.diff(xs), "width_m": 7.0, "width_source": "default"},
        geometry=[shapely.LineString([(a, y0), (b, y0)]) for a, b in itertools.pairwise(xs)],
        crs=helsinki.crs,
    )  # fmt: skip
    sites = gpd.GeoDataFrame(
        {"site_id": ["way/9"], "name": ["Ramp square"], "kind": ["square"],
         "area_m2": [2500.0], "capacity_tag": [np.nan], "building_levels": [np.nan]},
        geometry=[shapely.box(x0, y0 - 25, x0 + 50, y0 + 25)],
        crs=helsinki.crs,
    )  # fmt: skip
    nodes = gpd.GeoDataFrame(
        {"x": xs, "y": y0}, geometry=shapely.points([(x, y0) for x in xs]),
        index=pd.Index([1, 2, 3, 4], name="node_id"), crs=helsinki.crs,
    )  # fmt: skip
    city = dataclasses.replace(helsinki, drive_nodes=nodes, drive_edges=edges, sites=sites)
    return city, (x0, y0)


def write_plane(path, origin, crs, slope, *, size_m=600.0, cell_m=10.0):
    """A tilted plane z = 100 + slope × (x − x0) m covering a square around the origin."""
    x0, y0 = origin
    n = int(size_m / cell_m)
    west, north = x0 - size_m / 2, y0 + size_m / 2
    cols = west + (np.arange(n) + 0.5) * cell_m
    z = np.tile(100.0 + slope * (cols - x0), (n, 1)).astype("float32")
    profile = {
        "driver": "GTiff",
        "height": n,
        "width": n,
        "count": 1,
        "dtype": "float32",
        "crs": crs,
        "transform": Affine(cell_m, 0.0, west, 0.0, -cell_m, north),
        "nodata": -9999,
    }
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(z, 1)
    return path


def test_downhill_run_up_is_faster_than_uphill(helsinki, tmp_path):
    city, origin = ramp_city(helsinki)
    # the constant-acceleration model, whose speeds can be checked by hand
    params = dataclasses.replace(load_params(HvmParams), acceleration_model="constant")
    flat = assess_sites(city, params=params).sites[speed_column("M1")].iloc[0]
    down = write_plane(tmp_path / "down.tif", origin, city.crs, slope=-0.05)  # falls eastwards
    up = write_plane(tmp_path / "up.tif", origin, city.crs, slope=0.05)
    downhill = assess_sites(city, dem=down, params=params).sites[speed_column("M1")].iloc[0]
    uphill = assess_sites(city, dem=up, params=params).sites[speed_column("M1")].iloc[0]
    # 150 m from rest, a = 3.2 ∓ 9.81 sin(atan 0.05): sqrt(2 a d)
    accel = {s: 3.2 - 9.81 * math.sin(math.atan(s)) for s in (-0.05, 0.05)}
    assert downhill == pytest.approx(3.6 * math.sqrt(2 * accel[-0.05] * 150), rel=0.02)
    assert uphill == pytest.approx(3.6 * math.sqrt(2 * accel[0.05] * 150), rel=0.02)
    assert downhill > flat > uphill
    # the default power-limited model is slower, and still faster downhill than uphill
    power_down = assess_sites(city, dem=down).sites[speed_column("M1")].iloc[0]
    power_up = assess_sites(city, dem=up).sites[speed_column("M1")].iloc[0]
    assert power_up < power_down <= downhill
    assert assess_sites(city, dem=down).audit["dem"] == str(down)


def test_dem_that_does_not_cover_the_network(helsinki, tmp_path):
    city, (x0, y0) = ramp_city(helsinki)
    small = write_plane(tmp_path / "small.tif", (x0 + 200, y0), city.crs, slope=0.0, size_m=200)
    with pytest.raises(InputError, match=r"small\.tif: the DEM does not cover"):
        assess_sites(city, dem=small)
    with pytest.raises(InputError, match="no such DEM"):
        assess_sites(city, dem=tmp_path / "missing.tif")


# --------------------------------------------------------------------------- empty and writing


def test_kotka_only_schools_and_an_empty_area(kotka, tmp_path):
    result = assess_sites(kotka)
    assert set(result.sites["kind"]) <= {"school"}
    empty_city = dataclasses.replace(kotka, sites=kotka.sites.iloc[:0])
    empty = assess_sites(empty_city)
    assert empty.sites.empty and empty.approaches.empty and empty.entries.empty
    assert "risk" in empty.sites.columns and "priority" in empty.sites.columns
    paths = write_assessment(empty, tmp_path / "kotka")
    assert pd.read_csv(paths["csv"]).empty


def test_entry_requirements_limit_penetration_to_the_standoff(result):
    entries = result.entries
    # an entry no vehicle reaches has no stand-off measured (an over-run leg's entry beyond
    # another entry on the same leg)
    assert (entries["standoff_m"].dropna() >= 0).all()
    assert (entries.loc[entries["standoff_m"].isna(), "open_classes"] == "").all()
    # VDA review item 6: the stand-off is from the kerb (a barrier never stands in the running
    # lane), the mount distance less half the carriageway: under 4 m everywhere
    assert entries["standoff_m"].max() <= 4.0 - 1.0 + 0.01
    arriving = entries.loc[entries["open_classes"] != ""]
    for text, room in zip(arriving["required_rating"], arriving["standoff_m"], strict=True):
        assert f"penetration ≤ {round(room, 1):.1f} m" in text
    # Senaatintori e0/e1 on Unioninkatu (6 m): 4.0 m from the centreline, 1.0 m from the kerb
    # (it read "penetration ≤ 4.0 m": a 3.9 m product would end 3 m into the footway crowd)
    rows = result.approaches.set_index("entry_id")
    for entry in ("relation/2919121:0", "relation/2919121:1"):
        row = rows.loc[entry].iloc[0]
        assert row["standoff_m"] == 1.0 and row["lateral_room_m"] == 7.0
        assert "penetration ≤ 4.0 m" not in row["required_rating"]


def test_every_site_says_how_far_the_data_edge_is(result, helsinki):
    # VDA review item 3: beyond the extract's edge no street is known; Senaatintori's east
    # side is within metres of it, yet its page said nothing
    sites = result.sites.set_index("site_id")
    square = sites.loc["relation/2919121"]
    assert square["data_edge_m"] < 40 and "E" in square["data_edge_directions"].split(", ")
    edge = shapely.boundary(helsinki.boundary)
    expected = shapely.distance(sites.geometry.to_numpy(), edge)
    assert np.allclose(sites["data_edge_m"], expected, atol=0.5)
    # the embedded extract is 1.1 × 1.7 km: every site is within the 500 m horizon of an edge
    assert (sites["data_edge_directions"] != "").all()
    far = data_edge(
        np.array([shapely.box(0, 0, 10, 10)]), shapely.box(-2000, -2000, 2000, 2000),
        horizon_m=500.0,
    )  # fmt: skip
    assert far[0][0] == 1990.0 and far[1] == [""]


def test_friction_sensitivity_raises_grip_limited_car_speeds(helsinki):
    # VDA review item 8: μ 1.0 was declared and never computed; at Senaatintori the M1
    # arrivals limited by a bend rise by about √(1/0.7) (53 → 61 and 56 → 65 km/h at e2/e3),
    # the trucks (rollover-limited, SRT 0.35 g) do not move
    city = only_sites(helsinki, "Senaatintori")
    table = friction_sensitivity(city).set_index("site_id").loc["relation/2919121"]
    assert table["M1@mu0.7"] == table["M1@mu1"]  # the worst arrival is on a straight
    assert table["N3C@mu0.7"] == table["N3C@mu1"] == 90
    assert table["normal@mu1"] >= table["normal@mu0.7"]


def test_a_rated_ring_around_kaisaniemi_leaves_no_truck_start_inside(helsinki, result):
    # a ring 30 m outside the garden's crowd perimeter encloses its service roads and a stretch
    # of Kaisaniemenranta; rated for N2A at 112 km/h (credited to 112.5 / 1.1 = 102 km/h, above
    # the truck's 90 km/h limiter) it holds every truck that comes from outside
    garden = result.sites.loc[result.sites["name"] == "Kaisaniemen kasvitieteellinen puutarha"]
    garden = garden.iloc[0]
    ring = gpd.GeoDataFrame(
        {"barrier_id": ["ring"], "rating": ["V/7200[N2A]/112/90:1.0"]},
        geometry=[garden.geometry.buffer(34).exterior],
        crs=helsinki.crs,
    )
    ringed = assess_sites(helsinki, barriers=ring, vehicles=["N2A", "M1"])
    rows = ringed.approaches.loc[ringed.approaches["site_id"] == garden["site_id"]]
    trucks = rows.loc[rows["vehicle_class"] == "N2A"]
    # before the fix, trucks started on the streets inside the ring (about 35 km/h)
    assert (trucks["impact_speed_kmh"] == 0).all()
    assert trucks["reason"].str.contains("stopped by barriers").all()
    # cars are not covered by the rating: the ring changes nothing for them
    cars = rows.loc[rows["vehicle_class"] == "M1", "impact_speed_kmh"].max()
    assert round(cars) == pytest.approx(garden["max_arrival_speed_kmh_M1"])


def test_senaatintori_impacts_are_credible_and_angle_matched(result):
    # issue 13: entries along the square arrive at 151 km/h heading 7-9° to it; turning square
    # on inside the ~7 m of hard-standing caps a head-on car far lower
    senate = result.sites.loc[result.sites["name"] == "Senaatintori"].iloc[0]
    rows = result.approaches.loc[
        (result.approaches["site_id"] == senate["site_id"])
        & (result.approaches["vehicle_class"] == "M1")
    ]
    street = rows.loc[rows["entry_kind"] == "street"]
    along = street.loc[(street["impact_angle_deg"] < 20) & (street["impact_speed_kmh"] > 140)]
    assert len(along) >= 2
    assert (along["impact_speed_kmh_90deg"] < 35).all()  # ~25 km/h head-on
    assert (along["impact_speed_kmh_15deg"] > 140).all()  # glancing keeps the speed
    assert street["normal_speed_kmh"].max() == 53  # from the streets: e2, Hallituskatu
    # VDA review: the arrival speed on the carriageway and the worst normal impact are named
    # apart (one column "max_impact_speed_kmh" read 151 km/h where the worst impact is 69); the
    # straight-on over-run from Sofiankatu (hvm.overrun) meets the square head-on at 107 km/h
    assert senate["max_arrival_speed_kmh"] == 151 and senate["max_normal_impact_kmh"] >= 100
    assert senate["max_arrival_energy_kj"] > 2000  # a 7.2 t truck at 90 km/h, at arrival
    assert not any(c.startswith("max_impact_") for c in result.sites.columns)
    # the 500 m search horizon binds on those straights: flagged as a lower bound
    assert along["horizon_limited"].all()
    assert senate["horizon_limited"]
    # the rating asked matches the angle: the oblique run asks a 45-degree test, no 90-degree
    # test at 151 km/h and no requirement for the glancing band
    assert (along["design_angle_deg"] == 45).all()
    # the 30° band at its 22.5° edge: parallel to the square (the straight path misses it),
    # 7 m of room, sqrt(6.87 · 7 / (1 − cos 22.5°)) = 90 km/h (99 km/h design), beyond the M1
    # tests (97 km/h when the heading read 7-9° off the grown outline)
    assert (~along["direct_hit"]).all() and (along["impact_angle_deg"] == 0).all()
    assert along["impact_speed_kmh_30deg"].between(89, 91).all()
    assert along["required_rating"].str.contains(r"\[M1\]/>80/45").all()
    # and the threat says where that speed is: the band, not its nominal 30°
    assert along["required_rating"].str.contains(r"9\d km/h in the 22.5-37.5° band").all()
    assert not along["required_rating"].str.contains("at 30°").any()
    # VDA review: driving along the square, the car enters the crowd (the frontage footway)
    # at 151 km/h without turning: a glancing requirement, and the crowd-entry speed shown
    # beside the barrier impact, for the approach and the site
    assert (
        along["required_rating"]
        .str.contains("speed management for M1: glancing, it runs along the crowd, entering it")
        .all()
    )
    # VDA review item 7: a traffic-management finding with the speed the frontage may take
    assert along["required_rating"].str.contains("reduce the speed along this frontage").all()
    assert not along["required_rating"].str.contains("EN 1317").any()
    assert (along["crowd_entry_speed_kmh"] > 140).all()
    assert senate["max_crowd_entry_speed_kmh"] > 140 > senate["max_normal_impact_kmh"]
    assert not along["required_rating"].str.contains(">112").any()
    # speeds are reported at 1 km/h
    assert (result.sites["max_normal_impact_kmh"] % 1 == 0).all()


def test_vulnerability_is_the_worst_class_not_the_headline(result):
    # VDA review: Paasikivenaukio was band 3 from the N2A headline (48 km/h test) while an M1
    # needs an 80 km/h test there; every site's band is the worst over all its classes
    paasi = result.sites.loc[result.sites["name"] == RING_SITE].iloc[0]
    assert "[N2A]" in paasi["required_rating"].split(" and ")[0]  # heaviest class headlined
    rows = result.approaches.loc[result.approaches["site_id"] == paasi["site_id"]]
    car = rows.loc[rows["vehicle_class"] == "M1", "required_rating"]
    assert car.str.contains(r"\[M1\]/80/").any()  # the car needs an 80 km/h test: top band
    assert paasi["vulnerability"] == 5


def test_headline_is_the_most_demanding_by_mass_then_speed(result):
    # issue 13: a class beyond the test speeds is not automatically the headline; the heaviest
    # class beyond them comes first, then test mass, then test speed; energy shown beside
    reqs = result.sites["required_rating"]
    asked = reqs.loc[reqs.str.startswith("ISO 22343-1")]
    assert asked.str.contains("kJ").all()
    for _, site in result.sites.iterrows():
        if not site["required_rating"].startswith("ISO"):
            continue
        head = site["required_rating"].split(" and ")[0]
        rows = result.approaches.loc[result.approaches["site_id"] == site["site_id"]]
        masses = {"M1": 1500, "N1": 3500, "N2A": 7200, "N3C": 7200}
        cls = head.split("[")[1].split("]")[0]
        if ">" in head.split("]")[1].split(",")[0]:
            continue
        beyond = rows.loc[rows["required_rating"].str.contains(r"/>\d+/")]
        assert beyond.empty, site["name"]  # nothing beyond the test speeds outranks it
        arriving = rows.loc[rows["required_rating"].str.startswith("ISO")]
        assert masses[cls] == max(masses[c] for c in arriving["vehicle_class"])


def test_every_class_requirement_is_listed_beside_the_headline(result):
    # issue 13 rule 3: the headline first, then every class that arrives, each with its energy
    for _, site in result.sites.iterrows():
        listed = site["requirements"]
        # the headline class comes first, with the headline requirement first (its other
        # requirements are the union over the site's entries, not the headline entry's)
        head = site["required_rating"].split(" and ")[0]
        assert listed.split(CLASS_SEPARATOR)[0].split(" and ")[0] == head, site["name"]
        rows = result.approaches.loc[
            (result.approaches["site_id"] == site["site_id"])
            & (result.approaches["impact_speed_kmh"] > 0)
            & (result.approaches["protected_by"] == "")
        ]
        for cls in set(rows["vehicle_class"]):
            assert f"[{cls}]" in listed or f"for {cls}:" in listed, (site["name"], cls)
        if len(rows):
            assert listed.count("kJ") >= rows["vehicle_class"].nunique()
    senate = result.sites.loc[result.sites["name"] == "Senaatintori"].iloc[0]
    assert all(f"[{c}]" in senate["requirements"] for c in CLASSES)
    entry = result.entries.loc[result.entries["open_classes"].str.count(";") == 3].iloc[0]
    assert entry["requirements"].startswith(entry["required_rating"])


def test_site_requirements_are_the_union_over_entries_per_class(result):
    # VDA review: the site's `requirements` kept one entry's set per class (Senaatintori: N3C
    # listed 64/45 + 32/90 while its page had 48/90; M1 80/90 without its glancing line).
    # Now each class lists every test angle's most demanding requirement over the entries,
    # and classes are separated by " | ", which no requirement's own text contains.
    senate = result.sites.loc[result.sites["name"] == "Senaatintori"].iloc[0]
    rows = result.approaches.loc[result.approaches["site_id"] == senate["site_id"]]
    assert not rows["required_rating"].str.contains(CLASS_SEPARATOR, regex=False).any()
    parts = senate["requirements"].split(CLASS_SEPARATOR)
    assert len(parts) == len(CLASSES)
    by_class = {c: next(p for p in parts if f"[{c}]" in p) for c in CLASSES}
    for cls, text in by_class.items():
        mine = rows.loc[rows["vehicle_class"] == cls, "required_rating"]
        for angle in ("90", "45"):
            asked = mine.str.extract(rf"V/\d+\[{cls}\]/(>?\d+)/{angle}\b")[0].dropna()
            if asked.empty:
                continue
            worst = max(asked, key=lambda v: (v.startswith(">"), int(v.lstrip(">"))))
            covered = angle == "45" and re.search(rf"\[{cls}\]/(>?\d+)/90\b", text)
            assert f"[{cls}]/{worst}/{angle}" in text or covered, (cls, angle, text)
        if mine.str.contains(f"speed management for {cls}").any():
            assert f"speed management for {cls}" in text
    assert "speed management for M1" in by_class["M1"]
    assert (rows["entry_kind"] == "overrun").any()  # over-run entries count in the union


def test_horizon_sensitivity_and_the_horizon_flag(helsinki):
    city = only_sites(helsinki, "Senaatintori")
    table = horizon_sensitivity(city, horizons_m=(250.0, 500.0), vehicles=["M1"])
    row = table.loc[table["name"] == "Senaatintori"].iloc[0]
    # the Unioninkatu straights are longer than either horizon: the speed grows with it
    assert row["M1@250m"] < row["M1@500m"]
    assert row["horizon_limited"]


def test_martyns_law_is_a_proxy_outside_the_uk(helsinki):
    assert martyns_law_scope(helsinki.boundary, helsinki.crs).startswith("UK-law proxy")
    london = shapely.Point(-0.0817, 51.5154)  # Liverpool Street, City of London
    assert martyns_law_scope(london, "EPSG:4326") == "UK law"
    dublin = shapely.Point(-6.2603, 53.3498)
    assert martyns_law_scope(dublin, "EPSG:4326").startswith("UK-law proxy")


def test_a_rated_kerbside_line_holds_where_the_envelope_says(helsinki):
    # a rated line 2 m outside Senaatintori's crowd (between the entries, 4 m out, and the crowd)
    # faces the Unioninkatu cars at a glancing angle at 151 km/h, or turned in at ~97 km/h at
    # 22.5° (the 30° band's worst edge)
    city = only_sites(helsinki, "Senaatintori")
    base = assess_sites(city, vehicles=["M1"])
    crowd = base.sites.geometry.iloc[0]

    def along(rating, kind="wall"):
        line = gpd.GeoDataFrame(
            {"barrier_id": ["kerb"], "rating": [rating], "barrier_kind": [kind]},
            geometry=[shapely.boundary(crowd.buffer(2.0))],
            crs=city.crs,
        )
        rows = assess_sites(city, vehicles=["M1"], barriers=line).approaches
        return rows.loc[(rows["impact_angle_deg"] < 20) & (rows["impact_speed_kmh"] > 140)]

    held = along("V/1500[M1]/112/90:1.0")
    assert len(held) >= 2 and (held["impact_speed_kmh"] > 140).all()
    assert (held["protected_by"] == "kerb").all()
    # VDA review item 5: what was built decides. The same line of separate elements (a
    # bollard row drawn as a line, or a line whose kind is not given) holds only up to the
    # angle its test covers: 151 km/h at 22.5° is beyond every test
    assert (along("V/1500[M1]/112/90:1.0", "bollard")["protected_by"] == "").all()
    assert (along("V/1500[M1]/112/90:1.0", None)["protected_by"] == "").all()
    assert held["required_rating"].str.startswith("none: held by the rated line").all()
    # VDA review: the turn-in reaches ~97 km/h at 22.5°, the 30° band's worst edge, so a line
    # rated 80 km/h no longer holds it (it did when the band was scored at 30°, 70 km/h)
    assert (along("V/1500[M1]/80/90:1.0")["protected_by"] == "").all()
    # 5 m of penetration runs into the crowd
    assert (along("V/1500[M1]/112/90:5.0")["protected_by"] == "").all()
    # a 45-degree test is no evidence against the 29 km/h head-on turn-in: it does not hold
    assert (along("V/1500[M1]/112/45:1.0")["protected_by"] == "").all()
    # VDA review: a row of the same rated bollards 1.2 m apart along the same line does not
    # deflect the 151 km/h glancing car (no continuous longitudinal member): it stays open
    ring = shapely.boundary(crowd.buffer(2.0))
    posts = shapely.line_interpolate_point(ring, np.arange(0.0, ring.length, 1.2))
    row = gpd.GeoDataFrame(
        {"barrier_id": [f"b{i}" for i in range(len(posts))], "rating": "V/1500[M1]/80/90:1.0"},
        geometry=posts,
        crs=city.crs,
    )
    rows = assess_sites(city, vehicles=["M1"], barriers=row).approaches
    glancing = rows.loc[(rows["impact_angle_deg"] < 20) & (rows["impact_speed_kmh"] > 140)]
    assert len(glancing) >= 2 and (glancing["protected_by"] == "").all()
    assert glancing["required_rating"].str.contains("speed management for M1: glancing").all()
    assert (glancing["crowd_entry_speed_kmh"] > 140).all()


def test_monaco_tunnels_reach_no_surface_crowd(monaco):
    # VDA review: 17 % of Monaco arrivals ended where the carriageway is a tunnel or below
    # ground (Auditorium Rainier III at 151 km/h via Boulevard Louis II, layer -1; Promenade
    # Honoré II via Tunnel Rocher Canton, layer -2): such edges may be driven, never entered from
    edges = monaco.drive_edges
    below = underground(edges)
    assert below.sum() > 100  # tunnels and underpasses are kept and flagged
    city = only_sites(monaco, "Auditorium Rainier III")
    city = dataclasses.replace(
        city,
        sites=pd.concat([city.sites, only_sites(monaco, "Promenade Honoré II").sites]),
    )
    result = assess_sites(city, vehicles=["M1"])
    arrived = result.approaches.loc[result.approaches["impact_speed_kmh"] > 0]
    assert len(arrived) >= 1
    arrived = arrived.loc[arrived["entry_kind"] == "street"]  # over-run entries are off-street
    entries = shapely.points(arrived["entry_x"], arrived["entry_y"])
    surface = shapely.union_all(edges.geometry.to_numpy()[~below])
    assert (shapely.distance(entries, surface) < 0.01).all()  # every entry on a surface street
    rainier = result.sites.loc[result.sites["name"] == "Auditorium Rainier III"].iloc[0]
    assert rainier["max_arrival_speed_kmh_M1"] < 150
    # no DEM given: every site row says the speeds assume flat terrain
    assert result.sites["terrain"].str.startswith("flat terrain: no DEM given").all()


def test_level_changes_hold_where_they_physically_are(helsinki):
    # VDA review: retaining walls and steps were neither passable nor impassable by any stated
    # rule. A mapped retaining wall between the street and Senaatintori's crowd (2 m out, all
    # round) holds every entry; tagged 0.4 m (below the 0.6 m threshold) it holds none; a wall
    # along one side only leaves the other entries open
    city = only_sites(helsinki, "Senaatintori")
    base = assess_sites(city, vehicles=["M1"])
    crowd = base.sites.geometry.iloc[0]
    arrived = base.approaches["impact_speed_kmh"] > 0
    assert arrived.sum() >= 4 and (base.approaches["protected_by"] == "").all()

    def walled(geometry, height, barrier="retaining_wall"):
        wall = gpd.GeoDataFrame(
            {"barrier_id": ["way/-1"], "barrier_kind": ["wall"], "barrier": [barrier],
             "bollard": [None], "name": [None], "height_m": [height]},
            geometry=[geometry], crs=city.crs,
        )  # fmt: skip
        barriers = pd.concat([city.barriers, wall], ignore_index=True)
        return assess_sites(dataclasses.replace(city, barriers=barriers), vehicles=["M1"])

    ring = shapely.boundary(crowd.buffer(2.0))
    held = walled(ring, np.nan)  # untagged retaining wall: assumed >= 0.6 m
    rows = held.approaches.loc[held.approaches["impact_speed_kmh"] > 0]
    assert (rows["protected_by"] == "level change retaining_wall way/-1").all()
    assert rows["required_rating"].str.contains("not crash-rated").all()
    assert held.sites["open_approaches"].iloc[0] == 0
    low = walled(ring, 0.4).approaches  # below a wheel radius: passable
    assert (low["protected_by"] == "").all()
    garden = walled(ring, np.nan, barrier="wall").approaches  # untagged freestanding wall
    assert (garden["protected_by"] == "").all()
    west = shapely.intersection(ring, shapely.box(*crowd.bounds).buffer(5).difference(
        shapely.box(crowd.centroid.x, -1e7, 1e7, 1e7)))  # fmt: skip
    part = walled(west, 2.0).approaches
    part = part.loc[part["impact_speed_kmh"] > 0]
    assert 0 < (part["protected_by"] != "").sum() < len(part)


def test_find_site_is_exact_or_a_unique_prefix(result):
    # red-team review: a prefix matching several sites silently took the best ranked, and
    # `--site ""` matched every site
    sites = result.sites
    for text in ("relation/2919121", "RELATION/2919121", "Senaatintori", "senaatintori", "Senaat"):
        assert find_site(sites, text)["site_id"] == "relation/2919121"
    for empty in ("", "  "):
        with pytest.raises(InputError, match="empty site name"):
            find_site(sites, empty)
    # three sites are named Rautatientori: the name alone is ambiguous; each is listed with its id
    with pytest.raises(InputError, match=r"'Rautatientori' matches 3 soft-target sites") as info:
        find_site(sites, "Rautatientori")
    assert "Rautatientori (relation/2919118)" in str(info.value)
    prefix = sites["name"].fillna("").str.casefold().str.startswith("s")
    with pytest.raises(InputError, match=rf"'s' matches {int(prefix.sum())} soft-target sites"):
        find_site(sites, "s")
    first = sites["name"].fillna("").str.casefold().str[:1]
    letter, count = first.value_counts().index[0], int(first.value_counts().iloc[0])
    assert count > 10  # listed: the 10 best ranked, the rest counted
    with pytest.raises(InputError, match=rf"and {count - 10} more; pass one site_id"):
        find_site(sites, letter)


def _tail_heading(routes, chord_m=10.0):
    """Direction (radians) of each route's chord over its last ``chord_m``."""
    lines = routes.geometry.to_numpy()
    back = shapely.line_interpolate_point(lines, np.maximum(shapely.length(lines) - chord_m, 0))
    step = shapely.get_coordinates(shapely.get_point(lines, -1)) - shapely.get_coordinates(back)
    return np.arctan2(step[:, 1], step[:, 0])


def test_a_street_along_the_square_is_no_head_on_impact(result):
    # VDA review item 1: the service way along Senaatintori's south side (e3-e7) runs about
    # 0.5° off the square's E-W edge; the heading against the grown perimeter read it 71-74°,
    # so the 90° band took its arrival speed (69 km/h, V/1500[M1]/80/90). Cast against the
    # real outline its straight path misses the crowd or grazes it below 22.5°
    senate = result.sites.loc[result.sites["name"] == "Senaatintori"].iloc[0]
    rows = result.approaches.loc[
        (result.approaches["site_id"] == senate["site_id"])
        & (result.approaches["vehicle_class"] == "M1")
        & (result.approaches["impact_speed_kmh"] > 0)
    ]
    crowd = senate.geometry
    heading = _tail_heading(rows)
    along = rows.loc[
        (np.abs(np.sin(heading)) < np.sin(np.radians(3.0)))
        & (rows["entry_y"].to_numpy() < shapely.centroid(crowd).y)
    ]
    assert len(along) >= 3
    assert ((along["impact_angle_deg"] < 22.5) | ~along["direct_hit"]).all()
    # e6, a 61 m straight start from rest to 69 km/h, 5.7 m of room: the 90° band at its 75°
    # edge is sqrt(6.87 · 5.7 / (1 − cos 75°)) = 26 km/h (V/1500[M1]/32/90 alone), the 60°
    # band at its 52.5° edge 36 km/h: a 48 km/h 90° test, not the 80 asked before
    fastest = along.loc[along["impact_speed_kmh"].idxmax()]
    assert round(fastest["impact_speed_kmh"]) == 69 and fastest["lateral_room_m"] == 5.7
    assert fastest["impact_speed_kmh_90deg"] == 26
    assert fastest["impact_speed_kmh_60deg"] == 36
    assert "V/1500[M1]/48/90" in fastest["required_rating"]
    assert "/80/90" not in fastest["required_rating"]
    assert (along["impact_speed_kmh_90deg"] <= 27).all()


def test_a_street_ending_at_a_square_reads_head_on(result, helsinki):
    # Kaisankuja runs straight into the unnamed square way/470004896 and ends there (no street
    # goes on): the straight path strikes the square's edge square on, 4 m past the entry
    rows = result.approaches.loc[
        (result.approaches["site_id"] == "way/470004896")
        & (result.approaches["impact_speed_kmh"] > 0)
    ]
    streets = helsinki.drive_edges
    lane = shapely.union_all(streets.loc[streets["name"] == "Kaisankuja"].geometry.to_numpy())
    entries = shapely.points(rows["entry_x"].to_numpy(), rows["entry_y"].to_numpy())
    on = rows.loc[shapely.distance(entries, lane) < 0.5]
    heading = _tail_heading(on, chord_m=20.0)
    ahead = shapely.points(
        on["entry_x"].to_numpy() + 8 * np.cos(heading),
        on["entry_y"].to_numpy() + 8 * np.sin(heading),
    )
    assert (shapely.distance(ahead, shapely.union_all(streets.geometry.to_numpy())) > 1.0).all()
    assert len(on) >= 2 and "M1" in set(on["vehicle_class"])
    assert on["direct_hit"].all()
    assert (on["impact_angle_deg"] >= 67.5).all()
    assert on["hit_distance_m"].between(3.5, 5.0).all()
    # head-on: the band holding the arrival takes its speed
    assert (on["impact_speed_kmh_90deg"] == on["impact_speed_kmh"].round()).all()


def test_the_impact_angle_does_not_depend_on_the_mount_distance(helsinki):
    # the angle is the straight path on the real crowd outline: growing the search polygon by
    # 6 m instead of 4 moves each entry back along its street, and where the route tail is the
    # same straight line the angle is the same (the old one, measured on the grown outline,
    # changed with it)
    city = only_sites(helsinki, "Senaatintori")
    runs = [
        assess_sites(
            city, vehicles=["M1"], site_params=dataclasses.replace(
                load_params(SiteParams), entry_snap_m=snap
            ),
        ).approaches.query("impact_speed_kmh > 0")
        for snap in (4.0, 6.0)
    ]  # fmt: skip
    near, far = runs
    h_near, h_far = _tail_heading(near), _tail_heading(far)
    pairs = 0
    for i, row in enumerate(near.itertuples()):
        d = np.array([np.cos(h_near[i]), np.sin(h_near[i])])
        rel = np.column_stack([far["entry_x"] - row.entry_x, far["entry_y"] - row.entry_y])
        behind = rel @ d  # along the near tail (negative: the far entry is further back)
        off = np.abs(rel[:, 0] * d[1] - rel[:, 1] * d[0])  # off its line
        same = (off < 0.05) & (behind < -0.5) & (behind > -4.0)
        same &= np.abs(np.sin(h_far - h_near[i])) < 1e-3  # the same straight tail
        for j in np.flatnonzero(same):
            pairs += 1
            assert far["impact_angle_deg"].iloc[j] == pytest.approx(row.impact_angle_deg, abs=0.1)
            assert far["direct_hit"].iloc[j] == row.direct_hit
            if row.direct_hit:
                assert far["hit_distance_m"].iloc[j] == pytest.approx(
                    row.hit_distance_m - behind[j], abs=0.15
                )
    assert pairs >= 3
