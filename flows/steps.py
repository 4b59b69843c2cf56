"""The transfer as resumable file-to-file steps: what the Prefect tasks run, testable without Prefect.

Each step writes its result atomically into a work folder under a name derived from a key of its
inputs (file fingerprints, parameters, the checkpoint hash). A step whose result file exists returns
it without recomputing: that is how a rerun after a crash reuses finished stages and finished frame
chunks, with or without Prefect's own cache. Large data (poses, frames) moves as files; steps
return paths.

Chunks render with the same stage the CLI runs (``pipelines.transfer.stages.render_chunk``). What a
chunk leaves for the next (the cross-frame attention anchors) is saved beside its frames as a
carry file, and the next chunk's sampler starts from it, so a flow run, a resumed flow run and the
CLI write the same frames.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
from PIL import Image

from fpdm_video.atomic import atomic_files, atomic_path
from fpdm_video.errors import InputError
from fpdm_video.geometry import CanvasFit
from fpdm_video.models.checkpoint import checkpoint_hash
from fpdm_video.pose import load_holistic, write_pose
from fpdm_video.temp_names import mark, temp_name
from fpdm_video.video import VideoWriter
from flows.cache_keys import file_fingerprint, key_of
from pipelines.transfer.record import record_json, sidecar_path
from fpdm_video.models.checkpoint import load_config
from pipelines.settings.sampling import SamplingRequest, request_fields
from pipelines.transfer.settings import TransferRequest, TransferSettings, resolve_settings
from pipelines.transfer.signer import load_signer
from pipelines.transfer.stages import driving_poses, open_input, output_timestamps, prepare_poses, render_chunk, source_tensor
from pipelines.video_sampling import VideoSampler, load_carry, save_carry

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
               span: tuple[int, int], carry: Path | None = None) -> tuple[Path, Path | None]:  # fmt: skip
    """Frames ``span`` = [start, stop) of the output, rendered, as ``<work>/chunk-<key>.npy`` (T, H, W, 3) uint8, and the
    carry they leave for the next chunk (``<work>/carry-<key>.safetensors``; None when the settings carry nothing).

    ``carry``: the file the chunk before this one left (None for the first chunk); it is removed once this
    chunk's frames and carry are written, so the work folder holds one carry at a time.
    """
    start, stop = span
    key = key_of("chunk", file_fingerprint(target), file_fingerprint(reference_image), sha, asdict(settings), start, stop)
    path, carry_out = work / f"chunk-{start:06d}-{key}.npy", work / f"carry-{start:06d}-{key}.safetensors"
    if path.is_file():  # the carry is written first: a chunk's frames imply its carry
        return path, carry_out if carry_out.is_file() else None
    _count("chunk")
    model = cached_model(checkpoint, sha)
    pose = load_holistic(target)
    fit = CanvasFit.of(pose.width, pose.height, model.config.resolution)
    image = np.asarray(Image.open(reference_image).convert("RGB"))
    with VideoSampler(model, source_tensor(image, fit), settings.sampling, None if carry is None else load_carry(carry)) as sampler:
        frames = np.concatenate(list(render_chunk(sampler, pose, fit, start, stop, model.config.pose_map)))
        left = sampler.carry()
    if left:
        save_carry(carry_out, left)
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        np.save(f, frames)
    if carry is not None and carry != carry_out:  # only the latest carry is needed to go on (tens of MB and more each)
        carry.unlink(missing_ok=True)
    return path, carry_out if left else None


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


def remove_work(work: Path) -> None:
    """Delete a finished run's work folder, which no rerun then needs.

    It is first moved aside under a temporary name (marked as this project's), so that a run killed
    while deleting leaves no half folder under the run's key: a chunk's frames without the carry the
    next chunk starts from would make a rerun render that next chunk from the wrong carry. A
    leftover is removed by the next run (:func:`fpdm_video.temp_names.remove_stale`).
    """
    mark(work)  # the marker names the folder's inode, which the rename keeps
    doomed = work.with_name(temp_name(work.name))
    os.replace(work, doomed)
    shutil.rmtree(doomed)


def timestamps_for(video: str, driving: Path, settings: TransferSettings) -> list[float] | None:
    spec = open_input(video, settings)
    times = output_timestamps(spec, load_holistic(driving), settings)
    return None if times is None else [float(t) for t in times]


def model_sha(checkpoint: str | os.PathLike) -> str:
    return checkpoint_hash(checkpoint)


def flow_checkpoint(checkpoint: str | None, sampling: SamplingRequest | dict | None) -> str:
    """The flow's checkpoint folder: ``checkpoint`` (a folder or hub name), else the embedded demo model, whose
    shipped few-step student is the default for ``speed: turbo``, as the CLI picks it."""
    from flows.paths import existing_file
    from fpdm_video.models.checkpoint import resolve_checkpoint
    from pipelines.transfer import default_checkpoint

    if checkpoint:
        return str(existing_file(resolve_checkpoint(checkpoint), "checkpoint"))
    speed = sampling.get("speed") if isinstance(sampling, dict) else getattr(sampling, "speed", None)
    return str(default_checkpoint(speed))


def flow_settings(sampling: SamplingRequest | dict | None, checkpoint: str, *, max_frames: int | None = None,
                  retarget: bool = True, chunk_frames: int = 16) -> tuple[TransferRequest, TransferSettings]:  # fmt: skip
    """The flow's request and its settings on ``checkpoint``, resolved as the CLI resolves them."""
    if isinstance(sampling, dict):
        known = [f.name for f in request_fields()]
        unknown = sorted(set(sampling) - set(known))
        if unknown:
            raise InputError(f"unknown sampling key(s) {', '.join(map(repr, unknown))}: the keys are {', '.join(known)} "
                             "(docs/flows.md)")  # fmt: skip
        sampling = SamplingRequest(**sampling)
    request = TransferRequest(sampling or SamplingRequest(), max_frames=max_frames, retarget=retarget, chunk_frames=chunk_frames)
    return request, resolve_settings(request, load_config(checkpoint))
