"""Reading back what the package wrote: a layers GeoPackage as a City."""

from __future__ import annotations

from pathlib import Path

import cohesion_gis as cg
from cohesion_gis.scenario import apply, load_scenario, read_layers

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"


def test_read_layers_round_trip(tmp_path: Path, helsinki: cg.City) -> None:
    gpkg, _ = cg.write_layers(helsinki, tmp_path / "h.gpkg")
    city = read_layers(gpkg)
    assert city.summary()[["walk_nodes", "contact_spaces", "homes"]].tolist() == (
        helsinki.summary()[["walk_nodes", "contact_spaces", "homes"]].tolist()
    )
    after = apply(city, load_scenario(SCENARIOS / "car_park_to_park.toml"))
    assert "way/27558514" in set(after.contact_spaces["space_id"])
