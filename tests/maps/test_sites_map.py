import json
import re

import pytest

from cohesion_gis.errors import InputError
from cohesion_gis.maps import sites_map

EVIL = "<script>alert(1)</script>"


def test_sites_map_layers_popups_and_escaping(helsinki):
    m = sites_map(
        helsinki.sites,
        helsinki.approaches,
        entries=helsinki.entries,
        barriers=helsinki.barriers,
        gaps=helsinki.gaps,
        streets=helsinki.streets,
    )
    page = m.get_root().render()
    for name in (
        "Site areas",
        "Vehicle approach routes",
        "Crowded sites (circle size = people)",
        "Entries",
        "Barriers",
        "Gaps in the barrier line",
    ):
        assert f'"{name}"' in page
    assert "Barrier rating needed" in page and "not crash-rated" in page
    assert "capacity_persons" not in page and "impact_speed_kmh" not in page
    assert EVIL not in page


def test_sites_need_their_columns(helsinki):
    with pytest.raises(InputError, match=r"approaches: columns \['impact_speed_kmh'\]"):
        sites_map(helsinki.sites, helsinki.approaches.drop(columns="impact_speed_kmh"))


def test_site_popup_speaks_plainly(helsinki):
    sites = helsinki.sites.assign(
        kinds=["nightclub; mall; square"] + [None] * (len(helsinki.sites) - 1),
        required_rating="ISO 22343-1: V/1500[M1]/>80/90: design speed 165.6 km/h exceeds ...",
    )
    page = sites_map(sites, helsinki.approaches).get_root().render()
    assert "nightclub, mall, square" in page  # a precinct is not "a nightclub"
    assert "no barrier at the site" in page  # the apostrophe is an entity, escaped in JSON
    assert "s edge: a 1.5 t car (M1) would arrive faster" in page
    assert "Worst case assumed: a driver accelerating as hard as the vehicle can" in page
    assert "<title>Crowded sites and hostile-vehicle approaches</title>" in page


def test_a_site_of_unknown_capacity_gets_the_smallest_circle(helsinki):
    # Malta's stations have no capacity: their circles had a NaN radius (drawn as nothing, and
    # a console error per circle)
    sites = helsinki.sites.assign(capacity_persons=float("nan"))
    page = sites_map(sites, helsinki.approaches).get_root().render()
    styles = json.loads(re.search(r'"styles": (\[\{"color": "#222222".*?\}\])', page).group(1))
    assert {s["radius"] for s in styles} == {5.0}


def test_a_site_far_outside_the_study_area_does_not_set_the_view(helsinki, caplog):
    # Monaco's extract holds an attraction 85 km west of the city: the sites map, its figure and
    # the summary's sites panel were framed on it, Monaco a blob at the edge
    import geopandas as gpd
    from shapely.affinity import translate

    from cohesion_gis.maps.static import sites_figure

    districts = helsinki.districts
    study = gpd.GeoDataFrame(geometry=[districts.union_all()], crs=districts.crs)
    stray = helsinki.sites.copy()
    stray.loc[stray.index[-1], "geometry"] = translate(stray.geometry.iloc[-1], xoff=-85_000)
    stray.loc[stray.index[-1], "name"] = "La Mesclaa"
    with caplog.at_level("WARNING"):
        page = sites_map(stray, helsinki.approaches, study_area=study).get_root().render()
    assert "1 of 8 sites lie outside the study area" in caplog.text and "La Mesclaa" in caplog.text
    (bounds,) = re.findall(r"var b = (\[\[.*?\]\]);", page)
    (south, west), (north, east) = json.loads(bounds)
    area = study.to_crs(4326).total_bounds
    assert (west, south, east, north) == pytest.approx(tuple(area), abs=1e-6)
    ax = sites_figure(stray, helsinki.approaches, study_area=study).axes[0]
    x0, _, x1, _ = study.total_bounds
    assert ax.get_xlim()[0] > x0 - 0.1 * (x1 - x0)  # the stray site 85 km west is off the page


def test_first_sites_carry_their_priority_without_a_click(helsinki):
    # the header says "ranked by risk (1 = act first)" but the map showed no rank (review, 8)
    page = sites_map(helsinki.sites, helsinki.approaches).get_root().render()
    n = min(10, len(helsinki.sites))
    assert f"Priority of the first {n} sites (1 = act first)" in page
    labels = re.findall(r'class=\\"cg-label\\"\\u003e(\d+)\\u003c/div', page)
    assert sorted(map(int, labels)) == list(range(1, n + 1))


def test_site_popup_names_the_fastest_class_and_says_risk_as_the_legend(helsinki):
    # the popup gave "Fastest vehicle arrival 151 km/h" with no vehicle, under a lorry's rating,
    # and "people × vulnerability × attractiveness" where the legend says "how fast … appeal"
    sites = helsinki.sites.assign(
        max_arrival_speed_kmh=151.0, max_arrival_speed_kmh_M1=151.0, max_arrival_speed_kmh_N3C=96.0
    )
    page = sites_map(sites, helsinki.approaches).get_root().render()
    assert "151 km/h (class M1)" in page
    assert "people × how fast a vehicle can arrive × appeal as a target" in page
    assert "people × vulnerability" not in page
