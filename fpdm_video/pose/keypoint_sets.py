"""Holistic poses as the keypoint sets the official FPDM was trained on: OpenPose-18 and COCO-WholeBody-133.

A point is taken from the canonical holistic layout (body 33 | left_hand 21 | right_hand 21 |
face 468, MediaPipe's numbering; "left" is the signer's left) as follows:

- **OpenPose-18** (DeepFashion, keypoints of PCDMs): nose, neck, right and left shoulder, elbow and
  wrist, right and left hip, knee and ankle, right and left eye and ear. The neck has no MediaPipe
  landmark: it is the midpoint of the shoulders, present when both are.
- **COCO-WholeBody-133** (PHOENIX): the 17 COCO body points; 6 foot points (big toe from MediaPipe's
  foot index, heel from its heel; MediaPipe has no small toe, so those two stay missing); the 68 face
  points of the iBUG 300-W layout; 21 points per hand, the left hand first (the hand layouts are the
  same in both).

The 68 face points come from MediaPipe's face mesh by a fixed table, :data:`FACE68_FROM_MESH`,
derived here from the mesh's published contours: the jaw is 17 points of the face oval from the
signer's right temple round the chin (152) to the left (mirror pairs: 127/356, 234/454, ...); the
brows are the upper brow lines, outer to inner on the right and inner to outer on the left; the
nose bridge is 4 points of the midline from 168 to the tip (1), the nostril base 98, 97, 2, 326, 327;
each eye its two corners and two points on each lid; the lips their corners, midpoints and the
points between, outer ring then inner. Every left point is the mirror of its right point in the mesh.

Missing points (confidence below the threshold, or no source) are returned as not visible.
"""

from __future__ import annotations

import numpy as np

from fpdm_video.pose.sequence import BODY_POINTS
from fpdm_video.pose.skeleton import OFFSETS

_B = {name: i for i, name in enumerate(BODY_POINTS)}

MIDPOINT = -2  # a point that is the mean of two holistic points (the OpenPose neck)
ABSENT = -1  # a point no holistic landmark gives

OPENPOSE18_NAMES: tuple[str, ...] = (
    "nose", "neck", "right_shoulder", "right_elbow", "right_wrist", "left_shoulder", "left_elbow",
    "left_wrist", "right_hip", "right_knee", "right_ankle", "left_hip", "left_knee", "left_ankle",
    "right_eye", "left_eye", "right_ear", "left_ear",
)  # fmt: skip
_OPENPOSE18_FROM_BODY: tuple[str | None, ...] = (
    "NOSE", None, "RIGHT_SHOULDER", "RIGHT_ELBOW", "RIGHT_WRIST", "LEFT_SHOULDER", "LEFT_ELBOW",
    "LEFT_WRIST", "RIGHT_HIP", "RIGHT_KNEE", "RIGHT_ANKLE", "LEFT_HIP", "LEFT_KNEE", "LEFT_ANKLE",
    "RIGHT_EYE", "LEFT_EYE", "RIGHT_EAR", "LEFT_EAR",
)  # fmt: skip
NECK_ENDS: tuple[int, int] = (_B["LEFT_SHOULDER"], _B["RIGHT_SHOULDER"])

_COCO17_FROM_BODY: tuple[str, ...] = (
    "NOSE", "LEFT_EYE", "RIGHT_EYE", "LEFT_EAR", "RIGHT_EAR", "LEFT_SHOULDER", "RIGHT_SHOULDER",
    "LEFT_ELBOW", "RIGHT_ELBOW", "LEFT_WRIST", "RIGHT_WRIST", "LEFT_HIP", "RIGHT_HIP", "LEFT_KNEE",
    "RIGHT_KNEE", "LEFT_ANKLE", "RIGHT_ANKLE",
)  # fmt: skip
_FEET_FROM_BODY: tuple[str | None, ...] = (
    "LEFT_FOOT_INDEX", None, "LEFT_HEEL", "RIGHT_FOOT_INDEX", None, "RIGHT_HEEL",
)  # big toe, small toe, heel; left then right

FACE68_FROM_MESH: tuple[int, ...] = (
    # jaw 0-16: the signer's right temple, round the chin (8), to the left
    127, 234, 93, 132, 58, 136, 150, 176, 152, 400, 379, 365, 288, 361, 323, 454, 356,
    # right brow 17-21 (outer -> inner), left brow 22-26 (inner -> outer)
    70, 63, 105, 66, 107, 336, 296, 334, 293, 300,
    # nose bridge 27-30 (top -> tip), nostril base 31-35 (right -> left)
    168, 197, 5, 1, 98, 97, 2, 326, 327,
    # right eye 36-41: outer corner, upper lid, inner corner, lower lid
    33, 160, 158, 133, 153, 144,
    # left eye 42-47: inner corner, upper lid, outer corner, lower lid
    362, 385, 387, 263, 373, 380,
    # outer lips 48-59: right corner, upper lip to the left corner, lower lip back
    61, 40, 37, 0, 267, 270, 291, 321, 314, 17, 84, 91,
    # inner lips 60-67: right corner, upper, left corner, lower
    78, 81, 13, 311, 308, 402, 14, 178,
)  # fmt: skip


def _body(names) -> list[int]:
    return [ABSENT if n is None else _B[n] for n in names]


def _openpose18_table() -> np.ndarray:
    table = _body(_OPENPOSE18_FROM_BODY)
    table[OPENPOSE18_NAMES.index("neck")] = MIDPOINT
    return np.array(table)


def _wholebody133_table() -> np.ndarray:
    face = [OFFSETS["face"] + i for i in FACE68_FROM_MESH]
    hands = [OFFSETS[side] + i for side in ("left_hand", "right_hand") for i in range(21)]
    return np.array(_body(_COCO17_FROM_BODY) + _body(_FEET_FROM_BODY) + face + hands)


OPENPOSE18_TABLE: np.ndarray = _openpose18_table()  # (18,) holistic index, MIDPOINT or ABSENT
WHOLEBODY133_TABLE: np.ndarray = _wholebody133_table()  # (133,)


def select_points(xy: np.ndarray, visible: np.ndarray, table: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Holistic points (K, 2) and their drawn mask (K,) -> the keypoint set's (N, 2) and (N,) by ``table``."""
    index = np.clip(table, 0, None)
    points = xy[index].astype(np.float64)
    shown = visible[index] & (table >= 0)
    mid = table == MIDPOINT
    if mid.any():
        a, b = NECK_ENDS
        points[mid] = (xy[a] + xy[b]) / 2.0
        shown[mid] = visible[a] & visible[b]
    return points, shown
