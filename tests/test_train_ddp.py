"""Two-process DDP on CPU (gloo), launched with torchrun as users launch it on GPUs."""

from __future__ import annotations

import os
import subprocess
import sys

import torch

from fpdm_video.models.checkpoint import load_model
from fpdm_video.train.csv_log import read_log

from factories_train import TINY_YAML, tiny_dataset  # noqa: F401 (fixture)


def test_torchrun_two_processes_gloo(tiny_dataset, tmp_path):  # noqa: F811
    run = tmp_path / "run"
    command = [
        sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
        "-m", "fpdm_video.train", "diffusion", "--config", str(TINY_YAML), "--quiet",
        "--set", f"data.root={tiny_dataset}", "--set", f"run_dir={run}", "--set", "init=null",
        "--set", "steps=3", "--set", "batch_size=2", "--set", "data.pairs=16", "--set", "checkpoint_every=2",
    ]  # fmt: skip
    env = dict(os.environ, OMP_NUM_THREADS="1")
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    rows = read_log(run / "diffusion" / "log.csv")
    assert [r["step"] for r in rows] == [1, 2, 3]  # written once (by rank 0), not once per process
    assert all(torch.isfinite(torch.tensor(r["loss"])) for r in rows)
    model = load_model(run / "diffusion" / "model")
    assert model.config.name == "tiny"
