"""The FPDM model: stage 1 fusion embedding, stage 2 conditioned UNet, named sizes, checkpoints."""

from fpdm_video.lazy_exports import lazy_exports

__getattr__, __all__ = lazy_exports(__name__, {
    "CONFIG_REGISTRY": "fpdm_video.models.registry",
    "FPDM": "fpdm_video.models.fpdm",
    "Combiner": "fpdm_video.models.fusion",
    "FusionModel": "fpdm_video.models.fusion",
    "SourceEncoding": "fpdm_video.models.fpdm",
    "build_model": "fpdm_video.models.registry",
    "checkpoint_hash": "fpdm_video.models.checkpoint",
    "fusion_loss": "fpdm_video.models.fusion",
    "info_nce": "fpdm_video.models.fusion",
    "load_model": "fpdm_video.models.checkpoint",
    "retrieval_accuracy": "fpdm_video.models.fusion",
    "save_model": "fpdm_video.models.checkpoint",
})  # imported on first use: a light module of the package (a mode's names) does not import torch
