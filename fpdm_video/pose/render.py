"""Pose maps: holistic poses drawn as coloured skeletons on black, on the model's canvas (square, or W x H).

Poses are in frame pixels; they are mapped onto the canvas through the project's one
letterbox transform, :class:`~fpdm_video.geometry.CanvasFit`. Body limbs, every finger bone of both
hands and the face contours are drawn with anti-aliased OpenCV lines (sub-pixel positions through
OpenCV's fixed-point ``shift``), joints of the body and hands as dots. Line widths scale with the
canvas. A point below ``min_confidence`` is not drawn, and a bone only when both its ends are drawn.
Bones and colours are in :mod:`fpdm_video.pose.skeleton`. Output is deterministic.
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from einops import rearrange

from fpdm_video.config import PoseMapConfig
from fpdm_video.errors import PoseError
from fpdm_video.geometry import CanvasFit, canvas_dims
from fpdm_video.pose.render_official import render_official
from fpdm_video.pose.sequence import PoseSequence
from fpdm_video.pose.skeleton import BODY_JOINTS, NECK, NECK_COLOR, OFFSETS, BoneGroup, holistic_bones

logger = logging.getLogger(__name__)

SHIFT = 4  # OpenCV fixed-point bits: coordinates are drawn with 1/16 pixel precision
_ONE = 1 << SHIFT


@dataclass(frozen=True)
class RenderStyle:
    """How pose maps look. Widths are fractions of the canvas side, so maps look alike at any size.

    ``skeleton`` picks the drawing: this project's holistic one (below), or one of the official FPDM's
    (:mod:`fpdm_video.pose.render_official`), which ``draw_size`` and ``stick_width`` parametrise.
    """

    skeleton: str = "holistic"  # "holistic", "openpose18" or "wholebody133"
    draw_size: tuple[int, int] | None = None  # official styles: (W, H) they are drawn at, then resized to the canvas
    stick_width: int = 4  # official styles: limb half-width in pixels at draw_size
    min_confidence: float = 0.3  # points with a lower confidence are not drawn
    body_width: float = 0.014  # body limb line width (4 px at 256; OpenCV anti-aliases odd widths, 3 and 4 look alike)
    hand_width: float = 0.006  # finger bone line width (2 px at 256)
    face_width: float = 0.003  # face contour line width (at least 1 px)
    joint_scale: float = 0.6  # joint dot radius, as a multiple of the line width of its part


def style_for(pose_map: PoseMapConfig) -> RenderStyle:
    """The render style a model's pose-map config asks for (its ``pose_map``)."""
    draw = tuple(pose_map.draw_size) if pose_map.draw_size else None
    return RenderStyle(skeleton=pose_map.style, draw_size=draw, stick_width=pose_map.stick_width)


def _width(fraction: float, size: int) -> int:
    """A line width of ``fraction`` of the canvas's longer side ``size`` (the person's scale in a letterbox)."""
    return max(1, round(fraction * size))


def _fixed(xy: np.ndarray, size: int) -> np.ndarray:
    """Canvas coordinates (..., 2) as OpenCV fixed-point int32, clipped well outside a canvas of longer side ``size``."""
    return np.round(np.clip(xy, -4.0 * size, 5.0 * size) * _ONE).astype(np.int32)


def _prepare(pose: PoseSequence) -> PoseSequence:
    if pose.num_frames == 0:
        raise PoseError("the pose sequence has no frames; nothing to render")
    return pose.to_holistic().to_pixels()


def _fit_for(pose: PoseSequence, size: int | tuple[int, int], fit: CanvasFit | None) -> CanvasFit:
    try:
        dims = canvas_dims(size)
    except (TypeError, ValueError):
        dims = (0, 0)
    if min(dims) < 8:
        raise PoseError(f"pose map size must be a side or a (width, height) of at least 8 pixels, got {size!r}")
    if fit is None:
        return CanvasFit.of(pose.width, pose.height, dims)
    if fit.canvas != dims:
        raise PoseError(f"the CanvasFit maps to a {fit.canvas[0]}x{fit.canvas[1]} canvas but size={size}; pass a matching fit or none")
    return fit


def draw_skeleton(xy: np.ndarray, visible: np.ndarray, size: int | tuple[int, int], style: RenderStyle) -> np.ndarray:
    """Draw one canonical holistic frame: canvas points (543, 2), drawn mask (543,) -> uint8 (H, W, 3).

    ``size`` is the canvas: a square side or (width, height). Line widths scale with its longer side.
    """
    width, height = canvas_dims(size)
    size = max(width, height)
    canvas = np.zeros((height, width, 3), dtype=np.uint8)
    fixed = _fixed(xy, size)  # (K, 2) int32
    widths = {"body": _width(style.body_width, size), "hand": _width(style.hand_width, size),
              "face": _width(style.face_width, size)}  # fmt: skip
    for group in _groups():
        _draw_group(canvas, group, fixed, visible, widths[group.kind])
        if group.name == "body":
            _draw_neck(canvas, xy, visible, size, widths["body"])
    _draw_joints(canvas, fixed, visible, widths, style.joint_scale)
    return canvas


def _draw_group(canvas: np.ndarray, group: BoneGroup, fixed: np.ndarray, visible: np.ndarray, width: int) -> None:
    keep = visible[group.bones[:, 0]] & visible[group.bones[:, 1]]  # (N,)
    if not keep.any():
        return
    ends = fixed[group.bones[keep]]  # (n, 2, 2)
    colors = group.colors[keep]
    if group.kind == "face":  # one colour per part: one polyline call
        cv2.polylines(canvas, list(ends), False, tuple(int(c) for c in colors[0]), width, cv2.LINE_AA, SHIFT)
        return
    for (a, b), color in zip(ends, colors):
        cv2.line(canvas, tuple(a), tuple(b), tuple(int(c) for c in color), width, cv2.LINE_AA, SHIFT)


def _draw_neck(canvas: np.ndarray, xy: np.ndarray, visible: np.ndarray, size: int, width: int) -> None:
    left, right, nose = NECK
    if visible[left] and visible[right] and visible[nose]:
        mid = _fixed((xy[left] + xy[right]) / 2.0, size)
        cv2.line(canvas, tuple(mid), tuple(_fixed(xy[nose], size)), NECK_COLOR, width, cv2.LINE_AA, SHIFT)


def _draw_joints(canvas: np.ndarray, fixed: np.ndarray, visible: np.ndarray, widths: dict[str, int],
                 scale: float) -> None:  # fmt: skip
    """White dots on the body's limb joints and on both hands' joints (not on the 468 face points)."""
    for kind, joints in (("body", BODY_JOINTS_ARRAY), ("hand", HAND_JOINTS)):
        radius = max(1, round(scale * widths[kind])) << SHIFT
        for i in joints[visible[joints]]:
            cv2.circle(canvas, tuple(fixed[i]), radius, (255, 255, 255), -1, cv2.LINE_AA, SHIFT)


BODY_JOINTS_ARRAY = np.array(BODY_JOINTS)
HAND_JOINTS = np.arange(OFFSETS["left_hand"], OFFSETS["face"])  # both hands, 42 points
@functools.lru_cache(maxsize=1)
def _groups() -> tuple[BoneGroup, ...]:
    return holistic_bones()


def _frame_image(pose: PoseSequence, index: int, fit: CanvasFit, style: RenderStyle) -> np.ndarray:
    xy = fit.points_to_canvas(pose.points[index, :, :2])  # (K, 2)
    visible = pose.confidence[index] >= max(style.min_confidence, 1e-6)  # (K,)
    if style.skeleton != "holistic":
        return render_official(xy, visible, fit.canvas, style.skeleton, style.draw_size, style.stick_width)
    # canvas coordinates put pixel i's centre at i + 0.5; OpenCV draws pixel i's centre at i
    return draw_skeleton(xy - 0.5, visible, fit.canvas, style)


def render_pose_map(
    pose: PoseSequence,
    index: int,
    size: int | tuple[int, int],
    fit: CanvasFit | None = None,
    as_uint8: bool = False,
    style: RenderStyle | None = None,
) -> np.ndarray:
    """Pose map of frame ``index``: float32 (3, H, W) in [0, 1], or uint8 (H, W, 3) RGB, on the canvas ``size``.

    ``size`` is a square side or (width, height); ``fit`` defaults to ``CanvasFit.of(pose.width, pose.height, size)``.
    """
    pose = _prepare(pose)
    if not -pose.num_frames <= index < pose.num_frames:
        raise PoseError(f"frame index {index} is outside the {pose.num_frames} frames of the pose sequence")
    image = _frame_image(pose, index, _fit_for(pose, size, fit), style or RenderStyle())  # (S, S, 3)
    if as_uint8:
        return image
    return rearrange(image, "h w c -> c h w").astype(np.float32) / 255.0


def iter_pose_images(
    pose: PoseSequence, size: int | tuple[int, int], fit: CanvasFit | None = None, start: int = 0, end: int | None = None,
    style: RenderStyle | None = None,
) -> Iterator[np.ndarray]:  # fmt: skip
    """uint8 (H, W, 3) pose maps of frames ``start:end`` on the canvas ``size``, one at a time."""
    pose = _prepare(pose)
    fit = _fit_for(pose, size, fit)
    style = style or RenderStyle()
    for index in range(*slice(start, end).indices(pose.num_frames)):
        yield _frame_image(pose, index, fit, style)


def render_pose_maps(
    pose: PoseSequence,
    size: int | tuple[int, int],
    fit: CanvasFit | None = None,
    start: int = 0,
    end: int | None = None,
    style: RenderStyle | None = None,
) -> np.ndarray:
    """Pose maps of frames ``start:end`` as float32 (T, 3, H, W) in [0, 1]."""
    images = list(iter_pose_images(pose, size, fit, start, end, style))
    if not images:
        raise PoseError(f"frames {start}:{end} select none of the {pose.num_frames} frames")
    return rearrange(np.stack(images), "t h w c -> t c h w").astype(np.float32) / 255.0


def render_pose_video(
    pose: PoseSequence,
    path: str | os.PathLike,
    size: int | None = None,
    fps: float | None = None,
    style: RenderStyle | None = None,
) -> Path:
    """Write a preview video of the pose maps (H.264, written atomically by the video writer).

    With ``size`` the video is square (the model's view); without it, it has the pose's own frame
    size (the letterbox is removed again), which lines up with the source video. ``fps`` defaults
    to the pose's frame rate; the pose's timestamps are kept when it has them and ``fps`` is not given.
    """
    from fpdm_video.video.writer import write_video  # the encoder (PyAV) only when previews are written

    pose = _prepare(pose)
    if size is None:
        fit = CanvasFit.of(pose.width, pose.height, max(pose.width, pose.height))
        frames = (fit.image_from_canvas(img) for img in iter_pose_images(pose, fit.canvas, fit, style=style))
    else:
        frames = iter_pose_images(pose, size, style=style)
    timestamps = pose.timestamps if fps is None else None
    out = write_video(path, frames, fps or pose.fps, timestamps=timestamps)
    logger.info("wrote %d pose-map frames to %s", pose.num_frames, out)
    return out
