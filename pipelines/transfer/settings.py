"""What one signer transfer is asked (:class:`TransferRequest`) and what it runs with (:class:`TransferSettings`).

A request is the sampling request (``pipelines.settings``) plus the frames to render and how to
treat the poses; :func:`resolve_settings` turns it into settings on one checkpoint, checked before
any work starts. Every front end (the CLI, the Python API, the web app, the flows) calls it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fpdm_video.config import FPDMConfig
from fpdm_video.errors import InputError
from pipelines.settings.resolve import resolve_sampling
from pipelines.settings.sampling import SamplingRequest, SamplingSettings, request_argv


def _frame_problem(start, end, max_frames, chunk_frames) -> str | None:
    def whole(value, minimum: int) -> bool:
        return isinstance(value, int) and not isinstance(value, bool) and value >= minimum

    problems = [
        (not whole(start, 0), f"start must be a frame index of 0 or more, got {start!r}"),
        (end is not None and not (whole(end, 1) and whole(start, 0) and end > start),
         f"end must be a frame index after start ({start}), got {end!r}"),
        (max_frames is not None and not whole(max_frames, 1), f"max-frames must be a positive whole number, got {max_frames!r}"),
        (not whole(chunk_frames, 1), f"chunk-frames must be a positive whole number, got {chunk_frames!r}"),
    ]
    return next((message for bad, message in problems if bad), None)


@dataclass(frozen=True)
class TransferRequest:
    """What a user asked of one transfer: sampling (None fields: not given), frames and poses."""

    sampling: SamplingRequest = field(default_factory=SamplingRequest)
    start: int = 0  # first input frame
    end: int | None = None  # one past the last input frame; None: to the end
    max_frames: int | None = None  # at most this many frames from `start`
    retarget: bool = True  # scale the driving poses to the reference signer's proportions
    chunk_frames: int = 32  # frames decoded and turned into pose maps at a time (a flow: rendered per task)

    def __post_init__(self) -> None:
        if isinstance(self.sampling, dict):  # from JSON or YAML
            object.__setattr__(self, "sampling", SamplingRequest(**self.sampling))
        problem = _frame_problem(self.start, self.end, self.max_frames, self.chunk_frames)
        if problem is not None:
            raise InputError(problem)


@dataclass(frozen=True)
class TransferSettings:
    """How one transfer renders: resolved sampling settings, the frame range, retargeting."""

    sampling: SamplingSettings = field(default_factory=SamplingSettings)
    start: int = 0
    end: int | None = None
    max_frames: int | None = None
    retarget: bool = True
    chunk_frames: int = 32

    def __post_init__(self) -> None:
        if isinstance(self.sampling, dict):
            object.__setattr__(self, "sampling", SamplingSettings(**self.sampling))
        problem = _frame_problem(self.start, self.end, self.max_frames, self.chunk_frames)
        if problem is not None:
            raise InputError(problem)

    def frame_range(self, total: int) -> tuple[int, int]:
        """The [start, end) range of a ``total``-frame input these settings select."""
        end = total if self.end is None else self.end
        if self.start >= total:
            raise InputError(f"start {self.start} is past the input's last frame ({total} frames)")
        if end > total:
            raise InputError(f"end {end} is past the input's {total} frames")
        if self.max_frames is not None:
            end = min(end, self.start + self.max_frames)
        return self.start, end

    @property
    def render_chunk(self) -> int:
        """Frames per render chunk: ``chunk_frames`` rounded up to whole sampling batches, so chunks batch as one run does."""
        batch = self.sampling.batch_size
        return -(-self.chunk_frames // batch) * batch

    def chunk_ranges(self, frames: int) -> list[tuple[int, int]]:
        """[start, stop) output-frame ranges of the render chunks of ``frames`` frames."""
        step = self.render_chunk
        return [(s, min(s + step, frames)) for s in range(0, frames, step)]


def transfer_argv(request: TransferRequest) -> list[str]:
    """The transfer CLI's options that give ``request`` back: the sampling options given, the frames, retargeting."""
    argv = [*request_argv(request.sampling), "--start", str(request.start)]
    for flag, value in (("--end", request.end), ("--max-frames", request.max_frames)):
        if value is not None:
            argv += [flag, str(value)]
    return argv + ([] if request.retarget else ["--no-retarget"])


def resolve_settings(request: TransferRequest | None, model: FPDMConfig) -> TransferSettings:
    """The checked settings of ``request`` on a checkpoint whose config is ``model`` (``pipelines.settings.resolve``)."""
    request = request or TransferRequest()
    return TransferSettings(sampling=resolve_sampling(request.sampling, model), start=request.start, end=request.end,
                            max_frames=request.max_frames, retarget=request.retarget, chunk_frames=request.chunk_frames)  # fmt: skip
