"""The canvas's motion from the target poses (fpdm_video/pose/motion_field.py), against the motion that drew synthetic signers
(fpdm_video.data.synthetic_regions.drawn_motion, itself checked against the drawn frames)."""

import numpy as np
import pytest

from fpdm_video.data.synthetic_dataset import render_clip
from fpdm_video.data.synthetic_identity import sample_identity
from fpdm_video.data.synthetic_motion import generate_motion
from fpdm_video.data.synthetic_proportions import apply_proportions
from fpdm_video.data.synthetic_regions import clothing_masks, drawn_motion
from fpdm_video.geometry import CanvasFit
from fpdm_video.metrics.temporal import warp_back
from fpdm_video.pose.motion_field import motion_field, motion_fields, pool_field, similarity
from fpdm_video.pose.sequence import BODY_POINTS, PoseSequence

B = {n: i for i, n in enumerate(BODY_POINTS)}


def test_similarity_recovers_a_known_transform():
    rng = np.random.default_rng(0)
    src = rng.uniform(0, 100, (12, 2))
    angle, scale, shift = 0.3, 1.2, np.array([5.0, -3.0])
    rot = scale * np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    m = similarity(src, src @ rot.T + shift)
    np.testing.assert_allclose(m[:, :2], rot, atol=1e-9)
    np.testing.assert_allclose(m[:, 2], shift, atol=1e-7)
    np.testing.assert_allclose(similarity(src[:1], src[:1] + 2)[:, 2], [2, 2])  # one point: a translation


def _signer(seed: int, frames: int = 12, size: tuple[int, int] = (96, 128)):
    motion = generate_motion(seed, frames, *size)
    return apply_proportions(motion, sample_identity(seed)).to_pixels().to_holistic()


def test_a_still_pose_gives_a_zero_field_and_a_shifted_one_moves_the_body_not_the_background():
    pose = _signer(3, frames=1)
    xy, seen = pose.points[0, :, :2], pose.confidence[0] > 0
    assert not motion_field(xy, xy, seen, seen, (96, 128)).any()
    field = motion_field(xy, xy + np.array([3.0, -2.0], dtype=np.float32), seen, seen, (96, 128))
    ls, rs = xy[B["LEFT_SHOULDER"]], xy[B["RIGHT_SHOULDER"]]
    chest = np.round((ls + rs) / 2 + [0, 0.3 * np.hypot(*(ls - rs))]).astype(int)
    np.testing.assert_allclose(field[:, chest[1], chest[0]], [3.0, -2.0], atol=1e-3)
    assert np.abs(field[:, :3, :3]).max() < 0.05  # a corner, far from the signer, stays still


@pytest.mark.parametrize("seed", [5, 6])
def test_the_field_follows_the_shirt_and_sleeves_of_synthetic_signers(seed):
    pose = _signer(seed, frames=24).frames(0, 24)
    pose = PoseSequence.concatenate([pose.frames(i, i + 1) for i in range(0, 24, 2)])  # every 2nd frame, as evaluated
    fit = CanvasFit.of(96, 128, (96, 128))  # the canvas is the frame
    fields = motion_fields(pose, fit)
    assert not fields[0].any()
    errors, still = [], []
    for t in range(1, pose.num_frames):
        truth, mask = drawn_motion(pose.points[t - 1, :, :2], pose.points[t, :, :2], 128, 96)
        errors.append(np.linalg.norm(fields[t] - truth, axis=0)[mask])
        still.append(np.linalg.norm(truth, axis=0)[mask])  # the error of a field of zeros (fixed noise)
    errors, still = np.concatenate(errors), np.concatenate(still)
    moving = still > 1.0  # pixels that move by more than a pixel between the evaluated frames (mostly sleeves)
    assert still.size > 2000 and moving.sum() > 100, (still.size, moving.sum())
    assert errors.mean() < 0.2 * still.mean(), (errors.mean(), still.mean())
    assert errors[moving].mean() < 0.3 * still[moving].mean(), (errors[moving].mean(), still[moving].mean())


def test_pooling_averages_cells_and_gives_cells():
    field = np.zeros((2, 16, 8), np.float32)
    field[0, :8, :4] = 8.0  # 8 pixels right in the top-left 8x4 block
    pooled = pool_field(field, 4)
    assert pooled.shape == (2, 4, 2)
    np.testing.assert_allclose(pooled[0], [[2, 0], [2, 0], [0, 0], [0, 0]])  # 8 px = 2 cells of 4
    with pytest.raises(ValueError, match="does not divide"):
        pool_field(field, 3)


@pytest.mark.parametrize("seed", [7, 15])  # a dotted shirt and a striped one
def test_drawn_motion_explains_the_drawn_pattern_better_than_its_reverse_or_its_double(seed):
    identity = sample_identity(seed)
    assert identity.clothing_pattern != "solid"
    posed, chunks = render_clip(identity, generate_motion(seed, 12, 96, 128), (96, 128))
    frames = np.concatenate(list(chunks)).astype(np.float32)
    keep = list(range(0, 12, 2))
    masks = clothing_masks(identity, posed, (96, 128), keep)
    xy = posed.to_pixels().points[..., :2]
    errors = {"drawn": 0.0, "reverse": 0.0, "double": 0.0}
    for i in range(len(keep) - 1):
        motion, sole = drawn_motion(xy[keep[i]], xy[keep[i + 1]], 128, 96)
        _, sole_after = drawn_motion(xy[keep[i + 1]], xy[keep[i + 1]], 128, 96)
        judged = sole & masks[i] & sole_after & masks[i + 1]  # unambiguous in both frames: nothing moves over it
        for name, scale in (("drawn", 1.0), ("reverse", -1.0), ("double", 2.0)):
            moved = np.ascontiguousarray(np.moveaxis(scale * motion, 0, -1), dtype=np.float32)
            errors[name] += float(np.abs(warp_back(frames[keep[i + 1]], moved)[0] - frames[keep[i]])[judged].mean())
    assert errors["drawn"] < 0.8 * min(errors["reverse"], errors["double"]), errors
