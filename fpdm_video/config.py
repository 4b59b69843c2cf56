"""Typed configurations of the FPDM model. YAML files in ``configs/`` only store them.

One dataclass per component, a comment on each field (the nanoGPT / open_clip style). Nothing here
parses arguments or touches files at import time. :func:`to_dict` / :func:`from_dict` convert any of
them to plain data and back. ``from_dict`` checks every key and value against the dataclasses
(:mod:`fpdm_video.plain_data`) and against the rules below (:data:`FIELD_RULES`, :data:`CLASS_RULES`:
choices, ranges, fields that go together), so that a typo, a wrong type or a value no model can be
built with is an error that names the key before anything is built. What only the libraries know
(the keywords of a diffusers UNet or an open_clip tower) is checked by
:func:`fpdm_video.models.config_check.check_buildable`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml

from fpdm_video.errors import InputError
from fpdm_video.plain_data import ClassRule, FieldRule, from_plain, rule_problem
from fpdm_video.run_paths import special_kind

CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)


@dataclass
class VisionTowerConfig:
    """An open_clip vision tower: a named architecture, or one built from scratch."""

    arch: str | None = None  # open_clip model name whose vision tower to use, e.g. "ViT-L-14"
    custom: dict[str, Any] | None = None  # open_clip CLIPVisionCfg fields for a tower built from scratch
    embed_dim: int | None = None  # projected embedding size D; None: the architecture's own
    pretrained: str | None = None  # open_clip pretrained tag or local weights file; None: random init
    mean: tuple[float, float, float] = CLIP_MEAN  # input normalisation (applied inside the encoder)
    std: tuple[float, float, float] = CLIP_STD


@dataclass
class HFVisionConfig:
    """A Hugging Face transformers vision model (the official FPDM's encoders): pretrained, or built from its config.

    Preprocessing follows the official code: the image is resized (bicubic, antialiased, no centre
    crop) to ``image_size`` x ``image_size`` and normalised with the image processor's mean and std.
    """

    pretrained: str | None = None  # local folder or hub name for from_pretrained (e.g. openai/clip-vit-large-patch14)
    architecture: str = "clip_with_projection"  # "clip_with_projection", "clip", "dinov2" or "auto" (see encoders_hf)
    config: dict[str, Any] | None = None  # the transformers config as a dict: builds the model without weights
    image_size: int | None = None  # input side; None: the model config's image_size (DINOv2 interpolates its positions)
    mean: tuple[float, float, float] | None = None  # None: the image processor's, else the architecture's default
    std: tuple[float, float, float] | None = None
    # DINOv2 position embeddings at another input size: "transformers" (this version's own, bicubic to the grid) or
    # "offset" (bicubic by the scale factor (n + 0.1) / N, as transformers 4.40, the official FPDM's, and DINO computed it)
    position_interpolation: str = "transformers"


@dataclass
class FusionEncoderConfig:
    """Stage 1 encoder E, shared by the source image and the target pose map."""

    kind: str = "open_clip"  # "open_clip" (an open_clip tower) or "hf" (transformers CLIPVisionModelWithProjection, as the paper)
    tower: VisionTowerConfig = field(default_factory=VisionTowerConfig)  # for kind "open_clip"
    hf: HFVisionConfig | None = None  # for kind "hf": its image_embeds are e_img and e_pose


@dataclass
class SourceEncoderConfig:
    """Frozen encoder of the source image's patch tokens (the cross-attention context)."""

    kind: str = "open_clip"  # "open_clip" (ViT tokens), "timm" (e.g. DINOv2) or "hf" (transformers DINOv2 / CLIP, as the paper)
    tower: VisionTowerConfig = field(default_factory=VisionTowerConfig)  # for kind "open_clip"
    hf: HFVisionConfig | None = None  # for kind "hf": its last_hidden_state (CLS token kept, as the official code)
    timm_name: str | None = None  # timm model name for kind "timm", e.g. "vit_large_patch14_dinov2.lvd142m"
    timm_weights: str | None = None  # local weights file for the timm model (never downloaded)
    image_size: int = 224  # input side for kind "timm"


@dataclass
class CombinerConfig:
    """The CLIP4Cir-style Combiner that fuses e_img and e_pose."""

    projection_dim: int = 256  # width of the two input projections (a and b)
    hidden_dim: int = 512  # width of the output MLP and of the lambda MLP
    dropout: float = 0.5  # dropout after the input projections and inside the output MLP


@dataclass
class SourceProjectionConfig:
    """Source tokens -> cross_attention_dim: Linear -> GELU -> Dropout -> LayerNorm -> Linear -> Dropout."""

    hidden_dim: int = 1024  # width of the first Linear
    dropout: float = 0.1  # both dropouts


@dataclass
class PoseEmbeddingConfig:
    """ControlNetConditioningEmbedding of the pose map, added to conv_in's output."""

    block_out_channels: tuple[int, ...] = (16, 32, 96, 256)  # len - 1 stride-2 convs: must match the VAE factor


@dataclass
class VAEConfig:
    """The latent autoencoder: built from a diffusers config, or loaded from a folder / hub name."""

    kwargs: dict[str, Any] = field(default_factory=dict)  # diffusers AutoencoderKL constructor arguments
    pretrained: str | None = None  # local diffusers folder or hub name (weights loaded at build)
    subfolder: str | None = "vae"  # subfolder inside `pretrained`
    scaling_factor: float = 0.18215  # latent scale (SD 2.x: 0.18215)


@dataclass
class UNetConfig:
    """The denoising UNet: diffusers UNet2DConditionModel arguments, or weights from SD 2.x."""

    kwargs: dict[str, Any] = field(default_factory=dict)  # UNet2DConditionModel constructor arguments
    pretrained: str | None = None  # local diffusers folder or hub name of an SD 2.x UNet to start from
    subfolder: str | None = "unet"  # subfolder inside `pretrained`
    class_embedding: str = "projection"  # fused embedding -> time embedding: "projection" (diffusers) or "mlp" (the official FPDM's)
    class_hidden_dim: int = 768  # hidden width of the "mlp" class embedding (the official: 768)


@dataclass
class NoiseScheduleConfig:
    """The training noise schedule (Stable Diffusion 2.x values by default)."""

    num_train_timesteps: int = 1000  # length T of the diffusion chain
    beta_schedule: str = "scaled_linear"  # "linear" or "scaled_linear"
    beta_start: float = 0.00085  # beta at t = 0
    beta_end: float = 0.012  # beta at t = T - 1
    prediction_type: str = "epsilon"  # "epsilon" or "v_prediction"
    zero_terminal_snr: bool = False  # rescale the betas so that ᾱ_{T-1} = 0 (Lin et al. 2023); needs v_prediction
    timestep_spacing: str = "leading"  # how samplers space inference steps: "leading" (SD 2.x, FPDM) or "trailing"


@dataclass
class SamplingConfig:
    """How the model samples unless told otherwise (the transfer's --steps and --guidance default to these)."""

    steps: int = 20  # denoising steps (the paper: 20)
    guidance: float = 2.0  # classifier-free guidance scale (the paper: 2)


@dataclass
class TinyDecoderConfig:
    """A small convolutional decoder trained to reproduce the VAE decoder from its latents (in the manner of TAESD)."""

    channels: int = 64  # width of every level, when `widths` is empty
    blocks: int = 3  # residual blocks of every level below the image's (which has one), when `level_blocks` is empty
    widths: tuple[int, ...] = ()  # width of each level, from the latents' resolution to the image's (log2(factor) + 1 entries)
    level_blocks: tuple[int, ...] = ()  # residual blocks of each level, in the same order (0 allowed); empty: from `blocks`
    clamp: float = 3.0  # soft clamp of the unscaled latents, k tanh(x / k) (TAESD's 3 is for latents of unit scale)
    # each 2x step: "nearest" (nearest-neighbour, then a 3x3 conv at the finer level: TAESD's) or "subpixel" (a 3x3 conv
    # at the coarser level to 4x the channels, then PixelShuffle(2): every "nearest" step is one of these, at the same cost)
    upsample: str = "nearest"


@dataclass
class StudentConfig:
    """What makes a checkpoint a few-step student: latent consistency distillation of a teacher checkpoint."""

    teacher: dict = field(default_factory=dict)  # {"path", "name", "sha256"} of the teacher checkpoint it was distilled from
    steps: int = 4  # sampling steps it samples with by default
    guidance: float = 2.0  # the guidance scale it is told by default (its embedding)
    eta: float = 1.0  # the share of fresh noise at each re-noising it samples with by default (1: LCM's sampler)
    guidance_range: tuple[float, float] = (1.0, 3.0)  # the scales it was trained on
    teacher_steps: int = 50  # the teacher's skipping-step grid: T / teacher_steps timesteps per teacher ODE step
    solver: str = "ddim"  # the teacher's deterministic ODE step: "ddim"
    lora: dict | None = None  # the LoRA variant: {"rank", "alpha", "targets"}; the folder holds only the adapter


POSE_STYLES = ("holistic", "openpose18", "wholebody133")


@dataclass
class PoseMapConfig:
    """How the model's pose maps are drawn: the skeleton style its training data had."""

    style: str = "holistic"  # "holistic" (this project's), "openpose18" (official DeepFashion) or "wholebody133" (official PHOENIX)
    draw_size: tuple[int, int] | None = None  # (W, H) the official styles are drawn at, then resized to the canvas; None: the canvas
    stick_width: int = 4  # the official styles' limb half-width in pixels at draw_size (the official DeepFashion: 4)


@dataclass
class FPDMConfig:
    """A whole FPDM model: stage 1 fusion, stage 2 conditioned latent diffusion."""

    name: str  # size name, e.g. "tiny", "demo", "sd21-256"
    resolution: int | tuple[int, int]  # the canvas the model works at: a square side R, or (width, height) in pixels
    fusion_encoder: FusionEncoderConfig = field(default_factory=FusionEncoderConfig)
    combiner: CombinerConfig = field(default_factory=CombinerConfig)
    source_encoder: SourceEncoderConfig = field(default_factory=SourceEncoderConfig)
    source_projection: SourceProjectionConfig = field(default_factory=SourceProjectionConfig)
    pose_embedding: PoseEmbeddingConfig = field(default_factory=PoseEmbeddingConfig)
    vae: VAEConfig = field(default_factory=VAEConfig)
    unet: UNetConfig = field(default_factory=UNetConfig)
    noise_schedule: NoiseScheduleConfig = field(default_factory=NoiseScheduleConfig)
    sampling: SamplingConfig = field(default_factory=SamplingConfig)
    pose_map: PoseMapConfig = field(default_factory=PoseMapConfig)
    tiny_decoder: TinyDecoderConfig | None = None  # a fast decoder beside the VAE (``python -m fpdm_video.train tiny-decoder``)
    student: StudentConfig | None = None  # set on a few-step student (``python -m fpdm_video.train distill``)


# ---- what each field may hold, beyond its type ---------------------------------------------------
HF_ARCHITECTURES = ("clip_with_projection", "clip", "dinov2", "auto")  # fpdm_video.models.encoders_hf builds these
BETA_SCHEDULES = ("linear", "scaled_linear")
HUB_PREFIXES = ("hf-hub:", "hf_hub:")  # timm names of models on the Hugging Face hub, which this project never downloads
MAX_SIDE = 16384  # pixels: the largest canvas or encoder input side a config may ask for
MAX_WIDTH = 16384  # channels or features of one layer (SD 2.x: 1280; a 16384-wide Linear pair is already 2 GB)
MAX_TIMESTEPS = 100_000  # length of a diffusion chain (SD: 1000)


def _choice(*options: str) -> FieldRule:
    return (lambda v: v in options, "one of " + ", ".join(options))


def _whole(low: int, high: int, what: str) -> FieldRule:
    return (lambda v: low <= v <= high, f"{what} from {low} to {high}")


def _optional(rule: FieldRule) -> FieldRule:
    test, what = rule
    return (lambda v: v is None or test(v), f"{what}, or null")


def _sides(v) -> list:
    return [v] if isinstance(v, int) else list(v)


_CANVAS: FieldRule = (lambda v: len(_sides(v)) in (1, 2) and all(isinstance(s, int) and not isinstance(s, bool) and 1 <= s <= MAX_SIDE
                                                                  for s in _sides(v)),
                      f"a positive number of pixels or [width, height] (at most {MAX_SIDE} each)")  # fmt: skip
_INPUT_SIDE = _whole(1, MAX_SIDE, "a side in pixels")
_LAYER_WIDTH = _whole(1, MAX_WIDTH, "a whole number")
_DROPOUT: FieldRule = (lambda v: 0 <= v < 1, "a probability from 0 to below 1")
_STATS: FieldRule = (lambda v: all(x > 0 for x in v), "3 positive numbers")
_BETA: FieldRule = (lambda v: 0 < v < 1, "a number between 0 and 1")

FIELD_RULES: dict[tuple[type, str], FieldRule] = {
    (FPDMConfig, "name"): (lambda v: v.strip() != "", "a non-empty name"),
    (FPDMConfig, "resolution"): _CANVAS,
    (VisionTowerConfig, "embed_dim"): _optional(_LAYER_WIDTH),
    (VisionTowerConfig, "std"): _STATS,
    (HFVisionConfig, "architecture"): _choice(*HF_ARCHITECTURES),
    (HFVisionConfig, "image_size"): _optional(_INPUT_SIDE),
    (HFVisionConfig, "std"): _optional(_STATS),
    (HFVisionConfig, "position_interpolation"): _choice("transformers", "offset"),
    (FusionEncoderConfig, "kind"): _choice("open_clip", "hf"),
    (SourceEncoderConfig, "kind"): _choice("open_clip", "timm", "hf"),
    (SourceEncoderConfig, "timm_name"): (lambda v: v is None or (v.strip() != "" and not v.startswith(HUB_PREFIXES)),
                                         "a timm architecture name such as vit_small_patch14_dinov2, or null (a name on the "
                                         "Hugging Face hub, hf-hub:..., is never downloaded: give the architecture's name "
                                         "and a local timm_weights file)"),  # fmt: skip
    (SourceEncoderConfig, "image_size"): _INPUT_SIDE,
    (CombinerConfig, "projection_dim"): _LAYER_WIDTH,
    (CombinerConfig, "hidden_dim"): _LAYER_WIDTH,
    (CombinerConfig, "dropout"): _DROPOUT,
    (SourceProjectionConfig, "hidden_dim"): _LAYER_WIDTH,
    (SourceProjectionConfig, "dropout"): _DROPOUT,
    (PoseEmbeddingConfig, "block_out_channels"): (lambda v: len(v) >= 1 and all(1 <= c <= MAX_WIDTH for c in v),
                                                  "a non-empty list of channel counts"),  # fmt: skip
    (TinyDecoderConfig, "widths"): (lambda v: all(isinstance(c, int) and 1 <= c <= MAX_WIDTH for c in v), "a list of channel counts"),
    (TinyDecoderConfig, "level_blocks"): (lambda v: all(isinstance(b, int) and 0 <= b <= 16 for b in v),
                                          "a list of block counts from 0 to 16"),  # fmt: skip
    (TinyDecoderConfig, "clamp"): (lambda v: v > 0, "a positive number"),
    (TinyDecoderConfig, "upsample"): _choice("nearest", "subpixel"),
    (VAEConfig, "scaling_factor"): (lambda v: v > 0, "a positive number"),
    (UNetConfig, "class_embedding"): _choice("projection", "mlp"),
    (UNetConfig, "class_hidden_dim"): _LAYER_WIDTH,
    (NoiseScheduleConfig, "num_train_timesteps"): _whole(1, MAX_TIMESTEPS, "a whole number of timesteps"),
    (NoiseScheduleConfig, "beta_schedule"): _choice(*BETA_SCHEDULES),
    (NoiseScheduleConfig, "beta_start"): _BETA,
    (NoiseScheduleConfig, "beta_end"): _BETA,
    (NoiseScheduleConfig, "prediction_type"): _choice("epsilon", "v_prediction"),
    (NoiseScheduleConfig, "timestep_spacing"): _choice("leading", "trailing"),
    (SamplingConfig, "steps"): _whole(1, MAX_TIMESTEPS, "a whole number of steps"),
    (PoseMapConfig, "style"): _choice(*POSE_STYLES),
    (PoseMapConfig, "draw_size"): (lambda v: v is None or (len(v) == 2 and all(isinstance(x, int) and not isinstance(x, bool)
                                                                                and 8 <= x <= MAX_SIDE for x in v)),
                                   "[width, height] of at least 8 pixels each, or null"),  # fmt: skip
    (PoseMapConfig, "stick_width"): (lambda v: isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= 64,
                                     "a whole number of pixels from 1 to 64"),  # fmt: skip
}
CLASS_RULES: dict[type, list[ClassRule]] = {
    NoiseScheduleConfig: [(lambda c: c.beta_start < c.beta_end, "beta_start must be smaller than beta_end"),
                          (lambda c: not c.zero_terminal_snr or c.prediction_type == "v_prediction",
                           "zero_terminal_snr needs prediction_type v_prediction (an epsilon-predictor cannot denoise pure noise)")],
    FusionEncoderConfig: [(lambda c: c.kind != "hf" or c.hf is not None, "kind 'hf' needs an `hf` section")],
    SourceEncoderConfig: [(lambda c: c.kind != "hf" or c.hf is not None, "kind 'hf' needs an `hf` section"),
                          (lambda c: c.kind != "timm" or c.timm_name is not None, "kind 'timm' needs `timm_name`")],
}  # fmt: skip


# ---- plain data <-> dataclasses --------------------------------------------------------------
T = TypeVar("T")


def canvas_of(config: FPDMConfig) -> tuple[int, int]:
    """(width, height) of a model's canvas (``resolution`` is a square side or a (width, height) pair)."""
    from fpdm_video.geometry import canvas_dims

    return canvas_dims(config.resolution)


def pose_map_of_style(style: str, draw_size: tuple[int, int] | None = None) -> PoseMapConfig:
    """A style's pose-map config: limbs of half-width 4 px for OpenPose-18 (the official), 2 px for WholeBody-133."""
    return PoseMapConfig(style=style, draw_size=draw_size, stick_width=2 if style == "wholebody133" else 4)


def pose_map_problem(pose_map: PoseMapConfig) -> str | None:
    """What is wrong with a pose-map config, in words, or None."""
    return rule_problem(pose_map, FIELD_RULES)


def to_dict(config: Any) -> dict[str, Any]:
    """A dataclass as nested plain data (tuples become lists), ready for YAML or JSON."""

    def plain(value: Any) -> Any:
        if dataclasses.is_dataclass(value):
            return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
        if isinstance(value, (list, tuple)):
            return [plain(v) for v in value]
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        return value

    return plain(config)


def from_dict(cls: type[T], data: dict[str, Any]) -> T:
    """Build dataclass ``cls`` from plain data, every key and value checked; a bad one raises :class:`InputError` naming it."""
    return from_plain(cls, data, rules=FIELD_RULES, class_rules=CLASS_RULES)


def save_yaml(config: Any, path: str | Path) -> Path:
    """Write a config as YAML."""
    path = Path(path)
    path.write_text(yaml.safe_dump(to_dict(config), sort_keys=False))
    return path


MAX_CONFIG_BYTES = 8 * 2**20  # a config is a few kilobytes; a bigger file is not one


def read_yaml(path: str | Path, what: str = "config file") -> Any:
    """The plain data of a YAML file; a missing, unreadable or malformed file is a one-line :class:`InputError`."""
    path = Path(path)
    kind = special_kind(path)
    if kind is not None:  # reading a named pipe would wait forever
        raise InputError(f"{what} {path} is {kind}, not a regular file; give a YAML file")
    try:
        size = path.stat().st_size
        if size > MAX_CONFIG_BYTES:
            raise InputError(f"{what} {path} is {size / 2**20:.0f} MiB; a config is a few kilobytes: is it the right file?")
        return yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise InputError(f"{what} {path} does not exist") from None
    except IsADirectoryError:
        raise InputError(f"{what} {path} is a folder; give a YAML file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{what} {path} cannot be read: {getattr(exc, 'strerror', None) or exc}") from None
    except RecursionError:
        raise InputError(f"{what} {path} is nested too deeply to be a config; a config is a few levels deep") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise InputError(f"{what} {path} is not valid YAML{where}: {problem}") from None


def load_yaml(cls: type[T], path: str | Path, what: str = "config file") -> T:
    """Read a config of type ``cls`` from YAML; a bad key or value is an :class:`InputError` that names the file and the key."""
    data = read_yaml(path, what)
    if data is not None and not isinstance(data, dict):
        raise InputError(f"{what} {path} must hold a mapping, got {type(data).__name__}")
    try:
        return from_dict(cls, data or {})
    except InputError as exc:
        raise InputError(f"{what} {path} is invalid: {exc}") from None
