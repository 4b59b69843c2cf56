"""``--quiet`` for what native libraries write straight to file descriptor 2: MediaPipe's known chatter held back.

MediaPipe 0.10.21's C++ graphs (through absl and TF Lite) write a dozen lines to fd 2 whenever a
holistic graph opens, before any Python code could set a level: no environment variable silences
them here (``GLOG_minloglevel``, ``TF_CPP_MIN_LOG_LEVEL`` and ``ABSL_MIN_LOG_LEVEL`` were tried),
so the only place to drop them is the file descriptor itself. :func:`quiet_native_logs` points fd 2
at a pipe for the ``with`` block. A child process reads that pipe, drops the lines
:data:`KNOWN_NOISE` matches (absl's info lines, and MediaPipe's and TF Lite's warnings that say
nothing about the run) and writes every other byte to the real stderr at once: errors,
tracebacks, this project's warnings, a progress line's carriage returns.

A child process, not a thread, because a thread dies with the process: when this process is killed
or crashes, the child still reads the pipe to its end, so nothing written before (a fatal error's
traceback included) is lost. It runs in its own session, so Ctrl-C at the terminal reaches this
process only and the child stays to pass on its ``error: interrupted`` line.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator

KNOWN_NOISE = (
    rb"I\d{4} [\d:.]+ +\d+ [\w.]+:\d+\] "  # absl's info lines (EGL, GL version, task runner)
    rb"|W\d{4} [\d:.]+ +\d+ inference_feedback_manager\.cc:\d+\] Feedback manager requires a model with a single signature"
    rb"|W\d{4} [\d:.]+ +\d+ landmark_projection_calculator\.cc:\d+\] Using NORM_RECT without IMAGE_DIMENSIONS"
    rb"|WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR"
    rb"|INFO: Created TensorFlow Lite XNNPACK delegate for CPU"
)

# The child: complete lines are dropped or passed; a partial line is passed at once when it holds a
# carriage return (a progress line redrawing itself), else held until its end or the pipe's.
FILTER = r"""
import os, re, sys
drop = re.compile(sys.argv[1].encode())
held = b""
while True:
    chunk = os.read(0, 65536)
    if not chunk:
        break
    *lines, held = (held + chunk).split(b"\n")
    out = b"".join(line + b"\n" for line in lines if not drop.match(line))
    if b"\r" in held:
        out, held = out + held, b""
    if out:
        os.write(1, out)
if held and not drop.match(held):
    os.write(1, held)
"""


@contextlib.contextmanager
def quiet_native_logs(enabled: bool = True) -> Iterator[None]:
    """Within the block, drop :data:`KNOWN_NOISE` lines from fd 2 (a no-op when not ``enabled``); see the module docstring."""
    if not enabled:
        yield
        return
    _flush_stderr()
    try:
        real = os.dup(2)
    except OSError:  # no fd 2 to filter (a process started without one)
        yield
        return
    read, write = os.pipe()
    try:
        child = subprocess.Popen([sys.executable, "-I", "-S", "-c", FILTER, KNOWN_NOISE.decode()], stdin=read, stdout=real,
                                 stderr=real, start_new_session=True)  # fmt: skip
    except OSError:  # no process to spare: the chatter stays, the run goes on
        for fd in (read, write, real):
            os.close(fd)
        yield
        return
    os.close(read)
    os.dup2(write, 2)
    os.close(write)
    try:
        yield
    finally:
        _flush_stderr()
        os.dup2(real, 2)  # closes this process's last write end of the pipe: the child reads to its end and exits
        os.close(real)
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:  # a process started inside the block still holds the pipe open
            child.kill()


def _flush_stderr() -> None:
    """Flush Python's stderr, so that what it holds goes where fd 2 pointed when it was written (there may be none)."""
    if sys.stderr is not None:
        with contextlib.suppress(OSError, ValueError):
            sys.stderr.flush()
