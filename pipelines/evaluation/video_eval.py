"""Evaluation of one generated video against its driving video (and, when there is one, its ground truth).

Reported (see docs/evaluation.md):
- temporal stability: flicker of the output and of the driving video, and the warping error of the
  output with the driving video's optical flow (and of the driving video itself, for scale);
- pose fidelity: holistic poses re-extracted from the output with MediaPipe against the target poses
  (the driving poses, repaired and retargeted to the reference signer, as the transfer made them);
- identity, two views side by side:
  - face: dlib's pretrained face descriptor of each output frame against the reference photo's face
    and the driving frame's (the original signer), with detection rates and the share of frames
    under dlib's same-person threshold 0.6 (:mod:`pipelines.evaluation.face_identity`);
  - stage 1, the model's own view: cosine similarity of the checkpoint's stage-1 embedding of each
    output frame to the reference photo and to the driving frame;
- image metrics (SSIM in two variants, PSNR, and LPIPS with ``--lpips-weights``) only against a
  ground-truth video, which real transfers do not have;
- FID with ``--fid-weights``: the output frames against the ground truth's, else the driving video's
  (:mod:`pipelines.evaluation.perceptual`).
"""

from __future__ import annotations

import logging
import os

import numpy as np
import torch

from fpdm_video.geometry import CanvasFit
from fpdm_video.metrics.image import psnr, ssim
from fpdm_video.metrics.pose_fidelity import missing_hand_fraction, region_scores
from fpdm_video.metrics.temporal import flicker, warping_error
from fpdm_video.errors import PoseError
from fpdm_video.metrics.face_identity import FaceIdentityConfig, describe, describe_all, detection_rate
from fpdm_video.pose.extract import extract_poses, load_rgb_image
from fpdm_video.pose.sequence import HOLISTIC_COMPONENTS, PoseSequence
from fpdm_video.video import probe, read_video
from pipelines.evaluation.alignment import driving_range
from pipelines.evaluation.face_identity import face_section, pair_distances, photo_rate
from pipelines.evaluation.perceptual import PerceptualNets, fid_features, fid_section, lpips_section, lpips_series
from pipelines.evaluation.summary import summarise, unavailable
from pipelines.transfer.settings import TransferSettings
from pipelines.transfer.signer import load_signer
from pipelines.transfer.stages import driving_poses, open_input, prepare_poses

logger = logging.getLogger(__name__)

STAGE1_VIEW = ("the model's own view: cosine similarity (higher = closer) in the checkpoint's stage-1 encoder, which "
               "the model was trained with, so it grades the model by itself; identity.face is an independent measure")  # fmt: skip


def image_metrics(output: np.ndarray, truth: np.ndarray) -> dict[str, list[float]]:
    """Per-frame PSNR and both SSIM variants of (T, H, W, 3) frames."""
    return {
        "psnr": [psnr(o, t) for o, t in zip(output, truth, strict=True)],
        "ssim_fpdm": [ssim(o, t) for o, t in zip(output, truth, strict=True)],
        "ssim_gauss": [ssim(o, t, variant="gaussian") for o, t in zip(output, truth, strict=True)],
    }


def temporal_metrics(output: np.ndarray, driving: np.ndarray) -> dict[str, list[float]]:
    return {
        "flicker_output": flicker(output).tolist(),
        "flicker_driving": flicker(driving).tolist(),
        "warping_error_output": warping_error(output, driving).tolist(),
        "warping_error_driving": warping_error(driving, driving).tolist(),
    }


@torch.inference_mode()
def identity_metrics(model, output: np.ndarray, driving: np.ndarray, reference: np.ndarray) -> dict[str, list[float]]:
    """Cosine similarity of E(output frame) to E(reference photo) and to E(driving frame)."""
    h, w = output.shape[1:3]
    fit = CanvasFit.of(w, h, model.config.resolution)

    def embed(frames: np.ndarray) -> torch.Tensor:
        squares = np.stack([fit.image_to_canvas(f) for f in frames])
        x = torch.from_numpy(squares).permute(0, 3, 1, 2).float() / 255.0
        return torch.nn.functional.normalize(model.fusion.embed(x), dim=-1)

    out = embed(output)
    ref = embed(reference[None])
    drv = embed(driving)
    return {"to_reference": (out @ ref.T)[:, 0].tolist(), "to_driving_signer": (out * drv).sum(-1).tolist()}


def evaluate_video(output: str | os.PathLike, driving: str | os.PathLike, signer: str | os.PathLike, *,
                   model=None, ground_truth: str | os.PathLike | None = None, driving_poses_file=None,
                   retarget: bool = True, progress: bool = False, frames: tuple[int, int] | None = None,
                   face: FaceIdentityConfig | None = FaceIdentityConfig(),
                   perceptual: PerceptualNets | None = None) -> tuple[dict, dict[str, list[float]]]:  # fmt: skip
    """(report, per-frame series) of ``output`` against ``driving`` made with the photo ``signer``.

    The output is lined up with the driving frames ``frames`` (START, END), else with those its
    record names, else with the whole driving video (:mod:`pipelines.evaluation.alignment`).
    ``face`` None leaves out the face identity; ``perceptual`` (from
    :func:`pipelines.evaluation.perceptual.load_perceptual`) adds LPIPS and FID.
    """
    out = read_video(output).frames
    info = probe(driving)
    span = driving_range(output, driving, len(out), info.num_frames, info.fps, frames)
    drv = read_video(driving, span.start, span.end).frames  # only the frames the output was made from
    if out.shape != drv.shape:
        raise_shape(out.shape, drv.shape, output, driving)
    series: dict[str, list[float]] = {}
    report: dict = {"output": str(output), "driving": str(driving), "signer": str(signer), "frames": len(out),
                    "driving_range": {"start": span.start, "end": span.end, "from": span.source}}  # fmt: skip

    series.update(temporal_metrics(out, drv))
    report["temporal"] = {k: summarise(v) for k, v in series.items() if k.startswith(("flicker", "warping"))}

    selected = TransferSettings(start=span.start, end=span.end)
    spec = open_input(driving, selected)
    fitted = load_signer(signer, spec.width, spec.height)
    raw = driving_poses(spec, driving_poses_file, selected, progress=progress)
    target, _ = prepare_poses(raw, fitted.pose if retarget else None)
    generated = extract_or_empty(out, spec.fps, progress)
    scores = region_scores(target, generated)
    report["pose_fidelity"] = {
        "regions": {k: {"distance": v.distance, "pck@0.1": v.pck, "frames": v.frames} for k, v in scores.items()},
        "missing_hand_fraction": missing_hand_fraction(target, generated),
        "target": "driving poses, repaired" + (" and retargeted to the reference signer" if retarget else ""),
    }
    report["identity"] = {}
    if face is not None:
        report["identity"]["face"], face_series = face_identity(out, drv, load_rgb_image(signer), face)
        series.update(face_series)
    else:
        report["identity"]["face"] = unavailable("left out")
    if model is not None:
        ident = identity_metrics(model, out, drv, fitted.image)
        series.update({f"identity_{k}": v for k, v in ident.items()})
        report["identity"]["stage1"] = {k: summarise(v) for k, v in ident.items()}
        report["identity"]["stage1"].update(encoder=f"stage-1 encoder E of {model.config.name}", view=STAGE1_VIEW)
    else:
        report["identity"]["stage1"] = unavailable("no checkpoint given (--checkpoint) to embed frames with")
    truth, lp = None, None
    if ground_truth is not None:
        truth = read_video(ground_truth).frames
        if len(truth) == info.num_frames != len(out):  # a ground truth of the whole driving video: the same part
            truth = truth[span.start:span.end]
        if truth.shape != out.shape:
            raise_shape(out.shape, truth.shape, output, ground_truth)
        img = image_metrics(out, truth)
        lp = lpips_series(perceptual, out, truth)
        if lp is not None:
            img["lpips"] = lp
        series.update(img)
        report["image"] = {k: summarise(v) for k, v in img.items()}
    else:
        report["image"] = unavailable("no ground truth: a real transfer has none (give --ground-truth to compare)")
    report["lpips"] = lpips_section(perceptual, lp, has_truth=truth is not None)
    real = truth if truth is not None else drv
    report["fid"] = fid_section(perceptual, [fid_features(perceptual, out)], [fid_features(perceptual, real)],
                                against="ground-truth frames" if truth is not None else "driving video frames")  # fmt: skip
    return report, series


def face_identity(output: np.ndarray, driving: np.ndarray, photo: np.ndarray,
                  config: FaceIdentityConfig = FaceIdentityConfig()) -> tuple[dict, dict[str, list[float]]]:  # fmt: skip
    """The face section: each output frame's face against the photo's and the driving frame's of the same index."""
    out, drv, ref = describe_all(output, config), describe_all(driving, config), describe(photo, config)
    section, series = face_section(out, {"reference": ref, "driving_signer": drv}, config,
                                   others_detected={"driving": detection_rate(drv), "reference_photo": photo_rate(ref)})  # fmt: skip
    section["reference_to_driving_signer"] = pair_distances(drv, ref)  # the two people apart, for scale
    return section, series


def extract_or_empty(frames: np.ndarray, fps: float, progress: bool = False) -> PoseSequence:
    """Poses found on generated frames; an output with no person anywhere gives an all-missing sequence."""
    try:
        return extract_poses(frames, fps=fps, progress=progress)
    except PoseError:
        t, h, w = frames.shape[:3]
        k = sum(len(c) for c in HOLISTIC_COMPONENTS)
        return PoseSequence(points=np.zeros((t, k, 3), np.float32), confidence=np.zeros((t, k), np.float32),
                            fps=fps, width=w, height=h)  # fmt: skip


def raise_shape(a, b, pa, pb) -> None:
    from fpdm_video.errors import InputError

    raise InputError(f"{pa} has frames {a[1:3]} x {a[0]} but {pb} has {b[1:3]} x {b[0]}; they must match frame for frame")


def load_checkpoint(path: str | os.PathLike | None):
    """The model whose encoder embeds frames for the identity metric.

    ``path`` None: the embedded demo model, or None when this installation has none. A ``path``
    that is not a checkpoint is an error (it is never skipped silently).
    """
    from fpdm_video.models.checkpoint import load_model
    from pipelines.transfer import default_checkpoint

    if path is None:
        path = default_checkpoint()
        if not path.is_dir():
            return None
    return load_model(path)
