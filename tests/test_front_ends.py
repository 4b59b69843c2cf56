"""Every front end resolves the same request to the same settings, and the transfer flow writes the CLI's frames.

The CLI, the Python API, the web app's runner, the transfer flow, the augment flow and
``pipelines.synthetic_eval`` all run here for real (tiny checkpoint, a few frames) and the settings
each recorded are compared. The checkpoint's own sampling config says 12 steps and guidance 3:
every front end must take them when the user gives none.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from factories_flows import prefect_env, signer_photos, source_dataset  # noqa: F401 (fixtures)
from factories_transfer import example_inputs, tiny_checkpoint  # noqa: F401 (fixtures)
from fpdm_video.config import SamplingConfig
from fpdm_video.models.checkpoint import save_model
from pipelines.settings import SamplingRequest

REQUEST = SamplingRequest(speed="balanced", temporal_attention="first", seed=7, batch_size=2)  # no steps, no guidance
CLI_FLAGS = ["--speed", "balanced", "--temporal-attention", "first", "--seed", "7", "--batch-size", "2"]


@pytest.fixture(scope="module")
def own_checkpoint(tmp_path_factory) -> Path:
    """A tiny checkpoint whose own sampling config says 12 steps and guidance 3."""
    from fpdm_video.models.registry import build_model, tiny_config

    torch.manual_seed(0)
    config = replace(tiny_config(), sampling=SamplingConfig(steps=12, guidance=3.0))
    return save_model(build_model(config), tmp_path_factory.mktemp("own") / "tiny12")


class Captured:
    """The uint8 frames each VideoWriter of a run was given, by the final path of the file it writes."""

    def __init__(self, monkeypatch, *modules) -> None:
        from fpdm_video.temp_names import final_path
        from fpdm_video.video import VideoWriter

        self.frames: dict[Path, list[np.ndarray]] = {}
        frames = self.frames

        class Recording(VideoWriter):
            def write(self, batch):
                target = final_path(self.path).resolve()  # outputs are written inside temporary folders
                frames.setdefault(target, []).append(np.array(batch))
                return super().write(batch)

        for module in modules:
            monkeypatch.setattr(module, "VideoWriter", Recording)

    def of(self, path: str | Path) -> np.ndarray:
        return np.concatenate(self.frames[Path(path).resolve()])


def _cli(argv: list[str]):
    from fpdm_video.transfer import run

    return run([*argv, "--quiet"])


def test_every_front_end_resolves_the_request_alike_and_honours_the_checkpoint(
    prefect_env, example_inputs, own_checkpoint, source_dataset, signer_photos, tmp_path, monkeypatch  # noqa: F811
):
    from flows.augment_dataset import augment_dataset
    from flows.transfer_video import transfer_video
    from fpdm_video.app.runner import ModelCache, RunRequest, TransferRunner
    from pipelines.synthetic_eval import main as synthetic_eval
    from pipelines.transfer import SignerTransfer, TransferRequest

    monkeypatch.setenv("FPDM_OUTPUT_ROOT", str(tmp_path / "root"))
    video, signer, poses = str(example_inputs.video), str(example_inputs.signer_image), str(example_inputs.poses)
    found = {}
    cli = _cli([video, "--signer", signer, "--poses", poses, "-o", str(tmp_path / "cli.mp4"), "--checkpoint", str(own_checkpoint),
                "--max-frames", "2", *CLI_FLAGS])  # fmt: skip
    found["cli"] = cli.record["settings"]["sampling"]
    api = SignerTransfer.from_pretrained(own_checkpoint).transfer(video, signer, tmp_path / "api.mp4", poses=poses,
                                                                  request=TransferRequest(REQUEST, max_frames=2), progress=False)  # fmt: skip
    found["api"] = api.record["settings"]["sampling"]
    _, record = TransferRunner(ModelCache(), max_frames=8).run(
        RunRequest(Path(video), Path(signer), own_checkpoint, Path(poses), TransferRequest(REQUEST, max_frames=2)), tmp_path / "app")
    found["app"] = record["settings"]["sampling"]
    flow = transfer_video(video=video, signer=signer, output="flow.mp4", max_frames=2, sampling=REQUEST.given(), poses=poses,
                          checkpoint=str(own_checkpoint))  # fmt: skip
    found["transfer flow"] = json.loads(Path(flow["record"]).read_text())["settings"]["sampling"]
    augmented = augment_dataset(dataset=str(source_dataset), signers=[str(signer_photos[0])], output="aug", clips=1,
                                sampling=REQUEST.given(), checkpoint=str(own_checkpoint))  # fmt: skip
    (row,) = augmented["clips"]
    found["augment flow"] = row["settings"]["sampling"]
    assert synthetic_eval(["--checkpoint", str(own_checkpoint), "--out", str(tmp_path / "eval"), "--cases", "1", "--no-baselines",
                           *CLI_FLAGS]) == 0  # fmt: skip
    found["synthetic_eval"] = json.loads((tmp_path / "eval" / "heldout_eval.json").read_text())["settings"]

    assert (found["cli"]["steps"], found["cli"]["guidance"], found["cli"]["deep_cache"]) == (12, 3.0, 3)  # checkpoint, then preset
    assert (found["cli"]["temporal_attention"], found["cli"]["seed"], found["cli"]["batch_size"]) == ("first", 7, 2)
    assert {name: settings for name, settings in found.items() if settings != found["cli"]} == {}
    assert json.loads(json.dumps(cli.record["request"]["sampling"])) == {**{k: None for k in found["cli"] if k in
                                                                            vars(SamplingRequest())}, **REQUEST.given()}  # fmt: skip


VARIANTS = {
    "first": ["--temporal-attention", "first", "--steps", "3"],
    "previous": ["--temporal-attention", "previous", "--steps", "3"],
    "both": ["--temporal-attention", "both", "--steps", "3"],
    "deep-cache 3": ["--deep-cache", "3", "--steps", "4"],
    "fast": ["--speed", "fast"],
    "warped noise": ["--noise", "warped", "--steps", "3"],  # the last frame's noise travels in the carry
    "warped noise, first:low-early": ["--noise", "warped", "--temporal-attention", "first", "--temporal-scope", "low-early",
                                      "--steps", "3"],
}


def _flag_request(flags: list[str]) -> dict:
    from fpdm_video.transfer import build_parser
    from pipelines.settings.sampling import request_from_args

    args = build_parser().parse_args(["in.mp4", "--signer", "s.png", *flags])
    return request_from_args(args).given()


@pytest.mark.slow
@pytest.mark.parametrize("variant", list(VARIANTS))
def test_the_transfer_flow_writes_the_clis_frames_also_after_a_crash_and_a_resume(
    variant, prefect_env, example_inputs, tiny_checkpoint, tmp_path, monkeypatch  # noqa: F811
):
    import flows.steps as steps
    import pipelines.transfer.api as api
    from flows.transfer_video import transfer_video

    monkeypatch.setenv("FPDM_OUTPUT_ROOT", str(tmp_path / "root"))
    captured = Captured(monkeypatch, api, steps)
    video, signer, poses = str(example_inputs.video), str(example_inputs.signer_image), str(example_inputs.poses)
    flags = [*VARIANTS[variant], "--batch-size", "2", "--seed", "3"]
    _cli([video, "--signer", signer, "--poses", poses, "-o", str(tmp_path / "cli.mp4"), "--checkpoint", str(tiny_checkpoint), *flags])
    cli = captured.of(tmp_path / "cli.mp4")
    assert cli.shape[0] == 8  # 8 frames: two render chunks of 4 (chunk_frames 3, rounded up to whole batches of 2)

    params = dict(video=video, signer=signer, poses=poses, sampling=_flag_request(flags), chunk_frames=3,
                  checkpoint=str(tiny_checkpoint))  # fmt: skip
    steps.CALLS.clear()
    flow = transfer_video(output="whole.mp4", **params)
    assert steps.CALLS["chunk"] == 2 and np.array_equal(captured.of(flow["output"]), cli)
    assert (np.diff(cli.astype(int), axis=0) != 0).any()  # the frames differ from each other: equality can fail

    real = steps.chunk_step

    def crash_after_the_first(work, target, image, checkpoint, sha, settings, span, carry=None):
        if span[0] > 0:
            raise RuntimeError("killed after the first chunk")
        return real(work, target, image, checkpoint, sha, settings, span, carry)

    monkeypatch.setattr(steps, "chunk_step", crash_after_the_first)
    with pytest.raises(RuntimeError, match="killed after the first chunk"):
        transfer_video(output="resumed.mp4", **{**params, "chunk_frames": 4})  # other chunk keys: nothing reused from above
    monkeypatch.setattr(steps, "chunk_step", real)
    steps.CALLS.clear()
    steps.cached_model.cache_clear()  # nothing carried in memory: the resumed chunk starts from the files
    resumed = transfer_video(output="resumed.mp4", **{**params, "chunk_frames": 4})
    assert steps.CALLS["chunk"] == 1  # the first chunk was kept, the second rendered from its carry
    assert np.array_equal(captured.of(resumed["output"]), cli)
    record = json.loads(Path(resumed["record"]).read_text())
    assert record["runner"] == "flow transfer-video" and record["argv"][:3] == ["python", "-m", "fpdm_video.transfer"]
    assert set(record) == set(json.loads((tmp_path / "cli.json").read_text()))  # one record format


def test_the_apps_recorded_command_line_reproduces_its_frames(example_inputs, tiny_checkpoint, tmp_path, monkeypatch):  # noqa: F811
    import pipelines.transfer.api as api
    from fpdm_video.app.form import run_request_fields
    from fpdm_video.app.runner import ModelCache, RunRequest, TransferRunner

    captured = Captured(monkeypatch, api)
    sampling = {"speed": "paper", "steps": 3, "guidance": 2.5, "seed": 4, "batch_size": 2, "temporal_attention": "both",
                "guidance_interval": "0.2 1.0", "noise": "independent", "scheduler": "ddim", "deep_cache": 0,
                "guidance_source": 0}  # fmt: skip
    fields = run_request_fields(input_file=str(example_inputs.video), photo_file=str(example_inputs.signer_image),
                                poses_file=str(example_inputs.poses), checkpoint=tiny_checkpoint, sampling=sampling, start=1,
                                end=0, max_frames=5, retarget=True)  # fmt: skip
    outputs, record = TransferRunner(ModelCache(), max_frames=8).run(RunRequest(**fields), tmp_path / "app")
    app_frames = captured.of(outputs.video)
    argv = record["argv"]
    assert argv[:3] == ["python", "-m", "fpdm_video.transfer"] and record["runner"] == "app"
    assert str(tmp_path) not in " ".join(argv[3:argv.index("--checkpoint")])  # files by name: no server path of an upload or output
    visitor = tmp_path / "visitor"  # the visitor's own folder, holding the files they uploaded, under their names
    visitor.mkdir()
    for upload in (example_inputs.video, example_inputs.signer_image, example_inputs.poses):
        shutil.copy(upload, visitor / Path(upload).name)
    monkeypatch.chdir(visitor)
    result = _cli(list(argv[3:]))
    assert result.record["settings"] == record["settings"] and result.record["request"] == record["request"]
    assert app_frames.shape[0] == 5 and np.array_equal(captured.of(visitor / outputs.video.name), app_frames)
    assert sorted(p.name for p in visitor.iterdir()) == sorted([*(p.name for p in outputs.all()), *(Path(u).name for u in (
        example_inputs.video, example_inputs.signer_image, example_inputs.poses))])  # the download names, beside the uploads


def test_the_clis_recorded_command_line_reproduces_its_frames(example_inputs, tiny_checkpoint, tmp_path, monkeypatch):  # noqa: F811
    import pipelines.transfer.api as api

    captured = Captured(monkeypatch, api)
    first = _cli([str(example_inputs.video), "--signer", str(example_inputs.signer_image), "--poses", str(example_inputs.poses),
                  "-o", str(tmp_path / "one.mp4"), "--checkpoint", str(tiny_checkpoint), "--steps", "2", "--seed", "9",
                  "--temporal-attention", "previous", "--batch-size", "3"])  # fmt: skip
    argv = first.record["argv"]
    assert argv[:3] == ["python", "-m", "fpdm_video.transfer"] and first.record["runner"] == "cli"
    again = list(argv[3:])
    again[again.index("-o") + 1] = str(tmp_path / "two.mp4")
    second = _cli(again)
    assert second.record["settings"] == first.record["settings"]
    assert np.array_equal(captured.of(tmp_path / "two.mp4"), captured.of(tmp_path / "one.mp4"))
