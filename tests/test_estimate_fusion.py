"""Fusion of the clean-sample estimates along the pose motion (``--temporal-fusion``): its warp, its inverse, the sampler."""

from __future__ import annotations

import math

import pytest
import torch
from factories_pipeline import FakeFPDM, random_pose_maps, random_source_image

from fpdm_video.errors import InputError
from fpdm_video.models.prediction import model_output_for_x0, predicted_x0_and_eps
from pipelines.estimate_fusion import backward_warp
from pipelines.settings import SamplingSettings
from pipelines.video_sampling import VideoSampler, latent_cell, sample_video

torch.set_num_threads(1)
R = 32
FRAMES = 7


@pytest.mark.parametrize(("prediction_type", "alpha_bar"), [
    ("epsilon", 0.3), ("epsilon", 0.97), ("v_prediction", 2.0**-24), ("v_prediction", 0.3), ("v_prediction", 0.97),
])  # fmt: skip
def test_model_output_for_x0_reads_back_as_x0(prediction_type, alpha_bar):
    g = torch.Generator().manual_seed(0)
    sample, x0 = torch.randn(2, 4, 5, 6, generator=g), torch.randn(2, 4, 5, 6, generator=g)
    output = model_output_for_x0(sample, x0, alpha_bar, prediction_type)
    back, _ = predicted_x0_and_eps(sample, output, alpha_bar, prediction_type)
    torch.testing.assert_close(back, x0, rtol=1e-4, atol=1e-4)


def test_a_zero_field_keeps_the_maps_with_full_confidence():
    x = torch.randn(3, 4, 6, 8)
    warped, confidence = backward_warp(x, torch.zeros(2, 6, 8))
    assert torch.equal(warped, x) and torch.equal(confidence, torch.ones(6, 8))


def test_a_translated_pattern_is_carried_with_the_motion():
    x = torch.zeros(1, 1, 8, 10)
    x[0, 0, 3, 2] = 1.0  # one bright cell
    flow = torch.zeros(2, 8, 10)
    flow[0], flow[1] = 3.0, 1.0  # everything moves 3 cells right, 1 down
    warped, confidence = backward_warp(x, flow)
    assert warped[0, 0, 4, 5] == pytest.approx(1.0) and (warped * (confidence > 0)).sum() == pytest.approx(1.0)
    # the cells nothing moved into (the first 3 columns and the top row) have no confidence; the rest full
    assert confidence[:, :3].eq(0).all() and confidence[0].eq(0).all() and confidence[1:, 3:].eq(1).all()


def test_a_moving_part_loses_confidence_where_it_uncovers_and_covers():
    flow = torch.zeros(2, 8, 14)
    flow[0, :, 3:7] = 3.0  # a part over columns 3-6 moves 3 cells right over a still background
    _, confidence = backward_warp(torch.randn(1, 4, 8, 14), flow)
    assert confidence[:, 3:6].eq(0).all()  # where it was and is no more: nothing landed (uncovered)
    assert confidence[:, 7:10].eq(0).all()  # where it lands on the background: two motions, the read is inconsistent
    assert confidence[:, 6].eq(1).all()  # its own cells, where only it landed
    assert confidence[:, :3].eq(1).all() and confidence[:, 10:].eq(1).all()  # the still background


def settings(**kwargs) -> SamplingSettings:
    kwargs.setdefault("steps", 3)
    kwargs.setdefault("scheduler", "ddpm")
    return SamplingSettings(**kwargs)


def motion_for(model, frames: int) -> torch.Tensor:
    """(T, 2, h, w) a smooth motion in latent cells, zero into frame 0."""
    h = R // latent_cell(model)
    ys, xs = torch.meshgrid(torch.arange(h) + 0.5, torch.arange(h) + 0.5, indexing="ij")
    t = torch.arange(frames, dtype=torch.float32)[:, None, None]
    field = torch.stack([torch.sin(xs / h * 3 + t) * 0.6, torch.cos(ys / h * 2 - t) * 0.3], dim=1)
    field[0] = 0
    return field


def video(model, pose, motion, **kwargs) -> torch.Tensor:
    return torch.cat(list(sample_video(model, random_source_image(R), pose, settings(**kwargs), progress=False, motion=motion)))


@pytest.mark.parametrize("scheduler", ["ddpm", "ddim", "dpmpp_2m"])
def test_fusion_leaves_frame_0_and_changes_the_others(scheduler):
    model = FakeFPDM()
    pose, motion = random_pose_maps(FRAMES, R), motion_for(model, FRAMES)
    plain = video(model, pose, None, batch_size=4, seed=1, scheduler=scheduler)
    fused = video(model, pose, motion, batch_size=4, seed=1, scheduler=scheduler, temporal_fusion=0.5, fusion_tolerance=math.inf)
    assert torch.equal(fused[0], plain[0])
    assert (fused[1:] - plain[1:]).abs().amax(dim=(1, 2, 3)).min() > 1e-3


def _still_field_runs():
    """Three frames of the fake model with a still motion field: (model, pose maps, the field, the frames without fusion)."""
    model = FakeFPDM()
    pose = random_pose_maps(3, R)
    still = torch.zeros(3, 2, R // latent_cell(model), R // latent_cell(model))
    return model, pose, still, video(model, pose, None, batch_size=3, seed=1)


def test_fusion_with_a_still_field_pulls_towards_the_frame_before():
    model, pose, still, plain = _still_field_runs()
    near = video(model, pose, still, batch_size=3, seed=1, temporal_fusion=0.9, fusion_tolerance=math.inf)
    assert (near[1] - near[0]).abs().mean() < 0.5 * (plain[1] - plain[0]).abs().mean()


def test_a_tolerance_keeps_large_changes_and_blends_small_ones():
    model, pose, still, plain = _still_field_runs()
    blended = video(model, pose, still, batch_size=3, seed=1, temporal_fusion=0.9, fusion_tolerance=math.inf)
    tiny = video(model, pose, still, batch_size=3, seed=1, temporal_fusion=0.9, fusion_tolerance=1e-6)
    huge = video(model, pose, still, batch_size=3, seed=1, temporal_fusion=0.9, fusion_tolerance=1e6)
    torch.testing.assert_close(tiny, plain, rtol=1e-4, atol=1e-4)  # every difference counts as real change
    torch.testing.assert_close(huge, blended, rtol=1e-4, atol=1e-4)  # none does
    middle = video(model, pose, still, batch_size=3, seed=1, temporal_fusion=0.9, fusion_tolerance=0.3)
    assert (middle - plain).abs().mean() > 1e-3 and (middle - blended).abs().mean() > 1e-3


def test_batch_size_and_chunks_do_not_change_the_frames():
    model = FakeFPDM()
    pose, motion = random_pose_maps(FRAMES, R), motion_for(model, FRAMES)
    whole = video(model, pose, motion, batch_size=4, temporal_fusion=0.5, seed=2, temporal_attention="both")
    assert (whole - video(model, pose, None, batch_size=4, seed=2, temporal_attention="both")).abs().max() > 1e-3  # it acts
    for batch in (1, 3):
        torch.testing.assert_close(video(model, pose, motion, batch_size=batch, temporal_fusion=0.5, seed=2,
                                         temporal_attention="both"), whole, rtol=1e-5, atol=1e-5)  # fmt: skip
    s = settings(batch_size=2, temporal_fusion=0.5, seed=2, temporal_attention="both")
    with VideoSampler(model, random_source_image(R), s) as first:
        part = [first.render(0, pose[0:2], motion[0:2]), first.render(2, pose[2:4], motion[2:4])]
        carry = first.carry()
    assert int(carry["fusion/frame"]) == 3 and {f"fusion/{i}" for i in range(3)} <= set(carry)
    with VideoSampler(model, random_source_image(R), s, carry) as second:
        part += [second.render(4, pose[4:6], motion[4:6]), second.render(6, pose[6:7], motion[6:7])]
    torch.testing.assert_close(torch.cat(part), whole, rtol=1e-5, atol=1e-5)


def test_fusion_needs_the_motion_and_the_frames_in_order():
    model = FakeFPDM()
    pose, motion = random_pose_maps(4, R), motion_for(model, 4)
    with pytest.raises(InputError, match="temporal-fusion 0.5 moves with the signer and needs the motion fields"):
        sample_video(model, random_source_image(R), pose, settings(temporal_fusion=0.5), progress=False)
    with VideoSampler(model, random_source_image(R), settings(temporal_fusion=0.5, batch_size=2)) as sampler:
        with pytest.raises(ValueError, match="renders frames in order: frame 2 needs frame 1"):
            sampler.render(2, pose[2:4], motion[2:4])


@pytest.mark.parametrize(("value", "message"), [
    (1.0, "temporal-fusion must be a weight from 0"), (-0.1, "temporal-fusion must be a weight from 0"),
    (float("nan"), "temporal-fusion must be a weight from 0"), (True, "temporal-fusion must be a weight from 0"),
])  # fmt: skip
def test_bad_weights_are_refused(value, message):
    with pytest.raises(InputError, match=message):
        settings(temporal_fusion=value)


@pytest.mark.parametrize("value", [0.0, -1.0, float("nan"), False])
def test_bad_tolerances_are_refused(value):
    with pytest.raises(InputError, match="fusion-tolerance must be a number > 0"):
        settings(temporal_fusion=0.5, fusion_tolerance=value)


def test_fusion_is_refused_with_the_students_sampler():
    with pytest.raises(InputError, match="not built for turbo's consistency sampler"):
        settings(scheduler="lcm", temporal_fusion=0.5)


def test_an_unlimited_tolerance_survives_a_strict_json_record():
    import json
    from dataclasses import asdict

    from fpdm_video.strict_json import dumps

    s = settings(temporal_fusion=0.5, fusion_tolerance=math.inf)
    back = SamplingSettings(**json.loads(dumps(asdict(s))))  # infinity is written as null
    assert back.fusion_tolerance == math.inf and back == s
