"""Fusion of each frame's clean-sample estimate with the previous frame's, moved along the target poses' motion.

At every step of a video's sampling, frame t's clean-sample estimate x̂_0(t) (read from the guided
model output) is pulled towards frame t - 1's, carried to frame t along the canvas's motion field
(``fpdm_video.pose.motion_field``, pooled to latent cells):

    x̂_0(t) <- x̂_0(t) + W c (warp(x̂_0(t - 1)) - x̂_0(t))

and the sampler's step goes on from the blended estimate (the model output is rewritten to the one
that reads back as it, ``fpdm_video.models.prediction.model_output_for_x0``). ``x̂_0(t - 1)`` is the
previous frame's blended estimate at the same step, so the fusion runs frame after frame through
the video; frame 0 is left as it is. This is the cross-frame latent fusion of Rerender-A-Video (Yang
et al., SIGGRAPH Asia 2023) with the pose motion field in place of optical flow: what the model drew
in one frame is carried with the body into the next, instead of being drawn anew.

The warp needs, for each cell p of frame t, where it came from. The field gives the opposite (where
each cell of t - 1 goes), so it is turned round by splatting: every cell centre c of t - 1 lands at
c + u(c), and gives its u to the four cells around that point with bilinear weights. A cell's
backward motion is the weighted mean of what landed on it, and it is read at ``q = p - u_b(p)``.
The confidence ``c`` is the product of two checks: how near to one cell's worth the weight that
landed is (``1 - |weight - 1|``, at least 0: nothing landed is a region opening up, two cells' worth
is a part moving over another) and the consistency of the read, ``|q + u(q) - p|``, full
under a quarter of a cell and falling linearly to 0 at half a cell (where parts with different
motions land on the same cells: an occlusion).

With a tolerance S (``--fusion-tolerance``), the confidence is also multiplied by ``exp(-(d / S)^2)``,
d the root mean square over channels of ``warp(x̂_0(t - 1)) - x̂_0(t)`` in the cell: a small
difference is flicker and is blended away, a large one is a real change the field did not follow (a
hand changing shape, an arm outrunning the field) and is kept. ``S = inf`` blends whatever differs.

The estimates of the last frame rendered, one per step, are the state a later chunk needs
(:meth:`EstimateFusion.carry`), so the output does not depend on the batch size or the chunking.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from fpdm_video.models.prediction import model_output_for_x0, predicted_x0_and_eps
from pipelines.noise_warp import read_cells
from pipelines.samplers import SamplingSchedule

CONSISTENT = 0.25  # cells: a backward read this close to consistent has full confidence
INCONSISTENT = 0.5  # cells: no confidence from here on


def backward_field(flow: Tensor) -> tuple[Tensor, Tensor]:
    """The forward field (2, h, w) of frame t - 1's cells turned round: frame t's (2, h, w) backward motion, and the
    weight that landed on each cell (h, w), by bilinear splatting of the cell centres."""
    h, w = flow.shape[-2:]
    ys, xs = torch.meshgrid(torch.arange(h, device=flow.device, dtype=torch.float32),
                            torch.arange(w, device=flow.device, dtype=torch.float32), indexing="ij")  # fmt: skip
    tx, ty = xs + flow[0], ys + flow[1]  # landing points, in cell-index units (centre of cell j at j)
    x0, y0 = torch.floor(tx), torch.floor(ty)
    weight = torch.zeros(h * w, device=flow.device)
    total = torch.zeros(2, h * w, device=flow.device)
    for cx, wx in ((x0, 1 - (tx - x0)), (x0 + 1, tx - x0)):
        for cy, wy in ((y0, 1 - (ty - y0)), (y0 + 1, ty - y0)):
            inside = (cx >= 0) & (cx < w) & (cy >= 0) & (cy < h)
            index = (cy * w + cx)[inside].long()
            share = (wx * wy)[inside]
            weight.index_add_(0, index, share)
            total.index_add_(1, index, flow[:, inside] * share)
    backward = torch.where(weight > 0, total / weight.clamp(min=1e-12), torch.zeros_like(total))
    return backward.reshape(2, h, w), weight.reshape(h, w)


Read = tuple["tuple[Tensor, Tensor] | None", Tensor]  # the points (qx, qy) (h, w) a frame reads, None: in place; confidence (h, w)


def backward_read(flow: Tensor) -> Read:
    """Where each cell of frame t reads frame t - 1 along ``flow`` (2, h, w) in cells: the points (qx, qy) (h, w) in cell
    units, and the confidence (h, w) of that read. A zero field reads every cell in place (None) with full confidence."""
    h, w = flow.shape[-2:]
    flow = flow.float()
    if not flow.any():
        return None, torch.ones(h, w, device=flow.device)
    ys, xs = torch.meshgrid(torch.arange(h, device=flow.device, dtype=torch.float32) + 0.5,
                            torch.arange(w, device=flow.device, dtype=torch.float32) + 0.5, indexing="ij")  # fmt: skip
    backward, landed = backward_field(flow)
    qx, qy = xs - backward[0], ys - backward[1]  # where each cell of frame t came from
    moved = read_cells(flow[None], qx, qy)[0]  # u(q) (2, h, w)
    residual = torch.hypot(qx + moved[0] - xs, qy + moved[1] - ys)
    consistent = ((INCONSISTENT - residual) / (INCONSISTENT - CONSISTENT)).clamp(0, 1)
    confidence = consistent * (1 - (landed - 1).abs()).clamp(min=0)  # one cell's worth landed: 1; none or two: 0
    return (qx, qy), confidence


def carried(x: Tensor, read: Read) -> Tensor:
    """(N, C, h, w) maps of frame t - 1 read at ``read``'s points (as they are where it reads in place)."""
    points, _ = read
    return x.clone() if points is None else read_cells(x, *points).to(x.dtype)


def backward_warp(x: Tensor, flow: Tensor) -> tuple[Tensor, Tensor]:
    """(N, C, h, w) maps of frame t - 1 carried to frame t along ``flow`` (2, h, w) in cells, and the confidence (h, w).

    ``flow`` is the forward displacement of frame t - 1's cell centres. A zero field gives ``x`` back
    and a confidence of 1 everywhere.
    """
    if x.ndim != 4 or flow.shape != (2, *x.shape[-2:]):
        raise ValueError(f"maps (N, C, h, w) and flow (2, h, w) must agree, got {tuple(x.shape)} and {tuple(flow.shape)}")
    read = backward_read(flow.to(x.device))
    return carried(x, read), read[1]


class EstimateFusion:
    """One video's fusion state: the previous frame's blended estimate at each step, and the blend itself."""

    def __init__(self, weight: float, schedule: SamplingSchedule, tolerance: float = math.inf) -> None:
        if not 0.0 < weight < 1.0 or not tolerance > 0:
            raise ValueError(f"fusion weight must lie in (0, 1) and its tolerance be > 0, got {weight!r}, {tolerance!r}")
        self.weight, self.schedule, self.tolerance = weight, schedule, tolerance
        self.frame = -1  # the video index of the frame whose estimates are held (-1: none yet)
        self.estimates: dict[int, Tensor] = {}  # step -> that frame's blended estimate (C, h, w)

    def carry(self) -> dict[str, Tensor]:
        if self.frame < 0:
            return {}
        return {"fusion/frame": torch.tensor(self.frame), **{f"fusion/{step}": x for step, x in self.estimates.items()}}

    def load_carry(self, tensors: dict[str, Tensor]) -> None:
        if "fusion/frame" in tensors:
            self.frame = int(tensors["fusion/frame"])
            self.estimates = {int(k.split("/")[1]): v for k, v in tensors.items() if k.startswith("fusion/") and k != "fusion/frame"}

    def blend(self, x0: Tensor, step: int, first: int, reads: list[Read]) -> Tensor:
        """The chunk's estimates (b, C, h, w) of frames first .. first+b-1 at ``step``, each blended with the one before
        (``reads``: each frame's :func:`backward_read` of its motion)."""
        if first > 0 and (self.frame != first - 1 or step not in self.estimates):
            raise ValueError(f"estimate fusion renders frames in order: frame {first} needs frame {first - 1}'s estimates "
                             f"(have frame {self.frame}); give the sampler the carry of the chunk before")  # fmt: skip
        out = []
        previous = self.estimates.get(step) if first > 0 else None
        for k in range(x0.shape[0]):
            current = x0[k]
            if previous is not None:
                confidence = reads[k][1]
                difference = carried(previous[None], reads[k])[0] - current
                if math.isfinite(self.tolerance):  # a change far beyond flicker is not blended away
                    confidence = confidence * torch.exp(-difference.float().pow(2).mean(0) / self.tolerance**2)
                current = current + self.weight * confidence.to(current.dtype) * difference
            out.append(current)
            previous = current
        self.estimates[step] = previous
        if step == self.schedule.num_steps - 1:
            self.frame = first + x0.shape[0] - 1
        return torch.stack(out)

    def wrap(self, denoise, first: int, motion: Tensor):
        """``denoise`` (x, t, step) -> model output, with each frame's estimate blended (motion: (b, 2, h, w) in cells,
        on the latents' device)."""
        schedule = self.schedule
        reads = [backward_read(m) for m in motion]  # per frame, the same at every step

        def fused(latents: Tensor, t: int, step: int) -> Tensor:
            output = denoise(latents, t, step)
            alpha_bar = schedule.alpha_bar(step)
            x0, _ = predicted_x0_and_eps(latents, output, alpha_bar, schedule.prediction_type)
            blended = self.blend(x0, step, first, reads)
            rewritten = model_output_for_x0(latents, blended, alpha_bar, schedule.prediction_type)
            if first == 0:  # frame 0 is not blended: its output stays bit for bit the model's
                rewritten[0] = output[0]
            return rewritten

        return fused
