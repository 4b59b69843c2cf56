"""The denoising loop, in the manner of k-diffusion's samplers: one denoiser, one sampler step, nothing else.

The loop knows no trick. ``denoise(x, t, step)`` is the whole model side (the guidance rule over
the conditioned UNet, with whatever hooks the run installed: ``pipelines.guidance.GuidedDenoiser``);
``sampler.step`` is a pure function of the schedule (``pipelines.samplers``); ``noise(step)`` gives
the noise of a stochastic step (the same tensor for every frame under fixed noise), or None.
"""

from __future__ import annotations

from collections.abc import Callable

from torch import Tensor
from tqdm.auto import tqdm

from pipelines.samplers import Sampler, SamplingSchedule

Denoise = Callable[[Tensor, int, int], Tensor]  # (x_t (B, C, h, w) float32, timestep t, step index) -> model output float32
StepNoise = Callable[[int], "Tensor | None"]  # step index -> noise broadcastable to the latents, or None


def sample_latents(denoise: Denoise, latents: Tensor, schedule: SamplingSchedule, sampler: Sampler, noise: StepNoise,
                   progress: bool = False) -> Tensor:  # fmt: skip
    """x_T (B, C, h, w) float32 -> x_0 float32, over the steps of ``schedule``."""
    previous_x0 = None
    for i, t in enumerate(tqdm(schedule.timesteps.tolist(), desc="denoising", unit="step", disable=not progress, leave=False)):
        # 1. The model output at x_t (guided, in float32)
        model_output = denoise(latents, t, i)
        # 2. The sampler step x_t -> x_t' in float32, with this step's noise
        out = sampler.step(schedule, i, latents, model_output, noise(i), previous_x0)
        latents, previous_x0 = out.prev_sample, out.pred_x0
    return latents
