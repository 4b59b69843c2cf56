"""A real round trip: prefect server on 127.0.0.1, python -m flows.serve, prefect deployment run ... --watch."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from flows.services import free_port, server_healthy, start_process, stop_process, wait_until
from flows.zombies import AUTOMATION_NAME
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


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """A Prefect server on 127.0.0.1 and ``python -m flows.serve`` against it (zombie runs Crashed after 60 s)."""
    import httpx

    tmp_path = tmp_path_factory.mktemp("served")
    port = free_port()
    env = dict(os.environ, PREFECT_HOME=str(tmp_path / "home"), PREFECT_API_URL=f"http://127.0.0.1:{port}/api",
               PREFECT_SERVER_API_HOST="127.0.0.1", PREFECT_SERVER_API_PORT=str(port), FPDM_OUTPUT_ROOT=str(tmp_path / "out"),
               PREFECT_RESULTS_LOCAL_STORAGE_PATH=str(tmp_path / "results"), OMP_NUM_THREADS="1",
               PREFECT_UI_ENABLED="false")  # fmt: skip
    for name in ("PREFECT_SERVER_ANALYTICS_ENABLED", "PREFECT_CLIENT_CSRF_SUPPORT_ENABLED", "PREFECT_SERVER_API_CSRF_PROTECTION_ENABLED"):
        env.pop(name, None)  # the project's prefect.toml (read from the repository root, the processes' cwd) sets these
    logs = [tmp_path / "server.log", tmp_path / "serve.log"]
    server = start_process([str(PREFECT), "server", "start", "--host", "127.0.0.1", "--port", str(port)], env, logs[0], REPO)
    serving = None
    try:
        wait_for(lambda: server_healthy(port), 120, "the server answering on 127.0.0.1", logs)
        serving = start_process([sys.executable, "-m", "flows.serve", "--zombie-after", "60"], env, logs[1], REPO)

        def registered() -> bool:
            r = httpx.post(f"http://127.0.0.1:{port}/api/deployments/filter", json={}, timeout=5)
            return {d["name"] for d in r.json()} >= {"default", "nightly"}

        wait_for(registered, 120, "flows.serve registering its deployments", logs)
        yield Served(port, env, tmp_path, logs, lambda: serving)
    finally:
        if serving is not None:
            stop_process(serving)
        stop_process(server)
    assert server.poll() is not None and (serving is None or serving.poll() is not None)


class Served:
    def __init__(self, port, env, root, logs, process) -> None:
        self.port, self.env, self.root, self.logs, self.process = port, env, root, logs, process

    def api(self, path: str, body: dict | None = None):
        import httpx

        return httpx.post(f"http://127.0.0.1:{self.port}/api/{path}", json=body or {}, timeout=10).json()


@pytest.mark.slow
def test_server_serve_and_deployment_run(served, example_inputs, tiny_checkpoint):  # noqa: F811
    params = {"video": example_inputs.video, "signer": example_inputs.signer_image, "output": "rt/out.mp4",
              "poses": example_inputs.poses, "checkpoint": tiny_checkpoint, "max_frames": 4, "sampling": '{"steps": 1}'}  # fmt: skip
    cmd = [str(PREFECT), "deployment", "run", "transfer-video/default", "--watch"]
    for k, v in params.items():
        cmd += ["-p", f"{k}={v}"]
    done = subprocess.run(cmd, env=served.env, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:] + served.logs[1].read_text()[-3000:]
    out = served.root / "out" / "rt" / "out.mp4"
    assert probe(out).num_frames == 4
    record = json.loads(out.with_suffix(".json").read_text())
    assert record["runner"] == "flow transfer-video"
    assert record["request"]["sampling"]["steps"] == record["settings"]["sampling"]["steps"] == 1  # the run's sampling parameter


@pytest.mark.slow
def test_the_server_and_serve_say_nothing_of_polls_csrf_or_telemetry(served):
    """After a run (the test above) and some polls: no httpx request lines, no 422 of a CSRF token request, no telemetry error."""
    wait_until(lambda: served.logs[1].read_text().count("serving") >= 1, 30, "flows.serve's start line")
    serve, server = served.logs[1].read_text(), served.logs[0].read_text()
    assert "serving transfer-video/default, augment-dataset/nightly, augment-clip/default" in serve
    # 422 as a status, not inside a number (MediaPipe's log lines carry timestamps such as 1796622373.422257)
    assert "HTTP Request" not in serve and "csrf" not in serve.lower() and not re.search(r"\b422\b", serve), serve[-3000:]
    assert "telemetry" not in server.lower() and "ERROR" not in server, server[-3000:]


@pytest.mark.slow
def test_a_run_whose_process_was_killed_is_marked_crashed(served, example_inputs, tiny_checkpoint):  # noqa: F811
    automations = served.api("automations/filter")
    zombie = [a for a in automations if a["name"] == AUTOMATION_NAME]
    assert len(zombie) == 1 and zombie[0]["trigger"]["posture"] == "Proactive" and zombie[0]["trigger"]["within"] == 60
    assert zombie[0]["actions"][0]["type"] == "change-flow-run-state" and zombie[0]["actions"][0]["state"] == "CRASHED"
    params = {"video": example_inputs.video, "signer": example_inputs.signer_image, "output": "zombie/out.mp4",
              "poses": example_inputs.poses, "checkpoint": tiny_checkpoint, "sampling": '{"steps": 999}'}  # fmt: skip
    cmd = [str(PREFECT), "deployment", "run", "transfer-video/default"] + [a for k, v in params.items() for a in ("-p", f"{k}={v}")]
    subprocess.run(cmd, env=served.env, cwd=REPO, capture_output=True, text=True, timeout=120, check=True)

    def runs_in(state: str) -> list[dict]:
        return [r for r in served.api("flow_runs/filter") if r["state_type"] == state and r["parameters"].get("output") == "zombie/out.mp4"]

    wait_for(lambda: runs_in("RUNNING"), 120, "the run starting", served.logs)
    run_id = runs_in("RUNNING")[0]["id"]

    def heartbeats() -> int:  # the automation starts watching a run at its first heartbeat the server has stored
        body = {"filter": {"event": {"name": ["prefect.flow-run.heartbeat"]}, "resource": {"id": [f"prefect.flow-run.{run_id}"]}}}
        return served.api("events/filter", body).get("total", 0)

    wait_for(heartbeats, 120, "the run's first heartbeat reaching the server", served.logs)
    os.killpg(served.process().pid, signal.SIGKILL)  # flows.serve and the run's process die without a word
    wait_for(lambda: runs_in("CRASHED"), 240, "the zombie run being marked Crashed", served.logs)
