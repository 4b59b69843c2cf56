"""Draw a cartoon signer from one holistic pose frame: ``render_signer(identity, pose, index, size)``.

Layers, back to front: background, long hair, torso in clothing (with its pattern), neck, head
(ears, face, eyes, brows, nose, mouth, hair), then both arms with their hands, the farther arm
first (by the wrist's z). Within a hand the palm and the five fingers are drawn by depth too, so
curled fingers sit in front of the palm or behind the back of the hand. Hands have an outline of
darker skin so that each finger stays distinct in front of the body or the face.

Missing points are not drawn: a frame without a hand shows the arm ending at the wrist, a frame
without elbows shows no arm. Hips that are missing (off-frame signers) are placed below the
shoulders, only to give the shirt a lower edge. The pose frame is fitted into the output size
keeping its aspect ratio (letterbox, centred).

Anti-aliasing comes from OpenCV's LINE_AA with sub-pixel fixed-point coordinates (see
:mod:`fpdm_video.data.synthetic_shapes`). Everything is deterministic: no randomness at drawing
time, all variety comes from the identity and the pose.
"""

from __future__ import annotations

import functools

import cv2
import numpy as np

from fpdm_video.data.synthetic_hand import FINGER_CHAINS, PALM_POINTS
from fpdm_video.data.synthetic_head import Head, draw_face, draw_hair_back, find_head
from fpdm_video.data.synthetic_identity import SignerIdentity
from fpdm_video.data.synthetic_shapes import (
    disc,
    ellipse,
    fill_polygon,
    capsules,
    fill_fixed,
    fixed,
    outlined_capsules,
    polyline,
    rotate90,
    shade,
    unit_vector,
)
from fpdm_video.errors import InputError
from fpdm_video.pose.sequence import BODY_POINTS, PoseSequence

HAND_START = {"left": 33, "right": 54}
FACE_START = 75
MIN_HAND_POINTS = 15  # draw a hand only when this many of its 21 points are present


def output_size(size: int | tuple[int, int]) -> tuple[int, int]:
    """(width, height) from a square side or a (width, height) pair; at least 16 pixels each."""
    if isinstance(size, (int, np.integer)) and not isinstance(size, bool):
        width = height = int(size)
    elif isinstance(size, (tuple, list)) and len(size) == 2 and all(isinstance(v, (int, np.integer)) for v in size):
        width, height = int(size[0]), int(size[1])
    else:
        raise InputError(f"size must be an integer side or a (width, height) pair of integers, got {size!r}")
    if width < 16 or height < 16 or width > 8192 or height > 8192:
        raise InputError(f"output size {width}x{height} is out of range; use 16 to 8192 pixels per side")
    return width, height


@functools.lru_cache(maxsize=32)
def background(identity: SignerIdentity, width: int, height: int) -> np.ndarray:
    """(height, width, 3) uint8 background of ``identity``: plain or a vertical gradient (read-only)."""
    t = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None]  # (H, 1)
    top = np.asarray(identity.background_top, dtype=np.float32)
    bottom = np.asarray(identity.background_bottom, dtype=np.float32)
    column = np.round((1.0 - t) * top + t * bottom).astype(np.uint8)  # (H, 3)
    out = np.ascontiguousarray(np.broadcast_to(column[:, None, :], (height, width, 3)))
    out.setflags(write=False)
    return out


def _fit(pose: PoseSequence, width: int, height: int) -> tuple[float, np.ndarray]:
    """Scale and offset that fit the pose's frame into the output, centred, aspect kept."""
    scale = min(width / pose.width, height / pose.height)
    offset = np.array([(width - pose.width * scale) / 2.0, (height - pose.height * scale) / 2.0])
    return scale, offset


def render_signer(identity: SignerIdentity, pose: PoseSequence, index: int, size: int | tuple[int, int]) -> np.ndarray:
    """Frame ``index`` of ``pose`` drawn as ``identity``: (H, W, 3) uint8 RGB.

    ``size`` is a square side or (width, height). ``pose`` is drawn as given; give it the
    identity's proportions first with :func:`~fpdm_video.data.synthetic_proportions.apply_proportions`
    (``render_clip`` does both).
    """
    width, height = output_size(size)
    if isinstance(index, bool) or not isinstance(index, (int, np.integer)) or not 0 <= index < pose.num_frames:
        raise InputError(f"frame index {index!r} is out of range for a pose of {pose.num_frames} frames")
    frame = pose.frames(index, index + 1).to_pixels().to_holistic()  # one frame: cheap for any layout
    scale, offset = _fit(frame, width, height)
    xy = frame.points[0, :, :2].astype(np.float64) * scale + offset  # (543, 2)
    z = frame.points[0, :, 2].astype(np.float64) * scale if frame.dims == 3 else np.zeros(len(xy))  # (543,)
    seen = frame.confidence[0] > 0  # (543,)
    img = background(identity, width, height).copy()
    draw_figure(img, identity, xy, z, seen)
    return img


def draw_figure(img: np.ndarray, identity: SignerIdentity, xy: np.ndarray, z: np.ndarray, seen: np.ndarray) -> None:
    """Draw the signer of one frame's canonical points (543, 2) onto ``img`` in place."""
    body = {name: xy[i] for i, name in enumerate(BODY_POINTS) if seen[i]}
    unit = _body_unit(body, img.shape[1], img.shape[0])
    face, face_seen = xy[FACE_START:], seen[FACE_START:]
    head = find_head(body, face, face_seen, unit)
    if head is not None and identity.hair_style == "long":
        draw_hair_back(img, head, identity)
    _draw_torso(img, identity, body, unit)
    if head is not None:
        _draw_neck(img, identity, head, body, unit)
        if identity.hair_style != "long":
            draw_hair_back(img, head, identity)
        draw_face(img, head, identity, body, face, face_seen)
    sides = []
    for side in ("left", "right"):
        wrist = BODY_POINTS.index(f"{side.upper()}_WRIST")
        hand = slice(HAND_START[side], HAND_START[side] + 21)
        depth = z[wrist] if seen[wrist] else float(np.mean(z[hand])) if seen[hand].any() else 0.0
        sides.append((-depth, side))
    for _, side in sorted(sides):  # the farther arm (larger z) first
        _draw_arm(img, identity, body, side, unit)
        hand = slice(HAND_START[side], HAND_START[side] + 21)
        if int(seen[hand].sum()) >= MIN_HAND_POINTS:
            draw_hand(img, identity.skin, xy[hand], z[hand], seen[hand])


def _body_unit(body: dict[str, np.ndarray], width: int, height: int) -> float:
    """Shoulder distance in pixels (the size of everything on the body), or a guess from the frame."""
    if "LEFT_SHOULDER" in body and "RIGHT_SHOULDER" in body:
        return max(2.0, float(np.hypot(*(body["LEFT_SHOULDER"] - body["RIGHT_SHOULDER"]))))
    return 0.42 * min(width, height)


def _outline_width(unit: float) -> float:
    return max(0.7, 0.012 * unit)


def torso_axes(ls: np.ndarray, rs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The torso's unit axes from the shoulders: towards the signer's left (image right), and down the body.

    The clothing pattern is a lattice on these axes, anchored at the shoulders' midpoint, with the
    shoulder distance as its unit, so it moves with the torso (``fpdm_video.pose.motion_field`` is
    tested against exactly this motion).
    """
    out = unit_vector(ls - rs, (1.0, 0.0))
    down = -rotate90(-out)  # perpendicular, pointing down the body
    return out, (down if down[1] >= 0 else -down)


def _draw_torso(img: np.ndarray, identity: SignerIdentity, body: dict[str, np.ndarray], unit: float) -> None:
    if "LEFT_SHOULDER" not in body or "RIGHT_SHOULDER" not in body:
        return
    ls, rs = body["LEFT_SHOULDER"], body["RIGHT_SHOULDER"]
    out, down = torso_axes(ls, rs)
    lh = body.get("LEFT_HIP", ls + down * 1.25 * unit - out * 0.15 * unit)
    rh = body.get("RIGHT_HIP", rs + down * 1.25 * unit + out * 0.15 * unit)
    r = 0.24 * unit  # shoulder roundness
    polygon = np.array(
        [
            ls - down * 0.55 * r - out * 0.2 * r,
            ls + out * 0.9 * r + down * 0.6 * r,
            lh + out * 0.45 * r + down * 1.5 * r,
            rh - out * 0.45 * r + down * 1.5 * r,
            rs - out * 0.9 * r + down * 0.6 * r,
            rs - down * 0.55 * r + out * 0.2 * r,
        ]
    )
    cloth = identity.clothing_colour
    line = shade(cloth, 0.6)
    width = _outline_width(unit)
    for p in (ls, rs):
        disc(img, p + down * 0.15 * r, r * 0.75 + width, line)
    polyline(img, polygon, line, 2 * width, closed=True)
    fill_polygon(img, polygon, cloth)
    for p in (ls, rs):
        disc(img, p + down * 0.15 * r, r * 0.75, cloth)
    if identity.clothing_pattern != "solid":
        _draw_pattern(img, identity, polygon, (ls + rs) / 2.0, out, down, unit)


def _draw_pattern(img, identity: SignerIdentity, polygon, anchor, out, down, unit) -> None:
    """Stripes or dots that move with the torso, clipped to the shirt polygon, anti-aliased.

    Coverage is computed per pixel from the distance to the nearest stripe centre line or dot
    centre of a lattice anchored at the shoulders' midpoint (``out`` and ``down`` axes).
    """
    h, w = img.shape[:2]
    x0, y0 = np.floor(polygon.min(axis=0)).astype(int)
    x1, y1 = np.ceil(polygon.max(axis=0)).astype(int)
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, w), min(y1, h)
    if x1 <= x0 or y1 <= y0:
        return
    region = img[y0:y1, x0:x1]  # view: blended in place
    ys, xs = np.mgrid[y0:y1, x0:x1].astype(np.float32)  # (h, w) pixel centres
    px, py = xs - anchor[0], ys - anchor[1]
    across = px * out[0] + py * out[1]  # (h, w) along the shoulder line
    along = px * down[0] + py * down[1]  # (h, w) down the body
    if identity.clothing_pattern == "stripes":
        step = 0.16 * unit
        phase = along / step - 0.3
        distance = np.abs(phase - np.round(phase)) * step
        coverage = np.clip(0.0275 * unit - distance + 0.5, 0.0, 1.0)
    else:
        step = 0.17 * unit
        row = np.round(along / step - 0.4)
        column = across / step - 0.5 * np.mod(row, 2.0)
        dx = (column - np.round(column)) * step
        dy = (along / step - 0.4 - row) * step
        coverage = np.clip(0.035 * unit - np.hypot(dx, dy) + 0.5, 0.0, 1.0)
    towards_centre = polygon.mean(axis=0) - polygon  # (n, 2)
    towards_centre /= np.maximum(np.linalg.norm(towards_centre, axis=1, keepdims=True), 1e-6)
    inner = polygon + towards_centre * _outline_width(unit) - np.array([x0, y0])  # keep the outline clear
    mask = np.zeros(region.shape[:2], dtype=np.uint8)
    fill_polygon(mask, inner, 255)
    alpha = (coverage * (mask.astype(np.float32) / 255.0))[..., None]  # (h, w, 1)
    colour = np.asarray(identity.pattern_colour, dtype=np.float32)
    region[:] = np.round(colour * alpha + region * (1.0 - alpha)).astype(np.uint8)


def _draw_neck(img, identity: SignerIdentity, head: Head, body: dict[str, np.ndarray], unit: float) -> None:
    if "LEFT_SHOULDER" not in body or "RIGHT_SHOULDER" not in body:
        return
    mid = (body["LEFT_SHOULDER"] + body["RIGHT_SHOULDER"]) / 2.0
    half = 0.5 * head.half_width
    top = head.at(0.0, -0.4)
    bottom = mid - head.up * 0.06 * unit
    skin, line = identity.skin, shade(identity.skin, 0.62)
    across = head.side * half
    neck = np.array([top - across, top + across, bottom + across * 1.05, bottom - across * 1.05])
    polyline(img, neck, line, 2 * _outline_width(unit), closed=True)
    fill_polygon(img, neck, shade(skin, 0.9))
    collar = (half * 1.3, half * 0.75)  # a round neckline: the lower half of an ellipse
    grow = _outline_width(unit)
    ellipse(img, bottom, (collar[0] + grow, collar[1] + grow), head.angle, shade(identity.clothing_colour, 0.6), (0.0, 180.0))
    ellipse(img, bottom, collar, head.angle, shade(skin, 0.9), (0.0, 180.0))


def _draw_arm(img, identity: SignerIdentity, body: dict[str, np.ndarray], side: str, unit: float) -> None:
    """Upper arm and forearm in sleeve or skin, ending at the wrist."""
    up = side.upper()
    s, e, w = body.get(f"{up}_SHOULDER"), body.get(f"{up}_ELBOW"), body.get(f"{up}_WRIST")
    width = _outline_width(unit)
    skin, cloth = identity.skin, identity.clothing_colour
    radii = np.array([0.115, 0.095, 0.07]) * unit
    if s is not None and e is not None:
        if identity.sleeves == "short":
            outlined_capsules(img, np.array([s, e]), radii[:2], skin, shade(skin, 0.62), width)
            cuff = s + 0.65 * (e - s)
            outlined_capsules(img, np.array([s, cuff]), radii[:2] * 1.1, cloth, shade(cloth, 0.6), width)
        else:
            outlined_capsules(img, np.array([s, e]), radii[:2], cloth, shade(cloth, 0.6), width)
    if e is not None and w is not None:
        colour = skin if identity.sleeves == "short" else cloth
        outline = shade(colour, 0.62 if colour == skin else 0.6)
        outlined_capsules(img, np.array([e, w]), radii[1:], colour, outline, width)
        if identity.sleeves == "long":
            cuff = e + 0.88 * (w - e)
            outlined_capsules(img, np.array([cuff, w]), radii[1:] * 1.08, shade(cloth, 0.85), outline, width)


def draw_hand(img: np.ndarray, skin, xy: np.ndarray, z: np.ndarray, seen: np.ndarray) -> None:
    """A hand from its 21 points (21, 2): palm and five jointed, tapering fingers, by depth."""
    palm_len = float(np.hypot(*(xy[9] - xy[0]))) if seen[0] and seen[9] else 0.0
    if palm_len < 1e-3:
        spread = xy[seen]
        palm_len = 0.5 * float(np.hypot(*(spread.max(axis=0) - spread.min(axis=0))))
    line = shade(skin, 0.55)
    width = max(0.6, 0.06 * palm_len)
    parts = []  # (depth, segment range or None for the palm, point indices)
    palm = [i for i in PALM_POINTS if seen[i]]
    if len(palm) >= 3:
        parts.append((float(np.mean(z[palm])), None, palm))
    starts, ends, radii = [], [], []  # every finger segment of the hand, computed in one go
    for f, chain in enumerate(FINGER_CHAINS):
        idx = [i for i in chain if seen[i]]
        if len(idx) >= 2:
            r = palm_len * np.linspace(0.2 if f == 0 else 0.17, 0.11, len(idx))
            first = len(starts)
            starts += idx[:-1]
            ends += idx[1:]
            radii += list(zip(r[:-1], r[1:]))
            parts.append((float(np.mean(z[idx[1:]])), slice(first, len(starts)), idx))
    if starts:
        ra, rb = np.array(radii).T  # (n,) each
        fills = fixed(capsules(xy[starts], xy[ends], ra, rb))  # (n, m, 2)
        lines = fixed(capsules(xy[starts], xy[ends], ra + width, rb + width))
    for _, segments, idx in sorted(parts, key=lambda p: -p[0]):  # farther first (larger z)
        if segments is None:
            hull = cv2.convexHull(xy[idx].astype(np.float32)).reshape(-1, 2).astype(np.float64)
            r = 0.14 * palm_len
            polyline(img, hull, line, 2 * (r + width), closed=True)
            fill_polygon(img, hull, line)
            polyline(img, hull, skin, 2 * r, closed=True)
            fill_polygon(img, hull, skin)
        else:
            fill_fixed(img, lines[segments], line)
            fill_fixed(img, fills[segments], skin)
