"""What the clothing flow error can see on the held-out synthetic signers: its reference, against the motion that drew them.

The clothing flow error (``fpdm_video.metrics.texture``) compares the output's optical flow (Farneback) with the
ground truth's own inside the clothing. This checks that reference against the motion the drawing gives the shirt
and sleeves (``fpdm_video.data.synthetic_regions.drawn_motion``), in the clothing pixels where that motion is
unambiguous (one part covers them, no hand near), over each pair of consecutive evaluated frames. Per case:

- ``motion``: the drawn motion's mean length there, in pixels: what a texture stuck to the screen misses by;
- ``truth_vs_drawn``: the ground truth's Farneback flow against the drawn motion there;
- ``field_vs_drawn``: the pose motion field (``fpdm_video.pose.motion_field``; what warped noise and the estimate
  fusion move along) against it;
- ``vae_clothing_flow``: the clothing flow error, as the benchmarks compute it, of the ground truth through the
  model's VAE (encode, decode): what the measure gives a sampler that makes no error of its own;
- ``texture_truth``, ``texture_vae``: the high-pass energy inside the clothing (standard deviation of the grey
  image minus its Gaussian blur of sigma 2, in grey levels): how much pattern there is to stick or follow;
- ``sticking_truth``, ``sticking_vae``, with ``motion_far``: a measure that needs no optical flow, over frames
  ``STICKING_GAP`` evaluated frames apart (the clothing moves further than between neighbours): the high-pass image
  of the later frame is compared with the earlier one's where the drawn motion takes each pixel (E_follow) and at
  the same pixel (E_stuck), in the clothing pixels unambiguous in both frames; the index E_follow / (E_follow +
  E_stuck) is 0 for a pattern that moves with the clothing, 1 for one that stays on the screen, 0.5 where the two
  cannot be told apart (no pattern, or no motion). ``motion_far``: the drawn motion's mean length there.

With ``--settings`` (``benchmarks/warped_noise.py``'s syntax), each setting's output too: its clothing flow error,
its Farneback flow against the drawn motion, its texture and its sticking index; ``--strip`` draws one case's frames 0
and 3 for the ground truth, the VAE round trip and each setting. Cases, sampling and the model are warped_noise.py's.

    python benchmarks/clothing_flow_floor.py --data-seed 3 --cases 16 --settings fixed+off fixed+first:late+fuse0.75/0.3
"""

from __future__ import annotations

import argparse
from dataclasses import asdict, replace
from pathlib import Path

import cv2
import numpy as np
import torch

from bench_sampler import device_name, git_commit
from fpdm_video.data.synthetic_regions import drawn_motion
from fpdm_video.geometry import CanvasFit
from fpdm_video.metrics.temporal import farneback_flow, warp_back
from fpdm_video.metrics.texture import clothing_flow
from fpdm_video.models.checkpoint import load_model
from fpdm_video.pose.motion_field import motion_fields
from pipelines.settings import SamplingRequest, SamplingSettings, resolve_sampling
from pipelines.synthetic_eval import Case, HeldOutConfig, _sample, _vae_roundtrip, make_cases
from preset_quality import spread
from result_file import check_result, write_result
from warped_noise import parse_setting

REPO = Path(__file__).resolve().parents[1]
RESULTS_DIR = REPO / "benchmarks" / "results"
HIGH_PASS_SIGMA = 2.0  # pixels: what the texture energy keeps is finer than this
STICKING_GAP = 3  # evaluated frames between the two frames the sticking index compares (6 generator frames at stride 2)


def high_pass(frame: np.ndarray) -> np.ndarray:
    """(H, W) float32: the grey image minus its Gaussian blur (sigma ``HIGH_PASS_SIGMA``): its pattern, without shading."""
    grey = cv2.cvtColor(np.ascontiguousarray(frame), cv2.COLOR_RGB2GRAY).astype(np.float32)
    return grey - cv2.GaussianBlur(grey, (0, 0), HIGH_PASS_SIGMA)


def texture(frames: np.ndarray, masks: np.ndarray) -> float:
    """Mean over frames of the high-pass energy (grey levels) inside ``masks``: the pattern's contrast."""
    values = [float(high_pass(frame)[mask].std()) for frame, mask in zip(frames, masks, strict=True) if mask.any()]
    return float(np.mean(values)) if values else float("nan")


Pair = tuple[int, np.ndarray, np.ndarray]  # (t, the drawn motion (H, W, 2) from frame t to t + gap, the pixels judged)


def drawn_pairs(case: Case, gap: int = 1, landed: bool = False) -> list[Pair]:
    """For each frame t with a frame ``gap`` later: t, the drawn motion to it (H, W, 2), and the pixels (H, W) it is
    judged on: unambiguous and inside the ground truth's clothing at t, and with ``landed`` also where the motion
    takes them (unambiguous clothing at t + gap, inside the frame)."""
    height, width = case.truth.shape[1:3]
    posed = case.posed.to_pixels()
    if (posed.width, posed.height) != (width, height):
        raise ValueError(f"the pose is {posed.width}x{posed.height} and its frames {width}x{height}: drawn_motion needs one scale")
    xy = posed.points[..., :2]
    pairs = []
    for t in range(len(case.truth) - gap):
        motion, sole = drawn_motion(xy[t], xy[t + gap], height, width)
        motion = np.ascontiguousarray(np.moveaxis(motion, 0, -1), dtype=np.float32)
        judged = sole & case.clothing[t]
        if landed:
            _, sole_after = drawn_motion(xy[t + gap], xy[t + gap], height, width)
            target, inside = warp_back((sole_after & case.clothing[t + gap]).astype(np.float32), motion)
            judged &= (target > 0.99) & inside
        pairs.append((t, motion, judged))
    return pairs


def sticking(frames: np.ndarray, pairs: list[Pair], gap: int = STICKING_GAP) -> float:
    """E_follow / (E_follow + E_stuck) over ``gap``-apart pairs (see the module docstring): 0 follows the clothing, 1 stays put."""
    follow = stuck = 0.0
    for t, motion, judged in pairs:
        if judged.any():
            before, after = high_pass(frames[t]), high_pass(frames[t + gap])
            follow += float(np.square(warp_back(after, motion)[0] - before)[judged].mean())
            stuck += float(np.square(after - before)[judged].mean())
    return follow / (follow + stuck) if follow + stuck else float("nan")


def against_drawn(frames: np.ndarray, pairs: list[Pair]) -> float:
    """Mean end-point error (px) of the frames' Farneback flow against the drawn motion, over neighbouring pairs' pixels."""
    errors = [np.linalg.norm(farneback_flow(frames[t], frames[t + 1])[m] - d[m], axis=-1).mean() for t, d, m in pairs if m.any()]
    return float(np.mean(errors)) if errors else float("nan")


def mean_length(pairs: list[Pair]) -> float:
    """The drawn motion's mean length (px) over the pairs' judged pixels."""
    return float(np.mean([np.linalg.norm(d[m], axis=-1).mean() for _, d, m in pairs if m.any()]))


def case_floor(model, case: Case, config: HeldOutConfig, vae: np.ndarray, near: list[Pair], far: list[Pair]) -> dict[str, float]:
    """The case's measures that need no sampling (``vae``: its ground truth through the VAE; ``near``, ``far``: its
    neighbouring and ``STICKING_GAP``-apart pairs, the latter judged where they land)."""
    fit = CanvasFit.of(config.width, config.height, model.config.resolution)
    if fit.scale_x != 1 or fit.scale_y != 1:
        raise ValueError("the field is compared on the frame's pixels: the canvas must be the frame's size, padded")
    fields = motion_fields(case.posed, fit)  # (T, 2, canvas H, canvas W) canvas pixels
    crop = (slice(None), slice(fit.pad_y, fit.pad_y + config.height), slice(fit.pad_x, fit.pad_x + config.width))
    field_errors = [np.linalg.norm(np.moveaxis(fields[t + 1][crop], 0, -1)[m] - d[m], axis=-1).mean() for t, d, m in near if m.any()]
    return {
        "motion": mean_length(near), "truth_vs_drawn": against_drawn(case.truth, near), "field_vs_drawn": float(np.mean(field_errors)),
        "vae_clothing_flow": clothing_flow(vae, case.truth, case.clothing)["flow_epe"], "vae_vs_drawn": against_drawn(vae, near),
        "texture_truth": texture(case.truth, case.clothing), "texture_vae": texture(vae, case.clothing),
        "judged_pixels": float(np.mean([m.sum() for _, _, m in near])), "motion_far": mean_length(far),
        "sticking_truth": sticking(case.truth, far), "sticking_vae": sticking(vae, far),
    }  # fmt: skip


def output_measures(output: np.ndarray, case: Case, near: list[Pair], far: list[Pair]) -> dict[str, float]:
    """One setting's output (T, H, W, 3) on the case, measured as the floor is."""
    return {"clothing_flow": clothing_flow(output, case.truth, case.clothing)["flow_epe"],
            "vs_drawn": against_drawn(output, near), "texture": texture(output, case.clothing), "sticking": sticking(output, far)}  # fmt: skip


def write_strip(path: Path, rows: dict[str, np.ndarray], gap: int = STICKING_GAP, zoom: int = 2) -> None:
    """Frames 0 and ``gap`` (the first pair the sticking index compares) of each row, side by side, rows top to bottom."""
    from PIL import Image

    from fpdm_video.atomic import atomic_path

    lines = [np.concatenate([frames[0], frames[gap]], axis=1) for frames in rows.values()]
    picture = np.concatenate(lines, axis=0).repeat(zoom, axis=0).repeat(zoom, axis=1)
    with atomic_path(path) as tmp:
        Image.fromarray(picture).save(tmp, format="JPEG" if path.suffix.lower() in (".jpg", ".jpeg") else "PNG", quality=92)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--checkpoint", type=Path, default=Path("fpdm_video/weights/demo"), help="relative paths: to the repository")
    p.add_argument("--data-seed", type=int, default=3)
    p.add_argument("--cases", type=int, default=16)
    p.add_argument("--frames", type=int, default=12, help="frames of each driving motion")
    p.add_argument("--stride", type=int, default=2, help="sample every stride-th frame")
    p.add_argument("--settings", nargs="*", default=[], help="warped_noise.py settings whose outputs are measured too")
    p.add_argument("--out", type=Path)
    p.add_argument("--strip", type=Path, help="also draw one case (--strip-case) as a .png or .jpg: rows ground truth, VAE "
                   "round trip, each setting; columns frames 0 and 3")  # fmt: skip
    p.add_argument("--strip-case", type=int, default=0)
    args = p.parse_args(argv)
    if args.strip is not None and args.strip.suffix.lower() not in (".png", ".jpg", ".jpeg"):
        p.error(f"--strip must name a .png or .jpg file, got {args.strip}")
    if not 0 <= args.strip_case < args.cases:
        p.error(f"--strip-case must be a case number below --cases ({args.cases}), got {args.strip_case}")
    names = list(dict.fromkeys(args.settings))
    fields = {name: parse_setting(name) for name in names}
    out = check_result(args.out or RESULTS_DIR / f"clothing_flow_floor_seed{args.data_seed}_cpu.json", {"--checkpoint": args.checkpoint})
    if args.strip is not None:
        args.strip = check_result(args.strip, {"--checkpoint": args.checkpoint, "--out": out}, label="--strip")
    torch.set_num_threads(2)
    model = load_model(args.checkpoint if args.checkpoint.is_absolute() else REPO / args.checkpoint).float().eval()
    config = HeldOutConfig(seed=args.data_seed, cases=args.cases, frames=args.frames, stride=args.stride,
                           sampling=SamplingRequest(batch_size=4))  # fmt: skip
    settings = {n: resolve_sampling(replace(config.sampling, **f), model.config) for n, f in fields.items()}
    cases = make_cases(config, model.config.resolution, model.config.pose_map)
    floor: dict[str, list[float]] = {}
    outputs: dict[str, dict[str, list[float]]] = {n: {} for n in names}
    with torch.inference_mode():
        for k, case in enumerate(cases):
            near, far = drawn_pairs(case), drawn_pairs(case, STICKING_GAP, landed=True)
            drawn = {"ground truth": case.truth, "VAE": _vae_roundtrip(model, case, config)}
            for key, value in case_floor(model, case, config, drawn["VAE"], near, far).items():
                floor.setdefault(key, []).append(value)
            for name in names:
                drawn[name] = _sample(model, case, config, settings[name])
                for key, value in output_measures(drawn[name], case, near, far).items():
                    outputs[name].setdefault(key, []).append(value)
            if args.strip is not None and k == args.strip_case:
                write_strip(args.strip, drawn)
            write_result(out, {
                "what": "the clothing flow error's reference against the motion that drew the held-out signers",
                "checkpoint": str(args.checkpoint), "model": model.config.name, "data_seed": args.data_seed, "cases_done": k + 1,
                "patterns": [c.pattern for c in cases[: k + 1]], "config": asdict(config),
                "settings": {n: asdict(s) for n, s in settings.items()}, "device": device_name(torch.device("cpu")),
                "git_commit": git_commit(),
                "floor": {key: {"per_case": v, "summary": spread(v)} for key, v in floor.items()},
                "outputs": {n: {key: {"per_case": v, "summary": spread(v)} for key, v in o.items()} for n, o in outputs.items()},
            })  # fmt: skip
            print(f"case {k + 1}/{len(cases)} done", flush=True)
    print("| measure | mean ± 95 % |\n| --- | --- |")
    for key, values in floor.items():
        s = spread(values)
        print(f"| {key} | {s['mean']:.3f} ± {s['ci95']:.3f} |")
    for name, o in outputs.items():
        for key, values in o.items():
            s = spread(values)
            print(f"| {name}: {key} | {s['mean']:.3f} ± {s['ci95']:.3f} |")
    return 0


if __name__ == "__main__":
    from fpdm_video.cli import run_guarded

    raise SystemExit(run_guarded(main))
