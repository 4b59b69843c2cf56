"""Repair of extracted pose tracks: left/right hand swaps, short gaps, jitter.

:func:`repair_poses` runs three steps, in this order, on a copy of the input (smoothing comes
before gap filling so that gaps are bridged from de-jittered ends and tangents):

1. **Hand swaps.** MediaPipe sometimes labels a hand with the wrong side, or finds one hand twice.
   A hand whose wrist is far from its own side's body wrist (more than ``swap_distance`` shoulder
   widths) and nearer the other side's body wrist is mislabelled. If the other slot is empty or
   mislabelled too, the two hand components are swapped in that frame; if the other slot holds a
   correctly placed hand, the mislabelled one is a duplicate and is removed (made missing).
2. **Jitter.** Every point is filtered with a confidence-aware One-Euro filter
   (:mod:`fpdm_video.pose.smoothing`); gaps are not smoothed across.
3. **Gaps.** A component that is missing as a whole for at most ``max_gap`` consecutive frames,
   with the component present on both sides, is filled by interpolation in time (linear, or cubic
   Hermite with tangents fitted on up to 3 frames beside the gap), point by point for points
   present at both ends. A hand whose body wrist is detected throughout the gap is interpolated
   relative to that wrist, so it follows the arm. Longer gaps, and gaps at the start or end of the
   sequence, stay missing (nothing is extrapolated). Filled points get the confidence
   ``min(fill_confidence, confidence at either end)``: 0.5 by default, so they stay drawn (above
   the renderer's 0.3) and can be told apart (MediaPipe hands and face report 1.0).

The default ``max_gap`` is 6 frames: 0.24 s at PHOENIX's 25 fps, about the time a hand takes to
move out of a motion-blurred stretch; longer disappearances are real (a hand leaving the frame).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np

from fpdm_video.errors import PoseError
from fpdm_video.pose.sequence import BODY_POINTS, PoseSequence
from fpdm_video.pose.smoothing import OneEuroConfig, body_scale, frame_times, jitter, smooth_poses

logger = logging.getLogger(__name__)

HAND_SIDES = (("left_hand", BODY_POINTS.index("LEFT_WRIST")), ("right_hand", BODY_POINTS.index("RIGHT_WRIST")))
INTERPOLATIONS = ("hermite", "linear")


@dataclass(frozen=True)
class RepairConfig:
    """What :func:`repair_poses` does. Distances are in shoulder widths, gap lengths in frames."""

    max_gap: int = 6  # longest run of missing frames that is filled (6 frames = 0.24 s at 25 fps)
    fill_components: tuple[str, ...] = ("body", "left_hand", "right_hand", "face")  # components gap-filled
    interpolation: str = "linear"  # "linear", or "hermite" (cubic, tangents fitted beside the gap)
    fill_confidence: float = 0.5  # confidence of filled points (capped by the confidence at the gap's ends)
    anchor_hands: bool = True  # fill a hand relative to its body wrist when the wrist is seen through the gap
    fix_swaps: bool = True  # detect and fix left/right hand swaps and duplicate hands
    swap_distance: float = 0.35  # a hand wrist this far (shoulder widths) from its body wrist may be mislabelled
    smoothing: OneEuroConfig | None = field(default_factory=OneEuroConfig)  # None: no jitter filter

    def __post_init__(self) -> None:
        if self.max_gap < 0:
            raise PoseError(f"max_gap must be >= 0 frames, got {self.max_gap}")
        if self.interpolation not in INTERPOLATIONS:
            raise PoseError(f"interpolation must be one of {INTERPOLATIONS}, got {self.interpolation!r}")
        if not 0.0 < self.fill_confidence <= 1.0:
            raise PoseError(f"fill_confidence must be in (0, 1], got {self.fill_confidence}")


@dataclass
class RepairReport:
    """What :func:`repair_poses` changed."""

    filled_frames: dict[str, int]  # component -> number of frames filled
    gaps_left: dict[str, list[tuple[int, int]]]  # component -> missing runs (start, stop) left as they were
    swapped_frames: list[int]  # frames whose two hands were swapped
    removed_duplicates: list[tuple[int, str]]  # (frame, component) of hands removed as duplicates
    jitter_before: float  # mean |second difference| (pixels) of the input
    jitter_after: float  # the same on the output, over the points present in the input

    def summary(self) -> str:
        filled = ", ".join(f"{k} {v}" for k, v in self.filled_frames.items() if v) or "none"
        left = sum(len(v) for v in self.gaps_left.values())
        return (
            f"filled frames: {filled}; gaps left: {left}; hand swaps fixed: {len(self.swapped_frames)}; "
            f"duplicate hands removed: {len(self.removed_duplicates)}; "
            f"jitter {self.jitter_before:.3f} -> {self.jitter_after:.3f} px"
        )


def repair_poses(pose: PoseSequence, config: RepairConfig | None = None) -> tuple[PoseSequence, RepairReport]:
    """Fix hand swaps, fill short gaps and smooth jitter (see the module docstring). The input is not changed."""
    config = config or RepairConfig()
    pose = pose.to_holistic().to_pixels()
    points, confidence = pose.points.copy(), pose.confidence.copy()
    original_present = confidence > 0
    swapped, removed = [], []
    if config.fix_swaps:
        swapped, removed = fix_hand_swaps(pose, points, confidence, config.swap_distance)
    repaired = pose.with_data(points, confidence)
    if config.smoothing is not None:
        repaired = smooth_poses(repaired, config.smoothing)
    points, confidence = repaired.points.copy(), repaired.confidence.copy()
    times = frame_times(pose)
    filled, gaps_left = {}, {}
    wrists = dict(HAND_SIDES)
    for name in config.fill_components:
        s = pose.slice_of(name)
        anchor = None
        if name in wrists and config.anchor_hands:
            anchor = (points[:, wrists[name]], confidence[:, wrists[name]] > 0)
        filled[name], gaps_left[name] = fill_gaps(points[:, s], confidence[:, s], times, config, anchor)
    repaired = pose.with_data(points, confidence)
    report = RepairReport(
        filled_frames=filled,
        gaps_left=gaps_left,
        swapped_frames=swapped,
        removed_duplicates=removed,
        jitter_before=jitter(pose),
        jitter_after=jitter(repaired, original_present),
    )
    logger.info("pose repair: %s", report.summary())
    return repaired, report


# ---- hand swaps ----------------------------------------------------------------------------------
def fix_hand_swaps(pose: PoseSequence, points: np.ndarray, confidence: np.ndarray,
                   swap_distance: float) -> tuple[list[int], list[tuple[int, str]]]:  # fmt: skip
    """Swap or remove mislabelled hands in ``points`` (T, K, D) / ``confidence`` (T, K), in place.

    Judged on frames where both body wrists are present. Returns (swapped frames, removed duplicates).
    """
    tol = swap_distance * body_scale(pose)
    (left_name, lw), (right_name, rw) = HAND_SIDES
    ls, rs = pose.slice_of(left_name), pose.slice_of(right_name)
    wrists_ok = (confidence[:, lw] > 0) & (confidence[:, rw] > 0)  # (T,)
    body_l, body_r = points[:, lw, :2], points[:, rw, :2]  # (T, 2)

    def mislabelled(s: slice, own: np.ndarray, other: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        present = confidence[:, s].max(axis=1) > 0  # (T,)
        wrist = points[:, s.start, :2]  # hand point 0 is its wrist
        d_own = np.linalg.norm(wrist - own, axis=-1)
        d_other = np.linalg.norm(wrist - other, axis=-1)
        return present, present & wrists_ok & (d_own > tol) & (d_other < d_own)

    l_present, l_wrong = mislabelled(ls, body_l, body_r)
    r_present, r_wrong = mislabelled(rs, body_r, body_l)
    swap = (l_wrong & (r_wrong | ~r_present)) | (r_wrong & ~l_present)
    drop_l = l_wrong & r_present & ~r_wrong  # the left slot repeats the (correct) right hand
    drop_r = r_wrong & l_present & ~l_wrong
    idx = np.flatnonzero(swap)
    if idx.size:
        points[idx, ls], points[idx, rs] = points[idx, rs].copy(), points[idx, ls].copy()
        confidence[idx, ls], confidence[idx, rs] = confidence[idx, rs].copy(), confidence[idx, ls].copy()
    removed = []
    for drop, s, name in ((drop_l, ls, left_name), (drop_r, rs, right_name)):
        for t in np.flatnonzero(drop):
            confidence[t, s], points[t, s] = 0.0, 0.0
            removed.append((int(t), name))
    return [int(t) for t in idx], sorted(removed)


# ---- gaps ------------------------------------------------------------------------------------------
def missing_runs(present: np.ndarray) -> list[tuple[int, int]]:
    """Runs (start, stop) of False in a (T,) bool array."""
    padded = np.concatenate([[True], present.astype(bool), [True]])
    change = np.flatnonzero(padded[1:] != padded[:-1])  # boundaries, alternating start/stop
    return [(int(a), int(b)) for a, b in zip(change[::2], change[1::2])]


def fill_gaps(points: np.ndarray, confidence: np.ndarray, times: np.ndarray, config: RepairConfig,
              anchor: tuple[np.ndarray, np.ndarray] | None = None) -> tuple[int, list[tuple[int, int]]]:  # fmt: skip
    """Fill short whole-component gaps of one component, in place: points (T, k, D), confidence (T, k).

    ``anchor`` = (positions (T, D), present (T,)) of a point the component hangs off (a hand's body
    wrist). Where the anchor is present from the frame before a gap to the frame after it, the
    component's offsets to it are interpolated instead of its positions, so a filled hand follows
    the detected arm. Returns (frames filled, runs left missing).
    """
    t_len = points.shape[0]
    present = confidence.max(axis=1) > 0  # (T,) component present in the frame
    relative = None
    if anchor is not None:
        where, anchor_ok = anchor
        offset = np.where(anchor_ok[:, None, None], where[:, None, :], 0.0)  # (T, 1, D)
        relative = (points - offset, confidence * anchor_ok[:, None], offset)
    filled, left = 0, []
    for a, b in missing_runs(present):
        if a == 0 or b == t_len or b - a > config.max_gap:
            left.append((a, b))
            continue
        ends_ok = (confidence[a - 1] > 0) & (confidence[b] > 0)  # (k,) points present at both ends
        if not ends_ok.any():
            left.append((a, b))
            continue
        if relative is not None and anchor[1][a - 1 : b + 1].all():
            values = relative[2][a:b] + interpolate(relative[0], relative[1], times, a, b, config.interpolation)
        else:
            values = interpolate(points, confidence, times, a, b, config.interpolation)  # (L, k, D)
        conf = np.minimum(np.minimum(confidence[a - 1], confidence[b]), config.fill_confidence)  # (k,)
        points[a:b] = np.where(ends_ok[None, :, None], values, 0.0)
        confidence[a:b] = np.where(ends_ok, conf, 0.0)[None]
        filled += b - a
    return filled, left


def interpolate(points: np.ndarray, confidence: np.ndarray, times: np.ndarray, a: int, b: int,
                method: str) -> np.ndarray:  # fmt: skip
    """Values (L, k, D) for frames ``a:b`` between frames ``a - 1`` and ``b`` of points (T, k, D)."""
    p0, p1 = points[a - 1].astype(np.float64), points[b].astype(np.float64)  # (k, D)
    t0, t1 = times[a - 1], times[b]
    s = ((times[a:b] - t0) / (t1 - t0))[:, None, None]  # (L, 1, 1) position in the gap
    if method == "linear":
        return (1.0 - s) * p0 + s * p1
    chord = (p1 - p0) / (t1 - t0)  # (k, D) per second
    m0 = _tangent(points, confidence, times, a - 1, -1, chord)
    m1 = _tangent(points, confidence, times, b, 1, chord)
    h00, h10, h01, h11 = 2 * s**3 - 3 * s**2 + 1, s**3 - 2 * s**2 + s, -2 * s**3 + 3 * s**2, s**3 - s**2
    return h00 * p0 + h10 * (t1 - t0) * m0 + h01 * p1 + h11 * (t1 - t0) * m1


def _tangent(points: np.ndarray, confidence: np.ndarray, times: np.ndarray, at: int, step: int,
             chord: np.ndarray) -> np.ndarray:  # fmt: skip
    """(k, D) velocity at frame ``at``, fitted on up to 3 frames outwards from the gap (``step`` -1 or +1).

    A least-squares slope over ``at``, ``at + step``, ``at + 2 step`` where a point is present in all
    three; a two-frame difference where only the next one is there; the gap's chord otherwise.
    """
    velocity = chord.copy()
    for n in (2, 3):  # two frames, then three frames (which win where available)
        frames = [at + i * step for i in range(n)]
        if not 0 <= frames[-1] < points.shape[0]:
            break
        ok = np.all(confidence[frames] > 0, axis=0)  # (k,)
        t = times[frames] - times[frames].mean()  # (n,)
        x = points[frames].astype(np.float64)  # (n, k, D)
        slope = np.einsum("n,nkd->kd", t, x - x.mean(axis=0)) / np.sum(t**2)
        velocity = np.where(ok[:, None], slope, velocity)
    return velocity
