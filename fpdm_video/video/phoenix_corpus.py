"""The PHOENIX-2014T corpus CSV: one :class:`PhoenixSample` per row, parsed and written strictly.

The format is UTF-8 text, ``|``-delimited, unquoted, with the header
``name|video|start|end|speaker|orth|translation``; official files have ``start = end = -1`` and
``video`` like ``train/<name>/1/*.png``. Because nothing is quoted, a field can hold no ``|`` and
no line break; the writer also refuses a field that starts with ``"``, which ``csv.reader`` and
``pandas.read_csv(sep='|')`` (how official loaders read the file) would take for a quoted field.
Blank lines are skipped, as pandas does. Every error names the file and the line.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from fpdm_video.errors import CorpusFormatError
from fpdm_video.video.phoenix_layout import check_name

HEADER: tuple[str, ...] = ("name", "video", "start", "end", "speaker", "orth", "translation")
DELIMITER = "|"
_FORBIDDEN = ("|", "\n", "\r")  # characters no field may hold (the format is unquoted)


@dataclass(frozen=True)
class PhoenixSample:
    """One row of a PHOENIX-2014T corpus, with the frame folder it names."""

    name: str  # clip name, also its frame folder's name, e.g. "01April_2010_Thursday_heute-6694"
    split: str  # "train", "dev" or "test"
    video: str  # the corpus's video glob, kept as text, e.g. "train/<name>/1/*.png"
    start: int  # first frame as written in the corpus (-1 in official files: whole clip)
    end: int  # last frame as written in the corpus (-1 in official files: whole clip)
    speaker: str  # signer id, e.g. "Signer08"
    orth: str  # gloss sequence, space-separated, e.g. "JETZT WETTER MORGEN"
    translation: str  # German sentence
    frames_dir: Path  # features/fullFrame-210x260px/<split>/<name>
    corpus: Path | None = field(default=None, compare=False, repr=False)  # CSV the row came from
    line: int = field(default=0, compare=False, repr=False)  # 1-based line in ``corpus``; 0 if none

    def fields(self) -> tuple[str, ...]:
        """The row's seven CSV fields, in :data:`HEADER` order."""
        return (self.name, self.video, str(self.start), str(self.end), self.speaker, self.orth, self.translation)

    def where(self) -> str:
        """``"<corpus>:<line>"`` for messages, or the sample name when it is not from a file."""
        return f"{self.corpus}:{self.line}" if self.corpus is not None else f"sample {self.name!r}"


def check_text_field(column: str, value: str) -> str:
    """``value`` if it can be written unquoted in column ``column``; raises otherwise."""
    if not isinstance(value, str):
        raise CorpusFormatError(f"corpus field {column!r} must be a string, got {type(value).__name__}")
    bad = [repr(c) for c in _FORBIDDEN if c in value]
    if bad:
        raise CorpusFormatError(
            f"corpus field {column!r} = {value!r} contains {', '.join(bad)}; the PHOENIX corpus is "
            "'|'-delimited and unquoted, so remove or replace these characters"
        )
    if value.startswith('"'):
        raise CorpusFormatError(
            f"corpus field {column!r} = {value!r} starts with '\"', which CSV readers take for a quoted "
            "field; remove the leading quote or move it inside the text"
        )
    return value


def check_frame_field(column: str, value: int) -> int:
    """``value`` as an int if it is an integer frame number (-1 for "whole clip"); raises otherwise."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < -1:
        raise CorpusFormatError(f"corpus field {column!r} must be an integer >= -1 (-1: whole clip), got {value!r}")
    return int(value)


def check_sample_fields(sample: PhoenixSample) -> PhoenixSample:
    """``sample`` if every field can be written to a corpus; raises :class:`CorpusFormatError`."""
    check_name(sample.name)
    for column in ("video", "speaker", "orth", "translation"):
        check_text_field(column, getattr(sample, column))
    check_frame_field("start", sample.start)
    check_frame_field("end", sample.end)
    return sample


def _parse_int(text: str, column: str, where: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise CorpusFormatError(f"{where}: field {column!r} must be an integer (-1 for the whole clip), got {text!r}") from None


def _parse_row(parts: list[str], split: str, split_dir: Path, path: Path, line: int) -> PhoenixSample:
    where = f"{path}:{line}"
    if len(parts) != len(HEADER):
        hint = (
            "missing field(s): is the line truncated or a '|' missing?"
            if len(parts) < len(HEADER)
            else "extra field(s): a '|' inside a text field is the usual cause"
        )
        raise CorpusFormatError(
            f"{where}: row has {len(parts)} fields, expected {len(HEADER)} ({DELIMITER.join(HEADER)}); {hint}"
        )
    name, video, start, end, speaker, orth, translation = parts
    try:
        check_name(name)
    except CorpusFormatError as exc:
        raise CorpusFormatError(f"{where}: {exc}") from None
    return PhoenixSample(
        name=name,
        split=split,
        video=video,
        start=_parse_int(start, "start", where),
        end=_parse_int(end, "end", where),
        speaker=speaker,
        orth=orth,
        translation=translation,
        frames_dir=split_dir / name,
        corpus=path,
        line=line,
    )


def read_corpus_text(path: Path) -> str:
    """The text of corpus ``path`` (UTF-8, a leading BOM dropped); raises if it cannot be read."""
    if not path.is_file():
        raise CorpusFormatError(
            f"corpus file {path} does not exist; a PHOENIX-2014T root has "
            "annotations/manual/PHOENIX-2014-T.<split>.corpus.csv for each split it holds"
        )
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CorpusFormatError(f"{path} is not UTF-8 text ({exc}); convert it to UTF-8") from None
    except OSError as exc:
        raise CorpusFormatError(f"cannot read corpus file {path}: {exc.strerror or exc}") from None


def parse_corpus(text: str, path: Path, split: str, split_dir: Path) -> list[PhoenixSample]:
    """The samples of a corpus file's ``text`` in file order; ``path`` is used in messages.

    Raises :class:`CorpusFormatError` for a missing or wrong header, a row with a missing or extra
    field, a non-integer start/end, a name that cannot be a folder, and a name that appears twice.
    """
    # split on \n (and \r\n) only, as csv and pandas do; str.splitlines would also split on
    # characters such as U+2028 that may sit inside a translation
    lines = [raw.removesuffix("\r") for raw in text.split("\n")]
    if lines[0] != DELIMITER.join(HEADER):
        got = repr(lines[0][:120]) if text else "an empty file"
        raise CorpusFormatError(
            f"{path}:1: expected the header {DELIMITER.join(HEADER)!r}, got {got}; is this a "
            "PHOENIX-2014T corpus CSV? (PHOENIX-2014 without -T uses another format)"
        )
    samples: list[PhoenixSample] = []
    first_line: dict[str, int] = {}
    for number, raw in enumerate(lines[1:], start=2):
        if not raw.strip():
            continue
        sample = _parse_row(raw.split(DELIMITER), split, split_dir, path, number)
        if sample.name in first_line:
            raise CorpusFormatError(
                f"{path}:{number}: sample {sample.name!r} already appears on line {first_line[sample.name]}; "
                "names must be unique - remove one of the rows"
            )
        first_line[sample.name] = number
        samples.append(sample)
    return samples


def format_corpus(samples: Iterable[PhoenixSample]) -> str:
    """Corpus text for ``samples``: header, one checked row per sample, ``\\n`` line ends."""
    rows = [DELIMITER.join(HEADER)]
    rows += [DELIMITER.join(check_sample_fields(sample).fields()) for sample in samples]
    return "\n".join(rows) + "\n"


class CorpusFile:
    """One corpus CSV, parsed on first use and parsed again only when the file changes on disk.

    A change is seen through (inode, size, mtime): writers replace the file by renaming a new one
    over it, which gives it a new inode. The file is stat-ed before it is read, so a replacement
    in between at worst costs one more parse later, never a stale cache.
    """

    def __init__(self, path: Path, split: str, split_dir: Path) -> None:
        self.path = path  # the corpus CSV
        self.split = split  # the split it describes
        self.split_dir = split_dir  # parent of the split's frame folders
        # (stamp, rows, rows by name), replaced as one object so threads never see a mix
        self._state: tuple[tuple[int, int, int], list[PhoenixSample], dict[str, PhoenixSample]] | None = None

    def _current(self) -> tuple[list[PhoenixSample], dict[str, PhoenixSample]]:
        """The parsed rows, parsing again if the file changed; ``FileNotFoundError`` if it is gone."""
        st = self.path.stat()
        stamp = (st.st_ino, st.st_size, st.st_mtime_ns)
        state = self._state
        if state is None or state[0] != stamp:
            samples = parse_corpus(read_corpus_text(self.path), self.path, self.split, self.split_dir)
            state = (stamp, samples, {sample.name: sample for sample in samples})
            self._state = state
        return state[1], state[2]

    def samples(self) -> list[PhoenixSample]:
        """All rows in file order (a new list; the samples themselves are immutable)."""
        return list(self._current()[0])

    def get(self, name: str) -> PhoenixSample | None:
        """The row called ``name``, or None."""
        return self._current()[1].get(name)
