"""Self-contained folium maps: every script, stylesheet and image inlined, no network needed.

A folium 0.20 page loads Leaflet, jQuery, Bootstrap, Font Awesome and more from CDNs, so on a
council network that blocks them the page is blank. :func:`save_offline` renders the map and
replaces each CDN reference with the same library read from an installed ``xstatic-*`` Python
package (images and fonts inside the CSS become ``data:`` URIs). A reference it does not know, a
missing package, or a remote tile layer left in the map is an error, so a folium upgrade fails
loudly instead of shipping a blank map.

Assets (folium 0.20 / branca 0.8 URLs, matched by path so the CDN host does not matter):

============================  =========================  ==========================================
asset                         Python package             inlined
============================  =========================  ==========================================
Leaflet 1.9.3 JS + CSS        ``xstatic-leaflet``        always (marker images as data: URIs)
jQuery 3.7.1                  ``xstatic-jquery``         always (folium popups call ``$``)
d3 3.5 (branca colormaps)     ``xstatic-d3``             when the map has a branca colour legend
jQuery UI (explore legends)   ``xstatic-jquery-ui``      when the map has a geopandas explore legend
Font Awesome 6 CSS + fonts    ``xstatic-font-awesome``   only with ``lean=False``
Leaflet.Sync (``DualMap``)    none: a 20-line shim here  when the map is a ``DualMap``
Bootstrap 5, awesome-markers  no Python package          never (unused by cohesion_gis maps);
and Bootstrap 3 glyphicons                               a map using ``folium.Icon`` is an error
============================  =========================  ==========================================
"""

from __future__ import annotations

import base64
import html
import importlib
import logging
import mimetypes
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from cohesion_gis._atomic import atomic_path
from cohesion_gis.errors import InputError

if TYPE_CHECKING:
    from branca.element import Element

__all__ = ["OfflineView", "inline_html", "notebook_view", "save_offline"]

logger = logging.getLogger(__name__)


class _Renderable(Protocol):
    def get_root(self) -> Element: ...


@dataclass(frozen=True)
class _Asset:
    """Where one CDN file is found locally.

    ``package`` is the xstatic module (``xstatic.pkg.<package>``) and ``file`` the path below its
    ``BASE_DIR``; ``package=None`` means the asset is dropped (``file`` then names, as a regex, the
    JavaScript use that would need it); ``lean_drop`` assets are dropped in lean mode only.
    """

    package: str | None
    file: str
    pip_name: str = ""
    lean_drop: bool = False


_ASSETS: dict[str, _Asset] = {
    "/npm/leaflet@1.9.3/dist/leaflet.js": _Asset("leaflet", "leaflet.js", "xstatic-leaflet"),
    "/npm/leaflet@1.9.3/dist/leaflet.css": _Asset("leaflet", "leaflet.css", "xstatic-leaflet"),
    "/jquery-3.7.1.min.js": _Asset("jquery", "jquery.min.js", "xstatic-jquery"),
    "/ajax/libs/jquery/3.7.1/jquery.min.js": _Asset("jquery", "jquery.min.js", "xstatic-jquery"),
    "/ajax/libs/d3/3.5.5/d3.min.js": _Asset("d3", "d3.js", "xstatic-d3"),
    "/ui/1.12.1/jquery-ui.js": _Asset("jquery_ui", "jquery-ui.min.js", "xstatic-jquery-ui"),
    "/ui/1.12.1/themes/base/jquery-ui.css": _Asset(
        "jquery_ui", "jquery-ui.min.css", "xstatic-jquery-ui"
    ),
    "/npm/@fortawesome/fontawesome-free@6.2.0/css/all.min.css": _Asset(
        "font_awesome", "css/all.min.css", "xstatic-font-awesome", lean_drop=True
    ),
    "/npm/bootstrap@5.2.2/dist/js/bootstrap.bundle.min.js": _Asset(None, r"\bbootstrap\.[A-Z]"),
    "/npm/bootstrap@5.2.2/dist/css/bootstrap.min.css": _Asset(None, r"\bbootstrap\.[A-Z]"),
    "/bootstrap/3.0.0/css/bootstrap-glyphicons.css": _Asset(None, r"L\.AwesomeMarkers"),
    "/ajax/libs/Leaflet.awesome-markers/2.0.2/leaflet.awesome-markers.js": _Asset(
        None, r"L\.AwesomeMarkers"
    ),
    "/ajax/libs/Leaflet.awesome-markers/2.0.2/leaflet.awesome-markers.css": _Asset(
        None, r"L\.AwesomeMarkers"
    ),
    "/gh/python-visualization/folium/folium/templates/leaflet.awesome.rotate.min.css": _Asset(
        None, r"L\.AwesomeMarkers"
    ),
}

_SYNC_URL_PATH = "/gh/jieter/Leaflet.Sync/L.Map.Sync.min.js"

# Our own minimal stand-in for Leaflet.Sync (``map.sync(other)``), used by folium's DualMap.
_SYNC_SHIM = """
L.Map.include({
  sync: function (other) {
    var self = this;
    this._syncTargets = (this._syncTargets || []).concat([other]);
    if (!this._syncBound) {
      this._syncBound = true;
      this.on("move", function () {
        if (self._syncing) { return; }
        self._syncTargets.forEach(function (target) {
          target._syncing = true;
          target.setView(self.getCenter(), self.getZoom(), {animate: false});
          target._syncing = false;
        });
      });
    }
    return this;
  }
});
"""

_SCRIPT_TAG = re.compile(r'<script\s+src="(?P<url>[^"]+)"\s*>\s*</script>', re.IGNORECASE)
_LINK_TAG = re.compile(r'<link\s+rel="stylesheet"\s+href="(?P<url>[^"]+)"\s*/?>', re.IGNORECASE)
_CSS_URL = re.compile(r"url\((?P<q>['\"]?)(?P<ref>[^)'\"]+)(?P=q)\)")
_REMOTE_TILES = re.compile(r"L\.tileLayer(?:\.wms)?\(\s*[\"'](?P<url>(?:https?:)?//[^\"']+)")
_REMOTE_LEFT = re.compile(
    r"<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)=\"(?:https?:)?//[^\"]*\"|url\(['\"]?https?:",
    re.IGNORECASE,
)
_URL_PATH = re.compile(r"^(?:https?:)?//[^/]+(?P<path>/.*)$")
_SCRIPT_BODY = re.compile(r"(<script\b[^>]*>)(.*?)(</script\s*>)", re.IGNORECASE | re.DOTALL)
_JS_STRING = re.compile(r'"(?:[^"\\\n]|\\.)*"')
_DATA_BLOCK = re.compile(r'\btype="application/json"', re.IGNORECASE)
# the layers' data blocks hold no "<" (``_layers._block`` escapes it): emptied first by this
# pattern, which runs through a 9 MB page in 10 ms (``_SCRIPT_BODY``'s lazy match: 200 ms)
_DATA_BODY = re.compile(r'(<script type="application/json" id="cg-[0-9a-f]{16}">)[^<]*(</script>)')
_TITLE = re.compile(r"<title>.*?</title>", re.IGNORECASE | re.DOTALL)


def _code_of(page: str) -> str:
    """Return ``page`` with the double-quoted strings inside its scripts emptied.

    Text from data (names, popups, titles) lives only in such strings and in the layers' JSON
    data blocks (emptied whole), so a district named ``url(https://x)`` or ``L.AwesomeMarkers`` is
    not taken for a remote reference or a use of an asset, which would refuse to write the map.
    """
    page = _TITLE.sub("<title></title>", page)  # the page title is text from data too
    page = _DATA_BODY.sub(r"\1\2", page)

    def code(m: re.Match[str]) -> str:
        if _DATA_BLOCK.search(m.group(1)):  # JSON data (map layers): never run, all text
            return m.group(1) + m.group(3)
        return m.group(1) + _JS_STRING.sub('""', m.group(2)) + m.group(3)

    return _SCRIPT_BODY.sub(code, page)


def _package_dir(asset: _Asset) -> Path:
    try:
        module = importlib.import_module(f"xstatic.pkg.{asset.package}")
    except ImportError as exc:
        raise ImportError(
            f"inlining {asset.file} into an offline map needs the Python package "
            f"{asset.pip_name}; install it with `pip install {asset.pip_name}`"
        ) from exc
    return Path(module.BASE_DIR)


def _data_uri(path: Path) -> str:
    mime = mimetypes.guess_type(path.name)[0]
    if mime is None:
        mime = {".woff2": "font/woff2", ".woff": "font/woff", ".ttf": "font/ttf"}.get(
            path.suffix, "application/octet-stream"
        )
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


def _inline_css(path: Path) -> str:
    """Return the stylesheet with every relative ``url()`` replaced by a data: URI."""
    text = path.read_text(encoding="utf-8")

    def sub(match: re.Match[str]) -> str:
        if match.group("ref").startswith(("data:", "#")):
            return match.group(0)
        ref = match.group("ref").split("?")[0].split("#")[0]
        target = (path.parent / ref).resolve()
        if not target.is_file():
            raise InputError(
                f"{path.name}: url({ref}) points to {target}, which does not exist; "
                "reinstall the xstatic package that ships it"
            )
        return f'url("{_data_uri(target)}")'

    css = _CSS_URL.sub(sub, text)
    return "<style>" + re.sub(r"</style", r"<\\/style", css, flags=re.IGNORECASE) + "</style>"


def _script(code: str) -> str:
    return "<script>" + re.sub(r"</script", r"<\\/script", code, flags=re.IGNORECASE) + "</script>"


def _leaflet_icon_fix(leaflet_dir: Path, *, lean: bool) -> str:
    images = leaflet_dir / "images"
    icon = _data_uri(images / "marker-icon.png")
    retina = icon if lean else _data_uri(images / "marker-icon-2x.png")
    shadow = _data_uri(images / "marker-shadow.png")
    return _script(
        'L.Icon.Default.imagePath="";L.Icon.Default.mergeOptions('
        f'{{iconUrl:"{icon}",iconRetinaUrl:"{retina}",shadowUrl:"{shadow}"}});'
    )


def _url_path(url: str) -> str:
    match = _URL_PATH.match(url)
    return match.group("path") if match else url


def inline_html(html_text: str, *, lean: bool = True, allow_remote_tiles: bool = False) -> str:
    """Replace every CDN ``<script>``/``<link>`` in a rendered folium page by inline content.

    Parameters
    ----------
    html_text
        The page, as ``m.get_root().render()`` returns it.
    lean
        Leave out assets that cohesion_gis maps do not use (Font Awesome). ``False`` inlines
        them too, which costs about 1.2 MB.
    allow_remote_tiles
        Accept a remote tile layer (``L.tileLayer("https://...")``). The page then needs the tile
        server; without it the map shows the vector base layer only.

    Returns
    -------
    str
        The page with no external reference.

    Raises
    ------
    InputError
        A CDN URL this module does not know (for example after a folium upgrade), an asset that has
        no Python package but is used (awesome-markers from ``folium.Icon``), a remote tile layer
        without ``allow_remote_tiles``, or any other remote reference left in the page.
    ImportError
        An ``xstatic-*`` package needed for an asset is not installed.
    """
    if not allow_remote_tiles:
        tiles = _REMOTE_TILES.search(html_text)
        if tiles:
            raise InputError(
                f"the map has a remote tile layer ({tiles.group('url')}), which needs the "
                "internet; build it with tiles=None (the vector base layer) or pass "
                "allow_remote_tiles=True"
            )

    code_only = _code_of(_LINK_TAG.sub("", _SCRIPT_TAG.sub("", html_text)))

    def sub(match: re.Match[str]) -> str:
        url = match.group("url")
        path = _url_path(url)
        is_script = match.group(0).lower().startswith("<script")
        if path == _SYNC_URL_PATH:
            return _script(_SYNC_SHIM)
        asset = _ASSETS.get(path)
        if asset is None:
            raise InputError(
                f"the map loads {url}, which cohesion_gis cannot inline (known: "
                f"{', '.join(sorted(_ASSETS))}); remove the folium feature that needs it, or add "
                "the asset to cohesion_gis.maps.offline._ASSETS if a Python package ships it"
            )
        if asset.package is None:
            if re.search(asset.file, code_only):
                raise InputError(
                    f"the map uses {url} (matched {asset.file!r}), which no Python package "
                    "ships; use folium.CircleMarker or folium.DivIcon instead of folium.Icon"
                )
            return ""
        if lean and asset.lean_drop:
            return ""
        folder = _package_dir(asset)
        if not is_script:
            return _inline_css(folder / asset.file)
        code = _script((folder / asset.file).read_text(encoding="utf-8"))
        if asset.package == "leaflet":
            code += _leaflet_icon_fix(folder, lean=lean)
        return code

    out = _SCRIPT_TAG.sub(sub, html_text)
    out = _LINK_TAG.sub(sub, out)
    left = _REMOTE_LEFT.search(_code_of(out))
    if left:
        raise InputError(
            f"the offline map still references a remote resource: {left.group(0)[:200]}; "
            "remove the element that adds it"
        )
    return out


def save_offline(
    m: _Renderable,
    path: str | os.PathLike[str],
    *,
    lean: bool = True,
    allow_remote_tiles: bool = False,
) -> Path:
    """Write a folium map as one self-contained HTML file that needs no internet.

    Parameters
    ----------
    m
        A ``folium.Map``, ``folium.plugins.DualMap`` or ``branca`` ``Figure``.
    path
        Output file (``.html``). Written atomically: a temporary file in the same folder is
        renamed over it, so a reader never sees half a file.
    lean
        See :func:`inline_html`.
    allow_remote_tiles
        See :func:`inline_html`.

    Returns
    -------
    pathlib.Path
        The file written.

    Raises
    ------
    InputError
        See :func:`inline_html`.

    Examples
    --------
    >>> import folium, tempfile, pathlib
    >>> m = folium.Map(location=[60.17, 24.94], zoom_start=14, tiles=None)
    >>> out = save_offline(m, pathlib.Path(tempfile.mkdtemp()) / "map.html")
    >>> "cdn." in out.read_text()
    False
    """
    out_path = Path(path)
    page = inline_html(
        m.get_root().render(),
        lean=lean,
        allow_remote_tiles=allow_remote_tiles,
    )
    with atomic_path(out_path, overwrite=True) as tmp:
        tmp.write_text(page, encoding="utf-8")
    logger.info("wrote offline map %s (%.2f MB)", out_path, len(page.encode("utf-8")) / 1e6)
    return out_path


@dataclass(frozen=True)
class OfflineView:
    """An offline map for Jupyter: the inlined page shown in an ``iframe`` ``srcdoc``.

    Attributes
    ----------
    html
        The self-contained page.
    height_px
        Height of the frame in pixels.
    """

    html: str = field(repr=False)
    height_px: int = 600

    def _repr_html_(self) -> str:
        return (
            f'<iframe srcdoc="{html.escape(self.html, quote=True)}" '
            f'style="width:100%;height:{self.height_px}px;border:none" '
            'sandbox="allow-scripts allow-popups"></iframe>'
        )


def notebook_view(
    m: _Renderable, *, height_px: int = 600, lean: bool = True, allow_remote_tiles: bool = False
) -> OfflineView:
    """Return a Jupyter-displayable view of the map that works without internet.

    folium's own notebook display loads its scripts from CDNs and stays blank offline; this view
    inlines them like :func:`save_offline`.

    Parameters
    ----------
    m
        A ``folium.Map``, ``DualMap`` or ``Figure``.
    height_px
        Height of the view in pixels.
    lean, allow_remote_tiles
        See :func:`inline_html`.

    Returns
    -------
    OfflineView
        Displayed by Jupyter through its ``_repr_html_``.
    """
    page = inline_html(
        m.get_root().render(),
        lean=lean,
        allow_remote_tiles=allow_remote_tiles,
    )
    return OfflineView(page, height_px)
