"""--device and --dtype: what auto picks, and what is refused."""

from __future__ import annotations

import pytest
import torch

import pipelines.transfer.devices as devices
from fpdm_video.errors import InputError
from pipelines.transfer.devices import BF16_MIN_UNET_PARAMETERS, pick_dtype

from factories_transfer import tiny_checkpoint  # noqa: F401 (fixture)


@pytest.mark.parametrize(("native", "parameters", "expected"), [(True, BF16_MIN_UNET_PARAMETERS, torch.bfloat16),
                                                                (True, BF16_MIN_UNET_PARAMETERS - 1, torch.float32),
                                                                (True, None, torch.float32),
                                                                (False, 10**9, torch.float32)])  # fmt: skip
def test_auto_on_a_cpu_takes_bf16_only_where_it_pays(monkeypatch, native, parameters, expected):
    monkeypatch.setattr(devices, "cpu_has_bf16", lambda: native)
    assert pick_dtype("auto", torch.device("cpu"), parameters) == expected


def test_auto_on_a_gpu_and_explicit_choices():
    assert pick_dtype("auto", torch.device("cuda"), 1) == torch.bfloat16
    assert pick_dtype("fp32", torch.device("cpu"), 10**9) == torch.float32 and pick_dtype("bf16", torch.device("cpu")) == torch.bfloat16
    with pytest.raises(InputError, match="dtype must be auto, fp32, bf16 or fp16"):
        pick_dtype("fp8", torch.device("cpu"))


def test_the_cpu_flags_are_read_from_the_system():
    flags = open("/proc/cpuinfo").read() if __import__("os").path.exists("/proc/cpuinfo") else ""
    assert devices.cpu_has_bf16() == ("avx512_bf16" in flags or "amx_bf16" in flags)


def test_the_api_and_the_flows_load_models_the_same_way(monkeypatch, tiny_checkpoint):  # noqa: F811
    from flows.steps import cached_model
    from pipelines.transfer import SignerTransfer

    monkeypatch.setattr(devices, "cpu_has_bf16", lambda: True)
    monkeypatch.setattr(devices, "BF16_MIN_UNET_PARAMETERS", 1)  # as if tiny were large
    model = cached_model.__wrapped__(str(tiny_checkpoint), "sha")  # the flows' loader, without its cache
    assert next(model.parameters()).dtype == torch.bfloat16 and not model.training
    assert SignerTransfer.from_pretrained(tiny_checkpoint, device="cpu").dtype == torch.bfloat16
    monkeypatch.setattr(devices, "BF16_MIN_UNET_PARAMETERS", 10**9)
    assert next(cached_model.__wrapped__(str(tiny_checkpoint), "sha").parameters()).dtype == torch.float32
