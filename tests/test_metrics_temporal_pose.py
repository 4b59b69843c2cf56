"""Temporal and pose-fidelity metrics on constructed inputs with known answers."""

from __future__ import annotations

import numpy as np
import pytest

from fpdm_video.metrics.pose_fidelity import missing_hand_fraction, region_scores, shoulder_width
from fpdm_video.metrics.temporal import flicker, warping_error

from factories_pose import make_pose_sequence


def _texture(h: int = 64, w: int = 96, seed: int = 0) -> np.ndarray:
    """A smooth random texture (blurred noise) that optical flow can follow, (h, w, 3) uint8."""
    import cv2

    noise = np.random.default_rng(seed).random((h, w)).astype(np.float32)
    smooth = cv2.GaussianBlur(noise, (0, 0), 2.5)
    smooth = (smooth - smooth.min()) / (smooth.max() - smooth.min())
    return np.repeat((smooth * 255).astype(np.uint8)[..., None], 3, axis=2)


def _panning(frames: int = 6, shift: int = 2) -> np.ndarray:
    """A texture moving right by ``shift`` pixels a frame (crops of a wider texture)."""
    wide = _texture(w=96 + shift * frames)
    return np.stack([wide[:, (frames - t) * shift : (frames - t) * shift + 96] for t in range(frames)])


def test_flicker_known_values():
    still = np.zeros((4, 8, 8, 3), np.uint8)
    assert np.all(flicker(still) == 0)
    blink = still.copy()
    blink[1::2] = 51  # 0.2 in [0, 1] units
    assert np.allclose(flicker(blink), 0.2)
    assert flicker(still[:1]).size == 0


def test_warping_error_of_a_consistent_and_a_frozen_output():
    driving = _panning()
    consistent = warping_error(driving, driving)
    assert consistent.mean() < 0.01  # the output follows the driver's motion exactly
    frozen = np.repeat(driving[:1], len(driving), axis=0)
    err = warping_error(frozen, driving)
    # a still output warped by a 2-pixel pan differs from itself by what a 2-pixel shift changes
    shifted = np.abs(driving[0, :, 2:].astype(float) - driving[0, :, :-2].astype(float)).mean() / 255
    assert err.mean() == pytest.approx(shifted, rel=0.25)
    assert err.mean() > 5 * consistent.mean()


def test_warping_error_needs_frames_of_one_shape():
    with pytest.raises(ValueError, match="one shape"):
        warping_error(np.zeros((2, 8, 8, 3), np.uint8), np.zeros((2, 8, 9, 3), np.uint8))


def test_pose_fidelity_identical_shifted_and_missing_hand():
    target = make_pose_sequence(t=5)
    same = region_scores(target, target)
    for region in ("body", "left_hand", "right_hand", "face"):
        assert same[region].distance == pytest.approx(0.0) and same[region].pck == 1.0 and same[region].frames == 5

    moved = target.copy()
    s = moved.slice_of("right_hand")
    width = shoulder_width(target)
    moved.points[:, s, 0] += 0.2 * width[:, None]  # 0.2 shoulder widths to the right
    scores = region_scores(target, moved)
    assert scores["right_hand"].distance == pytest.approx(0.2, rel=1e-4)
    assert scores["right_hand"].pck == 0.0
    assert scores["left_hand"].distance == pytest.approx(0.0)

    no_left = target.copy()
    s = no_left.slice_of("left_hand")
    no_left.confidence[1:3, s] = 0.0  # the left hand is lost in 2 of 5 frames
    no_left.points[1:3, s] = 0.0
    assert missing_hand_fraction(target, no_left) == {"left_hand": pytest.approx(0.4), "right_hand": 0.0}
    assert region_scores(target, no_left)["left_hand"].frames == 3
