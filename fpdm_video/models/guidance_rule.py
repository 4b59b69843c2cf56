"""FPDM's guidance rule as tensor arithmetic (why it has these forms: :mod:`pipelines.guidance`).

Linear in the model's outputs, so it applies alike to ε- and v-predictions, and ``scale`` may be a
number or a tensor that broadcasts (one scale per row, as distillation draws them).
"""

from __future__ import annotations

from torch import Tensor


def two_branch(out_u: Tensor, out_f: Tensor, scale) -> Tensor:
    """One scale g: out_u + g (out_f - out_u), which equals the paper's three-branch form at g_s = g_f = g."""
    return out_u + scale * (out_f - out_u)


def three_branch(out_u: Tensor, out_s: Tensor, out_f: Tensor, scale, source_scale=None) -> Tensor:
    """ε̂ = ε_u + g_s (ε_s - ε_u) + g_f (ε_f - ε_s), g_f = ``scale``, g_s = ``source_scale`` (default g_f)."""
    g_s = scale if source_scale is None else source_scale
    return out_u + g_s * (out_s - out_u) + scale * (out_f - out_s)
