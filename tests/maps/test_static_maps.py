import geopandas as gpd
import numpy as np
import pytest
from matplotlib import patheffects
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.legend import Legend
from PIL import Image

from cohesion_gis.errors import ParameterError
from cohesion_gis.maps import static
from cohesion_gis.maps._style import SPEED_BANDS_KMH, plain_rating
from cohesion_gis.maps.static import (
    cohesion_figure,
    draw_table,
    save_pdf,
    save_png,
    scenario_figure,
    sites_figure,
    summary_figure,
)

EVIL = "<script>alert(1)</script>"


def test_static_maps_write_png_and_pdf(helsinki, scenario_districts, tmp_path):
    png = save_png(
        cohesion_figure(helsinki.districts, streets=helsinki.streets, spaces=helsinki.spaces),
        tmp_path / "cohesion.png",
        dpi=60,
    )
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    pdf = save_pdf(sites_figure(helsinki.sites, helsinki.approaches), tmp_path / "sites.pdf")
    assert pdf.read_bytes()[:5] == b"%PDF-"
    assert b"CreationDate" not in pdf.read_bytes()  # red-team review: same inputs, same bytes
    changes = gpd.GeoDataFrame(
        {"change": ["new barrier line"], "name": ["Line"], "detail": ["rated"]},
        geometry=[helsinki.drive.geometry.iloc[0]],
        crs=helsinki.districts.crs,
    )
    fig = scenario_figure(
        helsinki.districts,
        scenario_districts,
        scenario_name="new_park",
        description="A new park by the library. More words.",
        interventions=changes,
    )
    (heading,) = [t.get_text() for t in fig.texts if t.get_gid() == "cg-heading"]
    assert heading == "Scenario: A new park by the library"
    assert [ax.get_title() for ax in fig.axes] == [
        "Today: cohesion score",
        "Change in score with the scenario",
    ]
    texts = [t.get_text() for ax in fig.axes for t in ax.texts]
    assert "N" in texts and any(t.endswith(" m") or t.endswith(" km") for t in texts)  # scale bar
    legends = [a for ax in fig.axes for a in ax.get_children() if isinstance(a, Legend)]
    titles = {legend.get_title().get_text() for legend in legends}
    assert "Intervention" in titles and "Change in score (scenario − today, points)" in titles
    for legend in legends:  # beside the map, never over it
        assert legend.get_bbox_to_anchor().x0 >= legend.axes.get_window_extent().x1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cohesion.png", "sites.pdf"]


def _page_size_pt(pdf):
    """The MediaBox of a one-page PDF matplotlib wrote, points."""
    data = pdf.read_bytes()
    start = data.index(b"/MediaBox [") + len(b"/MediaBox [")
    return [float(v) for v in data[start : data.index(b"]", start)].split()]


def test_every_pdf_is_an_a4_page_with_everything_inside_its_margins(
    helsinki, scenario_districts, tmp_path, saved
):
    figures = {
        "cohesion": cohesion_figure(helsinki.districts, streets=helsinki.streets,
                                    spaces=helsinki.spaces, place="helsinki"),
        "sites": sites_figure(helsinki.sites, helsinki.approaches, place="helsinki"),
        "scenario": scenario_figure(helsinki.districts, scenario_districts,
                                    headline=["Kamppi: score +2.0"], place="helsinki"),
    }  # fmt: skip
    for name, fig in figures.items():
        save_pdf(fig, tmp_path / f"{name}.pdf")
    summary_figure(helsinki.districts, helsinki.sites, tmp_path / "summary.pdf",
                   approaches=helsinki.approaches, place="helsinki")  # fmt: skip
    figures["summary"] = saved["fig"]
    margin_pt = static.PAGE_MARGIN_MM / 25.4 * 72
    for name, fig in figures.items():
        x0, y0, x1, y1 = _page_size_pt(tmp_path / f"{name}.pdf")
        assert (x0, y0) == (0, 0) and (round(x1, 1), round(y1, 1)) == (841.9, 595.3), name
        drawn = fig.get_tightbbox(_extents(fig), bbox_extra_artists=static.page_artists(fig))
        assert drawn.x0 * 72 >= margin_pt - 1 and drawn.y0 * 72 >= margin_pt - 1, name
        assert drawn.x1 * 72 <= x1 - margin_pt + 1 and drawn.y1 * 72 <= y1 - margin_pt + 1, name
    # the summary's tables stay above its footer (Monaco's district table ran into it)
    fig = figures["summary"]
    renderer = _extents(fig)
    (footer,) = [t for t in fig.texts if t.get_gid() == "cg-footer"]
    top = footer.get_window_extent(renderer).y1
    for ax in fig.axes:
        for table in ax.tables:
            assert table.get_window_extent(renderer).y0 >= top, ax.get_title()


def test_png_is_cropped_tight(helsinki, tmp_path):
    png = save_png(cohesion_figure(helsinki.districts), tmp_path / "c.png", dpi=40)
    pixels = np.asarray(Image.open(png).convert("L"))
    assert (pixels > 250).mean() < 0.5  # the map fills the picture, not white margins


def test_summary_figure_is_one_page(helsinki, tmp_path):
    out = summary_figure(
        helsinki.districts,
        helsinki.sites,
        tmp_path / "summary.pdf",
        approaches=helsinki.approaches,
        buildings=helsinki.buildings,
    )
    data = out.read_bytes()
    assert data[:5] == b"%PDF-" and data.count(b"/Type /Page\n") + data.count(b"/Type /Page ") == 1


def test_bad_suffix_is_refused(helsinki, tmp_path):
    fig = cohesion_figure(helsinki.districts)
    with pytest.raises(ParameterError, match=r"\.png"):
        save_png(fig, tmp_path / "x.jpg")
    with pytest.raises(ParameterError, match=r"\.png or \.pdf"):
        summary_figure(helsinki.districts, helsinki.sites, tmp_path / "x.svg")


def test_cohesion_figure_names_every_district(helsinki):
    fig = cohesion_figure(helsinki.districts)
    texts = {t.get_text() for ax in fig.axes for t in ax.texts}
    for name in helsinki.districts["name"]:
        if name == EVIL:  # wider than its 290 m square at 9 pt: left out rather than overlap
            continue
        assert any(t.startswith(str(name)) and "score" in t for t in texts), name


@pytest.fixture
def saved(monkeypatch) -> dict:
    """The last figure ``static`` saves, under ``"fig"`` (the real writer still runs)."""
    seen: dict = {}
    original = static._save

    def keep(fig, path, *, dpi):
        seen["fig"] = fig
        return original(fig, path, dpi=dpi)

    monkeypatch.setattr(static, "_save", keep)
    return seen


def _extents(fig):
    renderer = FigureCanvasAgg(fig).get_renderer()
    fig.draw(renderer)
    return renderer


def test_table_cells_wrap_to_their_column_never_cut(tmp_path):
    """Long names and ratings wrap inside their cell at 150 dpi; a header is never split."""
    fig = Figure(figsize=(11.7, 8.3), dpi=150, layout="constrained")
    grid = fig.add_gridspec(2, 2)
    long_name = "Aleksanterinkatu and 12 more, Kaisaniemen kasvitieteellinen puutarha"
    rating = plain_rating("ISO 22343-1: V/7200[N2A]/>80/90: design speed 112 km/h", code=False)
    draw_table(
        fig.add_subplot(grid[1, 1]), "Sites to protect first",
        ("Priority", "Site", "People", "Barrier rating needed"),
        [["1", long_name, "16,293", rating], ["2", "Rautatientori", "4,767", rating]],
        widths=(0.07, 0.33, 0.1, 0.5),
    )  # fmt: skip
    renderer = _extents(fig)
    (table,) = fig.axes[0].tables
    cells = table.get_celld()
    assert cells[0, 0].get_text().get_text() == "Priority"  # whole, on one line
    assert "Aleksanterinkatu" in cells[1, 1].get_text().get_text()
    assert " ".join(cells[1, 1].get_text().get_text().split()) == long_name  # every word kept
    for cell in cells.values():
        box, text = cell.get_window_extent(renderer), cell.get_text().get_window_extent(renderer)
        assert box.x0 <= text.x0 and text.x1 <= box.x1, cell.get_text().get_text()


def test_table_rows_hold_their_lines(tmp_path):
    """Five long ratings in the summary's table panel: every cell's text inside its cell."""
    fig = Figure(figsize=(11.7, 8.3), dpi=150, layout="constrained")
    fig.suptitle("Contact spaces and crowded-site protection: Helsinki", fontsize=14)
    grid = fig.add_gridspec(2, 2, height_ratios=[3, 2])  # the summary's layout
    for panel in (grid[0, 0], grid[0, 1], grid[1, 0]):
        fig.add_subplot(panel).set_title("Cohesion score by district (0–100)")
    slow = plain_rating("ISO 22343-1: V/7200[N2A]/>80/90: design speed 112 km/h", code=False)
    both = f"{plain_rating('ISO 22343-1: V/3500[N1]/>80/90', code=False)}; " + plain_rating(
        "ISO 22343-1: V/3500[N1]/48/90:5.0", code=False
    )
    rows = [[str(k), "Helsingin päärautatieasema and Helsinki", "12,844", slow] for k in (1, 2)]
    draw_table(
        fig.add_subplot(grid[1, 1]), "Sites to protect first",
        ("Priority", "Site", "People", "Barrier rating needed"),
        [*rows, *rows, ["5", "Helsingin tuomiokirkko and 2 more", "3,949", both]],
        widths=(0.08, 0.34, 0.1, 0.48),
    )  # fmt: skip
    renderer = _extents(fig)
    (table,) = fig.axes[-1].tables
    for cell in table.get_celld().values():
        box, text = cell.get_window_extent(renderer), cell.get_text().get_window_extent(renderer)
        assert box.y0 <= text.y0 and text.y1 <= box.y1, cell.get_text().get_text()


def test_summary_explains_risk_and_names_districts(helsinki, tmp_path, saved):
    summary_figure(helsinki.districts, helsinki.sites, tmp_path / "s.png", dpi=50,
                   approaches=helsinki.approaches)  # fmt: skip
    fig = saved["fig"]
    renderer = _extents(fig)
    legends = [a for ax in fig.axes for a in ax.get_children() if isinstance(a, Legend)]
    risk = next(lg for lg in legends if lg.get_title().get_text().startswith("Site risk"))
    assert any("Risk = people" in t.get_text() for t in risk.get_texts())
    # legends beside the maps stay on the page (the tight crop keeps them whole)
    page = fig.get_tightbbox(renderer).transformed(fig.dpi_scale_trans)
    for legend in legends:
        box = legend.get_window_extent(renderer)
        assert page.x0 - 1 <= box.x0 and box.x1 <= page.x1 + 1, legend.get_title().get_text()
    names = [t for t in fig.axes[0].texts if "score" in t.get_text() or t.get_text() in
             set(helsinki.districts["name"])]  # fmt: skip
    assert len(names) >= len(helsinki.districts) // 2  # names on the map, not only the table
    boxes = [t.get_window_extent(renderer) for t in names]
    for i, a in enumerate(boxes):
        assert not any(a.overlaps(b) for b in boxes[i + 1 :])  # none over another


def test_scenario_figure_draws_a_barrier_line_apart_from_fast_routes(helsinki, scenario_districts):
    changes = gpd.GeoDataFrame(
        {"change": ["new barrier line"], "name": ["Line"], "detail": ["rated"]},
        geometry=[helsinki.drive.geometry.iloc[0]],
        crs=helsinki.districts.crs,
    )
    fig = scenario_figure(helsinki.districts, scenario_districts, interventions=changes)
    legend = next(
        a for a in fig.axes[0].get_children()
        if isinstance(a, Legend) and a.get_title().get_text() == "Intervention"
    )  # fmt: skip
    (handle,) = legend.legend_handles
    assert handle.get_color() == "#000000" != SPEED_BANDS_KMH.colours[-1]
    assert handle.get_linestyle() == "--"  # dashed, unlike any approach route
    assert any(isinstance(e, patheffects.Stroke) for e in handle.get_path_effects())  # halo


def test_figures_say_place_and_dates_and_explain_their_dots(helsinki):
    # cohesion_map.pdf had no place, no OSM date, no run date, and unexplained black dots
    fig = cohesion_figure(helsinki.districts, spaces=helsinki.spaces, place="helsinki",
                          data_date="2019-04-21T10:00:00Z")  # fmt: skip
    ax = fig.axes[0]
    assert ax.get_title() == "Contact spaces and cohesion by district: Helsinki"
    footer = " ".join(t.get_text() for t in fig.texts)
    assert "Helsinki · OpenStreetMap data of 2019-04-21" in footer and "cohesion_gis" in footer
    labels = [t.get_text() for a in ax.get_children() if isinstance(a, Legend)
              for t in a.get_texts()]  # fmt: skip
    assert any(t.startswith("contact space") for t in labels)
    sites = sites_figure(helsinki.sites, helsinki.approaches, place="helsinki",
                         data_date="2019-04-21")  # fmt: skip
    assert sites.axes[0].get_title().endswith(": Helsinki")
    assert any("OpenStreetMap data of 2019-04-21" in t.get_text() for t in sites.texts)


def test_summary_priority_numbers_never_cover_each_other(helsinki, tmp_path, saved):
    # Monaco's summary printed "3", "38" and "40" on top of each other; its ratings ran over
    # their cells (now short, with the footer saying what "none at the site's edge" means)
    centre = helsinki.sites.geometry.iloc[0].centroid
    crowded = helsinki.sites.assign(
        geometry=[
            centre.buffer(5).exterior.interpolate(k * 3.0) for k in range(len(helsinki.sites))
        ],
        required_rating="ISO 22343-1: V/7200[N2A]/>80/90: design speed 112 km/h",
    )
    summary_figure(helsinki.districts, crowded, tmp_path / "s.png", dpi=50)
    fig = saved["fig"]
    renderer = _extents(fig)
    ranks = [t for t in fig.axes[1].texts if t.get_text().isdigit()]
    assert ranks and ranks[0].get_text() == "1"
    boxes = [t.get_window_extent(renderer) for t in ranks]
    assert not any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1 :])
    (table,) = fig.axes[3].tables
    assert table.get_celld()[1, 3].get_text().get_text().replace("\n", " ") == (
        "none at the site's edge: 7.2 t lorry (N2A) above 80 km/h"
    )
    assert any("'none at the site's edge'" in t.get_text() for t in fig.texts)
