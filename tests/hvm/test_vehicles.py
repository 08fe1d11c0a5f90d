import dataclasses

import pytest

from cohesion_gis.errors import ParameterError
from cohesion_gis.hvm.params import HvmParams
from cohesion_gis.hvm.vehicles import NUMERIC_FIELDS, Vehicles
from cohesion_gis.params import load_params


def test_packaged_classes_have_values_and_sources():
    vehicles = load_params(Vehicles).classes
    assert {"M1", "N1G", "N1", "N2A", "N2B", "N3C", "N3D", "N3E", "N3F", "N3G"} <= set(vehicles)
    assert vehicles["M1"].test_mass_kg == 1500 and vehicles["M1"].accel_ms2 == 3.2
    assert vehicles["N3C"].test_mass_kg == 7200 and vehicles["N3C"].accel_ms2 == 1.25
    for v in vehicles.values():
        assert set(v.sources) == set(NUMERIC_FIELDS)
        assert all(v.sources.values())
    assert vehicles["M1"].power_kw == 100 and vehicles["M1"].drag_area_m2 == 0.7
    assert vehicles["N3C"].rolling_resistance == 0.008
    assert all("[A]" in vehicles["N2A"].sources[f] for f in ("power_kw", "drag_area_m2"))
    car = vehicles["M1"].traction()
    assert car.power_w_per_kg == pytest.approx(100_000 / 1500)
    assert car.drag_per_m == pytest.approx(1.225 * 0.7 / 3000)
    assert vehicles["M1"].traction("constant").is_constant and not car.is_constant
    with pytest.raises(ParameterError, match="acceleration model 'fast'"):
        vehicles["M1"].traction("fast")
    # cars are friction-limited, trucks rollover-limited
    assert vehicles["M1"].lateral_limit_ms2(0.7) == pytest.approx(0.7 * 9.81)
    assert vehicles["N3C"].lateral_limit_ms2(0.7) == pytest.approx(3.43)


def test_default_set_and_subset_order():
    params = load_params(HvmParams)
    assert params.default_vehicle_classes == ("M1", "N1", "N2A", "N3C")
    assert list(load_params(Vehicles).select(["N3C", "M1"])) == ["N3C", "M1"]
    with pytest.raises(ParameterError, match="unknown vehicle class"):
        load_params(Vehicles).select(["Z9"])


def test_user_file_overrides_and_adds(tmp_path):
    path = tmp_path / "v.toml"
    path.write_text(
        "[classes.M1]\naccel_ms2 = 4.0\n"
        '[classes.BUS]\ndescription = "bus"\ntest_mass_kg = 12000\nwidth_m = 2.55\n'
        "length_m = 12\naccel_ms2 = 1.0\ntop_speed_kmh = 90\nlat_accel_ms2 = 3.0\n"
        "braking_ms2 = 4.0\npower_kw = 180\ndrag_area_m2 = 5.5\nrolling_resistance = 0.008\n"
    )
    vehicles = load_params(Vehicles, path).classes
    assert vehicles["M1"].accel_ms2 == 4.0 and vehicles["M1"].test_mass_kg == 1500
    assert str(path) in vehicles["M1"].sources["accel_ms2"]
    assert vehicles["BUS"].width_m == 2.55


@pytest.mark.parametrize(
    ("body", "match"),
    [
        ("[classes.M1]\naccel_ms2 = -3.2\n", r"field `classes.M1.accel_ms2` = -3.2; expected a"),
        (
            "[classes.M1]\ntest_mass_kg = 0\n",
            r"`classes.M1.test_mass_kg` = 0.0; .* 100 and 30,000 kg",
        ),
        (
            "[classes.M1]\naccel_ms2 = 'fast'\n",
            r"`classes.M1.accel_ms2` = 'fast'; expected a number",
        ),
        ("[classes.M1]\nwheels = 4\n", r"unknown field 'wheels'"),
        ('[classes.X]\ndescription = "x"\n', r"class 'X': missing field"),
        ("[trucks]\n", r"unknown key `trucks` \(allowed: classes\)"),
        ("[classes.M1]\npower_kw = 0\n", r"`classes.M1.power_kw` = 0.0; .* 1 and 5,000 kW"),
        # issue 15: non-finite values
        ("[classes.M1]\ntop_speed_kmh = inf\n", r"`classes.M1.top_speed_kmh` = inf; expected a"),
        ("[classes.M1]\nbraking_ms2 = nan\n", r"`classes.M1.braking_ms2` = nan; expected a"),
        # heavier than any impact-test vehicle: 90 t loaded silently, no rating can cover it
        (
            "[classes.N3G]\ntest_mass_kg = 90000\n",
            r"`classes.N3G.test_mass_kg` = 90000.0; .* no impact-test standard uses a heavier "
            r"vehicle .* model the threat as N3G",
        ),
        (
            "[classes.M1]\naccel_ms2 = 0.1\nrolling_resistance = 0.02\n",
            r"class 'M1': accel_ms2 0.1 cannot overcome rolling_resistance",
        ),
    ],
)
def test_bad_vehicle_files_name_file_class_and_field(tmp_path, body, match):
    path = tmp_path / "bad.toml"
    path.write_text(body)
    with pytest.raises(ParameterError, match=match) as info:
        load_params(Vehicles, path)
    assert str(info.value).startswith(f"{path}: ") and "\n" not in str(info.value)


def test_params_override_and_validation(tmp_path):
    good = tmp_path / "p.toml"
    good.write_text('friction_mu = 1.0\n[sources]\nfriction_mu = "MIL-HDBK"\n')
    params = load_params(HvmParams, good)
    assert params.friction_mu == 1.0 and params.sources["friction_mu"] == "MIL-HDBK"
    assert params.search_horizon_m == 500 and params.acceleration_model == "power"
    for body, match in [
        ("friction_mu = -0.7\n", "friction_mu"),
        ("test_speeds_kmh = [48, 32]\n", "ascending"),
        ("horizon = 3\n", "unknown key `horizon`"),
        ("block_unrated = 1\n", "expected a boolean"),
        ('acceleration_model = "turbo"\n', "acceleration_model"),
    ]:
        bad = tmp_path / "bad.toml"
        bad.write_text(body)
        with pytest.raises(ParameterError, match=match):
            load_params(HvmParams, bad)
    with pytest.raises(ParameterError, match="speed_allowance"):
        dataclasses.replace(params, speed_allowance=2.0)


@pytest.mark.parametrize(
    ("body", "match"),
    [
        # issue 15: non-finite and absurd values
        ("search_horizon_m = 1e12\n", r"`search_horizon_m` = 1000000000000.0; .* at most 5,000 m"),
        ("gap_limit_m = inf\n", r"`gap_limit_m` = inf; expected a finite number"),
        ("test_speeds_kmh = [16, nan]\n", r"`test_speeds_kmh\[1\]` = nan"),
        ("test_speeds_kmh = [16, 1e6]\n", r"`test_speeds_kmh\[1\]` = 1000000.0; .* 200 km/h"),
        ("start_speed_kmh = 500\n", r"`start_speed_kmh` = 500.0; .* between 0 and 140 km/h"),
        ("barrier_snap_m = -1\n", r"`barrier_snap_m` = -1.0"),
        ("friction_mu = 'high'\n", r"field `friction_mu` = 'high'; expected a number"),
        ("default_vehicle_classes = []\n", r"`default_vehicle_classes` = \[\]; expected at least"),
        # issue 13 follow-up: stations, level changes, egress
        ("station_public_share = 1.5\n", r"`station_public_share` = 1.5"),
        ("station_concourse_persons_m2 = 0\n", r"`station_concourse_persons_m2` = 0.0"),
        ("level_change_min_height_m = -1\n", r"`level_change_min_height_m` = -1.0"),
        ("egress_minutes = 0\n", r"`egress_minutes` = 0.0"),
        ("egress_persons_m2 = 12\n", r"`egress_persons_m2` = 12.0; .* 7 persons/m²"),
        # risk and priority (formerly constants of hvm.assess)
        ("horizon_slack = 0.9\n", r"`horizon_slack` = 0.9; expected .* between 0 and 0.5"),
        ("many_approaches = 2.5\n", r"`many_approaches` = 2.5; expected a whole number"),
        ("priority_share = 0\n", r"`priority_share` = 0.0; expected a finite number greater"),
        ("vulnerability_steps_kmh = [32, 16]\n", r"`vulnerability_steps_kmh` .* ascending"),
        ("[attractiveness]\nkiosk = 9\n", r"`attractiveness.kiosk` = 9; .* between 1 and 5"),
    ],
)
def test_bad_params_name_file_field_and_bounds(tmp_path, body, match):
    path = tmp_path / "bad.toml"
    path.write_text(body)
    with pytest.raises(ParameterError, match=match) as info:
        load_params(HvmParams, path)
    assert str(info.value).startswith(f"{path}: ") and "\n" not in str(info.value)


def test_every_bad_param_in_one_message(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("friction_mu = nan\ngap_limit_m = 'wide'\nhorizon = 3\n")
    with pytest.raises(ParameterError) as info:
        load_params(HvmParams, path)
    text = str(info.value)
    assert "`friction_mu` = nan" in text and "`gap_limit_m` = 'wide'" in text
    assert "unknown key `horizon`" in text


def test_non_utf8_vehicle_file(tmp_path):
    path = tmp_path / "latin1.toml"
    path.write_bytes('[classes.M1]\ndescription = "Voiture légère"\n'.encode("latin-1"))
    with pytest.raises(ParameterError, match=r"latin1.toml: not UTF-8 text"):
        load_params(Vehicles, path)


def test_a_partial_params_file_keeps_the_other_values_and_their_sources(tmp_path):
    path = tmp_path / "p.toml"
    path.write_text('gap_limit_m = 1.0\n[equivalence]\nN1 = ["N1G"]\n')
    params, packaged = load_params(HvmParams, path), load_params(HvmParams)
    assert params.gap_limit_m == 1.0 and params.equivalence == {"N1": ("N1G",)}
    assert params.sources["gap_limit_m"] == f"user file {path}"
    assert params.sources["equivalence"] == f"user file {path}"
    assert params.sources["friction_mu"] == packaged.sources["friction_mu"]
    assert params.test_speeds_kmh == packaged.test_speeds_kmh
    assert load_params(HvmParams) is packaged  # the packaged values are read once


def test_overrides_name_where_they_come_from():
    params = load_params(HvmParams, overrides={"friction_mu": 1.0}, where="s.toml [parameters.hvm]")
    assert params.sources["friction_mu"] == "user file s.toml [parameters.hvm]"
    with pytest.raises(ParameterError, match=r"^s.toml \[parameters.hvm\]: field `friction_mu`"):
        load_params(HvmParams, overrides={"friction_mu": -1.0}, where="s.toml [parameters.hvm]")


def test_a_new_class_without_sources_is_sourced_to_its_file(tmp_path):
    path = tmp_path / "v.toml"
    fields = {f: getattr(load_params(Vehicles).classes["N1"], f) for f in NUMERIC_FIELDS}
    body = "".join(f"{k} = {v}\n" for k, v in fields.items())
    path.write_text(f'[classes.VAN]\ndescription = "van"\n{body}')
    van = load_params(Vehicles, path).classes["VAN"]
    assert set(van.sources) == set(NUMERIC_FIELDS)
    assert set(van.sources.values()) == {f"user file {path}"}
