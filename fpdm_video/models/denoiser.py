"""Stage 2 of FPDM: a diffusers UNet2DConditionModel conditioned three ways.

- **Fused embedding** (stage 1) -> the UNet's class embedding (class_embed_type "projection").
- **Source tokens** -> Linear -> GELU -> Dropout -> LayerNorm -> Linear -> Dropout -> the
  cross-attention context.
- **Pose map** -> ControlNetConditioningEmbedding, added to the output of conv_in. The pose
  feature is an explicit input of the call: it travels to conv_in as extra channels of the UNet's
  sample, and :class:`PoseConvIn` (which wraps the original conv) splits them off and adds them to
  the conv's output. Nothing is set on a module before a call; the UNet is diffusers' own, not a copy.

The embedding's stride-2 convs number ``len(block_out_channels) - 1``, so the pose map (at image
resolution R) lands on the latent grid (R / f) when that equals log2 of the VAE factor f: 3 for SD's
f = 8 with (16, 32, 96, 256); a size with f = 4 uses three blocks such as (16, 32, 96).

A call's conditions come as :class:`RowConditions`. Each can be switched off per row (``keep_*``
flags): the model then replaces it by zeros itself, the same zeros as the condition dropout of
training, which is what the guidance branches need. No attention processor decides that.

Sampling tricks act through the call's hooks (:mod:`fpdm_video.models.hooks`), given as a
:class:`~fpdm_video.models.hooks.base.UNetCall`: the attention processor set on every layer when
the model is built (:class:`~fpdm_video.models.hooks.attention.HookedAttnProcessor`) hands each
attention to them, and :meth:`HookSet.run_unet` may run the UNet or part of it. Without a call,
the UNet runs as in training.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from fpdm_video.config import PoseEmbeddingConfig, SourceProjectionConfig
from fpdm_video.models.guidance_embedding import guidance_embedding
from fpdm_video.models.hooks.attention import HookedAttnProcessor
from fpdm_video.models.hooks.base import UNetCall


@dataclass(frozen=True)
class RowConditions:
    """The conditions of the rows of one UNet call, and which rows keep each (the others see zeros)."""

    context: Tensor  # (B, N, C_ctx) projected source tokens
    fused: Tensor  # (B, D) stage 1 fused embedding
    pose_map: Tensor | None = None  # (B, 3, R, R) [0, 1] target pose maps; embedded by the call unless pose_feature is given
    pose_feature: Tensor | None = None  # (B, C0, h, w) the pose maps' embedding (``pose_features``), computed once
    keep_pose: bool | Tensor = True  # True / False for every row, or (B,) bool
    keep_source: bool | Tensor = True
    keep_fused: bool | Tensor = True
    guidance: Tensor | None = None  # (B,) the scale a few-step student is told (its guidance embedding); None: 1 (none)


class PoseConvIn(nn.Module):
    """conv_in of the UNet: the sample's first ``latent_channels`` channels through the conv, plus the rest (the pose feature)."""

    def __init__(self, conv: nn.Conv2d) -> None:
        super().__init__()
        self.conv = conv

    def forward(self, sample: Tensor) -> Tensor:
        latents, pose_feature = sample.split([self.conv.in_channels, sample.shape[1] - self.conv.in_channels], dim=1)
        out = self.conv(latents)
        return out + pose_feature.to(out.dtype) if pose_feature.shape[1] else out


class SourceProjection(nn.Module):
    """Source tokens (B, N, C_src) -> context (B, N, cross_attention_dim)."""

    def __init__(self, token_dim: int, context_dim: int, config: SourceProjectionConfig) -> None:
        super().__init__()
        self.layers = nn.Sequential(
            nn.Linear(token_dim, config.hidden_dim),
            nn.GELU(),
            nn.Dropout(config.dropout),
            nn.LayerNorm(config.hidden_dim),
            nn.Linear(config.hidden_dim, context_dim),
            nn.Dropout(config.dropout),
        )

    def forward(self, tokens: Tensor) -> Tensor:
        return self.layers(tokens)


def masked(value: Tensor, keep: bool | Tensor) -> Tensor:
    """``value`` (B, ...) with the rows that do not keep it replaced by zeros."""
    if isinstance(keep, bool):
        return value if keep else torch.zeros_like(value)
    keep = keep.to(device=value.device)
    if keep.shape != (value.shape[0],):
        raise ValueError(f"condition flags must have shape ({value.shape[0]},), got {tuple(keep.shape)}")
    return value * keep.to(value.dtype).view((value.shape[0],) + (1,) * (value.ndim - 1))


class ConditionedUNet(nn.Module):
    """UNet2DConditionModel + pose embedding + source-token projection."""

    def __init__(self, unet: nn.Module, token_dim: int, pose: PoseEmbeddingConfig, projection: SourceProjectionConfig) -> None:
        from diffusers.models.controlnets.controlnet import ControlNetConditioningEmbedding

        super().__init__()
        if unet.config.class_embed_type != "projection":
            raise ValueError("the FPDM UNet needs class_embed_type='projection' for the fused embedding")
        if unet.config.center_input_sample:
            raise ValueError("the FPDM UNet cannot centre its input: the pose feature travels in the sample's channels")
        self.unet = unet
        if not isinstance(unet.conv_in, PoseConvIn):
            unet.conv_in = PoseConvIn(unet.conv_in)
        self.pose_embedding = ControlNetConditioningEmbedding(
            conditioning_embedding_channels=unet.config.block_out_channels[0],
            conditioning_channels=3,
            block_out_channels=tuple(pose.block_out_channels),
        )
        self.source_projection = SourceProjection(token_dim, unet.config.cross_attention_dim, projection)
        self.guidance_dim = int(unet.config.time_cond_proj_dim or 0)  # > 0: a few-step student told its guidance scale
        unet.set_attn_processor(HookedAttnProcessor())  # diffusers' SDPA attention; the call's hooks act through it

    def project_source(self, tokens: Tensor) -> Tensor:
        """Frozen-encoder tokens (B, N, C_src) -> cross-attention context (B, N, C_ctx)."""
        return self.source_projection(tokens)

    def pose_features(self, pose_map: Tensor) -> Tensor:
        """Pose maps (B, 3, H, W) [0, 1] -> pose features (B, C0, h, w) on the latent grid."""
        return self.pose_embedding(pose_map)

    def forward(self, latents: Tensor, timesteps: Tensor, rows: RowConditions, call: UNetCall | None = None) -> Tensor:
        """Model output (eps or v), (B, C, h, w), of latents (B, C, h, w) at ``timesteps`` (B,) under ``rows``' conditions.

        ``call``, when given, lets its hooks act (:mod:`fpdm_video.models.hooks`).
        """
        pose_feature = rows.pose_feature
        if pose_feature is None:
            pose_feature = self.pose_features(rows.pose_map.to(latents.dtype))  # (B, C0, h, w)
        if pose_feature.shape[-2:] != latents.shape[-2:]:
            raise ValueError(
                f"pose feature {tuple(pose_feature.shape[-2:])} does not match the latent grid "
                f"{tuple(latents.shape[-2:])}: the pose embedding's stride must equal the VAE factor"
            )
        sample = torch.cat([latents, masked(pose_feature, rows.keep_pose).to(latents.dtype)], dim=1)  # (B, C + C0, h, w)
        kwargs = {
            "timestep": timesteps,
            "encoder_hidden_states": masked(rows.context, rows.keep_source),
            "class_labels": masked(rows.fused, rows.keep_fused),
            "cross_attention_kwargs": None if call is None else {"call": call},
        }
        if self.guidance_dim:
            scale = rows.guidance if rows.guidance is not None else torch.ones(latents.shape[0], device=latents.device)
            kwargs["timestep_cond"] = guidance_embedding(scale.to(latents.device, latents.dtype), self.guidance_dim)

        def run(x: Tensor) -> Tensor:
            return self.unet(x, **kwargs).sample

        return run(sample) if call is None else call.hooks.run_unet(call, self.unet, run, sample, kwargs)
