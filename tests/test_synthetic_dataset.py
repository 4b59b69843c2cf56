"""Synthetic datasets: PHOENIX layout that the PHOENIX reader loads, pose sidecars, resume, CLI."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from fpdm_video.data.synthetic import main
from fpdm_video.data.synthetic_dataset import SyntheticDatasetConfig, sidecar_path, write_synthetic_dataset
from fpdm_video.data.synthetic_draw import render_signer
from fpdm_video.data.synthetic_identity import sample_identity
from fpdm_video.errors import InputError
from fpdm_video.pose import load_holistic, read_pose
from fpdm_video.video import PhoenixDataset


def test_dataset_loads_back_with_the_phoenix_reader_and_sidecars(tmp_path):
    config = SyntheticDatasetConfig(clips=3, frames=5, width=48, height=60, seed=3, split="dev", identities=2)
    rows = write_synthetic_dataset(tmp_path, config)
    data = PhoenixDataset(tmp_path)
    samples = data.samples("dev")
    assert [s.name for s in samples] == [r.name for r in rows] and len(samples) == 3
    assert [s.speaker for s in samples] == ["synth-30000", "synth-30001", "synth-30000"]
    for sample in samples:
        assert "synthetic" in sample.translation and sample.orth
        clip = data.load(sample)
        assert clip.frames.shape == (5, 60, 48, 3) and clip.fps == 25.0
        pose = read_pose(sidecar_path(tmp_path, "dev", sample.name))
        assert (pose.num_frames, pose.width, pose.height) == (5, 48, 60)
        holistic = load_holistic(sidecar_path(tmp_path, "dev", sample.name))
        # the sidecar is the pose as drawn: rendering it again gives the stored frames
        identity = sample_identity(int(sample.speaker.split("-")[1]))
        again = render_signer(identity, holistic, 2, (48, 60))
        assert np.abs(again.astype(int) - clip.frames[2]).max() <= 2  # float32 round trip of the file
    first, third = (data.load(s).frames for s in (samples[0], samples[2]))
    assert np.abs(first.astype(int) - third).mean() > 1  # same identity, different motion


def test_same_seed_same_bytes_and_resume(tmp_path):
    config = SyntheticDatasetConfig(clips=2, frames=3, width=40, height=40, seed=9)
    write_synthetic_dataset(tmp_path / "a", config)
    write_synthetic_dataset(tmp_path / "b", config)
    frames = lambda root: [p.read_bytes() for p in sorted((root / "features").rglob("*.png"))]
    assert frames(tmp_path / "a") == frames(tmp_path / "b") and len(frames(tmp_path / "a")) == 6
    other = SyntheticDatasetConfig(clips=2, frames=3, width=40, height=40, seed=10)
    write_synthetic_dataset(tmp_path / "c", other)
    assert frames(tmp_path / "a") != frames(tmp_path / "c")
    # a lost sidecar makes its clip incomplete: the next run writes it again, the other is skipped
    sidecar = sidecar_path(tmp_path / "a", "train", "synthetic-s9-00001")
    sidecar.unlink()
    kept = sidecar_path(tmp_path / "a", "train", "synthetic-s9-00000").stat().st_mtime_ns
    write_synthetic_dataset(tmp_path / "a", config)
    assert sidecar.is_file()
    assert sidecar_path(tmp_path / "a", "train", "synthetic-s9-00000").stat().st_mtime_ns == kept


def test_config_errors():
    with pytest.raises(InputError, match="clips"):
        SyntheticDatasetConfig(clips=0, frames=3, width=40, height=40).check()
    with pytest.raises(InputError, match="out of range"):
        SyntheticDatasetConfig(clips=1, frames=3, width=8, height=40).check()
    with pytest.raises(InputError, match="out of range"):
        SyntheticDatasetConfig(clips=1, frames=3, width=100000, height=100000).check()
    with pytest.raises(InputError, match="identities"):
        SyntheticDatasetConfig(clips=1, frames=3, width=40, height=40, identities=0).check()


def test_cli_end_to_end(tmp_path):
    out = tmp_path / "synth"
    cmd = [sys.executable, "-m", "fpdm_video.data.synthetic", "--out", str(out), "--clips", "2", "--frames", "4"]
    result = subprocess.run([*cmd, "--size", "64", "--seed", "5"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    data = PhoenixDataset(out)
    samples = data.samples("train")
    assert len(samples) == 2
    assert all(data.load(s).frames.shape == (4, 64, 64, 3) for s in samples)
    assert all(read_pose(sidecar_path(out, "train", s.name)).num_frames == 4 for s in samples)


def test_cli_non_square_in_process(tmp_path):
    code = main(["--out", str(tmp_path), "--clips", "1", "--frames", "2", "--width", "42", "--height", "52", "--split", "test"])
    assert code == 0
    sample = PhoenixDataset(tmp_path).samples("test")[0]
    assert PhoenixDataset(tmp_path).load(sample).frames.shape == (2, 52, 42, 3)


@pytest.mark.parametrize(
    "extra",
    [
        ["--clips", "0", "--frames", "4"],
        ["--clips", "x", "--frames", "4"],
        ["--clips", "1", "--frames", "4", "--size", "4"],
        ["--clips", "1", "--frames", "4", "--width", "64"],
        ["--clips", "1", "--frames", "4", "--split", "val"],
        ["--clips", "1", "--frames", "4", "--seed", "-2"],
        ["--frames", "4"],
    ],
)
def test_cli_bad_arguments_exit_2_with_one_line(tmp_path, extra, capsys):
    with pytest.raises(SystemExit) as info:
        code = main(["--out", str(tmp_path / "x"), *extra])
        raise SystemExit(code)
    assert info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert "error" in err and len(err.splitlines()) == 1
    assert not (tmp_path / "x" / "features").exists()
