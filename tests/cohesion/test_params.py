"""Cohesion parameter files: every value finite, within its documented bound, of the right type."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from cohesion_gis.cohesion import CohesionParams
from cohesion_gis.errors import ParameterError
from cohesion_gis.params import load_params


def test_packaged_defaults_are_within_their_bounds():
    params = load_params(CohesionParams)
    assert params.problems() == []
    assert params.seed == 20261128 and isinstance(params.seed, int)
    assert params.sensitivity_weight_draws == 20


@pytest.mark.parametrize(
    ("body", "match"),
    [
        # issue 15: `access = nan` made every score 0, inf made them NaN; both loaded silently
        ("[weights]\naccess = nan\n", r"field `weights.access` = nan; expected a finite number"),
        ("[weights]\naccess = inf\n", r"field `weights.access` = inf; expected a finite number"),
        ("walk_speed_m_s = inf\n", r"`walk_speed_m_s` = inf; .* between 0.2 and 3 m/s"),
        ("walk_speed_m_s = 50\n", r"`walk_speed_m_s` = 50.0; .* between 0.2 and 3 m/s"),
        ("max_snap_m = 1e12\n", r"`max_snap_m` = 1000000000000.0; .* at most 1,000 m"),
        ("[access.playground]\nd_max_m = 1e9\n", r"`access.playground.d_max_m` = 1000000000.0"),
        ("[access.playground]\nd_full_m = nan\n", r"`access.playground.d_full_m` = nan"),
        ("[bridging]\nwide_radius_m = inf\n", r"`bridging.wide_radius_m` = inf"),
        ("[capacity]\nzone_weights = [1.0, nan, 0.22]\n", r"`capacity.zone_weights\[1\]` = nan"),
        ("[capacity]\nzone_limits_m = 400\n", r"`capacity.zone_limits_m` = 400; expected a list"),
        ("[nominal_area_m2]\npark = -1\n", r"`nominal_area_m2.park` = -1"),
        ("[sensitivity]\ndistance_scales = [0.75, 1e6]\n", r"`sensitivity.distance_scales\[1\]`"),
        # wrong types: a string seed raised "invalid literal for int()", 2.5 draws became 2
        ("[sensitivity]\nseed = 'x'\n", r"`sensitivity.seed` = 'x'; expected a whole number"),
        (
            "[sensitivity]\nweight_draws = 2.5\n",
            r"`sensitivity.weight_draws` = 2.5; expected a",
        ),
        (
            "[capacity]\nspace_types = 'park'\n",
            r"`capacity.space_types` = 'park'; .*strings",
        ),
        ("[access]\nplayground = 3\n", r"field `access.playground` = 3; expected a table"),
        ("weights = 3\n", r"field `weights` = 3; expected a table"),
        ("[diversity.radius_m]\nx = 1\n", r"field `diversity.radius_m` = .*; expected a value"),
        ("[weights]\nfun = 1\n", r"unknown key `weights.fun`"),
        ("network_cleaning = 'all'\n", r"field `network_cleaning` = 'all'; expected one of"),
        # red-team review: with no group data every score was NaN, logged as "re-scaled ()"
        (
            "[weights]\naccess = 0\ndiversity = 0\nbridging = 1\ncapacity = 0\n",
            r"weights of access, diversity and capacity sum to 0 .* give `weights.access`",
        ),
    ],
)
def test_bad_values_name_file_field_and_bounds(tmp_path: Path, body: str, match: str):
    path = tmp_path / "bad.toml"
    path.write_text(body)
    with pytest.raises(ParameterError, match=match) as info:
        load_params(CohesionParams, path)
    text = str(info.value)
    assert text.startswith(f"{path}: ") and "\n" not in text
    assert text.endswith("Fix the file and load it again")


def test_every_problem_of_a_file_in_one_message(tmp_path: Path):
    path = tmp_path / "bad.toml"
    path.write_text("walk_speed_m_s = nan\n[weights]\naccess = -1\n[diversity]\nhill_q = inf\n")
    with pytest.raises(ParameterError) as info:
        load_params(CohesionParams, path)
    for field in ("walk_speed_m_s", "weights.access", "diversity.hill_q"):
        assert f"`{field}`" in str(info.value)


def test_a_new_access_category_needs_its_keys(tmp_path: Path):
    path = tmp_path / "new.toml"
    path.write_text('[access.pool]\nspace_types = ["pool"]\nd_full_m = 400\n')
    with pytest.raises(ParameterError, match=r"\[access.pool\] needs d_max_m"):
        load_params(CohesionParams, path)


def test_non_utf8_parameter_file(tmp_path: Path):
    path = tmp_path / "latin1.toml"
    path.write_bytes("# Paramètres\nwalk_speed_m_s = 1.2\n".encode("latin-1"))
    with pytest.raises(ParameterError, match=r"latin1.toml: not UTF-8 text"):
        load_params(CohesionParams, path)


def test_parameters_built_in_code_are_checked_too():
    with pytest.raises(ParameterError, match=r"cohesion parameters .*`walk_speed_m_s` = nan"):
        dataclasses.replace(load_params(CohesionParams), walk_speed_m_s=float("nan"))


def test_a_partial_file_overrides_only_its_keys(tmp_path: Path):
    path = tmp_path / "mine.toml"
    path.write_text("[diversity]\nradius_m = 600\n[access.playground]\nmin_area_m2 = 100\n")
    params, packaged = load_params(CohesionParams, path), load_params(CohesionParams)
    assert params.diversity_radius_m == 600.0 and packaged.diversity_radius_m == 800.0
    assert params.access[0].min_area_m2 == 100.0 and params.access[0].d_max_m == 1000.0
    assert dataclasses.replace(params, diversity_radius_m=800.0, access=packaged.access,
                               source=packaged.source) == packaged  # fmt: skip
    assert params.source == str(path)


def test_overrides_apply_after_the_file(tmp_path: Path):
    path = tmp_path / "mine.toml"
    path.write_text("walk_speed_m_s = 1.2\nmax_snap_m = 50\n")
    params = load_params(CohesionParams, path, {"walk_speed_m_s": 1.0}, where="code")
    assert (params.walk_speed_m_s, params.max_snap_m) == (1.0, 50.0)
    assert params.source == f"{path} with code"


def test_a_typo_in_an_access_category_is_refused(tmp_path: Path):
    path = tmp_path / "typo.toml"
    path.write_text("[access.playground]\nd_ful_m = 300\n")
    with pytest.raises(
        ParameterError, match=r"unknown key\(s\) \['d_ful_m'\] in \[access.playground\]"
    ):
        load_params(CohesionParams, path)
