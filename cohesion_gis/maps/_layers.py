"""GeoDataFrame → folium layer plumbing shared by the map builders.

Frames come in the study area's metric CRS; they are simplified there (tolerance in metres),
reprojected to EPSG:4326 and rounded to 1e-5 degrees (about 1 m) so the HTML stays small. Only the
pre-escaped ``popup``/``tooltip`` text travels to the browser, never the raw columns; layer names
are escaped here, and a popup or tooltip holding a Jinja delimiter is refused (see ``_style``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

import folium
import geopandas as gpd
import numpy as np
import shapely
import shapely.affinity
from branca.element import Element
from folium.template import Template
from shapely.ops import polylabel

from cohesion_gis._validate import metric_crs_problem
from cohesion_gis.errors import InputError
from cohesion_gis.maps._style import check_inert, escape_text, js_literal

if TYPE_CHECKING:
    from branca.element import Figure

__all__ = [
    "VectorLayer",
    "as_points",
    "check_frame",
    "geojson_layer",
    "in_view",
    "label_points",
    "scale_tolerance_m",
    "single_parts",
    "to_wgs84",
]

WGS84 = "EPSG:4326"
logger = logging.getLogger(__name__)
_GRID_DEG = 1e-5  # about 1.1 m north-south, 0.9 m east-west at 36° N


def check_frame(gdf: object, *, layer: str, columns: Sequence[str] = ()) -> gpd.GeoDataFrame:
    """Check that ``gdf`` is a GeoDataFrame in a projected (metric) CRS with ``columns``.

    Parameters
    ----------
    gdf
        The layer to check.
    layer
        Its name in messages, e.g. ``"districts"``.
    columns
        Columns the builder reads.

    Returns
    -------
    geopandas.GeoDataFrame
        ``gdf`` itself, typed.

    Raises
    ------
    InputError
        Not a GeoDataFrame, no CRS, a geographic CRS, or missing columns (all listed at once).
    """
    if not isinstance(gdf, gpd.GeoDataFrame):
        raise InputError(f"{layer}: expected a GeoDataFrame, got {type(gdf).__name__}")
    problems = []
    crs_problem = metric_crs_problem(gdf.crs)
    if crs_problem:
        problems.append(f"it {crs_problem}")
    missing = [c for c in columns if c not in gdf.columns]
    if missing:
        problems.append(
            f"columns {missing} are missing (expected {list(columns)}, got {list(gdf.columns)})"
        )
    if problems:
        raise InputError(f"{layer}: " + "; ".join(problems))
    return gdf


def single_parts(geometries: np.ndarray) -> np.ndarray:
    """The parts of ``geometries`` (``shapely.get_parts``), not copied when all are single.

    When every geometry is a non-empty point, line or polygon the array itself is returned:
    ``get_parts`` copies each one (0.15 s for Malta's 120k street edges).
    """
    kinds = shapely.get_type_id(geometries)
    single = (kinds >= 0) & (kinds <= shapely.GeometryType.POLYGON)  # point, lines, polygon
    if single.all() and not shapely.is_empty(geometries).any():
        return geometries
    return shapely.get_parts(geometries)


def as_points(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Return a copy with polygons and lines replaced by a point inside them (points kept)."""
    is_point = gdf.geom_type == "Point"
    if bool(is_point.all()):
        return gdf
    return gdf.set_geometry(gdf.geometry.where(is_point, gdf.geometry.representative_point()))


def in_view(
    layer: gpd.GeoDataFrame, study_area: gpd.GeoDataFrame | None, *, what: str
) -> gpd.GeoDataFrame:
    """What a map of ``layer`` is framed on: ``study_area`` when given, else ``layer``.

    Features of ``layer`` wholly outside the study area are named in a warning: they stay in
    the tables but out of the map's view. (Monaco's extract holds one attraction 85 km west of
    the city: framed on the sites, the sites map showed Monaco as a blob at its edge.)
    """
    if study_area is None or study_area.empty:
        return layer
    area = study_area.to_crs(layer.crs).geometry.union_all()
    outside = ~shapely.intersects(layer.geometry.to_numpy(), area)
    if outside.any():
        names = layer.loc[outside, "name"] if "name" in layer else layer.index[outside]
        logger.warning(
            "%d of %d %s lie outside the study area, not in the map's view: %s",
            int(outside.sum()), len(layer), what, ", ".join(map(str, list(names)[:5])),
        )  # fmt: skip
    return study_area.to_crs(layer.crs)


def label_points(wgs: gpd.GeoDataFrame) -> list[tuple[float, float]]:
    """Return where each feature's label fits best, as ``(latitude, longitude)``.

    For a polygon, the point of its largest part farthest from the edges (its pole of
    inaccessibility, ``shapely.ops.polylabel``, found with longitudes shrunk by the cosine of the
    latitude so that distances are even); for a long, thin district this is mid-way along it,
    where ``representative_point`` may sit near an edge. Other geometries: a point inside.

    Parameters
    ----------
    wgs
        A layer in EPSG:4326 degrees.
    """
    if wgs.empty:
        return []
    shrink = float(np.cos(np.radians(np.nanmean(wgs.geometry.bounds[["miny", "maxy"]]))))
    out = []
    for geom in wgs.geometry:
        parts = [p for p in shapely.get_parts(geom) if p.geom_type == "Polygon" and p.area > 0]
        if not parts:
            point = geom.representative_point()
            out.append((point.y, point.x))
            continue
        largest = shapely.affinity.scale(
            max(parts, key=lambda p: p.area), xfact=shrink, yfact=1.0, origin=(0, 0)
        )
        point = polylabel(largest, tolerance=max(largest.area**0.5 / 200, 1e-7))
        out.append((point.y, point.x / shrink))
    return out


#: Screen pixels across the opening view, times 2**3: three zoom levels in from it.
_PIXELS_ACROSS = 1000 * 2**3


def scale_tolerance_m(gdf: gpd.GeoDataFrame) -> float:
    """Simplification tolerance tied to the map's scale: one screen pixel three zoom levels in.

    A map opens fitted to ``gdf`` (about 1,000 px across); each zoom level doubles the scale, so
    three levels in a pixel covers 1/8,000 of the extent. Vertices closer than that to the
    simplified line cannot be seen until the viewer has zoomed in three levels. Never below 1 m.
    Helsinki's 1.7 km² extract: 1 m; Malta (35 km across): 4.4 m.

    Parameters
    ----------
    gdf
        The layer the map is framed on, in a metric CRS.

    Returns
    -------
    float
        Tolerance in metres.
    """
    west, south, east, north = gdf.total_bounds
    extent_m = max(east - west, north - south)
    return max(1.0, float(extent_m) / _PIXELS_ACROSS) if np.isfinite(extent_m) else 1.0


def to_wgs84(gdf: gpd.GeoDataFrame, *, tolerance_m: float) -> gpd.GeoDataFrame:
    """Simplify in the metric CRS, reproject to EPSG:4326 and round coordinates to ~1 m.

    Parameters
    ----------
    gdf
        A layer in a projected CRS (not modified).
    tolerance_m
        Douglas–Peucker tolerance in metres (topology preserved); 0 keeps every vertex.

    Returns
    -------
    geopandas.GeoDataFrame
        A new frame in EPSG:4326 with a 0..n-1 index, empty geometries dropped.
    """
    out = gdf.reset_index(drop=True)
    if tolerance_m > 0:
        out = out.set_geometry(out.geometry.simplify(tolerance_m, preserve_topology=True))
    out = out.to_crs(WGS84)
    out = out.set_geometry(shapely.set_precision(out.geometry.values, _GRID_DEG, mode="pointwise"))
    return out[~out.geometry.is_empty & out.geometry.notna()].reset_index(drop=True)


class VectorLayer(folium.map.Layer):
    """A GeoJSON overlay whose data reach the page as JSON blocks, untouched by Python or Jinja.

    folium's ``GeoJson`` turns every feature into Python dicts, calls the style function per
    feature and then re-parses its whole script, data included, as a Jinja template: most of the
    time of a country-sized map (Malta: 30 s). Here the geometries (``shapely.to_geojson``), the
    distinct styles with one index per feature, and the popup and tooltip texts each travel once
    as a ``<script type="application/json">`` block, shared by every layer that uses the same
    block (the six district layers share one geometry block). A small script builds the Leaflet
    layer in the browser; the page shows the same features, styles, popups and tooltips.

    Built by :func:`geojson_layer`.
    """

    _template = Template("")  # no Jinja: the script is written by render()

    def __init__(self, blobs: dict[str, str], options: dict[str, Any], **layer: Any) -> None:
        super().__init__(overlay=True, control=True, **layer)
        self._name = "VectorLayer"
        self.blobs = blobs
        self.options = options

    # branca types Element.render -> str, but MacroElement (a Layer) renders into the page, None
    def render(self, **kwargs: Any) -> None:  # type: ignore[override]
        """Add the data blocks, the builder function and this layer's script to the page."""
        figure = cast("Figure", self.get_root())  # a layer on a map: the root is its Figure
        for blob_id, text in self.blobs.items():
            block = f'<script type="application/json" id="{blob_id}">{text}</script>'
            figure.html.add_child(_Raw(block), name=blob_id)
        figure.script.add_child(_Raw(_BUILDER_JS), name="cg_vector_layer")
        figure.script.add_child(
            _Raw(f"var {self.get_name()} = cgVectorLayer({js_literal(self.options)});"),
            name=self.get_name(),
        )
        super().render(**kwargs)  # type: ignore[no-untyped-call]  # branca leaves it unannotated


class _Raw(Element):
    """Text put into the page as it is (branca's ``Element`` would parse it as a template)."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text

    def render(self, **kwargs: Any) -> str:
        return self.text


# Builds a layer from its blocks: features in order (id = row), style = styles[index[id]];
# popups and tooltips look as folium's GeoJsonPopup/GeoJsonTooltip made them.
_BUILDER_JS = """
function cgVectorLayer(o) {
  var cache = window.cgBlocks = window.cgBlocks || {};
  function block(id) {
    if (!id) { return null; }
    if (!(id in cache)) { cache[id] = JSON.parse(document.getElementById(id).textContent); }
    return cache[id];
  }
  var geoms = block(o.geometry), index = block(o.index), styles = o.styles;
  function texts(id) {
    var b = block(id);
    return b && b.texts.map(function (ix) {
      return ix.map(function (k) { return b.fragments[k]; }).join("");
    });
  }
  var popups = texts(o.popup), tooltips = texts(o.tooltip);
  function style(f) { return styles[index ? index[f.id] : 0]; }
  var layer = L.geoJson(null, {
    interactive: o.interactive, style: style,
    pointToLayer: function (f, latlng) {
      var options = {radius: 6, interactive: o.interactive};
      return L.circleMarker(latlng, Object.assign(options, style(f)));
    }
  });
  var features = new Array(geoms.length);
  for (var i = 0; i < geoms.length; i++) {
    var p = {};
    if (popups) { p.popup = popups[i]; }
    if (tooltips) { p.tooltip = tooltips[i]; }
    features[i] = {type: "Feature", id: i, geometry: geoms[i], properties: p};
  }
  layer.addData(features);
  function detail(key) {
    return function (l) {
      var d = L.DomUtil.create("div");
      d.innerHTML = "<table><tr><td>" + l.feature.properties[key] + "</td></tr></table>";
      return d;
    };
  }
  if (popups) { layer.bindPopup(detail("popup"), o.popupOptions); }
  if (tooltips) {
    layer.bindTooltip(detail("tooltip"), {sticky: true, className: "foliumtooltip"});
  }
  return layer;
}
"""


def _block(text: str) -> tuple[str, str]:
    """``(id, JSON text safe inside <script>)``; the id is the content's hash (shared blocks)."""
    safe = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return "cg-" + hashlib.sha1(safe.encode("utf-8")).hexdigest()[:16], safe


# GEOS writes up to 15 decimals: a coordinate rounded to 1e-5 degrees comes out as
# 14.483459999999999 (the double nearest 14.48346 is not 14.48346 to 15 places). Found by their
# decimals alone (a pattern that starts with the digits before the point is tried at every digit:
# 10x slower on Malta's 2.5 MB of street coordinates, of which 282 numbers are long).
_LONG_DECIMALS = re.compile(r"\.\d{6,}")
_NUMBER_START = frozenset("-0123456789")


def _short_numbers(text: str) -> str:
    """``text`` (GeoJSON) with every number of more than 5 decimals written rounded to 5."""
    pieces, done = [], 0
    for match in _LONG_DECIMALS.finditer(text):
        start = match.start()
        while start > done and text[start - 1] in _NUMBER_START:
            start -= 1
        pieces += [text[done:start], repr(round(float(text[start : match.end()]), 5))]
        done = match.end()
    return "".join([*pieces, text[done:]])


_ROW_END = re.compile(r"(?<=</tr>)")


def _fragments(texts: Sequence[str]) -> str:
    """JSON of ``texts`` split into table rows, each distinct row once, rebuilt in the browser.

    Popups repeat their rows ("Assumes: worst case...", "Crash rating: not crash-rated"):
    Malta's 8,324 approach popups take 4.9 MB written out, 1.0 MB as rows and indices.
    """
    ids: dict[str, int] = {}
    rows = [[ids.setdefault(part, len(ids)) for part in _ROW_END.split(t) if part] for t in texts]
    return json.dumps({"fragments": list(ids), "texts": rows}, ensure_ascii=False)


def geojson_layer(
    gdf: gpd.GeoDataFrame,
    *,
    name: str,
    styles: Sequence[dict[str, Any]] | dict[str, Any],
    popups: Sequence[str] | None = None,
    tooltips: Sequence[str] | None = None,
    show: bool = True,
    interactive: bool = True,
) -> VectorLayer:
    """Return a folium layer of ``gdf`` (EPSG:4326) with per-feature styles and texts.

    Parameters
    ----------
    gdf
        Features in EPSG:4326 with a 0..n-1 index (as :func:`to_wgs84` returns).
    name
        Layer name shown in the layer control, plain text (escaped here: Leaflet inserts it as
        HTML).
    styles
        One Leaflet path style per feature (``radius`` sizes points), or one style for all.
    popups, tooltips
        Pre-escaped HTML per feature (from ``_style.popup_html`` or ``_style.escape_text``), or
        None for none.
    show
        Whether the layer is on when the map opens.
    interactive
        False for background layers that must not catch clicks.

    Returns
    -------
    VectorLayer
        Points are drawn as circle markers (radius 6 px unless the style says otherwise).

    Raises
    ------
    ValueError
        A popup or tooltip holds a Jinja delimiter (it was not escaped), or a list of styles,
        popups or tooltips does not have one item per feature.
    """
    blobs: dict[str, str] = {}

    def count(values: Sequence[Any], what: str) -> Sequence[Any]:
        if len(values) != len(gdf):
            raise ValueError(f"{name}: {len(values)} {what} for {len(gdf)} features")
        return values

    def add(text: str) -> str:
        blob_id, safe = _block(text)
        blobs[blob_id] = safe
        return blob_id

    geometries = _short_numbers(
        "[" + ",".join(shapely.to_geojson(gdf.geometry.to_numpy()).tolist()) + "]"
    )
    options: dict[str, Any] = {"geometry": add(geometries), "interactive": interactive}
    if isinstance(styles, dict):
        options["styles"] = [styles]
    else:
        keys = [json.dumps(s, sort_keys=True) for s in styles]
        distinct = {key: k for k, key in enumerate(dict.fromkeys(keys))}
        options["styles"] = [json.loads(key) for key in distinct]
        options["index"] = add(json.dumps([distinct[key] for key in count(keys, "styles")]))
    for key, texts in (("popup", popups), ("tooltip", tooltips)):
        if texts is not None:
            checked = [check_inert(t, where=f"{name}: {key}") for t in texts]
            options[key] = add(_fragments(count(checked, key + "s")))
    # keep the popup clear of the title at the top of the map (up to 4 header lines, ~190 px);
    # a long popup scrolls within 320 px, so the pair fits a notebook's 600 px view
    options["popupOptions"] = {
        "maxWidth": 360,
        "maxHeight": 320,
        "autoPanPaddingTopLeft": [60, 200],
        "className": "foliumpopup",
    }
    return VectorLayer(blobs, options, name=escape_text(name), show=show)
