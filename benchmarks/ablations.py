"""Ablations users care about, measured with a checkpoint on held-out synthetic signers with ground truth.

Each case: a held-out identity A (its reference image is the "photo"), a held-out driver D and a
held-out motion M. The driving poses are M with D's proportions; the ground truth is the generator's
drawing of A performing M. Settings compared against the default (DDPM 20 steps, guidance 2, fixed
noise, retargeting on):

- noise: fixed (the same noise for every frame) against independent noise per frame, warped noise
  (moved along the target poses' motion) and its naive bilinear baseline
- retargeting on against off (off: D's proportions are drawn as they are)
- scheduler: DDPM 20, DDIM 20, DPM-Solver++ 10 and 20
- guidance scale 1, 2 and 3
- cross-frame attention (``temporal_attention``) to the first frame, and to the first and previous
- the fusion of each frame's clean-sample estimate with the previous frame's, moved along the pose
  motion (``temporal_fusion``)

Metrics over consecutive frames: PSNR and SSIM (official FPDM variant) on the whole frame and the
moving region, flicker of the output against the ground truth's, and the warping error with the
ground truth's optical flow. JSON in ``benchmarks/results/ablations_<name>_<device>.json`` and a
markdown table on stdout.

    python benchmarks/ablations.py --checkpoint fpdm_video/weights/demo --cases 3 --frames 8
"""

from __future__ import annotations

import argparse
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import torch

from bench_sampler import device_name, git_commit
from fpdm_video.data.synthetic_dataset import IDENTITY_STRIDE, render_clip, render_reference
from fpdm_video.data.synthetic_identity import sample_identity
from fpdm_video.data.synthetic_motion import generate_motion, reference_pose
from fpdm_video.data.synthetic_proportions import apply_proportions
from fpdm_video.geometry import CanvasFit
from fpdm_video.metrics.image import moving_mask, psnr, ssim
from fpdm_video.metrics.temporal import flicker, warping_error
from fpdm_video.models.checkpoint import load_model
from fpdm_video.pose import retarget
from fpdm_video.pose.render import render_pose_maps, style_for
from pipelines.settings import SamplingRequest, SamplingSettings, resolve_sampling
from pipelines.transfer.stages import pose_motion, source_tensor
from pipelines.video_sampling import sample_video
from result_file import check_result, write_result

RESULTS_DIR = Path(__file__).resolve().parent / "results"

SETTINGS = {
    "default (DDPM 20, g 2, fixed noise, retarget)": {},
    "independent noise per frame": {"noise": "independent"},
    "warped noise": {"noise": "warped"},
    "bilinear-warped noise (naive)": {"noise": "bilinear"},
    "retargeting off": {"retarget": False},
    "DDIM 20": {"scheduler": "ddim"},
    "DPM-Solver++ 10": {"scheduler": "dpmpp_2m", "steps": 10},
    "DPM-Solver++ 20": {"scheduler": "dpmpp_2m"},
    "guidance 1": {"guidance": 1.0},
    "guidance 3": {"guidance": 3.0},
    "cross-frame attention: first": {"temporal_attention": "first"},
    "cross-frame attention: both": {"temporal_attention": "both"},
    "estimate fusion 0.75, tolerance 0.3 (along the pose motion)": {"temporal_fusion": 0.75},
}


@dataclass
class Case:
    reference: np.ndarray  # (H, W, 3) uint8 photo of A
    reference_pose: object  # A's rest pose
    driving_pose: object  # M with D's proportions
    truth: np.ndarray  # (T, H, W, 3) A performing M


def make_cases(count: int, frames: int, width: int, height: int, seed: int = 2) -> list[Case]:
    cases = []
    for k in range(count):
        a = sample_identity(seed * IDENTITY_STRIDE + 500 + k)
        d = sample_identity(seed * IDENTITY_STRIDE + 700 + k)
        motion = generate_motion(int(np.random.SeedSequence([seed, 2000 + k]).generate_state(1)[0]), frames, width, height)
        _, chunks = render_clip(a, motion, (width, height))
        cases.append(Case(render_reference(a, (width, height)), apply_proportions(reference_pose(width, height), a),
                          apply_proportions(motion, d), np.concatenate(list(chunks))))  # fmt: skip
    return cases


def run_setting(model, case: Case, settings: SamplingSettings, *, retarget_on=True) -> np.ndarray:
    h, w = case.truth.shape[1:3]
    fit = CanvasFit.of(w, h, model.config.resolution)
    pose = retarget(case.driving_pose, case.reference_pose) if retarget_on else case.driving_pose
    source = source_tensor(case.reference, fit)
    maps = torch.from_numpy(render_pose_maps(pose, model.config.resolution, fit=fit, style=style_for(model.config.pose_map)))
    motion = pose_motion(model, pose, fit) if settings.needs_motion else None
    return np.concatenate(list(sample_video(model, source, maps, settings, output_fit=fit, progress=False, motion=motion)))


def metrics(out: np.ndarray, case: Case) -> dict[str, float]:
    rows = []
    for o, t in zip(out, case.truth, strict=True):
        m = moving_mask(t, case.reference)
        rows.append([psnr(o, t), ssim(o, t), psnr(o, t, m), ssim(o, t, m)])
    r = np.nanmean(np.asarray(rows), axis=0)
    return {"psnr": r[0], "ssim_fpdm": r[1], "moving_psnr": r[2], "moving_ssim_fpdm": r[3],
            "flicker": float(flicker(out).mean()), "flicker_truth": float(flicker(case.truth).mean()),
            "warping_error": float(warping_error(out, case.truth).mean()),
            "warping_error_truth": float(warping_error(case.truth, case.truth).mean())}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--checkpoint", type=Path, required=True)
    p.add_argument("--cases", type=int, default=3)
    p.add_argument("--frames", type=int, default=8)
    p.add_argument("--width", type=int, default=96)
    p.add_argument("--height", type=int, default=128)
    p.add_argument("--only", nargs="*", help="run only these settings (names as in the table)")
    p.add_argument("--steps-scale", type=float, default=1.0, help="multiply every step count (smoke tests)")
    p.add_argument("--name", default="demo")
    p.add_argument("--out", type=Path)
    args = p.parse_args(argv)
    out = check_result(args.out or RESULTS_DIR / f"ablations_{args.name}_cpu.json", {"--checkpoint": args.checkpoint})
    model = load_model(args.checkpoint)
    cases = make_cases(args.cases, args.frames, args.width, args.height)
    results = {}
    for name, setting in SETTINGS.items():
        if args.only and name not in args.only:
            continue
        given = {"temporal_attention": "off", **{k: v for k, v in setting.items() if k != "retarget"}}  # the paper's sampler unless the row says
        request = SamplingRequest(**given, seed=0, batch_size=4)
        settings = resolve_sampling(request, model.config)
        if args.steps_scale != 1.0:  # the resolved step count (the setting's, else the checkpoint's), scaled
            settings = resolve_sampling(replace(request, steps=max(1, round(settings.steps * args.steps_scale))), model.config)
        started = time.perf_counter()
        per_case = [metrics(run_setting(model, c, settings, retarget_on=setting.get("retarget", True)), c) for c in cases]
        results[name] = {k: float(np.mean([m[k] for m in per_case])) for k in per_case[0]}
        results[name]["seconds"] = round(time.perf_counter() - started, 2)
        results[name]["settings"] = asdict(settings)
    report = {"checkpoint": str(args.checkpoint), "model": model.config.name, "cases": args.cases, "frames": args.frames,
              "size": [args.width, args.height], "device": device_name(torch.device("cpu")), "torch_threads": torch.get_num_threads(),
              "git_commit": git_commit(), "results": results}  # fmt: skip
    write_result(out, report)
    print("| setting | PSNR | SSIM | moving PSNR | moving SSIM | flicker (truth) | warping error (truth) |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for name, r in results.items():
        print(f"| {name} | {r['psnr']:.2f} | {r['ssim_fpdm']:.3f} | {r['moving_psnr']:.2f} | {r['moving_ssim_fpdm']:.3f} | "
              f"{r['flicker']:.4f} ({r['flicker_truth']:.4f}) | {r['warping_error']:.4f} ({r['warping_error_truth']:.4f}) |")  # fmt: skip
    return 0


if __name__ == "__main__":
    from fpdm_video.cli import run_guarded

    raise SystemExit(run_guarded(main))
