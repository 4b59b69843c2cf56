"""Anti-aliased filled shapes for the synthetic signer, drawn with OpenCV at sub-pixel precision.

Coordinates are float pixels; they are passed to OpenCV as fixed-point integers with
:data:`SHIFT` fractional bits and drawn with ``LINE_AA``, so edges are smooth and shapes move by
fractions of a pixel. Images are (H, W, 3) uint8 and colours are given in the image's channel
order (RGB throughout this package).
"""

from __future__ import annotations

import cv2
import numpy as np

SHIFT = 4  # fractional bits of fixed-point coordinates
ONE = 1 << SHIFT
AA = cv2.LINE_AA

Colour = tuple[int, int, int]


def fixed(xy: np.ndarray) -> np.ndarray:
    """Float pixel coordinates (..., 2) -> int32 fixed point with SHIFT fractional bits."""
    return np.round(np.asarray(xy, dtype=np.float64) * ONE).astype(np.int32)


def shade(colour: Colour, factor: float) -> Colour:
    """``colour`` darkened (factor < 1) or lightened towards white (factor > 1)."""
    c = np.asarray(colour, dtype=np.float64)
    out = c * factor if factor <= 1.0 else c + (255.0 - c) * (factor - 1.0)
    return tuple(int(v) for v in np.clip(np.round(out), 0, 255))  # type: ignore[return-value]


def mix(a: Colour, b: Colour, t: float) -> Colour:
    """``(1 - t) a + t b``."""
    return tuple(int(round((1 - t) * x + t * y)) for x, y in zip(a, b))  # type: ignore[return-value]


def fill_polygon(img: np.ndarray, pts: np.ndarray, colour: Colour) -> None:
    """Fill the polygon ``pts`` (N, 2)."""
    if len(pts) >= 3:
        cv2.fillPoly(img, [fixed(pts)], colour, AA, SHIFT)


def polyline(img: np.ndarray, pts: np.ndarray, colour: Colour, thickness: float, closed: bool = False) -> None:
    """A line through ``pts`` (N, 2); ``thickness`` in pixels (at least 1)."""
    if len(pts) >= 2:
        cv2.polylines(img, [fixed(pts)], closed, colour, max(1, int(round(thickness))), AA, SHIFT)


def disc(img: np.ndarray, centre: np.ndarray, radius: float, colour: Colour) -> None:
    """A filled circle."""
    cv2.circle(img, tuple(int(v) for v in fixed(centre)), max(1, int(round(radius * ONE))), colour, -1, AA, SHIFT)


def ellipse(img: np.ndarray, centre: np.ndarray, axes: tuple[float, float], angle_deg: float, colour: Colour) -> None:
    """A filled ellipse with half-axes ``axes`` (along, across), turned by ``angle_deg``."""
    ax = (max(1, int(round(axes[0] * ONE))), max(1, int(round(axes[1] * ONE))))
    cv2.ellipse(img, tuple(int(v) for v in fixed(centre)), ax, float(angle_deg), 0.0, 360.0, colour, -1, AA, SHIFT)


def capsule(a: np.ndarray, b: np.ndarray, ra: float, rb: float, steps: int = 6) -> np.ndarray:
    """Outline (2 * (steps + 1), 2) of a tapered capsule from ``a`` (radius ``ra``) to ``b`` (``rb``)."""
    d = np.asarray(b, dtype=np.float64) - np.asarray(a, dtype=np.float64)
    heading = float(np.arctan2(d[1], d[0])) if np.hypot(*d) > 1e-6 else 0.0
    t = np.linspace(-np.pi / 2.0, np.pi / 2.0, steps + 1)
    around_b = np.stack([np.cos(heading + t), np.sin(heading + t)], axis=1) * rb + b  # far cap
    around_a = np.stack([np.cos(heading + np.pi + t), np.sin(heading + np.pi + t)], axis=1) * ra + a  # near cap
    return np.concatenate([around_b, around_a])


def outlined_capsules(
    img: np.ndarray, joints: np.ndarray, radii: np.ndarray, colour: Colour, line: Colour, width: float
) -> None:
    """A chain of tapered capsules through ``joints`` (N, 2) with ``radii`` (N,), outlined as one shape."""
    segments = range(len(joints) - 1)
    if width > 0:
        for i in segments:
            fill_polygon(img, capsule(joints[i], joints[i + 1], radii[i] + width, radii[i + 1] + width), line)
    for i in segments:
        fill_polygon(img, capsule(joints[i], joints[i + 1], radii[i], radii[i + 1]), colour)


def rotate90(v: np.ndarray) -> np.ndarray:
    """``v`` (2,) turned by 90 degrees: the image's right of an upward vector."""
    return np.array([-v[1], v[0]])


def unit_vector(v: np.ndarray, fallback: tuple[float, float] = (0.0, -1.0)) -> np.ndarray:
    n = float(np.hypot(v[0], v[1]))
    return np.asarray(v, dtype=np.float64) / n if n > 1e-6 else np.asarray(fallback, dtype=np.float64)
