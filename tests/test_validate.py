"""The one CRS check (``_validate.metric_crs_problem``) and that nothing else asks the question."""

from __future__ import annotations

import re
from pathlib import Path

import geopandas as gpd
import pytest
import shapely

import cohesion_gis
from cohesion_gis._validate import metric_crs, metric_crs_problem
from cohesion_gis.errors import InputError
from cohesion_gis.network import snap_to_edges


@pytest.mark.parametrize(
    "crs",
    ["EPSG:32635", 32635, "EPSG:3067", "EPSG:32635+5703"],  # UTM, ETRS-TM35FIN, UTM + height
)
def test_projected_metric_crs_passes(crs: object) -> None:
    assert metric_crs_problem(crs) is None
    assert metric_crs(crs, "layer").is_projected


@pytest.mark.parametrize(
    ("crs", "why"),
    [
        (None, "has no CRS"),
        ("not a crs", "has a CRS pyproj cannot read"),
        ("EPSG:4326", "geographic CRS \\(degrees\\)"),
        ("EPSG:4326+5773", "geographic CRS \\(degrees\\)"),
        ("EPSG:2263", "projected in US survey foot, not metres"),
        ("EPSG:3857", "Web Mercator"),
        ("EPSG:4978", "neither geographic nor projected"),
    ],
)
def test_other_crs_refused_with_the_fix(crs: object, why: str) -> None:
    problem = metric_crs_problem(crs)
    assert problem is not None
    assert re.search(why, problem)
    with pytest.raises(InputError, match=f"^streets .*{why}.*(set_crs|to_crs|EPSG:32635)"):
        metric_crs(crs, "streets")


def test_snapping_refuses_web_mercator(helsinki) -> None:
    """A caller of the engine gets the same answer (Web Mercator was accepted before)."""
    edges = helsinki.walk_edges
    csr = helsinki.walk_csr
    points = gpd.GeoSeries([shapely.Point(385_500, 6_672_000)], crs=edges.crs).to_crs(3857)
    with pytest.raises(InputError, match="points is in EPSG:3857, Web Mercator"):
        snap_to_edges(points, edges, csr)


def test_one_crs_check_in_the_package() -> None:
    package = Path(cohesion_gis.__file__).parent
    asking = sorted(
        str(path.relative_to(package))
        for path in package.rglob("*.py")
        if re.search(r"\.is_(projected|geographic)\b", path.read_text(encoding="utf-8"))
    )
    assert asking == ["_validate.py"]
