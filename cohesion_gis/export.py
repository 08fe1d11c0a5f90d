"""Writing results: GeoPackage, CSV and JSON, atomically, with provenance.

Every writer writes to a temporary file beside the target and renames it into place
(:mod:`cohesion_gis._atomic`), so a failed run never leaves a half-written output; files get the
user's umask. Existing files are kept unless ``overwrite=True``. A GeoPackage gets a
``metadata`` attribute table (key, value) and every output a sidecar ``<name>.provenance.json``:
data source and date, parameters, package version and the ODbL attribution.

- **CSV** (:func:`write_csv`, the one CSV writer of the package): RFC 4180 (CRLF line ends, so
  a cell holding a line break is quoted); a text cell starting with
  ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is written with a leading ``'`` so a
  spreadsheet shows it as text instead of running it as a formula (OWASP, "CSV Injection").
- **A comparison** (:func:`write_comparison`): its tables, summary and side-by-side map in one
  folder, together or not at all (what ``batch`` and ``cohesion-gis compare`` write).
- **JSON** (:func:`write_json`): strict JSON; a NaN or infinite number is written as ``null``
  (and logged), never as the ``NaN`` token most JSON readers reject.
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd

from cohesion_gis._atomic import atomic_path, refuse_existing, staged_files
from cohesion_gis._text import clean_text, is_text
from cohesion_gis.errors import InputError

if TYPE_CHECKING:
    from cohesion_gis.city import City
    from cohesion_gis.comparison import Comparison

__all__ = [
    "COMPARISON_NAMES",
    "atomic_path",
    "for_spreadsheets",
    "layers_names",
    "one_geometry_type",
    "read_layer",
    "refuse_existing",
    "write_comparison",
    "write_csv",
    "write_geopackage",
    "write_json",
    "write_layers",
]

#: First characters that make a spreadsheet read a cell as a formula (OWASP CSV Injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

#: Files of one comparison (:func:`write_comparison`); ``summary.json`` last marks it finished.
COMPARISON_NAMES = (
    "comparison.gpkg", "comparison.provenance.json", "districts.csv", "sites.csv",
    "scenario_map.html", "scenario_map.pdf", "summary.json",
)  # fmt: skip

log = logging.getLogger(__name__)


def write_geopackage(
    tables: Mapping[str, gpd.GeoDataFrame | pd.DataFrame],
    path: str | Path,
    *,
    metadata: Mapping[str, Any],
    overwrite: bool = False,
) -> Path:
    """Write tables as layers of one GeoPackage, plus a ``metadata`` table and a sidecar JSON.

    Empty layers are written too (with their columns), so a reader always finds every layer.
    Non-spatial tables become GeoPackage attribute tables.
    """
    import pyogrio

    path = Path(path)
    with atomic_path(path, overwrite=overwrite) as tmp:
        for layer, table in tables.items():
            if len(table.columns) == 0:
                log.info("%s: layer %s has no columns; not written", path.name, layer)
                continue
            frame = _plain_columns(table)
            if isinstance(frame, gpd.GeoDataFrame):
                for name, part in one_geometry_type(frame, layer).items():
                    pyogrio.write_dataframe(
                        part, tmp, layer=name, driver="GPKG", promote_to_multi=None
                    )
            else:
                pyogrio.write_dataframe(frame, tmp, layer=layer, driver="GPKG")
        meta = pd.DataFrame({"key": list(metadata), "value": [_json(v) for v in metadata.values()]})
        pyogrio.write_dataframe(meta, tmp, layer="metadata", driver="GPKG")
    write_json(metadata, path.with_suffix(".provenance.json"), overwrite=True)
    log.info("wrote %s (%d layers)", path, len(tables))
    return path


_FAMILIES = {"Point": "points", "LineString": "lines", "Polygon": "polygons"}


def one_geometry_type(frame: gpd.GeoDataFrame, layer: str) -> dict[str, gpd.GeoDataFrame]:
    """Split a layer that mixes points, lines and polygons into one layer per kind.

    QGIS asks which sub-layer to open when a GeoPackage layer mixes geometry types; a layer of
    one kind is kept whole (``layer``), a mixed one becomes ``<layer>_points``,
    ``<layer>_lines`` and ``<layer>_polygons``. Multi-parts join their kind (a kind holding both
    is written as Multi*).
    """
    kinds = frame.geom_type.str.removeprefix("Multi").map(_FAMILIES)
    present = sorted(set(kinds.dropna()))
    if len(present) <= 1:
        return {layer: frame}
    return {f"{layer}_{kind}": frame.loc[kinds == kind] for kind in present}


def read_layer(path: str | Path, layer: str) -> gpd.GeoDataFrame:
    """Read a layer :func:`write_geopackage` wrote, joining it again if it was split by kind.

    Raises
    ------
    InputError
        Neither ``layer`` nor any ``<layer>_points/_lines/_polygons`` is in the file.
    """
    import pyogrio

    names = {name for name, _ in pyogrio.list_layers(path)}
    if layer in names:
        return gpd.read_file(path, layer=layer)
    parts = [f"{layer}_{kind}" for kind in _FAMILIES.values() if f"{layer}_{kind}" in names]
    if not parts:
        raise InputError(
            f"{path}: layer {layer!r} missing; write it with `cohesion-gis layers` "
            "(cohesion_gis.write_layers)"
        )
    frames = [gpd.read_file(path, layer=name) for name in parts]
    return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=frames[0].crs)


def write_csv(
    table: pd.DataFrame, path: str | Path, *, overwrite: bool = False, geometry: bool = False
) -> Path:
    """Write a table as CSV (geometry dropped, or as WKT with ``geometry=True``)."""
    frame = pd.DataFrame(table)
    if isinstance(table, gpd.GeoDataFrame):
        name = table.geometry.name
        frame = frame.drop(columns=name)
        if geometry:
            frame["geometry_wkt"] = table.geometry.to_wkt()
    frame = frame.rename(columns=lambda c: _safe_cell(c) if isinstance(c, str) else c)
    for column in frame.columns:
        if is_text(frame[column]):
            frame[column] = frame[column].astype(object).map(_safe_cell)
    frame = for_spreadsheets(frame)
    with atomic_path(path, overwrite=overwrite) as tmp:  # BOM: Excel then reads ä, ö as UTF-8
        frame.to_csv(tmp, index=False, lineterminator="\r\n", encoding="utf-8-sig")
    return Path(path)


#: A text cell holding only a decimal number (``-1.5``, ``+3``, ``1e3``): a number, not a formula.
_NUMBER = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")


def _safe_cell(value: Any) -> Any:
    """A text cell a spreadsheet shows as text.

    Control and bidi-override characters become ``�`` (:func:`cohesion_gis._text.clean_text`);
    a formula start gets a leading ``'`` unless the cell is a plain number.
    """
    if not isinstance(value, str):
        return value
    value = clean_text(value)
    if value.startswith(FORMULA_START) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


#: Decimals a CSV keeps: enough for shares (0-1), scores (0-100), km/h, metres and m².
CSV_DECIMALS = 3


def for_spreadsheets(frame: pd.DataFrame) -> pd.DataFrame:
    """Return ``frame`` as a CSV should hold it: whole-number floats as integers, others rounded.

    A float column whose finite values are all whole (ranks, counts: ``4.0``) becomes an integer
    column (missing values stay empty); other float columns keep :data:`CSV_DECIMALS` decimals.

    Examples
    --------
    >>> for_spreadsheets(pd.DataFrame({"rank": [4.0, None], "score": [61.23456, 2.0]}))
       rank   score
    0     4  61.235
    1  <NA>   2.000
    """
    out = frame.copy()
    for column in out.columns:
        values = out[column]
        if not pd.api.types.is_float_dtype(values):
            continue
        known = values.dropna()
        finite = bool(np.isfinite(known).all())
        if len(known) and finite and bool((known == known.round()).all()):
            out[column] = values.astype("Int64")
        else:
            out[column] = values.round(CSV_DECIMALS)
    return out


def write_json(data: Any, path: str | Path, *, overwrite: bool = False) -> Path:
    """Write strict JSON (UTF-8, indented), atomically; NaN and infinities become ``null``."""
    replaced: list[str] = []
    clean = _finite(data, "", replaced)
    if replaced:
        log.warning(
            "%s: %d non-finite numbers written as null (%s)",
            Path(path).name,
            len(replaced),
            ", ".join(replaced[:5]),
        )
    text = json.dumps(clean, indent=2, ensure_ascii=False, default=str, allow_nan=False)
    with atomic_path(path, overwrite=overwrite) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def _finite(value: Any, where: str, replaced: list[str]) -> Any:
    """``value`` with every NaN or infinite float replaced by None (their keys in ``replaced``)."""
    if isinstance(value, float) and not math.isfinite(value):
        replaced.append(where or "value")
        return None
    if isinstance(value, Mapping):
        return {k: _finite(v, f"{where}.{k}".lstrip("."), replaced) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v, f"{where}[{i}]", replaced) for i, v in enumerate(value)]
    return value


def write_layers(
    city: City,
    path: str | Path,
    *,
    overwrite: bool = False,
    raster_cell_m: float = 100.0,
) -> tuple[Path, Path]:
    """Write every layer of a City to one GeoPackage, and its residents as a GeoTIFF.

    The GeoTIFF goes beside the GeoPackage as ``<stem>_population.tif``; the files
    (:func:`layers_names`) replace older ones together or not at all.

    Returns
    -------
    gpkg, tif
        Paths written.
    """
    from cohesion_gis.sources.population import write_population_raster

    path = Path(path)
    gpkg_name, _, tif_name = names = layers_names(path)
    with staged_files(path.parent, names, overwrite=overwrite) as stage:
        write_geopackage(
            city.layers(), stage / gpkg_name, metadata=city.provenance.as_dict(), overwrite=True
        )
        write_population_raster(
            city.homes, stage / tif_name, crs=city.crs, cell_m=raster_cell_m, extent=city.boundary
        )
    return path, path.with_name(tif_name)


def layers_names(path: str | Path) -> tuple[str, str, str]:
    """The file names :func:`write_layers` writes beside ``path``: GeoPackage, sidecar, GeoTIFF."""
    path = Path(path)
    return path.name, f"{path.stem}.provenance.json", f"{path.stem}_population.tif"


def _plain_columns(table: pd.DataFrame) -> pd.DataFrame:
    """Columns GDAL can store: lists, dicts and other objects become JSON text."""
    out = table.copy()
    geometry = table.geometry.name if isinstance(table, gpd.GeoDataFrame) else None
    for column in out.columns:
        if column == geometry or out[column].dtype != object:
            continue
        values = out[column].dropna()
        if len(values) and not values.map(lambda v: isinstance(v, str)).all():
            out[column] = out[column].map(
                lambda v: v if v is None or isinstance(v, str) else _json(v)
            )
    return out


def _json(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, default=str, ensure_ascii=False)


def write_comparison(
    base_city: City,
    comparison: Comparison,
    out_dir: str | Path,
    *,
    overwrite: bool = False,
    metadata: dict[str, Any] | None = None,
    record: dict[str, Any] | None = None,
) -> list[Path]:
    """Write one comparison: districts, homes and sites tables, summary and side-by-side map.

    The files (:data:`COMPARISON_NAMES`) replace older ones together or not at all;
    ``summary.json`` is moved last and holds ``status = "done"``. ``metadata`` (default: the
    base's provenance and the scenario name) goes into the GeoPackage's metadata table;
    ``record`` adds fields to ``summary.json``.
    """
    out = Path(out_dir)
    tables = {"districts": comparison.districts, "homes": comparison.homes}
    if comparison.sites is not None:
        tables["sites"] = comparison.sites
    if metadata is None:
        metadata = {**base_city.provenance.as_dict(), "scenario": comparison.scenario.name}
    summary = {**(record or {}), "scenario": comparison.scenario.name,
               "summary": list(comparison.summary), "status": "done"}  # fmt: skip
    with staged_files(out, COMPARISON_NAMES, overwrite=overwrite) as stage:
        write_geopackage(tables, stage / "comparison.gpkg", metadata=metadata)
        write_csv(comparison.districts, stage / "districts.csv")
        if comparison.sites is not None:
            write_csv(comparison.sites, stage / "sites.csv")
        _scenario_map(base_city, comparison, stage)
        write_json(summary, stage / "summary.json")
        written = sorted(p.name for p in stage.iterdir())
    return [out / name for name in COMPARISON_NAMES if name in written]


def _scenario_map(city: City, comparison: Comparison, out: Path) -> Path:
    """The side-by-side HTML map and a one-page PDF of it for council papers."""
    from cohesion_gis.maps import comparison_map, save_offline, scenario_changes
    from cohesion_gis.maps.static import save_pdf, scenario_figure

    figure = scenario_figure(
        comparison.base_districts, comparison.scenario_districts,
        scenario_name=comparison.scenario.name, description=comparison.scenario.description,
        interventions=scenario_changes(city, comparison.city),
        streets=city.walk_edges, buildings=city.buildings,
    )  # fmt: skip
    save_pdf(figure, out / "scenario_map.pdf")
    return save_offline(comparison_map(city, comparison), out / "scenario_map.html")
