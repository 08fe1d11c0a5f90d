"""The size budget of a country-scale map: Malta's offline HTML maps stay under 15 MB each.

Built as ``cohesion-gis demo`` builds them (``pipeline.cohesion_maps`` / ``sites_maps``, HTML
only here). Skipped with a reason when ../shared/data is absent (see tests/conftest.py).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import cohesion_gis as cg
from cohesion_gis.cohesion import score_districts
from cohesion_gis.hvm.assess import assess_sites
from cohesion_gis.maps import cohesion_map, save_offline, sites_map
from cohesion_gis.maps._layers import scale_tolerance_m
from cohesion_gis.maps.cohesion import MAX_HOME_DOTS

#: The budget stated in docs/maps.md: a map a council laptop opens and an e-mail can carry.
BUDGET_MB = 15.0
_BLOCK = re.compile(r'<script type="application/json" id="(cg-[0-9a-f]+)">(.*?)</script>', re.S)


@pytest.fixture(scope="module")
def malta_maps(malta: cg.City, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("malta_maps")
    scores = score_districts(malta, sensitivity=False)
    sites = assess_sites(malta)
    arriving = sites.approaches.loc[sites.approaches["impact_speed_kmh"] > 0]
    common = {"place": malta.name, "data_date": malta.provenance.data_date}
    cohesion = cohesion_map(
        scores.districts, homes=scores.homes, spaces=scores.spaces,
        streets=malta.walk_edges, buildings=malta.buildings, **common,
    )  # fmt: skip
    site_map = sites_map(
        sites.sites, arriving, entries=sites.entries, barriers=sites.barriers, gaps=sites.gaps,
        streets=malta.drive_edges, buildings=malta.buildings, **common,
    )  # fmt: skip
    assert len(scores.homes) > MAX_HOME_DOTS  # so the homes are drawn as squares below
    return {
        "cohesion": save_offline(cohesion, out / "cohesion_map.html"),
        "sites": save_offline(site_map, out / "sites_map.html"),
    }


@pytest.mark.parametrize("kind", ["cohesion", "sites"])
def test_malta_maps_stay_within_the_size_budget(malta_maps: dict[str, Path], kind: str):
    size_mb = malta_maps[kind].stat().st_size / 1e6
    assert 1.0 < size_mb < BUDGET_MB, f"{kind} map: {size_mb:.1f} MB"


def test_malta_maps_are_simplified_rounded_and_homes_grouped(malta: cg.City, malta_maps):
    assert scale_tolerance_m(malta.districts) > 4.0  # 35 km across: one pixel 3 zooms in
    page = malta_maps["cohesion"].read_text(encoding="utf-8")
    blocks = dict(_BLOCK.findall(page))
    # each data block once, however many layers use it (six district layers, one geometry)
    assert len(blocks) == len(_BLOCK.findall(page))
    geometry = "".join(v for v in blocks.values() if v.startswith('[{"type"'))
    decimals = re.findall(r"\d+\.(\d+)", geometry)
    assert decimals and max(len(d) for d in decimals) <= 5  # 1e-5 degrees, about 1 m
    homes = [json.loads(v) for v in blocks.values() if "homes (a 250 m square)" in v]
    assert len(homes) == 1
    assert 100 < len(homes[0]["texts"]) < MAX_HOME_DOTS
    assert "homes in a 250 m square" in page  # the legend says what a dot is
