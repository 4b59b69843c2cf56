"""Bad PHOENIX inputs give CorpusFormatError / VideoReadError with messages naming file and line."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from factories_phoenix import HEADER_LINE, corpus_path, make_phoenix_fixture
from PIL import Image

from fpdm_video.errors import CorpusFormatError, VideoReadError
from fpdm_video.video.phoenix import PhoenixDataset, count_sample_frames, load_sample

SMALL = (42, 52)


def _write_corpus(root: Path, *lines: str) -> Path:
    path = corpus_path(root, "dev")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _dev(tmp_path: Path) -> list:
    return make_phoenix_fixture(tmp_path, clips=2, frames=2, size=SMALL)


def test_missing_root(tmp_path: Path) -> None:
    with pytest.raises(CorpusFormatError, match=r"PHOENIX root .*missing does not exist.*features/ and annotations/"):
        PhoenixDataset(tmp_path / "missing")


def test_root_one_level_too_high_suggests_the_right_folder(tmp_path: Path) -> None:
    _dev(tmp_path / "PHOENIX-2014-T")
    with pytest.raises(CorpusFormatError, match=r"has no annotations/manual folder.*did you mean .*PHOENIX-2014-T\?"):
        PhoenixDataset(tmp_path)


def test_missing_split_csv_lists_present_splits(tmp_path: Path) -> None:
    _dev(tmp_path)
    with pytest.raises(CorpusFormatError, match=r"split 'test' has no corpus file .*test\.corpus\.csv \(splits present: dev\)"):
        PhoenixDataset(tmp_path).samples("test")


def test_unknown_split(tmp_path: Path) -> None:
    _dev(tmp_path)
    with pytest.raises(CorpusFormatError, match="unknown PHOENIX split 'validation'; use one of train, dev, test"):
        PhoenixDataset(tmp_path).samples("validation")


@pytest.mark.parametrize(
    "first_line",
    ["name,video,start,end,speaker,orth,translation", "id|folder|signer|annotation", "name|video|start|end|speaker|orth"],
)
def test_wrong_header(tmp_path: Path, first_line: str) -> None:
    clips = _dev(tmp_path)
    path = _write_corpus(tmp_path, first_line, clips[0].row)
    with pytest.raises(CorpusFormatError, match=rf"{re.escape(str(path))}:1: expected the header 'name\|video"):
        PhoenixDataset(tmp_path).samples("dev")


def test_empty_corpus_file(tmp_path: Path) -> None:
    _dev(tmp_path)
    corpus_path(tmp_path, "dev").write_text("", encoding="utf-8")
    with pytest.raises(CorpusFormatError, match=r":1: expected the header .* got an empty file"):
        PhoenixDataset(tmp_path).samples("dev")


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda row: row.rsplit("|", 1)[0], r":3: row has 6 fields, expected 7 .*missing field.*truncated"),
        (lambda row: row + "|extra", r":3: row has 8 fields, expected 7 .*extra field.*inside a text field"),
        (lambda row: row.replace("|-1|-1|", "|first|-1|"), r":3: field 'start' must be an integer .*'first'"),
        (lambda row: "../escape" + row[row.index("|") :], r":3: PHOENIX sample name '\.\./escape' cannot be a folder"),
    ],
)
def test_bad_row_names_file_and_line(tmp_path: Path, mutate, message: str) -> None:
    clips = _dev(tmp_path)
    path = _write_corpus(tmp_path, HEADER_LINE, clips[0].row, mutate(clips[1].row))
    with pytest.raises(CorpusFormatError, match=re.escape(str(path)) + message):
        PhoenixDataset(tmp_path).samples("dev")


def test_duplicate_name(tmp_path: Path) -> None:
    clips = _dev(tmp_path)
    _write_corpus(tmp_path, HEADER_LINE, clips[0].row, clips[1].row, clips[0].row)
    with pytest.raises(CorpusFormatError, match=rf":4: sample '{clips[0].name}' already appears on line 2"):
        PhoenixDataset(tmp_path).samples("dev")


def test_not_utf8(tmp_path: Path) -> None:
    clips = _dev(tmp_path)
    corpus_path(tmp_path, "dev").write_bytes((HEADER_LINE + "\n" + clips[0].row + "\n").encode("latin-1"))
    with pytest.raises(CorpusFormatError, match="is not UTF-8 text.*convert it to UTF-8"):
        PhoenixDataset(tmp_path).samples("dev")


def _remove_folder(sample) -> None:
    shutil.rmtree(sample.frames_dir)


def _empty_folder(sample) -> None:
    for frame in sample.frames_dir.iterdir():
        frame.unlink()


@pytest.mark.parametrize(
    ("index", "damage", "message"),
    [
        (1, _remove_folder, r"\) names frame folder .* which does not exist"),
        (0, _empty_folder, r"\): frame folder .* has no PNG/JPEG frames"),
    ],
)
def test_broken_frame_folder_names_the_corpus_line(tmp_path: Path, index: int, damage, message: str) -> None:
    clips = _dev(tmp_path)
    sample = PhoenixDataset(tmp_path).samples("dev")[index]
    damage(sample)
    where = re.escape(f"sample '{clips[index].name}' ({corpus_path(tmp_path, 'dev')}:{index + 2}")
    for action in (load_sample, count_sample_frames):
        with pytest.raises(VideoReadError, match=where + message):
            action(sample)


def test_mixed_frame_sizes(tmp_path: Path) -> None:
    _dev(tmp_path)
    sample = PhoenixDataset(tmp_path).samples("dev")[0]
    Image.fromarray(np.zeros((10, 12, 3), dtype=np.uint8)).save(sample.frames_dir / "images0002.png")
    with pytest.raises(VideoReadError, match=r"\(.*dev\.corpus\.csv:2\): frame folder .* mixes frame sizes.*42x52.*12x10"):
        load_sample(sample)
