"""The forward (noising) process of FPDM's latent diffusion, shared by training and sampling.

``q(x_t | x_0) = N(sqrt(ᾱ_t) x_0, (1 - ᾱ_t) I)`` with ``ᾱ_t = prod_{s<=t} (1 - β_s)`` (Ho et al. 2020,
eq. 4). Training noises latents with :func:`add_noise` and regresses :func:`training_target`;
samplers (``pipelines/samplers``) read :func:`alphas_cumprod`.

Zero terminal SNR. Stable Diffusion's schedule ends at ᾱ_{T-1} ≈ 0.0047, so the noisiest training
input still holds sqrt(ᾱ) ≈ 7 % of the latent. Its low frequencies (the mean colour of each latent
channel) survive the noise, the model learns to read them there, and at sampling time, when the
start is pure noise, it invents them: the colours of the output follow the seed instead of the
reference. ``zero_terminal_snr`` rescales sqrt(ᾱ) linearly so that it is unchanged at t = 0 and
exactly 0 at t = T-1 (Lin et al. 2023, "Common diffusion noise schedules and sample steps are
flawed", Algorithm 1). The model must then be trained with v-prediction (an ε-predictor has nothing to
predict at ᾱ = 0) and sampled with "trailing" timesteps, which start at t = T-1.
"""

from __future__ import annotations

from typing import Protocol

import torch
from torch import Tensor

from fpdm_video.config import BETA_SCHEDULES  # noqa: F401 (the choices, kept with the config's other rules)
from fpdm_video.errors import InputError


class NoiseScheduleLike(Protocol):
    """The fields of the model's noise-schedule config that the forward process reads."""

    num_train_timesteps: int
    beta_schedule: str
    beta_start: float
    beta_end: float
    prediction_type: str
    zero_terminal_snr: bool


def betas(num_train_timesteps: int, beta_schedule: str, beta_start: float, beta_end: float) -> Tensor:
    """(T,) float64 β_t. "linear": Ho et al. 2020 (sec. 4); "scaled_linear": linear in sqrt(β) (Stable Diffusion)."""
    if beta_schedule == "linear":
        return torch.linspace(beta_start, beta_end, num_train_timesteps, dtype=torch.float64)
    if beta_schedule == "scaled_linear":
        return torch.linspace(beta_start**0.5, beta_end**0.5, num_train_timesteps, dtype=torch.float64) ** 2
    raise InputError(f"unknown beta_schedule {beta_schedule!r}; use one of {', '.join(BETA_SCHEDULES)}")


def alphas_cumprod(noise_schedule: NoiseScheduleLike) -> Tensor:
    """(T,) float64 ᾱ_t = prod_{s<=t} (1 - β_s) (Ho et al. 2020, notation above eq. 4)."""
    ns = noise_schedule
    beta = betas(ns.num_train_timesteps, ns.beta_schedule, ns.beta_start, ns.beta_end)  # (T,)
    alpha_bars = torch.cumprod(1.0 - beta, dim=0)
    if not ns.zero_terminal_snr:
        return alpha_bars
    if ns.prediction_type == "epsilon":
        raise InputError(
            "zero_terminal_snr needs prediction_type v_prediction: an epsilon-predicting model cannot denoise pure noise"
        )
    return rescale_zero_terminal_snr(alpha_bars)


def rescale_zero_terminal_snr(alpha_bars: Tensor) -> Tensor:
    """(T,) ᾱ with sqrt(ᾱ) shifted and scaled so that sqrt(ᾱ_0) is kept and ᾱ_{T-1} = 0 (Lin et al. 2023, Alg. 1)."""
    root = alpha_bars.sqrt()
    first, last = root[0], root[-1]
    return ((root - last) * (first / (first - last))) ** 2


def _per_sample(values: Tensor, timesteps: Tensor, like: Tensor) -> Tensor:
    """values[timesteps] shaped (B, 1, 1, 1) in ``like``'s dtype and device."""
    picked = values.to(like.device)[timesteps.to(like.device)]
    return picked.to(like.dtype).view(-1, *([1] * (like.ndim - 1)))


def add_noise(latents: Tensor, noise: Tensor, timesteps: Tensor, alpha_bars: Tensor) -> Tensor:
    """x_t = sqrt(ᾱ_t) x_0 + sqrt(1 - ᾱ_t) ε for each sample (latents, noise (B, C, h, w); timesteps (B,))."""
    a = _per_sample(alpha_bars, timesteps, latents)
    return a.sqrt() * latents + (1 - a).sqrt() * noise


def training_target(latents: Tensor, noise: Tensor, timesteps: Tensor, alpha_bars: Tensor, prediction_type: str) -> Tensor:
    """What the UNet regresses: ε, or v = sqrt(ᾱ_t) ε - sqrt(1 - ᾱ_t) x_0 (Salimans & Ho 2022)."""
    if prediction_type == "epsilon":
        return noise
    if prediction_type == "v_prediction":
        a = _per_sample(alpha_bars, timesteps, latents)
        return a.sqrt() * noise - (1 - a).sqrt() * latents
    raise InputError(f"unknown prediction_type {prediction_type!r}; use epsilon or v_prediction")
