"""Cross-attention keys and values of the source context, computed once per video instead of in every UNet row.

The context (the reference photo's projected tokens) is the same for every frame and every step of
a video, and the guidance branches that drop it see zeros. Each cross-attention layer's keys and
values are therefore one of two tensors per layer: those of the context, and those of zeros.
:func:`context_kv` computes both once; :class:`ContextAttnProcessor`, set on every attention layer
of the UNet through diffusers' attention processors, uses them in place of ``to_k`` / ``to_v`` when
the call hands them over (``cross_attention_kwargs``). Without them, and on self-attention layers,
it computes exactly what diffusers' ``AttnProcessor2_0`` computes. Given a temporal view
(``cross_attention_kwargs["temporal"]``), its self-attention layers also attend to anchor frames
(:mod:`fpdm_video.models.temporal_attention`).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

from fpdm_video.models.attention_heads import attend
from fpdm_video.models.temporal_attention import TemporalView, supports_temporal, temporal_self_attention


@dataclass(frozen=True)
class ContextKV:
    """Per cross-attention layer (keyed by the module), the (key, value) of the context and of zeros, each (1, N, inner)."""

    on: dict[nn.Module, tuple[Tensor, Tensor]]
    off: dict[nn.Module, tuple[Tensor, Tensor]]
    tokens: int  # N, the context length they were computed for


@dataclass(frozen=True)
class RowsKV:
    """A ContextKV with the rows of one UNet call that use the context (the rest see zeros)."""

    kv: ContextKV
    rows: bool | Tensor  # True / False for every row, or (B,) bool


def _plain_layer(attn) -> bool:
    """The layers whose keys and values may be replaced: cross-attention without norms or masks on K/V."""
    return (attn.is_cross_attention and attn.spatial_norm is None and attn.group_norm is None and not attn.norm_cross
            and attn.norm_k is None and not attn.residual_connection and attn.rescale_output_factor == 1.0)  # fmt: skip


@torch.no_grad()
def context_kv(unet: nn.Module, context: Tensor) -> ContextKV | None:
    """The keys and values of ``context`` (1, N, C_ctx) and of zeros for every cross-attention layer of ``unet``.

    None when some cross-attention layer normalises or masks its keys (nothing is cached then).
    """
    from diffusers.models.attention_processor import Attention

    if context.ndim != 3 or context.shape[0] != 1:
        raise ValueError(f"context_kv takes one context (1, N, C), got {tuple(context.shape)}")
    zeros = torch.zeros_like(context)
    on, off = {}, {}
    for module in unet.modules():
        if isinstance(module, Attention) and module.is_cross_attention:
            if not _plain_layer(module):
                return None
            on[module] = (module.to_k(context), module.to_v(context))
            off[module] = (module.to_k(zeros), module.to_v(zeros))
    return ContextKV(on=on, off=off, tokens=context.shape[1])


def _rows(on: Tensor, off: Tensor, rows: bool | Tensor, batch: int) -> Tensor:
    if isinstance(rows, bool):
        return (on if rows else off).expand(batch, -1, -1)
    return torch.where(rows.to(on.device).view(-1, 1, 1), on, off)  # (B, N, inner)


class ContextAttnProcessor:
    """diffusers' scaled-dot-product attention, taking cached context keys and values when given them.

    With a ``temporal`` view, self-attention layers also attend to the anchor frames' keys and values.
    """

    def __init__(self) -> None:
        from diffusers.models.attention_processor import AttnProcessor2_0

        self.plain = AttnProcessor2_0()

    def __call__(self, attn, hidden_states: Tensor, encoder_hidden_states: Tensor | None = None,
                 attention_mask: Tensor | None = None, temb: Tensor | None = None, context_kv: RowsKV | None = None,
                 temporal: TemporalView | None = None) -> Tensor:  # fmt: skip
        if temporal is not None and encoder_hidden_states is None and attention_mask is None and hidden_states.ndim == 3 \
                and supports_temporal(attn):  # fmt: skip
            return temporal_self_attention(attn, hidden_states, temporal)
        cached = None if context_kv is None or encoder_hidden_states is None else context_kv.kv.on.get(attn)
        if cached is None:
            return self.plain(attn, hidden_states, encoder_hidden_states, attention_mask, temb)
        if attention_mask is not None or hidden_states.ndim != 3:  # not SD's layout: compute K/V, rows off as zeros
            rows = context_kv.rows
            kept = encoder_hidden_states * (float(rows) if isinstance(rows, bool) else rows.to(encoder_hidden_states).view(-1, 1, 1))
            return self.plain(attn, hidden_states, kept, attention_mask, temb)
        batch = hidden_states.shape[0]
        if encoder_hidden_states.shape[:2] != (batch, context_kv.kv.tokens):
            raise ValueError(f"cached context keys are for {context_kv.kv.tokens} tokens, the call has "
                             f"{tuple(encoder_hidden_states.shape[:2])}")  # fmt: skip
        off = context_kv.kv.off[attn]
        key = _rows(cached[0], off[0], context_kv.rows, batch).to(hidden_states.dtype)
        value = _rows(cached[1], off[1], context_kv.rows, batch).to(hidden_states.dtype)
        return attend(attn, attn.to_q(hidden_states), key, value)
