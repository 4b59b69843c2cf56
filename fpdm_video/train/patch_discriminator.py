"""The tiny decoder's adversarial term: a patch discriminator, its hinge loss, and VQGAN's adaptive weight.

A decoder trained only to reproduce the VAE decoder's images keeps about 0.89 of their finest
detail, however long or wide (docs/speed.md). The discriminator scores 8x8-pixel-stride patches:
the training frames themselves are its positives, the tiny decoder's images its negatives (a
discriminator given the VAE decoder's images as positives could not tell them from the tiny
decoder's, 33 dB apart). Its four convolutions carry spectral normalisation (Miyato et al. 2018).
The decoder's term is -score, weighted as VQGAN's (Esser et al. 2021): a share of the ratio of
the reconstruction loss's gradient norm to the term's at the decoder's last layer, so the term
pulls with a fixed share of the reconstruction's strength whatever its own scale.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn.utils.parametrizations import spectral_norm


class PatchDiscriminator(nn.Module):
    """Images (B, 3, H, W) in [-1, 1] -> scores (B, 1, H / 8, W / 8): higher for what looks like a training frame."""

    def __init__(self) -> None:
        super().__init__()
        self.layers = nn.Sequential(spectral_norm(nn.Conv2d(3, 32, 4, 2, 1)), nn.LeakyReLU(0.2),
                                    spectral_norm(nn.Conv2d(32, 64, 4, 2, 1)), nn.LeakyReLU(0.2),
                                    spectral_norm(nn.Conv2d(64, 128, 4, 2, 1)), nn.LeakyReLU(0.2),
                                    spectral_norm(nn.Conv2d(128, 1, 3, 1, 1)))  # fmt: skip

    def forward(self, images: Tensor) -> Tensor:
        return self.layers(images)


def hinge_loss(real: Tensor, fake: Tensor) -> Tensor:
    """The discriminator's hinge loss: mean relu(1 - real) + mean relu(1 + fake); 2 when it tells nothing apart."""
    return torch.relu(1 - real).mean() + torch.relu(1 + fake).mean()


def adaptive_weight(reconstruction: Tensor, adversarial: Tensor, last: Tensor, share: float) -> Tensor:
    """share * |d reconstruction / d last| / |d adversarial / d last|, clamped to [0, 1e4], with no gradient."""
    rec = torch.autograd.grad(reconstruction, last, retain_graph=True)[0].norm()
    adv = torch.autograd.grad(adversarial, last, retain_graph=True)[0].norm()
    return (share * rec / (adv + 1e-8)).clamp(0, 1e4).detach()
