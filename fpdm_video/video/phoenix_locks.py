"""The lock files that keep PHOENIX writers from stepping on each other (:func:`fpdm_video.file_lock.file_lock`).

They live in the root's hidden ``.phoenix-locks`` folder. One lock per split guards the corpus CSV;
clips are guarded by a fixed set of striped locks, so that writers of different clips run in
parallel and writers of the same clip take turns. Run the writers of one dataset on one host
(``flock`` is local to one machine).
"""

from __future__ import annotations

import zlib
from pathlib import Path

from fpdm_video.video.phoenix_layout import PhoenixLayout

CLIP_LOCK_STRIPES = 64  # clip locks per dataset root; clips whose names share a stripe take turns


def corpus_lock_path(layout: PhoenixLayout, split: str) -> Path:
    """Lock file guarding the corpus CSV of ``split``."""
    return layout.lock_dir() / f"corpus-{split}.lock"


def clip_lock_path(layout: PhoenixLayout, split: str, name: str) -> Path:
    """Striped lock file guarding the frame folder of clip ``name`` in ``split``."""
    stripe = zlib.crc32(f"{split}/{name}".encode()) % CLIP_LOCK_STRIPES
    return layout.lock_dir() / f"clip-{stripe:02d}.lock"
