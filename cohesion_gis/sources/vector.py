"""Reading a user's vector file (GeoPackage, GeoJSON, Shapefile, ...): one reader, checked.

District files, a study-area boundary, the geometry files a scenario names and the candidate
sites given to ``suggest`` are read here, so each refuses the same things in the same words:
a missing file, a file that is not vector data, several layers with none named, a layer that
cannot be read and (unless the caller gathers it with its own problems) a missing CRS. The
rated-barrier layer is read by :func:`cohesion_gis.hvm.barriers.read_rated_barriers`, which
keeps each feature's id.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pyogrio

from cohesion_gis.errors import InputError

__all__ = ["NO_CRS", "read_vector"]

#: What a file without a CRS is told (the end of the message).
NO_CRS = (
    "has no CRS; define it in the file (a .prj beside a Shapefile, or "
    "gdf.set_crs(<the data's EPSG>).to_file(...)) and read it again"
)


def read_vector(
    path: str | Path,
    *,
    what: str,
    layer: str | int | None = None,
    layer_hint: str = "pass layer=<name>",
    require_crs: bool = True,
) -> gpd.GeoDataFrame:
    """Read one layer of a user's vector file.

    Parameters
    ----------
    path
        The file.
    what
        What the file is, for messages ("district file").
    layer
        The layer to read; ``None``: the file's only layer.
    layer_hint
        How to name a layer, for the message when the file holds several.
    require_crs
        Refuse a layer without a CRS (False: the caller reports it with its other problems).

    Raises
    ------
    InputError
        The file does not exist or is not vector data; it holds several layers and none (or a
        missing one) is named; the layer cannot be read; it has no CRS (``require_crs``).
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: {what} not found; check the path")
    try:
        layers = [str(name) for name, _ in pyogrio.list_layers(path)]
    except pyogrio.errors.DataSourceError as exc:
        raise InputError(
            f"{path}: cannot open as a vector file ({exc}); use a GeoPackage, GeoJSON or Shapefile"
        ) from exc
    if layer is None and len(layers) > 1:
        raise InputError(f"{path}: holds {len(layers)} layers {layers}; {layer_hint}")
    if isinstance(layer, str) and layer not in layers:
        raise InputError(f"{path}: no layer {layer!r}; layers found: {layers}")
    try:
        frame = gpd.read_file(path, layer=layer)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        raise InputError(f"{path}: cannot read layer {layer!r} ({exc})") from exc
    if require_crs and frame.crs is None:
        raise InputError(f"{path}: {NO_CRS}")
    return frame
