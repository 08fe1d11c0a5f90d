import itertools
import math

import numpy as np
import pytest

from cohesion_gis.maps._layers import geojson_layer, to_wgs84
from cohesion_gis.maps._style import (
    SCORE_SCALE,
    SPACE_TYPE_COLOURS,
    SPACE_TYPE_RINGS,
    SPEED_BANDS_KMH,
    ColourScale,
    MapScript,
    category_colours,
    check_inert,
    delta_scale,
    escape_text,
    format_number,
    legend_html,
    popup_html,
)
from cohesion_gis.maps.colour_vision import (
    delta_e,
    delta_e_lab,
    hex_to_rgb,
    simulate,
    smallest_difference,
)
from cohesion_gis.taxonomy import load_taxonomy


def test_escape_text_neutralises_html_and_template_literals():
    assert escape_text("<script>alert(1)</script>") == "&lt;script&gt;alert(1)&lt;/script&gt;"
    assert escape_text("${alert(1)}`") == "&#36;&#123;alert(1)&#125;&#96;"
    assert escape_text('a"b&c') == "a&quot;b&amp;c"
    assert escape_text(None) == "no data"
    assert escape_text(float("nan")) == "no data"


def test_escape_text_leaves_no_jinja_delimiter_and_no_control_character():
    assert escape_text("{{7*7}} {% x %} {# c #} 5%") == (
        "&#123;&#123;7*7&#125;&#125; &#123;&#37; x &#37;&#125; &#123;# c #&#125; 5&#37;"
    )
    assert escape_text("a\x00b\u202ec\u2066d\te") == "a\ufffdb\ufffdc\ufffdd\te"
    assert escape_text("C:\\x") == "C:&#92;x"
    assert check_inert(escape_text("{{ x }}"), where="t") == "&#123;&#123; x &#125;&#125;"
    with pytest.raises(ValueError, match=r"layer: unescaped text reached a map"):
        check_inert("<b>{{ x }}</b>", where="layer")


def test_unescaped_text_is_refused_before_folium_renders_it(helsinki):
    wgs = to_wgs84(helsinki.districts, tolerance_m=0)
    with pytest.raises(ValueError, match=r"Districts: tooltip: unescaped text"):
        geojson_layer(wgs, name="Districts", styles={}, tooltips=["{{7*7}}"] * len(wgs))
    with pytest.raises(ValueError, match=r"MapScript: unescaped text"):
        MapScript("d.innerHTML = '{% raw %}';")
    layer = geojson_layer(wgs, name="<b>{{7*7}}</b>", styles={})
    assert layer.layer_name == "&lt;b&gt;&#123;&#123;7*7&#125;&#125;&lt;/b&gt;"


def test_format_number():
    assert format_number(12345.6, unit="m²") == "12,346 m²"
    assert format_number(0.624, digits=2) == "0.62"
    assert format_number(None, unit="km/h") == "no data"


def test_popup_escapes_labels_values_and_title():
    out = popup_html("<b>x</b>", {"<i>Label</i>": "<img src=x onerror=alert(1)>"})
    assert "<b>" not in out and "<img" not in out and "<i>" not in out
    assert "&lt;img src=x onerror=alert(1)&gt;" in out
    assert out.count("<tr>") == 1


@pytest.mark.parametrize(
    ("speed", "band"),
    [(0, 0), (31.9, 0), (32, 1), (47.99, 1), (48, 2), (64, 3), (112, 3)],
)
def test_speed_bands_follow_crash_test_speeds(speed, band):
    assert SPEED_BANDS_KMH.colour(speed) == SPEED_BANDS_KMH.colours[band]


def test_score_scale_classes_and_no_data():
    assert SCORE_SCALE.colour(19.9) == SCORE_SCALE.colours[0]
    assert SCORE_SCALE.colour(20) == SCORE_SCALE.colours[1]
    assert SCORE_SCALE.colour(100) == SCORE_SCALE.colours[-1]
    assert SCORE_SCALE.colour(math.nan) == "#bdbdbd"
    assert SCORE_SCALE.items()[0] == (SCORE_SCALE.colours[0], "0 – 20")


def test_delta_scale_is_symmetric_round_and_has_no_change():
    scale = delta_scale(12)
    assert scale.breaks == (-15, -10, -5, -0.05, 0.05, 5, 10, 15)  # round class limits
    assert scale.colour(-6) == scale.colours[1]  # a loss is red
    assert scale.colour(0.0) == scale.colour(0.04) == scale.colours[3] == "#f0f0f0"
    assert scale.labels[3] == "no change (under 0.05 points)"
    assert scale.colour(0.5) == scale.colours[4]  # a small gain is light blue
    assert scale.colour(30) == scale.colours[-1]
    # a tiny change still gets readable limits, never "-3.75147 to -2.50098"
    assert delta_scale(0.0123).labels[0] == "lost 0.2 – 0.3 points"
    assert delta_scale(3.75147).breaks[:3] == (-6, -4, -2)


def test_colour_scale_rejects_bad_shapes():
    with pytest.raises(ValueError, match="one more break than colours"):
        ColourScale("x", (0, 1), ("#000", "#fff"))
    with pytest.raises(ValueError, match="not increasing"):
        ColourScale("x", (1, 0), ("#000",))


def test_category_colours_are_stable_and_distinct():
    colours = category_colours(["park", "library", "park", "cafe"])
    assert list(colours) == ["cafe", "library", "park"]
    assert len(set(colours.values())) == 3
    assert category_colours(["park", "library", "cafe"]) == colours


def test_legend_html_escapes_and_lists_every_item():
    out = legend_html("<Title>", [("#fff", "<a>"), ("#000", "b")], shape="line")
    assert "&lt;Title&gt;" in out and "&lt;a&gt;" in out
    assert out.count("cg-swatch") == 2


def test_contact_space_colours_stay_apart_under_colour_blindness():
    """Every packaged contact-space type has its own colour, apart under deuteranopia too."""
    types = {c.name for c in load_taxonomy().contact_spaces}
    assert types <= set(SPACE_TYPE_COLOURS)  # a fixed colour, the same on every map
    colours = category_colours(types)
    assert len(set(colours.values())) == len(types)
    worst, first, second, vision = smallest_difference(list(colours.values()))
    # CIEDE2000 under normal vision, deuteranopia and protanopia (Okabe-Ito's orange and
    # yellow, which library/market and sport/square had before, were 11.6 apart)
    assert worst > 15, (first, second, vision)
    home = smallest_difference([*colours.values(), "#444444"])  # the homes' dark grey
    assert home[0] > 15, home
    # two types closer than 20 under any vision differ in shape too (a ring and a dot)
    for a, b in itertools.combinations(sorted(types), 2):
        if smallest_difference([colours[a], colours[b]])[0] < 20:
            assert (a in SPACE_TYPE_RINGS) != (b in SPACE_TYPE_RINGS), (a, b)


def test_colour_vision_simulation_matches_machado_anddelta_e_lab():
    # Sharma et al. (2005), table 1, pairs 1 and 7: CIEDE2000 2.0425 and 1.2644 (CIELAB input)
    assert float(delta_e_lab(np.array([50, 2.6772, -79.7751]), np.array([50, 0, -82.7485]))) == (
        pytest.approx(2.0425, abs=1e-4)
    )
    assert float(
        delta_e_lab(np.array([60.2574, -34.0099, 36.2677]), np.array([60.4626, -34.1751, 39.4387]))
    ) == pytest.approx(1.2644, abs=1e-4)
    # red and green, far apart with normal vision, nearly alike to a deuteranope
    red, green = hex_to_rgb("#d62728"), hex_to_rgb("#2ca02c")
    assert float(delta_e(red, green)) > 50
    seen = simulate(np.stack([red, green]), "deuteranopia")
    assert float(delta_e(seen[0], seen[1])) < 15
    assert simulate(red, "normal").tolist() == red.tolist()
    with pytest.raises(ValueError, match="vision must be one of"):
        simulate(red, "achromatopsia")  # type: ignore[arg-type]
