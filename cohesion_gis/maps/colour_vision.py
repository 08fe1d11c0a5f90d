"""Colour-vision deficiency: how a colour or a screenshot looks to a colour-blind reader.

Used to choose and test the maps' category colours (every pair apart under normal vision,
deuteranopia and protanopia) and to render the documentation's simulated screenshots. The
simulation is Machado, Oliveira & Fernandes (2009) at severity 1, applied in linear RGB; the
difference between two colours is CIEDE2000 (Sharma, Wu & Dalal 2005) in CIELAB (D65).

References
----------
Machado, G. M., Oliveira, M. M., Fernandes, L. A. F. (2009). A physiologically-based model for
simulation of color vision deficiency. IEEE TVCG 15(6), 1291–1298. doi:10.1109/TVCG.2009.113
Sharma, G., Wu, W., Dalal, E. N. (2005). The CIEDE2000 color-difference formula. Color Research
& Application 30(1), 21–30. doi:10.1002/col.20070
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "VISIONS",
    "Vision",
    "delta_e",
    "delta_e_lab",
    "hex_to_rgb",
    "simulate",
    "smallest_difference",
]

Vision = Literal["normal", "deuteranopia", "protanopia", "tritanopia"]
VISIONS: tuple[Vision, ...] = ("normal", "deuteranopia", "protanopia", "tritanopia")

# Machado et al. (2009), table of severity 1.0, for linear RGB.
_MACHADO: dict[str, NDArray[np.float64]] = {
    "protanopia": np.array(
        [
            [0.152286, 1.052583, -0.204868],
            [0.114503, 0.786281, 0.099216],
            [-0.003882, -0.048116, 1.051998],
        ]
    ),
    "deuteranopia": np.array(
        [
            [0.367322, 0.860646, -0.227968],
            [0.280085, 0.672501, 0.047413],
            [-0.011820, 0.042940, 0.968881],
        ]
    ),
    "tritanopia": np.array(
        [
            [1.255528, -0.076749, -0.178779],
            [-0.078411, 0.930809, 0.147602],
            [0.004733, 0.691367, 0.303900],
        ]
    ),
}


def hex_to_rgb(colour: str) -> NDArray[np.float64]:
    """Return ``"#RRGGBB"`` as sRGB in 0–1."""
    text = colour.lstrip("#")
    return np.array([int(text[i : i + 2], 16) / 255 for i in (0, 2, 4)])


def _to_linear(srgb: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.where(srgb <= 0.04045, srgb / 12.92, ((srgb + 0.055) / 1.055) ** 2.4)


def _to_srgb(linear: NDArray[np.float64]) -> NDArray[np.float64]:
    linear = np.clip(linear, 0.0, 1.0)
    return np.where(linear <= 0.0031308, 12.92 * linear, 1.055 * linear ** (1 / 2.4) - 0.055)


def simulate(srgb: ArrayLike, vision: Vision) -> NDArray[np.float64]:
    """Return sRGB colours (0–1, last axis RGB) as a reader with ``vision`` sees them.

    Parameters
    ----------
    srgb
        Array of shape ``(..., 3)`` in 0–1: one colour or a whole image.
    vision
        One of :data:`VISIONS`; ``"normal"`` returns the colours unchanged.

    Examples
    --------
    >>> simulate(hex_to_rgb("#ff0000"), "deuteranopia").round(2)
    array([0.64, 0.57, 0.  ])
    """
    colours = np.asarray(srgb, dtype=float)
    if vision == "normal":
        return colours
    if vision not in _MACHADO:
        raise ValueError(f"vision must be one of {VISIONS}, got {vision!r}")
    return _to_srgb(_to_linear(colours) @ _MACHADO[vision].T)


def _lab(srgb: NDArray[np.float64]) -> NDArray[np.float64]:
    """CIELAB (D65) of sRGB colours in 0–1."""
    xyz = (
        _to_linear(srgb)
        @ np.array(
            [
                [0.4124564, 0.3575761, 0.1804375],
                [0.2126729, 0.7151522, 0.0721750],
                [0.0193339, 0.1191920, 0.9503041],
            ]
        ).T
        / np.array([0.95047, 1.0, 1.08883])
    )
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.stack(
        [116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])],
        axis=-1,
    )


def delta_e(first: ArrayLike, second: ArrayLike) -> NDArray[np.float64]:
    """Return the CIEDE2000 difference between sRGB colours (0–1, last axis RGB).

    About 1 is just noticeable side by side; small map symbols need some 15–20 to be told
    apart at a glance.

    Examples
    --------
    >>> float(delta_e(hex_to_rgb("#000000"), hex_to_rgb("#ffffff"))).__round__(1)
    100.0
    """
    return delta_e_lab(_lab(np.asarray(first, dtype=float)), _lab(np.asarray(second, dtype=float)))


def delta_e_lab(lab1: NDArray[np.float64], lab2: NDArray[np.float64]) -> NDArray[np.float64]:
    """CIEDE2000 between CIELAB colours (last axis L*, a*, b*), Sharma et al. (2005)."""
    l1, a1, b1 = np.moveaxis(lab1, -1, 0)
    l2, a2, b2 = np.moveaxis(lab2, -1, 0)
    c_bar = (np.hypot(a1, b1) + np.hypot(a2, b2)) / 2
    g = 0.5 * (1 - np.sqrt(c_bar**7 / (c_bar**7 + 25.0**7)))
    a1p, a2p = (1 + g) * a1, (1 + g) * a2
    c1p, c2p = np.hypot(a1p, b1), np.hypot(a2p, b2)
    h1p = np.degrees(np.arctan2(b1, a1p)) % 360
    h2p = np.degrees(np.arctan2(b2, a2p)) % 360
    dl, dc = l2 - l1, c2p - c1p
    dh = h2p - h1p
    dh = np.where(dh > 180, dh - 360, np.where(dh < -180, dh + 360, dh))
    dh = np.where(c1p * c2p == 0, 0.0, dh)
    dh_big = 2 * np.sqrt(c1p * c2p) * np.sin(np.radians(dh / 2))
    l_bar, c_bar_p = (l1 + l2) / 2, (c1p + c2p) / 2
    h_sum = h1p + h2p
    h_bar = np.where(
        c1p * c2p == 0,
        h_sum,
        np.where(
            np.abs(h1p - h2p) <= 180, h_sum / 2, np.where(h_sum < 360, h_sum + 360, h_sum - 360) / 2
        ),
    )
    t = (
        1
        - 0.17 * np.cos(np.radians(h_bar - 30))
        + 0.24 * np.cos(np.radians(2 * h_bar))
        + 0.32 * np.cos(np.radians(3 * h_bar + 6))
        - 0.20 * np.cos(np.radians(4 * h_bar - 63))
    )
    s_l = 1 + 0.015 * (l_bar - 50) ** 2 / np.sqrt(20 + (l_bar - 50) ** 2)
    s_c = 1 + 0.045 * c_bar_p
    s_h = 1 + 0.015 * c_bar_p * t
    r_t = (
        -2
        * np.sqrt(c_bar_p**7 / (c_bar_p**7 + 25.0**7))
        * np.sin(np.radians(60 * np.exp(-(((h_bar - 275) / 25) ** 2))))
    )
    return np.sqrt(
        (dl / s_l) ** 2 + (dc / s_c) ** 2 + (dh_big / s_h) ** 2 + r_t * (dc / s_c) * (dh_big / s_h)
    )


def smallest_difference(
    colours: Sequence[str], *, visions: Sequence[Vision] = VISIONS[:3]
) -> tuple[float, str, str, Vision]:
    """Return the closest pair of ``colours`` (``"#RRGGBB"``) under any of ``visions``.

    Returns
    -------
    tuple
        ``(CIEDE2000 difference, first colour, second colour, vision)``.

    Examples
    --------
    >>> smallest_difference(["#000000", "#ffffff"])[0].__round__(1)
    100.0
    """
    rgb = np.array([hex_to_rgb(c) for c in colours])
    worst: tuple[float, str, str, Vision] = (np.inf, "", "", "normal")
    for vision in visions:
        seen = simulate(rgb, vision)
        for i in range(len(colours)):
            for j in range(i + 1, len(colours)):
                diff = float(delta_e(seen[i], seen[j]))
                if diff < worst[0]:
                    worst = (diff, colours[i], colours[j], vision)
    return worst
