"""Advisory file locks (``fcntl.flock``): writers of one folder take turns, or the second one is refused.

``flock`` locks belong to an open file description, so two holders conflict whether they are in
one process (threads, two writer objects) or in several, and the kernel releases a lock when its
process dies, however it dies: a killed run leaves no stale lock. Lock files are never deleted
(deleting a lock file races with its users). ``flock`` is local to one machine and unreliable on
some network file systems: run the writers of one folder on one host.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
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
