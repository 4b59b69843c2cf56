"""Tiny seeded FPDM models for tests."""

from __future__ import annotations

import torch

from fpdm_video.models import build_model


def tiny_model(seed: int = 0, *, trained_like: bool = True):
    """The ``tiny`` FPDM, seeded, in eval mode.

    ControlNet's conditioning embedding starts with a zero conv (so an untrained pose branch adds
    nothing); ``trained_like`` gives it small random weights, as any trained model has, so that the
    pose condition has an effect to test.
    """
    torch.manual_seed(seed)
    model = build_model("tiny")
    if trained_like:
        with torch.no_grad():
            conv = model.denoiser.pose_embedding.conv_out
            conv.weight.normal_(0.0, 0.2)
            conv.bias.normal_(0.0, 0.2)
    return model.eval()


def tiny_inputs(model, batch: int = 2, seed: int = 1) -> dict[str, torch.Tensor]:
    """Random source images, pose maps, latents and timesteps at the model's sizes."""
    g = torch.Generator().manual_seed(seed)
    (r, _), (s, _), c = model.canvas, model.latent_hw, model.latent_channels
    return {
        "source": torch.rand(batch, 3, r, r, generator=g),
        "pose": torch.rand(batch, 3, r, r, generator=g),
        "latents": torch.randn(batch, c, s, s, generator=g),
        "timesteps": torch.randint(0, 1000, (batch,), generator=g),
    }
