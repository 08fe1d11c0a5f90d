"""Re-shoot the screenshots of docs/maps.md: Chromium, offline, and as a deuteranope sees them.

Run from the repository (needs /usr/bin/chromium and Playwright, as the browser tests)::

    PYTHONPATH=$PWD .venv/bin/python docs/screenshots.py docs/images [--malta]

Builds every map of the embedded Helsinki run with the calls the command line makes (cohesion,
sites, the Aleksanterinkatu barrier and car-park-to-park scenarios, suggestions), and notebook 05's
inline map of Monaco when ../shared/data holds its extract; saves each offline and opens it in
headless Chromium at 1400 × 850 (the notebook map in a 1000-px-wide page, in its 600-px frame)
with every request other than ``file:`` and ``data:`` refused; with ``--malta``, Malta's cohesion
map zoomed on Valletta with the homes layer on. The summary page and the scenario
page for council papers are drawn as PNGs by the same functions as their PDFs. Each picture is also
written as a deuteranope sees it (``*_deuteranopia.png``: Machado et al. 2009 at severity 1 in
linear RGB, ``cohesion_gis.maps.colour_vision``). Look at every picture before committing.
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import numpy as np
from PIL import Image

import cohesion_gis as cg
from cohesion_gis.export import scenario_page
from cohesion_gis.maps import comparison_map, notebook_view, save_offline
from cohesion_gis.maps.colour_vision import simulate
from cohesion_gis.maps.static import save_png, summary_figure

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCENARIOS = {
    "scenario_barriers": "aleksanterinkatu_precinct_barriers",
    "scenario_park": "car_park_to_park",
}
DATA = Path(__file__).resolve().parents[1] / "../shared/data"
MONACO = DATA / "monaco-2019-09-30.osm.pbf"
MALTA = DATA / "malta-2018-08-27.osm.pbf"
#: Valletta, where the Malta picture looks: its centre (latitude, longitude) and zoom.
VALLETTA = (35.897, 14.512, 16)


def compact(png: Path) -> Path:
    """Rewrite ``png`` with 256 colours, in place: a third of the size.

    The octree keeps a colour of a few pixels (a market's dot) that median cut merges away.
    """
    Image.open(png).convert("RGB").quantize(256, method=Image.Quantize.FASTOCTREE).save(
        png, optimize=True
    )
    return png


def deuteranopia(png: Path) -> Path:
    """Write ``<name>_deuteranopia.png`` beside ``png``: the picture as a deuteranope sees it."""
    rgb = np.asarray(Image.open(png).convert("RGB"), dtype=float) / 255
    seen = np.clip(np.round(simulate(rgb, "deuteranopia") * 255), 0, 255).astype(np.uint8)
    out = png.with_name(f"{png.stem}_deuteranopia.png")
    Image.fromarray(seen).save(out)
    return compact(out)


def shoot(
    pages: dict[str, Path],
    images: Path,
    *,
    size: tuple[int, int] = (1400, 850),
    before: Callable[[object], None] | None = None,
) -> None:
    """Screenshot each saved page in Chromium, offline; ``name -> page``; PNGs into ``images``.

    ``before(page)`` runs on each page once it has settled (to zoom, or switch a layer on).
    """
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        for name, page_path in pages.items():
            page = browser.new_page(viewport={"width": size[0], "height": size[1]})
            page.route(
                "**/*",
                lambda r: (
                    r.continue_() if r.request.url.startswith(("file:", "data:")) else r.abort()
                ),
            )
            page.goto(page_path.as_uri())
            if page_path.name == "notebook.html":  # the cell far down the page: scroll to it
                page.wait_for_timeout(800)
                page.evaluate("() => document.querySelector('iframe').scrollIntoView()")
            page.wait_for_timeout(1500)
            if before is not None:
                before(page)
                page.wait_for_timeout(1500)
            page.screenshot(path=str(images / f"{name}.png"))
            page.close()
        browser.close()


def helsinki_pages(work: Path, images: Path) -> dict[str, Path]:
    """Build and save Helsinki's maps as the command line does; draw the two paper pages."""
    from cohesion_gis.maps.suggest import suggestions_map
    from cohesion_gis.pipeline import _with_clipped, cohesion_maps, sites_maps
    from cohesion_gis.suggest import suggest

    city = cg.load_city()
    scores = cg.score_districts(city)
    sites = cg.assess_sites(city)
    cohesion_maps(city, scores, work, overwrite=True)
    sites_maps(city, sites, work, overwrite=True)
    pages = {
        "cohesion_map_after": work / "cohesion_map.html",
        "sites_map_after": work / "sites_map.html",
    }
    summary_figure(
        _with_clipped(scores.districts, city), sites.sites, images / "summary_after.png",
        approaches=sites.approaches.loc[sites.approaches["impact_speed_kmh"] > 0],
        streets=city.walk_edges, buildings=city.buildings,
        place=city.name, data_date=city.provenance.data_date, dpi=110,
        study_area=gpd.GeoDataFrame(geometry=[city.boundary], crs=city.crs),
    )  # fmt: skip
    for name, scenario in SCENARIOS.items():
        comparison = cg.compare(city, cg.load_scenario(Path("scenarios") / f"{scenario}.toml"))
        pages[f"{name}_after"] = save_offline(
            comparison_map(city, comparison), work / f"{name}.html"
        )
        figure = scenario_page(city, comparison)
        save_png(figure, images / f"{name}_paper.png", dpi=80)  # as its PDF, cropped
    found = suggest(city, progress=False)
    m = suggestions_map(
        found.table, found.portfolio, found.base.result.districts,
        streets=city.walk_edges, buildings=city.buildings,
        place=city.name, data_date=city.provenance.data_date,
    )  # fmt: skip
    pages["suggestions_map_after"] = save_offline(m, work / "suggestions_map.html")
    return pages


def monaco_page(work: Path) -> Path | None:
    """Notebook 05's inline map of Monaco, in a cell 2,000 px down a notebook-like page."""
    if not MONACO.is_file():
        print(f"{MONACO} absent: notebook 05's Monaco map not re-shot")
        return None
    city = cg.load_city(MONACO, name="Monaco", population_total=37_308)
    result = cg.score_districts(city)
    m = cg.cohesion_map(
        result.districts, homes=result.homes, spaces=result.spaces, streets=city.walk_edges,
        buildings=city.buildings, place=city.name, data_date=city.provenance.data_date,
    )  # fmt: skip
    page = work / "notebook.html"
    page.write_text(
        '<html><body style="margin:0;width:1000px"><div style="height:2000px">cells</div>'
        f"{notebook_view(m)._repr_html_()}</body></html>",
        encoding="utf-8",
    )
    return page


def malta_page(work: Path) -> Path | None:
    """Malta's cohesion map as ``cohesion-gis demo`` writes it (a country-scale load)."""
    if not MALTA.is_file():
        print(f"{MALTA} absent: Malta's Valletta view not re-shot")
        return None
    from cohesion_gis.pipeline import cohesion_maps

    city = cg.load_city(MALTA, name="Malta")
    cohesion_maps(city, cg.score_districts(city), work / "malta", overwrite=True)
    return work / "malta" / "cohesion_map.html"


def valletta(page: object) -> None:
    """Zoom the Malta map on Valletta with the homes layer on (one dot per 250 m square)."""
    lat, lon, zoom = VALLETTA
    page.evaluate(  # type: ignore[attr-defined]
        "([lat, lon, zoom]) => { const map = Object.values(window).find(v => v instanceof L.Map);"
        " map.setView([lat, lon], zoom, {animate: false}); }",
        [lat, lon, zoom],
    )
    page.get_by_label("Homes (dot size = residents)").check()  # type: ignore[attr-defined]


def main(images: Path, *, malta: bool = False) -> None:
    """Write every screenshot and a deuteranopia copy of every picture into ``images``.

    The "before" pictures (main on 2026-12-02) are kept; their deuteranopia copies are made from
    them. ``malta``: also re-shoot Malta's Valletta view (a country-scale load, minutes).
    """
    images.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        pages = helsinki_pages(work, images)
        shoot(pages, images)
        monaco = monaco_page(work)
        if monaco is not None:
            shoot({"notebook_05_monaco_map": monaco}, images, size=(1000, 600))
        malta_map = malta_page(work) if malta else None
        if malta_map is not None:
            shoot(
                {"malta_cohesion_map_valletta": malta_map}, images, size=(1200, 900),
                before=valletta,
            )  # fmt: skip
    for png in sorted(images.glob("*.png")):
        if not png.stem.endswith("_deuteranopia"):
            print(deuteranopia(compact(png)))


if __name__ == "__main__":
    folders = [a for a in sys.argv[1:] if not a.startswith("--")]
    main(Path(folders[0]) if folders else Path("docs/images"), malta="--malta" in sys.argv)
