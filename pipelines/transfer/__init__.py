"""Signer transfer: stage functions, the Python API and the run record (the CLI is fpdm_video.transfer)."""

from pipelines.transfer.api import SignerTransfer, TransferResult, default_checkpoint
from pipelines.transfer.settings import TransferRequest, TransferSettings, resolve_settings

__all__ = ["SignerTransfer", "TransferRequest", "TransferResult", "TransferSettings", "default_checkpoint", "resolve_settings"]
