"""CanvasFit: the letterbox between a frame and the model's canvas (square, or W x H)."""

from __future__ import annotations

import numpy as np
import pytest

from fpdm_video.geometry import CanvasFit, canvas_dims


def test_phoenix_frame_letterbox_numbers():
    fit = CanvasFit.of(210, 260, 256)
    assert (fit.padded_width, fit.padded_height, fit.pad_x, fit.pad_y) == (260, 260, 25, 0)
    assert fit.scale_x == fit.scale_y == pytest.approx(256 / 260)
    corners = np.array([[0.0, 0.0], [210.0, 260.0]])
    np.testing.assert_allclose(fit.points_to_canvas(corners), [[25 * 256 / 260, 0.0], [235 * 256 / 260, 256.0]])


def test_a_deepfashion_frame_on_the_official_352x512_canvas():
    # DeepFashion frames are 176x256: the canvas's own aspect, so nothing is padded
    fit = CanvasFit.of(176, 256, (352, 512))
    assert (fit.pad_x, fit.pad_y, fit.scale_x, fit.scale_y) == (0, 0, 2.0, 2.0)
    # a PHOENIX frame (210x260) is wider than 352:512 and gets padded above and below
    fit = CanvasFit.of(210, 260, (352, 512))
    assert (fit.padded_width, fit.padded_height, fit.pad_x, fit.pad_y) == (210, 305, 0, 22)
    assert fit.scale_x == pytest.approx(352 / 210) and fit.scale_y == pytest.approx(512 / 305)


@pytest.mark.parametrize("width,height,canvas", [(210, 260, 256), (540, 720, 128), (300, 200, 64), (64, 64, 64),
                                                 (210, 260, (352, 512)), (540, 720, (96, 64))])  # fmt: skip
def test_points_round_trip(width, height, canvas):
    fit = CanvasFit.of(width, height, canvas)
    xy = np.random.default_rng(0).uniform(0, [width, height], size=(5, 7, 2)).astype(np.float32)
    np.testing.assert_allclose(fit.points_from_canvas(fit.points_to_canvas(xy)), xy, atol=1e-3)


@pytest.mark.parametrize("canvas,shape", [(256, (256, 256, 3)), ((352, 512), (512, 352, 3))])
def test_image_round_trip_keeps_size_and_content(canvas, shape):
    fit = CanvasFit.of(210, 260, canvas)
    frame = np.zeros((260, 210, 3), dtype=np.uint8)
    frame[100:160, 80:130] = 200  # a bright block
    letterboxed = fit.image_to_canvas(frame, fill=7)
    assert letterboxed.shape == shape
    assert (letterboxed[0, 0] == 7).all() or (letterboxed[shape[0] // 2, 2] == 7).all()  # a padding pixel
    back = fit.image_from_canvas(letterboxed)
    assert back.shape == frame.shape
    assert np.abs(back.astype(int) - frame.astype(int)).mean() < 3.0
    with pytest.raises(ValueError, match="expected 210x260"):
        fit.image_to_canvas(np.zeros((10, 10, 3), dtype=np.uint8))


def test_the_points_land_where_the_image_puts_them():
    fit = CanvasFit.of(210, 260, (352, 512))
    frame = np.zeros((260, 210, 3), dtype=np.uint8)
    frame[130, 105] = 255  # one bright pixel at the centre of the frame
    letterboxed = fit.image_to_canvas(frame).sum(axis=2)
    y, x = np.unravel_index(letterboxed.argmax(), letterboxed.shape)
    cx, cy = fit.points_to_canvas(np.array([105.5, 130.5]))  # pixel centres
    assert abs(x + 0.5 - cx) <= 1.0 and abs(y + 0.5 - cy) <= 1.0


def test_canvas_dims():
    assert canvas_dims(256) == (256, 256) and canvas_dims((352, 512)) == (352, 512) and canvas_dims([8, 16]) == (8, 16)
