"""SSIM and PSNR of frames, over the whole frame or a region, as pure functions.

Frames are (H, W, 3) arrays, uint8 or float in [0, 1]; both are compared in [0, 1].

Two SSIM variants:
- ``"fpdm"``: what the official FPDM evaluation computes, scikit-image's ``structural_similarity``
  with a 51x51 uniform window, ``data_range=1``, over the colour channels (the window is shrunk to
  the largest odd size that fits when a frame is smaller than 51 pixels).
- ``"gaussian"``: the standard SSIM of Wang et al. 2004, an 11x11 Gaussian window with sigma 1.5.

A region (a boolean (H, W) mask) averages the per-pixel SSIM map, or the squared error for PSNR,
over the mask's pixels only.
"""

from __future__ import annotations

import numpy as np
from skimage.metrics import structural_similarity

PSNR_CAP = 100.0  # PSNR of identical frames (instead of infinity), in dB


def _unit(frame: np.ndarray) -> np.ndarray:
    frame = np.asarray(frame)
    if frame.dtype == np.uint8:
        return frame.astype(np.float64) / 255.0
    return frame.astype(np.float64)


def _check(a: np.ndarray, b: np.ndarray, mask: np.ndarray | None) -> None:
    if a.shape != b.shape:
        raise ValueError(f"frames differ in shape: {a.shape} and {b.shape}")
    if mask is not None and mask.shape != a.shape[:2]:
        raise ValueError(f"mask {mask.shape} does not match frames {a.shape[:2]}")


def psnr(a: np.ndarray, b: np.ndarray, mask: np.ndarray | None = None) -> float:
    """Peak signal-to-noise ratio in dB (peak 1), capped at ``PSNR_CAP``; NaN for an empty mask."""
    a, b = _unit(a), _unit(b)
    _check(a, b, mask)
    err = (a - b) ** 2  # (H, W, 3)
    if mask is not None:
        if not mask.any():
            return float("nan")
        err = err[mask]
    mse = float(err.mean())
    return PSNR_CAP if mse <= 10 ** (-PSNR_CAP / 10) else float(-10.0 * np.log10(mse))


def ssim(a: np.ndarray, b: np.ndarray, mask: np.ndarray | None = None, variant: str = "fpdm") -> float:
    """Structural similarity (see the module notes for ``variant``); NaN for an empty mask."""
    a, b = _unit(a), _unit(b)
    _check(a, b, mask)
    if variant == "fpdm":
        win = min(51, min(a.shape[:2]) - (1 - min(a.shape[:2]) % 2))
        kwargs = dict(win_size=win)
    elif variant == "gaussian":
        kwargs = dict(gaussian_weights=True, sigma=1.5, use_sample_covariance=False)
    else:
        raise ValueError(f"unknown SSIM variant {variant!r}; use 'fpdm' or 'gaussian'")
    score, full = structural_similarity(a, b, data_range=1.0, channel_axis=-1, full=True, **kwargs)
    if mask is None:
        return float(score)
    if not mask.any():
        return float("nan")
    return float(full.mean(axis=-1)[mask].mean())


def moving_mask(frame: np.ndarray, reference: np.ndarray, threshold: float = 0.1) -> np.ndarray:
    """(H, W) bool: pixels where ``frame`` differs from ``reference`` by more than ``threshold`` in any channel."""
    a, b = _unit(frame), _unit(reference)
    _check(a, b, None)
    return (np.abs(a - b) > threshold).any(axis=-1)
