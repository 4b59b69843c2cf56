"""Signer transfer: stage functions, the Python API and the run record (the CLI is fpdm_video.transfer)."""

from fpdm_video.lazy_exports import lazy_exports

__getattr__, __all__ = lazy_exports(__name__, {
    **dict.fromkeys(("SignerTransfer", "TransferResult", "default_checkpoint"), "pipelines.transfer.api"),
    **dict.fromkeys(("TransferRequest", "TransferSettings", "resolve_settings"), "pipelines.transfer.settings"),
})  # imported on first use: the CLI checks the paths (pipelines.transfer.paths) before torch is imported
