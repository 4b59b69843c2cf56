"""The samplers by name: ``SAMPLERS``, ``get_sampler``, each one's eta, and :class:`Sampler`."""

from __future__ import annotations

from dataclasses import dataclass

from pipelines.samplers.base import SamplerStep, StepOutput
from pipelines.samplers.ddim import ddim_step
from pipelines.samplers.ddpm import ddpm_step
from pipelines.samplers.dpm_solver import dpmpp_2m_step
from pipelines.samplers.lcm import lcm_step
from pipelines.samplers.names import OWN_ETA
from pipelines.samplers.schedule import SamplingSchedule

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


def own_eta(name: str, eta: float | None) -> float:
    """``eta``, or sampler ``name``'s own when it is None (0 for the samplers that take none)."""
    return OWN_ETA.get(name, 0.0) if eta is None else eta


def is_stochastic(name: str, eta: float | None) -> bool:
    """Whether sampler ``name`` with ``eta`` (None: its own) adds noise at its steps (DDPM always, DDIM and LCM when eta > 0)."""
    get_sampler(name)
    return name == "ddpm" or (name in OWN_ETA and own_eta(name, eta) > 0)


@dataclass(frozen=True)
class Sampler:
    """A sampler step function with its eta: ``sampler.step(schedule, i, x, model_output, noise, previous_x0)``.

    ``eta`` None: the sampler's own (:data:`OWN_ETA`)."""

    name: str = "ddpm"
    eta: float | None = None

    @property
    def stochastic(self) -> bool:
        return is_stochastic(self.name, self.eta)

    def step(self, schedule: SamplingSchedule, i: int, sample, model_output, noise, previous_x0) -> StepOutput:
        return get_sampler(self.name)(schedule, i, sample, model_output, noise=noise, eta=own_eta(self.name, self.eta),
                                      previous_x0=previous_x0)  # fmt: skip
