"""One transfer for the web app: the same SignerTransfer API and checks as ``python -m fpdm_video.transfer``.

The page's values become a :class:`RunRequest`, whose ``transfer`` is the CLI's
:class:`~pipelines.transfer.TransferRequest`; :func:`settings_of` resolves it on the checkpoint as
the CLI does (``pipelines.transfer.resolve_settings``); :class:`TransferRunner` checks the paths,
the settings and the frame limit before the model loads, then runs the transfer, reporting frames as they are rendered
and stopping between batches when cancelled. The outputs land together at the end or not at all
(:func:`fpdm_video.atomic.atomic_files`), so a cancelled or failed run leaves no file.
"""

from __future__ import annotations

import shutil
import threading
from dataclasses import dataclass
from pathlib import Path

from fpdm_video.errors import InputError
from fpdm_video.models.checkpoint import load_config
from pipelines.transfer import SignerTransfer, TransferRequest, TransferSettings, default_checkpoint, resolve_settings
from pipelines.transfer.settings import transfer_argv
from pipelines.transfer.api import check_paths
from pipelines.transfer.record import sidecar_path
from pipelines.transfer.stages import open_input


class RunCancelled(Exception):
    """The visitor pressed cancel (or left): the run stops at the next batch of frames."""


@dataclass(frozen=True)
class RunRequest:
    """What a visitor asked for: the uploaded files and the settings of the page."""

    input: Path  # a video or a .pose file (an upload)
    signer: Path  # the photo of the new signer (an upload)
    checkpoint: Path  # one of the offered checkpoint folders
    poses: Path | None = None  # the video's poses (.pose), instead of extracting them
    transfer: TransferRequest = TransferRequest()  # the sampling request, frames and retargeting, as the CLI takes them


@dataclass(frozen=True)
class RunOutputs:
    """The files one run writes, in the visitor's run folder."""

    video: Path
    record: Path
    comparison: Path
    poses: Path

    def all(self) -> list[Path]:
        return [self.video, self.comparison, self.record, self.poses]


def output_paths(folder: Path, request: RunRequest) -> RunOutputs:
    """``<input>__<signer>.mp4`` (as the CLI names it), its record, ``..._comparison.mp4`` and ``..._poses.pose``."""
    stem = f"{request.input.stem or 'input'}__{request.signer.stem or 'signer'}"
    video = folder / f"{stem}.mp4"
    return RunOutputs(video=video, record=sidecar_path(video), comparison=folder / f"{stem}_comparison.mp4",
                      poses=folder / f"{stem}_poses.pose")  # fmt: skip


def settings_of(request: RunRequest) -> TransferSettings:
    """The settings ``request`` runs with on its checkpoint, resolved as the CLI resolves them (checked)."""
    return resolve_settings(request.transfer, load_config(request.checkpoint))


def cli_equivalent(request: RunRequest, outputs: RunOutputs, device: str = "auto", dtype: str = "auto") -> list[str]:
    """The transfer command line that does what ``request`` does (kept in the record's ``argv``).

    Files go by the names a visitor knows, not by the server's paths (Gradio sweeps its uploads
    after ``--cache-max-age``, and the run folder goes when the visitor leaves): each upload by its
    file name (the name it had on the visitor's machine), each output by the name it downloads under.
    Run in a folder that holds the uploads, it writes the same files there. The checkpoint is the
    folder the operator named; the embedded demo model (or its student with ``--speed turbo``), the
    command's default, is left out.
    """
    argv = ["python", "-m", "fpdm_video.transfer", request.input.name, "--signer", request.signer.name, "-o", outputs.video.name,
            "--comparison", outputs.comparison.name, "--save-poses", outputs.poses.name]  # fmt: skip
    if Path(request.checkpoint).resolve() != default_checkpoint(request.transfer.sampling.speed):
        argv += ["--checkpoint", str(request.checkpoint)]
    argv += ["--device", device, "--dtype", dtype]
    return argv + ([] if request.poses is None else ["--poses", request.poses.name]) + transfer_argv(request.transfer)


def check_frame_limit(frames: int, limit: int) -> None:
    if frames > limit:
        raise InputError(f"the selected range has {frames} frames, more than the {limit} this app renders in one run; "
                         "choose fewer with start, end or max frames")  # fmt: skip


class ModelCache:
    """The last checkpoint loaded (one model in memory at a time; runs are one at a time)."""

    def __init__(self, device: str = "auto", dtype: str = "auto") -> None:
        self.device, self.dtype = device, dtype
        self._lock = threading.Lock()
        self._loaded: tuple[Path, SignerTransfer] | None = None

    def get(self, checkpoint: Path) -> SignerTransfer:
        with self._lock:
            if self._loaded is None or self._loaded[0] != checkpoint:
                self._loaded = None  # free the old model before loading the new one
                self._loaded = (checkpoint, SignerTransfer.from_pretrained(checkpoint, device=self.device, dtype=self.dtype))
            return self._loaded[1]


@dataclass
class Progress:
    """What a running transfer has done so far (written by the worker thread, read by the page)."""

    stage: str = "waiting"  # checking, loading, poses, rendering, done
    done: int = 0
    total: int = 0


class TransferRunner:
    """Runs requests with the cached model, within the app's frame limit."""

    def __init__(self, models: ModelCache, max_frames: int) -> None:
        self.models = models
        self.max_frames = max_frames

    def run(self, request: RunRequest, folder: Path, *, cancelled: threading.Event | None = None,
            progress: Progress | None = None) -> tuple[RunOutputs, dict]:  # fmt: skip
        """Transfer ``request`` into ``folder``; returns the outputs and the record.

        Raises :class:`InputError` for bad input, :class:`RunCancelled` when ``cancelled`` is set;
        either way ``folder`` is left as it was before (removed when the run created it).
        """
        progress = progress or Progress()
        cancelled = cancelled or threading.Event()
        outputs = output_paths(folder, request)
        existed = folder.exists()
        try:
            return outputs, self._run(request, outputs, cancelled, progress)
        except BaseException:
            if not existed:
                shutil.rmtree(folder, ignore_errors=True)
            raise

    def _run(self, request: RunRequest, outputs: RunOutputs, cancelled: threading.Event, progress: Progress) -> dict:
        progress.stage = "checking"
        settings = settings_of(request)
        check_paths(request.input, request.signer, outputs.video, checkpoint=request.checkpoint, poses=request.poses,
                    save_poses=outputs.poses, comparison=outputs.comparison)  # fmt: skip
        spec = open_input(request.input, settings)
        check_frame_limit(spec.num_frames, self.max_frames)
        progress.total = spec.num_frames
        self._stop_if(cancelled)
        progress.stage = "loading"
        runner = self.models.get(request.checkpoint)
        self._stop_if(cancelled)
        progress.stage = "poses"

        def on_frames(done: int, total: int) -> None:
            self._stop_if(cancelled)
            progress.stage, progress.done, progress.total = "rendering", done, total

        argv = cli_equivalent(request, outputs, self.models.device, self.models.dtype)
        result = runner.transfer(request.input, request.signer, outputs.video, request=request.transfer, poses=request.poses,
                                 save_poses=outputs.poses, comparison=outputs.comparison, progress=False, argv=argv,
                                 on_frames=on_frames, runner="app")  # fmt: skip
        progress.stage = "done"
        return result.record

    @staticmethod
    def _stop_if(cancelled: threading.Event) -> None:
        if cancelled.is_set():
            raise RunCancelled("cancelled")
