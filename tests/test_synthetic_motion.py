"""Generated motion: deterministic, canonical layout, rigid bones, smooth paths, real face contacts."""

from __future__ import annotations

import numpy as np
import pytest

from factories_synthetic import LEFT_HAND, RIGHT_HAND, contact_frames
from fpdm_video.data.synthetic_hand import FINGER_CHAINS, HANDSHAPES, hand_points_local
from fpdm_video.data.synthetic_motion import (
    FOREARM,
    UPPER_ARM,
    _unit,
    describe_motion,
    generate_motion,
)
from fpdm_video.errors import InputError
from fpdm_video.pose.sequence import BODY_POINTS, HOLISTIC_COMPONENTS

B = {name: i for i, name in enumerate(BODY_POINTS)}


def test_same_seed_same_motion_and_seeds_differ():
    a = generate_motion(3, 30, 128, 128)
    b = generate_motion(3, 30, 128, 128)
    c = generate_motion(4, 30, 128, 128)
    assert a.points.tobytes() == b.points.tobytes()
    assert np.abs(a.points - c.points).max() > 5.0
    assert describe_motion(3, 30) == describe_motion(3, 30)


def test_layout_and_presence():
    pose = generate_motion(1, 12, 210, 260, fps=25.0)
    assert pose.components == HOLISTIC_COMPONENTS
    assert pose.points.shape == (12, 543, 3) and pose.dims == 3
    assert (pose.width, pose.height, pose.fps) == (210, 260, 25.0)
    counts = pose.presence_counts()
    assert counts == {"body": 12, "left_hand": 12, "right_hand": 12, "face": 12}
    assert (pose.confidence[:, B["LEFT_KNEE"]] == 0).all()  # legs are off-frame, marked missing


def test_bones_keep_their_lengths():
    pose = generate_motion(5, 80, 128, 128)
    u = _unit(128, 128)
    for side in ("LEFT", "RIGHT"):
        s, e, w = (pose.points[:, B[f"{side}_{j}"]] for j in ("SHOULDER", "ELBOW", "WRIST"))
        np.testing.assert_allclose(np.linalg.norm(e - s, axis=1), UPPER_ARM * u, rtol=1e-3)
        np.testing.assert_allclose(np.linalg.norm(w - e, axis=1), FOREARM * u, rtol=1e-3)
    for hand in (LEFT_HAND, RIGHT_HAND):
        pts = pose.points[:, hand]  # (T, 21, 3)
        for chain in FINGER_CHAINS:
            seg = np.linalg.norm(np.diff(pts[:, list(chain)], axis=1), axis=2)  # (T, 3)
            np.testing.assert_allclose(seg, seg[:1].repeat(len(seg), axis=0), rtol=1e-3)


def test_motion_is_smooth_and_stays_in_frame():
    pose = generate_motion(11, 150, 128, 128)
    u = _unit(128, 128)
    for side in ("LEFT", "RIGHT"):
        wrist = pose.points[:, B[f"{side}_WRIST"], :2]
        step = np.linalg.norm(np.diff(wrist, axis=0), axis=1)
        assert step.max() < 0.12 * u  # no jumps at 25 fps
        assert step.max() > 0.005 * u  # but it does move
        assert (wrist >= 0).all() and (wrist[:, 0] <= 128).all() and (wrist[:, 1] <= 128).all()


def test_handshapes_change_and_fingers_curl_plausibly():
    pose = generate_motion(2, 150, 128, 128)
    tips = pose.points[:, RIGHT_HAND][:, [8, 12]] - pose.points[:, RIGHT_HAND][:, [0]]
    reach = np.linalg.norm(tips, axis=2)  # (T, 2) fingertip distance from the wrist
    assert reach.max() > 1.6 * reach.min()  # fingers both extend and curl over the clip
    fist, flat = hand_points_local(HANDSHAPES["FIST"]), hand_points_local(HANDSHAPES["FLAT"])
    # a curled finger comes forward of the palm and its tip ends near the palm, not behind the wrist
    assert fist[8, 2] < 0 and abs(fist[8, 1]) < abs(flat[8, 1])
    assert fist[8, 1] < 0


def test_contacts_touch_the_face():
    found = []
    for seed in range(12):
        for frame, side, point in contact_frames(seed, 100):
            pose = generate_motion(seed, 100, 128, 128)
            hand = LEFT_HAND if side == "left" else RIGHT_HAND
            tip = pose.points[frame, hand][8, :2]
            target = pose.points[frame, 75 + point, :2]
            found.append(np.linalg.norm(tip - target))
            break
    assert len(found) >= 3
    assert max(found) < 1.0  # pixels


@pytest.mark.parametrize(
    ("args", "message"),
    [((-1, 5, 64, 64), "seed"), ((0, 0, 64, 64), "frames"), ((0, 5, 8, 64), "width"), ((0, 5, 64, 3.5), "height")],
)
def test_bad_arguments(args, message):
    with pytest.raises(InputError, match=message):
        generate_motion(*args)
    with pytest.raises(InputError, match="fps"):
        generate_motion(0, 5, 64, 64, fps=0)
