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
(``same_latents``), so the call has B + 1 rows instead of 2B.

:func:`guided_model_output_deep` is the same call with step feature caching (DeepCache,
``fpdm_video.models.deep_cache``): each branch's deep feature is kept per branch, so a step that
evaluates other branches than the last full step (the first guided step after unguided ones)
runs the whole UNet again.

As in diffusers' pipelines, scales ``<= 1`` (both) mean no guidance: only the f branch is evaluated
(B rows), and values below 1 are treated as 1. The rule applies unchanged to v-predictions, since it
is linear.
"""

from __future__ import annotations

import torch
from torch import Tensor

# (use_pose, use_source, use_fused) of each branch.
BRANCH_CONDITIONS: dict[str, tuple[bool, bool, bool]] = {
    "u": (False, False, False),
    "s": (True, True, False),
    "f": (True, True, True),
}


def uses_guidance(guidance: float, guidance_source: float | None = None) -> bool:
    """Whether guidance branches are evaluated (a scale > 1) or only the full branch (both <= 1)."""
    return max(guidance, guidance if guidance_source is None else guidance_source) > 1.0


def branches_for(guidance: float, guidance_source: float | None = None, two_branches: bool = True) -> tuple[str, ...]:
    """The branches one step evaluates, in the order their rows are stacked (``two_branches=False``: the paper's three)."""
    if not uses_guidance(guidance, guidance_source):
        return ("f",)
    if two_branches and (guidance_source is None or max(guidance_source, 1.0) == max(guidance, 1.0)):
        return ("u", "f")
    return ("u", "s", "f")


def guided_prediction(eps_u: Tensor, eps_s: Tensor, eps_f: Tensor, guidance: float, guidance_source: float | None = None) -> Tensor:
    """ε̂ = ε_u + g_s (ε_s - ε_u) + g_f (ε_f - ε_s), g_f = ``guidance``, g_s = ``guidance_source`` (default g_f); all (B, C, h, w)."""
    g_s = guidance if guidance_source is None else guidance_source
    return eps_u + g_s * (eps_s - eps_u) + guidance * (eps_f - eps_s)


def branch_flags(batch: int, device: torch.device | str, branches: tuple[str, ...] = ("u", "s", "f"),
                 counts: list[int] | None = None) -> tuple[Tensor, Tensor, Tensor]:  # fmt: skip
    """(use_pose, use_source, use_fused), each (rows,) bool, for rows stacked branch by branch in ``branches``' order.

    Each branch has ``batch`` rows, or ``counts[i]`` rows when given.
    """
    table = torch.tensor([BRANCH_CONDITIONS[name] for name in branches], device=device)  # (k branches, 3 flags)
    repeats = torch.tensor(counts if counts is not None else [batch] * len(branches), device=device)
    flags = table.repeat_interleave(repeats, dim=0)  # (rows, 3 flags)
    return flags[:, 0], flags[:, 1], flags[:, 2]


def guided_model_output(
    model,
    latents: Tensor,
    timestep: int,
    pose_map: Tensor | None,
    context: Tensor,
    fused: Tensor,
    guidance: float,
    guidance_source: float | None = None,
    *,
    pose_feature: Tensor | None = None,
    kv=None,
    same_latents: bool = False,
    two_branches: bool = True,
    temporal=None,
) -> Tensor:
    """The guided model output (B, C, h, w) in float32, from one ``model.denoise`` call.

    The call has kB rows: k is 2 with one scale (u, f), 3 with two different scales (u, s, f), 1
    without guidance (f); with ``same_latents`` (every row's latents equal) the u branch has 1 row.
    latents (B, C, h, w), pose_map (B, 3, H, W), context (B, N, C_ctx), fused (B, D), all in the
    model's dtype and on its device. ``pose_feature`` (B, C0, h, w) and ``kv`` are the reusable forms
    of the pose maps and the context (``model.pose_features``, ``model.context_kv``); pose_map may
    then be None. ``temporal`` (a ``TemporalView`` of the chunk and step) adds cross-frame attention;
    it is told the call's rows here.
    """
    call = _BranchCall.of(latents, guidance, guidance_source, same_latents, two_branches)
    args, kwargs = call.model_inputs(latents, timestep, pose_map, context, fused, pose_feature, kv, temporal)
    return call.combine(model.denoise(*args, **kwargs).float(), guidance, guidance_source)


DeepFeatures = dict[str, Tensor]  # guidance branch -> the deep feature (B, C0, h, w) of its rows at the last full step


def guided_model_output_deep(model, latents: Tensor, timestep: int, pose_map: Tensor | None, context: Tensor, fused: Tensor,
                             guidance: float, guidance_source: float | None = None, *, cached: DeepFeatures | None,
                             pose_feature: Tensor | None = None, kv=None, same_latents: bool = False,
                             two_branches: bool = True, temporal=None) -> tuple[Tensor, DeepFeatures]:  # fmt: skip
    """:func:`guided_model_output` with step feature caching (``model.denoise_deep``): (output, deep features).

    With ``cached`` holding every branch this step evaluates, only the UNet's shallow blocks run,
    around those features, and ``cached`` is returned; otherwise (None, or a branch missing, as at
    the first guided step after unguided ones) the whole UNet runs and its features are returned.
    """
    call = _BranchCall.of(latents, guidance, guidance_source, same_latents, two_branches)
    args, kwargs = call.model_inputs(latents, timestep, pose_map, context, fused, pose_feature, kv, temporal)
    shallow = cached is not None and all(name in cached for name in call.branches)
    output, feature = model.denoise_deep(*args, deep_feature=_rows_of(cached, call) if shallow else None, **kwargs)
    if not shallow:
        cached = call.per_branch(feature)
    return call.combine(output.float(), guidance, guidance_source), cached


def _rows_of(cached: DeepFeatures, call: _BranchCall) -> Tensor:
    """The cached features stacked in the rows of ``call`` (a u branch of one row takes the first of its B)."""
    return torch.cat([cached[name][:n] for name, n in zip(call.branches, call.counts)])


class _BranchCall:
    """The rows of one guided UNet call: which branches, with how many rows each, for a batch of B."""

    def __init__(self, batch: int, branches: tuple[str, ...], counts: list[int]) -> None:
        self.batch, self.branches, self.counts = batch, branches, counts

    @classmethod
    def of(cls, latents: Tensor, guidance: float, guidance_source: float | None, same_latents: bool, two_branches: bool) -> _BranchCall:
        batch = latents.shape[0]
        branches = branches_for(guidance, guidance_source, two_branches)
        return cls(batch, branches, [1 if name == "u" and same_latents else batch for name in branches])

    def stack(self, x: Tensor) -> Tensor:
        """(B, ...) per-frame values -> (rows, ...) stacked branch by branch."""
        return torch.cat([x[:n] for n in self.counts])

    def per_branch(self, rows: Tensor) -> DeepFeatures:
        """(rows, ...) -> branch -> (B, ...) (a one-row branch, equal for every frame, expanded)."""
        return {name: p.expand(self.batch, *p.shape[1:]) for name, p in zip(self.branches, rows.split(self.counts))}

    def model_inputs(self, latents, timestep, pose_map, context, fused, pose_feature, kv, temporal=None) -> tuple[tuple, dict]:
        """The positional and keyword arguments of ``model.denoise`` for these rows."""
        if len(self.branches) == 1:  # the f branch alone: every condition on, as plain flags
            use_pose = use_source = use_fused = True
        else:
            use_pose, use_source, use_fused = branch_flags(self.batch, latents.device, self.branches, self.counts)
        kwargs = {"use_pose": use_pose, "use_source": use_source, "use_fused": use_fused}
        if pose_feature is not None:  # the reusable forms, only when given (stand-in models need not know them)
            kwargs["pose_feature"] = self.stack(pose_feature)
        if kv is not None:
            kwargs["kv"] = kv
        if temporal is not None:  # cross-frame attention: the view learns the call's rows
            kwargs["temporal"] = temporal.with_rows(self.branches, self.counts, self.batch)
        timesteps = torch.full((sum(self.counts),), timestep, device=latents.device, dtype=torch.long)
        args = (self.stack(latents), timesteps, None if pose_map is None else self.stack(pose_map), self.stack(context), self.stack(fused))
        return args, kwargs

    def combine(self, output: Tensor, guidance: float, guidance_source: float | None) -> Tensor:
        """The guidance rule over the call's float32 output (rows, C, h, w) -> (B, C, h, w)."""
        parts = self.per_branch(output)
        if len(self.branches) == 1:
            return parts["f"]
        eps_u, eps_f = parts["u"], parts["f"]
        if len(self.branches) == 2:
            return eps_u + guidance * (eps_f - eps_u)
        g_s = guidance if guidance_source is None else guidance_source
        return guided_prediction(eps_u, parts["s"], eps_f, max(guidance, 1.0), max(g_s, 1.0))
