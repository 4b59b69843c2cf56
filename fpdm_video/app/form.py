"""The page's values as a :class:`~fpdm_video.app.runner.RunRequest`, and messages fit to show in the page (pure functions)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path

from fpdm_video.errors import InputError

SPEEDS = ("paper", "balanced", "fast")


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
    """The page's number fields show 0 for "not set" (steps and guidance: the preset's or checkpoint's; end: the last frame; max frames: all)."""
    return None if value == 0 else value


def upload(value, what: str) -> Path | None:
    """The server path of an upload (Gradio passes a path string, or a file object with ``.name``)."""
    if value is None or value == "":
        return None
    path = getattr(value, "path", None) or getattr(value, "name", None) or value
    if isinstance(path, (list, tuple)):
        raise InputError(f"give one file for {what}, not {len(path)}")
    return Path(str(path))


def request_fields(*, input_file, photo_file, poses_file, checkpoint: Path, speed: str, steps, guidance, seed, start, end,
                   max_frames, retarget: bool, batch_size: int) -> dict:  # fmt: skip
    """The keyword arguments of a RunRequest, checked as far as the page's values go (the transfer checks the rest)."""
    video = upload(input_file, "the signing")
    signer = upload(photo_file, "the photo")
    if video is None:
        raise InputError("no signing given: upload a video or a .pose file")
    if signer is None:
        raise InputError("no photo given: upload a photo of the new signer")
    if speed not in SPEEDS:
        raise InputError(f"speed must be one of {', '.join(SPEEDS)}, got {speed!r}")
    return dict(input=video, signer=signer, poses=upload(poses_file, "the poses"), checkpoint=Path(checkpoint), speed=speed,
                steps=unset_if_zero(optional_int("steps", steps)), guidance=unset_if_zero(optional_float("guidance", guidance)),
                seed=optional_int("seed", seed) or 0, start=optional_int("start", start) or 0, end=unset_if_zero(optional_int("end", end)),
                max_frames=unset_if_zero(optional_int("max frames", max_frames)), retarget=bool(retarget), batch_size=batch_size)  # fmt: skip


def public_message(message: str, names: Mapping[str, str]) -> str:
    """``error: <message>`` on one line, as the CLI prints it, with each server path of ``names`` shown as its name."""
    text = " ".join(part.strip() for part in str(message).splitlines() if part.strip())
    for path in sorted(names, key=len, reverse=True):  # longest first: a path may contain another
        text = text.replace(path, names[path])
    return f"error: {text}"
