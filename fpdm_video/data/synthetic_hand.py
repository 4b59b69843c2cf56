"""Handshapes and hand kinematics: 21 MediaPipe hand points from joint angles.

A hand is a wrist, a palm with five finger bases and five fingers of three joints each. A shape
is a handful of numbers: a curl per finger (0 straight, 1 fully bent), a spread (fingers together
or apart) and the thumb's opposition (alongside the palm or across it). Curls become joint
angles inside physiological ranges (MCP <= 85 deg, PIP <= 100 deg, DIP <= 65 deg; thumb MCP <= 50,
IP <= 75). Bending rotates a finger towards the palm's normal, so a curled finger is
foreshortened and comes forward of the palm in the image.

Local frame of a signer's left hand with the palm facing the camera and the fingers up: x towards
the little finger (image right), y along the fingers (negative = towards the tips), z out of the
back of the hand (positive = away from the camera). Lengths are in hand lengths (wrist to the
middle fingertip = 1). The right hand is the mirror image (x negated).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

FINGERS: tuple[str, ...] = ("thumb", "index", "middle", "ring", "pinky")
FINGER_CHAINS: tuple[tuple[int, int, int, int], ...] = (  # hand point indices, base -> tip
    (1, 2, 3, 4), (5, 6, 7, 8), (9, 10, 11, 12), (13, 14, 15, 16), (17, 18, 19, 20),
)  # fmt: skip
PALM_POINTS: tuple[int, ...] = (0, 1, 5, 9, 13, 17)  # wrist, thumb CMC and the four finger bases

# finger bases (x, y) and the three segment lengths (proximal, middle, distal) of each long finger
_BASES = {"index": (-0.11, -0.47), "middle": (-0.035, -0.5), "ring": (0.04, -0.48), "pinky": (0.11, -0.43)}
_SEGMENTS = {
    "index": (0.2, 0.12, 0.1),
    "middle": (0.22, 0.14, 0.11),
    "ring": (0.2, 0.13, 0.1),
    "pinky": (0.16, 0.1, 0.09),
}
_SPLAY = {"index": (-3.0, -14.0), "middle": (0.0, 0.0), "ring": (3.0, 11.0), "pinky": (6.0, 24.0)}  # deg (together, apart)
_MAX_BEND = (85.0, 100.0, 65.0)  # MCP, PIP, DIP at curl 1, degrees
_THUMB_CMC = (-0.1, -0.1)
_THUMB_SEGMENTS = (0.2, 0.15, 0.12)  # CMC->MCP, MCP->IP, IP->TIP
_THUMB_MAX_BEND = (50.0, 75.0)  # MCP, IP at curl 1, degrees


@dataclass(frozen=True)
class Handshape:
    """Parameters of one handshape."""

    curls: tuple[float, float, float, float, float]  # thumb, index, middle, ring, pinky; 0 straight .. 1 bent
    spread: float  # 0 fingers together .. 1 spread apart
    opposition: float  # thumb: 0 alongside the index finger .. 1 across the palm

    def as_array(self) -> np.ndarray:
        """(7,) the parameters in one vector, for interpolation."""
        return np.array([*self.curls, self.spread, self.opposition], dtype=np.float64)

    @staticmethod
    def from_array(values: np.ndarray) -> Handshape:
        v = np.clip(np.asarray(values, dtype=np.float64), 0.0, 1.0)
        return Handshape(curls=tuple(float(c) for c in v[:5]), spread=float(v[5]), opposition=float(v[6]))  # type: ignore[arg-type]


HANDSHAPES: dict[str, Handshape] = {  # names after the sign-language handshapes they resemble
    "FLAT": Handshape((0.1, 0.0, 0.0, 0.0, 0.0), 0.05, 0.25),
    "FIVE": Handshape((0.0, 0.0, 0.0, 0.0, 0.0), 1.0, 0.0),
    "FIST": Handshape((0.35, 1.0, 1.0, 1.0, 1.0), 0.0, 0.35),
    "POINT": Handshape((0.8, 0.0, 1.0, 1.0, 1.0), 0.1, 0.9),
    "V": Handshape((0.8, 0.0, 0.0, 1.0, 1.0), 0.8, 0.9),
    "C": Handshape((0.25, 0.45, 0.45, 0.45, 0.45), 0.1, 0.35),
    "O": Handshape((0.55, 0.62, 0.62, 0.62, 0.62), 0.05, 1.0),
    "Y": Handshape((0.0, 1.0, 1.0, 1.0, 0.0), 1.0, 0.0),
    "L": Handshape((0.0, 0.0, 1.0, 1.0, 1.0), 0.5, 0.0),
    "BENT": Handshape((0.2, 0.55, 0.55, 0.55, 0.55), 0.0, 0.4),
}


def _rot_x(a: float) -> np.ndarray:
    c, s = np.cos(a), np.sin(a)
    return np.array([[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]])


def _rot_y(a: float) -> np.ndarray:
    c, s = np.cos(a), np.sin(a)
    return np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])


def _rot_z(a: float) -> np.ndarray:
    c, s = np.cos(a), np.sin(a)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def _chain(base: np.ndarray, direction: np.ndarray, normal: np.ndarray, lengths, bends) -> list[np.ndarray]:
    """Joint positions after ``base`` along ``direction``, each joint bending towards ``normal`` (radians)."""
    out, p, total = [], base, 0.0
    for length, bend in zip(lengths, bends):
        total += bend
        p = p + length * (np.cos(total) * direction + np.sin(total) * normal)
        out.append(p)
    return out


def hand_points_local(shape: Handshape) -> np.ndarray:
    """(21, 3) points of a signer's left hand in the local frame (see the module docstring)."""
    pts = np.zeros((21, 3))
    palm_normal = np.array([0.0, 0.0, -1.0])  # curling brings fingertips towards the camera
    for f, name in enumerate(FINGERS[1:], start=1):
        chain = FINGER_CHAINS[f]
        together, apart = _SPLAY[name]
        splay = np.radians(together + shape.spread * (apart - together))
        direction = np.array([np.sin(splay), -np.cos(splay), 0.0])
        base = np.array([*_BASES[name], 0.0])
        bends = [np.radians(m * shape.curls[f]) for m in _MAX_BEND]
        pts[chain[0]] = base
        pts[list(chain[1:])] = _chain(base, direction, palm_normal, _SEGMENTS[name], bends)
    # thumb: points out and up from the palm's thumb side; opposition turns it across the palm
    # and in front of it
    cmc = np.array([*_THUMB_CMC, 0.0])
    aside = np.array([-0.62, -0.78, 0.0])
    across = np.array([0.55, -0.55, -0.62])
    direction = (1.0 - shape.opposition) * aside + shape.opposition * across
    direction /= np.linalg.norm(direction)
    bend_normal = np.cross(direction, np.array([0.0, 0.0, 1.0])) * -1.0  # towards the palm's centre
    bend_normal = 0.5 * bend_normal / max(np.linalg.norm(bend_normal), 1e-9) + 0.5 * palm_normal
    bend_normal -= direction * float(bend_normal @ direction)
    bend_normal /= np.linalg.norm(bend_normal)
    thumb_bends = [0.0] + [np.radians(m * shape.curls[0]) for m in _THUMB_MAX_BEND]
    pts[1] = cmc
    pts[[2, 3, 4]] = _chain(cmc, direction, bend_normal, _THUMB_SEGMENTS, thumb_bends)
    return pts


def pose_hand(shape: Handshape, side: str, roll: float, yaw: float, pitch: float) -> np.ndarray:
    """(21, 3) hand points relative to the wrist, in hand lengths, oriented in the image.

    ``side`` is "left" or "right" (the signer's). ``roll`` turns the hand in the image plane
    (0: fingers up, positive: towards the image's right), ``yaw`` turns the palm about the
    fingers' axis (0: palm to the camera), ``pitch`` tips the fingers towards the camera; radians.
    """
    local = hand_points_local(shape)
    if side == "right":
        local = local * np.array([-1.0, 1.0, 1.0])
        yaw = -yaw
    rotation = _rot_z(roll) @ _rot_x(pitch) @ _rot_y(yaw)  # (3, 3)
    return local @ rotation.T
