"""FPDM: the whole model, stage 1 fusion + stage 2 conditioned latent diffusion, as one module.

The model core takes and returns tensors: images and pose maps are float (B, 3, H, W) in [0, 1] on
the model's canvas (square for most sizes), latents are scaled VAE latents (B, C, h, w). Outer code (pipelines/) passes paths and arrays.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

import torch
from torch import Tensor, nn

from fpdm_video.config import FPDMConfig, NoiseScheduleConfig, canvas_of
from fpdm_video.models.denoiser import ConditionedUNet, RowConditions
from fpdm_video.models.encoders import SourceTokenEncoder
from fpdm_video.models.fusion import FusionModel
from fpdm_video.models.hooks.base import UNetCall
from fpdm_video.models.parts import build_unet, build_vae
from fpdm_video.models.tiny_decoder import TinyDecoder

logger = logging.getLogger(__name__)


@dataclass
class SourceEncoding:
    """What one source image contributes to every frame (computed once per video)."""

    context: Tensor  # (B, N, C_ctx) source patch tokens projected to cross_attention_dim
    image_embedding: Tensor  # (B, D) e_img: the fusion encoder's embedding of the source image


def _row_timesteps(timesteps: Tensor | int, latents: Tensor) -> Tensor:
    """The timestep of every row, (B,), from one int or tensor."""
    if not torch.is_tensor(timesteps):
        timesteps = torch.tensor(timesteps, device=latents.device)
    return timesteps.expand(latents.shape[0]) if timesteps.ndim == 0 else timesteps


def _as_built(config: FPDMConfig, fusion_encoder: nn.Module, source_encoder: nn.Module) -> FPDMConfig:
    """``config`` with each transformers encoder's config as built (its architecture, mean and std), so that a
    saved checkpoint rebuilds it without the pretrained folder."""
    fusion, source = config.fusion_encoder, config.source_encoder
    if fusion.kind == "hf":
        fusion = replace(fusion, hf=fusion_encoder.config)
    if source.kind == "hf":
        source = replace(source, hf=source_encoder.config)
    return replace(config, fusion_encoder=fusion, source_encoder=source)


class FPDM(nn.Module):
    """Fusion model + frozen source encoder + conditioned UNet + VAE."""

    def __init__(self, config: FPDMConfig, *, load_pretrained: bool = True) -> None:
        super().__init__()
        self.fusion = FusionModel(config.fusion_encoder, config.combiner, load_pretrained=load_pretrained)
        self.source_encoder = SourceTokenEncoder(config.source_encoder, load_pretrained=load_pretrained)
        self.config = _as_built(config, self.fusion.encoder, self.source_encoder.encoder)
        self.vae = build_vae(config.vae, load_pretrained=load_pretrained)
        self.vae.requires_grad_(False)
        unet = build_unet(config.unet, fused_dim=self.fusion.dim, load_pretrained=load_pretrained)
        self.denoiser = ConditionedUNet(unet, self.source_encoder.token_dim, config.pose_embedding, config.source_projection)
        self.vae_factor = 2 ** (len(self.vae.config.block_out_channels) - 1)  # pixels per latent
        self.canvas = canvas_of(config)  # (W, H) in pixels
        if any(side % self.vae_factor for side in self.canvas):
            raise ValueError(f"resolution {config.resolution} is not a multiple of the VAE factor {self.vae_factor}")
        self.latent_channels = int(self.vae.config.latent_channels)
        self.latent_hw = (self.canvas[1] // self.vae_factor, self.canvas[0] // self.vae_factor)  # (h, w) of the latents
        self.scaling_factor = float(config.vae.scaling_factor)
        self.tiny_decoder = None if config.tiny_decoder is None else TinyDecoder(self.latent_channels, self.vae_factor, config.tiny_decoder)

    @property
    def noise_schedule(self) -> NoiseScheduleConfig:
        return self.config.noise_schedule

    # ---- conditions --------------------------------------------------------------------------
    def encode_source(self, source: Tensor) -> SourceEncoding:
        """Source images (B, 3, R, R) [0, 1] -> projected tokens and e_img."""
        tokens = self.source_encoder(source)  # (B, N, C_src)
        return SourceEncoding(context=self.denoiser.project_source(tokens), image_embedding=self.fusion.embed(source))

    def fuse(self, image_embedding: Tensor, pose_map: Tensor) -> Tensor:
        """e_img (B, D) and target pose maps (B, 3, R, R) [0, 1] -> fused (B, D), L2-normalised."""
        return self.fusion.combiner(image_embedding, self.fusion.embed(pose_map))

    def pose_features(self, pose_map: Tensor) -> Tensor:
        """Pose maps (B, 3, R, R) [0, 1] -> the denoiser's pose features (B, C0, s, s), reusable for every step."""
        return self.denoiser.pose_features(pose_map)

    def denoise(self, latents: Tensor, timesteps: Tensor | int, rows: RowConditions, call: UNetCall | None = None) -> Tensor:
        """The UNet's prediction (eps or v, per ``noise_schedule.prediction_type``), (B, C, s, s), under ``rows``' conditions.

        ``call`` (a :class:`~fpdm_video.models.hooks.base.UNetCall`) lets the sampling hooks of a run act.
        """
        return self.denoiser(latents, _row_timesteps(timesteps, latents), rows, call)

    # ---- latents -----------------------------------------------------------------------------
    def encode_images(self, images: Tensor, generator: torch.Generator | None = None) -> Tensor:
        """Images (B, 3, R, R) [0, 1] -> scaled latents (B, C, s, s); the posterior mean without a generator."""
        dist = self.vae.encode(images * 2 - 1).latent_dist
        latents = dist.mean if generator is None else dist.sample(generator)
        return latents * self.scaling_factor

    def decode_latents(self, latents: Tensor, decoder: str = "vae") -> Tensor:
        """Scaled latents (B, C, s, s) -> images (B, 3, R, R) in [0, 1], by the VAE decoder or (``"tiny"``) the tiny decoder."""
        if decoder == "tiny":
            if self.tiny_decoder is None:
                raise ValueError(f"model {self.config.name} has no tiny decoder; train one with python -m fpdm_video.train tiny-decoder")
            images = self.tiny_decoder(latents / self.scaling_factor)
        elif decoder == "vae":
            images = self.vae.decode(latents / self.scaling_factor).sample
        else:
            raise ValueError(f"unknown decoder {decoder!r}; 'vae' or 'tiny'")
        return ((images + 1) / 2).clamp(0, 1)
