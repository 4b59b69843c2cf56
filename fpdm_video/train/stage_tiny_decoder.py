"""A tiny decoder for a checkpoint's VAE (:mod:`fpdm_video.models.tiny_decoder`), trained to reproduce it.

Per micro-batch: target frames -> the VAE posterior -> a latent sample; the VAE decoder's image of
it (frozen, no gradient) is the target, and the tiny decoder learns it from the same latents with
an L1 plus a mean-squared loss (``l1_weight``, ``mse_weight``). With ``adversarial_weight`` above 0, a
patch discriminator (:mod:`fpdm_video.train.patch_discriminator`) learns to tell the training frames
from the decoder's images, one Adam step per micro-batch, and after ``adversarial_warmup`` of its
steps the decoder also gets its term at VQGAN's adaptive weight; the discriminator is kept out of the
module tree (DDP syncs the decoder; its gradients are averaged here) and its weights, optimiser and
step count go with the resumable state. Everything else of the model is
frozen and unchanged; the saved checkpoint is the input checkpoint with the decoder added or
replaced (``tiny_decoder`` in its config, its weights under ``tiny_decoder.``). With
``from_checkpoint``, the checkpoint's own tiny decoder (of the same layout) is where the training
starts, instead of a fresh one; a ``nearest`` decoder given ``upsample: subpixel`` (and otherwise the
same layout) starts as its exact ``subpixel`` form (:func:`~fpdm_video.models.tiny_decoder.as_subpixel`).
With ``data.cache``, each frame's posterior is computed once.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from fpdm_video.config import TinyDecoderConfig
from fpdm_video.errors import InputError
from fpdm_video.models.tiny_decoder import TinyDecoder, as_subpixel
from fpdm_video.train.ddp import average_gradients
from fpdm_video.train.patch_discriminator import PatchDiscriminator, adaptive_weight, hinge_loss
from fpdm_video.train.stage_diffusion import DiffusionStage


def starting_decoder(model, layout: TinyDecoderConfig, path: str) -> nn.Module:
    """The tiny decoder of the checkpoint at ``path``, to go on training, in ``layout`` (InputError if it has none, or
    another layout than ``layout`` or the ``nearest`` form of a ``subpixel`` one)."""
    own = model.config.tiny_decoder
    if model.tiny_decoder is None or own is None:
        raise InputError(f"tiny_decoder.from_checkpoint: {path} has no tiny decoder to start from")
    if (own.upsample, layout.upsample) == ("nearest", "subpixel") and own == replace(layout, upsample="nearest"):
        return as_subpixel(model.tiny_decoder, model.latent_channels, model.vae_factor, own)
    if own != layout:
        differ = ", ".join(f"{f.name} {getattr(own, f.name)} (the section: {getattr(layout, f.name)})" for f in fields(layout)
                           if getattr(own, f.name) != getattr(layout, f.name))  # fmt: skip
        raise InputError(f"tiny_decoder.from_checkpoint: the tiny decoder of {path} has another layout: {differ}")
    return model.tiny_decoder


@dataclass
class Adversary:
    """The discriminator of the adversarial term, its optimiser and the steps it has taken (not a module: see above)."""

    critic: PatchDiscriminator
    optimizer: torch.optim.Optimizer
    steps: int = 0

    @classmethod
    def build(cls, seed: int, lr: float, device: torch.device) -> Adversary:
        with torch.random.fork_rng(devices=[]):  # the same start in every process, whatever was drawn before
            torch.manual_seed(seed)
            critic = PatchDiscriminator().to(device)
        return cls(critic, torch.optim.Adam(critic.parameters(), lr=lr, betas=(0.5, 0.9)))

    def state(self) -> dict:
        """Its weights, its optimiser's state and its step count (tensors and plain containers, as the trainer's state)."""
        return {"critic": self.critic.state_dict(), "critic_optimizer": self.optimizer.state_dict(), "critic_steps": self.steps}

    def load(self, state: dict) -> None:
        self.critic.load_state_dict(state["critic"])
        self.optimizer.load_state_dict(state["critic_optimizer"])
        self.steps = int(state["critic_steps"])


class TinyDecoderStage(DiffusionStage):
    name = "tiny_decoder"

    def __init__(self, model, config) -> None:
        layout = TinyDecoderConfig(**{f.name: getattr(config.tiny_decoder, f.name) for f in fields(TinyDecoderConfig)})
        try:
            decoder = TinyDecoder(model.latent_channels, model.vae_factor, layout)
        except ValueError as e:  # a layout that does not fit this checkpoint's VAE: the config's fault, said in one line
            raise InputError(f"{e} (the training config's tiny_decoder section)") from None
        if config.tiny_decoder.from_checkpoint:
            decoder = starting_decoder(model, layout, config.init)
        model.config.tiny_decoder = layout
        device = next(model.parameters()).device
        model.tiny_decoder = decoder.to(device)
        super().__init__(model, config)
        t = config.tiny_decoder
        self.adversary = Adversary.build(config.seed, t.discriminator_lr, device) if t.adversarial_weight else None

    def trained_modules(self) -> list[nn.Module]:
        return [self.model.tiny_decoder]

    def forward(self, batch: dict[str, Tensor], generator: torch.Generator) -> tuple[Tensor, dict[str, float]]:
        t = self.config.tiny_decoder
        mean, std = self._posterior(batch)
        latents = mean + std * torch.randn(mean.shape, generator=generator, device=mean.device)  # unscaled, as the VAE decodes them
        with torch.no_grad():
            target = self.model.vae.decode(latents).sample.clamp(-1, 1)
        pred = self.model.tiny_decoder(latents)
        l1, mse = F.l1_loss(pred.float(), target.float()), F.mse_loss(pred.float(), target.float())
        loss = t.l1_weight * l1 + t.mse_weight * mse
        metrics = {"l1": l1.item(), "mse": mse.item()}
        if self.adversary is not None and self.training:
            term, more = self._adversarial(loss, pred.float(), batch["target"].float() * 2 - 1)
            loss, metrics = loss + term, {**metrics, **more}
        return loss, {"loss": loss.item(), **metrics}

    def _adversarial(self, reconstruction: Tensor, pred: Tensor, frames: Tensor) -> tuple[Tensor, dict[str, float]]:
        """One discriminator step (frames real, ``pred`` fake), then the decoder's weighted term (0 in the warm-up)."""
        a, t = self.adversary, self.config.tiny_decoder
        a.critic.requires_grad_(True)
        critic_loss = hinge_loss(a.critic(frames), a.critic(pred.detach()))
        a.optimizer.zero_grad(set_to_none=True)
        critic_loss.backward()
        average_gradients(a.critic)
        a.optimizer.step()
        a.steps += 1
        a.critic.requires_grad_(False)  # the decoder's term below reaches the decoder only
        term = -a.critic(pred).mean()
        weight = torch.zeros((), device=pred.device)
        if a.steps > t.adversarial_warmup:
            last = self.model.tiny_decoder.layers[-1].weight
            weight = adaptive_weight(reconstruction, term, last, t.adversarial_weight)
        return weight * term, {"critic": critic_loss.item(), "adversarial": term.item(), "adversarial_weight": weight.item()}

    def extra_state(self) -> dict:
        return {} if self.adversary is None else self.adversary.state()

    def load_extra_state(self, state: dict) -> None:
        if self.adversary is not None:
            self.adversary.load(state)
