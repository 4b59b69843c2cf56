"""Speed of the synthetic signer generator on this machine's CPU.

Measures, for each frame size: motion generation (``generate_motion``), proportion rescaling
(``apply_proportions``), drawing (``render_signer``, one frame at a time) and the whole dataset
writer (motion + drawing + PNG frames + corpus row + .pose sidecar). Each timing is the median of
``--repeats`` runs after one warm-up; identities cycle over ``--identities`` seeds so that the
clothing patterns and hair styles are mixed. The record, with the CPU and library versions, is
written as JSON.

    python benchmarks/bench_synthetic.py --out benchmarks/results/synthetic_cpu.json
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

from fpdm_video.data.synthetic import (
    SyntheticDatasetConfig,
    apply_proportions,
    generate_motion,
    render_signer,
    sample_identity,
    write_synthetic_dataset,
)
from result_file import check_result, write_result

logger = logging.getLogger("bench_synthetic")

SIZES: tuple[tuple[int, int], ...] = ((128, 128), (256, 256), (210, 260))


def machine() -> dict:
    """CPU model, cores and library versions."""
    model = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")),
        platform.processor() or "unknown",
    )
    return {
        "kind": "cpu",
        "cpu_model": model,
        "usable_cores": len(os.sched_getaffinity(0)),
        "opencv": cv2.__version__,
        "opencv_threads": cv2.getNumThreads(),
        "numpy": np.__version__,
        "python": platform.python_version(),
    }


def commit() -> str:
    repo = Path(__file__).resolve().parents[1]
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True, check=True)
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "fpdm_video/data", "benchmarks/bench_synthetic.py"],
            cwd=repo,
            capture_output=True,
            text=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")


def timed(fn, repeats: int) -> float:
    """Median seconds of ``fn()`` over ``repeats`` runs after one warm-up run."""
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def bench_size(width: int, height: int, frames: int, identities: int, repeats: int) -> dict:
    motion = generate_motion(1, frames, width, height)
    people = [sample_identity(seed) for seed in range(identities)]
    posed = [apply_proportions(motion, person) for person in people]

    def render_all() -> None:
        for i in range(frames):
            k = i % identities
            render_signer(people[k], posed[k], i, (width, height))

    motion_s = timed(lambda: generate_motion(1, frames, width, height), repeats)
    props_s = timed(lambda: apply_proportions(motion, people[0]), repeats)
    render_s = timed(render_all, repeats)
    clips, clip_frames = 4, frames // 4
    with tempfile.TemporaryDirectory() as tmp:
        counter = iter(range(10**6))

        def write() -> None:
            config = SyntheticDatasetConfig(clips=clips, frames=clip_frames, width=width, height=height, seed=next(counter))
            write_synthetic_dataset(Path(tmp) / "d", config)

        dataset_s = timed(write, repeats)
    record = {
        "width": width,
        "height": height,
        "frames": frames,
        "motion_frames_per_s": round(frames / motion_s, 1),
        "proportions_frames_per_s": round(frames / props_s, 1),
        "render_frames_per_s": round(frames / render_s, 1),
        "render_ms_per_frame": round(1000 * render_s / frames, 3),
        "dataset_frames_per_s": round(clips * clip_frames / dataset_s, 1),
    }
    logger.info("%s", record)
    return record


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=200, help="frames per measurement")
    parser.add_argument("--identities", type=int, default=8, help="identities cycled while drawing")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per measurement (median)")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/synthetic_cpu.json"))
    args = parser.parse_args()
    check_result(args.out)
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    logging.getLogger("fpdm_video").setLevel(logging.ERROR)  # no per-clip lines from the writer
    record = {
        "benchmark": "synthetic_signer",
        "commit": commit(),
        "device": machine(),
        "settings": {"frames": args.frames, "identities": args.identities, "repeats": args.repeats},
        "results": [bench_size(w, h, args.frames, args.identities, args.repeats) for w, h in SIZES],
    }
    write_result(args.out, record)
    logger.info("wrote %s", args.out)


if __name__ == "__main__":
    from fpdm_video.cli import run_guarded

    raise SystemExit(run_guarded(main))
