"""Pretrained parts load from a local diffusers SD 2.x-style folder (vae/, unet/), never from a hub here."""

from __future__ import annotations

import pytest
import torch

from fpdm_video.errors import CheckpointError
from fpdm_video.models import build_model
from fpdm_video.models.registry import tiny_config


@pytest.fixture(scope="module")
def sd_folder(tmp_path_factory):
    """A folder laid out like an SD 2.x diffusers model, holding tiny random VAE and UNet weights."""
    from diffusers import AutoencoderKL, UNet2DConditionModel

    root = tmp_path_factory.mktemp("sd")
    config = tiny_config()
    torch.manual_seed(3)
    vae = AutoencoderKL(**config.vae.kwargs)
    unet = UNet2DConditionModel(**config.unet.kwargs)  # as in SD: no class embedding
    vae.save_pretrained(root / "vae")
    unet.save_pretrained(root / "unet")
    return root, vae, unet


def test_vae_and_unet_load_from_a_local_sd_folder(sd_folder):
    root, vae, unet = sd_folder
    config = tiny_config()
    config.vae.pretrained = str(root)
    config.unet.pretrained = str(root)
    model = build_model(config)
    for key, value in vae.state_dict().items():
        torch.testing.assert_close(model.vae.state_dict()[key], value)
    loaded = model.denoiser.unet.state_dict()
    for key, value in unet.state_dict().items():
        key = key.replace("conv_in.", "conv_in.conv.")  # conv_in is wrapped to add the pose feature
        torch.testing.assert_close(loaded[key], value)
    assert any(k.startswith("class_embedding.") for k in loaded)  # FPDM's addition, freshly initialised


def test_missing_pretrained_folder_is_a_checkpoint_error(tmp_path):
    config = tiny_config()
    config.vae.pretrained = str(tmp_path / "no-such-sd")
    with pytest.raises(CheckpointError, match="cannot load AutoencoderKL from"):
        build_model(config)
