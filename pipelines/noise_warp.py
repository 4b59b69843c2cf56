"""Noise that moves with the signer: the previous frame's noise carried along the canvas's motion field.

FPDM gives every frame the same noise, which holds colours steady but paints texture in screen
space ("texture sticking", Chang et al. ICLR 2024). Here frame t's noise is frame t - 1's, moved
along the motion of the target poses (``fpdm_video.pose.motion_field``, pooled to latent cells),
in a way that keeps it exactly i.i.d. standard Gaussian:

1. **Split.** Each latent cell's value X is split into k x k sub-cell values with the conditional
   law of Chang et al.'s integral noise: ``Y = X / k + (Z - mean(Z))``, Z ~ N(0, I) over the k^2
   sub-cells. Then ``sum(Y) / k = X`` exactly, and the Y are i.i.d. N(0, 1) (their covariance:
   1/k^2 - 1/k^2 = 0 between two sub-cells, 1/k^2 + 1 - 1/k^2 = 1 on the diagonal).
2. **Move.** Each sub-cell's centre moves by the field (bilinear between cell centres) and lands in
   one cell of the next frame (nearest-cell splatting, as Go-with-the-Flow, Burgert et al. CVPR
   2025, moves its noise particles).
3. **Gather.** A cell that received n > 0 sub-cells gets ``sum(Y) / sqrt(n)``: a sum of n i.i.d.
   N(0, 1) over sqrt(n) is N(0, 1), and different cells sum disjoint sub-cells, so they stay
   independent. A cell that received nothing (a region opening up) gets fresh noise. A cell that
   received exactly its own k^2 sub-cells gets X back bit for bit, so a zero field gives fixed noise.

This is the discrete form of integral noise (Chang et al. rasterise each warped pixel as a polygon;
sub-cells sample it) with Go-with-the-Flow's particle move; it was chosen over the polygon form for
its cost (a few scatter-adds per frame at latent size) and over Go-with-the-Flow's own density
bookkeeping because splitting each frame's noise afresh keeps no state beyond the noise itself,
which a chunked, resumable video sampler needs. ``bilinear`` is the naive baseline: the previous
noise sampled bilinearly at ``p - u(p)`` and renormalised to zero mean and unit variance per map;
it blurs the noise (neighbouring cells become correlated), which diffusion models turn into flat,
washed-out output.

All randomness of frame t comes from a generator seeded by (seed, t), so the noise of a frame does
not depend on how frames are batched or chunked, only on the frames before it.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from pipelines.settings.sampling import WARP_MODES

SUBCELLS = 4  # k: sub-cells per cell side (k^2 = 16 particles per latent cell)


def read_cells(maps: Tensor, x: Tensor, y: Tensor) -> Tensor:
    """Cell-centred maps (N, C, h, w) read bilinearly at points (x, y) of any shape S, in cell units (centres at
    j + 0.5), border-clamped: (N, C, *S) float32."""
    h, w = maps.shape[-2:]
    gx = (x / w) * 2 - 1  # align_corners=False: -1 and 1 are the outer edges of the grid
    gy = (y / h) * 2 - 1
    grid = torch.stack([gx, gy], dim=-1).reshape(1, -1, 1, 2).expand(maps.shape[0], -1, -1, -1)  # (N, P, 1, 2)
    sampled = F.grid_sample(maps.float(), grid.float(), mode="bilinear", padding_mode="border", align_corners=False)
    return sampled.reshape(*maps.shape[:2], *x.shape)


def _field_at(flow: Tensor, x: Tensor, y: Tensor) -> tuple[Tensor, Tensor]:
    """The cell-centred field (2, h, w) read bilinearly at points (x, y) in cell units, border-clamped."""
    sampled = read_cells(flow[None], x, y)[0]
    return sampled[0], sampled[1]


def warp_noise(noise: Tensor, flow: Tensor, generator: torch.Generator, subcells: int = SUBCELLS) -> Tensor:
    """(M, C, h, w) i.i.d. N(0, 1) noise of frame t - 1 -> frame t's, moved along ``flow`` (2, h, w), in cells.

    ``flow`` is the forward displacement of each cell centre from t - 1 to t. The sub-cell draws and
    the fresh noise come from ``generator`` (CPU), in a fixed order.
    """
    if noise.ndim != 4 or flow.shape != (2, *noise.shape[-2:]):
        raise ValueError(f"noise (M, C, h, w) and flow (2, h, w) must agree, got {tuple(noise.shape)} and {tuple(flow.shape)}")
    m, c, h, w = noise.shape
    k = subcells
    noise = noise.float()
    # 1. Split: (M, C, h, w, k, k) i.i.d. N(0, 1) sub-cells that sum to k X
    z = torch.randn((m, c, h, w, k, k), generator=generator, dtype=torch.float32)
    y = noise[..., None, None] / k + (z - z.mean(dim=(-2, -1), keepdim=True))
    fresh = torch.randn((m, c, h, w), generator=generator, dtype=torch.float32)
    # 2. Move: the centre of sub-cell (a, b) of cell (i, j) is (j + (b + 0.5) / k, i + (a + 0.5) / k)
    offsets = (torch.arange(k, dtype=torch.float32) + 0.5) / k
    ys = torch.arange(h, dtype=torch.float32)[:, None, None, None] + offsets[None, None, :, None]  # (h, 1, k, 1)
    xs = torch.arange(w, dtype=torch.float32)[None, :, None, None] + offsets[None, None, None, :]  # (1, w, 1, k)
    ys, xs = torch.broadcast_to(ys, (h, w, k, k)), torch.broadcast_to(xs, (h, w, k, k))
    dx, dy = _field_at(flow, xs, ys)  # (h, w, k, k)
    tx, ty = torch.floor(xs + dx).long(), torch.floor(ys + dy).long()
    inside = (tx >= 0) & (tx < w) & (ty >= 0) & (ty < h)  # (h, w, k, k)
    target = (ty * w + tx)[inside]  # (P,) flat target cell of each kept sub-cell
    source = torch.arange(h * w).reshape(h, w, 1, 1).expand(h, w, k, k)[inside]  # (P,)
    # 3. Gather: per target cell the count, the sum, and whether all its sub-cells came from one source
    count = torch.zeros(h * w, dtype=torch.float32).index_add_(0, target, torch.ones_like(target, dtype=torch.float32))
    values = y.reshape(m, c, h, w, k, k)[..., inside]  # (M, C, P)
    total = torch.zeros(m, c, h * w, dtype=torch.float32).index_add_(2, target, values)
    lowest = torch.full((h * w,), h * w, dtype=torch.long).scatter_reduce_(0, target, source, reduce="amin")
    highest = torch.full((h * w,), -1, dtype=torch.long).scatter_reduce_(0, target, source, reduce="amax")
    out = torch.where(count > 0, total / count.clamp(min=1).sqrt(), fresh.reshape(m, c, h * w))
    whole = (count == k * k) & (lowest == highest)  # exactly one source cell's k^2 sub-cells: its own value
    out = torch.where(whole, noise.reshape(m, c, h * w)[..., lowest.clamp(0, h * w - 1)], out)
    return out.reshape(m, c, h, w)


def bilinear_warp(noise: Tensor, flow: Tensor) -> Tensor:
    """The naive baseline: (M, C, h, w) noise sampled bilinearly at p - u(p), renormalised per (M, C) map."""
    if noise.ndim != 4 or flow.shape != (2, *noise.shape[-2:]):
        raise ValueError(f"noise (M, C, h, w) and flow (2, h, w) must agree, got {tuple(noise.shape)} and {tuple(flow.shape)}")
    if not flow.any():
        return noise.float().clone()
    m, c, h, w = noise.shape
    ys, xs = torch.meshgrid(torch.arange(h, dtype=torch.float32) + 0.5, torch.arange(w, dtype=torch.float32) + 0.5, indexing="ij")
    flow = flow.float()
    gx, gy = (xs - flow[0]) / w * 2 - 1, (ys - flow[1]) / h * 2 - 1
    grid = torch.stack([gx, gy], dim=-1)[None].expand(m, h, w, 2)
    moved = F.grid_sample(noise.float(), grid, mode="bilinear", padding_mode="reflection", align_corners=False)
    mean = moved.mean(dim=(-2, -1), keepdim=True)
    std = moved.std(dim=(-2, -1), keepdim=True).clamp(min=1e-6)
    return (moved - mean) / std


def move_noise(mode: str, noise: Tensor, flow: Tensor, generator: torch.Generator) -> Tensor:
    """Frame t's noise (M, C, h, w) from frame t - 1's by ``mode`` ("warped" or "bilinear") along ``flow`` (2, h, w)."""
    if mode == "warped":
        return warp_noise(noise, flow, generator)
    if mode == "bilinear":
        return bilinear_warp(noise, flow)
    raise ValueError(f"noise mode {mode!r} does not move the noise; use one of {', '.join(WARP_MODES)}")
