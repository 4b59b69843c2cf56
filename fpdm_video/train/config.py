"""Training configuration: one YAML per model size, with a section per stage.

A file such as ``configs/train/demo.yaml`` holds the settings shared by every stage at its top level
(model size, dataset, run folder, seed) and one section per stage (``vae``, ``fusion``,
``diffusion``) with that stage's optimiser and loop settings. :func:`load_train_config` returns the
:class:`TrainConfig` of one stage; ``overrides`` ("key=value" strings, dotted keys) change single
values from the command line.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from fpdm_video.config import TinyDecoderConfig, from_dict, read_yaml
from fpdm_video.errors import InputError

STAGES = ("vae", "fusion", "diffusion", "distill", "tiny_decoder")


@dataclass
class DataConfig:
    """Where the training triples come from (a PHOENIX-layout dataset with pose sidecars)."""

    root: str = "data/synthetic-demo"  # dataset root, relative to the working directory or absolute
    split: str = "train"  # PHOENIX split to train on
    pairs: int = 100_000  # (source, target) pairs drawn once from `seed` (the paper: 100k)
    seed: int = 0  # seed of the pair draw
    cache: bool = False  # keep decoded frames and pose maps in memory (small datasets, CPU training)
    num_workers: int = 0  # DataLoader worker processes


@dataclass
class OptimConfig:
    """AdamW with linear warmup and an optional cosine decay."""

    lr: float = 1e-4  # peak learning rate
    weight_decay: float = 1e-2  # AdamW weight decay
    betas: tuple[float, float] = (0.9, 0.999)  # AdamW betas
    warmup_steps: int = 0  # optimiser steps of linear warmup from 0 to `lr`
    schedule: str = "constant"  # after warmup: "constant" or "cosine" (to 10% of `lr` at the last step)
    max_grad_norm: float | None = 1.0  # gradient clipping by global norm; None: off


@dataclass
class DiffusionStageConfig:
    """Stage 2 settings that only the diffusion stage reads."""

    condition_dropout: float = 0.2  # drop each condition (pose, source tokens, fused) with this probability
    noise_offset: float = 0.1  # offset noise: add noise_offset * N(0, 1) per (sample, channel)
    train_source_encoder: bool = False  # unfreeze the source-token encoder (sizes with no pretrained encoder)
    # fields of the model's noise schedule to set before training (the `init` checkpoint of stage 1
    # carries the size's defaults); saved with the trained model, e.g. {prediction_type: v_prediction}
    noise_schedule: dict[str, Any] = field(default_factory=dict)


@dataclass
class FusionStageConfig:
    """Stage 1 settings."""

    self_learning: bool = True  # add the source->source pairs to every batch
    encoder_lr: float | None = 1e-5  # learning rate of the encoder E (the paper: 1e-5); None: the stage lr


@dataclass
class VAEStageConfig:
    """Settings of the VAE stage (sizes that need their own autoencoder)."""

    kl_weight: float = 1e-6  # weight of the KL term against the L1 reconstruction loss
    crop: int | None = 64  # train on random square crops of this side (the VAE is convolutional); None: whole frames
    scale_batches: int = 8  # batches used to measure the latent std that sets the scaling factor


@dataclass
class DistillStageConfig:
    """Latent consistency distillation of the `init` checkpoint (the teacher) into a few-step student."""

    steps: int = 4  # the student's sampling steps (it must divide teacher_steps)
    guidance: float = 2.0  # the scale the student samples with by default
    guidance_range: tuple[float, float] = (1.0, 3.0)  # scales g drawn uniformly per sample (the teacher's guided ODE)
    teacher_steps: int = 40  # the teacher's DDIM grid: T / teacher_steps timesteps per ODE step (it must divide T)
    target_decay: float = 0.95  # EMA decay of the target network (LCM: 0.95)
    huber_c: float = 0.001  # pseudo-Huber constant of the loss (LCM: 0.001)
    lora_rank: int = 0  # 0: full fine-tuning of the denoiser; r > 0: LoRA adapters of rank r on the UNet (peft), saved alone
    lora_alpha: float | None = None  # the adapters' alpha (their scale is alpha / rank); None: the rank
    lora_targets: tuple[str, ...] = ()  # UNet layer names that get adapters; empty: diffusers' LCM-LoRA set (student_lora.LORA_TARGETS)
    student_init: str | None = None  # a full student of the same teacher to go on distilling: its denoiser starts the student and the target (a fresh optimiser)
    data_weight: float = 0.0  # weight of a ground-truth term: pseudo-Huber of f_θ(x_t, t) against the clean latents x_0; 0: plain LCM
    data_min_t: int = 0  # the ground-truth term only at grid points t >= this (0: at all of them)


@dataclass
class TinyDecoderStageConfig(TinyDecoderConfig):
    """A tiny decoder trained to reproduce the `init` checkpoint's VAE decoder: its layout (the fields of
    :class:`fpdm_video.config.TinyDecoderConfig`, saved with the checkpoint) and its loss weights."""

    l1_weight: float = 1.0
    mse_weight: float = 1.0
    # the adversarial term (train/patch_discriminator.py): its share of the reconstruction's pull at the last layer
    # (VQGAN's adaptive weight x this; 0: off), the steps the discriminator learns alone first, and its Adam's rate
    adversarial_weight: float = 0.0
    adversarial_warmup: int = 100
    discriminator_lr: float = 2.0e-4
    from_checkpoint: bool = False  # start from the checkpoint's own tiny decoder (of this layout) instead of a fresh one


@dataclass
class TrainConfig:
    """One stage of one training run."""

    stage: str  # "vae", "fusion", "diffusion", "distill" or "tiny_decoder"
    model: str = "tiny"  # model size (see fpdm_video.models.registry) used when `init` is None
    init: str | None = None  # checkpoint folder to start from (the previous stage's output)
    run_dir: str = "runs/tiny"  # run folder; the stage writes to <run_dir>/<stage>/
    seed: int = 0  # seed of initialisation, noise and dropout
    steps: int = 1000  # optimiser steps
    batch_size: int = 8  # micro-batch per process
    grad_accum: int = 1  # micro-batches per optimiser step
    precision: str = "auto"  # "auto" (bf16 on CUDA, fp32 on CPU), "fp32", "bf16" or "fp16" (autocast)
    device: str = "auto"  # "auto", "cpu" or "cuda"
    ema_decay: float | None = None  # EMA of the trained weights with this decay; None: off
    log_every: int = 10  # optimiser steps between CSV rows
    checkpoint_every: int = 500  # optimiser steps between resumable checkpoints
    eval_pairs: int = 64  # held-out pairs for the end-of-stage evaluation (0: none)
    eval_root: str | None = None  # held-out dataset root (None: skip the evaluation)
    eval_split: str = "train"  # split of the held-out dataset
    data: DataConfig = field(default_factory=DataConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    diffusion: DiffusionStageConfig = field(default_factory=DiffusionStageConfig)
    fusion: FusionStageConfig = field(default_factory=FusionStageConfig)
    vae: VAEStageConfig = field(default_factory=VAEStageConfig)
    distill: DistillStageConfig = field(default_factory=DistillStageConfig)
    tiny_decoder: TinyDecoderStageConfig = field(default_factory=TinyDecoderStageConfig)

    @property
    def stage_dir(self) -> Path:
        return Path(self.run_dir) / self.stage


def _set(tree: dict, dotted: str, value) -> None:
    keys = dotted.split(".")
    for key in keys[:-1]:
        tree = tree.setdefault(key, {})
        if not isinstance(tree, dict):
            raise InputError(f"override {dotted!r}: {key!r} is not a section")
    tree[keys[-1]] = value


def _parse_value(raw: str):
    """A YAML scalar, with numbers such as ``3e-4`` (a string to YAML 1.1) read as floats."""
    value = yaml.safe_load(raw)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    return value


def merge_stage(data: dict, stage: str) -> dict:
    """The plain config of one stage: top-level keys, then the stage's section over them."""
    if stage not in STAGES:
        raise InputError(f"unknown stage {stage!r}; choose one of {', '.join(STAGES)}")
    common = {k: v for k, v in data.items() if k not in STAGES}
    section = data.get(stage) or {}
    if not isinstance(section, dict):
        raise InputError(f"section {stage!r} must be a mapping")
    merged = dict(common)
    for key, value in section.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    merged["stage"] = stage
    return merged


def load_train_config(path: str | os.PathLike, stage: str, overrides: list[str] | tuple[str, ...] = ()) -> TrainConfig:
    """The TrainConfig of ``stage`` from a training YAML, with "key=value" overrides applied."""
    path = Path(path)
    data = read_yaml(path, "training config") or {}
    if not isinstance(data, dict):
        raise InputError(f"training config {path} must be a mapping")
    merged = merge_stage(data, stage)
    for item in overrides:
        if "=" not in item:
            raise InputError(f"override {item!r} must look like key=value")
        key, raw = item.split("=", 1)
        _set(merged, key.strip(), _parse_value(raw))
    config = from_dict(TrainConfig, merged)
    check_train_config(config)
    return config


def _is_number(value) -> bool:
    """An int or a float, not a bool (YAML's true and false are ints to isinstance)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_whole(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check_train_config(config: TrainConfig) -> None:
    """Raise :class:`InputError` for settings no loop can run with."""
    for name in ("steps", "batch_size", "grad_accum", "log_every", "checkpoint_every"):
        value = getattr(config, name)
        if not _is_whole(value) or value < 1:
            raise InputError(f"{name} must be a positive integer, got {value!r}")
    for name in ("lr", "weight_decay"):
        value = getattr(config.optim, name)
        if not _is_number(value):
            raise InputError(f"optim.{name} must be a number, got {value!r} (write floats as 1.0e-4 in YAML)")
    if config.precision not in ("auto", "fp32", "bf16", "fp16"):
        raise InputError(f"precision must be auto, fp32, bf16 or fp16, got {config.precision!r}")
    if config.device not in ("auto", "cpu", "cuda"):
        raise InputError(f"device must be auto, cpu or cuda, got {config.device!r}")
    if config.stage in ("distill", "tiny_decoder") and not config.init:
        raise InputError(f"the {config.stage} stage needs the teacher checkpoint: give --teacher CKPT (or `init` in the config)")
    if config.stage == "distill":
        d = config.distill
        lo, hi = d.guidance_range
        if not 1.0 <= lo <= hi <= 20.0:
            raise InputError(f"distill.guidance_range must be two scales 1 <= lo <= hi <= 20, got {list(d.guidance_range)}")
        if not lo <= d.guidance <= hi:
            raise InputError(f"distill.guidance {d.guidance} is outside distill.guidance_range {list(d.guidance_range)}")
        if d.teacher_steps < 2 or d.steps < 1 or d.teacher_steps % d.steps:
            raise InputError(f"distill.steps ({d.steps}) must divide distill.teacher_steps ({d.teacher_steps}), so that the "
                             "student's steps fall on the teacher's grid")  # fmt: skip
        if not 0.0 <= d.target_decay < 1.0:
            raise InputError(f"distill.target_decay must be in [0, 1), got {d.target_decay}")
        if not _is_number(d.data_weight) or not d.data_weight >= 0:
            raise InputError(f"distill.data_weight must be a number >= 0, got {d.data_weight!r}")
        if not _is_whole(d.data_min_t) or d.data_min_t < 0:
            raise InputError(f"distill.data_min_t must be a whole timestep >= 0, got {d.data_min_t!r}")
        if d.student_init and d.lora_rank:
            raise InputError("distill.student_init continues a fully fine-tuned student; it cannot be combined with distill.lora_rank")
        if d.lora_rank < 0 or (d.lora_alpha is not None and d.lora_alpha <= 0):
            raise InputError(f"distill.lora_rank must be 0 (full fine-tuning) or more and lora_alpha positive, got "
                             f"{d.lora_rank} and {d.lora_alpha}")  # fmt: skip
    if config.stage == "tiny_decoder":
        t = config.tiny_decoder
        weights = {"l1_weight": t.l1_weight, "mse_weight": t.mse_weight}
        if any(not _is_number(w) or w < 0 for w in weights.values()) or not sum(weights.values()):
            raise InputError(f"tiny_decoder loss weights must be numbers >= 0, not all 0, got {weights}")
        if not _is_number(t.adversarial_weight) or not t.adversarial_weight >= 0:  # NaN too
            raise InputError(f"tiny_decoder.adversarial_weight must be a number >= 0 (0: off), got {t.adversarial_weight!r}")
        if isinstance(t.adversarial_warmup, bool) or not isinstance(t.adversarial_warmup, int) or t.adversarial_warmup < 0:
            raise InputError(f"tiny_decoder.adversarial_warmup must be a whole number of steps >= 0, got {t.adversarial_warmup!r}")
        if not _is_number(t.discriminator_lr) or not t.discriminator_lr > 0:
            raise InputError(f"tiny_decoder.discriminator_lr must be a number > 0, got {t.discriminator_lr!r}")
    if config.optim.schedule not in ("constant", "cosine"):
        raise InputError(f"optim.schedule must be constant or cosine, got {config.optim.schedule!r}")
    if config.ema_decay is not None and not 0.0 < config.ema_decay < 1.0:
        raise InputError(f"ema_decay must be in (0, 1), got {config.ema_decay!r}")
    if not 0.0 <= config.diffusion.condition_dropout < 1.0:
        raise InputError("diffusion.condition_dropout must be in [0, 1)")
