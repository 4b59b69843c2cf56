"""Step feature caching (DeepCache): the shallow walk is the UNet's own forward around the kept feature; sampling
with it is deterministic, off at N = 1, and refused where it cannot run."""

from __future__ import annotations

import pytest
import torch

from factories_model import tiny_model
from factories_pipeline import FakeFPDM, random_pose_maps, random_source_image
from fpdm_video.errors import InputError
from pipelines.guidance import guided_model_output, guided_model_output_deep
from pipelines.video_sampling import sample_video

R = 32


@pytest.fixture(scope="module")
def tiny():
    return tiny_model()


def _conditions(model, rows: int = 3):
    resolution = model.canvas[0]
    with torch.no_grad():
        encoding = model.encode_source(random_source_image(resolution)[None])
        pose = random_pose_maps(rows, resolution, seed=4)
        fused = model.fuse(encoding.image_embedding.expand(rows, -1), pose)
    latents = torch.randn(rows, model.latent_channels, *model.latent_hw, generator=torch.Generator().manual_seed(3))
    return latents, pose, encoding.context.expand(rows, -1, -1), fused


@pytest.mark.parametrize("name", ["tiny", "demo"])  # tiny: cross-attention in the shallow blocks; demo: plain blocks there
def test_the_shallow_walk_with_its_own_steps_feature_is_the_full_forward(name, tiny):
    from fpdm_video.models.checkpoint import load_model
    from pipelines.transfer import default_checkpoint

    model = tiny if name == "tiny" else load_model(default_checkpoint()).float().eval()
    latents, pose, context, fused = _conditions(model)
    flags = torch.tensor([False, True, True])
    with torch.no_grad():
        plain = model.denoise(latents, 501, pose, context, fused, use_fused=flags)
        full, feature = model.denoise_deep(latents, 501, pose, context, fused, deep_feature=None, use_fused=flags)
        shallow, kept = model.denoise_deep(latents, 501, pose, context, fused, deep_feature=feature, use_fused=flags)
        later = model.denoise(latents, 301, pose, context, fused, use_fused=flags)
        stale, _ = model.denoise_deep(latents, 301, pose, context, fused, deep_feature=feature, use_fused=flags)
    assert torch.equal(plain, full) and torch.equal(plain, shallow) and kept is feature
    assert feature.shape[0] == 3 and feature.shape[-2:] == latents.shape[-2:]  # the shallowest level: the latent grid
    assert (stale - later).abs().max() > 1e-3  # a feature from another step is an approximation: the check can fail


def test_guided_output_with_cached_features_reuses_them_only_when_every_branch_is_there(tiny):
    latents, pose, context, fused = _conditions(tiny)
    with torch.no_grad():
        plain = guided_model_output(tiny, latents, 701, pose, context, fused, 2.0)
        full, cached = guided_model_output_deep(tiny, latents, 701, pose, context, fused, 2.0, cached=None)
        again, same = guided_model_output_deep(tiny, latents, 701, pose, context, fused, 2.0, cached=cached)
        f_only = {"f": cached["f"]}  # an unguided step's features: the next guided step runs the whole UNet
        refreshed, new = guided_model_output_deep(tiny, latents, 701, pose, context, fused, 2.0, cached=f_only)
        unguided, kept = guided_model_output_deep(tiny, latents, 701, pose, context, fused, 1.0, cached=cached)
        unguided_plain = guided_model_output(tiny, latents, 701, pose, context, fused, 1.0)
    assert set(cached) == {"u", "f"} and same is cached and set(new) == {"u", "f"} and kept is cached
    assert torch.equal(plain, full) and torch.equal(plain, again) and torch.equal(plain, refreshed)
    assert (unguided - unguided_plain).abs().max() <= 1e-5  # its f rows, from a call of 2B rows: equal up to rounding


def test_shared_start_rows_are_expanded_for_the_next_steps(tiny):
    latents, pose, context, fused = _conditions(tiny)
    same = latents[:1].expand(3, -1, -1, -1)
    with torch.no_grad():
        _, from_shared = guided_model_output_deep(tiny, same, 981, pose, context, fused, 2.0, cached=None, same_latents=True)
        _, from_full = guided_model_output_deep(tiny, same, 981, pose, context, fused, 2.0, cached=None)
    assert from_shared["u"].shape == from_full["u"].shape
    assert (from_shared["u"] - from_full["u"]).abs().max() <= 1e-5 and (from_shared["f"] - from_full["f"]).abs().max() <= 1e-5


def _video(model, **options) -> torch.Tensor:
    return torch.cat(list(sample_video(model, random_source_image(R), random_pose_maps(4, R, seed=2), batch_size=2, steps=6,
                                       guidance=2.0, seed=5, progress=False, **options)))  # fmt: skip


@pytest.mark.parametrize("scheduler", ["ddpm", "dpmpp_2m"])
def test_sampling_with_the_cache_is_deterministic_close_and_off_at_one(tiny, scheduler):
    exact = _video(tiny, scheduler=scheduler)
    assert torch.equal(_video(tiny, scheduler=scheduler, deep_cache=1), exact)
    cached = _video(tiny, scheduler=scheduler, deep_cache=2)
    assert torch.equal(cached, _video(tiny, scheduler=scheduler, deep_cache=2))
    difference = (cached - exact).abs()
    assert 1e-4 < float(difference.max()) and float(difference.mean()) < 0.05  # it skips work (so it differs), and stays close
    with_interval = _video(tiny, scheduler=scheduler, deep_cache=3, guidance_interval=(0.3, 1.0))
    assert torch.isfinite(with_interval).all()


@pytest.mark.parametrize(("value", "message"), [(0, "deep-cache must be a whole number of steps >= 1"),
                                                (-2, "deep-cache must be a whole number"), (1.5, "deep-cache must be a whole number"),
                                                (True, "deep-cache must be a whole number")])  # fmt: skip
def test_bad_intervals_are_refused(tiny, value, message):
    with pytest.raises(InputError, match=message):
        sample_video(tiny, random_source_image(R), random_pose_maps(1, R), deep_cache=value)


def test_a_model_without_the_split_is_refused_but_runs_with_the_cache_off():
    with pytest.raises(InputError, match="deep-cache 2 cannot run on this model: the model has no deep/shallow split"):
        sample_video(FakeFPDM(), random_source_image(R), random_pose_maps(1, R), deep_cache=2)
    assert len(list(sample_video(FakeFPDM(), random_source_image(R), random_pose_maps(1, R), steps=2, progress=False,
                                 deep_cache=1)))  # fmt: skip
