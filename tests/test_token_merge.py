"""Token merging (ToMe for SD): merge and unmerge are exact where tokens repeat; sampling with it is deterministic,
close to sampling without, nearly independent of the batch size, and refused outside [0, 0.75]."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch

from factories_pipeline import random_pose_maps, random_source_image
from fpdm_video.errors import InputError
from fpdm_video.models.hooks.token_merge import bipartite_matching
from pipelines.settings import SamplingRequest, SamplingSettings, resolve_sampling
from pipelines.video_sampling import sample_video


def test_merging_repeated_tokens_and_unmerging_gives_them_back():
    generator = torch.Generator().manual_seed(0)
    grid = torch.randn(2, 4, 4, 8, generator=generator)  # (B, h, w, C)
    grid[:, :, 1::2] = grid[:, :, 0::2]  # each token's right neighbour repeats it: half the tokens are duplicates
    x = grid.flatten(1, 2)  # (B, 16, C)
    merge, unmerge = bipartite_matching(x, (4, 4), merged=4, window=0)
    merged = merge(x)
    assert merged.shape == (2, 12, 8)
    assert torch.allclose(unmerge(merged), x, atol=1e-6)  # the 4 best matches are exact duplicates of their destinations
    merge_all, unmerge_all = bipartite_matching(x, (4, 4), merged=12, window=3)
    back = unmerge_all(merge_all(x))
    assert back.shape == x.shape and not torch.allclose(back, x, atol=1e-3)  # merging distinct tokens loses detail


@pytest.fixture(scope="module")
def demo():
    from fpdm_video.models.checkpoint import load_model
    from pipelines.transfer import default_checkpoint

    return load_model(default_checkpoint()).float().eval()  # attention at its 16x16 latent grid (256 tokens)


def _video(model, settings: SamplingSettings, frames: int = 4) -> torch.Tensor:
    resolution = model.canvas[0]
    maps = random_pose_maps(frames, resolution, seed=2)
    return torch.cat(list(sample_video(model, random_source_image(resolution), maps, settings, progress=False)))


def test_sampling_with_merged_tokens_is_deterministic_and_close(demo):
    base = resolve_sampling(SamplingRequest(steps=4, batch_size=2, seed=3), demo.config)
    exact = _video(demo, base)
    merged = _video(demo, replace(base, token_merge=0.5))
    assert torch.equal(merged, _video(demo, replace(base, token_merge=0.5)))
    difference = (merged - exact).abs()
    assert float(difference.max()) > 1e-3 and float(difference.mean()) < 0.05  # it changes the frames, a little


@pytest.mark.parametrize("mode", ["off", "both"])
def test_the_batch_size_changes_the_frames_only_through_rare_merge_choices(demo, mode):
    """Batches of 4 against 1: float rounding differs, and where two similarities are within it a merge choice can flip
    (seen: 3 steps with ``both``, one frame 3.5e-3 off); otherwise the frames agree as without merging."""
    settings = resolve_sampling(SamplingRequest(steps=3, batch_size=4, temporal_attention=mode), demo.config)
    settings = replace(settings, token_merge=0.3)
    difference = (_video(demo, replace(settings, batch_size=1)) - _video(demo, settings)).abs()
    assert float(difference.mean()) <= 1e-4 and float(difference.max()) <= 2e-2
    per_frame = difference.flatten(1).max(dim=1).values
    assert int((per_frame > 1e-4).sum()) <= 2  # at most a flip and the frame that takes it as its previous anchor


@pytest.mark.parametrize("ratio", [-0.1, 0.8, 1.0, float("nan"), "half"])
def test_bad_ratios_are_refused_where_settings_are_made(ratio):
    with pytest.raises(InputError, match="token-merge must be a fraction from 0"):
        SamplingSettings(token_merge=ratio)
