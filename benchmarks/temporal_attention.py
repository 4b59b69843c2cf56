"""Cross-frame attention (``--temporal-attention``) against fixed noise alone, on held-out synthetic signers.

The cases are ``pipelines.synthetic_eval``'s (an identity and a motion the model never saw, the
ground truth drawn by the generator). For each case every mode samples the same frames, one after
the other in one process, in an order rotated from case to case, so the speed cost is read as a
ratio of seconds per frame within this process even when other work shares the CPU. Per mode:
PSNR / SSIM (official FPDM variant) against the ground truth, flicker and warping error next to the
ground truth's own, and texture sticking (optical flow of the output against the ground truth's
inside the clothing: end-point error in pixels and length ratio). The JSON is rewritten after each
case, so a long run keeps what it has measured.

    python benchmarks/temporal_attention.py --checkpoint fpdm_video/weights/demo --data-seed 2 --cases 4
"""

from __future__ import annotations

import argparse
import time
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np
import torch

from bench_sampler import device_name, git_commit
from fpdm_video.models.checkpoint import load_model
from fpdm_video.models.hooks.cross_frame import TEMPORAL_MODES
from pipelines.settings import SamplingRequest, SamplingSettings, resolve_sampling
from pipelines.synthetic_eval import HeldOutConfig, _sample, frame_metrics, make_cases, temporal_report
from result_file import check_result, write_result

RESULTS_DIR = Path(__file__).resolve().parent / "results"


def summarise(outputs: dict[str, list[np.ndarray]], seconds: dict[str, list[float]], cases) -> dict[str, dict[str, float]]:
    """Per mode: the frame metrics' means, the temporal report, seconds per frame and their ratio to ``off``."""
    done = len(next(iter(outputs.values())))
    frames = sum(len(c.truth) for c in cases[:done])
    results = {}
    for mode, outs in outputs.items():
        rows = [frame_metrics(o, t, c.reference) for out, c in zip(outs, cases) for o, t in zip(out, c.truth, strict=True)]
        r = {k: float(np.nanmean([row[k] for row in rows])) for k in ("psnr", "ssim_fpdm", "moving_psnr", "moving_ssim_fpdm")}
        r.update(temporal_report(outs, cases[:done]))
        r["flicker_ratio"] = r["flicker"] / r["flicker_truth"]
        r["warping_ratio"] = r["warping_error"] / r["warping_error_truth"]
        r["seconds_per_frame"] = sum(seconds[mode]) / frames
        results[mode] = r
    if "off" in results:
        for r in results.values():
            r["speed_cost"] = r["seconds_per_frame"] / results["off"]["seconds_per_frame"]
    return results


def mode_settings(model, config: HeldOutConfig, modes: list[str]) -> dict[str, SamplingSettings]:
    """Each mode's settings: the config's sampling request with that cross-frame attention, resolved on the checkpoint."""
    return {mode: resolve_sampling(replace(config.sampling, temporal_attention=mode), model.config) for mode in modes}


def time_modes(model, case, config: HeldOutConfig, settings: dict[str, SamplingSettings], rounds: int) -> dict[str, dict[str, float]]:
    """Seconds per frame of each mode on one case: a warm-up, then ``rounds`` rounds, modes interleaved (rotated each round)."""
    modes = list(settings)
    _sample(model, case, config, resolve_sampling(config.sampling, model.config))  # warm-up
    seconds = {mode: [] for mode in modes}
    for r in range(rounds):
        for mode in modes[r % len(modes):] + modes[: r % len(modes)]:
            started = time.perf_counter()
            _sample(model, case, config, settings[mode])
            seconds[mode].append((time.perf_counter() - started) / len(case.truth))
    timing = {mode: {"seconds_per_frame_median": float(np.median(s)), "seconds_per_frame": s} for mode, s in seconds.items()}
    if "off" in timing:  # the cost: the median over rounds of the ratio to off within the round (load changes between rounds)
        for mode, t in timing.items():
            t["speed_cost_per_round"] = [a / b for a, b in zip(seconds[mode], seconds["off"])]
            t["speed_cost"] = float(np.median(t["speed_cost_per_round"]))
    return timing


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--checkpoint", type=Path, required=True)
    p.add_argument("--data-seed", type=int, default=2, help="seed of the held-out signers and motions (2: choose, 3: report)")
    p.add_argument("--cases", type=int, default=4)
    p.add_argument("--frames", type=int, default=12, help="frames of each driving motion")
    p.add_argument("--stride", type=int, default=2, help="sample every stride-th frame")
    p.add_argument("--batch-size", type=int, default=4, help="frames per chunk (the transfer CLI's default)")
    p.add_argument("--steps", type=int, help="denoising steps (default: the checkpoint's, 20)")
    p.add_argument("--modes", nargs="*", default=list(TEMPORAL_MODES), choices=TEMPORAL_MODES)
    p.add_argument("--timing-rounds", type=int, default=0,
                   help="only time the modes: this many interleaved rounds on the first case (after a warm-up)")
    p.add_argument("--note", default="", help="a note stored with the result (e.g. what shared the CPU)")
    p.add_argument("--out", type=Path)
    args = p.parse_args(argv)
    out = check_result(args.out or RESULTS_DIR / f"temporal_attention_seed{args.data_seed}_cpu.json", {"--checkpoint": args.checkpoint})
    model = load_model(args.checkpoint).float().eval()
    config = HeldOutConfig(seed=args.data_seed, cases=args.cases, frames=args.frames, stride=args.stride,
                           sampling=SamplingRequest(steps=args.steps, batch_size=args.batch_size))  # fmt: skip
    settings = mode_settings(model, config, args.modes)
    recorded = {"config": asdict(config), "settings": {mode: asdict(s) for mode, s in settings.items()}}
    cases = make_cases(config, model.config.resolution, model.config.pose_map)
    if args.timing_rounds:
        timing = time_modes(model, cases[0], config, settings, args.timing_rounds)
        write_result(out, {"checkpoint": str(args.checkpoint), "model": model.config.name, "data_seed": args.data_seed,
                           **recorded, "frames": len(cases[0].truth), "rounds": args.timing_rounds,
                           "device": device_name(torch.device("cpu")), "torch_threads": torch.get_num_threads(),
                           "git_commit": git_commit(), "note": args.note, "timing": timing})  # fmt: skip
        for mode, t in timing.items():
            print(f"{mode}: {t['seconds_per_frame_median']:.2f} s/frame, {t.get('speed_cost', float('nan')):.2f}x off")
        return 0
    outputs = {mode: [] for mode in args.modes}
    seconds = {mode: [] for mode in args.modes}
    for k, case in enumerate(cases):
        order = args.modes[k % len(args.modes):] + args.modes[: k % len(args.modes)]  # rotated: no mode always runs first
        for mode in order:
            started = time.perf_counter()
            outputs[mode].append(_sample(model, case, config, settings[mode]))
            seconds[mode].append(time.perf_counter() - started)
        results = summarise(outputs, seconds, cases)
        report = {"checkpoint": str(args.checkpoint), "model": model.config.name, "data_seed": args.data_seed, "cases_done": k + 1,
                  "patterned_cases": sum(c.pattern != "solid" for c in cases[: k + 1]), **recorded,
                  "device": device_name(torch.device("cpu")), "torch_threads": torch.get_num_threads(), "git_commit": git_commit(),
                  "note": args.note, "results": results}  # fmt: skip
        write_result(out, report)
    print("| mode | flicker / truth | warping error / truth | PSNR | SSIM | moving PSNR | texture EPE px (patterned) | flow ratio | time vs off |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for mode, r in results.items():
        print(f"| {mode} | {r['flicker_ratio']:.2f} ({r['flicker']:.4f} / {r['flicker_truth']:.4f}) | "
              f"{r['warping_ratio']:.2f} ({r['warping_error']:.4f} / {r['warping_error_truth']:.4f}) | {r['psnr']:.2f} | "
              f"{r['ssim_fpdm']:.3f} | {r['moving_psnr']:.2f} | {r['flow_epe']:.3f} ({r['flow_epe_patterned']:.3f}) | "
              f"{r['flow_ratio']:.2f} | {r.get('speed_cost', float('nan')):.2f}x |")  # fmt: skip
    return 0


if __name__ == "__main__":
    from fpdm_video.cli import run_guarded

    raise SystemExit(run_guarded(main))
