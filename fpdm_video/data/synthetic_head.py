"""The synthetic signer's head: face shape, eyes, brows, nose, mouth, ears and hair.

Features are placed from the face landmarks when the face is present (the oval, eye, brow, lip
and nostril rings of :mod:`fpdm_video.data.synthetic_face`, in MediaPipe numbering, so real
MediaPipe faces work too); otherwise from the body's head points (nose, eyes, ears, mouth
corners); with neither, from the shoulders. Hair is drawn in head-local coordinates (``up`` from
chin to forehead, ``side`` to the image's right), so it turns with the head.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fpdm_video.data.synthetic_face import (
    CHIN,
    FACE_HALF_WIDTH,
    FACE_OVAL,
    INNER_LIPS,
    LEFT_BROW,
    LEFT_EYE,
    NOSTRILS,
    OUTER_LIPS,
    RIGHT_BROW,
    RIGHT_EYE,
)
from fpdm_video.data.synthetic_identity import SignerIdentity
from fpdm_video.data.synthetic_shapes import (
    disc,
    ellipse,
    fill_polygon,
    mix,
    polyline,
    rotate90,
    shade,
    unit_vector,
)

TOP = 10  # forehead top of the face oval
OVAL_NEEDED = 0.75  # fraction of oval points that must be present to draw the face from landmarks


@dataclass(frozen=True)
class Head:
    """Where the head is in the image."""

    centre: np.ndarray  # (2,) pixels
    up: np.ndarray  # (2,) unit vector, chin -> forehead
    half_height: float  # pixels, forehead top to chin / 2
    half_width: float  # pixels
    oval: np.ndarray | None  # (n, 2) face outline from landmarks, or None

    @property
    def side(self) -> np.ndarray:
        return rotate90(self.up)

    @property
    def angle(self) -> float:
        """Degrees of the head's x axis (``side``) in the image."""
        return float(np.degrees(np.arctan2(self.side[1], self.side[0])))

    def at(self, x: float, v: float) -> np.ndarray:
        """Image point at head-local ``x`` half-widths to the right and ``v`` half-heights up."""
        return self.centre + self.side * (x * self.half_width) + self.up * (v * self.half_height)


def _ring(face: np.ndarray, seen: np.ndarray, ring: tuple[int, ...], need: float = 1.0) -> np.ndarray | None:
    idx = [i for i in ring if seen[i]]
    return face[idx] if len(idx) >= need * len(ring) and len(idx) >= 3 else None


def find_head(body: dict[str, np.ndarray], face: np.ndarray, face_seen: np.ndarray, unit: float) -> Head | None:
    """The head from the face landmarks, else the body head points, else the shoulders; None if none."""
    oval = _ring(face, face_seen, FACE_OVAL, OVAL_NEEDED)
    if oval is not None:
        top = face[TOP] if face_seen[TOP] else oval[np.argmin(oval[:, 1])]
        chin = face[CHIN] if face_seen[CHIN] else oval[np.argmax(oval[:, 1])]
        up = unit_vector(top - chin)
        half_height = float(np.hypot(*(top - chin))) / 2.0
        side = rotate90(up)
        across = oval @ side
        half_width = float(across.max() - across.min()) / 2.0
        return Head((top + chin) / 2.0, up, half_height, half_width, oval)
    if "LEFT_EAR" in body and "RIGHT_EAR" in body:
        half_width = float(np.hypot(*(body["LEFT_EAR"] - body["RIGHT_EAR"]))) / 2.0 / 0.95
    else:
        half_width = 0.3 * unit
    half_height = half_width / FACE_HALF_WIDTH
    if "LEFT_EYE" in body and "RIGHT_EYE" in body:
        up = -rotate90(unit_vector(body["LEFT_EYE"] - body["RIGHT_EYE"], (1.0, 0.0)))
        return Head((body["LEFT_EYE"] + body["RIGHT_EYE"]) / 2.0 - up * 0.12 * half_height, up, half_height, half_width, None)
    up = np.array([0.0, -1.0])
    if "NOSE" in body:
        return Head(body["NOSE"] + up * 0.25 * half_height, up, half_height, half_width, None)
    if "LEFT_SHOULDER" in body and "RIGHT_SHOULDER" in body:
        mid = (body["LEFT_SHOULDER"] + body["RIGHT_SHOULDER"]) / 2.0
        return Head(mid + up * 0.64 * unit, up, 0.32 * unit, 0.25 * unit, None)
    return None


def draw_hair_back(img: np.ndarray, head: Head, identity: SignerIdentity) -> None:
    """Hair behind the head (and, for long hair, behind the shoulders); drawn before the face."""
    colour, style = identity.hair_colour, identity.hair_style
    hw, hh = head.half_width, head.half_height
    if style == "long":
        ellipse(img, head.at(0.0, -0.3), (1.28 * hw, 1.5 * hh), head.angle, colour)
    if style in ("short", "long", "bun"):
        ellipse(img, head.at(0.0, 0.14), (1.1 * hw, 1.0 * hh), head.angle, colour)
    if style == "bun":
        disc(img, head.at(0.0, 1.12), 0.42 * hw, colour)
    if style == "curly":
        ellipse(img, head.at(0.0, 0.16), (1.12 * hw, 1.02 * hh), head.angle, colour)
        for a in np.linspace(np.pi * 0.95, np.pi * 2.05, 9):
            disc(img, head.at(1.08 * np.cos(a), 0.16 - 1.02 * np.sin(a)), 0.32 * hw, colour)


def _fringe(head: Head) -> np.ndarray:
    """Outline (n, 2) of the hair over the forehead: the top of the cap down to a wavy hairline."""
    arc = [head.at(1.1 * np.cos(a), 0.14 + 1.0 * np.sin(a)) for a in np.linspace(0.12 * np.pi, 0.88 * np.pi, 12)]
    xs = np.linspace(-1.05, 1.05, 9)
    hairline = [head.at(x, 0.5 - 0.12 * np.cos(np.pi * x / 1.05) ** 2 + 0.06 * np.sin(5.0 * x)) for x in xs]
    return np.array(arc + hairline)


def draw_face(img: np.ndarray, head: Head, identity: SignerIdentity, body: dict[str, np.ndarray], face, face_seen) -> None:
    """Ears, face, features and the hair that falls over the forehead."""
    skin = identity.skin
    line = shade(skin, 0.62)
    hw, hh = head.half_width, head.half_height
    width = max(1.0, 0.06 * hw)
    for x in (-1.0, 1.0):  # ears, behind the face outline
        ellipse(img, head.at(x * 0.98, 0.02), (0.2 * hw + width, 0.3 * hh + width), head.angle, line)
        ellipse(img, head.at(x * 0.98, 0.02), (0.2 * hw, 0.3 * hh), head.angle, shade(skin, 0.92))
    if head.oval is not None:
        polyline(img, head.oval, line, 2 * width, closed=True)
        fill_polygon(img, head.oval, skin)
    else:
        ellipse(img, head.centre, (hw + width, hh + width), head.angle, line)
        ellipse(img, head.centre, (hw, hh), head.angle, skin)
    _draw_eyes(img, head, identity, body, face, face_seen)
    _draw_nose_mouth(img, head, identity, body, face, face_seen)
    if identity.hair_style in ("short", "long", "bun"):
        fill_polygon(img, _fringe(head), identity.hair_colour)
    elif identity.hair_style == "curly":
        for x in np.linspace(-0.9, 0.9, 6):
            disc(img, head.at(x, 0.86 - 0.12 * abs(x)), 0.22 * hw, identity.hair_colour)


def _draw_eyes(img, head: Head, identity: SignerIdentity, body, face, face_seen) -> None:
    hw = head.half_width
    brow_colour = shade(identity.hair_colour, 0.8) if identity.hair_style != "bald" else shade(identity.skin, 0.55)
    for eye_ring, brow_ring, name in ((RIGHT_EYE, RIGHT_BROW, "RIGHT_EYE"), (LEFT_EYE, LEFT_BROW, "LEFT_EYE")):
        ring = _ring(face, face_seen, eye_ring)
        if ring is not None:
            centre = ring.mean(axis=0)
            eye_w = float(np.hypot(*(ring[0] - ring[len(ring) // 2]))) / 2.0
        elif name in body:
            centre, eye_w = body[name], 0.19 * hw
        else:
            continue
        ellipse(img, centre, (1.05 * eye_w, 0.62 * eye_w), head.angle, (250, 250, 250))
        disc(img, centre + head.up * 0.05 * eye_w, 0.48 * eye_w, (60, 40, 30))
        disc(img, centre + head.up * 0.05 * eye_w, 0.24 * eye_w, (10, 10, 10))
        brow = _ring(face, face_seen, brow_ring)
        if brow is not None:
            fill_polygon(img, brow, brow_colour)
            polyline(img, brow, brow_colour, max(1.0, 0.05 * hw), closed=True)
        else:
            half = head.side * 1.1 * eye_w
            top = centre + head.up * 1.5 * eye_w
            polyline(img, np.array([top - half, top + half]), brow_colour, max(1.0, 0.08 * hw))


def _draw_nose_mouth(img, head: Head, identity: SignerIdentity, body, face, face_seen) -> None:
    hw = head.half_width
    line = shade(identity.skin, 0.62)
    nostrils = _ring(face, face_seen, NOSTRILS)
    if nostrils is not None:
        polyline(img, nostrils, line, max(1.0, 0.05 * hw))
    elif "NOSE" in body:
        tip = body["NOSE"]
        polyline(img, np.array([tip - head.side * 0.1 * hw, tip + head.up * 0.04 * hw, tip + head.side * 0.1 * hw]), line, max(1.0, 0.05 * hw))
    lips = mix(identity.skin, (170, 40, 50), 0.45)
    outer = _ring(face, face_seen, OUTER_LIPS)
    if outer is not None:
        fill_polygon(img, outer, lips)
        inner = _ring(face, face_seen, INNER_LIPS)
        if inner is not None:
            gap = float(np.hypot(*(face[13] - face[14]))) if face_seen[13] and face_seen[14] else 0.0
            if gap > 0.04 * hw:
                fill_polygon(img, inner, (90, 20, 30))
            else:
                polyline(img, inner[: len(inner) // 2 + 1], shade(lips, 0.6), max(1.0, 0.04 * hw))
    elif "MOUTH_LEFT" in body and "MOUTH_RIGHT" in body:
        polyline(img, np.array([body["MOUTH_RIGHT"], body["MOUTH_LEFT"]]), shade(lips, 0.7), max(1.0, 0.08 * hw))
