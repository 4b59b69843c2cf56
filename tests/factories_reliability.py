"""Test support for hostile inputs and full disks: crafted image headers, named pipes that cannot hang a test,
checkpoints with an edited config, and a real small tmpfs (root only)."""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import struct
import subprocess
import threading
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml

PAGE = 4096  # tmpfs counts its size in pages


def png_with_size(path: Path, width: int, height: int) -> Path:
    """A PNG whose header says ``width`` x ``height`` (greyscale) but that holds a single row of data: what a
    decompression bomb looks like to a reader that trusts the header; a few hundred bytes on disk."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale, no interlace
    rows = zlib.compress(b"\x00" * (width + 1))
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b""))
    return path


@contextlib.contextmanager
def fifo_that_cannot_hang(path: Path, after_s: float = 30.0) -> Iterator[Path]:
    """A named pipe at ``path``. Should the code under test open it for reading anyway, a writer opens and closes
    it after ``after_s`` seconds, so that the read ends (with no data) and the test fails instead of hanging."""
    os.mkfifo(path)
    done = threading.Event()

    def release() -> None:
        while not done.wait(after_s):
            with contextlib.suppress(OSError):  # ENXIO: nobody is reading yet
                os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))

    thread = threading.Thread(target=release, daemon=True)
    thread.start()
    try:
        yield path
    finally:
        done.set()
        thread.join(timeout=5)


def checkpoint_with(source: Path, folder: Path, edit: Callable[[dict], object] | None = None, *, text: str | None = None) -> Path:
    """A copy of checkpoint ``source`` at ``folder`` whose config.yaml is edited (``edit`` changes the parsed
    config in place) or replaced by ``text``."""
    folder.mkdir()
    shutil.copy2(source / "model.safetensors", folder / "model.safetensors")
    if text is None:
        data = yaml.safe_load((source / "config.yaml").read_text())
        edit(data)
        text = yaml.safe_dump(data, sort_keys=False)
    (folder / "config.yaml").write_text(text)
    return folder


def enospc(path: object = None) -> OSError:
    """The error a write into a full file system raises."""
    return OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), None if path is None else str(path))


@pytest.fixture
def small_tmpfs(tmp_path) -> Iterator[Callable[[int], Path]]:
    """``fill(pages_free)``: a real 1 MiB tmpfs, mounted for the test, filled up to ``pages_free`` free pages; returns
    an empty folder on it. Skips where this process cannot mount one (not root, or no CAP_SYS_ADMIN)."""
    mount = tmp_path / "tmpfs"
    mount.mkdir()
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a tmpfs needs root")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m,mode=0755", "tmpfs", str(mount)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")

    def fill(pages_free: int) -> Path:
        st = os.statvfs(mount)
        free = st.f_bavail * st.f_frsize
        with open(mount / "filler", "wb") as f:
            f.write(b"\0" * max(free - pages_free * PAGE, 0))
        folder = mount / "out"
        folder.mkdir()
        return folder

    try:
        yield fill
    finally:
        done = subprocess.run(["umount", str(mount)], capture_output=True, text=True)
        if done.returncode != 0:  # busy: a file on it is still open
            subprocess.run(["umount", "-l", str(mount)], check=False)
            pytest.fail(f"the tmpfs could not be unmounted ({done.stderr.strip()}): a file on it was left open")


def open_files_under(folder: Path) -> list[str]:
    """The files under ``folder`` that this process holds open (Linux: /proc/self/fd), deleted ones included."""
    found = []
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):
            target = os.readlink(f"/proc/self/fd/{fd}")
            if target.startswith(str(folder) + "/"):
                found.append(target)
    return found
