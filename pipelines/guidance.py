"""FPDM's three-way classifier-free guidance.

Three branches of the conditioned denoiser are evaluated at each step:

| branch | pose | source tokens | fused embedding |
| ------ | ---- | ------------- | --------------- |
| u      | off  | off           | off             |
| s      | on   | on            | off             |
| f      | on   | on            | on              |

("off" = replaced by zeros, as in training's condition dropout), and combined as

    ε̂ = ε_u + g (ε_s - ε_u) + g (ε_f - ε_s)

(the guidance of the FPDM paper; with g = 1 it is ε_f). As in diffusers' pipelines, ``g <= 1``
means no guidance: only the f branch is evaluated (B rows per call instead of 3B), and values of g
below 1 are treated as 1. The rule applies unchanged to v-predictions, since it is linear.
"""

from __future__ import annotations

import torch
from einops import rearrange, repeat
from torch import Tensor

# (use_pose, use_source, use_fused) of each branch, in the order the rows are stacked.
BRANCH_CONDITIONS: dict[str, tuple[bool, bool, bool]] = {
    "u": (False, False, False),
    "s": (True, True, False),
    "f": (True, True, True),
}


def uses_guidance(guidance: float) -> bool:
    """Whether the three branches are evaluated (g > 1) or only the full branch (g <= 1)."""
    return guidance > 1.0


def guided_prediction(eps_u: Tensor, eps_s: Tensor, eps_f: Tensor, guidance: float) -> Tensor:
    """ε̂ = ε_u + g (ε_s - ε_u) + g (ε_f - ε_s); all (B, C, h, w)."""
    return eps_u + guidance * (eps_s - eps_u) + guidance * (eps_f - eps_s)


def branch_flags(batch: int, device: torch.device | str) -> tuple[Tensor, Tensor, Tensor]:
    """(use_pose, use_source, use_fused), each (3B,) bool, for rows stacked as [u; s; f]."""
    table = torch.tensor([BRANCH_CONDITIONS[name] for name in ("u", "s", "f")], device=device)  # (3 branches, 3 flags)
    flags = repeat(table, "k c -> c (k b)", b=batch)  # (3 flags, 3B)
    return flags[0], flags[1], flags[2]


def guided_model_output(
    model,
    latents: Tensor,
    timestep: int,
    pose_map: Tensor,
    context: Tensor,
    fused: Tensor,
    guidance: float,
) -> Tensor:
    """The guided model output (B, C, h, w) in float32, from one ``model.denoise`` call of 3B rows (B if g <= 1).

    latents (B, C, h, w), pose_map (B, 3, R, R), context (B, N, C_ctx), fused (B, D), all in the
    model's dtype and on its device.
    """
    batch = latents.shape[0]
    guided = uses_guidance(guidance)
    copies = 3 if guided else 1
    if guided:
        use_pose, use_source, use_fused = branch_flags(batch, latents.device)
    else:  # the f branch alone: every condition on
        use_pose = use_source = use_fused = True
    stack = lambda x: repeat(x, "b ... -> (k b) ...", k=copies)  # noqa: E731  rows [u; s; f]
    timesteps = torch.full((copies * batch,), timestep, device=latents.device, dtype=torch.long)  # (kB,)
    output = model.denoise(
        stack(latents),
        timesteps,
        stack(pose_map),
        stack(context),
        stack(fused),
        use_pose=use_pose,
        use_source=use_source,
        use_fused=use_fused,
    ).float()  # (kB, C, h, w)
    if not guided:
        return output
    eps_u, eps_s, eps_f = rearrange(output, "(k b) ... -> k b ...", k=3)
    return guided_prediction(eps_u, eps_s, eps_f, guidance)
