"""Diffusers parts of FPDM: the VAE and the UNet, from a config or from SD 2.x weights."""

from __future__ import annotations

import logging
from pathlib import Path

from torch import nn

from fpdm_video.config import UNetConfig, VAEConfig
from fpdm_video.errors import CheckpointError
from fpdm_video.models.hub_names import mirror_hint

logger = logging.getLogger(__name__)


def _from_pretrained(cls, name: str, subfolder: str | None):
    """diffusers ``cls.from_pretrained`` on a local folder or hub name, with a clear error."""
    try:
        return cls.from_pretrained(name, subfolder=subfolder)
    except (OSError, ValueError, EnvironmentError) as exc:
        where = Path(name) / (subfolder or "")
        raise CheckpointError(f"cannot load {cls.__name__} from {where}: {exc}{mirror_hint(name)}") from None


def build_vae(config: VAEConfig, *, load_pretrained: bool = True) -> nn.Module:
    """AutoencoderKL from ``config.kwargs``, or loaded from ``config.pretrained``."""
    from diffusers import AutoencoderKL

    if config.pretrained and load_pretrained:
        return _from_pretrained(AutoencoderKL, config.pretrained, config.subfolder)
    return AutoencoderKL(**config.kwargs)


class ClassMLP(nn.Module):
    """The official FPDM's class embedding (its ``ImageProjModel_g``): Linear -> GELU -> Dropout -> Linear -> Dropout.

    Tensor names ``net.0`` and ``net.3``, as in the official checkpoints.
    """

    def __init__(self, in_dim: int, hidden_dim: int, out_dim: int, dropout: float = 0.0) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(in_dim, hidden_dim), nn.GELU(), nn.Dropout(dropout), nn.Linear(hidden_dim, out_dim),
                                 nn.Dropout(dropout))  # fmt: skip

    def forward(self, x):
        return self.net(x)


def build_unet(config: UNetConfig, *, fused_dim: int, load_pretrained: bool = True) -> nn.Module:
    """UNet2DConditionModel with a class embedding of input size ``fused_dim``.

    The class embedding is diffusers' "projection" (Linear -> SiLU -> Linear) or, with
    ``class_embedding: mlp``, the official FPDM's :class:`ClassMLP`; either way the UNet calls it on
    its ``class_labels`` and adds the result to the time embedding. With ``config.pretrained`` (an SD
    2.x UNet), its weights are loaded into the FPDM UNet; the class embedding, which SD does not
    have, keeps its fresh initialisation (logged).
    """
    from diffusers import UNet2DConditionModel

    if config.class_embedding not in ("projection", "mlp"):
        raise CheckpointError(f"unet.class_embedding must be 'projection' or 'mlp', got {config.class_embedding!r}")
    kwargs = dict(config.kwargs)
    kwargs.update(class_embed_type="projection", projection_class_embeddings_input_dim=fused_dim)
    unet = UNet2DConditionModel(**kwargs)
    if config.class_embedding == "mlp":
        time_dim = unet.time_embedding.linear_2.out_features
        unet.class_embedding = ClassMLP(fused_dim, config.class_hidden_dim, time_dim)
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
