"""QGIS styles for the GeoPackages: the web maps' classes and colours, loaded when a layer opens.

A GeoPackage may hold a ``layer_styles`` table (the table QGIS itself writes on "Save style ...
in database"); QGIS applies a layer's default style from it when the layer is added, so the
districts open coloured by score and the sites by risk instead of in a random single colour.
Each style is a QML document (QGIS's style format) with a rule-based renderer whose rules are
the web map's classes (:func:`~cohesion_gis.maps._style.score_classes` of the districts
written, :data:`~cohesion_gis.maps._style.RISK_SCALE`, :data:`~cohesion_gis.maps._style.
SPEED_BANDS_KMH`, the contact-space colours), in the same colours, with the same labels.

:func:`layer_styles` gives the styles of one layer; ``export.write_geopackage`` writes them.
Layers and styles:

- ``districts``: by score (default), names and scores as labels;
- ``sites`` (and ``sites_points`` / ``sites_polygons``): by risk (default), the first ten
  labelled with their priority; by Martyn's Law tier; by the vehicle class the barrier rating
  is for;
- ``approaches``: by speed band on reaching the site, stopped approaches grey and dashed;
- ``spaces`` (``spaces_points`` / ``spaces_polygons``): by type of contact space.
"""

from __future__ import annotations

import itertools
import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass

import geopandas as gpd
import numpy as np

from cohesion_gis.maps._style import (
    RISK_SCALE,
    SPEED_BANDS_KMH,
    STOPPED_COLOUR,
    ColourScale,
    category_colours,
    score_classes,
)

__all__ = ["QGIS_VERSION", "LayerStyle", "layer_styles", "style_fields"]

#: The QGIS version the styles are written for (the long-term release of 2025-26); QGIS reads
#: styles of older versions and fills what a style leaves out with its defaults.
QGIS_VERSION = "3.40.0-Bratislava"
NO_DATA_COLOUR = "#bdbdbd"
#: Sites labelled with their priority, as on the web map.
LABELLED_SITES = 10
#: The martyns_law_tier values, in the order a legend lists them, and their colours (Okabe & Ito
#: 2008: vermillion, orange, grey; colour-blind safe).
TIER_COLOURS = {"enhanced": "#D55E00", "standard": "#E69F00", "none": "#999999"}


@dataclass(frozen=True)
class LayerStyle:
    """One QGIS style of a layer.

    Attributes
    ----------
    name
        Style name, as QGIS lists it (Layer Properties > Style > Load style > From database).
    description
        One sentence on what the colours show.
    qml
        The QML document.
    default
        Whether QGIS applies it when the layer is added (one per layer).
    """

    name: str
    description: str
    qml: str
    default: bool


@dataclass(frozen=True)
class _Rule:
    label: str
    expression: str  # a QGIS expression, or "ELSE"
    colour: str
    dashed: bool = False


def layer_styles(layer: str, frame: gpd.GeoDataFrame) -> list[LayerStyle]:
    """The QGIS styles of a GeoPackage layer as written (``frame``), default first.

    Parameters
    ----------
    layer
        The layer's name in the GeoPackage; a layer split by geometry kind keeps its base name
        before ``_points``, ``_lines``, ``_polygons``.
    frame
        The layer's table, as written (its geometry kind picks the symbols; the districts'
        scores pick the classes).

    Returns
    -------
    list of LayerStyle
        Empty for a layer without styles or a table without geometry.
    """
    if not isinstance(frame, gpd.GeoDataFrame) or frame.empty:
        return []
    base = re.sub(r"_(points|lines|polygons)$", "", layer)
    kind = _symbol_kind(frame)
    columns = set(frame.columns)
    styles: list[LayerStyle] = []
    if base == "districts" and {"score", "name"} <= columns:
        scale = score_classes(frame["score"])
        styles.append(
            LayerStyle(
                "Cohesion score",
                f"{scale.title}; {scale.note or 'one class'}",
                _qml(kind, _scale_rules("score", scale), label=_DISTRICT_LABEL, opacity=0.6),
                True,
            )
        )
    elif base == "sites" and "risk" in columns:
        size = _capacity_size(frame) if kind == "marker" else None
        label = _SITE_LABEL if "rank" in columns else None
        styles.append(
            LayerStyle(
                "Risk",
                f"{RISK_SCALE.title}, as the sites map",
                _qml(kind, _scale_rules("risk", RISK_SCALE), label=label, size=size, opacity=0.8),
                True,
            )
        )
        if "martyns_law_tier" in columns:
            tiers = [t for t in TIER_COLOURS if t in set(frame["martyns_law_tier"].astype(str))]
            rules = [_Rule(t, f"\"martyns_law_tier\" = '{t}'", TIER_COLOURS[t]) for t in tiers]
            styles.append(
                LayerStyle(
                    "Martyn's Law tier",
                    "Tier under the Terrorism (Protection of Premises) Act 2025",
                    _qml(kind, [*rules, _Rule("other", "ELSE", NO_DATA_COLOUR)], label=label),
                    False,
                )
            )
        if "rating_class" in columns:
            classes = sorted({str(c) for c in frame["rating_class"].dropna() if str(c)})
            colours = category_colours(classes)
            rules = [_Rule(c, f"\"rating_class\" = '{c}'", colours[c]) for c in classes]
            styles.append(
                LayerStyle(
                    "Barrier rating needed, by vehicle class",
                    "The vehicle class (ISO 22343-1) the site's barrier rating is for",
                    _qml(kind, [*rules, _Rule("none needed", "ELSE", NO_DATA_COLOUR)], label=label),
                    False,
                )
            )
    elif base == "approaches" and "impact_speed_kmh" in columns:
        rules = [_Rule("stopped", '"impact_speed_kmh" <= 0', STOPPED_COLOUR, dashed=True)]
        for (lo, hi), (colour, text) in zip(
            _pairs(SPEED_BANDS_KMH.breaks), SPEED_BANDS_KMH.items(), strict=True
        ):
            low = max(lo, 0)
            upper = "" if math.isinf(hi) else f' AND "impact_speed_kmh" < {_num(hi)}'
            test = (
                f'"impact_speed_kmh" > {_num(low)}'
                if low == 0
                else f'"impact_speed_kmh" >= {_num(low)}'
            )
            rules.append(_Rule(text, test + upper, colour))
        rules.append(_Rule("no data", "ELSE", NO_DATA_COLOUR))
        styles.append(
            LayerStyle(
                "Speed on reaching the site",
                f"{SPEED_BANDS_KMH.title}; grey dashed: stopped before the site",
                _qml(kind, rules),
                True,
            )
        )
    elif base in ("spaces", "contact_spaces") and "space_type" in columns:
        types = sorted({str(t) for t in frame["space_type"].dropna()})
        colours = category_colours(types)
        rules = [_Rule(t.replace("_", " "), f"\"space_type\" = '{t}'", colours[t]) for t in types]
        styles.append(
            LayerStyle(
                "Type of contact space",
                "Contact spaces by type, in the web map's colours",
                _qml(kind, [*rules, _Rule("other", "ELSE", NO_DATA_COLOUR)], opacity=0.8),
                True,
            )
        )
    return styles


def style_fields(qml: str) -> set[str]:
    """Every field a QML names: in rule filters, label and data-defined expressions.

    For checking that a style names fields its layer has (``"field"`` in an expression is a
    field; ``'text'`` is not).
    """
    root = ET.fromstring(qml)
    texts = [rule.get("filter", "") for rule in root.iter("rule")]
    texts += [t.get("fieldName", "") for t in root.iter("text-style")]
    texts += [o.get("value", "") for o in root.iter("Option") if o.get("name") == "expression"]
    found: set[str] = set()
    for text in texts:
        found |= set(re.findall(r'"([^"]+)"', re.sub(r"'[^']*'", "", text)))
    return found


_DISTRICT_LABEL = "\"name\" || '\\n' || 'score ' || to_string(round(\"score\"))"
_SITE_LABEL = f'CASE WHEN "rank" <= {LABELLED_SITES} THEN to_string("rank") END'


def _symbol_kind(frame: gpd.GeoDataFrame) -> str:
    kinds = set(frame.geom_type.dropna().str.removeprefix("Multi"))
    if kinds <= {"Point"}:
        return "marker"
    if kinds <= {"LineString"}:
        return "line"
    return "fill"


def _pairs(breaks: Sequence[float]) -> list[tuple[float, float]]:
    return list(itertools.pairwise(breaks))


def _num(value: float) -> str:
    return f"{value:g}"


def _scale_rules(column: str, scale: ColourScale) -> list[_Rule]:
    """One rule per class of ``scale``, the first and last open-ended as in ``ColourScale``."""
    rules = []
    last = len(scale.colours) - 1
    for k, ((lo, hi), (colour, text)) in enumerate(
        zip(_pairs(scale.breaks), scale.items(), strict=True)
    ):
        parts = ([] if k == 0 else [f'"{column}" >= {_num(lo)}']) + (
            [] if k == last else [f'"{column}" < {_num(hi)}']
        )
        rules.append(_Rule(text, " AND ".join(parts) or f'"{column}" IS NOT NULL', colour))
    return [*rules, _Rule("no data", "ELSE", NO_DATA_COLOUR)]


def _capacity_size(frame: gpd.GeoDataFrame) -> str:
    """A marker's diameter (mm) by capacity, as the web map's circles: 2-8 mm by its root."""
    top = float(np.nanmax(frame["capacity_persons"].to_numpy(dtype=float), initial=1.0))
    return f'2 + 6 * sqrt(max(coalesce("capacity_persons", 0), 0) / {max(top, 1.0):g})'


def _rgba(colour: str, alpha: float = 1.0) -> str:
    value = colour.lstrip("#")
    r, g, b = (int(value[i : i + 2], 16) for i in (0, 2, 4))
    return f"{r},{g},{b},{round(255 * alpha)}"


def _option(parent: ET.Element, name: str, value: str, kind: str = "QString") -> None:
    ET.SubElement(parent, "Option", name=name, type=kind, value=value)


def _symbol(
    parent: ET.Element, index: int, kind: str, rule: _Rule, *, size: str | None, opacity: float
) -> None:
    symbol = ET.SubElement(
        parent, "symbol", type=kind, name=str(index), alpha="1", clip_to_extent="1", force_rhr="0"
    )
    layer_class = {"marker": "SimpleMarker", "line": "SimpleLine", "fill": "SimpleFill"}[kind]
    layer = ET.SubElement(
        symbol, "layer", {"class": layer_class, "enabled": "1", "locked": "0", "pass": "0"}
    )
    props = ET.SubElement(layer, "Option", type="Map")
    if kind == "line":
        _option(props, "line_color", _rgba(rule.colour))
        _option(props, "line_width", "0.8" if not rule.dashed else "0.6")
        _option(props, "line_width_unit", "MM")
        _option(props, "line_style", "dash" if rule.dashed else "solid")
        _option(props, "capstyle", "round")
    else:
        _option(props, "color", _rgba(rule.colour, opacity))
        _option(props, "outline_color", "34,34,34,255" if kind == "marker" else "85,85,85,255")
        _option(props, "outline_width", "0.26")
        _option(props, "outline_style", "solid")
        if kind == "marker":
            _option(props, "name", "circle")
            _option(props, "size", "3")
            _option(props, "size_unit", "MM")
        else:
            _option(props, "style", "solid")
    if size is not None:  # the diameter from the data
        defined = ET.SubElement(layer, "data_defined_properties")
        outer = ET.SubElement(defined, "Option", type="Map")
        _option(outer, "name", "")
        properties = ET.SubElement(outer, "Option", name="properties", type="Map")
        prop = ET.SubElement(properties, "Option", name="size", type="Map")
        _option(prop, "active", "true", "bool")
        _option(prop, "expression", size)
        _option(prop, "type", "3", "int")
        _option(outer, "type", "collection")


def _qml(
    kind: str,
    rules: Sequence[_Rule],
    *,
    label: str | None = None,
    size: str | None = None,
    opacity: float = 1.0,
) -> str:
    """A QML document: a rule-based renderer of ``rules`` and, with ``label``, labels."""
    root = ET.Element(
        "qgis",
        version=QGIS_VERSION,
        styleCategories="Symbology|Labeling",
        labelsEnabled="1" if label else "0",
    )
    renderer = ET.SubElement(
        root, "renderer-v2", type="RuleRenderer", symbollevels="0", enableorderby="0",
        forceraster="0", referencescale="-1",
    )  # fmt: skip
    tree = ET.SubElement(renderer, "rules", key="{root}")
    for k, rule in enumerate(rules):
        attributes = {"key": f"{{rule-{k}}}", "symbol": str(k), "label": rule.label}
        if rule.expression == "ELSE":
            attributes["filter"] = "ELSE"
        else:
            attributes["filter"] = rule.expression
        ET.SubElement(tree, "rule", attributes)
    symbols = ET.SubElement(renderer, "symbols")
    for k, rule in enumerate(rules):
        _symbol(symbols, k, kind, rule, size=size, opacity=opacity)
    if label:
        labeling = ET.SubElement(root, "labeling", type="simple")
        settings = ET.SubElement(labeling, "settings", calloutType="simple")
        text = ET.SubElement(
            settings, "text-style", fieldName=label, isExpression="1", fontSize="9",
            fontSizeUnit="Point", fontWeight="75", textColor="17,17,17,255", textOpacity="1",
            multilineHeight="1",
        )  # fmt: skip
        ET.SubElement(
            text, "text-buffer", bufferDraw="1", bufferSize="1", bufferSizeUnits="MM",
            bufferColor="255,255,255,255", bufferOpacity="1", bufferNoFill="1",
        )  # fmt: skip
        ET.SubElement(settings, "text-format", multilineAlign="1", wrapChar="")
        ET.SubElement(
            settings, "placement", placement="1" if kind != "line" else "2", dist="0",
            offsetType="0", priority="5",
        )  # fmt: skip
        ET.SubElement(settings, "rendering", obstacle="1", displayAll="0", upsidedownLabels="0")
    ET.indent(root)
    return "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n" + ET.tostring(
        root, encoding="unicode"
    )
