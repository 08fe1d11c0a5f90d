"""Shared fixtures: the real study areas, loaded once per test session (per xdist worker)."""

from __future__ import annotations

from pathlib import Path

import pytest

import cohesion_gis as cg


@pytest.fixture(scope="session")
def helsinki() -> cg.City:
    """The embedded default: central Helsinki from pyrosm's bundled extract."""
    return cg.load_city()


@pytest.fixture(scope="session")
def kotka_pbf() -> Path:
    """pyrosm's second bundled extract: suburban Kotka (buildings, no soft targets)."""
    from pyrosm import get_data

    return Path(get_data("test_pbf"))


@pytest.fixture(scope="session")
def kotka(kotka_pbf: Path) -> cg.City:
    return cg.load_city(kotka_pbf)
