"""Cross-frame attention limited to where it may pay (--temporal-scope): fewer layers or steps, the same chunking guarantees."""

from __future__ import annotations

import pytest
import torch

from factories_model import tiny_model
from factories_pipeline import random_pose_maps, random_source_image
from fpdm_video.errors import InputError
from fpdm_video.models.hooks.cross_frame import CrossFrameAttention, resolution_level
from pipelines.settings import SamplingSettings
from pipelines.video_sampling import VideoSampler, sample_video

R = 32
STEPS = 4


@pytest.fixture(scope="module")
def tiny():
    return tiny_model()


def _settings(batch_size: int = 2, **options) -> SamplingSettings:
    return SamplingSettings(batch_size=batch_size, steps=STEPS, guidance=2.0, seed=5, **options)


def _video(model, batch_size: int = 2, **options) -> torch.Tensor:
    maps = random_pose_maps(5, R, seed=2)
    return torch.cat(list(sample_video(model, random_source_image(R), maps, _settings(batch_size, **options), progress=False)))


def _hook(model, **options) -> tuple[CrossFrameAttention, list[str]]:
    """The cross-frame hook after a 2-frame chunk, and the names of the layers it acted on (while installed)."""
    with VideoSampler(model, random_source_image(R), _settings(**options)) as sampler:
        sampler.render(0, random_pose_maps(2, R, seed=2))
        (hook,) = [h for h in sampler.hooks.hooks if isinstance(h, CrossFrameAttention)]
        layers = list(hook.layers.values())
    return hook, layers


def test_resolution_levels_follow_the_unets_blocks():
    assert [resolution_level(n, 3) for n in ("down_blocks.0.attentions.0.transformer_blocks.0.attn1",
                                             "down_blocks.2.attentions.1.x", "mid_block.attentions.0.x",
                                             "up_blocks.0.attentions.0.x", "up_blocks.2.attentions.2.x")] == [0, 2, 2, 2, 0]  # fmt: skip
    with pytest.raises(ValueError, match="no resolution level"):
        resolution_level("conv_in", 3)


def test_each_scope_keeps_anchors_only_where_it_acts(tiny):
    (everywhere, all_layers), (low, low_layers) = _hook(tiny, temporal_attention="first"), _hook(tiny, temporal_attention="first", temporal_scope="low")
    early, _ = _hook(tiny, temporal_attention="first", temporal_scope="early")
    late, _ = _hook(tiny, temporal_attention="first", temporal_scope="late")
    both, _ = _hook(tiny, temporal_attention="first", temporal_scope="low-early")
    low_late, _ = _hook(tiny, temporal_attention="first", temporal_scope="low-late")
    blocks = len(tiny.denoiser.unet.down_blocks)
    levels = {resolution_level(name, blocks) for name in all_layers}
    assert len(levels) > 1  # the tiny UNet attends at more than one resolution, so "low" leaves some out
    assert 0 < len(low_layers) < len(all_layers)
    assert {resolution_level(name, blocks) for name in low_layers} == {max(levels)}
    assert {slot[1] for slot in low.first} == set(low_layers)
    assert {slot[0] for slot in early.first} == set(range(STEPS // 2))  # only the first half of the steps
    assert {slot[0] for slot in late.first} == set(range(STEPS // 2, STEPS))  # only the second half
    assert {(slot[0], slot[1]) for slot in low_late.first} == {(step, name) for step in range(STEPS // 2, STEPS) for name in low_layers}
    assert {slot[0] for slot in everywhere.first} == set(range(STEPS))
    assert len(both.first) == len(low_layers) * (STEPS // 2) * 2  # layers x steps x branches
    assert both.nbytes() < min(low.nbytes(), early.nbytes()) < everywhere.nbytes()


@pytest.mark.parametrize("scope", ["low", "early", "low-early"])
def test_a_scope_changes_the_video_less_than_all_and_batching_still_does_not_matter(tiny, scope):
    plain, everywhere = _video(tiny), _video(tiny, temporal_attention="both")
    limited = _video(tiny, batch_size=5, temporal_attention="both", temporal_scope=scope)
    assert (limited - plain).abs().max() > 1e-5  # it acts
    assert not torch.equal(limited, everywhere)  # but not everywhere (sampling is deterministic: any difference counts)
    for batch_size in (1, 2):
        assert (_video(tiny, batch_size=batch_size, temporal_attention="both", temporal_scope=scope) - limited).abs().max() <= 1e-4


def test_a_scope_without_cross_frame_attention_or_an_unknown_one_is_refused():
    with pytest.raises(InputError, match="temporal-scope low limits cross-frame attention, which is off"):
        _settings(temporal_scope="low")
    with pytest.raises(InputError, match="temporal-scope must be one of all, low, early, late, low-early, low-late"):
        _settings(temporal_attention="first", temporal_scope="deep")


@pytest.mark.parametrize("scope", ["late", "low-late"])
def test_a_late_scope_acts_but_not_everywhere(tiny, scope):
    """At the tiny random model's late steps the anchors move the frames by a few 1e-6 only (0.2e-3 in all steps),
    within ten times the float rounding between batch sizes: batching is tested on the scopes above (the same
    anchor code; a late scope only gates the steps, tested below and in the kept slots above)."""
    plain, everywhere = _video(tiny), _video(tiny, temporal_attention="both")
    limited = _video(tiny, temporal_attention="both", temporal_scope=scope)
    assert not torch.equal(limited, plain) and not torch.equal(limited, everywhere)  # deterministic: any difference counts
    assert torch.equal(limited, _video(tiny, temporal_attention="both", temporal_scope=scope))


@pytest.mark.parametrize("steps", [1, 2, 3, 4, 5])
def test_early_and_late_split_the_steps_between_them(steps):
    from fpdm_video.models.hooks.cross_frame import scope_steps

    early, late = scope_steps("early", steps), scope_steps("low-late", steps)
    assert sorted([*early, *late]) == list(range(steps)) and len(early) - len(late) in (0, 1)
    assert scope_steps("low", steps) is None and scope_steps("all", steps) is None
