"""One temporary folder per visitor, under one root, removed when the visitor leaves.

    <root>/<session>/run-<n>/   the files of the visitor's latest transfer

A visitor's earlier runs are removed when a new one starts: the page keeps showing the copies
Gradio serves from its own cache (swept by age, ``delete_cache``).
"""

from __future__ import annotations

import re
import shutil
import threading
from pathlib import Path

_SAFE = re.compile(r"[^A-Za-z0-9_-]")


class Sessions:
    """The visitors' folders under ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._lock = threading.Lock()
        self._runs: dict[str, int] = {}

    def folder(self, session: str) -> Path:
        """The visitor's folder (not created); the session id is reduced to safe characters."""
        name = _SAFE.sub("_", session or "anonymous")[:64] or "anonymous"
        return self.root / name

    def new_run(self, session: str) -> Path:
        """A fresh run folder for ``session`` (not created: the transfer creates it, and removes it again if it fails)."""
        with self._lock:
            n = self._runs.get(session, 0) + 1
            self._runs[session] = n
        folder = self.folder(session)
        if folder.is_dir():
            for old in folder.glob("run-*"):
                shutil.rmtree(old, ignore_errors=True)
        return folder / f"run-{n}"

    def remove(self, session: str) -> None:
        """Remove the visitor's folder and everything in it."""
        with self._lock:
            self._runs.pop(session, None)
        shutil.rmtree(self.folder(session), ignore_errors=True)

    def files(self) -> list[Path]:
        """Every file under the root (for tests and the operator)."""
        return sorted(p for p in self.root.rglob("*") if p.is_file()) if self.root.is_dir() else []
