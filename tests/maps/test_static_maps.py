import pytest

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
    fig = scenario_figure(helsinki.districts, scenario_districts, scenario_name="New park")
    assert [ax.get_title() for ax in fig.axes[:3]] == [
        "Base: cohesion score",
        "New park: cohesion score",
        "Change in score (New park − base)",
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cohesion.png", "sites.pdf"]


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
