"""Diffusion samplers as small pure functions with one shared signature (see ``base.SamplerStep``).

``SAMPLERS`` maps a name to its step function (one name per sampler, the same in every front end);
a :class:`Sampler` is one of them with its eta, and says whether a run draws per-step noise. Samplers take every random tensor they need as an argument, so a caller can give every
frame of a video the same noise. The names are imported on first use; ``names`` lists the samplers without torch.
"""

from __future__ import annotations

from fpdm_video.lazy_exports import lazy_exports

__getattr__, __all__ = lazy_exports(__name__, {
    "SAMPLERS": "pipelines.samplers.registry",
    "Sampler": "pipelines.samplers.registry",
    "get_sampler": "pipelines.samplers.registry",
    "is_stochastic": "pipelines.samplers.registry",
    "own_eta": "pipelines.samplers.registry",
    "OWN_ETA": "pipelines.samplers.names",
    "SAMPLER_NAMES": "pipelines.samplers.names",
    "SamplerStep": "pipelines.samplers.base",
    "StepOutput": "pipelines.samplers.base",
    "ddim_step": "pipelines.samplers.ddim",
    "ddpm_step": "pipelines.samplers.ddpm",
    "dpmpp_2m_step": "pipelines.samplers.dpm_solver",
    "lcm_step": "pipelines.samplers.lcm",
    "SamplingSchedule": "pipelines.samplers.schedule",
    "alphas_cumprod": "pipelines.samplers.schedule",
    "inference_timesteps": "pipelines.samplers.schedule",
    "make_schedule": "pipelines.samplers.schedule",
    "predicted_x0_and_eps": "fpdm_video.models.prediction",
})
