"""The README's main job, end to end on small generated inputs (a tiny checkpoint stands in for the demo model)."""

from __future__ import annotations

import json

from fpdm_video.demo import main
from fpdm_video.pose import load_holistic
from fpdm_video.video import probe

from factories_transfer import tiny_checkpoint  # noqa: F401 (fixture)


def test_demo_runs_the_transfer_on_generated_inputs(tmp_path, tiny_checkpoint):  # noqa: F811
    out = tmp_path / "demo"
    args = ["--out", str(out), "--frames", "6", "--width", "48", "--height", "64", "--seed", "1", "--steps", "2"]
    assert main([*args, "--checkpoint", str(tiny_checkpoint), "--quiet"]) == 0
    video = probe(out / "inputs" / "driving.mp4")
    assert (video.num_frames, video.width, video.height) == (6, 48, 64)
    assert len(load_holistic(out / "inputs" / "driving.pose")) == 6
    output = probe(out / "transfer.mp4")
    assert (output.num_frames, output.width, output.height) == (6, 48, 64)
    assert json.loads((out / "transfer.json").read_text())["frames"] == 6
    comparison = probe(out / "comparison.mp4")
    assert comparison.num_frames == 6 and comparison.width == 3 * 48
    assert (out / "comparison.png").stat().st_size > 0


def test_demo_bad_argument_exits_2(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    assert main(["--out", str(blocker / "demo"), "--frames", "4"]) == 2
    assert "error:" in capsys.readouterr().err
