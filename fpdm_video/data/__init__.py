"""Data: the synthetic signer generator (training datasets of source/pose/target triples come later)."""

from fpdm_video.data.synthetic_dataset import (
    SyntheticDatasetConfig,
    render_clip,
    render_reference,
    sidecar_path,
    write_synthetic_dataset,
)
from fpdm_video.data.synthetic_draw import render_signer
from fpdm_video.data.synthetic_identity import SignerIdentity, sample_identity
from fpdm_video.data.synthetic_motion import describe_motion, generate_motion, reference_pose
from fpdm_video.data.synthetic_proportions import apply_proportions

__all__ = [
    "SignerIdentity",
    "SyntheticDatasetConfig",
    "apply_proportions",
    "describe_motion",
    "generate_motion",
    "reference_pose",
    "render_clip",
    "render_reference",
    "render_signer",
    "sample_identity",
    "sidecar_path",
    "write_synthetic_dataset",
]
