"""--speed presets and the guidance interval: validated like every setting, deterministic, and doing what they say."""

from __future__ import annotations

import pytest
import torch

from factories_model import tiny_model
from factories_pipeline import BranchProbe, FakeFPDM, random_pose_maps, random_source_image
from fpdm_video.errors import InputError
from pipelines.transfer import TransferSettings
from pipelines.transfer.speed import SPEED_PRESETS, apply_speed
from pipelines.video_sampling import sample_video

R = 32


def test_presets_fill_what_was_not_given():
    fast = apply_speed(TransferSettings(), "fast")
    assert (fast.speed, fast.scheduler, fast.steps, fast.guidance_interval) == ("fast", "dpm", 6, (0.3, 1.0))
    assert apply_speed(TransferSettings(), "fast", steps=10).steps == 10
    assert apply_speed(TransferSettings(), "balanced", scheduler="ddim").scheduler == "ddim"
    balanced = apply_speed(TransferSettings(), "balanced", default_steps=20)
    assert (balanced.scheduler, balanced.steps, balanced.deep_cache) == ("ddpm", 20, 3)
    assert apply_speed(TransferSettings(), "balanced", deep_cache=1).deep_cache == 1  # an explicit --deep-cache wins
    paper = apply_speed(TransferSettings(), "paper", default_steps=25)
    assert (paper.scheduler, paper.steps, paper.guidance_interval) == ("ddpm", 25, None)
    with pytest.raises(InputError, match="speed must be one of paper, balanced, fast"):
        apply_speed(TransferSettings(), "turbo")


@pytest.mark.parametrize(("settings", "message"), [(TransferSettings(speed="turbo"), "speed must be one of"),
                                                   (TransferSettings(guidance_interval=(0.6, 0.2)), "0 <= lo < hi <= 1"),
                                                   (TransferSettings(guidance_interval=(0.0, 1.5)), "0 <= lo < hi <= 1"),
                                                   (TransferSettings(guidance_interval="half"), "two fractions")])  # fmt: skip
def test_bad_speed_settings_are_refused(settings, message):
    with pytest.raises(InputError, match=message):
        settings.check()


def test_the_guidance_interval_guides_only_its_steps():
    """DDPM 4 steps at t = 751, 501, 251, 1 (leading spacing): an interval [0.3, 1] guides the first two only."""
    model = BranchProbe()
    list(sample_video(model, random_source_image(R), random_pose_maps(2, R), batch_size=2, steps=4, guidance=2.0,
                      noise="independent", progress=False, guidance_interval=(0.3, 1.0)))  # fmt: skip
    assert model.calls.denoise_rows == [4, 4, 2, 2]  # u and f rows, then the f branch alone
    with pytest.raises(InputError, match="0 <= lo < hi <= 1"):
        sample_video(FakeFPDM(), random_source_image(R), random_pose_maps(1, R), guidance_interval=(1.0, 0.5))


@pytest.mark.parametrize("speed", sorted(SPEED_PRESETS))
def test_each_preset_is_deterministic_for_a_seed(speed):
    preset = SPEED_PRESETS[speed]
    scheduler = {"ddpm": "ddpm", "ddim": "ddim", "dpm": "dpmpp_2m"}[preset.scheduler]

    model = tiny_model() if preset.deep_cache > 1 else FakeFPDM()  # step feature caching needs a real UNet

    def run(seed: int) -> torch.Tensor:
        return torch.cat(list(sample_video(model, random_source_image(R), random_pose_maps(3, R), batch_size=2,
                                           steps=preset.steps or 20, scheduler=scheduler, seed=seed, progress=False,
                                           guidance_interval=preset.guidance_interval, deep_cache=preset.deep_cache)))  # fmt: skip

    assert torch.equal(run(3), run(3)) and not torch.equal(run(3), run(4))
