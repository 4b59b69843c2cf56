"""Smoke test of benchmarks/bench_sampler.py through main(argv) on the tiny model."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_sampler.py"


def load_bench():
    spec = importlib.util.spec_from_file_location("bench_sampler", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_bench_sampler_tiny_writes_a_passing_result(tmp_path):
    out = tmp_path / "sampler.json"
    bench = load_bench()
    argv = ["tiny", "--frames", "3", "--batch-size", "1", "3", "--steps", "2", "--scheduler", "ddim", "--out", str(out)]
    assert bench.main(argv) == 0
    result = json.loads(out.read_text())
    assert result["model_size"] == "tiny" and result["resolution"] == 32
    assert [row["batch_size"] for row in result["batched"]] == [1, 3]
    assert result["output_check"] == {**result["output_check"], "checked": True, "passed": True}
    assert result["output_check"]["max_abs_diff"] < 1e-3
    assert result["reference"]["frames_per_s"] > 0 and all(row["frames_per_s"] > 0 for row in result["batched"])
    assert result["device"]["kind"] == "cpu" and result["device"]["torch"]
    assert result["settings"]["steps"] == 2


def test_bench_sampler_rejects_bad_arguments():
    bench = load_bench()
    with pytest.raises(SystemExit):
        bench.parse_args(["tiny", "--frames", "0"])
    with pytest.raises(SystemExit):
        bench.parse_args(["huge"])
