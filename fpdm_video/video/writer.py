"""Encode uint8 RGB frames as an H.264 video with PyAV: streaming, 1:1 with the frames, atomic.

Choices, and why:

- **Lossy (default)**: libx264 at constant quality ``crf`` (18 is near-transparent). Frames of
  even width and height are stored as yuv420p (High profile, plays everywhere).
- **Odd sizes** (a 211x261 crop, say) are stored as **yuv444p**, not padded. 4:2:0 chroma needs
  even sizes, and H.264's crop field only crops in 2-pixel steps there, so padding to even would
  hand every reader (ours, decord, ffmpeg, players) a frame one pixel larger than what was written,
  unless it also knew a private crop record. With yuv444p every decoder returns exactly 211x261
  (and keeps full colour resolution). The cost: the stream is H.264 High 4:4:4 Predictive, which
  some players (browsers, QuickTime) cannot play; a warning says so. PHOENIX (210x260) and common
  camera sizes are even and unaffected.
- **Lossless** (``lossless=True``): libx264rgb at CRF 0 on rgb24, a bit-exact round trip of the RGB
  frames (also High 4:4:4, so for storage and tests more than for viewing). Any size works.
- **Colour**: RGB -> YUV uses FFmpeg's default BT.601 limited-range matrix and the stream is tagged
  so, which is what decoders (PyAV, decord, players) assume back.
- **Timing**: without ``timestamps`` the video is constant-rate at ``fps`` (time base 1/fps, frame
  ``i`` at ``i / fps``). With ``timestamps`` (seconds, one per frame, strictly increasing) each
  frame keeps its own time on a 1/90000 s time base, so variable-frame-rate sources keep their
  timing; the times are shifted so that the first frame is at 0. Either way frames are written 1:1,
  none dropped or duplicated.
- **Atomic**: the file is written under a temporary name beside the target and renamed when the
  writer closes without error; on an exception or Ctrl-C the temporary file is removed and nothing
  appears under the final name. A full disk, wherever FFmpeg meets it (the header, a packet, the
  trailer the container writes as it closes), is the atomic layer's one-line error that names the
  target (:func:`fpdm_video.atomic.no_room_error`). The writer opens the file itself and hands
  FFmpeg the open file (unbuffered, so that a write error comes back at once as Python's own
  ``OSError``): PyAV 18 never closes a file it opened itself when writing the header fails, which
  kept a deleted file's space taken, and its descriptor open, for as long as the process ran.
"""

from __future__ import annotations

import contextlib
import logging
import numbers
import os
from collections.abc import Iterable, Sequence
from typing import BinaryIO
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from fpdm_video.atomic import atomic_path, is_no_room
from fpdm_video.errors import InputError, VideoWriteError
from fpdm_video.temp_names import final_path

logger = logging.getLogger(__name__)

VIDEO_SUFFIXES = frozenset({".mp4", ".mov", ".m4v", ".mkv"})  # containers that take H.264 here
X264_PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow")
VFR_TIME_BASE = Fraction(1, 90000)  # time base for explicit timestamps (the MPEG clock)
_BT601 = 6  # AVCOL_PRI/TRC/SPC_SMPTE170M: the matrix swscale uses by default
_MPEG_RANGE = 1  # AVCOL_RANGE_MPEG: limited (16-235) range


def as_frame_batch(frames: np.ndarray, what: str = "frames") -> np.ndarray:
    """``frames`` as (T, H, W, 3) uint8; a single (H, W, 3) frame becomes T = 1."""
    frames = np.asarray(frames)
    if frames.dtype != np.uint8:
        raise VideoWriteError(
            f"{what} must be uint8 RGB, got dtype {frames.dtype}; convert floats in [0, 1] with "
            "(x * 255).round().clip(0, 255).astype(np.uint8)"
        )
    if frames.ndim == 3:
        frames = frames[None]  # (1, H, W, 3)
    if frames.ndim != 4 or frames.shape[-1] != 3 or 0 in frames.shape[1:3]:
        raise VideoWriteError(f"{what} must have shape (H, W, 3) or (T, H, W, 3), got {frames.shape}")
    return frames


def check_timestamps(timestamps: Sequence[float] | np.ndarray) -> np.ndarray:
    """``timestamps`` as (T,) float64 seconds; raises unless finite and strictly increasing."""
    times = np.asarray(timestamps, dtype=np.float64)
    if times.ndim != 1 or times.size == 0:
        raise VideoWriteError(f"timestamps must be a non-empty 1-D sequence of seconds, got shape {times.shape}")
    if not np.all(np.isfinite(times)) or np.any(np.diff(times) <= 0):
        raise VideoWriteError("timestamps must be finite and strictly increasing (one per frame, in seconds)")
    return times


def _stream_rate(fps: float) -> Fraction:
    """``fps`` as a fraction; 29.97 -> 30000/1001, 359/12 stays 359/12."""
    if not (isinstance(fps, numbers.Real) and np.isfinite(float(fps)) and fps > 0):
        raise VideoWriteError(f"fps must be a positive number, got {fps!r}")
    return (fps if isinstance(fps, Fraction) else Fraction(float(fps))).limit_denominator(1001)


class VideoWriter:
    """Streaming H.264 writer. Use as a context manager; ``write`` frames in order.

    ``width``/``height`` default to the first frame's size. ``crf`` is libx264's constant rate
    factor (0-51, lower is better; ignored when ``lossless``). ``timestamps`` (seconds, one per
    frame to be written) keep variable frame rate timing; ``preset`` trades encoding speed for size.
    ``atomic=False`` writes ``path`` itself, for a caller that already writes under a temporary
    name and renames the result together with other files (:func:`fpdm_video.atomic.atomic_files`).
    """

    def __init__(
        self,
        path: str | os.PathLike,
        fps: float,
        width: int | None = None,
        height: int | None = None,
        lossless: bool = False,
        crf: int = 18,
        timestamps: Sequence[float] | np.ndarray | None = None,
        *,
        preset: str = "medium",
        atomic: bool = True,
    ) -> None:
        self.path = Path(path)
        if self.path.suffix.lower() not in VIDEO_SUFFIXES:
            raise VideoWriteError(
                f"cannot write H.264 to {self.path}: use one of the suffixes {', '.join(sorted(VIDEO_SUFFIXES))}"
            )
        if not (isinstance(crf, numbers.Integral) and 0 <= crf <= 51):
            raise VideoWriteError(f"crf must be an integer in 0..51 (lower is better quality), got {crf!r}")
        self.rate = _stream_rate(fps)
        self.size = None if width is None and height is None else (width, height)
        if self.size is not None and not all(isinstance(v, numbers.Integral) and v > 0 for v in self.size):
            raise VideoWriteError(f"width and height must both be positive integers, got {width!r}, {height!r}")
        if preset not in X264_PRESETS:
            raise VideoWriteError(f"unknown x264 preset {preset!r}; use one of {', '.join(X264_PRESETS)}")
        self.lossless = lossless
        self.crf = crf
        self.preset = preset
        self.times = None if timestamps is None else check_timestamps(timestamps)
        self.num_written = 0  # frames encoded so far
        self._stack = contextlib.ExitStack()
        self._container: av.container.OutputContainer | None = None
        self._file: BinaryIO | None = None  # the open file FFmpeg writes into, closed by this writer
        self._stream: av.video.stream.VideoStream | None = None
        self._tmp = self.path  # atomic=False: the caller's own temporary file (see fpdm_video.atomic.atomic_files)
        if atomic:
            try:
                self._tmp = self._stack.enter_context(atomic_path(self.path))
            except InputError as exc:
                raise VideoWriteError(f"cannot write {self.path}: {exc}") from None

    @property
    def target(self) -> Path:
        """The video's final path, for messages (``path`` may be a temporary file of :func:`~fpdm_video.atomic.atomic_files`)."""
        return final_path(self.path)

    # -- context manager -------------------------------------------------------------------------
    def __enter__(self) -> VideoWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self._abort(exc_type, exc, tb)

    # -- encoding ----------------------------------------------------------------------------------
    def _open_stream(self, width: int, height: int) -> None:
        try:
            self._file = open(self._tmp, "w+b", buffering=0)  # read too: +faststart moves the index to the front
            container = av.open(self._file, mode="w", options={"movflags": "+faststart"})
        except (av.error.FFmpegError, OSError) as exc:
            if is_no_room(exc):
                raise  # the atomic layer names the target
            raise VideoWriteError(f"cannot open {self.target} for writing ({exc})") from None
        self._container = container
        codec = "libx264rgb" if self.lossless else "libx264"
        stream = container.add_stream(codec, rate=self.rate)
        stream.width, stream.height = width, height
        if self.lossless:
            stream.pix_fmt = "rgb24"
            stream.options = {"crf": "0", "preset": self.preset}
        else:
            odd = width % 2 or height % 2
            stream.pix_fmt = "yuv444p" if odd else "yuv420p"
            stream.options = {"crf": str(self.crf), "preset": self.preset}
            cc = stream.codec_context
            cc.color_primaries = cc.color_trc = cc.colorspace = _BT601
            cc.color_range = _MPEG_RANGE
            if odd:
                logger.warning(
                    "%s: odd frame size %dx%d is stored as H.264 yuv444p (High 4:4:4), which some "
                    "players cannot play; crop or pad to an even size for wide playback",
                    self.target, width, height,
                )  # fmt: skip
        if self.times is not None:
            stream.codec_context.time_base = VFR_TIME_BASE
            stream.time_base = VFR_TIME_BASE
        self._stream = stream

    def _timing(self, index: int) -> tuple[int, int]:
        """(pts, duration) of frame ``index`` in the codec's time base.

        With timestamps a frame lasts until the next one; the last frame lasts 1 / fps.
        """
        if self.times is None:
            return index, 1
        if index >= self.times.size:
            raise VideoWriteError(f"more frames than timestamps: {self.times.size} timestamps were given")
        pts = round((self.times[index] - self.times[0]) / VFR_TIME_BASE)
        if index + 1 < self.times.size:
            end = round((self.times[index + 1] - self.times[0]) / VFR_TIME_BASE)
        else:
            end = pts + round(1 / (self.rate * VFR_TIME_BASE))
        if end <= pts:
            raise VideoWriteError(f"timestamps {index} and {index + 1} are closer than 1/90000 s; fix them")
        return pts, end - pts

    def write(self, frames: np.ndarray) -> None:
        """Encode one (H, W, 3) frame or a (T, H, W, 3) batch of uint8 RGB frames."""
        if self._stack is None:
            raise VideoWriteError(f"the writer of {self.path} is already closed; open a new VideoWriter")
        batch = as_frame_batch(frames)  # (T, H, W, 3)
        height, width = batch.shape[1:3]
        if self._stream is None:
            if self.size is not None and self.size != (width, height):
                raise VideoWriteError(
                    f"frames are {width}x{height} but the writer was opened for {self.size[0]}x{self.size[1]}"
                )
            self._open_stream(width, height)
        stream = self._stream
        if (width, height) != (stream.width, stream.height):
            raise VideoWriteError(
                f"frame {self.num_written} is {width}x{height}, earlier frames are "
                f"{stream.width}x{stream.height}; all frames of a video need one size"
            )
        for frame in batch:
            av_frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")
            av_frame.pts, av_frame.duration = self._timing(self.num_written)
            self._encode(av_frame)
            self.num_written += 1

    def _encode(self, frame: av.VideoFrame | None) -> None:
        """Encode ``frame`` (None: flush the encoder) and mux the packets that come out."""
        try:
            self._container.mux(self._stream.encode(frame))
        except (av.error.FFmpegError, OSError) as exc:  # OSError: from writing the open file
            if is_no_room(exc):
                raise  # a full disk: the atomic layer names the target
            raise VideoWriteError(f"writing {self.target} failed ({exc}); check free disk space") from None

    def _finish(self) -> None:
        """Close the container: FFmpeg writes what it buffered and the trailer (the index) now."""
        try:
            self._container.close()
        except (av.error.FFmpegError, OSError) as exc:
            if is_no_room(exc):
                raise
            raise VideoWriteError(f"finishing {self.target} failed ({exc}); check free disk space") from None
        finally:
            self._file.close()

    def close(self) -> Path:
        """Flush the encoder, finish the file and move it to its final name; returns that path."""
        if self._stack is None:
            return self.path
        try:
            if self.num_written == 0:
                raise VideoWriteError(f"no frames were written to {self.target}; a video needs at least one")
            if self.times is not None and self.num_written != self.times.size:
                raise VideoWriteError(
                    f"{self.num_written} frames were written but {self.times.size} timestamps were given"
                )
            self._encode(None)
            self._finish()
        except BaseException as exc:
            self._abort(type(exc), exc, exc.__traceback__)
            raise
        stack, self._stack = self._stack, None
        stack.close()  # renames the temporary file to self.path
        return self.path

    def __del__(self) -> None:
        # A writer dropped without close() or a with block: remove its temporary file.
        if getattr(self, "_stack", None) is not None:
            with contextlib.suppress(Exception):
                self._abort(VideoWriteError, VideoWriteError("writer dropped before close()"), None)

    def _abort(self, exc_type, exc, tb) -> None:
        """Drop the partial file: close the container quietly, remove the temporary file."""
        if self._stack is None:
            return
        if self._container is not None:
            with contextlib.suppress(Exception):
                self._container.close()
        if self._file is not None:
            self._file.close()
        stack, self._stack = self._stack, None
        stack.__exit__(exc_type, exc, tb)


def write_video(
    path: str | os.PathLike,
    frames: np.ndarray | Iterable[np.ndarray],
    fps: float,
    lossless: bool = False,
    crf: int = 18,
    timestamps: Sequence[float] | np.ndarray | None = None,
    *,
    preset: str = "medium",
) -> Path:
    """Write ``frames`` ((T, H, W, 3) uint8 RGB, or an iterable of frames or frame batches) to
    ``path`` as H.264 at ``fps``; see :class:`VideoWriter` for the options. Returns ``path``."""
    with VideoWriter(path, fps, lossless=lossless, crf=crf, timestamps=timestamps, preset=preset) as writer:
        if isinstance(frames, np.ndarray):
            writer.write(frames)
        else:
            for item in frames:
                writer.write(item)
    return writer.path
