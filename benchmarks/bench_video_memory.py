"""Memory of chunked video reading versus reading a whole video at once.

Generates a synthetic video (default 2000 frames of 256x256, written with VideoWriter into a
temporary folder), then reads it in fresh subprocesses, one per mode:

- ``chunked-decord`` / ``chunked-pyav``: ``iter_video_chunks(chunk_size=16)`` with that decoder,
  each chunk dropped after use (as the transfer pipeline does);
- ``all-at-once``: ``read_video`` (decord), the whole (T, H, W, 3) array in memory.

Each subprocess reports its peak RSS growth: the peak RSS while reading minus the RSS just
before reading (libraries already imported). On Linux the kernel's peak-RSS mark is reset right
before reading (``/proc/self/clear_refs``), so import-time peaks do not count; where that is not
allowed, the process's lifetime peak ``ru_maxrss`` is used, an upper bound. The result, with the
machine (CPU model, cores, memory) and library versions, is written as JSON.

    python benchmarks/bench_video_memory.py --out benchmarks/results/video_memory_cpu.json
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import psutil
from result_file import check_result, write_result

logger = logging.getLogger("bench_video_memory")

MODES = ("chunked-decord", "chunked-pyav", "all-at-once")


def synthetic_frames(num_frames: int, size: int, batch: int = 50):
    """Yield (b, size, size, 3) uint8 batches: a drifting colour field with a moving square."""
    ys, xs = np.mgrid[0:size, 0:size].astype(np.float32)  # (size, size) each
    side = size // 5
    for first in range(0, num_frames, batch):
        frames = []
        for i in range(first, min(first + batch, num_frames)):
            red = 127 + 127 * np.sin((xs + 3 * i) / 23.0)
            green = 127 + 127 * np.cos((ys - 2 * i) / 31.0)
            blue = np.full_like(xs, (5 * i) % 256)
            frame = np.stack([red, green, blue], axis=-1).astype(np.uint8)  # (size, size, 3)
            x0, y0 = (7 * i) % (size - side), (3 * i) % (size - side)
            frame[y0 : y0 + side, x0 : x0 + side] = (255, 255, 255)
            frames.append(frame)
        yield np.stack(frames)


def make_video(path: Path, num_frames: int, size: int, fps: float) -> Path:
    """Write the synthetic video with this project's streaming writer."""
    from fpdm_video.video import VideoWriter

    with VideoWriter(path, fps=fps, preset="veryfast") as writer:
        for batch in synthetic_frames(num_frames, size):
            writer.write(batch)
    return path


def reset_peak_rss() -> bool:
    """Reset the kernel's peak-RSS mark of this process (Linux); False where that is not possible."""
    try:
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")
        return True
    except OSError:
        return False


def peak_rss() -> int:
    """Peak RSS of this process in bytes: VmHWM (since the last reset) or ru_maxrss."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024  # reported in kB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports KiB


def measure(mode: str, video: Path, chunk_size: int, end: int | None = None) -> dict:
    """Read frames ``[0, end)`` of ``video`` in ``mode`` in this process; return peak RSS growth and timing."""
    import decord  # noqa: F401  (imported before the baseline, like every library used below)

    from fpdm_video.video import iter_video_chunks, read_video

    peak_reset = reset_peak_rss()
    rss_before = psutil.Process().memory_info().rss
    peak_before = peak_rss()
    start = time.perf_counter()
    frames = 0
    if mode == "all-at-once":
        frames = len(read_video(video, end=end))
    else:
        backend = mode.removeprefix("chunked-")
        for clip in iter_video_chunks(video, chunk_size=chunk_size, end=end, backend=backend):
            frames += len(clip)
    seconds = time.perf_counter() - start
    peak_after = peak_rss()
    return {
        "mode": mode,
        "peak_reset_before_reading": peak_reset,
        "frames_read": frames,
        "seconds": round(seconds, 3),
        "rss_before_bytes": rss_before,
        "peak_rss_before_bytes": peak_before,
        "peak_rss_after_bytes": peak_after,
        "peak_rss_growth_bytes": peak_after - rss_before,
    }


def measure_in_subprocess(mode: str, video: Path, chunk_size: int, end: int | None = None) -> dict:
    """Run :func:`measure` in a fresh interpreter so that each mode starts from a clean heap."""
    command = [sys.executable, __file__, "--measure", mode, "--video", str(video), "--chunk", str(chunk_size)]
    command += [] if end is None else ["--end", str(end)]
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def device() -> dict:
    """The machine: CPU model, cores, memory, OS and the versions of the libraries involved."""
    import av
    import decord

    cpu = "unknown"
    with open("/proc/cpuinfo") as info:
        for line in info:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {
        "kind": "cpu",
        "cpu_model": cpu,
        "logical_cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)),
        "memory_bytes": psutil.virtual_memory().total,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "av": av.__version__,
        "ffmpeg_libavcodec": ".".join(map(str, av.library_versions["libavcodec"])),
        "decord": decord.__version__,
        "psutil": psutil.__version__,
    }


def run(num_frames: int, size: int, chunk_size: int, fps: float, modes: list[str]) -> dict:
    """Generate the video, measure every mode, and return the full record."""
    all_at_once_bytes = num_frames * size * size * 3
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        video = make_video(Path(tmp) / "synthetic.mp4", num_frames, size, fps)
        encode_seconds = time.perf_counter() - start
        logger.info("wrote %d frames in %.1f s (%d bytes)", num_frames, encode_seconds, video.stat().st_size)
        results = []
        for mode in modes:
            result = measure_in_subprocess(mode, video, chunk_size)
            result["growth_over_all_at_once_size"] = round(result["peak_rss_growth_bytes"] / all_at_once_bytes, 4)
            logger.info("%s: peak RSS growth %.1f MiB", mode, result["peak_rss_growth_bytes"] / 2**20)
            results.append(result)
        file_bytes = video.stat().st_size
    return {
        "benchmark": "video_memory",
        "video": {"frames": num_frames, "width": size, "height": size, "fps": fps, "file_bytes": file_bytes},
        "chunk_size": chunk_size,
        "all_at_once_frame_bytes": all_at_once_bytes,
        "encode_seconds": round(encode_seconds, 2),
        "results": results,
        "device": device(),
        "method": "peak RSS growth = VmHWM after reading - RSS before reading, peak mark reset before "
        "reading via /proc/self/clear_refs, each mode in a fresh subprocess",
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=2000, help="frames in the synthetic video")
    parser.add_argument("--size", type=int, default=256, help="width and height of the frames")
    parser.add_argument("--chunk", type=int, default=16, help="chunk size of the chunked reads")
    parser.add_argument("--fps", type=float, default=25.0, help="frame rate of the synthetic video")
    parser.add_argument("--modes", nargs="+", choices=MODES, default=list(MODES), help="what to measure")
    parser.add_argument("--out", type=Path, default=None, help="JSON output file (default: stdout only)")
    parser.add_argument("--measure", choices=MODES, help=argparse.SUPPRESS)  # subprocess side
    parser.add_argument("--video", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--end", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure:
        sys.stdout.write(json.dumps(measure(args.measure, args.video, args.chunk, args.end)) + "\n")
        return 0
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if args.out is not None:
        check_result(args.out)
    record = run(args.frames, args.size, args.chunk, args.fps, args.modes)
    text = json.dumps(record, indent=2)
    if args.out is not None:
        write_result(args.out, record)
    sys.stdout.write(text + "\n")
    return 0


if __name__ == "__main__":
    from fpdm_video.cli import run_guarded

    raise SystemExit(run_guarded(main))
