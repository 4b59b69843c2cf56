"""Small helpers shared by the evaluation reports: per-frame series to summaries, and a text table."""

from __future__ import annotations

import math

import numpy as np


def summarise(values) -> dict[str, float]:
    """Mean, median, min and max of a per-frame series, ignoring NaN (all NaN: NaN)."""
    v = np.asarray(list(values), dtype=np.float64)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return {"mean": float("nan"), "median": float("nan"), "min": float("nan"), "max": float("nan"), "count": 0}
    return {"mean": float(v.mean()), "median": float(np.median(v)), "min": float(v.min()), "max": float(v.max()),
            "count": int(v.size)}  # fmt: skip


def unavailable(reason: str) -> dict[str, str]:
    return {"status": "unavailable", "reason": reason}


def _fmt(value) -> str:
    if isinstance(value, float):
        return "nan" if math.isnan(value) else f"{value:.4g}"
    return str(value)


def table(rows: list[tuple[str, object]]) -> str:
    """A two-column text table."""
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k.ljust(width)}  {_fmt(v)}" for k, v in rows)

