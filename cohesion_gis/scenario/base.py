"""Loading a scenario's base study area, once per process.

A base is the embedded Helsinki extract, a ``.osm.pbf`` (optionally clipped by a bbox), or a
layers GeoPackage written by :func:`cohesion_gis.write_layers` (read back without OSM parsing
by :func:`cohesion_gis.read.read_layers`).
:func:`load_base` caches the City per base key in the calling process, so a batch worker loads
each base once however many scenarios share it.
"""

from __future__ import annotations

import functools
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from cohesion_gis.read import read_layers, taxonomy_file
from cohesion_gis.scenario.spec import BaseSpec

if TYPE_CHECKING:
    from cohesion_gis.city import City
    from cohesion_gis.taxonomy import Taxonomy

__all__ = ["base_files", "base_taxonomy", "load_base"]

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
    taxonomy = taxonomy_file(spec.source) if spec.source.lower().endswith(".gpkg") else None
    return [Path(spec.source), *([taxonomy] if taxonomy else [])]


def base_taxonomy(spec: BaseSpec) -> Taxonomy:
    """The taxonomy a base is classified with (:func:`load_base` uses the same)."""
    from cohesion_gis.taxonomy import load_taxonomy

    gpkg = spec.source.lower().endswith(".gpkg")
    return load_taxonomy(taxonomy_file(spec.source) if gpkg else None)
