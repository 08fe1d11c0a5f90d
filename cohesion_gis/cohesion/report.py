"""Writing a cohesion result: GeoPackage, CSV tables and a summary JSON, with provenance."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from cohesion_gis._atomic import staged_files
from cohesion_gis.cohesion.score import COMPONENTS, CohesionResult, reported_homes
from cohesion_gis.export import write_csv, write_geopackage, write_json

__all__ = ["score_names", "summary", "write_scores"]


def summary(result: CohesionResult) -> dict[str, Any]:
    """Headline figures of a result, JSON-serialisable.

    Figures that do not exist (no district has residents, no sensitivity variants) are ``None``,
    and ``notes`` (with the result's own notes) says why.
    """
    d = result.districts
    scored = d.loc[d["population"] > 0].sort_values("score", ascending=False)
    nulls = [
        reason
        for reason, missing in (
            ("no district has residents: mean score and component means are null", not len(scored)),
            (
                "no sensitivity variants were run: min_rank_correlation is null",
                not len(result.sensitivity),
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
        "spaces_reached_by_nobody": int((result.spaces["reached_by_persons"] <= 0).sum()),
        "spaces_not_counted": 0 if result.excluded_spaces is None else len(result.excluded_spaces),
        "min_rank_correlation": float(result.sensitivity["spearman_rho"].min())
        if len(result.sensitivity)
        else None,
        "notes": notes,
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

    The GeoPackage holds districts, homes, spaces, sensitivity and (when any) excluded spaces;
    homes in the buffer around the study area are left out (:func:`reported_homes`).

    Tables are in the City's metric CRS; CSVs have no geometry. The files (:func:`score_names`)
    replace older ones together or not at all.
    """
    out = Path(out_dir)
    metadata = {
        **provenance,
        "analysis": "contact-space cohesion score",
        "cohesion_parameters": dataclasses.asdict(result.params),
        "notes": dict(result.notes),
    }
    names = score_names(stem)
    gpkg, _, districts, homes, spaces, summary_json = names
    homes_inside = reported_homes(result.homes)
    tables = {
        "districts": result.districts,
        "homes": homes_inside,
        "spaces": result.spaces,
        "sensitivity": result.sensitivity,
    }
    if result.excluded_spaces is not None and len(result.excluded_spaces):
        tables["excluded_spaces"] = result.excluded_spaces
    with staged_files(out, names, overwrite=overwrite) as stage:
        write_geopackage(tables, stage / gpkg, metadata=metadata)
        write_csv(result.districts, stage / districts)
        write_csv(homes_inside, stage / homes)
        write_csv(result.spaces, stage / spaces)
        write_json({"summary": summary(result), "provenance": metadata}, stage / summary_json)
    return [out / name for name in names if name != f"{stem}.provenance.json"]


def score_names(stem: str = "cohesion") -> tuple[str, str, str, str, str, str]:
    """The file names :func:`write_scores` writes: GeoPackage and its sidecar, CSVs, summary."""
    return (
        f"{stem}.gpkg",
        f"{stem}.provenance.json",
        f"{stem}_districts.csv",
        f"{stem}_homes.csv",
        f"{stem}_spaces.csv",
        f"{stem}_summary.json",
    )
