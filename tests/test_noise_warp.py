"""Warped noise (pipelines/noise_warp.py): Gaussian after many warps, exact for a zero field, moving with a pattern."""

import math

import pytest
import torch

from pipelines.noise_warp import bilinear_warp, move_noise, warp_noise

torch.set_num_threads(1)


def _gen(seed: int) -> torch.Generator:
    return torch.Generator("cpu").manual_seed(seed)


def _swirl(h: int, w: int, strength: float = 1.3) -> torch.Tensor:
    """(2, h, w) a smooth field that rotates, stretches and squeezes: sources and sinks of sub-cells."""
    ys, xs = torch.meshgrid(torch.arange(h) + 0.5, torch.arange(w) + 0.5, indexing="ij")
    u, v = (xs - w / 2) / w, (ys - h / 2) / h
    return torch.stack([strength * (-v * 4 + torch.sin(3 * u)), strength * (u * 4 + 0.8 * torch.cos(2 * v))])


def test_a_zero_field_gives_the_same_noise_bit_for_bit():
    noise = torch.randn(3, 4, 12, 10, generator=_gen(0))
    zero = torch.zeros(2, 12, 10)
    assert torch.equal(warp_noise(noise, zero, _gen(1)), noise)
    assert torch.equal(bilinear_warp(noise, zero), noise)


def test_a_whole_cell_translation_moves_the_noise_exactly():
    noise = torch.randn(1, 4, 8, 8, generator=_gen(0))
    shift = torch.zeros(2, 8, 8)
    shift[0] = 2.0  # two cells right
    shift[1] = -1.0  # one cell up
    moved = warp_noise(noise, shift, _gen(1))
    assert torch.equal(moved[..., :7, 2:], noise[..., 1:, :6])
    # the cells the pattern left behind (first two columns, last row) are fresh
    assert not torch.isclose(moved[..., :, :2], noise[..., :, :2]).any()


@pytest.mark.parametrize("mode", ["warped", "bilinear"])
def test_noise_stays_standard_gaussian_after_50_warps(mode):
    # 4 x 4 x 32 x 32 = 16384 values per frame: the standard error of the mean is 0.0078 and of the
    # variance 0.011, so 0.04 and 0.06 are about 5 standard errors (a false failure is far below 1e-5)
    noise = torch.randn(4, 4, 32, 32, generator=_gen(0))
    field = _swirl(32, 32)
    for t in range(50):
        noise = move_noise(mode, noise, field, _gen(100 + t))
        assert abs(float(noise.mean())) < 0.04, (t, float(noise.mean()))
        assert abs(float(noise.var()) - 1) < 0.06, (t, float(noise.var()))
    if mode == "warped":  # still white: neighbouring cells uncorrelated (standard error 1 / sqrt(16 * 32 * 31) = 0.0063)
        lag = float((noise[..., :, 1:] * noise[..., :, :-1]).mean())
        assert abs(lag) < 0.035, lag
        # and Gaussian: the fourth moment of a standard normal is 3 (standard error sqrt(96 / 16384) = 0.077)
        assert abs(float((noise**4).mean()) - 3) < 0.4
    else:  # the naive warp blurs it: its neighbours are correlated, which the warped one avoids
        lag = float((noise[..., :, 1:] * noise[..., :, :-1]).mean())
        assert lag > 0.2, lag


def test_noise_moves_with_a_translated_pattern():
    # a sub-cell translation of 0.25 cell per frame over 8 frames, 2 cells in all. A white noise cannot move by a
    # fraction of a cell without mixing neighbours (each frame a cell keeps 3/4 of itself and takes 1/4 of its left
    # neighbour), so frame 8 correlates with frame 0 shifted by s cells as C(8, s) 0.75^(8-s) 0.25^s: most at the
    # true 2 cells (0.31), less at 1 or 3 (0.27, 0.21), little in place (0.10). Standard error about 0.006.
    noise0 = torch.randn(8, 4, 32, 32, generator=_gen(0))
    field = torch.zeros(2, 32, 32)
    field[0] = 0.25
    noise = noise0
    for t in range(8):
        noise = warp_noise(noise, field, _gen(10 + t))

    def corr(s: int) -> float:
        a, b = noise[..., 8:], noise0[..., 8 - s : 32 - s]  # clear of the left edge, where nothing flows in
        return float(torch.corrcoef(torch.stack([a.flatten(), b.flatten()]))[0, 1])

    found = [corr(s) for s in range(5)]
    assert max(range(5), key=lambda s: found[s]) == 2, found
    expected = [math.comb(8, s) * 0.75 ** (8 - s) * 0.25**s for s in range(5)]
    assert all(abs(f - e) < 0.03 for f, e in zip(found, expected)), (found, expected)


def test_the_same_generator_gives_the_same_warp_and_bad_shapes_are_refused():
    noise, field = torch.randn(2, 4, 8, 8, generator=_gen(0)), _swirl(8, 8)
    assert torch.equal(warp_noise(noise, field, _gen(5)), warp_noise(noise, field, _gen(5)))
    with pytest.raises(ValueError, match="must agree"):
        warp_noise(noise, torch.zeros(2, 8, 9), _gen(5))
    with pytest.raises(ValueError, match="does not move the noise"):
        move_noise("fixed", noise, field, _gen(5))


def test_contracting_regions_keep_unit_variance():
    # everything flows into the middle column: many sub-cells per cell there, sqrt(n) keeps the variance
    noise = torch.randn(8, 4, 16, 16, generator=_gen(0))
    xs = torch.arange(16) + 0.5
    field = torch.zeros(2, 16, 16)
    field[0] = (8.0 - xs)[None, :] * 0.9
    out = warp_noise(noise, field, _gen(1))
    assert abs(float(out.var()) - 1) < 0.1
    assert math.isfinite(float(out.abs().max()))
