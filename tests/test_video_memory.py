"""Chunked reading keeps memory flat: the benchmark's measurement, on a short video."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_video_memory.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_video_memory", BENCH)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="peak RSS is read from /proc")
@pytest.mark.parametrize("mode", ["chunked-decord", "chunked-pyav"])
def test_chunked_reading_memory_is_flat(bench, tmp_path_factory, mode):
    frames, size, frame_bytes = 600, 256, 256 * 256 * 3
    video = tmp_path_factory.getbasetemp() / "memory_600.mp4"
    if not video.exists():
        bench.make_video(video, frames, size, fps=25.0)
    short = bench.measure_in_subprocess(mode, video, chunk_size=16, end=100)
    full = bench.measure_in_subprocess(mode, video, chunk_size=16)
    assert (short["frames_read"], full["frames_read"]) == (100, frames)
    assert short["peak_reset_before_reading"] and full["peak_reset_before_reading"]
    # far below holding all 600 frames (112.5 MiB); measured ~29 MiB (decord), ~21 MiB (PyAV) here
    assert full["peak_rss_growth_bytes"] < 0.5 * frames * frame_bytes, full
    # reading 500 more frames adds almost nothing: memory does not grow with the video's length
    extra = full["peak_rss_growth_bytes"] - short["peak_rss_growth_bytes"]
    assert extra < 0.2 * (frames - 100) * frame_bytes, (short, full)
