"""The paper's size builds on CPU with random weights, with SD 2.1's parameter counts."""

from __future__ import annotations

import pytest
import torch

from fpdm_video.models import build_model
from fpdm_video.models.denoiser import RowConditions

SD21_UNET = 865_910_724  # the SD 2.1 UNet (v and base alike)
SD_VAE = 83_653_863  # the SD 2.x AutoencoderKL
CLIP_L14_VISION = 303_966_208  # openai/clip-vit-large-patch14's vision tower with its projection
DINOV2_L = 304_368_640  # facebook/dinov2-large


def count(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


@pytest.mark.slow
def test_sd21_256_builds_with_sd21_counts_and_denoises_once():
    torch.manual_seed(0)
    model = build_model("sd21-256").eval()
    unet = model.denoiser.unet
    assert count(unet) - count(unet.class_embedding) == SD21_UNET
    assert count(unet.class_embedding) == 768 * 768 + 768 + 768 * 1280 + 1280  # the official MLP: fused (768) -> 768 -> 1280
    assert count(model.vae) == SD_VAE
    assert count(model.fusion.encoder) == CLIP_L14_VISION and count(model.source_encoder) == DINOV2_L
    assert (model.latent_channels, model.latent_hw) == (4, (32, 32))
    with torch.no_grad():
        source = torch.rand(1, 3, 256, 256)
        encoding = model.encode_source(source)
        assert encoding.context.shape == (1, 1297, 1024)  # DINOv2-L at 512 px: 36x36 patches + CLS, projected
        fused = model.fuse(encoding.image_embedding, torch.rand(1, 3, 256, 256))
        out = model.denoise(torch.randn(1, 4, 32, 32), 500, RowConditions(encoding.context, fused, pose_map=torch.rand(1, 3, 256, 256)))
    assert out.shape == (1, 4, 32, 32) and torch.isfinite(out).all()
