"""Images of every mode PIL opens become RGB with the right range: photos, frame folders, and a real photo in 16 bits."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from fpdm_video.images import to_rgb8
from fpdm_video.pose.extract import load_rgb_image
from fpdm_video.video import read_video

GREY = np.tile(np.arange(0, 256, 16, dtype=np.uint8), (8, 1))  # (8, 16): 0 .. 240


def grey_rgb(values: np.ndarray) -> np.ndarray:
    return np.repeat(values[..., None], 3, axis=2)


@pytest.mark.parametrize("mode", ["I;16", "I;16B", "I"])
def test_sixteen_bit_and_integer_greyscale_keep_their_range(mode):
    sixteen = GREY.astype(np.uint16) * 257  # the same greys on 0..65535
    im = Image.fromarray(sixteen.astype(np.int32) if mode == "I" else sixteen)
    if mode == "I;16B":
        im = Image.frombytes("I;16B", im.size, sixteen.astype(">u2").tobytes())
    assert im.mode == mode
    np.testing.assert_array_equal(to_rgb8(im), grey_rgb(GREY))


def test_eight_bit_values_in_integer_mode_stay_eight_bit():
    np.testing.assert_array_equal(to_rgb8(Image.fromarray(GREY.astype(np.int32))), grey_rgb(GREY))


@pytest.mark.parametrize(("scale", "expected"), [(1 / 255, GREY), (1.0, GREY)])
def test_float_greyscale(scale, expected):
    np.testing.assert_array_equal(to_rgb8(Image.fromarray(GREY.astype(np.float32) * np.float32(scale))), grey_rgb(expected))


def test_transparency_is_composited_over_white():
    rgba = np.zeros((4, 4, 4), np.uint8)
    rgba[..., 0] = 200  # red under the pixels ...
    rgba[:2, :, 3] = 255  # ... opaque in the top half, transparent below
    out = to_rgb8(Image.fromarray(rgba, "RGBA"))
    np.testing.assert_array_equal(out[:2], np.broadcast_to([200, 0, 0], (2, 4, 3)))
    np.testing.assert_array_equal(out[2:], np.full((2, 4, 3), 255))
    la = to_rgb8(Image.fromarray(np.stack([np.full((4, 4), 10, np.uint8), rgba[..., 3]], axis=-1), "LA"))
    assert (la[:2] == 10).all() and (la[2:] == 255).all()
    palette = Image.fromarray(np.array([[0, 1]], np.uint8), "P")  # index 0 is transparent, index 1 is red
    palette.putpalette([0, 0, 0, 200, 0, 0] + [0] * 762)
    palette.info["transparency"] = 0
    np.testing.assert_array_equal(to_rgb8(palette), [[[255, 255, 255], [200, 0, 0]]])


@pytest.mark.parametrize("mode", ["P", "CMYK", "1", "L", "YCbCr", "LAB", "HSV"])
def test_other_modes_become_rgb(mode):
    rgb = np.random.default_rng(0).integers(0, 256, (6, 5, 3), dtype=np.uint8)
    out = to_rgb8(Image.fromarray(rgb).convert(mode))
    assert out.shape == (6, 5, 3) and out.dtype == np.uint8


def test_a_sixteen_bit_photo_and_frame_folder(tmp_path):
    Image.fromarray(GREY.astype(np.uint16) * 257).save(tmp_path / "photo16.png")
    np.testing.assert_array_equal(load_rgb_image(tmp_path / "photo16.png"), grey_rgb(GREY))
    frames = tmp_path / "frames"
    frames.mkdir()
    for i in range(3):
        Image.fromarray((GREY.astype(np.uint16) + i) * 257).save(frames / f"images{i + 1:04d}.png")
    clip = read_video(frames)
    assert clip.frames.shape == (3, 8, 16, 3)
    np.testing.assert_array_equal(clip.frames[2], grey_rgb(GREY + 2))


@pytest.mark.real_data
def test_a_real_photo_in_sixteen_bit_grey_still_shows_a_person(real_data, tmp_path):
    from fpdm_video.pose.extract import extract_image_pose

    grey = np.asarray(Image.open(real_data / "fake_human.png").convert("L").resize((482, 482)))
    Image.fromarray(grey.astype(np.uint16) * 257).save(tmp_path / "signer16.png")
    photo = load_rgb_image(tmp_path / "signer16.png")
    assert abs(float(photo.mean()) - float(grey.mean())) < 0.5  # not the near-white of convert("RGB")
    assert extract_image_pose(photo).present("body")[0]
