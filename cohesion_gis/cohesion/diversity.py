r"""Diversity: how many different kinds of contact space a home reaches (Hill numbers).

Within radius :math:`r`, type :math:`k`'s share of what home :math:`i` reaches is
:math:`p_{ik} = \sum_{s \in k} e^{-\beta d_{is}} / \sum_s e^{-\beta d_{is}}` with
:math:`\beta = 4/r`, and

.. math:: {}^qD_i = \Big(\sum_k p_{ik}^q\Big)^{1/(1-q)}, \qquad
          D_i = \frac{{}^qD_i - 1}{|K| - 1} \in [0, 1]

(:math:`q = 1` is the limit :math:`e^{H}`). The default :math:`q = 0` counts distinct types,
which respects the replication principle (Hill 1973; Jost 2006) and is what cityseer recommends
for granular classes. :math:`|K|` is the number of contact-space types in the taxonomy, so the
scale is fixed: 1 means every type within reach.

References
----------
Hill, M. O. (1973) Diversity and evenness. *Ecology* 54(2), 427-432. doi:10.2307/1934352.
Jost, L. (2006) Entropy and diversity. *Oikos* 113(2), 363-375.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numba import njit

from cohesion_gis.cohesion.params import CohesionParams
from cohesion_gis.cohesion.reach import Reach

__all__ = ["diversity", "hill_number"]


def hill_number(shares: np.ndarray, q: float) -> np.ndarray:
    """Hill number of order ``q`` of each row of ``shares`` (rows sum to 1, or all 0 → 0)."""
    shares = np.asarray(shares, dtype=float)
    present = shares > 0
    if q == 0:
        return present.sum(axis=1).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        if q == 1:
            entropy = -np.where(present, shares * np.log(np.where(present, shares, 1.0)), 0.0)
            value = np.exp(entropy.sum(axis=1))
        else:
            value = np.where(present, shares, 0.0) ** q
            value = value.sum(axis=1) ** (1.0 / (1.0 - q))
    return np.where(present.any(axis=1), value, 0.0)


def diversity(reach: Reach, params: CohesionParams, *, n_types: int) -> pd.Series:
    """Per home: normalised Hill diversity of contact-space types within the radius (0–1)."""
    types = pd.Categorical(reach.spaces["space_type"])
    abundance = _abundance(
        *reach.columns(),
        types.codes.astype(np.int64),
        len(reach.homes),
        max(len(types.categories), 1),
        float(params.diversity_radius_m),
        float(params.decay_beta_factor),
    )
    total = abundance.sum(axis=1, keepdims=True)
    shares = np.divide(abundance, total, out=np.zeros_like(abundance), where=total > 0)
    number = hill_number(shares, params.hill_q)
    scale = max(n_types - 1, 1)
    return pd.Series(
        np.clip((number - 1.0) / scale, 0.0, 1.0), index=reach.homes.index, name="diversity"
    )


@njit(cache=True, nogil=True)
def _abundance(  # noqa: PLR0917 (numba has no keyword-only arguments)
    home: np.ndarray,
    space: np.ndarray,
    dist_m: np.ndarray,
    kind: np.ndarray,
    n_homes: int,
    n_kinds: int,
    radius_m: float,
    beta_factor: float,
) -> np.ndarray:  # pragma: no cover - compiled
    r"""Per home and type, :math:`\sum_s e^{-\beta d_{is}}` over the rows within the radius."""
    out = np.zeros((n_homes, n_kinds))
    for row in range(home.size):
        if dist_m[row] <= radius_m:
            out[home[row], kind[space[row]]] += np.exp(-beta_factor / radius_m * dist_m[row])
    return out
