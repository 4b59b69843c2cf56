"""The transfer CLI end to end on a tiny checkpoint: frames, timing, the record, determinism, .pose input."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from fpdm_video.pose import load_holistic
from fpdm_video.transfer import build_parser, main
from fpdm_video.video import probe, read_video

from factories_transfer import decoded, example_inputs, tiny_checkpoint  # noqa: F401 (fixtures)

FAST = ["--steps", "2", "--quiet"]
ROOT = Path(__file__).resolve().parents[1]


def test_video_to_video(example_inputs, tiny_checkpoint, tmp_path):  # noqa: F811
    out = tmp_path / "out.mp4"
    code = main([str(example_inputs.video), "--signer", str(example_inputs.signer_image), "--checkpoint",
                 str(tiny_checkpoint), "-o", str(out), "--comparison", str(tmp_path / "cmp.mp4"), *FAST])  # fmt: skip
    assert code == 0
    src, got = read_video(example_inputs.video), read_video(out)
    assert got.frames.shape == src.frames.shape  # same count and size
    assert np.allclose(got.timestamps, src.timestamps, atol=1e-4)
    assert read_video(tmp_path / "cmp.mp4").frames.shape == (8, 64, 192, 3)
    record = json.loads(out.with_suffix(".json").read_text())
    assert record["frames"] == 8 and record["fps"] == pytest.approx(25.0)
    assert record["sizes"] == {"input": [64, 64], "output": [64, 64], "model": 32}
    assert len(record["input"]["sha256"]) == 64 and len(record["signer"]["sha256"]) == 64
    assert record["checkpoint"]["name"] == "tiny" and len(record["checkpoint"]["sha256"]) == 64
    assert record["settings"]["sampling"]["steps"] == 2 and record["settings"]["sampling"]["scheduler"] == "ddpm"
    assert record["request"]["sampling"]["steps"] == 2 and record["request"]["sampling"]["scheduler"] is None
    assert record["runner"] == "cli"
    # the CLI reads the reference and the poses while the model loads: those stages ran beside model_load
    assert set(record["stage_seconds"]) == {"model_load", "reference", "poses", "repair_retarget", "sampling_encoding"}
    assert 0 < record["first_frames_seconds"] <= record["run_seconds"] <= sum(record["stage_seconds"].values())
    assert record["versions"]["torch"] and record["argv"][:4] == ["python", "-m", "fpdm_video.transfer", str(example_inputs.video)]
    assert record["retarget"]["on"] and record["retarget"]["ratios"]


def test_same_seed_same_video_other_seed_differs(example_inputs, tiny_checkpoint, tmp_path):  # noqa: F811
    common = [str(example_inputs.video), "--signer", str(example_inputs.signer_image), "--checkpoint", str(tiny_checkpoint),
              "--poses", str(example_inputs.poses), "--max-frames", "4", *FAST]  # fmt: skip
    for name, seed in (("a", 0), ("b", 0), ("c", 1)):
        assert main([*common, "-o", str(tmp_path / f"{name}.mp4"), "--seed", str(seed)]) == 0
    assert np.array_equal(decoded(tmp_path / "a.mp4"), decoded(tmp_path / "b.mp4"))
    assert not np.array_equal(decoded(tmp_path / "a.mp4"), decoded(tmp_path / "c.mp4"))


def test_pose_file_drives_the_output(example_inputs, tiny_checkpoint, tmp_path):  # noqa: F811
    out = tmp_path / "from_pose.mp4"
    code = main([str(example_inputs.poses), "--signer", str(example_inputs.signer_image), "--checkpoint",
                 str(tiny_checkpoint), "-o", str(out), "--scheduler", "dpmpp_2m", *FAST])  # fmt: skip
    assert code == 0
    pose, info = load_holistic(example_inputs.poses), probe(out)
    assert (info.num_frames, info.width, info.height) == (pose.num_frames, pose.width, pose.height)
    assert info.fps == pytest.approx(pose.fps, rel=1e-3)
    assert json.loads(out.with_suffix(".json").read_text())["settings"]["sampling"]["scheduler"] == "dpmpp_2m"


def test_frame_range_and_saved_poses(example_inputs, tiny_checkpoint, tmp_path):  # noqa: F811
    out = tmp_path / "range.mp4"
    code = main([str(example_inputs.video), "--signer", str(example_inputs.signer_image), "--checkpoint", str(tiny_checkpoint),
                 "-o", str(out), "--start", "2", "--end", "6", "--save-poses", str(tmp_path / "p.pose"), "--no-retarget", *FAST])  # fmt: skip
    assert code == 0
    assert probe(out).num_frames == 4
    assert load_holistic(tmp_path / "p.pose").num_frames == 4
    assert json.loads(out.with_suffix(".json").read_text())["retarget"] == {"on": False, "ratios": {}, "fallbacks": []}


def test_default_output_name(example_inputs, tiny_checkpoint, tmp_path, monkeypatch):  # noqa: F811
    monkeypatch.chdir(tmp_path)
    code = main([str(example_inputs.poses), "--signer", str(example_inputs.signer_image), "--checkpoint",
                 str(tiny_checkpoint), "--max-frames", "2", *FAST])  # fmt: skip
    assert code == 0
    assert (tmp_path / "driving__signer.mp4").is_file() and (tmp_path / "driving__signer.json").is_file()


def test_help_explains_every_option(capsys):
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--help"])
    text = capsys.readouterr().out
    for option in ("--signer", "--checkpoint", "--steps", "--guidance", "--seed", "--scheduler", "--batch-size", "--device",
                   "--dtype", "--start", "--end", "--max-frames", "--poses", "--save-poses", "--no-retarget",
                   "--comparison", "--quiet", "--output", "--speed", "--guidance-source", "--deep-cache"):  # fmt: skip
        assert option in text


@pytest.mark.parametrize(("args", "code", "words"), [
    (["--help"], 0, "--signer"),
    (["in.mp4", "--signer", "a.jpg", "--speed", "nope"], 2, "invalid choice: 'nope'"),
    (["nope.mp4", "--signer", "a.jpg"], 2, "input nope.mp4 does not exist"),
    (["README.md", "--signer", "nope.jpg"], 2, "image nope.jpg does not exist"),
])  # fmt: skip
def test_help_and_refusals_do_not_wait_for_torch(args, code, words, tmp_path):
    """--help, what argparse refuses and a missing input or photo come before torch is imported (it takes seconds): the
    parser's settings, modes and sampler names and the path checks import none of it (``python -X importtime`` lists
    every module a run imports)."""
    args = [str(ROOT / a) if a == "README.md" else a for a in args] + ["-o", str(tmp_path / "out.mp4")] * (code == 2)
    run = subprocess.run([sys.executable, "-X", "importtime", "-m", "fpdm_video.transfer", *args], capture_output=True,
                         text=True, cwd=tmp_path, timeout=60)  # fmt: skip
    assert run.returncode == code and words in run.stdout + run.stderr, run.stderr[-2000:]
    imported = {line.rsplit("|", 1)[-1].strip() for line in run.stderr.splitlines() if line.startswith("import time:")}
    assert "pipelines.settings.sampling" in imported  # the listing is there, with the module that adds the options
    assert not {name for name in imported if name == "torch" or name.startswith("torch.")}
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_a_speed_preset_sets_the_sampler_and_is_recorded(example_inputs, tiny_checkpoint, tmp_path):  # noqa: F811
    out = tmp_path / "fast.mp4"
    assert main([str(example_inputs.video), "--signer", str(example_inputs.signer_image), "--checkpoint", str(tiny_checkpoint),
                 "-o", str(out), "--max-frames", "2", "--speed", "fast", "--quiet"]) == 0  # fmt: skip
    settings = json.loads(out.with_suffix(".json").read_text())["settings"]["sampling"]
    assert (settings["speed"], settings["scheduler"], settings["steps"], settings["guidance_interval"]) == ("fast", "dpmpp_2m", 6, [0.3, 1.0])
    out = tmp_path / "explicit.mp4"
    assert main([str(example_inputs.video), "--signer", str(example_inputs.signer_image), "--checkpoint", str(tiny_checkpoint),
                 "-o", str(out), "--max-frames", "2", "--speed", "fast", "--steps", "3", "--scheduler", "ddim", "--quiet"]) == 0  # fmt: skip
    settings = json.loads(out.with_suffix(".json").read_text())["settings"]["sampling"]
    assert (settings["speed"], settings["scheduler"], settings["steps"]) == ("fast", "ddim", 3)  # explicit settings win over the preset
    assert settings["guidance_interval"] == [0.3, 1.0]  # what was not given still comes from the preset
    out = tmp_path / "cached.mp4"
    assert main([str(example_inputs.video), "--signer", str(example_inputs.signer_image), "--checkpoint", str(tiny_checkpoint),
                 "-o", str(out), "--max-frames", "2", "--steps", "4", "--deep-cache", "2", "--quiet"]) == 0  # fmt: skip
    assert json.loads(out.with_suffix(".json").read_text())["settings"]["sampling"]["deep_cache"] == 2


@pytest.mark.parametrize("value", ["0", "-3"])
def test_a_deep_cache_below_one_is_refused_before_any_work(example_inputs, tiny_checkpoint, tmp_path, capsys, value):  # noqa: F811
    out = tmp_path / "x.mp4"
    code = main([str(example_inputs.video), "--signer", str(example_inputs.signer_image), "--checkpoint", str(tiny_checkpoint),
                 "-o", str(out), "--deep-cache", value])  # fmt: skip
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and err[0].startswith("error: deep-cache must be a whole number of steps >= 1 (1: off)"), err
    assert not any(tmp_path.iterdir())


def test_the_old_dpm_scheduler_name_is_refused_by_argparse_before_any_work(example_inputs, tiny_checkpoint, tmp_path, capsys):  # noqa: F811
    # one sampler name everywhere now: "dpm" is no longer an alias of dpmpp_2m but argparse's own choices error
    out = tmp_path / "x.mp4"
    with pytest.raises(SystemExit) as exit_info:
        main([str(example_inputs.poses), "--signer", str(example_inputs.signer_image), "--checkpoint", str(tiny_checkpoint),
              "-o", str(out), "--scheduler", "dpm", *FAST])  # fmt: skip
    err = capsys.readouterr().err.strip().splitlines()
    assert exit_info.value.code == 2, err
    errors = [line for line in err if "error:" in line]
    assert len(errors) == 1 and errors[0] == err[-1], err
    # the choices' quoting differs between Python versions: 'ddpm', ... or ddpm, ...
    assert re.fullmatch(r"python -m fpdm_video\.transfer: error: argument --scheduler: invalid choice: 'dpm' "
                        r"\(choose from '?ddpm'?, '?ddim'?, '?dpmpp_2m'?, '?lcm'?\)", errors[0]), err  # fmt: skip
    assert not any(tmp_path.iterdir())


def _stderr_on_a_terminal(argv: list[str]) -> str:
    """Run the CLI in a subprocess whose stderr is a pseudo-terminal; what it wrote there."""
    import fcntl
    import os
    import pty
    import struct
    import subprocess
    import sys
    import termios

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 120, 0, 0))  # a terminal 120 columns wide
    proc = subprocess.Popen([sys.executable, "-m", "fpdm_video.transfer", *argv], stdout=subprocess.DEVNULL, stderr=slave,
                            env={**os.environ, "OMP_NUM_THREADS": "1"})  # fmt: skip
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 4096)
        except OSError:  # the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    assert proc.wait(timeout=300) == 0
    return b"".join(chunks).decode(errors="replace")


def test_quiet_keeps_one_progress_line_on_a_terminal(example_inputs, tiny_checkpoint, tmp_path, capsys):  # noqa: F811
    """--quiet on a terminal: the rendered frames' bar and nothing else; off a terminal (a file, a pipe): nothing."""
    argv = [str(example_inputs.video), "--signer", str(example_inputs.signer_image), "--checkpoint", str(tiny_checkpoint),
            "--max-frames", "4", "--steps", "1", "--quiet"]  # fmt: skip
    text = _stderr_on_a_terminal([*argv, "-o", str(tmp_path / "tty.mp4")])
    bars = [line for line in re.split(r"[\r\n]+", text) if "frame" in line]
    assert bars and all(line.lstrip().startswith("frames:") for line in bars), text
    assert "4/4" in bars[-1] and "holistic poses" not in text
    assert not re.search(r"^INFO (fpdm_video|pipelines)", text, re.M), text
    assert not re.search(r"XNNPACK|absl::InitializeLog|inference_feedback_manager", text), text  # MediaPipe's C++ chatter
    assert main([*argv, "-o", str(tmp_path / "pipe.mp4")]) == 0
    err = capsys.readouterr().err  # warnings stay (this photo has no left hand); no bar, no INFO line
    assert "frames:" not in err and "holistic poses" not in err and not re.search(r"^INFO", err, re.M), err
