"""Decode a video file with PyAV, in chunks of frames, keeping each frame's presentation time.

PyAV opens everything FFmpeg opens, so it is the fallback when decord fails. It decodes
sequentially: reaching frame ``start`` means decoding (and dropping) the frames before it, which
is exact for any file, also variable-frame-rate ones, where seeking by time is not.
"""

from __future__ import annotations

from collections.abc import Iterator

import av
import numpy as np

from fpdm_video.errors import VideoReadError
from fpdm_video.video.probe import open_input, video_stream
from fpdm_video.video.types import Clip, VideoInfo


def _chunk(frames: list[np.ndarray], timestamps: list[float], info: VideoInfo, first: int) -> Clip:
    return Clip(
        frames=np.stack(frames),  # (t, H, W, 3)
        fps=info.fps,
        timestamps=np.asarray(timestamps, dtype=np.float64),  # (t,)
        start_index=first,
    )


def iter_chunks_pyav(info: VideoInfo, start: int, end: int, chunk_size: int) -> Iterator[Clip]:
    """Yield frames ``[start, end)`` of the probed file ``info.path``, ``chunk_size`` at a time.

    Timestamps are ``pts * time_base`` of each decoded frame. A file that yields fewer frames
    than its index lists, or whose data cannot be decoded, raises :class:`VideoReadError`.
    """
    path = info.path
    frames: list[np.ndarray] = []
    timestamps: list[float] = []
    first = start
    index = 0  # index of the next decoded frame in the whole video
    with open_input(path) as container:
        stream = video_stream(container, path)
        time_base = stream.time_base
        try:
            for frame in container.decode(stream):
                if index >= end:
                    break
                if index >= start:
                    if (frame.width, frame.height) != (info.width, info.height):
                        raise VideoReadError(
                            f"{path} changes frame size at frame {index} ({frame.width}x{frame.height}, "
                            f"was {info.width}x{info.height}); re-encode it at one size"
                        )
                    frames.append(frame.to_ndarray(format="rgb24"))  # (H, W, 3)
                    pts_known = frame.pts is not None and time_base is not None
                    timestamps.append(float(frame.pts * time_base) if pts_known else index / info.fps)
                    if len(frames) == chunk_size:
                        yield _chunk(frames, timestamps, info, first)
                        first, frames, timestamps = first + chunk_size, [], []
                index += 1
        except av.error.FFmpegError as exc:
            raise VideoReadError(
                f"{path} is corrupt or truncated: decoding failed at frame {index} of {info.num_frames} "
                f"({exc}); re-encode or replace the file"
            ) from None
    if index < end:
        raise VideoReadError(
            f"{path} is truncated: its index lists {info.num_frames} frames but only {index} could be "
            "decoded; re-encode or replace the file"
        )
    if frames:
        yield _chunk(frames, timestamps, info, first)
