"""Maps for councillors and planners: offline folium HTML, static PNG/PDF figures.

Builders take the analyses' GeoDataFrames (in the study area's metric CRS) and return folium maps
with an offline vector base layer; :func:`save_offline` writes them as single HTML files that need
no internet, and :mod:`cohesion_gis.maps.static` draws the same content with matplotlib.
:func:`escape_text` and :func:`format_number` are the maps' text rules, public for other HTML
pages of the package (``protect.scheme_html``).
"""

from __future__ import annotations

from cohesion_gis.maps._style import escape_text, format_number
from cohesion_gis.maps.basemap import base_map, furnish_map, vector_base_layers
from cohesion_gis.maps.cohesion import cohesion_map
from cohesion_gis.maps.offline import OfflineView, inline_html, notebook_view, save_offline
from cohesion_gis.maps.scenario import comparison_map, scenario_changes, scenario_map, score_change
from cohesion_gis.maps.sites import sites_map

__all__ = [
    "OfflineView",
    "base_map",
    "cohesion_map",
    "comparison_map",
    "escape_text",
    "format_number",
    "furnish_map",
    "inline_html",
    "notebook_view",
    "save_offline",
    "scenario_changes",
    "scenario_map",
    "score_change",
    "sites_map",
    "vector_base_layers",
]
