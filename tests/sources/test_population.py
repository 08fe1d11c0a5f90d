from __future__ import annotations

import logging
from pathlib import Path

import geopandas as gpd
import numpy as np
import osmium
import pandas as pd
import pyrosm
import pytest
import rasterio
from affine import Affine
from shapely.geometry import Point, Polygon, box

from cohesion_gis.errors import DataError, InputError, ParameterError
from cohesion_gis.sources.districts import districts_from_pbf
from cohesion_gis.sources.population import (
    DasymetricParams,
    assign_to_districts,
    dasymetric_population,
    group_shares,
    population_from_raster,
    write_population_raster,
)

CRS = "EPSG:32635"
HELSINKI = pyrosm.get_data("helsinki_pbf")


def _osm_tables(pbf: str) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Buildings and land use in the column layout of the osm loader."""
    osm = pyrosm.OSM(pbf)
    raw = osm.get_buildings().to_crs(CRS)

    def numbers(name: str) -> pd.Series:
        if name not in raw.columns:
            return pd.Series(np.nan, index=raw.index)
        return pd.to_numeric(raw[name], errors="coerce")

    buildings = gpd.GeoDataFrame(
        {
            "osm_id": raw["osm_type"] + "/" + raw["id"].astype(str),
            "building": raw["building"],
            "building_levels": numbers("building:levels"),
            "height_m": numbers("height"),
            "amenity": raw["amenity"] if "amenity" in raw.columns else None,
        },
        geometry=raw.geometry,
        crs=CRS,
    )
    land = osm.get_landuse().to_crs(CRS)
    landuse = gpd.GeoDataFrame(
        {"osm_id": land["osm_type"] + "/" + land["id"].astype(str), "landuse": land["landuse"]},
        geometry=land.geometry,
        crs=CRS,
    )
    return buildings, landuse


@pytest.fixture(scope="module")
def helsinki_osm() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    return _osm_tables(HELSINKI)


@pytest.fixture(scope="module")
def frame() -> Polygon:
    b = osmium.io.Reader(HELSINKI).header().box()
    lonlat = box(b.bottom_left.lon, b.bottom_left.lat, b.top_right.lon, b.top_right.lat)
    return gpd.GeoSeries([lonlat], crs=4326).to_crs(CRS).iloc[0]


@pytest.fixture(scope="module")
def homes(helsinki_osm: tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]) -> gpd.GeoDataFrame:
    buildings, landuse = helsinki_osm
    return dasymetric_population(buildings, landuse=landuse, total=10_000)


# ---------------------------------------------------------------- dasymetric estimate


def test_dasymetric_sums_to_total_on_helsinki(homes: gpd.GeoDataFrame) -> None:
    assert homes["population"].sum() == pytest.approx(10_000, rel=1e-12)
    assert (homes["population"] > 0).all()
    assert homes["home_id"].str.fullmatch(r"(way|relation)/\d+").all()
    assert homes["home_id"].is_unique
    assert set(homes["levels_source"]) <= {"tag", "height", "local_median", "type_default"}
    # residents in proportion to floor area
    per_m2 = homes["population"] / homes["floor_area_m2"]
    assert per_m2.to_numpy() == pytest.approx(np.full(len(homes), per_m2.iloc[0]))
    assert homes["floor_area_m2"].to_numpy() == pytest.approx(
        (homes.area * homes["levels"]).to_numpy()
    )
    # measured on the 2019 extract: 94 homes (30 apartments, 1 residential, 64 building=yes in
    # residential land, less 2 zero-area slivers cut by the extract)
    assert 80 <= len(homes) <= 110


def test_nobody_outside_residential_buildings_or_land(
    homes: gpd.GeoDataFrame, helsinki_osm: tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]
) -> None:
    buildings, landuse = helsinki_osm
    params = DasymetricParams()
    typed = homes["building"].isin(params.residential_buildings)
    residential_land = landuse[landuse["landuse"] == "residential"].make_valid().union_all()
    in_land = homes.representative_point().within(residential_land)
    assert (typed | (homes["building"].eq("yes") & in_land)).all()
    assert homes.loc[~typed, "building"].eq("yes").all()
    # no church, office, school or generic building outside residential land gets anyone
    non_homes = buildings[~buildings["osm_id"].isin(homes["home_id"])]
    assert {"church", "office", "school", "university"} <= set(non_homes["building"])
    generic_outside = non_homes["building"].eq("yes") & ~non_homes.representative_point().within(
        residential_land
    )
    assert generic_outside.sum() > 200  # the commercial centre is mostly building=yes


def test_dasymetric_hand_computed() -> None:
    buildings = gpd.GeoDataFrame(
        {
            "osm_id": ["way/1", "way/2", "way/3", "way/4", "way/5"],
            "building": ["apartments", "house", "yes", "yes", "office"],
            "building_levels": [4.0, np.nan, np.nan, np.nan, 10.0],
            "height_m": [np.nan, 6.2, np.nan, np.nan, np.nan],
            "amenity": [None, None, None, None, None],
        },
        geometry=[
            box(0, 0, 10, 10),  # 100 m² x 4 levels (tag)          = 400 m²
            box(20, 0, 40, 10),  # 200 m² x round(6.2 / 3) = 2      = 400 m²
            box(100, 0, 110, 20),  # in residential land: 200 m² x 1 = 200 m²
            box(300, 0, 310, 10),  # generic, outside residential land: nobody
            box(50, 0, 60, 10),  # office: nobody
        ],
        crs=CRS,
    )
    landuse = gpd.GeoDataFrame(
        {"osm_id": ["way/9"], "landuse": ["residential"]}, geometry=[box(90, -10, 200, 50)], crs=CRS
    )
    params = DasymetricParams(default_levels=1.0)
    homes = dasymetric_population(buildings, landuse=landuse, total=1000, params=params)
    assert homes["home_id"].tolist() == ["way/1", "way/2", "way/3"]
    assert homes["levels"].tolist() == [4.0, 2.0, 1.0]
    assert homes["levels_source"].tolist() == ["tag", "height", "type_default"]
    assert homes["floor_area_m2"].tolist() == pytest.approx([400, 400, 200])
    assert homes["population"].tolist() == pytest.approx([400, 400, 200])
    # density x area gives the total: 500 persons/km² x 2 km² = 1000
    area = box(-1000, -500, 1000, 500)  # 2 km x 1 km around the buildings
    dense = dasymetric_population(
        buildings, landuse=landuse, density_per_km2=500, area=area, params=params
    )
    assert dense["population"].sum() == pytest.approx(1000)
    # without land use, generic buildings are not homes
    alone = dasymetric_population(buildings, total=1000, params=params)
    assert alone["home_id"].tolist() == ["way/1", "way/2"]
    assert alone["population"].tolist() == pytest.approx([500, 500])
    # a generic building carrying an amenity is not a home
    with_amenity = buildings.assign(amenity=[None, None, "school", None, None])
    assert "way/3" not in set(
        dasymetric_population(with_amenity, landuse=landuse, total=1, params=params)["home_id"]
    )


def test_local_median_fills_untagged_levels(homes: gpd.GeoDataFrame) -> None:
    apartments = homes[homes["building"] == "apartments"]
    tagged = apartments.loc[apartments["levels_source"] == "tag", "levels"]
    filled = apartments.loc[apartments["levels_source"] == "local_median", "levels"]
    assert len(tagged) >= 5
    assert len(filled) > 0
    assert (filled == tagged.median()).all()


def test_dasymetric_does_not_mutate_input(
    helsinki_osm: tuple[gpd.GeoDataFrame, gpd.GeoDataFrame],
) -> None:
    buildings, landuse = helsinki_osm
    before = buildings.copy()
    dasymetric_population(buildings, landuse=landuse, total=5)
    pd.testing.assert_frame_equal(pd.DataFrame(before), pd.DataFrame(buildings))


def test_dasymetric_errors(helsinki_osm: tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]) -> None:
    buildings, landuse = helsinki_osm
    offices = buildings[buildings["building"].isin(["office", "church", "public"])]
    with pytest.raises(DataError, match=r"none of \d+ buildings is residential.*pass the land-use"):
        dasymetric_population(offices, landuse=landuse, total=100)
    with pytest.raises(ParameterError, match="exactly one of total"):
        dasymetric_population(buildings, total=100, density_per_km2=5)
    with pytest.raises(ParameterError, match="exactly one of total"):
        dasymetric_population(buildings)
    with pytest.raises(ParameterError, match="density_per_km2 needs area"):
        dasymetric_population(buildings, density_per_km2=5)
    with pytest.raises(ParameterError, match="must be a positive number"):
        dasymetric_population(buildings, total=-3)
    with pytest.raises(InputError, match="geographic CRS"):
        dasymetric_population(buildings.to_crs(4326), total=100)
    with pytest.raises(InputError, match=r"missing column\(s\) \['building'\]"):
        dasymetric_population(buildings.drop(columns="building"), total=100)
    with pytest.raises(InputError, match="landuse: no 'landuse' column"):
        dasymetric_population(buildings, landuse=landuse.drop(columns="landuse"), total=100)


# ---------------------------------------------------------------- rasters


def test_raster_round_trip_in_another_crs(
    homes: gpd.GeoDataFrame, frame: Polygon, tmp_path: Path
) -> None:
    path = write_population_raster(homes, tmp_path / "pop.tif", crs=CRS, cell_m=100)
    with rasterio.open(path) as src:
        assert src.crs.to_epsg() == 32635
        assert src.nodata == -1
        assert src.res == (100, 100)
        assert src.transform.c % 100 == 0
        assert src.transform.f % 100 == 0
        data = src.read(1)
        assert src.tags()["units"] == "persons per cell"
    assert data.sum() == pytest.approx(10_000, rel=1e-5)
    assert (data >= 0).all()
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left behind
    # read back in the national grid (EPSG:3067), over the whole extract
    area_3067 = gpd.GeoSeries([frame.buffer(200)], crs=CRS).to_crs(3067).iloc[0]
    cells = population_from_raster(path, area=area_3067, crs="EPSG:3067")
    assert cells.crs == "EPSG:3067"
    assert cells["population"].sum() == pytest.approx(10_000, rel=0.01)
    assert cells["cell_id"].str.fullmatch(r"cell/r\d+c\d+").all()
    assert cells["cell_id"].is_unique
    assert cells.within(area_3067.buffer(1e-6)).all()


def test_raster_points_and_polygons_hand_computed(tmp_path: Path) -> None:
    people = gpd.GeoDataFrame(
        {"population": [10.0, 6.0]},
        geometry=[
            Point(150, 50),  # inside cell (row 0, col 1)
            box(50, 0, 150, 100),  # half in column 0, half in column 1
        ],
        crs=CRS,
    )
    path = write_population_raster(people, tmp_path / "hand.tif", crs=CRS, cell_m=100)
    with rasterio.open(path) as src:
        assert src.read(1).tolist() == [[3.0, 13.0]]
        assert src.transform == Affine(100, 0, 0, 0, -100, 100)


def _geotiff(
    path: Path,
    values: np.ndarray,
    *,
    crs: str | None,
    transform: Affine,
    nodata: float | None = None,
) -> Path:
    profile = {
        "driver": "GTiff",
        "width": values.shape[1],
        "height": values.shape[0],
        "count": 1,
        "dtype": "float32",
        "transform": transform,
        "nodata": nodata,
    }
    if crs is not None:
        profile["crs"] = crs
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(values.astype("float32"), 1)
    return path


def test_raster_area_weighting_hand_computed(tmp_path: Path) -> None:
    # 2 x 2 cells of 100 m with 40, 80 / 20, nodata; the area covers the west half of the grid
    values = np.array([[40.0, 80.0], [20.0, -99.0]])
    path = _geotiff(
        tmp_path / "grid.tif",
        values,
        crs=CRS,
        transform=Affine(100, 0, 1000, 0, -100, 2000),
        nodata=-99,
    )
    area = box(1000, 1800, 1150, 2000)  # all of column 0, half of column 1
    cells = population_from_raster(path, area=area, crs=CRS).set_index("cell_id")
    assert cells["population"].to_dict() == pytest.approx(
        {"cell/r0c0": 40, "cell/r0c1": 40, "cell/r1c0": 20}
    )
    assert cells.loc["cell/r0c1", "area_m2"] == pytest.approx(5_000)


def test_geographic_raster_conserves_counts(tmp_path: Path) -> None:
    # a WorldPop-like 3-arc-second grid in EPSG:4326 over central Helsinki
    step = 3 / 3600
    rng = np.random.default_rng(7)
    values = rng.uniform(0, 50, size=(20, 30)).astype("float32").astype(float)
    path = _geotiff(
        tmp_path / "worldpop.tif",
        values,
        crs="EPSG:4326",
        transform=Affine(step, 0, 24.93, 0, -step, 60.18),
        nodata=-99999,
    )
    whole = gpd.GeoSeries([box(24.92, 60.15, 24.97, 60.19)], crs=4326).to_crs(CRS).iloc[0]
    cells = population_from_raster(path, area=whole, crs=CRS)
    assert len(cells) == values.size
    assert cells["population"].sum() == pytest.approx(values.sum(), rel=1e-9)
    part = gpd.GeoSeries([box(24.93, 60.17, 24.945, 60.18)], crs=4326).to_crs(CRS).iloc[0]
    inside = population_from_raster(path, area=part, crs=CRS)
    # the box is 18 columns x 12 rows of whole cells, up to projection curvature of the edges
    assert inside["population"].sum() == pytest.approx(values[:12, :18].sum(), rel=0.01)


def test_raster_errors(tmp_path: Path) -> None:
    area = box(1000, 1000, 1200, 1200)
    transform = Affine(100, 0, 1000, 0, -100, 1200)
    ones = np.ones((2, 2))
    with pytest.raises(InputError, match="population raster not found"):
        population_from_raster(tmp_path / "none.tif", area=area, crs=CRS)
    garbage = tmp_path / "garbage.tif"
    garbage.write_bytes(b"not a tiff")
    with pytest.raises(InputError, match="cannot open as a raster"):
        population_from_raster(garbage, area=area, crs=CRS)
    no_crs = _geotiff(tmp_path / "nocrs.tif", ones, crs=None, transform=transform)
    with pytest.raises(InputError, match=r"nocrs\.tif: raster has no CRS; set it"):
        population_from_raster(no_crs, area=area, crs=CRS)
    empty = _geotiff(tmp_path / "empty.tif", ones * -1, crs=CRS, transform=transform, nodata=-1)
    with pytest.raises(DataError, match="every cell over the study area is nodata"):
        population_from_raster(empty, area=area, crs=CRS)
    fine = _geotiff(tmp_path / "fine.tif", ones, crs=CRS, transform=transform)
    with pytest.raises(InputError, match="does not overlap the study area"):
        population_from_raster(fine, area=box(5000, 5000, 6000, 6000), crs=CRS)
    with pytest.raises(InputError, match=r"band=2 but the raster has 1 band"):
        population_from_raster(fine, area=area, crs=CRS, band=2)
    negative = _geotiff(
        tmp_path / "neg.tif", np.array([[1, -9999], [1, 1]]), crs=CRS, transform=transform
    )
    with pytest.raises(InputError, match=r"1 cells have negative population \(min -9999"):
        population_from_raster(negative, area=area, crs=CRS)
    nan = _geotiff(
        tmp_path / "nan.tif", np.array([[1, np.nan], [1, 1]]), crs=CRS, transform=transform
    )
    with pytest.raises(InputError, match="1 cells are NaN but not nodata"):
        population_from_raster(nan, area=area, crs=CRS)


def test_write_raster_errors(homes: gpd.GeoDataFrame, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no 'population' column"):
        write_population_raster(homes.drop(columns="population"), tmp_path / "a.tif", crs=CRS)
    with pytest.raises(InputError, match="NaN 1"):
        bad = homes.assign(population=[np.nan, *homes["population"].iloc[1:]])
        write_population_raster(bad, tmp_path / "a.tif", crs=CRS)
    with pytest.raises(ParameterError, match="cell_m=0"):
        write_population_raster(homes, tmp_path / "a.tif", crs=CRS, cell_m=0)
    with pytest.raises(InputError, match="geographic"):
        write_population_raster(homes, tmp_path / "a.tif", crs="EPSG:4326")
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------- districts and groups


@pytest.fixture(scope="module")
def districts(frame: Polygon) -> gpd.GeoDataFrame:
    return districts_from_pbf(HELSINKI, frame=frame, crs=CRS)


def test_assign_to_districts(
    homes: gpd.GeoDataFrame, districts: gpd.GeoDataFrame, caplog: pytest.LogCaptureFixture
) -> None:
    assigned = assign_to_districts(homes, districts)
    assert "district_id" not in homes.columns
    assert assigned["district_id"].notna().all()  # the districts tile the extract
    assert set(assigned["district_id"]) <= set(districts["district_id"])
    for home, district_id in zip(
        assigned.representative_point(), assigned["district_id"], strict=True
    ):
        assert districts.set_index("district_id").loc[district_id, "geometry"].contains(home)
    # a home outside every district: None, and a warning line counts it
    stray = pd.concat(
        [
            homes.iloc[:2],
            gpd.GeoDataFrame(
                {"home_id": ["way/0"], "population": [7.0]},
                geometry=[box(0, 0, 10, 10)],
                crs=CRS,
            ),
        ],
        ignore_index=True,
    )
    with caplog.at_level(logging.WARNING, logger="cohesion_gis.sources.population"):
        out = assign_to_districts(stray, districts.to_crs(3067))
    assert out["district_id"].isna().tolist() == [False, False, True]
    assert "1 of 3 homes (7 residents) lie outside every district" in caplog.text


def test_group_shares_per_district(
    homes: gpd.GeoDataFrame, districts: gpd.GeoDataFrame, tmp_path: Path
) -> None:
    assigned = assign_to_districts(homes, districts)
    ids = sorted(districts["district_id"])
    table = pd.DataFrame(
        {
            "district_id": ids,
            "long_term": np.linspace(0.5, 0.9, len(ids)),
        }
    ).assign(new_arrival=lambda t: 1 - t["long_term"])
    csv = tmp_path / "groups.csv"
    table.to_csv(csv, index=False)
    out = group_shares(assigned, csv, known_keys=ids)
    total = out["pop_long_term"] + out["pop_new_arrival"]
    assert total.to_numpy() == pytest.approx(out["population"].to_numpy())
    share = table.set_index("district_id")["long_term"]
    expected = assigned["population"] * assigned["district_id"].map(share)
    assert out["pop_long_term"].to_numpy() == pytest.approx(expected.to_numpy())
    only = group_shares(assigned, table, groups=["long_term", "new_arrival"], known_keys=ids)
    assert [c for c in only.columns if c.startswith("pop_")] == ["pop_long_term", "pop_new_arrival"]


def test_group_shares_per_cell() -> None:
    cells = gpd.GeoDataFrame(
        {"cell_id": ["cell/r0c0", "cell/r0c1"], "population": [10.0, 4.0]},
        geometry=[box(0, 0, 1, 1), box(1, 0, 2, 1)],
        crs=CRS,
    )
    table = pd.DataFrame({"cell_id": ["cell/r0c0", "cell/r0c1"], "a": [0.3, 1.0], "b": [0.7, 0.0]})
    out = group_shares(cells, table, by="cell_id")
    assert out["pop_a"].tolist() == pytest.approx([3.0, 4.0])
    assert out["pop_b"].tolist() == pytest.approx([7.0, 0.0])


def test_group_shares_errors(homes: gpd.GeoDataFrame, districts: gpd.GeoDataFrame) -> None:
    assigned = assign_to_districts(homes, districts)
    ids = sorted(set(assigned["district_id"]))
    good = pd.DataFrame({"district_id": ids, "long_term": 0.6, "new_arrival": 0.4})
    bad_sum = good.assign(long_term=[0.7, *good["long_term"].iloc[1:]])
    with pytest.raises(InputError, match=rf"shares do not sum to 1 for {ids[0]} \(1\.1\)"):
        group_shares(assigned, bad_sum)
    out_of_range = good.assign(long_term=[1.5, *good["long_term"].iloc[1:]])
    out_of_range.loc[0, "new_arrival"] = -0.5
    with pytest.raises(InputError, match=rf"shares outside \[0, 1\] for {ids[0]}"):
        group_shares(assigned, out_of_range)
    unknown = pd.concat([good, pd.DataFrame({"district_id": ["relation/1"], "long_term": [1.0]})])
    unknown["new_arrival"] = unknown["new_arrival"].fillna(0.0)
    with pytest.raises(InputError, match=r"unknown district_id values relation/1"):
        group_shares(assigned, unknown)
    with pytest.raises(InputError, match=rf"no shares for district_id {ids[-1]}, which hold homes"):
        group_shares(assigned, good.iloc[:-1])
    with pytest.raises(InputError, match="duplicate keys"):
        group_shares(assigned, pd.concat([good, good.iloc[:1]]))
    with pytest.raises(InputError, match="group columns \\['elders'\\] not found"):
        group_shares(assigned, good, groups=["elders"])
    with pytest.raises(InputError, match="no key column 'district_id'"):
        group_shares(assigned, good.rename(columns={"district_id": "zone"}))
    with pytest.raises(InputError, match="group share table not found"):
        group_shares(assigned, Path("/nonexistent/groups.csv"))


def test_assign_first_district_wins_on_overlap() -> None:
    homes = gpd.GeoDataFrame(
        {"home_id": ["way/1", "way/2"], "population": [1.0, 2.0]},
        geometry=[box(10, 10, 20, 20), box(110, 10, 120, 20)],
        crs=CRS,
    )
    zones = gpd.GeoDataFrame(
        {"district_id": ["b", "a", "c"]},
        geometry=[box(0, 0, 200, 100), box(0, 0, 50, 50), box(100, 0, 200, 100)],
        crs=CRS,
    )
    assert assign_to_districts(homes, zones)["district_id"].tolist() == ["b", "b"]
    assert assign_to_districts(homes, zones.iloc[::-1])["district_id"].tolist() == ["a", "c"]


def test_raster_with_extent(homes: gpd.GeoDataFrame, frame: Polygon, tmp_path: Path) -> None:
    extent = frame.centroid.buffer(600)
    inside = homes[homes.representative_point().within(extent.buffer(-100))]
    path = write_population_raster(inside, tmp_path / "ext.tif", crs=CRS, extent=extent)
    with rasterio.open(path) as src:
        data = src.read(1, masked=True)
        assert src.width == src.height == 13  # 1,200 m circle on a 100 m grid, off-centre
    assert data.sum() == pytest.approx(inside["population"].sum(), rel=1e-5)
    assert data.mask.sum() > 0  # the grid corners outside the circle are nodata
    assert not data.mask[6, 6]
    nobody = inside.iloc[:0]
    empty = write_population_raster(nobody, tmp_path / "none.tif", crs=CRS, extent=extent)
    with rasterio.open(empty) as src:
        assert src.read(1, masked=True).sum() == 0
    with pytest.raises(InputError, match="no homes to rasterise; pass extent="):
        write_population_raster(nobody, tmp_path / "x.tif", crs=CRS)
