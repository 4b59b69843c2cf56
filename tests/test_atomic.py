"""Atomic outputs: nothing under the final name unless complete, no temp files left behind."""

from __future__ import annotations

import os
import stat

import pytest

from fpdm_video.atomic import atomic_dir, atomic_path, check_writable_dir
from fpdm_video.errors import InputError
from fpdm_video.temp_names import final_path, is_project_temp


def test_atomic_path_renames_on_success_with_umask_mode(tmp_path):
    target = tmp_path / "out.mp4"
    with atomic_path(target) as tmp:
        assert tmp.parent.parent == tmp_path and tmp.name == "out.mp4" and tmp != target  # in a temporary folder beside it
        assert is_project_temp(tmp.parent) is not None and final_path(tmp) == target
        tmp.write_bytes(b"data")
        assert not target.exists()
    assert target.read_bytes() == b"data"
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~umask
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.mp4"]


@pytest.mark.parametrize("exc", [RuntimeError("boom"), KeyboardInterrupt()])
def test_atomic_path_leaves_nothing_on_failure(tmp_path, exc):
    target = tmp_path / "out.mp4"
    with pytest.raises(type(exc)):
        with atomic_path(target) as tmp:
            tmp.write_bytes(b"half")
            raise exc
    assert list(tmp_path.iterdir()) == []


def test_atomic_path_keeps_old_file_on_failure(tmp_path):
    target = tmp_path / "out.json"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("new, half written")
            raise RuntimeError("crash")
    assert target.read_text() == "old"


def test_atomic_dir_replaces_only_when_complete(tmp_path):
    target = tmp_path / "clip"
    with atomic_dir(target) as tmp:
        (tmp / "a.png").write_bytes(b"1")
    assert (target / "a.png").read_bytes() == b"1"
    with pytest.raises(RuntimeError):
        with atomic_dir(target) as tmp:
            (tmp / "b.png").write_bytes(b"2")
            raise RuntimeError("crash")
    assert sorted(p.name for p in target.iterdir()) == ["a.png"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip"]
    with atomic_dir(target) as tmp:
        (tmp / "c.png").write_bytes(b"3")
    assert sorted(p.name for p in target.iterdir()) == ["c.png"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write to read-only folders")
def test_unwritable_folder_is_input_error(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        with pytest.raises(InputError, match="not writable"):
            check_writable_dir(ro)
    finally:
        ro.chmod(0o700)


def test_uncreatable_folder_is_input_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(InputError, match="cannot create output folder"):
        check_writable_dir(blocker / "sub")


def test_files_that_belong_together_land_together(tmp_path):
    from fpdm_video.atomic import atomic_files

    video, record = tmp_path / "out.mp4", tmp_path / "out.json"
    with atomic_files(None, record, video) as (nothing, rec, vid):
        assert nothing is None and rec.suffix == ".json" and vid.suffix == ".mp4"
        rec.write_text("record")
        vid.write_bytes(b"video")
        assert not video.exists() and not record.exists()
    assert video.read_bytes() == b"video" and record.read_text() == "record"
    with pytest.raises(KeyboardInterrupt):  # an interruption before the end: the old pair stays, no temporaries
        with atomic_files(record, video) as (rec, vid):
            rec.write_text("new record")
            raise KeyboardInterrupt
    assert video.read_bytes() == b"video" and record.read_text() == "record"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.json", "out.mp4"]


def test_a_failed_rename_takes_the_group_back(tmp_path, monkeypatch):
    from fpdm_video import atomic
    from fpdm_video.errors import InputError

    video, record = tmp_path / "out.mp4", tmp_path / "out.json"
    video.write_bytes(b"old video")
    real = os.replace

    def failing(src, dst):  # the video's rename fails (say the disk went away)
        if str(dst) == str(video):
            raise OSError(5, "Input/output error")
        real(src, dst)

    monkeypatch.setattr(atomic.os, "replace", failing)
    with pytest.raises(InputError, match="cannot move the finished file into place"):
        with atomic.atomic_files(record, video) as (rec, vid):
            rec.write_text("new record")
            vid.write_bytes(b"new video")
    # neither: the new record is taken back, and no new record ever stood beside the old video
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_failed_writes_take_back_the_folders_they_made(tmp_path):
    target = tmp_path / "new" / "deeper" / "out.json"
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("crash")
    assert list(tmp_path.iterdir()) == []


def test_two_writers_of_one_group_never_leave_a_mixed_pair(tmp_path, monkeypatch):
    """Two runs writing the same video and record: whichever commits last leaves both of its files, not one of each."""
    import threading

    from fpdm_video import atomic

    video, record = tmp_path / "out.mp4", tmp_path / "out.json"
    real = os.replace
    first_placed, second_done = threading.Event(), threading.Event()

    def slow(src, dst):  # the first writer stops between its two renames until the second is done, or 1 s has passed
        real(src, dst)
        if str(dst) == str(record) and threading.current_thread().name == "first":
            first_placed.set()
            second_done.wait(timeout=1.0)

    monkeypatch.setattr(atomic.os, "replace", slow)

    def write(name: str) -> None:
        with atomic.atomic_files(record, video) as (rec, vid):
            rec.write_text(name)
            vid.write_bytes(name.encode())
        if name == "second":
            second_done.set()

    first = threading.Thread(target=write, args=("first",), name="first")
    first.start()
    assert first_placed.wait(timeout=5.0)
    second = threading.Thread(target=write, args=("second",), name="second")
    second.start()
    first.join(timeout=10.0)
    second.join(timeout=10.0)
    assert not first.is_alive() and not second.is_alive()
    assert video.read_bytes().decode() == record.read_text()  # one run's pair
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.json", "out.mp4"]
