"""Test support for the flows: one Prefect test harness per session, and a small source dataset."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from fpdm_video.data.synthetic_dataset import SyntheticDatasetConfig, write_synthetic_dataset


@pytest.fixture(scope="session")
def prefect_env(tmp_path_factory):
    """prefect_test_harness (a temporary server and database) with results stored in a temporary folder."""
    from prefect.testing.utilities import prefect_test_harness

    results = tmp_path_factory.mktemp("prefect-results")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PREFECT_RESULTS_LOCAL_STORAGE_PATH", str(results))
        with prefect_test_harness(server_startup_timeout=120):
            yield


@pytest.fixture(scope="session")
def source_dataset(tmp_path_factory) -> Path:
    """3 synthetic clips of 3 frames (48x64) in the PHOENIX layout with pose sidecars, split train."""
    root = tmp_path_factory.mktemp("source")
    write_synthetic_dataset(root, SyntheticDatasetConfig(clips=3, frames=3, width=48, height=64, seed=5))
    return root


@pytest.fixture(scope="session")
def signer_photos(tmp_path_factory) -> list[Path]:
    """Two reference photos of synthetic signers (MediaPipe finds their bodies)."""
    from fpdm_video.data.synthetic_dataset import render_reference
    from fpdm_video.data.synthetic_identity import sample_identity

    folder = tmp_path_factory.mktemp("signers")
    paths = []
    for k, name in enumerate(("anna", "ben")):
        path = folder / f"{name}.png"
        Image.fromarray(np.ascontiguousarray(render_reference(sample_identity(900 + k), (192, 256)))).save(path)
        paths.append(path)
    return paths
