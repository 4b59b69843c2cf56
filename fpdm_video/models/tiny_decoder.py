"""A tiny decoder: latents -> images, trained to reproduce the VAE decoder (in the manner of TAESD, Bohan 2023).

At few sampling steps the VAE decoder costs more than the UNet (at sd21-256 about 310 GFLOP, more
than one UNet row). This decoder is a plain stack of 3x3 convolutions: the latents are soft-clamped
(``k tanh(x / k)``, ``k`` = ``clamp``), widened to the first level's width, then each resolution
level has its residual blocks and is followed by a nearest-neighbour 2x upsampling and a conv to the
next level's width, until the VAE's factor is reached; the image's level ends with a conv to RGB in
[-1, 1] (as the VAE decoder's output). It sees the *unscaled* latents, as the VAE decoder does.

The widths and blocks per level are the config's ``widths`` and ``level_blocks`` (latents'
resolution first), or ``channels`` at every level with ``blocks`` at every level but the image's,
which has one (the first form; TAESD's is 64 channels and 3 blocks). Width at the latents'
resolution costs 1/factor^2 of the same width at the image's: the demo's second decoder is wide
where it is cheap (64, 48, 24). ``python -m fpdm_video.train tiny-decoder`` trains it on a
checkpoint's own VAE.
"""

from __future__ import annotations

import math

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
            layers += [*(Block(widths[i]) for _ in range(blocks[i])), nn.Upsample(scale_factor=2),
                       nn.Conv2d(widths[i], widths[i + 1], 3, padding=1, bias=False)]  # fmt: skip
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
