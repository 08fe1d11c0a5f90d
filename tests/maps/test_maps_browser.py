"""Open each saved map in headless Debian chromium: renders offline, layers, popups, toggles."""

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest

from cohesion_gis.maps import cohesion_map, notebook_view, save_offline, scenario_map, sites_map
from cohesion_gis.maps._style import plain_rating

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
                scenario_name="new_park",
                description="A new park beside the library. It replaces a car park.",
                interventions=_interventions(h),
                streets=h.streets,
                buildings=h.buildings,
            ),
            out / "scenario.html",
        ),
        "hvm_scenario": save_offline(
            scenario_map(
                h.districts,
                h.districts,
                scenario_name="barriers",
                description="Rated barriers at the market",
                interventions=_interventions(h),
                base_approaches=h.approaches,
                scenario_approaches=_stopped(h.approaches),
                site_names=dict(zip(h.sites["site_id"], h.sites["name"], strict=True)),
                streets=h.streets,
                buildings=h.buildings,
            ),
            out / "hvm_scenario.html",
        ),
    }


def _interventions(h) -> gpd.GeoDataFrame:
    """A new space, a rated barrier line and a closed street, as ``scenario_changes`` gives."""
    return gpd.GeoDataFrame(
        {
            "change": ["new contact space", "new barrier line", "street closed to vehicles"],
            "name": ["Uusi puisto", "Market line", "Kauppatori"],
            "detail": [
                "new park, 1,000 m²",
                plain_rating("ISO 22343-1: V/7200[N2A]/64/90:1.0"),
                "closed to vehicles; people on foot keep it",
            ],
        },
        geometry=[
            h.districts.geometry.iloc[5].centroid.buffer(30),
            h.drive.geometry.iloc[0],
            h.drive.geometry.iloc[1],
        ],
        crs=h.districts.crs,
    )


def _stopped(approaches: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The approaches after the scenario: the first site's are stopped (0 km/h)."""
    first = approaches["site_id"] == approaches["site_id"].iloc[0]
    return approaches.assign(impact_speed_kmh=approaches["impact_speed_kmh"].where(~first, 0.0))


ON_MAP_JS = """([control, overlay]) => {
  const key = Object.keys(window).filter(k => /^layer_control_.*_layers$/.test(k))[control];
  const layer = window[key].overlays[overlay];
  return layer._map !== null && layer._map !== undefined;
}"""
LAYER_NAMES_JS = """() => [...document.querySelectorAll('.leaflet-control-layers-overlays')]
  .map(box => [...box.querySelectorAll('label')].map(l => l.innerText.trim()))"""


def test_every_map_has_a_page_title(open_map, saved):
    for kind, path in saved.items():
        s = open_map(path)
        assert s.page.title().strip(), kind
        s.finish(f"title_{kind}")


@pytest.mark.parametrize("kind", ["scenario", "hvm_scenario"])
def test_scenario_maps_draw_the_intervention(open_map, saved, kind):
    s = open_map(saved[kind])
    panels = s.page.evaluate(LAYER_NAMES_JS)
    assert len(panels) == 2
    for names in panels:  # on both panels
        assert any(n.startswith("Intervention") for n in names), names
        assert any(n.startswith("Vehicle approaches") for n in names) is (kind == "hvm_scenario")
    left, right = s.counts()
    entry = "Intervention: what the scenario changes"
    assert left[entry] == right[entry] == 3 + 1  # and a dot at the barrier line's middle
    text = s.click_feature(entry, "Market line", control=1)
    assert "tested against a 7.2 t lorry (N2A) at 64 km/h head-on" in text
    # the barrier line: black, dashed, on a white halo, apart from the dark blue fast routes
    line = s.page.locator("path.cg-halo[stroke='#000000'][stroke-dasharray='12 6']")
    assert line.count() == 2  # one per panel
    assert "drop-shadow" in line.first.evaluate("e => getComputedStyle(e).filter")
    legend = " ".join(s.page.locator(".cg-legend:visible").all_inner_texts())
    assert "new barrier line" in legend and "street closed to vehicles" in legend
    # the change alone among the score layers is on, with its round classes and "no change"
    assert s.page.evaluate(ON_MAP_JS, [1, "Change in score"]) is True
    assert s.page.evaluate(ON_MAP_JS, [1, "Cohesion score with the scenario"]) is False
    legends = s.page.locator(".cg-legend:visible").all_inner_texts()
    assert any("no change (under 0.05 points)" in t for t in legends)
    s.finish(f"{kind}_intervention")


def test_hvm_scenario_marks_stopped_approaches(open_map, saved, helsinki):
    s = open_map(saved["hvm_scenario"])
    left, right = s.counts()
    before = next(n for n in left if n.startswith("Vehicle approaches before"))
    after = next(n for n in right if n.startswith("Vehicle approaches after"))
    first = helsinki.approaches["site_id"] == helsinki.approaches["site_id"].iloc[0]
    assert left[before] == right[after] == int(first.sum())  # only the changed site's
    dashed = s.page.locator(".leaflet-pane path[stroke-dasharray='6 5']").count()
    assert dashed >= int(first.sum())
    assert "stopped (dashed)" in " ".join(s.page.locator(".cg-legend:visible").all_inner_texts())
    s.finish("hvm_scenario_stopped")


def test_district_names_visible_without_a_click(open_map, saved, helsinki):
    s = open_map(saved["cohesion"])
    labels = s.page.locator(".cg-label")
    assert labels.count() == len(helsinki.districts)
    first = labels.filter(has_text="District 1").first
    assert first.is_visible()
    assert "score" in first.inner_text()
    assert s.page.locator(".leaflet-popup").count() == 0  # nothing clicked
    s.finish("cohesion_labels")


def test_legends_follow_their_layers(open_map, saved):
    s = open_map(saved["cohesion"])

    def shown(title: str) -> bool:
        legend = s.page.locator(".cg-legend", has_text=title)
        return legend.is_visible()

    assert shown("Cohesion score (0–100")
    assert not shown("Access lost to barriers")  # its layer is off at first
    s.toggle("Access lost to busy roads and railways")
    assert shown("Access lost to barriers")
    s.toggle("Cohesion score (0–100)")
    assert not shown("Cohesion score (0–100")
    s.toggle("Contact spaces")
    assert not shown("Contact spaces")
    s.finish("cohesion_legends")


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
    assert left["Cohesion score today"] == 16
    assert right["Cohesion score with the scenario"] == 16
    assert right["Change in score"] == 16
    assert s.page.title() == "Scenario: A new park beside the library"
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


def test_notebook_map_below_the_fold_opens_fitted(browser, helsinki, tmp_path):
    """The inline map of a notebook cell far down the page: fitted, not left at zoom 10."""
    view = notebook_view(cohesion_map(helsinki.districts, streets=helsinki.streets))
    path = tmp_path / "notebook.html"
    path.write_text(
        '<html><body><div style="height:3000px">earlier cells</div>'
        f"{view._repr_html_()}</body></html>",
        encoding="utf-8",
    )
    page = browser.new_page(viewport={"width": 1000, "height": 700})
    page.goto(path.as_uri())
    page.wait_for_timeout(1000)
    page.evaluate("() => window.scrollTo(0, 3000)")
    page.wait_for_timeout(800)
    (frame,) = [f for f in page.frames if f is not page.main_frame]
    zoom = frame.evaluate("() => window[document.querySelector('.folium-map').id].getZoom()")
    bounds = frame.evaluate(
        """() => { const m = window[document.querySelector('.folium-map').id];
                   const b = m.getBounds(); return [b.getSouth(), b.getNorth()]; }"""
    )
    south, _, north, _ = helsinki.districts.to_crs(4326).total_bounds[[1, 0, 3, 2]]
    assert zoom > 12  # folium starts at 10; the study area is a few km across
    tolerance = 1e-5  # degrees, about 1 m: the map's coordinates are simplified
    assert bounds[0] <= south + tolerance and bounds[1] >= north - tolerance  # all in view
    page.close()


# Rectangles (container pixels) of the study area, of each control that may cover it and of
# each district label: shown, name only, or hidden.
FRAME_JS = """() => {
  const m = window[document.querySelector('.folium-map').id], c = m.getContainer();
  const box = c.getBoundingClientRect(), rect = r => [r.left - box.left, r.top - box.top,
    r.right - box.left, r.bottom - box.top];
  const b = window.cgStudyBounds, p = [m.latLngToContainerPoint(b[0]),
    m.latLngToContainerPoint(b[1])];
  return {
    size: [m.getSize().x, m.getSize().y],
    area: [Math.min(p[0].x, p[1].x), Math.min(p[0].y, p[1].y),
           Math.max(p[0].x, p[1].x), Math.max(p[0].y, p[1].y)],
    controls: [...c.querySelectorAll('.leaflet-control')]
      .filter(e => !/leaflet-control-(attribution|scale)/.test(e.className))
      .map(e => rect(e.getBoundingClientRect())),
    labels: [...c.querySelectorAll('.cg-label')].map(e => ({
      hidden: e.classList.contains('cg-hidden'), short: e.classList.contains('cg-short'),
      rect: rect(e.getBoundingClientRect())})),
  };
}"""


def _overlap(a, b) -> bool:
    return a[0] < b[2] and a[2] > b[0] and a[1] < b[3] and a[3] > b[1]


@pytest.fixture(scope="module")
def monaco_view(monaco, tmp_path_factory) -> Path:
    """Monaco's cohesion map as notebook 05 shows it (seeded scores on the real quartiers)."""
    rng = np.random.default_rng(16)
    districts = monaco.districts.assign(
        population=1000, access=rng.uniform(0, 1, len(monaco.districts)),
        diversity=0.5, bridging=0.5, capacity=0.5, severance=0.1,
        score=rng.uniform(10, 90, len(monaco.districts)),
    )  # fmt: skip
    m = cohesion_map(
        districts, spaces=monaco.contact_spaces, streets=monaco.walk_edges,
        buildings=monaco.buildings, place=monaco.name, data_date=monaco.provenance.data_date,
    )  # fmt: skip
    west, south, east, north = districts.to_crs(4326).total_bounds
    path = tmp_path_factory.mktemp("monaco") / "notebook.html"
    path.write_text(
        '<html><body style="margin:0"><div style="height:2500px">earlier cells</div>'
        f"{notebook_view(m)._repr_html_()}</body></html>",
        encoding="utf-8",
    )
    return path, [[south, west], [north, east]]


def _notebook_frame(browser, monaco_view):
    path, bounds = monaco_view
    page = browser.new_page(viewport={"width": 1000, "height": 700})
    page.goto(path.as_uri())
    page.wait_for_timeout(800)
    page.evaluate("() => window.scrollTo(0, 2500)")
    page.wait_for_timeout(800)
    (frame,) = [f for f in page.frames if f is not page.main_frame]
    frame.evaluate("(b) => { window.cgStudyBounds = b; }", bounds)
    return page, frame


def test_monaco_opens_filling_the_frame_free_of_controls(browser, monaco_view):
    """The city is drawn as large as the controls allow, and none of them covers it.

    Before (controls above and below the study area's columns padded away): Monaco stood 43 %
    of the frame's height; now 61 %.
    """
    page, frame = _notebook_frame(browser, monaco_view)
    seen = frame.evaluate(FRAME_JS)
    width, height = seen["size"]
    x0, y0, x1, y1 = seen["area"]
    assert (y1 - y0) / height > 0.55 or (x1 - x0) / width > 0.55, seen["area"]
    assert x0 >= 0 and y0 >= 0 and x1 <= width and y1 <= height  # all of it in view
    for control in seen["controls"]:
        assert not _overlap(control, seen["area"]), (control, seen["area"])
    page.screenshot(path=str(monaco_view[0].with_suffix(".png")))
    page.close()


def test_monaco_district_labels_never_cover_each_other(browser, monaco_view, monaco):
    page, frame = _notebook_frame(browser, monaco_view)
    labels = frame.evaluate(FRAME_JS)["labels"]
    assert len(labels) == len(monaco.districts) == 9
    shown = [label["rect"] for label in labels if not label["hidden"]]
    assert len(shown) >= 7  # most names at the first view (some smaller); the rest zoomed in
    for i, a in enumerate(shown):
        for b in shown[i + 1 :]:
            assert not _overlap(a, b), (a, b)
    # two zoom levels in, around the centre, every label is whole again
    frame.evaluate(
        "() => { const m = window[document.querySelector('.folium-map').id];"
        " m.setZoom(m.getZoom() + 2, {animate: false}); }"
    )
    seen = frame.evaluate(FRAME_JS)
    inside = [label for label in seen["labels"] if _overlap(label["rect"], [0, 0, *seen["size"]])]
    assert inside and all(not label["hidden"] for label in inside)
    page.close()


def test_a_real_hvm_scenario_map_names_its_intervention_and_approaches(open_map, tmp_path):
    """The example barrier scheme as ``cohesion-gis compare`` draws it, on both panels."""
    from cohesion_gis import compare, load_city, load_scenario
    from cohesion_gis.maps import comparison_map

    city = load_city()
    scenarios = Path(__file__).resolve().parents[2] / "scenarios"
    scenario = load_scenario(scenarios / "aleksanterinkatu_precinct_barriers.toml")
    path = save_offline(comparison_map(city, compare(city, scenario)), tmp_path / "map.html")
    s = open_map(path)
    for names in s.page.evaluate(LAYER_NAMES_JS):
        assert any(n.startswith("Intervention") for n in names), names
        assert any(n.startswith("Vehicle approaches") for n in names), names
    assert s.page.title().startswith("Scenario: ")
    assert s.page.locator("path.cg-halo[stroke='#000000']").count() >= 2  # the line, both panels
    s.finish("real_hvm_scenario")


SCALE_FIT_JS = """(step) => {
  const map = Object.values(window).find(v => v instanceof L.Map);
  const start = map.getZoom(), over = [];
  for (let z = start - 1; z <= start + 3; z += step) {
    map.setZoom(z, {animate: false});
    map.fire('moveend');
    for (const line of document.querySelectorAll('.leaflet-control-scale-line')) {
      if (line.style.display === 'none') { continue; }
      const range = document.createRange(); range.selectNodeContents(line);
      const style = getComputedStyle(line);
      const room = line.clientWidth - parseFloat(style.paddingLeft)
        - parseFloat(style.paddingRight);
      const width = range.getBoundingClientRect().width;
      if (width > room + 0.5) {
        over.push(`${line.textContent} at zoom ${z}: ${width} px > ${room}`);
      }
    }
  }
  return over;
}"""


def test_scale_bar_text_fits_its_bar(open_map, saved):
    # the sites map's "100 m" ran past the bar's end tick (Leaflet's 5 px padding in a 50 px bar)
    s = open_map(saved["sites"])
    assert s.page.evaluate(SCALE_FIT_JS, 0.25) == []
    s.finish("scale_bar")


LABELS_OVER_PICKS_JS = """() => {
  const picks = [...document.querySelectorAll('.cg-pick')].map(e => e.getBoundingClientRect());
  return [...document.querySelectorAll('.cg-label:not(.cg-hidden)')]
    .filter(l => { const r = l.getBoundingClientRect();
      return picks.some(p => r.left < p.right && r.right > p.left && r.top < p.bottom
                             && r.bottom > p.top); })
    .map(l => l.innerText);
}"""


LABEL_AT_JS = """() => {
  const map = Object.values(window).find(v => v instanceof L.Map);
  const r = document.querySelector('.cg-label').getBoundingClientRect();
  const box = map.getContainer().getBoundingClientRect();
  const at = map.containerPointToLatLng([(r.left + r.right) / 2 - box.left,
                                         (r.top + r.bottom) / 2 - box.top]);
  return [at.lng, at.lat];
}"""


def test_suggestion_picks_are_never_covered_by_district_names(open_map, helsinki, tmp_path):
    # Helsinki's pick 2 sat under "Kruununhaka score 70": its number was hidden
    from cohesion_gis.maps.suggest import suggestions_map

    districts = helsinki.districts

    def build(at: gpd.GeoSeries, name: str):
        pick = gpd.GeoDataFrame(
            {"candidate_id": ["way/1"], "space_type": ["park"], "predicted_score_gain": [2.5],
             "area_m2": [900.0], "residents_newly_served": [120.0], "source": ["car park"],
             "name": ["Depot"], "pick": [1], "marginal_gain": [2.5]},
            geometry=at.to_crs(districts.crs).buffer(10), crs=districts.crs,
        )  # fmt: skip
        m = suggestions_map(pick, pick, districts, place="helsinki", data_date="2019-04-21")
        page = open_map(save_offline(m, tmp_path / f"{name}.html"), ready=".cg-pick")
        page.page.wait_for_timeout(300)  # the labels' declutter runs after the first frame
        return page

    first = build(districts.geometry.iloc[:1].centroid, "first")
    lon, lat = first.page.evaluate(LABEL_AT_JS)  # where the largest district's name is written
    first.finish("suggestions_first")
    s = build(gpd.GeoSeries(gpd.points_from_xy([lon], [lat]), crs=4326), "under_a_name")
    assert s.page.locator(".cg-label").count() == len(districts)
    assert s.page.evaluate(LABELS_OVER_PICKS_JS) == []
    header = s.page.locator(".cg-box").first.inner_text()
    assert "Helsinki · OpenStreetMap data of 2019-04-21" in header  # as on the other maps
    assert s.page.locator(".cg-pick-what").inner_text() == "park"  # what to build, at a glance
    s.finish("suggestions_picks")
