"""Resumable training state: the model's weights plus everything else a run needs to continue exactly.

``<stage_dir>/state/`` holds ``model/`` (an FPDM checkpoint folder) and ``trainer.pt`` (optimiser,
schedule, EMA, gradient scaler, the stage's own tensors, step, wall time and every random-number state: torch's global CPU
and CUDA states, Python's, and the loop's own generator). The folder is written atomically, so a
crash while saving leaves the previous state intact. ``trainer.pt`` holds only tensors and plain
containers and is read with ``weights_only=True``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

import torch

from fpdm_video.atomic import atomic_dir
from fpdm_video.errors import CheckpointError
from fpdm_video.models.checkpoint import WEIGHTS_NAME, save_model

TRAINER_NAME = "trainer.pt"


@dataclass
class LoopState:
    """The counters of a run."""

    step: int = 0  # optimiser steps done
    seconds: float = 0.0  # training wall time so far, over all resumptions


def save_state(directory: Path, model, optimizer, scheduler, ema, scaler, generator: torch.Generator, loop: LoopState,
               extra: dict | None = None) -> Path:  # fmt: skip
    """Write the state; ``extra`` is the stage's own (e.g. distillation's target network): tensors and plain containers."""
    trainer = {
        "stage": dict(extra or {}),
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict(),
        "ema": ema.state_dict() if ema is not None else None,
        "scaler": scaler.state_dict() if scaler is not None else None,
        "step": loop.step,
        "seconds": loop.seconds,
        "rng_torch": torch.get_rng_state(),
        "rng_cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        "rng_python": random.getstate(),
        "rng_loop": generator.get_state(),
    }
    with atomic_dir(directory) as tmp:
        save_model(model, tmp / "model")
        torch.save(trainer, tmp / TRAINER_NAME)
    return directory


def has_state(directory: Path) -> bool:
    return (directory / TRAINER_NAME).is_file() and (directory / "model" / WEIGHTS_NAME).is_file()


def load_state(directory: Path, model, optimizer, scheduler, ema, scaler, generator: torch.Generator) -> tuple[LoopState, dict]:
    """Restore everything :func:`save_state` wrote; returns the loop counters and the stage's own state."""
    from safetensors.torch import load_file

    try:
        weights = load_file(str(directory / "model" / WEIGHTS_NAME), device="cpu")
        trainer = torch.load(directory / TRAINER_NAME, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - any unreadable state is the same problem for the user
        raise CheckpointError(f"cannot read the training state in {directory}: {exc}") from None
    own = model.state_dict()
    model.load_state_dict({k: v.to(own[k].dtype) for k, v in weights.items()})
    optimizer.load_state_dict(trainer["optimizer"])
    scheduler.load_state_dict(trainer["scheduler"])
    if ema is not None and trainer["ema"] is not None:
        ema.load_state_dict(trainer["ema"])
    if scaler is not None and trainer["scaler"] is not None:
        scaler.load_state_dict(trainer["scaler"])
    torch.set_rng_state(trainer["rng_torch"])
    if trainer["rng_cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(trainer["rng_cuda"])
    version, internal, gauss = trainer["rng_python"]
    random.setstate((version, tuple(internal), gauss))
    generator.set_state(trainer["rng_loop"])
    return LoopState(step=int(trainer["step"]), seconds=float(trainer["seconds"])), dict(trainer.get("stage") or {})
