"""Rendering: deterministic bytes, varied identities, visible hands, missing parts left out, real poses."""

from __future__ import annotations

import numpy as np
import pytest

from factories_synthetic import LEFT_HAND, RIGHT_HAND, hand_pixels
from fpdm_video.data.synthetic_draw import background, render_signer
from fpdm_video.data.synthetic_identity import sample_identity
from fpdm_video.data.synthetic_motion import generate_motion
from fpdm_video.data.synthetic_proportions import apply_proportions
from fpdm_video.errors import InputError
from fpdm_video.pose import load_holistic
from fpdm_video.pose.sequence import BODY_POINTS

B = {name: i for i, name in enumerate(BODY_POINTS)}


@pytest.fixture(scope="module")
def motion():
    return generate_motion(21, 40, 128, 128)


def test_same_seed_same_bytes_and_seeds_differ(motion):
    a = render_signer(sample_identity(1), motion, 10, 128)
    b = render_signer(sample_identity(1), motion, 10, 128)
    c = render_signer(sample_identity(2), motion, 10, 128)
    assert a.dtype == np.uint8 and a.shape == (128, 128, 3)
    assert a.tobytes() == b.tobytes()
    assert np.abs(a.astype(int) - c).mean() > 10
    d = render_signer(sample_identity(1), motion, 30, 128)
    assert np.abs(a.astype(int) - d).sum() > 0  # the pose changes the picture


def test_anti_aliased_edges(motion):
    img = render_signer(sample_identity(1), motion, 10, 128)
    ident = sample_identity(1)
    colours = {tuple(c) for c in img.reshape(-1, 3)}
    assert len(colours) > 100  # edges blend into their surroundings rather than stair-stepping
    assert tuple(img[0, 0]) in {tuple(c) for c in background(ident, 128, 128).reshape(-1, 3)}


@pytest.mark.parametrize("side", ["left", "right"])
def test_hands_are_drawn_and_missing_hands_are_not(motion, side):
    ident = sample_identity(4)
    skin = np.array(ident.skin)
    hand = LEFT_HAND if side == "left" else RIGHT_HAND
    without = motion.copy()
    without.confidence[:, hand] = 0.0
    without = without.with_data(without.points, without.confidence)
    skin_like, points = 0, 0
    for index in range(0, 40, 4):
        full = render_signer(ident, motion, index, 128).astype(int)
        bare = render_signer(ident, without, index, 128).astype(int)
        for x, y in hand_pixels(motion, index, side, 128):  # all 21 landmarks, fingertips included
            behind = np.abs(bare[y, x] - skin).sum()
            if behind < 90:  # the face or the other hand is behind this point: skin on skin
                continue
            points += 1
            # with the hand: skin-coloured; without: the shirt or background behind it, far from skin
            skin_like += np.abs(full[y, x] - skin).sum() < behind / 2
    assert points >= 40 and skin_like >= 0.8 * points


def test_missing_everything_draws_only_background(motion):
    ident = sample_identity(3)
    empty = motion.with_data(motion.points, np.zeros_like(motion.confidence))
    np.testing.assert_array_equal(render_signer(ident, empty, 0, 96), background(ident, 96, 96))


def test_arm_without_hand(motion):
    ident = sample_identity(5)
    pose = motion.copy()
    pose.confidence[:, RIGHT_HAND] = 0.0
    pose.confidence[:, [B["RIGHT_PINKY"], B["RIGHT_INDEX"], B["RIGHT_THUMB"]]] = 0.0
    img = render_signer(ident, pose, 5, 128)
    elbow = np.round(pose.points[5, B["RIGHT_ELBOW"], :2]).astype(int)
    assert not (img[elbow[1], elbow[0]] == background(ident, 128, 128)[elbow[1], elbow[0]]).all()


def test_non_square_output_and_letterbox(motion):
    ident = sample_identity(6)
    img = render_signer(ident, motion, 0, (210, 260))
    assert img.shape == (260, 210, 3)
    pose = generate_motion(21, 2, 210, 260)
    assert render_signer(ident, pose, 1, (210, 260)).shape == (260, 210, 3)


def test_proportions_change_the_skeleton(motion):
    ident = sample_identity(9)
    posed = apply_proportions(motion, ident)
    p, q = motion.points, posed.points
    width = lambda pts: np.linalg.norm(pts[:, B["LEFT_SHOULDER"]] - pts[:, B["RIGHT_SHOULDER"]], axis=1)
    np.testing.assert_allclose(width(q), ident.shoulder_width * width(p), rtol=1e-4)
    for side, bones in (("LEFT", ("SHOULDER", "ELBOW")), ("RIGHT", ("ELBOW", "WRIST"))):
        a, b = (B[f"{side}_{j}"] for j in bones)
        factor = ident.upper_arm if bones[0] == "SHOULDER" else ident.forearm
        np.testing.assert_allclose(
            np.linalg.norm(q[:, a] - q[:, b], axis=1), factor * np.linalg.norm(p[:, a] - p[:, b], axis=1), rtol=1e-4
        )
    hand_len = lambda pts: np.linalg.norm(pts[:, RIGHT_HAND][:, 12] - pts[:, RIGHT_HAND][:, 0], axis=1)
    np.testing.assert_allclose(hand_len(q), ident.hand_size * hand_len(p), rtol=1e-4)
    # the hand stays attached to the rescaled wrist
    np.testing.assert_allclose(q[:, RIGHT_HAND][:, 0], q[:, B["RIGHT_WRIST"]], atol=1e-3)


def test_bad_index_and_size(motion):
    ident = sample_identity(0)
    with pytest.raises(InputError, match="out of range"):
        render_signer(ident, motion, 40, 64)
    with pytest.raises(InputError, match="size"):
        render_signer(ident, motion, 0, 8)
    with pytest.raises(InputError, match="size"):
        render_signer(ident, motion, 0, "128")


@pytest.mark.real_data
def test_real_pose_files_render(real_data):
    ident = sample_identity(12)
    full = load_holistic(real_data / "example.pose")  # 320x240, full holistic
    frame = int(np.argmax(full.present("left_hand") & full.present("right_hand")))
    img = render_signer(ident, apply_proportions(full, ident), frame, 128)
    assert img.shape == (128, 128, 3)
    assert np.abs(img.astype(int) - background(ident, 128, 128)).sum(axis=2).astype(bool).mean() > 0.1
    reduced = load_holistic(real_data / "mediapipe.pose")  # 8 body points, 128 face points, no left hand
    assert reduced.presence_counts()["left_hand"] == 0
    img = render_signer(ident, reduced, 0, (96, 128))
    assert img.shape == (128, 96, 3)
    assert (img != background(ident, 96, 128)).any()


def test_reference_image_shows_both_hands_open():
    from fpdm_video.data.synthetic import reference_pose, render_reference

    pose = reference_pose(128, 128)
    assert pose.num_frames == 1 and pose.presence_counts()["left_hand"] == 1
    ident = sample_identity(8)
    img = render_reference(ident, 128).astype(int)
    bare = pose.copy()
    bare.confidence[:, 33:75] = 0.0
    bare = bare.with_data(bare.points, bare.confidence)
    posed = apply_proportions(pose, ident)
    without = render_signer(ident, apply_proportions(bare, ident), 0, 128).astype(int)
    for side in ("left", "right"):
        tips = hand_pixels(posed, 0, side, 128)[[8, 12, 16]]  # open hand: fingertips away from the palm
        assert all((0 < x < 127) and (0 < y < 127) for x, y in tips)
        for x, y in tips:
            assert np.abs(img[y, x] - np.array(ident.skin)).sum() < np.abs(without[y, x] - np.array(ident.skin)).sum()
    np.testing.assert_allclose(  # symmetric about the body's midline
        pose.points[0, 33:54, 0] + pose.points[0, 54:75, 0], 2 * pose.points[0, 0, 0], atol=0.5
    )
