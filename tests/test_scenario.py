"""Scenario files: schema validation, reference checks, and every intervention on Helsinki."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely

import cohesion_gis as cg
from cohesion_gis.scenario import Scenario, apply, check_scenario, load_scenario, read_layers

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
# a small polygon inside central Helsinki (Kluuvi), EPSG:4326
KLUUVI_WKT = "POLYGON ((24.944 60.171, 24.946 60.171, 24.946 60.172, 24.944 60.172, 24.944 60.171))"


def write(tmp_path: Path, body: str, name: str = "s.toml") -> Path:
    path = tmp_path / name
    path.write_text(body, encoding="utf-8")
    return path


def one(tmp_path: Path, entry: str, *, header: str = "") -> Scenario:
    return load_scenario(write(tmp_path, f"{header}\n[[interventions]]\n{entry}\n"))


# --- stage 1: the file alone ---------------------------------------------------------------


def test_examples_load() -> None:
    names = {load_scenario(p).name for p in SCENARIOS.glob("*.toml")}
    assert {"car_park_to_park", "pedestrianise_traffic_order", "pedestrianise_physical_closure",
            "new_residents_kallio", "senaatintori_barriers"} <= names  # fmt: skip


def test_every_problem_in_one_error(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        name = "bad"
        colour = "red"
        [[interventions]]
        type = "add_bariers"
        [[interventions]]
        type = "add_barrier"
        geometry = "LINESTRING (24.95 60.17, 24.96 60.17)"
        rating = "V/7200[N2A]/480/90"
        height = 1
        [[interventions]]
        type = "add_residents"
        count = "many"
        district = "Kallio"
        [[interventions]]
        type = "pedestrianise"
        name = "Yliopistonkatu"
        mode = "closed"
        [[interventions]]
        type = "close_road"
        geometry = "LINESTRING (2495000 6670000, 2496000 6670000)"
        """,
    )
    with pytest.raises(cg.ScenarioError) as info:
        load_scenario(path)
    text = str(info.value)
    assert str(path) in text and "7 problems" in text
    assert "unknown top-level key 'colour'" in text
    assert (
        "interventions[0]: unknown intervention type 'add_bariers'; did you mean 'add_barrier'"
        in text
    )
    assert "interventions[1] (add_barrier): 'rating' is not a valid rating" in text
    assert "interventions[1] (add_barrier): unknown key 'height'" in text
    assert (
        "interventions[2] (add_residents): 'count' = 'many'; expected a whole number between 0 "
        "and 1,000,000 residents" in text
    )
    assert "\n" not in text  # one line for the command line
    assert "'mode' must be one of traffic_order, physical_closure" in text
    assert "not longitude/latitude" in text


def test_selector_and_file_problems(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        [[interventions]]
        type = "remove_barrier"
        [[interventions]]
        type = "remove_contact_space"
        id = "way/1"
        name = "x"
        [[interventions]]
        type = "add_contact_space"
        space_type = "park"
        file = "layers/missing.geojson"
        [[interventions]]
        type = "add_residents"
        count = 10
        district = "Kallio"
        groups = { new_arrival = 0.5, long_term = 0.4 }
        """,
    )
    with pytest.raises(cg.ScenarioError, match="4 problems") as info:
        load_scenario(path)
    text = str(info.value)
    assert "give exactly one of id, name, geometry, file" in text
    assert "(got id, name)" in text
    assert "file 'layers/missing.geojson' not found" in text
    assert "shares must sum to 1, got 0.9" in text


def test_missing_and_broken_file(tmp_path: Path) -> None:
    with pytest.raises(cg.ScenarioError, match="does not exist"):
        load_scenario(tmp_path / "nope.toml")
    with pytest.raises(cg.ScenarioError, match="not valid TOML"):
        load_scenario(write(tmp_path, "name = "))


def test_parameter_overrides(tmp_path: Path) -> None:
    ok = load_scenario(write(tmp_path, "[parameters.cohesion]\nwalk_speed_m_s = 1.1\n"))
    assert ok.cohesion_params().walk_speed_m_s == 1.1
    with pytest.raises(cg.ScenarioError, match="unknown key `walk_speed`"):
        load_scenario(write(tmp_path, "[parameters.cohesion]\nwalk_speed = 1.1\n"))
    with pytest.raises(cg.ScenarioError, match=r"\[parameters.hvm\]: unknown key"):
        load_scenario(write(tmp_path, "[parameters.hvm]\nmu = 1.0\n"))


@pytest.mark.parametrize(
    ("entry", "match"),
    [
        # issue 15: inf residents made every score NaN (headline "+0.00"); 1e15 loaded silently
        (
            'type = "add_residents"\ncount = inf\ndistrict = "Kallio"',
            r"interventions\[0\] \(add_residents\): 'count' = inf; expected a whole number "
            r"between 0 and 1,000,000 residents",
        ),
        (
            'type = "add_residents"\ncount = 1e15\ndistrict = "Kallio"',
            r"'count' = 1000000000000000.0",
        ),
        ('type = "add_residents"\ncount = nan\ndistrict = "Kallio"', r"'count' = nan"),
        ('type = "add_residents"\ncount = 12.5\ndistrict = "Kallio"', r"'count' = 12.5; .*whole"),
        (
            'type = "move_residents"\ncount = inf\nfrom = { district = "Kamppi" }\n'
            'to = { district = "Kallio" }',
            r"\(move_residents\): 'count' = inf",
        ),
        (
            'type = "pedestrianise"\nname = "Yliopistonkatu"\nmode = "traffic_order"\n'
            "width_m = inf",
            r"\(pedestrianise\): 'width_m' = inf; expected a finite number greater than 0 and "
            r"at most 150 m",
        ),
        (
            'type = "pedestrianise"\nname = "Yliopistonkatu"\nmode = "traffic_order"\nwidth_m = 0',
            r"'width_m' = 0; expected",
        ),
        (
            'type = "change_site_capacity"\nname = "Senaatintori"\ncapacity_persons = 1e12',
            r"'capacity_persons' = 1000000000000.0; .* between 0 and 1,000,000 persons",
        ),
        (
            'type = "add_residents"\ncount = 10\ndistrict = "Kallio"\n'
            "groups = { a = nan, b = 1.0 }",
            r"'groups' must be a table of group = share",
        ),
    ],
)
def test_non_finite_and_absurd_numbers_are_refused(tmp_path: Path, entry: str, match: str) -> None:
    with pytest.raises(cg.ScenarioError, match=match) as info:
        one(tmp_path, entry)
    assert str(info.value).startswith(str(tmp_path / "s.toml")) and "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("header", "match"),
    [
        # issue 15: a parameter `access = nan` made every score 0
        ("[parameters.cohesion.weights]\naccess = nan", r"field `weights.access` = nan"),
        ("[parameters.cohesion]\nwalk_speed_m_s = inf", r"field `walk_speed_m_s` = inf"),
        # a string used to fail with "'<' not supported between instances of 'int' and 'str'"
        ("[parameters.hvm]\nfriction_mu = 'high'", r"field `friction_mu` = 'high'; expected a"),
        ("[parameters.hvm]\nsearch_horizon_m = 1e12", r"`search_horizon_m` = 1000000000000.0"),
        (
            "[base]\nbbox = [24.9, 60.1, 25.0, inf]",
            r"field `base.bbox` = \[24.9, 60.1, 25.0, inf\]",
        ),
        ("[base]\nbbox = [25.0, 60.1, 24.9, 60.2]", r"expected west < east and south < north"),
    ],
)
def test_bad_parameters_and_base_are_named(tmp_path: Path, header: str, match: str) -> None:
    with pytest.raises(cg.ScenarioError, match=match) as info:
        load_scenario(write(tmp_path, header + "\n"))
    assert "\n" not in str(info.value)


def test_parameter_and_intervention_problems_in_one_message(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "[parameters.cohesion.weights]\naccess = nan\n[[interventions]]\n"
        'type = "add_residents"\ncount = inf\ndistrict = "Kallio"\n',
    )
    with pytest.raises(cg.ScenarioError, match="2 problems") as info:
        load_scenario(path)
    assert "`weights.access` = nan" in str(info.value) and "'count' = inf" in str(info.value)


def test_interventions_built_in_code_are_checked_too() -> None:
    from cohesion_gis.scenario.spec import Intervention

    with pytest.raises(
        cg.ScenarioError, match=r"interventions\[0\] \(add_residents\): 'count' = inf"
    ):
        Intervention(0, "add_residents", {"count": float("inf"), "district": "Kallio"})
    with pytest.raises(
        cg.ScenarioError, match=r"unknown intervention type; did you mean 'close_road'"
    ):
        Intervention(0, "close_rood", {})


def test_hvm_overrides_are_typed_like_a_parameter_file(tmp_path: Path) -> None:
    scenario = load_scenario(
        write(tmp_path, "[parameters.hvm]\ntest_speeds_kmh = [32, 48]\nfriction_mu = 1\n")
    )
    params = scenario.hvm_params()
    assert params.test_speeds_kmh == (32.0, 48.0) and params.friction_mu == 1.0
    assert "s.toml" in params.sources["friction_mu"]


def test_unreadable_scenario_files(tmp_path: Path) -> None:
    latin1 = tmp_path / "latin1.toml"
    latin1.write_bytes('name = "Sécurité"\n'.encode("latin-1"))
    with pytest.raises(cg.ScenarioError, match=r"latin1.toml: not UTF-8 text .* UTF-8"):
        load_scenario(latin1)
    with pytest.raises(cg.ScenarioError, match=r"cannot be read"):
        load_scenario(tmp_path)  # a folder


# --- stage 2: references against the city -------------------------------------------------


def test_references_checked_with_the_city(tmp_path: Path, helsinki: cg.City) -> None:
    scenario = load_scenario(
        write(
            tmp_path,
            """
            [[interventions]]
            type = "remove_contact_space"
            id = "way/999999999"
            [[interventions]]
            type = "close_road"
            name = "Mannerheimintei"
            [[interventions]]
            type = "add_contact_space"
            space_type = "parc"
            geometry = "POINT (24.946 60.171)"
            [[interventions]]
            type = "add_barrier"
            geometry = "LINESTRING (25.5 61.0, 25.6 61.0)"
            [[interventions]]
            type = "add_residents"
            count = 10
            district = "Kallio"
            groups = { new_arrival = 1.0 }
            """,
        )
    )
    with pytest.raises(cg.ScenarioError, match="5 problems") as info:
        check_scenario(helsinki, scenario)
    text = str(info.value)
    assert "interventions[0] (remove_contact_space): id way/999999999 not found" in text
    assert "close names: Mannerheimintie" in text
    assert "space_type 'parc' is not a contact-space type; did you mean 'park'?" in text.replace(
        " of the taxonomy", ""
    )
    assert "interventions[3] (add_barrier): geometry" in text and "outside the study area" in text
    assert "base homes have no resident groups" in text


# --- stage 3: every intervention -------------------------------------------------------------


def test_apply_never_mutates(helsinki: cg.City) -> None:
    before = (
        len(helsinki.contact_spaces),
        len(helsinki.parking),
        helsinki.homes["population"].sum(),
    )
    after = apply(helsinki, load_scenario(SCENARIOS / "car_park_to_park.toml"))
    assert (len(helsinki.contact_spaces), len(helsinki.parking),
            helsinki.homes["population"].sum()) == before  # fmt: skip
    assert after.walk_edges is helsinki.walk_edges and after.homes is helsinki.homes
    assert after.provenance.parameters["scenario"] == "car_park_to_park"


def test_convert_land_use(helsinki: cg.City) -> None:
    after = apply(helsinki, load_scenario(SCENARIOS / "car_park_to_park.toml"))
    park = after.contact_spaces.set_index("space_id").loc["way/27558514"]
    car_park = helsinki.parking.set_index("parking_id").loc["way/27558514"]
    assert park["space_type"] == "park" and park["name"] == "Kalevanpuisto (proposed)"
    assert park["area_m2"] == pytest.approx(car_park["area_m2"])
    assert "way/27558514" not in set(after.parking["parking_id"])
    assert len(after.parking) == len(helsinki.parking) - 1


def test_add_and_remove_contact_space(tmp_path: Path, helsinki: cg.City) -> None:
    scenario = one(
        tmp_path,
        f'type = "add_contact_space"\nspace_type = "community_centre"\nname = "Hub"\n'
        f'geometry = "{KLUUVI_WKT}"\n'
        '[[interventions]]\ntype = "remove_contact_space"\nname = "Kansalliskirjasto"',
    )
    after = apply(helsinki, scenario)
    added = after.contact_spaces.set_index("space_id").loc["new/0"]
    assert added["space_type"] == "community_centre"
    assert 10_000 < added["area_m2"] < 30_000  # ~0.002° × 0.001° at 60° N
    assert "Kansalliskirjasto" not in set(after.contact_spaces["name"])
    removed = (helsinki.contact_spaces["name"] == "Kansalliskirjasto").sum()
    assert len(after.contact_spaces) == len(helsinki.contact_spaces) + 1 - removed


def test_add_and_remove_barrier(tmp_path: Path, helsinki: cg.City) -> None:
    after = apply(helsinki, load_scenario(SCENARIOS / "senaatintori_barriers.toml"))
    new = after.barriers.set_index("barrier_id").loc["senaatintori_N3C"]
    assert new["rating"] == "ISO 22343-1: V/7200[N3C]/64/90:1.0"
    assert new.geometry.length > 300  # around the square, metres
    assert after.barriers["rating"].iloc[: len(helsinki.barriers)].isna().all()
    first = helsinki.barriers["barrier_id"].iloc[0]
    gone = apply(helsinki, one(tmp_path, f'type = "remove_barrier"\nid = "{first}"'))
    assert first not in set(gone.barriers["barrier_id"])
    unrated = one(tmp_path, 'type = "add_barrier"\ngeometry = "POINT (24.946 60.171)"')
    assert apply(helsinki, unrated).barriers["rating"].iloc[-1] is None


@pytest.mark.parametrize("mode", ["traffic_order", "physical_closure"])
def test_pedestrianise(helsinki: cg.City, mode: str) -> None:
    after = apply(helsinki, load_scenario(SCENARIOS / f"pedestrianise_{mode}.toml"))
    street = helsinki.drive_edges["name"] == "Yliopistonkatu"
    site = after.sites.iloc[-1]
    assert site["name"] == "Yliopistonkatu" and site["kind"] == "square"
    assert site["area_m2"] > 0.8 * (helsinki.drive_edges.loc[street, "length_m"].sum() * 6.0)
    remaining = (after.drive_edges["name"] == "Yliopistonkatu").sum()
    assert remaining == (street.sum() if mode == "traffic_order" else 0)
    assert set(np.unique(after.drive_edges[["u", "v"]])) == set(after.drive_nodes.index)


def test_pedestrianise_major_road_removes_severance(tmp_path: Path, helsinki: cg.City) -> None:
    road = "Pohjoisesplanadi"
    after = apply(helsinki, one(tmp_path, f'type = "pedestrianise"\nname = "{road}"\n'
                                          'mode = "traffic_order"'))  # fmt: skip
    ids = helsinki.drive_edges.loc[helsinki.drive_edges["name"] == road, "osm_id"]
    on_road = after.walk_edges["osm_id"].isin(ids)
    assert helsinki.walk_edges.loc[on_road, "severance"].any()
    assert not after.walk_edges.loc[on_road, "severance"].any()


def test_close_road(tmp_path: Path, helsinki: cg.City) -> None:
    osm_id = helsinki.drive_edges["osm_id"].iloc[0]
    after = apply(helsinki, one(tmp_path, f'type = "close_road"\nid = "{osm_id}"'))
    assert osm_id not in set(after.drive_edges["osm_id"])
    assert after.walk_edges is helsinki.walk_edges


def test_add_residents(helsinki: cg.City) -> None:
    after = apply(helsinki, load_scenario(SCENARIOS / "new_residents_kallio.toml"))
    kallio = helsinki.districts.set_index("name").loc["Kallio", "district_id"]
    gain = after.homes["population"] - helsinki.homes["population"]
    in_kallio = (helsinki.homes["district_id"] == kallio).to_numpy()
    assert gain[in_kallio].sum() == pytest.approx(2000.0)
    assert np.allclose(gain[~in_kallio], 0.0)
    # spread in proportion to current residents
    share = (
        helsinki.homes.loc[in_kallio, "population"]
        / helsinki.homes.loc[in_kallio, "population"].sum()
    )
    assert np.allclose(gain[in_kallio], 2000.0 * share)


def test_add_residents_in_an_empty_area_builds_a_home(tmp_path: Path, helsinki: cg.City) -> None:
    field = (
        "POLYGON ((24.9465 60.1745, 24.9470 60.1745, 24.9470 60.1748, 24.9465 60.1748, "
        "24.9465 60.1745))"
    )
    after = apply(
        helsinki, one(tmp_path, f'type = "add_residents"\ncount = 300\ngeometry = "{field}"')
    )
    assert len(after.homes) == len(helsinki.homes) + 1
    assert after.homes.iloc[-1]["population"] == pytest.approx(300.0)
    assert after.homes.iloc[-1]["district_id"] is not None


def test_residents_with_groups(tmp_path: Path, helsinki: cg.City) -> None:
    import dataclasses

    homes = helsinki.homes.assign(pop_long_term=helsinki.homes["population"] * 0.7,
                                  pop_new_arrival=helsinki.homes["population"] * 0.3)  # fmt: skip
    grouped = dataclasses.replace(helsinki, homes=homes)
    add = one(tmp_path, 'type = "add_residents"\ncount = 1000\ndistrict = "Kamppi"\n'
                        "groups = { new_arrival = 0.8, long_term = 0.2 }")  # fmt: skip
    after = apply(grouped, add)
    assert (after.homes["pop_new_arrival"] - homes["pop_new_arrival"]).sum() == pytest.approx(800)
    assert (after.homes["pop_long_term"] - homes["pop_long_term"]).sum() == pytest.approx(200)
    move = one(tmp_path, 'type = "move_residents"\ncount = 500\nfrom = { district = "Kamppi" }\n'
                         'to = { district = "Kallio" }')  # fmt: skip
    moved = apply(grouped, move)
    by_district = moved.homes.groupby("district_id")["population"].sum()
    before = homes.groupby("district_id")["population"].sum()
    ids = helsinki.districts.set_index("name")["district_id"]
    assert by_district[ids["Kamppi"]] == pytest.approx(before[ids["Kamppi"]] - 500)
    assert by_district[ids["Kallio"]] == pytest.approx(before[ids["Kallio"]] + 500)
    assert moved.homes["pop_long_term"].sum() == pytest.approx(homes["pop_long_term"].sum())
    too_many = one(
        tmp_path,
        'type = "move_residents"\ncount = 900000\nfrom = { district = "Kamppi" }\n'
        'to = { district = "Kallio" }',
    )
    with pytest.raises(cg.ScenarioError, match="cannot move 900000 residents"):
        apply(grouped, too_many)


def test_change_site_capacity(tmp_path: Path, helsinki: cg.City) -> None:
    after = apply(helsinki, one(tmp_path, 'type = "change_site_capacity"\nname = "Senaatintori"\n'
                                          "capacity_persons = 20000"))  # fmt: skip
    assert after.sites.set_index("name").loc["Senaatintori", "capacity_tag"] == 20000
    assert helsinki.sites.set_index("name")["capacity_tag"].isna().loc["Senaatintori"]


def test_geometry_file_in_any_crs(tmp_path: Path, helsinki: cg.City) -> None:
    shape = gpd.GeoSeries([shapely.from_wkt(KLUUVI_WKT)], crs=4326).to_crs(3067)
    (tmp_path / "layers").mkdir()
    gpd.GeoDataFrame(geometry=shape).to_file(tmp_path / "layers" / "plot.geojson")
    scenario = one(tmp_path, 'type = "add_contact_space"\nspace_type = "park"\n'
                             'file = "layers/plot.geojson"')  # fmt: skip
    added = apply(helsinki, scenario).contact_spaces.iloc[-1]
    expected = gpd.GeoSeries([shapely.from_wkt(KLUUVI_WKT)], crs=4326).to_crs(helsinki.crs)
    assert added["area_m2"] == pytest.approx(expected.area.iloc[0], rel=1e-6)


def test_read_layers_round_trip(tmp_path: Path, helsinki: cg.City) -> None:
    gpkg, _ = cg.write_layers(helsinki, tmp_path / "h.gpkg")
    city = read_layers(gpkg)
    assert city.summary()[["walk_nodes", "contact_spaces", "homes"]].tolist() == (
        helsinki.summary()[["walk_nodes", "contact_spaces", "homes"]].tolist()
    )
    after = apply(city, load_scenario(SCENARIOS / "car_park_to_park.toml"))
    assert "way/27558514" in set(after.contact_spaces["space_id"])


# --- incremental rescoring of many scenarios ------------------------------------------------


def test_rescore_many_mixed_batch_equals_one_rescore_each(
    tmp_path: Path, helsinki: cg.City
) -> None:
    from cohesion_gis.cohesion import CohesionParams
    from cohesion_gis.params import load_params
    from cohesion_gis.scenario.incremental import rescore, rescore_many, score_state

    params = load_params(CohesionParams)
    base = score_state(helsinki, params)
    removed = one(tmp_path, 'type = "remove_contact_space"\nname = "Esplanadinpuisto"')
    closed = load_scenario(
        write(
            tmp_path,
            '[[interventions]]\ntype = "pedestrianise"\nname = "Pohjoisesplanadi"\n'
            'mode = "physical_closure"',
            name="closed.toml",
        )
    )
    scenarios = [
        load_scenario(SCENARIOS / "car_park_to_park.toml"),  # one new space
        closed,  # the walk network changes: a full run
        load_scenario(SCENARIOS / "new_residents_kallio.toml"),  # residents: every home
        removed,  # a space gone, none searched
        load_scenario(SCENARIOS / "car_park_to_park.toml"),  # the same again, later in the batch
    ]
    cities = [apply(helsinki, s) for s in scenarios]
    together = list(rescore_many(helsinki, base, cities, params, batch=3))
    assert [s.recomputed.split(":")[0] for s in together] == [
        "incremental", "full", "incremental", "incremental", "incremental"]  # fmt: skip
    assert together[3].recomputed.startswith("incremental: 0 of ")
    for city, state in zip(cities, together, strict=True):
        alone = rescore(helsinki, base, city, params)
        assert state.recomputed == alone.recomputed
        np.testing.assert_allclose(
            state.districts["score"].to_numpy(), alone.districts["score"].to_numpy(), atol=1e-9
        )
        np.testing.assert_allclose(
            state.result.districts["score"].to_numpy(),
            state.districts["score"].to_numpy(),
            atol=1e-9,
        )
    np.testing.assert_array_equal(together[0].values.array, together[4].values.array)
    assert together[0].districts["score"].sum() > base.districts["score"].sum()  # a park added
