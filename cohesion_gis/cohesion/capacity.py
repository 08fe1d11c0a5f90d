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

from cohesion_gis.cohesion.params import CohesionParams
from cohesion_gis.cohesion.reach import Reach

__all__ = [
    "accessible_supply",
    "capacity",
    "e2sfca",
    "home_capacity",
    "space_supply",
    "supply_ratio",
    "zone_weight",
]


def zone_weight(
    dist_m: np.ndarray, limits_m: tuple[float, ...], weights: tuple[float, ...]
) -> np.ndarray:
    """Step weight of each distance: ``weights[k]`` within ``limits_m[k]``, 0 beyond the last."""
    dist_m = np.asarray(dist_m, dtype=float)
    zone = np.searchsorted(np.asarray(limits_m), dist_m, side="left")
    table = np.append(np.asarray(weights, dtype=float), 0.0)
    return table[zone]


def e2sfca(
    home: np.ndarray,
    space: np.ndarray,
    weight: np.ndarray,
    demand: np.ndarray,
    supply: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Both steps of the E2SFCA on a sparse (home, space, weight) list.

    Returns
    -------
    per_home, ratio
        Accessible supply per home :math:`Q_i` and supply ratio per space :math:`R_s`
        (NaN where nobody competes for the space).
    """
    ratio = supply_ratio(home, space, weight, demand, supply)
    return accessible_supply(home, space, weight, ratio, demand.size), ratio


def supply_ratio(
    home: np.ndarray,
    space: np.ndarray,
    weight: np.ndarray,
    demand: np.ndarray,
    supply: np.ndarray,
) -> np.ndarray:
    """Step 1: :math:`R_s`, supply over weighted competing demand (NaN where nobody competes)."""
    competing = np.bincount(space, weights=demand[home] * weight, minlength=supply.size)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(competing > 0, supply / competing, np.nan)


def accessible_supply(
    home: np.ndarray, space: np.ndarray, weight: np.ndarray, ratio: np.ndarray, n_homes: int
) -> np.ndarray:
    r"""Step 2: :math:`Q_i = \sum_s R_s W(d_{is})` per home (m² per person)."""
    return np.bincount(home, weights=np.nan_to_num(ratio[space]) * weight, minlength=n_homes)


def capacity(reach: Reach, params: CohesionParams) -> tuple[pd.DataFrame, pd.Series]:
    """Capacity per home (:func:`home_capacity`) and supply per space (:func:`space_supply`)."""
    rows = _weighted_rows(reach, params)
    supply = _supply(reach, rows)
    return _per_home(reach, rows, supply.to_numpy(), params), supply


def space_supply(reach: Reach, params: CohesionParams) -> pd.Series:
    """Per space ``supply_m2_per_person`` (:math:`R_s`; NaN for types that do not count).

    ``reach`` must hold every home (the competing demand is read from it).
    """
    return _supply(reach, _weighted_rows(reach, params))


def home_capacity(reach: Reach, params: CohesionParams, ratio: np.ndarray) -> pd.DataFrame:
    r"""Per home ``capacity_m2_per_person`` (:math:`Q_i`) and ``capacity`` (:math:`\hat Q_i`, 0–1).

    Parameters
    ----------
    reach
        The table; may hold only some homes (incremental rescoring).
    ratio
        :math:`R_s` of every space of ``reach.spaces`` (:func:`space_supply`).
    """
    return _per_home(reach, _weighted_rows(reach, params), ratio, params)


#: Which spaces count, and home, space and zone weight of the rows that reach them.
_Rows = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def _supply(reach: Reach, rows: _Rows) -> pd.Series:
    eligible, home, space, weight = rows
    supply = np.where(eligible, reach.spaces["size_m2"].to_numpy(), 0.0)
    demand = reach.homes["population"].to_numpy(dtype=float)
    ratio = supply_ratio(home, space, weight, demand, supply)
    return pd.Series(
        np.where(eligible, ratio, np.nan), index=reach.spaces.index, name="supply_m2_per_person"
    )


def _per_home(reach: Reach, rows: _Rows, ratio: np.ndarray, params: CohesionParams) -> pd.DataFrame:
    _, home, space, weight = rows
    per_home = accessible_supply(home, space, weight, np.asarray(ratio), len(reach.homes))
    return pd.DataFrame(
        {
            "capacity_m2_per_person": per_home,
            "capacity": np.minimum(1.0, per_home / params.capacity_benchmark_m2_per_person),
        },
        index=reach.homes.index,
    )


def _weighted_rows(reach: Reach, params: CohesionParams) -> _Rows:
    eligible = reach.spaces["space_type"].isin(params.capacity_space_types).to_numpy()
    space = reach.table["space"].to_numpy()
    rows = eligible[space]
    weight = zone_weight(
        reach.table["dist_m"].to_numpy()[rows],
        params.capacity_zone_limits_m,
        params.capacity_zone_weights,
    )
    return eligible, reach.table["home"].to_numpy()[rows], space[rows], weight
