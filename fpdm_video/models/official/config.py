"""The config of a converted official checkpoint: its hyper-parameters that change behaviour, and the parts' own configs.

From the official ``hyper_parameters``: the model canvas (``model_img_size``), the class-embedding
type, conv_in's kernel, the source encoder's input size, its token width, the projection's dropout,
the default guidance and steps. From the Stable Diffusion folder (``--sd``) when given, else from
the published SD 2.1 configs its ``pretrained_model_name_or_path`` names: the UNet's architecture,
the VAE's, and the scheduler's (prediction type: the 768 model predicts v, 2.1-base epsilon). From the
encoder folders when given, else from the published configs the official paths name (CLIP
ViT-L/14, DINOv2-L): the transformers configs. The widths the official code fixes (Combiner 768 /
768, source projection hidden 768, class-embedding MLP hidden 768, ControlNet embedding 16/32/96/256)
are taken as it fixes them.
"""

from __future__ import annotations

import copy
from dataclasses import replace
from typing import Any

from fpdm_video.config import (
    CombinerConfig,
    FPDMConfig,
    FusionEncoderConfig,
    HFVisionConfig,
    NoiseScheduleConfig,
    PoseMapConfig,
    SamplingConfig,
    SourceEncoderConfig,
    SourceProjectionConfig,
    UNetConfig,
    VAEConfig,
    pose_map_of_style,
)
from fpdm_video.errors import CheckpointError
from fpdm_video.models.encoders_hf import with_stats
from fpdm_video.models.hub_names import mirror_hint, same_sd2
from fpdm_video.models.registry import CLIP_VIT_L14, DINOV2_L, sd21_config

OFFICIAL_DRAW_SIZE = (375, 550)  # (W, H) the official DeepFashion dataset draws its training pose maps at
PUBLISHED_ENCODERS = {"openai/clip-vit-large-patch14": ("clip_with_projection", CLIP_VIT_L14),
                      "facebook/dinov2-large": ("dinov2", DINOV2_L)}  # fmt: skip
# the scheduler_config.json of the SD 2.1 models, as DDPMScheduler reads it (their sd2-community mirrors: see hub_names)
SD21_SCHEDULES = {
    "stabilityai/stable-diffusion-2-1": NoiseScheduleConfig(prediction_type="v_prediction"),
    "stabilityai/stable-diffusion-2-1-base": NoiseScheduleConfig(prediction_type="epsilon"),
}
UNET_ARCHITECTURE_KEYS = ("in_channels", "out_channels", "layers_per_block", "block_out_channels", "down_block_types",
                          "up_block_types", "cross_attention_dim", "attention_head_dim", "use_linear_projection", "norm_num_groups",
                          "flip_sin_to_cos", "freq_shift", "upcast_attention", "mid_block_type", "act_fn", "norm_eps",
                          "transformer_layers_per_block", "only_cross_attention", "dual_cross_attention", "resnet_time_scale_shift")  # fmt: skip
VAE_ARCHITECTURE_KEYS = ("in_channels", "out_channels", "latent_channels", "layers_per_block", "norm_num_groups", "block_out_channels",
                         "down_block_types", "up_block_types", "act_fn")  # fmt: skip


def _need(hp: dict, key: str) -> Any:
    if key not in hp:
        raise CheckpointError(f"the official hyper-parameters have no {key!r}; is this an FPDM stage-2 checkpoint?")
    return hp[key]


def official_canvas(hp: dict) -> int | tuple[int, int]:
    """The official model canvas (``model_img_size``, W x H) as this project's resolution: a side, or (W, H)."""
    width, height = (int(v) for v in _need(hp, "model_img_size"))
    if width % 8 or height % 8:
        raise CheckpointError(f"the official model canvas {width}x{height} is not a multiple of 8 (the VAE factor)")
    return width if width == height else (width, height)


def encoder_config(path_in_hp: str, given: str | None, architecture: str | None, what: str, flag: str) -> HFVisionConfig:
    """The transformers config of an official encoder: from the folder given, else the published one its path names."""
    if given is not None:
        from fpdm_video.models.encoders_hf import resolve_hf

        arch = architecture or _architecture_of(given)
        return resolve_hf(HFVisionConfig(pretrained=given, architecture=arch))
    if path_in_hp in PUBLISHED_ENCODERS:
        arch, config = PUBLISHED_ENCODERS[path_in_hp]
        return with_stats(HFVisionConfig(architecture=arch, config=dict(config)))
    raise CheckpointError(f"the official {what} was {path_in_hp!r}, whose config this project does not know; give its folder "
                          f"with {flag}")  # fmt: skip


def _architecture_of(folder: str) -> str:
    from fpdm_video.models.pretrained_init import source_architecture

    arch = source_architecture(folder)
    return "clip_with_projection" if arch == "clip" else arch


def sd_parts(hp: dict, sd: str | None, base: FPDMConfig) -> tuple[UNetConfig, VAEConfig, NoiseScheduleConfig]:
    """UNet and VAE architectures and the noise schedule: from the SD folder, else the published SD 2.1 ones."""
    unet_kwargs, vae = dict(base.unet.kwargs), copy.deepcopy(base.vae)
    if sd is not None:
        from diffusers import AutoencoderKL, UNet2DConditionModel

        from fpdm_video.models.pretrained_init import noise_schedule_of

        try:
            unet_cfg = UNet2DConditionModel.load_config(sd, subfolder="unet")
            vae_cfg = AutoencoderKL.load_config(sd, subfolder="vae")
        except (OSError, ValueError, EnvironmentError) as exc:
            raise CheckpointError(f"cannot read the UNet and VAE configs of {sd}: {exc}{mirror_hint(sd)}") from None
        unet_kwargs.update({k: unet_cfg[k] for k in UNET_ARCHITECTURE_KEYS if k in unet_cfg})
        vae = replace(vae, kwargs={**vae.kwargs, **{k: vae_cfg[k] for k in VAE_ARCHITECTURE_KEYS if k in vae_cfg}},
                      scaling_factor=float(vae_cfg.get("scaling_factor", vae.scaling_factor)))  # fmt: skip
        schedule = noise_schedule_of(sd, base.noise_schedule)
    else:
        name = same_sd2(_need(hp, "pretrained_model_name_or_path"))
        if name not in SD21_SCHEDULES:
            raise CheckpointError(f"the official model started from {name!r}; give that Stable Diffusion folder with --sd")
        schedule = SD21_SCHEDULES[name]
        if name == "stabilityai/stable-diffusion-2-1":
            unet_kwargs["upcast_attention"] = True  # as its unet/config.json says
    unet_kwargs["conv_in_kernel"] = int(hp.get("unet_conv_in_kenel", 3))
    class_type = hp.get("class_embed_type")
    if class_type not in ("mlp", "projection"):
        raise CheckpointError(f"class_embed_type {class_type!r} of the official model is not supported; 'mlp' or 'projection' are")
    unet = UNetConfig(kwargs=unet_kwargs, class_embedding=class_type, class_hidden_dim=768)
    return unet, vae, schedule


def official_pose_map(style: str = "openpose18") -> PoseMapConfig:
    """Pose maps as the official training draws them: OpenPose-18 on 375 x 550, limb half-width 4, then resized to the canvas.

    (The official test script reads pose images drawn at the photos' 750 x 1101 instead, with the same
    4-pixel limbs, so relatively half as thick; set ``pose_map.draw_size: [750, 1101]`` to match it.)
    The official code publishes no PHOENIX drawing geometry: WholeBody-133 is drawn on the canvas.
    """
    return pose_map_of_style(style, OFFICIAL_DRAW_SIZE if style == "openpose18" else None)


def converted_config(hp: dict, *, sd: str | None = None, fusion_encoder: str | None = None, source_encoder: str | None = None,
                     name: str = "official", pose_style: str = "openpose18") -> FPDMConfig:  # fmt: skip
    """The FPDMConfig of an official stage-2 checkpoint with hyper-parameters ``hp``."""
    base = sd21_config(official_canvas(hp))
    if hp.get("fusion_encoder_type", "clip") != "clip":
        raise CheckpointError(f"fusion_encoder_type {hp.get('fusion_encoder_type')!r} is not supported; the paper's is 'clip'")
    fusion = encoder_config(_need(hp, "fusion_encoder_path"), fusion_encoder, "clip_with_projection", "fusion encoder", "--fusion-encoder")
    source_arch = {"dino": "dinov2", "clip": "clip_with_projection"}.get(hp.get("src_encoder_type", "dino"))
    source = encoder_config(_need(hp, "src_encoder_path"), source_encoder, source_arch, "source encoder", "--source-encoder")
    source_size = int(_need(hp, "src_encoder_size")[0])
    unet, vae, schedule = sd_parts(hp, sd, base)
    return replace(
        base,
        name=name,
        fusion_encoder=FusionEncoderConfig(kind="hf", hf=replace(fusion, pretrained=None)),
        combiner=CombinerConfig(projection_dim=768, hidden_dim=768, dropout=0.5),
        source_encoder=SourceEncoderConfig(kind="hf", hf=replace(source, pretrained=None, image_size=source_size,
                                                                 position_interpolation="offset" if source.architecture == "dinov2"
                                                                 else "transformers")),  # fmt: skip
        source_projection=SourceProjectionConfig(hidden_dim=768, dropout=float(hp.get("proj_drop_rate", 0.0))),
        unet=unet,
        vae=vae,
        noise_schedule=schedule,
        sampling=SamplingConfig(steps=int(hp.get("num_inference_steps", 20)), guidance=float(hp.get("guidance_scale", 2.0))),
        pose_map=official_pose_map(pose_style),
    )

