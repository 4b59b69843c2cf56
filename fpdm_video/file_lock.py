"""Advisory file locks (``fcntl.flock``): writers of one folder take turns, or the second one is refused.

:func:`file_lock` locks a lock file; :func:`folders_locked` locks folders themselves, for the moment
:mod:`fpdm_video.atomic` renames a group of files into them.

``flock`` locks belong to an open file description, so two holders conflict whether they are in
one process (threads, two writer objects) or in several, and the kernel releases a lock when its
process dies, however it dies: a killed run leaves no stale lock. Lock files are never deleted
(deleting a lock file races with its users). ``flock`` is local to one machine and unreliable on
some network file systems: run the writers of one folder on one host.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from fpdm_video.errors import InputError


@contextlib.contextmanager
def file_lock(path: Path, blocking: bool = True) -> Iterator[bool]:
    """Hold an exclusive ``flock`` on ``path`` (created if absent, with its folders) for the ``with`` block.

    Yields True once the lock is held. With ``blocking=False`` it yields False at once, holding
    nothing, when someone else holds the lock.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    except OSError as exc:
        raise InputError(f"cannot create lock file {path}: {exc.strerror or exc}; is its folder writable?") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if blocking else fcntl.LOCK_EX | fcntl.LOCK_NB)
            held = True
        except BlockingIOError:
            held = False
        try:
            yield held
        finally:
            if held:
                fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


@contextlib.contextmanager
def folders_locked(folders: Iterable[Path]) -> Iterator[None]:
    """Hold an exclusive ``flock`` on each of ``folders`` itself (no lock file is made), in path order, for the block.

    What renames a group of files into these folders under it cannot interleave with another such group.
    Where a folder cannot be opened for reading or its file system has no ``flock`` on folders, the block runs
    without that lock.
    """
    with contextlib.ExitStack() as held:
        for folder in sorted({Path(f) for f in folders}):
            try:
                fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
            except PermissionError:  # a folder one may write to but not list
                continue
            held.callback(os.close, fd)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
            except OSError as exc:
                if exc.errno not in (errno.ENOLCK, errno.EOPNOTSUPP, errno.EINVAL):
                    raise
                continue
            held.callback(fcntl.flock, fd, fcntl.LOCK_UN)
        yield
