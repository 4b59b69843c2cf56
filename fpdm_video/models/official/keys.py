"""Tensor names of the official FPDM checkpoints -> this project's, every key mapped or dropped on purpose.

Official stage 2 (its ``FPDM`` LightningModule) and stage 1 (``FusionModel``) name their tensors by
their attributes. Some modules are stored twice: ``sd_model.unet`` is ``unet``, and the fusion
model's ``pose_encoder`` is its ``img_encoder`` (one encoder, shared weights); the copies are
checked equal and dropped. Metric networks (``fid``, ``lpips_obj``, ``rec``), if a checkpoint holds
them, are not part of the model and are dropped.
"""

from __future__ import annotations

import torch

from fpdm_video.errors import CheckpointError

# official prefix -> ours, longest first where one prefix holds another
RENAMES = (
    ("unet.conv_in.", "denoiser.unet.conv_in.conv."),  # conv_in is wrapped here to add the pose feature
    ("unet.", "denoiser.unet."),
    ("vae.", "vae."),
    ("sd_model.srcimage_proj_model.net.", "denoiser.source_projection.layers."),
    ("sd_model.pose_t_proj.", "denoiser.pose_embedding."),
    ("fusion_model.img_encoder.", "fusion.encoder.model."),
    ("fusion_model.combiner.kpt_projection_layer.", "fusion.combiner.pose_projection."),
    ("fusion_model.combiner.image_projection_layer.", "fusion.combiner.image_projection."),
    ("fusion_model.combiner.", "fusion.combiner."),
    ("src_image_encoder.", "source_encoder.encoder.model."),
)
COPIES = {"sd_model.unet.": "unet.", "fusion_model.pose_encoder.": "fusion_model.img_encoder."}  # copy -> original
DROPPED = ("fid.", "lpips_obj.", "rec.")  # the official evaluation's networks
STAGE1_PREFIX = "fusion_model."  # a stage-1 checkpoint's names are those of stage 2 without it


def stage1_as_stage2(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """A stage-1 (FusionModel) state dict under the names it has inside stage 2."""
    return {STAGE1_PREFIX + k: v for k, v in state.items()}


def rename(key: str) -> str | None:
    """This project's name of an official tensor, or None for a key no rule maps."""
    for official, ours in RENAMES:
        if key.startswith(official):
            return ours + key[len(official):]
    return None


def convert_state(state: dict[str, torch.Tensor], *, verify_copies: bool = True) -> tuple[dict[str, torch.Tensor], dict[str, list[str]]]:
    """(tensors under this project's names, what was dropped and why); raises on an unmapped key or a copy that differs.

    ``verify_copies=False`` checks only that each copy's original is there (for shape-only dry runs on meta tensors).
    """
    out: dict[str, torch.Tensor] = {}
    dropped: dict[str, list[str]] = {"copies": [], "metric networks": []}
    unmapped = []
    for key, value in state.items():
        copy_of = next((orig + key[len(c):] for c, orig in COPIES.items() if key.startswith(c)), None)
        if copy_of is not None:
            if copy_of not in state or (verify_copies and not torch.equal(state[copy_of], value)):
                raise CheckpointError(f"{key} should be a copy of {copy_of}, but it differs or is missing; the checkpoint is damaged")
            dropped["copies"].append(key)
            continue
        if key.startswith(DROPPED):
            dropped["metric networks"].append(key)
            continue
        ours = rename(key)
        if ours is None:
            unmapped.append(key)
        else:
            out[ours] = value
    if unmapped:
        raise CheckpointError(f"{len(unmapped)} official tensor(s) have no place in this project's model: "
                              f"{', '.join(unmapped[:6])}{' ...' if len(unmapped) > 6 else ''}")  # fmt: skip
    return out, dropped
