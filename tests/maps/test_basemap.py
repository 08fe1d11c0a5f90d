import geopandas as gpd
import pytest
import shapely

from cohesion_gis.errors import InputError, ParameterError
from cohesion_gis.maps import base_map, save_offline, vector_base_layers
from cohesion_gis.maps._layers import _short_numbers, to_wgs84
from cohesion_gis.maps.basemap import _join_chains


def test_base_map_has_no_tiles_and_always_the_osm_attribution(helsinki):
    m = base_map(helsinki.buildings, streets=helsinki.streets, buildings=helsinki.buildings)
    page = m.get_root().render()
    assert "L.tileLayer" not in page
    assert "OpenStreetMap\\u003c/a\\u003e contributors" in page
    assert "prefer_canvas" not in page or '"preferCanvas": false' in page


def test_online_tiles_are_an_option_that_needs_explicit_saving(helsinki, tmp_path):
    m = base_map(helsinki.buildings, tiles="OpenStreetMap")
    with pytest.raises(InputError, match="allow_remote_tiles"):
        save_offline(m, tmp_path / "m.html")
    page = save_offline(m, tmp_path / "m.html", allow_remote_tiles=True).read_text()
    assert "OpenStreetMap\\u003c/a\\u003e contributors" in page


def test_layers_are_simplified_in_metres_and_reprojected(helsinki):
    raw = shapely.get_num_coordinates(helsinki.buildings.geometry.values).sum()
    simple = to_wgs84(helsinki.buildings, tolerance_m=2.0)
    assert simple.crs.to_epsg() == 4326
    assert shapely.get_num_coordinates(simple.geometry.values).sum() < 0.8 * raw
    west, south, east, north = simple.total_bounds
    assert 24.9 < west < east < 25.0 and 60.15 < south < north < 60.18
    # coordinates rounded to 1e-5 degrees (about 1 m)
    x = shapely.get_coordinates(simple.geometry.values)[:, 0]
    assert abs(x * 1e5 - (x * 1e5).round()).max() < 1e-3
    assert len(vector_base_layers(streets=helsinki.streets)) == 1


def test_geographic_or_missing_crs_is_refused(helsinki):
    with pytest.raises(InputError, match=r"streets: .*geographic.*to_crs"):
        vector_base_layers(streets=helsinki.streets.to_crs(4326))
    no_crs = gpd.GeoDataFrame(geometry=[shapely.Point(0, 0)])
    with pytest.raises(InputError, match="needs a CRS"):
        base_map(no_crs)
    with pytest.raises(ParameterError, match="tolerance_m"):
        vector_base_layers(streets=helsinki.streets, tolerance_m=-1)


@pytest.mark.parametrize(
    ("written", "short"),
    [
        ("[14.483459999999999,35.89999]", "[14.48346,35.89999]"),
        ("[-0.099999999999999,1.000000000000001]", "[-0.1,1.0]"),  # carried, signed
        ("[14.999999999999998,-35.000001000000001]", "[15.0,-35.0]"),
        ('{"type":"Point","coordinates":[1.5,2]}', '{"type":"Point","coordinates":[1.5,2]}'),
    ],
)
def test_geojson_numbers_are_written_to_five_decimals(written, short):
    assert _short_numbers(written) == short


def _normalized(lines):
    return sorted(shapely.to_wkt(shapely.normalize(lines), rounding_precision=6).tolist())


def test_street_edges_join_into_the_chains_of_line_merge(helsinki):
    # hand-made: a Y junction (its arms stay apart), a path drawn in mixed directions, a ring
    # of three edges, a closed way on its own, a loop hanging off a junction, a doubled edge
    edges = shapely.from_wkt([
        "LINESTRING (0 0, 1 0)", "LINESTRING (1 0, 2 1)", "LINESTRING (1 0, 2 -1)",
        "LINESTRING (5 0, 6 0)", "LINESTRING (7 0, 6 0)", "LINESTRING (7 0, 8 1, 9 0)",
        "LINESTRING (20 0, 21 0)", "LINESTRING (21 0, 21 1)", "LINESTRING (21 1, 20 0)",
        "LINESTRING (30 0, 31 0, 31 1, 30 0)",
        "LINESTRING (2 1, 3 2)", "LINESTRING (3 2, 4 2, 3 3, 3 2)",
        "LINESTRING (40 0, 41 0)", "LINESTRING (41 0, 40 0)",
    ])  # fmt: skip
    for lines in (edges, helsinki.streets.geometry.to_numpy()):
        merged = shapely.get_parts(shapely.line_merge(shapely.multilinestrings(lines)))
        chains = _join_chains(lines)
        assert len(chains) < len(lines)
        assert _normalized(chains) == _normalized(merged)
