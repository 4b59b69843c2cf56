"""Write clips into a PHOENIX-2014T layout that tools built for PHOENIX can load.

Each :meth:`PhoenixWriter.add_clip` writes one clip's frames as lossless PNGs
(``images0001.png ...``) and adds or replaces its row in the split's corpus CSV. The order keeps
the dataset loadable after a crash at any point:

1. The frames are written into a temporary hidden folder beside the clip's folder and renamed into
   place when all are written (:func:`~fpdm_video.atomic.atomic_dir`); an exception or Ctrl-C
   removes the temporary folder and leaves the previous state untouched.
2. Under the corpus lock, the CSV is read again (another writer may have added rows), the row is
   added (or the row of the same name replaced in place) and the whole file is written to a
   temporary name, flushed to disk and renamed over the old one.

3. The clip folder carries the project's marker file (``.fpdm-partial``) from its first frame
   until its row is written; then the marker is removed.

A crash between 1 and 2 leaves a folder without a row, still marked: :meth:`PhoenixWriter.is_complete`
says False, so resumable jobs write it again (which replaces the folder), and
``recover(remove_orphans=True)`` may delete it. A folder without a row and without the marker was
not made by this writer (a user's folder, a clip of another tool): it is reported, never deleted.
A crash inside 1 leaves a hidden ``.<name>.<pid>-<hex>.tmp`` folder (see
:mod:`fpdm_video.temp_names`), which :meth:`PhoenixWriter.recover` (run when a writer opens)
removes once its process has ended. Writers of one root may run in several threads and processes
(see ``phoenix_locks``).
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
from PIL import Image

from fpdm_video.atomic import atomic_dir, atomic_path, check_writable_dir
from fpdm_video.temp_names import MARKER, is_marked, is_project_temp, pid_alive, remove_stale
from fpdm_video.errors import InputError, VideoReadError, VideoWriteError
from fpdm_video.file_lock import file_lock
from fpdm_video.video.frames_dir import list_frame_files
from fpdm_video.video.phoenix_corpus import CorpusFile, PhoenixSample, check_sample_fields, format_corpus
from fpdm_video.video.phoenix_layout import FRAME_NAME, PHOENIX_SIZE, PhoenixLayout, check_split
from fpdm_video.video.phoenix_locks import clip_lock_path, corpus_lock_path
from fpdm_video.video.types import Clip
from fpdm_video.video.writer import as_frame_batch

logger = logging.getLogger(__name__)

# frames of one clip: a (T, H, W, 3) uint8 array, a Clip, or an iterable of (t, H, W, 3) /
# (H, W, 3) arrays or Clips (e.g. chunks as a renderer produces them)
FrameSource = np.ndarray | Clip | Iterable[np.ndarray | Clip]


@dataclass
class RecoveryReport:
    """What :meth:`PhoenixWriter.recover` found in a split."""

    removed: list[Path] = field(default_factory=list)  # temporary folders/files of interrupted writes, deleted
    restored: list[str] = field(default_factory=list)  # clips whose replaced folder was moved back in place
    orphans: list[str] = field(default_factory=list)  # clip folders without a corpus row
    removed_orphans: list[str] = field(default_factory=list)  # of those, the ones this writer made, deleted when asked


def iter_frame_batches(frames: FrameSource) -> Iterator[np.ndarray]:
    """``frames`` as a stream of checked (t, H, W, 3) uint8 batches."""
    if isinstance(frames, Clip):
        frames = frames.frames
    if isinstance(frames, np.ndarray):
        yield as_frame_batch(frames)
        return
    if isinstance(frames, (str, bytes, os.PathLike)) or not isinstance(frames, Iterable):
        raise VideoWriteError(
            f"frames must be a (T, H, W, 3) uint8 array, a Clip or an iterable of frame chunks, got "
            f"{type(frames).__name__}; load a video first with fpdm_video.video.read_video"
        )
    for chunk in frames:
        yield as_frame_batch(chunk.frames if isinstance(chunk, Clip) else chunk, "each frame chunk")


def write_png_frames(folder: Path, frames: FrameSource, compress_level: int = 6) -> tuple[int, int, int]:
    """Save ``frames`` as ``folder/images0001.png ...``; return (count, width, height).

    Raises :class:`VideoWriteError` for no frames, non-uint8 or misshaped frames, or frames whose
    size changes within the clip.
    """
    count, size = 0, None
    for batch in iter_frame_batches(frames):  # (t, H, W, 3)
        if size is None:
            size = batch.shape[1:3]
        elif batch.shape[1:3] != size:
            raise VideoWriteError(
                f"frame {count + 1} is {batch.shape[2]}x{batch.shape[1]} but earlier frames are "
                f"{size[1]}x{size[0]} (W x H); all frames of a clip must have one size"
            )
        for frame in batch:  # (H, W, 3)
            count += 1
            Image.fromarray(frame).save(folder / FRAME_NAME.format(count), format="PNG", compress_level=compress_level)
    if size is None:
        raise VideoWriteError("the clip has no frames; give at least one (H, W, 3) uint8 frame")
    return count, int(size[1]), int(size[0])


def _write_corpus(path: Path, samples: list[PhoenixSample]) -> None:
    """Replace corpus ``path`` atomically with ``samples`` (temp file, fsync, rename)."""
    text = format_corpus(samples)
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8", newline="") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())


class PhoenixWriter:
    """Add clips to one split of a PHOENIX-2014T root, creating the layout if needed.

    Opening a writer creates ``features/fullFrame-210x260px/<split>/`` and an empty corpus (header
    only) if absent, then runs :meth:`recover` (its report is kept as ``recovered``).
    """

    def __init__(self, root: str | os.PathLike, split: str, *, compress_level: int = 6) -> None:
        if not (isinstance(compress_level, int) and 0 <= compress_level <= 9):
            raise InputError(f"compress_level must be an integer from 0 to 9 (zlib level), got {compress_level!r}")
        self.layout = PhoenixLayout.of(root)
        self.split = check_split(split)
        self.compress_level = compress_level  # PNG zlib level: 0 fastest/largest .. 9 smallest/slowest
        self._warned_size = False
        self._corpus = CorpusFile(self.corpus_path, self.split, self.split_dir)
        check_writable_dir(self.split_dir)
        check_writable_dir(self.corpus_path.parent)
        with file_lock(corpus_lock_path(self.layout, self.split)):
            if not self.corpus_path.exists():
                _write_corpus(self.corpus_path, [])
        self.recovered = self.recover()  # what opening found and cleaned up

    @property
    def split_dir(self) -> Path:
        return self.layout.split_dir(self.split)

    @property
    def corpus_path(self) -> Path:
        return self.layout.corpus_path(self.split)

    def samples(self) -> list[PhoenixSample]:
        """The rows of this split's corpus as they are on disk now (none if the file is gone)."""
        try:
            return self._corpus.samples()
        except FileNotFoundError:
            return []

    def _row(self, name: str) -> PhoenixSample | None:
        try:
            return self._corpus.get(name)
        except FileNotFoundError:
            return None

    def add_clip(
        self,
        name: str,
        frames: FrameSource,
        *,
        speaker: str = "",
        orth: str = "",
        translation: str = "",
        video: str | None = None,
        start: int = -1,
        end: int = -1,
    ) -> PhoenixSample:
        """Write clip ``name`` (frames + corpus row); a row of the same name is replaced in place.

        ``video`` defaults to ``<name>/1/*.png`` as in the official corpus files. Returns the row as
        written, with its corpus line. All fields are checked before anything is written.
        """
        sample = check_sample_fields(
            PhoenixSample(
                name=name,
                split=self.split,
                video=f"{name}/1/*.png" if video is None else video,
                start=start,
                end=end,
                speaker=speaker,
                orth=orth,
                translation=translation,
                frames_dir=self.layout.frames_dir(self.split, name),
            )
        )
        self.samples()  # fail before writing frames if the existing corpus is malformed
        with file_lock(clip_lock_path(self.layout, self.split, name)):
            try:
                with atomic_dir(sample.frames_dir, keep_marker=True) as tmp:
                    count, width, height = write_png_frames(tmp, frames, self.compress_level)
            except VideoWriteError as exc:
                raise VideoWriteError(f"clip {self.split}/{name}: {exc}") from None
            self._warn_size(width, height)
            with file_lock(corpus_lock_path(self.layout, self.split)):
                current = self.samples()  # again: other writers may have added rows meanwhile
                index = next((i for i, row in enumerate(current) if row.name == name), len(current))
                rows = [row for row in current if row.name != name]
                rows.insert(index, sample)  # a replaced row keeps its place
                _write_corpus(self.corpus_path, rows)
            (sample.frames_dir / MARKER).unlink(missing_ok=True)  # the clip is complete
        logger.info("wrote %s/%s: %d frames %dx%d", self.split, name, count, width, height)
        return replace(sample, corpus=self.corpus_path, line=index + 2)

    def _warn_size(self, width: int, height: int) -> None:
        if (width, height) != PHOENIX_SIZE and not self._warned_size:
            self._warned_size = True
            logger.warning(
                "frames are %dx%d, not PHOENIX's %dx%d (W x H); tools that assume fullFrame-210x260px "
                "may crop or resize them",
                width,
                height,
                *PHOENIX_SIZE,
            )

    def is_complete(self, name: str, num_frames: int | None = None) -> bool:
        """True if clip ``name`` has its corpus row and a frame folder (of ``num_frames`` frames if given).

        Resumable jobs skip complete clips; an incomplete one (folder without row, say, after a
        crash) is written again with :meth:`add_clip`.
        """
        folder = self.layout.frames_dir(self.split, name)
        if self._row(name) is None or not folder.is_dir():
            return False
        try:
            count = len(list_frame_files(folder))
        except VideoReadError:  # an empty folder
            return False
        return num_frames is None or count == num_frames

    def recover(self, remove_orphans: bool = False) -> RecoveryReport:
        """Clean up after interrupted writes in this split; clips being written now are left alone.

        Removes the temporary folders and corpus files of interrupted writes, moves a clip folder
        back in place where a crash hit while it was being replaced, and lists clip folders that
        have no corpus row. ``remove_orphans=True`` deletes those of them that this writer made
        (they carry its marker), never another folder. An entry is handled only when the process
        named in its temporary name has ended and no writer holds its clip lock.
        """
        report = RecoveryReport()
        named = {row.name for row in self.samples()}
        for entry in sorted(p for p in self.split_dir.iterdir() if p.is_dir()):
            parsed = is_project_temp(entry)
            if parsed is None and entry.name.startswith("."):
                continue  # a hidden folder this project did not make
            if parsed is not None and pid_alive(parsed.pid):
                continue  # its writer is still at work
            name, kind = (entry.name, None) if parsed is None else (parsed.target, parsed.kind)
            if kind is None and name in named and not (entry / MARKER).exists():
                continue  # a complete clip
            with file_lock(clip_lock_path(self.layout, self.split, name), blocking=False) as free:
                if free:
                    self._recover_entry(entry, name, kind, remove_orphans, report)
        with file_lock(corpus_lock_path(self.layout, self.split)):
            report.removed.extend(remove_stale(self.corpus_path.parent))  # corpus files of dead writers
        if report.removed or report.restored or report.orphans:
            kept = [o for o in report.orphans if o not in report.removed_orphans]
            logger.warning(
                "split %s of %s: removed %d leftovers of interrupted writes, restored %s; %d clip folders have no "
                "corpus row (%d of this writer's deleted; add_clip writes them again), kept: %s",
                self.split,
                self.layout.root,
                len(report.removed),
                report.restored or "none",
                len(report.orphans),
                len(report.removed_orphans),
                ", ".join(kept[:5]) + (" ..." if len(kept) > 5 else "") if kept else "none",
            )
        return report

    def _recover_entry(
        self, entry: Path, name: str, kind: str | None, remove_orphans: bool, report: RecoveryReport
    ) -> None:
        """Recover one folder of the split while holding its clip lock."""
        target = self.split_dir / name
        if kind == "tmp" or (kind == "old" and target.exists()):
            shutil.rmtree(entry, ignore_errors=True)
            report.removed.append(entry)
        elif kind == "old":
            os.replace(entry, target)
            (target / MARKER).unlink(missing_ok=True)
            report.restored.append(name)
        elif self._row(name) is not None:  # a complete clip whose marker outlived a crash after its row
            (entry / MARKER).unlink(missing_ok=True)
        else:  # look again (above): a writer may just have added it
            report.orphans.append(name)
            if remove_orphans and is_marked(entry):  # this writer's marker, written into this very folder
                shutil.rmtree(entry)
                report.removed_orphans.append(name)
