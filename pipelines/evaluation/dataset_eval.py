"""Evaluation of a generated PHOENIX-layout dataset against its ground truth, clip by clip.

Clips are matched by name in one split. For each: SSIM (both variants) and PSNR per frame, flicker
of the generated and the ground-truth clip, and the warping error of the generated clip with the
ground truth's optical flow. With ``pose_fidelity``, poses re-extracted from the generated frames
are compared with the ground truth's pose sidecars (``<GT_ROOT>/poses/<split>/<name>.pose``).

Face identity (dlib's pretrained descriptor, :mod:`pipelines.evaluation.face_identity`): each
generated frame's face against the ground-truth frame's of the same index, and against a reference
photo when one is given (every clip made with that photo); per clip and pooled. LPIPS per frame and
FID of all generated frames against all ground-truth frames when their weights files are given
(:mod:`pipelines.evaluation.perceptual`).
"""

from __future__ import annotations

import logging
import os

import numpy as np
from tqdm import tqdm

from fpdm_video.data.synthetic_dataset import sidecar_path
from fpdm_video.errors import InputError
from fpdm_video.metrics.face_identity import FaceIdentityConfig, describe, describe_all, detection_rate
from fpdm_video.metrics.pose_fidelity import missing_hand_fraction, region_scores
from fpdm_video.pose import load_holistic
from fpdm_video.pose.extract import load_rgb_image
from fpdm_video.video.phoenix import PhoenixDataset, load_sample
from pipelines.evaluation.face_identity import face_section, photo_rate
from pipelines.evaluation.perceptual import PerceptualNets, fid_features, fid_section, lpips_section, lpips_series
from pipelines.evaluation.summary import summarise, unavailable
from pipelines.evaluation.video_eval import extract_or_empty, image_metrics, temporal_metrics

logger = logging.getLogger(__name__)


def evaluate_dataset(generated: str | os.PathLike, truth: str | os.PathLike, split: str = "test", *,
                     pose_fidelity: bool = False, progress: bool = True, signer: str | os.PathLike | None = None,
                     face: FaceIdentityConfig | None = FaceIdentityConfig(),
                     perceptual: PerceptualNets | None = None) -> tuple[dict, dict[str, dict[str, list[float]]]]:  # fmt: skip
    """(report, per-clip per-frame series) of the generated dataset against the ground truth.

    ``signer``: the reference photo every clip was made with (its face is compared too); ``face``
    None leaves out the face identity; ``perceptual`` adds LPIPS and FID.
    """
    gen, ref, names = matched_samples(generated, truth, split)
    clips, series = {}, {}
    pooled: dict[str, list[float]] = {}
    photo = describe(load_rgb_image(signer), face) if face is not None and signer is not None else None
    faces_gen, faces_gt, fid_gen, fid_gt = [], [], [], []
    for name in tqdm(names, desc="clips", unit="clip", disable=not progress):
        out = load_sample(gen[name]).frames
        gt = load_sample(ref[name]).frames
        if out.shape != gt.shape:
            clips[name] = {"error": f"generated frames {out.shape} do not match the ground truth's {gt.shape}"}
            continue
        s = {**image_metrics(out, gt), **temporal_metrics(out, gt)}
        lp = lpips_series(perceptual, out, gt)
        if lp is not None:
            s["lpips"] = lp
        clip = {k: summarise(v) for k, v in s.items()}
        if face is not None:
            fg, ft = describe_all(out, face), describe_all(gt, face)
            clip["face"], _ = _face(fg, ft, photo, signer, face)
            faces_gen += fg
            faces_gt += ft
        fid_gen.append(fid_features(perceptual, out))
        fid_gt.append(fid_features(perceptual, gt))
        if pose_fidelity:
            clip["pose_fidelity"] = _pose_fidelity(out, truth, split, name)
        clips[name] = clip
        series[name] = s
        for k, v in s.items():
            pooled.setdefault(k, []).extend(v)
    report = {
        "generated": str(generated), "ground_truth": str(truth), "split": split, "signer": None if signer is None else str(signer),
        "clips_compared": len(series), "only_generated": sorted(set(gen) - set(ref)), "only_truth": sorted(set(ref) - set(gen)),
        "overall": {k: summarise(v) for k, v in pooled.items()},
        "identity": {"face": _face(faces_gen, faces_gt, photo, signer, face)[0] if face is not None else unavailable("left out")},
        "lpips": lpips_section(perceptual, pooled.get("lpips")),
        "fid": fid_section(perceptual, fid_gen, fid_gt, against="ground-truth frames"),
        "per_clip": clips,
    }  # fmt: skip
    return report, series


def _face(generated: list, truth: list, photo, signer, config: FaceIdentityConfig) -> tuple[dict, dict[str, list[float]]]:
    """Face section of generated frames against the ground truth's (same index) and the reference photo, if any."""
    against = {"ground_truth": truth, **({"reference": photo} if signer is not None else {})}
    rates = {"ground_truth": detection_rate(truth), **({"reference_photo": photo_rate(photo)} if signer is not None else {})}
    return face_section(generated, against, config, others_detected=rates)


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
