"""Regions of a synthetic signer's frames: where the clothing is, and how it moves, for measures that look inside it."""

from __future__ import annotations

from dataclasses import replace

import cv2
import numpy as np

from fpdm_video.data.synthetic_draw import render_signer, torso_axes
from fpdm_video.data.synthetic_identity import SignerIdentity
from fpdm_video.pose import PoseSequence
from fpdm_video.pose.sequence import BODY_POINTS
from fpdm_video.pose.skeleton import OFFSETS

MARK = (255, 0, 255)  # the clothing's colour in the marker drawing
OTHER = (0, 255, 0)  # every other colour of the marker drawing (skin, hair, background), unlike MARK
B = {name: i for i, name in enumerate(BODY_POINTS)}


def clothing_masks(identity: SignerIdentity, posed: PoseSequence, size: int | tuple[int, int], frames: list[int]) -> np.ndarray:
    """(T, H, W) bool: the pixels of ``frames`` of ``posed`` (already in the identity's proportions) covered by clothing.

    The signer is drawn again with the shirt and sleeves in one marker colour and no pattern; the mask
    is where that colour is drawn exactly (outlines and anti-aliased edges are left out).
    """
    marker = replace(identity, clothing_colour=MARK, clothing_pattern="solid", skin=OTHER, hair_colour=OTHER,
                     background_top=OTHER, background_bottom=OTHER)  # fmt: skip
    return np.stack([(render_signer(marker, posed, i, size) == np.asarray(MARK, dtype=np.uint8)).all(axis=-1) for i in frames])


def drawn_motion(before: np.ndarray, after: np.ndarray, height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """(2, H, W) the motion (dx, dy) in pixels the drawing gives its shirt and sleeves from pose ``before`` to ``after``
    ((K, 2) holistic points in the frame's pixels), and (H, W) bool: the pixels where it is unambiguous.

    The shirt's pattern is a lattice on the shoulders' axes (``torso_axes``) in shoulder widths; a sleeve is a
    capsule round its bone (``synthetic_draw._draw_arm``), so a point keeps its fraction along the bone and its offset from it, turned with the
    bone (its radius is in shoulder widths). A pixel counts when exactly one of these parts covers it and no hand is near.
    """
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float64) + 0.5
    p = np.stack([xs, ys], axis=-1)  # (H, W, 2)
    axes = []
    for xy in (before, after):
        ls, rs = xy[B["LEFT_SHOULDER"]].astype(np.float64), xy[B["RIGHT_SHOULDER"]].astype(np.float64)
        axes.append(((ls + rs) / 2, *torso_axes(ls, rs), max(2.0, float(np.hypot(*(ls - rs))))))
    (anchor, out, down, unit), (anchor1, out1, down1, unit1) = axes
    moves, covers, near = [], [], []
    # the shirt, shoulders to hips, shrunk by two pixels
    across, along = ((p - anchor) @ out) / unit, ((p - anchor) @ down) / unit
    moves.append(anchor1 + unit1 * (across[..., None] * out1 + along[..., None] * down1) - p)
    quad = before[[B["LEFT_SHOULDER"], B["RIGHT_SHOULDER"], B["RIGHT_HIP"], B["LEFT_HIP"]]]
    inside = np.zeros((height, width), np.uint8)
    cv2.fillConvexPoly(inside, np.round(quad).astype(np.int32), 1)
    covers.append(cv2.erode(inside, np.ones((5, 5), np.uint8)).astype(bool))
    # the sleeves: upper arms and forearms, inside 0.8 of the drawn radius
    for side in ("LEFT", "RIGHT"):
        for (a, b), radius in ((("SHOULDER", "ELBOW"), 0.115), (("ELBOW", "WRIST"), 0.07)):
            s0, e0 = before[B[f"{side}_{a}"]].astype(np.float64), before[B[f"{side}_{b}"]].astype(np.float64)
            s1, e1 = after[B[f"{side}_{a}"]].astype(np.float64), after[B[f"{side}_{b}"]].astype(np.float64)
            bone, bone1 = e0 - s0, e1 - s1
            u = np.clip(((p - s0) @ bone) / max(float(bone @ bone), 1e-9), 0.0, 1.0)  # (H, W) along the bone
            offset = p - (s0 + u[..., None] * bone)  # (H, W, 2) from the nearest bone point: turns with the bone
            turn = np.arctan2(bone1[1], bone1[0]) - np.arctan2(bone[1], bone[0])
            rot = np.array([[np.cos(turn), -np.sin(turn)], [np.sin(turn), np.cos(turn)]]) * (unit1 / unit)
            moves.append(s1 + u[..., None] * bone1 + offset @ rot.T - p)
            distance = np.linalg.norm(offset, axis=-1)
            covers.append(distance < 0.8 * radius * unit)
            near.append(distance < (radius + 0.1) * unit)  # the drawn sleeve and a margin round it
    hands = np.full((height, width), 255, np.uint8)
    for side in ("left", "right"):
        for q in np.round(before[OFFSETS[f"{side}_hand"] : OFFSETS[f"{side}_hand"] + 21]).astype(int):
            cv2.circle(hands, tuple(q), 0, 0, -1)
    clear = cv2.distanceTransform(hands, cv2.DIST_L2, 5) > 0.3 * unit
    # a shirt pixel counts away from every sleeve (they lie in front of it), a sleeve pixel away from the other three
    near = np.stack(near)  # (sleeves, H, W)
    sole = [covers[0] & ~near.any(axis=0)]
    sole += [covers[1 + k] & ~np.delete(near, k, axis=0).any(axis=0) for k in range(len(near))]
    sole = np.any(sole, axis=0) & clear
    truth = np.zeros((height, width, 2))
    for move, cover in zip(moves, covers, strict=True):
        truth[cover] = move[cover]
    return truth.transpose(2, 0, 1), sole
