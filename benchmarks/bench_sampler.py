"""Speed of batched video sampling against a naive frame-by-frame reference, with an output check.

Both sample the same frames (one source image, ``--frames`` synthetic pose maps) with the same seed
and fixed noise, on a model of the named size built from scratch (random weights: this measures
speed, not quality):

- reference: frame by frame, as the official FPDM code samples: the encoders (source tokens, e_img,
  fusion) recomputed for every frame, the three guidance branches as one batch of 3, float32;
- batched: ``pipelines.sample_video`` in the requested dtype: the source encoded once, B frames at a
  time (3B rows per UNet call), for each ``--batch-size`` given.

Frame k of both starts from the same initial latent and gets the same per-step noise, so their
outputs must agree: with float32 the largest absolute pixel difference (images in [0, 1]) must stay
under ``--tolerance`` or the run fails (exit code 1); with bf16/fp16 the difference is only reported.
Frames per second of both and their ratio are printed as JSON and written to
``benchmarks/results/sampler_<size>_<device>.json`` with the device name, torch version, git commit
and settings.

    python benchmarks/bench_sampler.py tiny --frames 8 --batch-size 1 4 8 --steps 20
    python benchmarks/bench_sampler.py sd21-256 --device cuda --dtype bf16 --frames 64 --batch-size 8 16 32
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, replace
from pathlib import Path

import torch
import torch.nn.functional as F

from pipelines import FPDMPipeline, sample_video
from pipelines.samplers import SAMPLERS
from pipelines.settings import SamplingRequest, SamplingSettings, resolve_sampling
from result_file import check_result, write_result

logger = logging.getLogger("bench_sampler")

SIZES = ("tiny", "demo", "sd21-256", "sd21-512")
DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}
RESULTS_DIR = Path(__file__).resolve().parent / "results"


def synthetic_inputs(frames: int, resolution: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """A smooth source image (3, R, R) and pose maps (T, 3, R, R): bright moving bars on black, in [0, 1]."""
    generator = torch.Generator().manual_seed(seed)
    coarse = torch.rand(1, 3, 6, 6, generator=generator)
    source = F.interpolate(coarse, size=(resolution, resolution), mode="bilinear", align_corners=False)[0]
    pose = torch.zeros(frames, 3, resolution, resolution)
    bar = max(resolution // 16, 1)
    for k in range(frames):
        x = (k * 3 + resolution // 4) % (resolution - bar)
        pose[k, k % 3, :, x : x + bar] = 1.0
        pose[k, (k + 1) % 3, resolution // 2 : resolution // 2 + bar, :] = 0.5 + 0.5 * k / max(frames, 1)
    return source, pose


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed(run: Callable[[], torch.Tensor], device: torch.device) -> tuple[torch.Tensor, float]:
    """(output, seconds) of ``run()``, synchronised on CUDA."""
    synchronize(device)
    start = time.perf_counter()
    out = run()
    synchronize(device)
    return out, time.perf_counter() - start


def reference_frames(model, source, pose, settings: SamplingSettings) -> torch.Tensor:
    """Frame by frame, encoders recomputed per frame, 3 rows per UNet call: (T, 3, R, R) on the CPU."""
    pipe = FPDMPipeline(model)
    frames = []
    for k in range(pose.shape[0]):
        generator = torch.Generator().manual_seed(settings.seed)  # the same x_T and step noise for every frame
        frames.append(pipe(source[None], pose[k : k + 1], settings, generator=generator, progress=False).cpu())
    return torch.cat(frames)


def batched_frames(model, source, pose, settings: SamplingSettings) -> torch.Tensor:
    """``sample_video`` with ``settings.batch_size`` frames per chunk: (T, 3, R, R) on the CPU."""
    return torch.cat([chunk.cpu() for chunk in sample_video(model, source, pose, settings, progress=False)])


def device_name(device: torch.device) -> str:
    """GPU name, or the CPU model from /proc/cpuinfo (platform.processor() elsewhere)."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def git_commit() -> str:
    """The checked-out commit of this repository (with '+dirty' for uncommitted changes), or 'unknown'."""
    repo = Path(__file__).resolve().parents[1]
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True, check=True)
        paths = ["pipelines", "fpdm_video", "benchmarks/bench_sampler.py"]
        dirty = subprocess.run(["git", "status", "--porcelain", "--", *paths], cwd=repo, capture_output=True, text=True)
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return commit.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")


def build(size: str, device: torch.device, dtype: torch.dtype, seed: int):
    """A model of the named size with random weights (seeded), in eval mode, on ``device`` in ``dtype``."""
    from fpdm_video.models.registry import build_model

    torch.manual_seed(seed)
    return build_model(size).eval().to(device=device, dtype=dtype)


def run(args: argparse.Namespace) -> dict:
    device = torch.device(args.device)
    dtype = DTYPES[args.dtype]
    reference_model = build(args.size, device, torch.float32, args.seed)
    model = reference_model if dtype == torch.float32 else build(args.size, device, dtype, args.seed)
    request = SamplingRequest(steps=args.steps, guidance=args.guidance, scheduler=args.scheduler, seed=args.seed,
                              temporal_attention="off")  # the paper's sampler, as every stored result of this benchmark
    settings = resolve_sampling(request, model.config)  # batch_size: each run's B
    resolution = int(model.config.resolution)  # this benchmark's sizes are square
    source, pose = synthetic_inputs(args.frames, resolution, args.seed)
    logger.info("model %s (%d px), %d frames, %s on %s", args.size, resolution, args.frames, args.dtype, device)

    load_before = os.getloadavg()[0] if hasattr(os, "getloadavg") else None

    # Warm-up (kernel selection, allocator): one frame, one step, both paths
    warm = resolve_sampling(replace(request, steps=1, batch_size=1), model.config)
    reference_frames(reference_model, source, pose[:1], warm)
    batched_frames(model, source, pose[:1], warm)

    reference, reference_s = timed(lambda: reference_frames(reference_model, source, pose, settings), device)
    reference_fps = args.frames / reference_s
    logger.info("reference: %.2f s, %.3f frames/s", reference_s, reference_fps)
    results = []
    for batch_size in args.batch_size:
        batched = resolve_sampling(replace(request, batch_size=batch_size), model.config)
        frames, seconds = timed(lambda: batched_frames(model, source, pose, batched), device)
        max_diff = float((frames - reference).abs().max())
        fps = args.frames / seconds
        results.append(dict(batch_size=batch_size, seconds=round(seconds, 3), frames_per_s=round(fps, 4),
                            speedup=round(fps / reference_fps, 3), max_abs_diff=max_diff))  # fmt: skip
        logger.info(
            "batch %d: %.2f s, %.3f frames/s, x%.2f, max |diff| %.2e",
            batch_size, seconds, fps, fps / reference_fps, max_diff,
        )  # fmt: skip
    checked = dtype == torch.float32
    worst = max(r["max_abs_diff"] for r in results)
    return dict(
        benchmark="sampler",
        model_size=args.size,
        resolution=resolution,
        settings=dict(steps=settings.steps, guidance=settings.guidance, scheduler=settings.scheduler, seed=settings.seed,
                      frames=args.frames, batch_sizes=args.batch_size, dtype=args.dtype, reference_dtype="fp32",
                      noise=settings.noise, tolerance=args.tolerance),  # fmt: skip
        sampling=asdict(settings),
        reference=dict(seconds=round(reference_s, 3), frames_per_s=round(reference_fps, 4),
                       method="frame by frame, encoders per frame, 3 rows per UNet call, fp32"),  # fmt: skip
        batched=results,
        output_check=dict(checked=checked, max_abs_diff=worst, passed=(worst <= args.tolerance) if checked else None,
                          note="images in [0, 1]; checked only when both paths are fp32"),  # fmt: skip
        device=dict(kind=device.type, name=device_name(device), torch=torch.__version__,
                    threads=torch.get_num_threads(), python=platform.python_version(),
                    load_average_1m_before=load_before),  # fmt: skip
        git_commit=git_commit(),
    )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("size", choices=SIZES, help="model size (random weights)")
    parser.add_argument("--frames", type=int, default=8, help="frames to sample (both paths)")
    parser.add_argument("--batch-size", type=int, nargs="+", default=[4], help="frames per chunk; several for a sweep")
    parser.add_argument("--steps", type=int, help="denoising steps (default: the checkpoint's, 20)")
    parser.add_argument("--guidance", type=float, help="guidance scale g (default: the checkpoint's, 2)")
    parser.add_argument("--scheduler", choices=tuple(SAMPLERS), help="sampler (default: the paper's, ddpm)")
    parser.add_argument("--device", default="cpu", help="torch device, e.g. cpu or cuda")
    parser.add_argument("--dtype", default="fp32", choices=tuple(DTYPES), help="dtype of the batched path")
    parser.add_argument("--seed", type=int, default=0, help="seed of the weights, inputs and noise")
    parser.add_argument("--tolerance", type=float, default=1e-3, help="max |diff| allowed when both paths are fp32")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    parser.add_argument("--out", type=Path, default=None, help="JSON path (results/sampler_<size>_<device>.json)")
    args = parser.parse_args(argv)
    if args.frames < 1 or (args.steps is not None and args.steps < 1) or min(args.batch_size) < 1:
        parser.error("--frames, --steps and --batch-size must be positive")
    return args


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    out = check_result(args.out or RESULTS_DIR / f"sampler_{args.size}_{torch.device(args.device).type}.json")
    result = run(args)
    write_result(out, result)
    sys.stdout.write(json.dumps(result, indent=2) + "\n")
    logger.info("wrote %s", out)
    if result["output_check"]["passed"] is False:
        diff = result["output_check"]["max_abs_diff"]
        logger.error("batched output differs from the reference by %.2e > %.1e", diff, args.tolerance)
        return 1
    return 0


if __name__ == "__main__":
    from fpdm_video.cli import run_guarded

    raise SystemExit(run_guarded(main))
