"""DDIM step (Song et al. 2021, "Denoising Diffusion Implicit Models").

From timestep t (ᾱ_t) to the next visited timestep t' (ᾱ_t'), eq. 12 (written with ᾱ for the
paper's α):

    x_t' = sqrt(ᾱ_t') x̂_0 + sqrt(1 - ᾱ_t' - σ²) ε̂ + σ z
    σ = η sqrt((1 - ᾱ_t') / (1 - ᾱ_t)) sqrt(1 - ᾱ_t / ᾱ_t')                         (eq. 16)

η = 0 is the deterministic DDIM sampler; η = 1 gives the DDPM posterior of ``ddpm_step``.
"""

from __future__ import annotations

from torch import Tensor


from pipelines.samplers.base import StepOutput, require_noise
from fpdm_video.models.prediction import predicted_x0_and_eps
from pipelines.samplers.schedule import SamplingSchedule


def ddim_sigma(alpha_bar_t: float, alpha_bar_prev: float, eta: float) -> float:
    """σ of eq. 16 for a step ᾱ_t -> ᾱ_t'."""
    return eta * ((1.0 - alpha_bar_prev) / (1.0 - alpha_bar_t) * (1.0 - alpha_bar_t / alpha_bar_prev)) ** 0.5


def ddim_step(
    schedule: SamplingSchedule,
    i: int,
    sample: Tensor,
    model_output: Tensor,
    *,
    noise: Tensor | None = None,
    eta: float = 0.0,
    previous_x0: Tensor | None = None,
) -> StepOutput:
    """One DDIM step; ``noise`` is needed when ``eta > 0`` (except at the last step). ``previous_x0`` is ignored."""
    if eta < 0:
        raise ValueError(f"eta must be >= 0 (0: deterministic DDIM), got {eta}")
    alpha_bar_t, alpha_bar_prev = schedule.alpha_bar(i), schedule.alpha_bar(i + 1)
    x0, eps = predicted_x0_and_eps(sample, model_output, alpha_bar_t, schedule.prediction_type)
    sigma = ddim_sigma(alpha_bar_t, alpha_bar_prev, eta)
    direction = max(1.0 - alpha_bar_prev - sigma**2, 0.0) ** 0.5 * eps  # "direction pointing to x_t"
    prev_sample = alpha_bar_prev**0.5 * x0 + direction  # eq. 12
    if sigma > 0.0:
        prev_sample = prev_sample + sigma * require_noise(noise, "DDIM (eta > 0)")
    return StepOutput(prev_sample=prev_sample, pred_x0=x0)
