"""Bones and colours of the canonical holistic layout (body 33 | left_hand 21 | right_hand 21 | face 468).

Index pairs are local to their component (MediaPipe's numbering); :func:`holistic_bones` turns them
into indices along K of a canonical :class:`~fpdm_video.pose.sequence.PoseSequence`. The face
chains follow MediaPipe's public face-mesh landmark numbering: the face oval, both eyebrows, both
eyes, outer and inner lips and the nose midline with the nostril base. "left" is the signer's left.

Colours are RGB. Body limbs get OpenPose-like hues, warm for the signer's left side and cool for the
right. Each finger bone has its own colour: the left hand uses hues from red to green, the right
hand from cyan to magenta, and the colour darkens from the palm out to the fingertip, so the two
hands and every bone can be told apart on a pose map.
"""

from __future__ import annotations

import colorsys
from dataclasses import dataclass

import numpy as np

from fpdm_video.pose.sequence import BODY_POINTS, HOLISTIC_COMPONENTS

Bone = tuple[int, int]
RGB = tuple[int, int, int]

_B = {name: i for i, name in enumerate(BODY_POINTS)}


def _named(*pairs: tuple[str, str]) -> tuple[Bone, ...]:
    return tuple((_B[a], _B[b]) for a, b in pairs)


# Body limbs (the neck, from mid-shoulder to the nose, is drawn separately: it has no landmark). The
# body's own face points (eyes, ears, mouth) and hand points (pinky, index, thumb) are not drawn: the
# face mesh and the hand components show those parts in detail.
BODY_LEFT_BONES: tuple[Bone, ...] = _named(
    ("LEFT_SHOULDER", "LEFT_ELBOW"), ("LEFT_ELBOW", "LEFT_WRIST"), ("LEFT_SHOULDER", "LEFT_HIP"),
    ("LEFT_HIP", "LEFT_KNEE"), ("LEFT_KNEE", "LEFT_ANKLE"), ("LEFT_ANKLE", "LEFT_HEEL"),
    ("LEFT_HEEL", "LEFT_FOOT_INDEX"),
)  # fmt: skip
BODY_RIGHT_BONES: tuple[Bone, ...] = _named(
    ("RIGHT_SHOULDER", "RIGHT_ELBOW"), ("RIGHT_ELBOW", "RIGHT_WRIST"), ("RIGHT_SHOULDER", "RIGHT_HIP"),
    ("RIGHT_HIP", "RIGHT_KNEE"), ("RIGHT_KNEE", "RIGHT_ANKLE"), ("RIGHT_ANKLE", "RIGHT_HEEL"),
    ("RIGHT_HEEL", "RIGHT_FOOT_INDEX"),
)  # fmt: skip
BODY_CENTER_BONES: tuple[Bone, ...] = _named(("LEFT_SHOULDER", "RIGHT_SHOULDER"), ("LEFT_HIP", "RIGHT_HIP"))
BODY_BONES: tuple[Bone, ...] = BODY_CENTER_BONES + BODY_LEFT_BONES + BODY_RIGHT_BONES
BODY_JOINTS: tuple[int, ...] = tuple(sorted({i for bone in BODY_BONES for i in bone} | {_B["NOSE"]}))  # dotted
NECK: tuple[int, int, int] = (_B["LEFT_SHOULDER"], _B["RIGHT_SHOULDER"], _B["NOSE"])  # mid-shoulder -> nose

# Hands: five fingers from the wrist (0), four joints each, base to tip; then the knuckle line.
FINGERS: tuple[tuple[int, ...], ...] = (
    (0, 1, 2, 3, 4),  # thumb: wrist, CMC, MCP, IP, TIP
    (0, 5, 6, 7, 8),  # index
    (0, 9, 10, 11, 12),  # middle
    (0, 13, 14, 15, 16),  # ring
    (0, 17, 18, 19, 20),  # pinky
)
FINGER_BONES: tuple[Bone, ...] = tuple((f[j], f[j + 1]) for f in FINGERS for j in range(4))  # 20 bones
PALM_BONES: tuple[Bone, ...] = ((5, 9), (9, 13), (13, 17))  # knuckles: index MCP .. pinky MCP
HAND_BONES: tuple[Bone, ...] = FINGER_BONES + PALM_BONES

# Face contours as point chains (MediaPipe face-mesh numbering); closed chains repeat their first point.
FACE_OVAL = (
    10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377, 152, 148,
    176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109, 10,
)  # fmt: skip
LIPS_OUTER = (61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291, 409, 270, 269, 267, 0, 37, 39, 40, 185, 61)
LIPS_INNER = (78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308, 415, 310, 311, 312, 13, 82, 81, 80, 191, 78)
LEFT_EYE = (263, 249, 390, 373, 374, 380, 381, 382, 362, 398, 384, 385, 386, 387, 388, 466, 263)
RIGHT_EYE = (33, 7, 163, 144, 145, 153, 154, 155, 133, 173, 157, 158, 159, 160, 161, 246, 33)
LEFT_EYEBROW = ((276, 283, 282, 295, 285), (300, 293, 334, 296, 336))  # lower and upper line
RIGHT_EYEBROW = ((46, 53, 52, 65, 55), (70, 63, 105, 66, 107))
NOSE_LINE = (168, 6, 197, 195, 5, 4, 1, 19, 94, 2)  # bridge to the base of the nose
NOSE_BASE = (98, 97, 2, 326, 327)  # across the nostrils
FACE_CHAINS: dict[str, tuple[tuple[int, ...], ...]] = {
    "oval": (FACE_OVAL,),
    "left_eyebrow": LEFT_EYEBROW,
    "right_eyebrow": RIGHT_EYEBROW,
    "left_eye": (LEFT_EYE,),
    "right_eye": (RIGHT_EYE,),
    "lips": (LIPS_OUTER, LIPS_INNER),
    "nose": (NOSE_LINE, NOSE_BASE),
}


def chain_bones(chain: tuple[int, ...]) -> tuple[Bone, ...]:
    """Consecutive pairs of a point chain."""
    return tuple(zip(chain[:-1], chain[1:]))


FACE_BONES: dict[str, tuple[Bone, ...]] = {
    part: tuple(b for chain in chains for b in chain_bones(chain)) for part, chains in FACE_CHAINS.items()
}


# ---- colours -----------------------------------------------------------------------------------
def _hsv(h: float, s: float, v: float) -> RGB:
    r, g, b = colorsys.hsv_to_rgb(h % 1.0, s, v)
    return (round(255 * r), round(255 * g), round(255 * b))


def _limb_colors(bones: tuple[Bone, ...], hue0: float, hue1: float) -> tuple[RGB, ...]:
    n = max(len(bones) - 1, 1)
    return tuple(_hsv(hue0 + (hue1 - hue0) * i / n, 1.0, 1.0) for i in range(len(bones)))


def _hand_colors(hue0: float, hue1: float) -> tuple[RGB, ...]:
    """20 finger-bone colours (one hue per finger, darker towards the tip), then the palm's grey-tinted bones."""
    fingers = [_hsv(hue0 + (hue1 - hue0) * f / 4, 1.0, 1.0 - 0.15 * j) for f in range(5) for j in range(4)]
    palm = [_hsv(hue0 + (hue1 - hue0) * 0.5, 0.35, 0.85)] * len(PALM_BONES)
    return tuple(fingers + palm)


BODY_COLORS: tuple[RGB, ...] = (
    ((255, 255, 255), (200, 200, 200))  # shoulder line, hip line
    + _limb_colors(BODY_LEFT_BONES, 0.0, 0.16)  # signer's left: red .. yellow
    + _limb_colors(BODY_RIGHT_BONES, 0.5, 0.7)  # signer's right: cyan .. blue
)
NECK_COLOR: RGB = (255, 0, 170)
LEFT_HAND_COLORS: tuple[RGB, ...] = _hand_colors(0.0, 0.36)  # red, orange, yellow, lime, green
RIGHT_HAND_COLORS: tuple[RGB, ...] = _hand_colors(0.5, 0.86)  # cyan, azure, blue, violet, magenta
FACE_COLORS: dict[str, RGB] = {
    "oval": (230, 230, 230),
    "left_eyebrow": (255, 140, 60),
    "right_eyebrow": (60, 160, 255),
    "left_eye": (255, 200, 60),
    "right_eye": (60, 220, 255),
    "lips": (255, 80, 120),
    "nose": (180, 255, 120),
}


# ---- bones of the whole layout -------------------------------------------------------------------
@dataclass(frozen=True)
class BoneGroup:
    """Bones of one kind, as indices along K of the canonical layout, with their colours."""

    name: str  # "body", "left_hand", "right_hand" or "face_<part>"
    bones: np.ndarray  # (N, 2) int: point indices along K
    colors: np.ndarray  # (N, 3) uint8 RGB, one per bone
    kind: str  # "body", "hand" or "face": picks the line width


def _offsets() -> dict[str, int]:
    out, start = {}, 0
    for comp in HOLISTIC_COMPONENTS:
        out[comp.name] = start
        start += len(comp)
    return out


OFFSETS: dict[str, int] = _offsets()  # first index along K of each canonical component


def holistic_bones() -> tuple[BoneGroup, ...]:
    """Every drawn bone of the canonical layout, grouped body, face parts, then the two hands."""
    groups = [BoneGroup("body", np.array(BODY_BONES), np.array(BODY_COLORS, dtype=np.uint8), "body")]
    face = OFFSETS["face"]
    for part, bones in FACE_BONES.items():
        colors = np.array([FACE_COLORS[part]] * len(bones), dtype=np.uint8)
        groups.append(BoneGroup(f"face_{part}", face + np.array(bones), colors, "face"))
    for side, colors in (("left_hand", LEFT_HAND_COLORS), ("right_hand", RIGHT_HAND_COLORS)):
        groups.append(BoneGroup(side, OFFSETS[side] + np.array(HAND_BONES), np.array(colors, dtype=np.uint8), "hand"))
    return tuple(groups)
