"""Test support for the synthetic signer: small motions and the pixels around hand landmarks."""

from __future__ import annotations

import numpy as np

from fpdm_video.data.synthetic_motion import plan_motion
from fpdm_video.pose.sequence import PoseSequence

LEFT_HAND = slice(33, 54)
RIGHT_HAND = slice(54, 75)


def contact_frames(seed: int, frames: int, fps: float = 25.0) -> list[tuple[int, str, int]]:
    """(frame, side, face point) of frames held in a contact by the plan of ``seed``."""
    plan = plan_motion(seed, frames, fps)
    times = np.asarray(plan.times)
    out = []
    for i in range(frames):
        t = i / fps
        k = int(np.clip(np.searchsorted(times, t, side="right") - 1, 0, len(times) - 1))
        k1 = min(k + 1, len(times) - 1)
        for side, keys in plan.keys.items():
            if keys[k] is keys[k1] and keys[k].contact >= 0 and k1 != k:
                out.append((i, side, keys[k].contact))
    return out


def hand_pixels(pose: PoseSequence, index: int, side: str, size: int) -> np.ndarray:
    """Integer pixel positions (21, 2) of a hand's landmarks on a square canvas of ``size``."""
    scale = min(size / pose.width, size / pose.height)
    offset = np.array([(size - pose.width * scale) / 2.0, (size - pose.height * scale) / 2.0])
    hand = LEFT_HAND if side == "left" else RIGHT_HAND
    xy = pose.points[index, hand, :2] * scale + offset
    return np.clip(np.round(xy).astype(int), 0, size - 1)
