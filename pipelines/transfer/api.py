"""``SignerTransfer``: the whole transfer for notebooks, flows and the CLI.

    transfer = SignerTransfer.from_pretrained()            # the embedded demo model
    result = transfer.transfer("in.mp4", "ref.jpg", "out.mp4", request=TransferRequest(SamplingRequest(steps=10)))

Settings are resolved once per run, from the request, the speed preset and the checkpoint's own
sampling defaults (:meth:`SignerTransfer.settings`, ``pipelines.settings.resolve``).
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from fpdm_video.atomic import atomic_files
from fpdm_video.errors import CheckpointError
from fpdm_video.geometry import CanvasFit
from fpdm_video.models.checkpoint import checkpoint_hash, resolve_checkpoint
from fpdm_video.pose import write_pose
from fpdm_video.video import VideoWriter
from pipelines.transfer.devices import load_for_inference
from pipelines.transfer.record import TransferRecord, pose_fix_fields, record_json, sha256_of, sidecar_path
from pipelines.transfer.settings import TransferRequest, TransferSettings, resolve_settings
from pipelines.transfer.inputs import ReadAhead, read_inputs
from pipelines.transfer.paths import check_paths
from pipelines.transfer.stages import (
    input_chunks,
    output_timestamps,
    prepare_poses,
    render_frames,
)

logger = logging.getLogger(__name__)

def default_checkpoint(speed: str | None = None) -> Path:
    """The embedded demo model; for ``--speed turbo`` its shipped few-step student (``weights/demo-turbo``)."""
    import fpdm_video

    return Path(fpdm_video.__file__).resolve().parent / "weights" / ("demo-turbo" if speed == "turbo" else "demo")


@dataclass
class TransferResult:
    output: Path  # the video written
    record_path: Path  # its sidecar JSON
    record: dict  # the sidecar's content
    comparison: Path | None = None  # the source | pose | output video, when asked for


class SignerTransfer:
    """A loaded checkpoint on a device, ready to transfer any number of videos."""

    def __init__(self, model, checkpoint: Path, device: torch.device, dtype: torch.dtype) -> None:
        self.model = model
        self.checkpoint = checkpoint
        self.device = device
        self.dtype = dtype
        self.checkpoint_sha256 = checkpoint_hash(checkpoint)

    @classmethod
    def from_pretrained(cls, checkpoint: str | os.PathLike | None = None, device: str = "auto", dtype: str = "auto",
                        speed: str | None = None) -> SignerTransfer:  # fmt: skip
        """Load ``checkpoint``; without one, the embedded demo model (its few-step student for ``speed`` turbo)."""
        path = resolve_checkpoint(checkpoint) if checkpoint is not None else default_checkpoint(speed)
        if checkpoint is None and not path.is_dir():
            raise CheckpointError(f"the embedded demo model is missing from this installation ({path}); pass --checkpoint DIR")
        model, dev, dt = load_for_inference(path, device, dtype)
        logger.info("loaded %s (%s) on %s in %s", path, model.config.name, dev, str(dt).replace("torch.", ""))
        return cls(model, path, dev, dt)

    def settings(self, request: TransferRequest | None = None) -> TransferSettings:
        """The checked settings of ``request`` on this checkpoint (its own steps and guidance where none are given)."""
        return resolve_settings(request, self.model.config)

    def facts(self) -> dict:
        """The record's fields about the checkpoint and where it runs."""
        student = self.model.config.student  # a few-step student names its teacher
        return {"checkpoint": {"path": str(self.checkpoint), "name": self.model.config.name, "sha256": self.checkpoint_sha256,
                               "student_of": None if student is None else dict(student.teacher)},
                "device": str(self.device), "dtype": str(self.dtype).replace("torch.", "")}  # fmt: skip

    def transfer(
        self,
        video: str | os.PathLike,
        signer_image: str | os.PathLike,
        output: str | os.PathLike,
        *,
        request: TransferRequest | None = None,
        poses: str | os.PathLike | None = None,
        save_poses: str | os.PathLike | None = None,
        comparison: str | os.PathLike | None = None,
        progress: bool | str = True,
        argv: list[str] | None = None,
        on_frames: Callable[[int, int], None] | None = None,
        runner: str = "api",
        inputs: ReadAhead | None = None,
    ) -> TransferResult:
        """Render ``video``'s signing (a video, frame folder or .pose file) as the person in ``signer_image``.

        ``request`` is resolved on this checkpoint before any work (:meth:`settings`), and every path
        is checked (:func:`check_paths`). The output video, its record and the optional comparison
        and saved poses are written under temporary names and land together at the end
        (:func:`fpdm_video.atomic.atomic_files`: the video last), so an error or an interruption
        leaves none of them.

        ``on_frames(done, total)``, when given, is called once the poses are ready (``done`` 0) and
        after each rendered chunk of frames; an exception it raises stops the run the same way
        (the web app cancels runs so). ``runner`` names the front end in the record. ``progress``:
        True draws a bar per stage (poses, frames), ``"frames"`` only the rendered frames' bar (one
        line, the CLI's ``--quiet`` on a terminal), False none.

        ``inputs``: a :class:`~pipelines.transfer.inputs.ReadAhead` of these same arguments, started
        before this runner's model was loaded (the CLI's way to extract the poses meanwhile). The
        record then times the run from the read ahead's start: its ``model_load`` stage is the time
        from then to this call, and the ``reference`` and ``poses`` stages ran beside it.
        """
        request = request or TransferRequest()
        settings = self.settings(request)
        output = Path(output)
        record_path = sidecar_path(output)
        check_paths(video, signer_image, output, checkpoint=self.checkpoint, poses=poses, save_poses=save_poses,
                    comparison=comparison)  # fmt: skip
        if inputs is not None and not inputs.matches(video, signer_image, settings, poses):
            raise ValueError("the read ahead was started for other inputs or another frame range than this transfer's")
        times: dict[str, float] = {}
        clock = time.perf_counter()
        begun = clock if inputs is None else inputs.started
        if inputs is not None:
            times["model_load"] = round(clock - begun, 3)

        def lap(name: str) -> None:
            nonlocal clock
            now = time.perf_counter()
            times[name] = round(now - clock, 3)
            clock = now

        with atomic_files(save_poses, comparison, record_path, output) as (poses_tmp, comparison_tmp, record_tmp, output_tmp):
            # read here, or ahead (then a wait for the reading beyond the model's load is in its own stages)
            read = read_inputs(video, signer_image, settings, poses, progress=progress is True) if inputs is None else inputs.result()
            spec, signer, raw = read.spec, read.signer, read.raw
            times.update(read.seconds)
            if poses_tmp is not None:
                written_at = time.perf_counter()
                write_pose(raw, poses_tmp)
                times["poses"] = round(times["poses"] + time.perf_counter() - written_at, 3)
            clock = time.perf_counter()
            target, fixes = prepare_poses(raw, signer.pose if settings.retarget else None)
            stamps = output_timestamps(spec, raw, settings)
            lap("repair_retarget")

            fit = CanvasFit.of(spec.width, spec.height, self.model.config.resolution)
            chunks = render_frames(self.model, signer.image, target, fit, settings)
            written, first_at = self._encode(chunks, output_tmp, spec, stamps, target, fit, comparison_tmp, bool(progress), times,
                                             on_frames)  # fmt: skip
            record = TransferRecord(
                input={"path": str(spec.path), "sha256": sha256_of(spec.path), "kind": spec.kind},
                signer={"path": str(signer_image), "sha256": sha256_of(signer_image), "crop": list(signer.crop),
                        "missing_parts": signer.missing},
                poses_file=None if poses is None else {"path": str(poses), "sha256": sha256_of(poses)},
                request=asdict(request), settings=asdict(settings),
                frames=written, fps=spec.fps, frame_range=[spec.start, spec.end],
                sizes={"input": [spec.width, spec.height], "output": [spec.width, spec.height], "model": self.model.config.resolution},
                timestamps="input's own (variable frame rate kept)" if stamps is not None else f"constant {spec.fps} fps",
                stage_seconds=times, first_frames_seconds=None if first_at is None else round(first_at - begun, 3),
                run_seconds=round(time.perf_counter() - begun, 3),
                **pose_fix_fields(fixes, settings.retarget), runner=runner, argv=argv, **self.facts(),
            ).to_dict()  # fmt: skip
            record_tmp.write_text(record_json(record))
        return TransferResult(output=output, record_path=record_path, record=record,
                              comparison=Path(comparison) if comparison else None)  # fmt: skip

    def _encode(self, chunks, output: Path, spec, stamps, target, fit: CanvasFit, comparison, progress: bool, times: dict,
                on_frames: Callable[[int, int], None] | None = None) -> tuple[int, float | None]:  # fmt: skip
        """Write the output (and the comparison) chunk by chunk; returns the frame count and when the first chunk was written."""
        started = time.perf_counter()
        written, first_at = 0, None
        with contextlib.ExitStack() as stack:
            writer = stack.enter_context(VideoWriter(output, fps=spec.fps, width=spec.width, height=spec.height,
                                                     timestamps=stamps, atomic=False))  # fmt: skip
            side = None
            sources = None
            if comparison is not None:
                side = stack.enter_context(VideoWriter(comparison, fps=spec.fps, timestamps=stamps, atomic=False))
                sources = _frames_of(spec, target, fit) if spec.kind != "pose" else None
            bar = stack.enter_context(tqdm(total=spec.num_frames, desc="frames", unit="frame", disable=not progress))
            if on_frames is not None:
                on_frames(0, spec.num_frames)
            for frames in chunks:  # (b, H, W, 3) uint8
                writer.write(frames)
                if side is not None:
                    side.write(_comparison_rows(frames, written, target, fit, sources, self.model.config.pose_map))
                written += len(frames)
                first_at = first_at or time.perf_counter()
                bar.update(len(frames))
                if on_frames is not None:
                    on_frames(written, spec.num_frames)
        times["sampling_encoding"] = round(time.perf_counter() - started, 3)
        return written, first_at


def _frames_of(spec, target, fit):
    """An iterator over the selected input frames, one at a time."""
    for clip in input_chunks(spec, 16):
        yield from clip.frames


def _comparison_rows(frames: np.ndarray, first: int, target, fit: CanvasFit, sources, pose_map) -> np.ndarray:
    """Rows of driving frame | the pose map the model saw (its style) | output, in the output's frame size."""
    from fpdm_video.pose import render_pose_map, style_for

    rows, style = [], style_for(pose_map)
    for k, out in enumerate(frames):
        pose = fit.image_from_canvas(render_pose_map(target, first + k, fit.canvas, fit=fit, as_uint8=True, style=style))
        source = next(sources) if sources is not None else np.zeros_like(out)
        rows.append(np.concatenate([source, pose, out], axis=1))
    return np.stack(rows)
