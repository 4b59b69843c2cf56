"""Step feature caching in the manner of DeepCache (Ma, Fang and Wang, CVPR 2024): the deep part of the UNet
computed every N steps, the shallow part at every step.

Between neighbouring denoising steps the UNet's deep features change little. A *full* step runs
diffusers' own ``UNet2DConditionModel.forward`` and keeps the input of the last up block (the
output of everything deeper, upsampled to the shallowest level). A *shallow* step runs only what
sits at the shallowest level, around that kept feature:

    time and class embedding -> conv_in -> down_blocks[0]  (its skip connections)
    kept feature + skips     -> up_blocks[-1] -> conv_norm_out -> conv_act -> conv_out

Everything else (the deeper down blocks, the mid block and the other up blocks) is skipped. The
full step is the UNet's own forward (a forward pre-hook on the last up block reads the feature);
the shallow step calls the same modules in the same order as that forward, so given the feature
of the same step it returns the full step's output (a test checks it). This is an approximation
(opt-in): its cost in quality is measured in docs/speed.md.

Only UNets built the way FPDM builds them are supported (no addition embeddings, no input
centring, no encoder projection, no concatenated class embedding, no time-embedding activation);
:func:`deep_cache_problem` says why another one is not.
"""

from __future__ import annotations

from torch import Tensor, nn


def deep_cache_problem(unet: nn.Module) -> str | None:
    """Why step feature caching cannot run on ``unet`` (a diffusers UNet2DConditionModel), or None when it can."""
    config = unet.config
    reasons = {
        "it has fewer than two up blocks": len(unet.up_blocks) < 2,
        "it centres its input": bool(config.center_input_sample),
        "it has addition embeddings": config.addition_embed_type is not None,
        "it concatenates its class embedding": bool(config.class_embeddings_concat),
        "it has a time-embedding activation": unet.time_embed_act is not None,
        "it projects its encoder states": unet.encoder_hid_proj is not None,
    }
    for reason, applies in reasons.items():
        if applies:
            return reason
    return None


def full_forward_keeping_feature(unet: nn.Module, sample: Tensor, timestep: Tensor, **kwargs) -> tuple[Tensor, Tensor]:
    """diffusers' forward of ``unet``, and the input of its last up block (B, C0, h, w) from that forward."""
    kept: list[Tensor] = []

    def keep(module, args, call_kwargs):
        kept.append(call_kwargs["hidden_states"])

    handle = unet.up_blocks[-1].register_forward_pre_hook(keep, with_kwargs=True)
    try:
        output = unet(sample, timestep, **kwargs).sample
    finally:
        handle.remove()
    return output, kept[0]


def _cross(block: nn.Module, encoder_hidden_states: Tensor, cross_attention_kwargs: dict | None) -> dict:
    if getattr(block, "has_cross_attention", False):
        return {"encoder_hidden_states": encoder_hidden_states, "cross_attention_kwargs": cross_attention_kwargs}
    return {}


def shallow_forward(unet: nn.Module, sample: Tensor, timestep: Tensor, feature: Tensor, *, encoder_hidden_states: Tensor,
                    class_labels: Tensor | None, cross_attention_kwargs: dict | None = None) -> Tensor:  # fmt: skip
    """The UNet's output with the input of its last up block taken as ``feature`` (from a full step); see the module docstring."""
    t_emb = unet.get_time_embed(sample=sample, timestep=timestep)
    emb = unet.time_embedding(t_emb, None)
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
