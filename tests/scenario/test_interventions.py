"""Every intervention (``scenario.interventions``) applied to Helsinki by ``scenario.apply``."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely

import cohesion_gis as cg
from cohesion_gis.comparison import analyse, compare, split_rated
from cohesion_gis.scenario import apply, load_scenario

from .conftest import KLUUVI_WKT, SCENARIOS, one

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
    # VDA review item 5: the proposed lines keep what was built (kind = "bollard") on their way
    # to compare's assessment and protect's verification (split_rated kept only id and rating)
    plain, proposed = split_rated(after)
    # the perimeter and the lines closing the over-run streets, one per class each
    assert set(proposed["barrier_kind"]) == {"bollard"} and len(proposed) == 8
    assert "rating" not in plain.barriers.columns
    first = helsinki.barriers["barrier_id"].iloc[0]
    gone = apply(helsinki, one(tmp_path, f'type = "remove_barrier"\nid = "{first}"'))
    assert first not in set(gone.barriers["barrier_id"])
    unrated = one(tmp_path, 'type = "add_barrier"\ngeometry = "POINT (24.946 60.171)"')
    assert apply(helsinki, unrated).barriers["rating"].iloc[-1] is None
    # red-team review: a barrier_id already in the city was accepted and merged with it
    taken = one(tmp_path, f'type = "add_barrier"\ngeometry = "POINT (24.946 60.171)"\n'
                          f'barrier_id = "{first}"')  # fmt: skip
    with pytest.raises(cg.ScenarioError, match=rf"barrier_id '{first}' already exists"):
        apply(helsinki, taken)


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


# --- closures: removed from the vehicle network (built over), or rated barrier lines at their ends

UNIONINKATU = "way/24336604"  # one block of Unioninkatu at the precinct's east end: M1 149 km/h
M1_80 = "ISO 22343-1: V/1500[M1]/80/90:1.0"
M1_112 = "ISO 22343-1: V/1500[M1]/112/90:1.0"  # the top IWA 14-1 test level: credited to 102
VILHONKATU = "way/238779011"  # 25 m of Vilhonkatu by the station: cars meet it at 56-131 km/h


def closure(
    tmp_path: Path, extra: str, name: str = "s.toml", street: str = UNIONINKATU
) -> cg.Scenario:
    path = tmp_path / name
    path.write_text(f'[[interventions]]\ntype = "close_road"\nid = "{street}"\n{extra}\n')
    return load_scenario(path)


@pytest.fixture(scope="module")
def base(helsinki: cg.City):
    return analyse(helsinki)


def test_unrated_closure_removes_the_street(tmp_path: Path, helsinki: cg.City) -> None:
    after = apply(helsinki, closure(tmp_path, ""))
    assert UNIONINKATU not in set(after.drive_edges["osm_id"])
    assert after.barriers is helsinki.barriers


def test_rated_closure_keeps_the_street_and_lines_its_ends(
    tmp_path: Path, helsinki: cg.City
) -> None:
    after = apply(helsinki, closure(tmp_path, f'rating = "{M1_80}"'))
    assert after.drive_edges is helsinki.drive_edges
    new = after.barriers.iloc[len(helsinki.barriers) :]
    assert len(new) >= 2  # a block: open streets at both ends
    assert new["barrier_id"].str.startswith(f"closure/{UNIONINKATU}/").all()
    assert (new["rating"] == M1_80).all()
    street = helsinki.drive_edges
    lines = street.geometry.to_numpy()
    for across in new.geometry:
        crossed = street.loc[shapely.intersects(lines, across), "osm_id"]
        assert list(crossed) == [UNIONINKATU]  # across the closed street, no other
        width = street.loc[crossed.index, "width_m"].iloc[0]
        # kerb + 1 m at least, on across the footways to the façades (within 20 m: hvm.toml
        # closure_reach_m) or the assumed 3 m footway: a car drives round a kerb-to-kerb line
        assert width + 2.0 - 1e-6 <= across.length <= 2 * 20.0 + 1e-6
    # a second rated closure of the same street (another class) gets its own ids
    twice = apply(after, closure(tmp_path, 'rating = "ISO 22343-1: V/7200[N3C]/80/90:1.0"'))
    assert twice.barriers["barrier_id"].is_unique
    assert len(twice.barriers) == len(after.barriers) + len(new)


def test_rated_closure_is_driven_through_above_its_rating(
    tmp_path: Path, helsinki: cg.City, base
) -> None:
    weak = compare(helsinki, closure(tmp_path, f'rating = "{M1_80}"'), base=base)
    assert any("closure/way/24336604/" in line and "would be driven through" in line
               for line in weak.summary)  # fmt: skip
    routes = weak.after.hvm.approaches
    cars = routes.loc[routes["vehicle_class"] == "M1"]  # the rating covers this class only
    through = cars.loc[cars["defeated"].fillna("").str.contains(f"closure/{UNIONINKATU}/")]
    # the speed at the closure is above what an 80 km/h test credits (73 km/h); at the site's
    # entry, beyond the closure, a run may have braked for a bend, so the fastest is checked
    assert len(through) and through["impact_speed_kmh"].max() > 80.0
    # a stronger rating holds the slower runs: on Vilhonkatu an 80 km/h test (credited to 73)
    # is driven through by six car runs, the top test level (112 km/h, credited to 102) by one
    # (no test level covers the fastest; a hypothetical 160 km/h "test" is refused by
    # parse_rating, VDA review)

    def driven(rating: str, name: str) -> tuple[gpd.GeoDataFrame, object]:
        scenario = closure(tmp_path, f'rating = "{rating}"', name, street=VILHONKATU)
        rows = compare(helsinki, scenario, base=base).after.hvm.approaches
        rows = rows.loc[rows["vehicle_class"] == "M1"]
        return rows, rows["defeated"].fillna("").str.contains(f"closure/{VILHONKATU}/")

    weak_rows, weak_through = driven(M1_80, "v80.toml")
    held, still = driven(M1_112, "v112.toml")
    assert 0 < still.sum() < weak_through.sum()
    # the car routes it now stops reach their entries no faster, some more slowly
    keys = ["site_id", "entry_id"]
    was = weak_rows.loc[weak_through]
    stopped = was[keys].merge(held.loc[~still, [*keys, "impact_speed_kmh"]], on=keys)
    assert len(stopped)
    before = was.set_index(keys)["impact_speed_kmh"]
    after = stopped.set_index(keys)["impact_speed_kmh"]
    assert (after <= before.loc[after.index] + 0.1).all()
    assert (after < before.loc[after.index] - 1.0).any()


def test_rating_validation(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(
        f'[[interventions]]\ntype = "close_road"\nid = "{UNIONINKATU}"\n'
        'rating = "V/1500[M1]/800/90:1.0"\n'
        '[[interventions]]\ntype = "pedestrianise"\nname = "Yliopistonkatu"\n'
        f'mode = "traffic_order"\nrating = "{M1_80}"\n'
    )
    with pytest.raises(cg.ScenarioError) as info:
        load_scenario(path)
    text = str(info.value)
    assert str(path) in text and "2 problems" in text
    assert "interventions[0] (close_road): 'rating' is not a valid rating" in text
    assert "omit 'rating'" in text
    assert "interventions[1] (pedestrianise): 'rating' needs mode = \"physical_closure\"" in text


def test_rated_physical_closure_pedestrianises_and_lines_the_ends(
    tmp_path: Path, helsinki: cg.City, base
) -> None:
    path = tmp_path / "p.toml"
    path.write_text(
        '[[interventions]]\ntype = "pedestrianise"\nname = "Yliopistonkatu"\n'
        f'mode = "physical_closure"\nrating = "{M1_80}"\n'
    )
    after = apply(helsinki, load_scenario(path))
    assert after.sites["site_id"].iloc[-1].startswith("pedestrianised/")
    assert after.drive_edges is helsinki.drive_edges
    new = after.barriers.iloc[len(helsinki.barriers) :]
    assert len(new) >= 2 and new["barrier_id"].str.startswith("closure/").all()
    first = compare(helsinki, load_scenario(path), base=base).summary[0]
    assert first.startswith(f"Yliopistonkatu (pedestrianised, rated closure at {len(new)} ends)")
