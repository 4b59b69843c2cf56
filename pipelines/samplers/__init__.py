"""Diffusion samplers as small pure functions with one shared signature (see ``base.SamplerStep``).

``SAMPLERS`` maps a name to its step function (one name per sampler, the same in every front end);
a :class:`Sampler` is one of them with its eta, and says whether a run draws per-step noise. Samplers take every random tensor they need as an argument, so a caller can give every
frame of a video the same noise.
"""

from __future__ import annotations

from dataclasses import dataclass

from pipelines.samplers.base import SamplerStep, StepOutput
from pipelines.samplers.ddim import ddim_step
from pipelines.samplers.ddpm import ddpm_step
from pipelines.samplers.dpm_solver import dpmpp_2m_step
from pipelines.samplers.lcm import lcm_step
from fpdm_video.models.prediction import predicted_x0_and_eps
from pipelines.samplers.schedule import (
    SamplingSchedule,
    alphas_cumprod,
    inference_timesteps,
    make_schedule,
)

SAMPLERS: dict[str, SamplerStep] = {
    "ddpm": ddpm_step,  # Ho et al. 2020, strided ancestral posterior (the paper's sampler)
    "ddim": ddim_step,  # Song et al. 2021, eq. 12 (eta = 0 deterministic)
    "dpmpp_2m": dpmpp_2m_step,  # Lu et al. 2022, DPM-Solver++(2M)
    "lcm": lcm_step,  # Luo et al. 2023, a few-step student's consistency steps (student checkpoints only)
}


def get_sampler(name: str) -> SamplerStep:
    """The step function called ``name`` (settings are checked before: an unknown name is a ValueError)."""
    try:
        return SAMPLERS[name]
    except KeyError:
        raise ValueError(f"unknown scheduler {name!r}; use one of {', '.join(SAMPLERS)}") from None


def is_stochastic(name: str, eta: float | None) -> bool:
    """Whether sampler ``name`` with ``eta`` adds noise at its steps (DDPM always, DDIM when eta > 0, LCM unless eta is 0).

    ``eta`` None is the sampler's own default: 0 for DDIM (deterministic), 1 for LCM (fresh noise)."""
    get_sampler(name)
    if eta is None:
        return name in ("ddpm", "lcm")
    return name == "ddpm" or (name in ("ddim", "lcm") and eta > 0)


@dataclass(frozen=True)
class Sampler:
    """A sampler step function with its eta: ``sampler.step(schedule, i, x, model_output, noise, previous_x0)``.

    ``eta`` None: the step function's own default (DDIM's 0, LCM's 1)."""

    name: str = "ddpm"
    eta: float | None = None

    @property
    def stochastic(self) -> bool:
        return is_stochastic(self.name, self.eta)

    def step(self, schedule: SamplingSchedule, i: int, sample, model_output, noise, previous_x0) -> StepOutput:
        eta = {} if self.eta is None else {"eta": self.eta}
        return get_sampler(self.name)(schedule, i, sample, model_output, noise=noise, previous_x0=previous_x0, **eta)


__all__ = [
    "SAMPLERS",
    "Sampler",
    "SamplerStep",
    "SamplingSchedule",
    "StepOutput",
    "alphas_cumprod",
    "ddim_step",
    "ddpm_step",
    "dpmpp_2m_step",
    "get_sampler",
    "inference_timesteps",
    "is_stochastic",
    "lcm_step",
    "make_schedule",
    "predicted_x0_and_eps",
]
