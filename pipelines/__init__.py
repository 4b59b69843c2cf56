"""Pipelines that string the parts of ``fpdm_video`` together.

- ``settings``: what a user asks of the sampler, resolved once into checked, frozen settings
- ``FPDMPipeline``: pose-guided image synthesis with FPDM's guidance (``fpdm_pipeline``, ``guidance``)
- ``sample_video`` / ``VideoSampler``: batched video sampling with fixed noise and source encodings
  computed once (``video_sampling``)
- ``loop``: the denoising loop; ``samplers``: DDPM, DDIM and DPM-Solver++(2M) steps as pure
  functions; ``tricks``: which sampling hooks the settings ask for (docs/sampling.md)
"""

from __future__ import annotations

from fpdm_video.lazy_exports import lazy_exports

__getattr__, __all__ = lazy_exports(__name__, {
    "FPDMPipeline": "pipelines.fpdm_pipeline",
    "guided_prediction": "pipelines.guidance",
    "SAMPLERS": "pipelines.samplers",
    "make_schedule": "pipelines.samplers",
    "SamplingRequest": "pipelines.settings",
    "SamplingSettings": "pipelines.settings",
    "resolve_sampling": "pipelines.settings",
    "NOISE_MODES": "pipelines.video_sampling",
    "VideoSampler": "pipelines.video_sampling",
    "sample_video": "pipelines.video_sampling",
})  # imported on first use: the settings and the command lines' parsers do not import torch
