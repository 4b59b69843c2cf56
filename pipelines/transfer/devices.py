"""Where and in which number format a transfer runs: ``--device`` and ``--dtype``.

``--dtype auto`` picks bfloat16 on a GPU, and on a CPU with native bfloat16 arithmetic (AVX512-BF16
or AMX-BF16, read from /proc/cpuinfo) for models whose UNet is large enough to be bound by its
matrix products. Measured on such a CPU (benchmarks/bench_speed.py, demo model, 2 threads): bf16
sampled 1.19x to 1.29x as fast as fp32 (two runs) with frames 53.9 dB from the fp32 ones. The tiny test model, whose
UNet has 0.2 M parameters, is slower in bf16 (benchmarks/README.md), so models under
``BF16_MIN_UNET_PARAMETERS`` stay in float32. Everywhere else auto means float32.
"""

from __future__ import annotations

import functools
from pathlib import Path

import torch

from fpdm_video.errors import InputError

DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}
BF16_MIN_UNET_PARAMETERS = 2_000_000  # the demo UNet has 6.7 M, tiny's 0.2 M


def pick_device(device: str) -> torch.device:
    if device not in ("auto", "cpu", "cuda"):
        raise InputError(f"device must be auto, cpu or cuda, got {device!r}")
    if device == "cuda" and not torch.cuda.is_available():
        raise InputError("--device cuda was asked for, but no CUDA device is available; use --device cpu")
    return torch.device("cuda" if device in ("auto", "cuda") and torch.cuda.is_available() else "cpu")


@functools.lru_cache(maxsize=1)
def cpu_has_bf16() -> bool:
    """Whether this CPU does bfloat16 arithmetic natively (AVX512-BF16 or AMX-BF16)."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def load_for_inference(path, device: str = "auto", dtype: str = "auto"):
    """(model, device, dtype): the checkpoint at ``path`` loaded, moved and cast as ``--device`` / ``--dtype`` say, in eval mode."""
    from fpdm_video.models.checkpoint import load_model

    dev = pick_device(device)
    model = load_model(path)
    dt = pick_dtype(dtype, dev, sum(p.numel() for p in model.denoiser.unet.parameters()))
    return model.to(device=dev, dtype=dt).eval(), dev, dt


def pick_dtype(dtype: str, device: torch.device, unet_parameters: int | None = None) -> torch.dtype:
    """The number format for ``--dtype`` on ``device`` (auto: see the module's docstring)."""
    if dtype == "auto":
        if device.type == "cuda":
            return torch.bfloat16
        large = unet_parameters is not None and unet_parameters >= BF16_MIN_UNET_PARAMETERS
        return torch.bfloat16 if large and cpu_has_bf16() else torch.float32
    if dtype not in DTYPES:
        raise InputError(f"dtype must be auto, fp32, bf16 or fp16, got {dtype!r}")
    return DTYPES[dtype]
