"""A tiny decoder: latents -> images, trained to reproduce the VAE decoder (in the manner of TAESD, Bohan 2023).

At few sampling steps the VAE decoder costs more than the UNet (at sd21-256 about 310 GFLOP, more
than one UNet row). This decoder is a plain stack of 3x3 convolutions: the latents are soft-clamped
(``k tanh(x / k)``, ``k`` = ``clamp``), widened to the first level's width, then each resolution
level has its residual blocks and is followed by a 2x upsampling to the next level's width, until
the VAE's factor is reached; the image's level ends with a conv to RGB in [-1, 1] (as the VAE
decoder's output). It sees the *unscaled* latents, as the VAE decoder does.

The 2x step is the config's ``upsample``: ``nearest`` (TAESD's: nearest-neighbour, then a 3x3 conv
at the finer level) or ``subpixel`` (a 3x3 conv at the coarser level to four times the channels,
then ``PixelShuffle(2)``; Shi et al. 2016). After a ``nearest`` step, each of the four pixels of a
2x2 cell sees a 2x2 window of the coarser level, with weights that are sums of the 3x3 kernel's
taps; a ``subpixel`` step gives each of the four its own 3x3 window. So every ``nearest`` decoder
is a ``subpixel`` one (``as_subpixel`` folds the kernels, exactly), with more freedom at the finest
detail for the same multiply-adds. Which runs faster depends on the layout: on 2 CPU threads the
demo's decoder took 0.155 s against 0.170 s for 8 frames, TAESD's 64-channel layout at 256x256
0.270 s against 0.242 s for one.
"""

from __future__ import annotations

import math
from dataclasses import replace

import torch
from torch import Tensor, nn

from fpdm_video.config import TinyDecoderConfig


class Block(nn.Module):
    """conv-ReLU-conv-ReLU-conv plus the input, then ReLU."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.convs = nn.Sequential(nn.Conv2d(channels, channels, 3, padding=1), nn.ReLU(),
                                   nn.Conv2d(channels, channels, 3, padding=1), nn.ReLU(),
                                   nn.Conv2d(channels, channels, 3, padding=1))  # fmt: skip
        self.act = nn.ReLU()

    def forward(self, x: Tensor) -> Tensor:
        return self.act(self.convs(x) + x)


class SubpixelUp(nn.Module):
    """2x: a 3x3 conv to 4 ``out_channels``, then PixelShuffle(2) (channel ``4 c + 2 i + j`` -> offset (i, j) of channel ``c``)."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_channels, 4 * out_channels, 3, padding=1, bias=False)
        self.shuffle = nn.PixelShuffle(2)

    def forward(self, x: Tensor) -> Tensor:
        return self.shuffle(self.conv(x))


def upsampling(in_channels: int, out_channels: int, kind: str) -> list[nn.Module]:
    """The modules of one 2x step of ``kind`` ("nearest" or "subpixel")."""
    if kind == "subpixel":
        return [SubpixelUp(in_channels, out_channels)]
    if kind == "nearest":
        return [nn.Upsample(scale_factor=2), nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False)]
    raise ValueError(f"tiny decoder upsample must be nearest or subpixel, got {kind!r}")


class TinyDecoder(nn.Module):
    """Unscaled latents (B, C, h, w) -> images (B, 3, h f, w f) in [-1, 1], f = ``factor`` (a power of 2)."""

    def __init__(self, latent_channels: int, factor: int, config: TinyDecoderConfig) -> None:
        super().__init__()
        levels = int(math.log2(factor))
        if 2**levels != factor:
            raise ValueError(f"the tiny decoder needs a power-of-2 VAE factor, got {factor}")
        widths, blocks = level_shape(config, levels)
        layers: list[nn.Module] = [nn.Conv2d(latent_channels, widths[0], 3, padding=1), nn.ReLU()]
        for i in range(levels):
            layers += [*(Block(widths[i]) for _ in range(blocks[i])), *upsampling(widths[i], widths[i + 1], config.upsample)]
        layers += [*(Block(widths[-1]) for _ in range(blocks[-1])), nn.Conv2d(widths[-1], 3, 3, padding=1)]
        self.layers = nn.Sequential(*layers)
        self.clamp = config.clamp

    def forward(self, latents: Tensor) -> Tensor:
        return self.layers(torch.tanh(latents / self.clamp) * self.clamp).clamp(-1, 1)


def level_shape(config: TinyDecoderConfig, levels: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """(widths, blocks) of the ``levels + 1`` resolution levels, the latents' first; ValueError if the config cannot give them."""
    checks = ((tuple(config.widths), "widths", "channels", config.channels, 1),
              (tuple(config.level_blocks), "level_blocks", "blocks", config.blocks, 0))  # fmt: skip
    for given, name, single_name, single, low in checks:
        if given and len(given) != levels + 1:
            raise ValueError(f"tiny decoder {name} needs {levels + 1} entries (one per level of a factor-{2**levels} VAE), "
                             f"got {list(given)}")  # fmt: skip
        if given and min(given) < low:
            raise ValueError(f"tiny decoder {name} must be at least {low}, got {list(given)}")
        if not given and single < low:
            raise ValueError(f"tiny decoder {single_name} must be at least {low}, got {single}")
    if not config.clamp > 0:
        raise ValueError(f"tiny decoder clamp must be positive, got {config.clamp}")
    widths = tuple(config.widths) or (config.channels,) * (levels + 1)
    blocks = tuple(config.level_blocks) or (config.blocks,) * levels + (1,)
    return widths, blocks


def _fold(kernel: Tensor, phase: int, axis: int) -> Tensor:
    """The coarse-level taps, along ``axis``, that a 3-tap kernel after nearest 2x has for output offset ``phase``.

    Offset 0 of a cell reads fine rows (-1, 0, +1) = coarse (-1, 0, 0); offset 1 reads coarse (0, 0, +1).
    """
    before, middle, after = kernel.unbind(axis)
    zero = torch.zeros_like(middle)
    taps = (before, middle + after, zero) if phase == 0 else (zero, before + middle, after)
    return torch.stack(taps, dim=axis)


def subpixel_weight(weight: Tensor) -> Tensor:
    """(out, in, 3, 3) conv after nearest 2x -> the (4 out, in, 3, 3) conv before PixelShuffle(2) with the same output."""
    phases = [_fold(_fold(weight, i, 2), j, 3) for i in (0, 1) for j in (0, 1)]  # offset (i, j) -> channel 4 c + 2 i + j
    return torch.stack(phases, dim=1).reshape(4 * weight.shape[0], *weight.shape[1:])


def as_subpixel(decoder: TinyDecoder, latent_channels: int, factor: int, config: TinyDecoderConfig) -> TinyDecoder:
    """The ``nearest`` decoder ``decoder`` (of layout ``config``) as a ``subpixel`` one computing the same images."""
    if config.upsample != "nearest":
        raise ValueError(f"only a nearest-upsampling tiny decoder converts to subpixel, not {config.upsample!r}")
    converted = TinyDecoder(latent_channels, factor, replace(config, upsample="subpixel"))
    source = [m for m in decoder.layers if not isinstance(m, nn.Upsample)]
    with torch.no_grad():
        for old, new in zip(source, converted.layers, strict=True):
            if isinstance(new, SubpixelUp):
                new.conv.weight.copy_(subpixel_weight(old.weight))
            else:
                new.load_state_dict(old.state_dict())
    like = next(decoder.parameters())
    return converted.to(like.device, like.dtype)
