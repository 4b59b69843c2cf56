"""The attention processor every FPDM UNet layer runs: diffusers' scaled-dot-product attention, with the call's hooks.

:class:`HookedAttnProcessor` is set on every attention layer when the model is built, and holds no
state. A call without hooks for a layer (training, or no trick acting there) runs diffusers' own
``AttnProcessor2_0``. Otherwise, for layers in Stable Diffusion's layout (:func:`plain_layout`):

    self-attention:  hidden -> merge_tokens -> q, k, v -> self_keys_values (each hook) -> attend -> unmerge
    cross-attention: q from hidden; k, v from context_keys_values (the first hook giving them) or computed

:func:`attend` is the multi-head part of ``AttnProcessor2_0`` for processors that bring their own
keys and values.
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


def plain_layout(attn: nn.Module) -> bool:
    """Attention as Stable Diffusion's transformer blocks have it: no norms on the input or the context, no residual inside."""
    return (attn.spatial_norm is None and attn.group_norm is None and not attn.norm_cross and not attn.residual_connection
            and attn.rescale_output_factor == 1.0)  # fmt: skip


class HookedAttnProcessor:
    """diffusers' ``AttnProcessor2_0``, letting the hooks of the call (``cross_attention_kwargs["call"]``) act."""

    def __init__(self) -> None:
        from diffusers.models.attention_processor import AttnProcessor2_0

        self.plain = AttnProcessor2_0()

    def __call__(self, attn, hidden_states: Tensor, encoder_hidden_states: Tensor | None = None,
                 attention_mask: Tensor | None = None, temb: Tensor | None = None, call=None) -> Tensor:  # fmt: skip
        hooks = () if call is None else call.hooks.for_layer(attn)
        if not hooks or attention_mask is not None or hidden_states.ndim != 3 or not plain_layout(attn):
            return self.plain(attn, hidden_states, encoder_hidden_states, attention_mask, temb)
        if encoder_hidden_states is not None:  # cross-attention
            kv = next((kv for h in hooks if (kv := h.context_keys_values(attn, call, encoder_hidden_states)) is not None), None)
            key, value = kv if kv is not None else (attn.to_k(encoder_hidden_states), attn.to_v(encoder_hidden_states))
            return attend(attn, attn.to_q(hidden_states), key.to(hidden_states.dtype), value.to(hidden_states.dtype))
        unmerges = []
        for hook in hooks:
            merged = hook.merge_tokens(attn, call, hidden_states)
            if merged is not None:
                hidden_states, unmerge = merged
                unmerges.append(unmerge)
        key, value = attn.to_k(hidden_states), attn.to_v(hidden_states)
        for hook in hooks:
            key, value = hook.self_keys_values(attn, call, key, value)
        out = attend(attn, attn.to_q(hidden_states), key, value)
        for unmerge in reversed(unmerges):
            out = unmerge(out)
        return out
