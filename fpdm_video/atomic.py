"""Atomic file output: write under a temporary name beside the target, rename when complete.

A crash, an exception, Ctrl-C or SIGTERM inside the ``with`` block leaves no file under the final
name, and the temporary entries are removed (with the folders made for them, when they are empty).
Every file is written inside a temporary folder of its own beside the target
(``out.mp4`` -> ``.out.mp4.<pid>-<hex>.tmp/out.mp4``) that carries the project's marker, so that
what a killed process leaves behind is recognised, by the marker and not by the name alone, and
removed by the next run into the same folder (:mod:`fpdm_video.temp_names`).

A full disk (or a used-up quota, a file past the size limit, a file system turned read-only) while
the block writes is an :class:`InputError` that names the targets: one line, exit code 2, and no
partial file. Flushing a file to disk before its rename is part of writing it: a failed ``fsync``
(which is how some file systems report a full disk) fails the write too.

Files that belong together (a video and its record) are written with :func:`atomic_files`: all
of them under temporary names first, then renamed in the order given, the last one being the
commit. Before the first rename, an older file under the last name is removed, and a failed rename
takes back the ones already made, so no state that a crash or an error leaves ever shows the last
file (the video) without the others (its record) or beside older ones; what can be seen in the
instant between two renames is the earlier files without the last, which says plainly that the
run did not finish. Two runs committing the same group at once take turns (a lock on the folders
while the group is renamed), so the files left are all from one of them.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
from collections.abc import Iterable, Iterator
from pathlib import Path

from fpdm_video.errors import InputError
from fpdm_video.file_lock import folders_locked
from fpdm_video.temp_names import MARKER, final_path, mark, temp_name

# errors that say the output does not fit where it goes, whoever raised them (Python, PyAV, a library): (why, what to do)
NO_ROOM = {errno.ENOSPC: ("no space left on the device", "free some space or choose an output folder on another disk"),
           errno.EDQUOT: ("the disk quota is used up", "free some space or choose an output folder on another disk"),
           errno.EFBIG: ("a file grew past the file system's size limit", "choose an output folder on another file system"),
           errno.EROFS: ("the file system is read-only", "choose a writable output folder")}  # fmt: skip
_FSYNC_UNSUPPORTED = {errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EBADF}  # a file system that does not fsync


def is_no_room(exc: BaseException) -> bool:
    """Whether ``exc`` says that an output does not fit (a full disk, a quota, a size limit, a read-only mount)."""
    return isinstance(exc, OSError) and exc.errno in NO_ROOM


def no_room_error(exc: OSError, targets: Iterable[Path]) -> InputError:
    """The one-line error of a write that did not fit: what, why, what to do."""
    names = ", ".join(str(final_path(t)) for t in targets) or "the output"  # a nested write's target is a temporary file
    why, advice = NO_ROOM[exc.errno]
    return InputError(f"cannot write {names}: {why} ({exc.strerror or exc}); the outputs were not written: {advice}, "
                      "then run again")  # fmt: skip


def check_writable_dir(directory: Path) -> None:
    """Raise :class:`InputError` unless ``directory`` exists (or can be made) and is writable."""
    directory = Path(directory)
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise InputError(f"cannot create output folder {directory}: a file of that name is in the way") from None
    except OSError as exc:
        raise InputError(f"cannot create output folder {directory}: {exc.strerror or exc}") from None
    if not os.access(directory, os.W_OK | os.X_OK):
        raise InputError(f"output folder {directory} is not writable; choose another output path")


def _make_parents(folder: Path) -> list[Path]:
    """Create ``folder`` and its missing parents (checked writable); returns the ones created, deepest first."""
    missing = []
    probe = folder
    while not os.path.lexists(probe) and probe != probe.parent:
        missing.append(probe)
        probe = probe.parent
    check_writable_dir(folder)
    return missing


def _umask() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return umask


def default_file_mode() -> int:
    """0666 less the process umask: the mode an ordinary ``open(path, "w")`` would give."""
    return 0o666 & ~_umask()


def _new_temp_dir(target: Path, kind: str = "tmp") -> Path:
    """Create a marked temporary folder beside ``target`` (pid-tagged name) and return its path."""
    for _ in range(100):
        tmp = target.with_name(temp_name(target.name, kind))
        try:
            tmp.mkdir(mode=0o777)
            break
        except FileExistsError:
            continue
        except OSError as exc:
            raise _write_error(exc, target) from None
    else:  # pragma: no cover
        raise InputError(f"cannot find a free temporary name beside {target}")
    try:
        mark(tmp)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise _write_error(exc, target) from None
    return tmp


def _write_error(exc: OSError, target: Path) -> InputError:
    """The one-line error for a temporary entry beside ``target`` that could not be made: a full disk, or an unwritable folder."""
    if is_no_room(exc):
        return no_room_error(exc, [target])
    return InputError(f"cannot write into {target.parent}: {exc.strerror or exc}; choose another output folder")


def _new_temp_file(target: Path) -> Path:
    """Create an empty file under ``target``'s own name inside a new marked temporary folder beside it; return its path."""
    folder = _new_temp_dir(target)
    tmp = folder / target.name
    try:
        os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
    except OSError as exc:
        shutil.rmtree(folder, ignore_errors=True)
        raise _write_error(exc, target) from None
    return tmp


def _fsync(path: Path, *, folder: bool = False) -> None:
    """Flush ``path`` to disk. A file's failed flush raises (a full disk may show only here); a folder's is best effort."""
    try:
        fd = os.open(path, os.O_RDONLY | (os.O_DIRECTORY if folder else 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError as exc:
        if not folder and exc.errno not in _FSYNC_UNSUPPORTED:
            raise
    finally:
        os.close(fd)


def _remove(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError, IsADirectoryError, NotADirectoryError):
        path.unlink()


def _discard(folder: Path) -> None:
    """Remove a temporary folder of this call and what it holds."""
    shutil.rmtree(folder, ignore_errors=True)


def _commit(pairs: list[tuple[Path, Path]]) -> None:
    """Rename every (temporary, target) pair in order; see the module docstring for why this order."""
    for tmp, _ in pairs:
        _fsync(tmp)
        os.chmod(tmp, default_file_mode())  # some writers (safetensors, mkstemp) make 0600
    # a group is renamed under a lock on its folders, so that two runs writing the same group (a video and its
    # record) cannot interleave their renames: whichever commits last leaves all of its files
    with folders_locked(target.parent for _, target in pairs) if len(pairs) > 1 else contextlib.nullcontext():
        if len(pairs) > 1:
            _remove(pairs[-1][1])  # no earlier file may ever stand beside a stale last one
        placed: list[Path] = []
        try:
            for tmp, target in pairs:
                os.replace(tmp, target)
                placed.append(target)
        except OSError as exc:
            for target in placed:  # take the group back: both or neither
                _remove(target)
            raise InputError(f"cannot move the finished file into place as {target}: {exc.strerror or exc}") from None
    for tmp, _ in pairs:
        _discard(tmp.parent)
    for folder in {target.parent for _, target in pairs}:
        _fsync(folder, folder=True)


@contextlib.contextmanager
def atomic_files(*targets: str | os.PathLike | None) -> Iterator[list[Path | None]]:
    """Yield one temporary path per target (None for a None target); on success rename them in order.

    Each temporary file has its target's own name, inside a temporary folder beside the target
    (``out.mp4`` -> ``.out.mp4.<pid>-<hex>.tmp/out.mp4``), so that libraries which pick a format
    from the file name still work. On any exception (Ctrl-C and SIGTERM included) every temporary
    folder is removed and nothing appears under a final name; a full disk becomes an
    :class:`InputError` (see the module docstring).
    """
    paths = [None if t is None else Path(t) for t in targets]
    pairs: list[tuple[Path, Path]] = []  # (temporary, target), in the order given
    made: list[Path] = []  # folders this call created, removed again (when empty) on failure
    try:
        for target in paths:
            if target is not None:
                made += _make_parents(target.parent)
                pairs.append((_new_temp_file(target), target))
        temps = iter(tmp for tmp, _ in pairs)
        yield [None if t is None else next(temps) for t in paths]
        _commit(pairs)
    except BaseException as exc:
        for tmp, _ in pairs:
            _discard(tmp.parent)
        for folder in sorted(made, key=lambda f: len(f.parts), reverse=True):
            with contextlib.suppress(OSError):
                folder.rmdir()
        if is_no_room(exc):
            raise no_room_error(exc, [p for p in paths if p is not None]) from None
        raise


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; on success rename it to ``target`` (one file of :func:`atomic_files`)."""
    with atomic_files(target) as (tmp,):
        yield tmp


@contextlib.contextmanager
def atomic_dir(target: str | os.PathLike, *, keep_marker: bool = False) -> Iterator[Path]:
    """Yield a temporary folder beside ``target``; on success move it into place.

    The temporary folder holds the project's marker file (:data:`~fpdm_video.temp_names.MARKER`)
    while it is written; ``keep_marker=True`` leaves it in the finished folder, for writers that
    finish a folder in two steps (the PHOENIX writer removes it once the corpus row is written).
    An existing ``target`` is replaced only after the new folder is complete: it is marked, moved
    aside under an ``.old`` name, the new folder moved in, and the old one removed.
    """
    target = Path(target)
    check_writable_dir(target.parent)
    tmp = _new_temp_dir(target)
    try:
        yield tmp
        if not keep_marker:
            (tmp / MARKER).unlink(missing_ok=True)
        if target.is_dir() and not target.is_symlink():
            old = target.with_name(temp_name(target.name, "old"))
            try:
                mark(target)
            except OSError:
                (target / MARKER).unlink(missing_ok=True)  # no half-written marker in the old folder
                raise
            os.replace(target, old)
            os.replace(tmp, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, target)
        _fsync(target.parent, folder=True)
    except BaseException as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        if is_no_room(exc):
            raise no_room_error(exc, [target]) from None
        raise
