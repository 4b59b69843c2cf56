"""Encoders through Hugging Face transformers, as the official FPDM uses them: folders made with save_pretrained."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
from PIL import Image

from fpdm_video.config import FPDMConfig, FusionEncoderConfig, HFVisionConfig, SourceEncoderConfig
from fpdm_video.errors import CheckpointError
from fpdm_video.models import build_model, load_model, save_model
from fpdm_video.models.encoders_hf import HFVisionEncoder
from fpdm_video.models.registry import tiny_config

from factories_hf import hf_parts  # noqa: F401 (fixture)


def photo(size: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (size, size, 3), dtype=np.uint8)


def smooth_photo(size: int) -> np.ndarray:
    """A smooth image, as photos are: resampling filters do not overshoot on it."""
    x = np.linspace(0, 1, size)
    waves = [np.outer(np.sin(6 * x + k), np.cos(4 * x - k)) for k in range(3)]
    return (np.stack(waves, axis=-1) * 120 + 128).round().astype(np.uint8)


def as_tensor(image: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(image).permute(2, 0, 1)[None].float() / 255.0  # (1, 3, H, W) [0, 1]


def hf_tiny_config(parts) -> FPDMConfig:
    config = tiny_config()
    return dataclasses.replace(
        config,
        fusion_encoder=FusionEncoderConfig(kind="hf", hf=HFVisionConfig(pretrained=str(parts["clip"]))),
        source_encoder=SourceEncoderConfig(kind="hf", hf=HFVisionConfig(pretrained=str(parts["dinov2"]), architecture="dinov2",
                                                                        image_size=48)),  # fmt: skip
    )


@torch.no_grad()
def test_clip_embeddings_match_transformers_with_its_own_processor(hf_parts):  # noqa: F811
    from transformers import CLIPImageProcessor, CLIPVisionModelWithProjection

    encoder = HFVisionEncoder(HFVisionConfig(pretrained=str(hf_parts["clip"]))).eval()
    reference = CLIPVisionModelWithProjection.from_pretrained(hf_parts["clip"]).eval()
    processor = CLIPImageProcessor.from_pretrained(hf_parts["clip"])
    image = photo(32)
    expected = reference(pixel_values=processor(images=Image.fromarray(image), return_tensors="pt").pixel_values).image_embeds
    torch.testing.assert_close(encoder.embed(as_tensor(image)), expected, atol=1e-5, rtol=1e-5)
    assert encoder.embed_dim == 16 and encoder.config.mean == tuple(processor.image_mean)


@torch.no_grad()
def test_dinov2_tokens_at_another_size_keep_the_cls_token(hf_parts):  # noqa: F811
    from transformers import Dinov2Model

    encoder = HFVisionEncoder(HFVisionConfig(pretrained=str(hf_parts["dinov2"]), architecture="dinov2", image_size=48)).eval()
    image = smooth_photo(96)
    _, tokens = encoder(as_tensor(image))
    assert tokens.shape == (1, 1 + 6 * 6, 32)  # 48 px in 8 px patches, plus CLS: positions interpolated
    # the official path: PIL bicubic to 48 px, then the processor's normalisation
    small = np.asarray(Image.fromarray(image).resize((48, 48), Image.BICUBIC)).astype(np.float32) / 255.0
    pixels = (torch.from_numpy(small).permute(2, 0, 1)[None] - encoder.mean) / encoder.std
    expected = Dinov2Model.from_pretrained(hf_parts["dinov2"]).eval()(pixel_values=pixels).last_hidden_state
    steps = ((encoder.preprocess(as_tensor(image)) - pixels) * encoder.std * 255).abs()  # in 8-bit steps
    assert steps.max() < 1.1  # PIL rounds to 8 bits after each pass; nothing else differs
    assert (tokens - expected).abs().max() < 0.05


def test_a_checkpoint_with_transformers_encoders_rebuilds_without_their_folders(hf_parts, tmp_path):  # noqa: F811
    torch.manual_seed(0)
    model = build_model(hf_tiny_config(hf_parts)).eval()
    assert model.config.fusion_encoder.hf.config["model_type"] == "clip_vision_model"
    path = save_model(model, tmp_path / "ckpt")
    text = (path / "config.yaml").read_text()
    assert "clip_vision_model" in text and "dinov2" in text
    moved = tmp_path / "moved"
    for part in hf_parts.values():  # the pretrained folders are gone: the checkpoint alone must do
        part.rename(moved.with_name(f"{moved.name}-{part.name}"))
    try:
        loaded = load_model(path)
    finally:
        for part in hf_parts.values():
            moved.with_name(f"{moved.name}-{part.name}").rename(part)
    source, pose = torch.rand(2, 3, 32, 32), torch.rand(2, 3, 32, 32)
    with torch.no_grad():
        a, b = model.encode_source(source), loaded.encode_source(source)
        torch.testing.assert_close(a.context, b.context)
        torch.testing.assert_close(model.fuse(a.image_embedding, pose), loaded.fuse(b.image_embedding, pose))
    assert a.context.shape == (2, 37, 16)  # 1 + 36 DINOv2 tokens projected to cross_attention_dim


def test_a_missing_transformers_folder_is_a_checkpoint_error(tmp_path):
    config = dataclasses.replace(tiny_config(), fusion_encoder=FusionEncoderConfig(kind="hf", hf=HFVisionConfig(pretrained=str(tmp_path / "none"))))
    with pytest.raises(CheckpointError, match="cannot read the transformers config"):
        build_model(config)
