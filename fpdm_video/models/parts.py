"""Diffusers parts of FPDM: the VAE and the UNet, from a config or from SD 2.x weights."""

from __future__ import annotations

import logging
from pathlib import Path

from torch import nn

from fpdm_video.config import UNetConfig, VAEConfig
from fpdm_video.errors import CheckpointError

logger = logging.getLogger(__name__)


def _from_pretrained(cls, name: str, subfolder: str | None):
    """diffusers ``cls.from_pretrained`` on a local folder or hub name, with a clear error."""
    try:
        return cls.from_pretrained(name, subfolder=subfolder)
    except (OSError, ValueError, EnvironmentError) as exc:
        where = Path(name) / (subfolder or "")
        raise CheckpointError(f"cannot load {cls.__name__} from {where}: {exc}") from None


def build_vae(config: VAEConfig, *, load_pretrained: bool = True) -> nn.Module:
    """AutoencoderKL from ``config.kwargs``, or loaded from ``config.pretrained``."""
    from diffusers import AutoencoderKL

    if config.pretrained and load_pretrained:
        return _from_pretrained(AutoencoderKL, config.pretrained, config.subfolder)
    return AutoencoderKL(**config.kwargs)


def build_unet(config: UNetConfig, *, fused_dim: int, load_pretrained: bool = True) -> nn.Module:
    """UNet2DConditionModel with a projection class embedding of input size ``fused_dim``.

    With ``config.pretrained`` (an SD 2.x UNet), its weights are loaded into the FPDM UNet; the class
    embedding, which SD does not have, keeps its fresh initialisation (logged).
    """
    from diffusers import UNet2DConditionModel

    kwargs = dict(config.kwargs)
    kwargs.update(class_embed_type="projection", projection_class_embeddings_input_dim=fused_dim)
    unet = UNet2DConditionModel(**kwargs)
    if config.pretrained and load_pretrained:
        sd = _from_pretrained(UNet2DConditionModel, config.pretrained, config.subfolder)
        missing, unexpected = unet.load_state_dict(sd.state_dict(), strict=False)
        bad = [k for k in missing if not k.startswith("class_embedding.")]
        if bad or unexpected:
            raise CheckpointError(
                f"UNet weights in {config.pretrained} do not fit the configured UNet: "
                f"missing {bad[:5]}..., unexpected {unexpected[:5]}..."
            )
        logger.info("loaded SD UNet weights from %s; class embedding initialised fresh", config.pretrained)
    return unet
