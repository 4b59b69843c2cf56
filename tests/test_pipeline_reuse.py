"""The exact savings of sampling change nothing but float rounding (the tiny model, real diffusers UNet)."""

from __future__ import annotations

import pytest
import torch

from factories_model import tiny_model
from factories_pipeline import random_pose_maps, random_source_image
from pipelines.guidance import guided_model_output
from pipelines.reuse import Reuse
from pipelines.video_sampling import sample_video

R = 32


@pytest.fixture(scope="module")
def model():
    return tiny_model()


@pytest.fixture(scope="module")
def conditions(model):
    generator = torch.Generator().manual_seed(3)
    with torch.no_grad():
        encoding = model.encode_source(random_source_image(R)[None])
        pose = random_pose_maps(3, R, seed=4)
        fused = model.fuse(encoding.image_embedding.expand(3, -1), pose)
    latents = torch.randn(3, model.latent_channels, *model.latent_hw, generator=generator)
    return latents, pose, encoding.context, fused


def test_a_precomputed_pose_feature_is_the_pose_map(model, conditions):
    latents, pose, context, fused = conditions
    flags = torch.tensor([False, True, True])
    with torch.no_grad():
        plain = model.denoise(latents, 901, pose, context.expand(3, -1, -1), fused, use_pose=flags)
        reused = model.denoise(latents, 901, None, context.expand(3, -1, -1), fused, use_pose=flags,
                               pose_feature=model.pose_features(pose))  # fmt: skip
    assert torch.equal(plain, reused)


@pytest.mark.parametrize("rows", [True, False, (False, True, True)])
def test_cached_context_keys_and_values_equal_computed_ones(model, conditions, rows):
    latents, pose, context, fused = conditions
    use_source = rows if isinstance(rows, bool) else torch.tensor(rows)
    kv = model.context_kv(context)
    assert kv is not None and len(kv.on) == sum(1 for m in model.modules() if getattr(m, "is_cross_attention", False))
    with torch.no_grad():
        plain = model.denoise(latents, 501, pose, context.expand(3, -1, -1), fused, use_source=use_source)
        cached = model.denoise(latents, 501, pose, context.expand(3, -1, -1), fused, use_source=use_source, kv=kv)
    assert (plain - cached).abs().max() <= 1e-5 and plain.abs().max() > 1e-2
    if rows == (False, True, True):  # the row without the source differs from the others: the masks reach the cache
        other = model.denoise(latents, 501, pose, context.expand(3, -1, -1), fused, use_source=True, kv=kv)
        assert (other[0] - cached[0]).abs().max() > 1e-4 and torch.allclose(other[1:], cached[1:], atol=1e-5)


def test_one_unconditioned_row_for_equal_latents(model, conditions):
    _, pose, context, fused = conditions
    same = torch.randn(1, model.latent_channels, *model.latent_hw, generator=torch.Generator().manual_seed(9)).expand(3, -1, -1, -1)
    with torch.no_grad():
        full = guided_model_output(model, same, 981, pose, context.expand(3, -1, -1), fused, 2.0)
        shared = guided_model_output(model, same, 981, pose, context.expand(3, -1, -1), fused, 2.0, same_latents=True)
    assert (full - shared).abs().max() <= 1e-5


def _video(model, reuse: Reuse, noise: str = "fixed") -> torch.Tensor:
    maps = random_pose_maps(5, R, seed=2)
    return torch.cat(list(sample_video(model, random_source_image(R), maps, batch_size=3, steps=4, guidance=2.0, seed=5,
                                       noise=noise, progress=False, reuse=reuse)))  # fmt: skip


@pytest.mark.parametrize("change", ["two_branches", "pose_feature", "context_kv", "shared_start"])
def test_each_saving_alone_and_all_together_equal_the_paper_sampler(model, change):
    paper = _video(model, Reuse.none())
    alone = _video(model, Reuse(**{**vars(Reuse.none()), change: True}))
    assert (alone - paper).abs().max() <= 1e-4
    assert (_video(model, Reuse()) - paper).abs().max() <= 1e-4
    assert (paper[1:] - paper[:-1]).abs().max() > 1e-2  # frames differ: the comparison can fail


def test_the_savings_are_deterministic(model):
    assert torch.equal(_video(model, Reuse()), _video(model, Reuse()))
    assert torch.equal(_video(model, Reuse(), noise="independent"), _video(model, Reuse(), noise="independent"))
