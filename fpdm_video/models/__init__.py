"""The FPDM model: stage 1 fusion embedding, stage 2 conditioned UNet, named sizes, checkpoints."""

from fpdm_video.models.checkpoint import checkpoint_hash, load_model, save_model
from fpdm_video.models.fpdm import FPDM, SourceEncoding
from fpdm_video.models.fusion import Combiner, FusionModel, fusion_loss, info_nce, retrieval_accuracy
from fpdm_video.models.registry import CONFIG_REGISTRY, build_model

__all__ = [
    "CONFIG_REGISTRY",
    "FPDM",
    "Combiner",
    "FusionModel",
    "SourceEncoding",
    "build_model",
    "checkpoint_hash",
    "fusion_loss",
    "info_nce",
    "load_model",
    "retrieval_accuracy",
    "save_model",
]
