"""A starting checkpoint from pretrained parts: SD 2.x UNet and VAE, a CLIP fusion encoder, a DINOv2 (or CLIP) source encoder.

What the official FPDM does when it starts training: the UNet and VAE come from a Stable Diffusion
folder (``unet/``, ``vae/``, ``scheduler/``), the stage-1 encoder from a transformers CLIP, the source
tokens from a transformers DINOv2. FPDM's own parts (Combiner, source projection, pose embedding,
class embedding) start from their fresh initialisation, as in the official code. The noise schedule
(prediction type, betas) and the VAE's scaling factor are read from the SD folder, so SD 2.1 at 768
(v-prediction) and 2.1-base (epsilon) are both taken as they are.
"""

from __future__ import annotations

import copy
import logging
import os
from dataclasses import replace
from pathlib import Path

from fpdm_video.config import (
    FPDMConfig,
    FusionEncoderConfig,
    HFVisionConfig,
    NoiseScheduleConfig,
    SourceEncoderConfig,
    pose_map_of_style,
)
from fpdm_video.errors import CheckpointError, InputError
from fpdm_video.models.hub_names import mirror_hint
from fpdm_video.models.registry import CONFIG_REGISTRY

logger = logging.getLogger(__name__)

SCHEDULE_FIELDS = ("num_train_timesteps", "beta_schedule", "beta_start", "beta_end", "prediction_type", "timestep_spacing")


def _sd_config(sd: str, subfolder: str) -> dict:
    """``<sd>/<subfolder>/*config.json`` of a diffusers folder or hub name (``vae`` or ``scheduler``), as a dict."""
    from diffusers import AutoencoderKL, DDPMScheduler

    reader = {"vae": AutoencoderKL, "scheduler": DDPMScheduler}[subfolder]
    try:
        return dict(reader.load_config(sd, subfolder=subfolder))
    except (OSError, ValueError, EnvironmentError) as exc:
        raise CheckpointError(f"cannot read {Path(sd) / subfolder} (a Stable Diffusion folder needs unet/, vae/ and "
                              f"scheduler/): {exc}{mirror_hint(sd)}") from None  # fmt: skip


def noise_schedule_of(sd: str, base: NoiseScheduleConfig) -> NoiseScheduleConfig:
    """The SD folder's scheduler as this project's noise schedule (fields it does not give stay as ``base``)."""
    scheduler = _sd_config(sd, "scheduler")
    fields = {k: scheduler[k] for k in SCHEDULE_FIELDS if k in scheduler}
    if fields.get("beta_schedule") not in (None, "linear", "scaled_linear"):
        raise CheckpointError(f"{sd}: beta_schedule {fields['beta_schedule']!r} is not supported; use linear or scaled_linear")
    if fields.get("timestep_spacing") not in (None, "leading", "trailing"):
        fields.pop("timestep_spacing")  # e.g. "linspace": keep the size's spacing (the official sampler uses leading)
    return replace(base, **fields)


def source_architecture(name: str) -> str:
    """"dinov2", "clip" or "auto", from the model_type in a transformers folder's config."""
    from transformers import AutoConfig

    try:
        model_type = AutoConfig.from_pretrained(name).model_type
    except (OSError, ValueError) as exc:
        raise CheckpointError(f"cannot read the transformers config of {name}: {exc}") from None
    return {"dinov2": "dinov2", "clip": "clip", "clip_vision_model": "clip"}.get(model_type, "auto")


def pretrained_config(size: str, sd: str, fusion_encoder: str, source_encoder: str, source_size: int | None = None,
                      pose_style: str = "holistic") -> FPDMConfig:  # fmt: skip
    """The config of ``size`` with every pretrained part named (not loaded yet), drawing pose maps in ``pose_style``."""
    if size not in CONFIG_REGISTRY:
        raise InputError(f"unknown model size {size!r}; choose one of {', '.join(CONFIG_REGISTRY)}")
    base = CONFIG_REGISTRY[size]()
    vae = _sd_config(sd, "vae")
    source_hf = base.source_encoder.hf if base.source_encoder.kind == "hf" else None
    size_of_source = source_size or (source_hf.image_size if source_hf is not None else None)
    arch = source_architecture(source_encoder)
    interpolation = "offset" if arch == "dinov2" else "transformers"  # DINOv2 positions as the official environment resized them
    return replace(
        base,
        fusion_encoder=FusionEncoderConfig(kind="hf", hf=HFVisionConfig(pretrained=fusion_encoder, architecture="clip_with_projection")),
        source_encoder=SourceEncoderConfig(kind="hf", hf=HFVisionConfig(pretrained=source_encoder, image_size=size_of_source,
                                                                        architecture=arch, position_interpolation=interpolation)),  # fmt: skip
        vae=replace(copy.deepcopy(base.vae), pretrained=sd, subfolder="vae",
                    scaling_factor=float(vae.get("scaling_factor", base.vae.scaling_factor))),  # fmt: skip
        unet=replace(copy.deepcopy(base.unet), pretrained=sd, subfolder="unet"),
        noise_schedule=noise_schedule_of(sd, base.noise_schedule),
        pose_map=pose_map_of_style(pose_style),
    )


def init_from_pretrained(size: str, sd: str | os.PathLike, fusion_encoder: str | os.PathLike, source_encoder: str | os.PathLike,
                         source_size: int | None = None, pose_style: str = "holistic"):  # fmt: skip
    """An FPDM of ``size`` holding the pretrained SD UNet and VAE, CLIP fusion encoder and source encoder."""
    from fpdm_video.models.fpdm import FPDM

    config = pretrained_config(size, str(sd), str(fusion_encoder), str(source_encoder), source_size, pose_style)
    model = FPDM(config, load_pretrained=True)
    logger.info("built %s from SD %s, fusion encoder %s, source encoder %s", size, sd, fusion_encoder, source_encoder)
    return model
