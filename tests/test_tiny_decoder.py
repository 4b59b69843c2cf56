"""The tiny decoder's layout: one width for all levels (the first form) or a width and block count per level."""

from __future__ import annotations

import pytest
import torch

from fpdm_video.config import TinyDecoderConfig, from_dict
from fpdm_video.errors import InputError
from fpdm_video.models.tiny_decoder import Block, SubpixelUp, TinyDecoder, as_subpixel

torch.set_num_threads(1)


def _decoder(factor: int = 4, **fields) -> TinyDecoder:
    torch.manual_seed(0)
    return TinyDecoder(4, factor, TinyDecoderConfig(**fields)).eval()


def test_one_width_is_the_same_network_as_that_width_at_every_level():
    first = _decoder(channels=8, blocks=2)
    per_level = _decoder(widths=(8, 8, 8), level_blocks=(2, 2, 1))
    assert {k: v.shape for k, v in first.state_dict().items()} == {k: v.shape for k, v in per_level.state_dict().items()}
    per_level.load_state_dict(first.state_dict())
    x = torch.randn(2, 4, 6, 5)
    assert torch.equal(first(x), per_level(x))


def test_each_level_gets_its_width_and_blocks():
    decoder = _decoder(factor=8, widths=(16, 12, 8, 4), level_blocks=(2, 0, 1, 1))
    convs = [m for m in decoder.layers if isinstance(m, torch.nn.Conv2d)]
    assert [c.out_channels for c in convs] == [16, 12, 8, 4, 3]  # latents -> 16, three 2x steps, RGB
    blocks = [m.convs[0].in_channels for m in decoder.layers if isinstance(m, Block)]
    assert blocks == [16, 16, 8, 4]
    with torch.no_grad():
        out = decoder(torch.randn(2, 4, 3, 5) * 5)
    assert out.shape == (2, 3, 24, 40) and out.abs().max() <= 1


def test_the_clamp_bounds_the_latents_it_sees():
    """k tanh(x / k): a decoder with clamp 6 on 2x is one with clamp 3 on x, its first conv halved."""
    three, six = _decoder(channels=8, blocks=1, clamp=3.0), _decoder(channels=8, blocks=1, clamp=6.0)
    state = three.state_dict()
    state["layers.0.weight"] = state["layers.0.weight"] / 2
    six.load_state_dict(state)
    x = torch.randn(2, 4, 4, 4) * 4
    with torch.no_grad():
        torch.testing.assert_close(six(2 * x), three(x))
        assert not torch.allclose(six(x), three(x))


@pytest.mark.parametrize(("fields", "message"), [
    ({"widths": (8, 8)}, "widths needs 3 entries"),
    ({"level_blocks": (1, 1, 1, 1)}, "level_blocks needs 3 entries"),
    ({"widths": (8, 0, 8)}, "widths must be at least 1"),
    ({"level_blocks": (1, -1, 1)}, "level_blocks must be at least 0"),
    ({"clamp": 0.0}, "clamp must be positive"),
    ({"channels": 0}, "channels must be at least 1"),
    ({"blocks": -1}, "blocks must be at least 0"),
])  # fmt: skip
def test_a_layout_that_does_not_fit_the_vae_is_refused(fields, message):
    with pytest.raises(ValueError, match=message):
        _decoder(**fields)


@pytest.mark.parametrize(("field", "value"), [("widths", [16, 0, 8]), ("level_blocks", [1, 17, 1]), ("clamp", -3)])
def test_a_config_file_with_a_bad_layout_names_the_key(field, value):
    with pytest.raises(InputError, match=field):
        from_dict(TinyDecoderConfig, {field: value})


@pytest.mark.parametrize("factor", [4, 8])
def test_a_nearest_decoder_and_its_subpixel_form_decode_alike(factor):
    layout = TinyDecoderConfig(widths=(8, 6, 5, 4)[: factor.bit_length()], level_blocks=(1,) * factor.bit_length())
    torch.manual_seed(0)
    nearest = TinyDecoder(4, factor, layout).eval()
    for conv in (m for m in nearest.modules() if isinstance(m, torch.nn.Conv2d)):  # taps that differ, so a wrong fold shows
        torch.nn.init.normal_(conv.weight, std=0.3)
    subpixel = as_subpixel(nearest, 4, factor, layout)
    x = torch.randn(2, 4, 5, 3) * 3
    with torch.no_grad():  # the layers before the final clamp to [-1, 1], which would hide a difference where it saturates
        want, got = nearest.layers(x), subpixel.layers(x)
    assert not any(isinstance(m, torch.nn.Upsample) for m in subpixel.modules())
    assert want.std() > 1  # a signal that a wrong fold would change
    assert (got - want).abs().max() <= 1e-5 * want.abs().max()  # float32 rounding of sums in another order


def test_a_subpixel_step_runs_its_conv_at_the_coarser_level():
    decoder = _decoder(widths=(8, 6, 4), level_blocks=(1, 1, 1), upsample="subpixel")
    ups = [m for m in decoder.layers if isinstance(m, SubpixelUp)]
    assert [(u.conv.in_channels, u.conv.out_channels) for u in ups] == [(8, 24), (6, 16)]
    with torch.no_grad():
        assert decoder(torch.randn(1, 4, 3, 5)).shape == (1, 3, 12, 20)


def test_a_subpixel_decoder_does_not_convert_again():
    layout = TinyDecoderConfig(channels=4, blocks=1, upsample="subpixel")
    with pytest.raises(ValueError, match="only a nearest"):
        as_subpixel(TinyDecoder(4, 4, layout), 4, 4, layout)


def test_an_unknown_upsampling_is_refused_by_name():
    with pytest.raises(InputError, match="upsample"):
        from_dict(TinyDecoderConfig, {"upsample": "bilinear"})
