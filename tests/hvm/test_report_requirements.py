"""What the VDA page asks of glancing threats (hvm.impact.most_demanding, VDA review 2 item 5)."""

from cohesion_gis.hvm.impact import class_requirements, most_demanding
from cohesion_gis.hvm.params import HvmParams
from cohesion_gis.hvm.rating import required_rating
from cohesion_gis.hvm.vehicles import Vehicles
from cohesion_gis.params import load_params


def test_a_glancing_threat_no_faster_than_a_tested_one_asks_no_speed_management():
    # Senaatintori e4/e5 N3C: 19/26/29/29/29 km/h at 90/60/45/30/15°: the 45° threat (29) is
    # covered by the 90° test (32), and the glancing one is no faster: no speed management
    params = load_params(HvmParams)
    n3c = load_params(Vehicles).select(["N3C"])["N3C"]
    envelope = {90.0: 19.0, 60.0: 26.0, 45.0: 29.0, 30.0: 29.0, 15.0: 29.0}
    reqs = class_requirements(envelope, n3c, params=params, standoff_m=2.2)
    assert [r.text.split(",")[0] for r in reqs] == ["ISO 22343-1: V/7200[N3C]/32/90"]
    assert not any(r.glancing for r in reqs)
    # one resolution step faster along the crowd than at any tested angle: the finding stays
    faster = class_requirements({**envelope, 15.0: 30.0}, n3c, params=params, standoff_m=2.2)
    assert faster[-1].glancing


def test_a_straight_path_striking_below_the_glancing_edge_asks_a_continuous_line():
    # Senaatintori e7 M1: straight path strikes at 13.6° at 69 km/h; the 30° band's 69 km/h
    # asks 80/45, which a bollard row may meet, but no separate element holds a 13.6° arrival
    params = load_params(HvmParams)
    reqs = [
        required_rating(v, "M1", angle_deg=a, standoff_m=2.2, params=params)
        for a, v in {90.0: 27.0, 60.0: 38.0, 45.0: 54.0, 30.0: 69.0, 15.0: 69.0}.items()
    ]
    assert not any(r.glancing for r in most_demanding(reqs, resolution_kmh=1.0))
    kept = most_demanding(reqs, resolution_kmh=1.0, strikes_glancing=True)
    assert kept[-1].glancing and "continuous line" in kept[-1].text
    assert "not separate elements" in kept[-1].text
