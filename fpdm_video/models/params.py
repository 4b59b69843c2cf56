"""Parameter counts of an FPDM, part by part (the UNet split into SD's own and FPDM's class embedding)."""

from __future__ import annotations

from torch import nn


def count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def part_counts(model) -> dict[str, int]:
    """Parameters per part of ``model`` (an FPDM), with the total and what stage 2 trains."""
    unet = model.denoiser.unet
    class_embedding = count(unet.class_embedding)
    return {
        "fusion_encoder": count(model.fusion.encoder),
        "combiner": count(model.fusion.combiner),
        "source_encoder": count(model.source_encoder),
        "source_projection": count(model.denoiser.source_projection),
        "pose_embedding": count(model.denoiser.pose_embedding),
        "unet_without_class_embedding": count(unet) - class_embedding,
        "unet_class_embedding": class_embedding,
        "vae": count(model.vae),
        "total": count(model),
        "trainable_stage2": count(model.denoiser),
    }
