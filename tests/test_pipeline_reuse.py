"""The exact savings of sampling change nothing but float rounding (the tiny model, real diffusers UNet)."""

from __future__ import annotations

import pytest
import torch

from factories_model import tiny_model
from factories_pipeline import guided_output, random_pose_maps, random_source_image, rows
from fpdm_video.models.hooks import HookSet, UNetCall
from fpdm_video.models.hooks.context_kv import ContextKV
from pipelines.settings import Reuse, SamplingSettings
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
        plain = model.denoise(latents, 901, rows(context.expand(3, -1, -1), fused, pose, keep_pose=flags))
        reused = model.denoise(latents, 901, rows(context.expand(3, -1, -1), fused, pose_feature=model.pose_features(pose),
                                                  keep_pose=flags))  # fmt: skip
    assert torch.equal(plain, reused)


CALL_ROWS = {"f": (("f",), (3,)), "u": (("u",), (3,)), "uf": (("u", "f"), (1, 2))}  # branches and their rows


@pytest.mark.parametrize("layout", list(CALL_ROWS))
def test_cached_context_keys_and_values_equal_computed_ones(model, conditions, layout):
    latents, pose, context, fused = conditions
    hook = ContextKV()
    hook.begin_video(model.denoiser, context)
    assert len(hook.on) == sum(1 for m in model.modules() if getattr(m, "is_cross_attention", False))
    branches, counts = CALL_ROWS[layout]
    call = UNetCall(HookSet((hook,)), frames=3, branches=branches, counts=counts)
    keep = call.keeps(1, latents.device)  # which rows keep the source: the model masks the others itself
    with torch.no_grad():
        plain = model.denoise(latents, 501, rows(context.expand(3, -1, -1), fused, pose, keep_source=keep))
        cached = model.denoise(latents, 501, rows(context.expand(3, -1, -1), fused, pose, keep_source=keep), call)
    assert (plain - cached).abs().max() <= 1e-5 and plain.abs().max() > 1e-2
    if layout == "uf":  # the row without the source differs from the others: the rows reach the cache
        other = model.denoise(latents, 501, rows(context.expand(3, -1, -1), fused, pose), UNetCall(HookSet((hook,)), frames=3, counts=(3,)))
        assert (other[0] - cached[0]).abs().max() > 1e-4 and torch.allclose(other[1:], cached[1:], atol=1e-5)


def test_one_unconditioned_row_for_equal_latents(model, conditions):
    _, pose, context, fused = conditions
    same = torch.randn(1, model.latent_channels, *model.latent_hw, generator=torch.Generator().manual_seed(9)).expand(3, -1, -1, -1)
    with torch.no_grad():
        full = guided_output(model, same, 981, pose, context.expand(3, -1, -1), fused, 2.0)
        shared = guided_output(model, same, 981, pose, context.expand(3, -1, -1), fused, 2.0, shared_start=True)
    assert (full - shared).abs().max() <= 1e-5


def _video(model, reuse: Reuse, noise: str = "fixed") -> torch.Tensor:
    maps = random_pose_maps(5, R, seed=2)
    settings = SamplingSettings(batch_size=3, steps=4, guidance=2.0, seed=5, noise=noise, reuse=reuse)
    return torch.cat(list(sample_video(model, random_source_image(R), maps, settings, progress=False)))


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
