"""cohesion_gis.protect: designed barrier schemes, verified by re-running the assessment."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

import cohesion_gis as cg
from cohesion_gis.comparison import compare
from cohesion_gis.errors import InputError, ParameterError
from cohesion_gis.hvm import parse_rating, required_rating
from cohesion_gis.hvm.params import HvmParams
from cohesion_gis.params import load_params
from cohesion_gis.protect import (
    ProtectParams,
    _summary,
    closure_cost,
    line_speed_kmh,
    protect,
    rating_words,
    scheme_html,
    write_protection,
)
from cohesion_gis.scenario import apply, load_scenario

# A small place of worship in Kamppi with four open approaches on the 2019 extract.
SITE = "Hehku"


@pytest.fixture(scope="module")
def scheme(helsinki: cg.City):
    # the assessment's own 500 m horizon keeps the test quick; the default is 1,000 m
    return protect(helsinki, SITE, params=replace(load_params(ProtectParams), horizon_m=500.0))


def test_line_speed_follows_uniform_acceleration() -> None:
    # 0 -> 60 km/h over 100 m: v² grows linearly with distance, so 25 m in gives 30 km/h
    assert line_speed_kmh(0.0, 60.0, 100.0, 25.0) == pytest.approx(30.0)
    assert line_speed_kmh(40.0, 60.0, 100.0, 100.0) == pytest.approx(60.0)
    # braking: the fastest point before the line is the segment's start
    assert line_speed_kmh(60.0, 20.0, 100.0, 50.0) == 60.0


def test_scheme_stops_every_approach_and_costs_no_walking_access(scheme) -> None:
    assert scheme.open_before > 0
    assert scheme.open_after == 0, scheme.note
    assert "stop all" in scheme.note
    homes = scheme.comparison.homes
    assert (homes["access_delta"] >= -1e-12).all()  # bollard lines leave walkers through
    after = scheme.comparison.after.hvm.approaches
    mine = after.loc[after["site_id"] == scheme.site["site_id"]]
    stopped = mine["blocked_by"].fillna("").astype(str) != ""
    assert (stopped | (mine["impact_speed_kmh"].fillna(0) == 0)).all()
    assert stopped.any()  # stopped by the scheme's lines, not by chance


def test_every_line_is_rated_above_what_reaches_it(scheme) -> None:
    params = load_params(ProtectParams)
    classes = [c.removeprefix("rating_") for c in scheme.lines if c.startswith("rating_")]
    rated = scheme.lines.loc[scheme.lines["kind"] == "rated line"]
    assert len(rated) >= 1
    for line in rated.itertuples():
        asked = [c for c in classes if getattr(line, f"rating_{c}")]
        assert asked, line.line_id
        for cls in asked:
            rating = parse_rating(getattr(line, f"rating_{cls}"))
            speed = getattr(line, f"speed_kmh_{cls}")
            # the one +10 % allowance, credited up to (test + 0.5) / 1.1; speeds shown to 0.1
            assert (rating.speed_kmh + 0.5) / 1.1 >= speed - 0.05
            assert rating.penetration_m <= line.standoff_m + 1e-9
            assert 32 <= rating.speed_kmh <= 80  # the tested range of the NPSA catalogue
            assert rating.penetration_m <= 25.0  # ISO 22343-1 classifies penetration up to 25 m
            assert getattr(line, f"angle_deg_{cls}") == 90.0  # square to the street: head-on
            form = next(f for f in params.forms if f.name == line.form_type)
            assert rating.speed_kmh <= form.max_test_speed_kmh  # the form is tested that fast
        assert line.length_m >= line.width_m + 2.0 - 1e-9  # kerb to kerb at least, then façades
        assert line.open_ends in (0, 1, 2)
        reasons = [r for r in line.open_end_reasons.split("; ") if r]
        assert len(reasons) == line.open_ends  # every open end says why
        assert line.gap_m <= 1.2  # walkers pass (DfT TAL 01/11)
        assert line.what_it_stops.startswith("stops a ")
        assert line.standoff_m <= params.max_standoff_m
        assert math.isfinite(line.cost_units) and line.cost_units > 0


def test_written_scheme_reproduces_no_open_approach(scheme, helsinki, tmp_path: Path) -> None:
    paths = write_protection(scheme, helsinki, tmp_path)
    scenario = load_scenario(paths["scenario"])
    n_ratings = sum(
        bool(getattr(line, c))
        for line in scheme.lines.itertuples()
        for c in scheme.lines.columns
        if c.startswith("rating_")
    )
    n_closures = int((scheme.lines["kind"] == "closure").sum())
    assert len(scenario.interventions) == n_ratings + n_closures
    assert {i.type for i in scenario.interventions} <= {"add_barrier", "close_road"}
    assert scenario.hvm_params().search_horizon_m == 500.0  # compared as designed
    # compared afresh from the file, the scheme leaves the site no open approach
    again = compare(helsinki, scenario, base=scheme.comparison.base)
    after = again.after.hvm.approaches
    mine = after.loc[after["site_id"] == scheme.site["site_id"]]
    held = mine["protected_by"].fillna("").astype(str) != ""
    assert len(mine) and ((mine["impact_speed_kmh"].fillna(0) == 0) | held).all()
    summary = paths["summary"].read_text(encoding="utf-8")
    assert '"open_approaches_after": 0' in summary and "no hostile vehicle starts" in summary
    assert '"open_line_end_reasons": [' in summary  # every open end and why, for the client
    figures = json.loads(summary)  # rounded to what they resolve (0.1 m, whole units)
    assert figures["total_length_m"] == round(figures["total_length_m"], 1)
    assert isinstance(figures["cost_units"], int)
    page = paths["page"].read_text(encoding="utf-8")
    assert page == scheme_html(scheme)
    assert b"/Count 1" in paths["pdf"].read_bytes()  # the PDF summary: one page
    assert "Approaches left open" in page and "<li>none</li>" in page
    assert paths["map"].stat().st_size > 10_000
    from cohesion_gis.hvm.barriers import read_rated_barriers

    with pytest.raises(InputError, match=r"cohesion-gis hvm --scenario protect_<site>\.toml"):
        # a line table is not a barrier layer: the error says what to run instead
        read_rated_barriers(paths["lines"], crs=helsinki.crs, layer="barrier_lines")
    with pytest.raises(InputError, match="previous run"):
        write_protection(scheme, helsinki, tmp_path)  # all or nothing: refused, nothing written
    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(InputError, match="other files"):
        write_protection(scheme, helsinki, tmp_path, overwrite=True)
    assert (tmp_path / "notes.txt").exists()


def test_rating_words_and_closure_cost_by_hand() -> None:
    params = load_params(ProtectParams)
    need = required_rating(40.0, "N2A", standoff_m=3.25)  # 40 × 1.1 = 44 → 48 km/h test
    assert rating_words({"N2A": need}) == (
        "stops a 7.2 t truck (N2A) at 48 km/h, head-on (90°), moving no more than 3.2 m"
    )
    # 10 m deep × (7 m + 2 × 1 m) × 0.15 units/m² × (1 + 0.25) × (1 + 1.0 × 50/100)
    assert closure_cost(7.0, 50.0, params) == pytest.approx(10 * 9 * 0.15 * 1.25 * 1.5)


def test_bad_parameters_are_refused(tmp_path: Path) -> None:
    text = Path(cg.__file__).with_name("defaults").joinpath("protect.toml").read_text("utf-8")
    wide = tmp_path / "wide.toml"
    wide.write_text(text.replace("gap_m = 1.2 ", "gap_m = 1.5 ", 1), encoding="utf-8")
    with pytest.raises(ParameterError, match=r"wide.toml.*1.2 m"):
        load_params(ProtectParams, wide)
    bad = tmp_path / "bad.toml"  # a partial file: only what it gives is checked and used
    bad.write_text("[closure]\ndepth_m = -1\n[forms.kerb]\nlabel = 'kerb'\n", encoding="utf-8")
    with pytest.raises(ParameterError) as info:
        load_params(ProtectParams, bad)
    assert "`closure.depth_m` = -1" in str(info.value)
    assert "[forms.kerb] needs max_test_speed_kmh" in str(info.value)


def test_closures_where_vehicles_are_slow(helsinki, scheme) -> None:
    # landscaping made cheap and credited up to 60 km/h: the cheapest cut is a closure of a
    # street every class drives along slowly; its scenario removes exactly that street
    from cohesion_gis.protect import _add_routes, _cut, _lines, _scheme

    params = load_params(ProtectParams)
    cheap = replace(params.closure, cost_per_m2=0.01, max_speed_kmh=60.0)
    params = replace(params, closure=cheap)
    pool, routes = {}, []
    _add_routes(pool, routes, scheme.approaches_before, params.placement_m)
    design = replace(load_params(HvmParams), test_speeds_kmh=tuple(params.cost_per_m))
    cut = _cut(helsinki, pool, routes, params, design)
    assert cut.closures and not cut.needs  # one closure stops every class's routes
    for peaks in cut.closures.values():
        assert max(peaks.values()) <= 60.0
    lines = _lines(helsinki, cut, pool, params)
    assert set(lines["form_type"]) == {"closure"} and (lines["length_m"] == 10.0).all()
    scenario = _scheme(helsinki, scheme.site, lines, params.classes, {})
    assert [i.type for i in scenario.interventions] == ["close_road"] * len(lines)
    closed = apply(helsinki, scenario)
    assert len(closed.drive_edges) == len(helsinki.drive_edges) - len(lines)
    assert closed.walk_edges is helsinki.walk_edges  # walkers keep the street
    assert "street closure with landscaping" in lines["form"].iloc[0]


def test_classes_not_assessed_are_refused(helsinki) -> None:
    with pytest.raises(InputError, match="N3G are not assessed"):
        protect(helsinki, SITE, classes=["M1", "N3G"])
    with pytest.raises(InputError, match="verify"):
        protect(helsinki, SITE, verify="some")


def test_site_verification_designs_the_same_scheme(helsinki, scheme, tmp_path: Path) -> None:
    # the site searched alone on the whole network gives its rows of the full assessment, so
    # the quick mode starts from the same threats and designs the same lines
    quick = protect(
        helsinki, SITE, params=replace(load_params(ProtectParams), horizon_m=500.0), verify="site"
    )
    assert quick.open_before == scheme.open_before and quick.open_after == 0, quick.note
    assert quick.lines.geometry.geom_equals_exact(scheme.lines.geometry, 1e-6).all()
    assert quick.comparison.after.hvm is None  # other sites not re-assessed
    assert (quick.comparison.homes["access_delta"] >= -1e-12).all()
    paths = write_protection(quick, helsinki, tmp_path)
    assert paths["map"].is_file() and "<li>none</li>" in paths["page"].read_text("utf-8")


def test_unknown_site_names_close_ones(helsinki) -> None:
    with pytest.raises(InputError, match="Senaatintori"):
        protect(helsinki, "Senaattintori")


def test_params_a_partial_file_and_its_problems(tmp_path) -> None:
    mine = tmp_path / "protect.toml"
    mine.write_text("margin_m = 0.5\n[cost_per_m]\n96 = 3.0\n")
    params, packaged = load_params(ProtectParams, mine), load_params(ProtectParams)
    assert params.margin_m == 0.5 and params.horizon_m == packaged.horizon_m
    assert list(params.cost_per_m) == [32.0, 48.0, 64.0, 80.0, 96.0]
    mine.write_text(
        "max_rounds = 0\nhorizon_m = inf\nclasses = []\nwidth = 3\n[cost_per_m]\nfast = 1\n"
    )
    with pytest.raises(ParameterError) as info:
        load_params(ProtectParams, mine)
    text = str(info.value)
    assert text.startswith(f"{mine}: unknown key `width`")
    for field in ("horizon_m", "max_rounds", "cost_per_m.fast", "classes"):
        assert f"`{field}`" in text


def test_kerbside_line_stands_on_the_footway_along_the_kerb() -> None:
    # VDA review item 4: lines square to the segment joining the entry to the crowd's nearest
    # point came out oblique, in the running lane and into the crowd; now parallel to the kerb
    from shapely.geometry import LineString, box

    from cohesion_gis.protect import KERB_HALF_M, KERB_SETBACK_M, _kerb

    crowd = box(0.0, 0.0, 50.0, 50.0)
    streets = gpd.GeoDataFrame(
        {"name": ["Front street", "Service lane", "Into the square"], "osm_id": [1, 2, 3],
         "width_m": [6.0, 4.0, 6.0]},
        geometry=[LineString([(-40, 56), (90, 56)]), LineString([(43, 56), (43, 51)]),
                  LineString([(-5, 25), (-30, 25)])],
        crs=32635,
    )  # fmt: skip
    kerb = _kerb((20.0, 56.0), crowd, 0.6, streets, 7.0)  # an entry 6 m north of the crowd
    assert kerb is not None
    (_, y0), (_, y1) = kerb.line.coords
    assert y0 == pytest.approx(56.0 - 3.0 - KERB_SETBACK_M) == y1  # kerb + 0.5 m, parallel
    assert kerb.line.length == pytest.approx(2 * KERB_HALF_M)
    assert not kerb.line.intersects(crowd)  # never in the crowd
    assert kerb.line.distance(LineString([(-40, 56), (90, 56)])) >= 3.0  # never in the lane
    assert kerb.setback_m == pytest.approx(2.5 - 0.6)  # to the crowd, less the band's half
    assert kerb.closes == ()
    # further east the line runs across the service lane's carriageway: it closes that street
    assert _kerb((35.0, 56.0), crowd, 0.6, streets, 7.0).closes == ("Service lane",)
    # a street running straight at the crowd takes a line across it, not along it, also where
    # the crowd's nearest edge is a wing beside the street (the precinct's first version)
    assert _kerb((-1.0, 25.0), crowd, 0.6, streets, 7.0) is None
    winged = crowd.union(box(-9.0, 27.5, 0.0, 29.0))
    assert _kerb((-4.0, 25.0), winged, 0.6, streets, 7.0) is None
    # a wide carriageway reaching the crowd's edge leaves no footway to stand on
    assert _kerb((20.0, 53.0), crowd, 0.6, streets.assign(width_m=6.0), 7.0) is None


@pytest.fixture(scope="module")
def senaatintori(helsinki: cg.City):
    return protect(helsinki, "Senaatintori", verify="site")


def test_senaatintori_is_protected_after_chicanes_on_unioninkatu(senaatintori, helsinki) -> None:
    from cohesion_gis.hvm.sites import soft_target_sites

    # its fastest approaches run along the square on Unioninkatu at up to 160 km/h, beyond
    # every test (since the VDA scores each envelope band at its worst edge, d5731f3, no
    # kerbside line holds them): the ring round the square must cross Unioninkatu, so a chicane
    # on each side of the square slows it (its build-outs are met at 159-160 km/h: permanent
    # structures, no product) and the ring closes with rated lines just past them
    result = senaatintori
    # 32 along its streets and 16 straight on from street ends facing it (hvm.overrun: 4
    # over-run entries, Sofiankatu head-on at M1 107 km/h, x 4 classes)
    assert result.open_before == 48
    assert result.open_after == 0, result.note
    chicanes = result.lines.loc[result.lines["kind"] == "chicane"]
    n = len(chicanes)
    assert n >= 2 and "Unioninkatu" in set(chicanes["street"])
    fast = chicanes.loc[chicanes["speed_kmh_M1"] > 80.0]  # met above every test: structures
    assert len(fast) >= 2 and all("structural build-outs" in r for r in fast["requirement"])
    kinds = [iv.type for iv in result.scenario.interventions]
    assert kinds[:n] == ["chicane"] * n and "chicane" not in kinds[n:]
    for line in result.lines.loc[result.lines["kind"] != "chicane"].itertuples():
        for cls in ("M1", "N1", "N2A", "N3C"):
            if getattr(line, f"rating_{cls}"):
                rating = parse_rating(getattr(line, f"rating_{cls}"))
                assert rating.speed_kmh <= 80.0  # within the tested range
                assert (rating.speed_kmh + 0.5) / 1.1 >= getattr(line, f"speed_kmh_{cls}")
    assert "chicanes" in result.note
    assert (result.comparison.homes["access_delta"] >= -1e-12).all()
    # its kerbside line along Unioninkatu is written as one continuous line (it holds glancing
    # runs, hvm.impact.CONTINUOUS_KINDS), and stands on the footway: off the street, off the crowd
    kerbside = result.lines.loc[result.lines["kind"] == "kerbside line"]
    written = {
        iv.options["barrier_id"].split(":")[0]: iv.options["kind"]
        for iv in result.scenario.interventions
        if iv.type == "add_barrier"
    }
    assert len(kerbside) and {written[line] for line in kerbside["line_id"]} == {"rail"}
    sites = soft_target_sites(helsinki)
    crowd = sites.loc[sites["site_id"] == result.site["site_id"]].geometry.iloc[0]
    assert (kerbside.geometry.intersection(crowd).length < 1e-6).all()  # VDA review item 4


def test_cli_writes_the_scheme_its_map_and_page(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from cohesion_gis.cli import main

    out = tmp_path / "scheme"
    args = ["protect", "--site", SITE, "--verify", "site", "--out", str(out)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "stop all 4 open approaches" in result.output
    names = {p.name for p in out.iterdir()}
    assert {"scheme_map.html", "scheme_summary.html", "scheme_summary.pdf"} <= names
    assert any(n.endswith(".toml") for n in names)
    again = CliRunner().invoke(main, args)  # an earlier scheme is not replaced silently
    assert again.exit_code != 0 and "--overwrite" in again.output
    assert CliRunner().invoke(main, [*args, "--overwrite"]).exit_code == 0


#: Kamppi, as the CLI tests load it, and a point on Postikatu where a chicane can be built.
KAMPPI = ["--bbox", "24.930", "60.166", "24.942", "60.172"]
POSTIKATU = "POINT (24.938037 60.170876)"


def test_hvm_assesses_a_scheme_with_chicanes(tmp_path: Path) -> None:
    # a protect scheme holds chicanes (street changes), which --barriers cannot carry; the
    # user's hvm run, and its --vda pages, take the scheme file as compare does
    from click.testing import CliRunner

    from cohesion_gis.cli import main

    scheme = tmp_path / "scheme.toml"
    scheme.write_text(
        f"""name = "kamppi chicane"
[base]
source = "helsinki"
[parameters.hvm]
search_horizon_m = 300.0
[[interventions]]
type = "chicane"
geometry = "{POSTIKATU}"
[[interventions]]
type = "add_barrier"
geometry = "LINESTRING (24.93790 60.17080, 24.93820 60.17095)"
rating = "V/7200[N3C]/48/90:1.0"
barrier_id = "line/0"
""",
        encoding="utf-8",
    )
    out = tmp_path / "hvm"
    result = CliRunner().invoke(
        main, ["hvm", *KAMPPI, "--scenario", str(scheme), "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    audit = (out / "hvm_audit.json").read_text(encoding="utf-8")
    assert '"search_horizon_m": 300.0' in audit  # the scheme's own parameters
    both = ["hvm", *KAMPPI, "--scenario", str(scheme), "--barriers", str(scheme),
            "--out", str(tmp_path / "no")]  # fmt: skip
    refused = CliRunner().invoke(main, both)
    assert refused.exit_code != 0 and "give one" in refused.output
    assert not (tmp_path / "no").exists()


def test_an_open_end_is_tied_to_the_nearest_obstacle_on_its_side() -> None:
    # a line's kerb end at (0, 4) facing north (+y); a façade 10 m north-east, a wall behind
    # the street (south), a service lane between: the tie goes to the façade, never back
    # across the street, and a street in the way keeps the end open with the reason
    from shapely.geometry import LineString, box

    from cohesion_gis.protect import _ONTO_SITE, _Ground, _tie

    facade = box(6.0, 12.0, 20.0, 30.0).boundary
    wall = LineString([(-5.0, -10.0), (5.0, -10.0)])
    obstacles = np.array([facade, wall], dtype=object)

    def ground(streets, crowd=None):
        streets = np.array(streets, dtype=object)
        return _Ground(
            obstacles, np.array(["building façade", "retaining wall"], dtype=object),
            shapely.STRtree(obstacles), streets, np.array(["Lane"] * len(streets), object),
            shapely.STRtree(streets), crowd,
        )  # fmt: skip

    point, kind = _tie((0.0, 4.0), (0.0, 1.0), 4.0, ground([]), 60.0)
    assert kind == "building façade" and point == pytest.approx((6.0, 12.0))
    # the wall 14 m south lies back across the street: never a tie for the north end
    point, why = _tie((0.0, 4.0), (0.0, 1.0), 4.0, ground([]), 9.0)
    assert point is None and why.startswith("no façade") and "9 m" in why
    lane = LineString([(-50.0, 8.0), (50.0, 8.0)])  # a through street between end and façade
    point, why = _tie((0.0, 4.0), (0.0, 1.0), 4.0, ground([lane]), 60.0)
    assert point is None and why == "every façade within 60 m lies across Lane"
    site = box(-1.0, 6.0, 30.0, 40.0)  # the protected site between end and façade
    point, why = _tie((0.0, 4.0), (0.0, 1.0), 4.0, ground([], site), 60.0)
    assert point is None and why == _ONTO_SITE


def test_senaatintori_lines_are_tied_or_say_why_not(senaatintori, helsinki) -> None:
    # before ties, 11 of the scheme's 28 line ends met no façade within 20 m; a line whose end
    # opens onto the square itself is no longer offered (a car going round it is in the crowd).
    # Since closures must be tied too (VDA review item 11) the ring round the square no longer
    # closes with two untied ones, and the two lines near it leave 3 ends open, each because
    # every façade within 60 m lies across a through street (Pohjoisesplanadi, Unioninkatu)
    lines = senaatintori.lines
    across = lines.loc[lines["kind"] == "rated line"]
    # the ring also closes off the streets ending facing the square (over-run legs), further
    # out where façades are across other streets: a few more open ends, each saying why
    assert int(lines["open_ends"].sum()) <= 8
    assert all("lies across" in r for r in lines["open_end_reasons"] if r)
    assert not any("protected site" in r for r in lines["open_end_reasons"])
    assert len(lines) >= 1  # since main's bends across junctions: kerbside lines only
    for line in across.itertuples():
        assert line.length_m == pytest.approx(line.geometry.length)  # ties are costed
        assert line.open_ends + len([t for t in line.tied_to.split("; ") if t]) == 2
    # a street a kerbside line or a tie runs across is closed by it: named and counted
    edges = helsinki.drive_edges
    named = edges["name"].where(edges["name"].notna(), edges["osm_id"].astype(str))
    closed = []
    for line in lines.itertuples():
        for street in filter(None, str(line.closes_streets or "").split("; ")):
            assert street in set(named[edges.intersects(line.geometry)]), line.line_id
            closed.append(street)
    figures = _summary(senaatintori)
    assert len(figures["streets_closed_by_lines"]) == len(closed)
    assert figures["closures"] == int((lines["kind"] == "closure").sum()) + len(closed)


def test_pdf_page_is_one_page_and_no_text_is_cut(senaatintori, helsinki, tmp_path) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.text import Text

    from cohesion_gis.maps.static import PAGE_MARGIN_MM, save_pdf
    from cohesion_gis.protect import scheme_figure

    site = senaatintori.site.copy()
    site["name"] = "Senaatintori $\\frac$ <b>x</b>"  # mathtext or markup from OSM: drawn as text
    # a crowded page: twice the lines, the longest texts, two open ends each, 32 approaches open
    lines = pd.concat([senaatintori.lines] * 2, ignore_index=True)
    lines["what_it_stops"] = max(lines["what_it_stops"], key=len)
    rated = lines["kind"] == "rated line"
    lines.loc[rated, "open_ends"] = 2
    lines.loc[rated, "open_end_reasons"] = "; ".join(
        [f"every façade within 60 m lies across {s}" for s in ("Pohjoisesplanadi", "Unioninkatu")]
    )
    hostile = replace(
        senaatintori,
        site=site,
        lines=gpd.GeoDataFrame(lines, geometry="geometry", crs=senaatintori.lines.crs),
        approaches_after=senaatintori.approaches_before,
    )
    fig = scheme_figure(hostile, streets=helsinki.drive_edges, buildings=helsinki.buildings)
    canvas = FigureCanvasAgg(fig)
    canvas.draw()  # a $...$ pair read as mathtext would fail here
    renderer = canvas.get_renderer()
    page = fig.bbox.padded(-PAGE_MARGIN_MM / 25.4 * fig.dpi)  # A4 less its margins
    drawn = [*fig.texts]  # the heading, the footer, then what the panels draw (no tick labels)
    for ax in fig.axes:
        drawn += [c for c in ax.get_children() if isinstance(c, Text)]
        drawn += [t for legend in [ax.get_legend()] if legend for t in legend.get_texts()]
        drawn += [c.get_text() for table in ax.tables for c in table.get_celld().values()]
    texts = [t for t in drawn if t is not None and t.get_text().strip()]
    assert any("<b>x</b>" in t.get_text() and "\\$" in t.get_text() for t in texts)
    for text in texts:  # every text on the page
        box = text.get_window_extent(renderer)
        assert box.x0 >= page.x0 - 1 and box.x1 <= page.x1 + 1, text.get_text()
        assert box.y0 >= page.y0 - 1 and box.y1 <= page.y1 + 1, text.get_text()
    for ax in fig.axes:
        panel = ax.get_window_extent(renderer)
        if not ax.axison:  # a text panel holds its text
            for text in ax.texts:
                box = text.get_window_extent(renderer)
                assert box.y0 >= panel.y0 - 1 and box.x1 <= panel.x1 + 1, text.get_text()
            for other in fig.axes:  # ... clear of every other panel (no overprint)
                if other is not ax and ax.texts:
                    box = ax.texts[0].get_window_extent(renderer)
                    assert not box.overlaps(other.get_window_extent(renderer)), ax.texts
        for table in ax.tables:  # the table keeps to its panel (not over the footer) ...
            assert table.get_window_extent(renderer).y0 >= panel.y0 - 1
        for table in ax.tables:  # ... and every cell holds its text
            for cell in table.get_celld().values():
                inner, outer = (
                    cell.get_text().get_window_extent(renderer),
                    cell.get_window_extent(renderer),
                )
                assert inner.width <= outer.width + 1 and inner.height <= outer.height + 1
    assert b"/Count 1" in save_pdf(fig, tmp_path / "page.pdf").read_bytes()


def test_a_misspelt_site_fails_before_the_analysis(helsinki, monkeypatch) -> None:
    # planner review, defect 14: `protect --site Kauppatorii` was silent for 300 s: the name
    # was checked only after assessing every site
    import cohesion_gis.comparison

    def never(*args, **kwargs):
        raise AssertionError("the analysis ran before the site name was checked")

    monkeypatch.setattr(cohesion_gis.comparison, "analyse", never)
    with pytest.raises(InputError, match="'Senaatintorri'; close names: Senaatintori"):
        protect(helsinki, "Senaatintorri")
