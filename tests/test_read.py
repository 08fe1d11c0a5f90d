"""Reading back what the package wrote: metadata, layers, a layers GeoPackage as a City."""

from __future__ import annotations

from pathlib import Path

import pytest

import cohesion_gis as cg
from cohesion_gis.errors import InputError
from cohesion_gis.export import write_geopackage
from cohesion_gis.read import read_layer, read_layers, read_metadata
from cohesion_gis.scenario import apply, load_scenario

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"


def test_read_layers_round_trip(tmp_path: Path, helsinki: cg.City) -> None:
    gpkg, _ = cg.write_layers(helsinki, tmp_path / "h.gpkg")
    city = read_layers(gpkg)
    assert city.summary()[["walk_nodes", "contact_spaces", "homes"]].tolist() == (
        helsinki.summary()[["walk_nodes", "contact_spaces", "homes"]].tolist()
    )
    after = apply(city, load_scenario(SCENARIOS / "car_park_to_park.toml"))
    assert "way/27558514" in set(after.contact_spaces["space_id"])


def test_metadata_and_a_missing_layer(tmp_path: Path, helsinki: cg.City) -> None:
    path = tmp_path / "part.gpkg"
    metadata = helsinki.provenance.as_dict()
    write_geopackage({"districts": helsinki.districts}, path, metadata=metadata)
    meta = read_metadata(path)
    assert meta["data_date"] == "2019-04-21"
    assert meta["parameters"]["grid_cell_m"] == 250.0  # a JSON table comes back as a dict
    assert len(read_layer(path, "districts")) == len(helsinki.districts)
    with pytest.raises(InputError, match=r"layer\(s\) \['contact_spaces', 'sites'.*missing"):
        read_layers(path)
    with pytest.raises(InputError, match="does not exist"):
        read_layers(tmp_path / "none.gpkg")
