"""Image encoders through Hugging Face transformers, as the official FPDM uses them.

- Stage 1 encoder E: ``CLIPVisionModelWithProjection`` (openai/clip-vit-large-patch14 in the
  paper); its ``image_embeds`` (not normalised) are e_img and e_pose.
- Source tokens: ``Dinov2Model`` (facebook/dinov2-large) or ``CLIPVisionModel``; their
  ``last_hidden_state``, the CLS token kept, is the cross-attention context.

Preprocessing is the official code's: an image (B, 3, H, W) in [0, 1] is resized with an
antialiased bicubic filter (the kernel PIL's BICUBIC uses) to ``image_size`` x ``image_size``, with no
centre crop, and normalised with the image processor's mean and std. The official code works on
8-bit PIL images, so its inputs differ from these by the rounding of one 8-bit step at most. DINOv2
interpolates its position embeddings to any input size (512 in the official DeepFashion config:
36 x 36 patches + CLS = 1297 tokens); CLIP does when the size is not its own.

Weights come only from the folder or hub name the user gives (``pretrained``); a checkpoint of this
project carries the model's transformers config (``config``), so it is built without them.
"""

from __future__ import annotations

import copy
import logging
import math
import types
from dataclasses import replace

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from fpdm_video.config import CLIP_MEAN, CLIP_STD, HFVisionConfig
from fpdm_video.errors import CheckpointError, InputError

logger = logging.getLogger(__name__)

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
# architecture -> (model class, config class, default mean, default std), by transformers names
ARCHITECTURES = {
    "clip_with_projection": ("CLIPVisionModelWithProjection", "CLIPVisionConfig", CLIP_MEAN, CLIP_STD),
    "clip": ("CLIPVisionModel", "CLIPVisionConfig", CLIP_MEAN, CLIP_STD),
    "dinov2": ("Dinov2Model", "Dinov2Config", IMAGENET_MEAN, IMAGENET_STD),
    "auto": ("AutoModel", "AutoConfig", IMAGENET_MEAN, IMAGENET_STD),
}
VOLATILE_KEYS = ("transformers_version", "_name_or_path", "dtype", "torch_dtype")  # not part of the architecture


def _classes(architecture: str):
    import transformers

    if architecture not in ARCHITECTURES:
        raise InputError(f"unknown transformers architecture {architecture!r}; use one of {', '.join(ARCHITECTURES)}")
    model_name, config_name, _, _ = ARCHITECTURES[architecture]
    return getattr(transformers, model_name), getattr(transformers, config_name)


def _processor_stats(name: str) -> tuple[tuple, tuple] | None:
    """(mean, std) of the image processor stored with ``name``, or None when it has none."""
    from transformers import AutoImageProcessor

    try:
        processor = AutoImageProcessor.from_pretrained(name)
    except (OSError, ValueError):
        return None
    mean, std = getattr(processor, "image_mean", None), getattr(processor, "image_std", None)
    return (tuple(mean), tuple(std)) if mean is not None and std is not None else None


def resolve_hf(config: HFVisionConfig) -> HFVisionConfig:
    """``config`` with its transformers config, mean and std read from ``pretrained`` where they are missing.

    What :func:`build_hf_model` needs to rebuild the model without its weights, so a checkpoint of
    this project is complete.
    """
    _, config_cls = _classes(config.architecture)
    out = copy.deepcopy(config)
    if out.config is None:
        if not out.pretrained:
            raise InputError("a transformers encoder needs `pretrained` (a folder or hub name) or `config`")
        try:
            hf_config = config_cls.from_pretrained(out.pretrained)
        except (OSError, ValueError) as exc:
            raise CheckpointError(f"cannot read the transformers config of {out.pretrained}: {exc}") from None
        out = replace(out, config=plain_config(hf_config))
    if out.mean is None or out.std is None:
        out = with_stats(out, _processor_stats(out.pretrained) if out.pretrained else None)
    return out


def with_stats(config: HFVisionConfig, stats: tuple[tuple, tuple] | None = None) -> HFVisionConfig:
    """``config`` with the mean and std it lacks: ``stats`` (an image processor's) when given, else the architecture's."""
    _, _, mean, std = ARCHITECTURES[config.architecture]
    mean, std = stats or (mean, std)
    return replace(config, mean=config.mean or tuple(float(v) for v in mean), std=config.std or tuple(float(v) for v in std))


def plain_config(hf_config) -> dict:
    """A transformers config as plain data, without the keys that name a version or a path."""
    data = hf_config.to_dict()
    for key in VOLATILE_KEYS:
        data.pop(key, None)
    return data


def build_hf_model(config: HFVisionConfig, *, load_pretrained: bool = True) -> nn.Module:
    """The transformers model: its weights from ``pretrained`` when asked, else built from ``config``."""
    model_cls, config_cls = _classes(config.architecture)
    if load_pretrained and config.pretrained:
        try:
            return model_cls.from_pretrained(config.pretrained, dtype=torch.float32)
        except (OSError, ValueError) as exc:
            raise CheckpointError(f"cannot load {model_cls.__name__} from {config.pretrained}: {exc}") from None
    if config.config is None:
        raise CheckpointError("the transformers encoder has no `config` to be built from; give `pretrained` or a config")
    data = dict(config.config)
    try:  # the config comes from a file: transformers and huggingface_hub refuse its values in many ways
        if config.architecture == "auto":
            from transformers import AutoConfig

            if "model_type" not in data:
                raise CheckpointError("an 'auto' transformers config needs its `model_type`")
            return model_cls.from_config(AutoConfig.for_model(data.pop("model_type"), **data))
        hf_config = config_cls.from_dict(data)
    except CheckpointError:
        raise
    except Exception as exc:  # noqa: BLE001 - e.g. StrictDataclassFieldValidationError, a plain Exception
        raise CheckpointError(f"the transformers config of the {config.architecture} encoder is invalid: "
                              f"{type(exc).__name__}: {exc}") from None  # fmt: skip
    return model_cls(hf_config)


def offset_position_interpolation(embeddings: nn.Module, tokens: Tensor, height: int, width: int) -> Tensor:
    """DINOv2's position embeddings for a ``height`` x ``width`` input, as transformers 4.40 (and DINO) computed them.

    The N x N grid of learnt patch positions is resized bicubically by the scale factor
    ``(n + 0.1) / N``, n being the input's patches per side; the 0.1 keeps the output size from
    rounding down (DINO's issue 8). Newer transformers resize to the size n directly, which samples
    the grid at slightly other places: 0.013 max difference at 512 px (DINOv2-L's N = 37). The
    official FPDM ran with the older way.
    """
    positions = embeddings.position_embeddings  # (1, 1 + N*N, C)
    if tokens.shape[1] - 1 == positions.shape[1] - 1 and height == width:
        return positions
    cls_position, grid = positions[:, :1], positions[:, 1:]
    side = int(round(math.sqrt(grid.shape[1])))
    patch = embeddings.config.patch_size
    rows, cols = height // patch, width // patch
    grid = grid.reshape(1, side, side, -1).permute(0, 3, 1, 2)  # (1, C, N, N)
    resized = F.interpolate(grid.float(), scale_factor=((rows + 0.1) / side, (cols + 0.1) / side), mode="bicubic",
                            align_corners=False).to(positions.dtype)  # fmt: skip
    if resized.shape[-2:] != (rows, cols):
        raise ValueError(f"position grid came out {tuple(resized.shape[-2:])}, expected {(rows, cols)}")
    return torch.cat([cls_position, resized.permute(0, 2, 3, 1).reshape(1, rows * cols, -1)], dim=1)


class HFVisionEncoder(nn.Module):
    """A transformers vision model behind this project's encoder interface.

    ``forward`` gives (embedding (B, D), tokens (B, 1 + N, C)); ``embed`` the embedding only:
    ``image_embeds`` for CLIP with projection, else ``pooler_output``.
    """

    def __init__(self, config: HFVisionConfig, *, load_pretrained: bool = True) -> None:
        super().__init__()
        resolved = resolve_hf(config) if load_pretrained else with_stats(config)
        self.config = resolved  # what a checkpoint needs to rebuild this encoder
        self.model = build_hf_model(resolved, load_pretrained=load_pretrained)
        if resolved.position_interpolation not in ("transformers", "offset"):
            raise InputError(f"position_interpolation must be 'transformers' or 'offset', got {resolved.position_interpolation!r}")
        if resolved.position_interpolation == "offset":
            if resolved.architecture != "dinov2":
                raise InputError("position_interpolation 'offset' is DINOv2's; use 'transformers' for other encoders")
            embeddings = self.model.embeddings
            embeddings.interpolate_pos_encoding = types.MethodType(offset_position_interpolation, embeddings)
        hf = self.model.config
        own_size = int(getattr(hf, "image_size", 224))
        self.image_size = int(resolved.image_size or own_size)
        self.interpolate = self.image_size != own_size
        self.register_buffer("mean", torch.tensor(resolved.mean, dtype=torch.float32).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(resolved.std, dtype=torch.float32).view(1, 3, 1, 1), persistent=False)
        self.embed_dim = int(getattr(hf, "projection_dim", None) if resolved.architecture == "clip_with_projection"
                             else hf.hidden_size)  # fmt: skip
        self.token_dim = int(hf.hidden_size)

    def preprocess(self, images: Tensor) -> Tensor:
        """(B, 3, H, W) [0, 1] -> (B, 3, S, S) normalised, as the official image processors give."""
        if images.shape[-2:] != (self.image_size, self.image_size):
            # in float32: antialiased resizing has no bfloat16 kernel on CPU, and rounds less this way
            images = F.interpolate(images.float(), size=(self.image_size, self.image_size), mode="bicubic", align_corners=False,
                                   antialias=True).clamp(0, 1).to(images.dtype)  # fmt: skip
        return (images - self.mean.to(images.dtype)) / self.std.to(images.dtype)

    def forward(self, images: Tensor) -> tuple[Tensor, Tensor]:
        pixels = self.preprocess(images)
        kwargs = {"interpolate_pos_encoding": True} if self.interpolate and "clip" in self.config.architecture else {}
        out = self.model(pixel_values=pixels, **kwargs)
        embedding = out.image_embeds if hasattr(out, "image_embeds") else out.pooler_output  # (B, D)
        return embedding, out.last_hidden_state  # (B, 1 + N, C)

    def embed(self, images: Tensor) -> Tensor:
        return self.forward(images)[0]


def in_current_names(model: nn.Module, state: dict[str, Tensor]) -> dict[str, Tensor]:
    """``state`` (weights of ``model``'s architecture, saved by any transformers version) under this version's names.

    transformers renames some weights between versions (DINOv2's ``attention.attention.query`` became
    ``attention.q_proj`` in 5.x) and converts old names as it loads a folder; so the weights go through
    a temporary folder and ``from_pretrained``. Anything it could not place is a :class:`CheckpointError`.
    """
    import tempfile

    from safetensors.torch import save_file

    with tempfile.TemporaryDirectory(prefix="fpdm-hf-") as tmp:
        model.config.save_pretrained(tmp)
        save_file({k: v.detach().clone().contiguous() for k, v in state.items()}, f"{tmp}/model.safetensors", metadata={"format": "pt"})
        loaded, info = type(model).from_pretrained(tmp, dtype=torch.float32, output_loading_info=True)
    problems = {k: v for k, v in info.items() if v and k in ("missing_keys", "unexpected_keys", "mismatched_keys")}
    if problems:
        raise CheckpointError(f"the {type(model).__name__} weights do not fit its config: "
                              + "; ".join(f"{k}: {sorted(v)[:4]}" for k, v in problems.items()))  # fmt: skip
    return loaded.state_dict()
