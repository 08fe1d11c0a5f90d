"""``hvm.params``: each parameter declared once, as a field; file, docs and checks follow it."""

from __future__ import annotations

import dataclasses
import re
import tomllib
from importlib import resources
from pathlib import Path

import pytest

from cohesion_gis._validate import Bound
from cohesion_gis.errors import ParameterError
from cohesion_gis.hvm.params import PARAMETERS, HvmParams
from cohesion_gis.hvm.sites import SiteParams
from cohesion_gis.hvm.vehicles import NUMERIC_FIELDS, VehicleClass, Vehicles
from cohesion_gis.params import bound_of, kind_of, load_params
from cohesion_gis.suggest import SuggestParams

DOCS = Path(__file__).parents[2] / "docs" / "hvm.md"
#: Kinds whose values (or elements) are numbers: these carry a bound.
NUMERIC = {"number", "whole number", "list of numbers", "table of numbers",
           "table of whole numbers", "table of lists of numbers"}  # fmt: skip


def _packaged(name: str) -> dict:
    return tomllib.loads(resources.files("cohesion_gis").joinpath(f"defaults/{name}").read_text())


#: Each class declared by fields, its packaged file and the fields it takes from elsewhere.
DECLARED = [
    (HvmParams, PARAMETERS, "hvm.toml", set()),
    (SiteParams, dataclasses.fields(SiteParams), "sites.toml",
     {"station_persons_m2", "station_public_share"}),  # from hvm.toml
    (SuggestParams, dataclasses.fields(SuggestParams), "suggest.toml", set()),
]  # fmt: skip


#: A vehicle class's fields are read per [classes.<NAME>] table (name: the table's key).
VEHICLE = [f for f in dataclasses.fields(VehicleClass) if f.name not in ("name", "sources")]


@pytest.mark.parametrize(
    ("cls", "declared"), [(c, d) for c, d, _, _ in DECLARED] + [(VehicleClass, VEHICLE)]
)
def test_every_field_has_a_kind_a_doc_and_a_bound_if_numeric(cls, declared):
    for item in declared:
        kind, meta = kind_of(item), item.metadata
        assert meta["doc"].strip().endswith((".", "]")), item.name
        assert isinstance(meta["bound"], Bound) == (kind in NUMERIC), item.name
        lists = kind in {"list of numbers", "table of lists of numbers"}
        assert bool(meta["order"]) == lists, item.name
        assert not meta["choices"] or kind == "string", item.name
    assert cls.__doc__ is not None
    assert all(f"    {f.name}\n" in cls.__doc__ for f in declared)


@pytest.mark.parametrize(("cls", "declared", "toml", "elsewhere"), DECLARED)
def test_every_toml_key_is_a_field_with_a_source_and_vice_versa(cls, declared, toml, elsewhere):
    table = _packaged(toml)
    sources = table.pop("sources", None)  # suggest.toml tags each value in a comment instead
    names = {f.name for f in declared} - elsewhere
    assert set(table) == names
    assert sources is None or set(sources) == names


def _rendered(name: str) -> str:
    """A field's bound as docs/hvm.md's table writes it ("> 0, ≤ 3 m", "whole, 1–5")."""
    declared = next(f for f in PARAMETERS if f.name == name)
    bound, order = declared.metadata["bound"], declared.metadata["order"]

    def number(x: float) -> str:
        return f"{int(x):,}" if float(x).is_integer() else f"{x:g}"

    unit = {"": "", "degrees": "°"}.get(bound.unit, f" {bound.unit}")
    low, high = number(bound.low), number(bound.high)
    text = f"> {low}, ≤ {high}{unit}" if bound.above else f"{low}–{high}{unit}"
    text = f"whole, {text}" if bound.integer else text
    return f"each {text}, strictly {order.split()[0]}" if order else text


def test_the_docs_bounds_table_is_the_declared_bounds() -> None:
    section = DOCS.read_text(encoding="utf-8").split("| field | bound | why |", 1)[1]
    rows = [line for line in section.split("\n\n", 1)[0].splitlines()[1:] if line.startswith("|")]
    documented = {}
    for row in rows:
        cells = [c.strip() for c in row.strip("|").split("|")]
        for name in re.findall(r"`([a-z_0-9]+)(?:\.<\w+>)?`", cells[0]):
            documented[name] = cells[1]
    bounded = {f.name for f in PARAMETERS if f.metadata["bound"] is not None}
    assert set(documented) == bounded
    assert {name: _rendered(name) for name in bounded} == documented


def test_the_station_bounds_of_sites_are_hvm_params() -> None:
    """SiteParams takes the station densities from hvm.toml, and so their bounds."""
    site = load_params(SiteParams)
    assert bound_of(HvmParams, "station_concourse_persons_m2").high == 5.0
    with pytest.raises(ParameterError, match=r"`station_persons_m2` = 6.0; .* 5 persons/m²"):
        dataclasses.replace(site, station_persons_m2=6.0)
    with pytest.raises(KeyError):
        bound_of(HvmParams, "block_unrated")


def test_a_mistyped_and_a_wrong_value_in_one_message(tmp_path: Path) -> None:
    """A type error and a value error of two fields come back together, in field order."""
    path = tmp_path / "p.toml"
    path.write_text('acceleration_model = "turbo"\nfriction_mu = 9\ngap_limit_m = "wide"\n')
    with pytest.raises(ParameterError) as info:
        load_params(HvmParams, path)
    text = str(info.value)
    assert "`gap_limit_m` = 'wide'; expected a number" in text
    assert text.index("`friction_mu` = 9.0") < text.index("`acceleration_model` = 'turbo'")
    assert "expected one of 'power', 'constant'" in text


def test_vehicle_ranges_are_the_declared_bounds() -> None:
    """NUMERIC_FIELDS (the documented ranges) is read from VehicleClass's declarations."""
    assert list(NUMERIC_FIELDS) == [f.name for f in VEHICLE if f.name != "description"]
    assert NUMERIC_FIELDS["test_mass_kg"] == (100.0, 30_000.0)
    with pytest.raises(ParameterError, match=r"`classes.M1.width_m` = 9.0; .* 0.5 and 5 m"):
        dataclasses.replace(load_params(Vehicles).classes["M1"], width_m=9.0)
