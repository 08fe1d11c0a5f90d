"""Readers of the study area's inputs: OSM data, districts and population."""
