"""Shared fixtures: the real study areas, loaded once per test session (per xdist worker).

``helsinki`` (the embedded default) and ``helsinki_assessment`` (its HVM assessment) are in the
repository's ``conftest.py``, shared with doctests.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import cohesion_gis as cg

#: The real extracts of ../shared/data (Monaco, Malta); COHESION_GIS_DATA points elsewhere.
REAL_DATA = Path(os.environ.get("COHESION_GIS_DATA", Path(__file__).parents[1] / "../shared/data"))


def real_pbf(name: str) -> Path:
    """A real extract of ``REAL_DATA``, or skip the test saying where it was looked for."""
    path = REAL_DATA / name
    if not path.is_file():
        pytest.skip(f"{path} absent: the real-city extracts are in ../shared/data (see its README)")
    return path


@pytest.fixture(scope="session")
def kotka_pbf() -> Path:
    """pyrosm's second bundled extract: suburban Kotka (buildings, no soft targets)."""
    from pyrosm import get_data

    return Path(get_data("test_pbf"))


@pytest.fixture(scope="session")
def kotka(kotka_pbf: Path) -> cg.City:
    return cg.load_city(kotka_pbf)


@pytest.fixture(scope="session")
def monaco_pbf() -> Path:
    """Monaco's extract (Geofabrik, 30 Sep 2019); skips when absent."""
    return real_pbf("monaco-2019-09-30.osm.pbf")


@pytest.fixture(scope="session")
def monaco() -> cg.City:
    """The whole of Monaco (Geofabrik extract, 30 Sep 2019), loaded once per session."""
    return cg.load_city(real_pbf("monaco-2019-09-30.osm.pbf"))


@pytest.fixture(scope="session")
def malta() -> cg.City:
    """Malta and Gozo (Geofabrik extract, 27 Aug 2018), loaded once per session."""
    return cg.load_city(real_pbf("malta-2018-08-27.osm.pbf"))
