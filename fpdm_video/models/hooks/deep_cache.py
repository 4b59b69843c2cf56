"""Step feature caching in the manner of DeepCache (Ma, Fang and Wang, CVPR 2024): the deep part of the UNet
computed every N steps, the shallow part at every step.

Between neighbouring denoising steps the UNet's deep features change little. A *full* step runs
diffusers' own ``UNet2DConditionModel.forward`` and keeps the input of the last up block (the
output of everything deeper, upsampled to the shallowest level). A *shallow* step runs only what
sits at the shallowest level, around that kept feature:

    time and class embedding -> conv_in -> down_blocks[0]  (its skip connections)
    kept feature + skips     -> up_blocks[-1] -> conv_norm_out -> conv_act -> conv_out

Everything else (the deeper down blocks, the mid block and the other up blocks) is skipped. The
full step is the UNet's own forward (a forward pre-hook on the last up block, installed for the
video, reads the feature);
the shallow step calls the same modules in the same order as that forward, so given the feature
of the same step it returns the full step's output (a test checks it). This is an approximation
(opt-in): its cost in quality is measured in docs/speed.md.

Only UNets built the way FPDM builds them are supported (no addition embeddings, no input
centring, no encoder projection, no concatenated class embedding, no time-embedding activation);
:func:`deep_cache_problem` says why another one is not, from the UNet's constructor arguments
alone (so settings are checked before a model loads).

:class:`DeepCache` keeps the deep feature of each guidance branch from the last full step, so a
step that evaluates other branches than that step did (the first guided step after unguided ones)
runs the whole UNet again. A chunk's first step is always a full one.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import Tensor, nn

from fpdm_video.models.hooks.base import RunUNet, SamplingHook, UNetCall


def deep_cache_problem(unet_kwargs: Mapping) -> str | None:
    """Why step feature caching cannot run on a UNet2DConditionModel built with ``unet_kwargs``, or None when it can."""
    get = unet_kwargs.get
    reasons = {
        "it has fewer than two up blocks": len(get("up_block_types", (0, 0, 0, 0))) < 2,
        "it centres its input": bool(get("center_input_sample", False)),
        "it has addition embeddings": get("addition_embed_type") is not None,
        "it concatenates its class embedding": bool(get("class_embeddings_concat", False)),
        "it has a time-embedding activation": get("time_embedding_act_fn") is not None,
        "it projects its encoder states": get("encoder_hid_dim") is not None,
    }
    return next((reason for reason, applies in reasons.items() if applies), None)


def _cross(block: nn.Module, encoder_hidden_states: Tensor, cross_attention_kwargs: dict | None) -> dict:
    if getattr(block, "has_cross_attention", False):
        return {"encoder_hidden_states": encoder_hidden_states, "cross_attention_kwargs": cross_attention_kwargs}
    return {}


def shallow_forward(unet: nn.Module, sample: Tensor, feature: Tensor, *, timestep: Tensor, encoder_hidden_states: Tensor,
                    class_labels: Tensor | None, cross_attention_kwargs: dict | None = None,
                    timestep_cond: Tensor | None = None) -> Tensor:  # fmt: skip
    """The UNet's output with the input of its last up block taken as ``feature`` (from a full step); see the module docstring."""
    t_emb = unet.get_time_embed(sample=sample, timestep=timestep)
    emb = unet.time_embedding(t_emb, timestep_cond)  # a few-step student's guidance embedding, if any
    class_emb = unet.get_class_embed(sample=sample, class_labels=class_labels)
    if class_emb is not None:
        emb = emb + class_emb
    hidden = unet.conv_in(sample)
    first = unet.down_blocks[0]
    _, first_skips = first(hidden_states=hidden, temb=emb, **_cross(first, encoder_hidden_states, cross_attention_kwargs))
    last = unet.up_blocks[-1]
    skips = ((hidden,) + tuple(first_skips))[: len(last.resnets)]  # what the full forward leaves for the last up block
    if feature.shape[0] != sample.shape[0]:
        raise ValueError(f"the kept feature has {feature.shape[0]} rows, the call {sample.shape[0]}")
    out = last(hidden_states=feature, temb=emb, res_hidden_states_tuple=skips, upsample_size=None,
               **_cross(last, encoder_hidden_states, cross_attention_kwargs))  # fmt: skip
    if unet.conv_norm_out is not None:
        out = unet.conv_act(unet.conv_norm_out(out))
    return unet.conv_out(out)


class DeepCache(SamplingHook):
    """The whole UNet every ``interval`` steps, its shallow blocks around the kept deep features in between."""

    name = "deep_cache"

    def __init__(self, interval: int) -> None:
        if isinstance(interval, bool) or not isinstance(interval, int) or interval < 2:
            raise ValueError(f"DeepCache needs an interval of 2 steps or more, got {interval!r}")
        self.interval = interval
        self.features: dict[str, Tensor] = {}  # guidance branch -> deep feature (B, C0, h, w) of the last full step
        self._latest: Tensor | None = None  # the last up block's input, as the pre-hook saw it
        self._handle = None

    def install(self, unet: nn.Module) -> None:
        def keep(module, args, kwargs):
            self._latest = kwargs["hidden_states"]

        self._handle = unet.up_blocks[-1].register_forward_pre_hook(keep, with_kwargs=True)

    def remove(self) -> None:
        if self._handle is not None:
            self._handle.remove()
        self._handle, self._latest, self.features = None, None, {}

    def run_unet(self, call: UNetCall, unet: nn.Module, run: RunUNet, sample: Tensor, kwargs: dict) -> Tensor:
        if call.step % self.interval != 0 and all(b in self.features for b in call.branches):
            feature = torch.cat([self.features[b][:n] for b, n in zip(call.branches, call.counts)])
            return shallow_forward(unet, sample, feature, **kwargs)
        out = run(sample)
        self.features = {b: f.expand(call.frames, *f.shape[1:]) for b, f in zip(call.branches, call.split(self._latest))}
        return out
