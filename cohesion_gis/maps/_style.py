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

import html
import itertools
import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import folium
from branca.element import MacroElement
from folium.template import Template

__all__ = [
    "COMPONENT_SCALE",
    "OSM_ATTRIBUTION",
    "RISK_SCALE",
    "SCORE_SCALE",
    "SEVERANCE_SCALE",
    "SPEED_BANDS_KMH",
    "ColourScale",
    "MapScript",
    "add_attribution",
    "add_legend",
    "add_title",
    "category_colours",
    "check_inert",
    "delta_scale",
    "escape_text",
    "format_number",
    "js_literal",
    "legend_html",
    "plain_text",
    "point_style",
    "popup_html",
]

OSM_ATTRIBUTION = (
    '© <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors'
)
NO_DATA = "no data"
NO_DATA_COLOUR = "#bdbdbd"


# Characters that are not text: C0/C1 controls (NUL included, tab and newline kept) and the
# Unicode bidirectional embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069), which
# would reorder the text after a name ("Trojan Source", CVE-2021-42574).
_NOT_TEXT = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
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
    return _NOT_TEXT.sub("\ufffd", str(value))


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
    return html.escape(plain_text(value), quote=True).translate(_ENTITIES)


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
    """

    title: str
    breaks: tuple[float, ...]
    colours: tuple[str, ...]
    labels: tuple[str, ...] = ()

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

SCORE_SCALE = ColourScale(
    "Cohesion score (0–100, higher is better)", (0, 20, 40, 60, 80, 100), _YLGNBU
)
COMPONENT_SCALE = ColourScale(
    "Share of the standard met (0–1, higher is better)", (0, 0.2, 0.4, 0.6, 0.8, 1.0), _YLGNBU
)
SEVERANCE_SCALE = ColourScale(
    "Access lost to barriers (0–1, higher is worse)", (0, 0.2, 0.4, 0.6, 0.8, 1.0), _REDS
)
#: Site risk = exposure × vulnerability × attractiveness, each 1–5 (cohesion_gis.hvm.assess).
RISK_SCALE = ColourScale("Site risk (1–125, higher is worse)", (0, 10, 25, 50, 75, 125.0), _REDS)
SPEED_BANDS_KMH = ColourScale(
    "Vehicle impact speed",
    (0, 32, 48, 64, math.inf),
    ("#1a9641", "#fdae61", "#f46d43", "#a50026"),
    ("below 32 km/h", "32 – 48 km/h", "48 – 64 km/h", "above 64 km/h"),
)

# Diverging red-blue (ColorBrewer RdBu, 6 classes without a neutral middle class).
_RDBU = ("#b2182b", "#ef8a62", "#fddbc7", "#d1e5f0", "#67a9cf", "#2166ac")
# Qualitative (ColorBrewer Set2 + Dark2) for categories such as contact-space types.
_QUALITATIVE = (
    "#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#666666",
    "#66c2a5", "#fc8d62", "#8da0cb", "#e78ac3",
)  # fmt: skip


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


def delta_scale(max_abs: float, *, title: str = "Change in score (scenario − base)") -> ColourScale:
    """Return a diverging scale symmetric around 0 for score changes (red worse, blue better).

    Parameters
    ----------
    max_abs
        Largest absolute change to show, in score points (> 0); larger changes use the end colours.
    title
        Legend heading.

    Returns
    -------
    ColourScale
        Six classes: three for losses, three for gains.

    Examples
    --------
    >>> delta_scale(9).breaks
    (-9.0, -6.0, -3.0, 0.0, 3.0, 6.0, 9.0)
    """
    step = max(float(max_abs), 1e-9) / 3
    breaks = tuple(round(step * k, 6) for k in range(-3, 4))
    labels = tuple(f"{_short(lo)} to {_short(hi)}" for lo, hi in itertools.pairwise(breaks))
    return ColourScale(title, breaks, _RDBU, labels)


def category_colours(categories: Iterable[object]) -> dict[str, str]:
    """Give each category (sorted by name) a colour from a qualitative palette, cycling past 12."""
    names = sorted({str(c) for c in categories})
    return {name: _QUALITATIVE[i % len(_QUALITATIVE)] for i, name in enumerate(names)}


def legend_html(title: str, items: Sequence[tuple[str, str]], *, shape: str = "box") -> str:
    """Return a legend as plain HTML: a heading, then one swatch and label per item (escaped).

    Parameters
    ----------
    title
        Heading with the unit.
    items
        ``(css_colour, label)`` pairs.
    shape
        ``"box"`` for areas, ``"line"`` for routes, ``"dot"`` for points.

    Returns
    -------
    str
        An HTML fragment.
    """
    css = {
        "box": "width:14px;height:12px",
        "line": "width:18px;height:4px;margin-top:4px",
        "dot": "width:10px;height:10px;border-radius:50%",
    }[shape]
    rows = "".join(
        f'<div class="cg-legend-row"><span class="cg-swatch" style="{css};'
        f'background:{escape_text(colour)}"></span>{escape_text(label)}</div>'
        for colour, label in items
    )
    return f'<div class="cg-legend-title">{escape_text(title)}</div>{rows}'


def js_literal(value: object) -> str:
    """Return JSON for inline JavaScript, escaping ``<``, ``>``, ``&`` (no ``</script>`` inside)."""
    return json.dumps(value).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


class MapScript(MacroElement):  # type: ignore[misc]
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
        super().__init__()
        self._name = "MapScript"
        self.js = check_inert(js, where="MapScript")


_CSS = (
    ".cg-box{background:rgba(255,255,255,.92);padding:6px 8px;border-radius:4px;"
    "box-shadow:0 1px 4px rgba(0,0,0,.3);font:12px/1.4 sans-serif;color:#222}"
    ".cg-title{position:absolute;top:10px;left:50%;transform:translateX(-50%);z-index:1000;"
    "font:bold 15px/1.3 sans-serif;max-width:60%;text-align:center}"
    ".cg-legend-title{font-weight:bold;margin-bottom:3px}"
    ".cg-legend-row{display:flex;align-items:center;gap:6px}"
    ".cg-swatch{display:inline-block;border:1px solid #777;flex:none}"
    ".cg-popup{min-width:280px}"
    ".cg-popup table{border-collapse:collapse;margin-top:4px}"
    ".cg-popup th{text-align:left;font-weight:normal;color:#555;padding:1px 8px 1px 0}"
    ".cg-popup td{padding:1px 0}"
)


def _ensure_css(m: folium.Map) -> None:
    MapScript(
        "if (!document.getElementById('cg-css')) {"
        "var s = document.createElement('style'); s.id = 'cg-css';"
        f"s.textContent = {js_literal(_CSS)}; document.head.appendChild(s); }}"
    ).add_to(m)


def add_title(m: folium.Map, title: str) -> None:
    """Show ``title`` (escaped) centred at the top of the map."""
    _ensure_css(m)
    MapScript(
        "var d = L.DomUtil.create('div', 'cg-box cg-title', map.getContainer());"
        f"d.innerHTML = {js_literal(escape_text(title))};"
    ).add_to(m)


def add_legend(m: folium.Map, legend: str, *, position: str = "bottomright") -> None:
    """Add an HTML legend (from :func:`legend_html`) as a Leaflet control at ``position``."""
    _ensure_css(m)
    MapScript(
        f"var c = L.control({{position: {js_literal(position)}}});"
        "c.onAdd = function () { var d = L.DomUtil.create('div', 'cg-box cg-legend');"
        f"d.innerHTML = {js_literal(legend)}; return d; }};"
        "c.addTo(map);"
    ).add_to(m)


def add_attribution(m: folium.Map) -> None:
    """Put "© OpenStreetMap contributors" in the map's attribution control (always visible)."""
    MapScript(
        "var a = map.attributionControl;"
        "if (!a) { a = L.control.attribution(); a.addTo(map); }"
        f"a.addAttribution({js_literal(OSM_ATTRIBUTION)});"
    ).add_to(m)
