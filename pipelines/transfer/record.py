"""The sidecar record ``OUTPUT.json`` of a transfer: enough to repeat the run exactly."""

from __future__ import annotations

import hashlib
import os
import sys
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
