import itertools
import math

import numpy as np
import pytest

from cohesion_gis.maps._layers import geojson_layer, to_wgs84
from cohesion_gis.maps._style import (
    MAX_SCORE_CLASSES,
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
    score_classes,
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
    [(0, 0), (31.9, 0), (32, 1), (47.99, 1), (48, 2), (64, 3), (79.9, 3), (80, 4), (151, 4)],
)
def test_speed_bands_follow_crash_test_speeds(speed, band):
    assert SPEED_BANDS_KMH.colour(speed) == SPEED_BANDS_KMH.colours[band]


#: The six district scores of `cohesion-gis demo` (embedded Helsinki, 3 Dec 2026,
#: cohesion_districts.csv): on fixed 20-point classes five of them shared one colour.
HELSINKI_SCORES = {
    "Kluuvi": 74.757, "Kruununhaka": 69.514, "Punavuori": 67.71,
    "Kaartinkaupunki": 66.431, "Kamppi": 60.337, "Kallio": 59.031,
}  # fmt: skip


def _class_of(scale, value):
    return scale.colours.index(scale.colour(value))


def test_score_classes_tell_helsinki_districts_apart():
    scale = score_classes(HELSINKI_SCORES.values())
    assert len(scale.colours) == 4  # Sturges: ceil(log2 6) + 1
    classes = {name: _class_of(scale, v) for name, v in HELSINKI_SCORES.items()}
    assert len(set(classes.values())) == 4  # was 2 with 0-20-40-60-80-100
    assert classes["Kallio"] == classes["Kamppi"] == 0 and classes["Kluuvi"] == 3
    # the legend spans the data's range as written on the map, and says how it was made
    assert scale.labels[0].startswith("59") and scale.labels[-1].endswith("75")
    assert "natural breaks" in scale.note and "6 district scores" in scale.note
    assert scale.colour(math.nan) == "#bdbdbd"


def test_score_class_labels_agree_with_the_rounded_scores_written_on_the_map():
    scale = score_classes([59.031, 60.337, 66.431, 67.71, 69.514, 74.757])
    for value in np.arange(58.6, 75.4, 0.05):
        low, _, high = scale.labels[_class_of(scale, value)].partition(" – ")
        assert int(low) <= round(value) <= int(high or low), (value, scale.labels)


@pytest.mark.parametrize("n", [1, 2, 3, 4, 6, 8, 9, 16, 17, 60])
def test_fewer_classes_for_few_districts(n):
    values = np.random.default_rng(n).uniform(10, 90, n)
    distinct = len(np.unique(np.round(values)))
    expected = min(MAX_SCORE_CLASSES, distinct, math.ceil(math.log2(n)) + 1 if n > 1 else 1)
    scale = score_classes(values)
    assert len(scale.colours) == expected
    assert scale.breaks[0] < values.min() and scale.breaks[-1] > values.max()


@pytest.mark.parametrize("seed", range(6))
def test_natural_breaks_are_the_least_squares_grouping(seed):
    """Fisher's classes beat every other grouping of the sorted values into as many runs."""
    rng = np.random.default_rng(seed)
    values = np.round(rng.uniform(20, 40, 9) if seed % 2 else rng.uniform(30, 95, 9))
    scale = score_classes(values)
    k = len(scale.colours)
    found = [_class_of(scale, v) for v in values]

    def ssd(groups):
        return sum(float(((g - g.mean()) ** 2).sum()) for g in groups if len(g))

    best = ssd([values[np.array(found) == c] for c in range(k)])
    u = np.unique(values)
    for cuts in itertools.combinations(range(1, len(u)), k - 1):
        edges = [u[0] - 1, *(u[c] - 0.5 for c in cuts), u[-1] + 1]
        groups = [values[(values > a) & (values < b)] for a, b in itertools.pairwise(edges)]
        assert best <= ssd(groups) + 1e-9
    assert scale == score_classes(values[::-1])  # deterministic, whatever the order


def test_class_limits_are_round_numbers():
    scale = score_classes([12.2, 13.9, 31.0, 33.4, 38.2, 71.0, 77.7, 79.9])
    # 8 values, 4 classes; the limit between 14 and 31 is 20, between 38 and 71 is 50 and
    # between 71 and 78 is 75: the roundest number in each gap
    assert scale.labels == ("12 – 19", "20 – 49", "50 – 74", "75 – 80")
    single = score_classes([64.2, 63.8])
    assert single.labels == ("64",) and single.note.startswith("One class")


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


def test_score_classes_and_speed_bands_stay_apart_under_colour_blindness():
    """Neighbouring classes differ by 10 or more CIEDE2000 under normal, deutan, protan vision."""
    from cohesion_gis.maps._style import YLGNBU_CLASSES

    for k, colours in YLGNBU_CLASSES.items():
        if k > 1:
            assert smallest_difference(list(colours))[0] >= 10, k  # 10.2 at 4 and 5 classes
    # five blues now (a 64-80 km/h band): the closest two 9.8 apart under deuteranopia
    assert smallest_difference(list(SPEED_BANDS_KMH.colours))[0] >= 9.5
