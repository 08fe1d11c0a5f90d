"""cohesion_gis.protect's ring: a minimum cut round a site no line near it can protect.

The Aleksanterinkatu precinct (13 member sites) is entered faster than the 80 km/h top test
speed all along the last 200 m of 84 of its routes, so lines near it cannot stop them. The ring
closes the precinct off further out where vehicles are still slow enough, except on Unioninkatu,
a straight secondary street that vehicles drive faster than every test all through the study area.
"""

from __future__ import annotations

from types import MappingProxyType

import pytest

import cohesion_gis as cg
from cohesion_gis.protect import protect
from cohesion_gis.scenario import Intervention, Scenario, apply
from cohesion_gis.scenario.write import base_spec

PRECINCT = "Aleksanterinkatu and"
#: The two carriageway pieces of Unioninkatu (OSM node pairs) where the ring leaks.
UNIONINKATU = {(268068064, 1371624191), (268068063, 1371624190)}


@pytest.fixture(scope="module")
def precinct(helsinki: cg.City):
    return protect(helsinki, PRECINCT, verify="site")


@pytest.fixture(scope="module")
def unioninkatu_closed(helsinki: cg.City) -> cg.City:
    """Helsinki with Unioninkatu closed where the ring leaks (10 m of each carriageway)."""
    edges = helsinki.drive_edges
    ends = zip(edges["u"], edges["v"], strict=True)
    pieces = edges.loc[[bool({(a, b), (b, a)} & UNIONINKATU) for a, b in ends]].to_crs(4326)
    assert len(pieces) == 2
    interventions = tuple(
        Intervention(i, "close_road", MappingProxyType({"geometry": mid.wkt}), mid)
        for i, mid in enumerate(g.interpolate(0.5, normalized=True) for g in pieces.geometry)
    )
    scenario = Scenario(
        name="unioninkatu_closed", description="Unioninkatu closed north of the precinct",
        base=base_spec(helsinki), hvm_overrides=MappingProxyType({}),
        interventions=interventions,
    )  # fmt: skip
    return apply(helsinki, scenario)


def test_precinct_names_the_street_no_ring_can_cross(precinct) -> None:
    # the true figure: the ring round the precinct must cross Unioninkatu where vehicles are
    # faster than every test, so it is not built and the lines near the precinct stop what they
    # can (92 -> 52); the note says which street must be slowed or closed first
    assert precinct.open_before == 92
    assert precinct.open_after == 52, precinct.note
    assert "no tested ring closes it off" in precinct.note
    assert "Unioninkatu" in precinct.note
    assert (precinct.comparison.homes["access_delta"] >= -1e-12).all()


def test_ring_protects_the_precinct_once_unioninkatu_is_closed(unioninkatu_closed) -> None:
    result = protect(unioninkatu_closed, PRECINCT, verify="site")
    assert result.open_before == 92  # closing Unioninkatu there alone stops no approach
    assert result.open_after == 0, result.note  # the ring's lines, verified by the VDA
    lines = result.lines
    assert (lines["kind"] == "rated line").all()
    assert lines["standoff_m"].max() > 200.0  # beyond the compact ring near the site
    # each line is rated for every class that reaches it, within the tested range
    for cls in ("M1", "N1", "N2A", "N3C"):
        rated = lines[f"rating_{cls}"] != ""
        assert (lines.loc[rated, f"speed_kmh_{cls}"] <= 80.0).all()
    homes = result.comparison.homes
    assert (homes["access_delta"] >= -1e-12).all()  # bollard lines leave walkers through
