"""The one reader of a user's vector file: what it refuses, in one line naming the file."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest
import shapely
from click.testing import CliRunner

from cohesion_gis.cli import main
from cohesion_gis.errors import InputError
from cohesion_gis.sources.vector import read_vector


def _frame(crs: str | None = "EPSG:3067") -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"name": ["a"]}, geometry=[shapely.box(0, 0, 10, 10)], crs=crs)


def test_reads_one_layer_and_refuses_what_it_cannot_use(tmp_path: Path) -> None:
    one = tmp_path / "one.geojson"
    _frame().to_file(one)
    assert read_vector(one, what="x").crs.to_epsg() == 3067
    with pytest.raises(InputError, match=r"none\.gpkg: site file not found; check the path"):
        read_vector(tmp_path / "none.gpkg", what="site file")
    text = tmp_path / "notes.txt"
    text.write_text("not vector data", encoding="utf-8")
    with pytest.raises(InputError, match=r"notes\.txt: cannot open as a vector file"):
        read_vector(text, what="x")
    two = tmp_path / "two.gpkg"
    _frame().to_file(two, layer="a")
    _frame().to_file(two, layer="b")
    with pytest.raises(InputError, match=r"two\.gpkg: holds 2 layers \['a', 'b'\]; pass layer="):
        read_vector(two, what="x")
    with pytest.raises(InputError, match=r"no layer 'c'; layers found: \['a', 'b'\]"):
        read_vector(two, what="x", layer="c")
    assert len(read_vector(two, what="x", layer="b")) == 1
    bare = tmp_path / "bare.gpkg"
    with pytest.warns(UserWarning, match="'crs' was not provided"):
        _frame(crs=None).to_file(bare)
    with pytest.raises(InputError, match=r"bare\.gpkg: has no CRS; define it in the file"):
        read_vector(bare, what="x")
    assert read_vector(bare, what="x", require_crs=False).crs is None


def test_suggest_refuses_a_missing_sites_file_before_loading(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["suggest", "--out", str(tmp_path / "out"), "--sites", str(tmp_path / "no.gpkg")]
    )
    assert result.exit_code == 1
    assert "no.gpkg: candidate-site file (--sites) not found; check the path" in result.output
    assert result.output.startswith("Error: ")  # before any loading was logged
