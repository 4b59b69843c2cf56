"""FPDM checkpoints: ``config.yaml`` + ``model.safetensors`` in a folder. Never unpickled.

``save_model`` writes the folder atomically (a temporary folder renamed into place).
``load_model`` builds the model from the config without fetching any pretrained part (the weights
are all in the file), then loads the tensors strictly: a missing file, a missing or unexpected
tensor, or a shape that differs from the config's is a :class:`CheckpointError` that names the file
and the expected and found shapes.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import torch

from fpdm_video.atomic import atomic_dir, default_file_mode
from fpdm_video.config import FPDMConfig, load_yaml, save_yaml
from fpdm_video.errors import CheckpointError, InputError

CONFIG_NAME = "config.yaml"
WEIGHTS_NAME = "model.safetensors"


def save_model(model, directory: str | os.PathLike, *, dtype: torch.dtype | None = None) -> Path:
    """Write ``model`` (an FPDM) to ``directory``; ``dtype`` optionally casts floating tensors (e.g. fp16)."""
    from safetensors.torch import save_file

    directory = Path(directory)
    state = {}
    for key, value in model.state_dict().items():
        value = value.detach().to("cpu").contiguous()
        if dtype is not None and value.is_floating_point():
            value = value.to(dtype)
        state[key] = value
    with atomic_dir(directory) as tmp:
        save_yaml(model.config, tmp / CONFIG_NAME)
        save_file(state, str(tmp / WEIGHTS_NAME), metadata={"format": "pt", "model": model.config.name})
        os.chmod(tmp / WEIGHTS_NAME, default_file_mode())  # safetensors writes 0600
    return directory


def load_config(directory: str | os.PathLike) -> FPDMConfig:
    """The FPDMConfig of a checkpoint folder."""
    directory = Path(directory)
    if not directory.is_dir():
        raise CheckpointError(f"checkpoint folder {directory} does not exist")
    path = directory / CONFIG_NAME
    if not path.is_file():
        raise CheckpointError(f"checkpoint {directory} is incomplete: {CONFIG_NAME} is missing")
    try:
        return load_yaml(FPDMConfig, path)
    except InputError as exc:
        raise CheckpointError(f"checkpoint config {path} is invalid: {exc}") from None


def load_model(directory: str | os.PathLike, *, map_location: str | torch.device = "cpu"):
    """Build the FPDM of ``directory`` and load its weights (strict, shapes checked)."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    from fpdm_video.models.fpdm import FPDM

    directory = Path(directory)
    config = load_config(directory)
    weights = directory / WEIGHTS_NAME
    if not weights.is_file():
        raise CheckpointError(f"checkpoint {directory} is incomplete: {WEIGHTS_NAME} is missing")
    try:
        state = load_file(str(weights), device=str(map_location))
    except (SafetensorError, OSError) as exc:
        raise CheckpointError(f"cannot read {weights}: {exc}") from None
    model = FPDM(config, load_pretrained=False)
    expected = model.state_dict()
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    wrong = [f"{k}: expected {tuple(expected[k].shape)}, found {tuple(state[k].shape)}"
             for k in expected if k in state and state[k].shape != expected[k].shape]  # fmt: skip
    if missing or unexpected or wrong:
        parts = []
        if wrong:
            parts.append(f"{len(wrong)} shape mismatch(es), e.g. " + "; ".join(wrong[:3]))
        if missing:
            parts.append(f"{len(missing)} missing tensor(s), e.g. {missing[:3]}")
        if unexpected:
            parts.append(f"{len(unexpected)} unexpected tensor(s), e.g. {unexpected[:3]}")
        raise CheckpointError(f"{weights} does not match {directory / CONFIG_NAME}: " + "; ".join(parts))
    model.load_state_dict({k: v.to(expected[k].dtype) for k, v in state.items()})
    return model.eval()


def checkpoint_hash(directory: str | os.PathLike) -> str:
    """sha256 over the config and the weights of a checkpoint folder (for run records)."""
    directory = Path(directory)
    digest = hashlib.sha256()
    for name in (CONFIG_NAME, WEIGHTS_NAME):
        path = directory / name
        if not path.is_file():
            raise CheckpointError(f"checkpoint {directory} is incomplete: {name} is missing")
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()
