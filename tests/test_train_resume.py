"""Resuming from a checkpoint continues the loss curve exactly (same device, same config)."""

from __future__ import annotations

import pytest

from fpdm_video.file_lock import file_lock
from fpdm_video.train.__main__ import main as train_main
from fpdm_video.train.csv_log import read_log
from fpdm_video.train.loop import LOCK_NAME, train

from factories_train import TINY_YAML, tiny_config, tiny_dataset  # noqa: F401 (fixture)


@pytest.mark.parametrize("stage", ["fusion", "diffusion"])
def test_resumed_run_logs_the_same_losses(tiny_dataset, tmp_path, stage):  # noqa: F811
    # 8 steps over 16 pairs in batches of 4: the pause at step 3 falls mid-epoch, and grad_accum 2
    # makes each step two micro-batches; dropout (fusion) and noise, timesteps, condition dropout
    # (diffusion) all draw random numbers.
    extra = ("steps=8", "data.pairs=16", "grad_accum=2", "checkpoint_every=3", "ema_decay=0.9")
    straight = tiny_config(stage, tiny_dataset, tmp_path / "straight", *extra)
    train(straight, progress=False)
    paused = tiny_config(stage, tiny_dataset, tmp_path / "paused", *extra)
    train(paused, progress=False, stop_after=3)
    assert [r["step"] for r in read_log(tmp_path / "paused" / stage / "log.csv")] == [1, 2, 3]
    assert not (tmp_path / "paused" / stage / "model").exists()  # no final model for a paused run
    train(paused, progress=False)  # resumes at step 3
    a = read_log(tmp_path / "straight" / stage / "log.csv")
    b = read_log(tmp_path / "paused" / stage / "log.csv")
    assert [r["step"] for r in b] == list(range(1, 9))
    assert [r["loss"] for r in a] == [r["loss"] for r in b]
    assert [r["lr"] for r in a] == [r["lr"] for r in b]


def test_restart_ignores_the_saved_state(tiny_dataset, tmp_path):  # noqa: F811
    config = tiny_config("vae", tiny_dataset, tmp_path, "steps=2", "checkpoint_every=1")
    train(config, progress=False)
    first = read_log(tmp_path / "vae" / "log.csv")
    train(config, progress=False, resume=False)
    assert read_log(tmp_path / "vae" / "log.csv") == [dict(r, seconds=s["seconds"]) for r, s in zip(first, read_log(tmp_path / "vae" / "log.csv"), strict=True)]


def test_a_second_run_into_a_stage_folder_in_use_is_refused_in_one_line(tiny_dataset, tmp_path, capsys):  # noqa: F811
    """The lock is flock's, which conflicts between two open files whether they are in one process or in two."""
    config = tiny_config("vae", tiny_dataset, tmp_path, "steps=2", "checkpoint_every=1")
    train(config, progress=False, stop_after=1)  # a paused run: its state and log are there to be kept
    stage_dir = tmp_path / "vae"
    before = {p: p.read_bytes() for p in stage_dir.rglob("*") if p.is_file()}
    command = ["vae", "--config", str(TINY_YAML), "--quiet", "-o", str(tmp_path), "--set", f"data.root={tiny_dataset}",
               "--set", "init=null", "--set", "steps=2", "--set", "checkpoint_every=1"]  # fmt: skip
    with file_lock(stage_dir / LOCK_NAME) as held:  # the other run, writing the folder
        assert held
        assert train_main(command) == 2
        assert train_main([*command, "--restart"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"error: another training run is writing into {stage_dir} (it holds {stage_dir / LOCK_NAME}); wait for it to "
                   "end, or give this run another run folder (-o / run_dir)"] * 2  # fmt: skip
    assert {p: p.read_bytes() for p in stage_dir.rglob("*") if p.is_file()} == before  # nothing written, nothing lost
    assert train_main(command) == 0  # once the other run has ended, it resumes
    assert [r["step"] for r in read_log(stage_dir / "log.csv")] == [1, 2]
