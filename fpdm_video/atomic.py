"""Atomic file output: write under a temporary name beside the target, rename when complete.

A crash, an exception, Ctrl-C or SIGTERM inside the ``with`` block leaves no file under the final
name, and the temporary file is removed (with the folders made for it, when they are empty). Temporary names carry the writer's pid
(:mod:`fpdm_video.temp_names`), so what a killed process leaves behind is removed by the next run
into the same folder.

Files that belong together (a video and its record) are written with :func:`atomic_files`: all
of them under temporary names first, then renamed in the order given, the last one being the
commit. Before the first rename, an older file under the last name is removed, and a failed rename
takes back the ones already made, so no state that a crash or an error leaves ever shows the last
file (the video) without the others (its record) or beside older ones; what can be seen in the
instant between two renames is the earlier files without the last, which says plainly that the
run did not finish.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

from fpdm_video.errors import InputError
from fpdm_video.temp_names import MARKER, temp_name


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


def _new_temp_file(target: Path, suffix: str) -> Path:
    """Create an empty temporary file beside ``target`` (pid-tagged name, ordinary mode) and return its path."""
    for _ in range(100):
        tmp = target.with_name(temp_name(target.name, "tmp", suffix))
        try:
            os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
            return tmp
        except FileExistsError:
            continue
        except OSError as exc:
            raise InputError(f"cannot write into {target.parent}: {exc.strerror or exc}; choose another output folder") from None
    raise InputError(f"cannot find a free temporary name beside {target}")  # pragma: no cover


def _fsync(path: Path, *, folder: bool = False) -> None:
    """Flush ``path`` to disk (best effort: some file systems refuse fsync on folders)."""
    try:
        fd = os.open(path, os.O_RDONLY | (os.O_DIRECTORY if folder else 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _remove(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError, IsADirectoryError, NotADirectoryError):
        path.unlink()


def _commit(pairs: list[tuple[Path, Path]]) -> None:
    """Rename every (temporary, target) pair in order; see the module docstring for why this order."""
    for tmp, _ in pairs:
        _fsync(tmp)
        os.chmod(tmp, default_file_mode())  # some writers (safetensors, mkstemp) make 0600
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
    for folder in {target.parent for _, target in pairs}:
        _fsync(folder, folder=True)


@contextlib.contextmanager
def atomic_files(*targets: str | os.PathLike | None) -> Iterator[list[Path | None]]:
    """Yield one temporary path per target (None for a None target); on success rename them in order.

    Each temporary name keeps its target's suffix (``out.mp4`` -> ``.out.mp4.<pid>-<hex>.tmp.mp4``)
    so that libraries which pick a format from the file name still work. On any exception (Ctrl-C
    and SIGTERM included) every temporary file is removed and nothing appears under a final name.
    """
    paths = [None if t is None else Path(t) for t in targets]
    pairs: list[tuple[Path, Path]] = []  # (temporary, target), in the order given
    made: list[Path] = []  # folders this call created, removed again (when empty) on failure
    try:
        for target in paths:
            if target is not None:
                made += _make_parents(target.parent)
                pairs.append((_new_temp_file(target, target.suffix), target))
        temps = iter(tmp for tmp, _ in pairs)
        yield [None if t is None else next(temps) for t in paths]
        _commit(pairs)
    except BaseException:
        for tmp, _ in pairs:
            _remove(tmp)
        for folder in sorted(made, key=lambda f: len(f.parts), reverse=True):
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; on success rename it to ``target`` (one file of :func:`atomic_files`)."""
    with atomic_files(target) as (tmp,):
        yield tmp


def _mark(folder: Path) -> None:
    (folder / MARKER).write_text(f"{os.getpid()}\n")


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
    tmp = target.with_name(temp_name(target.name, "tmp"))
    try:
        tmp.mkdir(mode=0o777)
    except OSError as exc:
        raise InputError(f"cannot write into {target.parent}: {exc.strerror or exc}; choose another output folder") from None
    try:
        _mark(tmp)
        yield tmp
        if not keep_marker:
            (tmp / MARKER).unlink(missing_ok=True)
        if target.is_dir() and not target.is_symlink():
            old = target.with_name(temp_name(target.name, "old"))
            _mark(target)
            os.replace(target, old)
            os.replace(tmp, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, target)
        _fsync(target.parent, folder=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise

