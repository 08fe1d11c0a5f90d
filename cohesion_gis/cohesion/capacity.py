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

__all__ = ["capacity", "e2sfca", "zone_weight"]


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
    competing = np.bincount(space, weights=demand[home] * weight, minlength=supply.size)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(competing > 0, supply / competing, np.nan)
    per_home = np.bincount(
        home, weights=np.nan_to_num(ratio[space]) * weight, minlength=demand.size
    )
    return per_home, ratio


def capacity(reach: Reach, params: CohesionParams) -> tuple[pd.DataFrame, pd.Series]:
    r"""Capacity per home and supply per space.

    Returns
    -------
    homes, supply
        Per home ``capacity_m2_per_person`` (:math:`Q_i`) and ``capacity``
        (:math:`\hat Q_i`, 0–1); per space ``supply_m2_per_person`` (:math:`R_s`).
    """
    spaces = reach.spaces
    eligible = spaces["space_type"].isin(params.capacity_space_types).to_numpy()
    supply = np.where(eligible, spaces["size_m2"].to_numpy(), 0.0)
    rows = reach.table.loc[eligible[reach.table["space"].to_numpy()]]
    weight = zone_weight(
        rows["dist_m"].to_numpy(), params.capacity_zone_limits_m, params.capacity_zone_weights
    )
    per_home, ratio = e2sfca(
        rows["home"].to_numpy(),
        rows["space"].to_numpy(),
        weight,
        reach.homes["population"].to_numpy(dtype=float),
        supply,
    )
    homes = pd.DataFrame(
        {
            "capacity_m2_per_person": per_home,
            "capacity": np.minimum(1.0, per_home / params.capacity_benchmark_m2_per_person),
        },
        index=reach.homes.index,
    )
    return homes, pd.Series(
        np.where(eligible, ratio, np.nan), index=spaces.index, name="supply_m2_per_person"
    )
