"""Zombie runs: a flow run whose process died (SIGKILL, a lost machine) is marked Crashed, not left Running.

Flow runs started from deployments send a heartbeat event every ``PREFECT_FLOWS_HEARTBEAT_FREQUENCY``
seconds (this project sets 30 for the runs it serves). An automation on the server watches them:
when a flow run's last heartbeat is older than ``after`` seconds and no final state came, it sets
the run to Crashed. This follows Prefect's guide "How to detect and respond to zombie flows".

``python -m flows.serve`` creates the automation when it starts; for work pools (prefect.yaml),
run ``python -m flows.zombies`` once against the server. Both leave an existing automation of the
same name as it is.

The watch starts at a run's first heartbeat, which the engine sends as the run starts. A process
killed before that event reached the server (within about a second of starting) is not caught,
and neither is a run whose process sends no heartbeats (started without the setting): the
automation never marks a run it has not heard from, so it cannot crash a healthy run either.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from datetime import timedelta

from flows.logs import configure_logging

logger = logging.getLogger(__name__)

AUTOMATION_NAME = "fpdm-video: crash zombie flow runs"
HEARTBEAT_ENV = "PREFECT_FLOWS_HEARTBEAT_FREQUENCY"
HEARTBEAT_SECONDS = 30  # the shortest interval Prefect accepts
MISSED_HEARTBEATS = 3  # a run is a zombie after this many heartbeat intervals without one


def heartbeat_seconds() -> int:
    """The heartbeat interval flow runs of this environment use (the environment's, else ours)."""
    try:
        return max(HEARTBEAT_SECONDS, int(os.environ.get(HEARTBEAT_ENV, HEARTBEAT_SECONDS)))
    except ValueError:
        return HEARTBEAT_SECONDS


def zombie_automation(after_seconds: float):
    """The automation: no heartbeat and no final state for ``after_seconds`` -> Crashed."""
    from prefect.automations import Automation
    from prefect.client.schemas.objects import StateType
    from prefect.events.actions import ChangeFlowRunState
    from prefect.events.schemas.automations import EventTrigger, Posture
    from prefect.events.schemas.events import ResourceSpecification

    return Automation(
        name=AUTOMATION_NAME,
        description="Marks a flow run Crashed when its process stops sending heartbeats (killed, machine lost).",
        trigger=EventTrigger(
            after={"prefect.flow-run.heartbeat"},
            expect={"prefect.flow-run.heartbeat", "prefect.flow-run.Completed", "prefect.flow-run.Failed",
                    "prefect.flow-run.Cancelled", "prefect.flow-run.Crashed"},  # fmt: skip
            match=ResourceSpecification({"prefect.resource.id": ["prefect.flow-run.*"]}),
            for_each={"prefect.resource.id"},
            posture=Posture.Proactive,
            threshold=1,
            within=timedelta(seconds=after_seconds),
        ),
        actions=[ChangeFlowRunState(state=StateType.CRASHED,
                                    message=f"no heartbeat for {after_seconds:g} s: the process running this flow is gone")],  # fmt: skip
    )


def ensure_zombie_automation(after_seconds: float | None = None):
    """Create the automation on the current server unless one of its name exists; returns it."""
    from prefect.client.orchestration import get_client

    after = float(after_seconds or MISSED_HEARTBEATS * heartbeat_seconds())
    with get_client(sync_client=True) as client:
        existing = client.read_automations_by_name(name=AUTOMATION_NAME)
    if existing:
        return existing[0]
    automation = zombie_automation(after).create()
    logger.info("created the automation %r: a flow run without a heartbeat for %g s is marked Crashed", AUTOMATION_NAME, after)
    return automation


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m flows.zombies", description=__doc__.split("\n\n")[0])
    p.add_argument("--after", type=float, help=f"seconds without a heartbeat before a run counts as crashed "
                                              f"(default {MISSED_HEARTBEATS} x the heartbeat interval)")  # fmt: skip
    args = p.parse_args(argv)
    configure_logging()
    automation = ensure_zombie_automation(args.after)
    print(f"automation {automation.name!r} ({automation.id}) is in place")
    return 0


if __name__ == "__main__":
    sys.exit(main())
