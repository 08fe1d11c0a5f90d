"""Readers: PBF through pyrosm, OSM XML through osmnx, and their errors."""

from __future__ import annotations

from pathlib import Path

import osmium
import pytest

import cohesion_gis as cg
from cohesion_gis import DataError, InputError
from cohesion_gis.sources.osm import data_hull, default_pbf, read_osm_xml, read_pbf

SMALL_BBOX = (24.9425, 60.1675, 24.9475, 60.1705)  # around Rautatientori and Kaisaniemi


def write_osm_subset(
    dst: Path, *, bbox: tuple[float, float, float, float] | None = None, keep_ways=lambda w: True
) -> Path:
    """Write part of the bundled Helsinki extract: nodes in bbox, ways touching them."""
    west, south, east, north = bbox or (-180, -90, 180, 90)
    src = str(default_pbf())
    keep = {
        n.id
        for n in osmium.FileProcessor(src, osmium.osm.NODE)
        if n.location.valid()
        and west <= n.location.lon <= east
        and south <= n.location.lat <= north
    }
    with osmium.SimpleWriter(str(dst)) as writer:
        for obj in osmium.FileProcessor(src):
            if obj.is_node() and obj.id in keep:
                writer.add_node(obj)
            elif obj.is_way() and keep_ways(obj) and any(r.ref in keep for r in obj.nodes):
                writer.add_way(obj)
    return dst


@pytest.fixture(scope="module")
def small_xml(tmp_path_factory) -> Path:
    return write_osm_subset(tmp_path_factory.mktemp("xml") / "kluuvi.osm", bbox=SMALL_BBOX)


def test_pbf_reader_returns_raw_tables_in_wgs84():
    extract = read_pbf(default_pbf())
    assert extract.segments.crs.to_epsg() == 4326
    assert {"u", "v", "osm_id", "tags"} <= set(extract.segments.columns)
    assert extract.segments["osm_id"].str.startswith("way/").all()
    assert extract.features["osm_id"].str.match(r"^(node|way|relation)/\d+$").all()
    west, _south, _east, north = extract.frame.bounds
    # header bbox of the bundled file (reference data.md)
    assert west == pytest.approx(24.93518, abs=1e-4) and north == pytest.approx(60.17911, abs=1e-4)


def test_osm_xml_through_osmnx_gives_a_city(small_xml):
    city = cg.load_city(osm_xml=small_xml)
    assert city.crs.to_epsg() == 32635
    assert len(city.walk_edges) > 100
    assert len(city.buildings) > 10
    # the same place read from the PBF with the same clip box has a similar network
    pbf_city = cg.load_city(default_pbf(), bbox=SMALL_BBOX, buffer_m=0)
    ratio = len(city.walk_edges) / len(pbf_city.walk_edges)
    assert 0.7 < ratio < 1.5
    xml_names = set(city.sites["name"].dropna())
    assert {"Ateneum", "Aleksanterinkatu"} <= xml_names
    # relations are left out of the subset file, so the XML city has a subset of the sites
    assert len(xml_names & set(pbf_city.sites["name"].dropna())) >= 0.7 * len(xml_names)
    assert city.provenance.source == str(small_xml)


def test_osm_xml_reader_drops_dangling_node_references(small_xml):
    # ways touching the bbox reference nodes outside it: osmnx alone would refuse the file
    extract = read_osm_xml(small_xml)
    assert len(extract.segments) > 100
    assert set(extract.segments["u"]) <= set(extract.nodes.index)


def test_missing_pbf(tmp_path):
    with pytest.raises(InputError, match="no such PBF file"):
        cg.load_city(tmp_path / "missing.osm.pbf")


def test_corrupt_pbf(tmp_path):
    bad = tmp_path / "corrupt.osm.pbf"
    bad.write_bytes(b"\x00\x00\x00\x0dnot a pbf at all" * 10)
    with pytest.raises(InputError, match=r"corrupt\.osm\.pbf: not a readable OSM PBF"):
        cg.load_city(bad)


@pytest.mark.parametrize("kept", [0.001, 0.5, 0.99])
def test_truncated_pbf_names_the_file_and_says_to_download_it_again(tmp_path, kept):
    data = Path(default_pbf()).read_bytes()
    cut = tmp_path / "cut.osm.pbf"
    cut.write_bytes(data[: int(len(data) * kept)])  # an interrupted download: the header reads
    with pytest.raises(InputError, match=r"cut\.osm\.pbf: the PBF file is truncated or corrupt"):
        cg.load_city(cut)


def test_bbox_outside_the_extract():
    with pytest.raises(InputError, match="does not overlap the extract") as away:
        cg.load_city(default_pbf(), bbox=(10.0, 50.0, 10.1, 50.1))
    assert "swapped" not in str(away.value)
    # Helsinki given latitude first (the planner review's `--bbox 60.16 24.93 60.17 24.96`)
    with pytest.raises(InputError, match="Latitude and longitude look swapped: --bbox takes WEST"):
        cg.load_city(default_pbf(), bbox=(60.16, 24.93, 60.17, 24.96))
    # the numbers typed, not the area grown by the buffer read around it (60.13526, ...)
    with pytest.raises(InputError) as swapped:
        cg.load_city(default_pbf(), bbox=(60.16, 24.93, 60.17, 24.96))
    assert "the study area you gave (west 60.16, south 24.93, east 60.17, north 24.96)" in str(
        swapped.value
    )


def test_bad_bbox_order():
    with pytest.raises(InputError, match="west < east"):
        cg.load_city(default_pbf(), bbox=(24.95, 60.17, 24.94, 60.16))


def test_extract_without_walkable_ways(tmp_path):
    only_buildings = write_osm_subset(
        tmp_path / "buildings.osm.pbf", keep_ways=lambda w: "building" in w.tags
    )
    with pytest.raises(DataError, match=r"buildings\.osm\.pbf: no street or path ways"):
        cg.load_city(only_buildings)


def test_only_one_source():
    with pytest.raises(InputError, match="only one of"):
        cg.load_city(default_pbf(), osm_xml="x.osm")


def test_study_area_is_the_header_box_within_the_data_hull():
    extract = read_pbf(default_pbf())
    # the bundled file's data fill its header box: the study area is the box (1.69 km², data.md)
    assert extract.frame.equals(extract.frame.envelope)
    assert "header box" in extract.frame_source and "hull" in extract.frame_source
    hull = data_hull(extract.segments, extract.buildings)
    assert hull.covers(extract.frame)


def test_a_file_without_header_box_gets_the_data_hull_and_a_warning(tmp_path, caplog):
    subset = write_osm_subset(tmp_path / "no_header.osm.pbf", bbox=SMALL_BBOX)
    with caplog.at_level("WARNING", logger="cohesion_gis.sources.osm"):
        extract = read_pbf(subset)
    assert "no header box" in caplog.text and "no_header.osm.pbf" in caplog.text
    assert "header box" not in extract.frame_source
    # the hull of a 0.18 km² subset: its cells grown by one, not the whole Helsinki box
    west, _south, east, _north = extract.frame.bounds
    assert west < SMALL_BBOX[0] and east > SMALL_BBOX[2]
    assert extract.frame.covers(extract.segments.geometry.union_all())
