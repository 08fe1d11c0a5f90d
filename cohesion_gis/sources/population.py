"""Residents of a study area: a population raster, or an estimate from buildings.

Two sources give the same kind of table, a *home* per row with a ``population`` count:

* :func:`population_from_raster` reads a user raster (WorldPop, GHSL, a census grid; any
  CRS). Population is a count per cell, so cells are never interpolated: each source cell is
  projected as a polygon into the study CRS and cut by the study area, and keeps the share
  of its count that falls inside (area-weighted redistribution). Totals are conserved.
  Values that are not counts (NaN, infinite, negative, unset fill values, more than 2
  persons per m²) are refused, naming the file and the fix.
* :func:`dasymetric_population` estimates residents from each building's dwelling floor
  area (footprint × residential storeys × residential share × net-to-gross ratio ÷ net m² per
  person), so nobody lives in an office or a park; residential land use without mapped
  buildings is filled in.

:func:`scale_to_total` and :func:`scale_to_districts` scale either to a census total or to
counts per district, exactly; :func:`residents` chains it all for :func:`~cohesion_gis.load_city`.
:func:`write_population_raster` writes homes to a GeoTIFF of counts per cell,
:func:`assign_to_districts` gives every home its district, and :func:`group_shares` splits
each home's residents into resident groups (e.g. long-term residents and new arrivals).
The method, its defaults with their sources and its validation are in ``docs/population.md``.

Examples
--------
>>> import geopandas as gpd
>>> from shapely.geometry import box
>>> from cohesion_gis.sources.population import dasymetric_population, scale_to_total
>>> block = gpd.GeoDataFrame(
...     {"osm_id": ["way/1"], "building": ["apartments"], "building_levels": [4.0]},
...     geometry=[box(0, 0, 20, 20)], crs="EPSG:32635")
>>> homes = dasymetric_population(block)  # 400 m² x 4 storeys x 0.75 net / 40.3 m² each
>>> round(float(homes["population"].iloc[0]), 1)
29.8
>>> float(scale_to_total(homes, 25)["population"].sum())
25.0
"""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any, ClassVar, Literal

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

from cohesion_gis._atomic import atomic_path
from cohesion_gis._validate import (
    Bound,
    metric_crs,
    number_problem,
    raise_problems,
    strings_problem,
    table_problem,
)
from cohesion_gis.errors import DataError, InputError, ParameterError, listing
from cohesion_gis.params import FIX_FILE, load_params

__all__ = [
    "BuildingType",
    "DasymetricParams",
    "assign_to_districts",
    "dasymetric_population",
    "group_shares",
    "population_from_raster",
    "residents",
    "scale_to_districts",
    "scale_to_total",
    "write_population_raster",
]

logger = logging.getLogger(__name__)

_SHARE_TOLERANCE = 1e-6
_NODATA = -1.0
#: Share of the study area a population raster must cover before a warning is given.
_COVERED_ENOUGH = 0.99


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
    params: DasymetricParams | None = None,
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
    params
        Population parameters (the plausibility limit ``raster_max_persons_per_m2``);
        the packaged ones when None.

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
        values that are NaN, infinite or negative without being nodata, or cells holding more
        than ``raster_max_persons_per_m2`` per m² (an unset nodata such as the uint32 or
        float maximum, or a density raster); the message names the file and the fix.

    Warns
    -----
    UserWarning
        The raster covers less than 99 % of the area: the share covered and that the rest
        gets nobody.
    DataError
        Every cell over the area is nodata.

    References
    ----------
    WorldPop (2018), Global High Resolution Population Denominators, doi:10.5258/SOTON/WP00647.
    """
    src_path = Path(path)
    target = metric_crs(crs, "crs")
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
        west, south, east, north = area.bounds
        bounds = to_source.transform_bounds(west, south, east, north, densify_pts=21)
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
        dtype = np.dtype(dataset.dtypes[band - 1])
        raster_box = shapely.box(*dataset.bounds)
    data = np.ma.filled(values.astype(float), np.nan)
    valid = ~np.ma.getmaskarray(values)
    if not valid.any():
        raise DataError(
            f"{src_path}: every cell over the study area is nodata ({nodata}); "
            "is it the right band or file?"
        )
    _check_counts(src_path, data, valid, dtype=dtype, nodata=nodata)
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
    cell_area = shapely.area(cells)
    _check_density(
        src_path,
        data[rows, cols],
        cell_area,
        limit=(params or load_params(DasymetricParams)).raster_max_persons_per_m2,
        dtype=dtype,
        nodata=nodata,
    )
    inside = shapely.intersection(cells, area)
    share = np.divide(
        shapely.area(inside), cell_area, out=np.zeros_like(cell_area), where=cell_area > 0
    )
    footprint = shapely.transform(
        shapely.segmentize(raster_box, step), to_target.transform, interleaved=False
    )
    _warn_coverage(src_path, covered=shapely.intersection(footprint, area).area, area=area)
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


def _fill_hint(value: float, dtype: np.dtype) -> str:
    """Name a value that is a data type's fill value (an unset nodata), or ''."""
    if np.issubdtype(dtype, np.integer) and value == np.iinfo(dtype).max:
        return f" ({value:.0f} is the {dtype} maximum, the usual fill of an unset nodata)"
    for kind in (np.float32, np.float64):
        if np.isclose(abs(value), float(np.finfo(kind).max), rtol=1e-6):
            return (
                f" ({value:g} is the {np.dtype(kind)} maximum, the usual fill of an unset nodata)"
            )
    return ""


def _check_counts(
    path: Path, data: np.ndarray, valid: np.ndarray, *, dtype: np.dtype, nodata: float | None
) -> None:
    """Refuse NaN, infinite and negative counts in valid cells, naming the file and the fix."""
    problems = []
    for mask, what in (
        (valid & np.isnan(data), "are NaN"),
        (valid & np.isinf(data), "are infinite"),
        (valid & (data < 0), "are negative"),
    ):
        if mask.any():
            example = float(data[mask][0])
            problems.append(f"{int(mask.sum())} cells {what} (e.g. {example:g})")
    if problems:
        raise InputError(
            f"{path}: {'; '.join(problems)} without being nodata (nodata={nodata}, {dtype}); "
            "a population raster holds counts >= 0: set the nodata value the producer used, "
            f"e.g. `rio edit-info --nodata <value> {path.name}`"
        )


def _check_density(
    path: Path,
    counts: np.ndarray,
    cell_m2: np.ndarray,
    *,
    limit: float,
    dtype: np.dtype,
    nodata: float | None,
) -> None:
    """Refuse cells holding more people than could stand on them (a fill value or density)."""
    dense = counts > limit * cell_m2
    if not dense.any():
        return
    worst = float(counts[dense].max())
    raise InputError(
        f"{path}: {int(dense.sum())} cells hold more than {limit:g} persons per m² of cell "
        f"(largest value {worst:g}{_fill_hint(worst, dtype)}; cells of about "
        f"{float(np.median(cell_m2)):,.0f} m²; nodata={nodata}); no place on Earth is that dense. "
        f"Set the nodata value (`rio edit-info --nodata <value> {path.name}`), or, if the raster "
        "holds densities (persons per km²) rather than counts per cell, convert it to counts"
    )


def _warn_coverage(path: Path, *, covered: float, area: BaseGeometry) -> None:
    """Warn when the raster covers only part of the study area."""
    share = covered / area.area if area.area > 0 else 1.0
    if share < _COVERED_ENOUGH:
        warnings.warn(
            f"{path}: the raster covers {share:.0%} of the study area ({covered / 1e6:.3g} of "
            f"{area.area / 1e6:.3g} km²); residents were counted only where it has cells, the "
            "rest of the area has nobody (a population_total= goes wholly to the covered part). "
            "Pass a raster covering the whole area, or clip the study area to it (boundary=)",
            UserWarning,
            stacklevel=3,
        )


# --------------------------------------------------------------------------------------
# dasymetric estimate
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BuildingType:
    """How a residential building type is estimated (``[types.<value>]`` in the TOML)."""

    levels: float
    """Storeys when the building has neither ``building:levels`` nor ``height``."""
    low_rise: bool
    """Never takes storeys from the neighbourhood (houses do not inherit towers' storeys)."""
    net_to_gross: float
    """Dwelling (net internal) floor area per m² of gross floor area."""


@dataclass(frozen=True)
class DasymetricParams:
    """Parameters of the residents estimate (:func:`cohesion_gis.params.load_params`).

    Every value and its source is in ``cohesion_gis/defaults/population.toml``.
    """

    net_m2_per_person: float
    """Net dwelling floor area per resident, m² (Statistics Finland 2016: 40.3)."""
    storey_height_m: float
    """Metres per storey, to turn ``height`` into storeys."""
    neighbourhood_radius_m: float
    """Tagged buildings this close (m) give their median storeys to untagged ones."""
    min_neighbour_samples: int
    """Tagged buildings needed within the radius for their median to count."""
    min_untyped_footprint_m2: float
    """Untyped buildings with a smaller footprint (m²) are sheds, garages or kiosks."""
    small_footprint_m2: float
    """Untagged non-low-rise homes with a smaller footprint (m²), no tall neighbours, are houses."""
    small_footprint_type: str
    """Building type whose storeys such small homes take (``house``)."""
    types: Mapping[str, BuildingType] = field(hash=False)
    """Residential building types (``building=*`` values) and untyped values."""
    untyped_values: frozenset[str]
    """``building=*`` values of unknown use (``yes``)."""
    untyped_residential_share: float
    """Share of an untyped building's floor area in dwellings, with no other evidence."""
    residential_landuse: frozenset[str]
    """``landuse=*`` where untyped buildings are homes entirely."""
    non_residential_landuse: frozenset[str]
    """``landuse=*`` where untyped buildings hold nobody."""
    non_residential_tourism: frozenset[str]
    """``tourism=*`` values that make an untyped building non-residential."""
    ground_floor_keys: frozenset[str]
    """Tags (``shop``, ``office``, ``craft``) whose presence takes the ground floor."""
    ground_floor_amenities: frozenset[str]
    """``amenity=*`` values that take only the ground floor; others make untyped buildings
    non-residential."""
    unmapped_max_coverage: float
    """Residential land whose mapped footprint covers less than this share is filled in."""
    unmapped_default_coverage: float
    """Footprint share given to unmapped residential land when the extract has no reference."""
    unmapped_levels: float
    """Storeys of the floor area filled into unmapped residential land."""
    unmapped_building: str
    """Building type (net-to-gross ratio) of the filled-in floor area."""
    unmapped_min_reference_area_m2: float
    """Mapped residential land (m²) needed to take the fill coverage from the extract itself."""
    unmapped_cell_m: float
    """Filled-in land is cut into squares of this side (m), one home each."""
    raster_max_persons_per_m2: float
    """A population raster cell holding more persons per m² is refused."""
    source: str
    """The file(s) the values come from."""

    PACKAGED: ClassVar[str] = "population.toml"
    OPEN_TABLES: ClassVar[tuple[str, ...]] = ("types",)

    @classmethod
    def from_table(
        cls, table: Mapping[str, Any], label: str, problems: list[str]
    ) -> DasymetricParams:
        """Build from a full ``population.toml`` table (loaded by ``load_params``).

        Raises
        ------
        ParameterError
            ``problems`` and every missing, mistyped or implausible value, in one message.
        """
        raise_problems(ParameterError, label, problems + _toml_problems(table), FIX_FILE)
        data = table
        untyped, ground, fill = data["untyped"], data["ground_floor"], data["unmapped_landuse"]
        return cls(
            net_m2_per_person=float(data["net_m2_per_person"]),
            storey_height_m=float(data["storey_height_m"]),
            neighbourhood_radius_m=float(data["neighbourhood_radius_m"]),
            min_neighbour_samples=int(data["min_neighbour_samples"]),
            min_untyped_footprint_m2=float(data["min_untyped_footprint_m2"]),
            small_footprint_m2=float(data["small_footprint_m2"]),
            small_footprint_type=str(data["small_footprint_type"]),
            types=MappingProxyType(
                {
                    str(name): BuildingType(
                        levels=float(entry["levels"]),
                        low_rise=bool(entry["low_rise"]),
                        net_to_gross=float(entry["net_to_gross"]),
                    )
                    for name, entry in data["types"].items()
                }
            ),
            untyped_values=frozenset(untyped["values"]),
            untyped_residential_share=float(untyped["residential_share"]),
            residential_landuse=frozenset(untyped["residential_landuse"]),
            non_residential_landuse=frozenset(untyped["non_residential_landuse"]),
            non_residential_tourism=frozenset(untyped["non_residential_tourism"]),
            ground_floor_keys=frozenset(ground["keys"]),
            ground_floor_amenities=frozenset(ground["amenities"]),
            unmapped_max_coverage=float(fill["max_coverage"]),
            unmapped_default_coverage=float(fill["default_coverage"]),
            unmapped_levels=float(fill["levels"]),
            unmapped_building=str(fill["building"]),
            unmapped_min_reference_area_m2=float(fill["min_reference_area_m2"]),
            unmapped_cell_m=float(fill["cell_m"]),
            raster_max_persons_per_m2=float(data["raster"]["max_persons_per_m2"]),
            source=label,
        )


#: Plausible bounds of every number in ``population.toml`` (reasons in docs/population.md).
_BOUNDS: dict[str, Bound] = {
    "net_m2_per_person": Bound(5.0, 200.0, "m²/person"),  # national means 15-75 m²
    "storey_height_m": Bound(2.0, 10.0, "m"),
    "neighbourhood_radius_m": Bound(0.0, 5_000.0, "m"),
    "min_neighbour_samples": Bound(1, 1_000, integer=True),
    "min_untyped_footprint_m2": Bound(0.0, 1_000.0, "m²"),
    "small_footprint_m2": Bound(0.0, 10_000.0, "m²"),
    "untyped.residential_share": Bound(0.0, 1.0),
    "unmapped_landuse.max_coverage": Bound(0.0, 0.99),
    "unmapped_landuse.default_coverage": Bound(0.0, 1.0),
    "unmapped_landuse.levels": Bound(0.0, 200.0, "storeys", above=True),
    "unmapped_landuse.min_reference_area_m2": Bound(0.0, 1e10, "m²"),
    "unmapped_landuse.cell_m": Bound(10.0, 10_000.0, "m"),
    "raster.max_persons_per_m2": Bound(0.0, 100.0, "persons/m²", above=True),
}
#: Storeys above this are not believed, in tags or parameters: the tallest towers have ~160.
_MAX_STOREYS = 200.0
_TYPE_BOUNDS = {
    "levels": Bound(0.0, _MAX_STOREYS, "storeys", above=True),
    "net_to_gross": Bound(0.0, 1.0, above=True),
}
_STRING_LISTS = (
    "untyped.values", "untyped.residential_landuse", "untyped.non_residential_landuse",
    "untyped.non_residential_tourism", "ground_floor.keys", "ground_floor.amenities",
)  # fmt: skip


def _toml_problems(data: Mapping[str, Any]) -> list[str]:
    """Every missing, mistyped or implausible value of a population TOML, in one list."""

    def get(dotted: str) -> Any:
        value: Any = data
        for part in dotted.split("."):
            value = value.get(part, _MISSING) if isinstance(value, Mapping) else _MISSING
        return value

    problems = [number_problem(field, get(field), bound) or "" for field, bound in _BOUNDS.items()]
    problems += [strings_problem(field, get(field)) or "" for field in _STRING_LISTS]
    types = get("types")
    if not isinstance(types, Mapping) or not types:
        problems.append(f"field `types` = {types!r}; expected a table of building types")
        types = {}
    for name, entry in types.items():
        if not isinstance(entry, Mapping):
            problems.append(table_problem(f"types.{name}", entry) or "")
            continue
        for key, bound in _TYPE_BOUNDS.items():
            problems.append(number_problem(f"types.{name}.{key}", entry.get(key), bound) or "")
        if not isinstance(entry.get("low_rise"), bool):
            problems.append(
                f"field `types.{name}.low_rise` = {entry.get('low_rise')!r}; expected true or false"
            )
        unknown = sorted(set(entry) - {"levels", "low_rise", "net_to_gross"})
        if unknown:
            problems.append(f"field `types.{name}` has unknown key(s) {unknown}")
    for key in ("small_footprint_type", "unmapped_landuse.building"):
        if get(key) not in types:
            problems.append(f"field `{key}` = {get(key)!r}; expected one of [types]")
    untyped = get("untyped.values")
    if isinstance(untyped, list):
        problems += [
            f"field `untyped.values`: {v!r} has no [types.{v}] entry" for v in untyped
            if v not in types
        ]  # fmt: skip
    return [p for p in problems if p]


_MISSING = "(missing)"


def _column(frame: pd.DataFrame, name: str) -> pd.Series:
    """A column of ``frame``, or an all-missing Series when the column is absent."""
    if name in frame.columns:
        return frame[name]
    return pd.Series(np.nan, index=frame.index, dtype=object)


def _present(frame: pd.DataFrame, name: str) -> np.ndarray:
    """True where the tag column ``name`` holds a value."""
    values = _column(frame, name)
    return (values.notna() & (values.astype(str).str.strip() != "")).to_numpy()


def _numbers(frame: pd.DataFrame, name: str) -> np.ndarray:
    values = pd.to_numeric(_column(frame, name), errors="coerce").to_numpy(float)
    return np.where(np.isfinite(values) & (values > 0), values, np.nan)


def _landuse_of(
    points: np.ndarray, landuse: gpd.GeoDataFrame | None, values: frozenset[str], crs: Any
) -> np.ndarray:
    """True for points inside a land-use polygon whose ``landuse`` is in ``values``."""
    inside = np.zeros(len(points), dtype=bool)
    if landuse is None or landuse.empty or not len(points):
        return inside
    land = landuse[landuse["landuse"].isin(values)]
    if land.empty:
        return inside
    polygons = _valid(land.to_crs(crs).geometry.to_numpy())
    hits, _ = shapely.STRtree(polygons).query(points, predicate="within")
    inside[np.unique(hits)] = True
    return inside


def _residential_share(
    buildings: gpd.GeoDataFrame,
    landuse: gpd.GeoDataFrame | None,
    params: DasymetricParams,
) -> tuple[np.ndarray, np.ndarray]:
    """Share of each building's floor area in dwellings, and the rule that set it.

    Rules: ``type`` (a residential building type, 1), ``residential_landuse``, ``flats``
    and ``address`` (untyped, 1), ``untyped`` (untyped without evidence, the default share),
    ``none`` (0: another type, untyped in non-residential land, with a non-residential amenity
    or tourism tag, or smaller than the minimum footprint).
    """
    kind = buildings["building"].astype("string").fillna("yes").to_numpy(dtype=object)
    typed = np.isin(kind, [k for k in params.types if k not in params.untyped_values])
    untyped = np.isin(kind, list(params.untyped_values))
    amenity = _column(buildings, "amenity").astype("string")
    tourism = _column(buildings, "tourism").astype("string")
    commercial = (
        np.logical_or.reduce([_present(buildings, k) for k in params.ground_floor_keys])
        if params.ground_floor_keys
        else np.zeros(len(buildings), dtype=bool)
    )
    has_amenity = _present(buildings, "amenity")
    ground_amenity = amenity.isin(params.ground_floor_amenities).fillna(False).to_numpy()
    other_amenity = has_amenity & ~ground_amenity
    lodging = tourism.isin(params.non_residential_tourism).fillna(False).to_numpy()
    points = shapely.point_on_surface(buildings.geometry.to_numpy())
    in_homes_land = _landuse_of(points, landuse, params.residential_landuse, buildings.crs)
    in_other_land = _landuse_of(points, landuse, params.non_residential_landuse, buildings.crs)
    flats = _numbers(buildings, "building_flats") > 0
    address = (
        _present(buildings, "address")
        & ~commercial
        & ~has_amenity
        & ~_present(buildings, "tourism")
    )
    small = shapely.area(buildings.geometry.to_numpy()) < params.min_untyped_footprint_m2

    share = np.where(typed, 1.0, 0.0)
    rule = np.where(typed, "type", "none").astype(object)
    candidate = untyped & ~other_amenity & ~lodging & ~small
    steps = (
        (candidate & ~in_other_land, params.untyped_residential_share, "untyped"),
        (candidate & ~in_other_land & address, 1.0, "address"),
        (candidate & in_homes_land, 1.0, "residential_landuse"),
        (candidate & flats, 1.0, "flats"),
    )
    for mask, value, label in steps:  # later rules win
        share[mask], rule[mask] = value, label
    return share, rule


def _tagged_storeys(
    frame: gpd.GeoDataFrame, params: DasymetricParams
) -> tuple[np.ndarray, np.ndarray]:
    """Storeys from ``building_levels``, else ``height_m`` / storey height (NaN if neither).

    OSM values are typed by anyone: storeys above :data:`_MAX_STOREYS` (the tallest towers
    have about 160 floors) are ignored, with a warning, so that a ``building:levels=1000000``
    does not put millions of people in one building.
    """
    levels = _numbers(frame, "building_levels")
    height = _numbers(frame, "height_m")
    from_height = np.maximum(1.0, np.round(height / params.storey_height_m))
    absurd = (levels > _MAX_STOREYS) | (~(levels <= _MAX_STOREYS) & (from_height > _MAX_STOREYS))
    if absurd.any():
        ids = frame["osm_id"].astype(str).to_numpy()[absurd] if "osm_id" in frame else []
        logger.warning(
            "residents: %d buildings tagged with more than %d storeys (%s); their tags are "
            "ignored and their storeys estimated instead",
            int(absurd.sum()),
            int(_MAX_STOREYS),
            listing(ids),
        )
        levels[levels > _MAX_STOREYS] = np.nan
        from_height[from_height > _MAX_STOREYS] = np.nan
    source = np.where(np.isnan(levels), np.where(np.isnan(from_height), "", "height"), "tag")
    return np.where(np.isnan(levels), from_height, levels), source.astype(object)


def _storeys(
    homes: gpd.GeoDataFrame,
    reference: gpd.GeoDataFrame,
    params: DasymetricParams,
) -> tuple[np.ndarray, np.ndarray]:
    """Storeys per home and where each value came from.

    Order: ``tag`` (``building_levels``), ``height`` (``height_m`` / storey height, rounded,
    at least 1), then for low-rise types (houses) ``type_default``; for the others
    ``neighbourhood`` when at least ``min_neighbour_samples`` tagged buildings of
    ``reference`` (not of low-rise types) lie within the radius: the median storeys of *all*
    the buildings of a home type there, each counted by its tag or, untagged, by its type's
    default, so a few tagged towers among untagged blocks do not set the median. Else
    ``small_footprint`` (the storeys of ``small_footprint_type`` for a footprint under
    ``small_footprint_m2``: a small untagged building is a house), else ``type_default``.
    """
    levels, source = _tagged_storeys(homes, params)
    kind = homes["building"].astype(str).to_numpy()
    low_rise = np.array([params.types[k].low_rise for k in kind], dtype=bool)
    missing = np.isnan(levels) & ~low_rise
    ref_levels, _ = _tagged_storeys(reference, params)
    ref_kind = reference["building"].astype(str).to_numpy()
    ref_tagged = ~np.isnan(ref_levels)
    ref_low = np.array(
        [k in params.types and params.types[k].low_rise for k in ref_kind], dtype=bool
    )
    ref_default = np.array(
        [params.types[k].levels if k in params.types else np.nan for k in ref_kind]
    )
    ref_values = np.where(ref_tagged, ref_levels, ref_default)
    ref_ok = ~ref_low & ~np.isnan(ref_values)
    if missing.any() and (ref_ok & ref_tagged).sum() >= params.min_neighbour_samples:
        ref_points = shapely.point_on_surface(reference.geometry.to_numpy()[ref_ok])
        ref_values, ref_tagged = ref_values[ref_ok], ref_tagged[ref_ok]
        idx = np.flatnonzero(missing)
        points = shapely.point_on_surface(homes.geometry.to_numpy()[idx])
        home_i, ref_i = shapely.STRtree(ref_points).query(
            points, predicate="dwithin", distance=params.neighbourhood_radius_m
        )
        if len(home_i):
            order = np.argsort(home_i, kind="stable")
            groups, starts, counts = np.unique(home_i[order], return_index=True, return_counts=True)
            near = ref_i[order]
            for g, s, n in zip(groups, starts, counts, strict=True):
                if ref_tagged[near[s : s + n]].sum() >= params.min_neighbour_samples:
                    levels[idx[g]] = float(np.median(ref_values[near[s : s + n]]))
                    source[idx[g]] = "neighbourhood"
    default = np.isnan(levels)
    levels[default] = [params.types[k].levels for k in kind[default]]
    source[default] = "type_default"
    footprint = shapely.area(homes.geometry.to_numpy())
    small = default & ~low_rise & (footprint < params.small_footprint_m2)
    levels[small] = params.types[params.small_footprint_type].levels
    source[small] = "small_footprint"
    return levels, source


def _unmapped_landuse(
    landuse: gpd.GeoDataFrame | None,
    buildings: gpd.GeoDataFrame,
    area: BaseGeometry | None,
    params: DasymetricParams,
) -> gpd.GeoDataFrame:
    """Residential land-use polygons with (almost) no mapped building, as homes.

    A polygon whose mapped footprint covers less than ``unmapped_max_coverage`` of it gets the
    footprint ``A × c`` less what is mapped: ``c`` is the area-weighted footprint coverage of
    the extract's mapped residential polygons (when they cover
    ``unmapped_min_reference_area_m2``), else ``unmapped_default_coverage``. It is cut into
    ``unmapped_cell_m`` squares sharing that footprint by area, one home each (``home_id``
    ``<land-use id>#<n>``), so that residents keep their place on the network.
    """
    empty = gpd.GeoDataFrame(
        {"home_id": [], "building": [], "footprint_m2": []},
        geometry=[],
        crs=buildings.crs,
    )
    if landuse is None or landuse.empty or params.unmapped_max_coverage <= 0:
        return empty
    land = landuse[landuse["landuse"].isin(params.residential_landuse)]
    if land.empty:
        return empty
    polygons = _valid(land.to_crs(buildings.crs).geometry.to_numpy())
    if area is not None:
        polygons = shapely.intersection(polygons, area)
    land_area = shapely.area(polygons)
    keep = land_area > 0
    polygons, land_area, ids = polygons[keep], land_area[keep], land["osm_id"].to_numpy()[keep]
    footprints = _valid(buildings.geometry.to_numpy())
    b_i, l_i = shapely.STRtree(polygons).query(
        shapely.point_on_surface(footprints), predicate="within"
    )
    mapped = np.bincount(l_i, weights=shapely.area(footprints)[b_i], minlength=len(polygons))
    coverage = mapped / land_area
    unmapped = coverage < params.unmapped_max_coverage
    reference = ~unmapped
    if land_area[reference].sum() >= params.unmapped_min_reference_area_m2:
        fill = float(mapped[reference].sum() / land_area[reference].sum())
    else:
        fill = params.unmapped_default_coverage
    if not unmapped.any() or fill <= 0:
        return empty
    footprint = np.maximum(land_area[unmapped] * fill - mapped[unmapped], 0.0)
    logger.info(
        "residents: %d residential land-use polygons (%.2f km²) hold under %.0f %% mapped "
        "footprint; filled to %.0f %% coverage",
        int(unmapped.sum()),
        land_area[unmapped].sum() / 1e6,
        100 * params.unmapped_max_coverage,
        100 * fill,
    )
    pieces, owner = _grid_pieces(polygons[unmapped], params.unmapped_cell_m)
    share = shapely.area(pieces) / land_area[unmapped][owner]
    number = np.zeros(len(pieces), dtype=int)
    for i in range(1, len(pieces)):
        number[i] = number[i - 1] + 1 if owner[i] == owner[i - 1] else 0
    piece_ids = [f"{k}#{n}" for k, n in zip(ids[unmapped][owner], number, strict=True)]
    return gpd.GeoDataFrame(
        {
            "home_id": piece_ids,
            "building": params.unmapped_building,
            "footprint_m2": footprint[owner] * share,
        },
        geometry=pieces,
        crs=buildings.crs,
    )


def _grid_pieces(polygons: np.ndarray, cell_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Cut polygons by a grid of ``cell_m`` squares (edges on multiples of ``cell_m``).

    Returns the non-empty pieces and the index of the polygon each came from, in order.
    """
    pieces, owner = [], []
    for i, polygon in enumerate(polygons):
        minx, miny, maxx, maxy = polygon.bounds
        xs = np.arange(math.floor(minx / cell_m), math.ceil(maxx / cell_m)) * cell_m
        ys = np.arange(math.floor(miny / cell_m), math.ceil(maxy / cell_m)) * cell_m
        gx, gy = np.meshgrid(xs, ys)
        cells = shapely.box(gx.ravel(), gy.ravel(), gx.ravel() + cell_m, gy.ravel() + cell_m)
        cut = shapely.intersection(cells, polygon)
        cut = cut[shapely.area(cut) > 0]
        pieces.extend(cut)
        owner.extend([i] * len(cut))
    return np.array(pieces, dtype=object), np.array(owner, dtype=int)


def _holds_ground_floor_poi(
    homes: gpd.GeoDataFrame, pois: gpd.GeoDataFrame | None, params: DasymetricParams
) -> np.ndarray:
    """True for homes containing a shop, office, craft or ground-floor amenity point."""
    held = np.zeros(len(homes), dtype=bool)
    if pois is None or pois.empty or homes.empty:
        return held
    if "tags" not in pois.columns:
        raise InputError(f"pois: no 'tags' column of dicts; columns found: {list(pois.columns)}")
    keys, amenities = params.ground_floor_keys, params.ground_floor_amenities

    def commercial(tags: Any) -> bool:
        return isinstance(tags, Mapping) and (
            any(k in tags for k in keys) or tags.get("amenity") in amenities
        )

    wanted = (
        pois["tags"].map(commercial).to_numpy(dtype=bool) & (pois.geom_type == "Point").to_numpy()
    )
    if not wanted.any():
        return held
    points = pois.loc[wanted].to_crs(homes.crs).geometry.to_numpy()
    home_i, _ = shapely.STRtree(points).query(homes.geometry.to_numpy(), predicate="contains")
    held[np.unique(home_i)] = True
    return held


def dasymetric_population(
    buildings: gpd.GeoDataFrame,
    *,
    landuse: gpd.GeoDataFrame | None = None,
    pois: gpd.GeoDataFrame | None = None,
    total: float | None = None,
    density_per_km2: float | None = None,
    area: BaseGeometry | None = None,
    params: DasymetricParams | None = None,
) -> gpd.GeoDataFrame:
    r"""Estimate residents per building from its dwelling floor area.

    .. math::

        p_b = \frac{a_b \, \ell_b \, s_b \, g_{t(b)}}{f}

    with footprint :math:`a_b` (m²), residential storeys :math:`\ell_b` (storeys less a
    commercial ground floor), residential share :math:`s_b` (1 for residential types; for
    untyped buildings by land use, tags and address), the net-to-gross ratio :math:`g_t` of
    its type and the net dwelling area per person :math:`f` (m²). Residential land use with
    (almost) no mapped building adds its expected floor area as one home per polygon. With
    ``total`` (or ``density_per_km2`` × the area), residents are scaled to exactly that total.

    Parameters
    ----------
    buildings
        Building footprints in a projected metric CRS: ``osm_id`` (``way/123``),
        ``building`` and optionally ``building_levels``, ``height_m``, ``building_flats``
        (numbers, NaN when unknown), ``amenity``, ``shop``, ``office``, ``craft``,
        ``tourism`` and ``address`` (tag values) — the columns of the buildings layer.
    landuse
        Land-use polygons with ``osm_id`` and ``landuse``.
    pois
        OSM features with a ``tags`` column of dicts (any CRS), e.g. the loader's raw
        features: a building holding a point tagged ``shop``, ``office``, ``craft`` or a
        ground-floor ``amenity`` loses its ground floor, as if the building carried the tag.
    total
        Residents to distribute (persons), e.g. a census count for the area.
    density_per_km2
        Residents per km² of ``area``, instead of ``total``.
    area
        Study-area polygon in the buildings' CRS: only buildings whose representative point
        lies in it count; required with ``density_per_km2``.
    params
        Types, shares and factors; the packaged ones when None.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per home: ``home_id`` (``way/123``; for filled-in land use the land-use id),
        ``building``, ``population`` (persons, float), ``floor_area_m2`` (gross residential
        floor area), ``net_floor_area_m2``, ``levels``, ``levels_source`` (``tag`` |
        ``height`` | ``neighbourhood`` | ``small_footprint`` | ``type_default`` |
        ``unmapped_landuse``),
        ``residential_share``, ``share_rule`` and the polygon as geometry.

    Raises
    ------
    InputError
        Missing columns or a geographic / missing CRS.
    ParameterError
        Both ``total`` and ``density_per_km2``; a total that is not a positive finite
        number; ``density_per_km2`` without ``area``.
    DataError
        No building is residential (and no residential land use to fill).

    References
    ----------
    Mennis, J. (2003). Generating surface models of population using dasymetric mapping.
    The Professional Geographer 55(1), 31-42. doi:10.1111/0033-0124.10042
    """
    params = params or load_params(DasymetricParams)
    crs = metric_crs(buildings.crs, "buildings")
    missing = [c for c in ("osm_id", "building") if c not in buildings.columns]
    if missing:
        raise InputError(
            f"buildings: missing column(s) {missing}; columns found: {list(buildings.columns)}"
        )
    if landuse is not None and not {"landuse", "osm_id"} <= set(landuse.columns):
        raise InputError(
            f"landuse: needs 'osm_id' and 'landuse' columns; columns found: {list(landuse.columns)}"
        )
    persons = _target_total(total, density_per_km2, area)

    candidates = buildings
    if area is not None:
        candidates = buildings[buildings.geometry.representative_point().within(area)]
    candidates = candidates.set_geometry(_valid(candidates.geometry.to_numpy()), crs=crs)
    candidates = candidates[shapely.area(candidates.geometry.to_numpy()) > 0]
    share, rule = _residential_share(candidates, landuse, params)
    homes = candidates[share > 0]
    share, rule = share[share > 0], rule[share > 0]
    levels, source = _storeys(homes, candidates, params)
    ground = (
        np.logical_or.reduce([_present(homes, k) for k in params.ground_floor_keys])
        | _column(homes, "amenity").isin(params.ground_floor_amenities).to_numpy()
        | _holds_ground_floor_poi(homes, pois, params)
    )
    residential_levels = np.where(ground, np.maximum(levels - 1.0, 0.0), levels)
    footprint = shapely.area(homes.geometry.to_numpy())
    gross = footprint * residential_levels * share
    ratio = np.array([params.types[k].net_to_gross for k in homes["building"].astype(str)])
    built = gpd.GeoDataFrame(
        {
            "home_id": homes["osm_id"].astype(str).to_numpy(),
            "building": homes["building"].astype(str).to_numpy(),
            "floor_area_m2": gross,
            "net_floor_area_m2": gross * ratio,
            "levels": levels,
            "levels_source": source,
            "residential_share": share,
            "share_rule": rule,
        },
        geometry=homes.geometry.to_numpy(),
        crs=crs,
    )
    land = _unmapped_landuse(landuse, candidates, area, params)
    fill_gross = land["footprint_m2"].to_numpy(float) * params.unmapped_levels
    filled = gpd.GeoDataFrame(
        {
            "home_id": land["home_id"].to_numpy(),
            "building": land["building"].to_numpy(),
            "floor_area_m2": fill_gross,
            "net_floor_area_m2": fill_gross * params.types[params.unmapped_building].net_to_gross,
            "levels": params.unmapped_levels,
            "levels_source": "unmapped_landuse",
            "residential_share": 1.0,
            "share_rule": "unmapped_landuse",
        },
        geometry=land.geometry.to_numpy(),
        crs=crs,
    )
    result = pd.concat([built, filled], ignore_index=True)
    result = result[result["net_floor_area_m2"] > 0].reset_index(drop=True)
    if result.empty:
        kinds = candidates["building"].value_counts().head(5).to_dict()
        raise DataError(
            f"buildings: none of {len(candidates)} buildings is residential (most common "
            f"building=* {kinds}; residential types {sorted(params.types)}; land use given: "
            f"{landuse is not None}); pass the land-use layer, add types in a population TOML, "
            "or read a population raster instead"
        )
    people = result["net_floor_area_m2"].to_numpy() / params.net_m2_per_person
    if persons is not None:
        people = persons * people / people.sum()
    result.insert(2, "population", people)
    logger.info(
        "residents: %.0f in %d homes of %d buildings (%d filled-in land-use polygons); "
        "%.0f m² gross residential floor; storeys %s; shares %s",
        people.sum(),
        len(built),
        len(candidates),
        len(filled),
        result["floor_area_m2"].sum(),
        result["levels_source"].value_counts().to_dict(),
        result["share_rule"].value_counts().to_dict(),
    )
    return result


#: A census total above the world's population (8.2 billion, UN 2024) is a typing error.
_TOTAL = Bound(0.0, 1e10, "persons", above=True)
#: Residents per km²: 2 per m² at most, the raster limit (Kowloon Walled City held 1.3).
_DENSITY = Bound(0.0, 2e6, "persons/km²", above=True)


def _target_total(
    total: float | None, density_per_km2: float | None, area: BaseGeometry | None
) -> float | None:
    """The total to scale to (persons), or None for the unscaled estimate."""
    if total is not None and density_per_km2 is not None:
        raise ParameterError("pass total= (persons) or density_per_km2=, not both")
    if density_per_km2 is not None:
        problem = number_problem("density_per_km2", density_per_km2, _DENSITY)
        raise_problems(ParameterError, "residents", [problem] if problem else [], _FIX_TOTAL)
        if area is None:
            raise ParameterError("density_per_km2 needs area= (the study-area polygon)")
        return float(density_per_km2) * area.area / 1e6
    return None if total is None else _checked_total(total)


def _checked_total(total: float) -> float:
    """``total`` (persons), refused unless a positive finite number."""
    problem = number_problem("population_total", total, _TOTAL)
    raise_problems(ParameterError, "residents", [problem] if problem else [], _FIX_TOTAL)
    return float(total)


_FIX_TOTAL = "Pass the census count of the study area's residents (persons)"


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
    target = metric_crs(crs, "crs")
    metric_crs(homes_or_cells.crs, "homes_or_cells")
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
    with atomic_path(out, overwrite=True) as tmp, rasterio.open(tmp, "w", **profile) as dst:
        dst.write(grid.astype("float32"), 1)
        dst.update_tags(units="persons per cell", total_persons=f"{people.sum():.3f}")
        dst.set_band_description(1, "population")
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
    crs = metric_crs(homes.crs, "homes")
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


# --------------------------------------------------------------------------------------
# control totals: a census total or a table of counts per district
# --------------------------------------------------------------------------------------


def scale_to_total(homes: gpd.GeoDataFrame, total: float) -> gpd.GeoDataFrame:
    """Scale the residents of the census area so that they sum to exactly ``total`` (persons).

    The census area is the districts: when ``homes`` have a ``district_id`` column, only homes
    in a district are scaled, keeping proportions, and homes outside every district keep their
    estimate (the French fringe of a Monaco extract is not counted by Monaco's census).

    Raises
    ------
    ParameterError
        ``total`` is not a positive finite number.
    DataError
        The census area holds nobody to scale.
    """
    persons = _checked_total(total)
    inside = (
        homes["district_id"].notna().to_numpy()
        if "district_id" in homes
        else np.ones(len(homes), dtype=bool)
    )
    population = homes["population"].to_numpy(float)
    current = float(population[inside].sum())
    if not current > 0:
        raise DataError(
            f"population_total={total}: no home to put residents in (no residential building "
            "or raster cell in the districts); pass a population raster or a census table "
            "per district (population_table=)"
        )
    if not inside.all():
        logger.info(
            "population_total=%s scales the %d homes in the districts; %d homes outside them "
            "keep their estimate (%.0f residents)",
            total,
            int(inside.sum()),
            int((~inside).sum()),
            float(population[~inside].sum()),
        )
    return homes.assign(population=np.where(inside, population * (persons / current), population))


def scale_to_districts(
    homes: gpd.GeoDataFrame,
    table: str | Path | pd.DataFrame,
    *,
    districts: gpd.GeoDataFrame,
) -> gpd.GeoDataFrame:
    """Scale residents district by district to census counts, exactly.

    Homes of a district are scaled by ``count / estimate``; a district with a count but no
    home gets one home, its own polygon (``home_id`` ``district/<id>``), with a warning;
    homes outside every district get nobody (warned), so the result sums to the table.

    Parameters
    ----------
    homes
        Homes with ``population`` and ``district_id`` (:func:`assign_to_districts`).
    table
        CSV file or DataFrame with ``district_id`` and ``population`` (persons) per district.
    districts
        The study area's districts (``district_id``, polygons).

    Returns
    -------
    geopandas.GeoDataFrame
        The homes, ``population`` summing to the table's total in every district.

    Raises
    ------
    InputError
        Missing columns, duplicate or unknown district ids, counts that are missing, not
        numbers, infinite or negative, or districts holding homes that the table lacks; all
        listed together, naming the file.
    """
    frame, where = _read_table(table, "district_id", "population table")
    missing = [c for c in ("district_id", "population") if c not in frame.columns]
    if missing:
        raise InputError(
            f"{where}: missing column(s) {missing}; columns found: {list(frame.columns)}; "
            "give one row per district: district_id, population"
        )
    keys = frame["district_id"].astype(str)
    counts = pd.to_numeric(frame["population"], errors="coerce")
    problems = []
    duplicated = sorted(set(keys[keys.duplicated()]))
    if duplicated:
        problems.append(f"duplicate district_id {listing(duplicated)}")
    bad = ~np.isfinite(counts.to_numpy(float)) | (counts.to_numpy(float) < 0)
    if bad.any():
        problems.append(
            "population missing, not a number, infinite or negative for "
            + listing(
                f"{k} ({v!r})" for k, v in zip(keys[bad], frame["population"][bad], strict=True)
            )
        )
    known = set(districts["district_id"].astype(str))
    unknown = sorted(set(keys) - known)
    if unknown:
        problems.append(
            f"unknown district_id {listing(unknown)} (districts: {listing(sorted(known))})"
        )
    home_keys = homes["district_id"].dropna().astype(str)
    held = home_keys[homes.loc[home_keys.index, "population"].to_numpy(float) > 0]
    uncovered = sorted(set(held) - set(keys))
    if uncovered:
        problems.append(
            f"no count for district_id {listing(uncovered)}, which hold homes (give 0 if "
            "nobody lives there)"
        )
    if problems:
        raise InputError(f"{where}: " + "; ".join(problems))

    target = pd.Series(counts.to_numpy(float), index=keys.to_numpy())
    key = homes["district_id"].where(homes["district_id"].isna(), homes["district_id"].astype(str))
    estimate = homes.groupby(key)["population"].sum()
    factor = (target / estimate.reindex(target.index)).replace([np.inf, -np.inf], np.nan)
    people = homes["population"].to_numpy(float) * key.map(factor).fillna(0.0).to_numpy(float)
    outside = key.isna().to_numpy() & (homes["population"].to_numpy(float) > 0)
    if outside.any():
        logger.warning(
            "%s: %d homes (%.0f estimated residents) lie outside every district and get nobody",
            where,
            int(outside.sum()),
            float(homes.loc[outside, "population"].sum()),
        )
    result = homes.assign(population=people)
    empty = target[(target > 0) & ~(estimate.reindex(target.index).fillna(0) > 0)]
    if len(empty):
        zones = districts.set_index(districts["district_id"].astype(str)).loc[empty.index]
        warnings.warn(
            f"{where}: districts {listing(empty.index)} have residents in the table "
            f"({empty.sum():,.0f} in all) but no home in the data; each district's polygon "
            "holds its residents as one home. Check the buildings or pass a raster",
            UserWarning,
            stacklevel=2,
        )
        added = gpd.GeoDataFrame(
            {
                "home_id": [f"district/{k}" for k in empty.index],
                "population": empty.to_numpy(float),
                "district_id": list(empty.index),
            },
            geometry=zones.geometry.to_crs(homes.crs).to_numpy(),
            crs=homes.crs,
        )
        result = pd.concat([result, added], ignore_index=True)
    logger.info(
        "%s: residents scaled to %d district counts, %.0f in all", where, len(target), people.sum()
    )
    return result


def residents(
    buildings: gpd.GeoDataFrame,
    *,
    landuse: gpd.GeoDataFrame | None,
    area: BaseGeometry,
    crs: Any,
    districts: gpd.GeoDataFrame,
    pois: gpd.GeoDataFrame | None = None,
    raster: str | Path | None = None,
    total: float | None = None,
    table: str | Path | pd.DataFrame | None = None,
    net_m2_per_person: float | None = None,
    params: DasymetricParams | None = None,
) -> gpd.GeoDataFrame:
    """Homes with residents and districts: a raster or the estimate, then the control totals.

    Residents come from ``raster`` (:func:`population_from_raster`) or the estimate from
    buildings (:func:`dasymetric_population`); they are given districts
    (:func:`assign_to_districts`) and then scaled to ``table`` (:func:`scale_to_districts`) or
    to ``total`` (:func:`scale_to_total`), exactly. An area with no residential building and
    no control total gets no homes (a warning is logged: a site assessment needs none).

    ``net_m2_per_person`` overrides that parameter of ``params`` (m² of net dwelling floor
    area per resident).

    Raises
    ------
    InputError
        Both ``total`` and ``table`` are given, or an input is invalid.
    ParameterError
        ``net_m2_per_person`` is not a positive finite number.
    """
    params = params or load_params(DasymetricParams)
    if net_m2_per_person is not None:
        bound = _BOUNDS["net_m2_per_person"]
        problem = number_problem("floor_m2_per_person", net_m2_per_person, bound)
        raise_problems(
            ParameterError,
            "residents",
            [problem] if problem else [],
            "Pass the net dwelling floor area per resident in m²",
        )
        params = replace(params, net_m2_per_person=float(net_m2_per_person))
    if total is not None and table is not None:
        raise InputError(
            "give population_total= or population_table=, not both: the table's counts "
            "already fix the total"
        )
    if raster is not None:
        homes = population_from_raster(raster, area=area, crs=crs, params=params)
        homes = homes.rename(columns={"cell_id": "home_id"})
    else:
        try:
            homes = dasymetric_population(
                buildings, landuse=landuse, pois=pois, area=area, params=params
            )
        except DataError as exc:
            if total is not None:
                raise
            logger.warning("no residents estimated: %s", exc)
            homes = gpd.GeoDataFrame(
                {"home_id": pd.Series(dtype=str), "population": pd.Series(dtype=float)},
                geometry=[],
                crs=crs,
            )
    homes = assign_to_districts(homes, districts)
    if table is not None:
        return scale_to_districts(homes, table, districts=districts)
    if total is not None:
        return scale_to_total(homes, total)
    return homes


def _read_table(table: str | Path | pd.DataFrame, by: str, what: str) -> tuple[pd.DataFrame, str]:
    """Read a CSV table keyed by ``by`` (or copy a DataFrame) and name it for messages."""
    if isinstance(table, pd.DataFrame):
        return table.copy(), what
    src = Path(table)
    if not src.is_file():
        raise InputError(f"{src}: {what} not found; pass the path of a CSV file")
    try:
        # only an empty cell is missing: ids "NA", "null", "None" stay ids; a count or share
        # written "NA" is then refused as not a number
        frame = pd.read_csv(src, dtype={by: str}, keep_default_na=False, na_values=[""])
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
    frame, where = _read_table(table, by, "group share table")
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
