"""Study area, buffer and inner report (issue 12, item 2) on real Monaco and Helsinki.

With a bbox smaller than the extract, ``load_city`` reads the bbox plus a buffer of the largest
search distance (2,500 m): homes and spaces in the buffer count as demand and supply, while
districts, sites and the homes written out stay inside the bbox.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
import shapely

import cohesion_gis as cg
from cohesion_gis.cohesion import CohesionParams, score_districts
from cohesion_gis.cohesion.score import distance_tables, walk_networks
from cohesion_gis.errors import InputError
from cohesion_gis.export import write_scores
from cohesion_gis.params import load_params
from cohesion_gis.pipeline import cohesion_maps
from cohesion_gis.sources.osm import default_pbf

#: Monaco-Ville, Fontvieille, La Condamine and the west of Monte-Carlo (2.0 km²).
MONACO_BBOX = (7.412, 43.728, 7.428, 43.742)
#: Central Helsinki around the Esplanadi (0.25 km²), inside the embedded extract.
HELSINKI_BBOX = (24.940, 60.166, 24.948, 60.171)


@pytest.fixture(scope="module")
def monaco_runs(monaco_pbf):
    """The bbox with the default buffer and with none: cities and scores."""
    cities = {
        "buffer": cg.load_city(monaco_pbf, bbox=MONACO_BBOX),
        "none": cg.load_city(monaco_pbf, bbox=MONACO_BBOX, buffer_m=0),
    }
    return {k: (c, score_districts(c, sensitivity=False)) for k, c in cities.items()}


def test_monaco_reads_the_buffer_and_reports_only_inside(monaco_runs, tmp_path):
    city, result = monaco_runs["buffer"]
    bare, bare_result = monaco_runs["none"]
    assert city.boundary.area == pytest.approx(bare.boundary.area, rel=1e-6)
    assert city.boundary.area / 1e6 == pytest.approx(2.0, abs=0.05)
    assert city.provenance.study_area["buffer_m"] == load_params(CohesionParams).search_limit_m
    assert (
        city.provenance.study_area["loaded_area_km2"] > 4 * city.provenance.study_area["area_km2"]
    )  # the buffer within the extract's header box (10.0 km²)
    # more of the city read: homes, spaces and network beyond the bbox
    assert len(city.contact_spaces) > len(bare.contact_spaces)
    assert len(city.walk_edges) > len(bare.walk_edges)
    outside = ~city.homes["in_study_area"]
    assert outside.sum() > 100 and city.homes.loc[outside, "district_id"].isna().all()
    assert bare.homes["in_study_area"].all()
    # the same districts, all inside the bbox, with the same residents
    assert set(result.districts["name"]) == set(bare_result.districts["name"])
    inside = shapely.area(
        shapely.intersection(result.districts.geometry.to_numpy(), city.boundary.buffer(1.0))
    )
    assert np.allclose(inside, result.districts.geometry.area.to_numpy(), rtol=1e-3)
    assert len(city.sites) == len(bare.sites)  # sites stay inside too
    people = result.districts.set_index("name")["population"]
    bare_people = bare_result.districts.set_index("name")["population"]
    assert np.allclose(people, bare_people.reindex(people.index), rtol=0.01)
    # the data edge (walks reaching a clipped street within 1,200 m): without the buffer every
    # district's residents reach the bbox; with it only the west's, where the extract's header
    # box ends in Cap-d'Ail (Fontvieille 1.00, Jardin Exotique 0.94); the sea is no edge
    edge = result.districts.set_index("name")["edge_cut_share"]
    assert edge[["Fontvieille", "Jardin Exotique"]].min() > 0.9
    assert edge[["Monte-Carlo", "Sainte-Dévote", "Monaco-Ville"]].max() < 0.05
    assert bare_result.districts["edge_cut_share"].min() > 0.9
    # competing demand beyond the bbox now counts: Monte-Carlo's capacity was overstated
    capacity = result.districts.set_index("name")["capacity"]
    assert (
        capacity["Monte-Carlo"]
        < 0.6 * bare_result.districts.set_index("name").loc["Monte-Carlo", "capacity"]
    )
    assert "2,500 m buffer" in result.notes["study_area"]
    # the written homes are the ones inside
    write_scores(result, tmp_path, provenance=city.provenance.as_dict())
    written = pd.read_csv(tmp_path / "cohesion_homes.csv")
    assert len(written) == int(city.homes["in_study_area"].sum()) == len(bare.homes)
    assert len(result.homes) == len(city.homes)  # every home was scored


def test_a_home_near_the_edge_reaches_a_space_just_outside(monaco_runs):
    city, result = monaco_runs["buffer"]
    bare, bare_result = monaco_runs["none"]
    params = load_params(CohesionParams)
    table = distance_tables(city, walk_networks(city, params), params, sensitivity=False)[0]
    home, space, dist = table.columns()
    spaces = table.spaces
    beyond = ~spaces.intersects(city.boundary).to_numpy()
    new = ~spaces["space_id"].isin(bare.contact_spaces["space_id"]).to_numpy()
    assert (beyond & new).sum() > 5  # spaces only the buffer brings
    inside = table.homes["in_study_area"].to_numpy()
    ids = table.homes["home_id"].to_numpy()
    scored = result.homes.set_index("home_id")
    bare_scored = bare_result.homes.set_index("home_id")
    gains = []
    for cat in params.access:
        kind = np.isin(spaces["space_type"].to_numpy(), cat.space_types)
        counts = kind & (spaces["area_m2"].to_numpy() >= cat.min_area_m2) & beyond & new
        rows = inside[home] & counts[space] & (dist <= cat.d_full_m)
        for h in np.unique(home[rows]):
            column = f"access_{cat.name}"
            assert scored.loc[ids[h], column] == pytest.approx(1.0)
            if bare_scored.loc[ids[h], column] < 1.0 - 1e-9:
                gains.append((ids[h], cat.name))
    # homes inside the bbox within full reach of a space beyond it, served only with the buffer
    assert len(gains) >= 10, gains


def test_the_buffer_lowers_no_inner_home_s_access(monaco_runs):
    """With one nearest edge, a Fontvieille block of 418 residents (way/221347381) snapped to a
    harbour footway 0.9 m nearer than its quay road once the buffer connected that footway, and
    lost 18.5 points (40.7 -> 22.2). Entering through every edge within 6 m of the nearest
    (``snap_tolerance_m``), it keeps the quay road: no inner home's access falls with the buffer,
    and the block scores more (the buffer's spaces count too)."""
    city, result = monaco_runs["buffer"]
    _, bare_result = monaco_runs["none"]
    access = result.homes.set_index("home_id")["access"]
    bare = bare_result.homes.set_index("home_id")
    measured = access.reindex(bare.index).notna() & bare["access"].notna()
    assert measured.sum() > 700
    assert (access.reindex(bare.index) >= bare["access"] - 1e-9)[measured].all()
    block = "way/221347381"
    assert bare.loc[block, "population"] == pytest.approx(418, abs=1)
    score = result.homes.set_index("home_id")["score"]
    assert score[block] > bare.loc[block, "score"]  # 41.2 -> 47.4; was 40.7 -> 22.2
    # the nearest edge alone drops it again
    params = dataclasses.replace(load_params(CohesionParams), snap_tolerance_m=0.0)
    nearest = score_districts(city, params=params, sensitivity=False)
    assert nearest.homes.set_index("home_id").loc[block, "score"] < bare.loc[block, "score"] - 15


def test_helsinki_bbox_inside_the_extract(tmp_path):
    city = cg.load_city(bbox=HELSINKI_BBOX)
    bare = cg.load_city(bbox=HELSINKI_BBOX, buffer_m=0)
    assert city.boundary.area / 1e6 == pytest.approx(0.247, abs=0.005)
    # the embedded extract (1.7 km²) is smaller than the buffered bbox: it is read whole
    assert city.provenance.study_area["loaded_area_km2"] == pytest.approx(1.686, abs=0.01)
    assert city.homes["in_study_area"].sum() == len(bare.homes) == 4
    assert len(city.homes) > 150
    result = score_districts(city, sensitivity=False)
    bare_result = score_districts(bare, sensitivity=False)
    scored = result.districts["population"] > 0
    assert scored.sum() == 3
    gain = result.districts.loc[scored, "access"] - bare_result.districts.loc[scored, "access"]
    assert (gain > 0.25).all()  # 0.24-0.33 -> 0.59-0.76: the Esplanadi's neighbours count
    assert "163 homes" in result.notes["study_area"]
    assert "alone" in bare_result.notes["study_area"]
    # the maps outline the study area when a buffer was read, and only then
    cohesion_maps(city, result, tmp_path / "buffer")
    cohesion_maps(bare, bare_result, tmp_path / "none")
    layer = "Study area (scores reported inside"
    assert layer in (tmp_path / "buffer" / "cohesion_map.html").read_text(encoding="utf-8")
    assert layer not in (tmp_path / "none" / "cohesion_map.html").read_text(encoding="utf-8")


def test_a_bbox_outside_the_data_is_one_clear_error():
    # 1 km east of the embedded extract: only its buffer reaches the data
    with pytest.raises(InputError, match=r"lies outside the data.*inside them"):
        cg.load_city(default_pbf(), bbox=(24.975, 60.166, 24.985, 60.170))
    with pytest.raises(InputError, match=r"does not overlap the extract"):
        cg.load_city(default_pbf(), bbox=(10.0, 50.0, 10.1, 50.1))
    with pytest.raises(InputError, match=r"buffer_m=-1.*at least 0 m"):
        cg.load_city(default_pbf(), bbox=HELSINKI_BBOX, buffer_m=-1)


def test_a_district_file_smaller_than_the_extract_is_the_study_area(helsinki, tmp_path):
    two = helsinki.districts.loc[helsinki.districts["name"].isin(["Kluuvi", "Kruununhaka"])]
    path = tmp_path / "two.gpkg"
    two[["district_id", "name", "geometry"]].to_file(path)
    city = cg.load_city(districts=path)
    assert city.boundary.area == pytest.approx(two.union_all().area, rel=1e-3)
    assert city.data_area.area > 1.5 * city.boundary.area  # the whole extract is read
    assert "district file" in city.provenance.study_area["derived_from"]
    outside = ~city.homes["in_study_area"]
    assert outside.sum() > 50 and city.homes.loc[outside, "district_id"].isna().all()
    result = score_districts(city, sensitivity=False)
    assert sorted(result.districts["name"]) == ["Kluuvi", "Kruununhaka"]
    assert "plus the buffer read around it" in result.notes["study_area"]
    # the same two districts clipped out of the extract reach fewer spaces
    bare = cg.load_city(boundary=path, districts=path, buffer_m=0)
    bare_result = score_districts(bare, sensitivity=False)
    access = result.districts.set_index("name")["access"]
    bare_access = bare_result.districts.set_index("name")["access"]
    assert (access > bare_access.reindex(access.index) + 0.01).all()


def test_the_cli_says_a_bbox_outside_the_data_in_one_line(tmp_path):
    from click.testing import CliRunner

    from cohesion_gis.cli import main

    outside = ["--bbox", "24.975", "60.166", "24.985", "60.170"]
    result = CliRunner().invoke(main, ["score", *outside, "--out", str(tmp_path / "a")])
    assert result.exit_code == 1 and "lies outside the data" in result.output
    assert result.output.count("\n") == 1 and "Traceback" not in result.output
    negative = ["--bbox", *map(str, HELSINKI_BBOX), "--buffer-m", "-5"]
    result = CliRunner().invoke(main, ["score", *negative, "--out", str(tmp_path / "b")])
    assert result.exit_code == 2 and "--buffer-m" in result.output
    # nothing written, and no empty folder left on the way to --out (b4b2b95)
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_buffer_homes_without_group_data_say_why():
    import dataclasses

    from cohesion_gis.sources.population import group_shares

    city = cg.load_city(bbox=HELSINKI_BBOX)
    ids = city.districts["district_id"]
    table = pd.DataFrame({"district_id": ids, "long_term": 0.7, "new_arrival": 0.3})
    homes = group_shares(city.homes, table, known_keys=ids)
    result = score_districts(dataclasses.replace(city, homes=homes), sensitivity=False)
    reason = result.homes.set_index("in_study_area")["group_reason"]
    assert reason.loc[False].str.startswith("in the buffer around the study area").all()
    assert (reason.loc[True] == "").all()
    assert result.homes.loc[result.homes["in_study_area"], "bridging"].notna().all()


def test_a_scenario_comparison_lists_the_homes_inside(tmp_path):
    from cohesion_gis.comparison import compare
    from cohesion_gis.scenario.spec import load_scenario

    kamppi = (24.930, 60.166, 24.942, 60.172)
    path = tmp_path / "residents.toml"
    path.write_text(
        'name = "residents"\n[base]\nsource = "helsinki"\n'
        f"bbox = [{', '.join(map(str, kamppi))}]\n"
        '[[interventions]]\ntype = "add_residents"\ncount = 100\n'
        'geometry = "POLYGON ((24.936 60.167, 24.94 60.167, 24.94 60.17, 24.936 60.167))"\n',
        encoding="utf-8",
    )
    city = cg.load_city(bbox=kamppi)
    comparison = compare(city, load_scenario(path), hvm=False)
    buffer = set(city.homes.loc[~city.homes["in_study_area"], "home_id"])
    inside = set(city.homes.loc[city.homes["in_study_area"], "home_id"])
    assert len(buffer) > 50 and inside <= set(comparison.homes["home_id"])
    assert not buffer & set(comparison.homes["home_id"])
