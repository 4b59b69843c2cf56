"""A transfer's inputs: the reference signer and the driving poses, read in order or read ahead.

:func:`read_inputs` reads them (the reference photo's pose and fit, then the driving poses: from a
.pose file or extracted with MediaPipe). :class:`ReadAhead` runs it in a thread, so that a command
that still has to load its model does both at once: on the demo model the CLI spends about 20 s
importing diffusers and loading the checkpoint, and 14 s on the reference and the poses of the
real 58-frame video (docs/speed.md). The import is Python, the extraction MediaPipe's own C++
threads, so the two overlap well even on two cores. What is read is the same either way: the
frames are read one at a time, in order, by one tracker.

A read ahead is stopped (:meth:`ReadAhead.close`) between two frames: an error or Ctrl-C in the
command waits for at most one frame's extraction. What the reading logs (a hand the photo does not
show, say) is held back and logged when its result is taken, as if it had been read then: a
command whose model fails to load prints that one error line and nothing of the reading.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from fpdm_video.pose.sequence import PoseSequence
from fpdm_video.video.types import Clip
from pipelines.transfer.settings import TransferSettings
from pipelines.transfer.signer import FittedSigner, load_signer
from pipelines.transfer.stages import InputSpec, driving_poses, input_chunks, open_input


class Stopped(Exception):
    """Raised in a read ahead's thread when it was closed before it finished."""


@dataclass(frozen=True)
class TransferInputs:
    """What a transfer reads before it renders, and how long each part took."""

    spec: InputSpec  # the input and its selected frames
    signer: FittedSigner  # the reference photo fitted to the output frame
    raw: PoseSequence  # the driving poses of the selected frames, as extracted or loaded
    seconds: dict[str, float]  # {"reference": s, "poses": s}


def read_inputs(video: str | os.PathLike | InputSpec, signer_image: str | os.PathLike, settings: TransferSettings,
                poses: str | os.PathLike | None = None, *, progress: bool, stop: threading.Event | None = None) -> TransferInputs:  # fmt: skip
    """The reference signer and the driving poses of ``video`` (a path, probed here and timed with the reference, or
    an :class:`InputSpec` already probed); ``stop``, once set, ends the extraction between two frames."""
    started = time.perf_counter()
    spec = video if isinstance(video, InputSpec) else open_input(video, settings)
    signer = load_signer(signer_image, spec.width, spec.height)
    fitted = time.perf_counter()
    extracts = spec.kind != "pose" and poses is None
    clips = one_by_one(input_chunks(spec, settings.chunk_frames), stop) if stop is not None and extracts else None
    raw = driving_poses(spec, poses, settings, progress=progress, clips=clips)
    done = time.perf_counter()
    return TransferInputs(spec, signer, raw, {"reference": round(fitted - started, 3), "poses": round(done - fitted, 3)})


def one_by_one(clips: Iterator[Clip], stop: threading.Event) -> Iterator[Clip]:
    """The frames of ``clips`` as one-frame clips, raising :class:`Stopped` before any frame once ``stop`` is set."""
    for clip in clips:
        for k in range(len(clip)):
            if stop.is_set():
                raise Stopped("the read ahead was closed")
            yield Clip(clip.frames[k : k + 1], clip.fps, clip.timestamps[k : k + 1], clip.start_index + k)


class HeldLogs(logging.Filter):
    """Holds back the log records of one thread at the root's handlers, to be logged later (:meth:`release`) or dropped."""

    def __init__(self, thread: threading.Thread) -> None:
        super().__init__()
        self.thread = thread
        self.held: list[logging.LogRecord] = []
        root = logging.getLogger()
        self.handlers = list(root.handlers) or [logging.lastResort]  # without handlers a warning goes to the last resort
        for handler in self.handlers:
            if handler is not None:
                handler.addFilter(self)

    def filter(self, record: logging.LogRecord) -> bool:
        if record.thread != self.thread.ident:
            return True
        if not any(r is record for r in self.held):  # one record passes every handler
            self.held.append(record)
        return False

    def remove(self) -> list[logging.LogRecord]:
        """Stop holding; the records held so far."""
        for handler in self.handlers:
            if handler is not None:
                handler.removeFilter(self)
        held, self.held = self.held, []
        return held

    def release(self) -> None:
        """Stop holding and log what was held, in order, through the loggers that made it."""
        for record in self.remove():
            logging.getLogger(record.name).handle(record)


class ReadAhead:
    """:func:`read_inputs` in a thread, started at once; :meth:`result` waits for it and raises what it raised.

        with ReadAhead(video, signer, settings, poses, progress=True) as ahead:
            runner = SignerTransfer.from_pretrained(...)        # meanwhile the poses are extracted
            runner.transfer(video, signer, out, request=..., inputs=ahead)

    The input is probed (:func:`open_input`) before the thread starts, so that a missing or
    unreadable input, or a bad frame range, is told at once.
    """

    def __init__(self, video: str | os.PathLike, signer_image: str | os.PathLike, settings: TransferSettings,
                 poses: str | os.PathLike | None = None, *, progress: bool) -> None:  # fmt: skip
        self.video, self.signer_image, self.settings = Path(video), Path(signer_image), settings
        self.poses = None if poses is None else Path(poses)
        self.spec = open_input(video, settings)
        self._stop = threading.Event()
        self._outcome: tuple[TransferInputs | None, BaseException | None] = (None, None)
        self._thread = threading.Thread(target=self._run, args=(progress,), name="fpdm-read-ahead", daemon=True)
        self._logs = HeldLogs(self._thread)
        self.started = time.perf_counter()  # when the reading began
        self._thread.start()

    def _run(self, progress: bool) -> None:
        try:
            self._outcome = (read_inputs(self.spec, self.signer_image, self.settings, self.poses, progress=progress,
                                         stop=self._stop), None)  # fmt: skip
        except BaseException as exc:  # handed to the waiting thread by result()
            self._outcome = (None, exc)

    def matches(self, video, signer_image, settings: TransferSettings, poses) -> bool:
        """Whether this read ahead reads what a transfer of these arguments would read."""
        def frames(s: TransferSettings) -> tuple:
            return s.start, s.end, s.max_frames, s.chunk_frames

        given = (Path(video), Path(signer_image), None if poses is None else Path(poses), frames(settings))
        return given == (self.video, self.signer_image, self.poses, frames(self.settings))

    def result(self) -> TransferInputs:
        """The inputs, once read (waits); an error of the reading is raised here, as it was raised there."""
        self._thread.join()
        self._logs.release()
        inputs, error = self._outcome
        if error is not None:
            raise error
        assert inputs is not None
        return inputs

    @property
    def closing(self) -> bool:
        """Whether :meth:`close` was called (the reading stops before its next frame)."""
        return self._stop.is_set()

    def close(self) -> None:
        """Stop the reading (between two frames) and wait for its thread."""
        self._stop.set()
        self._thread.join()
        self._logs.remove()  # what was not taken by result() is dropped with the reading

    def __enter__(self) -> ReadAhead:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
