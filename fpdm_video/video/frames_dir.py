"""Frame folders: a video stored as one PNG/JPEG file per frame (the PHOENIX layout).

Frames are ordered naturally by the numbers in their names (``images2.png`` before
``images10.png``), so zero padding does not matter. Other files in the folder are ignored. A
folder has no timing of its own: frame ``i`` is shown at ``i / fps`` with ``fps`` given by the
caller (25 for PHOENIX).
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from fpdm_video.errors import VideoReadError
from fpdm_video.images import to_rgb8
from fpdm_video.video.types import Clip, VideoInfo

FRAME_SUFFIXES = frozenset({".png", ".jpg", ".jpeg"})  # file suffixes taken as frames (any case)
_CODEC_OF_FORMAT = {"PNG": "png", "JPEG": "jpeg"}  # PIL format name -> VideoInfo.codec


def natural_key(name: str) -> tuple[tuple[int, int | str], ...]:
    """Sort key that orders the digit runs in ``name`` by value: ``a2`` < ``a10``."""
    parts = re.split(r"(\d+)", name)
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in parts if p)


def list_frame_files(folder: Path) -> list[Path]:
    """The PNG/JPEG files of ``folder`` in natural order; raises if there are none."""
    files = [p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in FRAME_SUFFIXES]
    if not files:
        raise VideoReadError(
            f"frame folder {folder} has no PNG/JPEG frames; point to a folder of images0001.png ... "
            "files or to a video file"
        )
    return sorted(files, key=lambda p: natural_key(p.name))


def _open(path: Path) -> Image.Image:
    """``Image.open`` without PIL's warning for large images: the callers check the size and say so in their words."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        return Image.open(path)


def _header(path: Path) -> tuple[int, int, str]:
    """(width, height, codec) of one frame file, reading only its header."""
    try:
        with _open(path) as im:
            return im.width, im.height, _CODEC_OF_FORMAT.get(im.format or "", (im.format or "?").lower())
    except Image.DecompressionBombError:
        raise VideoReadError(f"frame {path} has more pixels than PIL opens (a decompression bomb?); remove or replace it") from None
    except (UnidentifiedImageError, OSError) as exc:
        raise VideoReadError(f"frame {path} is not a readable image ({exc}); remove or replace it") from None


def probe_frame_folder(folder: Path, fps: float) -> VideoInfo:
    """Count the frames of ``folder`` and check that they all have one size (headers only)."""
    if not fps > 0:
        raise VideoReadError(f"frame-folder fps must be positive, got {fps}")
    files = list_frame_files(folder)
    width, height, codec = _header(files[0])
    codecs = {codec}
    for path in files[1:]:
        w, h, c = _header(path)
        if (w, h) != (width, height):
            raise VideoReadError(
                f"frame folder {folder} mixes frame sizes: {files[0].name} is {width}x{height} but "
                f"{path.name} is {w}x{h} (W x H); resize all frames to one size"
            )
        codecs.add(c)
    return VideoInfo(
        path=folder,
        num_frames=len(files),
        width=width,
        height=height,
        fps=float(fps),
        codec="+".join(sorted(codecs)),
        duration=len(files) / fps,
        is_frame_folder=True,
    )


def _load_rgb(path: Path, width: int, height: int) -> np.ndarray:
    """One frame file as (H, W, 3) uint8 RGB."""
    try:
        with _open(path) as im:
            rgb = to_rgb8(im)  # (H, W, 3)
    except Image.DecompressionBombError:
        raise VideoReadError(f"frame {path} has more pixels than PIL opens (a decompression bomb?); remove or replace it") from None
    except (UnidentifiedImageError, OSError) as exc:
        raise VideoReadError(f"frame {path} cannot be decoded ({exc}); remove or replace it") from None
    if rgb.shape[:2] != (height, width):
        raise VideoReadError(f"frame {path} is {rgb.shape[1]}x{rgb.shape[0]}, expected {width}x{height}")
    return rgb


def iter_frame_folder_chunks(info: VideoInfo, start: int, end: int, chunk_size: int) -> Iterator[Clip]:
    """Yield frames ``[start, end)`` of a probed frame folder, ``chunk_size`` frames at a time."""
    files = list_frame_files(info.path)
    for first in range(start, end, chunk_size):
        last = min(first + chunk_size, end)
        frames = [_load_rgb(files[i], info.width, info.height) for i in range(first, last)]
        yield Clip(
            frames=np.stack(frames),  # (t, H, W, 3)
            fps=info.fps,
            timestamps=np.arange(first, last, dtype=np.float64) / info.fps,  # (t,)
            start_index=first,
        )
