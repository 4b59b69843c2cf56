"""Test support for the official checkpoints: Lightning .ckpt files as the official code writes them, from a manifest.

The official hyper-parameters are pickled omegaconf objects. omegaconf is not installed here, so
``fake_omegaconf`` puts classes of the same names, and the same pickled state, in ``sys.modules``
while a checkpoint is saved: the file then names ``omegaconf.dictconfig.DictConfig`` and the other
classes exactly as the real ones do (object creation, then its state), which is all a reader sees.
"""

from __future__ import annotations

import collections
import contextlib
import json
import sys
import types
import typing
from collections.abc import Iterator
from pathlib import Path

import torch

DATA = Path(__file__).resolve().parent / "data"
COPIES = {"sd_model.unet.": "unet.", "fusion_model.pose_encoder.": "fusion_model.img_encoder.", "pose_encoder.": "img_encoder."}


def load_manifest(name: str) -> dict:
    return json.loads((DATA / name).read_text())


@contextlib.contextmanager
def fake_omegaconf() -> Iterator[types.SimpleNamespace]:
    """Modules ``omegaconf.*`` with DictConfig, ListConfig, AnyNode, Metadata, ContainerMetadata, pickled as omegaconf's."""

    def cls(module: str, name: str, fields: tuple[str, ...]):
        def __init__(self, **kwargs):  # noqa: N807
            self.__dict__.update({f: kwargs.get(f) for f in fields})

        def __getstate__(self):  # noqa: N807
            return {f: getattr(self, f) for f in fields}

        return type(name, (), {"__module__": module, "__qualname__": name, "__init__": __init__, "__getstate__": __getstate__})

    meta_fields = ("ref_type", "object_type", "optional", "key", "flags", "flags_root", "resolver_cache", "key_type", "element_type")
    classes = types.SimpleNamespace(
        DictConfig=cls("omegaconf.dictconfig", "DictConfig", ("_metadata", "_parent", "_content")),
        ListConfig=cls("omegaconf.listconfig", "ListConfig", ("_metadata", "_parent", "_content")),
        AnyNode=cls("omegaconf.nodes", "AnyNode", ("_metadata", "_parent", "_val")),
        Metadata=cls("omegaconf.base", "Metadata", meta_fields),
        ContainerMetadata=cls("omegaconf.base", "ContainerMetadata", meta_fields),
    )
    names = ["omegaconf", "omegaconf.dictconfig", "omegaconf.listconfig", "omegaconf.nodes", "omegaconf.base"]
    modules = {n: types.ModuleType(n) for n in names}
    for attr in ("DictConfig", "ListConfig", "AnyNode", "Metadata", "ContainerMetadata"):
        c = getattr(classes, attr)
        setattr(modules[c.__module__], attr, c)
    saved = {n: sys.modules.get(n) for n in names}
    sys.modules.update(modules)
    try:
        yield classes
    finally:
        for n, m in saved.items():
            if m is None:
                sys.modules.pop(n, None)
            else:
                sys.modules[n] = m


def as_omegaconf(value, classes, parent=None):
    """Plain data as the fake omegaconf objects (nodes with metadata, as omegaconf pickles its containers)."""

    def metadata(kind, object_type):
        return kind(ref_type=typing.Any, object_type=object_type, optional=True, key=None, flags={}, flags_root=False,
                    resolver_cache=collections.defaultdict(dict), key_type=typing.Any, element_type=typing.Any)  # fmt: skip

    if isinstance(value, dict):
        node = classes.DictConfig(_metadata=metadata(classes.ContainerMetadata, dict), _parent=parent)
        node._content = {k: as_omegaconf(v, classes, node) for k, v in value.items()}
        return node
    if isinstance(value, list):
        node = classes.ListConfig(_metadata=metadata(classes.ContainerMetadata, list), _parent=parent)
        node._content = [as_omegaconf(v, classes, node) for v in value]
        return node
    return classes.AnyNode(_metadata=metadata(classes.Metadata, type(value) if value is not None else None), _parent=parent, _val=value)


def tensors_from(entries: dict, seed: int = 0) -> dict[str, torch.Tensor]:
    """Random tensors of a manifest's names and shapes; stored copies share their original's storage, as in the real files."""
    gen = torch.Generator().manual_seed(seed)
    out = {}
    for key, (shape, dtype) in entries.items():
        if any(key.startswith(copy) for copy in COPIES):
            continue
        out[key] = (torch.randn(shape, generator=gen) * 0.02).to(getattr(torch, dtype))
    for key in entries:
        for copy, original in COPIES.items():
            if key.startswith(copy):
                out[key] = out[original + key[len(copy):]]
    return out


def write_ckpt(path: Path, state: dict[str, torch.Tensor], hyper_parameters: dict, extra: dict | None = None) -> Path:
    """A Lightning checkpoint as ``trainer.save_checkpoint`` writes it, with omegaconf hyper-parameters."""
    with fake_omegaconf() as classes:
        torch.save({"epoch": 4, "global_step": 100, "pytorch-lightning_version": "2.2.1", "state_dict": collections.OrderedDict(state),
                    "loops": {}, "callbacks": {}, "optimizer_states": [], "lr_schedulers": [], "hparams_name": "args",
                    "hyper_parameters": as_omegaconf(hyper_parameters, classes), **(extra or {})}, path)  # fmt: skip
    return path


def write_parts(manifest: dict, root: Path) -> dict[str, Path]:
    """The configs of the parts a manifest's checkpoints were built on, as the folders a user would pass."""
    sd = root / "sd21"
    for sub, name in (("unet", "unet"), ("vae", "vae")):
        (sd / sub).mkdir(parents=True)
        (sd / sub / "config.json").write_text(json.dumps(manifest["parts"][name]))
    (sd / "scheduler").mkdir()
    (sd / "scheduler" / "scheduler_config.json").write_text(json.dumps(manifest["parts"]["scheduler"]))
    folders = {"sd": sd}
    for name in ("clip", "dino"):
        folders[name] = root / name
        folders[name].mkdir()
        (folders[name] / "config.json").write_text(json.dumps(manifest["parts"][name]))
    return folders
