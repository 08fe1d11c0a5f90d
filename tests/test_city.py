"""The study area on the real Helsinki and Kotka extracts."""

from __future__ import annotations

import dataclasses
import inspect

import geopandas as gpd
import osmnx as ox
import pytest
from click.testing import CliRunner

import cohesion_gis as cg
from cohesion_gis._city_options import LOAD_OPTIONS
from cohesion_gis.cli import main
from cohesion_gis.errors import InputError
from cohesion_gis.sources.osm import default_pbf

HELSINKI_DISTRICTS = {"Kluuvi", "Kaartinkaupunki", "Kamppi", "Kruununhaka", "Kallio", "Punavuori"}


def test_default_is_central_helsinki_in_utm_35n(helsinki):
    assert helsinki.crs.to_epsg() == 32635
    assert helsinki.name == "helsinki"
    # the extract frame is 1.69 km2 (reference data.md)
    assert 1.6e6 < helsinki.boundary.area < 1.8e6
    assert helsinki.provenance.data_date == "2019-04-21"
    assert "OpenStreetMap" in helsinki.provenance.attribution
    for name, layer in helsinki.layers().items():
        assert layer.crs == helsinki.crs, name


def test_load_options_are_declared_once():
    # the CLI options and the provenance record come from LOAD_OPTIONS: it must be the signature
    signature = inspect.signature(cg.load_city).parameters
    assert [o.name for o in LOAD_OPTIONS] == list(signature)
    assert {o.name: o.default for o in LOAD_OPTIONS} == {
        name: p.default for name, p in signature.items()
    }


def test_provenance_records_every_option(helsinki):
    given = helsinki.provenance.parameters
    assert set(given) == {o.name for o in LOAD_OPTIONS if o.name != "progress"} | {"crs"}
    assert given["taxonomy"] == helsinki.taxonomy.path and given["grid_cell_m"] == 250.0
    assert given["pbf"] is None and given["district_id_column"] == "district_id"


def test_helsinki_districts_are_the_six_osm_districts(helsinki):
    assert set(helsinki.districts["name"]) == HELSINKI_DISTRICTS
    assert helsinki.districts["district_id"].is_unique


def test_residents_sum_and_sit_in_homes(helsinki):
    homes = helsinki.homes
    assert (homes["population"] >= 0).all()
    total = homes["population"].sum()
    # default: residential floor area / 40 m2 per person
    assert 1_000 < total < 40_000
    assert homes["district_id"].notna().mean() > 0.95


def test_kotka_is_suburban_with_no_soft_targets(kotka):
    assert len(kotka.buildings) == pytest.approx(2_208, abs=10)
    assert kotka.sites.empty or set(kotka.sites["kind"]) <= {"school"}
    assert kotka.barriers["barrier_kind"].ne("bollard").all()
    # no admin boundaries in the file: a 250 m grid
    assert kotka.districts["district_id"].str.startswith("grid/").all()
    assert kotka.homes["population"].sum() > 0


def test_city_is_frozen_and_replace_shares_tables(helsinki):
    with pytest.raises(dataclasses.FrozenInstanceError):
        helsinki.name = "x"  # type: ignore[misc]
    other = dataclasses.replace(helsinki, name="copy")
    assert other.walk_edges is helsinki.walk_edges


def test_summary_reports_counts(helsinki):
    summary = helsinki.summary()
    assert summary["walk_nodes"] == len(helsinki.walk_nodes)
    assert summary["districts"] == 6


def test_clip_to_bbox(helsinki):
    small = cg.load_city(default_pbf(), bbox=(24.940, 60.166, 24.948, 60.171), buffer_m=0)
    assert small.boundary.area < helsinki.boundary.area / 3
    assert len(small.walk_edges) < len(helsinki.walk_edges)


def test_clip_to_a_boundary_file_in_another_crs(helsinki, tmp_path):
    import geopandas as gpd
    from shapely.geometry import box

    # a 600 m square around the cathedral, written in the Finnish national grid
    centre = gpd.GeoSeries.from_xy([24.952], [60.170], crs=4326).to_crs(3067).iloc[0]
    square = box(centre.x - 300, centre.y - 300, centre.x + 300, centre.y + 300)
    path = tmp_path / "boundary.geojson"
    gpd.GeoDataFrame(geometry=[square], crs=3067).to_file(path)
    small = cg.load_city(default_pbf(), boundary=path)
    assert small.boundary.area == pytest.approx(
        square.intersection(
            gpd.GeoSeries([helsinki.boundary], crs=helsinki.crs).to_crs(3067).iloc[0]
        ).area,
        rel=0.02,
    )
    assert small.provenance.parameters["boundary"] == str(path)


def test_bbox_alone_clips_the_embedded_extract_offline():
    small = cg.load_city(bbox=(24.940, 60.166, 24.948, 60.171))
    assert small.provenance.source == str(default_pbf())
    assert small.boundary.area < 0.5e6
    with pytest.raises(InputError, match=r"embedded central-Helsinki extract.*--online"):
        cg.load_city(bbox=(14.50, 35.88, 14.52, 35.90))  # Valletta


def test_a_place_offline_is_one_clear_error(monkeypatch):
    monkeypatch.setattr(ox.settings, "nominatim_url", "http://127.0.0.1:9/")  # nothing listens
    monkeypatch.setattr(ox.settings, "use_cache", False)
    with pytest.raises(InputError, match=r"'Valletta, Malta': cannot reach the OpenStreetMap"):
        cg.load_city(place="Valletta, Malta")
    result = CliRunner().invoke(main, ["layers", "--place", "Valletta, Malta"])
    assert result.exit_code == 1
    assert result.output.count("\n") == 1 and "Traceback" not in result.output


def test_online_needs_asking_for_and_fails_offline_in_one_line(monkeypatch, tmp_path):
    monkeypatch.setattr(ox.settings, "overpass_url", "http://127.0.0.1:9/api")  # nothing listens
    monkeypatch.setattr(ox.settings, "overpass_rate_limit", False)
    monkeypatch.setattr(ox.settings, "use_cache", False)
    box_args = ["--bbox", "24.940", "60.166", "24.948", "60.171"]
    out = str(tmp_path / "x.gpkg")
    result = CliRunner().invoke(main, ["layers", *box_args, "--online", "--out", out])
    assert result.exit_code == 1
    assert result.output.startswith("Error: osmnx bbox query") and "cannot reach" in result.output
    assert result.output.count("\n") == 1


def test_a_boundary_of_points_is_refused(tmp_path):
    points = tmp_path / "points.geojson"
    gpd.GeoDataFrame(geometry=gpd.points_from_xy([24.94, 24.95], [60.17, 60.17]), crs=4326).to_file(
        points
    )
    with pytest.raises(
        InputError, match=r"points\.geojson: the boundary must be a polygon, got Po"
    ):
        cg.load_city(boundary=points)


def test_an_empty_district_file_is_refused(tmp_path):
    empty = tmp_path / "districts.gpkg"
    gpd.GeoDataFrame({"district_id": [], "name": []}, geometry=[], crs=3067).to_file(empty)
    with pytest.raises(InputError, match=r"districts\.gpkg: holds no districts"):
        cg.load_city(districts=empty)


def test_an_admin_level_absent_from_the_file_is_a_warning_and_a_grid(kotka_pbf, caplog):
    with caplog.at_level("WARNING", logger="cohesion_gis.city"):
        city = cg.load_city(kotka_pbf, admin_level=9)
    assert "no OSM boundaries at admin_level=9: using a 250 m square grid" in caplog.text
    assert city.districts["district_id"].str.startswith("grid/").all()
    # the grid covers the built cells only: every cell holds a building centroid
    centroids = city.buildings.geometry.centroid
    assert city.districts.geometry.map(lambda cell: centroids.within(cell).any()).all()


def test_default_buffer_is_the_packaged_search_limit() -> None:
    """The loader's literal default buffer equals the cohesion score's largest search distance."""
    from cohesion_gis.city import DEFAULT_BUFFER_M
    from cohesion_gis.cohesion import CohesionParams
    from cohesion_gis.params import load_params

    assert load_params(CohesionParams).search_limit_m == DEFAULT_BUFFER_M
