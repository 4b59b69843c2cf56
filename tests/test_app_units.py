"""The web app's parts without a browser: its settings, the page's values, checkpoints, visitor folders, runs and cancels."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from fpdm_video.app.checkpoints import DEMO_LABEL, checkpoint_choices, embedded_demo
from fpdm_video.app.config import AppConfig, config_from_args
from fpdm_video.app.form import public_message, request_fields
from fpdm_video.app.runner import ModelCache, Progress, RunCancelled, RunRequest, TransferRunner, cli_equivalent, output_paths, transfer_settings
from fpdm_video.app.sessions import Sessions
from fpdm_video.errors import CheckpointError, InputError
from fpdm_video.video import probe
from factories_transfer import example_inputs, tiny_checkpoint  # noqa: F401 (fixtures)


def page_values(**over):
    values = dict(input_file="/up/a/in.mp4", photo_file="/up/b/me.png", poses_file=None, checkpoint=Path("/ck"), speed="fast",
                  steps=0, guidance=0, seed=3, start=0, end=0, max_frames=5, retarget=True, batch_size=2)  # fmt: skip
    return {**values, **over}


def test_defaults_bind_loopback_without_sharing():
    config = config_from_args([])
    assert (config.host, config.port, config.share) == ("127.0.0.1", 7860, False)
    assert config_from_args(["--host", "0.0.0.0", "--port", "9000", "--share"]).share is True
    with pytest.raises(InputError, match="--max-frames"):
        config_from_args(["--max-frames", "0"])
    assert AppConfig(max_upload_mb=2).max_upload_bytes == 2 * 1024 * 1024


def test_page_values_become_the_clis_settings():
    fields = request_fields(**page_values())
    assert fields["steps"] is None and fields["guidance"] is None and fields["end"] is None  # 0 on the page: not set
    req = RunRequest(**fields)
    settings = transfer_settings(req, own_steps=20, own_guidance=2.5)
    assert (settings.scheduler, settings.steps, settings.guidance, settings.max_frames, settings.seed) == ("dpm", 6, 2.5, 5, 3)
    paper = transfer_settings(RunRequest(**request_fields(**page_values(speed="paper", steps=7, guidance=3))))
    assert (paper.scheduler, paper.steps, paper.guidance) == ("ddpm", 7, 3.0)
    with pytest.raises(InputError, match="no signing given"):
        request_fields(**page_values(input_file=None))
    with pytest.raises(InputError, match="no photo given"):
        request_fields(**page_values(photo_file=None))
    with pytest.raises(InputError, match="whole number"):
        request_fields(**page_values(seed=1.5))
    with pytest.raises(InputError, match="guidance must be a number from 1"):
        transfer_settings(RunRequest(**request_fields(**page_values(guidance=0.5))))


def test_messages_are_one_line_with_upload_names_not_server_paths():
    msg = public_message("/srv/cache/123/notes.txt cannot be opened as a video\n  give a video", {"/srv/cache/123/notes.txt": "notes.txt"})
    assert msg == "error: notes.txt cannot be opened as a video give a video"


def test_cli_equivalent_names_every_setting(tmp_path):
    req = RunRequest(input=Path("in.mp4"), signer=Path("me.png"), checkpoint=Path("ck"), steps=9, end=12, retarget=False)
    argv = cli_equivalent(req, output_paths(tmp_path, req))
    assert argv[:4] == ["python", "-m", "fpdm_video.transfer", "in.mp4"]
    assert {"--steps", "--end", "--no-retarget", "--comparison", "--save-poses"} <= set(argv) and "--guidance" not in argv


def test_checkpoint_choices(tmp_path, tiny_checkpoint):  # noqa: F811
    assert checkpoint_choices([], []) == {DEMO_LABEL: embedded_demo()}
    named = checkpoint_choices([tiny_checkpoint], [])
    assert list(named) == ["tiny", DEMO_LABEL]  # the named one first: the default
    assert list(checkpoint_choices([], [tiny_checkpoint.parent], include_demo=False)) == ["tiny"]
    with pytest.raises(CheckpointError, match="not a checkpoint folder"):
        checkpoint_choices([tmp_path], [])
    with pytest.raises(CheckpointError, match="no checkpoint to offer"):
        checkpoint_choices([], [], include_demo=False)


def test_sessions_keep_one_run_and_go_when_the_visitor_leaves(tmp_path):
    sessions = Sessions(tmp_path / "s")
    first = sessions.new_run("abc")
    first.mkdir(parents=True)
    (first / "x.mp4").write_bytes(b"1")
    second = sessions.new_run("abc")
    assert not first.exists() and second.parent == first.parent
    assert sessions.folder("../../etc") == tmp_path / "s" / "______etc"
    second.mkdir()
    sessions.remove("abc")
    assert sessions.files() == [] and not sessions.folder("abc").exists()


@pytest.fixture(scope="module")
def runner():
    return TransferRunner(ModelCache("cpu", "fp32"), max_frames=6)


def tiny_request(example_inputs, tiny_checkpoint, **over):  # noqa: F811
    values = dict(input=example_inputs.video, signer=example_inputs.signer_image, poses=example_inputs.poses,
                  checkpoint=tiny_checkpoint, speed="fast", max_frames=3, batch_size=1)  # fmt: skip
    return RunRequest(**{**values, **over})


def test_a_run_writes_its_four_files_and_reports_frames(tmp_path, runner, example_inputs, tiny_checkpoint):  # noqa: F811
    seen = []

    class Watch(Progress):
        def __setattr__(self, name, value):
            super().__setattr__(name, value)
            if name == "done":
                seen.append(value)

    outputs, record = runner.run(tiny_request(example_inputs, tiny_checkpoint), tmp_path / "run", progress=Watch())
    assert all(p.is_file() for p in outputs.all()) and probe(outputs.video).num_frames == 3
    assert record["frames"] == 3 and record["argv"][:3] == ["python", "-m", "fpdm_video.transfer"]
    assert seen[-3:] == [1, 2, 3]  # one report per rendered batch (of one frame here)


def test_bad_input_and_the_frame_limit_leave_nothing(tmp_path, runner, example_inputs, tiny_checkpoint):  # noqa: F811
    text = tmp_path / "notes.txt"
    text.write_text("not a video")
    with pytest.raises(InputError, match="cannot be opened as a video"):
        runner.run(tiny_request(example_inputs, tiny_checkpoint, input=text, poses=None), tmp_path / "run")
    with pytest.raises(InputError, match="more than the 6 this app renders"):
        runner.run(tiny_request(example_inputs, tiny_checkpoint, max_frames=None), tmp_path / "run")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_a_cancel_between_batches_leaves_nothing(tmp_path, runner, example_inputs, tiny_checkpoint):  # noqa: F811
    cancel = threading.Event()

    class CancelAfterFirst(Progress):
        def __setattr__(self, name, value):
            super().__setattr__(name, value)
            if name == "done" and value >= 1:
                cancel.set()

    with pytest.raises(RunCancelled):
        runner.run(tiny_request(example_inputs, tiny_checkpoint, max_frames=4), tmp_path / "run", cancelled=cancel,
                   progress=CancelAfterFirst())  # fmt: skip
    assert list(tmp_path.iterdir()) == []
