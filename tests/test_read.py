"""Reading back what the package wrote: metadata, layers, a layers GeoPackage as a City."""

from __future__ import annotations

import dataclasses
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
    # the same study area: boundary (where vehicles start, which sites count), data area (which
    # homes the score loads) and name, to the last bit (was the walk network's envelope)
    assert city.name == helsinki.name
    assert city.boundary.equals_exact(helsinki.boundary, tolerance=0)
    assert helsinki.data_area is None and city.data_area is None  # the extract, no buffer
    buffered = dataclasses.replace(helsinki, data_area=helsinki.boundary.buffer(500.0))
    gpkg, _ = cg.write_layers(buffered, tmp_path / "buffered.gpkg")
    assert read_layers(gpkg).data_area.equals_exact(buffered.data_area, tolerance=0)
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
