"""Rated-barrier files: mixed geometry types, hostile ratings and ids give named errors."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest
from shapely.geometry import LineString, Point, Polygon

from cohesion_gis.errors import InputError
from cohesion_gis.hvm.barriers import read_rated_barriers

# Senaatintori, Helsinki (EPSG:4326)
X, Y = 24.9525, 60.1693


def write(tmp_path: Path, ratings: list, **columns) -> Path:
    geoms = [
        Point(X, Y),
        LineString([(X, Y + 0.0001), (X + 0.0002, Y + 0.0001)]),
        Polygon([(X, Y + 0.0003), (X + 0.0001, Y + 0.0003), (X + 0.0001, Y + 0.0004)]),
    ][: len(ratings)]
    path = tmp_path / "barriers.geojson"
    frame = gpd.GeoDataFrame({"rating": ratings, **columns}, geometry=geoms, crs=4326)
    frame.to_file(path, engine="pyogrio")
    return path


def test_points_lines_and_polygons_in_one_file(tmp_path: Path):
    path = write(tmp_path, ["V/7200[N2A]/48/90:2.5", "M50/P1", None])
    out = read_rated_barriers(path, crs=3067)
    assert list(out.geom_type) == ["Point", "LineString", "LineString"]  # a polygon's outline
    assert list(out["barrier_kind"]) == ["rated", "rated", "unrated"]
    assert out["rated_speed_kmh"].iloc[:2].tolist() == [48.0, 80.0]
    assert out.crs.to_epsg() == 3067
    assert out.geometry.iloc[0].x == pytest.approx(386_900, abs=1_000)  # metres, reprojected


def test_the_layer_says_what_is_built(tmp_path: Path):
    # second VDA review: every user barrier became "rated", so a bollard row drawn as a line
    # was credited as a continuous line deflecting a glancing vehicle (impact.CONTINUOUS_KINDS)
    ratings = ["V/1500[M1]/80/90:1.0", "V/1500[M1]/80/90:1.0", None]
    path = write(tmp_path, ratings, kind=["Bollard", None, "bollard"])
    out = read_rated_barriers(path, crs=3067)
    assert list(out["barrier_kind"]) == ["bollard", "rated", "bollard"]


@pytest.mark.parametrize(
    ("rating", "match"),
    [
        ("V/7200[N2A]/48/90", r"angle:penetration '90' is not like 90:2.5"),  # no penetration
        ("V/7200[N2A]/48/90:", r"penetration \(m\) '' is not a number"),
        ("V/7200[N2A]/48/95:2.5", r"impact angle \(degrees\) '95' is outside 1-90"),
        ("V/7200[N2A]/48/-5:2.5", r"impact angle \(degrees\) '-5'"),
        ("V/7200[N2A]/nan/90:2.5", r"impact speed \(km/h\) 'NAN' is not a number"),
        ("V/7200[N2A]/inf/90:2.5", r"impact speed \(km/h\) 'INF' is not a number"),
        ("M50", r"ASTM penetration class is missing"),
    ],
)
def test_impossible_ratings_are_named_per_feature(tmp_path: Path, rating: str, match: str):
    path = write(tmp_path, ["M50/P1", rating])
    with pytest.raises(InputError, match=match) as info:
        read_rated_barriers(path, crs=3067)
    text = str(info.value)
    assert text.startswith(f"{path}: 1 problem(s) in the rated-barrier layer: feature user/1: bad")
    assert "\n" not in text  # one line for the command line


def test_repeated_and_empty_ids_are_refused(tmp_path: Path):
    # two barriers sharing an id used to load silently: one would shadow the other in reports
    path = write(tmp_path, ["M50/P1"] * 3, barrier_id=["gate-1", "gate-1", " "])
    with pytest.raises(InputError) as info:
        read_rated_barriers(path, crs=3067)
    text = str(info.value)
    assert "'barrier_id' repeats gate-1; give each barrier its own id" in text
    assert "feature 2: empty 'barrier_id'" in text
