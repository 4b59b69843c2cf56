"""A transfer stopped by a signal, in a real process: SIGTERM cleans up and says so; what SIGKILL leaves, the next run removes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from fpdm_video.temp_names import parse_temp_name
from fpdm_video.transfer import main

from factories_paths import dead_pid, stale_file, tree_state
from factories_safety import workspace  # noqa: F401 (fixture)
from factories_transfer import example_inputs, tiny_checkpoint  # noqa: F401 (fixtures)

REPO = Path(__file__).resolve().parents[1]


class Transfer:
    """``python -m fpdm_video.transfer`` in a child process, its stderr read as it comes."""

    def __init__(self, ws, out: Path, steps: int) -> None:
        cmd = [sys.executable, "-m", "fpdm_video.transfer", str(ws.video), "--signer", str(ws.signer), "--poses", str(ws.poses),
               "--checkpoint", str(ws.checkpoint), "-o", str(out), "--steps", str(steps), "--batch-size", "2"]  # fmt: skip
        env = dict(os.environ, OMP_NUM_THREADS="1")
        self.proc = subprocess.Popen(cmd, cwd=REPO, env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
        self.err: list[str] = []
        self.reader = threading.Thread(target=lambda: self.err.extend(iter(self.proc.stderr.readline, "")), daemon=True)
        self.reader.start()

    def wait_for_sampling(self, timeout: float = 120) -> None:
        """Until the frame progress bar appears: the model is rendering frames."""
        deadline = time.monotonic() + timeout
        while not any("frames:" in line for line in self.err):
            assert self.proc.poll() is None, "".join(self.err)
            assert time.monotonic() < deadline, "sampling did not start:\n" + "".join(self.err)
            time.sleep(0.1)

    def finish(self, timeout: float = 60) -> tuple[int, list[str]]:
        code = self.proc.wait(timeout=timeout)
        self.reader.join(timeout=10)
        return code, [line.rstrip("\n") for line in self.err]


def temporaries(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if parse_temp_name(p.name) is not None)


@pytest.mark.slow
@pytest.mark.parametrize(("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGHUP, 129)])
def test_a_signal_during_sampling_cleans_up(workspace, signum, code):  # noqa: F811
    out_dir = workspace.root / "new" / "out"  # folders the run makes, and must take back
    before = workspace.snapshot()
    run = Transfer(workspace, out_dir / "out.mp4", steps=999)
    run.wait_for_sampling()
    assert temporaries(out_dir)  # the run is writing under temporary names
    run.proc.send_signal(signum)
    got, err = run.finish()
    assert got == code, "\n".join(err)
    errors = [line for line in err if line.startswith("error:")]
    assert errors == [f"error: interrupted ({signal.Signals(signum).name})"] and err[-1] == errors[0]
    assert not any("Traceback" in line for line in err)
    assert workspace.snapshot() == before  # inputs untouched, no output, no temporary file, no new folder


@pytest.mark.slow
def test_what_a_killed_run_leaves_the_next_run_removes(workspace, capsys):  # noqa: F811
    out_dir = workspace.root / "out"
    out_dir.mkdir()
    run = Transfer(workspace, out_dir / "out.mp4", steps=999)
    run.wait_for_sampling()
    run.proc.send_signal(signal.SIGKILL)
    run.finish()
    left = temporaries(out_dir)
    assert left and all(parse_temp_name(n).pid == run.proc.pid for n in left)  # SIGKILL cannot be cleaned up after
    assert not (out_dir / "out.mp4").exists() and not (out_dir / "out.json").exists()
    code = main([str(workspace.video), "--signer", str(workspace.signer), "--poses", str(workspace.poses), "--checkpoint",
                 str(workspace.checkpoint), "-o", str(out_dir / "other.mp4"), "--steps", "1", "--quiet"])  # fmt: skip
    assert code == 0
    assert sorted(p.name for p in out_dir.iterdir()) == ["other.json", "other.mp4"]


def test_a_run_removes_stale_temporaries_of_dead_processes_only(workspace):  # noqa: F811
    out_dir = workspace.root / "out"
    out_dir.mkdir()
    stale = stale_file(out_dir, "out.mp4", dead_pid(), b"half a video of a dead run")
    live = stale_file(out_dir, "out.mp4", os.getpid(), b"being written")  # a run of a live process, still writing
    inputs = {k: v for k, v in tree_state(workspace.root).items() if not k.startswith("out")}
    code = main([str(workspace.video), "--signer", str(workspace.signer), "--poses", str(workspace.poses), "--checkpoint",
                 str(workspace.checkpoint), "-o", str(out_dir / "out.mp4"), "--steps", "1", "--quiet"])  # fmt: skip
    assert code == 0
    assert not stale.exists() and (live / "out.mp4").read_bytes() == b"being written"
    assert sorted(p.name for p in out_dir.iterdir()) == sorted(["out.mp4", "out.json", live.name])
    assert {k: v for k, v in tree_state(workspace.root).items() if not k.startswith("out")} == inputs
