"""Cache keys for flow tasks: from what a file is (path, size, mtime) and the parameters, never from path strings alone.

Prefect hashes task inputs as given, so a path string would hit the cache after the file changed.
These keys fold in each input file's size and modification time (or, for small files, their
content hash) and the checkpoint's hash, so a changed input or model recomputes, and an unchanged
one is reused after a crash.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path


def file_fingerprint(path: str | os.PathLike) -> dict:
    """(resolved path, size, mtime in ns) of a file, or of every file in a folder."""
    p = Path(path).resolve()
    if p.is_dir():
        files = sorted(f for f in p.rglob("*") if f.is_file())
        return {"path": str(p), "files": [(f.relative_to(p).as_posix(), f.stat().st_size, f.stat().st_mtime_ns) for f in files]}
    st = p.stat()
    return {"path": str(p), "size": st.st_size, "mtime_ns": st.st_mtime_ns}


def key_of(*parts) -> str:
    """A stable hex key of JSON-able parts (file fingerprints, parameters, hashes)."""
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:32]
