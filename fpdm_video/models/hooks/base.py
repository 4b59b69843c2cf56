"""What every sampling hook shares: the description of one UNet call, the hook points, and the set of hooks of a run.

A sampling trick (cached context keys and values, pose features computed once, step feature
caching, cross-frame attention, token merging) is one :class:`SamplingHook` in one module. It owns
its state, which lives as long as one video; the sampler builds the hooks of a run from its
settings (``pipelines.tricks``), installs them on the UNet for the video and removes them after
(:meth:`HookSet.installed`). Hooks never talk to each other: each acts at its own points, and a
point a hook does not override passes the call through unchanged.

| point | when | what it may do |
| --- | --- | --- |
| ``install`` / ``remove`` | once per video | register module hooks it needs, and take them off |
| ``begin_video`` | the source is encoded | compute what is the same for the whole video |
| ``pose_features`` | a chunk's conditions are built | give the chunk's pose features (computed once) |
| ``run_unet`` | every UNet call | run the UNet itself, or part of it |
| ``merge_tokens`` | every self-attention | fewer query/key tokens, and how to undo it |
| ``context_keys_values`` | every cross-attention | the keys and values of the context |
| ``self_keys_values`` | every self-attention | extend or change the keys and values |
| ``carry`` / ``load_carry`` | between chunks | the tensors a later chunk (or process) needs |

The call's own facts (step, first frame of the chunk, the rows of each guidance branch, the latent
grid) come as a
:class:`UNetCall`, passed to the model with the call and down to the attention processor through
``cross_attention_kwargs``. Nothing is set on a module before a call and cleared after it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import torch
from torch import Tensor, nn

# (keep pose, keep source, keep fused) of each guidance branch: "off" rows see zeros, as in training's condition dropout
BRANCH_CONDITIONS: dict[str, tuple[bool, bool, bool]] = {
    "u": (False, False, False),
    "s": (True, True, False),
    "f": (True, True, True),
}

KV = tuple[Tensor, Tensor]  # (key, value), each (rows, N, inner)
RunUNet = Callable[[Tensor], Tensor]  # sample (rows, C, h, w) -> model output, with every other input bound


@dataclass(frozen=True)
class UNetCall:
    """Where one UNet call stands: its hooks, the step, the chunk, and its rows branch by branch."""

    hooks: HookSet
    step: int = 0  # step index in the schedule
    first_frame: int = 0  # video index of the chunk's first frame
    frames: int = 1  # frames in the chunk (B)
    branches: tuple[str, ...] = ("f",)  # guidance branches, in the order their rows are stacked
    counts: tuple[int, ...] = (1,)  # rows of each branch (B, or 1 for a branch shared by every frame)
    grid: tuple[int, int] = (0, 0)  # (h, w) of the call's latents: the grid the attention tokens come from

    def split(self, rows: Tensor) -> tuple[Tensor, ...]:
        """(rows, ...) -> one tensor per branch."""
        return rows.split(list(self.counts))

    def stack(self, per_frame: Tensor) -> Tensor:
        """(B, ...) per-frame values -> (rows, ...) stacked branch by branch."""
        return torch.cat([per_frame[:n] for n in self.counts])

    def keeps(self, condition: int, device: torch.device) -> Tensor:
        """(rows,) bool: which rows keep condition 0 (pose), 1 (source) or 2 (fused)."""
        table = torch.tensor([BRANCH_CONDITIONS[b][condition] for b in self.branches], device=device)
        return table.repeat_interleave(torch.tensor(self.counts, device=device))


class SamplingHook:
    """A sampling trick; every point passes through unless the trick overrides it (see the module docstring)."""

    name = "hook"

    def install(self, unet: nn.Module) -> None:
        """Register what the trick needs on ``unet`` for one video."""

    def remove(self) -> None:
        """Take off what :meth:`install` registered."""

    def begin_video(self, denoiser: nn.Module, context: Tensor) -> None:
        """The video's projected source context (1, N, C_ctx) is known."""

    def pose_features(self, denoiser: nn.Module, pose_maps: Tensor) -> Tensor | None:
        """The chunk's pose features (B, C0, h, w), or None to let every call compute them."""
        return None

    def run_unet(self, call: UNetCall, unet: nn.Module, run: RunUNet, sample: Tensor, kwargs: dict) -> Tensor | None:
        """The model output of the call, or None to let the next hook (finally the whole UNet) run it."""
        return None

    def acts_on(self, attn: nn.Module) -> bool:
        """Whether the trick changes attention layer ``attn`` (the others run diffusers' own processor)."""
        return False

    def merge_tokens(self, attn: nn.Module, call: UNetCall, hidden: Tensor) -> tuple[Tensor, Callable[[Tensor], Tensor]] | None:
        """(merged hidden states, unmerge) for a self-attention layer, or None."""
        return None

    def context_keys_values(self, attn: nn.Module, call: UNetCall, context: Tensor) -> KV | None:
        """The cross-attention keys and values of ``context`` (rows, N, C_ctx), or None to compute them."""
        return None

    def self_keys_values(self, attn: nn.Module, call: UNetCall, key: Tensor, value: Tensor) -> KV:
        """The self-attention keys and values (rows, N, inner), possibly extended along the token axis."""
        return key, value

    def carry(self) -> dict[str, Tensor]:
        """The tensors a later chunk needs, by name."""
        return {}

    def load_carry(self, tensors: dict[str, Tensor]) -> None:
        """Take back what :meth:`carry` gave (from an earlier chunk, maybe in another process)."""


@dataclass(frozen=True)
class HookSet:
    """The hooks of one run, in the order their points are tried."""

    hooks: tuple[SamplingHook, ...] = field(default=())

    def __bool__(self) -> bool:
        return bool(self.hooks)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(h.name for h in self.hooks)

    @contextmanager
    def installed(self, unet: nn.Module) -> Iterator[HookSet]:
        """Install every hook on ``unet`` for the duration of the block, and remove them after (also on errors)."""
        done: list[SamplingHook] = []
        try:
            for hook in self.hooks:
                hook.install(unet)
                done.append(hook)
            yield self
        finally:
            for hook in reversed(done):
                hook.remove()

    def begin_video(self, denoiser: nn.Module, context: Tensor) -> None:
        for hook in self.hooks:
            hook.begin_video(denoiser, context)

    def pose_features(self, denoiser: nn.Module, pose_maps: Tensor) -> Tensor | None:
        for hook in self.hooks:
            feature = hook.pose_features(denoiser, pose_maps)
            if feature is not None:
                return feature
        return None

    def run_unet(self, call: UNetCall, unet: nn.Module, run: RunUNet, sample: Tensor, kwargs: dict) -> Tensor:
        for hook in self.hooks:
            out = hook.run_unet(call, unet, run, sample, kwargs)
            if out is not None:
                return out
        return run(sample)

    def for_layer(self, attn: nn.Module) -> tuple[SamplingHook, ...]:
        return tuple(h for h in self.hooks if h.acts_on(attn))

    def carry(self) -> dict[str, Tensor]:
        out: dict[str, Tensor] = {}
        for hook in self.hooks:
            out.update({f"{hook.name}/{k}": v for k, v in hook.carry().items()})
        return out

    def load_carry(self, tensors: dict[str, Tensor]) -> None:
        for hook in self.hooks:
            prefix = f"{hook.name}/"
            hook.load_carry({k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)})


NO_HOOKS = HookSet()
