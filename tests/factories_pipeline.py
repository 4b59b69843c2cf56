"""A small fake FPDM with the model interface the sampling pipeline uses, for pipeline tests.

``FakeFPDM`` is built from scratch with seeded weights: an encoder of patch tokens, a fusion of the
image embedding with a pose embedding, a conditioned denoiser whose output depends nonlinearly on
every condition (each one switchable per row, as the real model's ``RowConditions.keep_*`` flags), and a VAE-like
pair of maps between images and latents. It also counts its calls. ``BranchProbe`` replaces the
denoiser with one whose output per guidance branch is known in closed form.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace

import torch
import torch.nn.functional as F
from einops import rearrange
from torch import Tensor, nn


@dataclass
class FakeModelConfig:
    """What the pipeline reads from ``model.config``."""

    resolution: int = 32  # side R of the square model canvas in pixels
    name: str = "fake"  # model size name
    student: None = None  # not a few-step student


@dataclass
class FakeNoiseSchedule:
    """What the samplers read from ``model.noise_schedule`` (Stable Diffusion 2.x values)."""

    num_train_timesteps: int = 1000  # length T of the training chain
    beta_schedule: str = "scaled_linear"  # "linear" | "scaled_linear"
    beta_start: float = 0.00085  # β_0
    beta_end: float = 0.012  # β_{T-1}
    prediction_type: str = "epsilon"  # "epsilon" | "v_prediction"
    zero_terminal_snr: bool = False  # ᾱ_{T-1} = 0 (needs v_prediction)
    timestep_spacing: str = "leading"  # "leading" | "trailing"


@dataclass
class FakeSourceEncoding:
    """Same fields as the model's SourceEncoding."""

    context: Tensor  # (B, N, C_ctx) source tokens
    image_embedding: Tensor  # (B, D) e_img


@dataclass
class CallCounts:
    """How often each model method ran, and how many rows each denoise call had."""

    encode_source: int = 0  # calls of encode_source
    fuse: int = 0  # calls of fuse
    denoise_rows: list[int] = field(default_factory=list)  # rows per denoise call


def _flag(flag: bool | Tensor, rows: int, like: Tensor) -> Tensor:
    """A (rows, 1, 1, 1) float mask from a bool or a (rows,) bool tensor."""
    if isinstance(flag, bool):
        return torch.full((rows, 1, 1, 1), float(flag), device=like.device, dtype=like.dtype)
    return flag.to(device=like.device, dtype=like.dtype).view(rows, 1, 1, 1)


class FakeFPDM(nn.Module):
    """Tiny seeded stand-in for ``fpdm_video.models.FPDM`` (same methods, shapes and flag semantics)."""

    def __init__(self, resolution: int = 32, prediction_type: str = "epsilon", seed: int = 0) -> None:
        super().__init__()
        torch.manual_seed(seed)
        self.config = FakeModelConfig(resolution=resolution)
        self.noise_schedule = FakeNoiseSchedule(prediction_type=prediction_type)
        self.latent_channels = 4
        self.canvas = (resolution, resolution)
        self.latent_hw = (resolution // 8, resolution // 8)
        width, ctx, dim = 16, 12, 10
        self.patchify = nn.Conv2d(3, ctx, kernel_size=8, stride=8)  # source image -> tokens
        self.image_proj = nn.Linear(ctx, dim)  # tokens -> e_img
        self.pose_proj = nn.Linear(3, dim)  # pooled pose map -> e_pose
        self.pose_embed = nn.Conv2d(3, width, kernel_size=8, stride=8)  # pose map -> latent grid
        self.conv_in = nn.Conv2d(self.latent_channels, width, 3, padding=1)
        self.time_proj = nn.Linear(8, width)
        self.fused_proj = nn.Linear(dim, width)
        self.context_proj = nn.Linear(ctx, width)
        self.conv_out = nn.Conv2d(width, self.latent_channels, 3, padding=1)
        self.to_latent = nn.Conv2d(3, self.latent_channels, 1)
        self.from_latent = nn.Conv2d(self.latent_channels, 3, 1)
        self.calls = CallCounts()

    @property
    def denoiser(self) -> SimpleNamespace:
        """What the sampling hooks reach: a UNet with no attention or up blocks, and the pose embedding."""
        return SimpleNamespace(unet=nn.Module(), pose_features=self.pose_features)

    def encode_source(self, source: Tensor) -> FakeSourceEncoding:
        self.calls.encode_source += 1
        tokens = rearrange(self.patchify(source * 2 - 1), "b c h w -> b (h w) c")  # (B, N, C_ctx)
        return FakeSourceEncoding(context=tokens, image_embedding=self.image_proj(tokens.mean(dim=1)))

    def fuse(self, image_embedding: Tensor, pose_map: Tensor) -> Tensor:
        self.calls.fuse += 1
        e_pose = self.pose_proj(pose_map.mean(dim=(2, 3)))  # (B, D)
        return F.normalize(torch.tanh(image_embedding + e_pose), dim=-1)  # (B, D)

    def pose_features(self, pose_map: Tensor) -> Tensor:
        return self.pose_embed(pose_map * 2 - 1)  # (B, W, s, s)

    def denoise(self, latents, timesteps, rows, call=None):
        use_pose, use_source, use_fused, context, fused = rows.keep_pose, rows.keep_source, rows.keep_fused, rows.context, rows.fused
        pose_feature = self.pose_features(rows.pose_map) if rows.pose_feature is None else rows.pose_feature
        rows = latents.shape[0]
        self.calls.denoise_rows.append(rows)
        t = torch.as_tensor(timesteps, device=latents.device, dtype=latents.dtype).expand(rows)  # (B,)
        freqs = torch.arange(1, 5, device=latents.device, dtype=latents.dtype)
        t_emb = torch.cat([torch.sin(t[:, None] * freqs / 300), torch.cos(t[:, None] * freqs / 300)], dim=1)  # (B, 8)
        h = self.conv_in(latents) + self.time_proj(t_emb)[:, :, None, None]  # (B, W, s, s)
        h = h + _flag(use_pose, rows, h) * pose_feature
        h = h + _flag(use_source, rows, h) * self.context_proj(context.mean(dim=1))[:, :, None, None]
        h = h + _flag(use_fused, rows, h) * self.fused_proj(fused)[:, :, None, None]
        return self.conv_out(F.silu(h))  # (B, C, s, s)

    def encode_images(self, images: Tensor) -> Tensor:
        return self.to_latent(F.avg_pool2d(images * 2 - 1, 8))  # (B, C, s, s)

    def decode_latents(self, latents: Tensor, decoder: str = "vae") -> Tensor:
        assert decoder == "vae", "the fake has no tiny decoder"
        return torch.sigmoid(self.from_latent(F.interpolate(latents, scale_factor=8, mode="nearest")))  # (B, 3, R, R)


# Per-branch offsets of BranchProbe: the u, s and f outputs differ from the latents by these.
PROBE_POSE, PROBE_SOURCE, PROBE_FUSED = 3.0, 5.0, 11.0


class BranchProbe(FakeFPDM):
    """Denoiser output = latents + 3 use_pose + 5 use_source + 11 use_fused, so per branch:
    u = x, s = x + 8, f = x + 19, and the guided output is x + 19 g (x + 19 without guidance)."""

    def denoise(self, latents, timesteps, rows, call=None):
        use_pose, use_source, use_fused = rows.keep_pose, rows.keep_source, rows.keep_fused
        rows = latents.shape[0]
        self.calls.denoise_rows.append(rows)
        self.last_flags = (use_pose, use_source, use_fused)
        return (
            latents
            + PROBE_POSE * _flag(use_pose, rows, latents)
            + PROBE_SOURCE * _flag(use_source, rows, latents)
            + PROBE_FUSED * _flag(use_fused, rows, latents)
        )


def random_pose_maps(frames: int, resolution: int = 32, seed: int = 0) -> Tensor:
    """(frames, 3, R, R) float in [0, 1]: sparse bright strokes on black, like rendered skeletons."""
    generator = torch.Generator().manual_seed(seed)
    maps = torch.zeros(frames, 3, resolution, resolution)
    strokes = torch.rand(frames, 3, resolution, resolution, generator=generator) > 0.9
    maps[strokes] = torch.rand(int(strokes.sum()), generator=generator)
    return maps


def random_source_image(resolution: int = 32, seed: int = 1) -> Tensor:
    """(3, R, R) float in [0, 1]: a smooth random picture."""
    generator = torch.Generator().manual_seed(seed)
    coarse = torch.rand(1, 3, 4, 4, generator=generator)
    return F.interpolate(coarse, size=(resolution, resolution), mode="bilinear", align_corners=False)[0]


def tiny_fpdm(seed: int = 0, prediction_type: str = "epsilon") -> nn.Module:
    """The real ``tiny`` FPDM with seeded random weights, in eval mode.

    Layers that start at zero on purpose (the ControlNet pose embedding's output conv, ...) are given
    small random weights, so that every condition changes the output as it would after training.
    """
    from fpdm_video.models.registry import build_model, tiny_config

    config = tiny_config()
    config.noise_schedule.prediction_type = prediction_type
    torch.manual_seed(seed)
    model = build_model(config).eval()
    with torch.no_grad():
        for parameter in model.parameters():
            if parameter.ndim > 1 and not parameter.any():
                parameter.normal_(0.0, 0.05)
    return model


def guided_output(model, latents, t, pose, context, fused, g, g_source=None, *, step=0, hooks=None, pose_feature=None,
                  shared_start=False, two_branches=True):  # fmt: skip
    """One guided model output through ``pipelines.guidance.GuidedDenoiser`` (what the sampler loop calls)."""
    from fpdm_video.models.hooks import NO_HOOKS
    from pipelines.guidance import ChunkConditions, GuidedDenoiser, Guidance

    conditions = ChunkConditions(context, fused, pose, pose_feature=pose_feature, shared_start=shared_start)
    guidance = Guidance(g, g_source, two_branches=two_branches, num_train_timesteps=model.noise_schedule.num_train_timesteps)
    return GuidedDenoiser(model, conditions, guidance, hooks or NO_HOOKS)(latents, t, step)


def rows(context, fused, pose=None, *, pose_feature=None, keep_pose=True, keep_source=True, keep_fused=True):
    """``RowConditions`` for direct denoise calls."""
    from fpdm_video.models.denoiser import RowConditions

    return RowConditions(context, fused, pose_map=pose, pose_feature=pose_feature, keep_pose=keep_pose, keep_source=keep_source,
                         keep_fused=keep_fused)  # fmt: skip
