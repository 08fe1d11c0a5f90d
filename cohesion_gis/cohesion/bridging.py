r"""Bridging: whether the spaces a home reaches draw a mix of the city's resident groups.

Groups are real data only: the homes' ``pop_<group>`` columns (from a table of group shares per
district or small area, or per home; ``load_city(groups=...)``). Districts are never used as
stand-in groups: that measures the district boundaries, not social mix (re-drawing Helsinki's
districts as 250 m cells gave a ranking with Spearman ρ ≈ −0.03 against the admin one). Without
group data bridging is **not available**: NaN everywhere, and the composite re-weights the other
components (:func:`~cohesion_gis.cohesion.score.composite`).

For each contact space :math:`s`, its potential users are the residents within its catchment
radius :math:`r_s`, weighted by distance: :math:`P_{sg} = \sum_i n_{ig} e^{-\beta d_{is}}` for
:math:`d_{is} \le r_s` (:math:`\beta = 4/r_s`), with shares :math:`p_{sg} = P_{sg}/\sum_g P_{sg}`.
Homes whose group counts are missing (NaN, e.g. a home outside every district) or negative are
left out of every catchment's mix (counted in ``catchment_unknown_persons``); they never spread a
NaN to other homes. The space's mix is, by ``bridging.index``:

.. math:: B_s = \min\Big(1, \frac{H_s}{H_{city}}\Big), \quad H = -\sum_g p_g \ln p_g
          \qquad \text{(entropy\_ratio, relative to the city)}

.. math:: B_s = \frac{1 - \sum_g p_{sg}^2}{1 - 1/G} \qquad \text{(simpson, absolute: comparable
          across cities)}

A home's bridging is its best-mixed space within reach (reference §B.3), credited as access is:
in full within the standard distance of the space's category and linearly less beyond it,

.. math:: B_i = \max_{s:\, d_{is} \le r_s} g_s(d_{is})\, B_s \qquad (0 \text{ if none})

with :math:`g_s` the access credit (:func:`~cohesion_gis.cohesion.access.coverage_credit`, the
same compiled function) of the space's category (``d_full`` to ``d_max``; the best of its
categories; a park too small for any uses its type's loosest standard). A perfectly mixed park
200 m away thus gives 1, not the :math:`e^{-4 \cdot 200/800} = 0.37` of the catchment weight:
that weight estimates who uses a space (its mix), not whether a home is served by it.

A maximum can never fall when a space is added (each space's mix depends only on the homes
around it, not on other spaces), so a new playground cannot lower anyone's bridging; a weighted
mean could, and did (−0.66 points for Kamppi from a new playground).

References
----------
Theil, H. (1972) *Statistical Decomposition Analysis*. Simpson, E. H. (1949) Measurement of
diversity, *Nature* 163, 688. Peters, Elands & Buijs (2010) Social interactions in urban parks,
*Urban Forestry & Urban Greening* 9(2), 93-100. Nilforoshan et al. (2023) Human mobility networks
reveal increased segregation in large cities, *Nature* 624.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numba import njit

from cohesion_gis.cohesion.access import coverage_credit
from cohesion_gis.cohesion.params import BRIDGING_INDICES, CohesionParams
from cohesion_gis.cohesion.reach import Reach

__all__ = [
    "BRIDGING_INDICES",
    "SAME_SHARES_FLAG",
    "bridging",
    "entropy",
    "group_columns",
    "group_reason",
    "home_bridging",
    "same_shares_everywhere",
    "space_bridging",
    "standard_distances_m",
]

#: Most groups reported as ``share_<group>`` columns of the spaces table.
MAX_SHARE_COLUMNS = 30

#: Why bridging is NaN, in the words every output repeats.
NOT_AVAILABLE = (
    "bridging not available: no resident-group data were given (load_city(groups=...)); "
    "districts are never used as stand-in groups"
)


def entropy(shares: np.ndarray) -> np.ndarray:
    """Shannon entropy (natural log) of each row of ``shares``."""
    shares = np.asarray(shares, dtype=float)
    logs = np.log(np.where(shares > 0, shares, 1.0))
    return -(shares * logs).sum(axis=-1)


def group_columns(homes: pd.DataFrame) -> pd.DataFrame | None:
    """Residents per group per home from the ``pop_<group>`` columns, or None without them."""
    columns = [c for c in homes.columns if c.startswith("pop_")]
    if not columns:
        return None
    return homes[columns].rename(columns=lambda c: c.removeprefix("pop_")).astype(float)


#: The flag of every district when every home has the same group shares (planner review 9: a
#: notebook's national shares given to each quartier lifted every score 10-22 points unflagged).
#: The maps look for its start (``maps.cohesion.SAME_SHARES_MARK``): keep the two in step.
SAME_SHARES_FLAG = (
    "group shares the same in every home: every space draws the city's own mix, so mixing of "
    "residents scores full marks everywhere and tells districts nothing"
)


def same_shares_everywhere(counts: pd.DataFrame) -> bool:
    """Whether every home with known groups and residents has the same group shares (to 1e-9).

    Then every space's mix is the city's mix and bridging is 1 everywhere: the group data say
    nothing about mixing (e.g. national shares given to every district).
    """
    values = counts.to_numpy(dtype=float)
    total = values.sum(axis=1)
    usable = _known(counts) & (total > 0)
    if usable.sum() < 2:
        return False
    shares = values[usable] / total[usable, None]
    return bool((shares.max(axis=0) - shares.min(axis=0)).max() <= 1e-9)


def _known(counts: pd.DataFrame) -> np.ndarray:
    """Homes whose group counts are all present and non-negative (none without groups)."""
    values = counts.to_numpy(dtype=float)
    known = np.isfinite(values).all(axis=1) & (values >= 0).all(axis=1)
    return known & (values.shape[1] > 0)


def group_reason(homes: pd.DataFrame) -> pd.Series | None:
    """Per home, why its group counts are unusable (empty when usable); None without groups."""
    counts = group_columns(homes)
    if counts is None:
        return None
    values = counts.to_numpy(dtype=float)
    reason = np.full(len(homes), "", dtype=object)
    reason[(values < 0).any(axis=1)] = "negative group counts: left out of every space's mix"
    missing = np.isnan(values).any(axis=1)
    reason[missing] = "no group data for this home: left out of every space's mix"
    if "district_id" in homes:
        outside = missing & homes["district_id"].isna().to_numpy()
        reason[outside] = "outside every district, so no group shares: left out of every mix"
    if "in_study_area" in homes:  # read with the study area: the group table covers districts
        buffer = missing & ~homes["in_study_area"].fillna(True).astype(bool).to_numpy()
        reason[buffer] = (
            "in the buffer around the study area, which no group data cover: left out of every mix"
        )
    return pd.Series(reason, index=homes.index, name="group_reason")


def _users(reach: Reach, params: CohesionParams, counts: pd.DataFrame) -> np.ndarray:
    """Distance-weighted users of each space per group; the last column: persons of unknown group.

    Each home's residents are given as a list of (group, count), ``ptr[i]:ptr[i + 1]`` for home
    ``i``.
    """
    known = _known(counts)
    value = np.where(known[:, None], counts.to_numpy(dtype=float), 0.0)
    unknown = np.where(known, 0.0, reach.homes["population"].to_numpy(dtype=float))
    value = np.column_stack([value, unknown])
    n_homes, n_groups = value.shape
    return _user_sums(
        *reach.columns(),
        _catchment_radius_m(reach.spaces, params),
        float(params.decay_beta_factor),
        np.arange(0, n_homes * n_groups + 1, n_groups, dtype=np.int64),
        np.tile(np.arange(n_groups, dtype=np.int64), n_homes),
        np.ascontiguousarray(value.ravel(), dtype=np.float64),
        n_groups,
    )


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
    """Per space ``B_s``: how mixed the residents of known group within its catchment are (0–1).

    ``reach`` must hold every home (the catchments and the city's mix are read from it).

    Returns
    -------
    pandas.DataFrame
        Indexed like ``reach.spaces``: ``bridging`` (0–1, NaN with a reason in
        ``bridging_reason``), ``catchment_persons`` (distance-weighted potential users),
        ``catchment_unknown_persons`` (of them, persons of unknown group), ``catchment_radius_m``
        and ``share_<group>`` columns (left out beyond :data:`MAX_SHARE_COLUMNS` groups).
    """
    radius = _catchment_radius_m(reach.spaces, params)
    counts = group_columns(reach.homes)
    if counts is None:
        # no groups: the catchment is still reported (persons of unknown group, all of them)
        counts = pd.DataFrame(index=reach.homes.index)
    users = _users(reach, params, counts)
    known_users, unknown_users = users[:, :-1], users[:, -1]
    total = known_users.sum(axis=1)
    table = pd.DataFrame(
        {
            "bridging": np.nan,
            "bridging_reason": NOT_AVAILABLE,
            "catchment_persons": total + unknown_users,
            "catchment_unknown_persons": unknown_users,
            "catchment_radius_m": radius,
        },
        index=reach.spaces.index,
    )
    if counts.shape[1] == 0:
        return table
    shares = np.divide(
        known_users, total[:, None], out=np.zeros_like(known_users), where=total[:, None] > 0
    )
    city = counts.to_numpy(dtype=float)[_known(counts)].sum(axis=0)
    b_space, city_reason = _mix(shares, city, params.bridging_index)
    reason = np.where(total > 0, "", "no resident of known group within its catchment").astype(
        object
    )
    if city_reason:
        reason[:] = city_reason
    table["bridging"] = np.where(reason == "", b_space, np.nan)
    table["bridging_reason"] = reason
    if counts.shape[1] <= MAX_SHARE_COLUMNS:
        for k, name in enumerate(counts.columns):
            table[f"share_{name}"] = np.where(total > 0, shares[:, k], np.nan)
    return table


def _mix(shares: np.ndarray, city: np.ndarray, index: str) -> tuple[np.ndarray, str]:
    """``B_s`` of each row of shares, and a reason when the city's own mix makes it undefined."""
    present = int((city > 0).sum())
    if present < 2:
        return np.full(len(shares), np.nan), (
            f"the study area holds {present} resident group(s): mixing needs at least 2"
        )
    if index == "simpson":
        return (1.0 - (shares**2).sum(axis=1)) / (1.0 - 1.0 / present), ""
    h_city = float(entropy(city / city.sum()))
    return np.clip(entropy(shares) / h_city, 0.0, 1.0), ""


def home_bridging(reach: Reach, params: CohesionParams, space_b: np.ndarray) -> pd.Series:
    """Per home ``B_i``: its best-mixed space within reach, credited by its access standard.

    Parameters
    ----------
    reach
        The table; may hold only some homes (incremental rescoring).
    space_b
        ``B_s`` of every space of ``reach.spaces`` (:func:`space_bridging`); NaN spaces count
        for nothing.

    Returns
    -------
    pandas.Series
        ``bridging`` (0–1; 0 for a home that reaches no space of known mix; NaN everywhere
        without group data), indexed like ``reach.homes``.
    """
    if group_columns(reach.homes) is None:
        return pd.Series(np.nan, index=reach.homes.index, name="bridging")
    d_full_m, d_max_m = standard_distances_m(reach.spaces, params)
    best = _home_best(
        *reach.columns(),
        _catchment_radius_m(reach.spaces, params),
        d_full_m,
        d_max_m,
        np.asarray(space_b, dtype=np.float64),
        len(reach.homes),
    )
    return pd.Series(best, index=reach.homes.index, name="bridging")


def standard_distances_m(
    spaces: pd.DataFrame, params: CohesionParams
) -> tuple[np.ndarray, np.ndarray]:
    """Per space, the full-credit and cut-off distances (m) of its access standard.

    The most generous of the access categories that count it (type and size); a space too small
    for every category of its type takes the standard of its type's smallest-size category (a
    0.2 ha park: the local green space's 300 / 800 m); a type in no category is credited from 1
    at the door to 0 at its catchment radius.
    """
    kind = spaces["space_type"].to_numpy()
    area = spaces["area_m2"].to_numpy(dtype=float)
    d_full = np.full(len(spaces), -np.inf)
    d_max = np.full(len(spaces), -np.inf)
    for cat in params.access:
        counts = np.isin(kind, cat.space_types) & (area >= cat.min_area_m2)
        d_full = np.where(counts, np.maximum(d_full, cat.d_full_m), d_full)
        d_max = np.where(counts, np.maximum(d_max, cat.d_max_m), d_max)
    for cat in sorted(params.access, key=lambda c: c.min_area_m2):  # the smallest size first
        small = np.isinf(d_max) & np.isin(kind, cat.space_types)
        d_full = np.where(small, cat.d_full_m, d_full)
        d_max = np.where(small, cat.d_max_m, d_max)
    untyped = np.isinf(d_max)
    d_full[untyped] = 0.0
    d_max[untyped] = _catchment_radius_m(spaces, params)[untyped]
    return d_full.astype(np.float64), d_max.astype(np.float64)


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
def _home_best(  # noqa: PLR0917 (numba has no keyword-only arguments)
    home: np.ndarray,
    space: np.ndarray,
    dist_m: np.ndarray,
    radius_m: np.ndarray,
    d_full_m: np.ndarray,
    d_max_m: np.ndarray,
    space_b: np.ndarray,
    n_homes: int,
) -> np.ndarray:  # pragma: no cover - compiled
    r"""Per home :math:`\max_s g_s(d_{is}) B_s` over the rows within each catchment."""
    best = np.zeros(n_homes)
    for row in range(home.size):
        s = space[row]
        d = dist_m[row]
        if d <= radius_m[s] and d <= d_max_m[s] and not np.isnan(space_b[s]):
            credit = coverage_credit(d, d_full_m[s], d_max_m[s])  # the access credit
            best[home[row]] = max(best[home[row]], space_b[s] * credit)
    return best
