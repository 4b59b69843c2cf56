"""Token merging for Stable Diffusion (ToMe for SD; Bolya and Hoffman, CVPR Workshops 2023): fewer tokens in self-attention.

Neighbouring latent tokens are often near duplicates. Before a self-attention layer at the latent
grid's resolution, a fraction ``ratio`` of its tokens is merged into their most similar neighbours
by bipartite soft matching (the paper's Algorithm 1 with its 2x2 partition): the grid is cut into
2x2 windows, one token of each window is a destination, every other token (a source) is paired
with its most similar destination (cosine similarity of the layer's input), and the ``ratio * N``
best-matched sources are averaged into their destinations. Queries, keys and values are computed
from the merged tokens, so attention costs (N - r)^2 instead of N^2; after it, every merged source
takes its destination's output again (unmerge), so the layer's output has all N tokens.

Choices (the paper's defaults where it has them): only self-attention is merged, only at the
finest level of the UNet that has attention (the paper merges at the latent resolution only,
``max_downsample`` 1, which is SD 2.x's finest attention level; the demo model's first level has no
attention, so there it is its second, at half the latent resolution); the destination of each
window moves with the step (step mod 4 picks which of the four), a deterministic stand-in for the
paper's random choice, so a seed still gives one video. Ratios above 0.75 would merge more tokens
than there are sources and are refused where settings are made. It is an approximation: its cost
in quality is measured in docs/speed.md. With cross-frame attention the anchors' keys and values
are those of the anchor's merged tokens (attention does not depend on the order of the keys).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from fpdm_video.models.hooks.attention import plain_layout
from fpdm_video.models.hooks.base import SamplingHook, UNetCall


def bipartite_matching(metric: Tensor, grid: tuple[int, int], merged: int, window: int) -> tuple[Callable, Callable]:
    """(merge, unmerge) for tokens (B, N, C) on a (h, w) grid, merging ``merged`` sources into destinations.

    ``window`` (0..3) picks the destination of each 2x2 window. merge: (B, N, C) -> (B, N - merged, C);
    unmerge: (B, N - merged, C) -> (B, N, C).
    """
    batch, tokens, _ = metric.shape
    h, w = grid
    is_dst = torch.zeros(h, w, dtype=torch.bool, device=metric.device)
    is_dst[window // 2 : h - h % 2 : 2, window % 2 : w - w % 2 : 2] = True
    order = torch.arange(tokens, device=metric.device)
    dst_ids, src_ids = order[is_dst.flatten()], order[~is_dst.flatten()]
    merged = min(merged, src_ids.numel())
    metric = F.normalize(metric.float(), dim=-1)
    scores = metric[:, src_ids] @ metric[:, dst_ids].transpose(1, 2)  # (B, Ns, Nd) cosine similarity
    best, best_dst = scores.max(dim=-1)  # (B, Ns): each source's most similar destination
    ranked = torch.sort(best, dim=-1, descending=True, stable=True).indices  # (B, Ns), deterministic ties
    moved, kept = ranked[:, :merged], ranked[:, merged:]  # sources merged away, sources kept
    into = best_dst.gather(1, moved)  # (B, r) the destination each moved source joins

    def take(x: Tensor, index: Tensor) -> Tensor:
        return x.gather(1, index[..., None].expand(-1, -1, x.shape[-1]))

    def merge(x: Tensor) -> Tensor:
        src, dst = x[:, src_ids], x[:, dst_ids]
        dst = dst.scatter_reduce(1, into[..., None].expand(-1, -1, x.shape[-1]), take(src, moved), reduce="mean", include_self=True)
        return torch.cat([take(src, kept), dst], dim=1)  # (B, N - r, C)

    def unmerge(y: Tensor) -> Tensor:
        kept_rows, dst = y[:, : kept.shape[1]], y[:, kept.shape[1] :]
        src = y.new_empty(batch, src_ids.numel(), y.shape[-1])
        src.scatter_(1, kept[..., None].expand(-1, -1, y.shape[-1]), kept_rows)
        src.scatter_(1, moved[..., None].expand(-1, -1, y.shape[-1]), take(dst, into))
        out = y.new_empty(batch, tokens, y.shape[-1])
        out[:, src_ids], out[:, dst_ids] = src, dst
        return out

    return merge, unmerge


class TokenMerge(SamplingHook):
    """Merge ``ratio`` of the tokens of each self-attention at the latent resolution, and unmerge after it."""

    name = "token_merge"

    def __init__(self, ratio: float) -> None:
        if not 0.0 < ratio <= 0.75:
            raise ValueError(f"token merging needs a ratio in (0, 0.75], got {ratio!r}")
        self.ratio = ratio
        self.max_downsample = 1  # the finest level with attention, set when installed
        self.layers: set[nn.Module] = set()

    def install(self, unet: nn.Module) -> None:
        from diffusers.models.attention_processor import Attention

        self.layers = {m for m in unet.modules() if isinstance(m, Attention) and not m.is_cross_attention and plain_layout(m)}
        first = next((i for i, block in enumerate(unet.down_blocks) if getattr(block, "attentions", None)), 0)
        self.max_downsample = 2**first

    def remove(self) -> None:
        self.layers = set()

    def acts_on(self, attn: nn.Module) -> bool:
        return attn in self.layers

    def merge_tokens(self, attn: nn.Module, call: UNetCall, hidden: Tensor) -> tuple[Tensor, Callable[[Tensor], Tensor]] | None:
        h0, w0 = call.grid
        tokens = hidden.shape[1]
        if not h0 * w0:
            return None
        downsample = round(math.sqrt(h0 * w0 / tokens))
        grid = (math.ceil(h0 / downsample), math.ceil(w0 / downsample))
        if downsample > self.max_downsample or grid[0] * grid[1] != tokens:
            return None
        merge, unmerge = bipartite_matching(hidden, grid, int(tokens * self.ratio), call.step % 4)
        return merge(hidden), unmerge
