"""Signer transfer: stage functions, the Python API and the run record (the CLI is fpdm_video.transfer)."""

from pipelines.transfer.api import SignerTransfer, TransferResult, default_checkpoint
from pipelines.transfer.settings import SCHEDULERS, TransferSettings

__all__ = ["SCHEDULERS", "SignerTransfer", "TransferResult", "TransferSettings", "default_checkpoint"]
