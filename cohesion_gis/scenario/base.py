"""Loading a scenario's base study area, once per process.

A base is the embedded Helsinki extract, a ``.osm.pbf`` (optionally clipped by a bbox), or a
layers GeoPackage written by :func:`cohesion_gis.write_layers` (read back without OSM parsing).
:func:`load_base` caches the City per base key in the calling process, so a batch worker loads
each base once however many scenarios share it.
"""

from __future__ import annotations

import functools
import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import pyogrio
import shapely
from pyproj import CRS

from cohesion_gis.errors import InputError
from cohesion_gis.scenario.spec import BaseSpec

if TYPE_CHECKING:
    from cohesion_gis.city import City
    from cohesion_gis.taxonomy import Taxonomy

__all__ = ["base_files", "base_taxonomy", "load_base", "read_layers"]

log = logging.getLogger(__name__)


@functools.lru_cache(maxsize=4)
def load_base(spec: BaseSpec) -> City:
    """The City of a base spec, loaded on first use and cached in this process."""
    from cohesion_gis.city import load_city

    log.info("loading base %s", spec.key)
    if spec.source.lower().endswith(".gpkg"):
        return read_layers(spec.source)
    return load_city(base_files(spec)[0], bbox=spec.bbox)


def base_files(spec: BaseSpec) -> list[Path]:
    """The files a base is read from (for hashing the inputs of a run).

    A layers GeoPackage also reads the taxonomy file its metadata names, when that exists.
    """
    if spec.source == "helsinki":
        from cohesion_gis.sources.osm import default_pbf

        return [Path(default_pbf())]
    taxonomy = _taxonomy_file(spec.source) if spec.source.lower().endswith(".gpkg") else None
    return [Path(spec.source), *([taxonomy] if taxonomy else [])]


def base_taxonomy(spec: BaseSpec) -> Taxonomy:
    """The taxonomy a base is classified with (:func:`load_base` uses the same)."""
    from cohesion_gis.taxonomy import load_taxonomy

    gpkg = spec.source.lower().endswith(".gpkg")
    return load_taxonomy(_taxonomy_file(spec.source) if gpkg else None)


def _taxonomy_file(path: str | Path) -> Path | None:
    """The user taxonomy a layers GeoPackage was built with, if its file still exists."""
    meta = gpd.read_file(path, layer="metadata")
    values = dict(zip(meta["key"], meta["value"], strict=True))
    taxonomy = _json(values.get("parameters", "{}")).get("taxonomy")
    return Path(taxonomy) if taxonomy and Path(taxonomy).is_file() else None


def read_layers(path: str | Path) -> City:
    """A City read back from a layers GeoPackage written by :func:`cohesion_gis.write_layers`.

    The study-area boundary is the envelope of the walk network; the taxonomy is the one named in
    the provenance (the packaged one if it cannot be found).

    Raises
    ------
    InputError
        The file is missing or lacks a layer.
    """
    from cohesion_gis.city import LAYER_NAMES, City, Provenance
    from cohesion_gis.export import read_layer
    from cohesion_gis.taxonomy import load_taxonomy

    path = Path(path)
    if not path.is_file():
        raise InputError(f"layers GeoPackage {path} does not exist")
    layers = {name for name, _ in pyogrio.list_layers(path)}
    layers |= {name.rsplit("_", 1)[0] for name in layers if name.endswith(_SPLIT)}
    missing = [name for name in LAYER_NAMES if name not in layers]
    if missing:
        raise InputError(
            f"{path}: layer(s) {missing} missing; write it with `cohesion-gis layers` "
            "(cohesion_gis.write_layers)"
        )
    tables = {name: read_layer(path, name) for name in LAYER_NAMES}
    for name in ("walk_nodes", "drive_nodes"):
        tables[name] = tables[name].set_index("node_id")
    meta = gpd.read_file(path, layer="metadata")
    values = dict(zip(meta["key"], meta["value"], strict=True))
    parameters = _json(values.get("parameters", "{}"))
    crs = CRS(tables["walk_edges"].crs)
    boundary = shapely.box(*tables["walk_edges"].total_bounds)
    return City(
        name=path.stem,
        crs=crs,
        boundary=boundary,
        taxonomy=load_taxonomy(_taxonomy_file(path)),
        provenance=Provenance(
            source=f"{values.get('source', '')} (via {path})",
            data_date=str(values.get("data_date", "")),
            parameters=parameters,
            package_version=str(values.get("package_version", "")),
        ),
        **tables,
    )


# layers write_geopackage split by geometry kind (export.one_geometry_type)
_SPLIT = ("_points", "_lines", "_polygons")


def _json(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except (TypeError, json.JSONDecodeError):
        return {}
    return value if isinstance(value, dict) else {}
