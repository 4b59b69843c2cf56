"""Dataset augmentation as plain functions: plan the (clip, signer) jobs, and render one job into a PHOENIX-layout dataset.

Output clips are named ``<source clip>__<signer id>`` (the signer id is the photo's file stem, with
characters other than letters, digits, ``-`` and ``_`` replaced); the corpus row copies the source's
gloss (orth) and translation and sets speaker to the signer id. The rendered target poses are kept
as the output clip's pose sidecar, so the augmented dataset trains like any other. A job whose clip
is complete is skipped; a half-written one is written again (the writer only ever moves complete
clip folders into place).
"""

from __future__ import annotations

import json
import os
import re
import socket
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from fpdm_video.atomic import atomic_path
from fpdm_video.data.synthetic_dataset import sidecar_path
from fpdm_video.errors import InputError
from fpdm_video.geometry import CanvasFit
from fpdm_video.pose import load_holistic, write_pose
from fpdm_video.pose.extract import extract_poses
from fpdm_video.video.phoenix import PhoenixDataset
from fpdm_video.video.phoenix_writer import PhoenixWriter
from flows.steps import CALLS, cached_model
from pipelines.transfer.settings import TransferSettings
from pipelines.transfer.signer import load_signer
from pipelines.transfer.stages import prepare_poses, render_frames

PHOENIX_FPS = 25.0


@dataclass(frozen=True)
class ClipJob:
    """One output clip: a source clip performed by one signer."""

    source: str  # source clip name
    signer: str  # path of the signer photo
    signer_id: str  # speaker id written to the corpus
    name: str  # output clip name


def signer_id(path: str | os.PathLike) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "-", Path(path).stem) or "signer"


def plan_jobs(dataset: str | os.PathLike, split: str, signers: list[str], clips: int | None = None) -> list[ClipJob]:
    """The first ``clips`` clips of the split (all if None), each with every signer."""
    samples = PhoenixDataset(dataset).samples(split)
    if not samples:
        raise InputError(f"split {split!r} of {dataset} has no clips")
    if not signers:
        raise InputError("give at least one signer photo")
    ids = [signer_id(s) for s in signers]
    if len(set(ids)) != len(ids):
        raise InputError(f"signer photos must have different file names (ids {ids})")
    chosen = samples if clips is None else samples[:clips]
    return [ClipJob(s.name, str(p), i, f"{s.name}__{i}") for s in chosen for p, i in zip(signers, ids, strict=True)]


def augment_clip(job: ClipJob, dataset: str | os.PathLike, split: str, output: str | os.PathLike, checkpoint: str, sha: str,
                 settings: TransferSettings) -> dict:  # fmt: skip
    """Render ``job`` into the output dataset; returns its status ("skipped" or "written") and facts."""
    started = time.perf_counter()
    source = next((s for s in PhoenixDataset(dataset).samples(split) if s.name == job.source), None)
    if source is None:
        raise InputError(f"clip {job.source} is not in split {split!r} of {dataset}")
    ds = PhoenixDataset(dataset)
    frames = ds.num_frames(source)
    writer = PhoenixWriter(output, split)
    if writer.is_complete(job.name, frames) and sidecar_path(output, split, job.name).is_file():
        return {"clip": job.name, "status": "skipped", "frames": frames, "seconds": 0.0}
    CALLS["augment_clip"] = CALLS.get("augment_clip", 0) + 1
    sidecar = sidecar_path(dataset, split, source.name)
    driving = load_holistic(sidecar) if sidecar.is_file() else extract_poses(source.frames_dir, fps=PHOENIX_FPS, progress=False)
    if driving.num_frames != frames:
        raise InputError(f"poses of {source.name} have {driving.num_frames} frames, the clip {frames}")
    fitted = load_signer(job.signer, driving.width, driving.height)
    target, _ = prepare_poses(driving, fitted.pose if settings.retarget else None)
    model = cached_model(checkpoint, sha)
    fit = CanvasFit.of(driving.width, driving.height, model.config.resolution)
    chunks = render_frames(model, fitted.image, target, fit, settings)  # the stage the CLI renders with
    out_sidecar = sidecar_path(output, split, job.name)
    out_sidecar.parent.mkdir(parents=True, exist_ok=True)
    write_pose(target, out_sidecar)
    writer.add_clip(job.name, chunks, speaker=job.signer_id, orth=source.orth, translation=source.translation)
    result = {"clip": job.name, "status": "written", "frames": frames, "seconds": round(time.perf_counter() - started, 2),
              "worker": os.environ.get("FPDM_WORKER_NAME") or os.environ.get("CUDA_VISIBLE_DEVICES") or "local",
              "host": socket.gethostname(), "pid": os.getpid(), "settings": asdict(settings)}  # fmt: skip
    path = run_record_path(output, split, job.name)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(result) + "\n")
    return result


def run_record_path(output: str | os.PathLike, split: str, name: str) -> Path:
    """``<output>/runs/<split>/<name>.json``: who rendered a clip, when and how fast (read back after a fan-out)."""
    return Path(output) / "runs" / split / f"{name}.json"

