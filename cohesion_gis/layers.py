"""Study-area layers from raw OSM features, classified by the taxonomy, in a metric CRS.

Each builder takes projected raw features (``osm_id``, ``tags`` dict, geometry; see
:class:`~cohesion_gis.sources.osm.OsmExtract`) and returns a GeoDataFrame with documented columns.
Areas are in m² of the metric CRS; point features have ``area_m2`` 0.

Layers and their columns (also listed in ``docs/layers.md``):

- contact spaces: ``space_id`` (``"way/123"``), ``name``, ``space_type``, ``area_m2``,
  ``n_mapped_entrances``;
- soft-target candidate sites: ``site_id``, ``name``, ``kind``, ``area_m2``,
  ``capacity_tag`` (persons, NaN if untagged), ``building_levels``;
- buildings: ``osm_id``, ``name``, ``building``, ``building_levels``, ``height_m``, ``amenity``,
  ``shop``, ``office``, ``craft``, ``tourism``, ``building_flats``, ``address`` (house number or
  name; residents are estimated from these, see ``docs/population.md``), ``area_m2``;
- barriers: ``barrier_id``, ``barrier_kind``, ``barrier``, ``bollard`` (subtype), ``name``,
  ``height_m`` (OSM ``height``, NaN if untagged);
- land use: ``osm_id``, ``landuse``, ``name``, ``area_m2``;
- parking: ``parking_id``, ``name``, ``parking`` (surface, multi-storey, underground...),
  ``capacity_tag``, ``area_m2``;
- severance lines: ``osm_id``, ``kind`` (``"major_road"`` or ``"railway"``), ``type``, ``name``.
"""

from __future__ import annotations

import logging

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely import Polygon

from cohesion_gis.streets import osm_number
from cohesion_gis.taxonomy import Category, Taxonomy, classify

__all__ = [
    "barriers_layer",
    "buildings_layer",
    "contact_spaces_layer",
    "landuse_layer",
    "parking_layer",
    "severance_lines_layer",
    "sites_layer",
]

log = logging.getLogger(__name__)

_AREAL = ("Polygon", "MultiPolygon")
#: Distance within which an ``entrance=*`` or gate node counts as an entrance of a polygon (m).
ENTRANCE_TOLERANCE_M = 2.0
#: A point this close (m) to a polygon of the same category and name is the same place.
SAME_PLACE_M = 50.0


def contact_spaces_layer(features: gpd.GeoDataFrame, *, taxonomy: Taxonomy) -> gpd.GeoDataFrame:
    """Contact spaces (parks, playgrounds, libraries, squares...) by ``taxonomy.contact_spaces``."""
    found = _classified(features, taxonomy.contact_spaces, areal_or_point=True)
    out = gpd.GeoDataFrame(
        {
            "space_id": found["osm_id"].to_numpy(),
            "name": _tag(found, "name"),
            "space_type": found["category"].to_numpy(),
            "area_m2": _area(found),
        },
        geometry=found.geometry.to_numpy(),
        crs=features.crs,
    )
    out["n_mapped_entrances"] = _count_entrances(out, features)
    log.info("contact spaces: %d (%s)", len(out), _counts(out["space_type"]))
    return out


def sites_layer(features: gpd.GeoDataFrame, *, taxonomy: Taxonomy) -> gpd.GeoDataFrame:
    """Soft-target candidate sites classified by ``taxonomy.site_kinds``.

    Pedestrian streets mapped as lines become polygons by buffering them to their tagged width
    (default 6 m, the taxonomy's pedestrian-street width) so every site has an area.
    """
    found = _classified(features, taxonomy.site_kinds, areal_or_point=False)
    widths = found["tags"].map(lambda t: osm_number(t.get("width")))
    default = taxonomy.network.default_width_m.get("pedestrian", 6.0)
    geometry = found.geometry.copy()
    lines = ~geometry.geom_type.isin([*_AREAL, "Point", "MultiPoint"])
    half = np.where(np.isfinite(widths), widths, default) / 2.0
    geometry[lines] = geometry[lines].buffer(half[lines.to_numpy()], cap_style="flat")
    found = found.set_geometry(geometry)
    out = gpd.GeoDataFrame(
        {
            "site_id": found["osm_id"].to_numpy(),
            "name": _tag(found, "name"),
            "kind": found["category"].to_numpy(),
            "area_m2": _area(found),
            "capacity_tag": found["tags"].map(lambda t: osm_number(t.get("capacity"))).to_numpy(),
            "building_levels": found["tags"]
            .map(lambda t: osm_number(t.get("building:levels")))
            .to_numpy(),
        },
        geometry=found.geometry.to_numpy(),
        crs=features.crs,
    )
    log.info("soft-target candidate sites: %d (%s)", len(out), _counts(out["kind"]))
    return out


def buildings_layer(buildings: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Building footprints with levels, height and use."""
    buildings = buildings.loc[buildings.geom_type.isin(_AREAL)]
    tags = buildings["tags"]
    return gpd.GeoDataFrame(
        {
            "osm_id": buildings["osm_id"].to_numpy(),
            "name": _tag(buildings, "name"),
            "building": tags.map(lambda t: t.get("building", "yes")).to_numpy(),
            "building_levels": tags.map(lambda t: osm_number(t.get("building:levels"))).to_numpy(),
            "height_m": tags.map(lambda t: osm_number(t.get("height"))).to_numpy(),
            "amenity": _tag(buildings, "amenity"),
            **{k: _tag(buildings, k) for k in ("shop", "office", "craft", "tourism")},
            "building_flats": tags.map(lambda t: osm_number(t.get("building:flats"))).to_numpy(),
            "address": tags.map(
                lambda t: t.get("addr:housenumber") or t.get("addr:housename")
            ).to_numpy(dtype=object),
            "area_m2": buildings.geometry.area.to_numpy(),
        },
        geometry=buildings.geometry.to_numpy(),
        crs=buildings.crs,
    )


def barriers_layer(features: gpd.GeoDataFrame, *, taxonomy: Taxonomy) -> gpd.GeoDataFrame:
    """Physical barriers (bollards, blocks, gates, walls...), unrated: OSM has no crash rating."""
    found = _classified(features, taxonomy.barrier_kinds, areal_or_point=False)
    geometry = found.geometry.copy()
    areal = geometry.geom_type.isin(_AREAL)
    geometry[areal] = geometry[areal].boundary  # a walled enclosure is its wall line
    return gpd.GeoDataFrame(
        {
            "barrier_id": found["osm_id"].to_numpy(),
            "barrier_kind": found["category"].to_numpy(),
            "barrier": _tag(found, "barrier"),
            "bollard": _tag(found, "bollard"),
            "name": _tag(found, "name"),
            "height_m": found["tags"].map(lambda t: osm_number(t.get("height"))).to_numpy(float),
        },
        geometry=geometry.to_numpy(),
        crs=features.crs,
    )


def landuse_layer(features: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Land-use polygons (``landuse=*``)."""
    found = features.loc[
        features["tags"].map(lambda t: "landuse" in t).to_numpy()
        & features.geom_type.isin(_AREAL).to_numpy()
    ]
    return gpd.GeoDataFrame(
        {
            "osm_id": found["osm_id"].to_numpy(),
            "landuse": _tag(found, "landuse"),
            "name": _tag(found, "name"),
            "area_m2": found.geometry.area.to_numpy(),
        },
        geometry=found.geometry.to_numpy(),
        crs=features.crs,
    )


def parking_layer(features: gpd.GeoDataFrame, *, taxonomy: Taxonomy) -> gpd.GeoDataFrame:
    """Car parks, the raw material of "car park → park" scenarios."""
    found = _classified(features, (taxonomy.parking,), areal_or_point=True)
    return gpd.GeoDataFrame(
        {
            "parking_id": found["osm_id"].to_numpy(),
            "name": _tag(found, "name"),
            "parking": found["tags"].map(lambda t: t.get("parking", "surface")).to_numpy(),
            "capacity_tag": found["tags"].map(lambda t: osm_number(t.get("capacity"))).to_numpy(),
            "area_m2": _area(found),
        },
        geometry=found.geometry.to_numpy(),
        crs=features.crs,
    )


def severance_lines_layer(
    features: gpd.GeoDataFrame, walk_edges: gpd.GeoDataFrame, *, taxonomy: Taxonomy
) -> gpd.GeoDataFrame:
    """Major roads and railways: the lines whose crossing severance measures."""
    rules = taxonomy.network
    rail = features.loc[
        features["tags"].map(lambda t: t.get("railway") in rules.severance_railways).to_numpy()
        & features.geom_type.isin(["LineString", "MultiLineString"]).to_numpy()
    ]
    roads = walk_edges.loc[walk_edges["severance"]].dissolve(by="osm_id", as_index=False)
    return gpd.GeoDataFrame(
        {
            "osm_id": np.concatenate([roads["osm_id"].to_numpy(), rail["osm_id"].to_numpy()]),
            "kind": ["major_road"] * len(roads) + ["railway"] * len(rail),
            "type": np.concatenate([roads["highway"].to_numpy(), _tag(rail, "railway")]),
            "name": np.concatenate([roads["name"].to_numpy(), _tag(rail, "name")]),
        },
        geometry=np.concatenate([roads.geometry.to_numpy(), rail.geometry.to_numpy()]),
        crs=walk_edges.crs,
    )


# --- helpers -------------------------------------------------------------------------------


def _classified(
    features: gpd.GeoDataFrame, family: tuple[Category, ...], *, areal_or_point: bool
) -> gpd.GeoDataFrame:
    """Features of one taxonomy family with a ``category`` column; closed rings become polygons."""
    keys = {key for c in family for rule in (*c.rules, *c.exclude) for key in rule}
    untagged = classify({}, family)  # a feature with none of the keys the rules read
    tags = features["tags"].to_numpy()
    categories = np.array(
        [untagged if t.keys().isdisjoint(keys) else classify(t, family) for t in tags], dtype=object
    )
    found = features.loc[pd.notna(categories)].copy()
    found["category"] = categories[pd.notna(categories)]
    geometry = found.geometry.copy()
    rings = (
        geometry.geom_type.eq("LineString")
        & geometry.is_closed
        & (shapely.get_num_coordinates(geometry.to_numpy()) >= 4)
    )
    rings &= found["tags"].map(lambda t: t.get("highway") != "pedestrian" or t.get("area") == "yes")
    geometry[rings] = geometry[rings].map(lambda g: Polygon(g.coords))
    found = found.set_geometry(geometry)
    if areal_or_point:
        found = found.loc[found.geom_type.isin([*_AREAL, "Point"])]
        found = _drop_points_inside_polygons(found)
    degenerate = found.geom_type.isin(_AREAL) & (found.geometry.area < 1.0)
    found = found.loc[~found.geometry.is_empty & ~degenerate]
    # the same feature may come as a point and a polygon (e.g. osmnx): keep the polygon
    found = found.assign(_areal=found.geom_type.isin(_AREAL)).sort_values("_areal", ascending=False)
    found = found.loc[~found["osm_id"].duplicated()].drop(columns="_areal").sort_index()
    return found.reset_index(drop=True)


def _drop_points_inside_polygons(found: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Drop points that map a polygon of the same category a second time.

    A point inside such a polygon, or within :data:`SAME_PLACE_M` of one with the same name, is
    the same place (e.g. the National Library as a node 25 m from its building polygon).
    """
    points = found.loc[found.geom_type.eq("Point")]
    polygons = found.loc[found.geom_type.isin(_AREAL)]
    if points.empty or polygons.empty:
        return found
    left = points[["category", "geometry"]].assign(name=_tag(points, "name"))
    right = polygons[["category", "geometry"]].assign(name=_tag(polygons, "name"))
    hits = gpd.sjoin_nearest(left, right, max_distance=SAME_PLACE_M, distance_col="gap_m")
    same_name = hits["name_left"].notna() & (hits["name_left"] == hits["name_right"])
    twice = hits.index[
        (hits["category_left"] == hits["category_right"]) & ((hits["gap_m"] == 0) | same_name)
    ].unique()
    if len(twice):
        log.info("dropped %d points mapped again as a polygon of the same type", len(twice))
    return found.drop(index=twice)


def _tag(frame: gpd.GeoDataFrame, key: str) -> np.ndarray:
    values = np.empty(len(frame), dtype=object)
    values[:] = [t.get(key) for t in frame["tags"].to_numpy()]
    return values


def _area(frame: gpd.GeoDataFrame) -> np.ndarray:
    areal = frame.geom_type.isin(_AREAL).to_numpy()
    return np.where(areal, frame.geometry.area.to_numpy(), 0.0)


def _counts(values: pd.Series) -> str:
    return ", ".join(f"{k} {v}" for k, v in values.value_counts().items())


def _count_entrances(spaces: gpd.GeoDataFrame, features: gpd.GeoDataFrame) -> np.ndarray:
    """Mapped entrances (``entrance=*`` or gate nodes) on or within a few metres of a boundary."""
    is_entrance = features["tags"].map(
        lambda t: "entrance" in t or t.get("barrier") in ("gate", "swing_gate", "kissing_gate")
    ) & features.geom_type.eq("Point")
    points = features.loc[is_entrance.to_numpy()]
    counts = np.zeros(len(spaces), dtype=np.int64)
    areal = spaces.geom_type.isin(_AREAL).to_numpy()
    if points.empty or not areal.any():
        return counts
    rings = gpd.GeoDataFrame(geometry=spaces.geometry[areal].boundary, crs=spaces.crs)
    hits = gpd.sjoin_nearest(
        points[["geometry"]], rings, max_distance=ENTRANCE_TOLERANCE_M, how="inner"
    )
    per_space = hits.groupby("index_right").size()
    counts[per_space.index.to_numpy()] = per_space.to_numpy()
    return counts
