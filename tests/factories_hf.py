"""Test support for the transformers encoders: tiny random CLIP and DINOv2 folders saved with save_pretrained."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch


def save_tiny_clip(folder: Path, seed: int = 0) -> Path:
    """A CLIPVisionModelWithProjection (hidden 32, 2 layers, 32 px, projection 16) with its image processor."""
    from transformers import CLIPImageProcessor, CLIPVisionConfig, CLIPVisionModelWithProjection

    torch.manual_seed(seed)
    config = CLIPVisionConfig(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
                              image_size=32, patch_size=8, projection_dim=16)  # fmt: skip
    CLIPVisionModelWithProjection(config).save_pretrained(folder)
    CLIPImageProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32}).save_pretrained(folder)
    return folder


def save_tiny_dinov2(folder: Path, seed: int = 1) -> Path:
    """A Dinov2Model (hidden 32, 2 layers, patch 8, 32 px) with a BitImageProcessor, as facebook/dinov2-* have."""
    from transformers import BitImageProcessor, Dinov2Config, Dinov2Model

    torch.manual_seed(seed)
    config = Dinov2Config(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
                          image_size=32, patch_size=8)  # fmt: skip
    Dinov2Model(config).save_pretrained(folder)
    BitImageProcessor(image_mean=[0.485, 0.456, 0.406], image_std=[0.229, 0.224, 0.225]).save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def hf_parts(tmp_path_factory) -> dict[str, Path]:
    """Folders of a tiny CLIP (fusion encoder) and a tiny DINOv2 (source tokens), in transformers' format."""
    root = tmp_path_factory.mktemp("hf")
    return {"clip": save_tiny_clip(root / "clip"), "dinov2": save_tiny_dinov2(root / "dinov2")}
