"""Cross-frame attention, training-free: each frame's self-attention also sees an anchor frame's keys and values.

In every self-attention layer of the UNet, the queries of frame k attend to the keys and values of
frame k itself *and* of an anchor frame of the same guidance branch at the same step, concatenated
along the token axis (Text2Video-Zero, Khachatryan et al. 2023; Tune-A-Video's sparse-causal
attention, Wu et al. 2023, which keeps the anchors only):

- ``first``: frame 0 of the video;
- ``previous``: frame k - 1;
- ``both``: both anchors.

Frame 0 is its own anchor: duplicated keys and values leave softmax attention unchanged, so a
one-frame video is sampled as without cross-frame attention. No weights change; ``off`` is the
plain attention.

A video is sampled chunk by chunk (B frames per UNet call, every chunk running all steps), so an
anchor may lie in an earlier chunk. A :class:`TemporalStore`, one per video, keeps per (step,
attention layer, branch) the anchor keys and values that later chunks need: those of frame 0
(``first``, ``both``), computed once in the first chunk, and those of the previous chunk's last
frame (``previous``, ``both``), overwritten chunk by chunk. Its size is (self-attention layers) x
(steps) x (branches) x (tokens x inner channels x 2 for K and V) per kept frame; docs/evaluation.md
gives the demo model's figure. The output therefore does not depend on the batch size.

A :class:`TemporalView` tells one UNet call where it stands: the store, the first frame of the
chunk, the step index, and the call's rows (branch by branch, as ``pipelines.guidance`` stacks
them). A branch of one row in a call of B > 1 frames (the unconditioned branch at step 0 of
fixed-noise sampling: every frame's latents equal) stands for every frame, so it is its own anchor.
The view reaches :func:`temporal_self_attention` through ``cross_attention_kwargs``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import torch
from torch import Tensor, nn

from fpdm_video.models.attention_heads import attend

TEMPORAL_MODES = ("off", "first", "previous", "both")  # the anchors each frame's self-attention also sees


def check_temporal_mode(mode: str) -> str:
    """``mode`` if it is one of :data:`TEMPORAL_MODES`, else ValueError."""
    if mode not in TEMPORAL_MODES:
        raise ValueError(f"temporal-attention must be one of {', '.join(TEMPORAL_MODES)}, got {mode!r}")
    return mode


Slot = tuple[int, nn.Module, str]  # (step index, self-attention layer, branch)
KV = tuple[Tensor, Tensor]  # (key, value), each (1, N, inner)


@dataclass
class TemporalStore:
    """Per video: the anchor keys and values later chunks need, per (step, layer, branch)."""

    mode: str  # "first", "previous" or "both"
    first: dict[Slot, KV] = field(default_factory=dict)  # frame 0's
    last: dict[Slot, KV] = field(default_factory=dict)  # the last frame of the latest chunk

    def __post_init__(self) -> None:
        if check_temporal_mode(self.mode) == "off":
            raise ValueError("a TemporalStore is for cross-frame attention; use none for 'off'")

    @property
    def uses_first(self) -> bool:
        return self.mode in ("first", "both")

    @property
    def uses_previous(self) -> bool:
        return self.mode in ("previous", "both")

    def chunk(self, first_frame: int) -> TemporalView:
        """The view of the chunk whose frames start at ``first_frame`` (no step or rows yet)."""
        return TemporalView(self, first_frame)

    def nbytes(self) -> int:
        """Bytes held by the stored keys and values."""
        return sum(t.numel() * t.element_size() for kv in (*self.first.values(), *self.last.values()) for t in kv)


@dataclass(frozen=True)
class TemporalView:
    """Where one UNet call stands in the video: chunk, step, and its rows branch by branch."""

    store: TemporalStore
    first_frame: int  # video index of the chunk's first frame
    step: int = -1  # step index
    branches: tuple[str, ...] = ()  # branch names in the order their rows are stacked
    counts: tuple[int, ...] = ()  # rows per branch
    batch: int = 0  # frames in the chunk

    def at_step(self, step: int) -> TemporalView:
        return replace(self, step=step)

    def with_rows(self, branches: tuple[str, ...], counts: list[int] | tuple[int, ...], batch: int) -> TemporalView:
        return replace(self, branches=tuple(branches), counts=tuple(counts), batch=batch)

    def keys_values(self, attn: nn.Module, key: Tensor, value: Tensor) -> tuple[Tensor, Tensor]:
        """(rows, N, inner) keys and values -> (rows, N (1 + anchors), inner): each row's own, then its anchors'."""
        if sum(self.counts) != key.shape[0]:
            raise ValueError(f"the temporal view has {sum(self.counts)} rows ({self.branches}, {self.counts}), the call {key.shape[0]}")
        keys, values = [], []
        for name, k, v in zip(self.branches, key.split(self.counts), value.split(self.counts)):
            anchors = self._anchors((self.step, attn, name), k, v)
            keys.append(torch.cat([k, *(a for a, _ in anchors)], dim=1))
            values.append(torch.cat([v, *(b for _, b in anchors)], dim=1))
        return torch.cat(keys), torch.cat(values)

    def _anchors(self, slot: Slot, k: Tensor, v: Tensor) -> list[KV]:
        """The anchors' (key, value), each (n, N, inner), of one branch's n rows; updates the store."""
        store, rows = self.store, k.shape[0]
        own_first = (k[:1].clone(), v[:1].clone())
        if rows != self.batch:  # one row standing for every frame: its own anchor
            if self.first_frame == 0 and store.uses_first:
                store.first[slot] = own_first
            if store.uses_previous:
                store.last[slot] = own_first
            return [(k, v)] * (int(store.uses_first) + int(store.uses_previous))
        anchors = []
        if store.uses_first:
            if self.first_frame == 0:
                store.first[slot] = own_first
            fk, fv = self._stored(store.first, slot, "frame 0")
            anchors.append((fk.expand(rows, -1, -1), fv.expand(rows, -1, -1)))
        if store.uses_previous:
            pk, pv = own_first if self.first_frame == 0 else self._stored(store.last, slot, "the previous chunk's last frame")
            anchors.append((torch.cat([pk, k[:-1]]), torch.cat([pv, v[:-1]])))
            store.last[slot] = (k[-1:].clone(), v[-1:].clone())
        return anchors

    def _stored(self, table: dict[Slot, KV], slot: Slot, what: str) -> KV:
        if slot not in table:
            raise ValueError(f"no stored keys of {what} for step {slot[0]}, branch {slot[2]}: chunks must run the same steps "
                             "and branches, in frame order")  # fmt: skip
        return table[slot]


def supports_temporal(attn: nn.Module) -> bool:
    """Self-attention in the layout of SD's transformer blocks (no norms on the input, no masks, no residual inside)."""
    return (not attn.is_cross_attention and attn.spatial_norm is None and attn.group_norm is None
            and not attn.residual_connection and attn.rescale_output_factor == 1.0)  # fmt: skip


def temporal_self_attention(attn: nn.Module, hidden_states: Tensor, view: TemporalView) -> Tensor:
    """diffusers' scaled-dot-product self-attention (B, N, C) -> (B, N, C), keys and values extended by ``view``'s anchors."""
    key, value = view.keys_values(attn, attn.to_k(hidden_states), attn.to_v(hidden_states))  # (B, N (1 + anchors), inner)
    return attend(attn, attn.to_q(hidden_states), key, value)
