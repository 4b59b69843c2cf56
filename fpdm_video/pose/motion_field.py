"""The motion of the output canvas from one frame to the next, computed from the target poses alone.

What moves the noise with the signer (``pipelines.noise_warp``) is a dense displacement field of
the model's canvas: where each pixel of frame t - 1 goes in frame t. It is built from the (repaired,
retargeted) target keypoints, so it needs no optical flow of the driving video, follows the
retargeting, and costs tens of milliseconds per frame on a CPU (docs/sampling.md):

1. The body is cut into parts, back to front: torso, upper arms, head, forearms, hands. Each part
   moves by its own similarity transform (rotation, uniform scale, translation), the least-squares
   fit (Umeyama 1991) of its keypoints at t - 1 onto the same keypoints at t (exact for a two-point
   limb). A part whose keypoints are missing in either frame has no transform and leaves what is
   behind it as it was.
2. Each part's region at t - 1 is its keypoints' convex hull (torso, head) or its bones (limbs,
   hands). A part covers a pixel fully within ``core`` of its region and fades out beyond it as a
   Gaussian of width ``spread`` (both in shoulder widths, so the field scales with the signer):
   ``alpha = exp(-max(d - core, 0)^2 / (2 spread^2))``.
3. The parts are laid over the still background back to front, ``u = (1 - alpha) u + alpha u_part``,
   so where a hand lies over the torso the hand's motion wins, and far from the body the field is 0.

Coordinates are the canvas's (``CanvasFit.points_to_canvas``): pixel (row i, column j) has its
centre at (j + 0.5, i + 0.5). :func:`pool_field` averages the field over the cells of a coarser
grid (the latent's: one cell per 8x8 pixels) and gives it in cells.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from fpdm_video.geometry import CanvasFit
from fpdm_video.pose.sequence import BODY_POINTS, PoseSequence
from fpdm_video.pose.skeleton import HAND_BONES, OFFSETS

_B = {name: i for i, name in enumerate(BODY_POINTS)}
_FACE = tuple(range(OFFSETS["face"], OFFSETS["face"] + 468))
_HEAD_BODY = tuple(_B[n] for n in ("NOSE", "LEFT_EYE", "RIGHT_EYE", "LEFT_EAR", "RIGHT_EAR", "MOUTH_LEFT", "MOUTH_RIGHT"))


@dataclass(frozen=True)
class Part:
    """One rigidly moving piece of the signer."""

    name: str
    points: tuple[int, ...]  # holistic indices (K) whose motion gives the part's transform
    bones: tuple[tuple[int, int], ...]  # where the part lies, as segments; empty: the convex hull of ``points``
    core: float  # fully covered within this distance of its region, in shoulder widths
    spread: float  # Gaussian width of the fade beyond the core, in shoulder widths
    fallback: tuple[int, ...] = ()  # points used instead when fewer than 3 of ``points`` are seen in both frames


def _limb(side: str, a: str, b: str, core: float, spread: float) -> Part:
    i, j = _B[f"{side}_{a}"], _B[f"{side}_{b}"]
    return Part(f"{side.lower()}_{a.lower()}_{b.lower()}", (i, j), ((i, j),), core, spread)


def _hand(side: str) -> Part:
    offset = OFFSETS[f"{side}_hand"]
    bones = tuple((offset + a, offset + b) for a, b in HAND_BONES)
    up = side.upper()
    wrist = tuple(_B[f"{up}_{n}"] for n in ("WRIST", "PINKY", "INDEX", "THUMB"))
    return Part(f"{side}_hand", tuple(range(offset, offset + 21)), bones, 0.03, 0.04, fallback=wrist)


_SHOULDERS_HIPS = tuple(_B[n] for n in ("LEFT_SHOULDER", "RIGHT_SHOULDER", "RIGHT_HIP", "LEFT_HIP"))

PARTS: tuple[Part, ...] = (  # back to front
    Part("torso", _SHOULDERS_HIPS, (), 0.08, 0.08),
    _limb("LEFT", "SHOULDER", "ELBOW", 0.10, 0.03),
    _limb("RIGHT", "SHOULDER", "ELBOW", 0.10, 0.03),
    Part("head", _FACE, (), 0.12, 0.08, fallback=_HEAD_BODY),
    _limb("LEFT", "ELBOW", "WRIST", 0.08, 0.03),
    _limb("RIGHT", "ELBOW", "WRIST", 0.08, 0.03),
    _hand("left"),
    _hand("right"),
)


def similarity(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """(2, 3) the least-squares similarity (no reflection) taking ``src`` (n, 2) onto ``dst`` (n, 2); n >= 1.

    Umeyama 1991 in 2-D: the rotation and scale come from the summed dot and cross products of the
    centred point sets; one point (or coincident points) gives a translation.
    """
    mu_s, mu_d = src.mean(axis=0), dst.mean(axis=0)
    s, d = src - mu_s, dst - mu_d
    norm = float((s * s).sum())
    if norm < 1e-9:
        a, b = 1.0, 0.0
    else:
        a = float((s * d).sum()) / norm  # scale * cos(angle)
        b = float((s[:, 0] * d[:, 1] - s[:, 1] * d[:, 0]).sum()) / norm  # scale * sin(angle)
    rotation = np.array([[a, -b], [b, a]])
    return np.concatenate([rotation, (mu_d - rotation @ mu_s)[:, None]], axis=1)


def _part_points(part: Part, seen: np.ndarray) -> tuple[int, ...]:
    both = tuple(i for i in part.points if seen[i])
    if len(both) >= min(3, len(part.points)) or not part.fallback:
        return both
    return tuple(i for i in part.fallback if seen[i])


def _distance(part: Part, used: tuple[int, ...], xy: np.ndarray, seen: np.ndarray, width: int, height: int) -> np.ndarray:
    """(H, W) float32 distance in pixels from each pixel centre to the part's region at t - 1."""
    region = np.full((height, width), 255, dtype=np.uint8)  # 0 marks the region (distanceTransform's zeros)
    shift = 4  # sub-pixel drawing: coordinates in 1/16 pixel
    scale = 1 << shift

    def fixed(p: np.ndarray) -> np.ndarray:
        return np.round((p - 0.5) * scale).astype(np.int32)  # pixel centres at integer + 0.5

    bones = [(a, b) for a, b in part.bones if seen[a] and seen[b]]
    if part.bones and bones and set(used) <= set(part.points):
        for a, b in bones:
            cv2.line(region, tuple(fixed(xy[a])), tuple(fixed(xy[b])), 0, 1, cv2.LINE_8, shift)
    elif len(used) >= 3:
        hull = cv2.convexHull(fixed(xy[list(used)])[:, None, :])
        cv2.fillConvexPoly(region, hull, 0, cv2.LINE_8, shift)
    else:
        for i in used:
            cv2.circle(region, tuple(fixed(xy[i])), 0, 0, -1, cv2.LINE_8, shift)
        if len(used) == 2:
            cv2.line(region, tuple(fixed(xy[used[0]])), tuple(fixed(xy[used[1]])), 0, 1, cv2.LINE_8, shift)
    if region.all():  # drawn outside the canvas
        ys, xs = np.mgrid[0:height, 0:width].astype(np.float32) + 0.5
        return np.min([np.hypot(xs - xy[i, 0], ys - xy[i, 1]) for i in used], axis=0)
    return cv2.distanceTransform(region, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)


def shoulder_width(xy: np.ndarray, seen: np.ndarray, width: int, height: int) -> float:
    """The signer's shoulder distance in canvas pixels (the unit of every part's size); a guess without shoulders."""
    ls, rs = _B["LEFT_SHOULDER"], _B["RIGHT_SHOULDER"]
    if seen[ls] and seen[rs]:
        return max(2.0, float(np.hypot(*(xy[ls] - xy[rs]))))
    return 0.3 * min(width, height)


def motion_field(before: np.ndarray, after: np.ndarray, seen_before: np.ndarray, seen_after: np.ndarray,
                 canvas: tuple[int, int], parts: tuple[Part, ...] = PARTS) -> np.ndarray:  # fmt: skip
    """(2, H, W) float32: the displacement (dx, dy) in pixels of each canvas pixel from frame t - 1 to t.

    before, after: (K, 2) canvas coordinates of the holistic points at t - 1 and t; seen_*: (K,) bool.
    canvas: (width, height).
    """
    width, height = canvas
    seen = np.asarray(seen_before, bool) & np.asarray(seen_after, bool)
    unit = shoulder_width(before, seen, width, height)
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32) + 0.5
    field = np.zeros((2, height, width), dtype=np.float32)
    for part in parts:
        used = _part_points(part, seen)
        if not used:
            continue
        m = similarity(before[list(used)].astype(np.float64), after[list(used)].astype(np.float64)).astype(np.float32)
        dx = m[0, 0] * xs + m[0, 1] * ys + m[0, 2] - xs
        dy = m[1, 0] * xs + m[1, 1] * ys + m[1, 2] - ys
        d = _distance(part, used, before, seen, width, height)
        alpha = np.exp(-np.square(np.maximum(d - part.core * unit, 0.0)) / (2 * (part.spread * unit) ** 2))
        field[0] += alpha * (dx - field[0])
        field[1] += alpha * (dy - field[1])
    return field


def motion_fields(pose: PoseSequence, fit: CanvasFit, start: int = 0, stop: int | None = None) -> np.ndarray:
    """(n, 2, H, W) float32: for each frame k of [start, stop), the field from frame k - 1 to k (zeros for frame 0)."""
    stop = pose.num_frames if stop is None else stop
    first = max(start - 1, 0)  # only the frames the fields need, not the whole video (this runs once per chunk)
    window = pose.frames(first, stop).to_pixels()
    width, height = fit.canvas
    out = np.zeros((stop - start, 2, height, width), dtype=np.float32)
    xy = fit.points_to_canvas(window.points[..., :2])  # (stop - first, K, 2)
    seen = window.confidence > 0
    for k in range(max(start, 1), stop):
        i = k - first
        out[k - start] = motion_field(xy[i - 1], xy[i], seen[i - 1], seen[i], (width, height))
    return out


def pool_field(field: np.ndarray, cell: int) -> np.ndarray:
    """(..., 2, H, W) pixels -> (..., 2, H / cell, W / cell): the mean displacement over each cell, in cells."""
    *lead, two, height, width = field.shape
    if height % cell or width % cell:
        raise ValueError(f"a {width}x{height} field does not divide into {cell}x{cell} cells")
    cells = field.reshape(*lead, two, height // cell, cell, width // cell, cell)
    return cells.mean(axis=(-3, -1)) / cell
