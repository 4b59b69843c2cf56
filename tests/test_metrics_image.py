"""Image metrics on constructed inputs with known answers."""

from __future__ import annotations

import numpy as np
import pytest

from fpdm_video.metrics.image import PSNR_CAP, moving_mask, psnr, ssim


def _frame(seed: int = 0, size=(64, 48)) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, size=(*size, 3), dtype=np.uint8)


def test_identical_frames():
    a = _frame()
    assert psnr(a, a) == PSNR_CAP
    assert ssim(a, a) == pytest.approx(1.0)
    assert ssim(a, a, variant="gaussian") == pytest.approx(1.0)


def test_psnr_of_a_known_error():
    a = np.zeros((8, 8, 3))
    b = np.full((8, 8, 3), 0.1)  # mse 0.01 -> 20 dB
    assert psnr(a, b) == pytest.approx(20.0)
    mask = np.zeros((8, 8), bool)
    mask[:2] = True
    c = a.copy()
    c[:2] = 0.1  # error only inside the mask
    assert psnr(a, c, mask) == pytest.approx(20.0)
    assert psnr(a, c, ~mask) == PSNR_CAP


def test_ssim_falls_with_noise_and_region_selects_pixels():
    a = 0.4 + 0.2 * _frame(1).astype(np.float64) / 255  # low-contrast texture: noise of sd 0.2 dominates it
    noisy = np.clip(a + np.random.default_rng(2).normal(0, 0.2, a.shape), 0, 1)
    assert ssim(a, noisy, variant="gaussian") < 0.3
    assert ssim(a, noisy) < 0.3
    half = a.copy()
    half[:, 24:] = noisy[:, 24:]
    left = np.zeros(a.shape[:2], bool)
    left[:, :12] = True  # far from the noisy half, beyond the 11x11 window
    assert ssim(a, half, left, variant="gaussian") == pytest.approx(1.0)
    assert ssim(a, half, ~left, variant="gaussian") < 0.8


def test_moving_mask_and_empty_region():
    ref = np.zeros((4, 4, 3), np.uint8)
    frame = ref.copy()
    frame[1, 2] = (0, 40, 0)  # 40/255 > 0.1
    frame[3, 3] = (10, 10, 10)  # below the threshold
    mask = moving_mask(frame, ref)
    assert mask.sum() == 1 and mask[1, 2]
    assert np.isnan(psnr(frame, ref, np.zeros((4, 4), bool)))


def test_shape_mismatch_is_an_error():
    with pytest.raises(ValueError, match="shape"):
        psnr(_frame(size=(8, 8)), _frame(size=(8, 9)))
