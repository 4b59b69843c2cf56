"""Test support for the trainers: a tiny synthetic dataset and tiny-stage configs in a temporary folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from fpdm_video.data.synthetic_dataset import SyntheticDatasetConfig, write_synthetic_dataset
from fpdm_video.train.config import TrainConfig, load_train_config

REPO = Path(__file__).resolve().parents[1]
TINY_YAML = REPO / "configs" / "train" / "tiny.yaml"


@pytest.fixture(scope="session")
def tiny_dataset(tmp_path_factory) -> Path:
    """4 synthetic clips of 8 frames at 32x32, with pose sidecars."""
    root = tmp_path_factory.mktemp("tiny-signers")
    write_synthetic_dataset(root, SyntheticDatasetConfig(clips=4, frames=8, width=32, height=32, seed=0))
    return root


def tiny_config(stage: str, data_root: Path, run_dir: Path, *extra: str) -> TrainConfig:
    """The tiny.yaml config of ``stage`` pointed at ``data_root`` and ``run_dir`` (``extra``: more overrides)."""
    overrides = [f"data.root={data_root}", f"run_dir={run_dir}", "init=null", *extra]
    return load_train_config(TINY_YAML, stage, overrides)
