"""Resuming from a checkpoint continues the loss curve exactly (same device, same config)."""

from __future__ import annotations

import pytest

from fpdm_video.train.csv_log import read_log
from fpdm_video.train.loop import train

from factories_train import tiny_config, tiny_dataset  # noqa: F401 (fixture)


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
