"""Test support for data safety: snapshots of folder trees, dead process ids, stale temporary names."""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

from fpdm_video.temp_names import mark


def tree_state(root: Path) -> dict[str, str]:
    """Every entry under ``root``: relative path -> sha256 of a file, "dir" or "link -> target"."""
    state = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_symlink():
            state[rel] = f"link -> {path.readlink()}"
        elif path.is_dir():
            state[rel] = "dir"
        elif not path.is_file():  # a named pipe or a device: never read (a pipe would block)
            state[rel] = "special"
        else:
            state[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    return state


def dead_pid() -> int:
    """The pid of a process that has just ended (the system does not reuse it at once)."""
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def stale_name(target: str, pid: int, kind: str = "tmp", suffix: str = "", token: str = "deadbeef") -> str:
    """A temporary name as fpdm_video.temp_names makes them, for the given process."""
    return f".{target}.{pid}-{token}.{kind}{suffix}"


def stale_folder(parent: Path, target: str, pid: int, kind: str = "tmp") -> Path:
    """A temporary folder of process ``pid`` beside ``parent / target``, with the project's marker."""
    folder = parent / stale_name(target, pid, kind)
    folder.mkdir()
    mark(folder)
    return folder


def stale_file(parent: Path, target: str, pid: int, data: bytes = b"half written") -> Path:
    """What a killed writer of ``parent / target`` leaves (fpdm_video.atomic): its marked temporary folder, holding the
    file under its own name with ``data``; returns the folder."""
    folder = stale_folder(parent, target, pid)
    (folder / target).write_bytes(data)
    return folder


ALIASES = ["plain", "dotdot", "symlink", "hardlink"]


def alias(kind: str, target: Path, root: Path) -> Path:
    """Another name for ``target`` (under ``root``): itself, a relative path through '..', a symbolic or a hard link."""
    if kind == "plain":
        return target
    if kind == "dotdot":
        (root / "elsewhere").mkdir(exist_ok=True)
        return Path(os.path.relpath(root / "elsewhere" / ".." / target.relative_to(root), Path.cwd()))
    link = root / f"{kind}{target.suffix}"
    if kind == "symlink":
        link.symlink_to(target, target_is_directory=target.is_dir())
    else:
        os.link(target, link)
    return link
