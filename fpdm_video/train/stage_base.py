"""What every training stage provides to the loop: trainable parts, a loss, and an end-of-stage step.

A stage is an ``nn.Module`` holding the whole FPDM, so that DDP can wrap it: ``forward(batch,
generator)`` returns the loss and a dict of scalar metrics. Parts a stage does not train are frozen
and kept in eval mode (no dropout), whatever mode the loop sets.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from fpdm_video.models.fpdm import FPDM
from fpdm_video.train.config import TrainConfig


class Stage(nn.Module):
    """Base class: subclasses set ``trained`` (the modules whose parameters the stage optimises)."""

    name = "stage"
    has_unused_parameters = False  # True where some trained parameters get no gradient (DDP must look for them)

    def __init__(self, model: FPDM, config: TrainConfig) -> None:
        super().__init__()
        self.model = model
        self.config = config
        model.requires_grad_(False)
        for module in self.trained_modules():
            module.requires_grad_(True)

    def trained_modules(self) -> list[nn.Module]:
        raise NotImplementedError

    def param_groups(self) -> list[tuple[list[nn.Parameter], float]]:
        """(parameters, peak learning rate) groups for the optimiser."""
        params = [p for m in self.trained_modules() for p in m.parameters() if p.requires_grad]
        return [(params, self.config.optim.lr)]

    def named_trainable(self) -> list[tuple[str, nn.Parameter]]:
        return [(n, p) for n, p in self.model.named_parameters() if p.requires_grad]

    def train(self, mode: bool = True) -> Stage:
        self.model.eval()
        if mode:
            for module in self.trained_modules():
                module.train()
        self.training = mode
        return self

    def forward(self, batch: dict[str, Tensor], generator: torch.Generator) -> tuple[Tensor, dict[str, float]]:
        raise NotImplementedError

    @torch.no_grad()
    def evaluate(self, batches: list[dict[str, Tensor]], generator: torch.Generator) -> dict[str, float]:
        """Metrics on held-out batches (the default: the mean training loss terms, without dropout)."""
        was = self.training
        self.train(False)
        totals: dict[str, float] = {}
        for batch in batches:
            _, metrics = self.forward(batch, generator)
            for k, v in metrics.items():
                totals[k] = totals.get(k, 0.0) + v / len(batches)
        self.train(was)
        return {f"eval_{k}": v for k, v in totals.items()}

    def after_step(self) -> None:
        """Work after each optimiser step (distillation: its target network follows the student)."""

    def extra_state(self) -> dict:
        """What the stage needs to resume exactly, besides the model (saved with the training state): tensors by name,
        or plain containers of them (an optimiser's ``state_dict``), as ``trainer.pt`` is read with ``weights_only``."""
        return {}

    def load_extra_state(self, state: dict) -> None:
        """Restore what :meth:`extra_state` gave."""

    def export(self, directory) -> None:
        """Write the trained checkpoint folder (the whole model; the LoRA student: its adapter only)."""
        from fpdm_video.models.checkpoint import save_model

        save_model(self.model, directory)

    def finish(self, batches: list[dict[str, Tensor]]) -> dict[str, float]:
        """Work after the last step on the final weights (e.g. the VAE's latent scale); returns facts to record."""
        return {}
