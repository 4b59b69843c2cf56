"""Shared test set-up: pinned torch threads, the shared real-data folder, fake-data factories."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("OMP_NUM_THREADS", "2")

try:  # torch is a dependency, but keep conftest importable for the I/O tests alone
    import torch

    torch.set_num_threads(int(os.environ.get("FPDM_TEST_THREADS", "2")))
except ImportError:  # pragma: no cover
    pass

REPO_ROOT = Path(__file__).resolve().parents[1]


def shared_data_dir() -> Path:
    """The real test data folder: $FPDM_SHARED_DATA, else ../shared/data beside the repo."""
    env = os.environ.get("FPDM_SHARED_DATA")
    return Path(env) if env else REPO_ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def real_data() -> Path:
    """Path of ``shared/data/real``; skips the test when the folder is absent (a user's clone)."""
    real = shared_data_dir() / "real"
    if not real.is_dir():
        pytest.skip(f"real test data not found at {real} (set FPDM_SHARED_DATA to the shared data folder)")
    return real
