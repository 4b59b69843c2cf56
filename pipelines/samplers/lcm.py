"""The multistep sampler of a few-step student (Luo et al. 2023, "Latent Consistency Models", Alg. 3).

At each step the student's consistency function gives the clean latents,
``x̂_0 = c_skip(t) x_t + c_out(t) x̂_0(model output)`` (:mod:`fpdm_video.models.consistency`), and with
them the noise they imply, ``ε̂ = (x_t - sqrt(ᾱ_t) x̂_0) / sqrt(1 - ᾱ_t)``. The next, less noisy point
is a DDIM step from (x̂_0, ε̂) whose noise is the share η of fresh noise:

    x_{t'} = sqrt(ᾱ_{t'}) x̂_0 + sqrt(1 - ᾱ_{t'}) (sqrt(1 - η²) ε̂ + η z),    z ~ N(0, I)

(DDIM's eq. 12 with σ = η sqrt(1 - ᾱ_{t'})). η = 1 is LCM's sampler (``z`` alone, drawn afresh;
the caller's noise, the same for every frame of a video with fixed noise); η = 0 is deterministic:
the student's own predicted noise carried on, as the teacher's DDIM ODE would. In between is the
family that Trajectory Consistency Distillation (Zheng et al. 2024) samples with its γ, here
parameterised by the share of the noise rather than by an intermediate timestep. The last step
ends at the clean point (ᾱ = 1) and needs no noise. Only a student checkpoint
(``FPDMConfig.student``) samples with it; ``pipelines.settings`` checks that.
"""

from __future__ import annotations

import torch
from torch import Tensor

from fpdm_video.models.consistency import consistency_output
from pipelines.samplers.base import StepOutput, require_noise
from pipelines.samplers.schedule import SamplingSchedule


def lcm_step(
    schedule: SamplingSchedule,
    i: int,
    sample: Tensor,
    model_output: Tensor,
    *,
    noise: Tensor | None = None,
    eta: float = 1.0,
    previous_x0: Tensor | None = None,
) -> StepOutput:
    """One consistency step; ``noise`` is needed at every step but the last when ``eta > 0``. ``previous_x0`` is ignored."""
    if not 0.0 <= eta <= 1.0:
        raise ValueError(f"eta of the lcm sampler is the share of fresh noise, from 0 to 1, got {eta}")
    rows = sample.shape[0]
    alpha_t = schedule.alpha_bar(i)
    t = torch.full((rows,), int(schedule.timesteps[i]), dtype=torch.int64, device=sample.device)
    alpha = torch.full((rows, 1, 1, 1), alpha_t, dtype=torch.float32, device=sample.device)
    x0 = consistency_output(sample, model_output, t, alpha, schedule.prediction_type).to(sample.dtype)
    alpha_next = schedule.alpha_bar(i + 1)
    if alpha_next >= 1.0:
        return StepOutput(prev_sample=x0, pred_x0=x0)
    if eta == 1.0:  # LCM's own: fresh noise alone
        direction = require_noise(noise, "consistency (lcm)")
    else:
        eps = (sample.float() - alpha_t**0.5 * x0.float()) / (1.0 - alpha_t) ** 0.5  # the noise x̂_0 implies
        direction = (1.0 - eta**2) ** 0.5 * eps
        if eta > 0.0:
            direction = direction + eta * require_noise(noise, "consistency (lcm, eta > 0)")
    return StepOutput(prev_sample=alpha_next**0.5 * x0 + (1.0 - alpha_next) ** 0.5 * direction, pred_x0=x0)
