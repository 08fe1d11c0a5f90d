"""Names written by strangers (OSM, scenario files, place names) are shown, never run.

folium and branca render each element's output a second time as a Jinja template, so a name
holding ``{{ ... }}`` would be evaluated while the map is built; Leaflet inserts popups, tooltips,
titles, legends and layer names as HTML; matplotlib reads ``$...$`` as mathtext. Every map builder
and figure runs here on the Helsinki layers renamed to hostile payloads (copies, no mocks).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import matplotlib
import pytest

from cohesion_gis.maps import (
    base_map,
    cohesion_map,
    notebook_view,
    save_offline,
    scenario_map,
    sites_map,
)
from cohesion_gis.maps._style import escape_text, js_literal, plain_text
from cohesion_gis.maps.static import (
    cohesion_figure,
    save_pdf,
    save_png,
    scenario_figure,
    sites_figure,
    summary_figure,
)
from cohesion_gis.maps.suggest import suggestions_map

SEVEN_SEVENS = "{{7*7}}"
IMG = "<img src=x onerror=alert(1)>"
MATH = "$x^2$"
BACKSLASH = "back\\slash \\x"  # \x without hex digits: a syntax error in a template literal


def payloads(target: Path) -> list[str]:
    """Hostile names, the ones shown in the summary's tables (5 lowest, 5 first) first.

    The cycler payload would create ``target`` if the text were evaluated.
    """
    return [
        MATH,
        SEVEN_SEVENS,
        IMG,
        "$\\frac$",  # not valid mathtext: stopped summary.pdf
        "javascript:alert(1)",
        '{{ "cg" ~ "EVALUATED" }}',
        "{{ cycler.__init__.__globals__.os.makedirs(" + repr(str(target)) + ", exist_ok=true) }}",
        "{% for x in range(3) %}loop{% endfor %}",
        "lone {{ brace",
        "{# comment",
        "<script>alert(1)</script>",
        "evil\u202egnp.exe",
        "nul\x00char",
        "100% {x}",
        BACKSLASH,
        # look like a remote reference or an asset the offline page lacks: must not block saving
        "url(https://example.org/x.png)",
        "L.AwesomeMarkers",
        "bootstrap.Modal",
    ]


def renamed(frame: gpd.GeoDataFrame, column: str, names: list[str]) -> gpd.GeoDataFrame:
    """A copy of ``frame`` whose ``column`` holds ``names``, cycled over the rows in order."""
    out = frame.copy()
    out[column] = [names[k % len(names)] for k in range(len(out))]
    return out


@dataclass(frozen=True)
class Hostile:
    names: list[str]
    target: Path
    title: str
    districts: gpd.GeoDataFrame
    scenario_districts: gpd.GeoDataFrame
    spaces: gpd.GeoDataFrame
    sites: gpd.GeoDataFrame
    approaches: gpd.GeoDataFrame
    entries: gpd.GeoDataFrame
    barriers: gpd.GeoDataFrame
    suggestions: gpd.GeoDataFrame


@pytest.fixture
def hostile(helsinki, scenario_districts, tmp_path) -> Hostile:
    target = tmp_path / "PWNED"
    names = payloads(target)
    # the lowest-scoring districts get the first names (they are in the summary's table)
    by_score = helsinki.districts.sort_values("score")["district_id"]
    name_of = {d: names[k % len(names)] for k, d in enumerate(by_score)}
    sites = renamed(helsinki.sites.sort_values("rank"), "name", names)
    return Hostile(
        names=names,
        target=target,
        title=" | ".join(names),
        districts=helsinki.districts.assign(name=helsinki.districts["district_id"].map(name_of)),
        scenario_districts=scenario_districts.assign(
            name=scenario_districts["district_id"].map(name_of)
        ),
        # a few short types: each type is a legend row, and a long legend would cover the map
        spaces=renamed(renamed(helsinki.spaces, "name", names), "space_type", names[:3]),
        sites=renamed(sites, "required_rating", names[::-1]),
        approaches=renamed(helsinki.approaches, "vehicle_class", names),
        entries=renamed(helsinki.entries, "required_rating", names),
        barriers=renamed(renamed(helsinki.barriers, "barrier_kind", names), "rating", names[2:]),
        suggestions=_suggestions(helsinki.sites, names),
    )


def _suggestions(sites: gpd.GeoDataFrame, names: list[str]) -> gpd.GeoDataFrame:
    """A suggestions table (``Suggestions.table`` columns) on the site outlines, hostile texts."""
    table = gpd.GeoDataFrame(
        {
            "candidate_id": [f"way/{k}" for k in range(len(sites))],
            "predicted_score_gain": [3.5 - 0.4 * k for k in range(len(sites))],
            "area_m2": sites["area_m2"].to_numpy(),
            "residents_newly_served": [120.0] * len(sites),
        },
        geometry=sites.geometry.to_numpy(),
        crs=sites.crs,
    )
    table = renamed(renamed(table.assign(name=""), "name", names), "source", names[::-1])
    return renamed(table, "space_type", names[3:])


def build_maps(h: Hostile, out: Path) -> dict[str, Path]:
    """Every map builder on the hostile layers, saved offline into ``out``."""
    maps = {
        "cohesion": cohesion_map(h.districts, spaces=h.spaces, title=h.title),
        "sites": sites_map(
            h.sites, h.approaches, entries=h.entries, barriers=h.barriers, title=h.title
        ),
        "scenario": scenario_map(h.districts, h.scenario_districts, scenario_name=h.title),
        "base": base_map(h.districts, title=h.title),
        "suggestions": suggestions_map(
            h.suggestions,
            h.suggestions.head(3).assign(
                pick=[1, 2, 3], marginal_gain=[3.5, 2.0, 1.0], space_type=[BACKSLASH, IMG, MATH]
            ),
            h.districts,
            title=h.title,
        ),
    }
    return {kind: save_offline(m, out / f"{kind}.html") for kind, m in maps.items()}


def in_page(text: str) -> str:
    """``text`` escaped as the maps escape it, as it appears inside a JSON string of the page."""
    return js_literal(escape_text(text))[1:-1]


def test_maps_keep_hostile_names_as_escaped_text(hostile, tmp_path):
    h = hostile
    saved = build_maps(h, tmp_path / "maps")
    pages = {kind: path.read_text(encoding="utf-8") for kind, path in saved.items()}
    pages["notebook"] = notebook_view(cohesion_map(h.districts, title=h.title)).html
    assert not h.target.exists(), "a name was run as Python code"
    for kind, page in pages.items():
        assert "cgEVALUATED" not in page and "looplooploop" not in page, kind
        assert in_page(h.title) in page, kind  # the title, every payload in it, literally
        assert in_page(SEVEN_SEVENS) in page, kind
        for raw in ("<img src=x", "\\u003cimg src=x", "\\u003cscript\\u003ealert"):
            assert raw not in page, (kind, raw)
        for char in ("\x00", "\u202e"):
            assert char not in page and js_literal(char)[1:-1] not in page, (kind, repr(char))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["maps"]


def pdf_text(data: bytes) -> str:
    """The text of an uncompressed matplotlib PDF: one line per ``TJ`` string array."""
    lines = []
    for array in re.findall(rb"\[(.*?)\]\s*TJ", data, flags=re.DOTALL):
        parts = re.findall(rb"\(((?:\\.|[^\\)])*)\)", array, flags=re.DOTALL)
        lines.append(b"".join(re.sub(rb"\\(.)", rb"\1", p) for p in parts).decode("latin-1"))
    return "\n".join(lines)


def test_figures_draw_hostile_names_as_written(hostile, tmp_path):
    h = hostile
    figures = {
        "cohesion": cohesion_figure(h.districts, spaces=h.spaces, title=h.title),
        "sites": sites_figure(h.sites, h.approaches, title=h.title),
        "scenario": scenario_figure(h.districts, h.scenario_districts, scenario_name=h.title),
    }
    with matplotlib.rc_context({"pdf.compression": 0}):  # text readable in the PDF stream
        pdfs = {k: save_pdf(fig, tmp_path / f"{k}.pdf") for k, fig in figures.items()}
        pdfs["summary"] = summary_figure(
            h.districts, h.sites, tmp_path / "summary.pdf", approaches=h.approaches, title=h.title
        )
    pngs = [save_png(fig, tmp_path / f"{k}.png", dpi=40) for k, fig in figures.items()]
    pngs.append(summary_figure(h.districts, h.sites, tmp_path / "summary.png", dpi=40))
    assert all(p.read_bytes()[:4] == b"\x89PNG" for p in pngs)
    assert not h.target.exists()
    # every payload in the titles as written; glyphs beyond Latin-1 (the � shown for control
    # characters) and ligatures (the "fi" of a temporary path) are drawn outside the PDF strings
    written = [n for n in h.names if n.isprintable() and str(h.target) not in n]
    assert len(written) == len(h.names) - 3
    for kind, path in pdfs.items():
        text = pdf_text(path.read_bytes())
        assert [n for n in written if n not in text] == [], kind
    summary = pdf_text(pdfs["summary"].read_bytes()).splitlines()
    # the tables: the lowest-scoring district and the first site are named $x^2$, as written
    assert summary.count(MATH) >= 2 and summary.count(SEVEN_SEVENS) >= 2
    assert IMG in " ".join(summary)  # names are wrapped at spaces in the tables, never cut
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [f"{k}.pdf" for k in pdfs] + [p.name for p in pngs]
    )


@pytest.mark.browser
def test_maps_in_browser_show_hostile_names_and_run_nothing(hostile, tmp_path, open_map):
    h = hostile
    saved = build_maps(h, tmp_path)
    shown = plain_text(h.title)
    for kind, path in saved.items():
        s = open_map(path, ready=".cg-title")
        titles = s.page.locator(".cg-title").all_inner_texts()
        assert shown in titles[-1], kind
        assert s.page.locator(".folium-map img, .folium-map script").count() == 0, kind
        assert s.page.locator("a[href^='javascript']").count() == 0, kind
        if kind == "cohesion":
            overlay = "Cohesion score (0–100)"
            tooltip = s.hover_feature(overlay, f"<strong>{escape_text(SEVEN_SEVENS)}</")
            assert tooltip.startswith(f"{SEVEN_SEVENS}: score "), tooltip
            popup = s.click_feature(overlay, f"<strong>{escape_text(IMG)}</")
            assert popup.startswith(IMG)
            legend = s.page.locator(".cg-legend").all_inner_texts()
            assert any(IMG in text and MATH in text for text in legend)  # space types
        if kind == "sites":
            overlay = "Crowded sites (circle size = people)"
            popup = s.click_feature(overlay, f"<strong>{escape_text(MATH)}</")
            assert popup.startswith(MATH)
        if kind == "scenario":
            assert s.page.title() == f"Scenario: {shown}"
        s.finish(f"hostile_{kind}")
    assert not h.target.exists()


@pytest.mark.browser
def test_scenario_name_is_text_in_the_layer_control(
    helsinki, scenario_districts, tmp_path, open_map
):
    """The stored XSS of issue 15: Leaflet inserts layer names as HTML."""
    path = save_offline(
        scenario_map(helsinki.districts, scenario_districts, scenario_name=IMG),
        tmp_path / "scenario.html",
    )
    s = open_map(path)
    s.page.wait_for_timeout(300)  # an injected image would fail to load and fire its onerror
    assert s.dialogs == []
    assert IMG in s.page.locator(".cg-title").nth(1).inner_text()
    assert s.page.title() == f"Scenario: {IMG}"
    s.finish("scenario_img_name")
