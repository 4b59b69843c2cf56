"""Video sampling: batched with fixed noise equals frame-by-frame sampling; streaming; output fit."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from factories_pipeline import FakeFPDM, random_pose_maps, random_source_image, tiny_fpdm

from fpdm_video.errors import InputError
from fpdm_video.geometry import CanvasFit
from fpdm_video.models.registry import tiny_config
from pipelines.fpdm_pipeline import FPDMPipeline
from pipelines.settings import SamplingRequest, SamplingSettings, resolve_sampling
from pipelines.video_sampling import frame_seed, rebatch, sample_video

R = 32
FRAMES = 6


def settings(**kwargs) -> SamplingSettings:
    """SamplingSettings(**kwargs), 4 steps unless given."""
    kwargs.setdefault("steps", 4)
    return SamplingSettings(**kwargs)


def video(model, pose, **kwargs) -> torch.Tensor:
    """All frames of ``sample_video`` with settings(**kwargs) concatenated: (T, 3, R, R)."""
    return torch.cat(list(sample_video(model, random_source_image(R), pose, settings(**kwargs), progress=False)))


@pytest.mark.parametrize("scheduler,eta", [("ddpm", 0.0), ("ddim", 0.0), ("ddim", 0.7)])
def test_batched_equals_frame_by_frame(scheduler, eta):
    model = FakeFPDM()
    pose = random_pose_maps(FRAMES, R)
    batched = video(model, pose, batch_size=4, scheduler=scheduler, eta=eta, seed=3)
    single = video(model, pose, batch_size=1, scheduler=scheduler, eta=eta, seed=3)
    assert batched.shape == (FRAMES, 3, R, R)
    torch.testing.assert_close(batched, single, rtol=1e-5, atol=1e-5)
    # ...and equals the image pipeline run frame by frame, encoders recomputed, generator seeded alike
    pipe = FPDMPipeline(model)
    for k in range(FRAMES):
        frame = pipe(
            random_source_image(R)[None], pose[k : k + 1], settings(scheduler=scheduler, eta=eta),
            generator=torch.Generator().manual_seed(3), progress=False,
        )  # fmt: skip
        torch.testing.assert_close(batched[k : k + 1], frame, rtol=1e-5, atol=1e-5)


def test_same_pose_gives_the_same_frame_with_fixed_noise():
    model = FakeFPDM()
    pose = random_pose_maps(FRAMES, R)
    pose[5] = pose[1]  # frame 1 is in the first chunk (row 1), frame 5 in the second (row 1 of 2)
    frames = video(model, pose, batch_size=4)
    torch.testing.assert_close(frames[5], frames[1], rtol=1e-5, atol=1e-5)
    assert (frames[2] - frames[1]).abs().max() > 1e-4  # different poses still differ


def test_independent_noise_differs_per_frame_and_ignores_batch_size():
    model = FakeFPDM()
    pose = random_pose_maps(1, R).expand(FRAMES, -1, -1, -1)  # one pose for every frame
    frames = video(model, pose, batch_size=4, noise="independent")
    assert (frames[1] - frames[0]).abs().max() > 1e-3
    torch.testing.assert_close(video(model, pose, batch_size=1, noise="independent"), frames, rtol=1e-5, atol=1e-5)
    fixed = video(model, pose, batch_size=4)
    torch.testing.assert_close(fixed[1], fixed[0], rtol=1e-5, atol=1e-5)
    assert frame_seed(0, 1) != frame_seed(0, 2) != frame_seed(1, 1)


def test_source_encoded_once_and_rows_per_call():
    model = FakeFPDM()
    chunks = [random_pose_maps(3, R, seed=1), random_pose_maps(5, R, seed=2), random_pose_maps(2, R, seed=3)]
    stream = sample_video(model, random_source_image(R), iter(chunks), settings(batch_size=4, steps=2), progress=False)
    sizes = [chunk.shape[0] for chunk in stream]
    assert sizes == [4, 4, 2]
    assert model.calls.encode_source == 1
    assert model.calls.fuse == 3
    # two guidance branches (u, f) per frame; at step 0 every frame starts from the same x_T, so u runs once
    assert model.calls.denoise_rows == [4 + 1, 8, 4 + 1, 8, 2 + 1, 4]
    model.calls.denoise_rows.clear()
    list(sample_video(model, random_source_image(R), iter(chunks), settings(batch_size=4, steps=2, noise="independent"),
                      progress=False))  # fmt: skip
    assert model.calls.denoise_rows == [8, 8, 8, 8, 4, 4]  # each frame its own x_T: no shared row


def test_rebatch_keeps_order_across_chunks():
    frames = torch.arange(10.0)[:, None]
    chunks = [frames[:3], frames[3:8], frames[8:]]
    batches = list(rebatch(chunks, 4))
    assert [first for first, _ in batches] == [0, 4, 8]
    assert torch.equal(torch.cat([batch for _, batch in batches]), frames)
    assert [batch.shape[0] for _, batch in batches] == [4, 4, 2]


def test_output_fit_returns_source_size_uint8_frames():
    model = FakeFPDM()
    pose = random_pose_maps(3, R)
    fit = CanvasFit.of(21, 26, R)  # PHOENIX-like portrait aspect
    stream = sample_video(model, random_source_image(R), pose, settings(batch_size=2, steps=2), output_fit=fit, progress=False)
    frames = np.concatenate(list(stream))
    assert frames.shape == (3, 26, 21, 3) and frames.dtype == np.uint8
    floats = video(model, pose, batch_size=2, steps=2)
    squares = (floats * 255).round().to(torch.uint8).permute(0, 2, 3, 1).numpy()
    assert np.array_equal(frames[0], fit.image_from_canvas(squares[0]))


def test_bad_video_inputs_raise_input_errors():
    model = FakeFPDM()
    source, pose = random_source_image(R), random_pose_maps(2, R)
    with pytest.raises(InputError, match="canvas"):
        sample_video(model, source, pose, settings(), output_fit=CanvasFit.of(10, 10, 64))
    with pytest.raises(InputError, match=r"\(3, H, W\)"):
        sample_video(model, source[None], pose, settings())
    frames = sample_video(model, source, [pose, random_pose_maps(2, 16)], settings(batch_size=2, steps=1), progress=False)
    next(frames)
    with pytest.raises(InputError, match="pose_maps chunk 1"):
        next(frames)


def test_bad_video_settings_are_refused_when_made():
    """The noise mode and batch size are sampling settings, checked when the settings are made."""
    with pytest.raises(InputError, match="noise must be one of fixed, independent, warped, bilinear, got 'shared'"):
        SamplingSettings(noise="shared")
    with pytest.raises(InputError, match="batch-size must be a positive whole number, got 0"):
        SamplingSettings(batch_size=0)


def test_a_bad_timestep_spacing_is_refused():
    """The model names its spacing: an unknown one is refused when settings are resolved for it, and sampling
    with settings that skipped resolution fails at once (a broken invariant), before any frame is drawn."""
    config = tiny_config()
    config.noise_schedule.timestep_spacing = "linspace"
    with pytest.raises(InputError, match="unknown timestep spacing 'linspace'"):
        resolve_sampling(SamplingRequest(), config)
    model = FakeFPDM()
    model.noise_schedule.timestep_spacing = "linspace"
    with pytest.raises(ValueError, match="spacing") as info:
        sample_video(model, random_source_image(R), random_pose_maps(2, R), settings())
    assert not isinstance(info.value, InputError)


# ---- the real tiny model ----------------------------------------------------------------------


@pytest.mark.parametrize("scheduler,eta", [("ddpm", 0.0), ("ddim", 0.0), ("ddim", 0.7)])
def test_tiny_model_batched_equals_frame_by_frame(scheduler, eta):
    model = tiny_fpdm()
    pose = random_pose_maps(FRAMES, R)
    pose[5] = pose[1]
    batched = video(model, pose, batch_size=4, scheduler=scheduler, eta=eta, seed=2)
    single = video(model, pose, batch_size=1, scheduler=scheduler, eta=eta, seed=2)
    torch.testing.assert_close(batched, single, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(batched[5], batched[1], rtol=1e-4, atol=1e-5)  # same pose, same frame
    assert (batched[2] - batched[1]).abs().max() > 1e-3  # the pose matters
    pipe = FPDMPipeline(model)
    generator = torch.Generator().manual_seed(2)
    first = pipe(random_source_image(R)[None], pose[:1], settings(scheduler=scheduler, eta=eta), generator=generator,
                 progress=False)  # fmt: skip
    torch.testing.assert_close(batched[:1], first, rtol=1e-4, atol=1e-5)


def test_tiny_model_encodes_the_source_once(monkeypatch):
    model = tiny_fpdm()
    calls = []
    encode = model.encode_source
    monkeypatch.setattr(model, "encode_source", lambda source: calls.append(source.shape) or encode(source))
    frames = video(model, random_pose_maps(5, R), batch_size=2, steps=2)
    assert frames.shape == (5, 3, R, R)
    assert calls == [(1, 3, R, R)]
