"""The one parameter loader, the same rules for every parameter class."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from cohesion_gis.cohesion import CohesionParams
from cohesion_gis.errors import ParameterError
from cohesion_gis.hvm import HvmParams, SiteParams, Vehicles
from cohesion_gis.params import load_params
from cohesion_gis.protect import ProtectParams
from cohesion_gis.sources.population import DasymetricParams
from cohesion_gis.suggest import SuggestParams

CLASSES = (CohesionParams, HvmParams, Vehicles, SiteParams, DasymetricParams, SuggestParams,
           ProtectParams)  # fmt: skip


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_packaged_values_load_once_and_are_frozen(cls: type) -> None:
    params = load_params(cls)
    assert load_params(cls) is params  # read and checked once per process, then shared
    first = dataclasses.fields(params)[0].name
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(params, first, None)


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_an_empty_user_file_changes_nothing(cls: type, tmp_path: Path) -> None:
    empty = tmp_path / "empty.toml"
    empty.write_text("# nothing to override\n", encoding="utf-8")
    loaded = load_params(cls, empty)
    assert loaded is not load_params(cls)
    keep = {f.name: getattr(load_params(cls), f.name) for f in dataclasses.fields(cls)
            if f.name in ("source", "sources")}  # fmt: skip
    assert dataclasses.replace(loaded, **keep) == load_params(cls)


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_an_unknown_key_is_refused_naming_file_and_key(cls: type, tmp_path: Path) -> None:
    typo = tmp_path / "typo.toml"
    typo.write_text("not_a_parameter = 1\n", encoding="utf-8")
    with pytest.raises(ParameterError, match=r"typo.toml: unknown key `not_a_parameter`") as info:
        load_params(cls, typo)
    assert "Fix the file and load it again" in str(info.value)


def test_a_missing_file_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ParameterError, match=r"no such file"):
        load_params(CohesionParams, tmp_path / "nowhere.toml")


def test_a_table_for_a_value_and_a_value_for_a_table_are_refused() -> None:
    with pytest.raises(ParameterError) as info:
        load_params(CohesionParams, overrides={"walk_speed_m_s": {"x": 1}, "weights": 3})
    text = str(info.value)
    assert "`walk_speed_m_s` = {'x': 1}; expected a value, not a table" in text
    assert "`weights` = 3; expected a table ([weights])" in text


def test_hvm_speed_and_angle_lists_must_be_in_order() -> None:
    """Speeds strictly ascending, angles strictly descending: every list named in one error."""
    overrides = {
        "test_speeds_kmh": [48, 32],
        "class_test_speeds_kmh": {"N1G": [64, 64]},
        "vulnerability_steps_kmh": [32, 16],
        "impact_angles_deg": [15, 90],
        "test_angles_deg": [45, 45],
    }
    with pytest.raises(ParameterError) as info:
        load_params(HvmParams, overrides=overrides)
    text = str(info.value)
    assert "`test_speeds_kmh` = [48.0, 32.0]; expected strictly ascending speeds, e.g. [32" in text
    assert "`class_test_speeds_kmh.N1G` = [64.0, 64.0]; expected strictly ascending speeds" in text
    assert "`vulnerability_steps_kmh` = [32.0, 16.0]; expected strictly ascending speeds, e" in text
    assert "`impact_angles_deg` = [15.0, 90.0]; expected strictly descending angles, e.g." in text
    assert "`test_angles_deg` = [45.0, 45.0]; expected strictly descending angles" in text
