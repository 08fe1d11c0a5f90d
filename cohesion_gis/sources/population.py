"""Residents of a study area: a population raster, or a dasymetric estimate from buildings.

Two sources give the same kind of table, a *home* per row with a ``population`` count:

* :func:`population_from_raster` reads a user raster (WorldPop, GHSL, a census grid; any
  CRS). Population is a count per cell, so cells are never interpolated: each source cell is
  projected as a polygon into the study CRS and cut by the study area, and keeps the share
  of its count that falls inside (area-weighted redistribution). Totals are conserved.
* :func:`dasymetric_population` spreads a known total over residential floor area
  (footprint × levels) in residential buildings, so nobody lives in an office or a park.

:func:`write_population_raster` writes either to a GeoTIFF of counts per cell,
:func:`assign_to_districts` gives every home its district, and :func:`group_shares` splits
each home's residents into resident groups (e.g. long-term residents and new arrivals).
The method and its defaults are documented in ``docs/population.md``.
"""

from __future__ import annotations

import logging
import math
import os
import tempfile
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import rasterio
import rasterio.errors
import rasterio.windows
import shapely
from affine import Affine
from shapely.geometry.base import BaseGeometry

from cohesion_gis.errors import DataError, InputError, ParameterError, listing

__all__ = [
    "DasymetricParams",
    "assign_to_districts",
    "dasymetric_population",
    "group_shares",
    "population_from_raster",
    "write_population_raster",
]

logger = logging.getLogger(__name__)

_SHARE_TOLERANCE = 1e-6
_NODATA = -1.0


def _projected(crs: Any, what: str) -> pyproj.CRS:
    """Return ``crs`` as a pyproj CRS, refusing a missing or geographic one."""
    if crs is None:
        raise InputError(f"{what} has no CRS; set it with .set_crs(<EPSG code of the data>)")
    parsed = pyproj.CRS.from_user_input(crs)
    if not parsed.is_projected:
        raise InputError(
            f"{what} is in {parsed.to_string()}, a geographic CRS (degrees); reproject it to "
            "a metric CRS, e.g. .to_crs(gdf.estimate_utm_crs())"
        )
    return parsed


def _valid(geoms: np.ndarray) -> np.ndarray:
    """Repair invalid geometries, keeping their dimension (OSM footprints self-intersect)."""
    return shapely.make_valid(geoms, method="structure", keep_collapsed=False)


# --------------------------------------------------------------------------------------
# rasters in
# --------------------------------------------------------------------------------------


def population_from_raster(
    path: str | Path,
    *,
    area: BaseGeometry,
    crs: Any,
    band: int = 1,
) -> gpd.GeoDataFrame:
    r"""Read a population-count raster into cells clipped to the study area.

    Each raster cell becomes a polygon in ``crs`` (edges densified, so cells of a
    geographic raster such as WorldPop keep their true shape) and keeps the share of its
    count lying inside ``area``:

    .. math:: p_c = v_c \, \frac{|c \cap A|}{|c|}

    where :math:`v_c` is the cell value (persons), :math:`c` the cell polygon and :math:`A`
    the area. Counts are redistributed by area, never interpolated, so the total inside the
    area is conserved.

    Parameters
    ----------
    path
        A GeoTIFF (or any raster GDAL reads) of persons per cell, in any CRS, with its
        nodata value set.
    area
        Study-area polygon in ``crs``.
    crs
        Projected metric CRS of ``area`` and of the result.
    band
        Band number (1-based).

    Returns
    -------
    geopandas.GeoDataFrame
        One row per raster cell overlapping the area: ``cell_id`` (``cell/r<row>c<col>``,
        row and column of the source raster), ``population`` (persons, float),
        ``area_m2`` and the clipped cell polygon in ``crs``.

    Raises
    ------
    InputError
        Missing or unreadable file, no CRS, no such band, raster not overlapping the area,
        or values that are negative or NaN without being marked as nodata.
    DataError
        Every cell over the area is nodata.

    References
    ----------
    WorldPop (2018), Global High Resolution Population Denominators, doi:10.5258/SOTON/WP00647.
    """
    src_path = Path(path)
    target = _projected(crs, "crs")
    if area is None or area.is_empty:
        raise InputError(f"{src_path}: the study area is empty; pass its polygon in {crs}")
    if not src_path.is_file():
        raise InputError(f"{src_path}: population raster not found")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", rasterio.errors.NotGeoreferencedWarning)
            dataset = rasterio.open(src_path)
    except rasterio.errors.RasterioIOError as exc:
        raise InputError(f"{src_path}: cannot open as a raster ({exc}); pass a GeoTIFF") from exc
    with dataset:
        if dataset.crs is None:
            raise InputError(
                f"{src_path}: raster has no CRS; set it, e.g. `rio edit-info --crs EPSG:4326 "
                f"{src_path.name}` or `gdal_edit.py -a_srs EPSG:4326 {src_path.name}`"
            )
        if not 1 <= band <= dataset.count:
            raise InputError(f"{src_path}: band={band} but the raster has {dataset.count} band(s)")
        source = pyproj.CRS.from_user_input(dataset.crs)
        to_source = pyproj.Transformer.from_crs(target, source, always_xy=True)
        bounds = to_source.transform_bounds(*area.bounds, densify_pts=21)
        full = rasterio.windows.Window(0, 0, dataset.width, dataset.height)
        window = rasterio.windows.from_bounds(*bounds, transform=dataset.transform)
        window = window.round_offsets(op="floor").round_lengths(op="ceil")
        try:
            window = rasterio.windows.intersection(window, full)
        except rasterio.errors.WindowError:
            raise InputError(
                f"{src_path}: raster does not overlap the study area (raster bounds "
                f"{tuple(round(v, 4) for v in dataset.bounds)} in {source.to_string()}, area "
                f"bounds {tuple(round(v, 4) for v in bounds)}); is it the right file?"
            ) from None
        values = dataset.read(band, window=window, masked=True)
        transform = dataset.transform @ Affine.translation(window.col_off, window.row_off)
        nodata = dataset.nodata
    data = np.ma.filled(values.astype(float), np.nan)
    valid = ~np.ma.getmaskarray(values)
    if not valid.any():
        raise DataError(
            f"{src_path}: every cell over the study area is nodata ({nodata}); "
            "is it the right band or file?"
        )
    bad_nan = valid & np.isnan(data)
    if bad_nan.any():
        raise InputError(
            f"{src_path}: {int(bad_nan.sum())} cells are NaN but not nodata (nodata={nodata}); "
            "mark them as nodata, e.g. `rio edit-info --nodata nan`"
        )
    negative = valid & (data < 0)
    if negative.any():
        raise InputError(
            f"{src_path}: {int(negative.sum())} cells have negative population (min "
            f"{np.nanmin(data[negative]):g}, nodata={nodata}); population counts are >= 0: set "
            "the nodata value the producer used (`rio edit-info --nodata <value>`)"
        )
    rows, cols = np.nonzero(valid)
    x0, y0 = transform @ (cols, rows)
    x1, y1 = transform @ (cols + 1, rows + 1)
    cells = shapely.box(
        np.minimum(x0, x1), np.minimum(y0, y1), np.maximum(x0, x1), np.maximum(y0, y1)
    )
    step = min(abs(transform.a), abs(transform.e)) / 4.0
    to_target = pyproj.Transformer.from_crs(source, target, always_xy=True)
    cells = shapely.transform(
        shapely.segmentize(cells, step), to_target.transform, interleaved=False
    )
    inside = shapely.intersection(cells, area)
    cell_area = shapely.area(cells)
    share = np.divide(
        shapely.area(inside), cell_area, out=np.zeros_like(cell_area), where=cell_area > 0
    )
    keep = share > 0
    row_off, col_off = int(window.row_off), int(window.col_off)
    result = gpd.GeoDataFrame(
        {
            "cell_id": [
                f"cell/r{r + row_off}c{c + col_off}"
                for r, c in zip(rows[keep], cols[keep], strict=True)
            ],
            "population": data[rows[keep], cols[keep]] * share[keep],
            "area_m2": shapely.area(inside[keep]),
        },
        geometry=inside[keep],
        crs=target,
    )
    if result.empty:
        raise DataError(f"{src_path}: no valid cell overlaps the study area (all nodata there)")
    logger.info(
        "%s: %d cells over the area, %.0f residents (raster %s, band %d)",
        src_path.name,
        len(result),
        result["population"].sum(),
        source.to_string(),
        band,
    )
    return result


# --------------------------------------------------------------------------------------
# dasymetric estimate
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DasymetricParams:
    """Parameters of the dasymetric population estimate.

    Every default is either sourced or a stated assumption; see ``docs/population.md``.
    """

    residential_buildings: frozenset[str] = frozenset(
        {
            "residential",
            "apartments",
            "house",
            "detached",
            "semidetached_house",
            "terrace",
            "dormitory",
            "bungalow",
            "farm",
            "houseboat",
            "static_caravan",
        }
    )
    """``building=*`` values that are homes wherever they stand (OSM wiki Key:building,
    "Accommodation" group, minus holiday ``cabin`` and ``hut``)."""

    generic_buildings: frozenset[str] = frozenset({"yes"})
    """``building=*`` values of unknown use: homes only inside residential land use and only
    when they carry no ``amenity`` (OSM wiki Key:building: ``yes`` means "use unknown")."""

    residential_landuse: frozenset[str] = frozenset({"residential"})
    """``landuse=*`` values whose generic buildings count as homes (OSM wiki Key:landuse)."""

    storey_height_m: float = 3.0
    """Metres per storey, to turn ``height`` into levels: 3 m per level, the convention of
    Mapbox Streets' building heights and of most OSM 3D renderers (assumption for
    residential floor-to-floor heights of 2.8–3.2 m)."""

    min_local_samples: int = 5
    """Buildings with tagged levels needed before their median stands in for untagged ones."""

    type_levels: Mapping[str, float] = field(
        hash=False,
        default_factory=lambda: MappingProxyType(
            {
                "house": 1.5,
                "detached": 1.5,
                "bungalow": 1.0,
                "farm": 1.5,
                "houseboat": 1.0,
                "static_caravan": 1.0,
                "semidetached_house": 2.0,
                "terrace": 2.0,
                "residential": 3.0,
                "apartments": 4.0,
                "dormitory": 4.0,
            }
        ),
    )
    """Levels assumed by building type when neither levels, height nor a local median are
    available (stated assumptions: detached houses of one or two storeys, terraces of two,
    walk-up apartment blocks of four)."""

    default_levels: float = 2.0
    """Levels of a home of any other type when nothing else is known (assumption)."""


def _column(frame: pd.DataFrame, name: str) -> pd.Series:
    """A column of ``frame``, or an all-missing Series when the column is absent."""
    if name in frame.columns:
        return frame[name]
    return pd.Series(np.nan, index=frame.index, dtype=float)


def _residential_mask(
    buildings: gpd.GeoDataFrame,
    landuse: gpd.GeoDataFrame | None,
    params: DasymetricParams,
) -> np.ndarray:
    """True for buildings that are homes: residential type, or generic in residential land."""
    kind = buildings["building"].astype("string").fillna("")
    typed = kind.isin(params.residential_buildings).to_numpy()
    generic = (
        kind.isin(params.generic_buildings) & _column(buildings, "amenity").isna()
    ).to_numpy()
    in_land = np.zeros(len(buildings), dtype=bool)
    if landuse is not None and generic.any():
        land = landuse[landuse["landuse"].isin(params.residential_landuse)]
        if not land.empty:
            land = land.to_crs(buildings.crs).make_valid()
            points = buildings.geometry.representative_point().to_numpy()
            tree = shapely.STRtree(land.to_numpy())
            hits, _ = tree.query(points, predicate="within")
            in_land[np.unique(hits)] = True
    return typed | (generic & in_land)


def _levels(homes: gpd.GeoDataFrame, params: DasymetricParams) -> tuple[np.ndarray, np.ndarray]:
    """Levels per home and where each value came from.

    Order: ``tag`` (``building_levels``), ``height`` (``height_m`` / storey height, rounded,
    at least 1), ``local_median`` (median tagged levels of homes of the same type, else of
    all homes, when at least ``min_local_samples`` are tagged), ``type_default``.
    """
    tagged = pd.to_numeric(_column(homes, "building_levels"), errors="coerce").to_numpy(float)
    tagged = np.where(tagged > 0, tagged, np.nan)
    height = pd.to_numeric(_column(homes, "height_m"), errors="coerce").to_numpy(float)
    from_height = np.where(
        height > 0, np.maximum(1.0, np.round(height / params.storey_height_m)), np.nan
    )
    kind = homes["building"].astype(str).to_numpy()
    levels = np.full(len(homes), np.nan)
    source = np.full(len(homes), "type_default", dtype=object)
    for value, label in ((tagged, "tag"), (from_height, "height")):
        use = np.isnan(levels) & ~np.isnan(value)
        levels[use], source[use] = value[use], label
    known = ~np.isnan(tagged)
    overall = np.median(tagged[known]) if known.sum() >= params.min_local_samples else np.nan
    for value in np.unique(kind[np.isnan(levels)]):
        same = kind == value
        samples = tagged[same & known]
        median = np.median(samples) if len(samples) >= params.min_local_samples else overall
        use = same & np.isnan(levels)
        if not np.isnan(median):
            levels[use], source[use] = median, "local_median"
        else:
            levels[use] = params.type_levels.get(value, params.default_levels)
    return levels, source


def dasymetric_population(
    buildings: gpd.GeoDataFrame,
    *,
    landuse: gpd.GeoDataFrame | None = None,
    total: float | None = None,
    density_per_km2: float | None = None,
    area: BaseGeometry | None = None,
    params: DasymetricParams | None = None,
) -> gpd.GeoDataFrame:
    r"""Estimate residents per building from residential floor area, scaled to a total.

    Residents are spread in proportion to floor area:

    .. math:: p_b = T \, \frac{a_b \, \ell_b}{\sum_{h \in H} a_h \, \ell_h}

    where :math:`a_b` is the footprint (m²), :math:`\ell_b` the number of levels, :math:`H`
    the homes (the residential mask) and :math:`T` the total (``total``, or
    ``density_per_km2`` × the area in km²). Buildings outside the mask get nobody.

    Parameters
    ----------
    buildings
        Building footprints in a projected metric CRS: ``osm_id`` (``way/123``),
        ``building`` (tag value) and, optionally, ``building_levels`` and ``height_m``
        (float, NaN when unknown) and ``amenity``.
    landuse
        Land-use polygons with a ``landuse`` column; generic ``building=yes`` count as homes
        only inside ``params.residential_landuse`` polygons.
    total
        Residents to distribute (persons).
    density_per_km2
        Residents per km² of ``area``, instead of ``total``.
    area
        Study-area polygon in the buildings' CRS. Only buildings whose representative point
        lies in it are considered; required with ``density_per_km2``.
    params
        Residential tags, storey height and default levels; :class:`DasymetricParams` when None.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per home: ``home_id`` (the building's ``osm_id``), ``building``,
        ``population`` (persons, float; sums to the total), ``floor_area_m2``, ``levels``,
        ``levels_source`` (``tag`` | ``height`` | ``local_median`` | ``type_default``) and the
        building polygon as geometry (use ``.representative_point()`` for a point).

    Raises
    ------
    InputError
        Missing columns or a geographic / missing CRS.
    ParameterError
        Neither or both of ``total`` and ``density_per_km2``; a non-positive total;
        ``density_per_km2`` without ``area``.
    DataError
        No building is residential.

    References
    ----------
    Mennis, J. (2003). Generating surface models of population using dasymetric mapping.
    The Professional Geographer 55(1), 31-42. doi:10.1111/0033-0124.10042
    """
    params = params or DasymetricParams()
    crs = _projected(buildings.crs, "buildings")
    missing = [c for c in ("osm_id", "building") if c not in buildings.columns]
    if missing:
        raise InputError(
            f"buildings: missing column(s) {missing}; columns found: {list(buildings.columns)}"
        )
    if landuse is not None and "landuse" not in landuse.columns:
        raise InputError(f"landuse: no 'landuse' column; columns found: {list(landuse.columns)}")
    if total is not None and density_per_km2 is None:
        persons = float(total)
    elif density_per_km2 is not None and total is None:
        if area is None:
            raise ParameterError("density_per_km2 needs area= (the study-area polygon)")
        persons = float(density_per_km2) * area.area / 1e6
    else:
        raise ParameterError("pass exactly one of total= (persons) or density_per_km2=")
    if not (math.isfinite(persons) and persons > 0):
        raise ParameterError(
            f"total={persons}: the number of residents must be a positive number "
            f"(total={total}, density_per_km2={density_per_km2})"
        )

    candidates = buildings
    if area is not None:
        candidates = buildings[buildings.geometry.representative_point().within(area)]
    mask = _residential_mask(candidates, landuse, params)
    if not mask.any():
        kinds = candidates["building"].value_counts().head(5).to_dict()
        raise DataError(
            f"buildings: none of {len(candidates)} buildings is residential (most common "
            f"building=* {kinds}; residential types {sorted(params.residential_buildings)}; "
            f"building=yes counts only inside landuse={sorted(params.residential_landuse)}, "
            f"landuse given: {landuse is not None}); pass the land-use layer, widen "
            "DasymetricParams.residential_buildings, or read a population raster instead"
        )
    homes = candidates[mask]
    levels, source = _levels(homes, params)
    footprints = _valid(homes.geometry.to_numpy())
    floor_area = shapely.area(footprints) * levels
    if not (floor_area > 0).all():
        logger.info("dasymetric: %d homes without footprint area dropped", (floor_area <= 0).sum())
        keep = floor_area > 0
        homes, levels, source = homes[keep], levels[keep], source[keep]
        footprints, floor_area = footprints[keep], floor_area[keep]
    result = gpd.GeoDataFrame(
        {
            "home_id": homes["osm_id"].astype(str).to_numpy(),
            "building": homes["building"].astype(str).to_numpy(),
            "population": persons * floor_area / floor_area.sum(),
            "floor_area_m2": floor_area,
            "levels": levels,
            "levels_source": source,
        },
        geometry=footprints,
        crs=crs,
    )
    logger.info(
        "dasymetric: %.0f residents in %d of %d buildings, %.0f m² floor area (levels: %s)",
        persons,
        len(result),
        len(candidates),
        floor_area.sum(),
        result["levels_source"].value_counts().to_dict(),
    )
    return result


# --------------------------------------------------------------------------------------
# raster out
# --------------------------------------------------------------------------------------


def write_population_raster(
    homes_or_cells: gpd.GeoDataFrame,
    path: str | Path,
    *,
    crs: Any,
    cell_m: float = 100.0,
    extent: BaseGeometry | None = None,
) -> Path:
    """Rasterise residents to a GeoTIFF of persons per cell, preserving the total.

    Points fall in the cell that contains them; polygons (buildings, cells of another
    raster) are split between the cells they overlap by area. Cell edges sit on multiples of
    ``cell_m`` in ``crs``. The file is written to a temporary file beside ``path`` and moved
    into place, so a failed write leaves nothing half-written.

    Parameters
    ----------
    homes_or_cells
        Homes or cells with a ``population`` column (persons), any CRS.
    path
        Output ``.tif``.
    crs
        Projected metric CRS of the raster.
    cell_m
        Cell size in metres.
    extent
        Study-area polygon in ``crs``: the raster then covers it, and cells outside it are
        nodata. Without it the raster covers the homes' bounding box.

    Returns
    -------
    pathlib.Path
        The written file: one float32 band of persons per cell, nodata ``-1`` (cells with
        nobody inside the extent are 0), CRS and transform set, tags ``units`` and
        ``total_persons``. With ``extent``, an empty table writes an all-zero raster.

    Raises
    ------
    InputError
        No ``population`` column, no CRS, negative / NaN populations, rows with residents but
        no geometry, or an empty table without ``extent``.
    ParameterError
        Non-positive ``cell_m``.
    """
    out = Path(path)
    target = _projected(crs, "crs")
    _projected(homes_or_cells.crs, "homes_or_cells")
    if not cell_m > 0:
        raise ParameterError(f"cell_m={cell_m}: the cell size must be a positive number of metres")
    if "population" not in homes_or_cells.columns:
        raise InputError(
            f"homes_or_cells: no 'population' column; columns found: {list(homes_or_cells.columns)}"
        )
    people = homes_or_cells["population"].to_numpy(float)
    if np.isnan(people).any() or (people < 0).any():
        raise InputError(
            "homes_or_cells: populations must be numbers >= 0 "
            f"(NaN {int(np.isnan(people).sum())}, negative {int((people < 0).sum())})"
        )
    geoms = _valid(homes_or_cells.geometry.to_crs(target).to_numpy())
    lost = shapely.is_empty(geoms) | shapely.is_missing(geoms)
    if (people[lost] > 0).any():
        raise InputError(
            f"homes_or_cells: {int((people[lost] > 0).sum())} rows with residents have no geometry"
        )
    geoms, people = geoms[~lost], people[~lost]
    if extent is None and len(geoms) == 0:
        raise InputError("homes_or_cells: no homes to rasterise; pass extent= (the study area)")
    covered = geoms if extent is None else np.append(geoms, extent)
    minx, miny, maxx, maxy = shapely.total_bounds(covered)
    left, top = math.floor(minx / cell_m) * cell_m, math.ceil(maxy / cell_m) * cell_m
    width = max(1, math.ceil((maxx - left) / cell_m))
    height = max(1, math.ceil((top - miny) / cell_m))
    grid = np.zeros((height, width))

    areas = shapely.area(geoms)
    is_point = areas <= 0
    if is_point.any():
        pts = shapely.get_coordinates(shapely.point_on_surface(geoms[is_point]))
        cols = np.clip(((pts[:, 0] - left) // cell_m).astype(int), 0, width - 1)
        rows = np.clip(((top - pts[:, 1]) // cell_m).astype(int), 0, height - 1)
        np.add.at(grid, (rows, cols), people[is_point])
    r, c = np.divmod(np.arange(height * width), width)
    boxes = shapely.box(
        left + c * cell_m, top - (r + 1) * cell_m, left + (c + 1) * cell_m, top - r * cell_m
    )
    if (~is_point).any():
        poly_idx = np.flatnonzero(~is_point)
        feature, cell = shapely.STRtree(boxes).query(geoms[poly_idx], predicate="intersects")
        pieces = shapely.area(shapely.intersection(geoms[poly_idx][feature], boxes[cell]))
        weights = people[poly_idx][feature] * pieces / areas[poly_idx][feature]
        np.add.at(grid.reshape(-1), cell, weights)
    if extent is not None:
        outside = ~shapely.intersects(boxes, extent).reshape(height, width) & (grid == 0)
        grid[outside] = _NODATA

    profile = {
        "driver": "GTiff",
        "width": width,
        "height": height,
        "count": 1,
        "dtype": "float32",
        "crs": target.to_wkt(),
        "transform": Affine(cell_m, 0.0, left, 0.0, -cell_m, top),
        "nodata": _NODATA,
        "compress": "deflate",
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(suffix=".tif", prefix=f".{out.stem}-", dir=out.parent)
    os.close(fd)
    try:
        with rasterio.open(tmp_name, "w", **profile) as dst:
            dst.write(grid.astype("float32"), 1)
            dst.update_tags(units="persons per cell", total_persons=f"{people.sum():.3f}")
            dst.set_band_description(1, "population")
        os.replace(tmp_name, out)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    logger.info(
        "%s: %d x %d cells of %.0f m, %.1f residents (input %.1f)",
        out.name,
        width,
        height,
        cell_m,
        float(grid[grid != _NODATA].sum()),
        float(people.sum()),
    )
    return out


# --------------------------------------------------------------------------------------
# districts and resident groups
# --------------------------------------------------------------------------------------


def assign_to_districts(homes: gpd.GeoDataFrame, districts: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Give every home the ``district_id`` of the district containing its representative point.

    Parameters
    ----------
    homes
        Homes or cells (any geometry) in a projected CRS.
    districts
        Districts with ``district_id`` (reprojected to the homes' CRS when they differ).

    Returns
    -------
    geopandas.GeoDataFrame
        A copy of ``homes`` with a ``district_id`` column (None outside every district; the
        count is logged as a warning). Where districts overlap the first one wins.
    """
    crs = _projected(homes.crs, "homes")
    if "district_id" not in districts.columns:
        raise InputError(
            f"districts: no 'district_id' column; columns found: {list(districts.columns)}"
        )
    zones = districts if districts.crs == crs else districts.to_crs(crs)
    points = homes.geometry.representative_point().to_numpy()
    home_idx, zone_idx = shapely.STRtree(zones.geometry.to_numpy()).query(
        points, predicate="within"
    )
    order = np.lexsort((zone_idx, home_idx))
    first_home, first = np.unique(home_idx[order], return_index=True)  # first district wins
    assigned = np.full(len(homes), None, dtype=object)
    assigned[first_home] = zones["district_id"].astype(str).to_numpy()[zone_idx[order][first]]
    result = homes.copy()
    result["district_id"] = assigned
    outside = int(pd.isna(assigned).sum())
    if outside:
        people = (
            float(result.loc[pd.isna(assigned), "population"].sum())
            if "population" in result
            else float("nan")
        )
        logger.warning(
            "%d of %d homes (%.0f residents) lie outside every district",
            outside,
            len(homes),
            people,
        )
    return result


def _read_share_table(table: str | Path | pd.DataFrame, by: str) -> tuple[pd.DataFrame, str]:
    """Read the share table and name it for messages."""
    if isinstance(table, pd.DataFrame):
        return table.copy(), "group share table"
    src = Path(table)
    if not src.is_file():
        raise InputError(f"{src}: group share table not found")
    try:
        frame = pd.read_csv(src, dtype={by: str})
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InputError(f"{src}: cannot read as CSV ({exc})") from exc
    return frame, str(src)


def group_shares(
    homes: gpd.GeoDataFrame,
    table: str | Path | pd.DataFrame,
    *,
    by: Literal["district_id", "cell_id"] = "district_id",
    groups: Iterable[str] | None = None,
    known_keys: Iterable[str] | None = None,
) -> gpd.GeoDataFrame:
    """Split each home's residents into resident groups from shares per district or cell.

    Parameters
    ----------
    homes
        Homes with ``population`` and the key column ``by``.
    table
        CSV file or DataFrame: the key column ``by`` and one column per group holding the
        share of residents (0–1) in that group; a row's shares sum to 1.
    by
        Key joining homes to the table.
    groups
        Group columns to use; all columns except the key when None.
    known_keys
        Every valid key (e.g. all district ids, including districts without homes); the
        keys present in ``homes`` when None.

    Returns
    -------
    geopandas.GeoDataFrame
        A copy of ``homes`` with ``pop_<group>`` columns (persons) summing to
        ``population``. Homes whose key is missing get NaN (logged).

    Raises
    ------
    InputError
        Missing key or group columns, duplicate or unknown keys, keys of homes absent from
        the table, shares outside [0, 1] or rows not summing to 1 (tolerance 1e-6).
    """
    frame, where = _read_share_table(table, by)
    for name, cols in (("homes", homes.columns), (where, frame.columns)):
        if by not in cols:
            raise InputError(f"{name}: no key column {by!r}; columns found: {list(cols)}")
    if "population" not in homes.columns:
        raise InputError(f"homes: no 'population' column; columns found: {list(homes.columns)}")
    names = [c for c in frame.columns if c != by] if groups is None else list(groups)
    absent = [g for g in names if g not in frame.columns]
    if absent or not names:
        raise InputError(
            f"{where}: group columns {absent or names} not found; "
            f"columns found: {list(frame.columns)}"
        )
    keys = frame[by].astype(str)
    shares = frame[names].apply(pd.to_numeric, errors="coerce")
    problems = []
    duplicated = sorted(set(keys[keys.duplicated()]))
    if duplicated:
        problems.append(f"duplicate keys {listing(duplicated)}")
    not_numbers = shares.isna().any(axis=1)
    if not_numbers.any():
        problems.append(f"shares missing or not numbers for {listing(keys[not_numbers])}")
    outside = ((shares < 0) | (shares > 1)).any(axis=1)
    if outside.any():
        problems.append(f"shares outside [0, 1] for {listing(keys[outside])}")
    sums = shares.sum(axis=1)
    off = ~not_numbers & ((sums - 1.0).abs() > _SHARE_TOLERANCE)
    if off.any():
        problems.append(
            "shares do not sum to 1 for "
            + listing(f"{k} ({s:.6g})" for k, s in zip(keys[off], sums[off], strict=True))
        )
    home_keys = homes[by].dropna().astype(str)
    valid = set(known_keys) if known_keys is not None else set(home_keys)
    unknown = sorted(set(keys) - valid)
    if unknown:
        problems.append(f"unknown {by} values {listing(unknown)}")
    uncovered = sorted(set(home_keys) - set(keys))
    if uncovered:
        problems.append(f"no shares for {by} {listing(uncovered)}, which hold homes")
    if problems:
        raise InputError(f"{where}: " + "; ".join(problems))

    lookup = shares.set_axis(keys.to_numpy())
    result = homes.copy()
    key = homes[by].where(homes[by].isna(), homes[by].astype(str))
    population = homes["population"].to_numpy(float)
    for group in names:
        share = key.map(lookup[group]).to_numpy(float)
        result[f"pop_{group}"] = population * share
    no_key = int(key.isna().sum())
    if no_key:
        logger.warning("%d homes have no %s; their group counts are NaN", no_key, by)
    return result
