"""Checkpoints by Hugging Face hub name (owner/name), found offline in a cache folder that the test fills."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from factories_transfer import example_inputs, tiny_checkpoint  # noqa: F401 (fixtures)

REPO = Path(__file__).resolve().parents[1]
COMMIT = "0123456789abcdef0123456789abcdef01234567"


def fill_cache(cache: Path, repo_id: str, checkpoint: Path) -> Path:
    """The hub cache's layout for one model repository: a snapshot named by its commit, and refs/main naming it."""
    owner, name = repo_id.split("/")
    root = cache / f"models--{owner}--{name}"
    snapshot = root / "snapshots" / COMMIT
    snapshot.mkdir(parents=True)
    for f in ("config.yaml", "model.safetensors"):
        shutil.copy2(checkpoint / f, snapshot / f)
    (root / "refs").mkdir()
    (root / "refs" / "main").write_text(COMMIT)
    return snapshot


def transfer(args: list[str], cache: Path):
    env = dict(os.environ, HF_HUB_CACHE=str(cache), HF_HUB_OFFLINE="1", OMP_NUM_THREADS="1")
    return subprocess.run([sys.executable, "-m", "fpdm_video.transfer", *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=300)


def test_a_checkpoint_by_hub_name_from_the_cache(example_inputs, tiny_checkpoint, tmp_path):  # noqa: F811
    snapshot = fill_cache(tmp_path / "cache", "tester/fpdm-tiny", tiny_checkpoint)
    out = tmp_path / "out.mp4"
    done = transfer([str(example_inputs.poses), "--signer", str(example_inputs.signer_image), "--checkpoint", "tester/fpdm-tiny",
                     "-o", str(out), "--max-frames", "2", "--steps", "1", "--quiet"], tmp_path / "cache")  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    record = json.loads(out.with_suffix(".json").read_text())
    assert Path(record["checkpoint"]["path"]) == snapshot and record["checkpoint"]["name"] == "tiny"
    missing = transfer([str(example_inputs.poses), "--signer", str(example_inputs.signer_image), "--checkpoint", "tester/not-there",
                        "-o", str(tmp_path / "o2.mp4"), "--steps", "1", "--quiet"], tmp_path / "cache")  # fmt: skip
    assert missing.returncode == 2
    assert "error: checkpoint tester/not-there is neither a folder nor a model found on the Hugging Face hub" in missing.stderr
    assert not (tmp_path / "o2.mp4").exists()
