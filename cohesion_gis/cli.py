"""The ``cohesion-gis`` command.

Each subcommand is a thin wrapper: it resolves paths and options, checks that its outputs can be
written (before any computation), then calls the same public function a notebook calls. Any
error exits with status 1 and one line saying what to do; ``-v`` shows the traceback too.
"""

from __future__ import annotations

import functools
import logging
import math
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from tqdm.contrib.logging import logging_redirect_tqdm

if TYPE_CHECKING:
    import geopandas as gpd

    from cohesion_gis.city import City
    from cohesion_gis.hvm.assess import HvmOptions, SiteAssessment
    from cohesion_gis.hvm.params import HvmParams

__all__ = ["main"]

log = logging.getLogger(__name__)


def _finite_positive(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    """Refuse NaN, infinite, zero and negative numbers (one number or a tuple of them)."""
    values = value if isinstance(value, tuple) else (value,)
    for v in values:
        if v is not None and not (math.isfinite(v) and (v > 0 or param.name == "bbox")):
            expected = "finite numbers" if param.name == "bbox" else "a finite number > 0"
            raise click.BadParameter(f"expected {expected}, got {v}")
    return value


def _say(text: object, *, err: bool = False, one_line: bool = False) -> None:
    """Print text that may hold names from data: control and bidi characters shown as ``�``.

    A name holding ESC would otherwise drive the terminal (colours, cursor, window title,
    hidden text); :func:`cohesion_gis._text.clean_text` is the one cleaner.
    """
    from cohesion_gis._text import clean_text

    click.echo(clean_text(text, one_line=one_line), err=err)


def _table(table: Any) -> str:
    """A table as terminal text, each cell on one line (:func:`cohesion_gis._text.clean_table`)."""
    from cohesion_gis._text import clean_table

    return clean_table(table).to_string(index=False)


class _CleanFormatter(logging.Formatter):
    """Log lines with names from data cleaned to one line (the traceback, with ``-v``, kept)."""

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 (logging's name)
        from cohesion_gis._text import clean_text

        return clean_text(super().formatMessage(record), one_line=True)


def _source_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """Options that choose the study area, shared by every subcommand.

    Generated from :data:`cohesion_gis._city_options.LOAD_OPTIONS`: one ``--option`` per
    keyword of :func:`~cohesion_gis.city.load_city`, with its help and its default.
    """
    from cohesion_gis._city_options import LOAD_OPTIONS

    for option in reversed([o for o in LOAD_OPTIONS if o.cli]):
        func = click.option(
            f"--{option.name.replace('_', '-')}",
            help=option.help,
            default=option.default,
            show_default=option.default not in (None, False),
            **_CLICK_KINDS[option.kind](option),
        )(func)
    return func


_PATH = click.Path(dir_okay=False, path_type=Path)
#: How each kind of load_city option is read on the command line.
_CLICK_KINDS: dict[str, Callable[[Any], dict[str, Any]]] = {
    "file": lambda o: {"type": _PATH},
    "text": lambda o: {"type": str},
    "choice": lambda o: {"type": click.Choice(o.choices)},
    "number": lambda o: {"type": float, "callback": _finite_positive},
    "integer": lambda o: {"type": int},
    "flag": lambda o: {"is_flag": True},
    "distance": lambda o: {"type": click.FloatRange(min=0)},
    "bbox": lambda o: {"type": float, "nargs": 4, "callback": _finite_positive,
                       "metavar": "WEST SOUTH EAST NORTH"},
}  # fmt: skip


def _load(kwargs: dict[str, Any]) -> City:
    """Pop the study-area options from a command's ``kwargs`` and load the City."""
    from cohesion_gis._city_options import LOAD_OPTIONS
    from cohesion_gis.city import load_city

    options = {o.name: kwargs.pop(o.name) for o in LOAD_OPTIONS if o.cli}
    options["bbox"] = tuple(options["bbox"]) if options["bbox"] else None
    return load_city(**options, progress=sys.stderr.isatty())


def _friendly_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    """Turn any error into a message and exit status 1; with ``-v`` the traceback too."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        out = Path(kwargs["out"]).absolute() if kwargs.get("out") is not None else None
        there = _existing_ancestor(out) if out is not None else None
        try:
            return func(*args, **kwargs)
        except (click.ClickException, click.exceptions.Exit, click.Abort) as exc:
            if getattr(exc, "exit_code", 1) != 0:
                _remove_empty_folders(out, there)
            raise
        except Exception as exc:
            _remove_empty_folders(out, there)
            if logging.getLogger("cohesion_gis").isEnabledFor(logging.INFO):  # -v
                raise
            _say(f"Error: {_message(exc)}", err=True, one_line=True)
            sys.exit(1)

    return wrapper


def _existing_ancestor(path: Path) -> Path:
    """``path`` itself if it exists, else its nearest existing parent folder."""
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def _remove_empty_folders(out: Path | None, there: Path | None) -> None:
    """Remove the empty folders a failed run created on the way to ``out`` (below ``there``)."""
    if out is None or there is None:
        return
    path = out
    while there in path.parents:
        if path.exists():
            if not path.is_dir() or any(path.iterdir()):
                break
            path.rmdir()
        path = path.parent


def _message(exc: Exception) -> str:
    """What went wrong and what to do, for errors the library does not word itself."""
    from cohesion_gis.errors import CohesionError

    if isinstance(exc, CohesionError):
        return str(exc)
    if isinstance(exc, OSError) and exc.filename:
        return f"{exc.filename}: {exc.strerror or exc}"
    return f"{type(exc).__name__}: {exc} (unexpected: rerun with -v and report the traceback)"


def _show_versions(ctx: click.Context, _param: Any, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    from importlib.metadata import PackageNotFoundError, version

    for name in ("cohesion-gis", "geopandas", "shapely", "pyproj", "pyogrio", "osmnx", "pyrosm",
                 "networkx", "numpy", "scipy", "numba", "rasterio", "folium", "dask"):  # fmt: skip
        try:
            click.echo(f"{name:>12}: {version(name)}")
        except PackageNotFoundError:
            click.echo(f"{name:>12}: not installed")
    click.echo(f"{'python':>12}: {sys.version.split()[0]}")
    ctx.exit()


class _ManyValues(click.Option):
    """A ``multiple`` option that also takes several values after one flag (``--x a b c``).

    So ``demo --scenarios scenarios/*.toml`` works as the shell expands it. click has no public
    API for this: options take a fixed number of values, ``nargs=-1`` is refused for them, and
    the maintainers keep it so by design (pallets/click#1351, 2019); the alternatives change the
    command line (repeat the flag for every file, or make the files positional). So this wraps
    the ``process`` of the parser's option, reached through the parser's private
    ``_long_opt``/``_short_opt`` tables: checked against click 8.5.1 (8.2 made the parser
    class private, keeping the tables), hence ``click>=8.1,<9`` in pyproject.toml.
    ``tests/test_cli.py::test_demo_takes_many_scenario_files_after_one_flag`` fails if click
    changes them; should it, the option falls back to one value per flag rather than crash.
    """

    def add_to_parser(self, parser: Any, ctx: click.Context) -> None:
        super().add_to_parser(parser, ctx)
        for name in self.opts:
            tables = (getattr(parser, "_long_opt", {}), getattr(parser, "_short_opt", {}))
            option = tables[0].get(name) or tables[1].get(name)
            if option is None or not hasattr(option, "process"):
                continue  # another click: one value per flag (the test above fails)
            take_one = option.process

            def process(value: Any, state: Any, take_one: Any = take_one) -> None:
                take_one(value, state)
                while state.rargs and not state.rargs[0].startswith("-"):
                    take_one(state.rargs.pop(0), state)

            option.process = process


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="cohesion-gis", prog_name="cohesion-gis")
@click.option("-v", "--verbose", count=True, help="Log each step's details (-vv for debug).")
@click.option("-q", "--quiet", is_flag=True, help="Only errors.")
@click.option(
    "--show-versions",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_show_versions,
    help="Print versions of the dependency stack and exit.",
)
@click.pass_context
def main(ctx: click.Context, verbose: int, quiet: bool) -> None:
    """cohesion-gis: contact-space cohesion and hostile-vehicle mitigation for planners.

    Data © OpenStreetMap contributors (ODbL).
    """
    level = (
        logging.ERROR if quiet else (logging.WARNING, logging.INFO, logging.DEBUG)[min(verbose, 2)]
    )
    package = logging.getLogger("cohesion_gis")
    for old in [h for h in package.handlers if getattr(h, "_cohesion_cli", False)]:
        package.removeHandler(old)  # one console handler, however often main() runs
    handler = logging.StreamHandler()
    handler.setFormatter(_CleanFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler._cohesion_cli = True  # type: ignore[attr-defined]
    package.addHandler(handler)
    package.setLevel(level)
    # one milestone line per step of the main job, even at the default (WARNING) level
    logging.getLogger("cohesion_gis.pipeline").setLevel(
        logging.ERROR if quiet else min(level, logging.INFO)
    )
    ctx.with_resource(logging_redirect_tqdm(loggers=[package]))  # log lines above the bars


@main.command()
@_source_options
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="GeoPackage FILE to write (unlike the other commands' --out, not a "
                   "folder); the population GeoTIFF goes beside it. "
                   "Default: layers/<name>.gpkg (--name, else from the source).")  # fmt: skip
@click.option("--overwrite", is_flag=True, help="Replace existing outputs.")
@_friendly_errors
def layers(out: Path | None, overwrite: bool, **kwargs: Any) -> None:
    """Load a study area and write every layer to one GeoPackage (+ population GeoTIFF)."""
    from cohesion_gis._atomic import check_outputs
    from cohesion_gis.city import default_name
    from cohesion_gis.export import layers_names, write_layers

    if out is None:
        city_name = kwargs["name"] or default_name(
            kwargs["pbf"], kwargs["osm_xml"], kwargs["place"]
        )
        out = Path("layers") / f"{city_name}.gpkg"
    check_outputs(out.parent, layers_names(out), overwrite=overwrite)
    city = _load(kwargs)
    gpkg, tif = write_layers(city, out, overwrite=overwrite)
    _say(f"wrote {gpkg} and {tif}")
    _say(city.summary().to_string())


_OUT = click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("out"),
    show_default=True,
    help="Output folder.",
)
_OVERWRITE = click.option("--overwrite", is_flag=True, help="Replace existing outputs.")
_PARAMS = click.option(
    "--params",
    type=click.Path(dir_okay=False, path_type=Path),
    help="TOML overriding the cohesion parameters (cohesion_gis/defaults/cohesion.toml).",
)


@main.command()
@_source_options
@_OUT
@_OVERWRITE
@_PARAMS
@click.option("--no-sensitivity", is_flag=True, help="Skip the sensitivity variants.")
@click.option("--population-raster", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Population-count GeoTIFF (any CRS) for the sensitivity run's population-source "
                   "variant: districts scored with residents from it instead.")  # fmt: skip
@_friendly_errors
def score(
    out: Path,
    overwrite: bool,
    params: Path | None,
    no_sensitivity: bool,
    population_raster: Path | None,
    **kwargs: Any,
) -> None:
    """Score every district for contact spaces; write GeoPackage, CSV and summary JSON."""
    from cohesion_gis._atomic import check_outputs
    from cohesion_gis.cohesion import CohesionParams, score_districts
    from cohesion_gis.export import score_names, write_scores
    from cohesion_gis.params import load_params

    if population_raster is not None and no_sensitivity:
        raise click.UsageError("--population-raster is read by the sensitivity run: drop one")
    check_outputs(out, score_names(), overwrite=overwrite)
    city = _load(kwargs)
    result = score_districts(
        city, load_params(CohesionParams, params), sensitivity=not no_sensitivity,
        population_raster=population_raster,
    )  # fmt: skip
    paths = write_scores(result, out, provenance=city.provenance.as_dict(), overwrite=overwrite)
    _say("wrote " + ", ".join(str(p) for p in paths))
    columns = ["name", "population", "access", "diversity", "bridging", "capacity", "severance"]
    table = result.districts.sort_values("score", ascending=False)
    table = table[[*columns, "score", "p10_score", "main_shortfall"]]
    _say(_table(table.round(2)))
    for note in result.notes.values():
        _say(note)


@main.command()
@_source_options
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              default=Path("out/suggest"), show_default=True, help="Output folder.")  # fmt: skip
@_OVERWRITE
@_PARAMS
@click.option("--k", "k", default=3, show_default=True, type=click.IntRange(min=1),
              help="Sites in the portfolio.")  # fmt: skip
@click.option("--equity", is_flag=True,
              help="Weight gains by each district's shortfall from 100.")  # fmt: skip
@click.option("--sites", type=click.Path(dir_okay=False, path_type=Path),
              help="Extra candidate outlines (GeoPackage/GeoJSON polygons, any CRS).")  # fmt: skip
@click.option("--suggest-params", type=click.Path(dir_okay=False, path_type=Path),
              help="TOML overriding defaults/suggest.toml (minimum sizes).")  # fmt: skip
@click.option("--skip-unmapped", is_flag=True,
              help="Leave out space types of which the map holds none (their gains assume "
                   "none exists).")  # fmt: skip
@_friendly_errors
def suggest(
    *,
    out: Path,
    overwrite: bool,
    params: Path | None,
    k: int,
    equity: bool,
    sites: Path | None,
    suggest_params: Path | None,
    skip_unmapped: bool,
    **kwargs: Any,
) -> None:
    """Rank where a new contact space would raise the cohesion score most (exact gains)."""
    from cohesion_gis._atomic import check_run_folder
    from cohesion_gis.cohesion import CohesionParams
    from cohesion_gis.params import load_params
    from cohesion_gis.sources.vector import read_vector
    from cohesion_gis.suggest import (
        SUGGEST_OUTPUTS,
        SuggestParams,
        suggest,
        suggestions_text,
        write_suggestions,
    )

    check_run_folder(out, SUGGEST_OUTPUTS, overwrite=overwrite)  # before any computing
    given = read_vector(sites, what="candidate-site file (--sites)") if sites else None
    city = _load(kwargs)
    found = suggest(
        city,
        params=load_params(CohesionParams, params),
        suggest_params=load_params(SuggestParams, suggest_params),
        sites=given,
        k=k,
        equity=equity,
        skip_unmapped=skip_unmapped,
        progress=sys.stderr.isatty(),
    )
    paths = write_suggestions(found, city, out, overwrite=overwrite)
    _say("wrote " + ", ".join(str(p) for p in paths.values()))
    _say(suggestions_text(found, city))


@main.command()
@_source_options
@click.option("--site", required=True, help="Site name (or a unique prefix) or site_id.")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              default=Path("out/protect"), show_default=True, help="Output folder.")  # fmt: skip
@_OVERWRITE
@click.option("--classes", default=None,
              help="Comma-separated vehicle classes to stop (default M1,N1,N2A,N3C).")  # fmt: skip
@click.option("--protect-params", type=click.Path(dir_okay=False, path_type=Path),
              help="TOML overriding defaults/protect.toml (costs, margins).")  # fmt: skip
@click.option("--verify", type=click.Choice(["all", "site"]), default="all", show_default=True,
              help="Final check: re-run the VDA of every site, or of the protected site only "
                   "(faster).")  # fmt: skip
@click.option("--given", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Scenario TOML of street changes made first (e.g. a street stopped up): "
                   "the scheme is designed after it, its TOML holds them first, and the "
                   "comparison is against the city before them.")  # fmt: skip
@_friendly_errors
def protect(
    *,
    site: str,
    out: Path,
    overwrite: bool,
    classes: str | None,
    protect_params: Path | None,
    verify: str,
    given: Path | None,
    **kwargs: Any,
) -> None:
    """Design and verify the cheapest barrier scheme for one site (scenario TOML, map, page)."""
    from cohesion_gis._atomic import check_run_folder
    from cohesion_gis.params import load_params
    from cohesion_gis.protect import PAGE_NAMES, ProtectParams, protect, write_protection
    from cohesion_gis.scenario import load_scenario

    ours = PAGE_NAMES
    earlier = (
        [p.name for p in out.iterdir() if p.name.startswith("protect_") or p.name in ours]
        if out.is_dir()
        else []
    )
    check_run_folder(out, earlier, overwrite=overwrite)  # before any computing
    street_change = load_scenario(given) if given is not None else None
    city = _load(kwargs)
    result = protect(
        city,
        site,
        classes=classes.split(",") if classes else None,
        params=load_params(ProtectParams, protect_params),
        verify=verify,
        given=street_change,
    )
    paths = write_protection(result, city, out, overwrite=overwrite)
    _say("wrote " + ", ".join(str(p) for p in paths.values()))
    _say(result.note)
    if len(result.lines):
        columns = ["line_id", "form_type", "length_m", "standoff_m", "what_it_stops"]
        _say(_table(result.lines[columns].round(1)))


def _hvm_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """The HVM assessment's options, shared by ``hvm`` and ``map`` (so maps match the tables)."""
    options = [
        click.option("--barriers", type=click.Path(dir_okay=False, path_type=Path),
                     help="Rated-barrier layer (GeoPackage/GeoJSON, any CRS) with a 'rating' "
                          "column."),
        click.option("--vehicles", default=None, callback=_vehicle_classes,
                     help="Comma-separated vehicle classes (default M1,N1,N2A,N3C) or a vehicle "
                          "TOML file."),
        click.option("--block-unrated", is_flag=True,
                     help="Let unrated OSM bollards and blocks stop vehicles."),
        click.option("--dem", type=click.Path(dir_okay=False, path_type=Path),
                     help="Elevation GeoTIFF for gradients (any CRS)."),
    ]  # fmt: skip
    for option in reversed(options):
        func = option(func)
    return func


def _vehicle_classes(ctx: click.Context, param: click.Parameter, value: str | None) -> Any:
    """``--vehicles`` as ``assess_sites`` takes it: a TOML path, a list of classes or None.

    Checked as the arguments are read, before the study area loads: empty text, an empty item
    and unknown classes are refused.
    """
    from cohesion_gis.errors import ParameterError
    from cohesion_gis.hvm.params import HvmParams
    from cohesion_gis.hvm.vehicles import Vehicles
    from cohesion_gis.params import load_params

    if value is None:
        return None
    names = [n.strip() for n in value.split(",")]
    if not all(names):
        raise click.BadParameter(
            f"got {value!r}: give classes separated by commas (M1,N1,N2A,N3C) or a vehicle "
            ".toml file, or leave the option out for the defaults"
        )
    try:
        if value.strip().endswith(".toml"):
            path = Path(value.strip())
            load_params(Vehicles, path).select(load_params(HvmParams).default_vehicle_classes)
            return path
        load_params(Vehicles).select(names)
    except ParameterError as exc:
        raise click.BadParameter(str(exc)) from exc
    return list(dict.fromkeys(names))


@main.command()
@_source_options
@_OUT
@_OVERWRITE
@_hvm_options
@click.option("--vda", "vda", multiple=True, metavar="SITE",
              help="Also write the one-page VDA of SITE (name or site_id; repeatable) as "
                   "vda_<site_id>.html and .pdf.")  # fmt: skip
@click.option("--scenario", "scenario_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Assess the study area with this scenario built (a protect_<site>.toml: "
                   "its chicanes, closures, rated lines and [parameters.hvm]).")  # fmt: skip
@_friendly_errors
def hvm(
    *,
    out: Path,
    overwrite: bool,
    barriers: Path | gpd.GeoDataFrame | None,
    vehicles: Path | list[str] | None,
    block_unrated: bool,
    dem: Path | None,
    vda: tuple[str, ...],
    scenario_file: Path | None,
    **kwargs: Any,
) -> None:
    """Assess soft-target sites: approach routes, impact speeds, required barrier ratings."""
    from dataclasses import replace

    from cohesion_gis._atomic import check_outputs, staged_files
    from cohesion_gis.export import ASSESSMENT_NAMES, write_assessment
    from cohesion_gis.hvm.assess import HvmOptions, assess_sites, find_site

    check_outputs(out, ASSESSMENT_NAMES, overwrite=overwrite)
    city = _load(kwargs)
    if vda:  # a misspelt --vda name fails before the assessment
        from cohesion_gis.hvm.sites import soft_target_sites

        named = soft_target_sites(city).assign(rank=0)
        for site in vda:
            find_site(named, site)
    params = _hvm_params(block_unrated)
    if scenario_file is not None:  # as compare assesses it (comparison.split_rated)
        city, barriers, params = _scenario_city(city, scenario_file, barriers, block_unrated)
    result = assess_sites(city, vehicles=vehicles, barriers=barriers, params=params, dem=dem)
    pages = _vda_pages(result, vda)  # every site found before anything is written
    names = [*(name for _, name in pages), *ASSESSMENT_NAMES]  # the audit JSON last
    with staged_files(out, names, overwrite=overwrite) as stage:  # every file or none
        write_assessment(result, stage)
        if pages:  # the μ sensitivity band of the pages (VDA review item 8): one more run
            friction = assess_sites(
                city, vehicles=vehicles, barriers=barriers, dem=dem,
                params=replace(params, friction_mu=params.friction_mu_sensitivity),
            )  # fmt: skip
            options = HvmOptions(vehicles=vehicles, barriers=barriers, params=params, dem=dem)
            _write_vda_pages(city, result, pages, stage, options=options, friction=friction)
    _say("wrote " + ", ".join(str(out / name) for name in names))
    columns = [
        "rank",
        "name",
        "kind",
        "capacity_persons",
        "max_arrival_speed_kmh",
        "max_normal_impact_kmh",
        "rating_needed",  # the codes; the full text is in hvm_sites.csv
    ]
    _say(_table(result.sites[columns].head(15)))


def _hvm_params(block_unrated: bool) -> HvmParams:
    """The packaged HVM parameters, with ``block_unrated`` set by ``--block-unrated``."""
    from dataclasses import replace

    from cohesion_gis.hvm.params import HvmParams
    from cohesion_gis.params import load_params

    params = load_params(HvmParams)
    return replace(params, block_unrated=True) if block_unrated else params


def _scenario_city(
    city: City, path: Path, barriers: Path | gpd.GeoDataFrame | None, block_unrated: bool
) -> tuple[City, gpd.GeoDataFrame | None, HvmParams]:
    """``city`` with the scenario at ``path`` built, its rated lines and its HVM parameters.

    As ``cohesion-gis compare`` assesses a scenario (:func:`cohesion_gis.comparison.split_rated`):
    the streets it changes (chicanes, closures) in the City, its rated lines as the barriers,
    its ``[parameters.hvm]`` (``--block-unrated`` still applies).
    """
    from dataclasses import replace

    from cohesion_gis.comparison import split_rated
    from cohesion_gis.errors import InputError
    from cohesion_gis.scenario import apply, load_scenario
    from cohesion_gis.scenario.write import base_spec

    spec = load_scenario(path)
    if spec.base != base_spec(city):
        raise InputError(
            f"{path}: base {spec.base.source!r} is not the study area loaded "
            f"({base_spec(city).source!r}); give the same source options, or run "
            f"`cohesion-gis compare {path}`"
        )
    if barriers is not None:
        raise InputError(
            f"--barriers and --scenario {path}: give one; put the lines in the scenario as "
            "add_barrier entries (docs/scenarios.md)"
        )
    plain, proposed = split_rated(apply(city, spec))
    params = spec.hvm_params()
    return plain, proposed, replace(params, block_unrated=True) if block_unrated else params


def _vda_pages(result: SiteAssessment, sites: tuple[str, ...]) -> list[tuple[str, str]]:
    """``(site_id, file name)`` of each ``--vda`` page (HTML and PDF), one per site named."""
    from cohesion_gis.hvm.assess import find_site

    site_ids = dict.fromkeys(str(find_site(result.sites, site)["site_id"]) for site in sites)
    pages = []
    for site_id in site_ids:  # `--vda Senaatintori --vda senaatintori`: one page
        stem = "vda_" + "".join(c if c.isalnum() else "_" for c in site_id)
        pages += [(site_id, f"{stem}{ext}") for ext in (".html", ".pdf")]
    return pages


def _write_vda_pages(
    city: City,
    result: SiteAssessment,
    pages: list[tuple[str, str]],
    folder: Path,
    *,
    options: HvmOptions,
    friction: SiteAssessment | None = None,
) -> None:
    """Write the ``--vda`` pages into ``folder`` (the staging folder of the assessment).

    ``options``: those of the assessment, ``params`` given (a stadium's egress zone is assessed
    with them); ``friction``: the same assessment at μ 1.0 (``friction_mu_sensitivity``), for
    the band.
    """
    from cohesion_gis.export import write_vda
    from cohesion_gis.hvm.barriers import level_changes
    from cohesion_gis.hvm.report import egress_assessment

    params = options.params or _hvm_params(block_unrated=False)
    levels = level_changes(
        city.barriers, city.walk_edges, min_height_m=params.level_change_min_height_m
    )
    zones: dict[str, SiteAssessment | None] = {}  # a stadium's egress zone, once per site
    for site_id, name in pages:
        if site_id not in zones:
            zones[site_id] = egress_assessment(city, result, site_id, options)
        write_vda(
            result, site_id, folder / name, buildings=city.buildings, streets=city.drive_edges,
            levels=levels, params=params, egress=zones[site_id], friction=friction,
        )  # fmt: skip


@main.group()
def scenario() -> None:
    """Scenario files: check them before running."""


@scenario.command("validate")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--with-city", is_flag=True, help="Also check every reference against the base city.")
@_friendly_errors
def scenario_validate(files: tuple[Path, ...], with_city: bool) -> None:
    """Check scenario FILES (schema, and with --with-city every id, name and geometry)."""
    from cohesion_gis.scenario import check_scenario, load_base, load_scenario

    for path in files:
        spec = load_scenario(path)
        if with_city:
            check_scenario(load_base(spec.base), spec)
        n = len(spec.interventions)
        _say(f"{path}: ok ({n} intervention{'' if n == 1 else 's'})", one_line=True)


@main.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@_OUT
@_OVERWRITE
@click.option("--no-hvm", is_flag=True, help="Compare cohesion only.")
@_friendly_errors
def compare(file: Path, out: Path, overwrite: bool, no_hvm: bool) -> None:
    """Run one scenario FILE beside its base; write the comparison tables and map."""
    from cohesion_gis._atomic import check_outputs
    from cohesion_gis.comparison import compare as run_compare
    from cohesion_gis.export import COMPARISON_NAMES, write_comparison
    from cohesion_gis.scenario import load_base, load_scenario

    check_outputs(out, COMPARISON_NAMES, overwrite=overwrite)
    spec = load_scenario(file)
    base = load_base(spec.base)
    result = run_compare(base, spec, hvm=not no_hvm)
    paths = write_comparison(base, result, out, overwrite=overwrite)
    _say("wrote " + ", ".join(str(p) for p in paths))
    for line in result.summary:
        _say(f"  {line}", one_line=True)


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("results"),
    show_default=True,
    help="Output folder: one sub-folder per scenario and summary.csv.",
)
@click.option("--workers", type=int, default=None, help="Start a local Dask cluster of N workers.")
@click.option(
    "--scheduler", default=None, help="Address of a running Dask scheduler (tcp://host:port)."
)
@click.option(
    "--no-resume", is_flag=True, help="Rerun scenarios even when their inputs are unchanged."
)
@_friendly_errors
def batch(
    files: tuple[Path, ...], out: Path, workers: int | None, scheduler: str | None, no_resume: bool
) -> None:
    """Run many scenario FILES (in-process, on a local Dask cluster, or an existing one)."""
    from cohesion_gis.batch import run

    result = run(files, out_dir=out, workers=workers, scheduler=scheduler, resume=not no_resume)
    _say(f"wrote {result.path}")
    _say(_table(result.summary))
    if len(result.failed):
        sys.exit(1)


@main.command("map")
@_source_options
@_OUT
@_OVERWRITE
@click.option(
    "--kind",
    type=click.Choice(["cohesion", "sites", "all"]),
    default="all",
    show_default=True,
    help="Which maps (scenario maps: `cohesion-gis compare`).",
)
@_PARAMS
@_hvm_options
@_friendly_errors
def map_command(
    *,
    out: Path,
    overwrite: bool,
    kind: str,
    params: Path | None,
    barriers: Path | None,
    vehicles: Path | list[str] | None,
    block_unrated: bool,
    dem: Path | None,
    **kwargs: Any,
) -> None:
    """Write offline HTML maps, PNG/PDF figures and the one-page summary for councillors.

    The maps are computed with the same options as ``score`` and ``hvm`` (``--params``,
    ``--barriers``, ``--vehicles``, ``--block-unrated``, ``--dem``), so they match those tables.
    """
    from cohesion_gis._atomic import check_outputs, staged_files
    from cohesion_gis.pipeline import MAP_NAMES, cohesion_maps, sites_maps, summary_page

    kinds = ("cohesion", "sites", "summary") if kind == "all" else (kind,)
    names = [n for k in kinds for n in MAP_NAMES[k]]
    check_outputs(out, names, overwrite=overwrite)
    from cohesion_gis.cohesion import CohesionParams
    from cohesion_gis.params import load_params

    cohesion_params = load_params(CohesionParams, params)  # read before the study area loads
    city = _load(kwargs)
    scores = sites = None
    with staged_files(out, names, overwrite=overwrite) as stage:  # every file or none
        if kind in ("cohesion", "all"):
            from cohesion_gis.cohesion import score_districts

            scores = score_districts(city, cohesion_params, sensitivity=False)
            cohesion_maps(city, scores, stage)
        if kind in ("sites", "all"):
            from cohesion_gis.hvm.assess import assess_sites

            hvm_params = _hvm_params(block_unrated)
            sites = assess_sites(
                city, vehicles=vehicles, barriers=barriers, params=hvm_params, dem=dem
            )
            sites_maps(city, sites, stage)
        if scores is not None and sites is not None:
            summary_page(city, scores, sites, stage)
    _say("wrote " + ", ".join(str(out / n) for n in names))


@main.command()
@_source_options
@_OUT
@_OVERWRITE
@click.option(
    "--scenarios",
    "scenarios",
    cls=_ManyValues,
    multiple=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Scenario files to run beside the base (default: scenarios/*.toml when the study "
    "area is the embedded default).",
)
@click.option(
    "--layers-out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Where to write the layers GeoPackage (default: OUT/<name>_layers.gpkg).",
)
@_friendly_errors
def demo(
    *,
    out: Path,
    overwrite: bool,
    scenarios: tuple[Path, ...],
    layers_out: Path | None,
    **kwargs: Any,
) -> None:
    """The main job: layers, cohesion scores, site assessment, scenarios and maps in one folder.

    Resumable: rerun the same command after an interruption and finished steps are skipped.
    """
    from cohesion_gis._atomic import check_outputs
    from cohesion_gis.city import default_name
    from cohesion_gis.pipeline import run_study, study_outputs

    # every output declared and checked before computing (which exist is decided by resume)
    name = kwargs["name"] or default_name(kwargs["pbf"], kwargs["osm_xml"], kwargs["place"])
    examples = not (kwargs["pbf"] or kwargs["osm_xml"] or kwargs["place"])  # as run_study
    declared = study_outputs(
        name, out, layers_path=layers_out, scenarios=bool(scenarios) or examples
    )
    for folder in dict.fromkeys(p.parent for p in declared):
        check_outputs(folder, [p.name for p in declared if p.parent == folder], overwrite=True)
    city = _load(kwargs)
    written = run_study(
        city, out, layers_path=layers_out, overwrite=overwrite, scenarios=scenarios or None
    )
    for step, paths in written.items():
        _say(f"{step}: " + ", ".join(str(p) for p in paths))


if __name__ == "__main__":
    main()
