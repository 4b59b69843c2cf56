"""The VAE stage: a latent autoencoder for sizes with no pretrained one (the demo size).

Loss: L1 reconstruction of the image in [-1, 1] plus ``kl_weight`` times the KL divergence of the
posterior from N(0, I), as Stable Diffusion's autoencoder is trained (without its perceptual and
adversarial terms, which need pretrained networks). The encoder is convolutional, so the stage trains
on random crops to save time. At the end, the latent scaling factor is set to 1 / std of the
posterior means, as Rombach et al. 2022 (sec. 4.3.2 / appendix) set 0.18215 for SD, so that the
diffusion stage sees latents of unit variance.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from fpdm_video.train.stage_base import Stage


def random_crops(images: Tensor, size: int | None, generator: torch.Generator) -> Tensor:
    """One random ``size`` x ``size`` crop per image (B, 3, H, W) -> (B, 3, size, size); None: unchanged."""
    if size is None or size >= images.shape[-1]:
        return images
    b, _, h, w = images.shape
    ys = torch.randint(0, h - size + 1, (b,), generator=generator, device=generator.device).tolist()
    xs = torch.randint(0, w - size + 1, (b,), generator=generator, device=generator.device).tolist()
    return torch.stack([images[i, :, y : y + size, x : x + size] for i, (y, x) in enumerate(zip(ys, xs, strict=True))])


class VAEStage(Stage):
    name = "vae"

    def trained_modules(self) -> list[nn.Module]:
        return [self.model.vae]

    def forward(self, batch: dict[str, Tensor], generator: torch.Generator) -> tuple[Tensor, dict[str, float]]:
        images = random_crops(batch["target"], self.config.vae.crop, generator) * 2 - 1  # (B, 3, c, c) [-1, 1]
        posterior = self.model.vae.encode(images).latent_dist
        z = posterior.sample(generator=generator)
        recon = self.model.vae.decode(z).sample
        rec = F.l1_loss(recon.float(), images.float())
        kl = posterior.kl().mean() / images[0].numel()  # per pixel, the scale of the L1 term
        loss = rec + self.config.vae.kl_weight * kl
        mse = F.mse_loss(((recon.float() + 1) / 2).clamp(0, 1), (images.float() + 1) / 2)
        psnr = -10 * torch.log10(mse.clamp_min(1e-10))
        return loss, {"loss": loss.item(), "l1": rec.item(), "kl": kl.item(), "psnr": psnr.item()}

    @torch.no_grad()
    def finish(self, batches: list[dict[str, Tensor]]) -> dict[str, float]:
        """Set the model's latent scaling factor to 1 / std of the posterior means of whole frames."""
        self.train(False)
        means = [self.model.vae.encode(b["target"] * 2 - 1).latent_dist.mean.float() for b in batches]
        std = torch.cat(means).std().item()
        scale = 1.0 / max(std, 1e-6)
        self.model.config.vae.scaling_factor = scale
        self.model.scaling_factor = scale
        return {"latent_std": std, "scaling_factor": scale}
