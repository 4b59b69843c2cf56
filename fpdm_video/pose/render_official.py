"""Pose maps in the official FPDM's styles: OpenPose-18 (DeepFashion) and COCO-WholeBody-133 (PHOENIX).

The official code (``ProcessingKeypoints`` and ``ProcessingSignKeypoints`` in its
``src/fusion/datautil.py``) draws them the same way, and this module draws them as it does:

- on a black canvas of the drawing size (DeepFashion: 375 x 550), every present keypoint is a filled
  circle (radius 4 for OpenPose-18, 2 for WholeBody) at its coordinates truncated to integers;
- every limb whose points are all present is a filled ellipse polygon (``cv2.ellipse2Poly``,
  centre the mean of its points, half-length half the distance of its first two points, half-width
  the stick width, angle in whole degrees), blended over what is drawn so far with weights
  0.4 (old) and 0.6 (new) (``cv2.addWeighted``);
- the colours are given as the official lists, drawn into a BGR canvas that is then converted to RGB,
  so the first OpenPose colour, listed as (255, 0, 0), ends up blue;
- OpenPose-18 draws the first 17 of its 19 limbs (the ear-shoulder limbs are never drawn), and its
  18 colours belong to the points and to the limbs by index; WholeBody draws all 117 limbs with the
  133 colours that ``np.random.seed(777); np.random.choice(256, 399)`` gives, by point and by limb
  index. The limb lists are the official ones, as written there (1-based there, 0-based here),
  including their quirks: one mouth "limb" lists six points, so its ellipse is centred on their mean;
  the right hand lacks the bone between its points 132 and 131 and the jaw's first three bones are
  drawn twice.

The map is then resized to the model canvas with PIL's bicubic filter, as the official dataset resizes
its pose images. Coordinates come in canvas pixels (pixel i's centre at i + 0.5) and are scaled to the
drawing size.
"""

from __future__ import annotations

import functools
import math

import cv2
import numpy as np
from PIL import Image

from fpdm_video.pose.keypoint_sets import OPENPOSE18_TABLE, WHOLEBODY133_TABLE, select_points

_OPENPOSE_LIMBS_1 = ((2, 3), (2, 6), (3, 4), (4, 5), (6, 7), (7, 8), (2, 9), (9, 10), (10, 11), (2, 12), (12, 13),
                     (13, 14), (2, 1), (1, 15), (15, 17), (1, 16), (16, 18), (3, 17), (6, 18))  # fmt: skip
OPENPOSE_COLORS = ((255, 0, 0), (255, 85, 0), (255, 170, 0), (255, 255, 0), (170, 255, 0), (85, 255, 0), (0, 255, 0),
                   (0, 255, 85), (0, 255, 170), (0, 255, 255), (0, 170, 255), (0, 85, 255), (0, 0, 255), (85, 0, 255),
                   (170, 0, 255), (255, 0, 255), (255, 0, 170), (255, 0, 85))  # fmt: skip
OPENPOSE_DRAWN_LIMBS = 17
OPENPOSE_RADIUS = 4
WHOLEBODY_RADIUS = 2


def _wholebody_limbs_1() -> tuple[tuple[int, ...], ...]:
    body = [(11, 9), (9, 7), (7, 6), (6, 8), (8, 10), (7, 13), (6, 12), (13, 12), (13, 15), (15, 17), (12, 14),
            (14, 16), (24, 25), (25, 26), (26, 27)]  # fmt: skip
    jaw = [(i, i + 1) for i in range(24, 40)]
    brows = [(i, i + 1) for i in range(41, 50)]
    nose = [(i, i + 1) for i in range(51, 59)] + [(59, 54)]
    right_eye = [(i, i + 1) for i in range(60, 65)] + [(65, 60)]
    left_eye = [(i, i + 1) for i in range(66, 71)] + [(71, 66)]
    mouth = [(i, i + 1) for i in range(72, 88)] + [(83, 72, 72, 84, 88, 78)]  # the official list's one six-point entry
    left_hand = [(96, 95), (95, 94), (94, 93), (93, 92), (100, 99), (99, 98), (98, 97), (97, 92), (104, 103), (103, 102),
                 (102, 101), (101, 92), (108, 107), (107, 106), (106, 105), (105, 92), (112, 111), (111, 110),
                 (110, 109), (92, 109)]  # fmt: skip
    right_hand = [(133, 132), (131, 130), (130, 113), (129, 128), (128, 127), (127, 126), (126, 113), (125, 124),
                  (124, 123), (123, 122), (122, 113), (121, 120), (120, 119), (119, 118), (118, 113), (117, 116),
                  (116, 115), (115, 114), (114, 113)]  # fmt: skip
    return tuple(body + jaw + brows + nose + right_eye + left_eye + mouth + left_hand + right_hand)


def _zero_based(limbs) -> tuple[np.ndarray, ...]:
    return tuple(np.array(limb) - 1 for limb in limbs)


@functools.lru_cache(maxsize=1)
def wholebody_colors() -> np.ndarray:
    """(133, 3) int: the official WholeBody colours (numpy's legacy generator seeded 777)."""
    return np.random.RandomState(777).choice(np.arange(0, 256, 1), 3 * 133).reshape(133, 3)


@functools.lru_cache(maxsize=2)
def skeleton_spec(style: str) -> tuple[np.ndarray, tuple[np.ndarray, ...], np.ndarray, int]:
    """(holistic table, limbs, colours, circle radius) of an official style; colour i is point i's and limb i's."""
    if style == "openpose18":
        limbs = _zero_based(_OPENPOSE_LIMBS_1[:OPENPOSE_DRAWN_LIMBS])
        return OPENPOSE18_TABLE, limbs, np.array(OPENPOSE_COLORS), OPENPOSE_RADIUS
    if style == "wholebody133":
        return WHOLEBODY133_TABLE, _zero_based(_wholebody_limbs_1()), wholebody_colors(), WHOLEBODY_RADIUS
    raise ValueError(f"unknown official pose style {style!r}")


def _color(c) -> tuple[int, int, int]:
    return (int(c[0]), int(c[1]), int(c[2]))


def draw_keypoints(points: np.ndarray, shown: np.ndarray, draw_size: tuple[int, int], style: str, stick_width: int) -> np.ndarray:
    """Keypoints (N, 2) in drawing pixels and their mask (N,) -> uint8 (H, W, 3) RGB at ``draw_size`` (W, H)."""
    _, limbs, colors, radius = skeleton_spec(style)
    width, height = draw_size
    canvas = np.zeros((height, width, 3), dtype=np.uint8)  # BGR, as the official code draws
    for i in np.flatnonzero(shown):
        x, y = points[i]
        cv2.circle(canvas, (int(x), int(y)), radius, _color(colors[i]), thickness=-1)
    for i, limb in enumerate(limbs):
        if not shown[limb].all():
            continue
        xs, ys = points[limb, 0], points[limb, 1]
        length = math.hypot(xs[0] - xs[1], ys[0] - ys[1])
        angle = math.degrees(math.atan2(ys[0] - ys[1], xs[0] - xs[1]))
        polygon = cv2.ellipse2Poly((int(np.mean(xs)), int(np.mean(ys))), (int(length / 2), stick_width), int(angle), 0, 360, 1)
        _blend_polygon(canvas, polygon, _color(colors[i]))
    return cv2.cvtColor(canvas, cv2.COLOR_BGR2RGB)


def _blend_polygon(canvas: np.ndarray, polygon: np.ndarray, color: tuple[int, int, int]) -> None:
    """canvas = addWeighted(canvas, 0.4, canvas with the filled polygon, 0.6), in place.

    Outside the polygon both terms are the same pixel and the sum rounds back to it, so the blend is
    done on the polygon's bounding box only (the same bytes as the whole-canvas blend, much faster).
    """
    height, width = canvas.shape[:2]
    x0, y0 = np.clip(polygon.min(axis=0), 0, [width, height])
    x1, y1 = np.clip(polygon.max(axis=0) + 1, 0, [width, height])
    if x0 >= x1 or y0 >= y1:
        return
    box = canvas[y0:y1, x0:x1]
    painted = box.copy()
    cv2.fillConvexPoly(painted, polygon - np.array([x0, y0], dtype=polygon.dtype), color)
    canvas[y0:y1, x0:x1] = cv2.addWeighted(box, 0.4, painted, 0.6, 0)


def render_official(xy: np.ndarray, visible: np.ndarray, canvas: tuple[int, int], style: str,
                    draw_size: tuple[int, int] | None, stick_width: int) -> np.ndarray:  # fmt: skip
    """Holistic canvas points (K, 2) and drawn mask (K,) -> uint8 (H, W, 3) RGB pose map on ``canvas`` (W, H)."""
    table = skeleton_spec(style)[0]
    points, shown = select_points(xy, visible, table)
    draw = tuple(draw_size) if draw_size else tuple(canvas)
    scale = np.array([draw[0] / canvas[0], draw[1] / canvas[1]])
    limit = 4.0 * max(draw)  # far outside the canvas: clipped, as the holistic style clips
    image = draw_keypoints(np.clip(points * scale - 0.5, -limit, limit + max(draw)), shown, draw, style, stick_width)
    if draw == tuple(canvas):
        return image
    return np.asarray(Image.fromarray(image).resize(tuple(canvas), Image.BICUBIC))
