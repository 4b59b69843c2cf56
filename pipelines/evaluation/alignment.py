"""Which frames of the driving video an output was made from: its record's frame range, or ``--driving-range``.

A transfer with ``--start``, ``--end`` or ``--max-frames`` renders part of its driving video, and its
record (``out.json`` beside ``out.mp4``) says which part (``frame_range``), from which file
(``input.sha256``) and at which frame rate (``fps``). evaluate lines the output up with those frames.
An explicit ``--driving-range START:END`` wins over the record. Without either, the output must
have the driving video's frame count.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from fpdm_video.errors import InputError
from pipelines.transfer.record import sha256_of, sidecar_path


@dataclass(frozen=True)
class DrivingRange:
    """Frames [start, end) of the driving video, and where that came from."""

    start: int
    end: int
    source: str  # "--driving-range", "the output's record <path>" or "the whole driving video"


def parse_range(text: str) -> tuple[int, int]:
    """``"START:END"`` -> (START, END)."""
    try:
        start, end = (int(v) for v in text.split(":"))
    except ValueError:
        raise InputError(f"--driving-range must be START:END (frame indices, END exclusive), got {text!r}") from None
    return start, end


def _checked(start: int, end: int, output_frames: int, driving_frames: int, where: str) -> None:
    if not 0 <= start < end <= driving_frames:
        raise InputError(f"{where} gives frames {start}:{end}, outside the driving video's {driving_frames} frames")
    if end - start != output_frames:
        raise InputError(f"{where} gives {end - start} frames ({start}:{end}) but the output has {output_frames}")


def driving_range(output: str | os.PathLike, driving: str | os.PathLike, output_frames: int, driving_frames: int,
                  driving_fps: float, given: tuple[int, int] | None = None) -> DrivingRange:  # fmt: skip
    """The driving frames ``output`` lines up with (see the module's docstring); bad or contradicting facts raise."""
    if given is not None:
        _checked(*given, output_frames, driving_frames, "--driving-range")
        return DrivingRange(given[0], given[1], "--driving-range")
    record_path = sidecar_path(output)
    if record_path.is_file():
        try:
            record = json.loads(record_path.read_text())
            start, end = (int(v) for v in record["frame_range"])
        except (OSError, ValueError, KeyError, TypeError):
            raise InputError(f"the output's record {record_path} has no readable frame_range; give --driving-range START:END") from None
        where = f"the output's record {record_path}"
        made_from = (record.get("input") or {}).get("sha256")
        if made_from and Path(driving).exists() and made_from != sha256_of(driving):
            raise InputError(f"{where} says the output was made from another file than {driving} (sha256 differs); "
                             "give that video, or --driving-range START:END to compare anyway")  # fmt: skip
        fps = record.get("fps")
        if isinstance(fps, (int, float)) and abs(fps - driving_fps) > 1e-3 * max(1.0, driving_fps):
            raise InputError(f"{where} says the output was made at {fps:g} fps, but {driving} runs at {driving_fps:g}")
        _checked(start, end, output_frames, driving_frames, where)
        return DrivingRange(start, end, where)
    if output_frames != driving_frames:
        raise InputError(f"the output has {output_frames} frames and {driving} {driving_frames}, and there is no record "
                         f"{record_path} to say which part it was made from; give --driving-range START:END")  # fmt: skip
    return DrivingRange(0, driving_frames, "the whole driving video")
