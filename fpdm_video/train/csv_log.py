"""Training logs as CSV: one row per logged step, cut back to the resumed step on resume."""

from __future__ import annotations

import csv
import os
from pathlib import Path


class CSVLog:
    """Appends rows of metrics to ``path``; columns fixed by the first row written."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        self.fields: list[str] | None = None
        if self.path.is_file():
            with open(self.path, newline="") as f:
                self.fields = next(csv.reader(f), None)

    def truncate_after(self, step: int) -> None:
        """Drop rows logged after ``step`` (they were not covered by the checkpoint being resumed)."""
        if not self.path.is_file():
            return
        with open(self.path, newline="") as f:
            rows = list(csv.DictReader(f))
        kept = [r for r in rows if int(r["step"]) <= step]
        tmp = self.path.with_name(self.path.name + ".tmp")
        with open(tmp, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=self.fields or ["step"])
            writer.writeheader()
            writer.writerows(kept)
        os.replace(tmp, self.path)

    def write(self, row: dict[str, float | int]) -> None:
        new = not self.path.is_file() or self.fields is None
        if new:
            self.fields = list(row)
        with open(self.path, "a", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=self.fields, extrasaction="ignore")
            if new:
                writer.writeheader()
            writer.writerow(row)


def read_log(path: str | os.PathLike) -> list[dict[str, float]]:
    """Rows of a CSV log as floats."""
    with open(path, newline="") as f:
        return [{k: float(v) for k, v in row.items() if v != ""} for row in csv.DictReader(f)]
