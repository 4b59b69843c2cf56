"""The one signature shared by every sampler step, and its output.

A step maps the latents at step ``i`` (timestep ``schedule.timesteps[i]``) to the latents at step
``i + 1``, given the model output there. Steps are pure: noise comes in as a tensor (broadcastable to
the sample, so one (1, C, h, w) draw can serve every frame), and the only state a multistep solver
needs, the previous step's x̂_0, is passed back in by the caller.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from torch import Tensor

from pipelines.samplers.schedule import SamplingSchedule


@dataclass(frozen=True)
class StepOutput:
    """Result of one sampler step."""

    prev_sample: Tensor  # (B, C, h, w) latents at step i + 1 (the next, less noisy level)
    pred_x0: Tensor  # (B, C, h, w) the clean-sample estimate x̂_0 at step i


class SamplerStep(Protocol):
    """``step(schedule, i, sample, model_output, *, noise, eta, previous_x0) -> StepOutput``."""

    def __call__(
        self,
        schedule: SamplingSchedule,
        i: int,
        sample: Tensor,
        model_output: Tensor,
        *,
        noise: Tensor | None = None,
        eta: float = 0.0,
        previous_x0: Tensor | None = None,
    ) -> StepOutput: ...


def require_noise(noise: Tensor | None, sampler: str) -> Tensor:
    """``noise`` itself; a clear error when a stochastic step got none."""
    if noise is None:
        raise ValueError(f"the {sampler} step at this noise level is stochastic: pass noise (a standard normal tensor)")
    return noise
