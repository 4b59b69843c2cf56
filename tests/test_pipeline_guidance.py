"""Guidance: the combination rule, the row stacking, and which branches run (two with one scale, three with two)."""

from __future__ import annotations

import pytest
import torch

from fpdm_video.models.hooks import NO_HOOKS, UNetCall
from pipelines.guidance import branches_for, guided_prediction, uses_guidance
from factories_pipeline import PROBE_FUSED, PROBE_POSE, PROBE_SOURCE, BranchProbe, FakeFPDM, guided_output, random_pose_maps, rows

B = 2


def conditions(model, batch=B, seed=0):
    """latents (B, 4, 4, 4), pose maps, context and fused embeddings from the fake model."""
    generator = torch.Generator().manual_seed(seed)
    latents = torch.randn(batch, 4, 4, 4, generator=generator)
    pose = random_pose_maps(batch, seed=seed)
    encoding = model.encode_source(torch.rand(batch, 3, 32, 32, generator=generator))
    fused = model.fuse(encoding.image_embedding, pose)
    return latents, pose, encoding.context, fused


def test_guided_prediction_formula():
    generator = torch.Generator().manual_seed(0)
    eps_u, eps_s, eps_f = (torch.randn(3, 4, 2, 2, generator=generator) for _ in range(3))
    g = 2.5
    expected = eps_u + g * eps_s - g * eps_u + g * eps_f - g * eps_s
    torch.testing.assert_close(guided_prediction(eps_u, eps_s, eps_f, g), expected)
    torch.testing.assert_close(guided_prediction(eps_u, eps_s, eps_f, 1.0), eps_f)


def test_branch_flags_stack_u_s_f():
    call = UNetCall(NO_HOOKS, frames=2, branches=("u", "s", "f"), counts=(2, 2, 2))
    use_pose, use_source, use_fused = (call.keeps(i, torch.device("cpu")) for i in range(3))
    assert use_pose.tolist() == [False, False, True, True, True, True]
    assert use_source.tolist() == [False, False, True, True, True, True]
    assert use_fused.tolist() == [False, False, False, False, True, True]


def test_guided_prediction_with_two_scales():
    generator = torch.Generator().manual_seed(1)
    eps_u, eps_s, eps_f = (torch.randn(3, 4, 2, 2, generator=generator) for _ in range(3))
    expected = eps_u + 1.5 * (eps_s - eps_u) + 3.0 * (eps_f - eps_s)
    torch.testing.assert_close(guided_prediction(eps_u, eps_s, eps_f, 3.0, guidance_source=1.5), expected)


def test_which_branches_run():
    assert branches_for(2.0) == ("u", "f") and branches_for(2.0, 2.0) == ("u", "f")
    assert branches_for(2.0, 1.5) == ("u", "s", "f") and branches_for(1.0, 3.0) == ("u", "s", "f")
    assert branches_for(1.0) == ("f",) and branches_for(1.0, 1.0) == ("f",)  # both 1: no guidance


@pytest.mark.parametrize("g", [2.0, 3.5])
def test_one_scale_runs_two_branches_in_one_call_of_2b_rows(g):
    model = BranchProbe()
    latents, pose, context, fused = conditions(model)
    out = guided_output(model, latents, 951, pose, context, fused, g)
    # u = x, s = x + pose + source, f = x + pose + source + fused  =>  x + g (pose + source + fused)
    expected = latents + g * (PROBE_POSE + PROBE_SOURCE + PROBE_FUSED)
    torch.testing.assert_close(out, expected)
    assert model.calls.denoise_rows == [2 * B]
    assert out.dtype == torch.float32


def test_two_scales_run_three_branches_in_one_call_of_3b_rows():
    model = BranchProbe()
    latents, pose, context, fused = conditions(model)
    out = guided_output(model, latents, 951, pose, context, fused, 3.0, 1.5)
    torch.testing.assert_close(out, latents + 1.5 * (PROBE_POSE + PROBE_SOURCE) + 3.0 * PROBE_FUSED)
    assert model.calls.denoise_rows == [3 * B]


@pytest.mark.parametrize("g", [1.0])
def test_no_guidance_runs_only_the_full_branch(g):
    model = BranchProbe()
    latents, pose, context, fused = conditions(model)
    out = guided_output(model, latents, 951, pose, context, fused, g)
    torch.testing.assert_close(out, latents + PROBE_POSE + PROBE_SOURCE + PROBE_FUSED)
    assert model.calls.denoise_rows == [B]
    assert model.last_flags == (True, True, True)
    assert not uses_guidance(g)


@pytest.mark.parametrize("g_source", [None, 1.5])
def test_stacked_call_equals_three_separate_branch_calls(g_source):
    """On a nonlinear fake denoiser: stacked rows keep every row with its own conditions, with two branches or three."""
    model = FakeFPDM()
    latents, pose, context, fused = conditions(model, batch=3, seed=4)
    g = 2.0
    with torch.no_grad():
        stacked = guided_output(model, latents, 501, pose, context, fused, g, g_source)
        t = torch.full((3,), 501)
        eps_u = model.denoise(latents, t, rows(context, fused, pose, keep_pose=False, keep_source=False, keep_fused=False))
        eps_s = model.denoise(latents, t, rows(context, fused, pose, keep_fused=False))
        eps_f = model.denoise(latents, t, rows(context, fused, pose))
    torch.testing.assert_close(stacked, guided_prediction(eps_u, eps_s, eps_f, g, g_source), rtol=1e-5, atol=1e-6)
    assert (eps_f - eps_u).abs().max() > 1e-2  # the conditions matter in this fake
