"""The multi-head part of diffusers' scaled-dot-product attention, for processors that bring their own keys and values.

``AttnProcessor2_0`` projects, splits into heads, normalises queries and keys (when the layer has
those norms), attends and projects out. The project's processors (cached context keys and values,
cross-frame attention) change only where the keys and values come from; :func:`attend` is the rest.
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn


def attend(attn: nn.Module, query: Tensor, key: Tensor, value: Tensor) -> Tensor:
    """(B, Nq, inner) queries and (B, Nk, inner) keys and values of layer ``attn`` -> its output (B, Nq, C)."""
    batch = query.shape[0]
    head_dim = key.shape[-1] // attn.heads
    query, key, value = (x.view(batch, -1, attn.heads, head_dim).transpose(1, 2) for x in (query, key, value))
    if attn.norm_q is not None:
        query = attn.norm_q(query)
    if attn.norm_k is not None:
        key = attn.norm_k(key)
    out = F.scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False)
    out = out.transpose(1, 2).reshape(batch, -1, attn.heads * head_dim).to(query.dtype)
    return attn.to_out[1](attn.to_out[0](out))
