import json

import pyogrio
import pytest
import rasterio

from cohesion_gis import InputError, write_layers
from cohesion_gis.export import atomic_path, write_geopackage


def test_layers_geopackage_has_every_layer_metadata_and_a_population_raster(helsinki, tmp_path):
    gpkg, tif = write_layers(helsinki, tmp_path / "helsinki.gpkg")
    layers = dict(pyogrio.list_layers(gpkg))
    assert set(helsinki.layers()) | {"metadata"} <= set(layers)
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
