"""Stage 2 of FPDM: a diffusers UNet2DConditionModel conditioned three ways.

- **Fused embedding** (stage 1) -> the UNet's class embedding (class_embed_type "projection").
- **Source tokens** -> Linear -> GELU -> Dropout -> LayerNorm -> Linear -> Dropout -> the
  cross-attention context.
- **Pose map** -> ControlNetConditioningEmbedding, added to the output of conv_in. conv_in is
  wrapped by :class:`PoseConvIn`, which holds the original conv and adds the pose feature set just
  before the UNet call; the UNet itself is diffusers' own, not a copy.

The embedding's stride-2 convs number ``len(block_out_channels) - 1``, so the pose map (at image
resolution R) lands on the latent grid (R / f) when that equals log2 of the VAE factor f: 3 for SD's
f = 8 with (16, 32, 96, 256); a size with f = 4 uses three blocks such as (16, 32, 96).

Each condition can be switched off per row (``use_*`` flags): it is then replaced by zeros, the
same zeros as the condition dropout of training, which is what the guidance branches need.

Sampling reuses what does not change between UNet calls: the pose feature of each frame
(:meth:`ConditionedUNet.pose_features`, once per frame for all steps and branches) and the
cross-attention keys and values of the context (:meth:`ConditionedUNet.context_kv`, once per video,
used by the :class:`~fpdm_video.models.context_cache.ContextAttnProcessor` set on every attention
layer). Given neither, a call computes everything itself, as in training. :meth:`ConditionedUNet.forward_deep`
is the same call with step feature caching (:mod:`fpdm_video.models.deep_cache`).
"""

from __future__ import annotations

from torch import Tensor, nn

from fpdm_video.config import PoseEmbeddingConfig, SourceProjectionConfig
from fpdm_video.models.context_cache import ContextAttnProcessor, ContextKV, RowsKV, context_kv
from fpdm_video.models.deep_cache import deep_cache_problem, full_forward_keeping_feature, shallow_forward
from fpdm_video.models.temporal_attention import TemporalView


class PoseConvIn(nn.Module):
    """conv_in of the UNet, plus a pose feature (B, C0, h, w) added to its output when set."""

    def __init__(self, conv: nn.Conv2d) -> None:
        super().__init__()
        self.conv = conv
        self.pose_feature: Tensor | None = None

    def forward(self, sample: Tensor) -> Tensor:
        out = self.conv(sample)
        if self.pose_feature is not None:
            out = out + self.pose_feature.to(out.dtype)
        return out


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


def _mask(flag: bool | Tensor, like: Tensor) -> Tensor | None:
    """None where the condition is fully on, else a (B, 1, ...) 0/1 mask broadcastable to ``like``."""
    if isinstance(flag, bool):
        return None if flag else like.new_zeros((like.shape[0],) + (1,) * (like.ndim - 1))
    flag = flag.to(device=like.device)
    if flag.shape != (like.shape[0],):
        raise ValueError(f"condition flags must have shape ({like.shape[0]},), got {tuple(flag.shape)}")
    return flag.to(like.dtype).view((like.shape[0],) + (1,) * (like.ndim - 1))


def _apply(value: Tensor, flag: bool | Tensor) -> Tensor:
    mask = _mask(flag, value)
    return value if mask is None else value * mask


class ConditionedUNet(nn.Module):
    """UNet2DConditionModel + pose embedding + source-token projection."""

    def __init__(self, unet: nn.Module, token_dim: int, pose: PoseEmbeddingConfig, projection: SourceProjectionConfig) -> None:
        from diffusers.models.controlnets.controlnet import ControlNetConditioningEmbedding

        super().__init__()
        if unet.config.class_embed_type != "projection":
            raise ValueError("the FPDM UNet needs class_embed_type='projection' for the fused embedding")
        self.unet = unet
        if not isinstance(unet.conv_in, PoseConvIn):
            unet.conv_in = PoseConvIn(unet.conv_in)
        self.pose_embedding = ControlNetConditioningEmbedding(
            conditioning_embedding_channels=unet.config.block_out_channels[0],
            conditioning_channels=3,
            block_out_channels=tuple(pose.block_out_channels),
        )
        self.source_projection = SourceProjection(token_dim, unet.config.cross_attention_dim, projection)
        unet.set_attn_processor(ContextAttnProcessor())  # diffusers' SDPA attention, plus cached context K/V when given

    def project_source(self, tokens: Tensor) -> Tensor:
        """Frozen-encoder tokens (B, N, C_src) -> cross-attention context (B, N, C_ctx)."""
        return self.source_projection(tokens)

    def pose_features(self, pose_map: Tensor) -> Tensor:
        """Pose maps (B, 3, H, W) [0, 1] -> pose features (B, C0, h, w) on the latent grid."""
        return self.pose_embedding(pose_map)

    def context_kv(self, context: Tensor) -> ContextKV:
        """The cross-attention keys and values of one context (1, N, C_ctx), and of zeros, for every layer."""
        return context_kv(self.unet, context)

    def forward(
        self,
        latents: Tensor,
        timesteps: Tensor,
        pose_map: Tensor | None,
        context: Tensor,
        fused: Tensor,
        *,
        use_pose: bool | Tensor = True,
        use_source: bool | Tensor = True,
        use_fused: bool | Tensor = True,
        pose_feature: Tensor | None = None,
        kv: ContextKV | None = None,
        temporal: TemporalView | None = None,
    ) -> Tensor:
        """Model output (eps or v), (B, C, s, s). pose_map (B, 3, R, R) [0, 1]; context (B, N, C_ctx); fused (B, D).

        ``pose_feature`` (B, C0, h, w), when given, stands for the pose map's embedding; ``kv``, when
        given, holds the context's cross-attention keys and values (``context`` must then be that
        context, row for row, and is used only for its shape); ``temporal``, when given, makes the
        self-attention layers also attend to anchor frames (:mod:`fpdm_video.models.temporal_attention`).
        """
        return self._conditioned(lambda unet, kwargs: unet(latents, timesteps, **kwargs).sample, latents, pose_map, context, fused,
                                 use_pose=use_pose, use_source=use_source, use_fused=use_fused, pose_feature=pose_feature, kv=kv,
                                 temporal=temporal)  # fmt: skip

    def forward_deep(self, latents: Tensor, timesteps: Tensor, pose_map: Tensor | None, context: Tensor, fused: Tensor, *,
                     deep_feature: Tensor | None, **conditions) -> tuple[Tensor, Tensor]:  # fmt: skip
        """(model output, deep feature) with step feature caching (:mod:`fpdm_video.models.deep_cache`).

        Without ``deep_feature`` the whole UNet runs and the feature it kept is returned; with it,
        only the shallow blocks run around that feature, which is returned unchanged.
        """
        def run(unet, kwargs):
            if deep_feature is None:
                return full_forward_keeping_feature(unet, latents, timesteps, **kwargs)
            return shallow_forward(unet, latents, timesteps, deep_feature, **kwargs), deep_feature

        problem = deep_cache_problem(self.unet)
        if problem is not None:
            raise ValueError(f"step feature caching cannot run on this UNet: {problem}")
        return self._conditioned(run, latents, pose_map, context, fused, **conditions)

    def _conditioned(self, run, latents: Tensor, pose_map: Tensor | None, context: Tensor, fused: Tensor, *,
                     use_pose: bool | Tensor = True, use_source: bool | Tensor = True, use_fused: bool | Tensor = True,
                     pose_feature: Tensor | None = None, kv: ContextKV | None = None, temporal: TemporalView | None = None):  # fmt: skip
        """``run(unet, kwargs)`` with the conditions applied: the pose feature on conv_in, the UNet's keyword arguments."""
        if pose_feature is None:
            pose_feature = self.pose_features(pose_map.to(latents.dtype))  # (B, C0, s, s)
        if pose_feature.shape[-2:] != latents.shape[-2:]:
            raise ValueError(
                f"pose feature {tuple(pose_feature.shape[-2:])} does not match the latent grid "
                f"{tuple(latents.shape[-2:])}: the pose embedding's stride must equal the VAE factor"
            )
        conv_in: PoseConvIn = self.unet.conv_in  # type: ignore[assignment]
        conv_in.pose_feature = _apply(pose_feature, use_pose)
        attention = {} if kv is None else {"context_kv": RowsKV(kv, use_source)}
        if temporal is not None:
            attention["temporal"] = temporal
        kwargs = {
            "encoder_hidden_states": context if kv is not None else _apply(context, use_source),
            "class_labels": _apply(fused, use_fused),
            "cross_attention_kwargs": attention or None,
        }
        try:
            return run(self.unet, kwargs)
        finally:
            conv_in.pose_feature = None
