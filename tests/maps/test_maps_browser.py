"""Open each saved map in headless Debian chromium: renders offline, layers, popups, toggles."""

from pathlib import Path

import pytest

from cohesion_gis.maps import cohesion_map, save_offline, scenario_map, sites_map

pytestmark = pytest.mark.browser
EVIL = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def saved(helsinki, scenario_districts, tmp_path_factory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("maps")
    h = helsinki
    return {
        "cohesion": save_offline(
            cohesion_map(
                h.districts,
                homes=h.homes,
                spaces=h.spaces,
                streets=h.streets,
                buildings=h.buildings,
            ),
            out / "cohesion.html",
        ),
        "sites": save_offline(
            sites_map(
                h.sites,
                h.approaches,
                entries=h.entries,
                barriers=h.barriers,
                gaps=h.gaps,
                streets=h.streets,
                buildings=h.buildings,
            ),
            out / "sites.html",
        ),
        "scenario": save_offline(
            scenario_map(
                h.districts,
                scenario_districts,
                scenario_name="New park",
                streets=h.streets,
                buildings=h.buildings,
            ),
            out / "scenario.html",
        ),
    }


def test_cohesion_map_in_browser(open_map, saved, helsinki):
    s = open_map(saved["cohesion"])
    (counts,) = s.counts()
    assert counts["Cohesion score (0–100)"] == 16
    assert counts["Access to contact spaces"] == 16
    assert counts["Contact spaces"] == len(helsinki.spaces)
    assert counts["Buildings"] == len(helsinki.buildings)
    assert counts["Streets"] == 1  # the base layer merges every street into one drawing
    # only the visible layers are drawn: 16 districts + the contact spaces (homes and
    # components are off; base layers are not interactive)
    drawn = s.page.locator("path.leaflet-interactive").count()
    assert drawn == 16 + len(helsinki.spaces)
    assert s.toggle("Contact spaces") is False
    assert s.page.locator("path.leaflet-interactive").count() == 16
    text = s.click_feature("Cohesion score (0–100)", "District 1<")
    assert "Access to contact spaces" in text
    assert "of the standard (1 = every type within its recommended walk)" in text
    assert "District 1\n" in text or text.startswith("District 1")
    s.finish("cohesion")


def test_data_text_is_shown_literally_never_run(open_map, saved):
    s = open_map(saved["cohesion"])
    s.toggle("Contact spaces")
    text = s.click_feature("Cohesion score (0–100)", "&lt;script&gt;")
    assert text.startswith(EVIL)
    assert s.page.locator(".leaflet-popup-content script").count() == 0
    s.finish("cohesion_escaped")


def test_sites_map_in_browser(open_map, saved, helsinki):
    s = open_map(saved["sites"])
    (counts,) = s.counts()
    assert counts["Crowded sites (circle size = people)"] == len(helsinki.sites)
    assert counts["Vehicle approach routes"] == len(helsinki.approaches)
    assert counts["Entries"] == len(helsinki.entries)
    assert counts["Barriers"] == len(helsinki.barriers)
    assert counts["Gaps in the barrier line"] == len(helsinki.gaps)
    name = helsinki.sites.loc[helsinki.sites["rank"] == 2, "name"].item()
    text = s.click_feature("Crowded sites (circle size = people)", name)
    assert text.startswith(name)
    assert "Priority\t2 of 8 (1 = act first)" in text
    assert "Barrier rating needed" in text
    assert s.toggle("Vehicle approach routes") is False
    s.finish("sites")


def test_scenario_map_in_browser(open_map, saved):
    s = open_map(saved["scenario"])
    left, right = s.counts()
    assert left["Base score"] == 16 and right["New park score"] == 16
    assert right["Change in score"] == 16
    assert s.toggle("Change in score", control=1) is True
    text = s.click_feature("Change in score", "District 3<", control=1)
    assert "+12.0 points" in text
    # the two maps move together (our offline Leaflet.Sync stand-in)
    centres = s.page.evaluate(
        """() => {
          const maps = [...document.querySelectorAll('.folium-map')].map(d => window[d.id]);
          maps[0].setView([60.1699, 24.9384], 17, {animate: false});
          return maps.map(m => [m.getCenter().lat, m.getCenter().lng, m.getZoom()]);
        }"""
    )
    assert centres[0] == pytest.approx(centres[1])
    assert centres[1][2] == 17
    s.finish("scenario")
