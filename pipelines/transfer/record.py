"""The sidecar record ``OUTPUT.json`` of a transfer: enough to repeat the run exactly."""

from __future__ import annotations

import hashlib
import os
import sys
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path

from fpdm_video.strict_json import dumps

PACKAGES = ("fpdm-video", "torch", "diffusers", "open_clip_torch", "mediapipe", "av", "numpy")


def sha256_of(path: str | os.PathLike) -> str:
    """sha256 of a file, or of a folder's files (names and contents, in sorted order)."""
    path = Path(path)
    digest = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for f in files:
        if path.is_dir():
            digest.update(f.relative_to(path).as_posix().encode())
        with open(f, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def package_versions() -> dict[str, str]:
    out = {"python": sys.version.split()[0]}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def sidecar_path(output: str | os.PathLike) -> Path:
    """``out.mp4`` -> ``out.json``."""
    return Path(output).with_suffix(".json")


def record_json(record: dict) -> str:
    """The record as strict JSON (see :mod:`fpdm_video.strict_json`)."""
    return dumps(record)


@dataclass
class TransferRecord:
    """The one record format of a transfer, whoever ran it (the CLI, the API, the web app or the transfer flow)."""

    input: dict  # {"path", "sha256", "kind"} of the driving video, frame folder or .pose file
    signer: dict  # {"path", "sha256", "crop", "missing_parts"} of the reference photo
    poses_file: dict | None  # {"path", "sha256"} of the poses given instead of extracting them
    checkpoint: dict  # {"path", "name", "sha256"}
    request: dict  # what was asked (TransferRequest; None: not given)
    settings: dict  # what ran (TransferSettings, resolved)
    frames: int  # frames written
    fps: float
    frame_range: list[int]  # [start, end) of the input
    sizes: dict  # {"input": [W, H], "output": [W, H], "model": resolution}
    timestamps: str  # constant rate or the input's own
    stage_seconds: dict  # stage -> seconds
    no_person_frames: list[int]
    reused_pose: dict  # frame -> the frame whose pose it reuses
    pose_repair: str
    retarget: dict  # {"on", "ratios", "fallbacks"}
    runner: str  # "cli", "api", "app" or "flow transfer-video"
    device: str
    dtype: str
    argv: list[str] | None  # the command line that repeats the run (the CLI's own; the app's and the flow's equivalent)
    first_frames_seconds: float | None = None  # from the start of the transfer to its first frames written (None: not timed)
    run_seconds: float | None = None  # from the start of the transfer (its inputs' reading, if read ahead) to its record
    versions: dict = field(default_factory=package_versions)

    def to_dict(self) -> dict:
        out = asdict(self)
        out["frames_per_second"] = {k: round(self.frames / v, 3) for k, v in self.stage_seconds.items()
                                    if v > 0 and k in ("poses", "sampling_encoding", "sampling")}  # fmt: skip
        return out


def pose_fix_fields(fixes, retarget: bool) -> dict:
    """The record's fields of a ``PoseFixes`` (or its dict) of a run with retargeting on or off."""
    fixes = fixes if isinstance(fixes, dict) else asdict(fixes)
    return {"no_person_frames": fixes["no_person"], "reused_pose": {str(k): v for k, v in fixes["reused"].items()},
            "pose_repair": fixes["repair_summary"],
            "retarget": {"on": retarget, "ratios": fixes["retarget_ratios"],
                         "fallbacks": fixes["retarget_fallbacks"]}}  # fmt: skip
