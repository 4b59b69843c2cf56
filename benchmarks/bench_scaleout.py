"""Scale-out of augment-dataset over process workers on ``gpu-pool``, with a Postgres-backed Prefect server.

It starts everything itself and stops it by PID at the end: PostgreSQL (scripts/postgres.sh), a
Prefect server on 127.0.0.1 using it, the ``gpu-pool`` process pool with the deployments of
prefect.yaml, then for N = 1 and N = 2 workers (each ``--limit 1``, with its own
CUDA_VISIBLE_DEVICES and FPDM_WORKER_NAME) one ``augment-dataset`` run with ``fan_out=deployment``
over a synthetic source dataset. The parent flow runs in this process; its children run on the
workers. Reports the wall time per N and which worker rendered each clip, as JSON in
``benchmarks/results/scaleout_<name>.json``.

    python benchmarks/bench_scaleout.py --checkpoint DIR --clips 4 --steps 2
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from flows.services import free_port, server_healthy, start_process, stop_process, wait_until
from result_file import check_result, write_result

REPO = Path(__file__).resolve().parents[1]
PREFECT = Path(sys.executable).with_name("prefect")
RESULTS_DIR = Path(__file__).resolve().parent / "results"


def make_inputs(folder: Path, clips: int) -> tuple[Path, list[Path]]:
    from fpdm_video.data.synthetic_dataset import SyntheticDatasetConfig, render_reference, write_synthetic_dataset
    from fpdm_video.data.synthetic_identity import sample_identity

    source = folder / "source"
    write_synthetic_dataset(source, SyntheticDatasetConfig(clips=clips, frames=4, width=96, height=128, seed=7))
    signers = []
    for k, name in enumerate(("anna", "ben")):
        path = folder / f"{name}.png"
        Image.fromarray(np.ascontiguousarray(render_reference(sample_identity(900 + k), (192, 256)))).save(path)
        signers.append(path)
    return source, signers


def run(args: argparse.Namespace) -> dict:
    work = Path(tempfile.mkdtemp(prefix="fpdm-scaleout-"))
    os.chmod(work, 0o755)  # postgres (another user) must reach its data folder
    pg_port, port = free_port(), free_port()
    db = subprocess.run([str(REPO / "scripts" / "postgres.sh"), "start", str(work / "pg"), str(pg_port)],
                        capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    env = dict(os.environ, PREFECT_HOME=str(work / "home"), PREFECT_API_URL=f"http://127.0.0.1:{port}/api",
               PREFECT_API_DATABASE_CONNECTION_URL=db, PREFECT_SERVER_ANALYTICS_ENABLED="false", PREFECT_UI_ENABLED="false",
               FPDM_OUTPUT_ROOT=str(work / "out"), FPDM_REPO=str(REPO), OMP_NUM_THREADS="1")  # fmt: skip
    procs: list[subprocess.Popen] = []
    report: dict = {"database": "postgresql (scripts/postgres.sh)", "clips": args.clips, "signers": 2, "steps": args.steps, "runs": {}}
    try:
        procs.append(start_process([str(PREFECT), "server", "start", "--host", "127.0.0.1", "--port", str(port)], env, work / "server.log", REPO))
        wait_until(lambda: server_healthy(port), 180, "the Prefect server answering")
        subprocess.run([str(PREFECT), "work-pool", "create", "gpu-pool", "--type", "process"], env=env, cwd=REPO,
                       check=True, capture_output=True)  # fmt: skip
        subprocess.run([str(PREFECT), "--no-prompt", "deploy", "--all"], env=env, cwd=REPO, check=True, capture_output=True)
        source, signers = make_inputs(work, args.clips)
        os.environ.update({k: env[k] for k in ("PREFECT_API_URL", "FPDM_OUTPUT_ROOT", "PREFECT_HOME")})
        from flows.augment_dataset import augment_dataset

        for n in (1, 2):
            workers = []
            for w in range(n):
                wenv = dict(env, CUDA_VISIBLE_DEVICES=str(w), FPDM_WORKER_NAME=f"gpu{w}")
                workers.append(start_process([str(PREFECT), "worker", "start", "--pool", "gpu-pool", "--name", f"gpu{w}", "--limit", "1"],
                                     wenv, work / f"worker{n}-{w}.log", REPO))  # fmt: skip
            time.sleep(5)
            started = time.perf_counter()
            result = augment_dataset(dataset=str(source), signers=[str(s) for s in signers], output=f"scale{n}",
                                     split="train", sampling={"steps": args.steps}, checkpoint=str(args.checkpoint.resolve()),
                                     fan_out="deployment", poll_seconds=1.0)  # fmt: skip
            wall = time.perf_counter() - started
            per_worker: dict[str, int] = {}
            for row in result["clips"]:
                per_worker[row.get("worker", "?")] = per_worker.get(row.get("worker", "?"), 0) + 1
            report["runs"][f"{n}_worker{'s' if n > 1 else ''}"] = {
                "wall_seconds": round(wall, 1), "failed": result["failed"], "clips_per_worker": per_worker,
                "clip_seconds": [row.get("seconds") for row in result["clips"]],
            }  # fmt: skip
            for w in workers:
                stop_process(w)
    finally:
        for p in procs:
            stop_process(p)
        subprocess.run([str(REPO / "scripts" / "postgres.sh"), "stop", str(work / "pg")], capture_output=True)
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    one, two = report["runs"]["1_worker"]["wall_seconds"], report["runs"]["2_workers"]["wall_seconds"]
    report["speedup_2_over_1"] = round(one / two, 2)
    return report


def main(argv: list[str] | None = None) -> int:
    from bench_sampler import device_name, git_commit

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--checkpoint", type=Path, required=True)
    p.add_argument("--clips", type=int, default=4)
    p.add_argument("--steps", type=int, default=2)
    p.add_argument("--name", default="cpu")
    p.add_argument("--keep", action="store_true", help="keep the temporary folder (logs)")
    args = p.parse_args(argv)
    out = check_result(RESULTS_DIR / f"scaleout_{args.name}.json")
    report = run(args)
    import torch

    report.update(device=device_name(torch.device("cpu")), cpu_count=os.cpu_count(), git_commit=git_commit())
    write_result(out, report)
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    from fpdm_video.cli import run_guarded

    raise SystemExit(run_guarded(main))
