"""What only the libraries know about a config, checked before any part is built.

:func:`fpdm_video.config.from_dict` checks every field's type and range. The free-form parts of a
config are passed on to libraries as they are: ``unet.kwargs`` to diffusers' UNet2DConditionModel,
``vae.kwargs`` to its AutoencoderKL, a tower's ``custom`` fields to open_clip's CLIPVisionCfg, a
``timm_name`` to timm. A keyword those do not take, an open_clip architecture or a timm model
name they do not know, would fail deep inside the library (a TypeError, a RuntimeError, or a
download that cannot happen offline). :func:`check_buildable` finds these first and names the key,
with the nearest known keyword for a typo. It reads the constructors' signatures and the
libraries' registries; it builds nothing and downloads nothing.
"""

from __future__ import annotations

import dataclasses
import difflib
import inspect
from collections.abc import Iterable

from fpdm_video.config import FPDMConfig, VisionTowerConfig
from fpdm_video.errors import InputError

# keywords build_unet sets itself (the fused embedding's projection): a config may hold them, they are overwritten
UNET_OWN_KEYWORDS = frozenset({"class_embed_type", "projection_class_embeddings_input_dim"})


def _unknown(where: str, given: Iterable[str], known: Iterable[str], owner: str) -> None:
    known = sorted(known)
    bad = [k for k in given if k not in known]
    if not bad:
        return
    near = difflib.get_close_matches(str(bad[0]), known, n=1)
    hint = f" (did you mean {near[0]!r}?)" if near else ""
    raise InputError(f"{where}: unknown keyword(s) {bad} for {owner}{hint}; see its documentation for the keywords it takes")


def _parameters(cls) -> set[str]:
    return {name for name in inspect.signature(cls.__init__).parameters if name != "self"}


def _check_tower(tower: VisionTowerConfig, where: str) -> None:
    import open_clip
    from open_clip.model import CLIPVisionCfg

    if tower.arch is not None:
        if open_clip.get_model_config(tower.arch) is None:
            raise InputError(f"{where}.arch: unknown open_clip architecture {tower.arch!r}; see open_clip.list_models()")
    elif tower.custom is None:
        raise InputError(f"{where}: a vision tower needs `arch` (an open_clip name) or `custom` (CLIPVisionCfg fields)")
    else:
        _unknown(f"{where}.custom", tower.custom, (f.name for f in dataclasses.fields(CLIPVisionCfg)), "open_clip's CLIPVisionCfg")
        if tower.embed_dim is None:
            raise InputError(f"{where}: a custom vision tower needs `embed_dim`")
        timm_name = tower.custom.get("timm_model_name")
        if tower.custom.get("timm_model_pretrained"):
            raise InputError(f"{where}.custom.timm_model_pretrained: timm would download its weights, which this project "
                             "never does; set it to false (weights come from the checkpoint or a file you give)")  # fmt: skip
        if timm_name is not None:
            _check_timm_name(timm_name, f"{where}.custom.timm_model_name")


def _check_timm_name(name: object, where: str) -> None:
    import timm

    if not isinstance(name, str) or not timm.is_model(name):
        raise InputError(f"{where}: {name!r} is not a model timm {timm.__version__} knows (see timm.list_models()); hub names "
                         "(hf-hub:...) are never downloaded")  # fmt: skip


def _check_sample_size(value: object) -> None:
    """``unet.kwargs.sample_size``, which this project reads too (the latent size the UNet was made for)."""
    sides = [value] if isinstance(value, int) else list(value) if isinstance(value, (list, tuple)) else None
    if value is not None and (sides is None or len(sides) not in (1, 2) or not all(
            isinstance(s, int) and not isinstance(s, bool) and s > 0 for s in sides)):  # fmt: skip
        raise InputError(f"unet.kwargs.sample_size must be a positive whole number of latent pixels or [height, width], "
                         f"got {value!r}")  # fmt: skip


def check_buildable(config: FPDMConfig) -> None:
    """Raise :class:`InputError` naming the key when a library would refuse a part of ``config`` (see the module docstring)."""
    from diffusers import AutoencoderKL, UNet2DConditionModel

    _unknown("unet.kwargs", config.unet.kwargs, _parameters(UNet2DConditionModel) | UNET_OWN_KEYWORDS, "diffusers' UNet2DConditionModel")
    _check_sample_size(config.unet.kwargs.get("sample_size"))
    _unknown("vae.kwargs", config.vae.kwargs, _parameters(AutoencoderKL), "diffusers' AutoencoderKL")
    if config.fusion_encoder.kind == "open_clip":
        _check_tower(config.fusion_encoder.tower, "fusion_encoder.tower")
    source = config.source_encoder
    if source.kind == "open_clip":
        _check_tower(source.tower, "source_encoder.tower")
    elif source.kind == "timm":
        _check_timm_name(source.timm_name, "source_encoder.timm_name")
