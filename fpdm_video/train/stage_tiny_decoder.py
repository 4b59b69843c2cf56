"""A tiny decoder for a checkpoint's VAE (:mod:`fpdm_video.models.tiny_decoder`), trained to reproduce it.

Per micro-batch: target frames -> the VAE posterior -> a latent sample; the VAE decoder's image of
it (frozen, no gradient) is the target, and the tiny decoder learns it from the same latents with
an L1 plus a mean-squared loss (``l1_weight``, ``mse_weight``). Everything else of the model is
frozen and unchanged; the saved checkpoint is the input checkpoint with the decoder added or
replaced (``tiny_decoder`` in its config, its weights under ``tiny_decoder.``). With
``from_checkpoint``, the checkpoint's own tiny decoder (of the same layout) is where the training
starts, instead of a fresh one; a ``nearest`` decoder given ``upsample: subpixel`` (and otherwise the
same layout) starts as its exact ``subpixel`` form (:func:`~fpdm_video.models.tiny_decoder.as_subpixel`).
With ``data.cache``, each frame's posterior is computed once.
"""

from __future__ import annotations

from dataclasses import fields, replace

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from fpdm_video.config import TinyDecoderConfig
from fpdm_video.errors import InputError
from fpdm_video.models.tiny_decoder import TinyDecoder, as_subpixel
from fpdm_video.train.stage_diffusion import DiffusionStage


def starting_decoder(model, layout: TinyDecoderConfig, path: str) -> nn.Module:
    """The tiny decoder of the checkpoint at ``path``, to go on training, in ``layout`` (InputError if it has none, or
    another layout than ``layout`` or the ``nearest`` form of a ``subpixel`` one)."""
    own = model.config.tiny_decoder
    if model.tiny_decoder is None or own is None:
        raise InputError(f"tiny_decoder.from_checkpoint: {path} has no tiny decoder to start from")
    if (own.upsample, layout.upsample) == ("nearest", "subpixel") and own == replace(layout, upsample="nearest"):
        return as_subpixel(model.tiny_decoder, model.latent_channels, model.vae_factor, own)
    if own != layout:
        differ = ", ".join(f"{f.name} {getattr(own, f.name)} (the section: {getattr(layout, f.name)})" for f in fields(layout)
                           if getattr(own, f.name) != getattr(layout, f.name))  # fmt: skip
        raise InputError(f"tiny_decoder.from_checkpoint: the tiny decoder of {path} has another layout: {differ}")
    return model.tiny_decoder


class TinyDecoderStage(DiffusionStage):
    name = "tiny_decoder"

    def __init__(self, model, config) -> None:
        layout = TinyDecoderConfig(**{f.name: getattr(config.tiny_decoder, f.name) for f in fields(TinyDecoderConfig)})
        try:
            decoder = TinyDecoder(model.latent_channels, model.vae_factor, layout)
        except ValueError as e:  # a layout that does not fit this checkpoint's VAE: the config's fault, said in one line
            raise InputError(f"{e} (the training config's tiny_decoder section)") from None
        if config.tiny_decoder.from_checkpoint:
            decoder = starting_decoder(model, layout, config.init)
        model.config.tiny_decoder = layout
        model.tiny_decoder = decoder.to(next(model.parameters()).device)
        super().__init__(model, config)

    def trained_modules(self) -> list[nn.Module]:
        return [self.model.tiny_decoder]

    def forward(self, batch: dict[str, Tensor], generator: torch.Generator) -> tuple[Tensor, dict[str, float]]:
        t = self.config.tiny_decoder
        mean, std = self._posterior(batch)
        latents = mean + std * torch.randn(mean.shape, generator=generator, device=mean.device)  # unscaled, as the VAE decodes them
        with torch.no_grad():
            target = self.model.vae.decode(latents).sample.clamp(-1, 1)
        pred = self.model.tiny_decoder(latents)
        l1, mse = F.l1_loss(pred.float(), target.float()), F.mse_loss(pred.float(), target.float())
        loss = t.l1_weight * l1 + t.mse_weight * mse
        return loss, {"loss": loss.item(), "l1": l1.item(), "mse": mse.item()}
