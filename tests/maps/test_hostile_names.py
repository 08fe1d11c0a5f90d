"""Names written by strangers (OSM, scenario files, place names) are shown, never run.

folium and branca render each element's output a second time as a Jinja template, so a name
holding ``{{ ... }}`` would be evaluated while the map is built. Every map builder and figure runs
here with the Helsinki layers renamed to hostile payloads.
"""

from pathlib import Path

import geopandas as gpd
import pytest

from cohesion_gis.maps import (
    base_map,
    cohesion_map,
    notebook_view,
    scenario_map,
    sites_map,
)
from cohesion_gis.maps._style import escape_text

SEVEN_SEVENS = "{{7*7}}"
CONCAT = '{{ "cg" ~ "EVALUATED" }}'


def payloads(target: Path) -> list[str]:
    """Hostile names; the cycler payload would create ``target`` if the text were evaluated."""
    return [
        SEVEN_SEVENS,
        CONCAT,
        "{{ cycler.__init__.__globals__.os.makedirs(" + repr(str(target)) + ", exist_ok=true) }}",
        "{% for x in range(3) %}loop{% endfor %}",
        "lone {{ brace",
        "{# comment",
        "<img src=x onerror=alert(1)>",
        "<script>alert(1)</script>",
        "javascript:alert(1)",
        "evil\u202egnp.exe",
        "nul\x00char",
        "$x^2$",
        "100% {x}",
    ]


def renamed(frame: gpd.GeoDataFrame, names: list[str]) -> gpd.GeoDataFrame:
    """A copy of ``frame`` whose first rows are named with ``names`` (cycled if longer)."""
    out = frame.copy()
    column = out.columns.get_loc("name")
    for row, name in zip(range(len(out)), names * (1 + len(out) // len(names)), strict=False):
        out.iloc[row, column] = name
    return out


def in_json(text: str) -> str:
    """``text`` as folium writes it inside a JSON string in a script."""
    return text.replace("&", "\\u0026")


@pytest.fixture
def hostile(tmp_path: Path) -> tuple[list[str], Path]:
    target = tmp_path / "PWNED"
    return payloads(target), target


def test_map_builders_show_hostile_names_literally(helsinki, scenario_districts, hostile):
    names, target = hostile
    h = helsinki
    joined = " | ".join(names)
    districts = renamed(h.districts, names)
    pages = {
        "cohesion": cohesion_map(
            districts, spaces=renamed(h.spaces, names), homes=h.homes.head(20), title=joined
        ),
        "sites": sites_map(
            renamed(h.sites, names),
            h.approaches,
            entries=h.entries,
            barriers=h.barriers,
            gaps=h.gaps,
            title=joined,
        ),
        "scenario": scenario_map(
            districts, renamed(scenario_districts, names), scenario_name=joined
        ),
        "base": base_map(districts, title=joined),
    }
    for kind, m in pages.items():
        page = notebook_view(m).html
        assert not target.exists(), f"{kind}: a name was run as code"
        assert "cgEVALUATED" not in page, kind
        # the literal text, escaped as HTML entities, inside JSON (which writes & as \u0026)
        assert in_json(escape_text(SEVEN_SEVENS)) in page, kind
        assert in_json("&lt;img src=x onerror=alert(1)&gt;") in page, kind
    assert not target.exists()
