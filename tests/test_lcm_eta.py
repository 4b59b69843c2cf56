"""The student's sampler's eta: the share of fresh noise at each re-noising (pipelines.samplers.lcm)."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch

from fpdm_video.config import StudentConfig
from fpdm_video.errors import InputError
from fpdm_video.models.consistency import consistency_output
from fpdm_video.models.registry import tiny_config
from pipelines.samplers import Sampler, is_stochastic, lcm_step, make_schedule
from pipelines.settings import SamplingRequest, resolve_sampling
from pipelines.settings.sampling import SamplingSettings

from test_samplers import NoiseSchedule

SHAPE = (2, 4, 8, 8)
ZSNR = NoiseSchedule(prediction_type="v_prediction", zero_terminal_snr=True)


def _known_point(schedule, i: int, seed: int = 0):
    """x_t = sqrt(ᾱ) x0 + sqrt(1 - ᾱ) ε and the v a perfect predictor of x0 gives there."""
    g = torch.Generator().manual_seed(seed)
    x0, eps = torch.randn(SHAPE, generator=g), torch.randn(SHAPE, generator=g)
    a = schedule.alpha_bar(i)
    x_t = a**0.5 * x0 + (1 - a) ** 0.5 * eps
    return x0, eps, x_t, a**0.5 * eps - (1 - a) ** 0.5 * x0


def test_eta_one_is_lcm_fresh_noise_exactly_and_the_default():
    schedule = make_schedule(ZSNR, 2, "trailing")
    _, _, x_t, v = _known_point(schedule, 0)
    z = torch.randn(SHAPE, generator=torch.Generator().manual_seed(7))
    t = torch.full((SHAPE[0],), int(schedule.timesteps[0]))
    x0 = consistency_output(x_t, v, t, torch.full((SHAPE[0], 1, 1, 1), schedule.alpha_bar(0)), "v_prediction")
    a = schedule.alpha_bar(1)
    expected = a**0.5 * x0 + (1 - a) ** 0.5 * z  # LCM's Alg. 3
    assert torch.equal(lcm_step(schedule, 0, x_t, v, noise=z).prev_sample, expected)
    assert torch.equal(lcm_step(schedule, 0, x_t, v, noise=z, eta=1.0).prev_sample, expected)
    assert torch.equal(Sampler("lcm").step(schedule, 0, x_t, v, z, None).prev_sample, expected)


def test_eta_zero_carries_the_predicted_noise_on_and_needs_none():
    """From a point of a known (x0, ε) and a perfect predictor, eta 0 lands on the same (x0, ε) at the next level."""
    schedule = make_schedule(ZSNR, 4, "trailing")
    x0, eps, x_t, v = _known_point(schedule, 1)  # t = 749: c_skip ~ 1e-8, so f(x_t, t) is x0 to float precision
    out = lcm_step(schedule, 1, x_t, v, noise=None, eta=0.0).prev_sample
    a = schedule.alpha_bar(2)
    torch.testing.assert_close(out, a**0.5 * x0 + (1 - a) ** 0.5 * eps, rtol=0, atol=1e-5)
    assert not is_stochastic("lcm", 0.0) and is_stochastic("lcm", 0.5) and is_stochastic("lcm", None)
    assert not is_stochastic("ddim", None) and is_stochastic("ddpm", None)


@pytest.mark.parametrize("eta", [0.3, 0.7])
def test_a_share_of_fresh_noise_keeps_the_noise_standard(eta):
    """ε and z independent and standard: sqrt(1 - η²) ε + η z is standard too (checked at 4e5 values, 1 % tolerance)."""
    schedule = make_schedule(ZSNR, 4, "trailing")
    shape = (100, 4, 32, 32)
    g = torch.Generator().manual_seed(3)
    x0, eps, z = torch.randn(shape, generator=g), torch.randn(shape, generator=g), torch.randn(shape, generator=g)
    a, a_next = schedule.alpha_bar(1), schedule.alpha_bar(2)
    x_t = a**0.5 * x0 + (1 - a) ** 0.5 * eps
    out = lcm_step(schedule, 1, x_t, a**0.5 * eps - (1 - a) ** 0.5 * x0, noise=z, eta=eta).prev_sample
    noise = (out - a_next**0.5 * x0) / (1 - a_next) ** 0.5
    assert abs(noise.mean().item()) < 0.01 and abs(noise.std().item() - 1) < 0.01
    assert abs(torch.corrcoef(torch.stack([noise.flatten(), z.flatten()]))[0, 1].item() - eta) < 0.01


def test_eta_is_checked_where_settings_are_made_and_the_step_refuses_a_bad_one():
    assert SamplingSettings(speed="turbo", scheduler="lcm", eta=0.0).eta == 0.0
    with pytest.raises(InputError, match="share of fresh noise, from 0 to 1, got 1.5"):
        SamplingSettings(speed="turbo", scheduler="lcm", eta=1.5)
    assert SamplingSettings(scheduler="ddim", eta=1.5).eta == 1.5  # DDIM's eta has no upper bound
    with pytest.raises(InputError, match="eta must be a number >= 0"):
        SamplingSettings(scheduler="ddim", eta=-0.5)
    schedule = make_schedule(ZSNR, 2, "trailing")
    x = torch.zeros(SHAPE)
    with pytest.raises(ValueError, match="from 0 to 1"):
        lcm_step(schedule, 0, x, x, noise=x, eta=2.0)
    with pytest.raises(ValueError, match="pass noise"):
        lcm_step(schedule, 0, x, x, eta=0.5)


def test_a_student_samples_with_its_own_eta_unless_told_otherwise():
    teacher = tiny_config()
    config = replace(teacher, student=StudentConfig(steps=2, guidance=2.0, eta=0.5))
    assert resolve_sampling(None, config).eta == 0.5
    assert resolve_sampling(SamplingRequest(eta=0.0), config).eta == 0.0
    assert resolve_sampling(None, replace(teacher, student=StudentConfig(steps=2))).eta == 1.0  # a config without one: LCM's
    assert resolve_sampling(None, teacher).eta is None  # a teacher: each sampler's own (DDIM's 0)
    with pytest.raises(InputError, match="from 0 to 1"):
        resolve_sampling(None, replace(teacher, student=StudentConfig(steps=2, eta=3.0)))


@pytest.mark.parametrize("eta", ["0.5", True, float("nan"), -1.0])
def test_a_bad_eta_with_turbo_gets_the_number_message(eta):
    with pytest.raises(InputError, match="eta must be a number >= 0"):
        SamplingSettings(speed="turbo", scheduler="lcm", eta=eta)


@pytest.mark.parametrize("scheduler", ["ddpm", "dpmpp_2m"])
def test_an_eta_for_a_sampler_without_one_is_refused_not_ignored(scheduler):
    assert SamplingSettings(scheduler=scheduler, eta=0.0).eta == 0.0  # nothing to ignore
    with pytest.raises(InputError, match=f"{scheduler} takes none"):
        SamplingSettings(scheduler=scheduler, eta=0.5)
    with pytest.raises(InputError, match="ddpm takes none"):
        resolve_sampling(SamplingRequest(speed="paper", eta=0.5), tiny_config())
