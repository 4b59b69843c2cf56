"""Samplers against diffusers' schedulers on the same model outputs and the same noise."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass

import pytest
import torch
from diffusers import DDIMScheduler, DDPMScheduler, DPMSolverMultistepScheduler

from fpdm_video.errors import InputError
from pipelines.samplers import (
    alphas_cumprod,
    ddim_step,
    ddpm_step,
    dpmpp_2m_step,
    get_sampler,
    inference_timesteps,
    is_stochastic,
    make_schedule,
)
from pipelines.samplers.schedule import schedule_problem

SHAPE = (2, 4, 8, 8)  # (B, C, h, w) latents


@dataclass
class NoiseSchedule:
    """Stand-in for the model's noise-schedule config (SD 2.x values by default)."""

    num_train_timesteps: int = 1000
    beta_schedule: str = "scaled_linear"
    beta_start: float = 0.00085
    beta_end: float = 0.012
    prediction_type: str = "epsilon"
    zero_terminal_snr: bool = False


def fake_model_output(sample: torch.Tensor, t: int) -> torch.Tensor:
    """A deterministic, nonlinear stand-in for a denoiser: depends on the sample and the timestep."""
    return torch.tanh(0.7 * sample + 0.3 * torch.sin(sample * (1 + t / 500)))


def step_noise(i: int) -> torch.Tensor:
    """The noise both implementations get at step i (diffusers through a generator seeded like this)."""
    return torch.randn(SHAPE, generator=torch.Generator().manual_seed(1000 + i))


def diffusers_config(schedule: NoiseSchedule) -> dict:
    return dict(
        num_train_timesteps=schedule.num_train_timesteps,
        beta_schedule=schedule.beta_schedule,
        beta_start=schedule.beta_start,
        beta_end=schedule.beta_end,
        prediction_type=schedule.prediction_type,
    )


def initial_latents() -> torch.Tensor:
    return torch.randn(SHAPE, generator=torch.Generator().manual_seed(7))


@pytest.mark.parametrize("beta_schedule", ["linear", "scaled_linear"])
def test_alphas_cumprod_match_diffusers(beta_schedule):
    cfg = NoiseSchedule(beta_schedule=beta_schedule, beta_start=0.0001 if beta_schedule == "linear" else 0.00085,
                        beta_end=0.02 if beta_schedule == "linear" else 0.012)
    ours = alphas_cumprod(cfg)
    theirs = DDPMScheduler(**diffusers_config(cfg)).alphas_cumprod
    assert ours.shape == (1000,)
    torch.testing.assert_close(ours.float(), theirs, rtol=1e-5, atol=1e-6)


def test_zero_terminal_snr_matches_diffusers_and_ends_at_pure_noise():
    cfg = NoiseSchedule(prediction_type="v_prediction", zero_terminal_snr=True)
    ours = alphas_cumprod(cfg)
    theirs = DDPMScheduler(**diffusers_config(cfg), rescale_betas_zero_snr=True).alphas_cumprod
    torch.testing.assert_close(ours.float(), theirs, rtol=1e-4, atol=1e-6)
    plain = alphas_cumprod(NoiseSchedule(prediction_type="v_prediction"))
    assert ours[-1].item() == 0.0 and plain[-1].item() > 4e-3
    assert ours[0].item() == pytest.approx(plain[0].item())  # the clean end is kept
    assert bool((ours[1:] < ours[:-1]).all())


def test_zero_terminal_snr_refuses_epsilon_prediction():
    with pytest.raises(InputError, match="v_prediction"):
        alphas_cumprod(NoiseSchedule(zero_terminal_snr=True))


@pytest.mark.parametrize("name", ["ddpm", "ddim", "dpmpp_2m"])
def test_samplers_start_from_pure_noise_on_a_zero_snr_schedule(name):
    cfg = NoiseSchedule(prediction_type="v_prediction", zero_terminal_snr=True)
    schedule = make_schedule(cfg, 10, "trailing")
    assert schedule.timesteps[0].item() == 999 and 0.0 < schedule.alpha_bar(0) < 1e-7  # floored, not 0
    step = get_sampler(name)
    # a perfect v-predictor of a known clean sample x0: v = sqrt(ᾱ) ε - sqrt(1 - ᾱ) x0 with ε read from x_t
    x0 = torch.full(SHAPE, 0.5)
    sample, previous = initial_latents(), None
    for i in range(schedule.num_steps):
        a = schedule.alpha_bar(i)
        eps = (sample - a**0.5 * x0) / (1 - a) ** 0.5
        v = a**0.5 * eps - (1 - a) ** 0.5 * x0
        out = step(schedule, i, sample, v, noise=step_noise(i), previous_x0=previous)
        sample, previous = out.prev_sample, out.pred_x0
        assert torch.isfinite(sample).all()
    torch.testing.assert_close(sample, x0, rtol=0, atol=1e-3)


@pytest.mark.parametrize("spacing,offset", [("leading", 1), ("leading", 0), ("trailing", 0)])
@pytest.mark.parametrize("steps", [1, 7, 20, 50])
def test_timesteps_match_diffusers(spacing, offset, steps):
    scheduler = DDPMScheduler(timestep_spacing=spacing, steps_offset=offset)
    scheduler.set_timesteps(steps)
    ours = inference_timesteps(1000, steps, spacing, offset)
    assert ours.tolist() == scheduler.timesteps.tolist()


def test_default_schedule_is_the_papers_20_step_leading_spacing():
    schedule = make_schedule(NoiseSchedule(), 20)
    assert schedule.timesteps[:3].tolist() == [951, 901, 851]
    assert schedule.timesteps[-1].item() == 1
    assert schedule.alpha_bars.shape == (21,)
    assert schedule.alpha_bar(20) == 1.0  # clean end point


@pytest.mark.parametrize("prediction_type", ["epsilon", "v_prediction"])
@pytest.mark.parametrize("spacing", ["leading", "trailing"])
def test_ddpm_matches_diffusers_with_the_same_noise(prediction_type, spacing):
    cfg = NoiseSchedule(prediction_type=prediction_type)
    steps = 20
    offset = 1 if spacing == "leading" else 0
    schedule = make_schedule(cfg, steps, spacing, offset)
    scheduler = DDPMScheduler(**diffusers_config(cfg), clip_sample=False, timestep_spacing=spacing, steps_offset=offset)
    scheduler.set_timesteps(steps)
    assert scheduler.timesteps.tolist() == schedule.timesteps.tolist()

    ours = theirs = initial_latents()
    for i, t in enumerate(schedule.timesteps.tolist()):
        ours = ddpm_step(schedule, i, ours, fake_model_output(ours, t), noise=step_noise(i)).prev_sample
        generator = torch.Generator().manual_seed(1000 + i)
        theirs = scheduler.step(fake_model_output(theirs, t), t, theirs, generator=generator).prev_sample
        torch.testing.assert_close(ours, theirs, rtol=1e-4, atol=1e-4, msg=f"step {i} (t={t})")
    assert not torch.equal(ours, initial_latents())


@pytest.mark.parametrize("prediction_type", ["epsilon", "v_prediction"])
@pytest.mark.parametrize("eta", [0.0, 0.6])
def test_ddim_matches_diffusers(prediction_type, eta):
    cfg = NoiseSchedule(prediction_type=prediction_type)
    steps = 20
    schedule = make_schedule(cfg, steps)
    scheduler = DDIMScheduler(
        **diffusers_config(cfg), clip_sample=False, set_alpha_to_one=True, steps_offset=1, timestep_spacing="leading"
    )
    scheduler.set_timesteps(steps)
    ours = theirs = initial_latents()
    for i, t in enumerate(schedule.timesteps.tolist()):
        noise = step_noise(i) if eta > 0 else None
        ours = ddim_step(schedule, i, ours, fake_model_output(ours, t), noise=noise, eta=eta).prev_sample
        theirs = scheduler.step(fake_model_output(theirs, t), t, theirs, eta=eta, variance_noise=noise).prev_sample
        torch.testing.assert_close(ours, theirs, rtol=1e-4, atol=1e-4, msg=f"step {i} (t={t})")


@pytest.mark.parametrize("prediction_type", ["epsilon", "v_prediction"])
@pytest.mark.parametrize("steps", [20, 8])
def test_dpmpp_2m_matches_diffusers(prediction_type, steps):
    cfg = NoiseSchedule(prediction_type=prediction_type)
    schedule = make_schedule(cfg, steps)
    scheduler = DPMSolverMultistepScheduler(
        **diffusers_config(cfg),
        algorithm_type="dpmsolver++",
        solver_order=2,
        solver_type="midpoint",
        lower_order_final=True,
        final_sigmas_type="zero",
    )
    scheduler.set_timesteps(timesteps=schedule.timesteps.tolist())
    ours = theirs = initial_latents()
    previous_x0 = None
    for i, t in enumerate(schedule.timesteps.tolist()):
        out = dpmpp_2m_step(schedule, i, ours, fake_model_output(ours, t), previous_x0=previous_x0)
        ours, previous_x0 = out.prev_sample, out.pred_x0
        theirs = scheduler.step(fake_model_output(theirs, t), t, theirs).prev_sample
        torch.testing.assert_close(ours, theirs, rtol=1e-4, atol=1e-4, msg=f"step {i} (t={t})")


def test_dpmpp_2m_second_order_differs_from_first_order():
    """The history term is used: dropping previous_x0 changes a middle step."""
    schedule = make_schedule(NoiseSchedule(), 10)
    x = initial_latents()
    first = dpmpp_2m_step(schedule, 0, x, fake_model_output(x, 951))
    x1 = first.prev_sample
    t1 = int(schedule.timesteps[1])
    with_history = dpmpp_2m_step(schedule, 1, x1, fake_model_output(x1, t1), previous_x0=first.pred_x0).prev_sample
    without = dpmpp_2m_step(schedule, 1, x1, fake_model_output(x1, t1)).prev_sample
    assert (with_history - without).abs().max() > 1e-3


def test_ddim_with_eta_one_is_the_ddpm_posterior():
    """Song et al.: eta = 1 makes the DDIM step the DDPM ancestral step (same mean and variance)."""
    schedule = make_schedule(NoiseSchedule(), 20)
    x = initial_latents()
    for i in (0, 9, 18):
        t = int(schedule.timesteps[i])
        out = fake_model_output(x, t)
        ddim = ddim_step(schedule, i, x, out, noise=step_noise(i), eta=1.0).prev_sample
        ddpm = ddpm_step(schedule, i, x, out, noise=step_noise(i)).prev_sample
        torch.testing.assert_close(ddim, ddpm, rtol=1e-5, atol=1e-5)


def test_noise_broadcasts_over_the_batch():
    """One (1, C, h, w) noise draw serves every row, exactly as if it were repeated."""
    schedule = make_schedule(NoiseSchedule(), 20)
    x = initial_latents()
    out = fake_model_output(x, 951)
    one = torch.randn((1, *SHAPE[1:]), generator=torch.Generator().manual_seed(3))
    broadcast = ddpm_step(schedule, 0, x, out, noise=one).prev_sample
    repeated = ddpm_step(schedule, 0, x, out, noise=one.expand(SHAPE).clone()).prev_sample
    assert torch.equal(broadcast, repeated)


def test_stochastic_steps_require_noise_and_the_last_step_does_not():
    schedule = make_schedule(NoiseSchedule(), 5)
    x = initial_latents()
    with pytest.raises(ValueError, match="pass noise"):
        ddpm_step(schedule, 0, x, fake_model_output(x, 801))
    with pytest.raises(ValueError, match="pass noise"):
        ddim_step(schedule, 0, x, fake_model_output(x, 801), eta=0.5)
    last = ddpm_step(schedule, 4, x, fake_model_output(x, 1)).prev_sample  # ᾱ' = 1: no variance
    assert torch.isfinite(last).all()


@contextmanager
def broken_invariant(match: str):
    """A ValueError that is not an InputError: settings are checked where they are made, so a bad value
    reaching the samplers is a bug of the caller, not a user's error."""
    with pytest.raises(ValueError, match=match) as info:
        yield info
    assert not isinstance(info.value, InputError), f"{info.value!r} should be a plain ValueError"


def test_bad_values_in_the_sampler_core_are_value_errors():
    with broken_invariant("exceeds"):
        inference_timesteps(1000, 1001)
    with broken_invariant("positive whole number"):
        inference_timesteps(1000, 0)
    with broken_invariant("spacing"):
        inference_timesteps(1000, 10, "linspace")
    with broken_invariant("prediction_type"):
        make_schedule(NoiseSchedule(prediction_type="sample"), 10)
    with broken_invariant("exceeds"):
        make_schedule(NoiseSchedule(), 1001)
    with broken_invariant("unknown scheduler 'euler'"):
        get_sampler("euler")
    with broken_invariant("unknown scheduler 'dpm'"):  # the old CLI name is no sampler's name
        get_sampler("dpm")
    with broken_invariant("eta"):
        x = initial_latents()
        ddim_step(make_schedule(NoiseSchedule(), 5), 0, x, x, eta=-1.0)


def test_a_bad_noise_schedule_config_is_an_input_error():
    """The model's noise-schedule config is a user's file: its errors stay InputErrors."""
    with pytest.raises(InputError, match="beta_schedule"):
        alphas_cumprod(NoiseSchedule(beta_schedule="cosine"))


@dataclass
class SpacedNoiseSchedule(NoiseSchedule):
    timestep_spacing: str = "leading"


def test_schedule_problem_names_what_cannot_be_sampled():
    """What resolution checks steps against: the message, or None when the steps can be sampled."""
    assert schedule_problem(SpacedNoiseSchedule(), 20) is None
    assert schedule_problem(SpacedNoiseSchedule(), 999) is None  # 1 .. 999 (leading, offset 1)
    assert "outside [0, 1000)" in schedule_problem(SpacedNoiseSchedule(), 1000)  # 1 .. 1000
    assert schedule_problem(SpacedNoiseSchedule(timestep_spacing="trailing"), 1000) is None  # 999 .. 0
    assert "exceeds the model's 1000 training timesteps" in schedule_problem(SpacedNoiseSchedule(), 1001)
    assert "positive whole number" in schedule_problem(SpacedNoiseSchedule(), 0)
    assert "unknown timestep spacing 'linspace'" in schedule_problem(SpacedNoiseSchedule(timestep_spacing="linspace"), 10)
    assert "prediction_type 'sample'" in schedule_problem(SpacedNoiseSchedule(prediction_type="sample"), 10)
    assert schedule_problem(SpacedNoiseSchedule(), 50, spacing="trailing", steps_offset=0) is None


def test_is_stochastic():
    assert is_stochastic("ddpm", 0.0)
    assert not is_stochastic("ddim", 0.0)
    assert is_stochastic("ddim", 0.3)
    assert not is_stochastic("dpmpp_2m", 1.0)


def test_the_torch_free_names_are_the_samplers_and_their_etas():
    """The settings and the parsers read the samplers' names from ``pipelines.samplers.names``: they must be these."""
    from pipelines.samplers import OWN_ETA, SAMPLER_NAMES, SAMPLERS

    assert SAMPLER_NAMES == tuple(SAMPLERS)
    assert set(OWN_ETA) <= set(SAMPLERS)
