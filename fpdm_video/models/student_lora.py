"""The LoRA variant of the few-step student (as diffusers' LCM-LoRA): low-rank adapters on the teacher's UNet.

For a large teacher (sd21-256) full fine-tuning of the student needs the optimiser state of the
whole UNet; the LoRA variant trains only rank-``r`` adapters (``peft``) on the UNet's attention,
feed-forward and resnet layers, plus the guidance embedding's map (``COND_PROJ``, new and zero at
first). Its checkpoint folder holds ``config.yaml`` (with ``student.lora`` and the teacher's
path and hash) and ``adapter.safetensors``, those tensors only; :func:`load_lora_student` loads
the teacher, checks its hash, puts the adapters on it and merges them into plain weights, so that
the loaded student samples at exactly the full student's cost.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch
from torch import Tensor, nn

from fpdm_video.config import FPDMConfig
from fpdm_video.errors import CheckpointError
from fpdm_video.models.checkpoint import ADAPTER_NAME, CONFIG_NAME, canvas_label
from fpdm_video.models.student import COND_PROJ

# the UNet layers that get adapters: diffusers' LCM-LoRA targets (attention, feed-forward, resnet convs, time projections)
LORA_TARGETS = ("to_q", "to_k", "to_v", "to_out.0", "proj_in", "proj_out", "ff.net.0.proj", "ff.net.2",
                "conv1", "conv2", "conv_shortcut", "time_emb_proj")  # fmt: skip


def lora_settings(rank: int, alpha: float | None = None, targets: tuple[str, ...] = LORA_TARGETS) -> dict:
    """What ``StudentConfig.lora`` keeps: {"rank", "alpha", "targets"} (alpha None: the rank, a scale of 1)."""
    if rank < 1:
        raise ValueError(f"a LoRA rank must be at least 1, got {rank}")
    return {"rank": int(rank), "alpha": float(rank if alpha is None else alpha), "targets": list(targets)}


def add_lora(model, lora: dict) -> None:
    """Put rank-``lora["rank"]`` adapters (zero at first: B = 0) on ``model``'s UNet layers named in ``lora["targets"]``."""
    from peft import LoraConfig, inject_adapter_in_model

    config = LoraConfig(r=lora["rank"], lora_alpha=lora["alpha"], target_modules=list(lora["targets"]))
    inject_adapter_in_model(config, model.denoiser.unet)


def is_adapter_key(key: str) -> bool:
    """A tensor the LoRA student trains and saves: an adapter's, or the guidance embedding's map."""
    return "lora_" in key or key == COND_PROJ


def adapter_state(model: nn.Module) -> dict[str, Tensor]:
    return {k: v.detach().to("cpu").contiguous() for k, v in model.state_dict().items() if is_adapter_key(k)}


def save_adapter(model, directory: str | os.PathLike) -> Path:
    """Write a LoRA student's folder: its config and only its adapter tensors (atomically)."""
    from safetensors.torch import save_file

    from fpdm_video.atomic import atomic_dir, default_file_mode
    from fpdm_video.config import save_yaml

    directory = Path(directory)
    with atomic_dir(directory) as tmp:
        save_yaml(model.config, tmp / CONFIG_NAME)
        save_file(adapter_state(model), str(tmp / ADAPTER_NAME),
                  metadata={"format": "pt", "model": model.config.name, "resolution": canvas_label(model.config)})  # fmt: skip
        os.chmod(tmp / ADAPTER_NAME, default_file_mode())
    return directory


def merged(model):
    """A plain FPDM (no adapter layers) whose weights are ``model``'s with every adapter merged in."""
    from peft.tuners.tuners_utils import BaseTunerLayer

    from fpdm_video.models.fpdm import FPDM

    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, BaseTunerLayer):
                module.merge()
        state = {k.replace(".base_layer.", "."): v for k, v in model.state_dict().items() if "lora_" not in k}
    plain = FPDM(model.config, load_pretrained=False)
    plain.load_state_dict(state)
    return plain.to(next(model.parameters()).device).eval()


def teacher_folder(directory: Path, config: FPDMConfig) -> Path:
    """The teacher's folder as the student names it: as given (from the working folder), else beside the student."""
    given = Path(str(config.student.teacher.get("path") or ""))
    if not str(given) or str(given) == "None":
        raise CheckpointError(f"LoRA student {directory} does not name its teacher (student.teacher.path in {directory / 'config.yaml'})")
    for candidate in (given, directory / given):
        if candidate.is_dir():
            return candidate
    raise CheckpointError(f"LoRA student {directory} holds only its adapter and needs its teacher {given}, which is not a "
                          "folder here; copy the teacher there or edit student.teacher.path in its config.yaml")  # fmt: skip


def load_lora_student(directory: Path, config: FPDMConfig, map_location="cpu"):
    """The teacher named in ``config`` (hash checked) with ``directory``'s adapters merged into its weights."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    from fpdm_video.models.checkpoint import checkpoint_hash, load_model
    from fpdm_video.models.fpdm import FPDM

    folder = teacher_folder(directory, config)
    expected = config.student.teacher.get("sha256")
    if expected and checkpoint_hash(folder) != expected:
        raise CheckpointError(f"LoRA student {directory} was trained on teacher {folder} with sha256 {expected[:12]}..., "
                              "but that folder now holds other weights; give the teacher it was made from")  # fmt: skip
    teacher = load_model(folder, map_location=map_location)
    student = FPDM(config, load_pretrained=False)
    missing, unexpected = student.load_state_dict(teacher.state_dict(), strict=False)
    if unexpected or missing != [COND_PROJ]:
        raise CheckpointError(f"LoRA student {directory} does not fit its teacher {folder}: missing {missing[:3]}, unexpected {unexpected[:3]}")
    add_lora(student, config.student.lora)
    try:
        adapter = load_file(str(directory / ADAPTER_NAME), device=str(map_location))
    except (SafetensorError, OSError) as exc:
        raise CheckpointError(f"cannot read {directory / ADAPTER_NAME}: {exc}") from None
    own = adapter_state(student)
    if set(adapter) != set(own) or any(adapter[k].shape != own[k].shape for k in own):
        extra, lacking = sorted(set(adapter) - set(own)), sorted(set(own) - set(adapter))
        raise CheckpointError(f"{directory / ADAPTER_NAME} does not match the adapters of {directory / 'config.yaml'} "
                              f"(student.lora): unexpected {extra[:2]}, missing {lacking[:2]}, or other shapes")  # fmt: skip
    student.load_state_dict({k: v.to(own[k].dtype) for k, v in adapter.items()}, strict=False)
    return merged(student.to(map_location))
