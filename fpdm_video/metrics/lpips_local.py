"""LPIPS (Zhang et al. 2018) through the ``lpips`` package, with its backbone from a local torchvision weights file.

The package's wheel carries LPIPS's own linear layers (v0.1) but not the backbone's ImageNet weights,
which it would download through torchvision. Here the model is built with a random backbone
(``pnet_rand=True``: nothing is downloaded) and the backbone's ``features.*`` tensors are then
loaded from the file the user gives, e.g. torchvision's ``alexnet-owt-7be5be79.pth`` (what the
official FPDM evaluation uses, ``lpips.LPIPS(net='alex')``), ``vgg16-397923af.pth`` or
``squeezenet1_1-b8a52dc0.pth``. Frames are compared at their own size, in [-1, 1] (``normalize=True``).
Lower is closer; 0 for identical frames.
"""

from __future__ import annotations

import os
import warnings

import numpy as np
import torch

from fpdm_video.errors import InputError
from fpdm_video.metrics.weights_file import load_into, read_state_dict

BACKBONES = {  # lpips' name -> the torchvision weights file it takes
    "alex": "torchvision's AlexNet weights (alexnet-owt-7be5be79.pth)",
    "vgg": "torchvision's VGG-16 weights (vgg16-397923af.pth)",
    "squeeze": "torchvision's SqueezeNet 1.1 weights (squeezenet1_1-b8a52dc0.pth)",
}


def build_lpips(path: str | os.PathLike, net: str = "alex", option: str = "--lpips-weights") -> torch.nn.Module:
    """An LPIPS model (eval mode, no gradients) with the ``net`` backbone loaded from ``path``."""
    if net not in BACKBONES:
        raise ValueError(f"net must be one of {sorted(BACKBONES)}, not {net!r}")
    weights = read_state_dict(path, option)
    import lpips

    with warnings.catch_warnings():  # lpips builds its backbone with torchvision's deprecated pretrained=False
        warnings.simplefilter("ignore", UserWarning)
        model = lpips.LPIPS(pretrained=True, net=net, pnet_rand=True, verbose=False)
    # the backbone's slices hold torchvision's ``features`` layers under their original indices: slice2.3.weight = features.3.weight
    expected = f"{BACKBONES[net]}, or name its backbone with --lpips-net ({', '.join(BACKBONES)})"
    sources = {key: "features." + key.split(".", 1)[1] for key in model.net.state_dict()}
    missing = [s for s in sources.values() if s not in weights and not s.endswith("num_batches_tracked")]
    if missing:
        raise InputError(f"{option} {path} lacks {missing[0]} ({len(missing)} of the backbone's {len(sources)} tensors); give {expected}")
    renamed = {key: weights[s] for key, s in sources.items() if s in weights}
    load_into(model.net, renamed, option, path, expected)
    return model.eval().requires_grad_(False)


@torch.inference_mode()
def lpips_distances(model: torch.nn.Module, a: np.ndarray, b: np.ndarray, batch: int = 8) -> list[float]:
    """Per-frame LPIPS of (T, H, W, 3) frames ``a`` against ``b`` (uint8, or float in [0, 1])."""
    if a.shape != b.shape:
        raise ValueError(f"frames {a.shape} against {b.shape}")

    def tensor(x: np.ndarray) -> torch.Tensor:
        t = torch.from_numpy(np.ascontiguousarray(x)).permute(0, 3, 1, 2).float()
        return t / 255.0 if x.dtype == np.uint8 else t

    out: list[float] = []
    for i in range(0, len(a), batch):
        d = model(tensor(a[i:i + batch]), tensor(b[i:i + batch]), normalize=True)
        out.extend(float(v) for v in d.flatten())
    return out
