r"""Capacity: open space per resident who competes for it (enhanced two-step floating catchment).

With step weights :math:`W(d)` over walking zones (1 / 0.68 / 0.22 for 0–400 / 400–800 /
800–1,200 m, Luo & Qi's E2SFCA weights adapted to walking), each space's supply ratio and each
home's accessible supply are

.. math:: R_s = \frac{c_s}{\sum_i n_i W(d_{is})}, \qquad Q_i = \sum_s R_s W(d_{is}),
          \qquad \hat Q_i = \min\Big(1, \frac{Q_i}{30\ \text{m}^2}\Big)

where :math:`c_s` is the space's area (m²) and 30 m² per resident is Natural England's 3 ha of
accessible greenspace per 1,000 residents. Both steps use the same weights (the E2SFCA form;
PySAL ``access`` shipped a one-sided version before its fix).

References
----------
Luo, W. & Qi, Y. (2009) An enhanced two-step floating catchment area (E2SFCA) method.
*Health & Place* 15(4), 1100-1107. doi:10.1016/j.healthplace.2009.06.002.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numba import njit

from cohesion_gis.cohesion.params import CohesionParams
from cohesion_gis.cohesion.reach import Reach

__all__ = ["capacity", "home_capacity", "space_supply", "step_weight"]


@njit(cache=True, nogil=True)
def step_weight(
    dist_m: float, limits_m: np.ndarray, weights: np.ndarray
) -> float:  # pragma: no cover - compiled
    """Step weight :math:`W(d)` of a distance (m): ``weights[k]`` within ``limits_m[k]``, 0 beyond.

    The one implementation of :math:`W`, compiled: both E2SFCA passes call it for every row;
    ``tests/cohesion/test_capacity.py`` checks it against a plain NumPy reference and the passes
    against PySAL ``access``.

    Examples
    --------
    >>> limits, weights = np.array([400.0, 800.0, 1200.0]), np.array([1.0, 0.68, 0.22])
    >>> [step_weight(d, limits, weights) for d in (0.0, 400.0, 401.0, 1300.0)]
    [1.0, 1.0, 0.68, 0.0]
    """
    for k in range(limits_m.size):
        if dist_m <= limits_m[k]:
            return weights[k]
    return 0.0


def capacity(reach: Reach, params: CohesionParams) -> tuple[pd.DataFrame, pd.Series]:
    """Capacity per home (:func:`home_capacity`) and supply per space (:func:`space_supply`)."""
    supply = space_supply(reach, params)
    return home_capacity(reach, params, supply.to_numpy()), supply


def space_supply(reach: Reach, params: CohesionParams) -> pd.Series:
    """Per space ``supply_m2_per_person`` (:math:`R_s`; NaN for types that do not count).

    ``reach`` must hold every home (the competing demand is read from it).
    """
    eligible = _eligible(reach, params)
    home, space, dist_m = reach.columns()
    competing = _zone_sums(
        space, space, home, dist_m, eligible, *_zones(params),
        reach.homes["population"].to_numpy(dtype=np.float64), len(reach.spaces),
    )  # fmt: skip
    supply = np.where(eligible, reach.spaces["size_m2"].to_numpy(), 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(eligible & (competing > 0), supply / competing, np.nan)
    return pd.Series(ratio, index=reach.spaces.index, name="supply_m2_per_person")


def home_capacity(reach: Reach, params: CohesionParams, ratio: np.ndarray) -> pd.DataFrame:
    r"""Per home ``capacity_m2_per_person`` (:math:`Q_i`) and ``capacity`` (:math:`\hat Q_i`, 0–1).

    Parameters
    ----------
    reach
        The table; may hold only some homes (incremental rescoring).
    ratio
        :math:`R_s` of every space of ``reach.spaces`` (:func:`space_supply`).
    """
    home, space, dist_m = reach.columns()
    per_home = _zone_sums(
        space, home, space, dist_m, _eligible(reach, params), *_zones(params),
        np.nan_to_num(np.asarray(ratio, dtype=np.float64)), len(reach.homes),
    )  # fmt: skip
    return pd.DataFrame(
        {
            "capacity_m2_per_person": per_home,
            "capacity": np.minimum(1.0, per_home / params.capacity_benchmark_m2_per_person),
        },
        index=reach.homes.index,
    )


def _eligible(reach: Reach, params: CohesionParams) -> np.ndarray:
    """Which spaces count as open space."""
    return reach.spaces["space_type"].isin(params.capacity_space_types).to_numpy()


def _zones(params: CohesionParams) -> tuple[np.ndarray, np.ndarray]:
    """Zone limits (m) and their weights as the compiled passes take them."""
    return (
        np.asarray(params.capacity_zone_limits_m, dtype=np.float64),
        np.asarray(params.capacity_zone_weights, dtype=np.float64),
    )


@njit(cache=True, nogil=True)
def _zone_sums(  # noqa: PLR0917 (numba has no keyword-only arguments)
    space: np.ndarray,
    into: np.ndarray,
    read: np.ndarray,
    dist_m: np.ndarray,
    eligible: np.ndarray,
    limits_m: np.ndarray,
    weights: np.ndarray,
    value: np.ndarray,
    n_out: int,
) -> np.ndarray:  # pragma: no cover - compiled
    r""":math:`\sum value[read] \cdot W(d)` into ``into`` over the rows of open spaces.

    Step 1's competing demand is ``into=space, read=home, value=demand``; step 2's accessible
    supply ``into=home, read=space, value=ratio``.
    """
    out = np.zeros(n_out)
    for row in range(space.size):
        if eligible[space[row]]:
            out[into[row]] += value[read[row]] * step_weight(dist_m[row], limits_m, weights)
    return out
