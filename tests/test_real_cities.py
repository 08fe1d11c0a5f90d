"""Monaco and Malta as a planner would load them: the whole Geofabrik extracts of ../shared/data.

Skipped with a reason when the folder is absent. Each city is loaded once per session
(``tests/conftest.py``). Official figures used below:

- Monaco: 2.02 km² of land (IMSEE, *Monaco en chiffres 2019*, "Territoire");
- Malta: 316 km² (NSO Malta, *Regional Statistics Malta 2019*, table 1.1: 315.6 km²).
"""

from __future__ import annotations

import pytest
import shapely

import cohesion_gis as cg


def test_monaco_study_area_is_the_city_not_every_node(monaco: cg.City):
    # the extent of all nodes was 13,714 km²; the header box is 10.0 km². The data hull inside
    # it holds Monaco (2.02 km²) and the fringe of Beausoleil and Cap-d'Ail in the extract.
    area_km2 = monaco.boundary.area / 1e6
    assert 3.0 < area_km2 < 6.0
    study = monaco.provenance.study_area
    assert study["area_km2"] == pytest.approx(area_km2, abs=1e-3)
    assert "header box" in study["derived_from"] and "hull" in study["derived_from"]
    assert monaco.provenance.data_date == "2019-09-30"  # the file's replication timestamp


def test_malta_study_area_is_the_islands_not_the_ferry_routes(malta: cg.City):
    # the extent of all nodes was 228,824 km²; the islands are 316 km² (NSO)
    area_km2 = malta.boundary.area / 1e6
    assert 300 < area_km2 < 400
    assert malta.boundary.geom_type == "MultiPolygon"  # Malta, Gozo, Comino: no sea between
    nodes = malta.walk_nodes
    assert shapely.contains_xy(malta.boundary, nodes["x"], nodes["y"]).all()
    assert malta.provenance.data_date == "2018-08-27"
