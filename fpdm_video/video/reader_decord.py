"""Decode a video file with decord, in chunks of frames, with exact random access.

decord cannot open some files and reports problems with several unrelated exception types, so
every failure here is turned into :class:`DecordFailure`, which the reader answers by switching to
PyAV. A frame count that disagrees with the container index is treated as a failure too.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from fpdm_video.video.types import Clip, VideoInfo


class DecordFailure(Exception):
    """decord could not open or decode a file (internal: the reader falls back to PyAV)."""


def _open(info: VideoInfo) -> Any:
    try:
        import decord
    except ImportError as exc:  # decord has no wheels for some platforms
        raise DecordFailure(f"decord is not installed ({exc})") from None
    try:
        reader = decord.VideoReader(str(info.path), ctx=decord.cpu(0), num_threads=0)
    except Exception as exc:  # decord raises RuntimeError, DECORDError, ... for unreadable files
        raise DecordFailure(f"decord cannot open the file ({exc})") from None
    if len(reader) != info.num_frames:
        raise DecordFailure(f"decord counts {len(reader)} frames, the container index {info.num_frames}")
    return reader


def _as_numpy(batch: Any) -> np.ndarray:
    """decord's batch as numpy, whatever decord.bridge the caller has set."""
    return np.asarray(batch.asnumpy() if hasattr(batch, "asnumpy") else batch)


def iter_chunks_decord(info: VideoInfo, start: int, end: int, chunk_size: int) -> Iterator[Clip]:
    """Yield frames ``[start, end)`` of the probed file ``info.path``, ``chunk_size`` at a time.

    Timestamps are decord's frame start times (from the stream's pts, float32 inside decord).
    """
    reader = _open(info)
    for first in range(start, end, chunk_size):
        indices = list(range(first, min(first + chunk_size, end)))
        try:
            frames = _as_numpy(reader.get_batch(indices))  # (t, H, W, 3)
            times = _as_numpy(reader.get_frame_timestamp(indices))  # (t, 2): start, end seconds
        except Exception as exc:  # decord's decode errors have no common type
            raise DecordFailure(f"decord failed at frame {first} ({exc})") from None
        if frames.shape[1:] != (info.height, info.width, 3) or frames.dtype != np.uint8:
            raise DecordFailure(f"decord returned frames of shape {frames.shape} and dtype {frames.dtype}")
        yield Clip(
            frames=frames,
            fps=info.fps,
            timestamps=times[:, 0].astype(np.float64),  # (t,)
            start_index=first,
        )
