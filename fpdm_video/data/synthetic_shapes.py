"""Anti-aliased filled shapes for the synthetic signer, drawn with OpenCV at sub-pixel precision.

Coordinates are float pixels; they are passed to OpenCV as fixed-point integers with
:data:`SHIFT` fractional bits and drawn with ``LINE_AA``, so edges are smooth and shapes move by
fractions of a pixel. Images are (H, W, 3) uint8 and colours are given in the image's channel
order (RGB throughout this package).
"""

from __future__ import annotations

import functools

import cv2
import numpy as np

SHIFT = 4  # fractional bits of fixed-point coordinates
ONE = 1 << SHIFT
AA = cv2.LINE_AA

Colour = tuple[int, int, int]


def fixed(xy: np.ndarray) -> np.ndarray:
    """Float pixel coordinates (..., 2) -> int32 fixed point with SHIFT fractional bits."""
    return np.round(np.asarray(xy, dtype=np.float64) * ONE).astype(np.int32)


@functools.lru_cache(maxsize=1024)
def shade(colour: Colour, factor: float) -> Colour:
    """``colour`` darkened (factor < 1) or lightened towards white (factor > 1)."""
    if factor <= 1.0:
        return tuple(min(255, max(0, round(c * factor))) for c in colour)  # type: ignore[return-value]
    return tuple(min(255, max(0, round(c + (255 - c) * (factor - 1.0)))) for c in colour)  # type: ignore[return-value]


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


def ellipse(
    img: np.ndarray,
    centre: np.ndarray,
    axes: tuple[float, float],
    angle_deg: float,
    colour: Colour,
    arc: tuple[float, float] = (0.0, 360.0),
) -> None:
    """A filled ellipse with half-axes ``axes`` (along, across), turned by ``angle_deg``.

    ``arc`` (degrees, in the ellipse's own frame, y down) limits it to a sector closed by its chord.
    """
    ax = (max(1, int(round(axes[0] * ONE))), max(1, int(round(axes[1] * ONE))))
    centre_fixed = tuple(int(v) for v in fixed(centre))
    cv2.ellipse(img, centre_fixed, ax, float(angle_deg), float(arc[0]), float(arc[1]), colour, -1, AA, SHIFT)


CAP_STEPS = 6  # segments of each half circle of a capsule
_HALF_TURN = np.linspace(-np.pi / 2.0, np.pi / 2.0, CAP_STEPS + 1)  # (S,) angles of a half circle


def capsules(a: np.ndarray, b: np.ndarray, ra: np.ndarray, rb: np.ndarray) -> np.ndarray:
    """Outlines (n, 2 S, 2) of ``n`` tapered capsules from ``a`` (n, 2) with radii ``ra`` (n,) to ``b`` / ``rb``.

    Each outline is a half circle around the far end, then one around the near end.
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    d = b - a
    heading = np.arctan2(d[:, 1], d[:, 0])[:, None]  # (n, 1)
    far = heading + _HALF_TURN  # (n, S)
    near = far + np.pi
    around_b = np.stack([np.cos(far), np.sin(far)], axis=-1) * np.asarray(rb)[:, None, None] + b[:, None]  # (n, S, 2)
    around_a = np.stack([np.cos(near), np.sin(near)], axis=-1) * np.asarray(ra)[:, None, None] + a[:, None]
    return np.concatenate([around_b, around_a], axis=1)


def chain_capsules(joints: np.ndarray, radii: np.ndarray, grow: float = 0.0) -> np.ndarray:
    """Fixed-point outlines (N - 1, 2 S, 2) of the capsules along ``joints`` (N, 2), radii + ``grow``."""
    radii = np.asarray(radii, dtype=np.float64) + grow
    return fixed(capsules(joints[:-1], joints[1:], radii[:-1], radii[1:]))


def fill_fixed(img: np.ndarray, polygons: np.ndarray, colour: Colour) -> None:
    """Fill each of the fixed-point ``polygons`` (n, m, 2) on its own (overlaps stay filled)."""
    for poly in polygons:
        cv2.fillPoly(img, [poly], colour, AA, SHIFT)


def outlined_capsules(
    img: np.ndarray, joints: np.ndarray, radii: np.ndarray, colour: Colour, line: Colour, width: float
) -> None:
    """A chain of tapered capsules through ``joints`` (N, 2) with ``radii`` (N,), outlined as one shape."""
    if width > 0:
        fill_fixed(img, chain_capsules(joints, radii, width), line)
    fill_fixed(img, chain_capsules(joints, radii), colour)


def rotate90(v: np.ndarray) -> np.ndarray:
    """``v`` (2,) turned by 90 degrees: the image's right of an upward vector."""
    return np.array([-v[1], v[0]])


def unit_vector(v: np.ndarray, fallback: tuple[float, float] = (0.0, -1.0)) -> np.ndarray:
    n = float(np.hypot(v[0], v[1]))
    return np.asarray(v, dtype=np.float64) / n if n > 1e-6 else np.asarray(fallback, dtype=np.float64)
