"""Sampling settings: what a user asks (:class:`SamplingRequest`), resolved once into what a run uses (:class:`SamplingSettings`)."""

from pipelines.settings.presets import SPEED_PRESETS
from pipelines.settings.resolve import resolve_sampling
from pipelines.settings.reuse import Reuse
from pipelines.settings.sampling import NOISE_MODES, SamplingRequest, SamplingSettings

__all__ = ["NOISE_MODES", "SPEED_PRESETS", "Reuse", "SamplingRequest", "SamplingSettings", "resolve_sampling"]
