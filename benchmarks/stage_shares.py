"""Where a preset's time goes, per frame: pose maps, encoders, UNet, decoder, video encode, everything else.

One profiled run of one preset on the benchmark's frames, apart from the timed runs (the timers
add a little work of their own): the pose maps are drawn from the poses again, the frames sampled
with the model's methods wrapped by wall-clock timers, and the frames encoded to H.264 as the
transfer writes them. The stages:
- ``pose_maps``: drawing the pose maps on the canvas;
- ``encoders``: the source encoders (once per video), the fused embedding and the pose encoder
  (where the pose features are reused; otherwise the UNet row computes them and they count there);
- ``unet``: every UNet row (the conditioned denoiser's forward, DeepCache's shallow rows included);
- ``decoder``: latents to images (the VAE decoder, or the tiny decoder);
- ``video_encode``: the frames to an H.264 file;
- ``other``: the rest of the wall time (the sampler's arithmetic, guidance, noise, copies).
On CPU every call is synchronous, so wall-clock timers around the calls add up.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import torch

from fpdm_video.pose import render_pose_maps
from fpdm_video.video.writer import write_video
from pipelines.video_sampling import sample_video

STAGES = ("pose_maps", "encoders", "unet", "decoder", "video_encode", "other")


def _timed(call: Callable, totals: dict[str, float], stage: str, active: list[str]) -> Callable:
    """``call``, its wall time added to ``totals[stage]`` unless it runs inside another timed call (that one counts it)."""

    def wrapper(*args, **kwargs):
        if active:
            return call(*args, **kwargs)
        active.append(stage)
        start = time.perf_counter()
        try:
            return call(*args, **kwargs)
        finally:
            totals[stage] += time.perf_counter() - start
            active.pop()

    return wrapper


@contextmanager
def timed_calls(model, totals: dict[str, float]) -> Iterator[None]:
    """Wrap ``model``'s encoder, UNet and decoder calls (instance attributes, removed afterwards) so they add to ``totals``."""
    targets = [(model, "encode_source", "encoders"), (model, "fuse", "encoders"), (model.denoiser, "pose_features", "encoders"),
               (model.denoiser, "forward", "unet"), (model, "decode_latents", "decoder")]  # fmt: skip
    active: list[str] = []  # the timed call now running: a call inside it (the UNet row's own pose features) counts once
    for owner, name, stage in targets:
        setattr(owner, name, _timed(getattr(owner, name), totals, stage, active))
    try:
        yield
    finally:
        for owner, name, _ in targets:
            delattr(owner, name)


def stage_shares(model, settings, source, pose, fit, style, fps: float = 25.0) -> dict:
    """Seconds and share of each stage for sampling ``pose`` (a holistic pose sequence) with ``settings``, per frame too."""
    totals = dict.fromkeys(STAGES, 0.0)
    start = time.perf_counter()
    t = time.perf_counter()
    maps = torch.from_numpy(render_pose_maps(pose, fit.canvas, fit=fit, style=style))
    totals["pose_maps"] = time.perf_counter() - t
    with timed_calls(model, totals):
        frames = torch.cat(list(sample_video(model, source, maps, settings, progress=False))).float()
    t = time.perf_counter()
    images = (frames.clamp(0, 1) * 255).round().to(torch.uint8).permute(0, 2, 3, 1).contiguous().numpy()
    with tempfile.TemporaryDirectory() as tmp:
        write_video(Path(tmp) / "frames.mp4", images, fps)
    totals["video_encode"] = time.perf_counter() - t
    wall = time.perf_counter() - start
    totals["other"] = max(0.0, wall - sum(totals.values()))
    n = frames.shape[0]
    return {"frames": n, "seconds": wall, "seconds_per_frame": wall / n,
            "stages": {k: {"seconds": v, "share": v / wall, "seconds_per_frame": v / n} for k, v in totals.items()}}  # fmt: skip


def shares_table(rows: dict[str, dict]) -> str:
    """A plain-text table: one line per preset, the share of each stage in percent."""
    head = f"{'preset':<12}{'s/frame':>9}" + "".join(f"{s:>14}" for s in STAGES)
    lines = [head]
    for name, row in rows.items():
        cells = "".join(f"{100 * row['stages'][s]['share']:>13.1f}%" for s in STAGES)
        lines.append(f"{name:<12}{row['seconds_per_frame']:>9.3f}{cells}")
    return "\n".join(lines)
