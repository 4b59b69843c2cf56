"""Read a video file or a frame folder as uint8 RGB frames with their real timing.

Video files are decoded with decord (exact random access) and, where decord fails to open or
decode a file, with PyAV; both give the same pixels (both convert with FFmpeg's swscale). Frame
folders (PHOENIX: ``images0001.png`` ...) are read with Pillow at a frame rate the caller gives,
25 fps by default. :func:`iter_video_chunks` keeps only ``chunk_size`` frames in memory at a time;
:func:`read_video` fills one array from its chunks.
"""

from __future__ import annotations

import logging
import numbers
import os
from collections.abc import Iterator
from typing import Literal

import numpy as np

from fpdm_video.errors import VideoReadError
from fpdm_video.video.frames_dir import iter_frame_folder_chunks
from fpdm_video.video.probe import probe
from fpdm_video.video.reader_decord import DecordFailure, iter_chunks_decord
from fpdm_video.video.reader_pyav import iter_chunks_pyav
from fpdm_video.video.types import PHOENIX_FPS, Clip, VideoInfo, check_frame_range

logger = logging.getLogger(__name__)

Backend = Literal["auto", "decord", "pyav"]
BACKENDS: tuple[str, ...] = ("auto", "decord", "pyav")


def _iter_file_chunks(info: VideoInfo, start: int, end: int, chunk_size: int, backend: Backend) -> Iterator[Clip]:
    """Chunks of a video file: decord first (unless ``backend='pyav'``), PyAV from where it failed."""
    if backend == "pyav":
        yield from iter_chunks_pyav(info, start, end, chunk_size)
        return
    resume = start
    try:
        for clip in iter_chunks_decord(info, start, end, chunk_size):
            yield clip
            resume = clip.end_index
        return
    except DecordFailure as exc:
        if backend == "decord":
            raise VideoReadError(
                f"decord cannot read {info.path} ({exc}); the file may be truncated or corrupt, or just "
                "not supported by decord: try backend='pyav'"
            ) from None
        logger.warning("decord failed on %s (%s); decoding frames %d.. with PyAV", info.path, exc, resume)
    yield from iter_chunks_pyav(info, resume, end, chunk_size)


def _iter_chunks(info: VideoInfo, start: int, end: int, chunk_size: int, backend: Backend) -> Iterator[Clip]:
    """Chunks of a probed file or folder, for an already checked frame range."""
    if backend not in BACKENDS:
        raise VideoReadError(f"unknown video backend {backend!r}; use one of {', '.join(BACKENDS)}")
    if info.is_frame_folder:
        return iter_frame_folder_chunks(info, start, end, chunk_size)
    return _iter_file_chunks(info, start, end, chunk_size, backend)


def iter_video_chunks(
    path: str | os.PathLike,
    chunk_size: int = 16,
    start: int = 0,
    end: int | None = None,
    *,
    backend: Backend = "auto",
    folder_fps: float = PHOENIX_FPS,
) -> Iterator[Clip]:
    """Yield frames ``[start, end)`` of a video file or frame folder, ``chunk_size`` at a time.

    Every clip holds (t, H, W, 3) uint8 RGB frames, t = ``chunk_size`` except maybe the last, with
    their presentation times in seconds and their index in the whole video. ``backend`` picks the
    decoder of video files ("auto": decord, PyAV where decord fails); ``folder_fps`` is the frame
    rate of a frame folder (timestamps ``i / folder_fps``). The arguments are checked before the
    first clip is yielded.
    """
    if not (isinstance(chunk_size, numbers.Integral) and chunk_size >= 1):
        raise VideoReadError(f"chunk_size must be a positive integer, got {chunk_size!r}")
    info = probe(path, folder_fps=folder_fps)
    start, end = check_frame_range(info, start, end)
    return _iter_chunks(info, start, end, chunk_size, backend)


def read_video(
    path: str | os.PathLike,
    start: int = 0,
    end: int | None = None,
    *,
    backend: Backend = "auto",
    folder_fps: float = PHOENIX_FPS,
) -> Clip:
    """Frames ``[start, end)`` of a video file or frame folder, all in memory at once.

    See :func:`iter_video_chunks` for the arguments; prefer it for long videos.
    """
    info = probe(path, folder_fps=folder_fps)
    start, end = check_frame_range(info, start, end)
    frames = np.empty((end - start, info.height, info.width, 3), dtype=np.uint8)  # (T, H, W, 3)
    timestamps = np.empty(end - start, dtype=np.float64)  # (T,)
    for clip in _iter_chunks(info, start, end, 16, backend):
        frames[clip.start_index - start : clip.end_index - start] = clip.frames
        timestamps[clip.start_index - start : clip.end_index - start] = clip.timestamps
    return Clip(frames=frames, fps=info.fps, timestamps=timestamps, start_index=start)
