"""Stage 2: the conditioned latent-diffusion UNet, with the fusion model frozen.

Per micro-batch: target frames -> VAE posterior -> a latent sample (x_0); noise ε plus the offset
``noise_offset * N(0, 1)`` per (sample, channel) (the paper's 0.1); a uniform timestep; the UNet
regresses ε (or v) from x_t with three conditions, each dropped independently with probability
``condition_dropout`` (the paper's 0.2): the target pose map, the source tokens, and the fused
embedding Combiner(E(source), E(target pose)). Dropped conditions are zeros, as at sampling time.

The VAE and the fusion model are frozen; the source-token encoder is frozen too (the paper's
pretrained encoder) unless ``train_source_encoder`` is set, for sizes whose encoder has no
pretrained weights. With ``data.cache``, each training frame's posterior (mean, std) is computed
once and a fresh latent is sampled from it at each use. The cache is keyed by the training set's
(clip, frame) indices, so it serves training batches only; held-out batches (whose indices name
frames of another dataset) are always encoded afresh. ``diffusion.noise_schedule`` sets fields of
the model's noise schedule (prediction type, zero terminal SNR, sampling spacing) before training
starts; the trained checkpoint's config then names them.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from fpdm_video.config import NoiseScheduleConfig, from_dict, to_dict
from fpdm_video.models.denoiser import RowConditions
from fpdm_video.models.noise import add_noise, alphas_cumprod, training_target
from fpdm_video.train.stage_base import Stage


def with_fields(noise_schedule: NoiseScheduleConfig, fields: dict) -> NoiseScheduleConfig:
    """A copy of ``noise_schedule`` with ``fields`` set; unknown names raise InputError."""
    return from_dict(NoiseScheduleConfig, {**to_dict(noise_schedule), **fields})


def keep_masks(batch: int, p: float, generator: torch.Generator) -> tuple[Tensor, Tensor, Tensor]:
    """Three (B,) bool masks (pose, source, fused): True where the condition is kept."""
    draws = torch.rand(3, batch, generator=generator, device=generator.device)
    keep = draws >= p
    return keep[0], keep[1], keep[2]


class DiffusionStage(Stage):
    name = "diffusion"

    def __init__(self, model, config) -> None:
        if config.diffusion.noise_schedule:
            model.config.noise_schedule = with_fields(model.config.noise_schedule, config.diffusion.noise_schedule)
        super().__init__(model, config)
        self.register_buffer("alpha_bars", alphas_cumprod(model.noise_schedule).float(), persistent=False)
        # a trained source encoder's pooled-embedding head is not used (only its tokens are)
        self.has_unused_parameters = config.diffusion.train_source_encoder
        self._posteriors: dict[tuple[int, int], tuple[Tensor, Tensor]] = {}

    def trained_modules(self) -> list[nn.Module]:
        modules: list[nn.Module] = [self.model.denoiser]
        if self.config.diffusion.train_source_encoder:
            modules.append(self.model.source_encoder)
        return modules

    @torch.no_grad()
    def _posterior(self, batch: dict[str, Tensor]) -> tuple[Tensor, Tensor]:
        """(mean, std) of the VAE posterior of the target frames, (B, C, s, s) each."""
        cached = self.config.data.cache and self.training  # evaluation batches come from other datasets
        keys = [(int(c), int(t)) for c, _, t in batch["index"].tolist()]
        if not cached or any(k not in self._posteriors for k in keys):
            dist = self.model.vae.encode(batch["target"] * 2 - 1).latent_dist
            if not cached:
                return dist.mean, dist.std
            for k, m, s in zip(keys, dist.mean, dist.std, strict=True):
                self._posteriors[k] = (m.detach(), s.detach())
        return torch.stack([self._posteriors[k][0] for k in keys]), torch.stack([self._posteriors[k][1] for k in keys])

    def forward(self, batch: dict[str, Tensor], generator: torch.Generator) -> tuple[Tensor, dict[str, float]]:
        model, cfg = self.model, self.config.diffusion
        source, pose = batch["source"], batch["target_pose"]
        mean, std = self._posterior(batch)
        eps = torch.randn(mean.shape, generator=generator, device=mean.device)
        latents = (mean + std * eps) * model.scaling_factor  # (B, C, s, s)
        b, c = latents.shape[:2]
        noise = torch.randn(latents.shape, generator=generator, device=latents.device)
        if cfg.noise_offset:
            noise = noise + cfg.noise_offset * torch.randn((b, c, 1, 1), generator=generator, device=latents.device)
        t = torch.randint(0, model.noise_schedule.num_train_timesteps, (b,), generator=generator, device=latents.device)
        noisy = add_noise(latents, noise, t, self.alpha_bars)
        target = training_target(latents, noise, t, self.alpha_bars, model.noise_schedule.prediction_type)
        with torch.no_grad():  # the fusion model is frozen in stage 2
            fused = model.fuse(model.fusion.embed(source), pose)  # (B, D)
        context = model.denoiser.project_source(model.source_encoder(source))  # (B, N, C_ctx)
        keep_pose, keep_source, keep_fused = keep_masks(b, cfg.condition_dropout if self.training else 0.0, generator)
        pred = model.denoise(noisy, t, RowConditions(context, fused, pose_map=pose, keep_pose=keep_pose, keep_source=keep_source,
                                                     keep_fused=keep_fused))  # fmt: skip
        loss = F.mse_loss(pred.float(), target.float())
        return loss, {"loss": loss.item()}
