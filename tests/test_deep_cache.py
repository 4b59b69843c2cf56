"""Step feature caching (DeepCache): the shallow walk is the UNet's own forward around the kept feature; sampling
with it is deterministic, off at N = 1, and refused where it cannot run."""

from __future__ import annotations

import pytest
import torch

from factories_model import tiny_model
from factories_pipeline import guided_output, random_pose_maps, random_source_image, rows
from fpdm_video.errors import InputError
from fpdm_video.models.hooks import HookSet, UNetCall
from fpdm_video.models.hooks.deep_cache import DeepCache
from pipelines.settings import SamplingRequest, SamplingSettings, resolve_sampling
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
    hook = DeepCache(2)
    hooks = HookSet((hook,))

    def call(step):  # a u branch of one row (shared start) and an f branch of two: three rows
        return UNetCall(hooks, step=step, frames=2, branches=("u", "f"), counts=(1, 2))

    keep = call(0).keeps(2, latents.device)
    conditions = rows(context, fused, pose, keep_pose=call(0).keeps(0, latents.device), keep_source=keep, keep_fused=keep)
    with torch.no_grad(), hooks.installed(model.denoiser.unet):
        plain = model.denoise(latents, 501, conditions)
        full = model.denoise(latents, 501, conditions, call(0))  # a full step keeps the features
        feature = {b: f.clone() for b, f in hook.features.items()}
        shallow = model.denoise(latents, 501, conditions, call(1))  # around them
        later = model.denoise(latents, 301, conditions)
        stale = model.denoise(latents, 301, conditions, call(1))
    assert torch.equal(plain, full) and torch.equal(plain, shallow)
    assert set(feature) == {"u", "f"} and feature["f"].shape[0] == 2 and feature["f"].shape[-2:] == latents.shape[-2:]
    assert (stale - later).abs().max() > 1e-3  # a feature from another step is an approximation: the check can fail
    assert not hook.features and hook._handle is None  # removed with its state after the block


def test_guided_output_with_cached_features_reuses_them_only_when_every_branch_is_there(tiny):
    latents, pose, context, fused = _conditions(tiny)
    hook = DeepCache(2)
    hooks = HookSet((hook,))
    with torch.no_grad(), hooks.installed(tiny.denoiser.unet):
        plain = guided_output(tiny, latents, 701, pose, context, fused, 2.0)
        full = guided_output(tiny, latents, 701, pose, context, fused, 2.0, step=0, hooks=hooks)
        cached = dict(hook.features)
        again = guided_output(tiny, latents, 701, pose, context, fused, 2.0, step=1, hooks=hooks)
        hook.features = {"f": cached["f"]}  # an unguided step's features: the next guided step runs the whole UNet
        refreshed = guided_output(tiny, latents, 701, pose, context, fused, 2.0, step=1, hooks=hooks)
        renewed = set(hook.features)
        hook.features = cached
        unguided = guided_output(tiny, latents, 701, pose, context, fused, 1.0, step=1, hooks=hooks)
        unguided_plain = guided_output(tiny, latents, 701, pose, context, fused, 1.0)
    assert set(cached) == {"u", "f"} and renewed == {"u", "f"}
    assert torch.equal(plain, full) and torch.equal(plain, again) and torch.equal(plain, refreshed)
    assert (unguided - unguided_plain).abs().max() <= 1e-5  # its f rows, from a call of 2B rows: equal up to rounding


def test_shared_start_rows_are_expanded_for_the_next_steps(tiny):
    latents, pose, context, fused = _conditions(tiny)
    same = latents[:1].expand(3, -1, -1, -1)
    found = {}
    for shared in (True, False):
        hook = DeepCache(2)
        with torch.no_grad(), HookSet((hook,)).installed(tiny.denoiser.unet):
            guided_output(tiny, same, 981, pose, context, fused, 2.0, shared_start=shared, hooks=HookSet((hook,)))
            found[shared] = dict(hook.features)
    assert found[True]["u"].shape == found[False]["u"].shape
    assert all((found[True][b] - found[False][b]).abs().max() <= 1e-5 for b in ("u", "f"))


def _video(model, **options) -> torch.Tensor:
    settings = SamplingSettings(batch_size=2, steps=6, guidance=2.0, seed=5, **options)
    return torch.cat(list(sample_video(model, random_source_image(R), random_pose_maps(4, R, seed=2), settings, progress=False)))


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


@pytest.mark.parametrize("value", [0, -2, 1.5, True])
def test_bad_intervals_are_refused(value):
    with pytest.raises(InputError, match="deep-cache must be a whole number of steps >= 1"):
        SamplingSettings(deep_cache=value)


def test_a_model_without_the_split_is_refused_but_runs_with_the_cache_off(tiny):
    from dataclasses import replace

    config = tiny.config
    odd = replace(config, unet=replace(config.unet, kwargs={**config.unet.kwargs, "time_embedding_act_fn": "silu"}))
    with pytest.raises(InputError, match="deep-cache 2 cannot run on this model: it has a time-embedding activation"):
        resolve_sampling(SamplingRequest(deep_cache=2), odd)
    assert resolve_sampling(SamplingRequest(deep_cache=1), odd).deep_cache == 1
    assert resolve_sampling(SamplingRequest(deep_cache=2), config).deep_cache == 2
