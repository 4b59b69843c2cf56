"""Images of every mode that PIL opens, as (H, W, 3) uint8 RGB with the right range.

``Image.convert("RGB")`` alone gets two kinds of image wrong: 16-bit greyscale (``I;16``, as in
medical and scientific PNGs and TIFFs) is clipped at 255 and comes out nearly white, and images
with transparency keep whatever colour lies under the transparent pixels. Here:

- 16-bit greyscale (``I;16``, ``I;16B``, ``I;16L``, ``I;16N``) is scaled from 0..65535 to 0..255;
- 32-bit integer greyscale (``I``) is taken as 8-bit when its values fit, else as 16-bit when they
  fit, else scaled by its own maximum; float greyscale (``F``) as 0..1 when its values fit, else
  as 0..255 (clipped);
- transparency (``RGBA``, ``LA``, ``PA``, or a palette / greyscale image with a transparent colour)
  is composited over white, the usual background of a portrait photo with its background cut out;
- every other mode (``P``, ``CMYK``, ``1``, ``L``, ``YCbCr``, ``LAB``, ``HSV`` ...) goes through
  PIL's own conversion.

Sizes (:func:`check_image_size`), checked on the header before any pixel is decoded and before any
native code sees an image: at most :data:`MAX_IMAGE_PIXELS` pixels (PIL's own warning threshold;
at twice that PIL refuses to open the file, a "decompression bomb"), no side over
:data:`MAX_IMAGE_SIDE` (MediaPipe aborts the whole process, an OpenCV assertion in ``remap``, on
a side of 32767 pixels or more; measured with mediapipe 0.10.21), and no more than
:data:`MAX_ASPECT_RATIO` times as wide as high or the other way round (no photo of a person, no
signing video is; such a file is a mistake).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PIL import Image

from fpdm_video.run_paths import special_kind

MAX_IMAGE_PIXELS = 89_478_485  # PIL's default Image.MAX_IMAGE_PIXELS: above it PIL warns, above twice it refuses
MAX_IMAGE_SIDE = 16384  # pixels; MediaPipe's OpenCV aborts the process at 32767
MAX_ASPECT_RATIO = 16  # longer side / shorter side
SIXTEEN_BIT = frozenset({"I;16", "I;16B", "I;16L", "I;16N"})
BACKGROUND = (255, 255, 255)  # what transparent pixels become


def image_path_problem(path: str | os.PathLike) -> str | None:
    """Why ``path`` cannot be read as a photo (a folder, a pipe or device, nothing there), in one line; None if it can."""
    path = Path(path)
    if path.is_dir():
        return f"image {path} is a folder; give the path of a PNG or JPEG photo"
    kind = special_kind(path)
    if kind is not None:  # opening a named pipe would wait forever
        return f"image {path} is {kind}, not a file; give the path of a PNG or JPEG photo"
    if not path.is_file():
        return f"image {path} does not exist; give the path of a PNG or JPEG photo"
    return None


def image_size_problem(width: int, height: int) -> str | None:
    """What is wrong with an image of ``width`` x ``height`` pixels for this project, in words, or None."""
    if width < 1 or height < 1:
        return f"is {width}x{height} pixels, an empty image"
    if width * height > MAX_IMAGE_PIXELS:
        return f"is {width}x{height} pixels ({width * height / 1e6:.0f} megapixels), more than the {MAX_IMAGE_PIXELS / 1e6:.0f} this reads"
    if max(width, height) > MAX_IMAGE_SIDE:
        return f"is {width}x{height} pixels, a side longer than the {MAX_IMAGE_SIDE} this reads"
    if max(width, height) > MAX_ASPECT_RATIO * min(width, height):
        return f"is {width}x{height} pixels, more than {MAX_ASPECT_RATIO} times as {'wide as high' if width > height else 'high as wide'}"
    return None


def check_image_size(width: int, height: int, what: str) -> None:
    """Raise :class:`~fpdm_video.errors.InputError` when ``what`` (e.g. "image ref.jpg") has a size this project refuses."""
    from fpdm_video.errors import InputError

    problem = image_size_problem(width, height)
    if problem:
        raise InputError(f"{what} {problem}; scale or crop it (at most {MAX_IMAGE_SIDE} pixels a side, "
                         f"{MAX_IMAGE_PIXELS / 1e6:.0f} megapixels, {MAX_ASPECT_RATIO}:1)")  # fmt: skip


def _grey_scale(values: np.ndarray, mode: str) -> float:
    """The value that maps to white for a greyscale image of ``mode``."""
    if mode in SIXTEEN_BIT:
        return 65535.0
    top = float(values.max()) if values.size else 0.0
    if mode == "F":
        return 1.0 if top <= 1.0 else 255.0
    if top <= 255:
        return 255.0
    return 65535.0 if top <= 65535 else top


def _has_alpha(im: Image.Image) -> bool:
    return im.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in im.info


def to_rgb8(im: Image.Image) -> np.ndarray:
    """``im`` of any mode as (H, W, 3) uint8 RGB (see the module docstring)."""
    if im.mode in SIXTEEN_BIT or im.mode in ("I", "F"):
        values = np.asarray(im).astype(np.float64)  # (H, W)
        grey = np.clip(np.round(values / _grey_scale(values, im.mode) * 255.0), 0, 255).astype(np.uint8)
        return np.repeat(grey[..., None], 3, axis=2)
    if _has_alpha(im):
        rgba = im.convert("RGBA")
        flat = Image.new("RGBA", rgba.size, (*BACKGROUND, 255))
        return np.asarray(Image.alpha_composite(flat, rgba).convert("RGB"))
    return np.asarray(im.convert("RGB"))
