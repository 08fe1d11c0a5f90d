"""The one-page VDA of a site (hvm.report) on the embedded Helsinki data."""

import pytest

from cohesion_gis.errors import InputError
from cohesion_gis.hvm.assess import assess_sites
from cohesion_gis.hvm.report import vda_html, write_vda


@pytest.fixture(scope="module")
def result(helsinki):
    return assess_sites(helsinki)


def test_senaatintori_page_shows_envelope_requirement_and_caveats(result, tmp_path):
    sid = result.sites.loc[result.sites["name"] == "Senaatintori", "site_id"].iloc[0]
    page = vda_html(result, sid)
    assert page.count("<polyline") >= 1 and "<polygon" in page  # routes and crowd drawn
    assert "≥ 151" in page  # horizon-limited speeds read as lower bounds
    assert "V/1500[M1]/80/45" in page  # the oblique requirement of the Unioninkatu runs
    assert "V/7200[N2A]/64/90" in page  # the governing one, in the headline
    assert "Martyn's Law tier <b>none</b>" in page and "possible qualifying event" in page
    assert "UK-law proxy" in page and "suitably qualified practitioner" in page
    path = write_vda(result, sid, tmp_path / "vda.html")
    assert path.read_text(encoding="utf-8").startswith("<!doctype html>")
    with pytest.raises(InputError, match="exists"):
        write_vda(result, sid, path)
    with pytest.raises(InputError, match="not in the assessment"):
        vda_html(result, "way/0")
