"""The LPIPS and FID sections of an evaluation report, computed only when the user gives local weights files.

Neither network's weights ship with this project or its packages (LPIPS's backbone, FID's
Inception), and nothing is downloaded: ``--lpips-weights`` and ``--fid-weights`` name the files
(see :mod:`fpdm_video.metrics.lpips_local` and :mod:`fpdm_video.metrics.fid_local`). Without them
each section says "not computed" and which option to give.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from pipelines.evaluation.summary import summarise, unavailable

NO_LPIPS = unavailable("not computed: give --lpips-weights (torchvision's AlexNet, VGG-16 or SqueezeNet weights file)")
NO_FID = unavailable("not computed: give --fid-weights (an Inception v3 weights file: pytorch-fid's or torchvision's)")
FEW_FRAMES = ("FID of small sets is biased upwards (a few hundred frames or fewer): compare only sets of the same size")


@dataclass(frozen=True)
class PerceptualWeights:
    """The local weights files the user gave (None: that metric is not computed)."""

    lpips: Path | None = None
    lpips_net: str = "alex"  # alex, vgg or squeeze: the backbone the --lpips-weights file holds
    fid: Path | None = None


@dataclass
class PerceptualNets:
    """The networks built from :class:`PerceptualWeights` (once per run)."""

    weights: PerceptualWeights
    lpips: torch.nn.Module | None = None
    fid: object | None = None  # fpdm_video.metrics.fid_local.FIDNetwork


def load_perceptual(weights: PerceptualWeights) -> PerceptualNets:
    """Build the networks now, so that a bad weights file ends the run before any work (InputError)."""
    nets = PerceptualNets(weights=weights)
    if weights.lpips is not None:
        from fpdm_video.metrics.lpips_local import build_lpips

        nets.lpips = build_lpips(weights.lpips, weights.lpips_net)
    if weights.fid is not None:
        from fpdm_video.metrics.fid_local import build_fid

        nets.fid = build_fid(weights.fid)
    return nets


def lpips_series(nets: PerceptualNets | None, output: np.ndarray, truth: np.ndarray) -> list[float] | None:
    """Per-frame LPIPS of the output against its ground truth, or None when no weights were given."""
    if nets is None or nets.lpips is None:
        return None
    from fpdm_video.metrics.lpips_local import lpips_distances

    return lpips_distances(nets.lpips, output, truth)


def lpips_section(nets: PerceptualNets | None, values: list[float] | None, has_truth: bool = True) -> dict:
    if nets is None or nets.lpips is None:
        return NO_LPIPS
    if not has_truth:
        return unavailable("needs a ground truth (--ground-truth): LPIPS compares each frame with its true frame")
    return {"lpips": summarise(values or []), "backbone": f"{nets.weights.lpips_net} from {nets.weights.lpips}",
            "note": "lower is closer; 0 for identical frames"}  # fmt: skip


def fid_features(nets: PerceptualNets | None, frames: np.ndarray) -> np.ndarray | None:
    """Inception pool features of ``frames`` (N, 2048), or None when no weights were given."""
    if nets is None or nets.fid is None:
        return None
    from fpdm_video.metrics.fid_local import inception_features

    return inception_features(nets.fid, frames)


def fid_section(nets: PerceptualNets | None, generated: list[np.ndarray | None], real: list[np.ndarray | None], against: str) -> dict:
    """FID of the pooled features ``generated`` against ``real`` (lists of (N_i, 2048) arrays)."""
    if nets is None or nets.fid is None:
        return NO_FID
    gen = np.concatenate([f for f in generated if f is not None] or [np.zeros((0, 2048))])
    ref = np.concatenate([f for f in real if f is not None] or [np.zeros((0, 2048))])
    if len(gen) < 2 or len(ref) < 2:
        return unavailable(f"FID needs at least 2 frames a side; there are {len(gen)} generated and {len(ref)} {against}")
    from fpdm_video.metrics.fid_local import frechet_distance

    value = frechet_distance(gen, ref)
    return {"fid": value, "against": against, "generated_frames": len(gen), "real_frames": len(ref),
            "network": f"{nets.fid.variant} from {nets.weights.fid}", "note": FEW_FRAMES}  # fmt: skip
