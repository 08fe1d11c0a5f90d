r"""Chicanes: a speed cap by geometry before a perimeter (NPSA VDA practice).

A single-lane chicane shifts the street's lane sideways by ``y`` over the stagger length ``L``
between build-outs of robust elements from alternate kerbs. A vehicle of width ``w`` in a lane
of width ``b`` can cut each corner by ``b - w``, so its centreline shifts by no less than
:math:`y_e = y - (b - w)`; the widest path doing that is two reverse circular arcs, each over
half the length and half the shift, of radius

.. math:: R = \frac{L^2 + y_e^2}{4 y_e}

(from :math:`R \sin\theta = L/2`, :math:`R (1 - \cos\theta) = y_e/2`). Through it no vehicle
keeps more than the bend speed :math:`v = \sqrt{a_{lat} R}` with
:math:`a_{lat} = \min(\text{lat. limit}, \mu g)` of its class, the assessment's own bend rule
(reference hvm.md §3, §8.5: a calming scenario "reduces R or w, and so v_turn"). The path uses
the narrowest assessed vehicle (the widest radius, so the highest cap: a wider vehicle is
slower). The route search caps every path through the chicane's middle node at that radius
(:func:`cohesion_gis.hvm.routes.approach_network`, the ``chicane_radius_m`` column of the
vehicle network); vehicles re-accelerate after it as their traction allows.

What a chicane asks of its elements: a vehicle that does not take the path meets the leading
build-out head-on at the speed it arrives with, so the elements must be rated for that speed at
90° (as a line across the street at that place); the assessment does not model a vehicle
leaving the street through them, so :func:`cohesion_gis.protect.protect` places a chicane only
where its elements can be rated and checks the arrival speed again on the final scheme.

References
----------
DfT LTN 1/07 *Traffic Calming* §6.4 (chicane parameters; TAL 09/94, Sayer & Parry 1994);
ITE *Traffic Calming: State of the Practice* (shift of at least one lane width);
reference hvm.md §3 (bend speed), §8.5 (calming scenarios).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from cohesion_gis._validate import Bound, number_problem, raise_problems
from cohesion_gis.errors import ParameterError
from cohesion_gis.params import FIX_FILE

__all__ = ["LANE_WIDTH", "STAGGER_LENGTH", "ChicaneParams", "path_radius_m"]

#: Plausible clear lane widths (m) of a chicane: a narrow access lane to a two-lane road.
LANE_WIDTH = Bound(2.0, 8.0, "m")
#: Plausible stagger lengths (m): a tight urban chicane to a long realignment.
STAGGER_LENGTH = Bound(4.0, 100.0, "m")


@dataclass(frozen=True)
class ChicaneParams:
    """A chicane's default geometry (``defaults/chicane.toml``).

    Attributes
    ----------
    length_m
        Stagger length (m): from the upstream face of the first build-out to the downstream
        face of the second.
    lane_width_m
        Clear lane width (m) between the build-outs.
    """

    length_m: float
    lane_width_m: float

    PACKAGED: ClassVar[str] = "chicane.toml"
    OPEN_TABLES: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def from_table(cls, table: Mapping[str, Any], label: str, problems: list[str]) -> ChicaneParams:
        """Build from a full ``chicane.toml`` table (see :func:`cohesion_gis.params.load_params`).

        Raises
        ------
        ParameterError
            ``problems`` and every mistyped or out-of-range value, in one message.
        """
        bounds = {"length_m": STAGGER_LENGTH, "lane_width_m": LANE_WIDTH}
        problems = [
            *problems,
            *(p for k, b in bounds.items() if (p := number_problem(k, table[k], b))),
        ]
        raise_problems(ParameterError, label, problems, FIX_FILE)
        return cls(length_m=float(table["length_m"]), lane_width_m=float(table["lane_width_m"]))


def path_radius_m(
    length_m: float, shift_m: float, lane_width_m: float, vehicle_width_m: float
) -> float:
    r"""Radius (m) of the widest path a vehicle can take through a chicane.

    Two reverse arcs over the stagger length: :math:`R = (L^2 + y_e^2) / (4 y_e)` with the
    effective shift :math:`y_e = y - (b - w)` (module docstring). ``inf`` where the vehicle can
    drive straight through (:math:`y_e \le 0`).

    Parameters
    ----------
    length_m
        Stagger length ``L`` (m).
    shift_m
        Sideways shift ``y`` of the lane's centreline (m).
    lane_width_m
        Clear lane width ``b`` (m).
    vehicle_width_m
        Vehicle width ``w`` (m).

    Examples
    --------
    A 6 m carriageway with a 3 m lane (shift 3 m), 12 m long, for a 1.5 m wide car:

    >>> round(path_radius_m(12.0, 3.0, 3.0, 1.5), 1)
    24.4
    """
    shift = shift_m - (lane_width_m - vehicle_width_m)
    if shift <= 0:
        return math.inf
    return (length_m**2 + shift**2) / (4.0 * shift)
