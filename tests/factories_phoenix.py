"""A tiny PHOENIX-2014T dataset built by hand (plain files, not the project's writer).

``make_phoenix_fixture`` writes ``clips`` clips of ``frames`` distinct generated frames each into
the official layout, with a corpus CSV whose rows look like the real ones (umlauts included), so
that reader tests do not depend on the writer and later tests (augmentation) can reuse it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from factories_video import make_clip, write_frame_folder

HEADER_LINE = "name|video|start|end|speaker|orth|translation"
_GLOSSES = ("JETZT WETTER MORGEN", "REGEN SCHNEE REGION", "SONNE WOLKE NORD", "DRUCK TIEF KOMMEN")
_TRANSLATIONS = (
    "und nun die wettervorhersage für morgen",
    "regen und schnee lassen an den alpen nach",
    "im süden scheint öfter die sonne",
    "tiefer luftdruck bestimmt unser wetter",
)


@dataclass
class FixtureClip:
    """One clip of the fixture: its corpus fields and the frames written for it."""

    name: str  # corpus name and frame folder name
    speaker: str  # e.g. "Signer03"
    orth: str  # glosses
    translation: str  # German sentence (with umlauts)
    frames: np.ndarray  # (T, H, W, 3) uint8, exactly as saved (PNG is lossless)

    @property
    def row(self) -> str:
        """The corpus line of this clip, in the official style."""
        return f"{self.name}|{self.name}/1/*.png|-1|-1|{self.speaker}|{self.orth}|{self.translation}"


def corpus_path(root: Path, split: str) -> Path:
    return root / "annotations" / "manual" / f"PHOENIX-2014-T.{split}.corpus.csv"


def frames_root(root: Path, split: str) -> Path:
    return root / "features" / "fullFrame-210x260px" / split


def make_phoenix_fixture(
    root: Path, split: str = "dev", clips: int = 3, frames: int = 5, size: tuple[int, int] = (210, 260), seed: int = 0
) -> list[FixtureClip]:
    """Write a PHOENIX-2014T split under ``root``: ``clips`` clips of ``frames`` frames of ``size`` (W, H).

    Every clip has different content (its own seed). Returns the clips in corpus order.
    """
    width, height = size
    made = []
    for i in range(clips):
        made.append(
            FixtureClip(
                name=f"{11 + i:02d}August_2010_Wednesday_tagesschau-{seed * 100 + i + 1}",
                speaker=f"Signer{(seed + i) % 9 + 1:02d}",
                orth=_GLOSSES[i % len(_GLOSSES)],
                translation=_TRANSLATIONS[i % len(_TRANSLATIONS)],
                frames=make_clip(t=frames, w=width, h=height, seed=seed * 1000 + 7 * i + 1),
            )
        )
    for clip in made:
        write_frame_folder(frames_root(root, split) / clip.name, clip.frames)
    path = corpus_path(root, split)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join([HEADER_LINE] + [clip.row for clip in made]) + "\n", encoding="utf-8")
    return made
