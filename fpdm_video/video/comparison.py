"""Side-by-side comparison videos: columns such as source | pose | output, each with a label on top.

Every column is resized (keeping its aspect ratio) to one common height and the columns are
placed left to right under a black band with their labels, drawn with Pillow's built-in font (no
font files needed). The canvas is padded to an even size so that the video is plain yuv420p H.264,
which every player can play. Columns are consumed frame by frame, so they can be generators over
a long video.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from fpdm_video.errors import VideoWriteError
from fpdm_video.video.types import Clip
from fpdm_video.video.writer import VideoWriter, as_frame_batch

Column = Iterable[np.ndarray] | Iterable[Clip] | np.ndarray  # frames (H, W, 3), batches or clips


def _frames_of(column: Column, label: str) -> Iterator[np.ndarray]:
    """The (H, W, 3) frames of one column, whatever form it comes in."""
    what = f"frames of column {label!r}"
    if isinstance(column, np.ndarray):
        yield from as_frame_batch(column, what)
        return
    for item in column:
        yield from as_frame_batch(item.frames if isinstance(item, Clip) else item, what)


def _fit_height(frame: np.ndarray, height: int) -> np.ndarray:
    """``frame`` (h, w, 3) resized to (height, w * height / h, 3)."""
    h, w = frame.shape[:2]
    if h == height:
        return frame
    width = max(1, round(w * height / h))
    return np.asarray(Image.fromarray(frame).resize((width, height), Image.Resampling.BILINEAR))


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    try:
        return ImageFont.load_default(size=size)
    except (ImportError, OSError, TypeError):  # Pillow without FreeType: fixed-size bitmap font
        return ImageFont.load_default()


def label_band(labels: Sequence[str], widths: Sequence[int], band_height: int) -> np.ndarray:
    """A black (band_height, sum(widths), 3) strip with each label centred over its column."""
    band = Image.new("RGB", (int(sum(widths)), band_height), (0, 0, 0))
    draw = ImageDraw.Draw(band)
    font = _font(max(8, round(band_height * 0.7)))
    _, top, _, bottom = draw.textbbox((0, 0), "Ag", font=font)  # one baseline for all labels
    y = (band_height - (bottom - top)) // 2 - top
    left = 0
    for label, width in zip(labels, widths):
        x0, _, x1, _ = draw.textbbox((0, 0), label, font=font)
        x = left + max(0, (width - (x1 - x0)) // 2) - x0
        draw.text((x, y), label, fill=(255, 255, 255), font=font)
        left += width
    return np.asarray(band)


def _pad_even(canvas: np.ndarray) -> np.ndarray:
    """Pad (H, W, 3) on the bottom/right with black to even H and W."""
    h, w = canvas.shape[:2]
    return np.pad(canvas, ((0, h % 2), (0, w % 2), (0, 0)))


def write_comparison_video(
    path: str | os.PathLike,
    columns: Sequence[Column],
    labels: Sequence[str],
    fps: float,
    *,
    height: int | None = None,
    lossless: bool = False,
    crf: int = 18,
    timestamps: Sequence[float] | np.ndarray | None = None,
) -> Path:
    """Write the columns side by side, labelled, as one video; returns ``path``.

    ``columns`` are (T, H, W, 3) uint8 arrays or iterables of frames, frame batches or
    :class:`Clip` chunks, all with the same number of frames. ``height`` is the common frame
    height (default: the first column's). The other arguments are as for :class:`VideoWriter`.
    """
    if len(columns) == 0 or len(columns) != len(labels):
        raise VideoWriteError(f"give one label per column: got {len(columns)} columns and {len(labels)} labels")
    if height is not None and not (isinstance(height, int) and height > 0):
        raise VideoWriteError(f"height must be a positive integer, got {height!r}")
    streams = [_frames_of(column, label) for column, label in zip(columns, labels)]
    band: np.ndarray | None = None
    widths: list[int] = []
    with VideoWriter(path, fps, lossless=lossless, crf=crf, timestamps=timestamps) as writer:
        while True:
            row = [next(stream, None) for stream in streams]
            if all(frame is None for frame in row):
                break
            missing = [label for label, frame in zip(labels, row) if frame is None]
            if missing:
                raise VideoWriteError(
                    f"comparison columns differ in length: {missing} ended after {writer.num_written} "
                    "frames while others go on; give every column the same number of frames"
                )
            height = height or row[0].shape[0]
            row = [_fit_height(frame, height) for frame in row]  # each (height, w_i, 3)
            if band is None:
                widths = [frame.shape[1] for frame in row]
                band = label_band(labels, widths, max(12, round(height * 0.08)))
            elif [frame.shape[1] for frame in row] != widths:
                raise VideoWriteError(f"a comparison column changes its frame size at frame {writer.num_written}")
            writer.write(_pad_even(np.concatenate([band, np.concatenate(row, axis=1)], axis=0)))
    return writer.path
