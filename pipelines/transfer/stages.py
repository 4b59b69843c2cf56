"""The stages of a signer transfer as functions, shared by the CLI, the Python API and the flows.

read/probe the input -> driving poses (extracted, or loaded) -> repair -> reuse the nearest good
pose on frames with no person -> retarget to the reference signer -> render chunk by chunk
(:func:`render_chunk`: pose maps, then sampling, batch by batch) -> encode. Frames, pose maps and
outputs stream chunk by chunk; only the poses (a few KB per frame) are held for the whole video.

The CLI and the API render every chunk with one sampler (:func:`render_frames`); the transfer flow
renders each chunk in its own task, with a sampler that starts from the carry the chunk before
left (``pipelines.video_sampling``). Chunks are whole sampling batches, so both batch the frames
alike and write the same frames.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from fpdm_video.config import PoseMapConfig
from fpdm_video.errors import InputError, PoseError
from fpdm_video.geometry import CanvasFit
from fpdm_video.images import check_image_size
from fpdm_video.pose import load_holistic, render_pose_maps, repair_poses, retarget_with_report, style_for
from fpdm_video.pose.extract import extract_poses
from fpdm_video.pose.motion_field import motion_fields, pool_field
from fpdm_video.pose.sequence import PoseSequence
from fpdm_video.video import iter_video_chunks, probe
from pipelines.transfer.paths import input_path_problem
from pipelines.transfer.settings import TransferSettings
from pipelines.video_sampling import VideoSampler, latent_cell, rebatch, to_frames

logger = logging.getLogger(__name__)

POSE_SUFFIXES = (".pose",)


@dataclass(frozen=True)
class InputSpec:
    """What drives the output: a video file, a frame folder, or a .pose file, and the selected frames."""

    path: Path  # the input
    kind: str  # "video", "frames" or "pose"
    width: int  # output frame width
    height: int  # output frame height
    fps: float  # frame rate (a pose file's own; a video's average)
    total_frames: int  # frames in the whole input
    start: int  # first selected frame
    end: int  # one past the last selected frame

    @property
    def num_frames(self) -> int:
        return self.end - self.start


def open_input(path: str | os.PathLike, settings: TransferSettings) -> InputSpec:
    """Probe the input (a video, a frame folder or a .pose file) and select the frame range."""
    path = Path(path)
    problem = input_path_problem(path)
    if problem is not None:
        raise InputError(problem)
    if path.suffix.lower() in POSE_SUFFIXES:
        pose = load_holistic(path)
        check_image_size(pose.width, pose.height, f"the frame size of {path}")  # the output's frames have this size
        start, end = settings.frame_range(pose.num_frames)
        return InputSpec(path, "pose", pose.width, pose.height, pose.fps, pose.num_frames, start, end)
    info = probe(path)
    check_image_size(info.width, info.height, f"the frames of {path}")  # before any frame is decoded
    start, end = settings.frame_range(info.num_frames)
    kind = "frames" if info.is_frame_folder else "video"
    return InputSpec(path, kind, info.width, info.height, info.fps, info.num_frames, start, end)


def input_chunks(spec: InputSpec, chunk: int) -> Iterator:
    """Decoded clips of the selected frames (video inputs only)."""
    return iter_video_chunks(spec.path, chunk_size=chunk, start=spec.start, end=spec.end)


def driving_poses(spec: InputSpec, poses: str | os.PathLike | None, settings: TransferSettings, *, progress: bool,
                  clips: Iterator | None = None) -> PoseSequence:  # fmt: skip
    """The poses of the selected frames: from the .pose input, from ``poses``, or extracted with MediaPipe.

    ``clips``: the selected frames as decoded clips, to extract from instead of :func:`input_chunks`
    (the same frames, in order; a read ahead passes them one at a time so that it can stop).
    """
    if spec.kind == "pose" or poses is not None:
        source = Path(poses) if poses is not None else spec.path
        pose = load_holistic(source)
        if poses is not None and pose.num_frames != spec.total_frames:
            raise PoseError(
                f"{source} has {pose.num_frames} frames of poses but {spec.path} has {spec.total_frames} frames; "
                "give the poses of this video (or leave out --poses to extract them)"
            )
        if poses is not None and (pose.width, pose.height) != (spec.width, spec.height):
            logger.warning("%s was made for %dx%d frames, the video is %dx%d; scaling the poses",
                           source, pose.width, pose.height, spec.width, spec.height)  # fmt: skip
            pose = rescale(pose, spec.width, spec.height)
        return pose.frames(spec.start, spec.end)
    clips = input_chunks(spec, settings.chunk_frames) if clips is None else clips
    return extract_poses(clips, progress=progress)


def rescale(pose: PoseSequence, width: int, height: int) -> PoseSequence:
    """The same poses in a frame of another size."""
    pose = pose.to_pixels()
    points = pose.points.copy()
    points[..., 0] *= width / pose.width
    points[..., 1] *= height / pose.height
    if points.shape[-1] == 3:
        points[..., 2] *= width / pose.width
    return PoseSequence(points=points, confidence=pose.confidence, fps=pose.fps, width=width, height=height,
                        components=pose.components, timestamps=pose.timestamps)  # fmt: skip


@dataclass
class PoseFixes:
    """What was done to the driving poses before rendering."""

    no_person: list[int]  # selected frames (0-based in the output) where no body was found
    reused: dict[int, int] = field(default_factory=dict)  # frame -> frame whose pose it reuses
    repair_summary: str = ""  # the repair report in words
    retarget_ratios: dict[str, float] = field(default_factory=dict)  # bone class -> scale (empty: no retargeting)
    retarget_fallbacks: list[str] = field(default_factory=list)


def reuse_nearest(pose: PoseSequence) -> tuple[PoseSequence, dict[int, int]]:
    """Give frames with no body the whole pose of the nearest frame that has one (ties: the earlier)."""
    present = pose.present("body")
    good = np.flatnonzero(present)
    if good.size == 0:
        raise PoseError("no person was found in any frame; give a video that shows the signer's upper body")
    points, confidence = pose.points.copy(), pose.confidence.copy()
    reused = {}
    for i in np.flatnonzero(~present):
        j = int(good[np.argmin(np.abs(good - i))])
        points[i], confidence[i] = points[j], confidence[j]
        reused[int(i)] = j
    return pose.with_data(points, confidence), reused


def prepare_poses(driving: PoseSequence, signer: PoseSequence | None) -> tuple[PoseSequence, PoseFixes]:
    """Repair, fill frames with no person, and retarget to ``signer`` (None: no retargeting)."""
    no_person = [int(i) for i in np.flatnonzero(~driving.present("body"))]
    repaired, report = repair_poses(driving)
    filled, reused = reuse_nearest(repaired)
    if reused:
        logger.warning("no person in %d frame(s) (%s); they reuse the nearest good pose",
                       len(reused), _ranges(sorted(reused)))  # fmt: skip
    fixes = PoseFixes(no_person=no_person, reused=reused, repair_summary=report.summary())
    if signer is None:
        return filled, fixes
    target, rt = retarget_with_report(filled, signer)
    fixes.retarget_ratios = {k: float(v) for k, v in rt.ratios.items()}
    fixes.retarget_fallbacks = list(rt.fallbacks)
    return target, fixes


def _ranges(frames: list[int]) -> str:
    out, start = [], None
    for k, f in enumerate(frames):
        if start is None:
            start = f
        if k + 1 == len(frames) or frames[k + 1] != f + 1:
            out.append(str(start) if start == f else f"{start}-{f}")
            start = None
    return ", ".join(out)


def pose_map_chunks(pose: PoseSequence, fit: CanvasFit, chunk: int, pose_map: PoseMapConfig) -> Iterator[torch.Tensor]:
    """Pose maps (t, 3, H, W) float [0, 1] on the model canvas in the model's style, ``chunk`` frames at a time."""
    style = style_for(pose_map)
    for start in range(0, pose.num_frames, chunk):
        stop = min(start + chunk, pose.num_frames)
        yield torch.from_numpy(render_pose_maps(pose, fit.canvas, fit=fit, start=start, end=stop, style=style))


def source_tensor(image: np.ndarray, fit: CanvasFit) -> torch.Tensor:
    """The fitted reference photo letterboxed to the model square, (3, R, R) float [0, 1]."""
    return torch.from_numpy(np.array(fit.image_to_canvas(image))).permute(2, 0, 1).float() / 255.0


def output_timestamps(spec: InputSpec, pose: PoseSequence, settings: TransferSettings) -> np.ndarray | None:
    """Presentation times of the output frames: the input's own (VFR kept), or None for a constant rate."""
    if pose.timestamps is not None and np.all(np.diff(pose.timestamps) > 0):
        return pose.timestamps
    if spec.kind == "pose":
        return None
    times = [clip.timestamps for clip in input_chunks(spec, settings.chunk_frames)]  # decode once for the times
    return np.concatenate(times)


def render_chunk(sampler: VideoSampler, target: PoseSequence, fit: CanvasFit, start: int, stop: int,
                 pose_map: PoseMapConfig) -> Iterator[np.ndarray]:  # fmt: skip
    """Output frames [start, stop) as (b, H, W, 3) uint8 batches, from an open sampler that has rendered frames [0, start)
    (or holds their carry). ``start`` must begin a sampling batch."""
    batch = sampler.settings.batch_size
    if start % batch:
        raise ValueError(f"a render chunk must start on a batch boundary (batch {batch}), got frame {start}")
    maps = pose_map_chunks(target.frames(start, stop), fit, batch, pose_map)
    for first, chunk in rebatch(maps, batch):
        frame = start + first
        motion = pose_motion(sampler.model, target, fit, frame, frame + chunk.shape[0]) if sampler.needs_motion else None
        yield to_frames(sampler.render(frame, chunk, motion), fit)


def pose_motion(model, target: PoseSequence, fit: CanvasFit, start: int = 0, stop: int | None = None) -> torch.Tensor:
    """(b, 2, h, w) the canvas's motion into frames [start, stop) of ``target`` from the frame before, in ``model``'s
    latent cells (what warped noise moves along; ``fpdm_video.pose.motion_field``)."""
    fields = motion_fields(target, fit, start, stop)  # (b, 2, H, W) canvas pixels
    return torch.from_numpy(pool_field(fields, latent_cell(model)))


def render_frames(model, signer_image: np.ndarray, target: PoseSequence, fit: CanvasFit, settings: TransferSettings) -> Iterator[np.ndarray]:
    """Every output frame, chunk by chunk with one sampler, as (b, H, W, 3) uint8 batches."""
    with VideoSampler(model, source_tensor(signer_image, fit), settings.sampling) as sampler:
        for start, stop in settings.chunk_ranges(target.num_frames):
            yield from render_chunk(sampler, target, fit, start, stop, model.config.pose_map)
