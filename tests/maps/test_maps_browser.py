"""Open each saved map in headless Debian chromium: renders offline, layers, popups, toggles."""

import re
from pathlib import Path

import pytest

from cohesion_gis.maps import cohesion_map, save_offline, scenario_map, sites_map

pytestmark = pytest.mark.browser
EVIL = "<script>alert(1)</script>"

COUNTS_JS = """() => Object.keys(window)
  .filter(k => /^layer_control_.*_layers$/.test(k))
  .map(k => Object.fromEntries(Object.entries(window[k].overlays)
    .map(([name, layer]) => [name, layer.getLayers().length])))"""

# Screen point of the centre of the first feature of an overlay whose popup contains `text`.
POINT_JS = """([control, overlay, text]) => {
  const key = Object.keys(window).filter(k => /^layer_control_.*_layers$/.test(k))[control];
  const group = window[key].overlays[overlay];
  const layer = group.getLayers().find(l => l.feature.properties.popup.includes(text));
  const map = group._map;
  const at = layer.getLatLng ? layer.getLatLng() : layer.getBounds().getCenter();
  map.setView(at, map.getZoom(), {animate: false});
  const p = map.latLngToContainerPoint(at), box = map.getContainer().getBoundingClientRect();
  return [box.left + p.x, box.top + p.y];
}"""

ON_MAP_JS = """([control, overlay]) => {
  const key = Object.keys(window).filter(k => /^layer_control_.*_layers$/.test(k))[control];
  const layer = window[key].overlays[overlay];
  return layer._map !== null && layer._map !== undefined;
}"""


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


class Session:
    def __init__(self, browser, path: Path, shots: Path) -> None:
        self.page = browser.new_page(viewport={"width": 1200, "height": 900})
        self.errors: list[str] = []
        self.remote: list[str] = []
        self.dialogs: list[str] = []
        self.shots = shots
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on(
            "request",
            lambda r: None if r.url.startswith(("file://", "data:")) else self.remote.append(r.url),
        )
        self.page.on("dialog", lambda d: (self.dialogs.append(d.message), d.dismiss()))
        self.page.goto(path.as_uri())
        self.page.wait_for_selector("path.leaflet-interactive")

    def counts(self) -> list[dict[str, int]]:
        return self.page.evaluate(COUNTS_JS)

    def click_feature(self, overlay: str, text: str, *, control: int = 0) -> str:
        x, y = self.page.evaluate(POINT_JS, [control, overlay, text])
        self.page.mouse.click(x, y)
        popup = self.page.locator(".leaflet-popup-content").first
        popup.wait_for()
        return popup.inner_text()

    def toggle(self, overlay: str, *, control: int = 0) -> bool:
        box = self.page.locator(".leaflet-control-layers-overlays").nth(control)
        exact = re.compile(rf"^\s*{re.escape(overlay)}\s*$")
        box.locator("label", has_text=exact).locator("input").click()
        return self.page.evaluate(ON_MAP_JS, [control, overlay])

    def finish(self, name: str) -> Path:
        self.page.wait_for_timeout(400)  # let Leaflet's popup fade-in finish
        shot = self.page.screenshot(path=self.shots / f"{name}.png")
        assert len(shot) > 20_000  # a real picture, not a blank page
        assert self.errors == [] and self.remote == [] and self.dialogs == []
        self.page.close()
        return self.shots / f"{name}.png"


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("screenshots")


def test_cohesion_map_in_browser(browser, saved, helsinki, shots):
    s = Session(browser, saved["cohesion"], shots)
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


def test_data_text_is_shown_literally_never_run(browser, saved, shots):
    s = Session(browser, saved["cohesion"], shots)
    s.toggle("Contact spaces")
    text = s.click_feature("Cohesion score (0–100)", "&lt;script&gt;")
    assert text.startswith(EVIL)
    assert s.page.locator(".leaflet-popup-content script").count() == 0
    s.finish("cohesion_escaped")


def test_sites_map_in_browser(browser, saved, helsinki, shots):
    s = Session(browser, saved["sites"], shots)
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


def test_scenario_map_in_browser(browser, saved, shots):
    s = Session(browser, saved["scenario"], shots)
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
