"""Pipelines that string the parts of ``fpdm_video`` together.

- ``settings``: what a user asks of the sampler, resolved once into checked, frozen settings
- ``FPDMPipeline``: pose-guided image synthesis with FPDM's guidance (``fpdm_pipeline``, ``guidance``)
- ``sample_video`` / ``VideoSampler``: batched video sampling with fixed noise and source encodings
  computed once (``video_sampling``)
- ``loop``: the denoising loop; ``samplers``: DDPM, DDIM and DPM-Solver++(2M) steps as pure
  functions; ``tricks``: which sampling hooks the settings ask for (docs/sampling.md)
"""

from __future__ import annotations

from pipelines.fpdm_pipeline import FPDMPipeline
from pipelines.guidance import guided_prediction
from pipelines.samplers import SAMPLERS, make_schedule
from pipelines.settings import SamplingRequest, SamplingSettings, resolve_sampling
from pipelines.video_sampling import NOISE_MODES, VideoSampler, sample_video

__all__ = [
    "NOISE_MODES",
    "SAMPLERS",
    "FPDMPipeline",
    "SamplingRequest",
    "SamplingSettings",
    "VideoSampler",
    "guided_prediction",
    "make_schedule",
    "resolve_sampling",
    "sample_video",
]
