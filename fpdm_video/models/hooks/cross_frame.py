"""Cross-frame attention, training-free: each frame's self-attention also sees an anchor frame's keys and values.

In every self-attention layer of the UNet, the queries of frame k attend to the keys and values of
frame k itself *and* of an anchor frame of the same guidance branch at the same step, concatenated
along the token axis (Text2Video-Zero, Khachatryan et al. 2023; Tune-A-Video's sparse-causal
attention, Wu et al. 2023, which keeps the anchors only):

- ``first``: frame 0 of the video;
- ``previous``: frame k - 1;
- ``both``: both anchors.

Frame 0 is its own anchor: duplicated keys and values leave softmax attention unchanged, so a
one-frame video is sampled as without cross-frame attention.

The scope limits where it acts, to make it cheaper: ``low`` only in the self-attentions of the
lowest resolution the UNet attends at (fewest tokens, where the layout of the figure is decided),
``early`` only in the first half of the steps (where the coarse structure forms), ``late`` only in
the second half (where the detail is drawn), ``low-early`` and ``low-late`` both limits. Outside
its steps a layer keeps plain attention and keeps no anchors. No weights change; ``off`` is the
plain attention.

A video is sampled chunk by chunk (B frames per UNet call, every chunk running all steps), so an
anchor may lie in an earlier chunk. The :class:`CrossFrameAttention` hook of a video keeps per
(step, attention layer, branch) the anchor keys and values that later chunks need: those of frame 0
(``first``, ``both``), computed once in the first chunk, and those of the previous chunk's last
frame (``previous``, ``both``), overwritten chunk by chunk. Its size is (self-attention layers) x
(steps) x (branches) x (tokens x inner channels x 2 for K and V) per kept frame; docs/evaluation.md
gives the demo model's figure. The output therefore does not depend on the batch size. The
kept tensors are the hook's carry: a flow that renders each chunk in its own task saves them after
a chunk and loads them before the next, so it writes the same frames as one process does.

Each UNet call's :class:`~fpdm_video.models.hooks.base.UNetCall` says where it stands: the first
frame of the chunk, the step index, and the call's rows branch by branch. A branch of one row in a
call of B > 1 frames (the unconditioned branch at step 0 of fixed-noise sampling: every frame's
latents equal) stands for every frame, so it is its own anchor.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from fpdm_video.models.hooks.attention import plain_layout
from fpdm_video.models.hooks.base import KV, SamplingHook, UNetCall
from fpdm_video.models.hooks.cross_frame_modes import TEMPORAL_MODES, TEMPORAL_SCOPES  # noqa: F401 (re-exported)

Slot = tuple[int, str, str]  # (step index, self-attention layer name, branch)


def resolution_level(name: str, down_blocks: int) -> int:
    """How many times the UNet has halved the latent where the layer ``name`` sits (down_blocks.i: i, the mid block:
    the deepest, up_blocks.j: the deepest - j)."""
    parts = name.split(".")
    if parts[0] == "down_blocks":
        return int(parts[1])
    if parts[0] == "mid_block":
        return down_blocks - 1
    if parts[0] == "up_blocks":
        return down_blocks - 1 - int(parts[1])
    raise ValueError(f"no resolution level for UNet layer {name!r}")


STEP_LIMITS = ("early", "late")  # the scopes' step parts; a scope ending in one acts in that half of the steps only


def scope_steps(scope: str, steps: int) -> range | None:
    """The step indices of ``steps`` where ``scope`` acts: early 0 .. ceil(N / 2) - 1, late the rest; None for every step."""
    half = (steps + 1) // 2
    if scope.endswith("early"):
        return range(half)
    if scope.endswith("late"):
        return range(half, steps)
    return None


class CrossFrameAttention(SamplingHook):
    """Per video: each self-attention also attends to the anchors' keys and values, kept per (step, layer, branch)."""

    name = "cross_frame"

    def __init__(self, mode: str, scope: str = "all", steps: int | None = None) -> None:
        if mode not in TEMPORAL_MODES or mode == "off":
            raise ValueError(f"cross-frame attention needs first, previous or both, got {mode!r}")
        if scope not in TEMPORAL_SCOPES or (scope.endswith(STEP_LIMITS) and steps is None):
            raise ValueError(f"cross-frame attention's scope must be one of {', '.join(TEMPORAL_SCOPES)} (early, late: with "
                             f"the steps), got {scope!r}")  # fmt: skip
        self.mode, self.scope = mode, scope
        self.steps_on = scope_steps(scope, steps or 0)  # None: every step
        self.layers: dict[nn.Module, str] = {}  # self-attention layer -> its name in the UNet
        self.first: dict[Slot, KV] = {}  # frame 0's
        self.last: dict[Slot, KV] = {}  # the last frame of the latest chunk

    @property
    def uses_first(self) -> bool:
        return self.mode in ("first", "both")

    @property
    def uses_previous(self) -> bool:
        return self.mode in ("previous", "both")

    def install(self, unet: nn.Module) -> None:
        from diffusers.models.attention_processor import Attention

        self.layers = {m: name for name, m in unet.named_modules()
                       if isinstance(m, Attention) and not m.is_cross_attention and plain_layout(m)}  # fmt: skip
        if "low" in self.scope:  # only the self-attentions of the lowest resolution the UNet attends at
            level = {m: resolution_level(name, len(unet.down_blocks)) for m, name in self.layers.items()}
            lowest = max(level.values(), default=0)
            self.layers = {m: name for m, name in self.layers.items() if level[m] == lowest}

    def remove(self) -> None:
        self.layers = {}

    def acts_on(self, attn: nn.Module) -> bool:
        return attn in self.layers

    def nbytes(self) -> int:
        """Bytes held by the kept keys and values."""
        return sum(t.numel() * t.element_size() for kv in (*self.first.values(), *self.last.values()) for t in kv)

    def self_keys_values(self, attn: nn.Module, call: UNetCall, key: Tensor, value: Tensor) -> KV:
        """(rows, N, inner) -> (rows, N (1 + anchors), inner): each row's own keys and values, then its anchors'."""
        if self.steps_on is not None and call.step not in self.steps_on:  # outside the scope's steps: plain attention
            return key, value
        keys, values = [], []
        for branch, k, v in zip(call.branches, call.split(key), call.split(value)):
            anchors = self._anchors((call.step, self.layers[attn], branch), call, k, v)
            keys.append(torch.cat([k, *(a for a, _ in anchors)], dim=1))
            values.append(torch.cat([v, *(b for _, b in anchors)], dim=1))
        return torch.cat(keys), torch.cat(values)

    def _anchors(self, slot: Slot, call: UNetCall, k: Tensor, v: Tensor) -> list[KV]:
        """The anchors' (key, value), each (n, N, inner), of one branch's n rows; updates what is kept."""
        rows = k.shape[0]
        own_first = (k[:1].clone(), v[:1].clone())
        if rows != call.frames:  # one row standing for every frame: its own anchor
            if call.first_frame == 0 and self.uses_first:
                self.first[slot] = own_first
            if self.uses_previous:
                self.last[slot] = own_first
            return [(k, v)] * (int(self.uses_first) + int(self.uses_previous))
        anchors = []
        if self.uses_first:
            if call.first_frame == 0:
                self.first[slot] = own_first
            fk, fv = self._kept(self.first, slot, "frame 0")
            anchors.append((fk.expand(rows, -1, -1), fv.expand(rows, -1, -1)))
        if self.uses_previous:
            pk, pv = own_first if call.first_frame == 0 else self._kept(self.last, slot, "the previous chunk's last frame")
            anchors.append((torch.cat([pk, k[:-1]]), torch.cat([pv, v[:-1]])))
            self.last[slot] = (k[-1:].clone(), v[-1:].clone())
        return anchors

    @staticmethod
    def _kept(table: dict[Slot, KV], slot: Slot, what: str) -> KV:
        if slot not in table:
            raise ValueError(f"no kept keys of {what} for step {slot[0]}, branch {slot[2]}: chunks must run the same steps "
                             "and branches, in frame order (a resumed chunk needs the carry of the one before)")  # fmt: skip
        return table[slot]

    def carry(self) -> dict[str, Tensor]:
        out = {}
        for which, table in (("first", self.first), ("last", self.last)):
            for (step, layer, branch), (k, v) in table.items():
                out[f"{which}|{step}|{layer}|{branch}|k"] = k
                out[f"{which}|{step}|{layer}|{branch}|v"] = v
        return out

    def load_carry(self, tensors: dict[str, Tensor]) -> None:
        tables: dict[str, dict[Slot, dict[str, Tensor]]] = {"first": {}, "last": {}}
        for name, tensor in tensors.items():
            which, step, layer, branch, part = name.split("|")
            tables[which].setdefault((int(step), layer, branch), {})[part] = tensor
        self.first = {slot: (kv["k"], kv["v"]) for slot, kv in tables["first"].items()}
        self.last = {slot: (kv["k"], kv["v"]) for slot, kv in tables["last"].items()}
