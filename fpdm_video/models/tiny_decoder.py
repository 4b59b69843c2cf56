"""A tiny decoder: latents -> images, trained to reproduce the VAE decoder (in the manner of TAESD, Bohan 2023).

At few sampling steps the VAE decoder costs more than the UNet (at sd21-256 about 310 GFLOP, more
than one UNet row). This decoder is a plain stack of 3x3 convolutions: the latents are soft-clamped
(``3 tanh(x / 3)``), widened to ``channels``, then each resolution level has ``blocks`` residual
blocks and is followed by a nearest-neighbour 2x upsampling, until the VAE's factor is reached; a
last conv gives RGB in [-1, 1] (as the VAE decoder's output). It sees the *unscaled* latents, as the
VAE decoder does. ``python -m fpdm_video.train tiny-decoder`` trains it on a checkpoint's own VAE.
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
        if config.channels < 1 or config.blocks < 1:
            raise ValueError(f"tiny decoder channels and blocks must be positive, got {config.channels} and {config.blocks}")
        c = config.channels
        layers: list[nn.Module] = [nn.Conv2d(latent_channels, c, 3, padding=1), nn.ReLU()]
        for _ in range(levels):
            layers += [*(Block(c) for _ in range(config.blocks)), nn.Upsample(scale_factor=2), nn.Conv2d(c, c, 3, padding=1, bias=False)]
        layers += [Block(c), nn.Conv2d(c, 3, 3, padding=1)]
        self.layers = nn.Sequential(*layers)

    def forward(self, latents: Tensor) -> Tensor:
        return self.layers(torch.tanh(latents / 3) * 3).clamp(-1, 1)
