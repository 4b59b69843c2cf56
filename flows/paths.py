"""Where flows may write: everything under one output root.

The root is ``$FPDM_OUTPUT_ROOT`` (default ``outputs/`` under the working directory). Output
parameters are paths relative to it; absolute paths and paths that climb out of it (``../../etc``)
are refused, also through symbolic links.
"""

from __future__ import annotations

import os
from pathlib import Path

from fpdm_video.errors import InputError

ENV_OUTPUT_ROOT = "FPDM_OUTPUT_ROOT"


def output_root() -> Path:
    """The folder flows write under (created if absent)."""
    root = Path(os.environ.get(ENV_OUTPUT_ROOT) or Path.cwd() / "outputs").resolve()
    root.mkdir(parents=True, exist_ok=True)
    return root


def confined(relative: str | os.PathLike, *, root: Path | None = None) -> Path:
    """``root / relative``, refused unless it stays inside ``root``."""
    root = (root or output_root()).resolve()
    rel = Path(relative)
    if str(relative).strip() == "":
        raise InputError("an output path is needed (relative to the output root)")
    if rel.is_absolute():
        raise InputError(f"output {relative!r} must be relative to the output root ({ENV_OUTPUT_ROOT}), not absolute")
    target = (root / rel).resolve()
    if target != root and root not in target.parents:
        raise InputError(f"output {relative!r} leaves the output root {root}; use a path inside it")
    return target


def existing_file(path: str | os.PathLike, what: str) -> Path:
    """A path that must name an existing file (or frame folder for videos)."""
    p = Path(path).expanduser()
    if not p.exists():
        raise InputError(f"{what} {path} does not exist")
    return p.resolve()
