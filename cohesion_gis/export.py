"""Writing results: GeoPackage, CSV and JSON, atomically, with provenance: every writer.

The one module that writes the package's outputs (:mod:`cohesion_gis.read` reads them back):
the primitives (:func:`write_geopackage`, :func:`write_csv`, :func:`write_json`), a City's
layers (:func:`write_layers`), a cohesion result (:func:`write_scores`), a site assessment
(:func:`write_assessment`) and one site's VDA page (:func:`write_vda`), a comparison
(:func:`write_comparison`). The run folders of ``suggest`` and ``protect`` are written by those
modules through these primitives.

Every writer writes to a temporary file beside the target and renames it into place
(:mod:`cohesion_gis._atomic`), so a failed run never leaves a half-written output; files get the
user's umask. Existing files are kept unless ``overwrite=True``. A GeoPackage gets a
``metadata`` attribute table (key, value) and every output a sidecar ``<name>.provenance.json``:
data source and date, parameters, package version and the ODbL attribution.

- **CSV** (:func:`write_csv`, the one CSV writer of the package): RFC 4180 (CRLF line ends, so
  a cell holding a line break is quoted); a text cell starting with
  ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is written with a leading ``'`` so a
  spreadsheet shows it as text instead of running it as a formula (OWASP, "CSV Injection").
- **A comparison** (:func:`write_comparison`): its tables, summary and side-by-side map in one
  folder, together or not at all (what ``batch`` and ``cohesion-gis compare`` write).
- **JSON** (:func:`write_json`): strict JSON; a NaN or infinite number is written as ``null``
  (and logged), never as the ``NaN`` token most JSON readers reject.
- **Layers split by geometry kind** (:func:`one_geometry_type`): QGIS asks which sub-layer to
  open when a layer mixes kinds, so such a layer becomes ``<layer>_points/_lines/_polygons``
  (:data:`cohesion_gis.read.GEOMETRY_KINDS`); :func:`cohesion_gis.read.read_layer` joins them.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import re
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd

from cohesion_gis._atomic import atomic_path, refuse_existing, staged_files
from cohesion_gis._text import clean_text, is_text
from cohesion_gis.errors import InputError
from cohesion_gis.read import GEOMETRY_KINDS, METADATA_LAYER, STUDY_AREA_KEY, study_area

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from cohesion_gis.city import City
    from cohesion_gis.cohesion import CohesionResult
    from cohesion_gis.comparison import Comparison
    from cohesion_gis.hvm.assess import SiteAssessment
    from cohesion_gis.hvm.params import HvmParams

__all__ = [
    "ASSESSMENT_NAMES",
    "COMPARISON_NAMES",
    "atomic_path",
    "districts_for_spreadsheets",
    "for_spreadsheets",
    "layers_names",
    "one_geometry_type",
    "refuse_existing",
    "scenario_page",
    "score_names",
    "sites_for_spreadsheets",
    "write_assessment",
    "write_comparison",
    "write_csv",
    "write_geopackage",
    "write_json",
    "write_layers",
    "write_scores",
    "write_vda",
]

#: First characters that make a spreadsheet read a cell as a formula (OWASP CSV Injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

#: Files of one comparison (:func:`write_comparison`); ``summary.json`` last marks it finished.
COMPARISON_NAMES = (
    "comparison.gpkg", "comparison.provenance.json", "districts.csv", "sites.csv",
    "scenario_map.html", "scenario_map.pdf", "summary.json",
)  # fmt: skip

log = logging.getLogger(__name__)


def write_geopackage(
    tables: Mapping[str, gpd.GeoDataFrame | pd.DataFrame],
    path: str | Path,
    *,
    metadata: Mapping[str, Any],
    overwrite: bool = False,
) -> Path:
    """Write tables as layers of one GeoPackage, plus a ``metadata`` table and a sidecar JSON.

    Empty layers are written too (with their columns), so a reader always finds every layer.
    Non-spatial tables become GeoPackage attribute tables. ``gpkg_contents.last_change`` holds
    the data's date (:func:`_data_date_stamp`), so the same inputs give the same bytes. The
    layers with a QGIS style (districts, sites, approaches, contact spaces:
    :func:`cohesion_gis.maps.qgis.layer_styles`) get it in a ``layer_styles`` table, which QGIS
    applies when the layer is added.
    """
    import pyogrio

    path = Path(path)
    written: dict[str, gpd.GeoDataFrame] = {}
    with _data_date_stamp(metadata), atomic_path(path, overwrite=overwrite) as tmp:
        for layer, table in tables.items():
            if len(table.columns) == 0:
                log.info("%s: layer %s has no columns; not written", path.name, layer)
                continue
            frame = _plain_columns(table)
            if isinstance(frame, gpd.GeoDataFrame):
                for name, part in one_geometry_type(frame, layer).items():
                    pyogrio.write_dataframe(
                        part, tmp, layer=name, driver="GPKG", promote_to_multi=None
                    )
                    written[name] = part
            else:
                pyogrio.write_dataframe(frame, tmp, layer=layer, driver="GPKG")
        meta = pd.DataFrame({"key": list(metadata), "value": [_json(v) for v in metadata.values()]})
        pyogrio.write_dataframe(meta, tmp, layer=METADATA_LAYER, driver="GPKG")
        styles = _layer_styles(tmp, written, metadata)
        if len(styles):  # as QGIS creates it: an attribute table whose FID column is "id"
            pyogrio.write_dataframe(
                styles, tmp, layer=STYLES_LAYER, driver="GPKG", layer_options={"FID": "id"}
            )
    write_json(metadata, path.with_suffix(".provenance.json"), overwrite=True)
    log.info("wrote %s (%d layers)", path, len(tables))
    return path


#: The table QGIS reads a layer's styles from (QgsOgrUtils::loadStoredStyle).
STYLES_LAYER = "layer_styles"


def _layer_styles(
    path: Path, written: Mapping[str, gpd.GeoDataFrame], metadata: Mapping[str, Any]
) -> pd.DataFrame:
    """The ``layer_styles`` rows of the written layers, in QGIS's own columns.

    QGIS picks a layer's style by ``f_table_schema = ''``, ``f_table_name`` and
    ``f_geometry_column``, the default first. ``update_time`` is the data's date, so the same
    inputs give the same bytes.
    """
    import pyogrio

    from cohesion_gis.maps.qgis import layer_styles

    day = re.match(r"\d{4}-\d{2}-\d{2}", str(metadata.get("data_date", "")))
    stamp = pd.Timestamp(day[0] if day else "1970-01-01", tz="UTC")
    rows = [
        {
            "f_table_catalog": "",
            "f_table_schema": "",
            "f_table_name": name,
            "f_geometry_column": pyogrio.read_info(path, layer=name)["geometry_name"],
            "styleName": style.name,
            "styleQML": style.qml,
            "styleSLD": "",
            "useAsDefault": style.default,
            "description": style.description,
            "owner": "cohesion_gis",
            "ui": "",
            "update_time": stamp,
        }
        for name, frame in written.items()
        for style in layer_styles(name, frame)
    ]
    return pd.DataFrame(rows)


_STAMP_LOCK = threading.Lock()


@contextmanager
def _data_date_stamp(metadata: Mapping[str, Any]) -> Iterator[None]:
    """GDAL's ``OGR_CURRENT_DATE`` set to ``metadata["data_date"]`` (else 1970-01-01) meanwhile.

    GeoPackage writers stamp ``gpkg_contents.last_change`` with it instead of the clock. The
    option is process-wide in GDAL (pyogrio exposes no per-call or thread-local config), so one
    lock serialises the stamped writes of every thread (Dask threads, a notebook's pool): without
    it, two writes with different data dates stamped each other's date, and the first to finish
    restored the option under the second. The previous value is restored after.
    """
    import pyogrio

    day = re.match(r"\d{4}-\d{2}-\d{2}", str(metadata.get("data_date", "")))
    stamp = {"OGR_CURRENT_DATE": f"{day[0] if day else '1970-01-01'}T00:00:00.000Z"}
    with _STAMP_LOCK:
        before = {key: pyogrio.get_gdal_config_option(key) for key in stamp}
        pyogrio.set_gdal_config_options(stamp)
        try:
            yield
        finally:
            pyogrio.set_gdal_config_options(before)


def one_geometry_type(frame: gpd.GeoDataFrame, layer: str) -> dict[str, gpd.GeoDataFrame]:
    """Split a layer that mixes points, lines and polygons into one layer per kind.

    QGIS asks which sub-layer to open when a GeoPackage layer mixes geometry types; a layer of
    one kind is kept whole (``layer``), a mixed one becomes ``<layer>_points``,
    ``<layer>_lines`` and ``<layer>_polygons``. Multi-parts join their kind (a kind holding both
    is written as Multi*).
    """
    kinds = frame.geom_type.str.removeprefix("Multi").map(GEOMETRY_KINDS)
    present = sorted(set(kinds.dropna()))
    if len(present) <= 1:
        return {layer: frame}
    return {f"{layer}_{kind}": frame.loc[kinds == kind] for kind in present}


def write_csv(
    table: pd.DataFrame, path: str | Path, *, overwrite: bool = False, geometry: bool = False
) -> Path:
    """Write a table as CSV (geometry dropped, or as WKT with ``geometry=True``)."""
    frame = pd.DataFrame(table)
    if isinstance(table, gpd.GeoDataFrame):
        name = table.geometry.name
        frame = frame.drop(columns=name)
        if geometry:
            frame["geometry_wkt"] = table.geometry.to_wkt()
    frame = frame.rename(columns=lambda c: _safe_cell(c) if isinstance(c, str) else c)
    for column in frame.columns:
        if is_text(frame[column]):
            frame[column] = frame[column].astype(object).map(_safe_cell)
    frame = for_spreadsheets(frame)
    with atomic_path(path, overwrite=overwrite) as tmp:  # BOM: Excel then reads ä, ö as UTF-8
        frame.to_csv(tmp, index=False, lineterminator="\r\n", encoding="utf-8-sig")
    return Path(path)


#: A text cell holding only a decimal number (``-1.5``, ``+3``, ``1e3``): a number, not a formula.
_NUMBER = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")


def _safe_cell(value: Any) -> Any:
    """A text cell a spreadsheet shows as text.

    Control and bidi-override characters become ``�`` (:func:`cohesion_gis._text.clean_text`);
    a formula start gets a leading ``'`` unless the cell is a plain number.
    """
    if not isinstance(value, str):
        return value
    value = clean_text(value)
    if value.startswith(FORMULA_START) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


#: Decimals a CSV keeps: enough for shares (0-1), scores (0-100), km/h, metres and m².
CSV_DECIMALS = 3


def for_spreadsheets(frame: pd.DataFrame) -> pd.DataFrame:
    """Return ``frame`` as a CSV should hold it: whole-number floats as integers, others rounded.

    A float column whose finite values are all whole (ranks, counts: ``4.0``) becomes an integer
    column (missing values stay empty); other float columns keep :data:`CSV_DECIMALS` decimals.

    Examples
    --------
    >>> for_spreadsheets(pd.DataFrame({"rank": [4.0, None], "score": [61.23456, 2.0]}))
       rank   score
    0     4  61.235
    1  <NA>   2.000
    """
    out = frame.copy()
    for column in out.columns:
        values = out[column]
        if not pd.api.types.is_float_dtype(values):
            continue
        known = values.dropna()
        finite = bool(np.isfinite(known).all())
        if len(known) and finite and bool((known == known.round()).all()):
            out[column] = values.astype("Int64")
        else:
            out[column] = values.round(CSV_DECIMALS)
    return out


def write_json(data: Any, path: str | Path, *, overwrite: bool = False) -> Path:
    """Write strict JSON (UTF-8, indented), atomically; NaN and infinities become ``null``."""
    replaced: list[str] = []
    clean = _finite(data, "", replaced)
    if replaced:
        log.warning(
            "%s: %d non-finite numbers written as null (%s)",
            Path(path).name,
            len(replaced),
            ", ".join(replaced[:5]),
        )
    text = json.dumps(clean, indent=2, ensure_ascii=False, default=str, allow_nan=False)
    with atomic_path(path, overwrite=overwrite) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def _finite(value: Any, where: str, replaced: list[str]) -> Any:
    """``value`` with every NaN or infinite float replaced by None (their keys in ``replaced``)."""
    if isinstance(value, float) and not math.isfinite(value):
        replaced.append(where or "value")
        return None
    if isinstance(value, Mapping):
        return {k: _finite(v, f"{where}.{k}".lstrip("."), replaced) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v, f"{where}[{i}]", replaced) for i, v in enumerate(value)]
    return value


def write_layers(
    city: City,
    path: str | Path,
    *,
    overwrite: bool = False,
    raster_cell_m: float = 100.0,
) -> tuple[Path, Path]:
    """Write every layer of a City to one GeoPackage, and its residents as a GeoTIFF.

    The GeoTIFF goes beside the GeoPackage as ``<stem>_population.tif``; the files
    (:func:`layers_names`) replace older ones together or not at all.

    Returns
    -------
    gpkg, tif
        Paths written.
    """
    from cohesion_gis.sources.population import write_population_raster

    path = Path(path)
    gpkg_name, _, tif_name = names = layers_names(path)
    with staged_files(path.parent, names, overwrite=overwrite) as stage:
        metadata = {**city.provenance.as_dict(), STUDY_AREA_KEY: study_area(city)}
        write_geopackage(city.layers(), stage / gpkg_name, metadata=metadata, overwrite=True)
        write_population_raster(
            city.homes, stage / tif_name, crs=city.crs, cell_m=raster_cell_m, extent=city.boundary
        )
    return path, path.with_name(tif_name)


def layers_names(path: str | Path) -> tuple[str, str, str]:
    """The file names :func:`write_layers` writes beside ``path``: GeoPackage, sidecar, GeoTIFF."""
    path = Path(path)
    return path.name, f"{path.stem}.provenance.json", f"{path.stem}_population.tif"


def _plain_columns(table: pd.DataFrame) -> pd.DataFrame:
    """Columns GDAL can store: lists, dicts and other objects become JSON text."""
    out = table.copy()
    geometry = table.geometry.name if isinstance(table, gpd.GeoDataFrame) else None
    for column in out.columns:
        if column == geometry or out[column].dtype != object:
            continue
        values = out[column].dropna()
        if len(values) and not values.map(lambda v: isinstance(v, str)).all():
            out[column] = out[column].map(
                lambda v: v if v is None or isinstance(v, str) else _json(v)
            )
    return out


def _json(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, default=str, ensure_ascii=False)


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
    homes in the buffer around the study area are left out
    (:func:`~cohesion_gis.cohesion.score.reported_homes`).

    Tables are in the City's metric CRS; CSVs have no geometry. The files (:func:`score_names`)
    replace older ones together or not at all.
    """
    from cohesion_gis.cohesion.report import summary
    from cohesion_gis.cohesion.score import reported_homes

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
        write_csv(districts_for_spreadsheets(result.districts), stage / districts)
        write_csv(homes_inside, stage / homes)
        write_csv(result.spaces, stage / spaces)
        write_json({"summary": summary(result), "provenance": metadata}, stage / summary_json)
    return [out / name for name in names if name != f"{stem}.provenance.json"]


#: Columns of the district table that count people: whole people in ``cohesion_districts.csv``.
DISTRICT_PEOPLE = ("population", "unscored_persons", "island_persons")


def districts_for_spreadsheets(districts: pd.DataFrame) -> pd.DataFrame:
    """The district table as ``cohesion_districts.csv`` holds it: by rank, people whole.

    Rows by ``rank`` (by score, highest first, without a sensitivity run); the residents
    (a dasymetric estimate: 179.932) rounded to whole people.

    Examples
    --------
    >>> table = pd.DataFrame({"name": ["a", "b"], "population": [179.932, 319.5], "rank": [2, 1]})
    >>> districts_for_spreadsheets(table)
      name  population  rank
    1    b       320.0     1
    0    a       180.0     2
    """
    out = districts.assign(**{c: districts[c].round() for c in DISTRICT_PEOPLE if c in districts})
    key = ["rank"] if "rank" in out else ["score"]
    return out.sort_values(key, ascending="rank" in out, kind="stable")


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


#: Files of :func:`write_assessment` (the GeoPackage's provenance sidecar second).
ASSESSMENT_NAMES = (
    "hvm_assessment.gpkg", "hvm_assessment.provenance.json", "hvm_sites.csv", "hvm_audit.json",
)  # fmt: skip


def write_assessment(
    result: SiteAssessment, out_dir: str | Path, *, overwrite: bool = False
) -> dict[str, Path]:
    """Write an assessment: GeoPackage, ranked-sites CSV and audit JSON.

    Files in ``out_dir`` (:data:`ASSESSMENT_NAMES`): ``hvm_assessment.gpkg`` (layers ``sites``,
    ``approaches``, ``entries``, ``gaps``, ``barriers`` and ``metadata``, plus a provenance
    sidecar),
    ``hvm_sites.csv`` (ranked sites, no geometry) and ``hvm_audit.json``. Every file is written
    atomically; existing files are kept unless ``overwrite``.

    Returns
    -------
    dict of str to Path
        ``{"geopackage": ..., "csv": ..., "audit": ...}``.

    Raises
    ------
    InputError
        A file exists and ``overwrite`` is False.
    """
    out = Path(out_dir)
    gpkg, _, csv, audit = ASSESSMENT_NAMES
    paths = {"geopackage": out / gpkg, "csv": out / csv, "audit": out / audit}
    if not overwrite:
        existing = [str(p) for p in paths.values() if p.exists()]
        if existing:
            raise InputError(f"{existing} exist; pass overwrite=True (CLI: --overwrite).")
    tables = {
        "sites": result.sites,
        "approaches": result.approaches,
        "entries": result.entries,
        "gaps": result.gaps,
        "barriers": result.barriers,
    }
    metadata = {**result.audit["data"], "audit": paths["audit"].name}
    write_geopackage(tables, paths["geopackage"], metadata=metadata, overwrite=overwrite)
    write_csv(sites_for_spreadsheets(result.sites), paths["csv"], overwrite=overwrite)
    write_json(dict(result.audit), paths["audit"], overwrite=overwrite)
    return paths


#: Long texts of the site table, last in ``hvm_sites.csv`` (after the short columns a spreadsheet
#: filters on: ``rating_needed`` before ``required_rating``, up to 3,000 characters).
SITE_LONG_TEXT = (
    "members", "member_names", "martyns_law_premises", "martyns_law_scope", "terrain",
    "required_rating", "requirements",
)  # fmt: skip


def sites_for_spreadsheets(sites: pd.DataFrame) -> pd.DataFrame:
    """The site table as ``hvm_sites.csv`` holds it: by rank, long texts last.

    Examples
    --------
    >>> table = pd.DataFrame({"requirements": ["…"], "rank": [2], "rating_needed": ["V/…"]})
    >>> list(sites_for_spreadsheets(table).columns)
    ['rank', 'rating_needed', 'requirements']
    """
    long = [c for c in SITE_LONG_TEXT if c in sites.columns]
    order = [c for c in sites.columns if c not in long] + long
    return sites.sort_values("rank", kind="stable")[order] if "rank" in sites else sites[order]


def write_vda(
    result: SiteAssessment,
    site_id: str,
    path: str | Path,
    *,
    overwrite: bool = False,
    buildings: gpd.GeoDataFrame | None = None,
    streets: gpd.GeoDataFrame | None = None,
    levels: gpd.GeoDataFrame | None = None,
    params: HvmParams | None = None,
    egress: SiteAssessment | None = None,
    friction: SiteAssessment | None = None,
) -> Path:
    """Write the one-page VDA of one site: ``.html`` or ``.pdf`` (by the suffix of ``path``).

    Parameters
    ----------
    result, site_id
        As :func:`~cohesion_gis.hvm.report.vda_html`.
    path
        Output file; its suffix (``.html`` or ``.pdf``) chooses the format.
    overwrite
        Replace an existing file.
    buildings, streets, levels, params
        As :func:`~cohesion_gis.hvm.report.vda_figure` (the HTML uses ``buildings`` and
        ``params`` only).
    egress
        A stadium's egress zone assessed as a crowd area
        (:func:`~cohesion_gis.hvm.report.egress_assessment`), shown on the page.
    friction
        The same assessment at μ 1.0, for the page's sensitivity line
        (:func:`~cohesion_gis.hvm.report.vda_html`).

    Raises
    ------
    InputError
        The file exists and ``overwrite`` is False, the site is unknown, or the suffix is
        neither ``.html`` nor ``.pdf``.
    """
    from cohesion_gis.hvm.report import vda_figure, vda_html
    from cohesion_gis.maps.static import pdf_page

    out = Path(path)
    suffix = out.suffix.lower()
    if suffix not in (".html", ".pdf"):
        raise InputError(f"{out}: a VDA is written as .html or .pdf, not {out.suffix!r}.")
    with atomic_path(out, overwrite=overwrite) as tmp:  # refuses an existing file first
        if suffix == ".pdf":
            fig = vda_figure(
                result, site_id, buildings=buildings, streets=streets, levels=levels,
                params=params, egress=egress, friction=friction,
            )  # fmt: skip
            pdf_page(fig, tmp)  # one A4 page, margins kept (not cropped to the ink)
        else:
            page = vda_html(
                result, site_id, buildings=buildings, params=params, egress=egress,
                friction=friction,
            )  # fmt: skip
            tmp.write_text(f"<!doctype html><meta charset='utf-8'>{page}", encoding="utf-8")
    return out


def write_comparison(
    base_city: City,
    comparison: Comparison,
    out_dir: str | Path,
    *,
    overwrite: bool = False,
    metadata: dict[str, Any] | None = None,
    record: dict[str, Any] | None = None,
) -> list[Path]:
    """Write one comparison: districts, homes and sites tables, summary and side-by-side map.

    The files (:data:`COMPARISON_NAMES`) replace older ones together or not at all;
    ``summary.json`` is moved last and holds ``status = "done"``. ``metadata`` (default: the
    base's provenance and the scenario name) goes into the GeoPackage's metadata table;
    ``record`` adds fields to ``summary.json``.
    """
    out = Path(out_dir)
    tables = {"districts": comparison.districts, "homes": comparison.homes}
    if comparison.sites is not None:
        tables["sites"] = comparison.sites
    if metadata is None:
        metadata = {**base_city.provenance.as_dict(), "scenario": comparison.scenario.name}
    summary = {**(record or {}), "scenario": comparison.scenario.name,
               "summary": list(comparison.summary), "status": "done"}  # fmt: skip
    with staged_files(out, COMPARISON_NAMES, overwrite=overwrite) as stage:
        write_geopackage(tables, stage / "comparison.gpkg", metadata=metadata)
        write_csv(comparison.districts, stage / "districts.csv")
        if comparison.sites is not None:
            write_csv(comparison.sites, stage / "sites.csv")
        _scenario_map(base_city, comparison, stage)
        write_json(summary, stage / "summary.json")
        written = sorted(p.name for p in stage.iterdir())
    return [out / name for name in COMPARISON_NAMES if name in written]


def scenario_page(city: City, comparison: Comparison) -> Figure:
    """The one-page figure of a comparison for council papers (``scenario_map.pdf``).

    Parameters
    ----------
    city
        The base city the comparison was run on.
    comparison
        The result of :func:`~cohesion_gis.comparison.compare`.
    """
    from cohesion_gis.maps import scenario_changes
    from cohesion_gis.maps.scenario import HEADLINE_LINES
    from cohesion_gis.maps.static import scenario_figure

    before, after = comparison.base.hvm, comparison.after.hvm
    vehicles = (
        {"base_approaches": before.approaches, "scenario_approaches": after.approaches,
         "site_names": dict(zip(before.sites["site_id"], before.sites["name"], strict=True))}
        if before is not None and after is not None else {}
    )  # fmt: skip
    return scenario_figure(
        comparison.base_districts, comparison.scenario_districts,
        scenario_name=comparison.scenario.name, description=comparison.scenario.description,
        interventions=scenario_changes(city, comparison.city),
        streets=city.walk_edges, buildings=city.buildings,
        headline=comparison.summary[:HEADLINE_LINES],
        place=city.name, data_date=city.provenance.data_date, **vehicles,
    )  # fmt: skip


def _scenario_map(city: City, comparison: Comparison, out: Path) -> Path:
    """The side-by-side HTML map and a one-page PDF of it for council papers."""
    from cohesion_gis.maps import comparison_map, save_offline
    from cohesion_gis.maps.static import save_pdf

    save_pdf(scenario_page(city, comparison), out / "scenario_map.pdf")
    return save_offline(comparison_map(city, comparison), out / "scenario_map.html")
