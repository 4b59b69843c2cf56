"""The page's values as a :class:`~fpdm_video.app.runner.RunRequest`, and messages fit to show in the page (pure functions).

The sampling controls are made from the fields of ``pipelines.settings.SamplingRequest`` (the same
fields the CLI's sampling options are made from), so the page offers every sampling setting the
CLI has. A control left empty, or a number field left at 0, means "not given": the preset's, then
the checkpoint's value (a seed of 0 is the default seed either way).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from pathlib import Path

from fpdm_video.errors import InputError
from pipelines.settings.presets import SPEED_PRESETS
from pipelines.settings.sampling import SamplingRequest
from pipelines.settings.sampling import request_fields as sampling_fields

SPEEDS = tuple(SPEED_PRESETS)
NOT_GIVEN = "default"  # the choice of a dropdown that leaves the setting to the preset or the checkpoint


def optional_int(name: str, value, *, minimum: int = 0) -> int | None:
    """A whole number from a number field (None when empty); ``InputError`` otherwise."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a whole number, got {value!r}") from None
    if not math.isfinite(number) or number != int(number):
        raise InputError(f"{name} must be a whole number, got {value!r}")
    if number < minimum:
        raise InputError(f"{name} must be {minimum} or more, got {int(number)}")
    return int(number)


def optional_float(name: str, value) -> float | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a number, got {value!r}") from None


def unset_if_zero(value):
    """The page's number fields show 0 for "not set" (sampling numbers: the preset's or checkpoint's; end: the last frame; max frames: all)."""
    return None if value == 0 else value


def upload(value, what: str) -> Path | None:
    """The server path of an upload (Gradio passes a path string, or a file object with ``.name``)."""
    if value is None or value == "":
        return None
    path = getattr(value, "path", None) or getattr(value, "name", None) or value
    if isinstance(path, (list, tuple)):
        raise InputError(f"give one file for {what}, not {len(path)}")
    return Path(str(path))


def page_help(text: str) -> str:
    """A sampling field's help as the page shows it: no pointers to the project's docs (a visitor has none) and
    no command-line flags (``--deep-cache 3`` becomes "deep cache 3", the control's own label)."""
    text = re.sub(r"\s*\(docs/[\w.-]+\.md\)", "", text)  # "(docs/x.md)"
    text = re.sub(r"docs/[\w.-]+\.md;\s*", "", text)  # "(docs/x.md; default off)"
    text = re.sub(r":?\s*docs/[\w.-]+\.md", "", text)  # "(faster, approximate: docs/x.md)"
    return re.sub(r"--([a-z][a-z-]*)", lambda m: m.group(1).replace("-", " "), text)


def field_kind(field) -> str:
    """How the page shows a sampling field: "choice", "int", "float" or "pair" (two numbers)."""
    meta = field.metadata
    if "choices" in meta:
        return "choice"
    if meta.get("nargs") == 2:
        return "pair"
    return "int" if meta.get("type") is int else "float"


def sampling_value(field, value):
    """One control's value as the request's (None: not given); ``InputError`` naming the setting otherwise."""
    name = field.metadata["flag"].lstrip("-").replace("-", " ")
    kind = field_kind(field)
    if kind == "choice":
        return None if value in (None, "", NOT_GIVEN) else str(value)
    if kind == "pair":
        text = "" if value is None else str(value).replace(",", " ")
        if not text.strip():
            return None
        parts = text.split()
        if len(parts) != 2:
            raise InputError(f"{name} must be two numbers LO HI, got {value!r}")
        return tuple(optional_float(name, part) for part in parts)
    number = optional_int(name, value) if kind == "int" else optional_float(name, value)
    return unset_if_zero(number)


def sampling_request(values: Mapping[str, object]) -> SamplingRequest:
    """The sampling request of the page's controls, by field name (a missing control: not given)."""
    return SamplingRequest(**{f.name: sampling_value(f, values.get(f.name)) for f in sampling_fields()})


def run_request_fields(*, input_file, photo_file, poses_file, checkpoint: Path, sampling: Mapping[str, object], start, end,
                       max_frames, retarget: bool) -> dict:  # fmt: skip
    """The keyword arguments of a RunRequest, checked as far as the page's values go (the transfer checks the rest)."""
    from pipelines.transfer.settings import TransferRequest

    video = upload(input_file, "the signing")
    signer = upload(photo_file, "the photo")
    if video is None:
        raise InputError("no signing given: upload a video or a .pose file")
    if signer is None:
        raise InputError("no photo given: upload a photo of the new signer")
    transfer = TransferRequest(sampling_request(sampling), start=optional_int("start", start) or 0,
                               end=unset_if_zero(optional_int("end", end)), max_frames=unset_if_zero(optional_int("max frames", max_frames)),
                               retarget=bool(retarget))  # fmt: skip
    return dict(input=video, signer=signer, poses=upload(poses_file, "the poses"), checkpoint=Path(checkpoint), transfer=transfer)


def done_message(record: Mapping) -> str:
    """What the page says when a run has finished: frames, the video's own frame rate, the run's time, model and preset."""
    seconds = sum(record["stage_seconds"].values())
    return (f"done: {record['frames']} frames (video at {record['fps']:.2f} fps) in {seconds:.1f} s "
            f"({record['checkpoint']['name']}, {record['settings']['sampling']['speed']})")  # fmt: skip


def public_message(message: str, names: Mapping[str, str]) -> str:
    """``error: <message>`` on one line, as the CLI prints it, with each server path of ``names`` shown as its name."""
    text = " ".join(part.strip() for part in str(message).splitlines() if part.strip())
    for path in sorted(names, key=len, reverse=True):  # longest first: a path may contain another
        text = text.replace(path, names[path])
    return f"error: {text}"
