"""Quality of each ``--speed`` preset on held-out synthetic signers: means, spreads and paired differences.

Every method samples the same held-out cases (``pipelines.synthetic_eval``: an identity and a
motion of a data seed the demo never trained on, every 4th of 24 frames) from the same fixed
noise, and is compared with the ground truth per case:
- ``psnr``, ``ssim_fpdm``, ``moving_psnr`` (the means over the case's frames);
- ``sharpness``: the output's high-frequency energy over the ground truth's
  (``fpdm_video.metrics.sharpness``), because a blurrier output can score a higher PSNR;
- ``flicker``: the output's mean change between consecutive evaluated frames over the ground truth's;
- for ``turbo`` and ``turbo_vae``, ``psnr_vs_teacher_ode``: against the teacher's own deterministic
  frames (``teacher_ode``: DDIM on the distillation's 40-point grid at the student's scale), the
  trajectory the student was distilled from.

Methods: ``paper`` (the paper's sampler: the preset without its cross-frame attention, as every
``paper`` entry was measured), ``balanced``, ``fast`` (the presets on ``--checkpoint``), ``teacher_ode``, and
with ``--student``: ``turbo`` (its own steps, scale, eta and tiny decoder; ``--turbo-steps``,
``--turbo-guidance`` and ``--turbo-eta`` override them) and ``turbo_vae`` (the same with the VAE
decoder). Per seed and method the JSON keeps every case's values, their mean, standard deviation and 95 % interval of the
mean, and, paired by case, the difference from ``paper`` with its 95 % interval (a loss is told
from noise when that interval leaves zero). Results accumulate in ``--out``: a run adds or replaces
the (seed, method) entries it made; outputs are kept as .npz in ``--frames-dir`` for the pairings
that need frames (``psnr_vs_teacher_ode``).

    python benchmarks/preset_quality.py --seeds 2 3 --cases 16 --methods paper balanced fast teacher_ode
    python benchmarks/preset_quality.py --seeds 2 3 --cases 16 --methods turbo turbo_vae --student fpdm_video/weights/demo-turbo
"""

from __future__ import annotations

import argparse
import json
import math
import shlex
import sys
import time
from pathlib import Path

import numpy as np
import torch

from bench_sampler import device_name, git_commit
from fpdm_video.errors import InputError
from fpdm_video.metrics.image import psnr
from fpdm_video.metrics.sharpness import sharpness_ratio
from fpdm_video.metrics.temporal import flicker
from pipelines.settings import SamplingRequest
from pipelines.synthetic_eval import HeldOutConfig, evaluate_heldout
from pipelines.transfer import default_checkpoint
from result_file import check_result, write_result

RESULTS = Path(__file__).resolve().parent / "results" / "preset_quality_demo_cpu.json"
TEACHER_METHODS = ("paper", "balanced", "fast", "teacher_ode")
STUDENT_METHODS = ("turbo", "turbo_vae")
METRICS = ("psnr", "ssim_fpdm", "moving_psnr", "sharpness", "flicker")


def request_of(method: str, args, student_config=None) -> SamplingRequest:
    if method == "paper":  # the paper's sampler exactly: without the preset's cross-frame attention (docs/speed.md)
        return SamplingRequest(speed="paper", temporal_attention="off")
    if method in ("balanced", "fast"):
        return SamplingRequest(speed=method)
    if method == "teacher_ode":  # the distillation's ODE: DDIM on its 40-point grid, at the student's default scale
        steps = student_config.teacher_steps if student_config else 40
        return SamplingRequest(speed="paper", scheduler="ddim", steps=steps, guidance=student_config.guidance if student_config else 2.0,
                               temporal_attention="off")  # fmt: skip
    return SamplingRequest(speed="turbo", steps=args.turbo_steps, guidance=args.turbo_guidance, eta=args.turbo_eta,
                           decoder="vae" if method == "turbo_vae" else None)  # fmt: skip


def spread(values: list[float]) -> dict:
    a = np.asarray(values, dtype=np.float64)
    std = float(a.std(ddof=1)) if len(a) > 1 else float("nan")
    return {"mean": float(a.mean()), "std": std, "ci95": 1.96 * std / math.sqrt(len(a))}


def run_method(checkpoint, method: str, seed: int, args, student_config=None) -> tuple[dict, list[np.ndarray]]:
    config = HeldOutConfig(seed=seed, cases=args.cases, sampling=request_of(method, args, student_config))
    start = time.perf_counter()
    summary, outputs, cases = evaluate_heldout(checkpoint, config, baselines=False)
    seconds = time.perf_counter() - start
    frames = outputs["model"]
    per_case = {k: [row[k] for row in summary["per_case"]["model"]] for k in ("psnr", "ssim_fpdm", "moving_psnr")}
    per_case["sharpness"] = [sharpness_ratio(out, c.truth) for out, c in zip(frames, cases, strict=True)]
    per_case["flicker"] = [float(flicker(out).mean() / flicker(c.truth).mean()) for out, c in zip(frames, cases, strict=True)]
    entry = {"settings": summary["settings"], "cases": args.cases, "frames": summary["frames"], "seconds": seconds,
             "per_case": per_case, "summary": {k: spread(v) for k, v in per_case.items()}}  # fmt: skip
    return entry, frames


def paired(entry: dict, base: dict) -> dict:
    """Per metric, the mean of (method - base) over the cases and its 95 % interval."""
    return {k: spread([a - b for a, b in zip(entry["per_case"][k], base["per_case"][k], strict=True)])
            for k in METRICS if k in entry["per_case"] and k in base["per_case"]}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--checkpoint", type=Path, help="the teacher (default: the embedded demo model)")
    p.add_argument("--student", type=Path, help="its few-step student (for turbo and turbo_vae)")
    p.add_argument("--methods", nargs="+", default=list(TEACHER_METHODS), choices=(*TEACHER_METHODS, *STUDENT_METHODS))
    p.add_argument("--seeds", nargs="+", type=int, default=[2, 3], help="held-out data seeds (the demo trained on 1)")
    p.add_argument("--cases", type=int, default=16)
    p.add_argument("--turbo-steps", type=int, help="turbo's steps (default: the student's own)")
    p.add_argument("--turbo-guidance", type=float, help="turbo's guidance scale (default: the student's own)")
    p.add_argument("--turbo-eta", type=float, help="turbo's share of fresh noise at each re-noising (default: the student's own)")
    p.add_argument("--label", default="", help="suffix of the method names written (e.g. _s2g15 for a candidate)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--frames-dir", type=Path, default=Path("runs/preset_quality_frames"), help="where outputs are kept")
    p.add_argument("--out", type=Path, default=RESULTS)
    args = p.parse_args(argv)
    if args.cases < 2:
        p.error("--cases must be at least 2 (a spread needs two)")
    if any(m in STUDENT_METHODS for m in args.methods) and args.student is None:
        p.error("turbo and turbo_vae need --student")
    torch.set_num_threads(args.threads)
    from fpdm_video.models.checkpoint import load_config

    checkpoint = args.checkpoint or default_checkpoint()
    out = check_result(args.out, {"--checkpoint": checkpoint, "--student": args.student})
    student_config = load_config(args.student).student if args.student else None
    if args.student is not None and student_config is None:
        raise InputError(f"--student {args.student} is not a few-step student; make one with python -m fpdm_video.train distill")
    result = json.loads(out.read_text()) if out.is_file() else {"seeds": {}}
    result.update({"what": "quality of the --speed presets on held-out synthetic signers against ground truth, per case, "
                           "with spreads and paired differences from paper", "device": device_name(torch.device("cpu")),
                   "threads": args.threads, "commit": git_commit(), "checkpoint": Path(str(checkpoint)).name})  # fmt: skip
    result.setdefault("commands", []).append("python benchmarks/preset_quality.py " + shlex.join(argv if argv is not None else sys.argv[1:]))
    args.frames_dir.mkdir(parents=True, exist_ok=True)
    for seed in args.seeds:
        entries = result["seeds"].setdefault(str(seed), {})
        for method in args.methods:
            source = args.student if method in STUDENT_METHODS else checkpoint
            entry, frames = run_method(source, method, seed, args, student_config)
            name = method + args.label
            np.savez_compressed(args.frames_dir / f"seed{seed}_{name}.npz", *frames)
            teacher_frames = args.frames_dir / f"seed{seed}_teacher_ode.npz"
            if method in STUDENT_METHODS and teacher_frames.is_file():
                with np.load(teacher_frames) as saved:
                    teacher = [saved[f"arr_{i}"] for i in range(len(saved.files))]
                if len(teacher) == len(frames):
                    entry["per_case"]["psnr_vs_teacher_ode"] = [float(np.mean([psnr(a, b) for a, b in zip(o, t, strict=True)]))
                                                                for o, t in zip(frames, teacher, strict=True)]  # fmt: skip
                    entry["summary"]["psnr_vs_teacher_ode"] = spread(entry["per_case"]["psnr_vs_teacher_ode"])
            entries[name] = entry
            for other, kept in entries.items():  # paired with paper's cases (again, where paper was just rerun)
                if other != "paper" and "paper" in entries:
                    kept["vs_paper"] = paired(kept, entries["paper"])
            write_result(out, result)
            s = entry["summary"]
            print(f"seed {seed} {name:<14} " + "  ".join(f"{k} {s[k]['mean']:.4f}±{s[k]['ci95']:.4f}" for k in METRICS)
                  + f"  ({entry['seconds']:.0f} s)", flush=True)  # fmt: skip
    return 0


if __name__ == "__main__":
    from fpdm_video.cli import run_guarded

    raise SystemExit(run_guarded(main))
