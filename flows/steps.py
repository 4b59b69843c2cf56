"""The transfer as resumable file-to-file steps: what the Prefect tasks run, testable without Prefect.

Each step writes its result atomically into a work folder under a name derived from a key of its
inputs (file fingerprints, parameters, the checkpoint hash). A step whose result file exists returns
it without recomputing: that is how a rerun after a crash reuses finished stages and finished frame
chunks, with or without Prefect's own cache. Large data (poses, frames) moves as files; steps
return paths.
"""

from __future__ import annotations

import functools
import json
import os
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
from PIL import Image

from fpdm_video.atomic import atomic_files, atomic_path
from fpdm_video.geometry import CanvasFit
from fpdm_video.models.checkpoint import checkpoint_hash
from fpdm_video.pose import load_holistic, write_pose
from fpdm_video.video import VideoWriter
from flows.cache_keys import file_fingerprint, key_of
from pipelines.transfer.record import record_json, sidecar_path
from pipelines.transfer.settings import TransferSettings
from pipelines.transfer.signer import load_signer
from pipelines.transfer.stages import (
    driving_poses,
    open_input,
    output_timestamps,
    pose_map_chunks,
    prepare_poses,
    source_tensor,
)
from pipelines.video_sampling import sample_video

CALLS: dict[str, int] = {}  # step name -> times it did real work in this process (tests count recomputation)


def _count(name: str) -> None:
    CALLS[name] = CALLS.get(name, 0) + 1


@functools.lru_cache(maxsize=2)
def cached_model(checkpoint: str, sha: str):
    """One loaded model per (checkpoint, hash) and process: on the GPU if there is one, in ``--dtype auto``'s format."""
    from pipelines.transfer.devices import load_for_inference

    return load_for_inference(checkpoint)[0]


def input_facts(video: str, settings: TransferSettings) -> dict:
    spec = open_input(video, settings)
    return {"width": spec.width, "height": spec.height, "fps": spec.fps, "start": spec.start, "end": spec.end,
            "frames": spec.num_frames, "kind": spec.kind}  # fmt: skip


def poses_step(work: Path, video: str, settings: TransferSettings, poses: str | None = None) -> Path:
    """The driving poses of the selected frames, as ``<work>/poses-<key>.pose``."""
    key = key_of("poses", file_fingerprint(video), None if poses is None else file_fingerprint(poses), settings.start,
                 settings.end, settings.max_frames)  # fmt: skip
    path = work / f"poses-{key}.pose"
    if not path.is_file():
        _count("poses")
        spec = open_input(video, settings)
        pose = driving_poses(spec, poses, settings, progress=False)
        write_pose(pose, path)
    return path


def reference_step(work: Path, signer: str, width: int, height: int) -> tuple[Path, Path, Path]:
    """The fitted reference photo (PNG), its pose (.pose) and facts (JSON)."""
    key = key_of("reference", file_fingerprint(signer), width, height)
    image, pose, facts = work / f"signer-{key}.png", work / f"signer-{key}.pose", work / f"signer-{key}.json"
    if not (image.is_file() and pose.is_file() and facts.is_file()):
        _count("reference")
        fitted = load_signer(signer, width, height)
        with atomic_path(image) as tmp:
            Image.fromarray(fitted.image).save(tmp, format="PNG")
        write_pose(fitted.pose, pose)
        with atomic_path(facts) as tmp:
            tmp.write_text(json.dumps({"crop": fitted.crop, "missing": fitted.missing}))
    return image, pose, facts


def target_step(work: Path, driving: Path, reference_pose: Path, retarget: bool) -> tuple[Path, Path]:
    """Repaired, filled and (optionally) retargeted poses, and what was done to them (JSON)."""
    key = key_of("target", file_fingerprint(driving), file_fingerprint(reference_pose), retarget)
    pose_path, facts = work / f"target-{key}.pose", work / f"target-{key}.json"
    if not (pose_path.is_file() and facts.is_file()):
        _count("target")
        target, fixes = prepare_poses(load_holistic(driving), load_holistic(reference_pose) if retarget else None)
        write_pose(target, pose_path)
        with atomic_path(facts) as tmp:
            tmp.write_text(json.dumps(asdict(fixes), default=str))
    return pose_path, facts


def chunk_step(work: Path, target: Path, reference_image: Path, checkpoint: str, sha: str, settings: TransferSettings,
               start: int, stop: int) -> Path:  # fmt: skip
    """Frames [start, stop) of the output, rendered, as ``<work>/chunk-<key>.npy`` (T, H, W, 3) uint8."""
    key = key_of("chunk", file_fingerprint(target), file_fingerprint(reference_image), sha, asdict(settings), start, stop)
    path = work / f"chunk-{start:06d}-{key}.npy"
    if not path.is_file():
        _count("chunk")
        model = cached_model(checkpoint, sha)
        pose = load_holistic(target).frames(start, stop)
        fit = CanvasFit.of(pose.width, pose.height, model.config.resolution)
        image = np.asarray(Image.open(reference_image).convert("RGB"))
        frames = np.concatenate(list(sample_video(
            model, source_tensor(image, fit), pose_map_chunks(pose, fit, settings.chunk_frames, model.config.pose_map),
            output_fit=fit, progress=False, **settings.sampling())))  # fmt: skip
        with atomic_path(path) as tmp, open(tmp, "wb") as f:
            np.save(f, frames)
    return path


def publish_step(output: Path, chunks: list[Path], fps: float, timestamps: list[float] | None, record: dict) -> dict:
    """The output video from the rendered chunks, in order, and its record ``<output>.json``; returns the record.

    Both are written under temporary names and land together, the video last (see
    :func:`fpdm_video.atomic.atomic_files`); the record's stage times gain ``encode``.
    """
    _count("encode")
    started = time.perf_counter()
    with atomic_files(sidecar_path(output), output) as (record_tmp, video_tmp):
        with VideoWriter(video_tmp, fps=fps, timestamps=timestamps, atomic=False) as writer:
            for chunk in chunks:
                writer.write(np.load(chunk))
        record = {**record, "stage_seconds": {**record["stage_seconds"], "encode": round(time.perf_counter() - started, 3)}}
        record_tmp.write_text(record_json(record))
    return record


def timestamps_for(video: str, driving: Path, settings: TransferSettings) -> list[float] | None:
    spec = open_input(video, settings)
    times = output_timestamps(spec, load_holistic(driving), settings)
    return None if times is None else [float(t) for t in times]


def chunk_ranges(frames: int, chunk: int) -> list[tuple[int, int]]:
    return [(s, min(s + chunk, frames)) for s in range(0, frames, chunk)]


def model_sha(checkpoint: str | os.PathLike) -> str:
    return checkpoint_hash(checkpoint)
