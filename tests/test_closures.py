"""Closures: removed from the vehicle network (built over), or rated barrier lines at their ends."""

from __future__ import annotations

from pathlib import Path

import pytest
import shapely

import cohesion_gis as cg
from cohesion_gis.comparison import analyse, compare
from cohesion_gis.scenario import apply, load_scenario

UNIONINKATU = "way/24336604"  # one block of Unioninkatu at the precinct's east end: M1 149 km/h
M1_80 = "ISO 22343-1: V/1500[M1]/80/90:1.0"
M1_160 = "ISO 22343-1: V/1500[M1]/160/90:1.0"  # hypothetical: faster than any M1 here


def closure(tmp_path: Path, extra: str, name: str = "s.toml") -> cg.Scenario:
    path = tmp_path / name
    path.write_text(f'[[interventions]]\ntype = "close_road"\nid = "{UNIONINKATU}"\n{extra}\n')
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
        assert across.length <= width + 2.0 + 1e-6
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
    assert len(through) and through["impact_speed_kmh"].min() > 80.0
    strong = compare(helsinki, closure(tmp_path, f'rating = "{M1_160}"', "t.toml"), base=base)
    held = strong.after.hvm.approaches
    held = held.loc[held["vehicle_class"] == "M1"]
    assert not held["defeated"].fillna("").str.contains("closure/").any()
    # the car routes that drove through now stop there: those entries are reached more slowly
    keys = ["site_id", "entry_id"]
    after = through[keys].merge(held[[*keys, "impact_speed_kmh"]], on=keys)
    assert len(after) == len(through)
    before = through.set_index(keys)["impact_speed_kmh"]
    assert (after.set_index(keys)["impact_speed_kmh"] < before - 1.0).all()


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
