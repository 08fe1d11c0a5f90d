"""The cyclic garbage collector paused for a step and restored after it (``_gc``)."""

from __future__ import annotations

import gc

import pytest

from cohesion_gis._gc import paused_gc


def test_the_collector_is_restored_after_an_error():
    @paused_gc()
    def step():
        assert not gc.isenabled()
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        step()
    assert gc.isenabled()


def test_a_collector_the_caller_disabled_stays_disabled():
    gc.disable()
    try:
        with paused_gc():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
