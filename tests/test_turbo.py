"""--speed turbo: a few-step student samples with its own steps, one UNet row per frame, and its tiny decoder."""

from __future__ import annotations

import json

import pytest
import torch

from fpdm_video.models.checkpoint import load_model, save_model
from fpdm_video.models.registry import build_model
from fpdm_video.train.loop import train
from fpdm_video.transfer import main
from pipelines.settings import SamplingRequest, resolve_sampling

from factories_train import tiny_config, tiny_dataset  # noqa: F401 (fixture)
from factories_transfer import example_inputs  # noqa: F401 (fixture)


@pytest.fixture(scope="module")
def teacher(tmp_path_factory):
    torch.manual_seed(0)
    return save_model(build_model("tiny"), tmp_path_factory.mktemp("teacher") / "tiny")


@pytest.fixture(scope="module")
def student(teacher, tiny_dataset, tmp_path_factory):  # noqa: F811
    """A student of ``teacher`` (2 distillation steps), then a tiny decoder trained onto it (2 steps)."""
    run = tmp_path_factory.mktemp("student")
    train(tiny_config("distill", tiny_dataset, run, "steps=2", f"init={teacher}"), progress=False)
    train(tiny_config("tiny_decoder", tiny_dataset, run, "steps=2", f"init={run / 'distill' / 'model'}"), progress=False)
    return run / "tiny_decoder" / "model"


def test_a_student_resolves_to_its_own_steps_scale_and_tiny_decoder(student, teacher):
    config = load_model(student).config
    settings = resolve_sampling(None, config)
    assert (settings.speed, settings.scheduler, settings.steps, settings.guidance, settings.decoder) == ("turbo", "lcm", 2, 2.0, "tiny")
    assert resolve_sampling(SamplingRequest(decoder="vae", steps=1), config).decoder == "vae"
    teacher_config = load_model(teacher).config
    assert resolve_sampling(None, teacher_config).speed == "paper"


@pytest.mark.parametrize("given, words", [("teacher", "not a few-step student"), ("student", "samples only with --speed turbo")])
def test_turbo_with_a_teacher_and_other_presets_with_a_student_are_refused_in_one_line(given, words, teacher, student, example_inputs,  # noqa: F811
                                                                                     tmp_path, capsys):  # fmt: skip
    checkpoint, speed = (teacher, "turbo") if given == "teacher" else (student, "paper")
    code = main([str(example_inputs.video), "--signer", str(example_inputs.signer_image), "--checkpoint", str(checkpoint),
                 "-o", str(tmp_path / "out.mp4"), "--speed", speed, "--quiet"])  # fmt: skip
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and err[0].startswith("error: ") and words in err[0], err
    if given == "teacher":
        assert "python -m fpdm_video.train distill --teacher" in err[0]
    assert not list(tmp_path.iterdir())


def test_turbo_runs_one_unet_row_per_frame_and_step_and_the_record_names_the_teacher(student, teacher, example_inputs, tmp_path):  # noqa: F811
    from pipelines.transfer import SignerTransfer

    runner = SignerTransfer.from_pretrained(student, device="cpu", dtype="fp32")
    rows = []
    runner.model.denoiser.unet.register_forward_pre_hook(lambda module, args: rows.append(args[0].shape[0]))
    result = runner.transfer(example_inputs.video, example_inputs.signer_image, tmp_path / "out.mp4", progress=False)
    record = result.record
    assert record["settings"]["sampling"]["speed"] == "turbo" and record["settings"]["sampling"]["decoder"] == "tiny"
    assert record["checkpoint"]["student_of"]["path"] == str(teacher)
    assert rows == [4, 4] * 2  # 8 frames in batches of 4, 2 steps each: one row per frame, no guidance pair
    assert json.loads((tmp_path / "out.json").read_text())["frames"] == 8


def test_the_shipped_demo_student_is_the_demo_model_s_own_and_the_default_of_turbo():
    from flows.steps import flow_checkpoint
    from fpdm_video.models.checkpoint import checkpoint_hash, load_config
    from pipelines.transfer import default_checkpoint

    student = default_checkpoint("turbo")
    assert student.name == "demo-turbo" and default_checkpoint().name == default_checkpoint("paper").name == "demo"
    config = load_config(student)
    assert config.student is not None and config.tiny_decoder is not None
    assert config.student.teacher["sha256"] == checkpoint_hash(default_checkpoint())  # distilled from the shipped demo model
    assert flow_checkpoint(None, {"speed": "turbo"}) == str(student)
    assert flow_checkpoint(None, SamplingRequest(speed="fast")) == flow_checkpoint(None, None) == str(default_checkpoint())
