"""Strict JSON for records and reports: NaN and infinity become null, so every file parses anywhere.

Python's ``json`` writes ``NaN`` and ``Infinity`` by default, which is not JSON: other tools (jq,
JavaScript, most JSON libraries) refuse the file.
"""

from __future__ import annotations

import json
import math
from typing import Any


def to_json_safe(value: Any) -> Any:
    """``value`` with every non-finite float (nested in dicts, lists and tuples) replaced by None."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: to_json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json_safe(v) for v in value]
    return value


def dumps(value: Any, *, default=str) -> str:
    """``value`` as indented strict JSON with a final newline (objects JSON cannot hold go through ``default``)."""
    return json.dumps(to_json_safe(value), indent=2, default=default, allow_nan=False) + "\n"
