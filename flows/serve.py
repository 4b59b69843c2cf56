"""``python -m flows.serve``: serve the deployments on this machine (one process runs the flows).

Deployments: ``transfer-video/default`` (on request), ``augment-dataset/nightly`` (a cron schedule,
off unless ``--schedule`` is given; parameters from ``configs/flows/nightly.yaml``) and
``augment-clip/default`` (the per-clip runs that augment-dataset fans out with
``fan_out=deployment``). Flow runs send heartbeats every 30 s, and the server gets the automation
that marks a run Crashed when they stop (flows/zombies.py). Start a server first (``prefect server start --host 127.0.0.1``) and point
``PREFECT_API_URL`` at it; then

    prefect deployment run 'transfer-video/default' -p video=in.mp4 -p signer=ref.png -p output=out.mp4 --watch

Prefect names a deployment FLOW/DEPLOYMENT: its command line refused ``prefect deployment run transfer-video``
(the flow's name alone) with a traceback. Run from the repository root, so that the
project's ``prefect.toml`` applies (no telemetry, no CSRF token requests); the HTTP client's
per-request lines are left out of the log (:mod:`flows.logs`).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

import yaml

from flows.logs import configure_logging
from flows.zombies import HEARTBEAT_ENV, HEARTBEAT_SECONDS, ensure_zombie_automation

REPO = Path(__file__).resolve().parents[1]
NIGHTLY = REPO / "configs" / "flows" / "nightly.yaml"
RUN_EXAMPLE = "prefect deployment run 'transfer-video/default' -p video=in.mp4 -p signer=ref.png -p output=out.mp4 --watch"

logger = logging.getLogger("flows.serve")


def build_deployments(*, schedule: bool, cron: str, nightly: Path = NIGHTLY, limit: int | None = None) -> list:
    from prefect.schedules import Cron

    from flows.augment_dataset import augment_clip_flow, augment_dataset
    from flows.transfer_video import transfer_video

    params = yaml.safe_load(nightly.read_text()) if nightly.is_file() else {}
    return [
        transfer_video.to_deployment(name="default", concurrency_limit=limit, description="one signer transfer on request"),
        augment_dataset.to_deployment(name="nightly", schedules=[Cron(cron, active=schedule)], parameters=params,
                                      description="dataset augmentation; the schedule is off unless served with --schedule"),  # fmt: skip
        augment_clip_flow.to_deployment(name="default", concurrency_limit=limit, description="one (clip, signer) job"),
    ]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m flows.serve", description=__doc__.split("\n\n")[0])
    p.add_argument("--schedule", action="store_true", help="switch on augment-dataset/nightly's cron schedule")
    p.add_argument("--cron", default="0 2 * * *", help="cron of the nightly augmentation (default 02:00 every day)")
    p.add_argument("--nightly", type=Path, default=NIGHTLY, help="YAML of the nightly run's parameters")
    p.add_argument("--limit", type=int, help="at most this many concurrent runs per deployment")
    p.add_argument("--zombie-after", type=float, help="seconds without a heartbeat before a run is marked Crashed "
                                                       "(default 3 heartbeats; see flows/zombies.py)")  # fmt: skip
    args = p.parse_args(argv)
    configure_logging()
    os.environ.setdefault(HEARTBEAT_ENV, str(HEARTBEAT_SECONDS))  # the runs this process starts send heartbeats
    from prefect import serve

    ensure_zombie_automation(args.zombie_after)
    deployments = build_deployments(schedule=args.schedule, cron=args.cron, nightly=args.nightly, limit=args.limit)
    # Prefect's own start message suggests `prefect deployment run [DEPLOYMENT_NAME]`, which reads as the flow's name alone
    logger.info("serving %s; start a run with: %s", ", ".join(full_names(deployments)), RUN_EXAMPLE)
    serve(*deployments, print_starting_message=False)
    return 0


def full_names(deployments: list) -> list[str]:
    """``FLOW/DEPLOYMENT``, the name ``prefect deployment run`` takes."""
    return [f"{d.flow_name}/{d.name}" for d in deployments]


if __name__ == "__main__":
    sys.exit(main())
