"""--speed presets, the checkpoint's own defaults and the guidance interval: resolved once, checked once, deterministic,
and doing what they say."""

from __future__ import annotations

import pytest
import torch

from factories_model import tiny_model
from factories_pipeline import BranchProbe, FakeFPDM, random_pose_maps, random_source_image
from fpdm_video.errors import InputError
from fpdm_video.config import SamplingConfig
from pipelines.settings import SPEED_PRESETS, SamplingRequest, SamplingSettings, resolve_sampling
from pipelines.video_sampling import sample_video

R = 32


@pytest.fixture(scope="module")
def config():
    return tiny_model().config


def test_presets_fill_what_was_not_given(config):
    fast = resolve_sampling(SamplingRequest(speed="fast"), config)
    assert (fast.speed, fast.scheduler, fast.steps, fast.guidance_interval) == ("fast", "dpmpp_2m", 6, (0.3, 1.0))
    assert resolve_sampling(SamplingRequest(speed="fast", steps=10), config).steps == 10
    assert resolve_sampling(SamplingRequest(speed="balanced", scheduler="ddim"), config).scheduler == "ddim"
    balanced = resolve_sampling(SamplingRequest(speed="balanced"), config)
    assert (balanced.scheduler, balanced.steps, balanced.deep_cache) == ("ddpm", config.sampling.steps, 3)
    assert resolve_sampling(SamplingRequest(speed="balanced", deep_cache=1), config).deep_cache == 1  # an explicit --deep-cache wins
    assert resolve_sampling(None, config) == resolve_sampling(SamplingRequest(speed="paper"), config)
    with pytest.raises(InputError, match="speed must be one of paper, balanced, fast, turbo"):
        resolve_sampling(SamplingRequest(speed="ludicrous"), config)
    with pytest.raises(InputError, match="not a few-step student"):  # turbo needs a student (tests/test_turbo.py)
        resolve_sampling(SamplingRequest(speed="turbo"), config)


def test_the_checkpoints_own_defaults_come_after_the_preset_and_before_the_defaults(config):
    from dataclasses import replace

    own = replace(config, sampling=SamplingConfig(steps=12, guidance=3.0))
    paper = resolve_sampling(SamplingRequest(), own)
    assert (paper.steps, paper.guidance, paper.scheduler) == (12, 3.0, "ddpm")
    assert resolve_sampling(SamplingRequest(speed="fast"), own).steps == 6  # the preset names its steps
    assert resolve_sampling(SamplingRequest(steps=7, guidance=1.5), own).guidance == 1.5  # the user's win
    with pytest.raises(InputError, match="exceeds the model's 1000 training timesteps"):
        resolve_sampling(SamplingRequest(steps=1001), own)


@pytest.mark.parametrize(("values", "message"), [({"speed": "ludicrous"}, "speed must be one of"),
                                                 ({"guidance_interval": (0.6, 0.2)}, "0 <= LO < HI <= 1"),
                                                 ({"guidance_interval": (0.0, 1.5)}, "0 <= LO < HI <= 1"),
                                                 ({"guidance_interval": "half"}, "two fractions"),
                                                 ({"guidance": 0.5}, "guidance must be a number from 1"),
                                                 ({"guidance": 21}, "guidance must be a number from 1"),
                                                 ({"steps": 0}, "steps must be a positive whole number"),
                                                 ({"scheduler": "dpm"}, "scheduler must be one of ddpm, ddim, dpmpp_2m, lcm"),
                                                 ({"seed": -1}, "seed must be a whole number"),
                                                 ({"batch_size": 0}, "batch-size must be a positive")])  # fmt: skip
def test_bad_settings_are_refused_where_they_are_made(values, message):
    with pytest.raises(InputError, match=message):
        SamplingSettings(**values)


def test_the_guidance_interval_guides_only_its_steps():
    """DDPM 4 steps at t = 751, 501, 251, 1 (leading spacing): an interval [0.3, 1] guides the first two only."""
    model = BranchProbe()
    settings = SamplingSettings(batch_size=2, steps=4, guidance=2.0, noise="independent", guidance_interval=(0.3, 1.0))
    list(sample_video(model, random_source_image(R), random_pose_maps(2, R), settings, progress=False))
    assert model.calls.denoise_rows == [4, 4, 2, 2]  # u and f rows, then the f branch alone


@pytest.mark.parametrize("speed", sorted(set(SPEED_PRESETS) - {"turbo"}))  # turbo needs a student: tests/test_turbo.py
def test_each_preset_is_deterministic_for_a_seed(speed):
    model = tiny_model() if SPEED_PRESETS[speed].get("deep_cache", 1) > 1 else FakeFPDM()  # step feature caching needs a real UNet
    settings = resolve_sampling(SamplingRequest(speed=speed, batch_size=2), tiny_model().config)

    def run(seed: int) -> torch.Tensor:
        from dataclasses import replace

        return torch.cat(list(sample_video(model, random_source_image(R), random_pose_maps(3, R), replace(settings, seed=seed),
                                           progress=False)))  # fmt: skip

    assert torch.equal(run(3), run(3)) and not torch.equal(run(3), run(4))
