"""Test support for the data-safety cases: a private copy of every input, and a run that must be refused cleanly."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from factories_paths import tree_state


@dataclass
class Workspace:
    """Copies of the example inputs and the tiny checkpoint inside one folder, so one snapshot covers them all."""

    root: Path
    video: Path
    poses: Path
    signer: Path
    checkpoint: Path

    def snapshot(self) -> dict[str, str]:
        return tree_state(self.root)


@pytest.fixture
def workspace(example_inputs, tiny_checkpoint, tmp_path) -> Workspace:
    root = tmp_path / "ws"
    (root / "in").mkdir(parents=True)
    copies = [Path(shutil.copy2(p, root / "in" / p.name)) for p in (example_inputs.video, example_inputs.poses, example_inputs.signer_image)]
    checkpoint = Path(shutil.copytree(tiny_checkpoint, root / "ckpt"))
    return Workspace(root, *copies, checkpoint)


def assert_refused(code: int, err: str, message: str, before: dict[str, str], after: dict[str, str]) -> None:
    """Exit code 2, one line ``error: ...`` holding ``message``, and the folder exactly as it was (inputs
    byte-identical, nothing under an output or a temporary name)."""
    lines = err.strip().splitlines()
    assert code == 2, err
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], err
    assert "Traceback" not in err
    assert after == before
