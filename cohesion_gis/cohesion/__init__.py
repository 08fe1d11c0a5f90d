"""Contact-space cohesion: access, diversity, bridging, capacity and severance."""

from cohesion_gis.cohesion.params import AccessCategory, CohesionParams
from cohesion_gis.cohesion.score import COMPONENTS, CohesionResult, score_districts

__all__ = ["COMPONENTS", "AccessCategory", "CohesionParams", "CohesionResult", "score_districts"]
