"""Vehicle-security-barrier ratings: parse rating strings, check coverage, state requirements.

Supported forms (reference hvm.md §2, "Rating strings"):

- ISO 22343-1:2023 / IWA 14-1:2013: ``V/7200[N2A]/48/90:2.5`` — test type / test mass kg
  [class] / impact speed km/h / impact angle degrees : dynamic penetration m, with an optional
  ``/debris`` distance (m) in ISO 22343-1.
- PAS 68: ``V/7500(N3)/64/90:1.5/12.0`` — as above with the class in round brackets (PAS 68 also
  appears with square brackets, e.g. ``V/7500[N2]/80/90:0/25``) and the major-debris distance.
  The first letter may be ``D``/``F`` (design, FEA) or ``P`` (pendulum): parsed, but they are no
  evidence against a full-scale vehicle and never cover a class.
- ASTM F2656: ``M50/P1`` — vehicle letter + nominal mph / penetration class (P1 ≤ 1 m,
  P2 ≤ 7 m, P3 ≤ 30 m, P4 > 30 m); legacy F2656-07 ``C40/P2``, ``PU60/P1``.
- US DoS SD-STD-02.01 ``K4``/``K8``/``K12`` (6 800 kg at 30/40/50 mph, penetration ≤ 1 m).

A standard name may prefix the string (``"ISO 22343-1: V/7200[N2A]/48/90:2.5"``,
``"PAS 68:2013 V/..."``, ``"ASTM F2656 M30/P1"``).

Coverage follows the rule "a rating is evidence only for its test vehicle class at no more than its
test speed" (THREAT Pro methodology, reference hvm.md §0.2): never substitute by kinetic energy.
It also needs a test angle that covers the impact angle and a penetration within the stand-off,
and it applies the same speed allowance a requirement asks for (one margin, both ways).
Heavier classes of the same family may be accepted through an explicit, documented equivalence
table (:data:`FAMILY_EQUIVALENCE`); the default is strict.

Examples
--------
>>> from cohesion_gis.hvm.rating import covers, parse_rating, required_rating
>>> r = parse_rating("V/7200[N2A]/48/90:2.5")
>>> r.standard, r.mass_kg, r.vehicle_class, r.speed_kmh, r.penetration_m
('IWA 14-1', 7200.0, 'N2A', 48.0, 2.5)
>>> covers(r, "N2A", 40.0), covers(r, "N2A", 45.0), covers(r, "M1", 30.0)
(True, False, False)
>>> required_rating(40.0, "N2A", standoff_m=4.5).text
'ISO 22343-1: V/7200[N2A]/48/90, penetration ≤ 4.5 m (40 km/h at 90°, 444 kJ)'
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from cohesion_gis.errors import InputError
from cohesion_gis.hvm.params import HvmParams
from cohesion_gis.hvm.vehicles import VehicleClass, Vehicles
from cohesion_gis.params import load_params

__all__ = [
    "ASTM_CLASSES",
    "FAMILY_EQUIVALENCE",
    "GLANCING_CELL",
    "ISO_CLASSES",
    "ISO_MAX_PENETRATION_M",
    "PAS68_CLASSES",
    "TEST_MASSES_KG",
    "TEST_SPEED_LEVELS_KMH",
    "BarrierRating",
    "RatingRequirement",
    "class_test_speeds_kmh",
    "covers",
    "credited_speed_kmh",
    "matching_test_angle_deg",
    "parse_rating",
    "required_rating",
    "short_requirement",
]

log = logging.getLogger(__name__)

#: ISO 22343-1 / IWA 14-1 vehicle classes (reference hvm.md §2).
ISO_CLASSES = ("M1", "N1G", "N1", "N2A", "N2B", "N3C", "N3D", "N3E", "N3F", "N3G")
#: PAS 68 (2005-2013) vehicle classes (reference hvm.md §2).
PAS68_CLASSES = ("M1", "N1G", "N1", "N2", "N3")
#: ASTM F2656 vehicle letters → (test mass kg, allowed nominal speeds mph); reference hvm.md §2
#: (FS and H masses [U]; C = legacy F2656-07 small car).
ASTM_CLASSES: Mapping[str, tuple[float, tuple[int, ...]]] = MappingProxyType(
    {
        "SC": (1100.0, (30, 40, 50)),
        "FS": (2100.0, (30, 40, 50)),
        "PU": (2300.0, (30, 40, 50, 60)),
        "C7": (7200.0, (30, 40, 50)),
        "M": (6800.0, (30, 40, 50)),
        "H": (29500.0, (30, 40, 50)),
        "C": (1100.0, (40, 50, 60)),
    }
)
#: ASTM nominal mph → km/h as the reference tabulates them (30/40/50 mph = 50/65/80 km/h).
_ASTM_KMH = {30: 50.0, 40: 65.0, 50: 80.0, 60: 100.0}
#: ASTM penetration classes → upper bound (m); P4 is open-ended (reference hvm.md §2).
_ASTM_PENETRATION = {"P1": 1.0, "P2": 7.0, "P3": 30.0, "P4": math.inf}
_DOS_MPH = {"K4": 30, "K8": 40, "K12": 50}
#: DoS SD-STD-02.01 (1985) penetration ratings, upper bounds (m): L3 < 3 ft, L2 3-20 ft, L1
#: 20-50 ft [S] (reference hvm.md §2: "older limits 1 / 6 / 15 m" [V]); the larger of the two
#: readings, so a rating is never credited with less penetration than it allows. Rev A (2003)
#: keeps only ≤ 1 m, the default when no L level is given.
_DOS_PENETRATION = {"L3": 1.0, "L2": 6.1, "L1": 15.24}

#: An opt-in "same family, heavier class" equivalence (threat class → rated classes that also
#: cover it). Cab-over trucks: N2A → N3C → N3D → N3F → N3G; long-nose: N2B → N3E; PAS 68 N2/N3
#: and ASTM C7/M/H as their nearest ISO classes. [A]/[U]: an engineering proposal, not from a
#: standard; check it with your security adviser before use. Light vehicles (M1, N1G, N1) differ
#: in configuration and have no equivalents.
FAMILY_EQUIVALENCE: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "N2A": ("N2", "C7", "N3C", "N3", "N3D", "N3F", "N3G"),
        "N2B": ("M", "N3E", "H"),
        "N3C": ("N3", "N3D", "N3F", "N3G"),
        "N3D": ("N3F", "N3G"),
        "N3E": ("H",),
        "N3F": ("N3G",),
    }
)

#: Nominal test masses (kg) of each class as rating strings state them (reference hvm.md §2):
#: ISO 22343-1 / IWA 14-1 [S, the NPSA catalogue's 443 ratings; N2B 6 800 nominal, 7 200 in
#: the catalogue; N3F 24 000 nominal, a 30 000 kg N3F test in the catalogue; N3E-G S/U] and
#: PAS 68 (N2 and N3 at 7 500 kg, N3 also at 30 000 kg [S]). A string with another mass for its
#: class is a typo or a test of another class, never evidence for this one.
TEST_MASSES_KG: Mapping[str, Mapping[str, tuple[float, ...]]] = MappingProxyType(
    {
        "ISO": MappingProxyType(
            {
                "M1": (1500.0,),
                "N1G": (2500.0,),
                "N1": (3500.0,),
                "N2A": (7200.0,),
                "N2B": (6800.0, 7200.0),
                "N3C": (7200.0,),
                "N3D": (12000.0,),
                "N3E": (29500.0,),
                "N3F": (24000.0, 30000.0),
                "N3G": (30000.0,),
            }
        ),
        "PAS 68": MappingProxyType(
            {
                "M1": (1500.0,),
                "N1G": (2500.0,),
                "N1": (3500.0,),
                "N2": (7500.0,),
                "N3": (7500.0, 30000.0),
            }
        ),
    }
)
#: Impact-test speed levels (km/h) a rating string may state: IWA 14-1 has "seven different
#: speed levels from 16 km/h up to 112 km/h" (VTI, Swedish National Road and Transport
#: Research Institute, *Crash safety testing, non-accredited*, IWA 14-1 test service) [S]: the
#: 10-mph steps 16/32/48/64/80/96/112. ISO 22343-1:2023, its revision, and PAS 68:2013 use
#: the same steps (PAS 68:2013 Table 2 not read) [U]. Which class is tested at which level (30
#: configurations in all, VTI) was not found; requirements ask only ``test_speeds_kmh``.
TEST_SPEED_LEVELS_KMH = (16.0, 32.0, 48.0, 64.0, 80.0, 96.0, 112.0)
#: Longest dynamic penetration (m) ISO 22343-1:2023 rates: "applicable to test methods for
#: vehicle penetration distances not exceeding 25 m" (ISO 22343-1 scope, evs.ee) [V]; applied
#: to IWA 14-1, the agreement ISO 22343-1 revised, too [A].
ISO_MAX_PENETRATION_M = 25.0

_EXAMPLES = (
    "valid forms: 'V/7200[N2A]/48/90:2.5' (ISO 22343-1 / IWA 14-1), "
    "'V/7500(N3)/64/90:1.5/12.0' (PAS 68), 'M50/P1' or 'M50-P1' (ASTM F2656), 'K12' or "
    "'K12/L3' (DoS SD-STD-02.01)"
)
_PREFIX = re.compile(
    r"^(?P<std>ISO\s*22343-1|IWA\s*14-1|PAS\s*68|ASTM\s*F\s*2656|SD-STD-02\.01)"
    r"(?::\s*\d{4}|-\d{2})?\s*:?\s*",
    re.IGNORECASE,
)
_CANONICAL = {
    "ISO": "ISO 22343-1",
    "IWA": "IWA 14-1",
    "PAS": "PAS 68",
    "AST": "ASTM F2656",
    "SD-": "DoS SD-STD-02.01",
}
_NUMBER = re.compile(r"^\d+(?:\.\d+)?$")
_MASS_CLASS = re.compile(
    r"^(?P<mass>\d+(?:\.\d+)?)(?P<open>[\[(])(?P<cls>[A-Z0-9]+)(?P<close>[\])])$"
)
_ASTM = re.compile(r"^(?P<cls>SC|FS|PU|C7|M|H|C)(?P<mph>\d{2})(?:/(?P<pen>P\d))?$")


@dataclass(frozen=True)
class BarrierRating:
    """A parsed impact-test rating of a vehicle security barrier.

    Attributes
    ----------
    standard
        ``"ISO 22343-1"``, ``"IWA 14-1"``, ``"PAS 68"``, ``"ASTM F2656"`` or
        ``"DoS SD-STD-02.01"``.
    mass_kg
        Test vehicle mass (kg).
    vehicle_class
        Test vehicle class code in the standard's naming (``"N2A"``, ``"N3"``, ``"M"``...).
    speed_kmh
        Impact test speed (km/h); ASTM nominal mph converted as in the reference (30 → 50).
    angle_deg
        Impact angle (degrees; 90 = head-on).
    penetration_m
        Dynamic penetration (m); for ASTM and DoS the upper bound of the penetration class.
    debris_m
        Major-debris distance (m) when the rating gives one, else ``None``.
    test_type
        ``"V"`` (full-scale vehicle test), or ``"D"``/``"F"``/``"P"`` for PAS 68 design,
        FEA and pendulum ratings.
    text
        The rating string as given.
    """

    standard: str
    mass_kg: float
    vehicle_class: str
    speed_kmh: float
    angle_deg: float
    penetration_m: float
    debris_m: float | None = None
    test_type: str = "V"
    text: str = ""


@dataclass(frozen=True)
class RatingRequirement:
    """The barrier rating an approach needs (see :func:`required_rating`).

    Attributes
    ----------
    vehicle_class
        Threat class.
    mass_kg
        Test mass of the class (kg).
    impact_speed_kmh
        Attainable impact speed (km/h).
    design_speed_kmh
        Impact speed × (1 + allowance) (km/h).
    test_speed_kmh
        Design speed rounded up to the class's next test speed (km/h,
        :func:`class_test_speeds_kmh`); ``None`` if no vehicle can approach, the impact is
        glancing, or the design speed is above the class's highest test speed.
    exceeds_test_speeds
        Whether the design speed is above every test speed (no rating can cover it: reduce the
        approach speed).
    angle_deg
        Required test angle (degrees; :func:`matching_test_angle_deg`; 90 when nothing is asked).
    max_penetration_m
        Largest acceptable penetration (m): the stand-off, or ``None`` if not given.
    impact_energy_kj
        Kinetic energy (kJ) of the threat at its impact speed and the class test mass: shown
        beside the rating for information, never used to substitute classes.
    glancing
        Whether this is a glancing threat (below ``glancing_below_deg``) faster than its class's
        tested threats: a finding for speed management along the frontage
        (:func:`required_rating`), with the rated line that would hold it where one exists.
    text
        The requirement for people, e.g. ``ISO 22343-1: V/7200[N2A]/48/90, penetration ≤ 4.5 m``.
    """

    vehicle_class: str
    mass_kg: float
    impact_speed_kmh: float
    design_speed_kmh: float
    test_speed_kmh: float | None
    exceeds_test_speeds: bool
    angle_deg: float
    max_penetration_m: float | None
    impact_energy_kj: float
    text: str
    glancing: bool = False


def _fail(text: str, part: str, problem: str) -> InputError:
    return InputError(f"rating {text!r}: {part} {problem}; {_EXAMPLES}.")


def _number(text: str, value: str, part: str, *, low: float, high: float) -> float:
    if not _NUMBER.match(value):
        raise _fail(text, part, f"{value!r} is not a number")
    x = float(value)
    if not low <= x <= high:
        raise _fail(text, part, f"{value!r} is outside {low:g}-{high:g}")
    return x


def parse_rating(text: str, *, standard: str | None = None) -> BarrierRating:
    """Parse and validate a barrier rating string.

    Parameters
    ----------
    text
        The rating, e.g. ``"V/7200[N2A]/48/90:2.5"``, ``"V/7500(N3)/64/90:1.5/12.0"``,
        ``"M50/P1"``; an optional standard name may prefix it.
    standard
        The standard, when the string does not say (e.g. from a separate column). Otherwise
        it is inferred: square brackets → IWA 14-1 (ISO 22343-1 when a debris distance is
        given), round brackets or a PAS-only class (N2, N3) → PAS 68.

    Returns
    -------
    BarrierRating

    Raises
    ------
    InputError
        The message says which part is wrong and shows valid strings.
    """
    if not isinstance(text, str) or not text.strip():
        raise InputError(f"rating {text!r}: expected a non-empty string; {_EXAMPLES}.")
    rest = text.strip().upper()
    prefix = _PREFIX.match(rest)
    if prefix:
        standard = _CANONICAL[prefix.group("std")[:3]]
        rest = rest[prefix.end() :]
    astm = re.match(r"^([A-Z]{1,2}\d?\d{2})-(P\d)$", rest)
    if astm:  # "M50-P1": the hyphenated form of an ASTM F2656 designation
        rest = f"{astm.group(1)}/{astm.group(2)}"
    if _ASTM.match(rest) or re.match(r"^[A-Z]{1,2}\d?\d{2}/P", rest):
        return _parse_astm(text, rest)
    if rest.split("/")[0] in _DOS_MPH:
        return _parse_dos(text, rest)
    if standard == "IWA 14-1" and rest.count("/") == 4:
        raise _fail(
            text, "debris distance",
            "is not part of an IWA 14-1 rating (it has no debris field): drop the last "
            "'/<m>' part, or name the standard ISO 22343-1, which has one",
        )  # fmt: skip
    return _parse_impact(text, rest, standard)


def _parse_dos(text: str, rest: str) -> BarrierRating:
    """A DoS SD-STD-02.01 K rating, optionally with its 1985 penetration rating (``K12/L3``)."""
    k, _, level = rest.partition("/")
    penetration = 1.0
    if level:
        if level not in _DOS_PENETRATION:
            raise _fail(text, "DoS penetration rating", f"{level!r} is not L1, L2 or L3")
        penetration = _DOS_PENETRATION[level]
    mph = _DOS_MPH[k]
    return BarrierRating(
        "DoS SD-STD-02.01", 6800.0, "M", _ASTM_KMH[mph], 90.0, penetration, text=text
    )


def _parse_astm(text: str, rest: str) -> BarrierRating:
    match = _ASTM.match(rest)
    if not match:
        raise _fail(text, "ASTM designation", f"{rest!r} is not <vehicle><mph>/P<1-4>")
    cls, mph, pen = match.group("cls"), int(match.group("mph")), match.group("pen")
    mass, speeds = ASTM_CLASSES[cls]
    if mph not in speeds:
        raise _fail(text, "ASTM speed", f"{mph} mph is not a test speed of {cls} ({speeds})")
    if pen is None:
        raise _fail(text, "ASTM penetration class", "is missing (add /P1../P4)")
    if pen not in _ASTM_PENETRATION:
        raise _fail(text, "ASTM penetration class", f"{pen!r} is not P1, P2, P3 or P4")
    return BarrierRating(
        "ASTM F2656", mass, cls, _ASTM_KMH[mph], 90.0, _ASTM_PENETRATION[pen], text=text
    )


def _parse_impact(text: str, rest: str, standard: str | None) -> BarrierRating:
    parts = rest.split("/")
    if len(parts) not in (4, 5):
        raise _fail(text, "structure", f"has {len(parts)} '/'-separated parts, expected 4 or 5")
    test_type = parts[0]
    if test_type not in ("V", "D", "F", "P"):
        raise _fail(text, "test type", f"{test_type!r} is not V (or PAS 68 D, F, P)")
    match = _MASS_CLASS.match(parts[1])
    if not match or "[(".index(match.group("open")) != "])".index(match.group("close")):
        raise _fail(text, "mass[class]", f"{parts[1]!r} is not like 7200[N2A] or 7500(N3)")
    mass = _number(text, match.group("mass"), "test mass (kg)", low=100, high=100_000)
    cls = match.group("cls")
    if cls not in ISO_CLASSES + PAS68_CLASSES:
        raise _fail(
            text, "vehicle class", f"{cls!r} is unknown (known: {ISO_CLASSES}, PAS 68 N2, N3)"
        )
    speed = _number(text, parts[2], "impact speed (km/h)", low=1, high=200)
    if parts[3].count(":") != 1:
        raise _fail(text, "angle:penetration", f"{parts[3]!r} is not like 90:2.5")
    angle_text, pen_text = parts[3].split(":")
    angle = _number(text, angle_text, "impact angle (degrees)", low=1, high=90)
    penetration = _number(text, pen_text, "penetration (m)", low=0, high=100)
    debris = None
    if len(parts) == 5:
        debris = _number(text, parts[4], "debris distance (m)", low=0, high=500)
    if standard is None:
        if match.group("open") == "(" or cls in ("N2", "N3"):
            standard = "PAS 68"
        else:
            standard = "ISO 22343-1" if debris is not None else "IWA 14-1"
    _check_test(text, standard, mass=mass, cls=cls, speed=speed, penetration=penetration)
    return BarrierRating(standard, mass, cls, speed, angle, penetration, debris, test_type, text)


def _iso_hint(text: str, mass: float, cls: str) -> str:
    """The ISO 22343-1 / IWA 14-1 class a chassis-only class at this mass is, as a hint.

    Manufacturers print IWA 14-1 results with the chassis category, e.g. ``V/7200(N3)/48/90``
    (MACS Bollards' certificate wording, macs-bollards.com, VDA review item 12 [S]): IWA 14-1
    and ISO 22343-1 name the 7,200 kg two-axle cab-over on an N3 chassis N3C and on an N2
    chassis N2A (reference hvm.md §2 [S]). "" when no ISO class of that chassis has the mass.

    >>> _iso_hint("V/7200(N3)/48/90:1.0", 7200.0, "N3")[:39]
    "; did you mean 'V/7200[N3C]/48/90:1.0'?"
    """
    found = [
        c for c, ms in TEST_MASSES_KG["ISO"].items()
        if c.startswith(cls) and c != cls and any(abs(mass - m) < 0.5 for m in ms)
    ]  # fmt: skip
    if not found:
        return ""
    fixed = [_MASS_IN_TEXT.sub(f"/{mass:g}[{c}]/", text, count=1) for c in found]
    return (
        f"; did you mean {' or '.join(repr(f) for f in fixed)}? (ISO 22343-1 / IWA 14-1 "
        f"class {' or '.join(found)} is the {mass:g} kg {cls} chassis)"
    )


#: The ``/<mass>[<class>]/`` or ``/<mass>(<class>)/`` part of a rating string.
_MASS_IN_TEXT = re.compile(r"/\s*\d+(?:\.\d+)?\s*[\[(][A-Za-z0-9]+[\])]\s*/")


def _check_test(
    text: str, standard: str, *, mass: float, cls: str, speed: float, penetration: float
) -> None:
    """Refuse a class, mass, speed or penetration the standard does not test."""
    family = "PAS 68" if standard == "PAS 68" else "ISO"
    masses = TEST_MASSES_KG[family]
    if cls not in masses:
        raise _fail(
            text, "vehicle class", f"{cls!r} is not a {standard} class (its classes: "
            f"{', '.join(masses)}){_iso_hint(text, mass, cls)}"
        )  # fmt: skip
    if not any(abs(mass - m) < 0.5 for m in masses[cls]):
        nominal = " or ".join(f"{m:.0f}" for m in masses[cls])
        raise _fail(
            text, "test mass (kg)", f"{mass:g} does not match class {cls} ({standard}: "
            f"{nominal} kg); a rating is evidence only for its own class at its test mass"
            f"{_iso_hint(text, mass, cls)}"
        )  # fmt: skip
    if not any(abs(speed - v) < 1e-9 for v in TEST_SPEED_LEVELS_KMH):
        levels = "/".join(f"{v:.0f}" for v in TEST_SPEED_LEVELS_KMH)
        raise _fail(
            text, "impact speed (km/h)", f"{speed:g} is not a test speed level of {standard} "
            f"({levels} km/h)"
        )  # fmt: skip
    if family == "ISO" and penetration > ISO_MAX_PENETRATION_M:
        raise _fail(
            text, "penetration (m)", f"{penetration:g} m is beyond the {ISO_MAX_PENETRATION_M:g} "
            f"m {standard} rates (ISO 22343-1 scope): check the test certificate"
        )  # fmt: skip


def _class_name(vehicle_class: str | VehicleClass) -> str:
    return vehicle_class.name if isinstance(vehicle_class, VehicleClass) else vehicle_class


def matching_test_angle_deg(
    impact_angle_deg: float, *, params: HvmParams | None = None
) -> float | None:
    """The impact-test angle (degrees) that matches an impact at ``impact_angle_deg``.

    The smallest test angle of ``params.test_angles_deg`` that covers the impact (a test at
    angle α covers impacts up to α + ``angle_band_deg``/2; a 90° test covers every angle);
    ``None`` for a glancing impact (below ``glancing_below_deg``: no impact test is asked).

    Examples
    --------
    >>> [matching_test_angle_deg(a) for a in (90, 60, 45, 30, 15)]
    [90.0, 90.0, 45.0, 45.0, None]
    """
    params = params or load_params(HvmParams)
    if impact_angle_deg < params.glancing_below_deg:
        return None
    half = params.angle_band_deg / 2
    fits = [a for a in params.test_angles_deg if a + half >= impact_angle_deg or a >= 90]
    return float(min(fits)) if fits else float(max(params.test_angles_deg))


def credited_speed_kmh(
    rating: BarrierRating,
    vehicle_class: str | VehicleClass,
    *,
    angle_deg: float = 90.0,
    standoff_m: float | None = None,
    params: HvmParams | None = None,
) -> float:
    r"""Highest impact speed (km/h) at which a rating is evidence the barrier stops a class.

    .. math::

        v_{credit} = \frac{v_{test} + \delta / 2}{1 + \text{allowance}}

    with δ the speed resolution: the same margin :func:`required_rating` asks for, so a barrier
    built to a requirement is credited with the speed it was asked for. 0 when the rating is
    no evidence at all: not a full-scale vehicle test (``V``), another class (unless the
    parameters' equivalence table accepts it; never by kinetic energy), a test angle that does
    not cover ``angle_deg`` (a 45° test does not cover a head-on impact; a 90° test covers
    every angle), or a penetration beyond the stand-off.

    Parameters
    ----------
    rating
        A parsed rating.
    vehicle_class
        Threat class (name or :class:`~cohesion_gis.hvm.vehicles.VehicleClass`).
    angle_deg
        Impact angle (degrees; 90 = head-on). Glancing impacts (below
        ``params.glancing_below_deg``) are covered by any angle.
    standoff_m
        Distance (m) behind the barrier line the vehicle may travel; ``None``: not checked.
    params
        Allowance, resolution, angles, equivalence; ``None``: the packaged defaults.

    Examples
    --------
    >>> r = parse_rating("V/1500[M1]/48/90:2.5")
    >>> round(credited_speed_kmh(r, "M1"), 1), credited_speed_kmh(r, "M1", standoff_m=2.0)
    (44.1, 0.0)
    >>> credited_speed_kmh(parse_rating("V/1500[M1]/64/45:1.0"), "M1", angle_deg=90)
    0.0
    """
    params = params or load_params(HvmParams)
    name = _class_name(vehicle_class)
    accepted = rating.vehicle_class == name or rating.vehicle_class in params.equivalence.get(
        name, ()
    )
    needed = matching_test_angle_deg(angle_deg, params=params)
    angle_ok = needed is None or rating.angle_deg >= needed
    room_ok = standoff_m is None or rating.penetration_m <= standoff_m + 1e-9
    if not (rating.test_type == "V" and accepted and angle_ok and room_ok):
        return 0.0
    return (rating.speed_kmh + params.speed_resolution_kmh / 2) / (1 + params.speed_allowance)


def covers(
    rating: BarrierRating,
    vehicle_class: str | VehicleClass,
    speed_kmh: float,
    *,
    angle_deg: float = 90.0,
    standoff_m: float | None = None,
    params: HvmParams | None = None,
) -> bool:
    """Whether a rating is evidence that the barrier stops a class at a speed and angle.

    True iff ``speed_kmh`` is at most :func:`credited_speed_kmh`: the class (or an accepted
    equivalent), the test angle, the penetration against the stand-off and the test speed
    with the one allowance all hold.

    Parameters
    ----------
    rating
        A parsed rating.
    vehicle_class
        Threat class (name or :class:`~cohesion_gis.hvm.vehicles.VehicleClass`).
    speed_kmh
        Speed of the threat vehicle at the barrier (km/h).
    angle_deg
        Impact angle (degrees; 90 = head-on).
    standoff_m
        Stand-off behind the barrier (m); ``None``: penetration not checked.
    params
        Parameters (allowance, resolution, angles, equivalence); ``None``: packaged defaults.

    Returns
    -------
    bool
    """
    credit = credited_speed_kmh(
        rating, vehicle_class, angle_deg=angle_deg, standoff_m=standoff_m, params=params
    )
    return credit > 0 and speed_kmh <= credit


def required_rating(
    impact_speed_kmh: float,
    vehicle_class: str | VehicleClass,
    *,
    angle_deg: float = 90.0,
    allowance: float | None = None,
    standoff_m: float | None = None,
    params: HvmParams | None = None,
    band_deg: tuple[float, float] | None = None,
) -> RatingRequirement:
    r"""The ISO 22343-1 rating a barrier needs against one class at one impact speed and angle.

    .. math::

        v_d = v \cdot (1 + \text{allowance}), \qquad
        v_{test} = \min\{s \in \text{test speeds} : s \ge v_d - \delta/2\}

    with δ the speed resolution (1 km/h): the allowance is the one margin, rounding up to a
    test speed adds none beyond the model's resolution (43.7 km/h → 48.07 → 48 km/h test).
    Only a speed the standard tests the class at is asked (:func:`class_test_speeds_kmh`);
    above the class's highest one the requirement says "beyond tested speeds: reduce approach
    speed". The test angle is the one that matches the impact angle
    (:func:`matching_test_angle_deg`); a glancing impact is a speed-management finding
    (:func:`_glancing_text`: separate elements hold no impact below 22.5°).

    Parameters
    ----------
    impact_speed_kmh
        Attainable impact speed (km/h); 0 means no vehicle approach (nothing required).
    vehicle_class
        Threat class (name of a packaged class, or a :class:`VehicleClass`).
    angle_deg
        Impact angle (degrees, 90 = head-on).
    allowance
        Fractional speed allowance; ``None``: ``params.speed_allowance`` (+10 %).
    standoff_m
        Available stand-off behind the barrier line (m): the largest acceptable penetration.
    params
        Parameters (test speeds and angles, allowance, resolution); ``None``: the defaults.
    band_deg
        The envelope band ``(lo, hi)`` (degrees) the speed is the worst of
        (:func:`~cohesion_gis.hvm.kinematics.impact_envelope_kmh`): the threat then reads
        "98 km/h in the 22.5-37.5° band", not "at 30°"; ``None``: "at ``angle_deg``".

    Returns
    -------
    RatingRequirement
        A design speed above the highest test speed is flagged (``exceeds_test_speeds``) and
        spelled out in ``text``, never rounded down. ``impact_energy_kj`` is ½ m v² of the
        threat at its impact speed (class test mass), shown in ``text``.

    References
    ----------
    Reference hvm.md §8.4 (design speed, rounding up, output string, angle).
    """
    params = params or load_params(HvmParams)
    allowance = params.speed_allowance if allowance is None else allowance
    if not 0 <= allowance < 1:
        raise InputError(f"allowance: got {allowance!r}, expected a fraction in [0, 1), e.g. 0.1.")
    if not (math.isfinite(impact_speed_kmh) and impact_speed_kmh >= 0):
        raise InputError(f"impact_speed_kmh: got {impact_speed_kmh!r}, expected a speed >= 0.")
    if not (math.isfinite(angle_deg) and 0 < angle_deg <= 90):
        raise InputError(f"angle_deg: got {angle_deg!r}, expected an angle in (0, 90] degrees.")
    if standoff_m is not None and not standoff_m >= 0:
        raise InputError(f"standoff_m: got {standoff_m!r}, expected a distance >= 0 (m) or None.")
    vehicle = (
        vehicle_class
        if isinstance(vehicle_class, VehicleClass)
        else load_params(Vehicles).select([vehicle_class])[vehicle_class]
    )
    design = impact_speed_kmh * (1 + allowance)
    speeds = class_test_speeds_kmh(vehicle.name, params=params)
    top = speeds[-1]
    half = params.speed_resolution_kmh / 2
    test = next((s for s in speeds if s >= design - half), None)
    exceeds = test is None
    energy = 0.5 * vehicle.test_mass_kg * (impact_speed_kmh / 3.6) ** 2 / 1000.0
    angle = matching_test_angle_deg(angle_deg, params=params)
    pen = "" if standoff_m is None else f", penetration ≤ {standoff_m:.1f} m"
    head = f"ISO 22343-1: V/{vehicle.test_mass_kg:.0f}[{vehicle.name}]"
    where = (
        f"at {angle_deg:.0f}°"
        if band_deg is None
        else f"in the {band_deg[0]:g}-{band_deg[1]:g}° band"
    )
    threat = f"{impact_speed_kmh:.0f} km/h {where}, {energy:,.0f} kJ"
    glancing = impact_speed_kmh > 0 and angle is None
    if impact_speed_kmh == 0:
        test, text = None, f"none: no {vehicle.name} approach"
    elif glancing:
        test, exceeds = None, False
        text = _glancing_text(
            vehicle, impact_speed_kmh, design_kmh=design, threat=threat, head=head, pen=pen,
            params=params,
        )  # fmt: skip
    elif exceeds:
        text = (
            f"beyond tested speeds: reduce approach speed ({head}/>{top:.0f}/{angle:.0f}{pen}: "
            f"design speed {design:.0f} km/h, the highest {vehicle.name} test speed is "
            f"{top:.0f} km/h; {threat})"
        )
        log.debug("required rating for %s: %s", vehicle.name, text)
    else:
        text = f"{head}/{test:.0f}/{angle:.0f}{pen} ({threat})"
    return RatingRequirement(
        vehicle_class=vehicle.name,
        mass_kg=vehicle.test_mass_kg,
        impact_speed_kmh=float(impact_speed_kmh),
        design_speed_kmh=design,
        test_speed_kmh=test,
        exceeds_test_speeds=exceeds,
        angle_deg=90.0 if angle is None else angle,
        max_penetration_m=standoff_m,
        impact_energy_kj=energy,
        text=text,
        glancing=glancing,
    )


def _glancing_text(
    vehicle: VehicleClass,
    speed_kmh: float,
    *,
    design_kmh: float,
    threat: str,
    head: str,
    pen: str,
    params: HvmParams,
) -> str:
    """The glancing finding: speed management, and the continuous line that would hold it.

    A vehicle running along the crowd enters it without turning. No vehicle security barrier
    is tested below 45° (IWA 14-1 "most commonly 90 degrees, but can also be 45", Bailey
    Street Furniture Group [S]), so a line of separate elements (bollards) holds no impact
    below 22.5° and the finding is for traffic management (NPSA *HVM Schemes for the
    Streetscape* options 1 and 4: traffic exclusion, traffic calming; reference hvm.md §1 [V]).
    A continuous line is credited with the transverse component at 22.5°, v·sin 22.5°, against
    its head-on test [A] (:func:`~cohesion_gis.hvm.impact.kerbside_cover`): named where a test
    speed covers it. EN 1317-2 containment is not named: a road-restraint class, not a VSB
    rating a specifier can buy (VDA review item 7).
    """
    edge = params.glancing_below_deg
    transverse = design_kmh * math.sin(math.radians(edge))
    speeds = class_test_speeds_kmh(vehicle.name, params=params)
    test = next((s for s in speeds if s >= transverse - params.speed_resolution_kmh / 2), None)
    line = (
        f"or a continuous line (wall, rail, beam; not separate elements) rated head-on for "
        f"its transverse component, {head}/{test:.0f}/90{pen} [A]"
        if test is not None
        else "no continuous line is tested for its transverse component either"
    )
    return (
        f"speed management for {vehicle.name}: glancing, it runs along the crowd, entering it "
        f"at {speed_kmh:.0f} km/h without turning ({threat}); no vehicle security barrier test "
        f"covers an impact below {edge:g}° (tests are at 90° or 45°), so bollards or other "
        f"separate elements do not hold it: reduce the speed along this frontage (closure, "
        f"chicane, traffic order), {line}; a traffic-management finding, not a product "
        "specification"
    )


def class_test_speeds_kmh(
    vehicle_class: str, *, params: HvmParams | None = None
) -> tuple[float, ...]:
    """The full-scale impact-test speeds (km/h, ascending) a requirement may ask of a class.

    ``params.class_test_speeds_kmh`` for the class when it lists it, else
    ``params.test_speeds_kmh`` (32/48/64/80 km/h: the speeds every ISO 22343-1 / IWA 14-1 /
    PAS 68 class is tested at in the NPSA catalogue; 16 km/h is a PAS 170-1 trolley test, not
    a vehicle test; no 96 or 112 km/h test was found for any class).

    Examples
    --------
    >>> class_test_speeds_kmh("N3C")
    (32.0, 48.0, 64.0, 80.0)
    """
    params = params or load_params(HvmParams)
    return params.class_test_speeds_kmh.get(vehicle_class, params.test_speeds_kmh)


#: A rating code in a requirement text, e.g. ``V/7200[N2A]/>80/90``.
_CODE = re.compile(r"V/\d+\[[A-Z0-9]+\]/>?\d+/\d+")
#: What a glancing requirement reads as in a table cell (:func:`short_requirement`).
GLANCING_CELL = "speed management (glancing)"


def short_requirement(text: object) -> str:
    """A requirement in rating codes only, for a table cell.

    Examples
    --------
    >>> short_requirement("ISO 22343-1: V/1500[M1]/80/45, penetration ≤ 4.0 m (70 km/h at 30°)"
    ...                   " and ISO 22343-1: V/1500[M1]/48/90, penetration ≤ 4.0 m")
    'V/1500[M1]/80/45 + V/1500[M1]/48/90'
    >>> short_requirement("beyond tested speeds: reduce approach speed (ISO 22343-1: "
    ...                   "V/7200[N2A]/>80/90, penetration ≤ 4.0 m: design speed 99 km/h)")
    'beyond tested speeds: V/7200[N2A]/>80/90'
    """
    value = str(text)
    if value.startswith("none"):
        return value.split(" (", 1)[0]
    tested, glancing, _ = value.partition("speed management for ")
    codes = list(dict.fromkeys(_CODE.findall(tested)))  # a glancing finding's line: in its text
    if glancing:
        codes.append(GLANCING_CELL)
    head = "beyond tested speeds: " if value.startswith("beyond") else ""
    return head + " + ".join(codes) if codes else value
