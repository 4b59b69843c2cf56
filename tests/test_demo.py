"""The README's main job, end to end on small generated inputs."""

from __future__ import annotations

from fpdm_video.demo import main
from fpdm_video.pose import load_holistic
from fpdm_video.video import probe


def test_demo_writes_inputs_and_comparison(tmp_path):
    out = tmp_path / "demo"
    assert main(["--out", str(out), "--frames", "6", "--size", "96", "--seed", "1"]) == 0
    video = probe(out / "inputs" / "driving.mp4")
    assert (video.num_frames, video.width, video.height) == (6, 96, 96)
    assert len(load_holistic(out / "inputs" / "driving.pose")) == 6
    assert len(load_holistic(out / "inputs" / "signer.pose")) == 1
    comparison = probe(out / "comparison.mp4")
    assert comparison.num_frames == 6 and comparison.width >= 3 * 96
    assert (out / "comparison.png").stat().st_size > 0


def test_demo_bad_argument_exits_2(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    assert main(["--out", str(blocker / "demo"), "--frames", "4", "--size", "64"]) == 2
    assert "error:" in capsys.readouterr().err
