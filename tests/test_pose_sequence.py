"""PoseSequence: validation, layout mapping, coordinates, frames; and the pose factory's anatomy."""

from __future__ import annotations

import numpy as np
import pytest

from factories_pose import BODY_INDEX, FINGER_JOINTS, make_pose_sequence
from fpdm_video.errors import PoseError
from fpdm_video.pose.sequence import (
    BODY_POINTS,
    HAND_POINTS,
    HOLISTIC_COMPONENTS,
    Component,
    PoseSequence,
)


def body_xy(pose: PoseSequence, name: str) -> np.ndarray:
    """(T, 2) pixel positions of one body point."""
    return pose.points[:, pose.slice_of("body")][:, BODY_INDEX[name], :2]


# ---- the factory -------------------------------------------------------------------------------
def test_factory_layout_and_determinism():
    pose = make_pose_sequence(t=8, width=256, height=200, seed=3)
    assert pose.points.shape == (8, 543, 3) and pose.confidence.shape == (8, 543)
    assert pose.components == HOLISTIC_COMPONENTS and not pose.normalized
    assert (pose.width, pose.height, pose.fps) == (256, 200, 25.0)
    again = make_pose_sequence(t=8, width=256, height=200, seed=3)
    other = make_pose_sequence(t=8, width=256, height=200, seed=4)
    np.testing.assert_array_equal(pose.points, again.points)
    assert np.abs(pose.points - other.points).max() > 1.0
    # the arms move between frames
    assert np.ptp(body_xy(pose, "LEFT_WRIST"), axis=0).max() > 2.0


def test_factory_body_is_anatomically_ordered():
    pose = make_pose_sequence(t=6, width=320, height=240, seed=0)
    names = ("NOSE", "LEFT_SHOULDER", "RIGHT_SHOULDER", "LEFT_HIP", "LEFT_KNEE")
    y = {name: body_xy(pose, name)[:, 1] for name in names}
    assert (y["NOSE"] < y["LEFT_SHOULDER"]).all() and (y["LEFT_SHOULDER"] < y["LEFT_HIP"]).all()
    assert (y["LEFT_HIP"] < y["LEFT_KNEE"]).all()
    np.testing.assert_allclose(y["LEFT_SHOULDER"], y["RIGHT_SHOULDER"], atol=2.0)
    # the signer's left is on the image's right; shoulders are wider apart than hips
    shoulders = body_xy(pose, "LEFT_SHOULDER")[:, 0] - body_xy(pose, "RIGHT_SHOULDER")[:, 0]
    hips = body_xy(pose, "LEFT_HIP")[:, 0] - body_xy(pose, "RIGHT_HIP")[:, 0]
    assert (shoulders > hips).all() and (hips > 0).all()
    # head and upper body inside the frame and well seen; legs below the frame, barely visible
    body_conf = pose.confidence[:, pose.slice_of("body")]
    upper = [BODY_INDEX[n] for n in BODY_POINTS[:25]]
    assert (body_conf[:, upper] > 0.9).all()
    assert (body_conf[:, BODY_INDEX["LEFT_ANKLE"]] < 0.1).all() and (y["LEFT_KNEE"] > pose.height).all()


def test_factory_hands_follow_the_fingers():
    pose = make_pose_sequence(t=4, seed=1)
    for side in ("left", "right"):
        hand, conf = pose.component(f"{side}_hand")
        assert (conf == 1.0).all()
        wrist = hand[:, 0, :2]
        np.testing.assert_allclose(wrist, body_xy(pose, f"{side.upper()}_WRIST"), atol=3.0)
        for finger in range(5):  # joints run outwards from the wrist, tip last
            idx = [1 + 4 * finger + j for j in range(4)]
            assert HAND_POINTS[idx[-1]].endswith("TIP")
            dist = np.linalg.norm(hand[:, idx, :2] - wrist[:, None], axis=-1)  # (T, 4)
            assert (np.diff(dist, axis=1) > 0).all(), (side, finger)
            assert dist[:, -1].min() > 0.5 * FINGER_JOINTS[finger][-1] * min(pose.width, pose.height)


def test_factory_face_sits_on_the_head():
    pose = make_pose_sequence(t=2, seed=0)
    face, conf = pose.component("face")
    nose = body_xy(pose, "NOSE")
    offset = face[..., :2] - nose[:, None]
    assert (conf == 1.0).all()
    assert np.abs(offset).max() < 0.15 * pose.width
    assert (face[..., 1].max(axis=1) < body_xy(pose, "LEFT_SHOULDER")[:, 1]).all()


def test_factory_missing_frames():
    pose = make_pose_sequence(t=6, missing={"left_hand": [1, 2], "face": [5]})
    present = pose.presence_counts()
    assert present == {"body": 6, "left_hand": 4, "right_hand": 6, "face": 5}
    _, conf = pose.component("left_hand")
    assert (conf[[1, 2]] == 0).all() and (conf[[0, 3]] > 0).all()
    assert (pose.points[[1, 2], pose.slice_of("left_hand")] == 0).all()  # missing points carry no coordinates


# ---- PoseSequence --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "points, confidence, match",
    [
        (np.zeros((2, 543)), np.zeros((2, 543)), "shape"),
        (np.zeros((2, 543, 4)), np.zeros((2, 543)), "shape"),
        (np.zeros((2, 543, 3)), np.zeros((2, 542)), "does not match"),
        (np.zeros((2, 540, 3)), np.zeros((2, 540)), "components name 543"),
    ],
)
def test_invalid_arrays_raise_pose_error(points, confidence, match):
    with pytest.raises(PoseError, match=match):
        PoseSequence(points=points, confidence=confidence, fps=25, width=64, height=64)


def test_invalid_header_values_raise_pose_error():
    pts, conf = np.zeros((1, 543, 3)), np.zeros((1, 543))
    with pytest.raises(PoseError, match="fps"):
        PoseSequence(points=pts, confidence=conf, fps=0, width=64, height=64)
    with pytest.raises(PoseError, match="frame size"):
        PoseSequence(points=pts, confidence=conf, fps=25, width=0, height=64)
    with pytest.raises(PoseError, match="timestamps"):
        PoseSequence(points=pts, confidence=conf, fps=25, width=64, height=64, timestamps=np.zeros(3))
    with pytest.raises(PoseError, match="limbs"):
        Component("x", ("a", "b"), limbs=((0, 2),))


def test_component_identity_ignores_drawing_hints():
    plain = Component("body", BODY_POINTS)
    drawn = Component("body", BODY_POINTS, limbs=((11, 12),), colors=((255, 0, 0),))
    assert plain == drawn and hash(plain) == hash(drawn)
    assert plain == HOLISTIC_COMPONENTS[0]
    assert Component("body", BODY_POINTS[:8]) != plain


def test_pixels_and_normalized_round_trip():
    pose = make_pose_sequence(t=3, width=320, height=240)
    norm = pose.to_normalized()
    assert norm.normalized and norm.to_normalized() is norm
    inside = pose.confidence > 0.5  # upper body, hands and face lie inside the frame
    assert (norm.points[..., :2][inside] >= 0).all() and (norm.points[..., :2][inside] <= 1).all()
    np.testing.assert_allclose(norm.to_pixels().points, pose.points, rtol=1e-5, atol=1e-3)


def test_to_holistic_maps_points_by_name():
    comps = (
        Component("POSE_LANDMARKS", ("RIGHT_WRIST", "LEFT_SHOULDER")),
        Component("POSE_WORLD_LANDMARKS", ("NOSE",)),
        Component("RIGHT_HAND_LANDMARKS", ("WRIST", "THUMB_TIP")),
    )
    pts = np.arange(5 * 3, dtype=np.float32).reshape(1, 5, 3) + 1
    pose = PoseSequence(points=pts, confidence=np.ones((1, 5)), fps=24, width=100, height=100, components=comps)
    hol = pose.to_holistic()
    assert hol.components == HOLISTIC_COMPONENTS
    body, body_conf = hol.component("body")
    np.testing.assert_array_equal(body[0, 16], pts[0, 0])  # RIGHT_WRIST
    np.testing.assert_array_equal(body[0, 11], pts[0, 1])  # LEFT_SHOULDER
    hand, hand_conf = hol.component("right_hand")
    np.testing.assert_array_equal(hand[0, [0, 4]], pts[0, 3:5])
    assert body_conf.sum() == 2 and hand_conf.sum() == 2  # the world landmark is dropped, nothing invented
    assert hol.confidence.sum() == 4


def test_to_holistic_without_any_match_raises():
    pose = PoseSequence(
        points=np.zeros((1, 2, 2)), confidence=np.ones((1, 2)), fps=25, width=10, height=10,
        components=(Component("pose_keypoints_2d", ("Nose", "Neck")),),
    )  # fmt: skip
    with pytest.raises(PoseError, match="holistic layout"):
        pose.to_holistic()


def test_frames_and_concatenate():
    pose = make_pose_sequence(t=6)
    stamped = pose.with_data(pose.points, pose.confidence)
    stamped.timestamps = np.arange(6) / 25.0
    head, tail = stamped.frames(0, 2), stamped.frames(2)
    assert (len(head), len(tail)) == (2, 4)
    joined = PoseSequence.concatenate([head, tail])
    np.testing.assert_array_equal(joined.points, pose.points)
    np.testing.assert_array_equal(joined.timestamps, stamped.timestamps)
    with pytest.raises(PoseError):
        PoseSequence.concatenate([])
    with pytest.raises(PoseError, match="layouts"):
        PoseSequence.concatenate([head, head.to_normalized()])
