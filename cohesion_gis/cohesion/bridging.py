r"""Bridging: whether the spaces a home reaches draw a mix of the city's communities.

For each contact space :math:`s`, its potential users are the residents within its catchment
radius :math:`r_s`, weighted by distance: :math:`P_{sg} = \sum_i n_{ig} e^{-\beta d_{is}}` for
:math:`d_{is} \le r_s` (:math:`\beta = 4/r_s`), with shares :math:`p_{sg} = P_{sg}/\sum_g P_{sg}`.
The space bridges communities as much as its users are mixed relative to the city:

.. math:: B_s = \min\Big(1, \frac{H_s}{H_{city}}\Big), \qquad H = -\sum_g p_g \ln p_g

(the local form of Theil's information index; PySAL segregation's ``MultiLocalEntropy``).
A home's bridging is the mean over the spaces it reaches, weighted by distance and by
:math:`\sqrt{\text{size}}` so very large parks do not swamp the rest:

.. math:: B_i = \frac{\sum_s e^{-\beta d_{is}} \sqrt{c_s} B_s}{\sum_s e^{-\beta d_{is}} \sqrt{c_s}}

and 0 when it reaches none. Groups are the ``pop_<group>`` columns of the homes (e.g. long-term
residents and new arrivals); without them, the home districts stand in for communities, so
bridging then says whether a space draws from several districts or serves one.

References
----------
Theil, H. (1972) *Statistical Decomposition Analysis*. Peters, Elands & Buijs (2010) Social
interactions in urban parks, *Urban Forestry & Urban Greening* 9(2), 93-100. Nilforoshan et al.
(2023) Human mobility networks reveal increased segregation in large cities, *Nature* 624.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cohesion_gis.cohesion.params import CohesionParams
from cohesion_gis.cohesion.reach import Reach

__all__ = ["bridging", "entropy", "group_counts"]


def entropy(shares: np.ndarray) -> np.ndarray:
    """Shannon entropy (natural log) of each row of ``shares``."""
    shares = np.asarray(shares, dtype=float)
    logs = np.log(np.where(shares > 0, shares, 1.0))
    return -(shares * logs).sum(axis=-1)


def group_counts(homes: pd.DataFrame) -> pd.DataFrame:
    """Residents per group per home: the ``pop_<group>`` columns, else one group per district."""
    columns = [c for c in homes.columns if c.startswith("pop_")]
    if columns:
        return homes[columns].rename(columns=lambda c: c.removeprefix("pop_")).astype(float)
    district = homes["district_id"].fillna("(outside districts)")
    return (
        pd.crosstab(homes.index, district, values=homes["population"], aggfunc="sum")
        .reindex(homes.index)
        .fillna(0.0)
    )


def bridging(reach: Reach, params: CohesionParams) -> tuple[pd.Series, pd.DataFrame]:
    """Per home bridging ``B_i`` and per space ``B_s`` with its catchment.

    Returns
    -------
    homes
        Series ``bridging`` (0–1) indexed like ``reach.homes``.
    spaces
        Indexed like ``reach.spaces``: ``bridging`` (0–1, NaN for a space nobody reaches),
        ``catchment_persons`` (distance-weighted potential users), ``catchment_radius_m`` and
        ``share_<group>`` columns.
    """
    counts = group_counts(reach.homes)
    spaces = reach.spaces
    radius = np.where(
        spaces["space_type"].isin(params.bridging_wide_types)
        | (spaces["area_m2"] >= params.bridging_wide_min_area_m2),
        params.bridging_wide_radius_m,
        params.bridging_radius_m,
    )
    table = reach.table
    space_radius = radius[table["space"].to_numpy()]
    rows = table.loc[table["dist_m"].to_numpy() <= space_radius]
    r = radius[rows["space"].to_numpy()]
    weight = np.exp(-params.decay_beta_factor / r * rows["dist_m"].to_numpy())
    users = np.zeros((len(spaces), counts.shape[1]))
    np.add.at(users, rows["space"].to_numpy(), weight[:, None] * counts.to_numpy()[rows["home"]])
    total = users.sum(axis=1)
    shares = np.divide(users, total[:, None], out=np.zeros_like(users), where=total[:, None] > 0)
    city_shares = counts.sum().to_numpy() / max(counts.to_numpy().sum(), 1e-12)
    h_city = float(entropy(city_shares))
    with np.errstate(invalid="ignore", divide="ignore"):
        b_space = np.where(total > 0, np.clip(entropy(shares) / h_city, 0.0, 1.0), np.nan)
    space_table = pd.DataFrame(
        {"bridging": b_space, "catchment_persons": total, "catchment_radius_m": radius},
        index=spaces.index,
    )
    for k, name in enumerate(counts.columns):
        space_table[f"share_{name}"] = shares[:, k]
    size_weight = np.sqrt(spaces["size_m2"].to_numpy()[rows["space"].to_numpy()]) * weight
    b_rows = np.nan_to_num(b_space[rows["space"].to_numpy()])
    at = rows["home"].to_numpy()
    num = np.bincount(at, weights=size_weight * b_rows, minlength=len(reach.homes)).astype(float)
    den = np.bincount(at, weights=size_weight, minlength=len(reach.homes)).astype(float)
    home = np.divide(num, den, out=np.zeros_like(num), where=den > 0)
    return pd.Series(home, index=reach.homes.index, name="bridging"), space_table
