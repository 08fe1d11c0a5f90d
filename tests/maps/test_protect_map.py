"""The scheme map of a designed barrier scheme, opened offline in headless chromium."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import geopandas as gpd
import pytest

import cohesion_gis as cg
from cohesion_gis.maps import save_offline
from cohesion_gis.maps.protect import FORM_COLOURS, scheme_map
from cohesion_gis.params import load_params
from cohesion_gis.protect import ProtectParams, protect

pytestmark = pytest.mark.browser
EVIL = "<script>alert(1)</script>{{ 7*7 }}"
# The popup HTML of every feature of an overlay (of the first layer control).
POPUPS_JS = """(overlay) => {
  const key = Object.keys(window).filter(k => /^layer_control_.*_layers$/.test(k))[0];
  return window[key].overlays[overlay].getLayers().map(l => l.feature.properties.popup);
}"""
# Screen point at the middle of a line's middle segment (on the line even where it bends).
LINE_POINT_JS = """([overlay, text]) => {
  const key = Object.keys(window).filter(k => /^layer_control_.*_layers$/.test(k))[0];
  const group = window[key].overlays[overlay];
  const layer = group.getLayers().find(l => l.feature.properties.popup.includes(text));
  const pts = layer.getLatLngs(), i = Math.floor((pts.length - 1) / 2);
  const at = L.latLng((pts[i].lat + pts[i + 1].lat) / 2, (pts[i].lng + pts[i + 1].lng) / 2);
  const map = group._map;
  map.setView(at, map.getZoom(), {animate: false});
  const p = map.latLngToContainerPoint(at), box = map.getContainer().getBoundingClientRect();
  return [box.left + p.x, box.top + p.y];
}"""


@pytest.fixture(scope="module")
def city() -> cg.City:
    """The embedded Helsinki City (the maps' own ``helsinki`` fixture holds layers only)."""
    return cg.load_city()


@pytest.fixture(scope="module")
def scheme(city):
    # the assessment's own 500 m horizon keeps the test quick; the default is 1,000 m
    return protect(city, "Hehku", params=replace(load_params(ProtectParams), horizon_m=500.0))


@pytest.fixture(scope="module")
def saved(scheme, city, tmp_path_factory) -> Path:
    # a hostile site name and form label must be shown as text, never run
    site = scheme.site.copy()
    site["name"] = EVIL
    lines = scheme.lines.assign(form=scheme.lines["form"] + EVIL)
    hostile = replace(scheme, site=site, lines=lines)
    sites = scheme.comparison.base.hvm.sites
    outline = sites.loc[sites["site_id"] == scheme.site["site_id"]].geometry.iloc[0]
    m = scheme_map(
        hostile,
        streets=city.drive_edges,
        buildings=city.buildings,
        site_geometry=outline,
    )
    return save_offline(m, tmp_path_factory.mktemp("protect") / "scheme_map.html")


def test_scheme_map_layers_popups_and_no_errors(open_map, saved, scheme) -> None:
    page = open_map(saved)
    counts = page.counts()[0]
    assert counts["Barrier scheme (by form)"] == len(scheme.lines)
    assert counts["Protected site"] == 1
    # the verified scheme stops every approach: each drawn along its old route, grey and dashed
    before = scheme.approaches_before
    arriving = int((before["impact_speed_kmh"] > 0).sum())
    assert counts["Approaches with the scheme"] == arriving > 0
    popups = page.page.evaluate(POPUPS_JS, "Approaches with the scheme")
    assert all("stopped before the site" in p and "protect/" in p for p in popups)
    assert "Approaches before the scheme" in counts  # listed, off at first
    # a tied line bends (end, across the street, end): click the middle of its street crossing
    x, y = page.page.evaluate(LINE_POINT_JS, ["Barrier scheme (by form)", "protect/0"])
    page.page.mouse.click(x, y)
    popup = page.page.locator(".leaflet-popup-content").first
    popup.wait_for()
    text = popup.inner_text()
    assert "Must" in text and "stops a " in text and "Gaps for walkers" in text
    assert "<script>" in text  # the hostile label is shown literally
    legend = page.page.locator(".cg-legend").all_inner_texts()
    assert any("Barrier scheme (by form)" in t for t in legend)
    assert any("stopped" in t for t in legend)
    assert page.toggle("Barrier scheme (by form)") is False  # the form legend follows its layer
    hidden = page.page.locator(".cg-legend", has_text="Barrier scheme (by form)")
    assert not hidden.is_visible()
    page.finish("protect_scheme")  # no script errors, no remote requests, no dialogs


def test_form_colours_are_distinct_and_from_the_safe_palette() -> None:
    from cohesion_gis.maps._style import OKABE_ITO

    colours = list(FORM_COLOURS.values())
    # Okabe & Ito's eighth colour, black, marks chicanes (the package's tuple leaves it out)
    assert len(set(colours)) == len(colours) and set(colours) <= {*OKABE_ITO, "#000000"}


def test_chicanes_are_drawn_and_listed_as_chicanes() -> None:
    # a chicane's row carries its build-outs' form (a structural one "closure"): it was drawn
    # green and listed as a street closure with landscaping; the map had no chicane entry
    from shapely.geometry import LineString

    from cohesion_gis.maps.protect import drawn_as

    rows = gpd.GeoDataFrame(
        {"kind": ["chicane", "closure", "rated line"],
         "form_type": ["closure", "closure", "bollards"]},
        geometry=[LineString([(0, 0), (12, 0)])] * 3, crs=32635,
    )  # fmt: skip
    assert list(drawn_as(rows)) == ["chicane", "closure", "bollards"]
    assert FORM_COLOURS["chicane"] not in {FORM_COLOURS[k] for k in ("closure", "bollards")}
