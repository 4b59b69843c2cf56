"""DDPM ancestral step (Ho et al. 2020), strided: the posterior between two visited timesteps.

For a step from timestep t (ᾱ_t) to the next visited timestep t' < t (ᾱ_t'), the forward process
between them has ``α = ᾱ_t / ᾱ_t'`` and ``β = 1 - α``. The posterior q(x_t' | x_t, x_0) is then

    μ̃ = sqrt(ᾱ_t') β / (1 - ᾱ_t) x̂_0 + sqrt(α) (1 - ᾱ_t') / (1 - ᾱ_t) x_t      (eq. 7)
    β̃ = (1 - ᾱ_t') / (1 - ᾱ_t) β                                                (eq. 7)

and the step samples ``x_t' = μ̃ + sqrt(β̃) z`` (Algorithm 2, eq. 6 with x̂_0 plugged in). With all
1000 timesteps this is Ho et al.'s sampler; with 20 it is the paper's FPDM sampler (diffusers'
DDPMScheduler with 20 inference steps computes the same). The variance is the "fixed_small" β̃.
"""

from __future__ import annotations

from torch import Tensor

from pipelines.samplers.base import StepOutput, require_noise
from fpdm_video.models.prediction import predicted_x0_and_eps
from pipelines.samplers.schedule import SamplingSchedule


def ddpm_step(
    schedule: SamplingSchedule,
    i: int,
    sample: Tensor,
    model_output: Tensor,
    *,
    noise: Tensor | None = None,
    eta: float = 0.0,
    previous_x0: Tensor | None = None,
) -> StepOutput:
    """One strided DDPM step. ``noise`` (broadcastable to ``sample``) is needed unless this is the last step.

    ``eta`` and ``previous_x0`` are ignored (shared signature): DDPM's variance is fixed.
    """
    alpha_bar_t, alpha_bar_prev = schedule.alpha_bar(i), schedule.alpha_bar(i + 1)
    x0, _ = predicted_x0_and_eps(sample, model_output, alpha_bar_t, schedule.prediction_type)
    alpha = alpha_bar_t / alpha_bar_prev
    beta = 1.0 - alpha
    x0_coeff = alpha_bar_prev**0.5 * beta / (1.0 - alpha_bar_t)
    sample_coeff = alpha**0.5 * (1.0 - alpha_bar_prev) / (1.0 - alpha_bar_t)
    prev_sample = x0_coeff * x0 + sample_coeff * sample  # μ̃, eq. 7
    variance = (1.0 - alpha_bar_prev) / (1.0 - alpha_bar_t) * beta  # β̃, eq. 7
    if variance > 0.0:
        prev_sample = prev_sample + variance**0.5 * require_noise(noise, "DDPM")
    return StepOutput(prev_sample=prev_sample, pred_x0=x0)
