"""A real round trip: prefect server on 127.0.0.1, python -m flows.serve, prefect deployment run ... --watch."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from flows.services import free_port, server_healthy, start_process, stop_process, wait_until
from fpdm_video.video import probe

from factories_transfer import example_inputs, tiny_checkpoint  # noqa: F401 (fixtures)

PREFECT = Path(sys.executable).with_name("prefect")
REPO = Path(__file__).resolve().parents[1]


def wait_for(check, timeout: float, what: str, logs: list[Path]) -> None:
    try:
        wait_until(check, timeout, what)
    except TimeoutError as exc:
        tails = "\n".join(f"--- {p.name}\n{p.read_text()[-2000:]}" for p in logs if p.exists())
        raise AssertionError(f"{exc}\n{tails}") from None


@pytest.mark.slow
def test_server_serve_and_deployment_run(example_inputs, tiny_checkpoint, tmp_path):  # noqa: F811
    import httpx

    port = free_port()
    env = dict(os.environ, PREFECT_HOME=str(tmp_path / "home"), PREFECT_API_URL=f"http://127.0.0.1:{port}/api",
               PREFECT_SERVER_API_HOST="127.0.0.1", PREFECT_SERVER_API_PORT=str(port), FPDM_OUTPUT_ROOT=str(tmp_path / "out"),
               PREFECT_RESULTS_LOCAL_STORAGE_PATH=str(tmp_path / "results"), OMP_NUM_THREADS="1",
               PREFECT_SERVER_ANALYTICS_ENABLED="false", PREFECT_UI_ENABLED="false")  # fmt: skip
    logs = [tmp_path / "server.log", tmp_path / "serve.log"]
    server = start_process([str(PREFECT), "server", "start", "--host", "127.0.0.1", "--port", str(port)], env, logs[0], REPO)
    served = None
    try:
        wait_for(lambda: server_healthy(port), 120, "the server answering on 127.0.0.1", logs)
        served = start_process([sys.executable, "-m", "flows.serve"], env, logs[1], REPO)

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
            stop_process(served)
        stop_process(server)
    assert server.poll() is not None and (served is None or served.poll() is not None)
