"""A real round trip: prefect server on 127.0.0.1, python -m flows.serve, prefect deployment run ... --watch."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fpdm_video.video import probe

from factories_transfer import example_inputs, tiny_checkpoint  # noqa: F401 (fixtures)

PREFECT = Path(sys.executable).with_name("prefect")
REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(cmd: list[str], env: dict, log: Path) -> subprocess.Popen:
    return subprocess.Popen(cmd, env=env, cwd=REPO, stdout=open(log, "w"), stderr=subprocess.STDOUT, start_new_session=True)


def stop(proc: subprocess.Popen) -> None:
    """Stop a process we started, and its children, by its process group."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def wait_for(check, timeout: float, what: str, logs: list[Path]) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(1.0)
    tails = "\n".join(f"--- {p.name}\n{p.read_text()[-2000:]}" for p in logs if p.exists())
    raise AssertionError(f"{what} did not happen within {timeout} s\n{tails}")


@pytest.mark.slow
def test_server_serve_and_deployment_run(example_inputs, tiny_checkpoint, tmp_path):  # noqa: F811
    import httpx

    port = free_port()
    env = dict(os.environ, PREFECT_HOME=str(tmp_path / "home"), PREFECT_API_URL=f"http://127.0.0.1:{port}/api",
               PREFECT_SERVER_API_HOST="127.0.0.1", PREFECT_SERVER_API_PORT=str(port), FPDM_OUTPUT_ROOT=str(tmp_path / "out"),
               PREFECT_RESULTS_LOCAL_STORAGE_PATH=str(tmp_path / "results"), OMP_NUM_THREADS="1",
               PREFECT_SERVER_ANALYTICS_ENABLED="false", PREFECT_UI_ENABLED="false")  # fmt: skip
    logs = [tmp_path / "server.log", tmp_path / "serve.log"]
    server = start([str(PREFECT), "server", "start", "--host", "127.0.0.1", "--port", str(port)], env, logs[0])
    served = None
    try:
        def healthy() -> bool:
            try:
                return httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        wait_for(healthy, 120, "the server answering on 127.0.0.1", logs)
        served = start([sys.executable, "-m", "flows.serve"], env, logs[1])

        def registered() -> bool:
            r = httpx.post(f"http://127.0.0.1:{port}/api/deployments/filter", json={}, timeout=5)
            return {d["name"] for d in r.json()} >= {"default", "nightly"}

        wait_for(registered, 120, "flows.serve registering its deployments", logs)
        params = {"video": example_inputs.video, "signer": example_inputs.signer_image, "output": "rt/out.mp4",
                  "poses": example_inputs.poses, "checkpoint": tiny_checkpoint, "max_frames": 4, "steps": 1}  # fmt: skip
        cmd = [str(PREFECT), "deployment", "run", "transfer-video/default", "--watch"]
        for k, v in params.items():
            cmd += ["-p", f"{k}={v}"]
        done = subprocess.run(cmd, env=env, cwd=REPO, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:] + logs[1].read_text()[-3000:]
        out = tmp_path / "out" / "rt" / "out.mp4"
        assert probe(out).num_frames == 4
        assert out.with_suffix(".json").is_file()
    finally:
        if served is not None:
            stop(served)
        stop(server)
    assert server.poll() is not None and (served is None or served.poll() is not None)
