"""Monaco and Malta as a planner would load them: the whole Geofabrik extracts of ../shared/data.

Skipped with a reason when the folder is absent. Each city is loaded once per session
(``tests/conftest.py``). Official figures used below:

- Monaco: 2.02 km² of land (IMSEE, *Monaco en chiffres 2019*, "Territoire");
- Malta: 316 km² (NSO Malta, *Regional Statistics Malta 2019*, table 1.1: 315.6 km²).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import shapely

import cohesion_gis as cg
from cohesion_gis.hvm.assess import assess_sites


def test_monaco_study_area_is_the_city_not_every_node(monaco: cg.City):
    # the extent of all nodes was 13,714 km²; the header box is 10.0 km². The data hull inside
    # it holds Monaco (2.02 km²) and the fringe of Beausoleil and Cap-d'Ail in the extract.
    area_km2 = monaco.boundary.area / 1e6
    assert 3.0 < area_km2 < 6.0
    study = monaco.provenance.study_area
    assert study["area_km2"] == pytest.approx(area_km2, abs=1e-3)
    assert "header box" in study["derived_from"] and "hull" in study["derived_from"]
    assert monaco.provenance.data_date == "2019-09-30"  # the file's replication timestamp


def test_monaco_features_far_outside_the_data_are_left_out(monaco: cg.City):
    # the 2019 extract keeps "La Mesclaa" (node/1210330005), an attraction 85 km west of Monaco:
    # kept, it was a site no street reaches that set every site map's extent to 85 km
    assert "node/1210330005" not in set(monaco.sites["site_id"])
    for layer in (monaco.sites, monaco.contact_spaces, monaco.buildings, monaco.barriers):
        assert layer.intersects(monaco.boundary).all()


def test_malta_study_area_is_the_islands_not_the_ferry_routes(malta: cg.City):
    # the extent of all nodes was 228,824 km²; the islands are 316 km² (NSO)
    area_km2 = malta.boundary.area / 1e6
    assert 300 < area_km2 < 400
    assert malta.boundary.geom_type == "MultiPolygon"  # Malta, Gozo, Comino: no sea between
    nodes = malta.walk_nodes
    assert shapely.contains_xy(malta.boundary, nodes["x"], nodes["y"]).all()
    assert malta.provenance.data_date == "2018-08-27"


# ---------------------------------------------------------------- districts

#: Monaco's quartiers as mapped in OSM (admin_level 10) in the 2019 extract.
MONACO_QUARTIERS = {
    "Fontvieille", "Jardin Exotique", "La Condamine", "La Rousse", "Larvotto", "Les Monegetti",
    "Monaco-Ville", "Monte-Carlo", "Sainte-Dévote",
}  # fmt: skip
#: Malta has 68 local councils (Local Councils Act, Cap. 363 of the Laws of Malta, Second
#: Schedule: 54 on Malta, 14 on Gozo); the 2018 extract maps 67, Tarxien has no relation.
MALTA_OFFICIAL_COUNCILS = 68


def test_monaco_gets_its_quartiers(monaco: cg.City):
    districts = monaco.districts
    assert set(districts["name"]) == MONACO_QUARTIERS
    assert (districts["admin_level"] == 10).all()
    # every quartier is a plausible part of a 2 km² city: up to 0.6 km² each, 2.4 km² in all;
    # Sainte-Dévote keeps 0.02 km² once clipped to Monaco (the rest of its face is Beausoleil)
    assert districts["area_m2"].between(0.01e6, 0.6e6).all()
    assert districts["area_m2"].sum() < 2.4e6


def test_malta_gets_its_local_councils(malta: cg.City):
    districts = malta.districts
    assert len(districts) == MALTA_OFFICIAL_COUNCILS - 1  # Tarxien is not mapped in 2018
    assert (districts["admin_level"] == 8).all()
    names = set(districts["name"])
    assert {"Valletta", "Il-Mosta", "Tas-Sliema", "Ħal Qormi", "Ix-Xagħra", "Il-Qala"} <= names
    assert "Ħal Tarxien" not in names
    # two councils named Ir-Rabat (Rabat on Malta, Victoria on Gozo) are told apart by their id
    assert districts["name"].is_unique
    assert {"Ir-Rabat (relation/7510565)", "Ir-Rabat (relation/7508583)"} <= names
    # Mdina is the smallest inland council (0.9 km²), Rabat (Malta) among the largest (26.6 km²)
    mdina = districts.loc[districts["name"].eq("L-Imdina"), "area_m2"].iloc[0]
    assert 0.5e6 < mdina < 1.3e6
    assert districts["area_m2"].max() > 20e6


# ---------------------------------------------------------------- sites


def _site_of(sites, name: str):
    """The assessed site holding ``name``: itself, or the cluster it was merged into."""
    holds = sites["name"].eq(name) | sites["member_names"].fillna("").str.split("; ").map(
        lambda names: name in names
    )
    assert holds.sum() == 1, f"{name!r} is in {int(holds.sum())} assessed sites"
    return sites.loc[holds].iloc[0]


def test_monaco_sites_include_the_stadium_and_the_cathedral(monaco: cg.City):
    sites = assess_sites(monaco).sites
    stadium = _site_of(sites, "Stade Louis-II")
    assert stadium["kind"] == "stadium"
    assert stadium["capacity_persons"] > 10_000  # 18,523 seats (tagged capacity)
    cathedral = _site_of(sites, "Cathédrale Notre-Dame-Immaculée")
    assert "place_of_worship" in cathedral["kinds"]


def test_malta_sites_include_the_co_cathedral_and_the_national_stadium(malta: cg.City):
    sites = assess_sites(malta, vehicles=["N3C"]).sites
    assert "place_of_worship" in _site_of(sites, "St. John's Co-Cathedral")["kinds"]
    stadium = _site_of(sites, "National Stadium")  # Ta' Qali, 16,997 seats
    assert "stadium" in stadium["kinds"]
    assert stadium["capacity_persons"] > 10_000


# ---------------------------------------------------------------- golden summaries

GOLDEN = Path(__file__).parent / "golden"
#: Set to 1 to rewrite the golden files after a deliberate change (then review the diff).
UPDATE = os.environ.get("COHESION_GIS_UPDATE_GOLDEN") == "1"
#: Counts may drift this much with taxonomy tuning; the golden guards against the regressions of
#: issue 14 (a frame of 228,824 km², 3.6 million districts), which are orders of magnitude.
COUNT_TOLERANCE = 0.1


def _summary(city: cg.City) -> dict:
    """What a planner checks first; residents are left to tests/sources/test_population.py."""
    counts = city.summary().drop(["crs", "homes", "residents"]).to_dict()
    return {
        **{k: (round(float(v), 1) if k == "area_km2" else int(v)) for k, v in counts.items()},
        "crs": city.crs.to_string(),
        "data_date": city.provenance.data_date,
        "district_names": sorted(city.districts["name"]),
    }


@pytest.mark.parametrize("name", ["monaco", "malta"])
def test_golden_summary(name: str, request: pytest.FixtureRequest):
    city = request.getfixturevalue(name)
    path = GOLDEN / f"{name}.json"
    got = _summary(city)
    if UPDATE:
        path.write_text(json.dumps(got, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    golden = json.loads(path.read_text(encoding="utf-8"))
    assert got.keys() == golden.keys()
    for key, want in golden.items():
        if isinstance(want, int | float):
            assert got[key] == pytest.approx(want, rel=COUNT_TOLERANCE), (
                f"{name} {key}: {got[key]} against {want} in {path.name}; if the change is "
                "deliberate, rerun with COHESION_GIS_UPDATE_GOLDEN=1 and review the diff"
            )
        else:
            assert got[key] == want, key
