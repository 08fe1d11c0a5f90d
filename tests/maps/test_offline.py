import re

import branca
import folium
import pytest
from folium import plugins

from cohesion_gis.errors import InputError
from cohesion_gis.maps.offline import (
    _Asset,
    _package_dir,
    _script,
    inline_html,
    notebook_view,
    save_offline,
)

LOC = [60.17, 24.94]


def _map() -> folium.Map:
    m = folium.Map(location=LOC, zoom_start=15, tiles=None)
    folium.Marker(LOC, popup="Library").add_to(m)
    folium.CircleMarker(LOC, radius=5).add_to(m)
    folium.LayerControl().add_to(m)
    return m


def _remote_refs(page: str) -> list[str]:
    return re.findall(r'<(?:script|link|img)\b[^>]*(?:src|href)="(?:https?:)?//[^"]+"', page)


def test_save_offline_inlines_leaflet_and_jquery(tmp_path):
    out = save_offline(_map(), tmp_path / "map.html")
    page = out.read_text(encoding="utf-8")
    assert _remote_refs(page) == []
    assert "<script src=" not in page and 'rel="stylesheet"' not in page
    assert "L.version" in page or 'version="1.9.3"' in page  # leaflet itself
    assert "jQuery" in page
    # the marker images come as data: URIs, for the CSS and for the default icon
    assert 'iconUrl:"data:image/png;base64,' in page
    assert 'url("data:image/png;base64,' in page
    assert 200_000 < len(page) < 350_000  # lean: leaflet + jquery, no bootstrap or fonts
    assert list(tmp_path.iterdir()) == [out]  # no temporary file left behind


def test_save_offline_replaces_an_existing_file(tmp_path):
    target = tmp_path / "map.html"
    target.write_text("old")
    save_offline(_map(), target)
    assert target.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_full_mode_adds_font_awesome_fonts():
    lean = inline_html(_map().get_root().render())
    full = inline_html(_map().get_root().render(), lean=False)
    assert "font/woff2;base64" in full and "font/woff2" not in lean
    assert len(full) > len(lean) + 500_000


def test_branca_colour_legend_gets_d3():
    m = _map()
    branca.colormap.linear.YlGnBu_09.scale(0, 1).add_to(m)
    page = inline_html(m.get_root().render())
    assert "d3.min.js" not in page and _remote_refs(page) == []
    assert "d3 = {" in page or "d3={" in page or "var d3" in page


def test_dual_map_gets_the_sync_shim():
    page = inline_html(plugins.DualMap(location=LOC, tiles=None).get_root().render())
    assert "L.Map.include({" in page and "_syncTargets" in page
    assert _remote_refs(page) == []


def test_remote_tiles_are_refused_unless_allowed():
    page = folium.Map(location=LOC).get_root().render()
    with pytest.raises(InputError, match=r"remote tile layer .*allow_remote_tiles=True"):
        inline_html(page)
    assert "tile.openstreetmap.org" in inline_html(page, allow_remote_tiles=True)


def test_unknown_cdn_url_fails_loudly():
    page = (
        _map()
        .get_root()
        .render()
        .replace(
            "</head>", '<script src="https://cdn.example.org/new-plugin@9.js"></script></head>'
        )
    )
    with pytest.raises(InputError, match=r"new-plugin@9\.js.*cannot inline"):
        inline_html(page)


def test_remote_stylesheet_url_left_in_the_page_fails():
    page = _map().get_root().render()
    page = page.replace(
        "</head>", "<style>.x{background:url(https://e.example/a.png)}</style></head>"
    )
    with pytest.raises(InputError, match=r"remote resource: url\(https:"):
        inline_html(page)


def test_awesome_markers_have_no_package_and_fail():
    m = folium.Map(location=LOC, tiles=None)
    folium.Marker(LOC, icon=folium.Icon(icon="info-sign")).add_to(m)
    with pytest.raises(InputError, match="CircleMarker"):
        inline_html(m.get_root().render())


def test_missing_xstatic_package_names_the_install_command():
    with pytest.raises(ImportError, match="pip install xstatic-nothing-here"):
        _package_dir(_Asset("nothing_here", "x.js", "xstatic-nothing-here"))


def test_inlined_code_cannot_close_its_script_tag():
    assert _script('var s = "</script><b>";') == '<script>var s = "<\\/script><b>";</script>'
    assert _script("</SCRIPT>").count("</script>") == 1


def test_notebook_view_is_an_offline_iframe():
    view = notebook_view(_map(), height_px=400)
    shown = view._repr_html_()
    assert shown.startswith('<iframe srcdoc="&lt;!DOCTYPE html&gt;')
    assert "height:400px" in shown
    assert _remote_refs(view.html) == []
