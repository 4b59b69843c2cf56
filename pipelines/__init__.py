"""Pipelines that string the parts of ``fpdm_video`` together.

- ``FPDMPipeline``: pose-guided image synthesis with FPDM's guidance (``fpdm_pipeline``, ``guidance``)
- ``sample_video``: batched video sampling with fixed noise and source encodings computed once
  (``video_sampling``)
- ``samplers``: DDPM, DDIM and DPM-Solver++(2M) steps as pure functions; ``guidance``: the FPDM
  guidance rule
"""

from __future__ import annotations

from pipelines.fpdm_pipeline import FPDMPipeline
from pipelines.guidance import guided_model_output, guided_prediction
from pipelines.samplers import SAMPLERS, make_schedule
from pipelines.video_sampling import NOISE_MODES, sample_video

__all__ = [
    "NOISE_MODES",
    "SAMPLERS",
    "FPDMPipeline",
    "guided_model_output",
    "guided_prediction",
    "make_schedule",
    "sample_video",
]
