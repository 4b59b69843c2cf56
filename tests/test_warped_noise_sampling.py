"""Warped noise in the video sampler: fixed noise when nothing moves, the same frames however they are batched or chunked."""

from __future__ import annotations

import pytest
import torch
from factories_pipeline import FakeFPDM, random_pose_maps, random_source_image

from fpdm_video.errors import InputError
from pipelines.settings import SamplingSettings
from pipelines.video_sampling import VideoSampler, latent_cell, sample_video

torch.set_num_threads(1)
R = 32
FRAMES = 7
STOCHASTIC = {"ddpm": {"scheduler": "ddpm"}, "lcm": {"scheduler": "lcm", "eta": 0.7}}  # the per-step noise is warped too


def settings(**kwargs) -> SamplingSettings:
    kwargs.setdefault("steps", 3)
    kwargs.setdefault("scheduler", "ddpm")  # stochastic: the per-step noise is warped too
    return SamplingSettings(**kwargs)


def motion_for(model, frames: int, scale: float = 1.0) -> torch.Tensor:
    """(T, 2, h, w) a smooth motion in latent cells, zero into frame 0."""
    h = R // latent_cell(model)
    ys, xs = torch.meshgrid(torch.arange(h) + 0.5, torch.arange(h) + 0.5, indexing="ij")
    t = torch.arange(frames, dtype=torch.float32)[:, None, None]
    field = torch.stack([torch.sin(xs / h * 3 + t) * scale, torch.cos(ys / h * 2 - t) * 0.5 * scale], dim=1)
    field[0] = 0
    return field


def video(model, pose, motion, **kwargs) -> torch.Tensor:
    return torch.cat(list(sample_video(model, random_source_image(R), pose, settings(**kwargs), progress=False, motion=motion)))


@pytest.mark.parametrize("sampler", STOCHASTIC)  # ddpm: --speed paper's; lcm with eta 0.7: turbo's re-noising
def test_warped_noise_without_motion_is_fixed_noise(sampler):
    model = FakeFPDM()
    pose = random_pose_maps(FRAMES, R)
    still = torch.zeros_like(motion_for(model, FRAMES))
    fixed = video(model, pose, None, batch_size=3, seed=4, **STOCHASTIC[sampler])
    for mode in ("warped", "bilinear"):
        assert torch.equal(video(model, pose, still, batch_size=3, seed=4, noise=mode, **STOCHASTIC[sampler]), fixed)


@pytest.mark.parametrize("sampler", STOCHASTIC)
@pytest.mark.parametrize("mode", ["warped", "bilinear"])
def test_batch_size_and_chunks_do_not_change_the_frames(mode, sampler):
    model = FakeFPDM()
    pose, motion = random_pose_maps(FRAMES, R), motion_for(model, FRAMES)
    kind = STOCHASTIC[sampler]
    whole = video(model, pose, motion, batch_size=4, noise=mode, seed=2, **kind)
    assert (whole - video(model, pose, None, batch_size=4, seed=2, **kind)).abs().max() > 1e-3  # the motion matters
    for batch in (1, 3):
        torch.testing.assert_close(video(model, pose, motion, batch_size=batch, noise=mode, seed=2, **kind), whole, rtol=1e-5, atol=1e-5)
    # two samplers, the second from the first one's carry (as the transfer flow renders chunks in separate tasks)
    s = settings(batch_size=2, noise=mode, seed=2, **kind)
    with VideoSampler(model, random_source_image(R), s) as first:
        part = [first.render(0, pose[0:2], motion[0:2]), first.render(2, pose[2:4], motion[2:4])]
        carry = first.carry()
    assert set(carry) == {"noise/frame", "noise/maps"} and int(carry["noise/frame"]) == 3
    with VideoSampler(model, random_source_image(R), s, carry) as second:
        part += [second.render(4, pose[4:6], motion[4:6]), second.render(6, pose[6:7], motion[6:7])]
    torch.testing.assert_close(torch.cat(part), whole, rtol=1e-5, atol=1e-5)


def test_warped_noise_needs_the_motion_and_the_frames_in_order():
    model = FakeFPDM()
    pose, motion = random_pose_maps(4, R), motion_for(model, 4)
    with pytest.raises(InputError, match="needs the motion fields"):
        sample_video(model, random_source_image(R), pose, settings(noise="warped"), progress=False)
    with VideoSampler(model, random_source_image(R), settings(noise="warped", batch_size=2)) as sampler:
        with pytest.raises(InputError, match=r"\(b, 2, h, w\) in latent cells"):
            sampler.render(0, pose[0:2], motion[0:1])
        with pytest.raises(ValueError, match="renders frames in order: frame 2 needs frame 1"):
            sampler.render(2, pose[2:4], motion[2:4])
