r"""Soft-target sites: crowded places merged where they touch, with capacity and Martyn's Law tier.

From the City's candidate sites (OSM squares, markets, places of worship, theatres, stations...;
see :func:`cohesion_gis.layers.sites_layer`) this module builds the **sites** of the HVM
assessment (reference hvm.md §8.2):

1. **Footprints.** Polygons as mapped. A point POI (a theatre or nightclub mapped as a node) takes
   the footprint of the building that contains it; a point outside every building gets a small
   default footprint (:attr:`SiteParams.point_footprint_m2`, a disc).
2. **Merging.** Footprints that touch or overlap are one site (a square with the cathedral steps
   on it; a pedestrian precinct with its department stores). Every name and kind is kept; the
   primary ``kind`` is the member holding most persons. Kinds in
   :attr:`SiteParams.separate_kinds` (schools and universities) never merge: they are separate,
   access-controlled premises, and campus polygons would chain whole city blocks together.
   ``site_id`` is the id of the site's **anchor**: its largest mapped member (an OSM
   ``node/``, ``way/`` or ``relation/``; ties: the smallest id), so it stays the same when a
   proposed feature (a pedestrianised street, ``pedestrianised/...``) joins the site and a
   comparison reports the site as changed, not removed and added; ``members`` lists every
   member's id, sorted (``"node/2+way/1"``), and ``member_names`` every member's name, largest
   footprint first. ``name`` is short enough for a map label: the **lead** member's name, plus
   the other name when there are two, else ``"and N more"`` (``"Aleksanterinkatu and 12
   more"``). The lead is the member that names the place: mapped before proposed, an outline
   before a point POI (a venue node inside a building), an open space (a square or pedestrian
   street: a kind with ``density_persons_m2``) before a venue, then the largest footprint.
3. **Capacity** (persons present at the same time), per member, in this order:

   - ``tag``: the OSM ``capacity`` tag;
   - ``area×density``: open sites (kinds with ``density_persons_m2``): footprint area × density;
   - ``open ground×density``: a member of :attr:`SiteParams.open_ground_kinds` (an attraction)
     mapped as open ground (buildings under :attr:`SiteParams.building_share` of it: a garden,
     park or viewpoint): area × :attr:`SiteParams.open_ground_persons_m2` everyday (its event
     figure is ``event_capacity_persons``);
   - ``auditorium×seats``: seated venues (kinds with ``seats_per_m2``: theatres, cinemas):
     :math:`N = A_{footprint} \cdot s_{aud} \cdot \rho_{seats}` with
     :math:`s_{aud}` = :attr:`SiteParams.auditorium_share` of the footprint (a node: of at
     most :attr:`SiteParams.point_max_floor_m2`) and :math:`\rho_{seats}` 1.54 seats/m² (0.65
     m² per seat with aisles, Time-Saver Standards); Approved Document B counts fixed seating
     by its seats, not by floor-space factor;
   - ``station floor×levels``: stations (kinds in :attr:`SiteParams.station_kinds`) standing
     on buildings (at least :attr:`SiteParams.building_share` of the footprint):
     :math:`N = \sum_b A_b L_b \cdot s_{pub} \cdot \rho_{st}` over the station buildings b
     (the part of each building inside the station's footprint, its ``building:levels``, else
     1), :math:`s_{pub}` the public share of the gross floor and :math:`\rho_{st}` the concourse
     density (both in ``defaults/hvm.toml``: ``station_public_share``,
     ``station_concourse_persons_m2``); an open station (a bus station, open platforms) is its
     area × the concourse density (``area×density``). A station **node** takes the footprint
     and levels of the building it stands in; a station node in no building has **no
     capacity** (``unknown: station node in no building``; ``capacity_persons`` NaN when no
     other member counts): its size cannot be read from the map, and a default disc would
     invent it;
   - ``floor÷factor``: other venues (kinds with ``floor_m2_per_person``):
     :math:`N = A_{footprint} \cdot L \cdot f_{net} / F` with L storeys (``building:levels``, else
     1; a POI node is one storey of its building, at most
     :attr:`SiteParams.point_max_floor_m2` of floor), :math:`f_{net}` the share of gross floor
     area that is public room (:attr:`SiteParams.net_floor_fraction`) and F the floor-space
     factor. These are planning estimates of order of magnitude; a ``capacity`` tag or a
     user-given count always wins.

   In a merged site every square metre counts once, at the densest member covering it (members
   with a capacity tag first, counted whole); ``capacity_source`` names the rules used.
4. **Martyn's Law, per premises** (Terrorism (Protection of Premises) Act 2025): a tier is given
   only to **building-based premises** (s.2(2)(a): "a building, or a building and other land";
   here every venue, and a station, stadium or attraction whose footprint buildings cover at
   least :attr:`SiteParams.building_share`; a street, square or market (kinds with
   ``open_land``) only when it is itself one building, :attr:`SiteParams.hall_share`: a market
   hall), each premises on its own persons (members of one kind drawn over one building, a
   station node in its hall and the hall's polygon, are one premises): ``none`` below 200,
   ``standard`` from 200, ``enhanced`` from 800 (s.2(2)(c), s.2(3)(a)); places of worship,
   schools and further education colleges stay ``standard`` (kinds with ``martyns_law_cap``,
   Schedule 1); universities are not capped (higher education is not among Schedule 1's
   standard-duty uses). ``martyns_law_tier`` is the highest tier of the site's premises and
   ``martyns_law_premises`` lists them; a merged crowd area never adds persons of different
   premises together. An open square, street or market is never premises: its
   ``event_capacity_persons`` (open area, each m² once, less the premises' footprints, ×
   :attr:`SiteParams.event_persons_m2`) flags a "possible qualifying event" from 800 (s.3,
   events with entry checks). The Act is UK law: outside the UK the assessment labels the tier a
   UK-law proxy (``hvm.assess``).
5. **Crowd perimeter** (the geometry): the site plus its frontage footway, where crowds queue and
   leave: footway, pedestrian, path and steps edges of the walk network within
   :attr:`SiteParams.frontage_m` of the footprint, buffered to a footway width and joined to the
   footprint by a morphological closing (gaps narrower than the frontage distance are filled).
   The hostile-vehicle entries of :func:`~cohesion_gis.hvm.routes.approach_routes` are where the
   street network crosses this perimeter.

Examples
--------
>>> import cohesion_gis as cg
>>> from cohesion_gis.hvm.sites import soft_target_sites
>>> city = cg.load_city()  # doctest: +SKIP
>>> sites = soft_target_sites(city)
>>> senate = sites.loc[sites["name"] == "Senaatintori"].iloc[0]
>>> senate["martyns_law_tier"], senate["martyns_law_event"]  # an open square: no premises
('none', 'possible qualifying event')
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import TYPE_CHECKING, Any, ClassVar

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from cohesion_gis._validate import Bound, metric_crs, raise_problems
from cohesion_gis.errors import InputError, ParameterError
from cohesion_gis.hvm.params import HvmParams
from cohesion_gis.network import components
from cohesion_gis.params import (
    FIX_FILE,
    bound_of,
    field_problems,
    load_params,
    param,
    read_fields,
    with_attributes,
)
from cohesion_gis.taxonomy import Taxonomy, load_taxonomy

if TYPE_CHECKING:
    from cohesion_gis.city import City

__all__ = [
    "ENHANCED_PERSONS",
    "FRONTAGE_HIGHWAYS",
    "SITE_COLUMNS",
    "STANDARD_PERSONS",
    "TIERS",
    "SiteParams",
    "martyns_law_tier",
    "soft_target_sites",
]

log = logging.getLogger(__name__)

#: Martyn's Law thresholds (persons at the same time), Terrorism (Protection of Premises) Act
#: 2025 s.2(2)(c) and s.2(3)(a) (reference hvm.md §4) [V].
STANDARD_PERSONS = 200
ENHANCED_PERSONS = 800
#: Tiers in ascending order.
TIERS = ("none", "standard", "enhanced")
#: Walk-network ``highway`` values that count as frontage footway (where crowds stand).
FRONTAGE_HIGHWAYS = ("footway", "pedestrian", "path", "steps")
#: Id prefixes of mapped OSM features: the anchors of merged sites (proposed features have others).
MAPPED_PREFIXES = ("node/", "way/", "relation/")
#: Columns of the Sites table (plus ``geometry``, the crowd perimeter).
SITE_COLUMNS = (
    "site_id",
    "name",
    "kind",
    "kinds",
    "n_members",
    "members",
    "member_names",
    "area_m2",
    "perimeter_area_m2",
    "capacity_persons",
    "capacity_source",
    "martyns_law_tier",
    "martyns_law_premises",
    "event_capacity_persons",
    "martyns_law_event",
)


@with_attributes
@dataclass(frozen=True)
class SiteParams:
    """Assumptions that turn candidate sites into assessed sites.

    Each is declared once, as a field (:func:`cohesion_gis.params.param`: description and
    plausible bound, reasons in docs/hvm_assess.md); the values and their sources live in
    ``defaults/sites.toml``, the station densities in ``defaults/hvm.toml``.
    """

    frontage_m: float = param(
        "Footway within this distance (m) of a site's footprint is its frontage [A: a footway "
        "centreline lies 1-5 m from the façade on European streets].",
        Bound(0.0, 50.0, "m"),
    )
    footway_half_width_m: float = param(
        "Half the width (m) given to a frontage footway [A: 3 m footway].",
        Bound(0.0, 10.0, "m", above=True),
    )
    point_footprint_m2: float = param(
        "Footprint (m²) of a point POI that lies in no building [A: a small kiosk-sized venue].",
        Bound(0.0, 100_000.0, "m²", above=True),
    )
    point_max_floor_m2: float = param(
        "Largest floor area (m²) of one venue [A: about the largest single auditorium or club "
        "floor]: a POI node counted by floor-space factor fills the building containing it only "
        "up to this floor; in a larger building (a hotel, a block of shops and flats) its share "
        "is unknown and its capacity too (``unknown: <kind> node in a larger building``: a "
        "cellar pub read 2,000 persons at 0.5 m²/person, VDA review item 9). A node auditorium "
        "(theatre, cinema) is at most this floor.",
        Bound(0.0, 1_000_000.0, "m²", above=True),
    )
    net_floor_fraction: float = param(
        "Share of gross floor area that is public room, to which the Approved Document B "
        "floor-space factors apply [A: the factors are per m² of the room, not of the building].",
        Bound(0.0, 1.0, above=True),
    )
    auditorium_share: float = param(
        "Share of a seated venue's footprint (theatre, cinema: kinds with ``seats_per_m2``) that "
        "is auditorium, seated at the kind's ``seats_per_m2`` whatever the storeys (balconies "
        "lie over the stalls) [A: stage and fly tower take about as much as the auditorium, "
        "foyers, workshops and offices the rest; checked against 6 theatres' published seats, "
        "docs/hvm_assess.md, within 0.5-1.5×].",
        Bound(0.0, 1.0, above=True),
    )
    default_levels: float = param(
        "Storeys of a venue without ``building:levels``, and of a POI node inside a building [A].",
        Bound(1.0, 200.0, "storeys"),
    )
    separate_kinds: tuple[str, ...] = param(
        "Kinds that never merge with neighbours (see the module docstring)."
    )
    merge_gap_m: float = param(
        "Footprints closer than this (m) merge; 0 = only touching or overlapping ones.",
        Bound(0.0, 100.0, "m"),
    )
    entry_snap_m: float = param(
        "Mount distance (m): the approach search looks for entries on the perimeter grown by "
        "this, so a carriageway whose centreline runs within it of the crowd area (the kerbside "
        "lane beside a frontage footway) reaches the site where it enters that band: a vehicle "
        'can mount the footway there (reference hvm.md §8.3.2 "mount points"). It also catches '
        "streets that OSM ends at a square's edge without a shared node [A: half a 6-7 m "
        "carriageway plus a kerb; 0 = only streets that cross the perimeter].",
        Bound(0.0, 50.0, "m"),
    )
    station_kinds: tuple[str, ...] = param(
        "Kinds counted as stations: floor of their buildings × public share × concourse density."
    )
    station_persons_m2: float = param(
        "Concourse density (persons/m²) of a station's public floor: "
        "``station_concourse_persons_m2`` of ``defaults/hvm.toml`` (Fruin LOS C; "
        ":func:`~cohesion_gis.hvm.assess.assess_sites` passes its own ``HvmParams``).",
        bound_of(HvmParams, "station_concourse_persons_m2"),
    )
    station_public_share: float = param(
        "Share (0-1] of a station building's gross floor that is public: "
        "``station_public_share`` of ``defaults/hvm.toml`` [A].",
        bound_of(HvmParams, "station_public_share"),
    )
    event_persons_m2: float = param(
        "Persons per m² of an open space holding an event (``event_capacity_persons``), "
        "separate from the everyday ``capacity_persons`` (4/m² is already unstable).",
        Bound(0.0, 5.0, "persons/m²", above=True),
    )
    building_share: float = param(
        "An open-space member of a kind that may hold a building (``density_persons_m2`` but not "
        "``open_land``: station, stadium, attraction) is building-based premises when buildings "
        "cover at least this share of its footprint; a venue kind always is.",
        Bound(0.0, 1.0, above=True),
    )
    hall_share: float = param(
        "A market (``hall_kinds``) is premises only when one building covers at least this "
        "share of it: it is itself a building (a market hall).",
        Bound(0.0, 1.0, above=True),
    )
    hall_kinds: tuple[str, ...] = param(
        "The ``open_land`` kinds that may be a building (a market hall); a street or square is "
        "never premises, even drawn over a building (a square on a podium or a car park's roof "
        "is not the building under it; Monaco way/78149828 took the tier of the building below)."
    )
    open_ground_kinds: tuple[str, ...] = param(
        "Kinds whose member mapped as open ground (buildings cover less than ``building_share`` "
        "of it: a garden, a park, a viewpoint) holds its everyday visitors at "
        "``open_ground_persons_m2`` instead of the kind's density (a visitor area)."
    )
    open_ground_persons_m2: float = param(
        "Everyday persons per m² on such open ground (a garden's visitors spread over its paths "
        "and lawns; a busy square: 0.5); the event figure stays ``event_persons_m2``.",
        Bound(0.0, 1.0, "persons/m²", above=True),
    )

    PACKAGED: ClassVar[str] = "sites.toml"
    OPEN_TABLES: ClassVar[tuple[str, ...]] = ()

    def __post_init__(self) -> None:
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        problems = field_problems(values, fields(self))
        raise_problems(ParameterError, "SiteParams", problems, "Fix the value(s)")

    @classmethod
    def from_table(cls, table: Mapping[str, Any], label: str, problems: list[str]) -> SiteParams:
        """Build from a full ``sites.toml`` table (see :func:`cohesion_gis.params.load_params`).

        The station densities live in ``defaults/hvm.toml`` (``station_concourse_persons_m2``,
        ``station_public_share``) and are taken from there.

        Raises
        ------
        ParameterError
            ``problems`` and every missing, mistyped, non-finite or implausible value, in one
            message.
        """
        hvm = load_params(HvmParams)
        table = {
            **table,
            "station_persons_m2": hvm.station_concourse_persons_m2,
            "station_public_share": hvm.station_public_share,
        }
        values, more = read_fields(table, fields(cls))
        raise_problems(ParameterError, label, problems + more, FIX_FILE)
        return cls(**values)

    def as_dict(self) -> dict[str, Any]:
        """Plain dict, JSON-serialisable (for the audit record)."""
        return asdict(self)


def martyns_law_tier(persons: float, *, capped: bool = False) -> str:
    """Martyn's Law tier of a number of persons: ``none`` < 200 ≤ ``standard`` < 800 ≤ ``enhanced``.

    Parameters
    ----------
    persons
        Persons reasonably expected at the same time.
    capped
        Place of worship, school or further-education college (Schedule 1): never above
        ``standard``.

    Examples
    --------
    >>> martyns_law_tier(199), martyns_law_tier(200), martyns_law_tier(800)
    ('none', 'standard', 'enhanced')
    >>> martyns_law_tier(5000, capped=True)
    'standard'
    """
    if persons >= ENHANCED_PERSONS and not capped:
        return "enhanced"
    return "standard" if persons >= STANDARD_PERSONS else "none"


def soft_target_sites(
    city_or_candidates: City | gpd.GeoDataFrame,
    *,
    buildings: gpd.GeoDataFrame | None = None,
    walk_edges: gpd.GeoDataFrame | None = None,
    taxonomy: Taxonomy | None = None,
    params: SiteParams | None = None,
) -> gpd.GeoDataFrame:
    """Soft-target sites: candidates merged where they touch, with capacity, tier and perimeter.

    Parameters
    ----------
    city_or_candidates
        A :class:`~cohesion_gis.city.City` (its ``sites``, ``buildings``, ``walk_edges`` and
        ``taxonomy`` are used), or a candidate-sites table like ``City.sites`` (``site_id``,
        ``name``, ``kind``, ``capacity_tag``, ``building_levels``; polygons or points in a
        metric CRS).
    buildings
        Building footprints (``building_levels``) for point POIs, when candidates are given.
    walk_edges
        Pedestrian network with ``highway`` for the frontage footway, when candidates are given.
    taxonomy
        Site kinds with densities and floor-space factors; default: the packaged taxonomy.
    params
        Site assumptions; default: the packaged ``defaults/sites.toml``.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per site (:data:`SITE_COLUMNS`), geometry = crowd perimeter (Polygon or
        MultiPolygon, same CRS), sorted by ``site_id``. ``area_m2`` is the merged footprint
        area; ``kind`` is the member holding most persons, ``kinds`` every member's kind (most
        persons first) and ``member_names`` every member's name (largest footprint first), each
        ``"; "``-separated; ``name`` is the short label (see the module docstring).

    Raises
    ------
    InputError
        Missing columns, a CRS not projected in metres, or a kind the taxonomy does not know.
    """
    params = params or load_params(SiteParams)
    if isinstance(city_or_candidates, gpd.GeoDataFrame):
        candidates = city_or_candidates
        taxonomy = taxonomy or load_taxonomy()
    else:
        city = city_or_candidates
        candidates = city.sites
        buildings = city.buildings if buildings is None else buildings
        walk_edges = city.walk_edges if walk_edges is None else walk_edges
        taxonomy = taxonomy or city.taxonomy
    _check(candidates, buildings, walk_edges, taxonomy)
    crs = candidates.crs
    if candidates.empty:
        log.info("soft-target sites: none (no candidate sites)")
        return _empty(crs)
    members = _members(candidates, buildings, taxonomy, params)
    group = _merge_groups(members, params)
    columns = {c: members[c].to_numpy() for c in members.columns if c != "geometry"}
    columns["geometry"] = members.geometry.to_numpy()
    order = np.argsort(group, kind="stable")
    cuts = np.flatnonzero(np.diff(group[order])) + 1
    rows = [_site_row(columns, idx, params.event_persons_m2) for idx in np.split(order, cuts)]
    table = pd.DataFrame([r for r, _ in rows])
    footprints = np.array([f for _, f in rows], dtype=object)
    perimeters = _perimeters(footprints, walk_edges, params)
    sites = gpd.GeoDataFrame(table, geometry=perimeters, crs=crs)
    sites["perimeter_area_m2"] = sites.geometry.area
    sites = sites[[*SITE_COLUMNS, "geometry"]].sort_values("site_id", ignore_index=True)
    log.info(
        "soft-target sites: %d from %d candidates (tiers: %s)",
        len(sites), len(candidates), sites["martyns_law_tier"].value_counts().to_dict(),
    )  # fmt: skip
    return sites


# --------------------------------------------------------------------------- helpers


def _check(
    candidates: gpd.GeoDataFrame,
    buildings: gpd.GeoDataFrame | None,
    walk_edges: gpd.GeoDataFrame | None,
    taxonomy: Taxonomy,
) -> None:
    needed = {
        "candidate sites": (candidates, ("site_id", "name", "kind", "capacity_tag")),
        "buildings": (buildings, ()),
        "walk_edges": (walk_edges, ("highway",)),
    }
    for label, (layer, columns) in needed.items():
        if layer is None:
            raise InputError(f"{label}: missing; pass {label.replace(' ', '_')}= or a City.")
        missing = [c for c in columns if c not in layer.columns]
        if missing:
            raise InputError(f"{label}: missing column(s) {missing}; see cohesion_gis.layers.")
        metric_crs(layer.crs, label)
        if layer.crs != candidates.crs:
            raise InputError(
                f"{label}: CRS {layer.crs.to_string()} differs from the candidate sites' "
                f"{candidates.crs.to_string()}; reproject with .to_crs()."
            )
    known = {k.name for k in taxonomy.site_kinds}
    unknown = sorted(set(candidates["kind"]) - known)
    if unknown:
        raise InputError(
            f"candidate sites: unknown kind(s) {unknown}; the taxonomy knows {sorted(known)}."
        )


def _members(
    candidates: gpd.GeoDataFrame,
    buildings: gpd.GeoDataFrame,
    taxonomy: Taxonomy,
    params: SiteParams,
) -> gpd.GeoDataFrame:
    """One row per candidate with its footprint, persons, persons per m² and capacity rule."""
    kinds = {k.name: k for k in taxonomy.site_kinds}
    geoms = candidates.geometry.to_numpy()
    is_point = shapely.get_type_id(geoms) == 0
    footprint = geoms.copy()
    levels = (
        candidates["building_levels"].to_numpy(float)
        if "building_levels" in candidates
        else np.full(len(candidates), np.nan)
    )
    levels = np.where(np.isfinite(levels) & (levels >= 1), levels, params.default_levels)
    point_idx = np.flatnonzero(is_point)
    if point_idx.size:
        b_geoms = buildings.geometry.to_numpy()
        p_idx, b_idx = shapely.STRtree(b_geoms).query(geoms[point_idx], predicate="within")
        inside = pd.Series(b_idx, index=point_idx[p_idx]).groupby(level=0).first()
        radius = float(np.sqrt(params.point_footprint_m2 / np.pi))
        footprint[point_idx] = shapely.buffer(geoms[point_idx], radius, quad_segs=16)
        footprint[inside.index.to_numpy()] = b_geoms[inside.to_numpy()]
        levels[point_idx] = params.default_levels
    area = shapely.area(footprint)
    building, largest = _building_share(footprint, buildings, area)
    if point_idx.size:
        building[inside.index.to_numpy()] = 1.0
        largest[inside.index.to_numpy()] = 1.0
    station = candidates["kind"].isin(params.station_kinds).to_numpy()
    station_floor = _building_floor(footprint, buildings, params.default_levels, station)
    homeless = station & is_point
    if point_idx.size:
        homeless[inside.index.to_numpy()] = False
    floor_m2 = area * levels * params.net_floor_fraction
    # a venue node fills its building only when that is one venue's floor; in a larger building
    # (a hotel, a block of shops and flats) its share is unknown (VDA review item 9)
    shared = np.zeros(len(candidates), dtype=bool)
    if point_idx.size:
        shared[inside.index.to_numpy()] = True
    shared &= floor_m2 > params.point_max_floor_m2
    # one auditorium per footprint (balconies lie within it), a node's at most the point cap
    auditorium_m2 = np.where(is_point, np.minimum(area, params.point_max_floor_m2), area)
    auditorium_m2 = auditorium_m2 * params.auditorium_share
    persons = np.zeros(len(candidates))
    source = np.empty(len(candidates), dtype=object)
    open_ground = candidates["kind"].isin(params.open_ground_kinds).to_numpy() & (
        building < params.building_share
    )
    tags = candidates["capacity_tag"].to_numpy(float)
    for i, kind_name in enumerate(candidates["kind"]):
        kind = kinds[kind_name]
        if np.isfinite(tags[i]) and tags[i] > 0:
            persons[i], source[i] = tags[i], "tag"
        elif homeless[i]:
            persons[i], source[i] = np.nan, "unknown: station node in no building"
        elif station[i] and building[i] >= params.building_share:
            persons[i] = station_floor[i] * params.station_public_share * params.station_persons_m2
            source[i] = "station floor×levels"
        elif station[i]:
            persons[i], source[i] = area[i] * params.station_persons_m2, "area×density"
        elif open_ground[i]:
            persons[i] = area[i] * params.open_ground_persons_m2
            source[i] = "open ground×density"
        elif kind.density_persons_m2 is not None:
            persons[i], source[i] = area[i] * kind.density_persons_m2, "area×density"
        elif kind.seats_per_m2 is not None:
            persons[i], source[i] = auditorium_m2[i] * kind.seats_per_m2, "auditorium×seats"
        elif kind.floor_m2_per_person is not None and shared[i]:
            persons[i] = np.nan
            source[i] = (
                f"unknown: {kind_name} node in a larger building ({floor_m2[i]:,.0f} m² floor)"
            )
        elif kind.floor_m2_per_person is not None:
            persons[i], source[i] = floor_m2[i] / kind.floor_m2_per_person, "floor÷factor"
        else:
            persons[i], source[i] = 0.0, "none"
    capped = candidates["kind"].map(lambda k: kinds[k].martyns_law_cap is not None).to_numpy()
    is_open = candidates["kind"].map(lambda k: kinds[k].density_persons_m2 is not None).to_numpy()
    land = candidates["kind"].map(lambda k: kinds[k].open_land).to_numpy(bool)
    hall = candidates["kind"].isin(params.hall_kinds).to_numpy()
    return gpd.GeoDataFrame(
        {
            "osm_id": candidates["site_id"].to_numpy(),
            "name": candidates["name"].to_numpy(dtype=object),
            "kind": candidates["kind"].to_numpy(),
            "persons": persons,
            "per_m2": np.where((area > 0) & ~homeless, persons / np.maximum(area, 1e-9), 0.0),
            "tagged": source == "tag",
            "source": source,
            "capped": capped,
            "open": is_open,
            "point": is_point,
            # a market is premises only as one building (a hall), not for the many small
            # buildings a plaza drawn over arcades or kiosks overlaps (Monaco way/400398289);
            # a street or square never, even over one building (Monaco way/78149828)
            "premises": ~is_open
            | np.where(
                land, hall & (largest >= params.hall_share), building >= params.building_share
            ),
        },
        geometry=shapely.make_valid(footprint),
        crs=candidates.crs,
    )


def _merge_groups(members: gpd.GeoDataFrame, params: SiteParams) -> np.ndarray:
    """Connected components of footprints that touch or overlap (kinds kept apart excepted)."""
    geoms = members.geometry.to_numpy()
    probe = shapely.buffer(geoms, params.merge_gap_m) if params.merge_gap_m > 0 else geoms
    a, b = shapely.STRtree(geoms).query(probe, predicate="intersects")
    separate = members["kind"].isin(params.separate_kinds).to_numpy()
    keep = (a == b) | ~(separate[a] | separate[b])
    n = len(members)
    return components(n, a[keep], b[keep])[1]


def _site_row(
    members: dict[str, np.ndarray], idx: np.ndarray, event_persons_m2: float
) -> tuple[dict[str, Any], shapely.Geometry]:
    """Merge one group of members: each m² counted once, at the densest member covering it."""
    geoms = members["geometry"][idx]
    # tagged members first (counted whole), then by persons per m², densest first
    order = np.lexsort((-members["per_m2"][idx], ~members["tagged"][idx]))
    known = np.isfinite(members["persons"][idx].astype(float))
    persons = np.zeros(len(idx))
    covered = None
    for k in order:
        i = idx[k]
        new = geoms[k] if covered is None else shapely.difference(geoms[k], covered)
        whole = members["tagged"][i] or covered is None
        if not known[k]:
            persons[k] = 0.0  # unknown: counts nothing, flagged in capacity_source
        elif whole:
            persons[k] = members["persons"][i]
        else:
            persons[k] = members["per_m2"][i] * shapely.area(new)
        covered = geoms[k] if covered is None else shapely.union(covered, geoms[k])
    by_persons = np.argsort(-persons, kind="stable")
    areas = shapely.area(geoms)
    by_area = np.argsort(-areas, kind="stable")
    names = _names(members["name"][idx[by_area]])
    kinds = list(dict.fromkeys(members["kind"][idx[by_persons]]))
    total = float(persons.sum())
    premises = members["premises"][idx].astype(bool)
    capped = members["capped"][idx].astype(bool)
    # tiers per building-based premises, never for open land (s.2(2)(a)); members drawn over
    # the same building (a station node in its hall and the hall's polygon) are one premises
    listed, tiers = [], []
    for group in _same_premises(geoms, premises, members["kind"][idx]):
        persons_of = np.nan_to_num(members["persons"][idx[group]].astype(float), nan=-1.0)
        lead = idx[group[np.argmax(persons_of)]]
        named = _names(members["name"][idx[group]])
        label = named[0] if named else f"unnamed {members['kind'][lead]} {members['osm_id'][lead]}"
        t = martyns_law_tier(members["persons"][lead], capped=bool(capped[group].any()))
        tiers.append(t)
        if t != "none":
            listed.append(f"{label}: {t} ({members['persons'][lead]:.0f})")
    tier = max(tiers, key=TIERS.index, default="none")
    # open land once (overlapping mapped areas are one area), less the premises' buildings; a
    # member of unknown capacity (a station node in no building) has no area of its own: its
    # disc is a placeholder, not 100 m² of event ground (it gave Monaco's metro nodes 200)
    land = ~premises & known
    open_area = shapely.union_all(geoms[land]) if land.any() else None
    if open_area is not None and premises.any():
        open_area = shapely.difference(open_area, shapely.union_all(geoms[premises]))
    event = (0.0 if open_area is None else float(shapely.area(open_area))) * event_persons_m2
    footprint = geoms[0] if len(idx) == 1 else shapely.union_all(geoms)
    ids = members["osm_id"][idx].astype(str)
    mapped = np.array([i.startswith(MAPPED_PREFIXES) for i in ids])
    anchor = np.lexsort((ids, -areas, ~mapped))[0]  # mapped, largest, smallest id
    # the lead name: mapped, outline, open space, largest, smallest id (module docstring)
    point, is_open = members["point"][idx].astype(bool), members["open"][idx].astype(bool)
    lead = _names(members["name"][idx[np.lexsort((ids, -areas, ~is_open, point, ~mapped))]])
    row = {
        "site_id": ids[anchor],
        "members": "+".join(sorted(ids)),
        "member_names": "; ".join(names) if names else None,
        "name": _short_name(lead) or f"unnamed {kinds[0]} {ids[anchor]}",
        "kind": kinds[0],
        "kinds": "; ".join(kinds),
        "n_members": len(idx),
        "area_m2": float(shapely.area(footprint)),
        "capacity_persons": round(total) if known.any() else np.nan,
        "capacity_source": "+".join(dict.fromkeys(members["source"][idx[by_persons]])),
        "martyns_law_tier": tier,
        "martyns_law_premises": "; ".join(listed),
        "event_capacity_persons": round(event),
        "martyns_law_event": "possible qualifying event" if event >= ENHANCED_PERSONS else "",
    }
    return row, footprint


def _building_floor(
    footprint: np.ndarray, buildings: gpd.GeoDataFrame, default_levels: float, which: np.ndarray
) -> np.ndarray:
    """Gross floor (m²) of the buildings inside each ``which`` footprint: Σ area × levels."""
    floor = np.zeros(footprint.size)
    idx = np.flatnonzero(which)
    if idx.size == 0 or buildings.empty:
        return floor
    b_geoms = shapely.make_valid(buildings.geometry.to_numpy())
    levels = (
        buildings["building_levels"].to_numpy(float)
        if "building_levels" in buildings
        else np.full(len(buildings), np.nan)
    )
    levels = np.where(np.isfinite(levels) & (levels >= 1), levels, default_levels)
    f_idx, b_idx = shapely.STRtree(b_geoms).query(
        shapely.make_valid(footprint[idx]), predicate="intersects"
    )
    if f_idx.size:
        covered = shapely.area(
            shapely.intersection(shapely.make_valid(footprint[idx[f_idx]]), b_geoms[b_idx])
        )
        np.add.at(floor, idx[f_idx], covered * levels[b_idx])
    return floor


def _building_share(
    footprint: np.ndarray, buildings: gpd.GeoDataFrame, area: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Share (0-1) of each footprint covered by buildings, and by its largest single building."""
    b_geoms = shapely.make_valid(buildings.geometry.to_numpy())
    footprint = shapely.make_valid(footprint)
    share, largest = np.zeros(footprint.size), np.zeros(footprint.size)
    if b_geoms.size == 0:
        return share, largest
    f_idx, b_idx = shapely.STRtree(b_geoms).query(footprint, predicate="intersects")
    if f_idx.size:
        covered = shapely.area(shapely.intersection(footprint[f_idx], b_geoms[b_idx]))
        np.add.at(share, f_idx, covered)
        np.maximum.at(largest, f_idx, covered)
    scale = np.maximum(area, 1e-9)
    return np.minimum(share / scale, 1.0), np.minimum(largest / scale, 1.0)


def _same_premises(geoms: np.ndarray, premises: np.ndarray, kinds: np.ndarray) -> list[np.ndarray]:
    """Positions of the premises members, grouped where one of a kind lies mostly in another.

    A station node takes its hall's footprint and the hall may also be mapped as a station
    polygon: one building, one premises. Members of the same kind count once where at least
    half of the smaller lies in the other; different venues in one building stay apart.
    """
    pos = np.flatnonzero(premises)
    if pos.size <= 1:
        return [pos] if pos.size else []
    sub = shapely.make_valid(geoms[pos])
    a, b = shapely.STRtree(sub).query(sub, predicate="intersects")
    keep = (a < b) & (kinds[pos][a] == kinds[pos][b])
    a, b = a[keep], b[keep]
    shared = shapely.area(shapely.intersection(sub[a], sub[b]))
    smaller = np.minimum(shapely.area(sub[a]), shapely.area(sub[b]))
    same = shared >= 0.5 * np.maximum(smaller, 1e-9)
    labels = components(pos.size, a[same], b[same])[1]
    return [pos[labels == k] for k in np.unique(labels)]


def _names(values: np.ndarray) -> list[str]:
    """The distinct non-empty names among ``values``, in their order."""
    return list(dict.fromkeys(n for n in values if isinstance(n, str) and n))


def _short_name(names: list[str]) -> str | None:
    """A map label for a site whose distinct member names are ``names``, the lead first.

    Examples
    --------
    >>> _short_name(["Kansalaistori", "Kiasma"]), _short_name(["A", "B", "C"])
    ('Kansalaistori and Kiasma', 'A and 2 more')
    """
    if len(names) <= 2:
        return " and ".join(names) or None
    return f"{names[0]} and {len(names) - 1} more"


def _perimeters(
    footprints: np.ndarray, walk_edges: gpd.GeoDataFrame, params: SiteParams
) -> np.ndarray:
    """Footprint plus frontage footway, closed over gaps narrower than ``frontage_m``."""
    footways = walk_edges.loc[walk_edges["highway"].isin(FRONTAGE_HIGHWAYS)].geometry.to_numpy()
    zones = shapely.buffer(footprints, params.frontage_m)
    out = footprints.copy()
    if footways.size == 0 or params.frontage_m == 0:
        return out
    s_idx, f_idx = shapely.STRtree(footways).query(zones, predicate="intersects")
    close = params.frontage_m / 2
    order = np.argsort(s_idx, kind="stable")
    cuts = np.flatnonzero(np.diff(s_idx[order])) + 1
    groups = np.split(order, cuts) if order.size else []
    sites = np.array([s_idx[g[0]] for g in groups], dtype=np.int64)
    lines = np.array([shapely.union_all(footways[f_idx[g]]) for g in groups], dtype=object)
    if sites.size == 0:
        return out
    # vectorised over sites; quad_segs=4 is ample for metre-scale strips and closings
    near = shapely.intersection(zones[sites], lines)
    strip = shapely.buffer(near, params.footway_half_width_m, quad_segs=4)
    joined = shapely.union(footprints[sites], strip)
    closed = shapely.buffer(shapely.buffer(joined, close, quad_segs=4), -close, quad_segs=4)
    out[sites] = shapely.make_valid(shapely.union(closed, footprints[sites]))
    return out


def _empty(crs: Any) -> gpd.GeoDataFrame:
    table = pd.DataFrame({c: pd.Series(dtype=object) for c in SITE_COLUMNS})
    return gpd.GeoDataFrame(table, geometry=gpd.GeoSeries([], crs=crs), crs=crs)
