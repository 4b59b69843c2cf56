"""Image encoders: the stage 1 encoder E and the frozen source-token encoder.

Both take images as float (B, 3, H, W) in [0, 1]; each resizes to its tower's input size and applies
its own normalisation. Towers come from open_clip (a named architecture such as ViT-L-14, or a small
one built from scratch from CLIPVisionCfg fields), from timm (source tokens: DINOv2), or from Hugging
Face transformers as the official FPDM uses them (:mod:`fpdm_video.models.encoders_hf`). The config's
``kind`` chooses. Pretrained weights load only from a tag, folder or file that the user gives.
"""

from __future__ import annotations

import copy
import logging

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from fpdm_video.config import FusionEncoderConfig, SourceEncoderConfig, VisionTowerConfig
from fpdm_video.errors import CheckpointError, InputError

logger = logging.getLogger(__name__)


def _vision_cfg(config: VisionTowerConfig) -> tuple[int, dict]:
    """(embed_dim, CLIPVisionCfg fields) of a named architecture or a custom tower."""
    import open_clip

    if config.arch is not None:
        model_cfg = open_clip.get_model_config(config.arch)
        if model_cfg is None:
            raise InputError(f"unknown open_clip architecture {config.arch!r}; see open_clip.list_models()")
        vision = dict(model_cfg["vision_cfg"])
        embed_dim = model_cfg["embed_dim"]
    elif config.custom is not None:
        vision = dict(config.custom)
        embed_dim = config.embed_dim
    else:
        raise InputError("a vision tower needs `arch` (an open_clip name) or `custom` (CLIPVisionCfg fields)")
    if config.embed_dim is not None:
        embed_dim = config.embed_dim
    if embed_dim is None:
        raise InputError("a custom vision tower needs `embed_dim`")
    return embed_dim, vision


def build_vision_tower(config: VisionTowerConfig, *, load_pretrained: bool = True) -> tuple[nn.Module, int, int]:
    """(tower, image_size, embed_dim): an open_clip VisionTransformer that also returns its tokens."""
    import open_clip
    from open_clip.model import CLIPVisionCfg, _build_vision_tower

    embed_dim, vision = _vision_cfg(config)
    vision["output_tokens"] = True
    tower = _build_vision_tower(embed_dim, CLIPVisionCfg(**vision))
    image_size = vision.get("image_size", 224)
    image_size = image_size[0] if isinstance(image_size, (tuple, list)) else image_size
    if load_pretrained and config.pretrained:
        if config.arch is None:
            raise InputError("`pretrained` needs a named `arch` (open_clip loads weights per architecture)")
        try:  # a tag or a local file; open_clip loads with weights_only=True
            full = open_clip.create_model(config.arch, pretrained=config.pretrained)
        except Exception as exc:  # noqa: BLE001 - open_clip raises many kinds
            raise CheckpointError(f"cannot load open_clip weights {config.pretrained!r} for {config.arch}: {exc}") from None
        try:
            tower.load_state_dict(full.visual.state_dict())
        except RuntimeError as exc:
            raise CheckpointError(f"open_clip weights {config.pretrained!r} do not fit {config.arch}: {exc}") from None
        del full
    return tower, image_size, embed_dim


class _Normalize(nn.Module):
    """Resize to ``size`` and normalise with ``mean`` / ``std`` ([0, 1] inputs)."""

    def __init__(self, size: int, mean, std) -> None:
        super().__init__()
        self.size = size
        self.register_buffer("mean", torch.tensor(mean).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(std).view(1, 3, 1, 1), persistent=False)

    def forward(self, images: Tensor) -> Tensor:  # (B, 3, H, W) [0, 1]
        if images.shape[-1] != self.size or images.shape[-2] != self.size:
            images = F.interpolate(images, size=(self.size, self.size), mode="bicubic", align_corners=False)
        return (images - self.mean.to(images.dtype)) / self.std.to(images.dtype)


class ImageEncoder(nn.Module):
    """An open_clip vision tower: images -> (projected embedding (B, D), patch tokens (B, N, C))."""

    def __init__(self, config: VisionTowerConfig, *, load_pretrained: bool = True) -> None:
        super().__init__()
        self.tower, self.image_size, self.embed_dim = build_vision_tower(config, load_pretrained=load_pretrained)
        self.prep = _Normalize(self.image_size, config.mean, config.std)

    @property
    def token_dim(self) -> int:
        return int(self.tower.transformer.width)

    def forward(self, images: Tensor) -> tuple[Tensor, Tensor]:
        embedding, tokens = self.tower(self.prep(images))  # (B, D), (B, N, C)
        return embedding, tokens

    def embed(self, images: Tensor) -> Tensor:
        """Projected embedding only, (B, D)."""
        return self.forward(images)[0]


class TimmTokenEncoder(nn.Module):
    """A timm ViT (e.g. DINOv2) giving patch tokens (B, N, C); weights only from a local file."""

    def __init__(self, config: SourceEncoderConfig, *, load_pretrained: bool = True) -> None:
        super().__init__()
        import timm

        if not config.timm_name:
            raise InputError("source encoder kind 'timm' needs `timm_name`")
        kwargs = {}
        if load_pretrained and config.timm_weights:
            kwargs = {"pretrained": True, "pretrained_cfg_overlay": {"file": config.timm_weights}}
        self.model = timm.create_model(config.timm_name, num_classes=0, img_size=config.image_size, **kwargs)
        data = timm.data.resolve_data_config({}, model=self.model)
        self.prep = _Normalize(config.image_size, data["mean"], data["std"])
        self.token_dim = int(self.model.num_features)

    def forward(self, images: Tensor) -> Tensor:
        tokens = self.model.forward_features(self.prep(images))  # (B, prefix + N, C)
        return tokens[:, getattr(self.model, "num_prefix_tokens", 0) :]


def _hf_encoder(config, load_pretrained: bool, what: str) -> nn.Module:
    from fpdm_video.models.encoders_hf import HFVisionEncoder

    if config is None:
        raise InputError(f"{what} kind 'hf' needs an `hf` section (pretrained folder or hub name, architecture)")
    return HFVisionEncoder(config, load_pretrained=load_pretrained)


def build_fusion_encoder(config: FusionEncoderConfig, *, load_pretrained: bool = True) -> nn.Module:
    """Encoder E of stage 1: an open_clip tower or a transformers CLIP, both with ``embed`` and ``embed_dim``."""
    if config.kind == "open_clip":
        return ImageEncoder(config.tower, load_pretrained=load_pretrained)
    if config.kind == "hf":
        return _hf_encoder(config.hf, load_pretrained, "fusion encoder")
    raise InputError(f"unknown fusion encoder kind {config.kind!r}; use 'open_clip' or 'hf'")


class SourceTokenEncoder(nn.Module):
    """The frozen source encoder: images [0, 1] -> patch tokens (B, N, C_src)."""

    def __init__(self, config: SourceEncoderConfig, *, load_pretrained: bool = True) -> None:
        super().__init__()
        if config.kind == "open_clip":
            self.encoder: nn.Module = ImageEncoder(copy.deepcopy(config.tower), load_pretrained=load_pretrained)
        elif config.kind == "timm":
            self.encoder = TimmTokenEncoder(config, load_pretrained=load_pretrained)
        elif config.kind == "hf":
            self.encoder = _hf_encoder(config.hf, load_pretrained, "source encoder")
        else:
            raise InputError(f"unknown source encoder kind {config.kind!r}; use 'open_clip', 'timm' or 'hf'")
        self.token_dim = self.encoder.token_dim
        self.requires_grad_(False)

    def forward(self, images: Tensor) -> Tensor:
        if isinstance(self.encoder, TimmTokenEncoder):
            return self.encoder(images)
        return self.encoder(images)[1]  # open_clip: patch tokens; transformers: last_hidden_state
