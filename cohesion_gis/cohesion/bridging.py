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
from numba import njit

from cohesion_gis.cohesion.params import CohesionParams
from cohesion_gis.cohesion.reach import Reach

__all__ = ["bridging", "entropy", "group_columns", "home_bridging", "space_bridging"]


def entropy(shares: np.ndarray) -> np.ndarray:
    """Shannon entropy (natural log) of each row of ``shares``."""
    shares = np.asarray(shares, dtype=float)
    logs = np.log(np.where(shares > 0, shares, 1.0))
    return -(shares * logs).sum(axis=-1)


#: Most groups reported as ``share_<group>`` columns of the spaces table.
MAX_SHARE_COLUMNS = 30


def group_columns(homes: pd.DataFrame) -> pd.DataFrame | None:
    """Residents per group per home from the ``pop_<group>`` columns, or None without them."""
    columns = [c for c in homes.columns if c.startswith("pop_")]
    if not columns:
        return None
    return homes[columns].rename(columns=lambda c: c.removeprefix("pop_")).astype(float)


def _users(reach: Reach, params: CohesionParams) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Distance-weighted users of each space by group, and the city's residents by group.

    Groups are the ``pop_<group>`` columns, else the home districts (one group per home, so
    memory stays proportional to spaces × districts at metro scale). Each home's residents are
    given as a list of (group, count), ``ptr[i]:ptr[i + 1]`` for home ``i``.
    """
    homes = reach.homes
    columns = group_columns(homes)
    if columns is not None:
        counts = columns.to_numpy()
        n_homes, n_groups = counts.shape
        ptr = np.arange(0, n_homes * n_groups + 1, n_groups, dtype=np.int64)
        group = np.tile(np.arange(n_groups, dtype=np.int64), n_homes)
        value, names = counts.ravel(), list(columns.columns)
        totals = counts.sum(axis=0)
    else:
        district = pd.Categorical(homes["district_id"].fillna("(outside districts)"))
        group = district.codes.astype(np.int64)
        value = homes["population"].to_numpy(dtype=float)
        ptr = np.arange(len(homes) + 1, dtype=np.int64)
        n_groups, names = len(district.categories), [str(c) for c in district.categories]
        totals = np.bincount(group, weights=value, minlength=n_groups)
    users = _user_sums(
        *reach.columns(),
        _catchment_radius_m(reach.spaces, params),
        float(params.decay_beta_factor),
        ptr,
        group,
        np.ascontiguousarray(value, dtype=np.float64),
        n_groups,
    )
    return names, users, totals


def bridging(reach: Reach, params: CohesionParams) -> tuple[pd.Series, pd.DataFrame]:
    """Per home bridging ``B_i`` and per space ``B_s`` with its catchment.

    Returns
    -------
    homes
        :func:`home_bridging`.
    spaces
        :func:`space_bridging`.
    """
    spaces = space_bridging(reach, params)
    return home_bridging(reach, params, spaces["bridging"].to_numpy()), spaces


def space_bridging(reach: Reach, params: CohesionParams) -> pd.DataFrame:
    """Per space ``B_s``: how mixed the residents within its catchment are (0–1).

    ``reach`` must hold every home (the catchments and the city's mix are read from it).

    Returns
    -------
    pandas.DataFrame
        Indexed like ``reach.spaces``: ``bridging`` (0–1, NaN for a space nobody reaches),
        ``catchment_persons`` (distance-weighted potential users), ``catchment_radius_m`` and
        ``share_<group>`` columns (left out beyond :data:`MAX_SHARE_COLUMNS` groups, e.g. the
        hundreds of districts of a metropolitan area).
    """
    names, users, totals = _users(reach, params)
    total = users.sum(axis=1)
    shares = np.divide(users, total[:, None], out=np.zeros_like(users), where=total[:, None] > 0)
    h_city = float(entropy(totals / max(totals.sum(), 1e-12)))
    with np.errstate(invalid="ignore", divide="ignore"):
        b_space = np.where(total > 0, np.clip(entropy(shares) / h_city, 0.0, 1.0), np.nan)
    radius = _catchment_radius_m(reach.spaces, params)
    table = pd.DataFrame(
        {"bridging": b_space, "catchment_persons": total, "catchment_radius_m": radius},
        index=reach.spaces.index,
    )
    if len(names) <= MAX_SHARE_COLUMNS:
        for k, name in enumerate(names):
            table[f"share_{name}"] = shares[:, k]
    return table


def home_bridging(reach: Reach, params: CohesionParams, space_b: np.ndarray) -> pd.Series:
    """Per home ``B_i``: the distance- and size-weighted mean ``B_s`` of the spaces it reaches.

    Parameters
    ----------
    reach
        The table; may hold only some homes (incremental rescoring).
    space_b
        ``B_s`` of every space of ``reach.spaces`` (:func:`space_bridging`).

    Returns
    -------
    pandas.Series
        ``bridging`` (0–1, 0 for a home that reaches no space), indexed like ``reach.homes``.
    """
    num, den = _home_sums(
        *reach.columns(),
        _catchment_radius_m(reach.spaces, params),
        float(params.decay_beta_factor),
        np.sqrt(reach.spaces["size_m2"].to_numpy(dtype=np.float64)),
        np.nan_to_num(np.asarray(space_b, dtype=np.float64)),
        len(reach.homes),
    )
    home_b = np.divide(num, den, out=np.zeros_like(num), where=den > 0)
    return pd.Series(home_b, index=reach.homes.index, name="bridging")


def _catchment_radius_m(spaces: pd.DataFrame, params: CohesionParams) -> np.ndarray:
    """Each space's catchment radius (m): wide for large or city-wide types."""
    wide = spaces["space_type"].isin(params.bridging_wide_types) | (
        spaces["area_m2"] >= params.bridging_wide_min_area_m2
    )
    return np.where(wide, params.bridging_wide_radius_m, params.bridging_radius_m)


@njit(cache=True, nogil=True)
def _user_sums(  # noqa: PLR0917 (numba has no keyword-only arguments)
    home: np.ndarray,
    space: np.ndarray,
    dist_m: np.ndarray,
    radius_m: np.ndarray,
    beta_factor: float,
    ptr: np.ndarray,
    group: np.ndarray,
    value: np.ndarray,
    n_groups: int,
) -> np.ndarray:  # pragma: no cover - compiled
    r""":math:`P_{sg} = \sum_i n_{ig} e^{-\beta d_{is}}` over the rows within each catchment."""
    users = np.zeros((radius_m.size, n_groups))
    for row in range(home.size):
        s = space[row]
        if dist_m[row] <= radius_m[s]:
            weight = np.exp(-beta_factor / radius_m[s] * dist_m[row])
            for k in range(ptr[home[row]], ptr[home[row] + 1]):
                users[s, group[k]] += weight * value[k]
    return users


@njit(cache=True, nogil=True)
def _home_sums(  # noqa: PLR0917 (numba has no keyword-only arguments)
    home: np.ndarray,
    space: np.ndarray,
    dist_m: np.ndarray,
    radius_m: np.ndarray,
    beta_factor: float,
    sqrt_size: np.ndarray,
    space_b: np.ndarray,
    n_homes: int,
) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover - compiled
    r"""Per home :math:`\sum_s w_{is} B_s` and :math:`\sum_s w_{is}` (size and distance weights)."""
    num = np.zeros(n_homes)
    den = np.zeros(n_homes)
    for row in range(home.size):
        s = space[row]
        if dist_m[row] <= radius_m[s]:
            weight = sqrt_size[s] * np.exp(-beta_factor / radius_m[s] * dist_m[row])
            num[home[row]] += weight * space_b[s]
            den[home[row]] += weight
    return num, den
