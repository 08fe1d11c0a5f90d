"""Tests of ``cohesion_gis.network``, module by module."""
