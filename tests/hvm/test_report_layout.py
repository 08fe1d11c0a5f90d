"""The one-page VDA PDF (hvm.report.vda_figure): no text block overprints another.

VDA review 2 item 3: on Senaatintori's page rows e4/e5 of the requirement table printed over
the disclaimer and the data-edge warning; on Stade Louis-II's (Monaco) the egress text, the
envelope table, the requirements and the caveats overlapped. Every text of the page is
measured here with the renderer (its window extent), pairwise and against the A4 margins.
"""

import dataclasses
import itertools
import re

import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg

from cohesion_gis.export import write_vda
from cohesion_gis.hvm.assess import HvmOptions, assess_sites
from cohesion_gis.hvm.barriers import level_changes
from cohesion_gis.hvm.report import APPROACHES_LAYER, egress_assessment, vda_figure
from cohesion_gis.maps.static import PAGE_MARGIN_MM

SENAATINTORI = "relation/2919121"


def _blocks(fig):
    """Every text of the page and the map (its axes with title, legend and scale bar), px."""
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    blocks = [(t.get_text(), t.get_window_extent(renderer)) for t in fig.texts if t.get_text()]
    blocks += [("map", ax.get_tightbbox(renderer)) for ax in fig.axes]
    return blocks


def _check_layout(fig):
    """Pairs of blocks that overlap and blocks outside the margins (both empty on a good page)."""
    blocks = _blocks(fig)
    overlaps = [
        (a[:40], b[:40])
        for (a, box_a), (b, box_b) in itertools.combinations(blocks, 2)
        if box_a.overlaps(box_b)
    ]
    margin = PAGE_MARGIN_MM / 25.4 * fig.dpi - 1.0  # 1 px of rounding
    width, height = fig.bbox.width, fig.bbox.height
    outside = [
        text[:40]
        for text, box in blocks
        if box.x0 < margin or box.y0 < margin or box.x1 > width - margin
        or box.y1 > height - margin
    ]  # fmt: skip
    return overlaps, outside


def _words(fig):
    return " ".join(t.get_text().replace("\n", " ") for t in fig.texts)


@pytest.fixture(scope="module")
def levels(helsinki):
    return level_changes(helsinki.barriers, helsinki.walk_edges, min_height_m=0.6)


def test_senaatintori_page_is_one_a4_page_with_no_text_overprinted(
    helsinki, helsinki_assessment, levels, tmp_path
):
    fig = vda_figure(helsinki_assessment, SENAATINTORI, buildings=helsinki.buildings,
                     streets=helsinki.drive_edges, levels=levels,
                     friction=helsinki_assessment)  # fmt: skip
    assert tuple(round(v * 25.4) for v in fig.get_size_inches()) == (297, 210)  # A4 landscape
    overlaps, outside = _check_layout(fig)
    assert overlaps == [] and outside == []
    words = _words(fig)
    # the disclaimer and the data-edge warning are set whole, as their own blocks
    assert "Not a vehicle dynamics assessment by a suitably qualified practitioner" in words
    assert "Data edge 4 m away" in words and "Requirement per entry and class" in words
    # one number and one wording for what the map draws and the table lists
    rows = helsinki_assessment.approaches
    arrived = rows.loc[(rows["site_id"] == SENAATINTORI) & (rows["impact_speed_kmh"] > 0)]
    title = fig.axes[0].get_title()
    assert f"fastest of {len(arrived)} arrivals (entry × class)" in title
    shown = int(title.split()[1])
    assert f"… {len(arrived) - shown} more in {APPROACHES_LAYER}" in words
    assert "of the arrivals the map draws" in words and shown >= 4
    assert "upper bound" not in words  # the worst normal impact says what it is the worst of
    assert "of the modelled street approaches and over-run legs" in words
    pdf = write_vda(helsinki_assessment, SENAATINTORI, tmp_path / "vda.pdf",
                    buildings=helsinki.buildings)  # fmt: skip
    boxes = re.findall(rb"/MediaBox \[ 0 0 ([0-9.]+) ([0-9.]+) \]", pdf.read_bytes())
    assert [(round(float(w)), round(float(h))) for w, h in boxes] == [(842, 595)]  # one A4 page


def test_a_page_with_many_entries_truncates_its_tables_without_overprinting(
    helsinki, helsinki_assessment
):
    # five times Senaatintori's arrivals, each copy its own entries: the tables keep the rows
    # that fit and say where the rest are
    rows = helsinki_assessment.approaches
    mine = rows.loc[rows["site_id"] == SENAATINTORI]
    copies = [mine.assign(entry_id=mine["entry_id"].astype(str) + f"{k}") for k in range(1, 5)]
    many = dataclasses.replace(
        helsinki_assessment, approaches=pd.concat([rows, *copies], ignore_index=True)
    )
    fig = vda_figure(many, SENAATINTORI, buildings=helsinki.buildings)
    overlaps, outside = _check_layout(fig)
    assert overlaps == [] and outside == []
    words = _words(fig)
    assert f"more in {APPROACHES_LAYER}" in words
    assert "Not a vehicle dynamics assessment by a suitably qualified practitioner" in words


def test_stade_louis_ii_page_with_its_egress_zone_is_not_overprinted(monaco):
    # the worst case of review 2: a stadium (egress note and the egress zone's assessment),
    # every class, the μ band's text (the same assessment stands in for the μ 1.0 run)
    result = assess_sites(monaco)
    sid = result.sites.loc[result.sites["name"] == "Stade Louis-II", "site_id"].iloc[0]
    zone = egress_assessment(monaco, result, sid, HvmOptions())
    fig = vda_figure(result, sid, buildings=monaco.buildings, streets=monaco.drive_edges,
                     egress=zone, friction=result)  # fmt: skip
    overlaps, outside = _check_layout(fig)
    assert overlaps == [] and outside == []
    words = _words(fig)
    assert "Egress zone assessed as a crowd area" in words and "Egress: about" in words
    assert "Not a vehicle dynamics assessment by a suitably qualified practitioner" in words
