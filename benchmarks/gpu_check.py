"""The GPU check: equality of the fast paths on CUDA, then sd21-256 sampling speed in bf16, as JSON in a folder.

    python benchmarks/gpu_check.py OUT_DIR                 # on one H100 / H200, under 8 minutes
    python benchmarks/gpu_check.py OUT_DIR --device cpu --size tiny --budget 60   # the plumbing, anywhere

1. **Equality on the device**: the tiny model sampled with every exact saving against the paper's
   sampler (three branches, nothing reused), fp32 on the device: max abs difference of the frames.
2. **Speed**: ``--size`` (default sd21-256) with random weights (this is a speed measurement, not a
   model) in bf16, for B in {1, 4, 16, 32} frames per chunk, each ``--speed`` preset and the naive
   official-style loop (``Reuse.none()``), without and (at B = 16) with ``torch.compile`` of the UNet;
   and ``turbo`` at B in {1, 16, 64}: a few-step student made from those random weights (4 steps,
   the guidance embedding) with a tiny decoder of the default width (random too).
   Each run records frames/s, peak device memory, the FLOPs of its UNet and VAE work (counted with
   torch.utils.flop_counter on one frame), the achieved TFLOP/s and its share of ``--peak-tflops``
   (790: the H100/H200 SXM dense bf16 peak).

Runs stop when ``--budget`` seconds of them have passed; those left are listed as skipped.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import asdict
from pathlib import Path

import torch

from bench_sampler import device_name, git_commit
from fpdm_video.models.registry import build_model
from pipelines.settings import SPEED_PRESETS, Reuse, SamplingRequest, SamplingSettings, resolve_sampling
from pipelines.video_sampling import sample_video
from result_file import check_result, write_result

BATCHES = (1, 4, 16, 32)
TURBO_BATCHES = (1, 16, 64)


def turbo_of(model):
    """A few-step student of ``model`` with a tiny decoder: the shapes and costs of turbo, random weights (a speed check)."""
    from fpdm_video.config import StudentConfig, TinyDecoderConfig
    from fpdm_video.models.student import student_from_teacher
    from fpdm_video.models.tiny_decoder import TinyDecoder

    student = student_from_teacher(model.float(), StudentConfig(teacher={"name": model.config.name}, steps=4))
    student.config.tiny_decoder = TinyDecoderConfig()
    student.tiny_decoder = TinyDecoder(student.latent_channels, student.vae_factor, student.config.tiny_decoder)
    return student


def frames_of(model, batch: int):
    w, h = model.canvas
    generator = torch.Generator().manual_seed(0)
    pose = (torch.rand(batch, 3, h, w, generator=generator) > 0.97).float()
    return torch.rand(3, h, w, generator=generator), pose


def settings_of(model, variant: str, batch: int) -> SamplingSettings:
    """The settings of ``variant`` ("naive": the paper's preset with nothing reused; else a ``--speed`` preset), g 2, seed 0."""
    speed, reuse = ("paper", Reuse.none()) if variant == "naive" else (variant, Reuse())
    return resolve_sampling(SamplingRequest(speed=speed, guidance=2.0, seed=0, batch_size=batch, temporal_attention="off"),
                            model.config, reuse=reuse)  # paper: the paper's sampler, without the preset's cross-frame attention


def sample(model, source, pose, variant: str) -> torch.Tensor:
    settings = settings_of(model, variant, pose.shape[0])
    return torch.cat(list(sample_video(model, source, pose, settings, progress=False)))


def flops_per_frame(model, variant: str) -> int:
    from torch.utils.flop_counter import FlopCounterMode

    source, pose = frames_of(model, 1)
    counter = FlopCounterMode(display=False)
    with counter:
        sample(model, source, pose, variant)
    return int(counter.get_total_flops())


def equality(device) -> dict:
    torch.manual_seed(0)
    model = build_model("tiny", load_pretrained=False).to(device).eval()
    source, pose = frames_of(model, 4)
    paper = sample(model, source, pose, "naive")
    fast = sample(model, source, pose, "paper")
    return {"max_abs_difference_exact_vs_paper": float((paper - fast).abs().max()), "frames": 4, "dtype": "fp32"}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("out", type=Path, help="folder for gpu_check.json")
    p.add_argument("--device", default="cuda")
    p.add_argument("--size", default="sd21-256")
    p.add_argument("--dtype", default="bf16", choices=("bf16", "fp32"))
    p.add_argument("--budget", type=float, default=420.0, help="seconds of runs before the rest is skipped")
    p.add_argument("--peak-tflops", type=float, default=790.0)
    args = p.parse_args(argv)
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        print("error: no CUDA device here; run on a GPU machine or pass --device cpu", file=sys.stderr)
        return 2
    report = check_result(args.out / "gpu_check.json", label="OUT")
    started = time.perf_counter()
    dtype = {"bf16": torch.bfloat16, "fp32": torch.float32}[args.dtype]
    result = {"device": device_name(device), "commit": git_commit(), "size": args.size, "dtype": args.dtype,
              "torch": torch.__version__, "equality": equality(device), "runs": [], "skipped": []}  # fmt: skip
    torch.manual_seed(0)
    model = build_model(args.size, load_pretrained=False).eval()
    student = turbo_of(model).to(device=device, dtype=dtype).eval()
    model = model.to(device=device, dtype=dtype)
    variants = ["naive", *(p for p in SPEED_PRESETS if p != "turbo")]
    models = {**dict.fromkeys(variants, model), "turbo": student}
    result["settings"] = {v: asdict(settings_of(m, v, 1)) for v, m in models.items()}  # each variant's (batch_size: each run's B)
    flops = {v: flops_per_frame(m, v) for v, m in models.items()}
    plans = ([(b, v, False) for b in BATCHES for v in variants] + [(b, "turbo", False) for b in TURBO_BATCHES]
             + [(16, v, True) for v in variants])  # fmt: skip
    compiled = None
    runs_started = time.perf_counter()
    for batch, variant, use_compile in plans:
        if time.perf_counter() - runs_started > args.budget:
            result["skipped"].append({"batch": batch, "variant": variant, "compile": use_compile})
            continue
        if use_compile and compiled is None:
            model.denoiser.unet = torch.compile(model.denoiser.unet)
            compiled = True
        source, pose = frames_of(model, batch)
        sample(models[variant], source, pose[:1], variant)  # warm-up (and compilation)
        if device.type == "cuda":
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
        t0 = time.perf_counter()
        sample(models[variant], source, pose, variant)
        if device.type == "cuda":
            torch.cuda.synchronize()
        seconds = time.perf_counter() - t0
        tflops = flops[variant] * batch / seconds / 1e12
        result["runs"].append({"batch": batch, "variant": variant, "compile": use_compile, "seconds": seconds,
                               "frames_per_second": batch / seconds, "flops_per_frame": flops[variant],
                               "achieved_tflops": tflops, "share_of_peak": tflops / args.peak_tflops,
                               "peak_memory_gb": torch.cuda.max_memory_allocated() / 2**30 if device.type == "cuda" else None})  # fmt: skip
        write_result(report, result)  # what is done so far survives a kill
    result["seconds"] = time.perf_counter() - started
    write_result(report, result)
    print(json.dumps({k: v for k, v in result.items() if k not in ("runs", "settings")}, indent=2))
    return 0


if __name__ == "__main__":
    from fpdm_video.cli import run_guarded

    raise SystemExit(run_guarded(main))
