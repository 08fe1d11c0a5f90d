import math

import pytest

from cohesion_gis.errors import InputError
from cohesion_gis.hvm.params import load_params
from cohesion_gis.hvm.rating import (
    FAMILY_EQUIVALENCE,
    covers,
    parse_rating,
    required_rating,
)


def test_parse_iso_iwa_pas_astm():
    r = parse_rating("V/7200[N2A]/48/90:2.5")
    assert (r.standard, r.mass_kg, r.vehicle_class, r.speed_kmh, r.angle_deg) == (
        "IWA 14-1", 7200, "N2A", 48, 90,
    )  # fmt: skip
    assert r.penetration_m == 2.5 and r.debris_m is None
    iso = parse_rating("V/3500[N1]/48/90:12.9/19.0")
    assert iso.standard == "ISO 22343-1" and iso.debris_m == 19.0
    pas = parse_rating("V/7500(N3)/64/90:1.5/12.0")
    assert (pas.standard, pas.vehicle_class, pas.debris_m) == ("PAS 68", "N3", 12.0)
    assert parse_rating("PAS 68:2013 V/7500[N2]/80/90:0/25").standard == "PAS 68"
    assert parse_rating("ISO 22343-1: V/7200[N2A]/48/90:2.5").standard == "ISO 22343-1"
    m = parse_rating("M30/P1")
    assert (m.standard, m.vehicle_class, m.mass_kg, m.speed_kmh, m.penetration_m) == (
        "ASTM F2656", "M", 6800, 50, 1.0,
    )  # fmt: skip
    c = parse_rating("C40/P2")
    assert (c.vehicle_class, c.speed_kmh, c.penetration_m) == ("C", 65, 7.0)
    assert parse_rating("c750/p4").penetration_m == math.inf
    assert parse_rating("K12").speed_kmh == 80


@pytest.mark.parametrize(
    ("text", "part"),
    [
        ("V/7200[N2A]/48/90", "angle:penetration"),
        ("V/7200[X9]/48/90:2", "vehicle class"),
        ("V/7200[N2A)/48/90:2", "mass"),
        ("V/7200[N2A]/4x8/90:2", "impact speed"),
        ("V/7200[N2A]/48/120:2", "impact angle"),
        ("Q/7200[N2A]/48/90:2", "test type"),
        ("M35/P1", "ASTM speed"),
        ("M30", "ASTM penetration"),
        ("", "non-empty"),
    ],
)
def test_bad_strings_name_the_wrong_part_and_show_an_example(text, part):
    with pytest.raises(InputError, match=part) as info:
        parse_rating(text)
    assert text == "" or "V/7200[N2A]/48/90:2.5" in str(info.value)


def test_covers_is_strict_by_class_and_speed():
    r = parse_rating("V/7200[N2A]/48/90:2.5")
    assert covers(r, "N2A", 48)
    assert not covers(r, "N2A", 48.1)
    # a heavier-energy rating never covers another class by default
    assert not covers(parse_rating("V/7200[N3C]/80/90:1"), "N2A", 30)
    assert not covers(parse_rating("V/7500(N2)/80/90:1/5"), "N2A", 30)
    # unless a documented equivalence table is passed
    assert covers(parse_rating("V/7200[N3C]/80/90:1"), "N2A", 30, equivalence=FAMILY_EQUIVALENCE)
    assert not covers(parse_rating("V/7200[N2A]/80/90:1"), "M1", 30, equivalence=FAMILY_EQUIVALENCE)
    # a design (non-vehicle) rating covers nothing
    assert not covers(parse_rating("D/7500(N2)/48/90:1/5"), "N2", 30)


def test_required_rating_rounds_up_and_flags_excess():
    req = required_rating(40.0, "N2A", standoff_m=4.5)
    assert req.design_speed_kmh == pytest.approx(44.0)
    assert req.test_speed_kmh == 48
    assert req.text == "ISO 22343-1: V/7200[N2A]/48/90, penetration ≤ 4.5 m"
    assert required_rating(48 / 1.1, "M1").test_speed_kmh == 48  # exact boundary stays
    assert required_rating(45.0, "M1").test_speed_kmh == 64
    high = required_rating(75.0, "N3C")
    assert high.exceeds_test_speeds and high.test_speed_kmh is None
    assert "exceeds the highest test speed 80 km/h" in high.text
    none = required_rating(0.0, "M1")
    assert none.test_speed_kmh is None and not none.exceeds_test_speeds
    assert required_rating(40.0, "M1", allowance=0.0).test_speed_kmh == 48
    with pytest.raises(InputError, match="standoff_m"):
        required_rating(40.0, "M1", standoff_m=-1)
    assert load_params().speed_allowance == 0.1
