import geopandas as gpd
import numpy as np
import pytest
import shapely

from cohesion_gis.errors import InputError
from cohesion_gis.hvm.barriers import (
    BARRIER_COLUMNS,
    GAP_COLUMNS,
    barrier_gaps,
    combine_barriers,
    level_changes,
    read_rated_barriers,
)

CRS = "EPSG:3067"


def layer(geoms, ids=None, **columns):
    ids = ids or [f"b{i}" for i in range(len(geoms))]
    return gpd.GeoDataFrame({"barrier_id": ids, **columns}, geometry=list(geoms), crs=CRS)


def test_gaps_in_a_row_of_bollards():
    # bollards at 0, 1, 2.2 and 5 m; the 2.8 m and 1.2 m gaps: only 2.8 m exceeds 1.2 m
    row = layer([shapely.Point(x, 0) for x in (0, 1, 2.2, 5)])
    gaps = barrier_gaps(row)
    assert list(gaps.columns) == [*GAP_COLUMNS, "geometry"]
    assert gaps["gap_m"].tolist() == [pytest.approx(2.8)]
    assert gaps["barrier_ids"].iloc[0] == "b2;b3"
    assert gaps.geometry.iloc[0].equals_exact(shapely.Point(3.6, 0), 1e-9)


def test_gaps_follow_an_l_shaped_line_and_a_wall_end():
    # an L of bollards 1 m apart with one 2 m hole, and a wall ending 1.5 m from the last one
    points = [shapely.Point(0, y) for y in (0, 1, 2)] + [shapely.Point(x, 0) for x in (1, 3)]
    wall = shapely.LineString([(4.5, 0), (20, 0)])
    gaps = barrier_gaps(layer([*points, wall]))
    assert sorted(gaps["gap_m"]) == [pytest.approx(1.5), pytest.approx(2.0)]
    # elements more than cluster_m apart are separate lines: no gap between them
    assert barrier_gaps(layer([shapely.Point(0, 0), shapely.Point(9, 0)])).empty


def test_only_elements_that_stop_vehicles_form_lines():
    row = layer(
        [shapely.Point(0, 0), shapely.Point(1, 0), shapely.Point(3, 0)],
        stops_vehicles=[True, True, False],
    )
    assert barrier_gaps(row).empty
    with pytest.raises(InputError, match="gap_limit_m"):
        barrier_gaps(row, gap_limit_m=6.0)


def test_helsinki_bollard_rows_have_gap_violations(helsinki):
    combined = combine_barriers(helsinki.barriers)
    assert list(combined.columns) == [*BARRIER_COLUMNS, "geometry"]
    assert combined["rating"].isna().all() and (combined["source"] == "osm").all()
    stopping = set(combined.loc[combined["stops_vehicles"], "barrier_kind"])
    assert stopping <= {"bollard", "block", "planter", "wall"}
    assert not combined.loc[combined["barrier_kind"].isin(["gate", "kerb", "fence"]),
                            "stops_vehicles"].any()  # fmt: skip
    gaps = barrier_gaps(combined)
    assert len(gaps) > 10
    assert ((gaps["gap_m"] > 1.2) & (gaps["gap_m"] <= 5.0)).all()
    ids = set(combined["barrier_id"])
    assert set(gaps["barrier_a"]) <= ids and set(gaps["barrier_b"]) <= ids


def test_rising_bollards_do_not_stop_vehicles():
    osm = layer(
        [shapely.Point(0, 0), shapely.Point(5, 0)],
        barrier_kind=["bollard", "bollard"],
        bollard=["fixed", "rising"],
    )
    assert combine_barriers(osm)["stops_vehicles"].tolist() == [True, False]


def write(tmp_path, frame, name="vsb.gpkg"):
    path = tmp_path / name
    frame.to_file(path, engine="pyogrio")
    return path


def test_read_rated_barriers_reprojects_and_parses(tmp_path):
    metric = gpd.GeoDataFrame(
        {"rating": ["V/7200[N2A]/48/90:2.5", "M50/P1", None]},
        geometry=[
            shapely.Point(385_000, 6_672_000),
            shapely.LineString([(385_010, 6_672_000), (385_020, 6_672_000)]),
            shapely.box(385_030, 6_672_000, 385_031, 6_672_001),
        ],
        crs="EPSG:32635",
    )
    path = write(tmp_path, metric.to_crs(4326))
    out = read_rated_barriers(path, crs="EPSG:32635")
    assert out.crs == "EPSG:32635"
    assert np.allclose(shapely.get_coordinates(out.geometry.iloc[0]), [[385_000, 6_672_000]])
    assert out["rating"].tolist()[:2] == ["V/7200[N2A]/48/90:2.5", "M50/P1"]
    assert out["rating"].iloc[2] is None and out["barrier_kind"].iloc[2] == "unrated"
    assert out["rated_class"].tolist()[:2] == ["N2A", "M"]
    assert out.geometry.iloc[2].geom_type == "LineString"  # a polygon is read as its outline
    assert out["barrier_id"].str.startswith("user/").all()
    osm = layer([shapely.Point(385_100, 6_672_000)], ids=["node/1"], barrier_kind=["bollard"])
    combined = combine_barriers(osm.to_crs("EPSG:32635"), out)
    assert combined["source"].tolist() == ["osm", "user", "user", "user"]


def test_read_rated_barriers_names_every_bad_rating(tmp_path):
    frame = gpd.GeoDataFrame(
        {"barrier_id": ["ok", "gate-7", "gate-9"],
         "rating": ["V/1500[M1]/64/90:1.0", "V/7200[N9]/48/90:2", "fast"]},
        geometry=[shapely.Point(0, 0), shapely.Point(1, 0), shapely.Point(2, 0)],
        crs=CRS,
    )  # fmt: skip
    with pytest.raises(InputError, match=r"(?s)2 problem.*gate-7.*N9.*gate-9.*'fast'") as err:
        read_rated_barriers(write(tmp_path, frame), crs=CRS)
    assert "vsb.gpkg" in str(err.value)


def test_read_rated_barriers_refuses_bad_layers(tmp_path):
    bowtie = shapely.Polygon([(0, 0), (2, 2), (2, 0), (0, 2)])
    invalid = gpd.GeoDataFrame(
        {"barrier_id": ["b1", "b2"], "rating": ["M50/P1", "M50/P1"]},
        geometry=[shapely.Point(0, 0), bowtie],
        crs=CRS,
    )
    with pytest.raises(InputError, match=r"feature b2: invalid geometry"):
        read_rated_barriers(write(tmp_path, invalid), crs=CRS)
    no_crs = gpd.GeoDataFrame({"rating": ["M50/P1"]}, geometry=[shapely.Point(0, 0)])
    with pytest.warns(UserWarning, match="crs"):
        path = write(tmp_path, no_crs, "nocrs.gpkg")
    with pytest.raises(InputError, match="no CRS"):
        read_rated_barriers(path, crs=CRS)
    no_rating = gpd.GeoDataFrame({"name": ["x"]}, geometry=[shapely.Point(0, 0)], crs=CRS)
    with pytest.raises(InputError, match="no column 'rating'"):
        read_rated_barriers(write(tmp_path, no_rating, "norating.gpkg"), crs=CRS)
    with pytest.raises(InputError, match="no such file"):
        read_rated_barriers(tmp_path / "missing.gpkg", crs=CRS)


def test_rated_barriers_added_to_the_city_keep_their_rating(helsinki):
    import dataclasses

    import pandas as pd
    from shapely.geometry import LineString

    from cohesion_gis.hvm.barriers import combine_barriers

    x, y = helsinki.boundary.centroid.coords[0]
    added = gpd.GeoDataFrame(
        {"barrier_id": ["new/0"], "barrier_kind": ["bollard"], "barrier": ["bollard"],
         "bollard": [None], "name": ["proposed"], "rating": ["V/7200[N2A]/48/90:2.5"]},
        geometry=[LineString([(x, y), (x + 20, y)])],
        crs=helsinki.crs,
    )  # fmt: skip
    barriers = gpd.GeoDataFrame(
        pd.concat([helsinki.barriers.assign(rating=None), added], ignore_index=True),
        crs=helsinki.crs,
    )
    city = dataclasses.replace(helsinki, barriers=barriers)
    combined = combine_barriers(city.barriers, None, taxonomy=city.taxonomy)
    row = combined.loc[combined["barrier_id"] == "new/0"].iloc[0]
    assert row["rating"] == "V/7200[N2A]/48/90:2.5"
    assert row["source"] == "user" and bool(row["stops_vehicles"])
    assert combined.loc[combined["barrier_id"] != "new/0", "rating"].isna().all()


def test_level_changes_by_kind_and_height():
    # retaining and city walls count unless tagged below 0.6 m; a freestanding wall only when
    # tagged at least 0.6 m; a point never (a wall is a line); steps always
    line = shapely.LineString([(0, 0), (10, 0)])
    walls = layer(
        [line] * 7 + [shapely.Point(0, 0)],
        ids=[f"w{i}" for i in range(8)],
        barrier=["retaining_wall", "retaining_wall", "retaining_wall", "city_wall", "wall",
                 "wall", "kerb", "retaining_wall"],
        height_m=[np.nan, 0.4, 0.6, np.nan, np.nan, 1.5, 2.0, np.nan],
    )  # fmt: skip
    steps = gpd.GeoDataFrame(
        {"osm_id": ["way/9", "way/10"], "highway": ["steps", "footway"]},
        geometry=[line, line], crs=CRS,
    )  # fmt: skip
    out = level_changes(walls, steps, min_height_m=0.6)
    assert list(out.columns) == ["level_id", "level_kind", "height_m", "geometry"]
    assert out["level_id"].tolist() == ["w0", "w2", "w3", "w5", "way/9"]
    assert out["level_kind"].tolist() == [
        "retaining_wall", "retaining_wall", "city_wall", "wall", "steps",
    ]  # fmt: skip
    assert level_changes(walls, None, min_height_m=2.0)["level_id"].tolist() == ["w0", "w3"]
    empty = level_changes(layer([]), None, min_height_m=0.6)
    assert empty.empty and empty.crs == CRS
