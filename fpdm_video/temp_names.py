"""The names of this project's temporary files and folders, and the removal of stale ones.

Every temporary entry that :mod:`fpdm_video.atomic` makes beside its target carries the writer's
process id, so that a later run can tell a leftover of a dead process from the work of a live one:

    .<target name>.<pid>-<8 hex>.tmp<suffix>    a file or folder being written (out.mp4 -> .out.mp4.4711-1a2b3c4d.tmp.mp4)
    .<target name>.<pid>-<8 hex>.old            a folder moved aside while its replacement moves in

Temporary folders hold a marker file (:data:`MARKER`) from the moment they are made. A run into a
folder removes the entries of processes that are no longer alive (:func:`remove_stale`), and only
those: a file must match the pattern, a folder must also hold the marker. Process ids are local to
one machine: several hosts writing into one shared folder each see the others' pids as unknown, so
run the writers of one output folder on one host (as the PHOENIX writer's locks already ask).
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger(__name__)

MARKER = ".fpdm-partial"  # inside every temporary folder this project makes: "a writer of fpdm-video made this"
_PATTERN = re.compile(r"^\.(?P<target>.+)\.(?P<pid>\d+)-(?P<token>[0-9a-f]{8})\.(?P<kind>tmp|old)(?P<suffix>\.[^.]+)?$")


@dataclass(frozen=True)
class TempName:
    """What a temporary entry's name says about it."""

    target: str  # the name of the file or folder it stands for
    pid: int  # the process that made it
    kind: str  # "tmp" (being written) or "old" (a folder moved aside while replaced)


def temp_name(target: str, kind: str = "tmp", suffix: str = "") -> str:
    """A fresh temporary name for ``target`` made by this process, e.g. ``.out.mp4.4711-1a2b3c4d.tmp.mp4``."""
    return f".{target}.{os.getpid()}-{secrets.token_hex(4)}.{kind}{suffix}"


def parse_temp_name(name: str) -> TempName | None:
    """The parts of a temporary name made by :func:`temp_name`; None for any other name."""
    m = _PATTERN.match(name)
    if m is None:
        return None
    return TempName(target=m["target"], pid=int(m["pid"]), kind=m["kind"])


def pid_alive(pid: int) -> bool:
    """True unless no process ``pid`` exists on this machine (another user's process counts as alive)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, but another user's
        return True
    except OverflowError:  # a pid no process can have
        return False
    return True


def is_project_temp(entry: Path) -> TempName | None:
    """The parsed name of ``entry`` if this project made it: the name pattern, and the marker inside a folder."""
    parsed = parse_temp_name(entry.name)
    if parsed is None:
        return None
    if entry.is_dir() and not entry.is_symlink() and not (entry / MARKER).is_file():
        return None
    return parsed


def remove_stale(folder: str | os.PathLike) -> list[Path]:
    """Clean up after dead writers in ``folder`` (not below it); returns the entries removed or restored.

    A temporary file or folder of a dead process is removed. A folder it had moved aside (``.old``)
    goes back under its own name when nothing stands there (the crash hit between the two renames
    of a replacement), and is removed otherwise.
    """
    folder = Path(folder)
    handled: list[Path] = []
    try:
        entries = list(folder.iterdir())
    except OSError:  # not a folder, or not readable: nothing of ours to clean
        return handled
    for entry in entries:
        parsed = is_project_temp(entry)
        if parsed is None or pid_alive(parsed.pid):
            continue
        with contextlib.suppress(FileNotFoundError):  # another run may clean it at the same moment
            target = entry.with_name(parsed.target)
            if parsed.kind == "old" and entry.is_dir() and not os.path.lexists(target):
                os.replace(entry, target)
                (target / MARKER).unlink(missing_ok=True)
            elif entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
            handled.append(entry)
    if handled:
        logger.info("cleaned %d temporary entries left in %s by processes that ended: %s", len(handled), folder,
                    ", ".join(p.name for p in handled[:3]) + (" ..." if len(handled) > 3 else ""))  # fmt: skip
    return handled
