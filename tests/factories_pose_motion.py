"""Test support for pose repair, retargeting and rendering: known motion, known noise, known changes.

Ground truth comes from :func:`factories_pose.make_pose_sequence` without jitter (a smooth arm
motion); these helpers add measured noise, a fast hand oscillation, gaps, swaps and rescaling, so a
test can compare a repaired or retargeted sequence against the truth.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

import numpy as np

from factories_pose import make_pose_sequence
from fpdm_video.pose.sequence import BODY_POINTS, PoseSequence

RIGHT_ARM = [BODY_POINTS.index(n) for n in ("RIGHT_WRIST", "RIGHT_PINKY", "RIGHT_INDEX", "RIGHT_THUMB")]


def smooth_track(t: int = 100, size: int = 512, fps: float = 25.0, seed: int = 0) -> PoseSequence:
    """A noise-free holistic track of ``t`` frames on a ``size`` square frame (one arm cycle over the clip)."""
    return make_pose_sequence(t=t, width=size, height=size, seed=seed, fps=fps, jitter=0.0)


def with_noise(pose: PoseSequence, sigma: float, seed: int = 1) -> PoseSequence:
    """Gaussian noise of ``sigma`` pixels on x and y of every present point."""
    rng = np.random.default_rng(seed)
    points = pose.points.copy()
    points[..., :2] += rng.normal(0.0, sigma, size=points[..., :2].shape).astype(np.float32)
    return pose.with_data(points, pose.confidence.copy())


def hand_indices(pose: PoseSequence, side: str = "right") -> np.ndarray:
    """Indices along K of one hand component and its body wrist points."""
    s = pose.slice_of(f"{side}_hand")
    body = RIGHT_ARM if side == "right" else [i - 1 for i in RIGHT_ARM]  # LEFT_* precede RIGHT_* by one
    return np.concatenate([np.arange(s.start, s.stop), np.array(body)])


def with_hand_oscillation(pose: PoseSequence, amplitude: float, hz: float, side: str = "right") -> PoseSequence:
    """Move one hand (and its body wrist points) by ``amplitude * sin(2 pi hz t)`` pixels along x."""
    points = pose.points.copy()
    times = np.arange(pose.num_frames) / pose.fps
    idx = hand_indices(pose, side)
    points[:, idx, 0] += (amplitude * np.sin(2.0 * np.pi * hz * times))[:, None].astype(np.float32)
    return pose.with_data(points, pose.confidence.copy())


def without(pose: PoseSequence, component: str, frames: Iterable[int]) -> PoseSequence:
    """Component ``component`` made missing in ``frames``."""
    confidence = pose.confidence.copy()
    confidence[list(frames), pose.slice_of(component)] = 0.0
    return pose.with_data(pose.points.copy(), confidence)


def with_swapped_hands(pose: PoseSequence, frames: Iterable[int]) -> PoseSequence:
    """The two hand components exchanged in ``frames``, as a mislabelling detector would give them."""
    points, confidence = pose.points.copy(), pose.confidence.copy()
    ls, rs = pose.slice_of("left_hand"), pose.slice_of("right_hand")
    f = list(frames)
    points[f, ls], points[f, rs] = pose.points[f, rs], pose.points[f, ls]
    confidence[f, ls], confidence[f, rs] = pose.confidence[f, rs], pose.confidence[f, ls]
    return pose.with_data(points, confidence)


def scaled(pose: PoseSequence, factor: float, shift: tuple[float, float], width: int, height: int) -> PoseSequence:
    """Every point scaled by ``factor`` about the origin and shifted by ``shift`` pixels, in a new frame size."""
    points = pose.points.copy()
    points[..., :2] = points[..., :2] * factor + np.asarray(shift, dtype=np.float32)
    return replace(pose, points=points, confidence=pose.confidence.copy(), width=width, height=height)


def foreshortened_forearms(pose: PoseSequence, sides: Iterable[str], factor: float = 0.3) -> PoseSequence:
    """Frame 0 of ``pose`` with the forearms of ``sides`` ("LEFT", "RIGHT") pointing at the camera.

    Each 2D forearm is ``factor`` of its length; the hand and the body's hand points move with the wrist.
    """
    ref = pose.frames(0, 1)
    p = ref.points[0]
    for side in sides:
        hand = ref.slice_of(f"{side.lower()}_hand")
        elbow, wrist = (p[BODY_POINTS.index(f"{side}_{n}"), :2].copy() for n in ("ELBOW", "WRIST"))
        body = [BODY_POINTS.index(f"{side}_{n}") for n in ("WRIST", "PINKY", "INDEX", "THUMB")]
        p[[*range(hand.start, hand.stop), *body], :2] += elbow + factor * (wrist - elbow) - wrist
    return ref


def sinusoid_lag(signal: np.ndarray, reference: np.ndarray, hz: float, fps: float) -> float:
    """Lag in frames of ``signal`` behind ``reference``, both (T,) sinusoids of ``hz``, from their phases."""
    times = np.arange(len(signal)) / fps
    basis = np.exp(-2j * np.pi * hz * times)
    phase = np.angle(np.sum((reference - reference.mean()) * basis))
    phase -= np.angle(np.sum((signal - signal.mean()) * basis))
    phase = (phase + np.pi) % (2.0 * np.pi) - np.pi
    return float(phase / (2.0 * np.pi * hz) * fps)
