"""The two value types of video I/O: :class:`VideoInfo` (what a probe learns) and :class:`Clip`
(decoded frames with their timing), and the check of a frame range against a video."""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from fpdm_video.errors import VideoReadError

PHOENIX_FPS = 25.0  # frame rate of RWTH-PHOENIX-Weather 2014(T); the default for frame folders


@dataclass
class VideoInfo:
    """Facts about a video file or frame folder, learnt without decoding every frame."""

    path: Path  # the file or folder that was probed
    num_frames: int  # exact frame count (container index or packets; files in a folder)
    width: int  # frame width in pixels
    height: int  # frame height in pixels
    fps: float  # average frame rate: frames / duration (so also meaningful for VFR)
    codec: str  # codec name, e.g. "h264"; "png" or "jpeg" for frame folders
    duration: float  # seconds from the first frame's start to the last frame's end
    is_frame_folder: bool  # True for a folder of PNG/JPEG frames


@dataclass
class Clip:
    """Consecutive decoded frames of one video."""

    frames: np.ndarray  # (T, H, W, 3) uint8 RGB
    fps: float  # average frame rate of the whole video
    timestamps: np.ndarray  # (T,) float64 seconds: real presentation times (VFR kept)
    start_index: int = 0  # index of frames[0] in the whole video

    def __len__(self) -> int:
        return int(self.frames.shape[0])

    @property
    def end_index(self) -> int:
        """Index one past the last frame of this clip in the whole video."""
        return self.start_index + len(self)


def check_frame_range(info: VideoInfo, start: int, end: int | None) -> tuple[int, int]:
    """Validate a ``[start, end)`` frame range against ``info``; return it with ``end`` filled in."""
    if not isinstance(start, numbers.Integral) or not isinstance(end, (numbers.Integral, type(None))):
        raise VideoReadError(f"start and end must be frame indices (integers), got {start!r} and {end!r}")
    end = info.num_frames if end is None else end
    if not (0 <= start < info.num_frames):
        raise VideoReadError(
            f"start={start} is outside {info.path}, which has {info.num_frames} frames; "
            f"use 0 <= start < {info.num_frames}"
        )
    if not (start < end <= info.num_frames):
        raise VideoReadError(
            f"end={end} is invalid for {info.path} (start={start}, {info.num_frames} frames); "
            f"use start < end <= {info.num_frames}, or end=None for the last frame"
        )
    return start, end
