"""Re-shoot the screenshots of docs/maps.md: Chromium, offline, and as a deuteranope sees them.

Run from the repository (needs /usr/bin/chromium and Playwright, as the browser tests)::

    PYTHONPATH=$PWD .venv/bin/python docs/screenshots.py docs/images

Builds every map of the embedded Helsinki run with the calls the command line makes (cohesion,
sites, the Aleksanterinkatu barrier and car-park-to-park scenarios, suggestions), and notebook 05's
inline map of Monaco when ../shared/data holds its extract; saves each offline and opens it in
headless Chromium at 1400 × 850 (the notebook map in a 1000-px-wide page, in its 600-px frame)
with every request other than ``file:`` and ``data:`` refused. The summary page and the scenario
page for council papers are drawn as PNGs by the same functions as their PDFs. Each picture is also
written as a deuteranope sees it (``*_deuteranopia.png``: Machado et al. 2009 at severity 1 in
linear RGB, ``cohesion_gis.maps.colour_vision``). Look at every picture before committing.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

import cohesion_gis as cg
from cohesion_gis.maps import comparison_map, notebook_view, save_offline, scenario_changes
from cohesion_gis.maps.colour_vision import simulate
from cohesion_gis.maps.static import scenario_figure, summary_figure

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
MONACO = Path(__file__).resolve().parents[1] / "../shared/data/monaco-2019-09-30.osm.pbf"


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


def shoot(pages: dict[str, Path], images: Path, *, size: tuple[int, int] = (1400, 850)) -> None:
    """Screenshot each saved page in Chromium, offline; ``name -> page``; PNGs into ``images``."""
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
            page.screenshot(path=str(images / f"{name}.png"))
            page.close()
        browser.close()


def helsinki_pages(work: Path, images: Path) -> dict[str, Path]:
    """Build and save Helsinki's maps as the command line does; draw the two paper pages."""
    from cohesion_gis.maps.suggest import suggestions_map
    from cohesion_gis.pipeline import cohesion_maps, sites_maps
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
        scores.districts, sites.sites, images / "summary_after.png",
        approaches=sites.approaches.loc[sites.approaches["impact_speed_kmh"] > 0],
        streets=city.walk_edges, buildings=city.buildings,
        place=city.name, data_date=city.provenance.data_date, dpi=110,
    )  # fmt: skip
    for name, scenario in SCENARIOS.items():
        comparison = cg.compare(city, cg.load_scenario(Path("scenarios") / f"{scenario}.toml"))
        pages[f"{name}_after"] = save_offline(
            comparison_map(city, comparison), work / f"{name}.html"
        )
        figure = scenario_figure(
            comparison.base_districts, comparison.scenario_districts,
            scenario_name=comparison.scenario.name,
            description=comparison.scenario.description,
            interventions=scenario_changes(city, comparison.city),
            streets=city.walk_edges, buildings=city.buildings,
        )  # fmt: skip
        figure.savefig(images / f"{name}_paper.png", dpi=80, bbox_inches="tight")
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


def main(images: Path) -> None:
    """Write every screenshot and its deuteranopia copy into ``images``."""
    images.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        pages = helsinki_pages(work, images)
        shoot(pages, images)
        monaco = monaco_page(work)
        if monaco is not None:
            shoot({"notebook_05_monaco_map": monaco}, images, size=(1000, 600))
            pages["notebook_05_monaco_map"] = monaco
    for name in [*pages, "summary_after", "scenario_barriers_paper"]:
        print(deuteranopia(images / f"{name}.png"))
    for name in [*pages, "summary_after", *(f"{n}_paper" for n in SCENARIOS)]:
        compact(images / f"{name}.png")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("docs/images"))
