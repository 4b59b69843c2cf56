"""FID (Heusel et al. 2017) of two sets of frames, with the Inception network from a local weights file.

Built on pytorch-fid: its FID-specific Inception blocks, and its Frechet distance (computed here
exactly and fast, see :func:`frechet_distance`; tested equal to pytorch-fid's).
The network is assembled here rather than through ``pytorch_fid.inception.InceptionV3``, which
would download its weights; the file the user gives is loaded with
:func:`fpdm_video.metrics.weights_file.read_state_dict` (never unpickled). Which network the file
holds is read from its classifier's size:

- 1008 classes: pytorch-fid's port of the TensorFlow FID Inception
  (``pt_inception-2015-12-05-6726825d.pth``), the network of the standard FID;
- 1000 classes: torchvision's ImageNet Inception v3 (``inception_v3_google-0cc3c7bd.pth``), the one
  the official FPDM evaluation loads (``models.inception_v3(pretrained=True)``).

Both are used as pytorch-fid and the official FPDM evaluation use them: frames resized to 299x299
(bilinear), scaled to [-1, 1], the 2048-d output of the last average pool. The estimate is biased
upwards for small sets (a few hundred frames or fewer): compare only sets of the same size.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from fpdm_video.errors import InputError
from fpdm_video.metrics.weights_file import load_into, read_state_dict

VARIANTS = {1008: "FID Inception (pytorch-fid's port of TensorFlow's, the standard FID)",
            1000: "torchvision's ImageNet Inception v3 (as the official FPDM evaluation)"}  # fmt: skip
EXPECTED = "pytorch-fid's pt_inception-2015-12-05-6726825d.pth or torchvision's inception_v3_google-0cc3c7bd.pth"


@dataclass
class FIDNetwork:
    """The feature extractor and which Inception it is."""

    blocks: torch.nn.Module
    variant: str


def _inception(classes: int) -> torch.nn.Module:
    import torchvision

    net = torchvision.models.inception_v3(weights=None, aux_logits=False, init_weights=False, num_classes=classes)
    if classes == 1008:  # the TensorFlow graph's pooling differs from torchvision's in these blocks
        from pytorch_fid.inception import FIDInceptionA, FIDInceptionC, FIDInceptionE_1, FIDInceptionE_2

        net.Mixed_5b = FIDInceptionA(192, pool_features=32)
        net.Mixed_5c = FIDInceptionA(256, pool_features=64)
        net.Mixed_5d = FIDInceptionA(288, pool_features=64)
        net.Mixed_6b = FIDInceptionC(768, channels_7x7=128)
        net.Mixed_6c = FIDInceptionC(768, channels_7x7=160)
        net.Mixed_6d = FIDInceptionC(768, channels_7x7=160)
        net.Mixed_6e = FIDInceptionC(768, channels_7x7=192)
        net.Mixed_7b = FIDInceptionE_1(1280)
        net.Mixed_7c = FIDInceptionE_2(2048)
    return net


def _pool_blocks(net: torch.nn.Module) -> torch.nn.Module:
    """The layers up to the last average pool, as pytorch-fid's ``InceptionV3`` strings them."""
    return torch.nn.Sequential(
        net.Conv2d_1a_3x3, net.Conv2d_2a_3x3, net.Conv2d_2b_3x3, torch.nn.MaxPool2d(kernel_size=3, stride=2),
        net.Conv2d_3b_1x1, net.Conv2d_4a_3x3, torch.nn.MaxPool2d(kernel_size=3, stride=2),
        net.Mixed_5b, net.Mixed_5c, net.Mixed_5d, net.Mixed_6a, net.Mixed_6b, net.Mixed_6c, net.Mixed_6d, net.Mixed_6e,
        net.Mixed_7a, net.Mixed_7b, net.Mixed_7c, torch.nn.AdaptiveAvgPool2d(output_size=(1, 1)),
    )  # fmt: skip


def build_fid(path: str | os.PathLike, option: str = "--fid-weights") -> FIDNetwork:
    """The Inception feature extractor (eval mode, no gradients) from the weights file ``path``."""
    weights = read_state_dict(path, option)
    fc = weights.get("fc.weight")
    if fc is None or fc.ndim != 2 or fc.shape[0] not in VARIANTS:
        raise InputError(f"{option} {path} is not an Inception v3 state dict (no fc.weight with 1008 or 1000 classes); give {EXPECTED}")
    classes = int(fc.shape[0])
    net = _inception(classes)
    load_into(net, {k: v for k, v in weights.items() if not k.startswith("AuxLogits.")}, option, path, EXPECTED)
    return FIDNetwork(blocks=_pool_blocks(net).eval().requires_grad_(False), variant=VARIANTS[classes])


@torch.inference_mode()
def inception_features(network: FIDNetwork, frames: np.ndarray, batch: int = 16) -> np.ndarray:
    """(N, 2048) pool features of (N, H, W, 3) frames (uint8, or float in [0, 1])."""
    feats = []
    for i in range(0, len(frames), batch):
        x = torch.from_numpy(np.ascontiguousarray(frames[i:i + batch])).permute(0, 3, 1, 2).float()
        if frames.dtype == np.uint8:
            x = x / 255.0
        x = F.interpolate(x, size=(299, 299), mode="bilinear", align_corners=False)
        feats.append(network.blocks(2 * x - 1).flatten(1).double().numpy())
    return np.concatenate(feats) if feats else np.zeros((0, 2048))


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """FID of two feature sets (N, D) and (M, D), N, M >= 2.

    ||mu_a - mu_b||^2 + Tr(S_a) + Tr(S_b) - 2 Tr((S_a S_b)^(1/2)), with the covariances S of
    pytorch-fid (``np.cov``, N - 1). The last trace is computed exactly rather than with scipy's
    ``sqrtm`` (which pytorch-fid uses): with centred features A and B, the eigenvalues of S_a S_b
    are the squared singular values of A B^T / sqrt((N-1)(M-1)), so the trace is their sum; for
    sets larger than D it is the same trace through two symmetric eigendecompositions. On sets
    smaller than D, where the covariances are singular, sqrtm takes about 30 s for D = 2048 and
    warns that its result may be inaccurate.
    """
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if len(a) < 2 or len(b) < 2:
        raise ValueError(f"FID needs at least 2 frames a side, got {len(a)} and {len(b)}")
    ca, cb = a - a.mean(0), b - b.mean(0)
    na, nb = len(a) - 1, len(b) - 1
    if max(len(a), len(b)) <= a.shape[1]:
        trace_sqrt = np.linalg.svd(ca @ cb.T, compute_uv=False).sum() / np.sqrt(na * nb)
    else:
        sa, sb = ca.T @ ca / na, cb.T @ cb / nb
        w, v = np.linalg.eigh(sa)
        root = (v * np.sqrt(np.clip(w, 0.0, None))) @ v.T
        trace_sqrt = np.sqrt(np.clip(np.linalg.eigvalsh(root @ sb @ root), 0.0, None)).sum()
    mean_term = float(np.sum((a.mean(0) - b.mean(0)) ** 2))
    value = mean_term + (ca**2).sum() / na + (cb**2).sum() / nb - 2.0 * trace_sqrt
    return max(0.0, float(value))  # identical sets give 0 up to rounding, never below


def fid(network: FIDNetwork, generated: np.ndarray, real: np.ndarray) -> float:
    """FID of the frames ``generated`` against ``real``."""
    return frechet_distance(inception_features(network, generated), inception_features(network, real))
