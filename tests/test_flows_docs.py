"""The flows as a user meets them: the documented sampling keys, the deployment names, the project's Prefect settings, quiet logs."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from flows.sampling_keys import BEGIN, END, generated_block
from fpdm_video.errors import InputError
from pipelines.settings.sampling import request_fields

REPO = Path(__file__).resolve().parents[1]
FLOWS_MD = REPO / "docs" / "flows.md"


def test_docs_flows_lists_every_sampling_key_as_generated():
    text = FLOWS_MD.read_text()
    assert generated_block() in text, "docs/flows.md's sampling keys are stale: paste `python -m flows.sampling_keys` between its markers"
    table = text[text.index(BEGIN):text.index(END)]
    keys = re.findall(r"^\| `(\w+)` \|", table, flags=re.M)
    assert keys == [f.name for f in request_fields()]  # every field, once, in order: speed and temporal_attention among them
    assert {"speed", "temporal_attention"} <= set(keys)


def test_an_unknown_sampling_key_is_refused_naming_the_keys():
    from flows.steps import flow_settings
    from pipelines.transfer import default_checkpoint

    with pytest.raises(InputError, match=r"unknown sampling key\(s\) 'sped': the keys are speed, steps"):
        flow_settings({"sped": "fast"}, str(default_checkpoint()))
    _, settings = flow_settings({"speed": "fast", "guidance_interval": [0.2, 0.9]}, str(default_checkpoint()))
    assert settings.sampling.guidance_interval == (0.2, 0.9)  # a JSON list, as `-p sampling=...` gives it


def deployment_names() -> set[str]:
    """FLOW/DEPLOYMENT of every deployment flows.serve registers and prefect.yaml declares."""
    import importlib

    from flows.serve import build_deployments, full_names

    served = set(full_names(build_deployments(schedule=False, cron="0 2 * * *")))
    declared = set()
    for d in yaml.safe_load((REPO / "prefect.yaml").read_text())["deployments"]:
        file, name = d["entrypoint"].split(":")
        module = file.removesuffix(".py").replace("/", ".")
        declared.add(f"{getattr(importlib.import_module(module), name).name}/{d['name']}")
    assert served == declared  # one machine and the work pool offer the same names
    return served


def test_every_deployment_run_in_the_repository_names_flow_slash_deployment():
    """`prefect deployment run transfer-video` (the flow alone) is refused by Prefect; each command here must name one that exists."""
    known = deployment_names()
    files = [REPO / "README.md", REPO / "prefect.yaml", REPO / "Makefile", *sorted((REPO / "docs").rglob("*.md")),
             *sorted((REPO / "flows").glob("*.py")), *sorted((REPO / "tests").glob("*.py")), *sorted((REPO / "scripts").glob("*")),
             *sorted((REPO / "benchmarks").rglob("*.py"))]  # fmt: skip
    found, refused = [], []
    for path in files:
        if path.is_file() and path != Path(__file__).resolve():
            for line in path.read_text(errors="replace").splitlines():
                for name in re.findall(r"""deployment["',\s]+run["',\s]+['"]?([\w/{}-]+)""", line):  # not "..." of a docstring
                    # the one sentence allowed to show the flow's name alone is the one that says Prefect refuses it
                    (refused if "refused" in line else found).append((path.relative_to(REPO).as_posix(), name))
    assert ("docs/flows.md", "transfer-video/default") in found and ("flows/serve.py", "transfer-video/default") in found
    assert [(where, name) for where, name in found if name not in known] == []
    assert {name for _, name in refused} == {"transfer-video"}


def prefect_settings(cwd: Path, home: Path) -> dict:
    """The settings a Prefect process started in ``cwd`` runs with (no PREFECT_ variable of this environment)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env["PREFECT_HOME"] = str(home)
    code = ("import json; from prefect.settings import get_current_settings as g; s = g(); print(json.dumps("
            "{'analytics': s.server.analytics_enabled, 'server_csrf': s.server.api.csrf_protection_enabled, "
            "'client_csrf': s.client.csrf_support_enabled}))")  # fmt: skip
    done = subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_projects_prefect_settings_turn_telemetry_off_and_match_csrf(tmp_path):
    ours = prefect_settings(REPO, tmp_path / "home")
    assert ours == {"analytics": False, "server_csrf": False, "client_csrf": False}  # no telemetry; no CSRF token request to refuse
    elsewhere = prefect_settings(tmp_path, tmp_path / "home")  # Prefect's defaults, outside the repository: the file is what does it
    assert elsewhere["analytics"] is True and elsewhere["client_csrf"] != elsewhere["server_csrf"]


def test_the_flows_logging_leaves_out_the_http_clients_lines():
    code = ("import logging; from flows.logs import configure_logging; configure_logging(); "
            "logging.getLogger('httpx').info('HTTP Request: POST http://127.0.0.1/api/deployments/get_scheduled_flow_runs 200'); "
            "logging.getLogger('httpcore.connection').debug('connect_tcp.started'); "
            "logging.getLogger('httpx').warning('a failing request'); logging.getLogger('flows.serve').info('serving')")  # fmt: skip
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60, check=True)
    assert "HTTP Request" not in done.stderr and "connect_tcp" not in done.stderr
    assert "a failing request" in done.stderr and "INFO flows.serve: serving" in done.stderr
