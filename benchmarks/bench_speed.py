"""Sampling speed of each saving against the paper's sampler as main ran it (DDPM 20, g 2, three branches, fp32).

One run, one JSON, device named: every variant samples the same frames (real poses of
``example.pose`` drawn on the checkpoint's canvas, the shared reference photo, fixed noise) in the
same process, interleaved, and records frames/s, its ratio to the paper's three-branch baseline and,
for exact changes, the max abs difference of the frames (images in [0, 1]).

Variants so far (``pipelines.reuse.Reuse`` turns each exact saving on or off):
- ``paper``: the paper's three UNet branches u, s, f and every row computed from scratch, as main
  sampled before these savings and as the official sampler does;
- each exact saving alone: ``two_branches`` (one scale: the s branch cancels), ``pose_feature``
  (each frame's pose embedding once for all steps), ``context_kv`` (cross-attention keys and values
  of the context once per video), ``shared_start`` (step 0's unconditioned branch once per chunk);
- ``exact``: all of them;
- ``exact_bf16``: all of them with the model in bfloat16 (``--bf16``); its PSNR against the fp32
  ``exact`` frames is recorded;
- ``deep_cache_2``, ``deep_cache_3``: all exact savings plus step feature caching (DeepCache: the whole
  UNet every 2nd / 3rd step, its shallow blocks in between), fp32; an approximation, so its PSNR
  against the ``exact`` frames is recorded beside the max abs difference;
- ``balanced`` and ``fast`` (``--presets``): the ``--speed`` presets with the exact savings, in bf16
  with ``--bf16``; their quality against ground truth is measured by ``pipelines.synthetic_eval``;
- ``exact_compiled`` (``--compile``): all exact savings with the UNet through ``torch.compile``, fp32,
  measured after all the others (see ``compiled_rows``); its compilation time (the warm-up) is recorded apart.

    python benchmarks/bench_speed.py --threads 2
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from bench_sampler import device_name, git_commit
from fpdm_video.geometry import CanvasFit
from fpdm_video.pose import load_holistic, render_pose_maps, style_for
from pipelines.reuse import Reuse
from pipelines.transfer import default_checkpoint
from pipelines.transfer.devices import cpu_has_bf16
from pipelines.transfer.settings import SCHEDULERS
from pipelines.transfer.speed import SPEED_PRESETS
from pipelines.transfer.stages import source_tensor
from pipelines.video_sampling import sample_video
from result_file import check_result, write_result

RESULTS_DIR = Path(__file__).resolve().parent / "results"
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "real"



def inputs(model, frames: int):
    from PIL import Image

    pose = load_holistic(SHARED / "example.pose").frames(0, frames)
    fit = CanvasFit.of(pose.width, pose.height, model.config.resolution)
    maps = torch.from_numpy(render_pose_maps(pose, fit.canvas, fit=fit, style=style_for(model.config.pose_map)))
    photo = np.asarray(Image.open(SHARED / "fake_human.png").convert("RGB"))
    return source_tensor(photo, CanvasFit.of(photo.shape[1], photo.shape[0], model.config.resolution)), maps


@dataclass(frozen=True)
class Variant:
    model: object
    reuse: Reuse
    steps: int
    scheduler: str = "ddpm"
    guidance_interval: tuple[float, float] | None = None
    deep_cache: int = 1


def run_variant(v: Variant, source, maps, args) -> tuple[float, torch.Tensor]:
    start = time.perf_counter()
    frames = torch.cat(list(sample_video(v.model, source, maps, batch_size=args.batch_size, steps=v.steps, scheduler=v.scheduler,
                                         guidance=args.guidance, seed=0, progress=False, reuse=v.reuse,
                                         guidance_interval=v.guidance_interval, deep_cache=v.deep_cache)))  # fmt: skip
    return time.perf_counter() - start, frames.float()


def psnr(a: torch.Tensor, b: torch.Tensor) -> float:
    mse = float(((a - b) ** 2).mean())
    return float("inf") if mse == 0 else 10 * math.log10(1.0 / mse)


def variants_of(model, args) -> dict[str, Variant]:
    none = vars(Reuse.none())
    out = {"paper": Variant(model, Reuse.none(), args.steps)}
    out.update({name: Variant(model, Reuse(**{**none, name: True}), args.steps) for name in none})
    out["exact"] = Variant(model, Reuse(), args.steps)
    for n in (2, 3):
        out[f"deep_cache_{n}"] = Variant(model, Reuse(), args.steps, deep_cache=n)
    fast_model = copy.deepcopy(model).to(torch.bfloat16) if args.bf16 else model
    if args.bf16:
        out["exact_bf16"] = Variant(fast_model, Reuse(), args.steps)
    if args.presets:  # the presets as the transfer runs them: with --bf16, in bf16 (what --dtype auto picks on such CPUs)
        for name in ("balanced", "fast"):
            preset = SPEED_PRESETS[name]
            out[name] = Variant(fast_model, Reuse(), preset.steps or args.steps, SCHEDULERS[preset.scheduler], preset.guidance_interval,
                                preset.deep_cache)  # fmt: skip
    return out


def compiled_rows(model, source, maps, args, paper_seconds: float, exact_frames: torch.Tensor) -> dict:
    """``exact_compiled``: timed after every other variant, interleaved with eager ``exact`` runs of its own.

    Once dynamo has run in a process, eager runs there are not quite the same as before (their
    rounding changed here), so the compiled model is measured last and the eager variants' figures
    are all taken before it.
    """
    compiled = copy.deepcopy(model)
    compiled.denoiser.unet = torch.compile(compiled.denoiser.unet)
    eager_v, compiled_v = Variant(model, Reuse(), args.steps), Variant(compiled, Reuse(), args.steps)
    warm_up = run_variant(compiled_v, source, maps[: args.batch_size], args)[0]
    eager, timed = [], []
    for _ in range(args.repeats):
        eager.append(run_variant(eager_v, source, maps, args)[0])
        seconds, frames = run_variant(compiled_v, source, maps, args)
        timed.append(seconds)
    return {"seconds_min": min(timed), "seconds_median": float(np.median(timed)), "seconds_max": max(timed),
            "frames_per_second": args.frames / min(timed), "speedup_vs_paper": paper_seconds / min(timed),
            "speedup_vs_exact_interleaved": min(eager) / min(timed), "exact_seconds_interleaved": min(eager),
            "warm_up_seconds_with_compilation": warm_up,
            "max_abs_difference_vs_fp32_exact": float((frames - exact_frames).abs().max())}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--checkpoint", type=Path, help="default: the embedded demo model")
    p.add_argument("--frames", type=int, default=8)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--guidance", type=float, default=2.0)
    p.add_argument("--batch-size", type=int, default=4)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--bf16", action="store_true", help="also the exact savings with the model in bfloat16")
    p.add_argument("--presets", action="store_true", help="also the balanced and fast presets (their quality: docs/speed.md)")
    p.add_argument("--compile", action="store_true", help="also the exact savings with the UNet through torch.compile")
    p.add_argument("--out", type=Path)
    args = p.parse_args(argv)
    if not SHARED.is_dir():
        print(f"error: the shared real data is not at {SHARED}", file=sys.stderr)
        return 2
    torch.set_num_threads(args.threads)
    from fpdm_video.models.checkpoint import load_model

    checkpoint = args.checkpoint or default_checkpoint()
    out = check_result(args.out or RESULTS_DIR / "speed_demo_cpu.json", {"--checkpoint": checkpoint})
    model = load_model(checkpoint).eval()
    source, maps = inputs(model, args.frames)
    variants = variants_of(model, args)
    times = {name: [] for name in variants}
    outputs = {}
    for name, v in variants.items():  # warm-up, one chunk each
        run_variant(v, source, maps[: args.batch_size], args)
    for _ in range(args.repeats):  # interleaved, so drifts of the machine hit every variant alike
        for name, v in variants.items():
            seconds, frames = run_variant(v, source, maps, args)
            times[name].append(seconds)
            outputs[name] = frames
    base = min(times["paper"])
    rows = {}
    for name, t in times.items():
        row = {"seconds_min": min(t), "seconds_median": float(np.median(t)), "seconds_max": max(t),
               "frames_per_second": args.frames / min(t), "speedup_vs_paper": base / min(t)}  # fmt: skip
        if name in ("balanced", "fast"):
            row["preset"] = vars(SPEED_PRESETS[name]) | {"dtype": "bf16" if args.bf16 else "fp32"}
        elif name.startswith("deep_cache"):
            row["psnr_vs_fp32_exact_db"] = psnr(outputs[name], outputs["exact"])
            row["max_abs_difference_vs_fp32_exact"] = float((outputs[name] - outputs["exact"]).abs().max())
            row["speedup_vs_exact"] = min(times["exact"]) / min(t)
        elif name.endswith("bf16"):
            row["psnr_vs_fp32_exact_db"] = psnr(outputs[name], outputs["exact"])
            row["max_abs_difference_vs_fp32_exact"] = float((outputs[name] - outputs["exact"]).abs().max())
        else:
            row["max_abs_difference_vs_paper"] = float((outputs[name] - outputs["paper"]).abs().max())
        rows[name] = row
    if args.compile:
        rows["exact_compiled"] = compiled_rows(model, source, maps, args, base, outputs["exact"])
    result = {
        "what": "frames/s of each sampling saving against the paper's sampler (three branches, nothing reused), same frames, one process",
        "device": device_name(torch.device("cpu")), "cpu_bf16": cpu_has_bf16(), "threads": args.threads, "commit": git_commit(),
        "checkpoint": Path(str(checkpoint)).name, "frames": args.frames, "steps": args.steps, "guidance": args.guidance,
        "batch_size": args.batch_size, "repeats": args.repeats, "variants": rows,
    }  # fmt: skip
    write_result(out, result)
    print(json.dumps(result["variants"], indent=2))
    return 0


if __name__ == "__main__":
    from fpdm_video.cli import run_guarded

    raise SystemExit(run_guarded(main))
