"""Cross-frame attention: off is today's sampler, one frame is its own anchor, the store makes chunking irrelevant,
and it works with step feature caching and the guidance interval."""

from __future__ import annotations

import pytest
import torch

from factories_model import tiny_model
from factories_pipeline import random_pose_maps, random_source_image
from fpdm_video.errors import InputError
from fpdm_video.models.hooks.cross_frame import CrossFrameAttention
from pipelines.settings import SamplingSettings
from pipelines.video_sampling import VideoSampler, sample_video

R = 32
MODES = ("first", "previous", "both")


@pytest.fixture(scope="module")
def tiny():
    return tiny_model()


def _settings(batch_size: int = 2, **options) -> SamplingSettings:
    return SamplingSettings(batch_size=batch_size, steps=4, guidance=2.0, seed=5, **options)


def _video(model, frames: int = 5, batch_size: int = 2, **options) -> torch.Tensor:
    settings = _settings(batch_size, **options)
    return torch.cat(list(sample_video(model, random_source_image(R), random_pose_maps(frames, R, seed=2), settings, progress=False)))


def test_off_is_the_plain_sampler_bit_for_bit(tiny):
    assert torch.equal(_video(tiny, temporal_attention="off"), _video(tiny))


@pytest.mark.parametrize("mode", MODES)
def test_a_one_frame_video_attends_to_itself_only(tiny, mode):
    plain = _video(tiny, frames=1, batch_size=1)
    assert (_video(tiny, frames=1, batch_size=1, temporal_attention=mode) - plain).abs().max() <= 1e-5


@pytest.mark.parametrize("mode", MODES)
def test_the_output_does_not_depend_on_the_batch_size_and_is_deterministic(tiny, mode):
    whole = _video(tiny, batch_size=5, temporal_attention=mode)
    assert torch.equal(whole, _video(tiny, batch_size=5, temporal_attention=mode))
    assert (whole - _video(tiny, temporal_attention="off")).abs().max() > 1e-4  # it changes the video
    for batch_size in (1, 2, 3):
        chunked = _video(tiny, batch_size=batch_size, temporal_attention=mode)
        assert (chunked - whole).abs().max() <= 1e-4, batch_size


@pytest.mark.parametrize("options", [{"deep_cache": 2}, {"guidance_interval": (0.3, 1.0)}, {"scheduler": "dpmpp_2m"},
                                     {"guidance_source": 3.0}, {"noise": "independent"}, {"scheduler": "lcm", "eta": 0.7}])  # fmt: skip
def test_it_runs_with_the_other_sampling_options_and_chunking_still_does_not_matter(tiny, options):
    whole = _video(tiny, batch_size=5, temporal_attention="both", **options)
    assert (_video(tiny, batch_size=2, temporal_attention="both", **options) - whole).abs().max() <= 1e-4


def test_the_hook_keeps_one_anchor_per_step_layer_and_branch(tiny):
    from diffusers.models.attention_processor import Attention

    with VideoSampler(tiny, random_source_image(R), _settings(temporal_attention="both")) as sampler:
        sampler.render(0, random_pose_maps(2, R, seed=2))
        (hook,) = [h for h in sampler.hooks.hooks if isinstance(h, CrossFrameAttention)]
        carry = sampler.carry()
    layers = sum(isinstance(m, Attention) and not m.is_cross_attention for m in tiny.denoiser.unet.modules())
    assert len(hook.first) == len(hook.last) == 4 * layers * 2  # steps x self-attention layers x branches (u, f)
    assert hook.nbytes() > 0 and len(carry) == 2 * 2 * len(hook.first)  # first and last, keys and values


@pytest.mark.parametrize("mode", MODES)
def test_a_sampler_started_from_the_carry_continues_the_video_exactly(tiny, mode):
    """What a flow does: each chunk in its own sampler, started from the carry of the one before, equals one sampler."""
    maps, settings = random_pose_maps(6, R, seed=2), _settings(temporal_attention=mode)
    with VideoSampler(tiny, random_source_image(R), settings) as one:
        whole = torch.cat([one.render(first, maps[first:first + 2]) for first in (0, 2, 4)])
    carry, parts = None, []
    for first in (0, 2, 4):
        with VideoSampler(tiny, random_source_image(R), settings, carry) as sampler:
            parts.append(sampler.render(first, maps[first:first + 2]))
            carry = {k: v.clone() for k, v in sampler.carry().items()}
    assert torch.equal(torch.cat(parts), whole)
    with VideoSampler(tiny, random_source_image(R), settings) as fresh, pytest.raises(ValueError, match="carry of the one before"):
        fresh.render(2, maps[2:4])  # a later chunk without the carry is refused, not sampled differently


@pytest.mark.parametrize("value", ["sideways", "", "OFF", None])
def test_bad_modes_are_refused(value):
    with pytest.raises(InputError, match="temporal-attention must be one of off, first, previous, both"):
        _settings(temporal_attention=value)
