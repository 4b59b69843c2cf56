"""Writing a PHOENIX-2014T layout: round trips, appending, replacing, and what PHOENIX loaders read."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from factories_phoenix import HEADER_LINE, corpus_path, make_phoenix_fixture
from factories_video import make_clip

from fpdm_video.errors import CorpusFormatError, InputError, VideoWriteError
from fpdm_video.video.phoenix import PhoenixDataset
from fpdm_video.video.phoenix_writer import PhoenixWriter
from fpdm_video.video.reader import iter_video_chunks, read_video
from fpdm_video.video.types import Clip

SMALL = (42, 52)  # (W, H)


def _frames(t: int, seed: int, size: tuple[int, int] = SMALL) -> np.ndarray:
    return make_clip(t=t, w=size[0], h=size[1], seed=seed)  # (t, H, W, 3)


def test_new_root_round_trip_bit_exact(tmp_path: Path) -> None:
    writer = PhoenixWriter(tmp_path / "out", "train")
    a, b = _frames(4, seed=1, size=(210, 260)), _frames(5, seed=2, size=(210, 260))
    row_a = writer.add_clip("clipA", a, speaker="Signer01", orth="REGEN SCHNEE", translation="es regnet überall")
    chunks = [Clip(frames=b[:2], fps=25.0, timestamps=np.arange(2) / 25), b[2:4], b[4]]  # Clip, batch, one frame
    row_b = writer.add_clip("clipB", iter(chunks), speaker="Signer02", orth="SONNE", translation="sonnig")

    dataset = PhoenixDataset(tmp_path / "out")
    assert dataset.samples("train") == [row_a, row_b]
    assert [row_a.line, row_b.line] == [2, 3]
    assert dataset.samples("train")[0].video == "clipA/1/*.png"
    for row, frames in ((row_a, a), (row_b, b)):
        loaded = dataset.load(dataset.sample(row.name))
        np.testing.assert_array_equal(loaded.frames, frames)
        assert loaded.fps == 25.0
        expected = [f"images{i:04d}.png" for i in range(1, len(frames) + 1)]
        assert sorted(p.name for p in row.frames_dir.iterdir()) == expected


def test_adding_keeps_existing_rows_byte_for_byte(tmp_path: Path) -> None:
    clips = make_phoenix_fixture(tmp_path, clips=3, frames=2, size=SMALL)
    before = corpus_path(tmp_path, "dev").read_text(encoding="utf-8")
    PhoenixWriter(tmp_path, "dev").add_clip("new-1", _frames(2, seed=9), speaker="Signer09", orth="A", translation="b")
    after = corpus_path(tmp_path, "dev").read_text(encoding="utf-8")
    assert after.startswith(before)
    assert after[len(before) :] == "new-1|new-1/1/*.png|-1|-1|Signer09|A|b\n"
    dataset = PhoenixDataset(tmp_path)
    assert [s.name for s in dataset.samples("dev")] == [c.name for c in clips] + ["new-1"]
    np.testing.assert_array_equal(dataset.load(dataset.samples("dev")[0]).frames, clips[0].frames)


def test_same_name_replaces_row_in_place(tmp_path: Path) -> None:
    clips = make_phoenix_fixture(tmp_path, clips=3, frames=5, size=SMALL)
    new = _frames(3, seed=42)
    row = PhoenixWriter(tmp_path, "dev").add_clip(clips[1].name, new, speaker="Signer07", orth="NEU", translation="neu")
    samples = PhoenixDataset(tmp_path).samples("dev")
    assert [s.name for s in samples] == [c.name for c in clips]  # no duplicate, order kept
    assert samples[1] == row and row.line == 3 and samples[1].speaker == "Signer07"
    assert samples[0].speaker == clips[0].speaker and samples[2].orth == clips[2].orth
    assert len(list(samples[1].frames_dir.iterdir())) == 3  # old frames 4 and 5 are gone
    np.testing.assert_array_equal(PhoenixDataset(tmp_path).load(samples[1]).frames, new)


def test_written_csv_parses_like_phoenix_loaders_read_it(tmp_path: Path) -> None:
    writer = PhoenixWriter(tmp_path, "test")
    fields = [("x-1", "Signer01", "JETZT WETTER", 'sagt "guten tag" heute'), ("x-2", "Signer02", "", "ä ö ü ß, ok; 1")]
    for name, speaker, orth, translation in fields:
        writer.add_clip(name, _frames(1, seed=0), speaker=speaker, orth=orth, translation=translation)
    path = corpus_path(tmp_path, "test")
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f, delimiter="|"))
    assert rows[0] == HEADER_LINE.split("|")
    assert rows[1:] == [[n, f"{n}/1/*.png", "-1", "-1", s, o, t] for n, s, o, t in fields]

    pd = pytest.importorskip("pandas")
    frame = pd.read_csv(path, sep="|")
    assert list(frame.columns) == HEADER_LINE.split("|")
    assert frame["name"].tolist() == ["x-1", "x-2"]
    assert frame["translation"].tolist() == [t for *_, t in fields]
    assert frame["start"].tolist() == [-1, -1]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"orth": "A|B"}, r"field 'orth' = 'A\|B' contains '\|'.*unquoted"),
        ({"translation": "zwei\nzeilen"}, r"field 'translation' .* contains '\\n'"),
        ({"speaker": "Signer01\r"}, r"field 'speaker' .* contains '\\r'"),
        ({"translation": '"zitat" am anfang'}, r"starts with '\"'.*quoted field"),
        ({"video": "a|b"}, r"field 'video' .* contains '\|'"),
        ({"start": "-1"}, r"field 'start' must be an integer >= -1"),
        ({"end": -2}, r"field 'end' must be an integer >= -1"),
        ({"orth": None}, r"field 'orth' must be a string, got NoneType"),
    ],
)
def test_unwritable_fields_are_refused_before_writing(tmp_path: Path, fields: dict, message: str) -> None:
    make_phoenix_fixture(tmp_path, clips=1, frames=1, size=SMALL)
    before = corpus_path(tmp_path, "dev").read_bytes()
    writer = PhoenixWriter(tmp_path, "dev")
    with pytest.raises(CorpusFormatError, match=message):
        writer.add_clip("bad", _frames(1, seed=0), **fields)
    assert corpus_path(tmp_path, "dev").read_bytes() == before
    assert not (writer.split_dir / "bad").exists()


@pytest.mark.parametrize("name", ["", "a/b", ".hidden", "a|b", " padded", "line\nbreak"])
def test_bad_names_are_refused(tmp_path: Path, name: str) -> None:
    with pytest.raises(CorpusFormatError, match="PHOENIX sample name"):
        PhoenixWriter(tmp_path, "dev").add_clip(name, _frames(1, seed=0))


@pytest.mark.parametrize(
    ("frames", "message"),
    [
        (np.zeros((2, 8, 8, 3), dtype=np.float32), "must be uint8 RGB"),
        (np.zeros((2, 8, 8), dtype=np.uint8), r"must have shape \(H, W, 3\) or \(T, H, W, 3\)"),
        ([], "clip dev/c: the clip has no frames"),
        ([np.zeros((1, 8, 8, 3), np.uint8), np.zeros((1, 8, 6, 3), np.uint8)], r"frame 2 is 6x8 .* 8x8 .*one size"),
        ("clip.mp4", "frames must be a .* array, a Clip or an iterable"),
    ],
)
def test_bad_frames_leave_nothing(tmp_path: Path, frames, message: str) -> None:
    writer = PhoenixWriter(tmp_path, "dev")
    with pytest.raises(VideoWriteError, match=message):
        writer.add_clip("c", frames)
    assert list(writer.split_dir.iterdir()) == []
    assert writer.samples() == []


def test_writer_options_and_split_are_checked(tmp_path: Path) -> None:
    with pytest.raises(CorpusFormatError, match="unknown PHOENIX split 'val'"):
        PhoenixWriter(tmp_path, "val")
    with pytest.raises(InputError, match="compress_level must be an integer from 0 to 9"):
        PhoenixWriter(tmp_path, "dev", compress_level=11)


def test_malformed_existing_corpus_is_not_overwritten(tmp_path: Path) -> None:
    clips = make_phoenix_fixture(tmp_path, clips=2, frames=1, size=SMALL)
    path = corpus_path(tmp_path, "dev")
    path.write_text(HEADER_LINE + "\n" + clips[0].row + "|extra\n", encoding="utf-8")
    before = path.read_bytes()
    with pytest.raises(CorpusFormatError, match=r"dev\.corpus\.csv:2: row has 8 fields"):
        PhoenixWriter(tmp_path, "dev").add_clip("new", _frames(1, seed=0))
    assert path.read_bytes() == before


def test_real_video_chunks_stream_into_the_layout(tmp_path: Path, real_data: Path) -> None:
    """A real signer video, decoded in chunks, goes in as one clip and comes back pixel for pixel."""
    source = real_data / "test_video.mp4"
    expected = read_video(source, end=20).frames  # (20, 720, 540, 3)
    writer = PhoenixWriter(tmp_path, "dev", compress_level=1)
    row = writer.add_clip("real-1", iter_video_chunks(source, chunk_size=8, end=20), speaker="Real01")
    assert writer.is_complete("real-1", num_frames=20)
    loaded = PhoenixDataset(tmp_path).load(row)
    assert loaded.frames.shape == (20, 720, 540, 3)
    np.testing.assert_array_equal(loaded.frames, expected)
