import json
import re

import pytest

from cohesion_gis.errors import InputError
from cohesion_gis.maps import scenario_map, score_change


def test_score_change_by_district(helsinki, scenario_districts):
    change = score_change(helsinki.districts, scenario_districts).set_index("district_id")
    assert change.loc["d03", "score_change"] == pytest.approx(12.0)
    assert change.loc["d07", "score_change"] == pytest.approx(-4.0)
    assert (change.drop(index=["d03", "d07"])["score_change"] == 0).all()
    assert "score_change" not in scenario_districts  # argument untouched


def test_score_change_needs_the_same_districts(helsinki, scenario_districts):
    with pytest.raises(InputError, match=r"only in base: \['d01'\]"):
        score_change(helsinki.districts, scenario_districts.iloc[1:])


def test_scenario_map_is_two_maps_with_the_change_layer(helsinki, scenario_districts):
    dual = scenario_map(helsinki.districts, scenario_districts, scenario_name="New park")
    page = dual.get_root().render()
    assert page.count("L.map(") == 2
    assert '"Cohesion score today"' in page and '"Change in score"' in page
    assert '"Cohesion score with the scenario"' in page
    assert "<title>Scenario: New park</title>" in page
    assert "+12.0 points" in page and "-4.0 points" in page


def test_change_labels_read_apart_across_classes(helsinki, scenario_districts):
    # the car park scenario's map: Kamppi +0.12 in "gained 0.1 – 0.2", Kaartinkaupunki +0.08 in
    # "gained up to 0.1", both labelled "+0.1 points" in different colours
    from matplotlib.figure import Figure

    from cohesion_gis.maps.static import scenario_figure

    small = helsinki.districts.copy()
    small["score"] = small["score"] + small["district_id"].map({"d03": 0.12, "d07": 0.08}).fillna(
        0.0
    )
    page = scenario_map(helsinki.districts, small, scenario_name="Pocket park").get_root().render()
    assert "+0.12 points" in page and "+0.08 points" in page
    assert "+0.1 points" not in page
    fig = scenario_figure(helsinki.districts, small)
    assert isinstance(fig, Figure)
    labels = {t.get_text().split("\n")[-1] for t in fig.axes[1].texts}
    assert {"+0.12 points", "+0.08 points"} <= labels


def test_scenario_pages_lead_with_what_changes_most(helsinki, scenario_districts):
    # a barrier scheme's page showed "no change" everywhere and nothing on vehicles (review, 3)
    from cohesion_gis.maps.static import scenario_figure

    headline = (
        "Aleksanterinkatu and 12 more: worst M1 arrival speed 151 → 0 km/h",
        "Senaatintori: risk 80 → 16",
    )
    page = scenario_map(
        helsinki.districts, scenario_districts, scenario_name="barriers", headline=headline
    ).get_root().render()  # fmt: skip
    assert "What changes most: Aleksanterinkatu and 12 more: worst M1 arrival speed 151" in page
    assert "Senaatintori: risk 80" in page  # the arrow is a JSON escape in the page
    fig = scenario_figure(helsinki.districts, scenario_districts, headline=headline)
    (footer,) = [t.get_text() for t in fig.texts if t.get_gid() == "cg-footer"]
    text = footer.replace("\n", " ")
    assert text.startswith("What changes most: Aleksanterinkatu") and "risk 80 → 16" in text


def test_only_the_approaches_a_scenario_changes_are_drawn_and_stopped_ones_marked(helsinki):
    # before and after looked alike: every approach of every touched site was drawn (review, 3)
    from cohesion_gis.maps.scenario import approach_changes, site_speed_labels
    from cohesion_gis.maps.static import scenario_figure

    base = helsinki.approaches
    first = base["site_id"] == base["site_id"].iloc[0]
    second = base["site_id"] == base["site_id"].iloc[-1]
    after = base.assign(
        impact_speed_kmh=base["impact_speed_kmh"].where(~first, 0.0).where(~second, 10.0)
    ).drop(index=base.index[second][:1])  # one route gone altogether
    before, now = approach_changes(base, after)
    assert len(before) == len(now) == int(first.sum() + second.sum())
    assert (now["impact_speed_kmh"] <= 0).sum() == first.sum() + 1  # the gone route: stopped
    assert before.index.equals(now.index) and (before["site_id"] == now["site_id"]).all()
    assert approach_changes(base, base)[0].empty  # no change, nothing drawn as changed
    names = dict(zip(helsinki.sites["site_id"], helsinki.sites["name"], strict=True))
    labels = site_speed_labels(before, now, names)
    stopped = labels.loc[labels["site_id"] == base["site_id"].iloc[0], "text"].item()
    assert stopped.endswith("km/h → stopped")
    page = scenario_map(
        helsinki.districts, helsinki.districts, base_approaches=base, scenario_approaches=after,
        site_names=names,
    ).get_root().render()  # fmt: skip
    assert f"Vehicle approaches after ({first.sum() + 1} stopped" in page
    # the map opens on what changed (and the intervention), not on every district
    (south, west), (north, east) = json.loads(re.search(r"var b = (\[\[.*?\]\]);", page)[1])
    whole = helsinki.districts.to_crs("EPSG:4326").total_bounds
    assert (north - south) * (east - west) < (whole[3] - whole[1]) * (whole[2] - whole[0])
    assert "Vehicle approaches before, faint" in page and "Stopped: where they arrived" in page
    fig = scenario_figure(helsinki.districts, helsinki.districts, base_approaches=base,
                          scenario_approaches=after, site_names=names)  # fmt: skip
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == ["Approaches it changes: today", "With the scenario",
                      "Change in cohesion score"]  # fmt: skip
    texts = " ".join(t.get_text() for t in fig.axes[1].texts)
    assert "→ stopped" in texts or "→" in texts
