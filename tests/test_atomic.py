"""Atomic outputs: nothing under the final name unless complete, no temp files left behind."""

from __future__ import annotations

import os
import stat

import pytest

from fpdm_video.atomic import atomic_dir, atomic_path, check_writable_dir
from fpdm_video.errors import InputError


def test_atomic_path_renames_on_success_with_umask_mode(tmp_path):
    target = tmp_path / "out.mp4"
    with atomic_path(target) as tmp:
        assert tmp.parent == tmp_path and tmp.suffix == ".mp4" and tmp != target
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
