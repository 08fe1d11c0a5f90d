"""Shared look of cohesion_gis maps: escaped popups, colour scales, legends, titles, attribution.

Every text that reaches a map goes through :func:`escape_text`: names, titles, layer names,
tooltips, popups and legends. OSM names, district names and scenario names are written by
strangers and can hold anything: ``<script>``, or ``{{ ... }}``, which folium and branca would
evaluate, because they render each element's output a second time as a Jinja template with no
sandbox. Popups are built from ``{plain-language label: value with unit}`` so no raw column name
reaches a councillor. Legends and titles are plain HTML inside a Leaflet control: no external
JavaScript (branca's colour legends would need d3).
"""

from __future__ import annotations

import functools
import html
import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

import folium
import numpy as np
from branca.element import Element, MacroElement
from folium.template import Template

from cohesion_gis._text import clean_text

if TYPE_CHECKING:
    from branca.element import Figure

__all__ = [
    "COMPONENT_SCALE",
    "MAX_SCORE_CLASSES",
    "OKABE_ITO",
    "OSM_ATTRIBUTION",
    "RISK_MEANING",
    "RISK_SCALE",
    "SCORE_TITLE",
    "SEVERANCE_SCALE",
    "SHORT_RATING_NOTE",
    "SPACE_TYPE_COLOURS",
    "SPACE_TYPE_RINGS",
    "SPEED_BANDS_KMH",
    "STOPPED_COLOUR",
    "WORST_CASE",
    "WORST_CASE_SHORT",
    "ColourScale",
    "MapScript",
    "add_attribution",
    "add_labels",
    "add_legend",
    "add_title",
    "category_colours",
    "change_text",
    "check_inert",
    "delta_scale",
    "escape_text",
    "fit_view",
    "format_number",
    "header_lines",
    "js_literal",
    "legend_html",
    "place_name",
    "plain_rating",
    "plain_text",
    "point_style",
    "popup_html",
    "ring_style",
    "score_classes",
]

OSM_ATTRIBUTION = (
    '© <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors'
)
NO_DATA = "no data"
NO_DATA_COLOUR = "#bdbdbd"


# Jinja delimiters ({{ }}, {% %}, {# #}) and what is special in a JavaScript template literal
# (` ${ } and the backslash: "\x" without hex digits is a syntax error that blanks the page).
_ENTITIES = str.maketrans(
    {"{": "&#123;", "}": "&#125;", "%": "&#37;", "`": "&#96;", "$": "&#36;", "\\": "&#92;"}
)
_TEMPLATE_SYNTAX = re.compile(r"\{[{%#]")


def plain_text(value: object) -> str:
    r"""Return ``value`` as display text: None/NaN as ``"no data"``, control characters as ``�``.

    Used by every map and figure before its own escaping (:func:`escape_text` for HTML,
    ``static._mpl_text`` for matplotlib).

    Examples
    --------
    >>> plain_text("evil\u202egnp.exe")
    'evil�gnp.exe'
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return NO_DATA
    return clean_text(value)


def escape_text(value: object) -> str:
    r"""Escape a value for any text of a map: name, title, layer name, tooltip, popup, legend.

    HTML-escapes ``< > & " '`` and writes ``{ } %`` (Jinja's delimiters) and `` ` $ \`` (special
    in a JavaScript template literal) as HTML entities, so the text is inert as HTML, as a Jinja
    template (folium re-renders every element's output as one) and inside a template literal
    (folium builds ``folium.Popup`` and ``folium.Tooltip`` content in one). Leaflet shows the
    entities as the characters themselves. Control characters become ``�`` (:func:`plain_text`).

    Parameters
    ----------
    value
        Anything; ``None`` and NaN become ``"no data"``.

    Returns
    -------
    str
        Text safe to place in HTML, in a folium template and in JavaScript strings.

    Examples
    --------
    >>> escape_text("<script>alert(1)</script>")
    '&lt;script&gt;alert(1)&lt;/script&gt;'
    >>> escape_text("{{7*7}}")
    '&#123;&#123;7*7&#125;&#125;'
    """
    return _escaped(value if isinstance(value, str) else plain_text(value))


@functools.lru_cache(maxsize=2**16)
def _escaped(text: str) -> str:
    """:func:`escape_text` of a string, each distinct text escaped once.

    Popup labels and values repeat: Malta's two maps escape 147k texts.
    """
    return html.escape(plain_text(text), quote=True).translate(_ENTITIES)


def check_inert(text: str, *, where: str) -> str:
    """Return ``text`` if it holds no Jinja delimiter; raise if unescaped text reached a map.

    The last guard before folium's templates: map builders pass every text through
    :func:`escape_text`, so a delimiter here is a bug in cohesion_gis, refused rather than run.

    Raises
    ------
    ValueError
        ``text`` holds ``{{``, ``{%`` or ``{#``.
    """
    if _TEMPLATE_SYNTAX.search(text):
        raise ValueError(
            f"{where}: unescaped text reached a map ({text[:80]!r}); "
            "pass it through cohesion_gis.maps._style.escape_text"
        )
    return text


def format_number(value: object, *, digits: int = 0, unit: str = "") -> str:
    """Format a number for people: thousands separators, fixed digits, a unit after a space.

    Parameters
    ----------
    value
        A number; ``None`` or NaN give ``"no data"``.
    digits
        Digits after the decimal point.
    unit
        Unit text such as ``"km/h"`` or ``"m²"``; empty for none.

    Returns
    -------
    str
        For example ``"12,300 people"`` or ``"0.62"``.

    Examples
    --------
    >>> format_number(12345.6, unit="m²")
    '12,346 m²'
    >>> format_number(float("nan"))
    'no data'
    """
    if value is None:
        return NO_DATA
    number = float(value)  # type: ignore[arg-type]
    if math.isnan(number):
        return NO_DATA
    text = f"{number:,.{digits}f}"
    return f"{text} {unit}" if unit else text


def popup_html(title: object, rows: Mapping[str, object]) -> str:
    """Build a popup table from plain-language labels and values, all escaped.

    Parameters
    ----------
    title
        Heading, usually the feature's name (escaped).
    rows
        ``{label: value}``; values are already formatted with their unit and meaning, e.g.
        ``{"Access to contact spaces": "0.62 of the standard (1 = ...)"}``.

    Returns
    -------
    str
        An HTML fragment.

    Examples
    --------
    >>> popup_html("<b>", {"Speed": "48 km/h"})[:48]
    '<div class="cg-popup"><strong>&lt;b&gt;</strong>'
    """
    body = "".join(
        f"<tr><th>{escape_text(label)}</th><td>{escape_text(value)}</td></tr>"
        for label, value in rows.items()
    )
    return f'<div class="cg-popup"><strong>{escape_text(title)}</strong><table>{body}</table></div>'


@dataclass(frozen=True)
class ColourScale:
    """A classed colour scale; class ``i`` holds values in ``[breaks[i], breaks[i + 1])``.

    Values below the first break fall in the first class, values from the last break up in the
    last class; NaN gets a grey "no data" colour.

    Attributes
    ----------
    title
        Legend heading with the unit, e.g. ``"Cohesion score (0–100)"``.
    breaks
        Increasing class limits.
    colours
        One CSS colour per class.
    labels
        One legend label per class; empty to derive ``"a – b"`` labels from the breaks.
    note
        A line under the legend's classes (how they were chosen); empty for none.
    """

    title: str
    breaks: tuple[float, ...]
    colours: tuple[str, ...]
    labels: tuple[str, ...] = ()
    note: str = ""

    def __post_init__(self) -> None:
        if len(self.breaks) != len(self.colours) + 1:
            raise ValueError(
                f"ColourScale {self.title!r}: {len(self.breaks)} breaks for "
                f"{len(self.colours)} colours; expected one more break than colours"
            )
        if list(self.breaks) != sorted(self.breaks):
            raise ValueError(f"ColourScale {self.title!r}: breaks {self.breaks} are not increasing")
        if self.labels and len(self.labels) != len(self.colours):
            raise ValueError(
                f"ColourScale {self.title!r}: {len(self.labels)} labels for "
                f"{len(self.colours)} colours"
            )

    def colour(self, value: float | None) -> str:
        """Return the colour of the class holding ``value`` (grey for None/NaN)."""
        if value is None or math.isnan(value):
            return NO_DATA_COLOUR
        for upper, colour in zip(self.breaks[1:-1], self.colours, strict=False):
            if value < upper:
                return colour
        return self.colours[-1]

    def items(self) -> list[tuple[str, str]]:
        """Return ``(colour, label)`` pairs for a legend, lowest class first."""
        labels = self.labels or tuple(
            f"{_short(lo)} – {_short(hi)}"
            for lo, hi in zip(self.breaks[:-1], self.breaks[1:], strict=True)
        )
        return list(zip(self.colours, labels, strict=True))


def _short(value: float) -> str:
    return f"{value:g}"


# Sequential yellow-green-blue (ColorBrewer YlGnBu, 5 classes): higher is better.
_YLGNBU = ("#ffffcc", "#a1dab4", "#41b6c4", "#2c7fb8", "#253494")
# Sequential reds (ColorBrewer Reds, 5 classes): higher is worse.
_REDS = ("#fee5d9", "#fcae91", "#fb6a4a", "#de2d26", "#a50f15")
# Sequential oranges (ColorBrewer Oranges, 5 classes) for site risk: one hue, apart from the blue
# speed ramp of the routes under every colour-vision deficiency.
_ORANGES = ("#feedde", "#fdbe85", "#fd8d3c", "#e6550d", "#a63603")

#: ColorBrewer YlGnBu's own scheme for each number of classes (Brewer 2003; colour-blind safe):
#: a 3-class map takes the 3-class scheme, not three colours of the 5-class one.
YLGNBU_CLASSES = {
    1: ("#7fcdbb",),
    2: ("#edf8b1", "#2c7fb8"),
    3: ("#edf8b1", "#7fcdbb", "#2c7fb8"),
    4: ("#ffffcc", "#a1dab4", "#41b6c4", "#225ea8"),
    5: _YLGNBU,
}
#: Title of every score legend.
SCORE_TITLE = "Cohesion score (0–100, higher is better)"
#: Most classes a score map draws: five sequential classes stay apart on paper and under
#: colour-vision deficiency (Brewer 2003; ColorBrewer's YlGnBu is marked colour-blind safe).
MAX_SCORE_CLASSES = 5
COMPONENT_SCALE = ColourScale(
    "Share of the standard met (0–1, higher is better)", (0, 0.2, 0.4, 0.6, 0.8, 1.0), _YLGNBU
)
SEVERANCE_SCALE = ColourScale(
    "Access lost to barriers (0–1, higher is worse)", (0, 0.2, 0.4, 0.6, 0.8, 1.0), _REDS
)
#: Site risk = exposure × vulnerability × attractiveness, each 1–5 (cohesion_gis.hvm.assess).
RISK_SCALE = ColourScale("Site risk (1–125, higher is worse)", (0, 10, 25, 50, 75, 125.0), _ORANGES)
#: What the risk number is, said under every risk legend.
RISK_MEANING = (
    "Risk = people × how fast a vehicle can arrive × appeal as a target, each scored 1–5 "
    "(hvm.assess: exposure × vulnerability × attractiveness)"
)
#: Speed bands at the crash-test speeds 32/48/64/80 km/h (``test_speeds_kmh`` of
#: defaults/hvm.toml) in one hue (blues, darker = faster, lightness about 79, 60, 47, 34, 14), so
#: routes stay apart from the orange sites under every colour-vision deficiency. The top band
#: began at 64 km/h and held nearly every street of Helsinki's centre (M1 arrivals up to 151
#: km/h): it now begins at the fastest crash test, so it says what it means for a barrier.
SPEED_BANDS_KMH = ColourScale(
    "Vehicle speed on reaching the site",
    (0, 32, 48, 64, 80, math.inf),
    ("#9ecae1", "#4a98c9", "#2171b5", "#08519c", "#08214f"),
    ("below 32 km/h", "32 – 48 km/h", "48 – 64 km/h", "64 – 80 km/h",
     "above 80 km/h: faster than any crash test"),
)  # fmt: skip
#: Colour of an approach that a barrier or a closure stops.
STOPPED_COLOUR = "#7f7f7f"

# Diverging red-blue (ColorBrewer RdBu, 6 classes without a neutral middle class).
_RDBU = ("#b2182b", "#ef8a62", "#fddbc7", "#d1e5f0", "#67a9cf", "#2166ac")
# Okabe & Ito (2008) without black, ordered so that neighbours stay apart under deuteranopia and
# protanopia (dark blue, orange, light blue, vermillion, yellow, bluish green, reddish purple).
OKABE_ITO = ("#0072B2", "#E69F00", "#56B4E9", "#D55E00", "#F0E442", "#009E73", "#CC79A7")
#: A fixed colour per contact-space type of the packaged taxonomy, so a type keeps its colour on
#: every map. Eight colours of Paul Tol's schemes (Tol 2021, https://personal.sron.nl/~pault/:
#: vibrant, muted, light) chosen for the largest smallest CIEDE2000 difference between any two
#: under normal vision, deuteranopia and protanopia (Machado et al. 2009; 15.8 here, where
#: Okabe–Ito's orange and yellow are 11.6 apart under deuteranopia), all apart from the dark grey
#: of homes; ``maps.colour_vision`` measures it and ``tests/maps/test_map_style.py`` holds it.
SPACE_TYPE_COLOURS = {
    "library": "#0077BB",  # blue
    "market": "#EE3377",  # magenta
    "park": "#117733",  # green
    "playground": "#EEDD88",  # light yellow
    "sport": "#AAAA00",  # olive
    "square": "#332288",  # indigo
    "community_centre": "#009988",  # teal
    "youth_centre": "#33BBEE",  # cyan
}
#: Types drawn as rings (a thick coloured edge round a white centre) instead of dots: a second
#: cue, so that every two types closer than 20 CIEDE2000 under any of the three visions (playground
#: and sport, market and community centre, park, library) differ in shape as well as colour.
SPACE_TYPE_RINGS = frozenset({"library", "community_centre", "park", "sport"})
# for types of a user's own taxonomy: Okabe-Ito, then Tol muted, skipping the colours above
_QUALITATIVE = tuple(
    c
    for c in (*OKABE_ITO, "#88CCEE", "#CC6677", "#999933", "#882255", "#AA4499", "#DDCC77")
    if c not in SPACE_TYPE_COLOURS.values()
)


def point_style(
    colour: str, *, radius: float = 6, stroke: str = "#222222", weight: float = 1
) -> dict[str, object]:
    """Return the Leaflet style of a filled circle marker (``radius`` in screen pixels)."""
    return {
        "radius": radius,
        "fill": True,
        "fillColor": colour,
        "fillOpacity": 0.9,
        "color": stroke,
        "weight": weight,
    }


def ring_style(colour: str, *, radius: float = 5) -> dict[str, object]:
    """Return the Leaflet style of a ring marker: a thick ``colour`` edge round a white centre."""
    return {
        "radius": radius,
        "fill": True,
        "fillColor": "#ffffff",
        "fillOpacity": 0.95,
        "color": colour,
        "weight": 4,
    }


def score_classes(
    values: Iterable[float],
    *,
    title: str = SCORE_TITLE,
    what: str = "district scores",
    digits: int = 0,
) -> ColourScale:
    """Colour classes chosen from the data: natural breaks with round limits over its range.

    The values are classed as they are written on the map (rounded to ``digits``), so a label
    and its colour always agree. The number of classes follows Sturges (1926),
    ``ceil(log2 n) + 1`` for ``n`` values, at most :data:`MAX_SCORE_CLASSES` and at most the
    number of distinct values: 2 districts give 2 classes, 6 give 4, 16 or more give 5. The
    classes are Fisher's (1958) exact natural breaks (Jenks 1977: the grouping of the sorted
    values with the least sum of squared deviations from each class's mean). Each limit between
    two classes is the roundest number between them (a multiple of 10, else 5, 2, 1...); the
    first class starts at the lowest value, the last ends at the highest, so the legend spans
    the data's range exactly. Deterministic: ties go to the lower limit.

    Parameters
    ----------
    values
        The scores (NaN ignored), e.g. a districts table's ``score``; a scenario map passes
        both sides' scores, so its two panels share the classes.
    title
        Legend heading.
    what
        What the values are, plural, for the legend's note ("district scores").
    digits
        Decimals the map writes the values with.

    Returns
    -------
    ColourScale
        One to five classes of ColorBrewer YlGnBu (:data:`YLGNBU_CLASSES`), labels such as
        ``"59 – 61"``, and a note saying how the classes were chosen.

    Examples
    --------
    >>> scale = score_classes([59.4, 60.2, 64.0, 66.3, 71.0, 74.6])
    >>> scale.labels
    ('59 – 61', '62 – 69', '70 – 74', '75')
    >>> scale.colour(60.2) == scale.colours[0], scale.colour(74.6) == scale.colours[-1]
    (True, True)
    >>> score_classes([64.2, 63.8]).labels
    ('64',)
    """
    unit = 10.0**-digits
    finite = np.asarray([float(v) for v in values], dtype=float)
    finite = finite[np.isfinite(finite)]
    if not len(finite):
        return ColourScale(title, (0.0, 100.0), YLGNBU_CLASSES[1], ("no scores",))
    steps, counts = np.unique(np.round(finite / unit).astype(np.int64), return_counts=True)
    sturges = math.ceil(math.log2(len(finite))) + 1 if len(finite) > 1 else 1
    k = min(MAX_SCORE_CLASSES, len(steps), sturges)
    starts = _natural_breaks(steps.astype(float), counts.astype(float), k)
    firsts = [int(steps[0])] + [_roundest(int(steps[i - 1]), int(steps[i])) for i in starts[1:]]
    lasts = [f - 1 for f in firsts[1:]] + [int(steps[-1])]

    def say(step: int) -> str:
        return f"{step * unit:.{max(digits, 0)}f}"

    labels = tuple(
        say(a) if a == b else f"{say(a)} – {say(b)}" for a, b in zip(firsts, lasts, strict=True)
    )
    limits = [*firsts, int(steps[-1]) + 1]  # half a unit below each, as the map rounds
    breaks = tuple(round((f - 0.5) * unit, digits + 1) for f in limits)
    n = len(finite)
    if k == 1:
        note = f"One class: all {n} {what} round to {labels[0]}." if n > 1 else ""
    else:
        note = (
            f"Classes: natural breaks (Fisher–Jenks) of the {n} {what}, so colours compare "
            "them on this map only, not with other maps."
        )
    return ColourScale(title, breaks, YLGNBU_CLASSES[k], labels, note)


def _natural_breaks(values: np.ndarray, weights: np.ndarray, k: int) -> list[int]:
    """Fisher's exact natural breaks: the first index of each of ``k`` classes of sorted values.

    Dynamic programming over the distinct ``values`` (increasing) with their ``weights``
    (counts): the grouping into ``k`` runs with the least weighted sum of squared deviations
    from each run's mean. O(k m²) for m values (a score rounded to whole points has at most 101).
    """
    m = len(values)
    w = np.r_[0.0, np.cumsum(weights)]
    s1 = np.r_[0.0, np.cumsum(weights * values)]
    s2 = np.r_[0.0, np.cumsum(weights * values**2)]

    def cost(i: np.ndarray, j: int) -> np.ndarray:  # runs i..j (inclusive) for each i
        total = w[j + 1] - w[i]
        return s2[j + 1] - s2[i] - (s1[j + 1] - s1[i]) ** 2 / total

    best = np.array([cost(np.array([0]), j)[0] for j in range(m)])
    start = np.zeros((k, m), dtype=np.int64)
    for c in range(1, k):
        nxt = np.full(m, np.inf)
        for j in range(c, m):
            i = np.arange(c, j + 1)  # the first value of the last run
            total = best[i - 1] + cost(i, j)
            pick = int(np.argmin(total))  # the first of equal totals: deterministic
            nxt[j], start[c, j] = total[pick], i[pick]
        best = nxt
    firsts, j = [], m - 1
    for c in range(k - 1, 0, -1):
        firsts.append(int(start[c, j]))
        j = firsts[-1] - 1
    return [0, *reversed(firsts)]


def _roundest(below: int, top: int) -> int:
    """The roundest whole number in ``(below, top]``: a multiple of 1000, 500, 200, 100 ... 1."""
    for step in (1000, 500, 200, 100, 50, 20, 10, 5, 2, 1):
        candidate = (below // step + 1) * step
        if candidate <= top:
            return candidate
    return top


def delta_scale(
    max_abs: float,
    *,
    title: str = "Change in score (scenario − today, points)",
    no_change: float = 0.05,
) -> ColourScale:
    """Return a diverging scale for score changes: three loss classes, "no change", three gains.

    The class width is the smallest of 0.1, 0.2, 0.5, 1, 2, 5, 10... points for which three
    classes reach ``max_abs``, so legend limits are round numbers.

    Parameters
    ----------
    max_abs
        Largest absolute change to show, in score points.
    title
        Legend heading.
    no_change
        Changes smaller than this (points) are "no change" (grey); 0.05 is what rounds to 0.0.

    Returns
    -------
    ColourScale
        Seven classes (ColorBrewer RdBu, red worse, blue better, grey middle).

    Examples
    --------
    >>> delta_scale(0.7).breaks
    (-0.9, -0.6, -0.3, -0.05, 0.05, 0.3, 0.6, 0.9)
    >>> delta_scale(0.7).labels[3]
    'no change (under 0.05 points)'
    """
    target = max(float(max_abs), 3 * no_change) / 3
    step = next(
        s * 10**e for e in range(-1, 6) for s in (1, 2, 3, 5) if s * 10**e >= target - 1e-12
    )
    breaks: tuple[float, ...] = (
        -3 * step,
        -2 * step,
        -step,
        -no_change,
        no_change,
        step,
        2 * step,
        3 * step,
    )
    breaks = tuple(round(b, 6) for b in breaks)
    s1, s2, s3 = (_short(round(k * step, 6)) for k in (1, 2, 3))
    labels = (
        f"lost {s2} – {s3} points", f"lost {s1} – {s2} points", f"lost up to {s1} points",
        f"no change (under {_short(no_change)} points)",
        f"gained up to {s1} points", f"gained {s1} – {s2} points", f"gained {s2} – {s3} points",
    )  # fmt: skip
    colours = ("#b2182b", "#ef8a62", "#fddbc7", "#f0f0f0", "#d1e5f0", "#67a9cf", "#2166ac")
    return ColourScale(title, breaks, colours, labels)


def change_text(points: float, scale: ColourScale) -> str:
    """A district's change in score as its label, tooltip and popup say it.

    "no change" inside ``scale``'s grey class, else signed points with as many decimals as the
    classes' width needs: two beside classes under a point wide ("+0.12 points"), one beside
    wider ones ("+2.4 points"), so that districts coloured by different classes do not read
    alike (with one decimal, a +0.08 district in "gained up to 0.1" and a +0.12 one in
    "gained 0.1 – 0.2" both read "+0.1 points").

    Examples
    --------
    >>> change_text(0.12, delta_scale(0.2)), change_text(0.08, delta_scale(0.2))
    ('+0.12 points', '+0.08 points')
    >>> change_text(-2.43, delta_scale(6)), change_text(0.01, delta_scale(6))
    ('-2.4 points', 'no change')
    """
    if abs(points) < scale.breaks[4]:
        return "no change"
    return f"{points:+.{2 if scale.breaks[5] < 1 else 1}f} points"


def category_colours(categories: Iterable[object]) -> dict[str, str]:
    """Give each category a colour-blind-safe colour, the same on every map.

    A contact-space type of the packaged taxonomy takes its colour in
    :data:`SPACE_TYPE_COLOURS`; other categories, sorted by name, take Okabe–Ito then Paul Tol
    "muted" colours in turn (cycling past 13).

    Examples
    --------
    >>> category_colours(["park", "library", "park", "cafe"])
    {'cafe': '#0072B2', 'library': '#0077BB', 'park': '#117733'}
    """
    names = sorted({str(c) for c in categories})
    others = [name for name in names if name not in SPACE_TYPE_COLOURS]
    return {
        name: SPACE_TYPE_COLOURS.get(name) or _QUALITATIVE[others.index(name) % len(_QUALITATIVE)]
        for name in names
    }


def legend_html(
    title: str,
    items: Sequence[tuple[str, str]],
    *,
    shape: str | Sequence[str] = "box",
    note: str = "",
) -> str:
    """Return a legend as plain HTML: a heading, then one swatch and label per item (escaped).

    Parameters
    ----------
    title
        Heading with the unit.
    items
        ``(css_colour, label)`` pairs.
    shape
        ``"box"`` for areas, ``"line"`` for routes, ``"dash"`` for a dashed line on a white
        halo, ``"dot"`` for points, ``"ring"`` for points drawn as rings; or one per item.
    note
        A line under the rows (escaped), e.g. how the classes were chosen.

    Returns
    -------
    str
        An HTML fragment.
    """
    css = {
        "box": "width:14px;height:12px",
        "line": "width:18px;height:4px;margin-top:4px",
        "dot": "width:10px;height:10px;border-radius:50%",
        "ring": "width:6px;height:6px;border-radius:50%",
        "dash": "width:22px;height:4px;margin-top:4px;border:none;"
        "box-shadow:0 0 0 2px #fff,0 0 0 3px #999",
    }
    shapes = [shape] * len(items) if isinstance(shape, str) else list(shape)

    def fill(colour: str, one: str) -> str:
        c = escape_text(colour)
        if one == "dash":  # dashes on a white halo, as the map draws the line
            return f"background:repeating-linear-gradient(90deg,{c} 0 7px,#fff 7px 10px)"
        if one == "ring":  # a thick coloured edge round a white centre
            return f"background:#fff;border:3px solid {c}"
        return f"background:{c}"

    rows = "".join(
        f'<div class="cg-legend-row"><span class="cg-swatch" style="{css[one]};'
        f'{fill(colour, one)}"></span>{escape_text(label)}</div>'
        for (colour, label), one in zip(items, shapes, strict=True)
    )
    after = f'<div class="cg-legend-note">{escape_text(note)}</div>' if note else ""
    return f'<div class="cg-legend-title">{escape_text(title)}</div>{rows}{after}'


def js_literal(value: object) -> str:
    """Return JSON for inline JavaScript, escaping ``<``, ``>``, ``&`` (no ``</script>`` inside)."""
    return json.dumps(value).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


class MapScript(MacroElement):
    """Run a JavaScript snippet with ``map`` bound to the parent folium map.

    Parameters
    ----------
    js
        Code that refers to the map as ``map``; data must be passed through :func:`js_literal`.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function (map) { {{ this.js }} })({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self, js: str) -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # branca leaves it unannotated
        self._name = "MapScript"
        self.js = check_inert(js, where="MapScript")


_CSS = (
    ".cg-box{background:rgba(255,255,255,.92);padding:6px 8px;border-radius:4px;"
    "box-shadow:0 1px 4px rgba(0,0,0,.3);font:12px/1.4 sans-serif;color:#222}"
    ".cg-title{font:bold 15px/1.3 sans-serif;overflow-wrap:anywhere}"
    ".cg-sub{font:12px/1.35 sans-serif;margin-top:2px;color:#333}"
    ".cg-legend-title{font-weight:bold;margin-bottom:3px}"
    ".cg-legend-row{display:flex;align-items:center;gap:6px}"
    ".cg-legend-note{max-width:230px;margin-top:3px;font-size:11px;color:#444}"
    ".cg-swatch{display:inline-block;border:1px solid #777;flex:none}"
    ".cg-popup{min-width:280px}"
    ".cg-popup table{border-collapse:collapse;margin-top:4px}"
    ".cg-popup th{text-align:left;font-weight:normal;color:#555;padding:1px 8px 1px 0}"
    ".cg-popup td{padding:1px 0}"
    ".cg-label-icon{background:none;border:none}"
    ".cg-label{position:absolute;transform:translate(-50%,-50%);white-space:nowrap;"
    "text-align:center;font:bold 13px/1.2 sans-serif;color:#111;pointer-events:none;"
    "text-shadow:0 0 3px #fff,0 0 3px #fff,0 0 3px #fff,0 0 2px #fff}"
    ".cg-label small{font-weight:normal;font-size:11px}"
    ".cg-short br,.cg-short .cg-detail{display:none}.cg-hidden{visibility:hidden}"
    ".cg-label.cg-small{font-size:11px}"
    ".cg-halo{filter:drop-shadow(0 0 1px #fff) drop-shadow(0 0 1.5px #fff)}"
    ".leaflet-container .leaflet-control-layers{font-size:13px;line-height:1.35}"
)


def _ensure_css(m: folium.Map) -> None:
    MapScript(
        "if (!document.getElementById('cg-css')) {"
        "var s = document.createElement('style'); s.id = 'cg-css';"
        f"s.textContent = {js_literal(_CSS)}; document.head.appendChild(s); }}"
    ).add_to(m)


def add_title(m: folium.Map, title: str, *, lines: Sequence[str] = ()) -> None:
    """Show ``title`` (escaped) and smaller ``lines`` in a box at the top left of the map.

    The box is a Leaflet control, so it stacks under the zoom buttons and never covers the layer
    control at the top right (its width is capped at what the layer control leaves). The page's
    ``<title>`` becomes ``title`` too.
    """
    _ensure_css(m)
    body = f'<div class="cg-title">{escape_text(title)}</div>' + "".join(
        f'<div class="cg-sub">{escape_text(line)}</div>' for line in lines
    )
    root = cast("Figure", m.get_root())  # a map's root is its page
    if not getattr(root, "title", None):
        root.title = check_inert(escape_text(title), where="page title")
    MapScript(
        "var c = L.control({position: 'topleft'}); var d;"
        "c.onAdd = function () { d = L.DomUtil.create('div', 'cg-box cg-header');"
        f"d.innerHTML = {js_literal(body)}; L.DomEvent.disableClickPropagation(d); return d; }};"
        "c.addTo(map);"
        "function fit() { var lc = map.getContainer().querySelector('.leaflet-control-layers');"
        "var w = map.getSize().x - (lc ? lc.offsetWidth : 0) - 40;"
        "d.style.maxWidth = Math.max(w, 180) + 'px'; }"
        "map.whenReady(function () { setTimeout(fit, 0); }); map.on('resize', fit);"
    ).add_to(m)


def fit_view(m: folium.Map, bounds: Sequence[Sequence[float]]) -> None:
    """Open the map on ``bounds`` ([[south, west], [north, east]]) without animation.

    The study area is fitted into the largest rectangle of the map that no control (title box,
    layer control, legends, zoom buttons) covers, the one where it is drawn largest; the small
    scale bar and attribution may overlap it. When no free rectangle gives at least half the
    size the whole frame would, the whole frame is used. An animated first ``fitBounds`` stalls
    in a throttled frame (a notebook map below the fold) and leaves the map at its starting
    zoom: this sets the view at once, again once the page's controls are in place and whenever
    the container gets its real size, until the user moves the map.
    """
    MapScript(
        f"var b = {js_literal([[float(v) for v in corner] for corner in bounds])};"
        "map.options.zoomSnap = 0.25;"  # fit closely: no tiles need whole zoom levels
        "var moved = false; map.on('mousedown touchstart wheel keydown', function () {"
        " moved = true; });"
        "function fit() { if (moved || map.getSize().x === 0) { return; }"
        " var box = map.getContainer().getBoundingClientRect(), W = map.getSize().x,"
        " H = map.getSize().y, cs = [], xs = [0, W], ys = [0, H];"
        " map.getContainer().querySelectorAll('.leaflet-control').forEach(function (c) {"
        "  if (/leaflet-control-(attribution|scale)/.test(c.className)) { return; }"
        "  var r = c.getBoundingClientRect(); if (!r.width || !r.height) { return; }"
        "  var q = [r.left - box.left - 6, r.top - box.top - 6,"
        "   r.right - box.left + 6, r.bottom - box.top + 6];"
        "  cs.push(q); xs.push(q[0], q[2]); ys.push(q[1], q[3]); });"
        # the study area's width and height in pixels at zoom 0: its size at any zoom is a
        # multiple of them, so the rectangle where it is drawn largest is the best one
        " var p0 = map.project(b[0], 0), p1 = map.project(b[1], 0);"
        " var bw = Math.max(Math.abs(p1.x - p0.x), 1e-9),"
        " bh = Math.max(Math.abs(p1.y - p0.y), 1e-9);"
        " var best = [0, 0, W, H], whole = Math.min(W / bw, H / bh), top = 0;"
        " xs.forEach(function (x0) { xs.forEach(function (x1) { if (x1 <= x0) { return; }"
        "  ys.forEach(function (y0) { ys.forEach(function (y1) { if (y1 <= y0) { return; }"
        "   var k = Math.min((Math.min(x1, W) - Math.max(x0, 0)) / bw,"
        "    (Math.min(y1, H) - Math.max(y0, 0)) / bh);"
        "   if (k <= top || cs.some(function (c) {"
        "    return c[0] < x1 && c[2] > x0 && c[1] < y1 && c[3] > y0; })) { return; }"
        "   top = k; best = [Math.max(x0, 0), Math.max(y0, 0), Math.min(x1, W), Math.min(y1, H)];"
        "  }); }); }); });"
        " if (top < 0.5 * whole) { best = [0, 0, W, H]; }"
        " map.fitBounds(b, {animate: false, paddingTopLeft: [best[0] + 4, best[1] + 4],"
        "  paddingBottomRight: [W - best[2] + 4, H - best[3] + 4]}); }"
        "fit(); map.whenReady(function () { setTimeout(fit, 0); });"
        "if (window.ResizeObserver) { new ResizeObserver(function () {"
        " map.invalidateSize({animate: false}); fit(); }).observe(map.getContainer()); }"
    ).add_to(m)


_JS_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def add_legend(
    m: folium.Map,
    legend: str,
    *,
    position: str = "bottomright",
    layers: Sequence[Element] = (),
) -> None:
    """Add an HTML legend (from :func:`legend_html`) as a Leaflet control at ``position``.

    With ``layers`` the legend follows them: shown while at least one is on, hidden otherwise.
    """
    _ensure_css(m)
    names = [layer.get_name() for layer in layers]
    if not all(_JS_NAME.match(n) for n in names):  # folium's own variable names
        raise ValueError(f"add_legend: unexpected layer variable names {names}")
    follow = (
        f"var ls = [{', '.join(names)}];"
        "function sync() { d.style.display = ls.some(function (l) { return map.hasLayer(l); })"
        " ? '' : 'none'; }"
        "map.on('layeradd layerremove', sync); sync();"
        if names
        else ""
    )
    MapScript(
        f"var c = L.control({{position: {js_literal(position)}}}); var d;"
        "c.onAdd = function () { d = L.DomUtil.create('div', 'cg-box cg-legend');"
        f"d.innerHTML = {js_literal(legend)}; return d; }};"
        "c.addTo(map);" + follow
    ).add_to(m)


def add_labels(
    m: folium.Map,
    points: Sequence[tuple[float, float]],
    texts: Sequence[tuple[object, str]],
    *,
    name: str,
    show: bool = True,
    priority: int = 1,
) -> folium.FeatureGroup:
    """Add always-visible text labels (no click needed) as a toggleable layer, decluttered.

    Labels never cover each other, nor a marker of class ``cg-keep-clear`` on the map (the
    suggestions map's numbered picks): at every zoom, each label in turn (the given order, then
    the layers of lower ``priority`` first) is shown whole if it is clear of those and of the
    labels already shown, else with its name only, else with its name in a smaller type
    (11 px), else hidden until the reader zooms in (the feature's tooltip still names it).

    Parameters
    ----------
    points
        ``(latitude, longitude)`` of each label (EPSG:4326 degrees), most important first.
    texts
        ``(name, detail)`` per label: the name in bold (escaped), the detail smaller below
        (escaped; empty for none).
    name
        Layer name in the layer control.
    show
        Whether the labels are on at first.
    priority
        Layers of a lower number are placed first (0: an intervention's names, over the
        district names' 1).

    Returns
    -------
    folium.FeatureGroup
        The layer, already added to ``m``.
    """
    _ensure_css(m)
    group = folium.FeatureGroup(name=escape_text(name), show=show)
    for (lat, lon), (label, detail) in zip(points, texts, strict=True):
        small = f'<br><small class="cg-detail">{escape_text(detail)}</small>' if detail else ""
        folium.Marker(
            [lat, lon],
            icon=folium.DivIcon(
                html=check_inert(
                    f'<div class="cg-label">{escape_text(label)}{small}</div>', where=name
                ),
                icon_size=(0, 0),
                icon_anchor=(0, 0),
                class_name="cg-label-icon",
            ),
            interactive=False,
        ).add_to(group)
    group.add_to(m)
    MapScript(
        f"var g = {group.get_name()};"
        f"(map._cgLabels = map._cgLabels || []).push({{g: g, p: {int(priority)}}});"
        "map._cgLabels.sort(function (a, b) { return a.p - b.p; });"
        "if (map._cgDeclutter) { return; }"
        "map._cgDeclutter = function () { var shown = Array.prototype.map.call("
        "  map.getContainer().querySelectorAll('.cg-keep-clear'),"
        "  function (e) { return e.getBoundingClientRect(); });"
        " function clear(r) { return !shown.some(function (s) { return r.left < s.right"
        "  && r.right > s.left && r.top < s.bottom && r.bottom > s.top; }); }"
        " map._cgLabels.forEach(function (entry) { if (!map.hasLayer(entry.g)) { return; }"
        "  entry.g.eachLayer(function (mk) { var el = mk.getElement();"
        "   var lab = el && el.querySelector('.cg-label'); if (!lab) { return; }"
        "   lab.classList.remove('cg-short', 'cg-small', 'cg-hidden');"
        "   var r = lab.getBoundingClientRect();"
        "   if (!clear(r)) { lab.classList.add('cg-short'); r = lab.getBoundingClientRect(); }"
        "   if (!clear(r)) { lab.classList.add('cg-small'); r = lab.getBoundingClientRect(); }"
        "   if (clear(r)) { shown.push(r); } else { lab.classList.add('cg-hidden'); } }); }); };"
        "map.on('zoomend moveend resize overlayadd overlayremove', map._cgDeclutter);"
        "map.whenReady(function () { setTimeout(map._cgDeclutter, 0); });"
    ).add_to(m)
    return group


def header_lines(
    *,
    place: str | None = None,
    data_date: str | None = None,
    version: str | None = None,
    meaning: str = "",
    run_date: str | None = None,
) -> list[str]:
    """Return the lines under a map's title: place and dates, then what the map's values mean.

    Parameters
    ----------
    place
        Study area, e.g. ``"helsinki"`` (written with capitals: ``"Helsinki"``).
    data_date
        Date of the OpenStreetMap data (ISO date).
    version
        cohesion_gis version that drew the map.
    meaning
        One sentence on what the main value means.
    run_date
        Date of the run (default: today, UTC).

    Examples
    --------
    >>> header_lines(place="new_york", data_date="2019-04-21", version="0.1.0",
    ...              run_date="2026-12-02")
    ['New York · OpenStreetMap data of 2019-04-21 · run 2026-12-02 · cohesion_gis 0.1.0']
    """
    import datetime as dt

    run = run_date or dt.datetime.now(dt.UTC).date().isoformat()
    parts = [place_name(place)] if place else []
    if data_date:
        parts.append(f"OpenStreetMap data of {data_date}")
    parts.append(f"run {run}")
    if version:
        parts.append(f"cohesion_gis {version}")
    return [" · ".join(parts), *([meaning] if meaning else [])]


def place_name(name: str) -> str:
    """Write a study area's id as a place name: ``"helsinki+plan"`` → ``"Helsinki + plan"``.

    Examples
    --------
    >>> place_name("helsinki")
    'Helsinki'
    """
    base, _, rest = str(name).partition("+")
    words = base.replace("_", " ").strip()
    text = " ".join(w[:1].upper() + w[1:] for w in words.split())
    return f"{text} + {rest.replace('_', ' ')}" if rest else text


#: The same in one line, for legends.
WORST_CASE_SHORT = "Worst case: full acceleration on the straightest route, head-on."
#: What the worst-case impact speeds assume, said once wherever a rating is shown (the margin
#: and test speeds are defaults/hvm.toml's ``speed_allowance`` and ``test_speeds_kmh``).
WORST_CASE = (
    "Worst case assumed: a driver accelerating as hard as the vehicle can along the straightest "
    "route to the site and hitting head-on; a rating adds a 10 % margin to that speed and rounds "
    "up to the next crash-test speed (16, 32, 48, 64 or 80 km/h)."
)
_RATING = re.compile(
    r"(?P<std>[A-Za-z][\w .\-]*?):\s*[VDFP]?/?(?P<mass>\d+(?:\.\d+)?)[\[(](?P<cls>[A-Z0-9]+)[\])]"
    r"/(?P<gt>>?)(?P<speed>\d+(?:\.\d+)?)/(?P<angle>\d+(?:\.\d+)?)"
)


def plain_rating(text: object, *, code: bool = True, short: bool = False) -> str:
    """Say a crash rating in plain words, e.g. "tested against a 7.2 t lorry at 64 km/h head-on".

    Parameters
    ----------
    text
        A rating or requirement string such as ``"ISO 22343-1: V/7200[N2A]/64/90:1.0"``; other
        text (``"none: no M1 approach"``, empty) is returned as written.

    code
        Keep the rating code in brackets after the words (False for short table cells).
    short
        Fewest words, for a table cell beside :data:`SHORT_RATING_NOTE`: "7.2 t lorry (N2A),
        64 km/h head-on" or "none at the site's edge: 7.2 t lorry (N2A) above 80 km/h".

    Returns
    -------
    str
        Plain words, each rating of the text in turn.

    Examples
    --------
    >>> plain_rating("ISO 22343-1: V/7200[N2A]/64/90:1.0", code=False)
    'a barrier tested against a 7.2 t lorry (N2A) at 64 km/h head-on'
    >>> plain_rating("ISO 22343-1: V/1500[M1]/>112/90: design speed 165.6 km/h exceeds ...")[:72]
    "no barrier at the site's edge: a 1.5 t car (M1) would arrive faster than"
    """
    raw = plain_text(text)
    found = list(_RATING.finditer(raw))
    if not found:
        return raw.replace("_", " ")
    said = []
    for match in found:
        mass_t = float(match["mass"]) / 1000
        vehicle = f"a {mass_t:g} t {_vehicle_noun(match['cls'], mass_t)} ({match['cls']})"
        angle = float(match["angle"])
        how = "head-on" if angle >= 89.5 else f"at {angle:g}° to the barrier"
        if short:
            said.append(
                f"none at the site's edge: {vehicle[2:]} above {match['speed']} km/h"
                if match["gt"]
                else f"{vehicle[2:]}, {match['speed']} km/h {how}"
            )
        elif match["gt"]:
            said.append(
                f"no barrier at the site's edge: {vehicle} would arrive faster than the fastest "
                f"crash test ({match['speed']} km/h); stop or slow it further out "
                "(cohesion-gis protect)"
            )
        else:
            said.append(f"a barrier tested against {vehicle} at {match['speed']} km/h {how}")
    return "; ".join(said) + (f" [{raw}]" if code else "")


#: What a short rating (``plain_rating(..., short=True)``) means, for a page's footer.
SHORT_RATING_NOTE = (
    "Barrier rating needed: the vehicle and speed a barrier at the site's edge must be "
    "crash-tested against; 'none at the site's edge': that vehicle would arrive faster than the "
    "fastest crash test, so stop or slow it further out (cohesion-gis protect designs such a "
    "scheme)."
)


def _vehicle_noun(vehicle_class: str, mass_t: float) -> str:
    if vehicle_class.startswith("M") or mass_t <= 2.5:
        return "car"
    if mass_t <= 3.5:
        return "van"
    return "lorry" if mass_t <= 7.5 else "heavy lorry"


def add_attribution(m: folium.Map) -> None:
    """Put "© OpenStreetMap contributors" in the map's attribution control (always visible)."""
    MapScript(
        "var a = map.attributionControl;"
        "if (!a) { a = L.control.attribution(); a.addTo(map); }"
        f"a.addAttribution({js_literal(OSM_ATTRIBUTION)});"
    ).add_to(m)
