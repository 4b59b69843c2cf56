"""Flow ``augment-dataset``: a PHOENIX-layout dataset performed again by new signers, one output clip per (clip, signer).

Parameters: the source ``dataset`` root and ``split``, ``signers`` (photo paths), ``clips`` (how
many source clips; all if None), ``output`` (the new dataset root, relative to the output root),
``sampling`` (the CLI's sampling options as a mapping; what is left out takes the preset's, then the
checkpoint's value), ``retarget`` and ``checkpoint``. It resumes: complete clips are skipped, half-written ones are
cleaned up (``PhoenixWriter.recover``) and written again. A failing clip is listed in the summary
artifact and does not stop the others.

Fan-out: ``fan_out="local"`` renders the clips one after the other in this process (one machine,
one GPU); ``fan_out="deployment"`` starts one ``augment-clip`` run per clip with ``run_deployment``
on the deployment named by ``clip_deployment``, so every worker of its work pool takes clips, and
then checks each child run's final state itself (a failed child does not fail its parent).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_table_artifact

from flows.augment_steps import ClipJob, augment_clip, plan_jobs, run_record_path
from flows.paths import confined, existing_file
from flows.retry import retries
from flows.steps import flow_checkpoint, flow_settings, model_sha
from fpdm_video.errors import InputError
from fpdm_video.models.checkpoint import checkpoint_files
from fpdm_video.run_paths import check_run_paths
from fpdm_video.video.phoenix_writer import PhoenixWriter
from pipelines.settings.sampling import SamplingRequest
from pipelines.transfer import TransferSettings


@task(name="augment-clip", **retries(1))
def augment_clip_task(job: ClipJob, dataset: str, split: str, output: str, checkpoint: str, sha: str, settings: TransferSettings) -> dict:
    return augment_clip(job, dataset, split, output, checkpoint, sha, settings)


@flow(name="augment-clip")
def augment_clip_flow(dataset: str, split: str, source: str, signer: str, output: str, sampling: SamplingRequest | None = None,
                      retarget: bool = True, checkpoint: str | None = None) -> dict:  # fmt: skip
    """One (clip, signer) job: what ``augment-dataset`` fans out onto a work pool."""
    ckpt = flow_checkpoint(checkpoint, sampling)
    _, settings = flow_settings(sampling, ckpt, retarget=retarget)
    out = confined(output)  # (makes the output root: after every check that needs none)
    check_dataset_paths(str(existing_file(dataset, "dataset root")), [str(existing_file(signer, "signer photo"))], out, ckpt)
    job = next((j for j in plan_jobs(dataset, split, [signer]) if j.source == source), None)
    if job is None:
        raise InputError(f"clip {source} is not in split {split!r} of {dataset}")
    return augment_clip(job, dataset, split, str(out), ckpt, model_sha(ckpt), settings)


def check_dataset_paths(dataset: str, signers: list[str], output: Path, checkpoint: str) -> None:
    """Refuse an output that is, holds or lies inside the source dataset (or any other input), before any work."""
    inputs = {"dataset": dataset, **{f"signers[{i}]": s for i, s in enumerate(signers)}, **checkpoint_files(checkpoint, "checkpoint")}
    check_run_paths(inputs, {"output": output}, folders={"output"})


def _fan_out_deployments(jobs: list[ClipJob], deployment: str, base: dict, poll_seconds: float, out, split: str) -> list[dict]:
    """One child run per job on ``deployment``; waits for all, reads their states and the run records they wrote."""
    from prefect.client.orchestration import get_client
    from prefect.deployments import run_deployment

    runs = [(job, run_deployment(name=deployment, parameters={**base, "source": job.source, "signer": job.signer},
                                 timeout=0, as_subflow=True)) for job in jobs]  # fmt: skip
    results: dict[str, dict] = {}
    with get_client(sync_client=True) as client:
        while len(results) < len(runs):
            for job, run in runs:
                if job.name in results:
                    continue
                state = client.read_flow_run(run.id).state
                if state is not None and state.is_final():
                    ok = state.is_completed()
                    results[job.name] = {"clip": job.name, "status": "completed" if ok else "failed",
                                         "error": None if ok else (state.message or state.name), "flow_run": str(run.id)}  # fmt: skip
            if len(results) < len(runs):
                time.sleep(poll_seconds)
    rows = []
    for job, _ in runs:
        record = run_record_path(out, split, job.name)
        facts = json.loads(record.read_text()) if record.is_file() and results[job.name]["status"] == "completed" else {}
        rows.append({**facts, **results[job.name]})
    return rows


@flow(name="augment-dataset")
def augment_dataset(
    dataset: str,
    signers: list[str],
    output: str,
    split: str = "train",
    clips: int | None = None,
    sampling: SamplingRequest | None = None,
    retarget: bool = True,
    checkpoint: str | None = None,
    fan_out: str = "local",
    clip_deployment: str = "augment-clip/default",
    poll_seconds: float = 2.0,
) -> dict:
    """Augment ``dataset`` with ``signers``; returns the summary (one row per output clip)."""
    logger = get_run_logger()
    root = str(existing_file(dataset, "dataset root"))
    photos = [str(existing_file(s, "signer photo")) for s in signers]
    if fan_out not in ("local", "deployment"):
        raise InputError(f"fan_out must be 'local' or 'deployment', got {fan_out!r}")
    if clips is not None and (not isinstance(clips, int) or clips < 1):
        raise InputError(f"clips must be a positive integer or None, got {clips!r}")
    ckpt = flow_checkpoint(checkpoint, sampling)
    _, settings = flow_settings(sampling, ckpt, retarget=retarget)
    out = confined(output)  # (makes the output root: after every check that needs none)
    check_dataset_paths(root, photos, out, ckpt)
    jobs = plan_jobs(root, split, photos, clips)
    out.mkdir(parents=True, exist_ok=True)
    PhoenixWriter(out, split).recover(remove_orphans=True)  # half-written clips of an interrupted run (only ours)
    started = time.perf_counter()
    if fan_out == "deployment":
        given = None if sampling is None else (sampling if isinstance(sampling, dict) else sampling.given())
        base = dict(dataset=root, split=split, output=output, sampling=given, retarget=retarget, checkpoint=checkpoint)
        rows = _fan_out_deployments(jobs, clip_deployment, base, poll_seconds, out, split)
    else:
        sha = model_sha(ckpt)
        rows = []
        for job in jobs:
            state = augment_clip_task(job, root, split, str(out), ckpt, sha, settings, return_state=True)
            if state.is_completed():
                rows.append(state.result())
            else:
                rows.append({"clip": job.name, "status": "failed", "error": state.message or state.name})
    failed = [r for r in rows if r["status"] == "failed"]
    create_table_artifact(key="augment-dataset-summary", table=rows,
                          description=f"{len(rows) - len(failed)} of {len(rows)} clips done, {len(failed)} failed")  # fmt: skip
    for r in failed:
        logger.error("clip %s failed: %s", r["clip"], r.get("error"))
    return {"output": str(out), "clips": rows, "failed": len(failed), "seconds": round(time.perf_counter() - started, 2)}
