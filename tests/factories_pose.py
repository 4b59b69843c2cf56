"""Test support for the pose stage: a plausible holistic pose track of a signer, and a pose CLI runner.

The fake skeleton faces the camera: head at the top, shoulders above hips, both forearms raised in
front of the chest and moving a little from frame to frame. The signer's left side is on the
image's right, as in MediaPipe. Each hand has its 21 points along five fingers (wrist, then four
joints per finger from the base out). The face's 468 points lie on a spiral inside the face oval,
except MediaPipe's contour points (oval, lips, eyes, brows), which sit on those shapes, so that
drawing FACEMESH_CONTOURS gives a face. Legs are below the frame with a low confidence, as MediaPipe
reports them for a seated or cropped signer.
"""

from __future__ import annotations

import functools
import subprocess
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np

from fpdm_video.pose.sequence import BODY_POINTS, PoseSequence

BODY_INDEX = {name: i for i, name in enumerate(BODY_POINTS)}
LEG_POINTS = frozenset(BODY_POINTS[25:])  # knees, ankles, heels, feet: outside the frame
FINGER_ANGLES = (-0.9, -0.3, 0.0, 0.25, 0.5)  # radians off the forearm, thumb .. pinky, for the left hand
FINGER_JOINTS = (  # distances of the 4 joints from the wrist, in units of the frame's short side
    (0.03, 0.055, 0.075, 0.095),  # thumb: CMC, MCP, IP, TIP
    (0.08, 0.105, 0.122, 0.138),  # index: MCP, PIP, DIP, TIP
    (0.08, 0.11, 0.13, 0.148),  # middle
    (0.075, 0.1, 0.118, 0.133),  # ring
    (0.07, 0.09, 0.103, 0.115),  # pinky
)


def make_pose_sequence(
    t: int = 8,
    width: int = 256,
    height: int = 256,
    seed: int = 0,
    missing: Mapping[str, Iterable[int]] | None = None,
    fps: float = 25.0,
    jitter: float = 0.3,
) -> PoseSequence:
    """A canonical holistic sequence of ``t`` frames in pixel coordinates.

    ``missing`` maps a component name ("body", "left_hand", "right_hand", "face") to the frames
    in which it is missing (confidence 0), e.g. ``{"left_hand": [2, 3]}``. ``seed`` sets the arm
    motion's phase and the jitter (Gaussian, ``jitter`` pixels).
    """
    rng = np.random.default_rng(seed)
    s = float(min(width, height))  # length unit: the frame's short side
    center = np.array([width / 2.0, 0.0], dtype=np.float64)
    phase = rng.uniform(0.0, 2.0 * np.pi, size=2)
    frames = [_frame(center, s, height, 2.0 * np.pi * i / max(t, 1), phase) for i in range(t)]
    points = np.stack([p for p, _ in frames]).astype(np.float32)  # (T, 543, 3)
    confidence = np.stack([c for _, c in frames]).astype(np.float32)  # (T, 543)
    points[..., :2] += rng.normal(0.0, jitter, size=points[..., :2].shape)
    pose = PoseSequence(points=points, confidence=confidence, fps=fps, width=width, height=height)
    for name, frame_ids in (missing or {}).items():
        pose.confidence[list(frame_ids), pose.slice_of(name)] = 0.0
    return pose.with_data(pose.points, pose.confidence)  # re-zeroes the points made missing


def _frame(center: np.ndarray, s: float, height: int, angle: float, phase: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Points (543, 3) and confidence (543,) of one frame at motion angle ``angle``."""
    body = _body(center, s, height, angle, phase)  # (33, 2)
    hands = [_hand(body, side, s) for side in ("LEFT", "RIGHT")]  # 2 x (21, 2)
    face = _face(body[BODY_INDEX["NOSE"]], s)  # (468, 2)
    xy = np.concatenate([body, *hands, face])  # (543, 2), canonical order body | lh | rh | face
    z = np.zeros((len(xy), 1))
    confidence = np.ones(len(xy))
    body_conf = np.array([0.05 if name in LEG_POINTS else 0.99 for name in BODY_POINTS])
    confidence[: len(BODY_POINTS)] = body_conf
    return np.concatenate([xy, z], axis=1), confidence


def _body(center: np.ndarray, s: float, height: int, angle: float, phase: np.ndarray) -> np.ndarray:
    """The 33 MediaPipe body points (33, 2) of a frontal upper body with raised forearms."""
    cx = center[0]
    at = {}
    at["NOSE"] = (cx, 0.25 * height)
    for side, sign in (("LEFT", 1.0), ("RIGHT", -1.0)):  # signer's left is on the image's right
        ny = 0.25 * height
        at[f"{side}_EYE_INNER"] = (cx + sign * 0.015 * s, ny - 0.03 * s)
        at[f"{side}_EYE"] = (cx + sign * 0.03 * s, ny - 0.032 * s)
        at[f"{side}_EYE_OUTER"] = (cx + sign * 0.045 * s, ny - 0.03 * s)
        at[f"{side}_EAR"] = (cx + sign * 0.07 * s, ny - 0.01 * s)
        at[f"MOUTH_{side}"] = (cx + sign * 0.025 * s, ny + 0.04 * s)
        shoulder = np.array([cx + sign * 0.17 * s, 0.25 * height + 0.2 * s])
        hip = np.array([cx + sign * 0.1 * s, shoulder[1] + 0.42 * s])
        i = 0 if side == "LEFT" else 1
        upper = 0.35 + 0.15 * np.sin(angle + phase[i])  # upper arm, radians out from straight down
        bend = 2.0 + 0.35 * np.sin(angle + phase[i] + 1.0)  # elbow bend, raises the forearm inwards
        elbow = shoulder + 0.2 * s * _direction(sign * upper)
        forearm = _direction(sign * (upper - bend))
        wrist = elbow + 0.18 * s * forearm
        across = sign * np.array([forearm[1], -forearm[0]])  # towards the thumb side
        at[f"{side}_SHOULDER"], at[f"{side}_HIP"] = shoulder, hip
        at[f"{side}_ELBOW"], at[f"{side}_WRIST"] = elbow, wrist
        at[f"{side}_PINKY"] = wrist + 0.07 * s * forearm - 0.02 * s * across
        at[f"{side}_INDEX"] = wrist + 0.08 * s * forearm + 0.015 * s * across
        at[f"{side}_THUMB"] = wrist + 0.05 * s * forearm + 0.035 * s * across
        at[f"{side}_KNEE"] = hip + (0.0, 0.45 * s)
        at[f"{side}_ANKLE"] = hip + (0.0, 0.9 * s)
        at[f"{side}_HEEL"] = hip + (-sign * 0.02 * s, 0.93 * s)
        at[f"{side}_FOOT_INDEX"] = hip + (sign * 0.03 * s, 0.97 * s)
    return np.array([at[name] for name in BODY_POINTS], dtype=np.float64)


def _hand(body: np.ndarray, side: str, s: float) -> np.ndarray:
    """21 hand points (21, 2): the wrist at the body's wrist, fingers fanned along the forearm."""
    wrist = body[BODY_INDEX[f"{side}_WRIST"]]
    forearm = wrist - body[BODY_INDEX[f"{side}_ELBOW"]]
    heading = np.arctan2(forearm[0], forearm[1])  # angle off straight down, as in _direction
    sign = 1.0 if side == "LEFT" else -1.0
    points = [wrist]
    for finger, joints in zip(FINGER_ANGLES, FINGER_JOINTS):
        direction = _direction(heading - sign * finger)
        points.extend(wrist + r * s * direction for r in joints)
    return np.array(points)


def _face(nose: np.ndarray, s: float) -> np.ndarray:
    """468 face points (468, 2): MediaPipe's contour points on their shapes, the rest inside the oval."""
    center = nose + (0.0, -0.01 * s)
    xy = np.zeros((468, 2))
    placed = np.zeros(468, dtype=bool)
    for (dx, dy, a, b, closed), loops in _face_shapes():
        for loop in loops:
            if closed:  # around the whole ellipse
                theta = 2.0 * np.pi * np.arange(len(loop)) / len(loop)
            else:  # an open path (a brow line) along the ellipse's upper arc
                theta = np.linspace(1.15 * np.pi, 1.85 * np.pi, len(loop))
            xy[loop] = center + (dx * s, dy * s) + np.stack([a * s * np.cos(theta), b * s * np.sin(theta)], axis=1)
            placed[loop] = True
            a, b = 0.75 * a, 0.45 * b  # a part's second loop (inner lips, lower brow line) is smaller
    rest = np.flatnonzero(~placed)
    radius = 0.85 * np.sqrt((np.arange(len(rest)) + 0.5) / len(rest))  # sunflower spiral fills the oval
    theta = np.arange(len(rest)) * np.pi * (3.0 - np.sqrt(5.0))
    xy[rest] = center + np.stack([0.07 * s * radius * np.cos(theta), 0.095 * s * radius * np.sin(theta)], axis=1)
    return xy


@functools.lru_cache(maxsize=1)
def _face_shapes() -> tuple[tuple[tuple[float, float, float, float, bool], list[list[int]]], ...]:
    """MediaPipe's face contours as ordered point chains, each part with its ellipse.

    The ellipse is ``(dx, dy, a, b, closed)``: centre offset and semi-axes in units of the frame's
    short side, and whether the chains are closed loops (oval, lips, eyes) or open paths (brows).
    """
    from mediapipe.python.solutions import face_mesh_connections as fm  # ~1.5 s, once per test run

    return (
        ((0.0, 0.0, 0.07, 0.095, True), _loops(fm.FACEMESH_FACE_OVAL)),
        ((0.0, 0.05, 0.028, 0.012, True), sorted(_loops(fm.FACEMESH_LIPS), key=lambda loop: 61 not in loop)),
        ((0.03, -0.022, 0.016, 0.006, True), _loops(fm.FACEMESH_LEFT_EYE)),  # the signer's left: image right
        ((-0.03, -0.022, 0.016, 0.006, True), _loops(fm.FACEMESH_RIGHT_EYE)),
        ((0.03, -0.03, 0.022, 0.012, False), _loops(fm.FACEMESH_LEFT_EYEBROW)),
        ((-0.03, -0.03, 0.022, 0.012, False), _loops(fm.FACEMESH_RIGHT_EYEBROW)),
    )


def _loops(edges: Iterable[tuple[int, int]]) -> list[list[int]]:
    """The connected chains of an edge set, each as its points in walking order."""
    neighbours: dict[int, list[int]] = {}
    for a, b in edges:
        neighbours.setdefault(a, []).append(b)
        neighbours.setdefault(b, []).append(a)
    seen: set[int] = set()
    loops = []
    ends = sorted(n for n, adj in neighbours.items() if len(adj) == 1)  # open paths start at an end
    for start in ends + sorted(neighbours):
        if start in seen:
            continue
        loop, current = [], start
        while current is not None:
            loop.append(current)
            seen.add(current)
            current = next((n for n in sorted(neighbours[current]) if n not in seen), None)
        loops.append(loop)
    return loops


def _direction(angle: float) -> np.ndarray:
    """Unit vector ``angle`` radians off straight down (image y grows downwards), positive towards +x."""
    return np.array([np.sin(angle), np.cos(angle)])


def run_pose_cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run ``python -m fpdm_video.pose ARGS`` in a fresh interpreter (to see exit code and stderr)."""
    return subprocess.run(
        [sys.executable, "-m", "fpdm_video.pose", *args],
        cwd=Path(__file__).resolve().parents[1],
        capture_output=True,
        text=True,
        timeout=timeout,
    )
