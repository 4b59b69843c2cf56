"""The shape of the sampling corridor: a loop that sees one denoiser, short signatures, and no state hidden on modules."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest
import torch
from torch import nn

from factories_model import tiny_model
from factories_pipeline import random_pose_maps, random_source_image
from pipelines.loop import sample_latents
from pipelines.settings import SamplingSettings
from pipelines.video_sampling import sample_video

ROOT = Path(__file__).resolve().parents[1]
SAMPLING_PATH = ["pipelines/loop.py", "pipelines/guidance.py", "pipelines/fpdm_pipeline.py", "pipelines/video_sampling.py",
                 "pipelines/tricks.py", "pipelines/samplers", "pipelines/settings", "pipelines/transfer/stages.py",
                 "fpdm_video/models/hooks", "fpdm_video/models/denoiser.py", "fpdm_video/models/fpdm.py"]  # fmt: skip


def test_the_loop_takes_one_denoiser_and_at_most_six_parameters():
    parameters = inspect.signature(sample_latents).parameters
    assert list(parameters)[0] == "denoise" and len(parameters) <= 6


def _functions(path: Path):
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            a = node.args
            names = [x.arg for x in (*a.posonlyargs, *a.args, *a.kwonlyargs)] + [x.arg for x in (a.vararg, a.kwarg) if x]
            yield node.name, [n for n in names if n not in ("self", "cls")]


def test_no_function_on_the_sampling_path_takes_more_than_eight_parameters():
    files = [p for entry in SAMPLING_PATH for p in ((ROOT / entry).rglob("*.py") if (ROOT / entry).is_dir() else [ROOT / entry])]
    assert len(files) > 15
    wide = [f"{p.relative_to(ROOT)}:{name} ({len(args)})" for p in files for name, args in _functions(p) if len(args) > 8]
    assert wide == []


def _state(module: nn.Module) -> dict[str, int]:
    """The identity of each plain attribute of a module (parameters, buffers and submodules live elsewhere)."""
    return {k: id(v) for k, v in vars(module).items() if not k.startswith("_")}


def changed_attributes_during(model: nn.Module, run) -> list[str]:
    """Attributes of ``model``'s modules that differ, when a module's forward starts, from before ``run()`` began."""
    before = {id(m): (name, _state(m)) for name, m in model.named_modules()}
    seen: list[str] = []

    def check(module, args):
        name, state = before.get(id(module), ("?", {}))
        now = _state(module)
        seen.extend(f"{name}.{k}" for k in set(state) | set(now) if state.get(k) != now.get(k))

    handle = nn.modules.module.register_module_forward_pre_hook(check)
    try:
        run()
    finally:
        handle.remove()
    return sorted(set(seen))


class Stateful(nn.Module):
    """The pattern the corridor must not have: an input set on a submodule before its call and cleared after."""

    def __init__(self) -> None:
        super().__init__()
        self.inner = nn.Linear(2, 2)
        self.inner.extra = None

    def forward(self, x):
        self.inner.extra = x
        try:
            return self.inner(x)
        finally:
            self.inner.extra = None


def test_the_attribute_check_catches_an_input_set_on_a_module():
    model = Stateful()
    assert changed_attributes_during(model, lambda: model(torch.zeros(1, 2))) == ["inner.extra"]


@pytest.mark.parametrize("tricks", [{}, {"deep_cache": 2, "temporal_attention": "both"}, {"guidance_source": 3.0,
                                                                                          "temporal_attention": "previous"}])
def test_sampling_sets_no_attribute_on_any_module(tricks):
    model = tiny_model()
    settings = SamplingSettings(steps=3, batch_size=2, **tricks)

    def run():
        list(sample_video(model, random_source_image(32), random_pose_maps(3, 32), settings, progress=False))

    assert changed_attributes_during(model, run) == []
    assert all(type(p).__name__ == "HookedAttnProcessor" for p in model.denoiser.unet.attn_processors.values())
