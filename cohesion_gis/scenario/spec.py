"""Scenario files: the TOML schema, its validation without a city, and the frozen spec.

A scenario file is a "what if" written by a planner (``docs/scenarios.md`` documents it):

.. code-block:: toml

    name = "kamppi_car_park_to_park"
    description = "Convert the surface car park on Kalevankatu into a small park."
    base = "helsinki"                   # or a .osm.pbf path, or a layers GeoPackage path

    [parameters.cohesion]               # optional: cohesion.toml keys
    walk_speed_m_s = 1.2

    [[interventions]]
    type = "convert_land_use"
    id = "way/27558514"
    space_type = "park"
    space_name = "Kalevanpuisto"

Validation happens in two stages so that ``cohesion-gis scenario validate`` can check a file
fast: :func:`load_scenario` checks everything the file alone can tell (TOML syntax, known
intervention types and keys, value types, WKT, rating strings, files present); the references to
the city (ids, names, geometry inside the study area) are checked by
:func:`cohesion_gis.scenario.check_scenario` with a loaded :class:`~cohesion_gis.city.City`.
Each stage raises one :class:`~cohesion_gis.errors.ScenarioError` listing every problem with the
file, the entry (index and type) and what to do.
"""

from __future__ import annotations

import difflib
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import shapely
from shapely.geometry.base import BaseGeometry

from cohesion_gis._toml import read_toml_file
from cohesion_gis._validate import Bound
from cohesion_gis.errors import CohesionError, InputError, ScenarioError
from cohesion_gis.hvm.chicane import LANE_WIDTH, STAGGER_LENGTH
from cohesion_gis.sources.vector import read_vector

if TYPE_CHECKING:
    from cohesion_gis.cohesion.params import CohesionParams
    from cohesion_gis.hvm.params import HvmParams

__all__ = [
    "INTERVENTIONS",
    "BaseSpec",
    "Intervention",
    "Scenario",
    "load_scenario",
    "scenario_problem",
]

log = logging.getLogger(__name__)

#: Keys that pick existing features: exactly one of them per intervention that targets features.
SELECTORS = ("id", "name", "geometry", "file")
#: Keys that give a new feature's geometry: exactly one of them.
SHAPES = ("geometry", "file")
#: Pedestrianisation variants (reference hvm.md §8.5).
PEDESTRIANISE_MODES = ("traffic_order", "physical_closure")


@dataclass(frozen=True)
class _Schema:
    """Keys of one intervention type: ``required`` and ``optional`` names → expected type."""

    summary: str
    required: Mapping[str, str]
    optional: Mapping[str, str]
    choose: tuple[str, ...] = ()  # exactly one of these keys must be given


def _schema(
    summary: str,
    required: dict[str, str] | None = None,
    optional: dict[str, str] | None = None,
    choose: tuple[str, ...] = (),
) -> _Schema:
    return _Schema(
        summary, MappingProxyType(required or {}), MappingProxyType(optional or {}), choose
    )


_SELECT = {"id": "id", "name": "str", "geometry": "wkt", "file": "file"}
_SHAPE = {"geometry": "wkt", "file": "file"}
_AREA = {"district": "str", "geometry": "wkt", "file": "file"}

#: Every intervention type, its keys and their types (the documented schema).
INTERVENTIONS: Mapping[str, _Schema] = MappingProxyType(
    {
        "convert_land_use": _schema(
            "turn a car park or land-use area into a contact space (e.g. parking → park)",
            {"space_type": "str"},
            {**_SELECT, "space_name": "str"},
            SELECTORS,
        ),
        "add_contact_space": _schema(
            "add a new contact space (park, library, community centre...)",
            {"space_type": "str"},
            {**_SHAPE, "name": "str", "space_id": "str"},
            SHAPES,
        ),
        "remove_contact_space": _schema(
            "remove contact spaces (closure, redevelopment)", {}, _SELECT, SELECTORS
        ),
        "add_barrier": _schema(
            "add a barrier line, rated (ISO 22343-1, PAS 68, ASTM F2656 string) or unrated",
            {},
            {**_SHAPE, "rating": "rating", "name": "str", "kind": "str", "barrier_id": "str"},
            SHAPES,
        ),
        "remove_barrier": _schema("remove barriers", {}, _SELECT, SELECTORS),
        "pedestrianise": _schema(
            "make a street pedestrian: a crowded site; 'physical_closure' also closes it as "
            "close_road does (with 'rating': rated lines at its ends), 'traffic_order' leaves "
            "it drivable",
            {"mode": "mode"},
            {**_SELECT, "site_name": "str", "width_m": "width", "rating": "rating"},
            SELECTORS,
        ),
        "close_road": _schema(
            "close streets to vehicles: removed from the hostile-vehicle network (a permanent "
            "layout change), or with 'rating' a rated barrier line at each end meeting an open "
            "street",
            {},
            {**_SELECT, "rating": "rating"},
            SELECTORS,
        ),
        "chicane": _schema(
            "a chicane: build-outs of rated elements from alternate kerbs shift the lane "
            "sideways over a short length, so no vehicle drives straight through; caps the "
            "speed of every path through its middle (a point on the street), footways stay open",
            {"geometry": "wkt"},
            {"length_m": "stagger", "lane_width_m": "lane", "name": "str"},
        ),
        "add_residents": _schema(
            "house new residents in an area (a district, or a polygon)",
            {"count": "residents"},
            {**_AREA, "groups": "shares"},
            ("district", "geometry", "file"),
        ),
        "move_residents": _schema(
            "move residents from one area to another",
            {"count": "residents", "from": "area", "to": "area"},
            {"groups": "shares"},
        ),
        "change_site_capacity": _schema(
            "set a site's crowd capacity (persons), e.g. for an event",
            {"capacity_persons": "persons"},
            _SELECT,
            SELECTORS,
        ),
    }
)
_TOP_KEYS = ("name", "description", "base", "parameters", "interventions")
_PARAMETER_KEYS = ("cohesion", "hvm")


@dataclass(frozen=True)
class BaseSpec:
    """The study area a scenario changes.

    Attributes
    ----------
    source
        ``"helsinki"`` (the embedded extract), a ``.osm.pbf`` path or a layers GeoPackage path
        (written by :func:`cohesion_gis.write_layers`), resolved against the scenario's folder.
    bbox
        Optional clip box ``(west, south, east, north)`` in degrees (EPSG:4326), for a PBF.
    """

    source: str = "helsinki"
    bbox: tuple[float, float, float, float] | None = None

    @property
    def key(self) -> str:
        """A stable text key (cache key of the loaded City)."""
        return f"{self.source}|{self.bbox}"


@dataclass(frozen=True)
class Intervention:
    """One validated entry of ``[[interventions]]``.

    Attributes
    ----------
    index
        Position in the file (0-based), used in messages.
    type
        One of :data:`INTERVENTIONS`.
    options
        The entry's keys and values, as written (``geometry``/``file`` already read into
        ``shape``).
    shape
        The geometry given by ``geometry`` (WKT) or ``file``, in EPSG:4326; ``None`` if neither.
    """

    index: int
    type: str
    options: Mapping[str, Any]
    shape: BaseGeometry | None = None

    def __post_init__(self) -> None:
        """Refuse an unknown type or numbers out of bounds (an intervention built in code)."""
        schema = INTERVENTIONS.get(self.type)
        if schema is None:
            raise ScenarioError(
                f"{self.label}: unknown intervention type"
                + _did_you_mean(self.type, [*INTERVENTIONS])
            )
        kinds = {**schema.required, **schema.optional}
        problems = [
            f"{self.label}: {key!r} {problem}"
            for key, value in self.options.items()
            if kinds.get(key) in _NUMBERS and (problem := _NUMBERS[kinds[key]].problem(value))
        ]
        if problems:
            raise scenario_problem("scenario", problems)

    @property
    def label(self) -> str:
        """``interventions[2] (add_barrier)``: how messages name the entry."""
        return f"interventions[{self.index}] ({self.type})"


@dataclass(frozen=True)
class Scenario:
    """A validated scenario file (references to the city not yet checked).

    Attributes
    ----------
    name, description
        From the file; ``name`` defaults to the file stem.
    base
        The study area it changes.
    cohesion_overrides, hvm_overrides
        Parameter overrides, with the keys of ``defaults/cohesion.toml`` and
        ``defaults/hvm.toml``.
    interventions
        The changes, in file order (applied in that order).
    path
        The file read (``None`` when built in code).
    """

    name: str
    description: str = ""
    base: BaseSpec = field(default_factory=BaseSpec)
    cohesion_overrides: Mapping[str, Any] = field(default_factory=dict)
    hvm_overrides: Mapping[str, Any] = field(default_factory=dict)
    interventions: tuple[Intervention, ...] = ()
    path: Path | None = None

    @property
    def where(self) -> str:
        """How messages name the scenario: its file, else its name."""
        return str(self.path) if self.path else f"scenario {self.name!r}"

    def cohesion_params(self) -> CohesionParams:
        """The cohesion parameters: packaged defaults with this scenario's overrides."""
        from cohesion_gis.cohesion.params import CohesionParams
        from cohesion_gis.params import load_params

        where = f"{self.where} [parameters.cohesion]"
        return load_params(CohesionParams, overrides=self.cohesion_overrides, where=where)

    def hvm_params(self) -> HvmParams:
        """The HVM parameters: packaged defaults with this scenario's overrides."""
        from cohesion_gis.hvm.params import HvmParams
        from cohesion_gis.params import load_params

        where = f"{self.where} [parameters.hvm]"
        return load_params(HvmParams, overrides=self.hvm_overrides, where=where)


def scenario_problem(where: str, problems: list[str]) -> ScenarioError:
    """One error listing every problem of a scenario file, on one line."""
    noun = "problem" if len(problems) == 1 else "problems"
    return ScenarioError(f"{where}: {len(problems)} {noun}: " + "; ".join(problems))


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file (TOML) without loading its city.

    Parameters
    ----------
    path
        The scenario file. Relative paths inside it (``base``, ``file``) are resolved against its
        folder.

    Returns
    -------
    Scenario

    Raises
    ------
    ScenarioError
        The file is missing or not TOML, or has unknown intervention types or keys, wrong value
        types, unreadable WKT or geometry files, or bad rating strings: all listed in one message.

    Examples
    --------
    >>> from cohesion_gis.scenario import load_scenario
    >>> s = load_scenario("scenarios/car_park_to_park.toml")
    >>> s.name, [i.type for i in s.interventions]
    ('car_park_to_park', ['convert_land_use'])
    """
    path = Path(path)
    data = read_toml_file(path, ScenarioError, what="a scenario .toml file")
    problems: list[str] = []
    for key in data:
        if key not in _TOP_KEYS:
            problems.append(f"unknown top-level key {key!r}{_did_you_mean(key, _TOP_KEYS)}")
    name = data.get("name", path.stem)
    if not isinstance(name, str) or not name.strip():
        problems.append(f"'name' must be a non-empty string, got {name!r}")
        name = path.stem
    description = data.get("description", "")
    if not isinstance(description, str):
        problems.append(f"'description' must be a string, got {type(description).__name__}")
        description = ""
    base = _base(data.get("base", "helsinki"), path.parent, problems)
    cohesion, hvm = _parameters(data.get("parameters", {}), problems)
    entries = data.get("interventions", [])
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        problems.append("'interventions' must be a list of tables ([[interventions]] entries)")
        entries = []
    interventions = tuple(
        _intervention(i, entry, path.parent, problems) for i, entry in enumerate(entries)
    )
    problems += _duplicate_ids([i for i in interventions if i is not None])
    scenario = Scenario(
        name=name.strip(),
        description=description,
        base=base,
        cohesion_overrides=MappingProxyType(cohesion),
        hvm_overrides=MappingProxyType(hvm),
        interventions=tuple(i for i in interventions if i is not None),
        path=path,
    )
    for build, table in ((scenario.cohesion_params, cohesion), (scenario.hvm_params, hvm)):
        if table:  # parameter overrides, read as parameter files are
            try:
                build()
            except CohesionError as exc:
                problems.append(str(exc).removeprefix(f"{path} "))
    if problems:
        raise scenario_problem(str(path), problems)
    log.info("scenario %s: %d interventions", scenario.name, len(scenario.interventions))
    return scenario


# --- helpers -------------------------------------------------------------------------------


#: The key naming the feature each adding intervention type creates (default ``new/<index>``).
_NEW_ID_KEYS: Mapping[str, str] = MappingProxyType(
    {"add_contact_space": "space_id", "add_barrier": "barrier_id"}
)


def _duplicate_ids(interventions: list[Intervention]) -> list[str]:
    """One line per intervention whose new feature's id an earlier one already gives."""
    seen: dict[tuple[str, str], int] = {}
    problems = []
    for iv in interventions:
        key = _NEW_ID_KEYS.get(iv.type)
        if key is None:
            continue
        value = str(iv.options.get(key, f"new/{iv.index}"))
        if (key, value) in seen:
            problems.append(
                f"{iv.label}: {key} {value!r} is already given to interventions"
                f"[{seen[key, value]}]; give each {key} a different value"
            )
        seen.setdefault((key, value), iv.index)
    return problems


def _did_you_mean(word: str, options: tuple[str, ...] | list[str]) -> str:
    close = difflib.get_close_matches(word, list(options), n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"{hint} (allowed: {', '.join(options)})"


def _base(value: Any, folder: Path, problems: list[str]) -> BaseSpec:
    if isinstance(value, str):
        value = {"source": value}
    if not isinstance(value, dict):
        problems.append(
            f"'base' must be a string or a table with 'source' (and 'bbox'), got {value!r}"
        )
        return BaseSpec()
    unknown = sorted(set(value) - {"source", "bbox"})
    if unknown:
        problems.append(f"base: unknown key(s) {unknown} (allowed: source, bbox)")
    source = value.get("source", "helsinki")
    if not isinstance(source, str):
        problems.append(f"base.source must be a string, got {source!r}")
        return BaseSpec()
    if source != "helsinki":
        resolved = (folder / source).resolve() if not Path(source).is_absolute() else Path(source)
        if not resolved.is_file():
            problems.append(
                f"base: file {source!r} not found (looked for {resolved}); give 'helsinki', "
                "an .osm.pbf or a layers .gpkg path relative to the scenario file"
            )
        elif resolved.suffix.lower() not in (".pbf", ".gpkg"):
            problems.append(f"base: {source!r} must be an .osm.pbf or a layers .gpkg file")
        source = str(resolved)
    bbox = value.get("bbox")
    if bbox is not None:
        if not (
            isinstance(bbox, list)
            and len(bbox) == 4
            and all(b.holds(v) for v, b in zip(bbox, _BBOX, strict=True))
        ):
            problems.append(
                f"field `base.bbox` = {bbox!r}; expected [west, south, east, north] in degrees "
                "(finite, longitudes -180 to 180, latitudes -90 to 90, west < east, south < north)"
            )
            bbox = None
        elif not (bbox[0] < bbox[2] and bbox[1] < bbox[3]):
            problems.append(
                f"field `base.bbox` = {bbox!r}; expected west < east and south < north "
                "([west, south, east, north] in degrees)"
            )
            bbox = None
        else:
            bbox = tuple(float(v) for v in bbox)
    return BaseSpec(source, bbox)


def _parameters(value: Any, problems: list[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    if not isinstance(value, dict):
        problems.append("'parameters' must be a table with [parameters.cohesion] / [.hvm]")
        return {}, {}
    for key in value:
        if key not in _PARAMETER_KEYS:
            problems.append(
                f"parameters: unknown table {key!r}{_did_you_mean(key, _PARAMETER_KEYS)}"
            )
    tables = []
    for key in _PARAMETER_KEYS:
        table = value.get(key, {})
        if not isinstance(table, dict):
            problems.append(f"parameters.{key} must be a table")
            table = {}
        tables.append(table)
    return tables[0], tables[1]


def _intervention(
    index: int, entry: dict[str, Any], folder: Path, problems: list[str]
) -> Intervention | None:
    kind = entry.get("type")
    where = f"interventions[{index}]"
    if not isinstance(kind, str) or kind not in INTERVENTIONS:
        hint = _did_you_mean(str(kind), list(INTERVENTIONS))
        if kind is None:
            problems.append(f"{where}: no 'type'; add type = \"...\" {hint.removeprefix('; ')}")
        else:
            problems.append(f"{where}: unknown intervention type {kind!r}{hint}")
        return None
    schema = INTERVENTIONS[kind]
    before = len(problems)
    where = f"{where} ({kind})"
    allowed = {**schema.required, **schema.optional}
    for key in entry:
        if key != "type" and key not in allowed:
            problems.append(f"{where}: unknown key {key!r}{_did_you_mean(key, sorted(allowed))}")
    for key in schema.required:
        if key not in entry:
            problems.append(f"{where}: missing key {key!r} ({allowed[key]})")
    if schema.choose:
        given = [k for k in schema.choose if k in entry]
        if len(given) != 1:
            problems.append(
                f"{where}: give exactly one of {', '.join(schema.choose)}"
                + (f" (got {', '.join(given)})" if given else "")
            )
    if kind == "pedestrianise" and "rating" in entry and entry.get("mode") != "physical_closure":
        problems.append(
            f"{where}: 'rating' needs mode = \"physical_closure\" (a traffic order has no "
            "barrier to rate); remove 'rating' or change 'mode'"
        )
    shape = None
    for key, value in entry.items():
        expected = allowed.get(key)
        if expected is None:
            continue
        problem = _CHECKS[expected](value, folder)
        if problem:
            problems.append(f"{where}: {key!r} {problem}")
        elif expected in ("wkt", "file"):
            shape = _read_shape(expected, value, folder, f"{where}: {key!r}", problems)
    options = {k: v for k, v in entry.items() if k != "type"}
    if "file" in options:
        options["file"] = str(_resolve(folder, options["file"]))
    for key in ("from", "to"):  # nested areas: read their shapes now
        area = options.get(key)
        if isinstance(area, dict) and not _check_area(area, folder):
            kind_key = next(k for k in ("district", "geometry", "file") if k in area)
            if kind_key != "district":
                geom = _read_shape(
                    _AREA[kind_key], area[kind_key], folder, f"{where}: {key}.{kind_key}", problems
                )
                area_shape: dict[str, Any] = {"shape": geom}
                if kind_key == "file":  # kept for the inputs hash of a batch run
                    area_shape["file"] = str(_resolve(folder, area["file"]))
                options[key] = MappingProxyType(area_shape)
    if len(problems) > before:
        return None
    return Intervention(index, kind, MappingProxyType(options), shape)


_BBOX = (Bound(-180, 180), Bound(-90, 90), Bound(-180, 180), Bound(-90, 90))
_SHARE = Bound(0, 1)


def _check_text(value: Any, folder: Path) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return f"must be a non-empty string, got {value!r}"
    return None


def _check_file(value: Any, folder: Path) -> str | None:
    problem = _check_text(value, folder)
    if problem is None and not _resolve(folder, value).is_file():
        problem = (
            f"file {value!r} not found (looked for {_resolve(folder, value)}); give a "
            "GeoJSON or GeoPackage path relative to the scenario file"
        )
    return problem


def _check_id(value: Any, folder: Path) -> str | None:
    ids = value if isinstance(value, list) else [value]
    if not ids or not all(isinstance(v, str) and "/" in v for v in ids):
        return f'must be an OSM id like "way/123" or a list of them, got {value!r}'
    return None


#: Plausible bounds of scenario numbers (reasons in docs/scenarios.md, "Bounds").
#: Residents one intervention adds or moves: a whole new town (UK New Towns: 10,000+ homes,
#: Milton Keynes designated for 250,000 people) fits; 10^15 does not.
RESIDENTS = Bound(0, 1_000_000, "residents", integer=True)
#: A site's crowd: the largest stadiums hold about 150,000; the largest street events gather
#: around a million people (Notting Hill Carnival).
PERSONS = Bound(0, 1_000_000, "persons", integer=True)
#: A street's width: the widest avenue (Avenida 9 de Julio, Buenos Aires) is about 140 m.
WIDTH = Bound(0, 150, "m", above=True)


#: Numeric value types of the schema and their bounds.
_NUMBERS = {
    "width": WIDTH,
    "residents": RESIDENTS,
    "persons": PERSONS,
    "stagger": STAGGER_LENGTH,
    "lane": LANE_WIDTH,
}


def _bounded(bound: Bound) -> Callable[[Any, Path], str | None]:
    """A schema check of a number within ``bound``."""
    return lambda value, folder: bound.problem(value)


def _check_mode(value: Any, folder: Path) -> str | None:
    if value in PEDESTRIANISE_MODES:
        return None
    return f"must be one of {', '.join(PEDESTRIANISE_MODES)}, got {value!r}"


def _check_rating(value: Any, folder: Path) -> str | None:
    from cohesion_gis.hvm.rating import parse_rating

    try:
        parse_rating(value)
    except ValueError as exc:
        return (
            f"is not a valid rating: {exc} (omit 'rating' for an unrated barrier, or for a "
            "closure removed from the vehicle network)"
        )
    return None


def _check_shares(value: Any, folder: Path) -> str | None:
    if not isinstance(value, dict) or not all(map(_SHARE.holds, value.values())):
        return f"must be a table of group = share (finite numbers 0-1), got {value!r}"
    total = sum(value.values())
    if abs(total - 1.0) > 1e-6:
        return f"shares must sum to 1, got {total:g}; rescale them"
    return None


def _check_area(value: Any, folder: Path) -> str | None:
    keys = [k for k in _AREA if k in value] if isinstance(value, dict) else []
    if len(keys) != 1 or len(value) != 1:
        return f"must be a table with one of district, geometry, file; got {value!r}"
    return _CHECKS[_AREA[keys[0]]](value[keys[0]], folder)


#: Value type of the schema → its check (a problem, or None).
_CHECKS: dict[str, Callable[[Any, Path], str | None]] = {
    "str": _check_text,
    "wkt": _check_text,
    "file": _check_file,
    "id": _check_id,
    **{kind: _bounded(bound) for kind, bound in _NUMBERS.items()},
    "mode": _check_mode,
    "rating": _check_rating,
    "shares": _check_shares,
    "area": _check_area,
}


def _resolve(folder: Path, value: str) -> Path:
    path = Path(value)
    return path if path.is_absolute() else folder / path


def _read_shape(
    kind: str, value: str, folder: Path, where: str, problems: list[str]
) -> BaseGeometry | None:
    """The geometry of a WKT string (EPSG:4326) or of a file (any CRS → EPSG:4326)."""
    reader = _read_wkt if kind == "wkt" else _read_file
    geom, problem = reader(value, folder)
    if problem:
        problems.append(f"{where}: {problem}")
    return geom


def _read_wkt(value: str, folder: Path) -> tuple[BaseGeometry | None, str | None]:
    try:
        geom = shapely.from_wkt(value)
    except shapely.errors.GEOSException as exc:
        return None, f"not valid WKT ({exc}); e.g. 'LINESTRING (24.94 60.17, 24.95 60.17)'"
    if geom is None or geom.is_empty:
        return None, "empty geometry"
    west, south, east, north = geom.bounds
    if not (-180 <= west <= east <= 180 and -90 <= south <= north <= 90):
        return None, (
            f"coordinates {geom.bounds} are not longitude/latitude; WKT must be in EPSG:4326 "
            "(use a GeoJSON/GeoPackage file for other CRSs)"
        )
    return geom, None


def _read_file(value: str, folder: Path) -> tuple[BaseGeometry | None, str | None]:
    path = _resolve(folder, value)
    try:
        frame = read_vector(path, what="geometry file")
    except InputError as exc:
        return None, str(exc)
    if frame.empty:
        return None, f"{path} has no features"
    return frame.to_crs(4326).union_all(), None
