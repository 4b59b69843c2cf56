"""The one mapping between a source frame and the model's square canvas.

Frames of any size (PHOENIX is 210x260, W x H) are letterboxed: padded symmetrically to a square
with a constant colour, then resized to ``size x size``. Poses, pose maps, training crops and the
final un-letterboxing of generated frames all use this same transform, so a point drawn on the pose
map lands on the pixel that the model paints for it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SquareFit:
    """Letterbox transform from a ``width x height`` frame to a ``size x size`` square."""

    width: int  # source frame width in pixels
    height: int  # source frame height in pixels
    size: int  # side of the square canvas in pixels

    @property
    def side(self) -> int:
        """Side of the padded square, in source pixels."""
        return max(self.width, self.height)

    @property
    def pad_x(self) -> int:
        """Pixels of padding left of the frame, in source pixels."""
        return (self.side - self.width) // 2

    @property
    def pad_y(self) -> int:
        """Pixels of padding above the frame, in source pixels."""
        return (self.side - self.height) // 2

    @property
    def scale(self) -> float:
        """Canvas pixels per source pixel."""
        return self.size / self.side

    def points_to_canvas(self, xy: np.ndarray) -> np.ndarray:
        """Map pixel coordinates (..., 2) of the source frame onto the square canvas."""
        xy = np.asarray(xy, dtype=np.float32)
        out = xy.copy()
        out[..., 0] = (xy[..., 0] + self.pad_x) * self.scale
        out[..., 1] = (xy[..., 1] + self.pad_y) * self.scale
        return out

    def points_from_canvas(self, xy: np.ndarray) -> np.ndarray:
        """Inverse of :meth:`points_to_canvas`."""
        xy = np.asarray(xy, dtype=np.float32)
        out = xy.copy()
        out[..., 0] = xy[..., 0] / self.scale - self.pad_x
        out[..., 1] = xy[..., 1] / self.scale - self.pad_y
        return out

    def image_to_canvas(self, frame: np.ndarray, fill: int = 0) -> np.ndarray:
        """Letterbox a uint8 (H, W, 3) frame to (size, size, 3)."""
        from PIL import Image

        if frame.shape[:2] != (self.height, self.width):
            raise ValueError(f"frame is {frame.shape[1]}x{frame.shape[0]}, expected {self.width}x{self.height}")
        square = np.full((self.side, self.side, frame.shape[2]), fill, dtype=np.uint8)
        square[self.pad_y : self.pad_y + self.height, self.pad_x : self.pad_x + self.width] = frame
        if self.side == self.size:
            return square
        return np.asarray(Image.fromarray(square).resize((self.size, self.size), Image.BICUBIC))

    def image_from_canvas(self, canvas: np.ndarray) -> np.ndarray:
        """Undo the letterbox: a uint8 (size, size, 3) canvas back to (height, width, 3)."""
        from PIL import Image

        if canvas.shape[:2] != (self.size, self.size):
            raise ValueError(f"canvas is {canvas.shape[1]}x{canvas.shape[0]}, expected {self.size}x{self.size}")
        square = canvas
        if self.side != self.size:
            square = np.asarray(Image.fromarray(canvas).resize((self.side, self.side), Image.BICUBIC))
        return np.ascontiguousarray(square[self.pad_y : self.pad_y + self.height, self.pad_x : self.pad_x + self.width])
