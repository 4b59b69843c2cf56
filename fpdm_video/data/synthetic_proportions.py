"""Give a pose sequence the body proportions of a synthetic identity.

Bone lengths are rescaled down the kinematic chains, frame by frame: the shoulders about their
midpoint (shoulder width; the hips follow with a smaller factor), each upper arm about its
shoulder, each forearm about its elbow, each hand about its wrist, and the head (body head points
and face) about the chin. A child joint moves with its parent, so the arm stays connected. Points
whose parent joint is missing keep their place: nothing is invented for missing points.
"""

from __future__ import annotations

import numpy as np

from fpdm_video.data.synthetic_identity import SignerIdentity
from fpdm_video.pose.sequence import BODY_POINTS, PoseSequence

B = {name: i for i, name in enumerate(BODY_POINTS)}
HEAD_BODY = list(range(11))  # nose, eyes, ears, mouth corners
CHIN = 152


def _scaled(points: np.ndarray, ok: np.ndarray, pivot: np.ndarray, new_pivot: np.ndarray, factor: float) -> np.ndarray:
    """``new_pivot + (points - pivot) * factor`` where ``ok`` (T,), else ``points`` unchanged.

    points (T, n, D) or (T, D); pivot, new_pivot (T, D); ok (T,) bool.
    """
    squeeze = points.ndim == 2
    p = points[:, None] if squeeze else points
    moved = new_pivot[:, None] + (p - pivot[:, None]) * factor
    out = np.where(ok[:, None, None], moved, p)
    return out[:, 0] if squeeze else out


def apply_proportions(pose: PoseSequence, identity: SignerIdentity) -> PoseSequence:
    """``pose`` (any layout; returned in the canonical holistic one, pixels) with ``identity``'s proportions."""
    pose = pose.to_pixels().to_holistic()
    pts = pose.points.copy()  # (T, 543, D)
    conf = pose.confidence
    seen = conf > 0  # (T, 543)
    s = {name: pose.slice_of(name) for name in ("left_hand", "right_hand", "face")}

    # shoulders and hips about their midpoints
    for a, b, factor in (
        ("LEFT_SHOULDER", "RIGHT_SHOULDER", identity.shoulder_width),
        ("LEFT_HIP", "RIGHT_HIP", 1.0 + 0.6 * (identity.shoulder_width - 1.0)),
    ):
        ok = seen[:, B[a]] & seen[:, B[b]]
        centre = (pose.points[:, B[a]] + pose.points[:, B[b]]) / 2.0  # (T, D)
        for name in (a, b):
            pts[:, B[name]] = _scaled(pose.points[:, B[name]], ok, centre, centre, factor)

    # arms: shoulder -> elbow -> wrist -> hand, each child carried along with its parent
    for side in ("LEFT", "RIGHT"):
        sh, el, wr = B[f"{side}_SHOULDER"], B[f"{side}_ELBOW"], B[f"{side}_WRIST"]
        ok = seen[:, sh] & seen[:, el]
        pts[:, el] = _scaled(pose.points[:, el], ok, pose.points[:, sh], pts[:, sh], identity.upper_arm)
        ok = seen[:, el] & seen[:, wr]
        pts[:, wr] = _scaled(pose.points[:, wr], ok, pose.points[:, el], pts[:, el], identity.forearm)
        ok = seen[:, wr]
        finger_points = [B[f"{side}_PINKY"], B[f"{side}_INDEX"], B[f"{side}_THUMB"]]
        pts[:, finger_points] = _scaled(
            pose.points[:, finger_points], ok, pose.points[:, wr], pts[:, wr], identity.hand_size
        )
        hand = s[f"{side.lower()}_hand"]
        hand_wrist = pose.points[:, hand.start]  # (T, D) the hand's own wrist point
        shift = np.where(ok[:, None], pts[:, wr] - pose.points[:, wr], 0.0)  # where the body wrist went
        ok_hand = seen[:, hand.start]
        pts[:, hand] = _scaled(pose.points[:, hand], ok_hand, hand_wrist, hand_wrist + shift, identity.hand_size)

    # head about the chin (face), else about the mouth corners' midpoint
    chin = pose.points[:, s["face"].start + CHIN]
    mouth = (pose.points[:, B["MOUTH_LEFT"]] + pose.points[:, B["MOUTH_RIGHT"]]) / 2.0
    has_chin = seen[:, s["face"].start + CHIN]
    pivot = np.where(has_chin[:, None], chin, mouth)
    ok = has_chin | (seen[:, B["MOUTH_LEFT"]] & seen[:, B["MOUTH_RIGHT"]])
    pts[:, HEAD_BODY] = _scaled(pose.points[:, HEAD_BODY], ok, pivot, pivot, identity.head_size)
    pts[:, s["face"]] = _scaled(pose.points[:, s["face"]], ok, pivot, pivot, identity.head_size)
    return pose.with_data(pts.astype(np.float32), conf.copy())
