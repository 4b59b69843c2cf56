"""FPDMPipeline on the fake model: shapes, determinism, guidance rows, dtypes, schedulers, errors."""

from __future__ import annotations

import pytest
import torch
from factories_pipeline import FakeFPDM, random_pose_maps, random_source_image, tiny_fpdm

from fpdm_video.errors import InputError
from fpdm_video.models.registry import tiny_config
from pipelines.fpdm_pipeline import FPDMPipeline
from pipelines.settings import SamplingRequest, SamplingSettings, resolve_sampling

R = 32


def run(pipe, batch=2, seed=0, **settings):
    """Sample ``batch`` images with SamplingSettings(**settings) (3 steps unless given)."""
    sources = torch.stack([random_source_image(R, seed=10 + k) for k in range(batch)])  # (B, 3, R, R)
    settings.setdefault("steps", 3)
    generator = torch.Generator().manual_seed(seed)
    return pipe(sources, random_pose_maps(batch, R), SamplingSettings(**settings), generator=generator, progress=False)


def test_output_shape_range_and_determinism():
    model = FakeFPDM()
    pipe = FPDMPipeline(model)
    first = run(pipe)
    assert first.shape == (2, 3, R, R) and first.dtype == torch.float32
    assert 0 <= float(first.min()) and float(first.max()) <= 1
    torch.testing.assert_close(run(pipe), first, rtol=0, atol=0)
    assert (run(pipe, seed=1) - first).abs().max() > 1e-3  # the seed matters
    assert model.calls.encode_source == 3 and model.calls.fuse == 3


@pytest.mark.parametrize("guidance,rows", [(2.0, 4), (1.0, 2)])
def test_rows_per_unet_call(guidance, rows):
    model = FakeFPDM()
    run(FPDMPipeline(model), guidance=guidance, steps=4)
    assert model.calls.denoise_rows == [rows] * 4


def test_guidance_changes_the_result():
    pipe = FPDMPipeline(FakeFPDM())
    assert (run(pipe, guidance=2.0) - run(pipe, guidance=1.0)).abs().max() > 1e-4


@pytest.mark.parametrize("scheduler,eta", [("ddpm", 0.0), ("ddim", 0.0), ("ddim", 0.8), ("dpmpp_2m", 0.0)])
@pytest.mark.parametrize("prediction_type", ["epsilon", "v_prediction"])
def test_every_scheduler_runs(scheduler, eta, prediction_type):
    out = run(FPDMPipeline(FakeFPDM(prediction_type=prediction_type)), scheduler=scheduler, eta=eta, steps=4)
    assert torch.isfinite(out).all()


def test_the_model_names_its_timestep_spacing():
    plain = FakeFPDM()
    assert FPDMPipeline(plain).schedule(20).timesteps[0].item() == 951  # SD 2.x / FPDM: leading
    zero_snr = FakeFPDM(prediction_type="v_prediction")
    zero_snr.noise_schedule.zero_terminal_snr, zero_snr.noise_schedule.timestep_spacing = True, "trailing"
    pipe = FPDMPipeline(zero_snr)
    assert pipe.schedule(20).timesteps[0].item() == 999  # starts where the model saw pure noise
    assert FPDMPipeline(zero_snr, timestep_spacing="leading").schedule(20).timesteps[0].item() == 951
    assert torch.isfinite(run(pipe, scheduler="dpmpp_2m", steps=4)).all()


def test_ddim_is_deterministic_given_x_t_and_eta_adds_noise():
    """DDIM with eta = 0 depends only on x_T; eta > 0 adds per-step noise and changes the result."""
    pipe = FPDMPipeline(FakeFPDM())
    a = run(pipe, scheduler="ddim", eta=0.0)
    b = run(pipe, scheduler="ddim", eta=0.0)
    torch.testing.assert_close(a, b, rtol=0, atol=0)
    assert (run(pipe, scheduler="ddim", eta=1.0) - a).abs().max() > 1e-4


def test_one_source_for_many_poses_and_resizing():
    model = FakeFPDM()
    pipe = FPDMPipeline(model)
    pose = random_pose_maps(3, R)
    source = random_source_image(R)[None]  # (1, 3, R, R)
    generator = lambda: torch.Generator().manual_seed(5)  # noqa: E731
    settings = SamplingSettings(steps=2)
    broadcast = pipe(source, pose, settings, generator=generator(), progress=False)
    repeated = pipe(source.expand(3, -1, -1, -1), pose, settings, generator=generator(), progress=False)
    torch.testing.assert_close(broadcast, repeated, rtol=1e-5, atol=1e-6)
    big = torch.nn.functional.interpolate(source, size=(64, 64), mode="bilinear", align_corners=False)
    assert pipe(big, pose, settings, generator=generator(), progress=False).shape == (3, 3, R, R)


def test_bfloat16_model_runs_and_stays_near_fp32():
    model = FakeFPDM()
    fp32 = run(FPDMPipeline(model), scheduler="ddim")
    bf16 = run(FPDMPipeline(model.to(torch.bfloat16)), scheduler="ddim")
    assert bf16.dtype == torch.float32
    assert (bf16 - fp32).abs().max() < 0.1


def test_bad_inputs_raise_input_errors():
    pipe = FPDMPipeline(FakeFPDM())
    source, pose = random_source_image(R)[None], random_pose_maps(2, R)
    cases = [
        (dict(source_images=source[:, :, :, :20]), "not of the model canvas.s aspect"),
        (dict(source_images=(source * 255).to(torch.uint8)), "float"),
        (dict(source_images=source * 3), r"\[0, 1\]"),
        (dict(source_images=source[0]), "shaped"),
        (dict(pose_maps=random_pose_maps(2, 16)), "32x32"),
        (dict(source_images=source.expand(3, -1, -1, -1)), "source images for 2 pose maps"),
    ]
    for overrides, message in cases:
        kwargs = dict(source_images=source, pose_maps=pose)
        kwargs.update(overrides)
        with pytest.raises(InputError, match=message):
            pipe(kwargs["source_images"], kwargs["pose_maps"], SamplingSettings(steps=2), progress=False)


@pytest.mark.parametrize("field,value,message", [
    ("scheduler", "euler", "scheduler must be one of ddpm, ddim, dpmpp_2m, lcm, got 'euler'"),
    ("steps", 0, "steps must be a positive whole number, got 0"),
    ("guidance", float("nan"), "guidance must be a number from 1 .no guidance. to 20, got nan"),
    ("guidance", 0.5, "guidance must be a number from 1 .no guidance. to 20, got 0.5"),
    ("eta", -0.1, "eta must be a number >= 0, got -0.1"),
    ("eta", float("inf"), "eta must be a number >= 0, got inf"),
    ("eta", True, "eta must be a number >= 0, got True"),
])  # fmt: skip
def test_bad_sampling_settings_are_refused_when_made(field, value, message):
    """Sampling settings are checked when they are made, before any pipeline sees them."""
    with pytest.raises(InputError, match=message):
        SamplingSettings(**{field: value})


def test_steps_beyond_the_models_schedule_are_refused_when_resolved():
    """Steps the model's noise schedule cannot space are refused where settings meet the checkpoint."""
    with pytest.raises(InputError, match="steps=1001 exceeds the model's 1000 training timesteps"):
        resolve_sampling(SamplingRequest(steps=1001), tiny_config())
    assert resolve_sampling(SamplingRequest(steps=999), tiny_config()).steps == 999  # the most leading spacing fits
    # Settings that skipped resolution are a broken invariant inside the pipeline, not a user's error
    pipe = FPDMPipeline(FakeFPDM())
    with pytest.raises(ValueError, match="exceeds") as info:
        pipe(random_source_image(R)[None], random_pose_maps(2, R), SamplingSettings(steps=1001), progress=False)
    assert not isinstance(info.value, InputError)


@pytest.mark.parametrize("prediction_type", ["epsilon", "v_prediction"])
def test_tiny_model_fp32_and_bf16(prediction_type):
    model = tiny_fpdm(prediction_type=prediction_type)
    fp32 = run(FPDMPipeline(model), steps=4)
    assert fp32.shape == (2, 3, R, R) and torch.isfinite(fp32).all()
    assert (fp32[0] - fp32[1]).abs().max() > 1e-3  # different sources and poses, different images
    bf16 = run(FPDMPipeline(model.to(torch.bfloat16)), steps=4)
    assert bf16.dtype == torch.float32
    assert (bf16 - fp32).abs().max() < 0.1
