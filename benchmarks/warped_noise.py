"""Noise that moves with the signer (``--noise``) and limited cross-frame attention (``--temporal-scope``), on held-out signers.

Each setting is NOISE+ATTENTION[+fuseW]: NOISE is fixed, bilinear or warped; ATTENTION is off, or an
anchor mode (first, previous, both) with an optional scope after a colon (``first:low``,
``both:low-early``); ``+fuse0.5`` adds the fusion of the clean-sample estimates along the pose
motion with weight 0.5 (``--temporal-fusion``), ``+fuse0.5/0.1`` with the tolerance 0.1
(``--fusion-tolerance``).
The cases are ``pipelines.synthetic_eval``'s held-out synthetic signers (12-frame motions sampled
every 2nd frame, DDPM 20 steps, guidance 2, seed 0, batch size 4, fp32). For each case every setting
samples the same frames in one process, in an order rotated from case to case, so the time cost is a
ratio of seconds per frame within this run. Per case and setting: PSNR and FPDM-SSIM against the
ground truth, flicker and warping error over the ground truth's own, and texture sticking (the
output's optical flow against the ground truth's inside the clothing: end-point error in pixels,
and length ratio). Per setting the JSON keeps every case's values, their mean with its 95 %
interval, and the paired difference from the first setting (the baseline, ``fixed+off``) with its
95 % interval. It is rewritten after each case. The rule that reads it is in docs/evaluation.md and
:func:`cheapest_helping`, :func:`candidate` and :func:`verdict` below.

    python benchmarks/warped_noise.py --data-seed 2 --cases 8 --settings fixed+off fixed+both fixed+first:low ...
"""

from __future__ import annotations

import argparse
import math
import time
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np
import torch

from bench_sampler import device_name, git_commit
from fpdm_video.metrics.temporal import flicker, warping_error
from fpdm_video.metrics.texture import clothing_flow
from fpdm_video.models.checkpoint import load_model
from fpdm_video.models.hooks.cross_frame import TEMPORAL_MODES, TEMPORAL_SCOPES
from pipelines.settings import SamplingRequest, SamplingSettings, resolve_sampling
from pipelines.synthetic_eval import HeldOutConfig, _sample, frame_metrics, make_cases
from preset_quality import spread
from result_file import check_result, write_result

REPO = Path(__file__).resolve().parents[1]
RESULTS_DIR = REPO / "benchmarks" / "results"
NOISES = ("fixed", "bilinear", "warped")
METRICS = ("psnr", "ssim_fpdm", "flicker_ratio", "warping_ratio", "flow_epe", "flow_ratio", "seconds_per_frame")
BASELINE = "fixed+off"
PSNR_MARGIN = 0.2  # dB: the PSNR a candidate may lose against fixed noise with attention off
TIME_LIMIT = 1.2  # seconds per frame, as a multiple of fixed noise with attention off


def parse_setting(name: str) -> dict:
    """'warped+first:low' -> the request fields {noise, temporal_attention, temporal_scope}; a '+fuse0.5' after it adds
    temporal_fusion 0.5, and a '/0.1' after that fusion_tolerance 0.1 (without it the settings' default, 0.3; '/inf': none)."""
    noise, plus, attention = name.partition("+")
    attention, fuse, fusion = attention.partition("+fuse")
    mode, _, scope = attention.partition(":")
    weight, slash, tolerance = fusion.partition("/")
    try:
        values = (float(weight) if fuse else 0.0, float(tolerance) if slash else math.inf)
    except ValueError:
        values = (-1.0, -1.0)
    if (not plus or noise not in NOISES or mode not in TEMPORAL_MODES or (scope and (scope not in TEMPORAL_SCOPES or mode == "off"))
            or not 0 <= values[0] < 1 or (fuse and values[0] == 0) or not values[1] > 0):  # fmt: skip
        raise ValueError(f"a setting is NOISE+ATTENTION[:SCOPE][+fuseW[/S]] with NOISE one of {', '.join(NOISES)}, ATTENTION one "
                         f"of {', '.join(TEMPORAL_MODES)}, SCOPE one of {', '.join(TEMPORAL_SCOPES)}, W in (0, 1) and S > 0; "
                         f"got {name!r}")  # fmt: skip
    fields = {"noise": noise, "temporal_attention": mode, "temporal_scope": scope or "all"}
    if fuse:
        fields["temporal_fusion"] = values[0]
    if slash:
        fields["fusion_tolerance"] = values[1]
    return fields


def case_metrics(output: np.ndarray, case, seconds: float) -> dict[str, float]:
    """One case's measures of one setting's frames (T, H, W, 3)."""
    rows = [frame_metrics(o, t, case.reference) for o, t in zip(output, case.truth, strict=True)]
    texture = clothing_flow(output, case.truth, case.clothing)
    return {
        "psnr": float(np.mean([r["psnr"] for r in rows])), "ssim_fpdm": float(np.mean([r["ssim_fpdm"] for r in rows])),
        "flicker_ratio": float(flicker(output).mean() / flicker(case.truth).mean()),
        "warping_ratio": float(np.nanmean(warping_error(output, case.truth)) / np.nanmean(warping_error(case.truth, case.truth))),
        "flow_epe": texture["flow_epe"], "flow_ratio": texture["flow_ratio"], "seconds_per_frame": seconds / len(case.truth),
    }  # fmt: skip


def summarise(per_case: dict[str, dict[str, list[float]]]) -> dict[str, dict]:
    """Per setting: each metric's mean and 95 % interval, the paired difference from the baseline, and the time ratio."""
    base = per_case[next(iter(per_case))]
    out = {}
    for name, values in per_case.items():
        entry = {"per_case": values, "summary": {k: spread(v) for k, v in values.items()}}
        entry["vs_baseline"] = {k: spread([a - b for a, b in zip(values[k], base[k], strict=True)]) for k in values}
        ratios = [a / b for a, b in zip(values["seconds_per_frame"], base["seconds_per_frame"], strict=True)]
        entry["time_ratio"] = float(np.median(ratios))  # the median over cases of the ratio within the case
        out[name] = entry
    return out


def cheapest_helping(results: dict[str, dict], reference: str = "fixed+both") -> str | None:
    """Of the limited attention settings with fixed noise, the one of lowest time whose flicker gain over fixed+off is
    at least half of ``reference``'s (docs/evaluation.md); None when none is."""
    gain = -results[reference]["vs_baseline"]["flicker_ratio"]["mean"]
    helping = [name for name, r in results.items()
               if name.startswith("fixed+") and ":" in name and -r["vs_baseline"]["flicker_ratio"]["mean"] >= 0.5 * gain > 0]  # fmt: skip
    return min(helping, key=lambda name: results[name]["time_ratio"], default=None)


def candidate(results: dict[str, dict]) -> str:
    """Seed 2's candidate: the lowest mean flicker ratio among the settings within the PSNR margin and the time limit."""
    fair = [name for name, r in results.items()
            if r["vs_baseline"]["psnr"]["mean"] >= -PSNR_MARGIN and r["time_ratio"] <= TIME_LIMIT]  # fmt: skip
    return min(fair, key=lambda name: results[name]["summary"]["flicker_ratio"]["mean"])


def paired(results: dict[str, dict], name: str, other: str, metric: str) -> dict[str, float]:
    """The mean of ``name``'s per-case ``metric`` minus ``other``'s, with its 95 % interval (paired by case)."""
    a, b = results[name]["per_case"][metric], results[other]["per_case"][metric]
    return spread([x - y for x, y in zip(a, b, strict=True)])


def verdict(name: str, results: dict[str, dict], current: str | None = None) -> dict[str, bool]:
    """Seed 3's tests of the candidate (all must hold for it to become the default). ``current``: the default it would
    replace, which it must then beat on flicker too, with the paired interval below zero (amendment 2)."""
    if name == BASELINE:
        return {"is the baseline": True}
    r = results[name]["vs_baseline"]
    tests = {
        "flicker below fixed noise's, interval below zero": r["flicker_ratio"]["mean"] + r["flicker_ratio"]["ci95"] < 0,
        "clothing flow error at most fixed noise's": r["flow_epe"]["mean"] <= 0,
        f"PSNR within {PSNR_MARGIN} dB": r["psnr"]["mean"] >= -PSNR_MARGIN,
        f"time at most {TIME_LIMIT}x": results[name]["time_ratio"] <= TIME_LIMIT,
    }
    if current is not None and current != name:
        d = paired(results, name, current, "flicker_ratio")
        tests[f"flicker below {current}'s, interval below zero"] = d["mean"] + d["ci95"] < 0
    return tests


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--checkpoint", type=Path, default=Path("fpdm_video/weights/demo"), help="relative paths: to the repository")
    p.add_argument("--data-seed", type=int, default=2, help="seed of the held-out signers and motions (2: choose, 3: report)")
    p.add_argument("--cases", type=int, default=8)
    p.add_argument("--frames", type=int, default=12, help="frames of each driving motion")
    p.add_argument("--stride", type=int, default=2, help="sample every stride-th frame")
    p.add_argument("--steps", type=int, help="denoising steps (default: the checkpoint's, 20)")
    p.add_argument("--settings", nargs="+", default=[BASELINE, "warped+off", "bilinear+off"],
                   help=f"NOISE+ATTENTION[:SCOPE][+fuseW[/S]] settings; the first is the baseline (default: {BASELINE} first)")
    p.add_argument("--note", default="", help="a note stored with the result (e.g. what shared the CPU)")
    p.add_argument("--out", type=Path)
    args = p.parse_args(argv)
    names = list(dict.fromkeys(args.settings))
    fields = {name: parse_setting(name) for name in names}
    out = check_result(args.out or RESULTS_DIR / f"warped_noise_seed{args.data_seed}_cpu.json", {"--checkpoint": args.checkpoint})
    torch.set_num_threads(2)
    model = load_model(args.checkpoint if args.checkpoint.is_absolute() else REPO / args.checkpoint).float().eval()
    config = HeldOutConfig(seed=args.data_seed, cases=args.cases, frames=args.frames, stride=args.stride,
                           sampling=SamplingRequest(steps=args.steps, batch_size=4))  # fmt: skip
    settings: dict[str, SamplingSettings] = {n: resolve_sampling(replace(config.sampling, **f), model.config) for n, f in fields.items()}
    cases = make_cases(config, model.config.resolution, model.config.pose_map)
    per_case = {name: {k: [] for k in METRICS} for name in names}
    for k, case in enumerate(cases):
        for name in names[k % len(names):] + names[: k % len(names)]:  # rotated: no setting always runs first
            started = time.perf_counter()
            output = _sample(model, case, config, settings[name])
            for metric, value in case_metrics(output, case, time.perf_counter() - started).items():
                per_case[name][metric].append(value)
        results = summarise(per_case)
        write_result(out, {"what": "noise modes and cross-frame attention scopes on held-out synthetic signers",
                           "checkpoint": str(args.checkpoint), "model": model.config.name, "data_seed": args.data_seed,
                           "cases_done": k + 1, "patterned_cases": sum(c.pattern != "solid" for c in cases[: k + 1]),
                           "config": asdict(config), "settings": {n: asdict(s) for n, s in settings.items()},
                           "device": device_name(torch.device("cpu")), "torch_threads": torch.get_num_threads(),
                           "git_commit": git_commit(), "note": args.note, "results": results})  # fmt: skip
        print(f"case {k + 1}/{len(cases)} done", flush=True)
    print("| setting | flicker / truth | vs baseline | warping / truth | clothing flow error, px | flow ratio | PSNR | vs baseline | SSIM | time |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for name, r in results.items():
        s, v = r["summary"], r["vs_baseline"]
        print(f"| {name} | {s['flicker_ratio']['mean']:.3f} ± {s['flicker_ratio']['ci95']:.3f} | {v['flicker_ratio']['mean']:+.3f} ± "
              f"{v['flicker_ratio']['ci95']:.3f} | {s['warping_ratio']['mean']:.3f} | {s['flow_epe']['mean']:.3f} | "
              f"{s['flow_ratio']['mean']:.2f} | {s['psnr']['mean']:.2f} | {v['psnr']['mean']:+.2f} ± {v['psnr']['ci95']:.2f} | "
              f"{s['ssim_fpdm']['mean']:.4f} | {r['time_ratio']:.2f}x |")  # fmt: skip
    return 0


if __name__ == "__main__":
    from fpdm_video.cli import run_guarded

    raise SystemExit(run_guarded(main))
