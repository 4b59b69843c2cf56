"""Texture sticking: does a pattern move with the body, or stay where it was while the body moves?

Diffusion models that keep noise or features fixed across frames tend to paint textures in screen
space: a shirt's stripes stay put as the torso turns. This is measured against the ground truth's
motion: optical flow (OpenCV's Farneback, as in ``fpdm_video.metrics.temporal``) from frame t to
t + 1 is computed on the output and on the ground truth, and compared inside the ground truth's
clothing region at frame t:

- **flow end-point error**: the mean distance, in pixels, between the two flows there; 0 when the
  output's pattern moves exactly as the ground truth's;
- **flow ratio**: the output's mean flow length there over the ground truth's; a pattern stuck to
  the screen gives a value well under 1.
"""

from __future__ import annotations

import numpy as np

from fpdm_video.metrics.temporal import farneback_flow


def clothing_flow(output: np.ndarray, truth: np.ndarray, masks: np.ndarray) -> dict[str, float]:
    """Mean flow end-point error (px) and flow ratio of ``output`` against ``truth`` ((T, H, W, 3) uint8) inside ``masks`` (T, H, W).

    Pairs whose mask at frame t is empty are skipped; NaN when every one is.
    """
    output, truth, masks = np.asarray(output), np.asarray(truth), np.asarray(masks, dtype=bool)
    if output.shape != truth.shape or masks.shape != truth.shape[:3]:
        raise ValueError(f"output {output.shape}, truth {truth.shape} and masks {masks.shape} must describe the same frames")
    errors, lengths_out, lengths_truth = [], [], []
    for t in range(len(truth) - 1):
        inside = masks[t]
        if not inside.any():
            continue
        flow_out, flow_truth = farneback_flow(output[t], output[t + 1])[inside], farneback_flow(truth[t], truth[t + 1])[inside]
        errors.append(float(np.linalg.norm(flow_out - flow_truth, axis=-1).mean()))
        lengths_out.append(float(np.linalg.norm(flow_out, axis=-1).mean()))
        lengths_truth.append(float(np.linalg.norm(flow_truth, axis=-1).mean()))
    if not errors:
        return {"flow_epe": float("nan"), "flow_ratio": float("nan")}
    truth_length = float(np.mean(lengths_truth))
    return {"flow_epe": float(np.mean(errors)), "flow_ratio": float(np.mean(lengths_out)) / truth_length if truth_length else float("nan")}
