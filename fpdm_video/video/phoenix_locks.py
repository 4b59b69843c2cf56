"""Advisory file locks (``fcntl.flock``) that keep PHOENIX writers from stepping on each other.

``flock`` locks belong to an open file description, so two writers conflict whether they are in
one process (threads, two writer objects) or in several. Lock files live in the root's hidden
``.phoenix-locks`` folder and are never deleted (deleting a lock file races with its users). One
lock per split guards the corpus CSV; clips are guarded by a fixed set of striped locks, so that
writers of different clips run in parallel and writers of the same clip take turns. ``flock`` is
local to one machine and unreliable on some network file systems: run writers of one dataset on
one host.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import zlib
from collections.abc import Iterator
from pathlib import Path

from fpdm_video.errors import InputError
from fpdm_video.video.phoenix_layout import PhoenixLayout

CLIP_LOCK_STRIPES = 64  # clip locks per dataset root; clips whose names share a stripe take turns


@contextlib.contextmanager
def file_lock(path: Path, blocking: bool = True) -> Iterator[bool]:
    """Hold an exclusive ``flock`` on ``path`` (created if absent) for the ``with`` block.

    Yields True once the lock is held. With ``blocking=False`` it yields False at once, holding
    nothing, when someone else holds the lock.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    except OSError as exc:
        raise InputError(f"cannot create lock file {path}: {exc.strerror or exc}; is the dataset root writable?") from None
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


def corpus_lock_path(layout: PhoenixLayout, split: str) -> Path:
    """Lock file guarding the corpus CSV of ``split``."""
    return layout.lock_dir() / f"corpus-{split}.lock"


def clip_lock_path(layout: PhoenixLayout, split: str, name: str) -> Path:
    """Striped lock file guarding the frame folder of clip ``name`` in ``split``."""
    stripe = zlib.crc32(f"{split}/{name}".encode()) % CLIP_LOCK_STRIPES
    return layout.lock_dir() / f"clip-{stripe:02d}.lock"
