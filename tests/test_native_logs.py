"""--quiet's filter of fd 2: MediaPipe's known chatter dropped, every other byte passed, nothing lost when the run dies."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fpdm_video.native_logs import KNOWN_NOISE

NOISE = [  # as MediaPipe 0.10.21 and TF Lite write them, straight to fd 2
    b"INFO: Created TensorFlow Lite XNNPACK delegate for CPU.\n",
    b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n",
    b"W0000 00:00:1796672097.973142   31021 inference_feedback_manager.cc:114] Feedback manager requires a model with a "
    b"single signature inference. Disabling support for feedback tensors.\n",
    b"W0000 00:00:1796672098.067030   31020 landmark_projection_calculator.cc:186] Using NORM_RECT without IMAGE_DIMENSIONS "
    b"is only supported for the square ROI. Provide IMAGE_DIMENSIONS or use PROJECTION_MATRIX.\n",
    b"I0000 00:00:1752489631.572373  129295 gl_context_egl.cc:85] Successfully initialized EGL. Major : 1 Minor: 5\n",
]
KEPT = [  # what must reach the user
    b"E0000 00:00:1796672098.067030   31020 calculator_graph.cc:887] INTERNAL: a real MediaPipe error\n",
    b"W0000 00:00:1796672098.067030   31020 some_other_calculator.cc:12] an unknown warning\n",
    b"WARNING fpdm_video.pose.retarget: retarget: forearm: foreshortened\n",
    b"error: interrupted (SIGTERM)\n",
]


def run_script(body: str, **kwargs) -> subprocess.CompletedProcess:
    """Run ``body`` in a fresh Python with the filter imported; its stderr is a pipe, read to the end (the filter's too)."""
    code = "import os, signal, sys, time\nfrom fpdm_video.native_logs import quiet_native_logs\n" + body
    return subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=60, **kwargs)


def writes(lines: list[bytes]) -> str:
    return "".join(f"    os.write(2, {line!r})\n" for line in lines)


def test_known_noise_is_dropped_and_every_other_line_passes_in_order():
    mixed = [NOISE[0], KEPT[0], NOISE[1], NOISE[2], KEPT[1], NOISE[3], KEPT[2], NOISE[4], KEPT[3]]
    done = run_script("with quiet_native_logs():\n" + writes(mixed) + "    print('python stderr', file=sys.stderr)\n"
                      "os.write(2, b'after the block\\n')\n")  # fmt: skip
    assert done.returncode == 0
    assert done.stderr == b"".join(KEPT) + b"python stderr\nafter the block\n"
    assert all(re.match(KNOWN_NOISE, line) for line in NOISE) and not any(re.match(KNOWN_NOISE, line) for line in KEPT)


def test_when_not_enabled_nothing_is_dropped():
    done = run_script("with quiet_native_logs(False):\n" + writes(NOISE))
    assert done.stderr == b"".join(NOISE)


def test_what_a_killed_run_wrote_still_arrives():
    """SIGKILL inside the block: the filter process outlives it and passes what was written, a last partial line too."""
    done = run_script("with quiet_native_logs():\n" + writes([NOISE[2], KEPT[0], b"last words, no newline"])
                      + "    os.kill(os.getpid(), signal.SIGKILL)\n")  # fmt: skip
    assert done.returncode == -9
    assert done.stderr == KEPT[0] + b"last words, no newline"


@pytest.mark.parametrize("partial", [b"\rframes:  50%|#####     | 2/4", b"no carriage return yet"])
def test_a_progress_line_passes_at_once_and_a_plain_partial_line_waits_for_its_end(tmp_path, partial):
    err = tmp_path / "stderr"
    go = tmp_path / "go"
    body = ("with quiet_native_logs():\n" + writes([partial])
            + f"    while not os.path.exists({str(go)!r}):\n        time.sleep(0.02)\n    os.write(2, b' done\\n')\n")  # fmt: skip
    code = "import os, time\nfrom fpdm_video.native_logs import quiet_native_logs\n" + body
    with open(err, "wb") as stderr:
        proc = subprocess.Popen([sys.executable, "-c", code], stderr=stderr)
        try:
            deadline = time.monotonic() + 20
            while err.read_bytes() != partial and time.monotonic() < deadline and b"\r" in partial:
                time.sleep(0.02)
            time.sleep(0.3 if b"\r" not in partial else 0)  # a held line would have arrived by now if it were not held
            seen = err.read_bytes()
        finally:
            go.touch()
            proc.wait(timeout=60)
    assert seen == (partial if b"\r" in partial else b"")
    assert err.read_bytes() == partial + b" done\n"


def test_a_process_without_fd_2_runs_unfiltered():
    done = run_script("os.close(2)\nwith quiet_native_logs():\n    print('ran', flush=True)\n")
    assert done.returncode == 0 and done.stdout == b"ran\n"
