"""Reading back what the package wrote: layers GeoPackages, their metadata, a City.

The counterpart of :mod:`cohesion_gis.export` (every writer) and the one place that reads a
GeoPackage of the package's own:

- :func:`read_layer`: one layer, joined again when the writer split it by geometry kind
  (``<layer>_points/_lines/_polygons``, :data:`GEOMETRY_KINDS`);
- :func:`read_metadata`: the ``metadata`` table (:data:`METADATA_LAYER`) every GeoPackage gets;
- :func:`read_layers`: a City from a layers GeoPackage (:func:`cohesion_gis.write_layers`),
  without parsing OSM again; its layers are :data:`cohesion_gis.city.LAYER_NAMES`.

Inputs from outside (OSM extracts, district files, rasters, rated barriers) are read by
:mod:`cohesion_gis.sources` and the analysis that checks them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS

from cohesion_gis.errors import InputError

if TYPE_CHECKING:
    from cohesion_gis.city import City

__all__ = [
    "GEOMETRY_KINDS",
    "METADATA_LAYER",
    "STUDY_AREA_KEY",
    "read_layer",
    "read_layers",
    "read_metadata",
    "study_area",
    "taxonomy_file",
]

#: The attribute table of key/value provenance in every GeoPackage the package writes.
METADATA_LAYER = "metadata"
#: The metadata key of a layers GeoPackage holding the City's name, boundary and data area.
STUDY_AREA_KEY = "study_area"
#: Suffix of each geometry kind's layer when a layer mixing kinds is split (QGIS asks otherwise).
GEOMETRY_KINDS = {"Point": "points", "LineString": "lines", "Polygon": "polygons"}


def read_layer(path: str | Path, layer: str) -> gpd.GeoDataFrame:
    """Read a layer the package wrote, joining it again if it was split by geometry kind.

    Raises
    ------
    InputError
        Neither ``layer`` nor any ``<layer>_points/_lines/_polygons`` is in the file.
    """
    names = {name for name, _ in pyogrio.list_layers(path)}
    if layer in names:
        return gpd.read_file(path, layer=layer)
    parts = [f"{layer}_{kind}" for kind in GEOMETRY_KINDS.values() if f"{layer}_{kind}" in names]
    if not parts:
        raise InputError(
            f"{path}: layer {layer!r} missing; write it with `cohesion-gis layers` "
            "(cohesion_gis.write_layers)"
        )
    frames = [gpd.read_file(path, layer=name) for name in parts]
    return gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs=frames[0].crs)


def read_metadata(path: str | Path) -> dict[str, Any]:
    """The ``metadata`` table of a GeoPackage the package wrote, as key → value.

    Values written as JSON tables (``parameters``) are decoded to dicts; others stay text.
    """
    meta = gpd.read_file(path, layer=METADATA_LAYER)
    return {key: _decoded(value) for key, value in zip(meta["key"], meta["value"], strict=True)}


def taxonomy_file(path: str | Path) -> Path | None:
    """The user taxonomy a layers GeoPackage was built with, if its file still exists."""
    parameters = read_metadata(path).get("parameters")
    taxonomy = parameters.get("taxonomy") if isinstance(parameters, dict) else None
    return Path(taxonomy) if taxonomy and Path(taxonomy).is_file() else None


def study_area(city: City) -> dict[str, str | None]:
    """The City's name, ``boundary`` and ``data_area`` (WKT, full precision) for the metadata.

    What :func:`read_layers` needs to give back the same study area: the boundary decides where
    vehicles start and which sites count, the data area which homes the score loads.
    """
    area = city.data_area
    return {
        "name": city.name,
        "boundary_wkt": shapely.to_wkt(city.boundary, rounding_precision=-1),
        "data_area_wkt": None if area is None else shapely.to_wkt(area, rounding_precision=-1),
    }


def read_layers(path: str | Path) -> City:
    """A City read back from a layers GeoPackage written by :func:`cohesion_gis.write_layers`.

    The City's name, boundary and data area are those written (:func:`study_area`; a file
    written before they were has the walk network's envelope as boundary, no data area and the
    file's stem as name); the taxonomy is the one named in the provenance (the packaged one if
    it cannot be found).

    Raises
    ------
    InputError
        The file is missing or lacks a layer.
    """
    from cohesion_gis.city import LAYER_NAMES, City, Provenance
    from cohesion_gis.taxonomy import load_taxonomy

    path = Path(path)
    if not path.is_file():
        raise InputError(f"layers GeoPackage {path} does not exist")
    layers = {name for name, _ in pyogrio.list_layers(path)}
    suffixes = tuple(f"_{kind}" for kind in GEOMETRY_KINDS.values())
    layers |= {name.rsplit("_", 1)[0] for name in layers if name.endswith(suffixes)}
    missing = [name for name in LAYER_NAMES if name not in layers]
    if missing:
        raise InputError(
            f"{path}: layer(s) {missing} missing; write it with `cohesion-gis layers` "
            "(cohesion_gis.write_layers)"
        )
    tables = {name: read_layer(path, name) for name in LAYER_NAMES}
    for name in ("walk_nodes", "drive_nodes"):
        tables[name] = tables[name].set_index("node_id")
    values = read_metadata(path)
    parameters = values.get("parameters")
    crs = CRS(tables["walk_edges"].crs)
    area = values.get(STUDY_AREA_KEY)
    if isinstance(area, dict):
        name, boundary = str(area["name"]), shapely.from_wkt(area["boundary_wkt"])
        data_area = shapely.from_wkt(area["data_area_wkt"]) if area["data_area_wkt"] else None
    else:  # written before the study area was
        name, boundary = path.stem, shapely.box(*tables["walk_edges"].total_bounds)
        data_area = None
    return City(
        name=name,
        crs=crs,
        boundary=boundary,
        data_area=data_area,
        taxonomy=load_taxonomy(taxonomy_file(path)),
        provenance=Provenance(
            source=f"{values.get('source', '')} (via {path})",
            data_date=str(values.get("data_date", "")),
            parameters=parameters if isinstance(parameters, dict) else {},
            package_version=str(values.get("package_version", "")),
        ),
        **tables,
    )


def _decoded(text: Any) -> Any:
    """A metadata value: the JSON table it holds, else the text as written."""
    try:
        value = json.loads(text)
    except (TypeError, json.JSONDecodeError):
        return text
    return value if isinstance(value, dict) else text
