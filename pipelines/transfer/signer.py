"""The reference photo, fitted to the output frame.

Everything of a run lives in the output frame's pixel coordinates (the input video's size, or the
pose file's). The photo is cropped to the largest window of the output's aspect ratio, centred on
the person's mid-shoulder point (clamped inside the photo), and resized to the output size; its
pose is mapped the same way. The model then sees the fitted photo letterboxed like every frame.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from fpdm_video.errors import PoseError
from fpdm_video.pose.extract import extract_image_pose, load_rgb_image
from fpdm_video.pose.sequence import PoseSequence

logger = logging.getLogger(__name__)

LEFT_SHOULDER, RIGHT_SHOULDER = 11, 12  # MediaPipe body indices


@dataclass
class FittedSigner:
    """The reference signer at the output size."""

    image: np.ndarray  # (H, W, 3) uint8, the cropped and resized photo
    pose: PoseSequence  # one frame, in the output frame's pixels
    crop: tuple[int, int, int, int]  # (x0, y0, x1, y1) of the window in the photo's pixels
    missing: list[str]  # holistic parts not found on the photo (e.g. a hand)


def crop_window(photo_w: int, photo_h: int, out_w: int, out_h: int, centre: tuple[float, float]) -> tuple[int, int, int, int]:
    """The largest ``out_w:out_h`` window inside the photo, centred on ``centre`` where it fits."""
    aspect = out_w / out_h
    if photo_w / photo_h > aspect:
        ch = photo_h
        cw = min(photo_w, max(1, round(photo_h * aspect)))
    else:
        cw = photo_w
        ch = min(photo_h, max(1, round(photo_w / aspect)))
    x0 = int(np.clip(round(centre[0] - cw / 2), 0, photo_w - cw))
    y0 = int(np.clip(round(centre[1] - ch / 2), 0, photo_h - ch))
    return x0, y0, x0 + cw, y0 + ch


def fit_signer(photo: np.ndarray, pose: PoseSequence, width: int, height: int) -> FittedSigner:
    """Crop ``photo`` (H, W, 3) uint8 with its one-frame ``pose`` to the output size ``width`` x ``height``."""
    pose = pose.to_pixels()
    ph, pw = photo.shape[:2]
    shoulders = pose.points[0, [LEFT_SHOULDER, RIGHT_SHOULDER], :2]
    centre = tuple(shoulders.mean(axis=0)) if (pose.confidence[0, [LEFT_SHOULDER, RIGHT_SHOULDER]] > 0).all() else (pw / 2, ph / 2)
    x0, y0, x1, y1 = crop_window(pw, ph, width, height, centre)
    image = np.asarray(Image.fromarray(photo[y0:y1, x0:x1]).resize((width, height), Image.LANCZOS))
    scale = np.array([width / (x1 - x0), height / (y1 - y0)], dtype=np.float32)
    points = pose.points.copy()
    points[..., :2] = (points[..., :2] - np.array([x0, y0], dtype=np.float32)) * scale
    if points.shape[-1] == 3:
        points[..., 2] *= scale[0]
    fitted = PoseSequence(points=points, confidence=pose.confidence.copy(), fps=pose.fps, width=width, height=height,
                          components=pose.components)  # fmt: skip
    missing = [c.name for c in pose.components if not pose.present(c.name)[0]]
    return FittedSigner(image=image, pose=fitted, crop=(x0, y0, x1, y1), missing=missing)


def load_signer(path: str | os.PathLike, width: int, height: int) -> FittedSigner:
    """Read the reference photo, find its pose (exit 2 when no person is found) and fit both to the output."""
    photo = load_rgb_image(Path(path))
    try:
        pose = extract_image_pose(photo)
    except PoseError:
        raise PoseError(f"no person was found in the reference photo {path}; use a photo that shows the "
                        "person's upper body") from None  # fmt: skip
    fitted = fit_signer(photo, pose, width, height)
    hands = [m for m in fitted.missing if m.endswith("hand")]
    if hands:
        logger.warning("the reference photo shows no %s; going on, but the output's hands will be guessed",
                       " and no ".join(h.replace("_", " ") for h in hands))  # fmt: skip
    return fitted
