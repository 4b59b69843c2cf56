"""Image-quality metrics (pure numpy functions on uint8 or [0, 1] frames)."""

from fpdm_video.metrics.image import moving_mask, psnr, ssim

__all__ = ["moving_mask", "psnr", "ssim"]
