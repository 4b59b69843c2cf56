"""The one mapping between a source frame and the model's canvas.

Frames of any size (PHOENIX is 210x260, W x H) are letterboxed: padded symmetrically with a
constant colour to the canvas's aspect ratio, then resized to the canvas. The canvas is square for
this project's sizes (256 x 256 in the paper's PHOENIX setting) and W x H where a checkpoint needs
it (the official DeepFashion model: 352 x 512). Poses, pose maps, training crops and the final
un-letterboxing of generated frames all use this same transform, so a point drawn on the pose map
lands on the pixel that the model paints for it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


def canvas_dims(canvas: int | Sequence[int]) -> tuple[int, int]:
    """(width, height) of a canvas given as a square side or as (width, height)."""
    if isinstance(canvas, (int, np.integer)) and not isinstance(canvas, bool):
        return int(canvas), int(canvas)
    width, height = canvas
    return int(width), int(height)


@dataclass(frozen=True)
class CanvasFit:
    """Letterbox transform from a ``width x height`` frame to a ``canvas_width x canvas_height`` canvas."""

    width: int  # source frame width in pixels
    height: int  # source frame height in pixels
    canvas_width: int  # canvas width in pixels
    canvas_height: int  # canvas height in pixels

    @classmethod
    def of(cls, width: int, height: int, canvas: int | Sequence[int]) -> CanvasFit:
        """The fit of a ``width x height`` frame onto ``canvas`` (a square side, or (width, height))."""
        return cls(width, height, *canvas_dims(canvas))

    @property
    def canvas(self) -> tuple[int, int]:
        """(width, height) of the canvas."""
        return self.canvas_width, self.canvas_height

    @property
    def padded_width(self) -> int:
        """Width of the frame padded to the canvas's aspect ratio, in source pixels."""
        return max(self.width, round(self.height * self.canvas_width / self.canvas_height))

    @property
    def padded_height(self) -> int:
        """Height of the frame padded to the canvas's aspect ratio, in source pixels."""
        return max(self.height, round(self.width * self.canvas_height / self.canvas_width))

    @property
    def pad_x(self) -> int:
        """Pixels of padding left of the frame, in source pixels."""
        return (self.padded_width - self.width) // 2

    @property
    def pad_y(self) -> int:
        """Pixels of padding above the frame, in source pixels."""
        return (self.padded_height - self.height) // 2

    @property
    def scale_x(self) -> float:
        """Canvas pixels per source pixel, across."""
        return self.canvas_width / self.padded_width

    @property
    def scale_y(self) -> float:
        """Canvas pixels per source pixel, down (equal to ``scale_x`` up to the rounding of the padding)."""
        return self.canvas_height / self.padded_height

    def points_to_canvas(self, xy: np.ndarray) -> np.ndarray:
        """Map pixel coordinates (..., 2) of the source frame onto the canvas."""
        xy = np.asarray(xy, dtype=np.float32)
        out = xy.copy()
        out[..., 0] = (xy[..., 0] + self.pad_x) * self.scale_x
        out[..., 1] = (xy[..., 1] + self.pad_y) * self.scale_y
        return out

    def points_from_canvas(self, xy: np.ndarray) -> np.ndarray:
        """Inverse of :meth:`points_to_canvas`."""
        xy = np.asarray(xy, dtype=np.float32)
        out = xy.copy()
        out[..., 0] = xy[..., 0] / self.scale_x - self.pad_x
        out[..., 1] = xy[..., 1] / self.scale_y - self.pad_y
        return out

    def image_to_canvas(self, frame: np.ndarray, fill: int = 0) -> np.ndarray:
        """Letterbox a uint8 (H, W, 3) frame to (canvas_height, canvas_width, 3)."""
        from PIL import Image

        if frame.shape[:2] != (self.height, self.width):
            raise ValueError(f"frame is {frame.shape[1]}x{frame.shape[0]}, expected {self.width}x{self.height}")
        padded = np.full((self.padded_height, self.padded_width, frame.shape[2]), fill, dtype=np.uint8)
        padded[self.pad_y : self.pad_y + self.height, self.pad_x : self.pad_x + self.width] = frame
        if padded.shape[:2] == (self.canvas_height, self.canvas_width):
            return padded
        return np.asarray(Image.fromarray(padded).resize(self.canvas, Image.BICUBIC))

    def image_from_canvas(self, canvas: np.ndarray) -> np.ndarray:
        """Undo the letterbox: a uint8 (canvas_height, canvas_width, 3) canvas back to (height, width, 3)."""
        from PIL import Image

        if canvas.shape[:2] != (self.canvas_height, self.canvas_width):
            raise ValueError(f"canvas is {canvas.shape[1]}x{canvas.shape[0]}, expected {self.canvas_width}x{self.canvas_height}")
        padded = canvas
        if (self.padded_width, self.padded_height) != self.canvas:
            padded = np.asarray(Image.fromarray(canvas).resize((self.padded_width, self.padded_height), Image.BICUBIC))
        return np.ascontiguousarray(padded[self.pad_y : self.pad_y + self.height, self.pad_x : self.pad_x + self.width])
