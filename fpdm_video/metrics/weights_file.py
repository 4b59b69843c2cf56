"""A network's weights from a local file the user gives, read without running code from it.

A ``.safetensors`` file, or a PyTorch file (``torch.save`` of a state dict, as torchvision and
pytorch-fid publish theirs) read with ``torch.load(weights_only=True)``, which refuses pickled code.
A checkpoint that wraps its weights under ``"state_dict"`` is unwrapped. Anything else is an
:class:`~fpdm_video.errors.InputError` naming the option the file came from.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import torch

from fpdm_video.errors import InputError


def read_state_dict(path: str | os.PathLike, option: str) -> dict[str, torch.Tensor]:
    """The tensors of the weights file ``path`` (given with ``option``, e.g. ``--fid-weights``), by name."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{option} {path}: no such file")
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            obj = load_file(str(path), device="cpu")
        else:
            obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # any failure to parse a user's file is bad input, whatever the reader raised
        raise InputError(f"{option} {path} cannot be read as weights ({type(exc).__name__}: {str(exc)[:200]}); "
                         "give a PyTorch state dict (.pth) or a .safetensors file") from None  # fmt: skip
    if isinstance(obj, Mapping) and isinstance(obj.get("state_dict"), Mapping):
        obj = obj["state_dict"]
    if not isinstance(obj, Mapping) or not obj or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise InputError(f"{option} {path} holds no state dict (a mapping of names to tensors)")
    return {str(k): v for k, v in obj.items()}


def load_into(module: torch.nn.Module, weights: Mapping[str, torch.Tensor], option: str, path: str | os.PathLike, expected: str) -> None:
    """Load ``weights`` into ``module`` exactly (every key, every shape); a mismatch names the file and what it should be."""
    own = module.state_dict()
    optional = [k for k in own if k.endswith("num_batches_tracked") and k not in weights]  # older files lack these counters
    weights = {**weights, **{k: own[k] for k in optional}}
    missing = [k for k in own if k not in weights]
    if missing:
        raise InputError(f"{option} {path} lacks {len(missing)} of the {len(own)} tensors needed (first: {missing[0]}); "
                         f"give {expected}")  # fmt: skip
    wrong = [k for k in own if tuple(weights[k].shape) != tuple(own[k].shape)]
    if wrong:
        k = wrong[0]
        raise InputError(f"{option} {path}: {k} has shape {tuple(weights[k].shape)}, expected {tuple(own[k].shape)}; give {expected}")
    module.load_state_dict({k: weights[k].to(own[k].dtype) for k in own}, strict=True)
