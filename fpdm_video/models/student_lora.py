"""The LoRA variant of the few-step student (as diffusers' LCM-LoRA): low-rank adapters on the teacher's UNet.

For a large teacher (sd21-256) full fine-tuning of the student needs the optimiser state of the
whole UNet; the LoRA variant trains only rank-``r`` adapters (``peft``) on the UNet's attention,
feed-forward and resnet layers, plus the guidance embedding's map (``COND_PROJ``, new and zero at
first). Its checkpoint folder holds ``config.yaml`` (with ``student.lora`` and the teacher's
path and hash) and ``adapter.safetensors``, those tensors only (written and read by
:mod:`fpdm_video.models.checkpoint`, which loads the teacher and checks its hash); :func:`lora_student`
puts the adapters on the teacher and merges them into plain weights, so that the loaded student
samples at exactly the full student's cost. This module reads and writes no files.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from fpdm_video.config import FPDMConfig
from fpdm_video.errors import CheckpointError
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


def lora_student(teacher, config: FPDMConfig, adapter: dict[str, Tensor], where: str):
    """``teacher`` (an FPDM) as the LoRA student of ``config``: its weights, ``adapter``'s tensors added and merged in."""
    from fpdm_video.models.fpdm import FPDM

    student = FPDM(config, load_pretrained=False)
    missing, unexpected = student.load_state_dict(teacher.state_dict(), strict=False)
    if unexpected or missing != [COND_PROJ]:
        raise CheckpointError(f"LoRA student {where} does not fit its teacher: missing {missing[:3]}, unexpected {unexpected[:3]}")
    add_lora(student, config.student.lora)
    own = adapter_state(student)
    if set(adapter) != set(own) or any(adapter[k].shape != own[k].shape for k in own):
        extra, lacking = sorted(set(adapter) - set(own)), sorted(set(own) - set(adapter))
        raise CheckpointError(f"the adapter of {where} does not match its config's student.lora: unexpected {extra[:2]}, "
                              f"missing {lacking[:2]}, or other shapes")  # fmt: skip
    student.load_state_dict({k: v.to(own[k].dtype) for k, v in adapter.items()}, strict=False)
    return merged(student.to(next(teacher.parameters()).device))
