"""OSM tags → contact-space types, soft-target kinds, barrier kinds and network classes.

The taxonomy is data: ``cohesion_gis/defaults/taxonomy.toml`` ships the defaults, each with its
source. A user's TOML of the same layout overrides entries by name and may add new ones.

Examples
--------
>>> from cohesion_gis.taxonomy import classify, load_taxonomy
>>> tax = load_taxonomy()
>>> classify({"leisure": "playground"}, tax.contact_spaces)
'playground'
>>> classify({"amenity": "community_centre", "community_centre": "youth_centre"},
...          tax.contact_spaces)
'youth_centre'
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cohesion_gis._toml import read_toml
from cohesion_gis._validate import (
    Bound,
    number_problem,
    raise_problems,
    strings_problem,
    table_problem,
)
from cohesion_gis.errors import ParameterError

__all__ = [
    "Category",
    "NetworkRules",
    "Rule",
    "Taxonomy",
    "classify",
    "load_taxonomy",
    "matches",
]

Rule = Mapping[str, str | list[str] | bool]

_CATEGORY_SECTIONS = ("contact_spaces", "site_kinds", "barrier_kinds")
#: Numbers of the taxonomy and their plausible bounds (reasons in docs/layers.md, docs/hvm.md).
_BOUNDS = {
    # a standing crowd cannot pack tighter than about 9-10 persons/m² (Fruin; Still 2014)
    "density_persons_m2": Bound(0.0, 10.0, "persons/m²", above=True),
    # its inverse; Approved Document B Table D1's largest factor is 30 m²/person (storage)
    "floor_m2_per_person": Bound(0.1, 100.0, "m²/person"),
    # fixed seats per m² of auditorium: 0.45 m² per seat at the tightest row spacing (< 2.3)
    "seats_per_m2": Bound(0.0, 3.0, "seats/m²", above=True),
    # a vehicle class is 0.5-5 m wide (vehicles.toml bounds) plus clearance
    "vehicle_min_width_m": Bound(0.5, 10.0, "m"),
    # UK DMRB CD 127 lanes are 3.0-3.65 m; 2-6 m covers every lane from a narrow urban one to
    # a wide bus lane
    "lane_width_m": Bound(2.0, 6.0, "m"),
    # carriageways: the widest avenue (Avenida 9 de Julio, Buenos Aires) is about 140 m
    "default_width_m": Bound(0.0, 150.0, "m", above=True),
}
#: Keys of a category and of [network], with the kind of value each takes.
_CATEGORY_KEYS = {
    "label": "str",
    "rules": "rules",
    "exclude": "rules",
    "source": "str",
    "density_persons_m2": "number",
    "floor_m2_per_person": "number",
    "seats_per_m2": "number",
    "martyns_law_cap": "str",
    "open_land": "bool",
    "stops_vehicles": "bool",
}
_NETWORK_KEYS = {
    "walk_highways": "strings",
    "walk_excluded": "rules",
    "entry_excluded": "rules",
    "severance_highways": "strings",
    "severance_railways": "strings",
    "crossing_node_tags": "rules",
    "vehicle_highways": "strings",
    "vehicle_min_width_m": "number",
    "vehicle_if_wide": "strings",
    "lane_width_m": "number",
    "default_width_m": "widths",
    "source": "str",
}


@dataclass(frozen=True)
class Category:
    """One named class of features and the tag rules that select it.

    Attributes
    ----------
    name
        Identifier used in result tables (``space_type``, ``kind``, ``barrier_kind``).
    label
        Plain-language name for maps and reports.
    rules
        Tag conditions; a feature belongs to the category if any rule matches...
    exclude
        ...and no ``exclude`` rule does (e.g. ``access = "private"``, ``fee = "yes"``).
    source
        Where the definition or default value comes from.
    density_persons_m2
        Planning crowd density for open sites, persons per m² (site kinds only).
    floor_m2_per_person
        Floor-space factor for venues, m² per person (site kinds only).
    seats_per_m2
        Fixed seats per m² of auditorium (seated venues: theatres, cinemas; site kinds only):
        used before ``floor_m2_per_person``, over the auditorium share of the footprint.
    martyns_law_cap
        Highest Martyn's Law tier this kind can reach (``"standard"``), or None.
    open_land
        Site kinds only: a street, square or market, Martyn's Law premises only when it is
        itself a building (a market hall), however many kiosks stand on it (s.2(2)(a):
        premises consist of a building); else at most a qualifying event.
    stops_vehicles
        Barrier kinds only: whether the kind can physically stop a car when trusted.
    """

    name: str
    label: str
    rules: tuple[Rule, ...]
    source: str
    exclude: tuple[Rule, ...] = ()
    density_persons_m2: float | None = None
    floor_m2_per_person: float | None = None
    seats_per_m2: float | None = None
    martyns_law_cap: str | None = None
    open_land: bool = False
    stops_vehicles: bool | None = None


@dataclass(frozen=True)
class NetworkRules:
    """Which highway and railway tags make the walk, severance and hostile-vehicle networks."""

    walk_highways: frozenset[str]
    walk_excluded: tuple[Rule, ...]
    entry_excluded: tuple[Rule, ...]
    severance_highways: frozenset[str]
    severance_railways: frozenset[str]
    crossing_node_tags: tuple[Rule, ...]
    vehicle_highways: frozenset[str]
    vehicle_min_width_m: float
    vehicle_if_wide: frozenset[str]
    lane_width_m: float
    default_width_m: Mapping[str, float]
    source: str = ""


@dataclass(frozen=True)
class Taxonomy:
    """The full tag taxonomy: ordered categories per family and the network rules."""

    contact_spaces: tuple[Category, ...]
    site_kinds: tuple[Category, ...]
    barrier_kinds: tuple[Category, ...]
    parking: Category
    network: NetworkRules
    path: str = field(default="(packaged defaults)")

    def category(self, family: tuple[Category, ...], name: str) -> Category:
        """Look up a category by name in one family."""
        for category in family:
            if category.name == name:
                return category
        known = ", ".join(c.name for c in family)
        raise ParameterError(f"unknown category {name!r}; known: {known}")


def classify(tags: Mapping[str, Any], family: tuple[Category, ...]) -> str | None:
    """Name of the first category in ``family`` whose rules match ``tags``, or None.

    A category whose ``exclude`` rules match is passed over. Answers are remembered per family
    and per values of the keys its rules read (as :func:`matches` sees them: absent, or the
    text), so OSM features with the same such tags are classified once (Malta: 75k features,
    230k street edges; 6 s -> 1 s).
    """
    memo = _ANSWERS.get(id(family))
    if memo is None or memo[0] is not family:
        keys = tuple(sorted({k for c in family for rule in (*c.rules, *c.exclude) for k in rule}))
        memo = _ANSWERS[id(family)] = (family, keys, {})
    _family, keys, answers = memo
    seen = tuple(_tag_text(tags.get(key)) for key in keys)
    if seen not in answers:
        answers[seen] = _classify(tags, family)
    return answers[seen]


#: Per family (by id, the family kept to check it): the keys its rules read and the answers.
_ANSWERS: dict[
    int, tuple[tuple[Category, ...], tuple[str, ...], dict[tuple[str | None, ...], str | None]]
] = {}


def _tag_text(value: object) -> str | None:
    """A tag value as :func:`matches` compares it: None when absent or empty, else its text."""
    return None if value is None or value == "" else str(value)


def _classify(tags: Mapping[str, Any], family: tuple[Category, ...]) -> str | None:
    for category in family:
        if any(matches(tags, rule) for rule in category.rules) and not any(
            matches(tags, rule) for rule in category.exclude
        ):
            return category.name
    return None


def matches(tags: Mapping[str, Any], rule: Rule) -> bool:
    """Whether every condition of ``rule`` holds for ``tags``.

    A string value must equal the tag, a list must contain it, ``True`` needs the tag present and
    ``False`` needs it absent.
    """
    for key, wanted in rule.items():
        value = tags.get(key)
        present = value is not None and value != ""
        if wanted is True:
            ok = present
        elif wanted is False:
            ok = not present
        elif isinstance(wanted, list):
            ok = present and str(value) in wanted
        else:
            ok = present and str(value) == wanted
        if not ok:
            return False
    return True


def load_taxonomy(path: str | Path | None = None) -> Taxonomy:
    """Load the packaged taxonomy, overridden entry by entry by a user TOML file.

    Parameters
    ----------
    path
        A user TOML with the layout of ``cohesion_gis/defaults/taxonomy.toml``. Entries of
        ``contact_spaces``, ``site_kinds`` and ``barrier_kinds`` replace the default entry of the
        same name (or are appended); keys of ``network`` replace single defaults.

    Raises
    ------
    ParameterError
        If the file cannot be read, or has unknown sections, keys or values of the wrong type.
    """
    data, label = read_toml(None, "taxonomy.toml")
    if path is not None:
        user, label = read_toml(path, "taxonomy.toml")
        _validate(user, label)
        for section in _CATEGORY_SECTIONS:
            data[section] = {**data[section], **user.get(section, {})}
        if "parking" in user:
            data["parking"] = {**data["parking"], **user["parking"]}
        if "network" in user:
            data["network"] = {**data["network"], **user["network"]}
    _validate(data, label)
    families = {
        section: tuple(_category(name, entry) for name, entry in data[section].items())
        for section in _CATEGORY_SECTIONS
    }
    net = data["network"]
    return Taxonomy(
        contact_spaces=families["contact_spaces"],
        site_kinds=families["site_kinds"],
        barrier_kinds=families["barrier_kinds"],
        parking=_category("parking", data["parking"]),
        network=NetworkRules(
            walk_highways=frozenset(net["walk_highways"]),
            walk_excluded=tuple(net["walk_excluded"]),
            entry_excluded=tuple(net["entry_excluded"]),
            severance_highways=frozenset(net["severance_highways"]),
            severance_railways=frozenset(net["severance_railways"]),
            crossing_node_tags=tuple(net["crossing_node_tags"]),
            vehicle_highways=frozenset(net["vehicle_highways"]),
            vehicle_min_width_m=float(net["vehicle_min_width_m"]),
            vehicle_if_wide=frozenset(net["vehicle_if_wide"]),
            lane_width_m=float(net["lane_width_m"]),
            default_width_m={k: float(v) for k, v in net["default_width_m"].items()},
            source=net.get("source", ""),
        ),
        path=label,
    )


def _category(name: str, entry: Mapping[str, Any]) -> Category:
    return Category(
        name=name,
        label=entry.get("label", name.replace("_", " ").capitalize()),
        rules=tuple(entry["rules"]),
        source=entry.get("source", ""),
        exclude=tuple(entry.get("exclude", ())),
        density_persons_m2=_opt_float(entry.get("density_persons_m2")),
        floor_m2_per_person=_opt_float(entry.get("floor_m2_per_person")),
        seats_per_m2=_opt_float(entry.get("seats_per_m2")),
        martyns_law_cap=entry.get("martyns_law_cap"),
        open_land=bool(entry.get("open_land", False)),
        stops_vehicles=entry.get("stops_vehicles"),
    )


def _opt_float(value: Any) -> float | None:
    return None if value is None else float(value)


def _validate(data: Mapping[str, Any], label: str) -> None:
    """Gather every problem of a taxonomy mapping into one ParameterError."""
    problems: list[str] = []
    allowed = {*_CATEGORY_SECTIONS, "parking", "network"}
    problems += [
        f"unknown section [{key}] (allowed: {', '.join(sorted(allowed))})"
        for key in data
        if key not in allowed
    ]
    tables = [key for key in (*_CATEGORY_SECTIONS, "network") if key in data]
    problems += [p for key in tables if (p := table_problem(key, data[key]))]
    entries = [
        (f"{section}.{name}", entry)
        for section in _CATEGORY_SECTIONS
        if isinstance(data.get(section), Mapping)
        for name, entry in data[section].items()
    ]
    if "parking" in data:
        entries.append(("parking", data["parking"]))
    for where, entry in entries:
        if not isinstance(entry, Mapping):
            problems.append(f"[{where}] must be a table")
            continue
        problems += _check_keys(where, entry, _CATEGORY_KEYS)
        if "rules" not in entry:
            problems += _check_rules(where, None)
        if "martyns_law_cap" in entry and entry["martyns_law_cap"] not in ("standard", "enhanced"):
            problems.append(f"[{where}] martyns_law_cap must be 'standard' or 'enhanced'")
    if isinstance(data.get("network"), Mapping):
        problems += _check_keys("network", data["network"], _NETWORK_KEYS)
    raise_problems(
        ParameterError,
        f"taxonomy {label}",
        problems,
        "Fix the file; see cohesion_gis/defaults/taxonomy.toml for the layout",
    )


def _check_keys(where: str, entry: Mapping[str, Any], spec: Mapping[str, str]) -> list[str]:
    """Problems of one table's keys: unknown names, wrong kinds, numbers out of bounds."""
    problems: list[str] = []
    for key, value in entry.items():
        kind, field = spec.get(key), f"{where}.{key}"
        if kind is None:
            problems.append(f"[{where}] unknown key {key!r} (allowed: {', '.join(sorted(spec))})")
        elif kind == "rules":
            problems += _check_rules(field if where == "network" else where, value)
        elif kind == "strings":
            problems += [p for p in [strings_problem(field, value)] if p]
        elif kind == "number":
            problems += [p for p in [number_problem(field, value, _BOUNDS[key])] if p]
        elif kind == "widths":
            if not isinstance(value, Mapping):
                problems.append(f"field `{field}` = {value!r}; expected a table of class = metres")
                continue
            problems += [
                p
                for name, width in value.items()
                if (p := number_problem(f"{field}.{name}", width, _BOUNDS[key]))
            ]
        elif not isinstance(value, str if kind == "str" else bool):
            expected = "a string" if kind == "str" else "true or false"
            problems.append(f"field `{field}` = {value!r}; expected {expected}")
    return problems


def _check_rules(where: str, rules: Any) -> list[str]:
    if rules is None:
        return [f"[{where}] needs rules = [{{ key = 'value' }}, ...]"]
    if not isinstance(rules, list) or not rules:
        return [f"[{where}] rules must be a non-empty list of tables"]
    problems = []
    for i, rule in enumerate(rules):
        if not isinstance(rule, Mapping) or not rule:
            problems.append(f"[{where}] rule {i} must be a non-empty table of tag conditions")
            continue
        for key, value in rule.items():
            good = isinstance(value, str | bool) or (
                isinstance(value, list) and all(isinstance(v, str) for v in value)
            )
            if not good:
                problems.append(
                    f"[{where}] rule {i} tag {key!r}: value must be a string, a list of strings, "
                    f"true or false, got {value!r}"
                )
    return problems
