"""Read a RWTH-PHOENIX-Weather 2014T dataset: list samples per split, get one by name, load frames.

A sample's frames are found by its name, as the official loaders do:
``features/fullFrame-210x260px/<split>/<name>/images0001.png ...``; the corpus's ``video`` glob is
kept as text but not used to find them. Frames load as a :class:`~fpdm_video.video.types.Clip` at
25 fps through :func:`~fpdm_video.video.reader.read_video`. Corpus files are parsed once and parsed
again only when they change on disk (a writer in another process may add rows).

Example::

    dataset = PhoenixDataset("/data/PHOENIX-2014-T")
    for sample in dataset.samples("dev"):
        clip = load_sample(sample)  # clip.frames: (T, 260, 210, 3) uint8, clip.fps == 25
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from fpdm_video.errors import CorpusFormatError, InputError, VideoReadError
from fpdm_video.video.frames_dir import list_frame_files
from fpdm_video.video.phoenix_corpus import CorpusFile, PhoenixSample
from fpdm_video.video.phoenix_layout import SPLITS, PhoenixLayout, check_split
from fpdm_video.video.reader import iter_video_chunks, read_video
from fpdm_video.video.types import PHOENIX_FPS, Clip


@contextlib.contextmanager
def _about(sample: PhoenixSample) -> Iterator[None]:
    """Prefix frame-reading errors with the sample and the corpus line that names it."""
    try:
        yield
    except VideoReadError as exc:
        raise VideoReadError(f"sample {sample.name!r} ({sample.where()}): {exc}") from None


def _existing_frames_dir(sample: PhoenixSample) -> Path:
    if not sample.frames_dir.is_dir():
        raise VideoReadError(
            f"sample {sample.name!r} ({sample.where()}) names frame folder {sample.frames_dir}, which does "
            "not exist; check that the features/ folder of this split is complete, or remove the row"
        )
    return sample.frames_dir


def count_sample_frames(sample: PhoenixSample) -> int:
    """Number of frame files of ``sample``, counted without decoding any."""
    folder = _existing_frames_dir(sample)
    with _about(sample):
        return len(list_frame_files(folder))


def load_sample(sample: PhoenixSample, start: int = 0, end: int | None = None) -> Clip:
    """Frames ``[start, end)`` (0-based) of ``sample`` as a 25 fps clip of (T, H, W, 3) uint8 RGB."""
    folder = _existing_frames_dir(sample)
    with _about(sample):
        return read_video(folder, start, end, folder_fps=PHOENIX_FPS)


def iter_sample_chunks(
    sample: PhoenixSample, chunk_size: int = 16, start: int = 0, end: int | None = None
) -> Iterator[Clip]:
    """Frames ``[start, end)`` of ``sample``, ``chunk_size`` at a time (see ``iter_video_chunks``)."""
    folder = _existing_frames_dir(sample)
    with _about(sample):
        return iter_video_chunks(folder, chunk_size, start, end, folder_fps=PHOENIX_FPS)


class PhoenixDataset:
    """The corpus of a PHOENIX-2014T root, split by split."""

    def __init__(self, root: str | os.PathLike) -> None:
        self.layout = PhoenixLayout.of(root)
        self.layout.check_root()
        self._corpora: dict[str, CorpusFile] = {}  # split -> its corpus, parsed when it changes

    @property
    def root(self) -> Path:
        return self.layout.root

    def splits(self) -> list[str]:
        """The splits whose corpus CSV exists, in the order train, dev, test."""
        return [split for split in SPLITS if self.layout.corpus_path(split).is_file()]

    def _missing_split(self, split: str) -> CorpusFormatError:
        present = ", ".join(self.splits()) or "none"
        return CorpusFormatError(
            f"split {split!r} has no corpus file {self.layout.corpus_path(split)} (splits present: "
            f"{present}); pick a split that exists or add the annotations of this one"
        )

    def _corpus(self, split: str) -> CorpusFile:
        """The (cached) corpus of ``split``."""
        if split not in self._corpora:
            path = self.layout.corpus_path(check_split(split))
            self._corpora[split] = CorpusFile(path, split, self.layout.split_dir(split))
        return self._corpora[split]

    def samples(self, split: str) -> list[PhoenixSample]:
        """All samples of ``split`` in corpus order."""
        try:
            return self._corpus(split).samples()
        except FileNotFoundError:
            raise self._missing_split(split) from None

    def sample(self, name: str, split: str | None = None) -> PhoenixSample:
        """The sample called ``name``, looked up in ``split`` or, if None, in every split present."""
        splits = [check_split(split)] if split is not None else self.splits()
        for candidate in splits:
            try:
                found = self._corpus(candidate).get(name)
            except FileNotFoundError:
                raise self._missing_split(candidate) from None
            if found is not None:
                return found
        raise InputError(
            f"no sample named {name!r} in split(s) {', '.join(splits) or 'none'} of {self.root}; "
            "check the name against the corpus CSV's first column"
        )

    def num_frames(self, sample: PhoenixSample) -> int:
        """Frame count of ``sample`` without decoding (see :func:`count_sample_frames`)."""
        return count_sample_frames(sample)

    def load(self, sample: PhoenixSample, start: int = 0, end: int | None = None) -> Clip:
        """Frames of ``sample`` as a 25 fps clip (see :func:`load_sample`)."""
        return load_sample(sample, start, end)
