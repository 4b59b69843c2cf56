"""Exponential moving average of trained parameters."""

from __future__ import annotations

import torch
from torch import nn


class EMA:
    """Shadow copies of ``params`` updated as shadow = decay * shadow + (1 - decay) * param."""

    def __init__(self, named_params: list[tuple[str, nn.Parameter]], decay: float) -> None:
        self.decay = decay
        self.params = dict(named_params)
        self.shadow = {name: p.detach().clone().float() for name, p in named_params}

    @torch.no_grad()
    def update(self) -> None:
        for name, p in self.params.items():
            self.shadow[name].lerp_(p.detach().float(), 1.0 - self.decay)

    @torch.no_grad()
    def copy_to_params(self) -> None:
        """Write the averaged weights into the live parameters (at the end of training)."""
        for name, p in self.params.items():
            p.copy_(self.shadow[name].to(p.dtype))

    def state_dict(self) -> dict[str, torch.Tensor]:
        return {name: t.clone() for name, t in self.shadow.items()}

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        missing = set(self.shadow) - set(state)
        if missing:
            raise KeyError(f"EMA state lacks {len(missing)} parameter(s), e.g. {sorted(missing)[:3]}")
        for name in self.shadow:
            self.shadow[name].copy_(state[name])
