"""The sharpness measure sees blur and detail."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.ndimage import gaussian_filter

from fpdm_video.metrics.sharpness import high_frequency_energy, sharpness_ratio


def _frames(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    checker = (np.indices((64, 48)).sum(0) // 4 % 2).astype(np.float64)  # 4-pixel squares: edges everywhere
    frames = np.stack([np.roll(checker, k, axis=1) for k in range(3)])[..., None].repeat(3, -1)
    return np.clip(frames * 0.8 + 0.1 + rng.normal(0, 0.01, frames.shape), 0, 1)


def test_blur_lowers_sharpness_and_the_truth_is_its_own_unit():
    truth = _frames()
    blurred = np.stack([gaussian_filter(f, sigma=(1.5, 1.5, 0)) for f in truth])
    assert sharpness_ratio(truth, truth) == pytest.approx(1.0)
    assert sharpness_ratio(blurred, truth) < 0.5
    assert sharpness_ratio(np.full_like(truth, 0.5), truth) == 0.0  # a flat frame has no detail


def test_uint8_and_float_frames_agree_and_bad_shapes_are_refused():
    frames = _frames(1)
    as_uint8 = (frames * 255).round().astype(np.uint8)
    np.testing.assert_allclose(high_frequency_energy(as_uint8), high_frequency_energy(as_uint8 / 255.0))
    with pytest.raises(ValueError, match="expected frames"):
        high_frequency_energy(frames[0])
