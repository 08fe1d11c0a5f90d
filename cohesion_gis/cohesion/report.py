"""Headline figures of a cohesion result, as its summary JSON holds them."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from cohesion_gis.cohesion.score import COMPONENTS, CohesionResult

__all__ = ["summary"]


def summary(result: CohesionResult) -> dict[str, Any]:
    """Headline figures of a result, JSON-serialisable.

    Figures that do not exist (no district has residents, no sensitivity variants) are ``None``,
    and ``notes`` (with the result's own notes) says why.
    """
    d = result.districts
    scored = d.loc[d["population"] > 0].sort_values("score", ascending=False)
    gaps = d["group_gap"] if "group_gap" in d else pd.Series(np.nan, index=d.index)
    nulls = [
        reason
        for reason, missing in (
            ("no district has residents: mean score and component means are null", not len(scored)),
            (
                "no sensitivity variants were run: min_rank_correlation is null",
                not len(result.sensitivity),
            ),
            (
                "no gap between resident groups measured (no group data, or every home has its "
                "district's shares): largest_group_gap is null",
                not gaps.notna().any(),
            ),
        )
        if missing
    ]
    notes = {**result.notes, **({"summary": "; ".join(nulls)} if nulls else {})}
    return {
        "districts": len(d),
        "residents": float(d["population"].sum()),
        "mean_score": float(
            (scored["score"] * scored["population"]).sum() / scored["population"].sum()
        )
        if len(scored)
        else None,
        "best_district": scored["name"].iloc[0] if len(scored) else None,
        "worst_district": scored["name"].iloc[-1] if len(scored) else None,
        "component_means": {
            c: (float(scored[c].mean()) if scored[c].notna().any() else None)
            for c in (*COMPONENTS, "severance")
        },
        "bridging_available": bool(result.homes["bridging"].notna().any()),
        "lowest_p10_district": (
            d.loc[d["p10_score"].idxmin(), "name"] if d["p10_score"].notna().any() else None
        ),
        "largest_group_gap": _largest_gap(d, gaps),
        "spaces_reached_by_nobody": int((result.spaces["reached_by_persons"] <= 0).sum()),
        "spaces_not_counted": 0 if result.excluded_spaces is None else len(result.excluded_spaces),
        "min_rank_correlation": float(result.sensitivity["spearman_rho"].min())
        if len(result.sensitivity)
        else None,
        "notes": notes,
    }


def _largest_gap(districts: pd.DataFrame, gaps: pd.Series) -> dict[str, Any] | None:
    """The district with the largest gap between its best- and worst-served group, or None."""
    if not gaps.notna().any():
        return None
    row = districts.loc[gaps.idxmax()]
    return {
        "district": row["name"],
        "points": float(row["group_gap"]),
        "best_served": row["group_gap_high"],
        "worst_served": row["group_gap_low"],
    }
