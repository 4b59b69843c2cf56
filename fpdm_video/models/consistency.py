"""The consistency function of a few-step student (Luo et al. 2023, "Latent Consistency Models", eq. 9).

A student predicts the clean latents from any point of the teacher's ODE trajectory:

    f(x_t, t) = c_skip(t) x_t + c_out(t) x̂_0(x_t, t),

with x̂_0 read from the UNet's output in the teacher's parameterisation (ε or v;
:func:`fpdm_video.models.prediction.predicted_x0_and_eps`) and the boundary scalings of LCM
(diffusers' ``LCMScheduler``): with s = 10 t and σ_data = 0.5,

    c_skip = σ_data² / (s² + σ_data²),   c_out = s / sqrt(s² + σ_data²),

so that f(x, 0) = x. A timestep below 0 stands for the clean end of the chain: f is the identity
there (c_skip 1, c_out 0).

The teacher's grid: ``teacher_steps`` = N points t_n = (n + 1) T / N - 1, n = 0 .. N - 1, so that the
last is T - 1 (pure noise under a zero terminal SNR), each ODE step goes from t_n to t_n - T / N, and
a student sampled with S steps at "trailing" spacing visits grid points whenever S divides N.
"""

from __future__ import annotations

import torch
from torch import Tensor

from fpdm_video.models.prediction import predicted_x0_and_eps

SIGMA_DATA = 0.5
TIMESTEP_SCALING = 10.0


def boundary_scalings(timesteps: Tensor) -> tuple[Tensor, Tensor]:
    """(c_skip, c_out), each (B,) float32, for timesteps (B,); identity (1, 0) for timesteps below 0."""
    s = timesteps.float() * TIMESTEP_SCALING
    c_skip = SIGMA_DATA**2 / (s**2 + SIGMA_DATA**2)
    c_out = s / (s**2 + SIGMA_DATA**2) ** 0.5
    clean = timesteps < 0
    return torch.where(clean, torch.ones_like(c_skip), c_skip), torch.where(clean, torch.zeros_like(c_out), c_out)


def consistency_output(sample: Tensor, model_output: Tensor, timesteps: Tensor, alpha_bar: Tensor, prediction_type: str) -> Tensor:
    """f(x_t, t) (B, C, h, w): the student's clean-latent estimate; ``alpha_bar`` (B, 1, 1, 1) is ᾱ at ``timesteps``."""
    x0, _ = predicted_x0_and_eps(sample.float(), model_output.float(), alpha_bar.float(), prediction_type)
    c_skip, c_out = boundary_scalings(timesteps)
    shape = (-1,) + (1,) * (sample.ndim - 1)
    return c_skip.view(shape) * sample.float() + c_out.view(shape) * x0


def teacher_grid(num_train_timesteps: int, teacher_steps: int) -> Tensor:
    """(N,) int64 ascending: t_n = (n + 1) T / N - 1 (ValueError unless N divides T)."""
    if teacher_steps < 2 or num_train_timesteps % teacher_steps:
        raise ValueError(f"teacher_steps must be at least 2 and divide the {num_train_timesteps} training timesteps, got {teacher_steps}")
    k = num_train_timesteps // teacher_steps
    return torch.arange(1, teacher_steps + 1, dtype=torch.int64) * k - 1
