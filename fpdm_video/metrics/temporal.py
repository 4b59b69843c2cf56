"""Temporal stability of a generated video: flicker and flow-warping error.

- **Flicker**: the mean absolute difference between consecutive frames, in [0, 1] units. On its
  own it mixes motion and flicker, so it is reported next to the same figure for the driving video:
  an output that moves like its driver has a similar value; flicker shows up as a larger one.
- **Warping error**: optical flow is computed on the *driving* video (OpenCV's Farneback, on
  grey frames), and each output frame t+1 is warped back onto frame t with it; the error is the mean
  absolute difference between output frame t and the warped frame t+1, over the pixels whose flow
  stays inside the frame. A temporally consistent output that follows the driver's motion scores
  near the driving video's own warping error.
"""

from __future__ import annotations

import numpy as np


def _unit(frames: np.ndarray) -> np.ndarray:
    frames = np.asarray(frames)
    return frames.astype(np.float32) / 255.0 if frames.dtype == np.uint8 else frames.astype(np.float32)


def flicker(frames: np.ndarray) -> np.ndarray:
    """(T - 1,) mean |frame[t+1] - frame[t]| of (T, H, W, 3) frames, in [0, 1] units."""
    f = _unit(frames)
    if f.shape[0] < 2:
        return np.zeros(0, dtype=np.float64)
    return np.abs(np.diff(f, axis=0)).mean(axis=(1, 2, 3)).astype(np.float64)


def farneback_flow(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(H, W, 2) flow from frame ``a`` to frame ``b`` (uint8 RGB): a pixel p of a moves to p + flow[p] in b."""
    import cv2

    ga = cv2.cvtColor(np.ascontiguousarray(a), cv2.COLOR_RGB2GRAY)
    gb = cv2.cvtColor(np.ascontiguousarray(b), cv2.COLOR_RGB2GRAY)
    return cv2.calcOpticalFlowFarneback(ga, gb, None, pyr_scale=0.5, levels=3, winsize=15, iterations=3,
                                        poly_n=5, poly_sigma=1.2, flags=0)  # fmt: skip


def warp_back(frame: np.ndarray, flow: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sample ``frame`` (the later frame) at p + flow[p]: the later frame seen from the earlier one, and the valid mask."""
    import cv2

    h, w = flow.shape[:2]
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    map_x, map_y = xs + flow[..., 0], ys + flow[..., 1]
    warped = cv2.remap(np.ascontiguousarray(frame), map_x, map_y, interpolation=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    valid = (map_x >= 0) & (map_x <= w - 1) & (map_y >= 0) & (map_y <= h - 1)
    return warped, valid


def warping_error(output: np.ndarray, driving: np.ndarray) -> np.ndarray:
    """(T - 1,) warping error of ``output`` with the flow of ``driving`` (both (T, H, W, 3) uint8, same size)."""
    output, driving = np.asarray(output), np.asarray(driving)
    if output.shape != driving.shape:
        raise ValueError(f"output {output.shape} and driving {driving.shape} frames must have one shape")
    errors = []
    for t in range(len(output) - 1):
        flow = farneback_flow(driving[t], driving[t + 1])
        warped, valid = warp_back(output[t + 1], flow)
        diff = np.abs(_unit(output[t]) - _unit(warped)).mean(axis=-1)
        errors.append(float(diff[valid].mean()) if valid.any() else float("nan"))
    return np.asarray(errors, dtype=np.float64)
