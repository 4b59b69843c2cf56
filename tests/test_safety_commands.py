"""The other command lines never destroy their inputs either: evaluate, pose extract, the dataset generator, training."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from fpdm_video.data.synthetic import main as synthetic_main
from fpdm_video.evaluate import main as evaluate_main
from fpdm_video.pose.__main__ import main as pose_main
from fpdm_video.train.__main__ import main as train_main

from factories_paths import ALIASES, alias, tree_state
from factories_safety import Workspace, assert_refused, workspace  # noqa: F401 (fixture)
from factories_transfer import example_inputs, tiny_checkpoint  # noqa: F401 (fixtures)


def evaluate_refused(ws: Workspace, extra: list, capsys, message: str, signer: Path | None = None) -> None:
    before = ws.snapshot()
    code = evaluate_main(["--output", str(ws.video), "--driving", str(ws.video), "--signer", str(signer or ws.signer),
                          "--driving-poses", str(ws.poses), "--checkpoint", str(ws.checkpoint), "--quiet",
                          *[str(a) for a in extra]])  # fmt: skip
    assert_refused(code, capsys.readouterr().err, message, before, ws.snapshot())


@pytest.mark.parametrize("kind", ALIASES)
def test_evaluate_json_that_is_the_evaluated_video(workspace, capsys, kind):  # noqa: F811
    target = alias(kind, workspace.video, workspace.root)
    evaluate_refused(workspace, ["--json", target], capsys, f"--json {target} is the input --output")


@pytest.mark.parametrize("kind", ALIASES)
def test_evaluate_plots_over_an_input(workspace, capsys, kind):  # noqa: F811
    # the plot of --output NAME.mp4 is <plots>/NAME.png: here that file is the signer photo
    plots = workspace.root / "plots"
    plots.mkdir()
    photo = plots / f"{workspace.video.stem}.png"
    photo.write_bytes(workspace.signer.read_bytes())
    if kind == "hardlink":  # the photo given under another name, hard-linked to the plot's name
        signer = workspace.root / "in" / "photo.png"
        os.link(photo, signer)
        given = plots
    else:
        signer = photo
        given = alias(kind, plots, workspace.root)
    evaluate_refused(workspace, ["--plots", given], capsys, f"--plots ({photo.name}) {given / photo.name} is the input --signer",
                     signer=signer)


def test_evaluate_json_where_nothing_can_be_written(workspace, capsys):  # noqa: F811
    evaluate_refused(workspace, ["--json", "/proc/r.json"], capsys, "--json /proc/r.json: /proc is not writable")


def test_evaluate_plots_under_a_regular_file(workspace, capsys):  # noqa: F811
    evaluate_refused(workspace, ["--plots", workspace.video / "plots"], capsys, "is a file, not a folder")


def test_evaluate_with_a_missing_checkpoint(workspace, capsys):  # noqa: F811
    before = workspace.snapshot()
    code = evaluate_main(["--output", str(workspace.video), "--driving", str(workspace.video), "--signer", str(workspace.signer),
                          "--checkpoint", str(workspace.root / "missing"), "--json", str(workspace.root / "r.json"), "--quiet"])  # fmt: skip
    assert_refused(code, capsys.readouterr().err, "checkpoint folder", before, workspace.snapshot())


@pytest.mark.parametrize("kind", ALIASES)
def test_pose_extract_over_its_input_or_into_proc(workspace, capfd, kind):  # noqa: F811
    # the pose CLI hides native log lines at the file-descriptor level, so its messages are read there
    video = workspace.root / "in" / "clip.pose"  # a video whose name ends in .pose: -o defaults to it
    video.write_bytes(workspace.video.read_bytes())
    target = alias(kind, video, workspace.root)
    before = workspace.snapshot()
    code = pose_main(["extract", str(video), "-o", str(target), "--quiet"])
    assert_refused(code, capfd.readouterr().err, "is the input VIDEO", before, workspace.snapshot())
    code = pose_main(["extract", str(video), "--quiet"])
    assert_refused(code, capfd.readouterr().err, "is the input VIDEO", before, workspace.snapshot())
    code = pose_main(["extract", str(workspace.video), "-o", "/proc/x.pose", "--quiet"])
    assert_refused(code, capfd.readouterr().err, "-o /proc/x.pose: /proc is not writable", before, workspace.snapshot())


def test_synthetic_dataset_too_large_leaves_nothing(tmp_path, capsys):
    code = synthetic_main(["--out", str(tmp_path / "ds"), "--clips", "1", "--frames", "2", "--size", "100000"])
    assert_refused(code, capsys.readouterr().err, "out of range", {}, tree_state(tmp_path))


def test_training_config_that_is_not_yaml(tmp_path, capsys):
    config = tmp_path / "bad.yaml"
    config.write_text("model: tiny\nsteps: [1, 2\nrun_dir: runs\n")
    before = tree_state(tmp_path)
    code = train_main(["diffusion", "--config", str(config), "--quiet"])
    assert_refused(code, capsys.readouterr().err, "is not valid YAML at line 3, column 8", before, tree_state(tmp_path))


def test_training_run_folder_inside_its_dataset(tmp_path, capsys):
    data = tmp_path / "data"
    data.mkdir()
    (data / "keep.txt").write_text("a dataset")
    config = tmp_path / "train.yaml"
    config.write_text(f"model: tiny\nrun_dir: {data / 'runs'}\ndata:\n  root: {data}\n")
    before = tree_state(tmp_path)
    code = train_main(["diffusion", "--config", str(config), "--quiet"])
    assert_refused(code, capsys.readouterr().err, "lies inside the input folder data.root", before, tree_state(tmp_path))
