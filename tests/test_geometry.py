"""SquareFit: the letterbox between a frame and the model's square canvas."""

from __future__ import annotations

import numpy as np
import pytest

from fpdm_video.geometry import SquareFit


def test_phoenix_frame_letterbox_numbers():
    fit = SquareFit(210, 260, 256)
    assert (fit.side, fit.pad_x, fit.pad_y) == (260, 25, 0)
    assert fit.scale == pytest.approx(256 / 260)
    corners = np.array([[0.0, 0.0], [210.0, 260.0]])
    np.testing.assert_allclose(fit.points_to_canvas(corners), [[25 * 256 / 260, 0.0], [235 * 256 / 260, 256.0]])


@pytest.mark.parametrize("width,height,size", [(210, 260, 256), (540, 720, 128), (300, 200, 64), (64, 64, 64)])
def test_points_round_trip(width, height, size):
    fit = SquareFit(width, height, size)
    xy = np.random.default_rng(0).uniform(0, [width, height], size=(5, 7, 2)).astype(np.float32)
    np.testing.assert_allclose(fit.points_from_canvas(fit.points_to_canvas(xy)), xy, atol=1e-3)


def test_image_round_trip_keeps_size_and_content():
    fit = SquareFit(210, 260, 256)
    frame = np.zeros((260, 210, 3), dtype=np.uint8)
    frame[100:160, 80:130] = 200  # a bright block
    canvas = fit.image_to_canvas(frame, fill=7)
    assert canvas.shape == (256, 256, 3)
    assert canvas[128, 5].tolist() == [7, 7, 7]  # padding column
    back = fit.image_from_canvas(canvas)
    assert back.shape == frame.shape
    assert np.abs(back.astype(int) - frame.astype(int)).mean() < 3.0
    with pytest.raises(ValueError, match="expected 210x260"):
        fit.image_to_canvas(np.zeros((10, 10, 3), dtype=np.uint8))
