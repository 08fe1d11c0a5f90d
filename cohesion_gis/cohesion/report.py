"""Writing a cohesion result: GeoPackage, CSV tables and a summary JSON, with provenance."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from cohesion_gis.cohesion.score import COMPONENTS, CohesionResult
from cohesion_gis.export import write_csv, write_geopackage, write_json

__all__ = ["summary", "write_scores"]


def summary(result: CohesionResult) -> dict[str, Any]:
    """Headline figures of a result, JSON-serialisable."""
    d = result.districts
    scored = d.loc[d["population"] > 0].sort_values("score", ascending=False)
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
        "spaces_reached_by_nobody": int((result.spaces["reached_by_persons"] <= 0).sum()),
        "spaces_not_counted": 0 if result.excluded_spaces is None else len(result.excluded_spaces),
        "notes": dict(result.notes),
        "min_rank_correlation": float(result.sensitivity["spearman_rho"].min())
        if len(result.sensitivity)
        else None,
    }


def write_scores(
    result: CohesionResult,
    out_dir: str | Path,
    *,
    provenance: dict[str, Any],
    stem: str = "cohesion",
    overwrite: bool = False,
) -> list[Path]:
    """Write ``<stem>.gpkg``, CSV tables and a summary JSON.

    The GeoPackage holds districts, homes, spaces, sensitivity and (when any) excluded spaces.

    Tables are in the City's metric CRS; CSVs have no geometry.
    """
    out = Path(out_dir)
    metadata = {
        **provenance,
        "analysis": "contact-space cohesion score",
        "cohesion_parameters": dataclasses.asdict(result.params),
    }
    gpkg = write_geopackage(
        {
            "districts": result.districts,
            "homes": result.homes,
            "spaces": result.spaces,
            "sensitivity": result.sensitivity,
            **(
                {"excluded_spaces": result.excluded_spaces}
                if result.excluded_spaces is not None and len(result.excluded_spaces)
                else {}
            ),
        },
        out / f"{stem}.gpkg",
        metadata=metadata,
        overwrite=overwrite,
    )
    return [
        gpkg,
        write_csv(result.districts, out / f"{stem}_districts.csv", overwrite=overwrite),
        write_csv(result.homes, out / f"{stem}_homes.csv", overwrite=overwrite),
        write_csv(result.spaces, out / f"{stem}_spaces.csv", overwrite=overwrite),
        write_json(
            {"summary": summary(result), "provenance": metadata},
            out / f"{stem}_summary.json",
            overwrite=overwrite,
        ),
    ]
