"""Training triples from a PHOENIX-layout dataset with pose sidecars."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from fpdm_video.data.synthetic_dataset import SyntheticDatasetConfig, write_synthetic_dataset
from fpdm_video.data.triples import PoseTripleDataset, TripleConfig, draw_pairs
from fpdm_video.errors import InputError


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    root = tmp_path_factory.mktemp("synth")
    write_synthetic_dataset(root, SyntheticDatasetConfig(clips=2, frames=5, width=48, height=64, seed=3))
    return root


def test_pairs_are_within_clips_distinct_and_seeded():
    pairs = draw_pairs([5, 1, 9], 2000, seed=0)
    assert pairs.shape == (2000, 3)
    assert set(np.unique(pairs[:, 0])) == {0, 2}  # the one-frame clip is never used
    limits = np.array([5, 1, 9])[pairs[:, 0]]
    assert (pairs[:, 1] < limits).all() and (pairs[:, 2] < limits).all()
    assert (pairs[:, 1] != pairs[:, 2]).all()
    np.testing.assert_array_equal(pairs, draw_pairs([5, 1, 9], 2000, seed=0))
    assert not np.array_equal(pairs, draw_pairs([5, 1, 9], 2000, seed=1))
    with pytest.raises(InputError, match="two frames"):
        draw_pairs([1, 1], 3, seed=0)


def test_items_are_letterboxed_triples_in_unit_range(root):
    data = PoseTripleDataset(TripleConfig(root=str(root), resolution=32, pairs=6, seed=1))
    assert len(data) == 6
    item = data[0]
    for key in ("source", "target", "target_pose", "source_pose"):
        assert item[key].shape == (3, 32, 32) and item[key].dtype == torch.float32
        assert 0.0 <= item[key].min() and item[key].max() <= 1.0
    clip, s, t = item["index"].tolist()
    assert s != t
    assert not torch.equal(item["source"], item["target"])  # the signer moved between the frames
    assert not torch.equal(item["source_pose"], item["target_pose"])
    assert item["target_pose"].sum() > 0  # the skeleton is drawn
    # 48x64 letterboxed: 8 source pixels of padding each side -> 4 canvas pixels at 32 px
    assert item["target_pose"][:, :, :3].sum() == 0


def test_pose_maps_are_drawn_in_the_models_style(root):
    from fpdm_video.config import PoseMapConfig, pose_map_of_style
    from fpdm_video.pose.render import render_pose_map, style_for

    styled = pose_map_of_style("wholebody133")
    data = PoseTripleDataset(TripleConfig(root=str(root), resolution=(48, 64), pairs=4, seed=1, pose_map=styled))
    plain = PoseTripleDataset(TripleConfig(root=str(root), resolution=(48, 64), pairs=4, seed=1, pose_map=PoseMapConfig()))
    item = data[0]
    clip, _, t = item["index"].tolist()
    expected = render_pose_map(data.poses[clip], t, (48, 64), style=style_for(styled))
    assert item["target_pose"].shape == (3, 64, 48) and np.array_equal(item["target_pose"].numpy(), expected)
    assert not torch.equal(item["target_pose"], plain[0]["target_pose"])


def test_missing_sidecar_says_how_to_make_it(root, tmp_path):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(root, copy)
    shutil.rmtree(copy / "poses")
    with pytest.raises(InputError, match="ensure_pose_sidecars"):
        PoseTripleDataset(TripleConfig(root=str(copy), pairs=2))


def test_pose_sidecars_are_extracted_once_for_real_frames(real_data, tmp_path):
    from fpdm_video.data.triples import ensure_pose_sidecars
    from fpdm_video.video import PhoenixWriter, read_video

    frames = read_video(real_data / "test_video.mp4", 0, 3).frames
    PhoenixWriter(tmp_path, "dev").add_clip("real-0", frames, speaker="signer-1", orth="X", translation="x")
    written = ensure_pose_sidecars(tmp_path, "dev", progress=False)
    assert [p.name for p in written] == ["real-0.pose"]
    assert ensure_pose_sidecars(tmp_path, "dev", progress=False) == []  # cached
    data = PoseTripleDataset(TripleConfig(root=str(tmp_path), split="dev", resolution=32, pairs=2))
    assert data[0]["target_pose"].sum() > 0


def test_the_poses_command_extracts_the_sidecars_of_the_config_s_own_roots(root, tmp_path, capsys):
    """`python -m fpdm_video.train poses --config` reads data.root/split and eval_root/eval_split from the config
    (so the roots cannot disagree with what the stages read), writes what is missing and keeps what is there."""
    import shutil

    from fpdm_video.train.__main__ import main

    copy = tmp_path / "copy"
    shutil.copytree(root, copy)
    kept = sorted((copy / "poses" / "train").iterdir())[0]
    for path in (copy / "poses" / "train").iterdir():
        if path != kept:
            path.unlink()
    kept_bytes = kept.read_bytes()
    config = tmp_path / "train.yaml"
    config.write_text(f"model: tiny\nrun_dir: {tmp_path / 'runs'}\ndata:\n  root: {copy}\n  split: train\n")
    assert main(["poses", "--config", str(config), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert f"{copy} train: 1 pose sidecar(s) written" in out
    assert sorted(p.name for p in (copy / "poses" / "train").iterdir()) == sorted(p.name for p in (root / "poses" / "train").iterdir())
    assert kept.read_bytes() == kept_bytes
    assert len(PoseTripleDataset(TripleConfig(root=str(copy), resolution=32, pairs=2))) == 2
    config.write_text(f"model: tiny\nrun_dir: {tmp_path / 'runs'}\ndata:\n  root: {tmp_path / 'absent'}\n")
    assert main(["poses", "--config", str(config), "--quiet"]) == 2
    assert capsys.readouterr().err.startswith("error: ")
