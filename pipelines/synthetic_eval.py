"""Held-out evaluation of a checkpoint on synthetic signers, against ground truth and two baselines.

Each case is a signer identity the model never saw, shown in its reference image (rest pose), and
a driving motion it never saw. The ground truth is the generator's drawing of that identity
performing that motion; the model renders it from the reference image and the pose maps of the
motion (with the identity's proportions, which is what retargeting would give). Frames are compared
at the generator's frame size after un-letterboxing:

- ``model``: the checkpoint, sampled as the transfer CLI samples (fixed noise, FPDM's guidance)
- ``copy_reference``: the reference image itself for every frame (a still signer)
- ``random_weights``: the same architecture with random weights, sampled the same way
- ``vae_ceiling``: the ground truth through the checkpoint's VAE (encode, decode): the best any
  sampler on these latents can do

Metrics per frame, over the whole frame and over the moving region (pixels where the ground truth
differs from the reference image): PSNR, SSIM as the official FPDM evaluation computes it
(``ssim_fpdm``: 51x51 window) and the standard Gaussian SSIM (``ssim_gauss``). Over consecutive
evaluated frames, for each method and for the ground truth: flicker and the warping error with the
ground truth's flow (``fpdm_video.metrics.temporal``); and texture sticking, the output's optical
flow against the ground truth's inside the clothing (``fpdm_video.metrics.texture``).

``python -m pipelines.synthetic_eval --checkpoint DIR --out DIR`` writes ``heldout_eval.json`` and
``heldout_grid.png`` (source | pose | ground truth | output, per case).
"""

from __future__ import annotations

import argparse
import logging
import os
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from fpdm_video.config import PoseMapConfig
from fpdm_video.atomic import atomic_path
from fpdm_video.data.synthetic_dataset import IDENTITY_STRIDE, render_clip, render_reference
from fpdm_video.data.synthetic_identity import sample_identity
from fpdm_video.data.synthetic_regions import clothing_masks
from fpdm_video.data.synthetic_motion import generate_motion
from fpdm_video.geometry import CanvasFit
from fpdm_video.metrics.image import moving_mask, psnr, ssim
from fpdm_video.metrics.temporal import flicker, warping_error
from fpdm_video.metrics.texture import clothing_flow
from fpdm_video.models.checkpoint import load_model
from fpdm_video.models.registry import build_model
from fpdm_video.pose.render import render_pose_maps, style_for
from fpdm_video.pose.sequence import PoseSequence
from pipelines.settings.resolve import resolve_sampling
from pipelines.settings.sampling import SamplingRequest, SamplingSettings
from pipelines.transfer.stages import pose_motion, source_tensor
from pipelines.video_sampling import sample_video

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class HeldOutConfig:
    """Which held-out cases to draw and how to sample them."""

    seed: int = 2  # base seed of identities and motions, --data-seed (the demo model trained on seed 1)
    cases: int = 8  # (identity, motion) cases
    frames: int = 24  # frames of each driving motion
    stride: int = 4  # evaluate every `stride`-th frame
    width: int = 96  # generator frame size (the demo training data: 96x128)
    height: int = 128
    sampling: SamplingRequest = SamplingRequest()  # the transfer CLI's sampling options (resolved on the checkpoint as it does)
    dtype: str = "fp32"  # the model's number format: "fp32", "bf16" or "auto" (as the transfer picks it)


@dataclass
class Case:
    reference: np.ndarray  # (H, W, 3) uint8 reference image of the identity
    truth: np.ndarray  # (T, H, W, 3) uint8 ground-truth frames
    pose_maps: np.ndarray  # (T, 3, R, R) float32 pose maps of the driving motion on the model canvas
    clothing: np.ndarray | None = None  # (T, H, W) bool: the ground truth's clothing pixels
    pattern: str = "solid"  # the identity's clothing pattern
    posed: PoseSequence | None = None  # the evaluated frames' poses as drawn (what warped noise's motion comes from)


def make_cases(config: HeldOutConfig, resolution: int | tuple[int, int], pose_map: PoseMapConfig | None = None) -> list[Case]:
    """Identity k of the held-out seed with motion k (both unseen in training), pose maps in the style ``pose_map``."""
    style = style_for(pose_map or PoseMapConfig())
    fit = CanvasFit.of(config.width, config.height, resolution)
    cases = []
    for k in range(config.cases):
        identity = sample_identity(config.seed * IDENTITY_STRIDE + k)
        motion_seed = int(np.random.SeedSequence([config.seed, 1000 + k]).generate_state(1)[0])
        motion = generate_motion(motion_seed, config.frames, config.width, config.height)
        posed, chunks = render_clip(identity, motion, (config.width, config.height))
        keep = list(range(0, config.frames, config.stride))
        truth = np.concatenate(list(chunks))[keep]
        maps = render_pose_maps(posed, resolution, fit=fit, style=style)[keep]
        clothing = clothing_masks(identity, posed, (config.width, config.height), keep)
        cases.append(Case(render_reference(identity, (config.width, config.height)), truth, maps, clothing,
                          identity.clothing_pattern, _kept(posed, keep)))  # fmt: skip
    return cases


def _kept(pose: PoseSequence, keep: list[int]) -> PoseSequence:
    """The frames ``keep`` of ``pose``, in order, as a sequence of their own."""
    return PoseSequence.concatenate([pose.frames(i, i + 1) for i in keep])


def _sample(model, case: Case, config: HeldOutConfig, settings: SamplingSettings) -> np.ndarray:
    fit = CanvasFit.of(config.width, config.height, model.config.resolution)
    source = source_tensor(case.reference, fit)
    motion = pose_motion(model, case.posed, fit) if settings.needs_motion and case.posed is not None else None
    chunks = sample_video(model, source, torch.from_numpy(case.pose_maps), settings, output_fit=fit, progress=False,
                          motion=motion)  # fmt: skip
    return np.concatenate(list(chunks))


@torch.inference_mode()
def _vae_roundtrip(model, case: Case, config: HeldOutConfig) -> np.ndarray:
    fit = CanvasFit.of(config.width, config.height, model.config.resolution)
    squares = np.stack([fit.image_to_canvas(f) for f in case.truth])
    images = torch.from_numpy(squares).permute(0, 3, 1, 2).float() / 255.0
    decoded = model.decode_latents(model.encode_images(images.to(next(model.parameters()).dtype))).float()
    out = (decoded.permute(0, 2, 3, 1).numpy() * 255).round().astype(np.uint8)
    return np.stack([fit.image_from_canvas(o) for o in out])


def frame_metrics(output: np.ndarray, truth: np.ndarray, reference: np.ndarray) -> dict[str, float]:
    mask = moving_mask(truth, reference)
    return {
        "psnr": psnr(output, truth), "ssim_fpdm": ssim(output, truth), "ssim_gauss": ssim(output, truth, variant="gaussian"),
        "moving_psnr": psnr(output, truth, mask), "moving_ssim_fpdm": ssim(output, truth, mask),
        "moving_ssim_gauss": ssim(output, truth, mask, variant="gaussian"), "moving_fraction": float(mask.mean()),
    }  # fmt: skip


def _mean(rows: list[dict[str, float]]) -> dict[str, float]:
    return {k: float(np.nanmean([r[k] for r in rows])) for k in rows[0]}


def evaluate_heldout(checkpoint: str | os.PathLike, config: HeldOutConfig, *, random_seed: int = 0,
                     baselines: bool = True) -> tuple[dict, dict[str, list[np.ndarray]], list[Case]]:  # fmt: skip
    """Metrics per method (means over all evaluated frames, and per case), the outputs, and the cases.

    ``flicker`` is the mean absolute change between consecutive evaluated frames (``stride`` apart),
    for each method and for the ground truth (``flicker_truth``), so their ratio can be read; so is
    ``warping_error`` (``warping_error_truth``: the ground truth's own, the floor), both with the
    ground truth's flow. ``flow_epe`` / ``flow_ratio``: texture sticking (:func:`temporal_report`).
    """
    from pipelines.transfer.devices import pick_dtype

    model = load_model(checkpoint)
    dtype = pick_dtype(config.dtype, torch.device("cpu"), sum(p.numel() for p in model.denoiser.unet.parameters()))
    model = model.to(dtype)
    settings = resolve_sampling(config.sampling, model.config)
    cases = make_cases(config, model.config.resolution, model.config.pose_map)
    methods = {"model": lambda c: _sample(model, c, config, settings), "vae_ceiling": lambda c: _vae_roundtrip(model, c, config)}
    if baselines:
        torch.manual_seed(random_seed)
        random_model = build_model(model.config, load_pretrained=False).eval()
        methods["copy_reference"] = lambda c: np.repeat(c.reference[None], len(c.truth), axis=0)
        methods["random_weights"] = lambda c: _sample(random_model, c, config, settings)
    outputs: dict[str, list[np.ndarray]] = {}
    report: dict[str, dict[str, float]] = {}
    per_case: dict[str, list[dict[str, float]]] = {}
    for name, run in methods.items():
        logger.info("held-out evaluation: %s", name)
        outputs[name] = [run(c) for c in cases]
        case_rows = [[frame_metrics(o, t, c.reference) for o, t in zip(out, c.truth, strict=True)]
                     for c, out in zip(cases, outputs[name], strict=True)]  # fmt: skip
        report[name] = _mean([row for rows in case_rows for row in rows])
        report[name].update(temporal_report(outputs[name], cases))
        per_case[name] = [_mean(rows) for rows in case_rows]
    summary = {"config": asdict(config), "settings": asdict(settings), "frames": sum(len(c.truth) for c in cases), "methods": report, "per_case": per_case}
    return summary, outputs, cases


def temporal_report(outputs: list[np.ndarray], cases: list[Case]) -> dict[str, float]:
    """Flicker and warping error of the outputs and of the ground truth, and texture sticking, means over the cases.

    Texture sticking (``fpdm_video.metrics.texture``): the flow end-point error (px) and flow ratio
    of the output against the ground truth inside the clothing, over all cases and over the cases
    with a patterned shirt (``_patterned``; NaN without one).
    """
    report = {
        "flicker": float(np.mean([flicker(out).mean() for out in outputs])),
        "flicker_truth": float(np.mean([flicker(c.truth).mean() for c in cases])),
        "warping_error": float(np.nanmean([warping_error(out, c.truth).mean() for out, c in zip(outputs, cases, strict=True)])),
        "warping_error_truth": float(np.nanmean([warping_error(c.truth, c.truth).mean() for c in cases])),
    }
    flows = [(clothing_flow(out, c.truth, c.clothing), c.pattern != "solid") for out, c in zip(outputs, cases, strict=True)
             if c.clothing is not None and len(c.truth) > 1]  # fmt: skip
    for key in ("flow_epe", "flow_ratio"):
        patterned = [f[key] for f, p in flows if p]
        report[key] = float(np.nanmean([f[key] for f, _ in flows])) if flows else float("nan")
        report[f"{key}_patterned"] = float(np.nanmean(patterned)) if patterned else float("nan")
    return report


def grid_image(cases: list[Case], outputs: list[np.ndarray], resolution: int | tuple[int, int], per_case: int = 2) -> np.ndarray:
    """Rows of (source | pose | ground truth | output) for ``per_case`` frames of each case, uint8."""
    rows = []
    for case, out in zip(cases, outputs, strict=True):
        picks = np.linspace(0, len(case.truth) - 1, per_case).round().astype(int)
        for i in picks:
            h, w = case.truth.shape[1:3]
            fit = CanvasFit.of(w, h, resolution)
            pose = fit.image_from_canvas((case.pose_maps[i].transpose(1, 2, 0) * 255).round().astype(np.uint8))
            rows.append(np.concatenate([case.reference, pose, case.truth[i], out[i]], axis=1))
    return np.concatenate(rows, axis=0)


def main(argv: list[str] | None = None) -> int:
    from PIL import Image

    from fpdm_video.cli import run_guarded
    from fpdm_video.errors import InputError
    from pipelines.settings.sampling import add_sampling_arguments, request_from_args
    from fpdm_video.models.checkpoint import checkpoint_files
    from fpdm_video.run_paths import check_run_paths
    from fpdm_video.strict_json import dumps

    parser = argparse.ArgumentParser(prog="python -m pipelines.synthetic_eval", description=__doc__.split("\n\n")[0])
    parser.add_argument("--checkpoint", required=True, help="checkpoint folder to evaluate")
    parser.add_argument("--out", required=True, help="folder for heldout_eval.json and heldout_grid.png")
    parser.add_argument("--cases", type=int, default=8, help="held-out (identity, motion) cases (default 8)")
    parser.add_argument("--no-baselines", action="store_true", help="skip copy-reference and random weights")
    parser.add_argument("--data-seed", type=int, default=2, help="seed of the held-out signers and motions (default 2; "
                                                                  "the demo model trained on seed 1)")
    parser.add_argument("--dtype", choices=("fp32", "bf16", "auto"), default="fp32", help="number format (default fp32)")
    add_sampling_arguments(parser.add_argument_group("sampling (the transfer CLI's options, resolved on the checkpoint as it does)"))
    args = parser.parse_args(argv)
    logging.basicConfig(level="INFO", format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    def body() -> int:
        config = HeldOutConfig(cases=args.cases, seed=args.data_seed, dtype=args.dtype, sampling=request_from_args(args))
        if config.cases < 1:
            raise InputError(f"--cases must be positive, got {config.cases}")
        out = Path(args.out)
        check_run_paths(checkpoint_files(args.checkpoint), {"--out (report)": out / "heldout_eval.json",
                                                            "--out (grid)": out / "heldout_grid.png"})  # fmt: skip
        report, outputs, cases = evaluate_heldout(args.checkpoint, config, baselines=not args.no_baselines)
        with atomic_path(out / "heldout_eval.json") as tmp:
            tmp.write_text(dumps(report))
        resolution = (cases[0].pose_maps.shape[-1], cases[0].pose_maps.shape[-2])  # the canvas (W, H)
        with atomic_path(out / "heldout_grid.png") as tmp:
            Image.fromarray(grid_image(cases, outputs["model"], resolution)).save(tmp, format="PNG")
        for name, m in report["methods"].items():
            logger.info("%-15s PSNR %.2f SSIM(fpdm) %.3f | moving PSNR %.2f SSIM(fpdm) %.3f",
                        name, m["psnr"], m["ssim_fpdm"], m["moving_psnr"], m["moving_ssim_fpdm"])  # fmt: skip
        return 0

    return run_guarded(body)


if __name__ == "__main__":
    raise SystemExit(main())
