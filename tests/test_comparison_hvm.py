"""HVM side of the scenario comparison: pedestrianisation modes, stable site ids, a rated scheme."""

from __future__ import annotations

from pathlib import Path

import pytest

import cohesion_gis as cg
from cohesion_gis.comparison import analyse, compare
from cohesion_gis.scenario import load_scenario

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
SENAATINTORI = "relation/2919121"
PRECINCT = "node/2225393053"  # the Aleksanterinkatu-Keskuskatu precinct (hvm.sites: anchor id)


@pytest.fixture(scope="module")
def base(helsinki: cg.City):
    return analyse(helsinki)


@pytest.fixture(scope="module")
def pedestrianised(helsinki: cg.City, base):
    return {
        mode: compare(helsinki, load_scenario(SCENARIOS / f"pedestrianise_{mode}.toml"), base=base)
        for mode in ("traffic_order", "physical_closure")
    }


def test_pedestrianised_street_joins_its_merged_site_as_changed(pedestrianised) -> None:
    for result in pedestrianised.values():
        after = result.after.sites.set_index("site_id")
        joined = after.loc[after["member_names"].fillna("").str.contains("Yliopistonkatu")]
        assert list(joined.index) == [PRECINCT]  # same id as in the base: not removed+added
        assert result.sites.set_index("site_id").loc[PRECINCT, "status"] == "changed"
        assert not (result.sites["status"] == "added").any()


def test_closure_and_traffic_order_read_differently(pedestrianised) -> None:
    order = pedestrianised["traffic_order"].summary[0]
    closure = pedestrianised["physical_closure"].summary[0]
    assert order.startswith("Yliopistonkatu (pedestrianised, still drivable)")
    assert closure.startswith("Yliopistonkatu (pedestrianised, physically closed): no vehicle")
    open_m = float(order.split("drive ")[1].split(" m")[0])
    left_m = float(closure.split("→ ")[1].split(" m")[0])
    assert left_m < 0.2 * open_m  # only the cross streets remain in the closed street
    closed = pedestrianised["physical_closure"].city.drive_edges
    assert not (closed["name"] == "Yliopistonkatu").any()


def test_senaatintori_scheme_lowers_the_speed_and_holds(helsinki: cg.City, base) -> None:
    result = compare(helsinki, load_scenario(SCENARIOS / "senaatintori_barriers.toml"), base=base)
    square = result.sites.set_index("site_id").loc[SENAATINTORI]
    assert square["max_arrival_speed_kmh_M1_base"] > 140
    for cls in ("M1", "N1", "N2A", "N3C"):
        assert (
            square[f"max_arrival_speed_kmh_{cls}_scenario"]
            < square[f"max_arrival_speed_kmh_{cls}_base"]
        )
    assert square["risk_delta"] < 0
    assert square["defeated_barriers_scenario"] == ""  # no proposed barrier is driven through
    assert not any("driven through" in line for line in result.summary)
    assert result.summary[0].startswith("Senaatintori: worst M1 arrival speed 151 → 0 km/h")
    assert result.base.hvm_note == "HVM full"
    searched, total = map(
        int, result.after.hvm_note.split(": ")[1].split(" sites")[0].split(" of ")
    )
    assert 0 < searched < total == len(result.after.hvm.sites)


def test_pedestrianised_street_rebuilds_the_site_table(pedestrianised) -> None:
    for result in pedestrianised.values():
        assert result.after.hvm_note.startswith("HVM incremental: ")
        assert result.after.hvm_note.endswith(", site table rebuilt")
