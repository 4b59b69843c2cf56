"""Where RWTH-PHOENIX-Weather 2014T keeps its files, and the checks of a root, a split and a name.

The official layout, relative to the dataset root (the ``PHOENIX-2014-T`` folder of the release)::

    features/fullFrame-210x260px/{train,dev,test}/<name>/images0001.png ...
    annotations/manual/PHOENIX-2014-T.{train,dev,test}.corpus.csv

Frames are named ``images%04d.png``, 1-based, 210x260 (W x H) at 25 fps.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from fpdm_video.errors import CorpusFormatError

SPLITS: tuple[str, ...] = ("train", "dev", "test")  # the official splits (7096 / 519 / 642 videos)
FEATURES_SUBDIR = Path("features") / "fullFrame-210x260px"  # frame folders, relative to the root
ANNOTATIONS_SUBDIR = Path("annotations") / "manual"  # corpus CSVs, relative to the root
CORPUS_NAME = "PHOENIX-2014-T.{split}.corpus.csv"  # corpus file name of one split
FRAME_NAME = "images{:04d}.png"  # frame ``i`` (1-based) of a clip folder
PHOENIX_SIZE = (210, 260)  # (W, H) of PHOENIX frames; tools built for PHOENIX assume it


def check_split(split: str) -> str:
    """``split`` if it is one of :data:`SPLITS`; raises :class:`CorpusFormatError` otherwise."""
    if split not in SPLITS:
        raise CorpusFormatError(f"unknown PHOENIX split {split!r}; use one of {', '.join(SPLITS)}")
    return split


def check_name(name: str) -> str:
    """``name`` if it can name a clip folder; raises :class:`CorpusFormatError` otherwise.

    A name is one path component that does not start with ``.`` (hidden names are kept for
    temporary folders) and holds no ``|`` or line break (the corpus format is unquoted).
    """
    if not isinstance(name, str) or not name:
        raise CorpusFormatError(f"a PHOENIX sample name must be a non-empty string, got {name!r}")
    bad = [c for c in ("/", "\\", "|", "\n", "\r", "\0") if c in name]
    if bad or name.startswith(".") or name != name.strip():
        raise CorpusFormatError(
            f"PHOENIX sample name {name!r} cannot be a folder name in the corpus layout; use one path "
            "component without '/', '|', line breaks, a leading '.' or surrounding spaces "
            "(e.g. 01April_2010_Thursday_heute-6694)"
        )
    return name


@dataclass(frozen=True)
class PhoenixLayout:
    """Paths of one PHOENIX-2014T dataset root."""

    root: Path  # the folder holding features/ and annotations/

    @classmethod
    def of(cls, root: str | os.PathLike) -> PhoenixLayout:
        return cls(Path(root))

    def split_dir(self, split: str) -> Path:
        """``features/fullFrame-210x260px/<split>``: the parent of the split's clip folders."""
        return self.root / FEATURES_SUBDIR / check_split(split)

    def frames_dir(self, split: str, name: str) -> Path:
        """The frame folder of clip ``name`` in ``split``."""
        return self.split_dir(split) / check_name(name)

    def corpus_path(self, split: str) -> Path:
        """``annotations/manual/PHOENIX-2014-T.<split>.corpus.csv``."""
        return self.root / ANNOTATIONS_SUBDIR / CORPUS_NAME.format(split=check_split(split))

    def lock_dir(self) -> Path:
        """Hidden folder of the writers' lock files (outside the official layout)."""
        return self.root / ".phoenix-locks"

    def check_root(self) -> None:
        """Raise :class:`CorpusFormatError` unless the root exists and has ``annotations/manual``."""
        if not self.root.is_dir():
            raise CorpusFormatError(
                f"PHOENIX root {self.root} does not exist or is not a folder; point to the "
                "PHOENIX-2014-T folder that holds features/ and annotations/"
            )
        if not (self.root / ANNOTATIONS_SUBDIR).is_dir():
            nested = [p for p in self.root.iterdir() if p.is_dir() and (p / ANNOTATIONS_SUBDIR).is_dir()]
            hint = f"; did you mean {nested[0]}?" if nested else ""
            raise CorpusFormatError(
                f"PHOENIX root {self.root} has no {ANNOTATIONS_SUBDIR} folder; point to the "
                f"PHOENIX-2014-T folder that holds features/ and annotations/{hint}"
            )
