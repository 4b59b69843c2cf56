"""The benchmarks check where they write before any work, as every command does: a result path that is one of
their inputs (by path, '..', symlink or hard link) or cannot be written is refused in one line, exit 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from factories_paths import ALIASES, alias
from factories_safety import assert_refused, workspace  # noqa: F401 (fixture)
from factories_transfer import example_inputs, tiny_checkpoint  # noqa: F401 (fixtures)

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def _bench(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(BENCHMARKS / argv[0]), *argv[1:]], capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("kind", ALIASES)
def test_a_result_over_the_benchmarks_input_is_refused(workspace, kind):  # noqa: F811
    out = alias(kind, workspace.poses, workspace.root)
    before = workspace.snapshot()  # the alias (a link) is part of the set-up
    done = _bench("bench_pose_render.py", "--pose", str(workspace.poses), "--out", str(out))
    assert_refused(done.returncode, done.stderr, f"--out {out} is the input --pose", before, workspace.snapshot())


def test_a_result_where_nothing_can_be_written_is_refused(workspace):  # noqa: F811
    before = workspace.snapshot()
    done = _bench("bench_speed.py", "--checkpoint", str(workspace.checkpoint), "--out", "/proc/speed.json")
    assert_refused(done.returncode, done.stderr, "cannot write --out /proc/speed.json", before, workspace.snapshot())
