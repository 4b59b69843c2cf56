"""Noise schedules and inference timesteps, as pure functions of the model's noise-schedule config.

The forward process (Ho et al. 2020, eq. 4) is ``q(x_t | x_0) = N(sqrt(ᾱ_t) x_0, (1 - ᾱ_t) I)`` with
``ᾱ_t = prod_{s<=t} (1 - β_s)``. Everything a sampler needs is ``ᾱ`` at the timesteps it visits, so a
sampling run is described by one :class:`SamplingSchedule`: the descending timesteps at which the
model is called and ``ᾱ`` at each of them plus ``ᾱ`` of the end point.

Timestep spacing. ``"leading"`` with ``steps_offset=1`` is the default: it is what the official FPDM
code samples with (a diffusers ``DDPMScheduler`` loaded from the Stable Diffusion 2.x scheduler
config, whose spacing is "leading" with offset 1), so weights trained the FPDM way are sampled as in
the paper (20 steps: t = 951, 901, ..., 1). ``"trailing"`` (t = 999, 949, ..., 49 for 20 steps) starts
at the last training timestep, which Lin et al. 2023 ("Common diffusion noise schedules and sample
steps are flawed", Table 2) recommend for few steps; it is offered as an option.

The end point is always ``ᾱ = 1`` (a clean sample). That is what diffusers' DDPM and DPM-Solver++
(``final_sigmas_type="zero"``) do and what DDIM does with ``set_alpha_to_one=True``; the SD 2.x DDIM
config instead ends at ``ᾱ_0`` (one training step short of clean), a difference below one step of
the 1000-step chain.

A model's noise-schedule config names the spacing it is meant to be sampled with
(``timestep_spacing``); :class:`pipelines.fpdm_pipeline.FPDMPipeline` uses it unless told otherwise.
Models trained with a zero terminal SNR (``zero_terminal_snr``, ᾱ_{T-1} = 0) name "trailing", so
that sampling starts from pure noise at the one timestep where the model saw pure noise. Samplers
see ᾱ no lower than :data:`MIN_ALPHA_BAR` (2^-24, as diffusers' DPM-Solver clamps it) so that
log-SNR stays finite; at the first step that changes sqrt(ᾱ) by 2.4e-4.

Schedules are computed in float64 (diffusers uses float32); the difference is below 1e-6.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from fpdm_video.models.noise import BETA_SCHEDULES, NoiseScheduleLike, alphas_cumprod, betas  # noqa: F401 (re-exported)

PREDICTION_TYPES = ("epsilon", "v_prediction")
MIN_ALPHA_BAR = 2.0**-24  # ᾱ floor seen by samplers (a zero-terminal-SNR chain ends at ᾱ = 0)
TIMESTEP_SPACINGS = ("leading", "trailing")


@dataclass(frozen=True)
class SamplingSchedule:
    """The timesteps and noise levels of one sampling run (one per video, shared by all frames)."""

    timesteps: Tensor  # (N,) int64, descending: the model is called at timesteps[i] in step i
    alpha_bars: Tensor  # (N + 1,) float64: ᾱ at timesteps[i], then ᾱ of the end point (1.0, clean)
    prediction_type: str  # what the model predicts: "epsilon" or "v_prediction"

    @property
    def num_steps(self) -> int:
        """Number of denoising steps N."""
        return int(self.timesteps.shape[0])

    def alpha_bar(self, i: int) -> float:
        """ᾱ at step i (i = N gives the end point)."""
        return float(self.alpha_bars[i])


def schedule_problem(noise_schedule: NoiseScheduleLike, steps: int, spacing: str | None = None, steps_offset: int = 1) -> str | None:
    """Why ``steps`` steps cannot be sampled from a model trained with ``noise_schedule``, in words; None when they can."""
    if noise_schedule.prediction_type not in PREDICTION_TYPES:
        return f"model prediction_type {noise_schedule.prediction_type!r} is not supported; use one of {', '.join(PREDICTION_TYPES)}"
    return timesteps_problem(noise_schedule.num_train_timesteps, steps, spacing or noise_schedule.timestep_spacing, steps_offset)


def timesteps_problem(num_train_timesteps: int, steps: int, spacing: str, steps_offset: int = 1) -> str | None:
    """Why :func:`inference_timesteps` cannot space ``steps`` steps so, in words; None when it can."""
    if spacing not in TIMESTEP_SPACINGS:
        return f"unknown timestep spacing {spacing!r}; use one of {', '.join(TIMESTEP_SPACINGS)}"
    if not isinstance(steps, int) or isinstance(steps, bool) or steps < 1:
        return f"steps must be a positive whole number, got {steps!r}"
    if steps > num_train_timesteps:
        return f"steps={steps} exceeds the model's {num_train_timesteps} training timesteps; use fewer steps"
    timesteps = _timesteps(num_train_timesteps, steps, spacing, steps_offset)
    if int(timesteps.max()) >= num_train_timesteps or int(timesteps.min()) < 0:
        return (f"steps={steps} with {spacing} spacing and steps_offset={steps_offset} puts timesteps outside "
                f"[0, {num_train_timesteps}); use fewer steps")  # fmt: skip
    return None


def _timesteps(num_train_timesteps: int, steps: int, spacing: str, steps_offset: int) -> Tensor:
    if spacing == "leading":
        ratio = num_train_timesteps // steps
        return torch.arange(steps - 1, -1, -1, dtype=torch.int64) * ratio + steps_offset
    ratio = num_train_timesteps / steps
    return torch.round(torch.arange(num_train_timesteps, 0, -ratio, dtype=torch.float64)).to(torch.int64) - 1


def inference_timesteps(
    num_train_timesteps: int, steps: int, spacing: str = "leading", steps_offset: int = 1
) -> Tensor:
    """(steps,) int64 descending timesteps for ``steps`` inference steps.

    "leading": ``k * (T // steps) + steps_offset`` for k = steps-1 .. 0; "trailing": ``round(T - k T/steps) - 1``
    for k = 0 .. steps-1 (``steps_offset`` is not used). Both as diffusers' schedulers space them. Settings are
    checked where they are resolved (:func:`schedule_problem`); here a bad one is a broken invariant (ValueError).
    """
    problem = timesteps_problem(num_train_timesteps, steps, spacing, steps_offset)
    if problem is not None:
        raise ValueError(problem)
    return _timesteps(num_train_timesteps, steps, spacing, steps_offset)


def make_schedule(
    noise_schedule: NoiseScheduleLike, steps: int, spacing: str = "leading", steps_offset: int = 1
) -> SamplingSchedule:
    """The :class:`SamplingSchedule` of ``steps`` steps for a model trained with ``noise_schedule`` (ValueError if it cannot be)."""
    problem = schedule_problem(noise_schedule, steps, spacing, steps_offset)
    if problem is not None:
        raise ValueError(problem)
    all_alpha_bars = alphas_cumprod(noise_schedule)  # (T,)
    timesteps = inference_timesteps(noise_schedule.num_train_timesteps, steps, spacing, steps_offset)  # (N,)
    end = torch.ones(1, dtype=torch.float64)  # ᾱ of the clean end point
    return SamplingSchedule(
        timesteps=timesteps,
        alpha_bars=torch.cat([all_alpha_bars[timesteps].clamp(min=MIN_ALPHA_BAR), end]),
        prediction_type=noise_schedule.prediction_type,
    )
