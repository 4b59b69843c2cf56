"""PHOENIX writing under failure and concurrency: interrupted clips, resume checks, recovery, locks."""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from factories_phoenix import corpus_path, make_phoenix_fixture
from factories_video import make_clip

from factories_paths import dead_pid, stale_file, stale_folder, stale_name
from fpdm_video.temp_names import MARKER, mark
from fpdm_video.video import phoenix_writer
from fpdm_video.video.phoenix import PhoenixDataset
from fpdm_video.file_lock import file_lock
from fpdm_video.video.phoenix_locks import clip_lock_path, corpus_lock_path
from fpdm_video.video.phoenix_writer import PhoenixWriter

SMALL = (42, 52)  # (W, H)


class Interrupted(Exception):
    """Stands for a crash of the renderer in the middle of a clip."""


def _failing_chunks(frames: np.ndarray, fail_after: int) -> Iterator[np.ndarray]:
    for i in range(fail_after):
        yield frames[i : i + 1]
    raise Interrupted


def _entries(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if ".phoenix-locks" not in p.parts}


def test_interrupted_new_clip_leaves_no_trace(tmp_path: Path) -> None:
    make_phoenix_fixture(tmp_path, clips=2, frames=2, size=SMALL)
    writer = PhoenixWriter(tmp_path, "dev")
    corpus_before, entries_before = corpus_path(tmp_path, "dev").read_bytes(), _entries(tmp_path)
    with pytest.raises(Interrupted):
        writer.add_clip("half", _failing_chunks(make_clip(5, *SMALL), fail_after=3), speaker="Signer01")
    assert corpus_path(tmp_path, "dev").read_bytes() == corpus_before
    assert _entries(tmp_path) == entries_before  # no clip folder, no temporary folder
    assert not writer.is_complete("half")


def test_interrupted_replacement_keeps_the_old_clip(tmp_path: Path) -> None:
    clips = make_phoenix_fixture(tmp_path, clips=2, frames=4, size=SMALL)
    writer = PhoenixWriter(tmp_path, "dev")
    corpus_before = corpus_path(tmp_path, "dev").read_bytes()
    with pytest.raises(Interrupted):
        writer.add_clip(clips[0].name, _failing_chunks(make_clip(4, *SMALL, seed=5), fail_after=2))
    assert corpus_path(tmp_path, "dev").read_bytes() == corpus_before
    dataset = PhoenixDataset(tmp_path)
    np.testing.assert_array_equal(dataset.load(dataset.sample(clips[0].name)).frames, clips[0].frames)
    assert writer.is_complete(clips[0].name, num_frames=4)


def test_crash_between_folder_and_row_is_detected_and_redone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    writer = PhoenixWriter(tmp_path, "dev")
    writer.add_clip("done", make_clip(2, *SMALL))

    def crash(path: Path, samples: list) -> None:
        raise Interrupted

    monkeypatch.setattr(phoenix_writer, "_write_corpus", crash)
    with pytest.raises(Interrupted):
        writer.add_clip("orphan", make_clip(3, *SMALL))
    monkeypatch.undo()
    assert (writer.split_dir / "orphan").is_dir()  # the folder made it, the row did not
    assert writer.is_complete("done") and writer.is_complete("done", num_frames=2)
    assert not writer.is_complete("done", num_frames=3)
    assert not writer.is_complete("orphan")
    assert (writer.split_dir / "orphan" / MARKER).is_file()  # made by this writer, row pending
    assert PhoenixWriter(tmp_path, "dev").recover().orphans == ["orphan"]

    writer.add_clip("orphan", make_clip(3, *SMALL))  # the resumed job writes it again
    assert writer.is_complete("orphan", num_frames=3) and not (writer.split_dir / "orphan" / MARKER).exists()
    assert [s.name for s in PhoenixDataset(tmp_path).samples("dev")] == ["done", "orphan"]


def test_recover_removes_leftovers_and_restores_replaced_folder(tmp_path: Path) -> None:
    clips = make_phoenix_fixture(tmp_path, clips=4, frames=2, size=SMALL)
    split_dir = tmp_path / "features" / "fullFrame-210x260px" / "dev"
    gone = dead_pid()
    # leftovers of crashes: a half-written clip, a crash between the two renames of a replacement,
    # a stale .old beside a complete clip, a corpus temp file, a folder with no row that this writer
    # made (its marker) and one it did not
    (stale_folder(split_dir, clips[0].name, gone) / "images0001.png").write_bytes(b"partial")
    moved = split_dir / stale_name(clips[1].name, gone, "old")
    (split_dir / clips[1].name).rename(moved)
    mark(moved)
    stale_folder(split_dir, clips[2].name, gone, "old")
    stale_csv = stale_file(corpus_path(tmp_path, "dev").parent, "PHOENIX-2014-T.dev.corpus.csv", gone, b"partial")
    (split_dir / clips[3].name).rename(split_dir / "ours-no-row")
    mark(split_dir / "ours-no-row")
    (split_dir / "users-no-row").mkdir()
    (split_dir / "users-no-row" / "notes.txt").write_text("not a clip of this writer")

    writer = PhoenixWriter(tmp_path, "dev")  # opening recovers, but keeps folders without a row
    assert writer.recovered.restored == [clips[1].name]
    assert writer.recovered.orphans == ["ours-no-row", "users-no-row"]
    assert len(writer.recovered.removed) == 3
    assert not (split_dir / clips[1].name / MARKER).exists()
    report = writer.recover(remove_orphans=True)
    assert report.orphans == ["ours-no-row", "users-no-row"] and report.removed_orphans == ["ours-no-row"]
    assert sorted(p.name for p in split_dir.iterdir()) == sorted([c.name for c in clips[:3]] + ["users-no-row"])
    assert (split_dir / "users-no-row" / "notes.txt").read_text() == "not a clip of this writer"
    assert not stale_csv.exists()
    dataset = PhoenixDataset(tmp_path)
    np.testing.assert_array_equal(dataset.load(dataset.sample(clips[1].name)).frames, clips[1].frames)


def test_recover_leaves_clips_being_written_alone(tmp_path: Path) -> None:
    writer = PhoenixWriter(tmp_path, "dev")
    alive = stale_folder(writer.split_dir, "live", os.getpid())  # a writer of this process is at work
    unmarked = writer.split_dir / stale_name("foreign", dead_pid())  # the pattern, but not the marker
    unmarked.mkdir()
    busy = stale_folder(writer.split_dir, "busy", dead_pid())
    with file_lock(clip_lock_path(writer.layout, "dev", "busy")) as held:
        assert held
        assert writer.recover().removed == []
        assert busy.is_dir()
    assert writer.recover().removed == [busy]
    assert alive.is_dir() and unmarked.is_dir()


def test_writer_waits_for_the_corpus_lock(tmp_path: Path) -> None:
    """Two writers in one process: the second waits while the first holds the corpus lock."""
    writer = PhoenixWriter(tmp_path, "dev")
    other = PhoenixWriter(tmp_path, "dev")
    done = threading.Event()
    with file_lock(corpus_lock_path(other.layout, "dev")):
        thread = threading.Thread(target=lambda: (writer.add_clip("waiting", make_clip(1, *SMALL)), done.set()))
        thread.start()
        assert not done.wait(0.5)  # blocked: frames written, corpus not yet touched
        assert other.samples() == []
    thread.join(timeout=30)
    assert done.is_set() and [s.name for s in other.samples()] == ["waiting"]


def _write_many(root: str, prefix: str, count: int) -> None:
    writer = PhoenixWriter(root, "train")
    for i in range(count):
        writer.add_clip(f"{prefix}-{i}", make_clip(1, 8, 8, seed=i), speaker=prefix, orth=f"G{i}", translation="t")


def test_threads_and_processes_lose_no_rows(tmp_path: Path) -> None:
    make_phoenix_fixture(tmp_path, split="train", clips=2, frames=1, size=(8, 8))
    # spawn, not fork: by now the test process has other threads (logging, Prefect, torch), and a
    # forked child can inherit one of their locks held and hang
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_write_many, args=(str(tmp_path), f"p{k}", 8)) for k in range(3)]
    workers += [threading.Thread(target=_write_many, args=(str(tmp_path), f"t{k}", 8)) for k in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert all(getattr(w, "exitcode", 0) == 0 for w in workers)
    names = [s.name for s in PhoenixDataset(tmp_path).samples("train")]
    expected = {f"{p}-{i}" for p in ("p0", "p1", "p2", "t0", "t1") for i in range(8)}
    assert len(names) == len(set(names)) == 2 + len(expected)
    assert expected <= set(names)
    writer = PhoenixWriter(tmp_path, "train")
    assert all(writer.is_complete(name, num_frames=1) for name in expected)
