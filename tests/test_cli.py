import json

import pyogrio
from click.testing import CliRunner

from cohesion_gis.cli import main


def test_help_lists_the_commands():
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    for command in ("layers", "score", "demo"):
        assert command in result.output


def test_show_versions():
    result = CliRunner().invoke(main, ["--show-versions"])
    assert result.exit_code == 0
    assert "geopandas" in result.output and "cohesion-gis" in result.output


def test_layers_writes_a_geopackage(tmp_path):
    out = tmp_path / "helsinki.gpkg"
    result = CliRunner().invoke(main, ["layers", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "walk_edges" in dict(pyogrio.list_layers(out))
    assert (tmp_path / "helsinki_population.tif").exists()
    again = CliRunner().invoke(main, ["layers", "--out", str(out)])
    assert again.exit_code == 1
    assert "exist; pass overwrite=True (CLI: --overwrite)" in again.output


def test_score_writes_tables(tmp_path):
    result = CliRunner().invoke(main, ["score", "--out", str(tmp_path), "--no-sensitivity"])
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "cohesion_summary.json").read_text())
    assert summary["summary"]["districts"] == 6
    assert "Kluuvi" in result.output


def test_bad_input_exits_with_the_message(tmp_path):
    result = CliRunner().invoke(main, ["layers", "--pbf", str(tmp_path / "missing.osm.pbf")])
    assert result.exit_code == 1
    assert "no such PBF file" in result.output
    assert "Traceback" not in result.output
