"""Sampling speed of each saving against the paper's sampler as main ran it (DDPM 20, g 2, three branches, fp32).

One run, one JSON, device named: every variant samples the same frames (real poses of
``example.pose`` drawn on the checkpoint's canvas, the shared reference photo, fixed noise) in the
same process, interleaved, and records frames/s, its ratio to the paper's three-branch baseline and,
for exact changes, the max abs difference of the frames (images in [0, 1]).

Variants so far:
- ``three_branches``: the paper's rule with its three UNet branches u, s, f (main before the
  two-branch change; forced here by making ``pipelines.guidance.branches_for`` return them);
- ``two_branches``: one guidance scale, so the s branch cancels (u and f only), exact.

    python benchmarks/bench_speed.py --threads 2
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

import pipelines.guidance as guidance_module
from bench_sampler import device_name, git_commit
from fpdm_video.geometry import CanvasFit
from fpdm_video.pose import load_holistic, render_pose_maps, style_for
from pipelines.transfer import default_checkpoint
from pipelines.transfer.stages import source_tensor
from pipelines.video_sampling import sample_video

RESULTS_DIR = Path(__file__).resolve().parent / "results"
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "real"
PAPER_BRANCHES = ("u", "s", "f")


def inputs(model, frames: int):
    from PIL import Image

    pose = load_holistic(SHARED / "example.pose").frames(0, frames)
    fit = CanvasFit.of(pose.width, pose.height, model.config.resolution)
    maps = torch.from_numpy(render_pose_maps(pose, fit.canvas, fit=fit, style=style_for(model.config.pose_map)))
    photo = np.asarray(Image.open(SHARED / "fake_human.png").convert("RGB"))
    return source_tensor(photo, CanvasFit.of(photo.shape[1], photo.shape[0], model.config.resolution)), maps


def run_variant(model, source, maps, args, branches=None) -> tuple[float, torch.Tensor]:
    original = guidance_module.branches_for
    if branches is not None:
        guidance_module.branches_for = lambda g, gs=None: branches
    try:
        start = time.perf_counter()
        frames = torch.cat(list(sample_video(model, source, maps, batch_size=args.batch_size, steps=args.steps,
                                             guidance=args.guidance, seed=0, progress=False)))  # fmt: skip
        return time.perf_counter() - start, frames
    finally:
        guidance_module.branches_for = original


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--checkpoint", type=Path, help="default: the embedded demo model")
    p.add_argument("--frames", type=int, default=8)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--guidance", type=float, default=2.0)
    p.add_argument("--batch-size", type=int, default=4)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--out", type=Path)
    args = p.parse_args(argv)
    if not SHARED.is_dir():
        print(f"error: the shared real data is not at {SHARED}", file=sys.stderr)
        return 2
    torch.set_num_threads(args.threads)
    from fpdm_video.models.checkpoint import load_model

    checkpoint = args.checkpoint or default_checkpoint()
    model = load_model(checkpoint).eval()
    source, maps = inputs(model, args.frames)
    variants = {"three_branches": PAPER_BRANCHES, "two_branches": None}
    times = {name: [] for name in variants}
    outputs = {}
    run_variant(model, source, maps[: args.batch_size], args)  # warm-up
    for _ in range(args.repeats):  # interleaved, so drifts of the machine hit every variant alike
        for name, branches in variants.items():
            seconds, frames = run_variant(model, source, maps, args, branches)
            times[name].append(seconds)
            outputs[name] = frames
    base = min(times["three_branches"])
    result = {
        "what": "frames/s of each sampling saving against the paper's three-branch sampler, same frames, one process",
        "device": device_name(torch.device("cpu")), "threads": args.threads, "commit": git_commit(),
        "checkpoint": str(checkpoint.name if hasattr(checkpoint, "name") else checkpoint), "frames": args.frames,
        "steps": args.steps, "guidance": args.guidance, "batch_size": args.batch_size, "repeats": args.repeats,
        "variants": {name: {"seconds_min": min(t), "seconds_median": float(np.median(t)), "seconds_max": max(t),
                            "frames_per_second": args.frames / min(t), "speedup_vs_three_branches": base / min(t),
                            "max_abs_difference_vs_three_branches": float((outputs[name] - outputs["three_branches"]).abs().max())}
                     for name, t in times.items()},
    }  # fmt: skip
    out = args.out or RESULTS_DIR / "speed_demo_cpu.json"
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result["variants"], indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
