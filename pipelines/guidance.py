"""FPDM's classifier-free guidance, with the branches it needs and no more.

The conditioned denoiser has three branches:

| branch | pose | source tokens | fused embedding |
| ------ | ---- | ------------- | --------------- |
| u      | off  | off           | off             |
| s      | on   | on            | off             |
| f      | on   | on            | on              |

("off" = replaced by zeros, as in training's condition dropout). The FPDM paper combines them with
one scale g as

    ε̂ = ε_u + g (ε_s - ε_u) + g (ε_f - ε_s)

and the official code evaluates all three. With one scale the s terms cancel:

    ε_u + g ε_s - g ε_u + g ε_f - g ε_s  =  ε_u + g (ε_f - ε_u),

so with one scale only u and f are evaluated (2B rows per UNet call instead of 3B); the output is
the same up to float rounding. Measured against the official implementation at full size (random
weights), the two forms differ by at most 1.2e-7.

The three-branch form is kept for two different scales, in the manner of InstructPix2Pix's dual
guidance: g_s on the pose and source tokens, g_f on the fused embedding,

    ε̂ = ε_u + g_s (ε_s - ε_u) + g_f (ε_f - ε_s).

When every row starts from the same latents (step 0 of fixed-noise sampling: all frames share x_T),
the u branch, which sees no per-frame condition, is the same for every row: it is evaluated once
(``ChunkConditions.shared_start``), so the call has B + 1 rows instead of 2B.

:class:`GuidedDenoiser` is what the sampler loop sees: ``denoise(x, t, step)``, one guided model
output per step. It stacks the branches' rows, tells the model which rows keep which condition (the
model masks them itself), hands the call's hooks over with the call
(:class:`~fpdm_video.models.hooks.base.UNetCall`), and combines the branches by the rule above.

A few-step student (``FPDMConfig.student``) was distilled from this rule: it is told the scale as
an input (``Guidance.embedded``, :mod:`fpdm_video.models.guidance_embedding`) and runs one f row
per frame and step.

Scales lie in [1, 20] (checked once, in ``pipelines.settings``); both at 1 means no guidance: only
the f branch is evaluated (B rows). With a guidance interval, steps outside it run the f branch
alone. The rule applies unchanged to v-predictions, since it is linear.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from fpdm_video.models.denoiser import RowConditions
from fpdm_video.models.guidance_rule import three_branch, two_branch
from fpdm_video.models.hooks.base import BRANCH_CONDITIONS, NO_HOOKS, HookSet, UNetCall

__all__ = ["BRANCH_CONDITIONS", "ChunkConditions", "GuidedDenoiser", "Guidance", "branches_for", "guided_prediction"]


def uses_guidance(guidance: float, guidance_source: float | None = None) -> bool:
    """Whether guidance branches are evaluated (a scale > 1) or only the full branch (both 1)."""
    return max(guidance, guidance if guidance_source is None else guidance_source) > 1.0


def branches_for(guidance: float, guidance_source: float | None = None, two_branches: bool = True) -> tuple[str, ...]:
    """The branches one step evaluates, in the order their rows are stacked (``two_branches=False``: the paper's three)."""
    if not uses_guidance(guidance, guidance_source):
        return ("f",)
    if two_branches and (guidance_source is None or guidance_source == guidance):
        return ("u", "f")
    return ("u", "s", "f")


def guided_prediction(eps_u: Tensor, eps_s: Tensor, eps_f: Tensor, guidance: float, guidance_source: float | None = None) -> Tensor:
    """ε̂ = ε_u + g_s (ε_s - ε_u) + g_f (ε_f - ε_s), g_f = ``guidance``, g_s = ``guidance_source`` (default g_f); all (B, C, h, w)."""
    return three_branch(eps_u, eps_s, eps_f, guidance, guidance_source)


@dataclass(frozen=True)
class Guidance:
    """FPDM's guidance rule of a run: the scales, where in the schedule they apply, and the branches they need."""

    scale: float = 2.0  # g (g_f with dual guidance)
    source_scale: float | None = None  # g_s; None: g
    interval: tuple[float, float] | None = None  # guidance only for timesteps in [lo T, hi T]; None: every step
    two_branches: bool = True  # one scale: u and f only (the s branch cancels)
    num_train_timesteps: int = 1000  # T
    embedded: bool = False  # a few-step student: the scale is the model's input (its guidance embedding), one f row per frame

    def scales_at(self, t: int) -> tuple[float, float | None]:
        """(g, g_s) at timestep ``t``: (1, None) outside the interval."""
        if self.interval is not None and not self.interval[0] * self.num_train_timesteps <= t <= self.interval[1] * self.num_train_timesteps:
            return 1.0, None
        return self.scale, self.source_scale

    def branches_at(self, t: int) -> tuple[str, ...]:
        if self.embedded:
            return ("f",)
        return branches_for(*self.scales_at(t), two_branches=self.two_branches)

    def combine(self, parts: dict[str, Tensor], t: int) -> Tensor:
        """The guided prediction (B, C, h, w) from each branch's float32 output."""
        if len(parts) == 1:
            return parts["f"]
        g, g_s = self.scales_at(t)
        if len(parts) == 2:
            return two_branch(parts["u"], parts["f"], g)
        return guided_prediction(parts["u"], parts["s"], parts["f"], g, g_s)


@dataclass(frozen=True)
class ChunkConditions:
    """The per-frame conditions of one chunk of B frames, in the model's dtype and on its device."""

    context: Tensor  # (B, N, C_ctx) projected source tokens (the same for every frame of a video)
    fused: Tensor  # (B, D) stage 1 fused embeddings
    pose_maps: Tensor  # (B, 3, H, W) [0, 1] target pose maps
    pose_feature: Tensor | None = None  # (B, C0, h, w) their pose features, when computed once (else every call)
    shared_start: bool = False  # every frame starts from the same latents: step 0's u branch runs once

    @property
    def frames(self) -> int:
        return self.fused.shape[0]


class GuidedDenoiser:
    """``denoise(x, t, step)``: the guided model output (B, C, h, w) float32 of one chunk, from one UNet call per step."""

    def __init__(self, model, conditions: ChunkConditions, guidance: Guidance, hooks: HookSet = NO_HOOKS, first_frame: int = 0) -> None:
        self.model, self.conditions, self.guidance, self.hooks, self.first_frame = model, conditions, guidance, hooks, first_frame
        self.dtype = conditions.fused.dtype

    def call_at(self, t: int, step: int, grid: tuple[int, int]) -> UNetCall:
        """The rows of the call at ``step`` on latents of ``grid`` (h, w): its branches, B rows each (1 for a u branch every frame shares)."""
        batch = self.conditions.frames
        branches = self.guidance.branches_at(t)
        shared = self.conditions.shared_start and step == 0
        counts = tuple(1 if b == "u" and shared else batch for b in branches)
        return UNetCall(self.hooks, step, self.first_frame, batch, branches, counts, grid)

    def __call__(self, latents: Tensor, t: int, step: int) -> Tensor:
        call = self.call_at(t, step, tuple(latents.shape[-2:]))
        c = self.conditions
        keep = (True, True, True) if call.branches == ("f",) else tuple(call.keeps(i, latents.device) for i in range(3))
        rows = RowConditions(
            context=call.stack(c.context), fused=call.stack(c.fused),
            pose_map=None if c.pose_feature is not None else call.stack(c.pose_maps),
            pose_feature=None if c.pose_feature is None else call.stack(c.pose_feature),
            keep_pose=keep[0], keep_source=keep[1], keep_fused=keep[2],
            guidance=torch.full((sum(call.counts),), self.guidance.scale, device=latents.device) if self.guidance.embedded else None,
        )  # fmt: skip
        timesteps = torch.full((sum(call.counts),), t, device=latents.device, dtype=torch.long)
        output = self.model.denoise(call.stack(latents.to(self.dtype)), timesteps, rows, call).float()  # (rows, C, h, w)
        parts = {b: p.expand(c.frames, *p.shape[1:]) for b, p in zip(call.branches, call.split(output))}
        return self.guidance.combine(parts, t)
