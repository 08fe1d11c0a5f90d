import geopandas as gpd
import numpy as np
import pytest
from matplotlib.legend import Legend
from PIL import Image

from cohesion_gis.errors import ParameterError
from cohesion_gis.maps.static import (
    cohesion_figure,
    save_pdf,
    save_png,
    scenario_figure,
    sites_figure,
    summary_figure,
)


def test_static_maps_write_png_and_pdf(helsinki, scenario_districts, tmp_path):
    png = save_png(
        cohesion_figure(helsinki.districts, streets=helsinki.streets, spaces=helsinki.spaces),
        tmp_path / "cohesion.png",
        dpi=60,
    )
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    pdf = save_pdf(sites_figure(helsinki.sites, helsinki.approaches), tmp_path / "sites.pdf")
    assert pdf.read_bytes()[:5] == b"%PDF-"
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
    assert fig.get_suptitle() == "Scenario: A new park by the library"
    assert [ax.get_title() for ax in fig.axes] == [
        "Today: cohesion score",
        "Change in score with the scenario",
    ]
    texts = [t.get_text() for ax in fig.axes for t in ax.texts]
    assert "N" in texts and any(t.endswith(" m") or t.endswith(" km") for t in texts)  # scale bar
    legends = [a for ax in fig.axes for a in ax.get_children() if isinstance(a, Legend)]
    titles = {legend.get_title().get_text() for legend in legends}
    assert "Intervention" in titles and "Change in score (scenario − base, points)" in titles
    for legend in legends:  # beside the map, never over it
        assert legend.get_bbox_to_anchor().x0 >= legend.axes.get_window_extent().x1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cohesion.png", "sites.pdf"]


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
        assert any(t.startswith(str(name)) and "score" in t for t in texts), name
