"""The multistep sampler of a few-step student (Luo et al. 2023, "Latent Consistency Models", Alg. 3).

At each step the student's consistency function gives the clean latents,
``x̂_0 = c_skip(t) x_t + c_out(t) x̂_0(model output)`` (:mod:`fpdm_video.models.consistency`), and the
next, less noisy point is drawn afresh: ``x_{t'} = sqrt(ᾱ_{t'}) x̂_0 + sqrt(1 - ᾱ_{t'}) z`` with
``z ~ N(0, I)``, the noise the caller gives (the same for every frame of a video with fixed noise).
The last step ends at the clean point (ᾱ = 1) and needs no noise. Only a student checkpoint
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
    eta: float = 0.0,
    previous_x0: Tensor | None = None,
) -> StepOutput:
    """One consistency step; ``noise`` is needed at every step but the last. ``eta`` and ``previous_x0`` are ignored."""
    rows = sample.shape[0]
    t = torch.full((rows,), int(schedule.timesteps[i]), dtype=torch.int64, device=sample.device)
    alpha = torch.full((rows, 1, 1, 1), schedule.alpha_bar(i), dtype=torch.float32, device=sample.device)
    x0 = consistency_output(sample, model_output, t, alpha, schedule.prediction_type).to(sample.dtype)
    alpha_next = schedule.alpha_bar(i + 1)
    if alpha_next >= 1.0:
        return StepOutput(prev_sample=x0, pred_x0=x0)
    z = require_noise(noise, "consistency (lcm)")
    return StepOutput(prev_sample=alpha_next**0.5 * x0 + (1.0 - alpha_next) ** 0.5 * z, pred_x0=x0)
