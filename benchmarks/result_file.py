"""Where a benchmark writes its result: checked before any work, as every command's outputs are
(``fpdm_video.run_paths.check_run_paths``: not one of its inputs, a writable place), then written as
strict JSON under a temporary name and renamed into place, so a crash leaves the old result or the
new one, never half of one."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from fpdm_video.atomic import atomic_path
from fpdm_video.run_paths import check_run_paths
from fpdm_video.strict_json import dumps

PathArg = str | os.PathLike | None


def check_result(out: str | os.PathLike, inputs: Mapping[str, PathArg] | None = None, *, label: str = "--out") -> Path:
    """``out`` resolved, or an InputError if it is one of ``inputs`` (by the options they came from) or cannot be written."""
    return check_run_paths(dict(inputs or {}), {label: out}).outputs[label]


def write_result(out: str | os.PathLike, result: object) -> None:
    """``result`` as strict JSON (non-finite numbers become null) at ``out``, atomically."""
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(out) as tmp:
        tmp.write_text(dumps(result))
