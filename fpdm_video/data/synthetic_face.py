"""A 468-point face in MediaPipe face-mesh numbering, built from simple shapes, for synthetic signers.

The contour points that drawing and contacts use sit on their shapes: the face oval, both eyes,
both brows, the outer and inner lips, the nose ridge and nostrils, and the chin, cheek and
forehead points that hands touch. The other mesh points have no shape of their own here: they
are spread evenly inside the oval (a sunflower spiral, in index order), not at MediaPipe's
anatomical positions. Models that use the face only as a coarse cue are fine with that; anything
needing a faithful dense mesh is not.

Coordinates are head-local: x to the image's right, y down, z towards the camera negative, in
units of half the face height (forehead top to chin = 2). "right" is the signer's own right, on
the image's left, as in MediaPipe.
"""

from __future__ import annotations

import functools

import numpy as np

NUM_FACE_POINTS = 468
FACE_HALF_WIDTH = 0.78  # oval half-width, in half face heights

# MediaPipe face-mesh rings, in drawing order
FACE_OVAL: tuple[int, ...] = (
    10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377,
    152, 148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109,
)  # fmt: skip
# eyes: outer corner, lower lid (outer -> inner), inner corner, upper lid (inner -> outer)
RIGHT_EYE: tuple[int, ...] = (33, 7, 163, 144, 145, 153, 154, 155, 133, 173, 157, 158, 159, 160, 161, 246)
LEFT_EYE: tuple[int, ...] = (263, 249, 390, 373, 374, 380, 381, 382, 362, 398, 384, 385, 386, 387, 388, 466)
# brows: upper edge outer -> inner, then lower edge inner -> outer (a closed band)
RIGHT_BROW: tuple[int, ...] = (70, 63, 105, 66, 107, 55, 65, 52, 53, 46)
LEFT_BROW: tuple[int, ...] = (300, 293, 334, 296, 336, 285, 295, 282, 283, 276)
# lips: right corner, lower edge, left corner, upper edge back
OUTER_LIPS: tuple[int, ...] = (
    61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291, 409, 270, 269, 267, 0, 37, 39, 40, 185,
)  # fmt: skip
INNER_LIPS: tuple[int, ...] = (
    78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308, 415, 310, 311, 312, 13, 82, 81, 80, 191,
)  # fmt: skip
NOSE_RIDGE: tuple[int, ...] = (168, 6, 197, 195, 5, 4, 1)  # between the eyes -> tip
NOSTRILS: tuple[int, ...] = (64, 98, 97, 2, 326, 327, 294)  # right wing -> left wing under the tip
FOREHEAD, CHIN, RIGHT_CHEEK, LEFT_CHEEK, NOSE_TIP = 151, 152, 50, 280, 1
CONTACT_POINTS: dict[str, int] = {"chin": CHIN, "cheek": RIGHT_CHEEK, "forehead": FOREHEAD}
# body head points of MediaPipe pose, derived from the face
EYE_CENTRES = {"right": RIGHT_EYE, "left": LEFT_EYE}


def _eye(indices: tuple[int, ...], cx: float, outer_sign: float) -> dict[int, np.ndarray]:
    """An almond eye: outer corner, lower lid (outer -> inner), inner corner, upper lid (inner -> outer)."""
    half = len(indices) // 2
    t = np.linspace(0.0, 1.0, half + 1)  # outer (0) -> inner (1)
    x = cx + outer_sign * (0.19 - 0.38 * t)
    lower = np.stack([x, -0.12 + 0.07 * np.sin(np.pi * t)], axis=1)
    upper = np.stack([x, -0.12 - 0.09 * np.sin(np.pi * t)], axis=1)[::-1][1:-1]
    return {i: p for i, p in zip(indices, np.concatenate([lower, upper]))}


def _band(indices: tuple[int, ...], cx: float, outer_sign: float) -> dict[int, np.ndarray]:
    """A brow: upper edge from outer to inner, lower edge back, arched over the eye."""
    half = len(indices) // 2
    t = np.linspace(0.0, 1.0, half)  # outer (0) -> inner (1)
    x = cx + outer_sign * (0.26 - 0.5 * t)
    arch = -0.36 - 0.06 * np.sin(np.pi * t) - 0.015 * t  # a gentle arch, the inner end a little higher
    upper = np.stack([x, arch], axis=1)
    lower = np.stack([x, arch + 0.045], axis=1)[::-1]
    return {i: p for i, p in zip(indices, np.concatenate([upper, lower]))}


def _lips(indices: tuple[int, ...], half_width: float, upper: float, lower: float, y0: float) -> dict[int, np.ndarray]:
    """A closed lip ring: right corner, lower edge to the left corner, upper edge back."""
    n = len(indices)
    half = n // 2
    t = np.linspace(-1.0, 1.0, half + 1)  # right corner -> left corner
    low = np.stack([t * half_width, y0 + lower * (1 - t**2)], axis=1)
    up_t = t[::-1][1:-1]
    up = np.stack([up_t * half_width, y0 - upper * (1 - up_t**2) * (1 - 0.25 * np.exp(-(up_t / 0.25) ** 2))], axis=1)
    return {i: p for i, p in zip(indices, np.concatenate([low, up]))}


@functools.lru_cache(maxsize=1)
def face_template() -> np.ndarray:
    """(468, 3) head-local face points (see the module docstring); read-only."""
    pts: dict[int, np.ndarray] = {}
    # oval: 10 at the top, clockwise in the image, egg-shaped (narrower at the chin)
    angles = -np.pi / 2 + 2 * np.pi * np.arange(len(FACE_OVAL)) / len(FACE_OVAL)
    for i, a in zip(FACE_OVAL, angles):
        narrow = 1.0 - 0.18 * max(0.0, float(np.sin(a)))
        pts[i] = np.array([FACE_HALF_WIDTH * np.cos(a) * narrow, np.sin(a)])
    pts.update(_eye(RIGHT_EYE, -0.3, -1.0))
    pts.update(_eye(LEFT_EYE, 0.3, 1.0))
    pts.update(_band(RIGHT_BROW, -0.3, -1.0))
    pts.update(_band(LEFT_BROW, 0.3, 1.0))
    pts.update(_lips(OUTER_LIPS, 0.27, 0.09, 0.11, 0.5))
    pts.update(_lips(INNER_LIPS, 0.22, 0.015, 0.02, 0.5))
    for k, i in enumerate(NOSE_RIDGE):
        pts[i] = np.array([0.0, -0.15 + 0.4 * k / (len(NOSE_RIDGE) - 1)])
    for k, i in enumerate(NOSTRILS):
        t = -1.0 + 2.0 * k / (len(NOSTRILS) - 1)
        pts[i] = np.array([0.12 * t, 0.3 - 0.04 * (1 - t**2)])
    pts[FOREHEAD] = np.array([0.0, -0.65])
    pts[RIGHT_CHEEK] = np.array([-0.45, 0.22])
    pts[LEFT_CHEEK] = np.array([0.45, 0.22])
    # the rest: a sunflower spiral inside the oval, in index order
    rest = [i for i in range(NUM_FACE_POINTS) if i not in pts]
    golden = np.pi * (3.0 - np.sqrt(5.0))
    for k, i in enumerate(rest):
        r = 0.85 * np.sqrt((k + 0.5) / len(rest))
        pts[i] = np.array([FACE_HALF_WIDTH * r * np.cos(k * golden), r * np.sin(k * golden)])
    xy = np.stack([pts[i] for i in range(NUM_FACE_POINTS)])  # (468, 2)
    # depth: a dome, the nose tip furthest forward
    dome = np.sqrt(np.clip(1.0 - (xy[:, 0] / FACE_HALF_WIDTH) ** 2 - xy[:, 1] ** 2, 0.0, 1.0))
    z = -0.5 * dome
    nose = np.exp(-((xy[:, 0] / 0.12) ** 2) - ((xy[:, 1] - 0.2) / 0.2) ** 2)
    z -= 0.25 * nose
    out = np.concatenate([xy, z[:, None]], axis=1)
    out.setflags(write=False)
    return out
