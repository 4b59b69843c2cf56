"""Probe a video file or frame folder: frame count, size, frame rate, codec, without decoding.

The frame count is exact. For MP4/MOV it comes from the container's sample index; containers
without one (Matroska, WebM) have their packets counted, which reads the file but decodes
nothing. The frame rate is the average one (frames / duration), which is also meaningful for
variable-frame-rate files.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import av

from fpdm_video.errors import VideoReadError
from fpdm_video.video.frames_dir import probe_frame_folder
from fpdm_video.video.types import PHOENIX_FPS, VideoInfo

_NOT_A_VIDEO_HINT = "give a video file (mp4, mov, mkv, avi, webm) or a folder of PNG/JPEG frames"


def check_exists(path: str | os.PathLike) -> Path:
    """``path`` as a Path; raises :class:`VideoReadError` if nothing is there."""
    path = Path(path)
    if not path.exists():
        raise VideoReadError(f"video not found: {path}; check the path ({_NOT_A_VIDEO_HINT})")
    return path


def _decoder_reason(exc: Exception) -> str:
    """FFmpeg's reason in words, without its error number or the path (``[Errno 1094995529] ...: 'x.txt'``)."""
    reason = getattr(exc, "strerror", None) if isinstance(exc, av.error.FFmpegError) else None
    reason = reason or "its metadata cannot be decoded as text"
    return reason[:1].lower() + reason[1:]


@contextlib.contextmanager
def open_input(path: Path) -> Iterator[av.container.InputContainer]:
    """Open ``path`` with PyAV, turning FFmpeg's open errors into :class:`VideoReadError`."""
    try:
        container = av.open(str(path), mode="r")
    except av.error.PermissionError:
        raise VideoReadError(f"no permission to read {path}; check the file's permissions") from None
    except (av.error.FFmpegError, UnicodeDecodeError) as exc:
        raise VideoReadError(
            f"{path} cannot be opened as a video: it is not a file the video decoder can read ({_decoder_reason(exc)}); "
            f"it may be truncated, corrupt or not a video at all: {_NOT_A_VIDEO_HINT}"
        ) from None
    try:
        yield container
    finally:
        container.close()


def video_stream(container: av.container.InputContainer, path: Path) -> av.video.stream.VideoStream:
    """The first video stream of ``container``; raises if it has none."""
    if not container.streams.video:
        raise VideoReadError(f"{path} has no video stream (no frames to read); {_NOT_A_VIDEO_HINT}")
    return container.streams.video[0]


def count_packets(container: av.container.InputContainer, stream: av.video.stream.VideoStream) -> int:
    """Number of non-empty packets of ``stream``: its frame count, found without decoding."""
    return sum(1 for packet in container.demux(stream) if packet.size > 0)


def _probe_file(path: Path) -> VideoInfo:
    with open_input(path) as container:
        stream = video_stream(container, path)
        codec = stream.codec_context.name
        width, height = stream.codec_context.width, stream.codec_context.height
        if stream.duration is not None and stream.time_base is not None:
            duration = float(stream.duration * stream.time_base)
        elif container.duration is not None:
            duration = container.duration / av.time_base
        else:
            duration = 0.0
        rate = stream.average_rate or stream.guessed_rate
        try:
            num_frames = stream.frames or count_packets(container, stream)
        except av.error.FFmpegError as exc:
            raise VideoReadError(f"{path} is corrupt: its packets cannot be read ({exc})") from None
    if num_frames == 0 or width == 0 or height == 0:
        raise VideoReadError(f"{path} has a video stream but zero frames; {_NOT_A_VIDEO_HINT}")
    if duration > 0:
        fps = num_frames / duration
    elif rate:
        fps, duration = float(rate), num_frames / float(rate)
    else:
        raise VideoReadError(f"{path} has neither a duration nor a frame rate; re-encode it")
    return VideoInfo(
        path=path,
        num_frames=int(num_frames),
        width=int(width),
        height=int(height),
        fps=float(fps),
        codec=codec,
        duration=duration,
        is_frame_folder=False,
    )


def probe(path: str | os.PathLike, *, folder_fps: float = PHOENIX_FPS) -> VideoInfo:
    """Facts about the video file or frame folder at ``path``, without decoding its frames.

    ``folder_fps`` is the frame rate given to a frame folder (which has none of its own); it is
    ignored for video files.
    """
    path = check_exists(path)
    if path.is_dir():
        return probe_frame_folder(path, folder_fps)
    return _probe_file(path)
