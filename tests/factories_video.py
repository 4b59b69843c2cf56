"""Fake-video factories for the video I/O tests: small synthetic clips with moving shapes."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image


def make_clip(t: int = 8, w: int = 64, h: int = 48, seed: int = 0) -> np.ndarray:
    """(t, h, w, 3) uint8 RGB frames: a colour gradient, a moving box, a moving disc and mild noise.

    Motion and texture give the encoder real work (inter prediction, residuals), so lossy and
    lossless round trips are tested on something other than flat colour.
    """
    rng = np.random.default_rng(seed)
    ys, xs = np.mgrid[0:h, 0:w]  # (h, w) each
    frames = np.empty((t, h, w, 3), dtype=np.uint8)
    base = np.stack([xs * 255 // max(w - 1, 1), ys * 255 // max(h - 1, 1), np.full_like(xs, 96)], axis=-1)
    for i in range(t):
        frame = base.copy()  # (h, w, 3)
        bx, by = (3 * i + seed) % max(w - w // 4, 1), (2 * i) % max(h - h // 4, 1)
        frame[by : by + h // 4, bx : bx + w // 4] = (230, 40, 60)
        cx, cy = w / 2 + w / 4 * np.cos(i / 3), h / 2 + h / 4 * np.sin(i / 3)
        frame[(xs - cx) ** 2 + (ys - cy) ** 2 < (min(w, h) / 8) ** 2] = (20, 200, 240)
        frame = frame + rng.integers(-8, 9, size=frame.shape)
        frames[i] = np.clip(frame, 0, 255)
    return frames


def write_frame_folder(folder: Path, frames: np.ndarray, name: str = "images{:04d}.png") -> Path:
    """Save (T, H, W, 3) frames as ``folder/images0001.png ...`` (PHOENIX naming, 1-based)."""
    folder.mkdir(parents=True, exist_ok=True)
    for i, frame in enumerate(frames, start=1):
        Image.fromarray(frame).save(folder / name.format(i))
    return folder


def psnr(decoded: np.ndarray, reference: np.ndarray) -> float:
    """Peak signal-to-noise ratio in dB between two uint8 arrays of one shape."""
    mse = np.mean((decoded.astype(np.float64) - reference.astype(np.float64)) ** 2)
    return float("inf") if mse == 0 else float(10 * np.log10(255.0**2 / mse))
