"""Confidence-aware One-Euro filtering of pose tracks, vectorised over points.

The One-Euro filter (Casiez, Roussel and Vogel, CHI 2012) is a first-order low-pass filter whose
cut-off frequency rises with the signal's speed:

    alpha(fc) = 1 / (1 + 1 / (2 pi fc dt))                                   (eq. 4 of the paper)
    dx_hat_t  = alpha(d_cutoff) * (x_t - x_hat_{t-1}) / dt + (1 - alpha(d_cutoff)) * dx_hat_{t-1}
    fc_t      = min_cutoff + beta * |dx_hat_t|
    x_hat_t   = alpha(fc_t) * x_t + (1 - alpha(fc_t)) * x_hat_{t-1}

so a still hand is smoothed hard (jitter removed) and a fast handshape change is followed almost
without lag. Here speeds are measured in body scales per second (see :func:`body_scale`), which
makes the defaults independent of the video resolution. A point's confidence lowers its cut-off
(a less certain point is smoothed more). Missing points (confidence 0) reset the filter: nothing is
smoothed across a gap.

The filter is causal. For offline video ``two_pass`` runs it forwards and backwards in time and
averages the two, which cancels most of the lag of either direction.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from fpdm_video.errors import PoseError
from fpdm_video.pose.sequence import PoseSequence
from fpdm_video.pose.skeleton import NECK  # (left shoulder, right shoulder, nose)


@dataclass(frozen=True)
class OneEuroConfig:
    """Settings of the One-Euro filter. Frequencies in Hz, speeds in body scales per second."""

    min_cutoff: float = 1.0  # Hz: cut-off of a still point; lower removes more jitter
    beta: float = 8.0  # cut-off rise per (body scale / s) of speed; higher means less lag when moving
    d_cutoff: float = 3.0  # Hz: cut-off of the speed estimate (low values average out oscillations)
    confidence_power: float = 1.0  # cut-off is scaled by confidence ** power; 0 ignores confidence
    min_confidence_scale: float = 0.25  # floor of that scaling, so a weak point is still followed
    two_pass: bool = True  # average a forward and a backward pass (zero-lag, offline only)

    def __post_init__(self) -> None:
        if self.min_cutoff <= 0 or self.d_cutoff <= 0 or self.beta < 0:
            raise PoseError("One-Euro min_cutoff and d_cutoff must be > 0 and beta >= 0")


def frame_times(pose: PoseSequence) -> np.ndarray:
    """(T,) seconds of each frame: the timestamps when present, else index / fps."""
    if pose.timestamps is not None:
        return np.asarray(pose.timestamps, dtype=np.float64)
    return np.arange(pose.num_frames, dtype=np.float64) / pose.fps


def body_scale(pose: PoseSequence) -> float:
    """Median shoulder width in pixels over the frames that have both shoulders; else the frame's short side / 4."""
    left, right = NECK[0], NECK[1]
    both = (pose.confidence[:, left] > 0) & (pose.confidence[:, right] > 0)
    if both.any():
        width = np.linalg.norm(pose.points[both, left, :2] - pose.points[both, right, :2], axis=-1)
        if np.median(width) > 0:
            return float(np.median(width))
    return min(pose.width, pose.height) / 4.0


def _alpha(cutoff: np.ndarray | float, dt: float) -> np.ndarray | float:
    tau = 1.0 / (2.0 * np.pi * cutoff)
    return 1.0 / (1.0 + tau / dt)


def one_euro(points: np.ndarray, confidence: np.ndarray, times: np.ndarray, scale: float,
             config: OneEuroConfig) -> np.ndarray:  # fmt: skip
    """One causal pass over points (T, K, D) with confidence (T, K) at ``times`` (T,). Returns (T, K, D).

    ``scale`` (pixels) converts speeds to body scales per second. Missing points are returned as given.
    """
    t_len = points.shape[0]
    out = points.astype(np.float64).copy()
    if t_len < 2:
        return out.astype(np.float32)
    present = confidence > 0  # (T, K)
    weight = np.clip(confidence, 0.0, 1.0) ** config.confidence_power
    weight = np.maximum(weight, config.min_confidence_scale)  # (T, K)
    x_hat = out[0].copy()  # (K, D) filter state
    dx_hat = np.zeros_like(x_hat)  # (K, D) speed state, pixels / s
    alive = present[0].copy()  # (K,) the state holds a point of the previous frame
    for t in range(1, t_len):
        dt = max(float(times[t] - times[t - 1]), 1e-6)
        x = out[t]  # (K, D)
        cont = present[t] & alive  # (K,) points that continue a run
        dx = (x - x_hat) / dt
        a_d = _alpha(config.d_cutoff, dt)
        dx_new = a_d * dx + (1.0 - a_d) * dx_hat
        speed = np.linalg.norm(dx_new, axis=-1) / scale  # (K,) body scales / s
        cutoff = (config.min_cutoff + config.beta * speed) * weight[t]  # (K,)
        a = _alpha(cutoff, dt)[:, None]  # (K, 1)
        filtered = a * x + (1.0 - a) * x_hat
        x_hat = np.where(cont[:, None], filtered, x)  # a new run starts at its first point
        dx_hat = np.where(cont[:, None], dx_new, 0.0)
        out[t] = np.where(present[t][:, None], x_hat, out[t])
        alive = present[t]
    return out.astype(np.float32)


def smooth_poses(pose: PoseSequence, config: OneEuroConfig | None = None) -> PoseSequence:
    """A new sequence with every present point One-Euro filtered (see the module docstring)."""
    config = config or OneEuroConfig()
    times = frame_times(pose)
    scale = body_scale(pose)
    forward = one_euro(pose.points, pose.confidence, times, scale, config)
    if config.two_pass and pose.num_frames > 1:
        backward = one_euro(pose.points[::-1], pose.confidence[::-1], -times[::-1], scale, config)[::-1]
        points = (0.5 * (forward.astype(np.float64) + backward)).astype(np.float32)
    else:
        points = forward
    return pose.with_data(points, pose.confidence.copy())


def jitter(pose: PoseSequence, present: np.ndarray | None = None) -> float:
    """Mean |second difference| in pixels of the x, y of points present in three consecutive frames.

    ``present`` (T, K) bool restricts the points counted (e.g. to those of the unrepaired input).
    """
    if pose.num_frames < 3:
        return 0.0
    xy = pose.points[..., :2].astype(np.float64)
    present = (pose.confidence > 0) if present is None else (present & (pose.confidence > 0))
    ok = present[:-2] & present[1:-1] & present[2:]  # (T-2, K)
    if not ok.any():
        return 0.0
    second = np.linalg.norm(xy[2:] - 2.0 * xy[1:-1] + xy[:-2], axis=-1)  # (T-2, K)
    return float(second[ok].mean())
