"""Speed of pose-map rendering on the CPU: frames per second at several canvas sizes.

Renders every frame of a real pose file (default: ``example.pose`` of the shared test data, 97
frames of a signer with body, hands and face) ``--repeats`` times, single-threaded, with

- ``opencv``: the project's renderer (:func:`fpdm_video.pose.render.render_pose_maps`, anti-aliased
  OpenCV lines, float32 (T, 3, S, S) output), and its uint8 path alone;
- ``pil``: the same bones, colours and widths drawn with PIL's ``ImageDraw`` (no anti-aliasing),
  written here only to compare the two libraries.

The best of the repeats is kept. The result, with the machine (CPU model, cores) and library
versions, is written as JSON.

    python benchmarks/bench_pose_render.py --out benchmarks/results/pose_render_cpu.json
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import PIL
from PIL import Image, ImageDraw

from fpdm_video.geometry import CanvasFit
from fpdm_video.pose import load_holistic
from fpdm_video.pose.render import RenderStyle, iter_pose_images, render_pose_maps
from fpdm_video.pose.sequence import PoseSequence
from fpdm_video.pose.skeleton import holistic_bones
from result_file import check_result, write_result

logger = logging.getLogger("bench_pose_render")

REPO = Path(__file__).resolve().parents[1]
DEFAULT_POSE = Path(os.environ.get("FPDM_SHARED_DATA", REPO.parent / "shared" / "data")) / "real" / "example.pose"


def render_pil(pose: PoseSequence, size: int, style: RenderStyle) -> np.ndarray:
    """The comparison renderer: (T, size, size, 3) uint8 with PIL, same bones and colours, no anti-aliasing."""
    fit = CanvasFit.of(pose.width, pose.height, size)
    groups = holistic_bones()
    widths = {"body": style.body_width, "hand": style.hand_width, "face": style.face_width}
    out = []
    for t in range(pose.num_frames):
        image = Image.new("RGB", (size, size))
        draw = ImageDraw.Draw(image)
        xy = fit.points_to_canvas(pose.points[t, :, :2])
        visible = pose.confidence[t] >= style.min_confidence
        for group in groups:
            width = max(1, round(widths[group.kind] * size))
            for (a, b), color in zip(group.bones, group.colors):
                if visible[a] and visible[b]:
                    draw.line([tuple(xy[a]), tuple(xy[b])], fill=tuple(int(c) for c in color), width=width)
        for i in np.flatnonzero(visible[: groups[-1].bones.max() + 1]):
            r = 1.5
            draw.ellipse([xy[i, 0] - r, xy[i, 1] - r, xy[i, 0] + r, xy[i, 1] + r], fill=(255, 255, 255))
        out.append(np.asarray(image))
    return np.stack(out)


def best_fps(run, frames: int, repeats: int) -> float:
    """Frames per second of the fastest of ``repeats`` calls of ``run()``."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return frames / best


def device() -> dict:
    """The machine and the versions of the libraries involved."""
    cpu = platform.processor() or "unknown"
    try:
        with open("/proc/cpuinfo") as info:
            cpu = next((line.split(":", 1)[1].strip() for line in info if line.startswith("model name")), cpu)
    except OSError:
        pass
    return {
        "kind": "cpu",
        "cpu_model": cpu,
        "logical_cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "opencv_threads": cv2.getNumThreads(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "opencv": cv2.__version__,
        "pillow": PIL.__version__,
    }


def run(pose_path: Path, sizes: list[int], repeats: int) -> dict:
    pose = load_holistic(pose_path)
    style = RenderStyle()
    results = []
    for size in sizes:
        row = {
            "size": size,
            "opencv_float_fps": best_fps(lambda: render_pose_maps(pose, size), pose.num_frames, repeats),
            "opencv_uint8_fps": best_fps(lambda: list(iter_pose_images(pose, size)), pose.num_frames, repeats),
            "pil_uint8_fps": best_fps(lambda: render_pil(pose, size, style), pose.num_frames, repeats),
        }
        row = {k: round(v, 1) if isinstance(v, float) else v for k, v in row.items()}
        logger.info("%s", row)
        results.append(row)
    return {
        "benchmark": "pose_render",
        "pose": {"file": pose_path.name, "frames": pose.num_frames, "width": pose.width, "height": pose.height,
                 "present": pose.presence_counts()},  # fmt: skip
        "repeats": repeats,
        "single_threaded": True,
        "results": results,
        "device": device(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pose", type=Path, default=DEFAULT_POSE, help="a .pose file to render")
    parser.add_argument("--sizes", type=int, nargs="+", default=[128, 256, 512], help="canvas sides in pixels")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per size; the best is kept")
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results" / "pose_render_cpu.json")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
    if not args.pose.is_file():
        parser.error(f"pose file {args.pose} not found; pass --pose or set FPDM_SHARED_DATA")
    check_result(args.out, {"--pose": args.pose})
    cv2.setNumThreads(1)
    record = run(args.pose, args.sizes, args.repeats)
    write_result(args.out, record)
    json.dump(record["results"], sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    from fpdm_video.cli import run_guarded

    raise SystemExit(run_guarded(main))
