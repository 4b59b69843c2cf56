"""Sharpness of frames: the energy of their finest detail, so that a blurrier output is seen as one.

PSNR rewards a blurred average of the plausible outputs over any one sharp sample of them, so a
sampler that blurs can score higher. ``high_frequency_energy`` is the mean squared response of
the grey image to a discrete Laplacian (the 4-neighbour kernel), per frame, on [0, 1] values:
blurring lowers it, noise raises it. Compare an output's value with the ground truth's
(``sharpness_ratio``): 1 is as detailed as the truth, below 1 blurrier, above 1 noisier.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import laplace

GREY = np.array([0.299, 0.587, 0.114])  # ITU-R BT.601 luma weights


def high_frequency_energy(frames: np.ndarray) -> np.ndarray:
    """(T,) mean squared Laplacian of the grey frames; ``frames`` (T, H, W, 3) uint8, or float in [0, 1]."""
    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[-1] != 3:
        raise ValueError(f"expected frames (T, H, W, 3), got {frames.shape}")
    unit = frames.astype(np.float64) / 255.0 if frames.dtype == np.uint8 else frames.astype(np.float64)
    grey = unit @ GREY
    return np.array([float(np.mean(laplace(g, mode="reflect") ** 2)) for g in grey])


def sharpness_ratio(output: np.ndarray, truth: np.ndarray) -> float:
    """The output's high-frequency energy over the ground truth's, means over the frames."""
    return float(high_frequency_energy(output).mean() / high_frequency_energy(truth).mean())
