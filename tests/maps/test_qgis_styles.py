"""QGIS styles in the GeoPackages: QGIS's own layer_styles table, QML that parses, real fields."""

import sqlite3
import xml.etree.ElementTree as ET

import pyogrio
import pytest

from cohesion_gis.export import write_geopackage
from cohesion_gis.maps._style import RISK_SCALE, SPEED_BANDS_KMH, score_classes
from cohesion_gis.maps.qgis import layer_styles, style_fields


@pytest.fixture(scope="module")
def gpkg(helsinki, tmp_path_factory):
    """The maps' Helsinki layers written as the analyses' GeoPackages hold them."""
    path = tmp_path_factory.mktemp("qgis") / "styled.gpkg"
    spaces = helsinki.spaces.assign(space_type=helsinki.spaces["space_type"].replace(
        {"cultural_centre": "library", "place_of_worship": "square", "cafe": "market"}
    ))  # fmt: skip
    tables = {
        "districts": helsinki.districts,
        "sites": helsinki.sites,
        "approaches": helsinki.approaches,
        "spaces": spaces,
        "entries": helsinki.entries,
    }
    return write_geopackage(tables, path, metadata={"data_date": "2019-04-21"})


def _styles(path):
    with sqlite3.connect(path) as con:
        con.row_factory = sqlite3.Row
        return [dict(r) for r in con.execute("SELECT * FROM layer_styles ORDER BY id")]


def test_styles_sit_where_qgis_looks_for_them(gpkg):
    with sqlite3.connect(gpkg) as con:
        # an attribute table, FID column "id", as QGIS's "Save style in database" creates it
        assert con.execute(
            "SELECT data_type FROM gpkg_contents WHERE table_name = 'layer_styles'"
        ).fetchone() == ("attributes",)
        columns = [row[1] for row in con.execute("PRAGMA table_info(layer_styles)")]
        geometry = dict(con.execute("SELECT table_name, column_name FROM gpkg_geometry_columns"))
    assert columns == [
        "id", "f_table_catalog", "f_table_schema", "f_table_name", "f_geometry_column",
        "styleName", "styleQML", "styleSLD", "useAsDefault", "description", "owner", "ui",
        "update_time",
    ]  # fmt: skip
    rows = _styles(gpkg)
    styled = {r["f_table_name"] for r in rows}
    assert {"districts", "sites", "approaches", "spaces_points"} <= styled
    assert "entries" not in styled  # no style: QGIS's own default
    for row in rows:  # QgsOgrUtils::loadStoredStyle's filter finds each
        assert (
            row["f_table_schema"] == ""
            and row["f_geometry_column"] == geometry[row["f_table_name"]]
        )
        assert row["update_time"].startswith("2019-04-21")  # the data's date: same bytes
    for layer in styled:
        assert sum(r["useAsDefault"] for r in rows if r["f_table_name"] == layer) == 1, layer


def test_every_style_parses_and_names_fields_its_layer_has(gpkg):
    rows = _styles(gpkg)
    assert rows
    for row in rows:
        root = ET.fromstring(row["styleQML"].split("\n", 1)[1])  # after the DOCTYPE line
        assert root.tag == "qgis" and root.find("renderer-v2").get("type") == "RuleRenderer"
        rules = root.findall("renderer-v2/rules/rule")
        symbols = root.findall("renderer-v2/symbols/symbol")
        assert len(rules) == len(symbols) and rules[-1].get("filter") == "ELSE"
        fields = set(pyogrio.read_info(gpkg, layer=row["f_table_name"])["fields"])
        used = style_fields(row["styleQML"])
        assert used and used <= fields, (row["f_table_name"], row["styleName"], used - fields)


def _rules(row):
    root = ET.fromstring(row["styleQML"].split("\n", 1)[1])
    out = []
    for rule, symbol in zip(
        root.findall("renderer-v2/rules/rule"),
        root.findall("renderer-v2/symbols/symbol"),
        strict=True,
    ):
        colour = next(
            o.get("value") for o in symbol.iter("Option")
            if o.get("name") in ("color", "line_color")
        )  # fmt: skip
        red, green, blue = (int(v) for v in colour.split(",")[:3])
        out.append((rule.get("label"), f"#{red:02x}{green:02x}{blue:02x}"))
    return out


def test_styles_match_the_web_maps_classes_and_colours(gpkg, helsinki):
    rows = {(r["f_table_name"], r["styleName"]): r for r in _styles(gpkg)}
    scores = score_classes(helsinki.districts["score"])
    district = _rules(rows[("districts", "Cohesion score")])
    assert district[:-1] == [(label, colour.lower()) for colour, label in scores.items()]
    risk = _rules(rows[("sites", "Risk")])
    assert risk[:-1] == [(label, colour.lower()) for colour, label in RISK_SCALE.items()]
    speed = _rules(rows[("approaches", "Speed on reaching the site")])
    assert speed[0][0] == "stopped"
    assert speed[1:-1] == [(label, colour.lower()) for colour, label in SPEED_BANDS_KMH.items()]
    assert rows[("sites", "Risk")]["useAsDefault"] == 1
    assert rows[("sites", "Martyn's Law tier")]["useAsDefault"] == 0


def test_no_style_for_a_table_without_geometry_or_its_columns(helsinki):
    assert layer_styles("districts", helsinki.districts.drop(columns="score")) == []
    assert layer_styles("metadata", helsinki.districts) == []
