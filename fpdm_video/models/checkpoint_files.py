"""The files of a checkpoint folder, without torch: what a run's path checks read before anything loads."""

from __future__ import annotations

import os
from pathlib import Path

CONFIG_NAME = "config.yaml"
WEIGHTS_NAME = "model.safetensors"
ADAPTER_NAME = "adapter.safetensors"  # a LoRA student's folder holds only its adapter (fpdm_video.models.student_lora)


def checkpoint_files(directory: str | os.PathLike | None, label: str = "--checkpoint") -> dict[str, Path]:
    """The files a run reads from a checkpoint folder, by label, for :func:`fpdm_video.run_paths.check_run_paths`.

    Only these two files are inputs: other files in the folder (a README, an evaluation) may be
    written by other commands.
    """
    if directory is None:
        return {}
    return {f"{label} (config)": Path(directory) / CONFIG_NAME, f"{label} (weights)": weights_file(directory)}


def weights_file(directory: str | os.PathLike) -> Path:
    """The folder's tensors: ``model.safetensors``, or a LoRA student's ``adapter.safetensors`` when only that is there."""
    directory = Path(directory)
    adapter = directory / ADAPTER_NAME
    return adapter if adapter.is_file() and not (directory / WEIGHTS_NAME).exists() else directory / WEIGHTS_NAME
