"""The guidance-scale input of a few-step student (latent consistency distillation, Luo et al. 2023).

A student distilled from FPDM's guided sampler predicts, in one UNet row, what the teacher's two
guided rows give at scale g. It is told g as LCM does: a sinusoidal embedding of g (the one
diffusers' LCM pipelines use, of ``w * 1000``) through the UNet's ``time_cond_proj_dim`` input, a
linear map added to the timestep embedding (``TimestepEmbedding.cond_proj``). Here ``w = g - 1``, so
that g = 1 (no guidance) embeds as sin 0 / cos 0 and the teacher's own scale range [1, 20] maps
onto LCM's w >= 0. The map starts at zero when a student is made from a teacher, so the untrained
student is exactly the teacher's fully conditioned branch.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor


def guidance_embedding(scale: Tensor, dim: int) -> Tensor:
    """(B,) guidance scales g -> (B, dim) sinusoidal embeddings of (g - 1) * 1000, in ``scale``'s dtype."""
    w = (scale.float() - 1.0) * 1000.0
    half = dim // 2
    freqs = torch.exp(torch.arange(half, device=scale.device, dtype=torch.float32) * -(math.log(10000.0) / (half - 1)))
    angles = w[:, None] * freqs[None, :]
    emb = torch.cat([torch.sin(angles), torch.cos(angles)], dim=1)
    if dim % 2:
        emb = torch.nn.functional.pad(emb, (0, 1))
    return emb.to(scale.dtype)
