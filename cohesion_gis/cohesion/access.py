r"""Access: how much of the contact-space menu each home covers within standard walking distances.

For category :math:`k` (playground, local green space, library...) with full-credit distance
:math:`d_{full}` and cut-off :math:`d_{max}`, a space at network distance :math:`d` gives

.. math:: g_k(d) = \begin{cases} 1 & d \le d_{full} \\
          \dfrac{d_{max} - d}{d_{max} - d_{full}} & d_{full} < d \le d_{max} \\
          0 & d > d_{max} \end{cases}

and a home's access is the mean over categories of its best space,
:math:`A_i = \frac{1}{|K|}\sum_k \max_{s \in k} g_k(d_{is})`, on a fixed scale: 1 means every
category within its standard, whatever the rest of the city has.

References
----------
Fields in Trust (2008, 2015) play and sport standards; WHO Europe (2016) *Urban green spaces and
health*; Natural England ANGSt. See ``cohesion_gis/defaults/cohesion.toml``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numba import njit

from cohesion_gis.cohesion.params import CohesionParams
from cohesion_gis.cohesion.reach import Reach

__all__ = ["access", "coverage_credit", "eligible_spaces"]


@njit(cache=True, nogil=True)
def coverage_credit(dist_m: float, d_full_m: float, d_max_m: float) -> float:  # pragma: no cover
    """Linear-decay credit :math:`g(d)` of a space ``dist_m`` metres away (1 near, 0 beyond).

    The one implementation of :math:`g`, compiled: the access and bridging passes call it for
    every row; ``tests/cohesion/test_access.py`` checks it against a plain NumPy reference.

    Examples
    --------
    >>> [coverage_credit(d, 400.0, 1000.0) for d in (0.0, 400.0, 700.0, 1000.0, 1500.0)]
    [1.0, 1.0, 0.5, 0.0, 0.0]
    """
    g = (d_max_m - dist_m) / (d_max_m - d_full_m)
    return min(max(g, 0.0), 1.0)


def eligible_spaces(spaces: pd.DataFrame, params: CohesionParams) -> np.ndarray:
    """Which spaces count for which access category: bool ``(n_spaces, n_categories)``.

    A space counts when its ``space_type`` is one of the category's and its ``area_m2`` is at
    least the category's ``min_area_m2``.
    """
    kind = spaces["space_type"].to_numpy()
    area = spaces["area_m2"].to_numpy(dtype=float)
    return np.column_stack(
        [np.isin(kind, c.space_types) & (area >= c.min_area_m2) for c in params.access]
        or [np.zeros(len(kind), dtype=bool)]
    )


def access(reach: Reach, params: CohesionParams) -> pd.DataFrame:
    """Per home: ``access_<category>`` (best coverage, 0–1) and ``access`` (their mean).

    Returns
    -------
    pandas.DataFrame
        Indexed like ``reach.homes``; NaN for a home off the network (no walkable edge within
        ``max_snap_m``), which is not measured rather than served by nothing.
    """
    kind = reach.spaces["space_type"].to_numpy()
    eligible = eligible_spaces(reach.spaces, params)
    space_of, category = np.nonzero(eligible)  # by space, then category
    best = _best_coverage(
        *reach.columns(),
        np.searchsorted(space_of, np.arange(len(kind) + 1)),
        category,
        eligible.shape[1],
        np.array([c.d_full_m for c in params.access], dtype=np.float64),
        np.array([c.d_max_m for c in params.access], dtype=np.float64),
        len(reach.homes),
    )
    names = [f"access_{c.name}" for c in params.access]
    frame = pd.DataFrame(best[:, : len(names)], index=reach.homes.index, columns=names)
    frame["access"] = frame.mean(axis=1) if names else 0.0
    frame.loc[reach.homes["snap_m"].isna().to_numpy()] = np.nan  # reaches nothing: not measured
    return frame


@njit(cache=True, nogil=True)
def _best_coverage(  # noqa: PLR0917 (numba has no keyword-only arguments)
    home: np.ndarray,
    space: np.ndarray,
    dist_m: np.ndarray,
    category_ptr: np.ndarray,
    category: np.ndarray,
    n_categories: int,
    d_full_m: np.ndarray,
    d_max_m: np.ndarray,
    n_homes: int,
) -> np.ndarray:  # pragma: no cover - compiled; checked against a groupby in the tests
    """Best :func:`coverage_credit` per home and category, in one pass over the table's rows.

    Space ``s`` counts for categories ``category[category_ptr[s]:category_ptr[s + 1]]``.
    """
    best = np.zeros((n_homes, n_categories))
    for row in range(home.size):
        for k in range(category_ptr[space[row]], category_ptr[space[row] + 1]):
            cat = category[k]
            if dist_m[row] <= d_max_m[cat]:
                g = coverage_credit(dist_m[row], d_full_m[cat], d_max_m[cat])
                best[home[row], cat] = max(best[home[row], cat], g)
    return best
