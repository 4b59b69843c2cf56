"""Reading a PHOENIX-2014T layout: samples per split, lookup by name, frame counts, frames."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from factories_phoenix import HEADER_LINE, corpus_path, frames_root, make_phoenix_fixture

from fpdm_video.errors import InputError
from fpdm_video.video.phoenix import PhoenixDataset, count_sample_frames, iter_sample_chunks, load_sample

SMALL = (42, 52)  # (W, H): PHOENIX's aspect, small enough to keep the tests fast


def test_samples_carry_corpus_fields(tmp_path: Path) -> None:
    clips = make_phoenix_fixture(tmp_path, split="dev", clips=3, frames=5, size=SMALL)
    dataset = PhoenixDataset(tmp_path)
    samples = dataset.samples("dev")
    assert [s.name for s in samples] == [c.name for c in clips]
    for sample, clip in zip(samples, clips):
        assert (sample.speaker, sample.orth, sample.translation) == (clip.speaker, clip.orth, clip.translation)
        assert (sample.split, sample.start, sample.end) == ("dev", -1, -1)
        assert sample.video == f"{clip.name}/1/*.png"
        assert sample.frames_dir == frames_root(tmp_path, "dev") / clip.name
    assert [s.line for s in samples] == [2, 3, 4]
    assert "für" in samples[0].translation  # UTF-8 read as such


def test_splits_and_lookup_by_name(tmp_path: Path) -> None:
    dev = make_phoenix_fixture(tmp_path, split="dev", clips=2, frames=2, size=SMALL)
    train = make_phoenix_fixture(tmp_path, split="train", clips=2, frames=2, size=SMALL, seed=1)
    dataset = PhoenixDataset(tmp_path)
    assert dataset.splits() == ["train", "dev"]
    assert dataset.sample(train[1].name).split == "train"
    assert dataset.sample(dev[0].name, split="dev").speaker == dev[0].speaker
    with pytest.raises(InputError, match="no sample named 'nope'.*first column"):
        dataset.sample("nope")
    with pytest.raises(InputError, match="no sample named"):
        dataset.sample(train[0].name, split="dev")


def test_count_frames_and_load_bit_exact(tmp_path: Path) -> None:
    clips = make_phoenix_fixture(tmp_path, clips=3, frames=5, size=(210, 260))
    dataset = PhoenixDataset(tmp_path)
    for sample, clip in zip(dataset.samples("dev"), clips):
        assert dataset.num_frames(sample) == count_sample_frames(sample) == 5
        loaded = dataset.load(sample)
        assert loaded.frames.shape == (5, 260, 210, 3) and loaded.frames.dtype == np.uint8
        np.testing.assert_array_equal(loaded.frames, clip.frames)
        assert loaded.fps == 25.0
        np.testing.assert_allclose(loaded.timestamps, np.arange(5) / 25.0)
    # the clips really differ, so a mix-up of folders would be caught
    assert not np.array_equal(clips[0].frames, clips[1].frames)


def test_load_range_and_chunks(tmp_path: Path) -> None:
    clip = make_phoenix_fixture(tmp_path, clips=1, frames=5, size=SMALL)[0]
    sample = PhoenixDataset(tmp_path).samples("dev")[0]
    part = load_sample(sample, start=1, end=4)
    np.testing.assert_array_equal(part.frames, clip.frames[1:4])
    assert part.start_index == 1
    chunks = list(iter_sample_chunks(sample, chunk_size=2))
    assert [len(c) for c in chunks] == [2, 2, 1]
    np.testing.assert_array_equal(np.concatenate([c.frames for c in chunks]), clip.frames)


def test_crlf_bom_and_blank_lines(tmp_path: Path) -> None:
    clips = make_phoenix_fixture(tmp_path, clips=2, frames=1, size=SMALL)
    text = "\ufeff" + HEADER_LINE + "\r\n" + clips[0].row + "\r\n\r\n" + clips[1].row + "\r\n"
    corpus_path(tmp_path, "dev").write_bytes(text.encode("utf-8"))
    samples = PhoenixDataset(tmp_path).samples("dev")
    assert [s.name for s in samples] == [c.name for c in clips]
    assert samples[1].translation == clips[1].translation  # no stray "\r"
    assert samples[1].line == 4


def test_corpus_is_read_again_when_it_changes(tmp_path: Path) -> None:
    clips = make_phoenix_fixture(tmp_path, clips=3, frames=1, size=SMALL)
    dataset = PhoenixDataset(tmp_path)
    assert len(dataset.samples("dev")) == 3
    corpus_path(tmp_path, "dev").write_text(HEADER_LINE + "\n" + clips[2].row + "\n", encoding="utf-8")
    assert [s.name for s in dataset.samples("dev")] == [clips[2].name]


def test_line_separator_inside_a_field_is_text(tmp_path: Path) -> None:
    """Only \\n (and \\r\\n) end a row, as in csv and pandas; U+2028 stays inside the field."""
    clip = make_phoenix_fixture(tmp_path, clips=1, frames=1, size=SMALL)[0]
    row = clip.row.replace(clip.translation, "a\u2028b")
    corpus_path(tmp_path, "dev").write_text(HEADER_LINE + "\n" + row + "\n", encoding="utf-8")
    assert PhoenixDataset(tmp_path).samples("dev")[0].translation == "a\u2028b"
