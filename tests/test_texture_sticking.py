"""Texture sticking on constructed cases: the clothing region of a synthetic signer, and the clothing flow measure."""

from __future__ import annotations

import numpy as np
import pytest

from fpdm_video.data.synthetic_dataset import render_clip
from fpdm_video.data.synthetic_identity import sample_identity
from fpdm_video.data.synthetic_motion import generate_motion
from fpdm_video.data.synthetic_regions import clothing_masks
from fpdm_video.metrics.texture import clothing_flow

W, H = 96, 128


@pytest.fixture(scope="module")
def clip():
    identity = sample_identity(12)
    posed, chunks = render_clip(identity, generate_motion(7, 6, W, H), (W, H))
    return np.concatenate(list(chunks)), clothing_masks(identity, posed, (W, H), list(range(6)))


def test_the_clothing_region_is_part_of_the_frame(clip):
    frames, masks = clip
    assert masks.shape == frames.shape[:3] and masks.dtype == bool
    assert 0.03 < masks.mean() < 0.6


def test_the_ground_truth_against_itself_has_no_error_and_a_still_pattern_is_caught(clip):
    frames, masks = clip
    same = clothing_flow(frames, frames, masks)
    assert same["flow_epe"] == 0.0 and same["flow_ratio"] == pytest.approx(1.0)
    still = clothing_flow(np.repeat(frames[:1], len(frames), axis=0), frames, masks)  # nothing moves
    assert still["flow_epe"] > 0.05 and still["flow_ratio"] < 0.05


def test_empty_masks_give_nan_and_bad_shapes_are_refused(clip):
    frames, masks = clip
    assert np.isnan(clothing_flow(frames, frames, np.zeros_like(masks))["flow_epe"])
    with pytest.raises(ValueError, match="the same frames"):
        clothing_flow(frames[:3], frames, masks)
