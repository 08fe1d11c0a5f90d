"""GeoDataFrame → folium layer plumbing shared by the map builders.

Frames come in the study area's metric CRS; they are simplified there (tolerance in metres),
reprojected to EPSG:4326 and rounded to 1e-6 degrees (about 0.1 m) so the HTML stays small. Only the
pre-escaped ``popup``/``tooltip`` text travels to the browser, never the raw columns; layer names
are escaped here, and a popup or tooltip holding a Jinja delimiter is refused (see ``_style``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import folium
import geopandas as gpd
import shapely

from cohesion_gis._validate import metric_crs_problem
from cohesion_gis.errors import InputError
from cohesion_gis.maps._style import check_inert, escape_text

__all__ = ["as_points", "check_frame", "geojson_layer", "to_wgs84"]

WGS84 = "EPSG:4326"
_GRID_DEG = 1e-6


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


def as_points(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Return a copy with polygons and lines replaced by a point inside them (points kept)."""
    is_point = gdf.geom_type == "Point"
    if bool(is_point.all()):
        return gdf
    return gdf.set_geometry(gdf.geometry.where(is_point, gdf.geometry.representative_point()))


def to_wgs84(gdf: gpd.GeoDataFrame, *, tolerance_m: float) -> gpd.GeoDataFrame:
    """Simplify in the metric CRS, reproject to EPSG:4326 and round coordinates to ~0.1 m.

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


def geojson_layer(
    gdf: gpd.GeoDataFrame,
    *,
    name: str,
    styles: Sequence[dict[str, Any]] | dict[str, Any],
    popups: Sequence[str] | None = None,
    tooltips: Sequence[str] | None = None,
    show: bool = True,
    interactive: bool = True,
) -> folium.GeoJson:
    """Return a folium GeoJson layer of ``gdf`` (EPSG:4326) with per-feature styles and texts.

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
    folium.GeoJson
        Points are drawn as circle markers.

    Raises
    ------
    ValueError
        A popup or tooltip holds a Jinja delimiter (it was not escaped).
    """
    props: dict[str, Sequence[str]] = {}
    for key, texts in (("popup", popups), ("tooltip", tooltips)):
        if texts is not None:
            props[key] = [check_inert(t, where=f"{name}: {key}") for t in texts]
    data = gpd.GeoDataFrame(props, geometry=gdf.geometry.values, crs=gdf.crs)
    style_of: Callable[[dict[str, Any]], dict[str, Any]]
    if isinstance(styles, dict):
        fixed = styles
        style_of = lambda _feature: fixed  # noqa: E731
    else:
        per_feature = list(styles)
        style_of = lambda feature: per_feature[int(feature["id"])]  # noqa: E731
    return folium.GeoJson(
        data.__geo_interface__,
        name=escape_text(name),
        style_function=style_of,
        highlight_function=None,
        popup=(
            folium.GeoJsonPopup(
                fields=["popup"],
                labels=False,
                localize=False,
                max_width=360,
                # keep the popup clear of the title at the top of the map
                auto_pan_padding_top_left=[60, 80],
            )
            if popups is not None
            else None
        ),
        tooltip=(
            folium.GeoJsonTooltip(fields=["tooltip"], labels=False, localize=False)
            if tooltips is not None
            else None
        ),
        marker=folium.CircleMarker(radius=6) if _has_points(gdf) else None,
        show=show,
        interactive=interactive,
        embed=True,
    )


def _has_points(gdf: gpd.GeoDataFrame) -> bool:
    return bool(gdf.geom_type.isin(["Point", "MultiPoint"]).any())
