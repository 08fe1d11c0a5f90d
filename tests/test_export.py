import json

import pyogrio
import pytest
import rasterio

from cohesion_gis import InputError, write_layers
from cohesion_gis.export import (
    atomic_path,
    read_layer,
    write_geopackage,
)


def test_layers_geopackage_has_every_layer_metadata_and_a_population_raster(helsinki, tmp_path):
    gpkg, tif = write_layers(helsinki, tmp_path / "helsinki.gpkg")
    layers = dict(pyogrio.list_layers(gpkg))
    kinds = ("", "_points", "_lines", "_polygons")  # a layer mixing kinds is split by kind
    assert all(any(f"{n}{k}" in layers for k in kinds) for n in helsinki.layers())
    assert "metadata" in layers
    assert {"contact_spaces_points", "contact_spaces_polygons", "barriers_lines"} <= set(layers)
    for name, geometry_type in layers.items():  # QGIS opens each without a sub-layer dialog
        assert geometry_type is None or "Geometry" not in geometry_type, (name, geometry_type)
    assert len(read_layer(gpkg, "barriers")) == len(helsinki.barriers)
    meta = pyogrio.read_dataframe(gpkg, layer="metadata").set_index("key")["value"]
    assert "OpenStreetMap" in meta["attribution"]
    assert meta["data_date"] == "2019-04-21"
    sidecar = json.loads((tmp_path / "helsinki.provenance.json").read_text())
    assert sidecar["package_version"] == helsinki.provenance.package_version
    districts = pyogrio.read_dataframe(gpkg, layer="districts")
    assert districts.crs == helsinki.crs and len(districts) == 6
    with rasterio.open(tif) as src:
        assert src.crs.to_epsg() == 32635
        total = src.read(1, masked=True).sum()
    assert total == pytest.approx(helsinki.homes["population"].sum(), rel=1e-4)


def test_existing_outputs_are_kept_unless_overwrite(helsinki, tmp_path):
    path = tmp_path / "x.gpkg"
    path.write_text("keep me")
    with pytest.raises(InputError, match="exists; pass overwrite=True"):
        write_geopackage({"districts": helsinki.districts}, path, metadata={})
    assert path.read_text() == "keep me"
    write_geopackage({"districts": helsinki.districts}, path, metadata={}, overwrite=True)
    assert "districts" in dict(pyogrio.list_layers(path))


def test_a_failed_write_leaves_nothing_behind(tmp_path):
    target = tmp_path / "out.json"
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []
