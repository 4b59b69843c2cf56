"""Pose fidelity: how well the poses found on generated frames match the poses that drove them.

Both sequences are in the canonical holistic layout and the same pixel frame. Per region (body,
left hand, right hand, face) and frame, over the points present in both:

- **normalised distance**: mean point distance divided by the target's shoulder width in that
  frame (a scale that does not depend on the frame size);
- **PCK@alpha**: the fraction of those points within ``alpha`` shoulder widths (default 0.1);
- **missing hands**: the fraction of frames whose target has the hand while the generated frame's
  pose does not.

Body points are compared on the upper body only (MediaPipe indices 0-24: face points, shoulders,
arms, hands' body points, hips); legs are out of frame for signers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fpdm_video.pose.sequence import PoseSequence

REGIONS = ("body", "left_hand", "right_hand", "face")
UPPER_BODY = slice(0, 25)
LEFT_SHOULDER, RIGHT_SHOULDER = 11, 12


@dataclass
class RegionScore:
    distance: float  # mean normalised distance over frames where the region is in both (NaN: never)
    pck: float  # mean PCK@alpha over those frames
    frames: int  # frames compared


def shoulder_width(pose: PoseSequence) -> np.ndarray:
    """(T,) shoulder distance in pixels (NaN where a shoulder is missing)."""
    pts, conf = pose.points[:, [LEFT_SHOULDER, RIGHT_SHOULDER], :2], pose.confidence[:, [LEFT_SHOULDER, RIGHT_SHOULDER]]
    width = np.linalg.norm(pts[:, 0] - pts[:, 1], axis=-1)
    return np.where((conf > 0).all(axis=1) & (width > 0), width, np.nan)


def _points(pose: PoseSequence, region: str) -> tuple[np.ndarray, np.ndarray]:
    pts, conf = pose.component(region)
    if region == "body":
        pts, conf = pts[:, UPPER_BODY], conf[:, UPPER_BODY]
    return pts[..., :2], conf > 0


def region_scores(target: PoseSequence, generated: PoseSequence, alpha: float = 0.1) -> dict[str, RegionScore]:
    """Normalised distance and PCK per region (see the module notes)."""
    if target.num_frames != generated.num_frames:
        raise ValueError(f"target has {target.num_frames} frames, generated {generated.num_frames}")
    target, generated = target.to_holistic().to_pixels(), generated.to_holistic().to_pixels()
    scale = shoulder_width(target)  # (T,)
    out = {}
    for region in REGIONS:
        tp, tc = _points(target, region)
        gp, gc = _points(generated, region)
        both = tc & gc & np.isfinite(scale)[:, None]  # (T, k)
        dist = np.linalg.norm(tp - gp, axis=-1) / np.where(np.isfinite(scale), scale, 1.0)[:, None]  # (T, k)
        present = target.present(region) & generated.present(region) & both.any(axis=1)
        if not present.any():
            out[region] = RegionScore(float("nan"), float("nan"), 0)
            continue
        per_frame = [dist[t][both[t]] for t in np.flatnonzero(present)]
        out[region] = RegionScore(
            distance=float(np.mean([d.mean() for d in per_frame])),
            pck=float(np.mean([(d <= alpha).mean() for d in per_frame])),
            frames=int(present.sum()),
        )
    return out


def missing_hand_fraction(target: PoseSequence, generated: PoseSequence) -> dict[str, float]:
    """Per hand: frames with the hand in the target but not in the generated pose, over frames with it in the target."""
    out = {}
    for hand in ("left_hand", "right_hand"):
        want = target.present(hand)
        got = generated.present(hand)
        out[hand] = float((want & ~got).sum() / want.sum()) if want.any() else float("nan")
    return out
