"""DPM-Solver++(2M) step (Lu et al. 2022, "DPM-Solver++", Algorithm 2), on the data prediction x̂_0.

With α_t = sqrt(ᾱ_t), σ_t = sqrt(1 - ᾱ_t), λ_t = log(α_t / σ_t) and h_i = λ_{t_i} - λ_{t_{i-1}}:

    first step (and any step without history), the first-order update (eq. 5 with k = 1, DDIM):
        x_{t_i} = (σ_{t_i} / σ_{t_{i-1}}) x_{t_{i-1}} - α_{t_i} (e^{-h_i} - 1) x̂_0(t_{i-1})
    later steps, Algorithm 2 with r_i = h_{i-1} / h_i:
        D_i = (1 + 1/(2 r_i)) x̂_0(t_{i-1}) - 1/(2 r_i) x̂_0(t_{i-2})
        x_{t_i} = (σ_{t_i} / σ_{t_{i-1}}) x_{t_{i-1}} - α_{t_i} (e^{-h_i} - 1) D_i

The end point is clean (σ = 0, λ = ∞): the last step returns x̂_0 (the first-order limit), as
diffusers' DPMSolverMultistepScheduler does with ``final_sigmas_type="zero"``.
"""

from __future__ import annotations

import math

from torch import Tensor

from pipelines.samplers.base import StepOutput
from fpdm_video.models.prediction import predicted_x0_and_eps
from pipelines.samplers.schedule import SamplingSchedule


def log_snr_half(alpha_bar: float) -> float:
    """λ = log(α / σ) = ½ log(ᾱ / (1 - ᾱ))."""
    return 0.5 * (math.log(alpha_bar) - math.log1p(-alpha_bar))


def dpmpp_2m_step(
    schedule: SamplingSchedule,
    i: int,
    sample: Tensor,
    model_output: Tensor,
    *,
    noise: Tensor | None = None,
    eta: float = 0.0,
    previous_x0: Tensor | None = None,
) -> StepOutput:
    """One DPM-Solver++(2M) step; ``previous_x0`` is x̂_0 of step i-1 (None at the first step). Deterministic."""
    alpha_bar_s, alpha_bar_t = schedule.alpha_bar(i), schedule.alpha_bar(i + 1)
    x0, _ = predicted_x0_and_eps(sample, model_output, alpha_bar_s, schedule.prediction_type)
    if alpha_bar_t >= 1.0:  # σ_t = 0: the solution at the clean end point is x̂_0
        return StepOutput(prev_sample=x0, pred_x0=x0)
    alpha_t, sigma_t, sigma_s = alpha_bar_t**0.5, (1.0 - alpha_bar_t) ** 0.5, (1.0 - alpha_bar_s) ** 0.5
    h = log_snr_half(alpha_bar_t) - log_snr_half(alpha_bar_s)
    data = x0
    if previous_x0 is not None and i > 0:
        h_last = log_snr_half(alpha_bar_s) - log_snr_half(schedule.alpha_bar(i - 1))
        r = h_last / h
        data = (1.0 + 0.5 / r) * x0 - (0.5 / r) * previous_x0  # D_i of Algorithm 2
    prev_sample = (sigma_t / sigma_s) * sample - alpha_t * math.expm1(-h) * data
    return StepOutput(prev_sample=prev_sample, pred_x0=x0)
