"""Writing results: GeoPackage, CSV and JSON, atomically, with provenance.

Every writer writes to a temporary file beside the target and renames it into place, so a failed
run never leaves a half-written output. Existing files are kept unless ``overwrite=True``.
A GeoPackage gets a ``metadata`` attribute table (key, value) and every output a sidecar
``<name>.provenance.json``: data source and date, parameters, package version and the ODbL
attribution.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from cohesion_gis.errors import InputError

__all__ = [
    "atomic_path",
    "refuse_existing",
    "write_csv",
    "write_geopackage",
    "write_json",
    "write_layers",
]

log = logging.getLogger(__name__)


def refuse_existing(*paths: str | Path, overwrite: bool) -> None:
    """Raise InputError if any path exists and ``overwrite`` is False."""
    for path in paths:
        if Path(path).exists() and not overwrite:
            raise InputError(f"{path} exists; pass overwrite=True (CLI: --overwrite) to replace it")


@contextlib.contextmanager
def atomic_path(path: str | Path, *, overwrite: bool = False) -> Iterator[Path]:
    """Yield a temporary sibling of ``path``; on success it replaces ``path``, else is removed.

    Raises
    ------
    InputError
        ``path`` exists and ``overwrite`` is False.
    """
    path = Path(path)
    refuse_existing(path, overwrite=overwrite)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    tmp.unlink()  # writers (GDAL) want to create the file themselves
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


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
                pyogrio.write_dataframe(
                    frame, tmp, layer=layer, driver="GPKG", promote_to_multi=False
                )
            else:
                pyogrio.write_dataframe(frame, tmp, layer=layer, driver="GPKG")
        meta = pd.DataFrame({"key": list(metadata), "value": [_json(v) for v in metadata.values()]})
        pyogrio.write_dataframe(meta, tmp, layer="metadata", driver="GPKG")
    write_json(metadata, path.with_suffix(".provenance.json"), overwrite=True)
    log.info("wrote %s (%d layers)", path, len(tables))
    return path


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
    with atomic_path(path, overwrite=overwrite) as tmp:
        frame.to_csv(tmp, index=False)
    return Path(path)


def write_json(data: Any, path: str | Path, *, overwrite: bool = False) -> Path:
    """Write JSON (UTF-8, indented), atomically."""
    with atomic_path(path, overwrite=overwrite) as tmp:
        tmp.write_text(
            json.dumps(data, indent=2, ensure_ascii=False, default=str), encoding="utf-8"
        )
    return Path(path)


def write_layers(
    city: Any,
    path: str | Path,
    *,
    overwrite: bool = False,
    raster_cell_m: float = 100.0,
) -> tuple[Path, Path]:
    """Write every layer of a City to one GeoPackage, and its residents as a GeoTIFF.

    The GeoTIFF goes beside the GeoPackage as ``<stem>_population.tif``.

    Returns
    -------
    gpkg, tif
        Paths written.
    """
    from cohesion_gis.sources.population import write_population_raster

    path = Path(path)
    gpkg = write_geopackage(
        city.layers(), path, metadata=city.provenance.as_dict(), overwrite=overwrite
    )
    tif = path.with_name(f"{path.stem}_population.tif")
    refuse_existing(tif, overwrite=overwrite)
    write_population_raster(
        city.homes, tif, crs=city.crs, cell_m=raster_cell_m, extent=city.boundary
    )
    return gpkg, tif


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
