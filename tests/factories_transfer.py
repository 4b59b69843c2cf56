"""Test support for the transfer: a tiny checkpoint and generated example inputs, made once per session."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from fpdm_video.data.examples import ExampleInputs, make_example_inputs
from fpdm_video.models.checkpoint import save_model
from fpdm_video.video import read_video


@pytest.fixture(scope="session")
def tiny_checkpoint(tmp_path_factory) -> Path:
    """A tiny FPDM with random weights (it proves the plumbing, not the quality)."""
    torch.manual_seed(0)
    from fpdm_video.models.registry import build_model

    return save_model(build_model("tiny"), tmp_path_factory.mktemp("ckpt") / "tiny")


@pytest.fixture(scope="session")
def example_inputs(tmp_path_factory) -> ExampleInputs:
    """A generated 8-frame driving clip (64x64) with its .pose, and a reference signer photo."""
    return make_example_inputs(tmp_path_factory.mktemp("inputs"), frames=8, size=64, seed=0)


def decoded(path: Path) -> np.ndarray:
    return read_video(path).frames
