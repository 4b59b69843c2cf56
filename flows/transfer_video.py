"""Flow ``transfer-video``: one signer transfer as Prefect tasks over the resumable steps of :mod:`flows.steps`.

Parameters: ``video`` and ``signer`` (existing files), ``output`` (relative to the output root,
``$FPDM_OUTPUT_ROOT``), ``max_frames``, ``sampling`` (the CLI's sampling options as a mapping, e.g.
``{"speed": "fast", "temporal_attention": "both"}``; what is left out takes the preset's, then the
checkpoint's value, as in the CLI), ``checkpoint`` (default: the embedded demo model) and ``poses``
(a .pose file to use instead of extracting the video's poses). Frames render in chunks of
``chunk_frames`` rounded up to whole sampling batches, each chunk a task that starts from the
carry the chunk before left, so the frames equal the CLI's. Each stage is a thin task; file-reading stages retry (a network share can
hiccup); every stage's result is a file under ``<output root>/.work/<run key>/`` named after a key of
its inputs, so a rerun after a crash reuses finished stages and finished frame chunks (the folder
is deleted once the output has landed, unless ``keep_work``). The flow
returns the output path and the sidecar record; artifacts in the UI: frame progress, a table of
stage times, and a preview strip of comparison frames.
"""

from __future__ import annotations

import base64
import io
import json
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
from PIL import Image
from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_progress_artifact, update_progress_artifact

from flows import steps as S
from flows.cache_keys import file_fingerprint, key_of
from flows.paths import confined, existing_file, output_root
from flows.retry import retries
from fpdm_video.errors import InputError
from fpdm_video.models.checkpoint import checkpoint_files
from fpdm_video.run_paths import check_run_paths
from fpdm_video.temp_names import remove_stale
from pipelines.fpdm_pipeline import model_device_dtype
from pipelines.settings.sampling import SamplingRequest
from pipelines.transfer.settings import transfer_argv
from pipelines.transfer import TransferRequest
from pipelines.transfer.record import TransferRecord, pose_fix_fields, sha256_of, sidecar_path

RETRIES = retries(2)  # file-reading stages: a network share can hiccup; bad input is not retried


@task(name="probe-input", **RETRIES)
def probe_task(video: str, settings: TransferSettings) -> dict:
    return S.input_facts(video, settings)


@task(name="driving-poses", **RETRIES)
def poses_task(work: str, video: str, settings: TransferSettings, poses: str | None) -> str:
    return str(S.poses_step(Path(work), video, settings, poses))


@task(name="reference-photo", **RETRIES)
def reference_task(work: str, signer: str, width: int, height: int) -> list[str]:
    return [str(p) for p in S.reference_step(Path(work), signer, width, height)]


@task(name="repair-retarget")
def target_task(work: str, driving: str, reference_pose: str, retarget: bool) -> list[str]:
    return [str(p) for p in S.target_step(Path(work), Path(driving), Path(reference_pose), retarget)]


@task(name="render-chunk")
def chunk_task(work: str, target: str, image: str, checkpoint: str, sha: str, settings: TransferSettings, span: list[int],
               carry: str | None) -> list[str | None]:  # fmt: skip
    frames, left = S.chunk_step(Path(work), Path(target), Path(image), checkpoint, sha, settings, tuple(span),
                                None if carry is None else Path(carry))  # fmt: skip
    return [str(frames), None if left is None else str(left)]


@task(name="encode-and-record", **RETRIES)
def publish_task(output: str, chunks: list[str], fps: float, timestamps: list[float] | None, record: dict) -> dict:
    return S.publish_step(Path(output), [Path(c) for c in chunks], fps, timestamps, record)


def preview_markdown(chunks: list[str], image: str, count: int = 4) -> str:
    """A strip of (reference | output) frames as an inline PNG in markdown."""
    frames = np.concatenate([np.load(c) for c in chunks])
    picks = np.linspace(0, len(frames) - 1, min(count, len(frames))).round().astype(int)
    ref = np.asarray(Image.open(image).convert("RGB"))
    strip = np.concatenate([np.concatenate([ref, frames[i]], axis=0) for i in picks], axis=1)
    scale = min(1.0, 512 / strip.shape[1])
    im = Image.fromarray(strip).resize((max(1, int(strip.shape[1] * scale)), max(1, int(strip.shape[0] * scale))))
    buf = io.BytesIO()
    im.save(buf, format="PNG")
    return f"![preview](data:image/png;base64,{base64.b64encode(buf.getvalue()).decode()})"


def cli_argv(video: str, signer: str, output: Path, checkpoint: str, request: TransferRequest, poses: str | None) -> list[str]:
    """The transfer command line that writes the same frames as the flow."""
    argv = ["python", "-m", "fpdm_video.transfer", video, "--signer", signer, "-o", str(output), "--checkpoint", checkpoint]
    return argv + ([] if poses is None else ["--poses", poses]) + transfer_argv(request)


@flow(name="transfer-video")
def transfer_video(
    video: str,
    signer: str,
    output: str,
    max_frames: int | None = None,
    sampling: SamplingRequest | None = None,
    chunk_frames: int = 16,
    retarget: bool = True,
    checkpoint: str | None = None,
    poses: str | None = None,
    keep_work: bool = False,
) -> dict:
    """Render ``video``'s signing as the person in ``signer``; writes ``output`` under the output root.

    The run's work folder (``<output root>/.work/<run key>/``: poses, the reference, every rendered
    chunk's frames) is deleted once the output and its record have landed, unless ``keep_work``; a
    run that fails or is killed keeps it, so that its rerun resumes.
    """
    logger = get_run_logger()
    started = time.perf_counter()
    video_path = str(existing_file(video, "video"))
    signer_path = str(existing_file(signer, "signer photo"))
    ckpt = S.flow_checkpoint(checkpoint, sampling)
    poses_path = str(existing_file(poses, "poses file")) if poses else None
    request, settings = S.flow_settings(sampling, ckpt, max_frames=max_frames, retarget=retarget, chunk_frames=chunk_frames)
    out = confined(output)  # (makes the output root: after every check that needs none)
    if out.suffix.lower() != ".mp4":
        raise InputError(f"output {output!r} must end in .mp4")
    check_run_paths({"video": video_path, "signer": signer_path, "poses": poses_path, **checkpoint_files(ckpt, "checkpoint")},
                    {"output": out, "record": sidecar_path(out)})  # fmt: skip
    sha = S.model_sha(ckpt)
    work = output_root() / ".work" / key_of(file_fingerprint(video_path), file_fingerprint(signer_path), str(out))
    work.mkdir(parents=True, exist_ok=True)
    remove_stale(work.parent, keep=[work])  # what dead runs left while deleting their work folders
    times: dict[str, float] = {}

    def lap(name: str, t0: float) -> float:
        times[name] = round(time.perf_counter() - t0, 3)
        return time.perf_counter()

    t = time.perf_counter()
    facts = probe_task(video_path, settings)
    driving = poses_task(str(work), video_path, settings, poses_path)
    t = lap("poses", t)
    image, ref_pose, ref_facts = reference_task(str(work), signer_path, facts["width"], facts["height"])
    target, fixes = target_task(str(work), driving, ref_pose, retarget)
    t = lap("reference_repair_retarget", t)

    ranges = settings.chunk_ranges(facts["frames"])
    progress = create_progress_artifact(progress=0.0, description=f"frames rendered of {facts['frames']}")
    chunks, carry = [], None
    for k, span in enumerate(ranges):
        frames, carry = chunk_task(str(work), target, image, ckpt, sha, settings, list(span), carry)  # each chunk starts from the last one's carry
        chunks.append(frames)
        update_progress_artifact(progress, progress=100.0 * (k + 1) / len(ranges))
    t = lap("sampling", t)
    timestamps = S.timestamps_for(video_path, Path(driving), settings)
    model = S.cached_model(ckpt, sha)  # loaded by the chunks already
    device, dtype = model_device_dtype(model)
    reference = json.loads(Path(ref_facts).read_text())
    record = TransferRecord(
        input={"path": video_path, "sha256": sha256_of(video_path), "kind": facts["kind"]},
        signer={"path": signer_path, "sha256": sha256_of(signer_path), "crop": list(reference["crop"]),
                "missing_parts": reference["missing"]},
        poses_file=None if poses_path is None else {"path": poses_path, "sha256": sha256_of(poses_path)},
        checkpoint={"path": ckpt, "name": model.config.name, "sha256": sha,
                    "student_of": None if model.config.student is None else dict(model.config.student.teacher)},
        request=asdict(request), settings=asdict(settings), frames=facts["frames"], fps=facts["fps"],
        frame_range=[facts["start"], facts["end"]],
        sizes={"input": [facts["width"], facts["height"]], "output": [facts["width"], facts["height"]],
               "model": model.config.resolution},
        timestamps="input's own (variable frame rate kept)" if timestamps is not None else f"constant {facts['fps']} fps",
        stage_seconds=times, **pose_fix_fields(json.loads(Path(fixes).read_text()), settings.retarget),
        runner="flow transfer-video", device=str(device), dtype=str(dtype).replace("torch.", ""),
        argv=cli_argv(video_path, signer_path, out, ckpt, request, poses_path),
    ).to_dict()  # fmt: skip
    times = publish_task(str(out), chunks, facts["fps"], timestamps, record)["stage_seconds"]  # the video and its record land together
    sidecar = sidecar_path(out)
    rows = "\n".join(f"| {k} | {v:.2f} |" for k, v in times.items())
    create_markdown_artifact(
        key="transfer-video-summary",
        markdown=f"**output**: `{out}` ({facts['frames']} frames, {facts['fps']:.3f} fps)\n\n| stage | seconds |\n| --- | --- |\n"
        f"{rows}\n\n{preview_markdown(chunks, image)}",
        description="signer transfer",
    )  # fmt: skip
    if not keep_work:
        S.remove_work(work)
    logger.info("wrote %s and %s", out, sidecar)
    return {"output": str(out), "record": str(sidecar), "frames": facts["frames"], "stage_seconds": times}
