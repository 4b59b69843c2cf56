"""Evaluation of a generated PHOENIX-layout dataset against its ground truth, clip by clip.

Clips are matched by name in one split. For each: SSIM (both variants) and PSNR per frame, flicker
of the generated and the ground-truth clip, and the warping error of the generated clip with the
ground truth's optical flow. With ``pose_fidelity``, poses re-extracted from the generated frames
are compared with the ground truth's pose sidecars (``<GT_ROOT>/poses/<split>/<name>.pose``).
"""

from __future__ import annotations

import logging
import os

import numpy as np
from tqdm import tqdm

from fpdm_video.data.synthetic_dataset import sidecar_path
from fpdm_video.errors import InputError
from fpdm_video.metrics.pose_fidelity import missing_hand_fraction, region_scores
from fpdm_video.pose import load_holistic
from fpdm_video.video.phoenix import PhoenixDataset, load_sample
from pipelines.evaluation.summary import summarise, unavailable
from pipelines.evaluation.video_eval import LPIPS_FID, extract_or_empty, image_metrics, temporal_metrics

logger = logging.getLogger(__name__)


def evaluate_dataset(generated: str | os.PathLike, truth: str | os.PathLike, split: str = "test", *,
                     pose_fidelity: bool = False, progress: bool = True) -> tuple[dict, dict[str, dict[str, list[float]]]]:  # fmt: skip
    """(report, per-clip per-frame series) of the generated dataset against the ground truth."""
    gen, ref, names = matched_samples(generated, truth, split)
    clips, series = {}, {}
    pooled: dict[str, list[float]] = {}
    for name in tqdm(names, desc="clips", unit="clip", disable=not progress):
        out = load_sample(gen[name]).frames
        gt = load_sample(ref[name]).frames
        if out.shape != gt.shape:
            clips[name] = {"error": f"generated frames {out.shape} do not match the ground truth's {gt.shape}"}
            continue
        s = {**image_metrics(out, gt), **temporal_metrics(out, gt)}
        clip = {k: summarise(v) for k, v in s.items()}
        if pose_fidelity:
            clip["pose_fidelity"] = _pose_fidelity(out, truth, split, name)
        clips[name] = clip
        series[name] = s
        for k, v in s.items():
            pooled.setdefault(k, []).extend(v)
    report = {
        "generated": str(generated), "ground_truth": str(truth), "split": split,
        "clips_compared": len(series), "only_generated": sorted(set(gen) - set(ref)), "only_truth": sorted(set(ref) - set(gen)),
        "overall": {k: summarise(v) for k, v in pooled.items()},
        "per_clip": clips, "lpips_fid": LPIPS_FID,
    }  # fmt: skip
    return report, series


def matched_samples(generated: str | os.PathLike, truth: str | os.PathLike, split: str) -> tuple[dict, dict, list[str]]:
    """The samples of ``split`` in both datasets (by name) and the names they share, sorted; raises if none."""
    gen = {s.name: s for s in PhoenixDataset(generated).samples(split)}
    ref = {s.name: s for s in PhoenixDataset(truth).samples(split)}
    names = sorted(set(gen) & set(ref))
    if not names:
        raise InputError(f"no clip of split {split!r} has the same name in {generated} and {truth}")
    return gen, ref, names


def _pose_fidelity(frames: np.ndarray, truth_root, split: str, name: str) -> dict:
    path = sidecar_path(truth_root, split, name)
    if not path.is_file():
        return unavailable(f"no ground-truth pose sidecar at {path}")
    target = load_holistic(path)
    generated = extract_or_empty(frames, target.fps)
    scores = region_scores(target, generated)
    return {"regions": {k: {"distance": v.distance, "pck@0.1": v.pck, "frames": v.frames} for k, v in scores.items()},
            "missing_hand_fraction": missing_hand_fraction(target, generated)}  # fmt: skip
