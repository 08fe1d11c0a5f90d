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

from cohesion_gis.cohesion.params import CohesionParams
from cohesion_gis.cohesion.reach import Reach

__all__ = ["access", "coverage"]


def coverage(dist_m: np.ndarray, d_full_m: float, d_max_m: float) -> np.ndarray:
    """Linear-decay credit :math:`g(d)` of a space at ``dist_m`` metres (1 near, 0 beyond)."""
    dist_m = np.asarray(dist_m, dtype=float)
    return np.clip((d_max_m - dist_m) / (d_max_m - d_full_m), 0.0, 1.0)


def access(reach: Reach, params: CohesionParams) -> pd.DataFrame:
    """Per home: ``access_<category>`` (best coverage, 0–1) and ``access`` (their mean).

    Returns
    -------
    pandas.DataFrame
        Indexed like ``reach.homes``; homes off the network get 0.
    """
    n_homes = len(reach.homes)
    home, space, dist = (reach.table[c].to_numpy() for c in ("home", "space", "dist_m"))
    kind = reach.spaces["space_type"].to_numpy()
    area = reach.spaces["area_m2"].to_numpy(dtype=float)
    out = {}
    for cat in params.access:
        eligible = np.isin(kind, cat.space_types) & (area >= cat.min_area_m2)
        rows = eligible[space] & (dist <= cat.d_max_m)
        best = np.zeros(n_homes)
        np.maximum.at(best, home[rows], coverage(dist[rows], cat.d_full_m, cat.d_max_m))
        out[f"access_{cat.name}"] = best
    frame = pd.DataFrame(out, index=reach.homes.index)
    frame["access"] = frame.mean(axis=1) if out else 0.0
    return frame
