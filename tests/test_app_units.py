"""The web app's parts without a browser: its settings, the page's values, checkpoints, visitor folders, runs and cancels."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from fpdm_video.app.checkpoints import DEMO_LABEL, DEMO_STUDENT_LABEL, checkpoint_choices, embedded_demo, embedded_demo_student
from fpdm_video.app.config import AppConfig, config_from_args
from fpdm_video.app.form import public_message, run_request_fields, sampling_fields
from fpdm_video.app.runner import ModelCache, Progress, RunCancelled, RunRequest, TransferRunner, cli_equivalent, output_paths, settings_of
from pipelines.settings import SamplingRequest
from pipelines.transfer import TransferRequest
from fpdm_video.app.sessions import Sessions
from fpdm_video.errors import CheckpointError, InputError
from fpdm_video.video import probe
from factories_transfer import example_inputs, tiny_checkpoint  # noqa: F401 (fixtures)


def page_values(checkpoint=Path("/ck"), **over):
    """What the page sends: the sampling controls at their untouched values (0 or "default"), changed by ``over``."""
    sampling = {f.name: ("default" if "choices" in f.metadata else "" if f.metadata.get("nargs") else 0) for f in sampling_fields()}
    sampling.update(speed="fast", seed=3, batch_size=2)
    sampling.update({k: v for k, v in over.items() if k in sampling})
    values = dict(input_file="/up/a/in.mp4", photo_file="/up/b/me.png", poses_file=None, checkpoint=checkpoint, sampling=sampling,
                  start=0, end=0, max_frames=5, retarget=True)  # fmt: skip
    return {**values, **{k: v for k, v in over.items() if k not in sampling}}


def test_defaults_bind_loopback_without_sharing():
    config = config_from_args([])
    assert (config.host, config.port, config.share) == ("127.0.0.1", 7860, False)
    assert config_from_args(["--host", "0.0.0.0", "--port", "9000", "--share"]).share is True
    with pytest.raises(InputError, match="--max-frames"):
        config_from_args(["--max-frames", "0"])
    assert AppConfig(max_upload_mb=2).max_upload_bytes == 2 * 1024 * 1024


def test_page_values_become_the_clis_settings(tiny_checkpoint):  # noqa: F811
    fields = run_request_fields(**page_values(tiny_checkpoint))
    sampling = fields["transfer"].sampling
    assert sampling.steps is None and sampling.guidance is None and sampling.scheduler is None  # 0 or "default": not given
    assert fields["transfer"].end is None and fields["transfer"].max_frames == 5
    settings = settings_of(RunRequest(**fields))
    assert (settings.sampling.scheduler, settings.sampling.steps, settings.max_frames, settings.sampling.seed) == ("dpmpp_2m", 6, 5, 3)
    paper = settings_of(RunRequest(**run_request_fields(**page_values(tiny_checkpoint, speed="paper", steps=7, guidance=3,
                                                                      guidance_interval="0.2 0.9", temporal_attention="both"))))  # fmt: skip
    assert (paper.sampling.scheduler, paper.sampling.steps, paper.sampling.guidance) == ("ddpm", 7, 3.0)
    assert (paper.sampling.guidance_interval, paper.sampling.temporal_attention) == ((0.2, 0.9), "both")
    with pytest.raises(InputError, match="no signing given"):
        run_request_fields(**page_values(input_file=None))
    with pytest.raises(InputError, match="no photo given"):
        run_request_fields(**page_values(photo_file=None))
    with pytest.raises(InputError, match="whole number"):
        run_request_fields(**page_values(seed=1.5))
    with pytest.raises(InputError, match="guidance interval must be two numbers"):
        run_request_fields(**page_values(guidance_interval="0.3"))
    with pytest.raises(InputError, match="guidance must be a number from 1"):
        settings_of(RunRequest(**run_request_fields(**page_values(tiny_checkpoint, guidance=0.5))))


def test_the_page_offers_every_sampling_option_of_the_cli():
    from fpdm_video.app.config import AppConfig
    from fpdm_video.app.ui import sampling_control
    from fpdm_video.transfer import build_parser

    cli = {a.dest for group in build_parser()._action_groups if group.title.startswith("sampling") for a in group._group_actions}
    page = {f.name for f in sampling_fields()}
    assert cli - {"device", "dtype"} == page  # device and dtype are the server's (app --device/--dtype), not a visitor's
    for f in sampling_fields():
        assert sampling_control(f, AppConfig()).elem_id == f.name.replace("_", "-")


def test_messages_are_one_line_with_upload_names_not_server_paths():
    msg = public_message("/srv/cache/123/notes.txt cannot be opened as a video\n  give a video", {"/srv/cache/123/notes.txt": "notes.txt"})
    assert msg == "error: notes.txt cannot be opened as a video give a video"


def test_the_page_says_the_videos_frame_rate_and_points_to_no_docs():
    from fpdm_video.app.form import done_message, page_help

    record = {"frames": 12, "fps": 29.9166, "stage_seconds": {"poses": 1.25, "sampling": 39.8}, "checkpoint": {"name": "demo"},
              "settings": {"sampling": {"speed": "fast"}}}  # fmt: skip
    assert done_message(record) == "done: 12 frames (video at 29.92 fps) in 41.0 s (demo, fast)"
    for f in sampling_fields():  # the controls' info lines: no docs/ folder (a visitor has none), no command-line flags
        shown = page_help(f.metadata["help"])
        assert "docs/" not in shown and "--" not in shown and "()" not in shown, shown
    speed = page_help(next(f for f in sampling_fields() if f.name == "speed").metadata["help"])
    assert "balanced (DDPM with deep cache 3)" in speed and speed.endswith("override it (default paper, turbo for a student)")


def test_out_of_range_numbers_are_the_pages_own_one_line_errors(tiny_checkpoint):  # noqa: F811
    """Gradio's number boxes have no minimum (it would refuse the run before the page could clear the last message)."""
    from fpdm_video.app.ui import sampling_control

    assert all(getattr(sampling_control(f, AppConfig()), "minimum", None) is None for f in sampling_fields())
    with pytest.raises(InputError, match="^steps must be 0 or more, got -3$"):
        run_request_fields(**page_values(tiny_checkpoint, steps=-3))
    with pytest.raises(InputError, match="^start must be 0 or more, got -1$"):
        run_request_fields(**page_values(tiny_checkpoint, start=-1))


def test_cli_equivalent_names_every_setting(tmp_path):
    req = RunRequest(input=Path("in.mp4"), signer=Path("me.png"), checkpoint=Path("ck"),
                     transfer=TransferRequest(SamplingRequest(steps=9, guidance_interval=(0.2, 0.9)), end=12, retarget=False))
    argv = cli_equivalent(req, output_paths(tmp_path, req))
    assert argv[:4] == ["python", "-m", "fpdm_video.transfer", "in.mp4"]
    assert {"--steps", "--end", "--no-retarget", "--comparison", "--save-poses", "--device", "--dtype"} <= set(argv)
    assert "--guidance" not in argv and argv[argv.index("--guidance-interval") + 1:][:2] == ["0.2", "0.9"]


def test_cli_equivalent_names_files_as_the_visitor_knows_them(tmp_path):
    """Uploads by their own names, outputs by their download names: no path of Gradio's cache or of the visitor's folder."""
    cache = tmp_path / "gradio" / "5f2a9c"
    req = RunRequest(input=cache / "my signing.mp4", signer=cache.with_name("77b1") / "anna.png", checkpoint=tmp_path / "ck",
                     poses=cache.with_name("0c3e") / "my signing.pose")  # fmt: skip
    argv = cli_equivalent(req, output_paths(tmp_path / "sessions" / "abc" / "run-1", req))
    assert argv[3:10] == ["my signing.mp4", "--signer", "anna.png", "-o", "my signing__anna.mp4", "--comparison",
                          "my signing__anna_comparison.mp4"]  # fmt: skip
    assert argv[argv.index("--poses") + 1] == "my signing.pose" and argv[argv.index("--save-poses") + 1] == "my signing__anna_poses.pose"
    assert argv[argv.index("--checkpoint") + 1] == str(tmp_path / "ck")  # the operator's checkpoint folder is kept
    assert not any("gradio" in a or "sessions" in a for a in argv)
    demo = cli_equivalent(RunRequest(input=req.input, signer=req.signer, checkpoint=embedded_demo()), output_paths(tmp_path, req))
    assert "--checkpoint" not in demo  # the embedded demo model is the command's default


def test_checkpoint_choices(tmp_path, tiny_checkpoint):  # noqa: F811
    assert checkpoint_choices([], []) == {DEMO_LABEL: embedded_demo(), DEMO_STUDENT_LABEL: embedded_demo_student()}
    named = checkpoint_choices([tiny_checkpoint], [])
    assert list(named) == ["tiny", DEMO_LABEL, DEMO_STUDENT_LABEL]  # the named one first: the default
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
    frames = {"max_frames": over.pop("max_frames", 3)}
    values = dict(input=example_inputs.video, signer=example_inputs.signer_image, poses=example_inputs.poses,
                  checkpoint=tiny_checkpoint, transfer=TransferRequest(SamplingRequest(speed="fast", batch_size=1), **frames))  # fmt: skip
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
