"""The names of this project's temporary folders, their marker, and the removal of stale ones.

Everything :mod:`fpdm_video.atomic` writes goes first into a temporary folder beside its target. Its
name carries the writer's process id, so that a later run can tell a leftover of a dead process from
the work of a live one:

    .<target name>.<pid>-<8 hex>.tmp    a folder being written, or the folder that holds a file being
                                        written under its own name (out.mp4 -> .out.mp4.4711-1a2b3c4d.tmp/out.mp4)
    .<target name>.<pid>-<8 hex>.old    a folder moved aside while its replacement moves in

How a run knows that an entry is its project's own (the choice, and why). A name alone proves
nothing: a user may keep, copy or be handed a file called ``.clip.999999-0000abcd.tmp.mp4``, and a
clean-up that went by the name deleted such a file while the run was reading it. So every
temporary entry is a folder that holds a marker file (:data:`MARKER`) from the moment it is made,
and the marker names the inode of the very folder it was written into. :func:`remove_stale`
removes an entry only when all of these hold:

- its name has the pattern above, and the process it names has ended;
- it is a real folder (not a file, not a symbolic link) holding a regular marker file whose text is
  this project's and names that folder's own inode (a copy of such a folder, made by ``cp -r`` or a
  backup tool, gets another inode and is left alone);
- it is not one of the run's inputs, does not hold one, and is not inside one (``keep``).

A plain file is never removed, whatever its name. A target name so long that the temporary name
would pass the file system's limit of 255 bytes is shortened in it (a prefix, ``~`` and 8 hex digits
of its hash): the file inside keeps the full name; a shortened ``.old`` folder is never moved back
(its name no longer says where to), only left in place and reported. A marker inside the file itself was not an option
(the files are videos, JSON, .pose and safetensors, whose bytes belong to their formats), and a
registry of temporary names elsewhere (in the home folder) would tie the clean-up to one user's
home and be lost with it; the marked folder keeps the proof beside the entry it speaks for, on the
same file system. The cost: a file system whose inode numbers change between mounts (some FUSE
file systems) leaves the leftovers of dead runs in place, hidden, where a plain ``rm -r`` of the
``.tmp`` folders clears them. Process ids are local to one machine: several hosts writing into one
shared folder each see the others' pids as unknown, so run the writers of one output folder on one
host (as the PHOENIX writer's locks already ask).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import re
import secrets
import shutil
import stat
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger(__name__)

MARKER = ".fpdm-partial"  # inside every temporary folder this project makes: "a writer of fpdm-video made this"
_PATTERN = re.compile(r"^\.(?P<target>.+)\.(?P<pid>\d+)-(?P<token>[0-9a-f]{8})\.(?P<kind>tmp|old)(?P<suffix>\.[^.]+)?$")
_MARK_TEXT = re.compile(r"^fpdm-video temporary folder, pid (?P<pid>\d+), inode (?P<inode>\d+)\n$")
_MARK_MAX_BYTES = 128  # a marker is one short line; anything longer is not ours
_SHORTENED = re.compile(r"~[0-9a-f]{8}$")
NAME_MAX = 255  # bytes of one file name, on the file systems this runs on


@dataclass(frozen=True)
class TempName:
    """What a temporary entry's name says about it."""

    target: str  # the name of the file or folder it stands for
    pid: int  # the process that made it
    kind: str  # "tmp" (being written) or "old" (a folder moved aside while replaced)


def temp_name(target: str, kind: str = "tmp", suffix: str = "") -> str:
    """A fresh temporary name for ``target`` made by this process, e.g. ``.out.mp4.4711-1a2b3c4d.tmp``.

    A name that would pass :data:`NAME_MAX` bytes has its target shortened (see the module docstring).
    """
    tail = f".{os.getpid()}-{secrets.token_hex(4)}.{kind}{suffix}"
    name = f".{target}{tail}"
    if len(os.fsencode(name)) <= NAME_MAX:
        return name
    digest = hashlib.sha1(os.fsencode(target)).hexdigest()[:8]
    room = NAME_MAX - len(os.fsencode(f".~{digest}{tail}"))
    prefix = os.fsencode(target)[:room].decode("utf-8", errors="ignore")  # whole characters only
    return f".{prefix}~{digest}{tail}"


def is_shortened(name: str) -> bool:
    """Whether temporary name ``name`` holds a shortened target (:func:`temp_name`), which no longer names it."""
    parsed = parse_temp_name(name)
    return parsed is not None and _SHORTENED.search(parsed.target) is not None and len(os.fsencode(name)) > NAME_MAX - 4


def parse_temp_name(name: str) -> TempName | None:
    """The parts of a temporary name made by :func:`temp_name`; None for any other name."""
    m = _PATTERN.match(name)
    if m is None:
        return None
    return TempName(target=m["target"], pid=int(m["pid"]), kind=m["kind"])


def final_path(path: str | os.PathLike) -> Path:
    """Where a file being written at ``path`` lands: beside its temporary folder, under its own name; else ``path``."""
    path = Path(path)
    return path.parent.parent / path.name if parse_temp_name(path.parent.name) is not None else path


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


def mark(folder: str | os.PathLike) -> None:
    """Write this project's marker into ``folder``, naming this process and the folder's own inode."""
    folder = Path(folder)
    inode = os.lstat(folder).st_ino
    (folder / MARKER).write_text(f"fpdm-video temporary folder, pid {os.getpid()}, inode {inode}\n")


def is_marked(folder: str | os.PathLike) -> bool:
    """True if ``folder`` is a real folder holding the marker :func:`mark` wrote into this very folder."""
    folder = Path(folder)
    try:
        folder_stat = os.lstat(folder)
        if not stat.S_ISDIR(folder_stat.st_mode):
            return False
        # O_NONBLOCK and O_NOFOLLOW: a named pipe or a link put there instead can neither block nor redirect the read
        fd = os.open(folder / MARKER, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW)
    except OSError:
        return False
    try:
        marker_stat = os.fstat(fd)
        if not stat.S_ISREG(marker_stat.st_mode) or marker_stat.st_size > _MARK_MAX_BYTES:
            return False
        text = os.read(fd, _MARK_MAX_BYTES).decode("ascii", errors="replace")
    except OSError:
        return False
    finally:
        os.close(fd)
    m = _MARK_TEXT.match(text)
    return m is not None and int(m["inode"]) == folder_stat.st_ino


def is_project_temp(entry: Path) -> TempName | None:
    """The parsed name of ``entry`` if this project made it: the name's pattern and the folder's own marker."""
    parsed = parse_temp_name(entry.name)
    if parsed is None or not is_marked(entry):
        return None
    return parsed


def _touches(entry: Path, keep: Iterable[Path]) -> bool:
    """Whether ``entry`` is, holds or lies inside one of the resolved paths ``keep``."""
    for path in keep:
        if path == entry or entry in path.parents or path in entry.parents:
            return True
    return False


def remove_stale(folder: str | os.PathLike, keep: Iterable[str | os.PathLike] = ()) -> list[Path]:
    """Clean up after dead writers in ``folder`` (not below it); returns the entries removed or restored.

    Only this project's temporary folders of processes that ended are touched (see the module
    docstring), never one of the paths in ``keep`` (a run's inputs) or a folder that holds one. A
    temporary folder is removed. A folder moved aside (``.old``) goes back under its own name when
    nothing stands there (the crash hit between the two renames of a replacement), and is removed
    otherwise.
    """
    folder = Path(folder)
    kept = [Path(os.path.abspath(p)) for p in keep]
    handled: list[Path] = []
    try:
        entries = list(folder.iterdir())
    except OSError:  # not a folder, or not readable: nothing of ours to clean
        return handled
    for entry in entries:
        parsed = is_project_temp(entry)
        if parsed is None or pid_alive(parsed.pid) or _touches(Path(os.path.abspath(entry)), kept):
            continue
        with contextlib.suppress(FileNotFoundError):  # another run may clean it at the same moment
            target = entry.with_name(parsed.target)
            if parsed.kind == "old" and is_shortened(entry.name):
                logger.warning("left %s in place: a folder moved aside by a writer that ended, whose name is too long to "
                               "tell where it goes back; move it back by hand if its folder is missing", entry)  # fmt: skip
                continue
            if parsed.kind == "old" and not os.path.lexists(target):
                os.replace(entry, target)
                (target / MARKER).unlink(missing_ok=True)
            else:
                shutil.rmtree(entry)
            handled.append(entry)
    if handled:
        logger.info("cleaned %d temporary entries left in %s by processes that ended: %s", len(handled), folder,
                    ", ".join(p.name for p in handled[:3]) + (" ..." if len(handled) > 3 else ""))  # fmt: skip
    return handled
