"""Cross-attention keys and values of the source context, computed once per video instead of in every UNet row.

The context (the reference photo's projected tokens) is the same for every frame and every step of
a video, and the guidance branches that drop it see zeros (the model masks it). Each
cross-attention layer's keys and values are therefore one of two tensors per layer: those of the
context and those of zeros. :class:`ContextKV` computes both when the video begins and hands them
to every cross-attention call, row by row (a row keeps the source or sees zeros, as its branch
says), in place of ``to_k`` / ``to_v``. The output is the same as computing them, up to float
rounding (a test checks it).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from fpdm_video.models.hooks.attention import plain_layout
from fpdm_video.models.hooks.base import KV, SamplingHook, UNetCall


def cacheable(attn: nn.Module) -> bool:
    """Cross-attention whose keys and values are plain projections of the context (no norms on them)."""
    return attn.is_cross_attention and plain_layout(attn) and attn.norm_k is None


class ContextKV(SamplingHook):
    """Per cross-attention layer, the (key, value) of the video's context and of zeros, each (1, N, inner)."""

    name = "context_kv"

    def __init__(self) -> None:
        self.on: dict[nn.Module, KV] = {}
        self.off: dict[nn.Module, KV] = {}
        self.tokens = 0

    @torch.no_grad()
    def begin_video(self, denoiser: nn.Module, context: Tensor) -> None:
        from diffusers.models.attention_processor import Attention

        if context.ndim != 3 or context.shape[0] != 1:
            raise ValueError(f"the context keys and values are of one context (1, N, C), got {tuple(context.shape)}")
        zeros = torch.zeros_like(context)
        self.on, self.off, self.tokens = {}, {}, context.shape[1]
        for module in denoiser.unet.modules():
            if isinstance(module, Attention) and cacheable(module):
                self.on[module] = (module.to_k(context), module.to_v(context))
                self.off[module] = (module.to_k(zeros), module.to_v(zeros))

    def acts_on(self, attn: nn.Module) -> bool:
        return attn in self.on

    def context_keys_values(self, attn: nn.Module, call: UNetCall, context: Tensor) -> KV | None:
        if context.shape[1] != self.tokens:
            raise ValueError(f"the cached context keys are for {self.tokens} tokens, the call has {context.shape[1]}")
        keep = call.keeps(1, context.device).view(-1, 1, 1)  # (rows, 1, 1)
        (k_on, v_on), (k_off, v_off) = self.on[attn], self.off[attn]
        return torch.where(keep, k_on, k_off), torch.where(keep, v_on, v_off)  # (rows, N, inner)
