"""AdamW with linear warmup (and an optional cosine decay), as a LambdaLR."""

from __future__ import annotations

import math

import torch
from torch import nn

from fpdm_video.train.config import OptimConfig


def lr_factor(step: int, total: int, config: OptimConfig) -> float:
    """Multiplier of the peak learning rate at optimiser step ``step`` (0-based) of ``total``."""
    if config.warmup_steps > 0 and step < config.warmup_steps:
        return (step + 1) / config.warmup_steps
    if config.schedule == "cosine":
        span = max(1, total - config.warmup_steps)
        progress = min(1.0, (step - config.warmup_steps) / span)
        return 0.1 + 0.9 * 0.5 * (1.0 + math.cos(math.pi * progress))
    return 1.0


def build_optimizer(
    groups: list[tuple[list[nn.Parameter], float]], config: OptimConfig, total_steps: int
) -> tuple[torch.optim.Optimizer, torch.optim.lr_scheduler.LambdaLR]:
    """AdamW over parameter groups (params, peak lr) and its warmup schedule."""
    param_groups = [{"params": params, "lr": lr} for params, lr in groups if params]
    optimizer = torch.optim.AdamW(param_groups, betas=tuple(config.betas), weight_decay=config.weight_decay)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: lr_factor(step, total_steps, config))
    return optimizer, scheduler
