"""The options of :func:`cohesion_gis.city.load_city`, declared once.

The CLI builds its study-area options from :data:`LOAD_OPTIONS` and the City's provenance records
them, so an option cannot be added to one and forgotten in the other. This module holds data
only, so that ``cohesion-gis --help`` does not import the geospatial stack.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["LOAD_OPTIONS", "OPTION_KINDS", "LoadOption"]

#: The kinds of :class:`LoadOption` (how the CLI reads one; the provenance records every kind).
OPTION_KINDS = ("file", "text", "choice", "number", "integer", "flag", "distance", "bbox")


@dataclass(frozen=True)
class LoadOption:
    """One option of :func:`~cohesion_gis.city.load_city`, for the CLI and the provenance.

    ``cohesion-gis`` builds its study-area options from :data:`LOAD_OPTIONS` (flag
    ``--<name with dashes>``, its help and default) and :class:`~cohesion_gis.city.Provenance`
    records each option's value, so neither can drift from :func:`~cohesion_gis.city.load_city`
    (``tests/test_city.py`` checks the names and defaults against its signature).

    Attributes
    ----------
    name
        The keyword of :func:`~cohesion_gis.city.load_city`.
    help
        One line for ``--help``, with units.
    kind
        How the CLI reads it (:data:`OPTION_KINDS`): a file path, text, one of ``choices``, a
        positive number, an integer, a flag, a distance of at least 0 m, or a
        ``WEST SOUTH EAST NORTH`` box.
    default
        Its default in :func:`~cohesion_gis.city.load_city`.
    choices
        The allowed values of a ``choice``.
    cli
        Whether the CLI offers it (``progress`` follows the terminal instead).
    """

    name: str
    help: str
    kind: str
    default: Any = None
    choices: tuple[str, ...] = ()
    cli: bool = True


#: Every option of :func:`~cohesion_gis.city.load_city`, in the order of its signature.
LOAD_OPTIONS: tuple[LoadOption, ...] = (
    LoadOption("pbf", "OSM PBF extract (default: the embedded central-Helsinki extract).", "file"),
    LoadOption("osm_xml", "OSM XML file, read through osmnx.", "file"),
    LoadOption("place", "Place name to retrieve live through osmnx (needs internet).", "text"),
    LoadOption("bbox", "Clip box in degrees (EPSG:4326).", "bbox"),
    LoadOption("boundary", "Clip polygon file (any CRS).", "file"),
    LoadOption("name", "Short study-area name, for file names and titles "
               "(default: the file stem or place).", "text"),
    LoadOption("taxonomy", "TOML overriding the packaged tag taxonomy.", "file"),
    LoadOption("districts", "District file (GeoPackage/GeoJSON/Shapefile), 'osm' or 'grid'. "
               "Default: OSM admin boundaries, else a grid.", "text"),
    LoadOption("district_id_column", "Id column of the district file.", "text", "district_id"),
    LoadOption("district_name_column", "Name column of the district file.", "text", "name"),
    LoadOption("districts_layer", "Layer of the district file to read (when it holds several).",
               "text"),
    LoadOption("repair_districts", "Repair invalid district polygons instead of refusing them.",
               "flag", False),
    LoadOption("admin_level", "OSM admin_level of the districts (default: chosen; "
               "docs/districts.md).", "integer"),
    LoadOption("grid_cell_m", "Grid cell size, metres.", "number", 250.0),
    LoadOption("grid_shape", "Grid cell shape.", "choice", "square", ("square", "hex")),
    LoadOption("population", "Population-count GeoTIFF (any CRS). Default: dasymetric estimate.",
               "file"),
    LoadOption("population_total", "Census total: residents are scaled to exactly this number.",
               "number"),
    LoadOption("population_table", "CSV of census counts per district (district_id, population).",
               "file"),
    LoadOption("floor_m2_per_person", "Net dwelling floor area per resident, m² (default: "
               "net_m2_per_person of defaults/population.toml).", "number"),
    LoadOption("groups", "CSV of resident-group shares per district_id.", "file"),
    LoadOption("groups_by", "Key column of the groups CSV: district_id, or cell_id of the "
               "population raster's cells.", "choice", "district_id", ("district_id", "cell_id")),
    LoadOption("online", "Fetch --bbox live through osmnx (needs internet); else clip --pbf.",
               "flag", False),
    LoadOption("buffer_m", "Also read this many metres around --bbox/--boundary (homes and "
               "spaces there count; only districts inside are reported). Default: the largest "
               "search distance (2,500 m); 0: none.", "distance"),
    LoadOption("progress", "Show progress bars.", "flag", False, cli=False),
)  # fmt: skip
