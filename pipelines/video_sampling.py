"""Video sampling: one source person, a stream of target pose maps, frames generated B at a time.

What makes it a video sampler rather than a loop over images:

- The source image is encoded once per video (its patch tokens and its stage 1 embedding e_img);
  only ``fuse`` with each frame's pose map runs per frame.
- Frames go through the denoiser B at a time, 2B rows per UNet call (two guidance branches; 3B with two scales).
- Fixed-noise consistency (``noise="fixed"``, the default): every frame starts from the same initial
  latent, drawn once from the seed with shape (1, C, s, s), and stochastic samplers (DDPM, DDIM
  with eta > 0) add the same per-step noise to every frame, drawn once per step. Frames then differ
  only through their poses, which keeps the output steady from frame to frame, and frame k's
  output equals what frame-by-frame sampling with the same seed gives (up to float error).
- ``noise="independent"`` gives each frame its own initial latent and per-step noise, drawn from a
  generator seeded by (seed, frame index), so the result does not depend on the batch size either.
- ``temporal_attention`` (``first``, ``previous``, ``both``): each frame's self-attention also
  attends to an anchor frame's keys and values (``fpdm_video.models.temporal_attention``); one
  store per video carries the anchors from chunk to chunk, so the output does not depend on the
  batch size.

All noise is drawn on the CPU (so a seed means the same video on any device) in the order
``FPDMPipeline.__call__`` draws it for one image: the initial latent, then one draw per step.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator

import numpy as np
import torch
from einops import rearrange
from torch import Tensor
from tqdm.auto import tqdm

from fpdm_video.errors import InputError
from fpdm_video.geometry import CanvasFit
from fpdm_video.models.temporal_attention import TEMPORAL_MODES, TemporalStore
from pipelines.fpdm_pipeline import (
    FPDMPipeline,
    check_deep_cache,
    check_images,
    check_interval,
    check_settings,
    draw_noise,
    model_device_dtype,
)
from pipelines.reuse import Reuse
from pipelines.samplers import SamplingSchedule, is_stochastic

logger = logging.getLogger(__name__)

NOISE_MODES = ("fixed", "independent")


def rebatch(chunks: Iterable[Tensor], batch_size: int) -> Iterator[tuple[int, Tensor]]:
    """Regroup a stream of (T_i, ...) chunks into (first frame index, (b, ...)) batches.

    Every batch has ``batch_size`` frames except possibly the last.
    """
    pending: list[Tensor] = []
    pending_frames = 0
    first = 0
    for chunk in chunks:
        pending.append(chunk)
        pending_frames += chunk.shape[0]
        while pending_frames >= batch_size:
            joined = torch.cat(pending) if len(pending) > 1 else pending[0]
            yield first, joined[:batch_size]
            first += batch_size
            rest = joined[batch_size:]
            pending, pending_frames = ([rest] if rest.shape[0] else []), rest.shape[0]
    if pending_frames:
        yield first, torch.cat(pending) if len(pending) > 1 else pending[0]


def frame_seed(seed: int, frame: int) -> int:
    """A 63-bit seed for frame ``frame`` of a video sampled with ``seed`` (independent-noise mode)."""
    return int(np.random.SeedSequence([seed, frame]).generate_state(1, dtype=np.uint64)[0]) >> 1


def noise_draws(
    generator: torch.Generator, latent_shape: tuple[int, ...], steps: int, stochastic: bool
) -> tuple[Tensor, Tensor | None]:
    """x_T (1, C, s, s) and the per-step noise (N, 1, C, s, s) (None if deterministic), on the CPU.

    Drawn in the order ``FPDMPipeline.__call__`` draws them for one image: x_T, then step 0, 1, ...
    """
    cpu = torch.device("cpu")
    initial = draw_noise(latent_shape, generator, cpu)
    if not stochastic:
        return initial, None
    return initial, torch.stack([draw_noise(latent_shape, generator, cpu) for _ in range(steps)])


def independent_noise(
    seed: int, first: int, frames: int, latent_shape: tuple[int, ...], steps: int, stochastic: bool
) -> tuple[Tensor, Tensor | None]:
    """x_T (b, C, s, s) and per-step noise (N, b, C, s, s) of frames first .. first+b-1, each from its own seed."""
    draws = [
        noise_draws(torch.Generator("cpu").manual_seed(frame_seed(seed, first + k)), latent_shape, steps, stochastic)
        for k in range(frames)
    ]
    initial = torch.cat([initial for initial, _ in draws])  # (b, C, s, s)
    per_step = torch.cat([per_step for _, per_step in draws], dim=1) if stochastic else None  # (N, b, C, s, s)
    return initial, per_step


def to_frames(images: Tensor, fit: CanvasFit) -> np.ndarray:
    """(b, 3, Hc, Wc) float [0, 1] canvases -> (b, H, W, 3) uint8 frames of the source size (letterbox undone)."""
    canvases = (images * 255).round().clamp(0, 255).to(torch.uint8)  # (b, 3, Hc, Wc)
    canvases = rearrange(canvases, "b c h w -> b h w c").cpu().numpy()  # (b, Hc, Wc, 3)
    return np.stack([fit.image_from_canvas(canvas) for canvas in canvases])


def _pose_chunks(pose_maps: Tensor | Iterable[Tensor], canvas: tuple[int, int]) -> Iterator[Tensor]:
    """Validate each chunk of the pose-map stream; a single (T, 3, H, W) tensor counts as one chunk."""
    chunks = [pose_maps] if isinstance(pose_maps, Tensor) else pose_maps
    for index, chunk in enumerate(chunks):
        check_images(chunk, f"pose_maps chunk {index}", size=canvas)
        yield chunk


def sample_video(
    model: torch.nn.Module,
    source_image: Tensor,
    pose_maps: Tensor | Iterable[Tensor],
    *,
    batch_size: int = 4,
    steps: int = 20,
    guidance: float = 2.0,
    scheduler: str = "ddpm",
    seed: int = 0,
    guidance_source: float | None = None,
    eta: float = 0.0,
    noise: str = "fixed",
    output_fit: CanvasFit | None = None,
    progress: bool = True,
    timestep_spacing: str | None = None,
    reuse: Reuse = Reuse(),
    guidance_interval: tuple[float, float] | None = None,
    deep_cache: int | None = None,
    temporal_attention: str = "off",
) -> Iterator[Tensor | np.ndarray]:
    """Generate the frames of a video of the source person performing the pose-map sequence.

    source_image: (3, H, W) float [0, 1], already letterboxed to the model canvas (W x H; square for most sizes).
    pose_maps: (T, 3, H, W) float [0, 1], or an iterable of such chunks (a long video streams).
    Yields, in frame order, chunks of up to ``batch_size`` frames: (b, 3, H, W) float32 [0, 1] on
    the model's device, or, with ``output_fit``, (b, H, W, 3) uint8 numpy frames of the source size.
    Settings are checked when this is called; pose-map chunks as they arrive. ``reuse``,
    ``guidance_interval`` and ``deep_cache``: as in ``FPDMPipeline.sample_latents``. ``temporal_attention``:
    one of ``TEMPORAL_MODES``, the anchor frames of cross-frame attention ("off": none).
    """
    pipeline = FPDMPipeline(model, timestep_spacing=timestep_spacing)
    canvas = pipeline.canvas
    check_images(source_image, "source_image", batched=False, size=canvas)
    check_settings(steps, guidance, scheduler, eta, model.noise_schedule.num_train_timesteps, guidance_source)
    check_interval(guidance_interval)
    check_deep_cache(model, deep_cache)
    if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
        raise InputError(f"batch_size must be a positive integer, got {batch_size!r}")
    if noise not in NOISE_MODES:
        raise InputError(f"noise must be one of {', '.join(NOISE_MODES)}, got {noise!r}")
    if temporal_attention not in TEMPORAL_MODES:
        raise InputError(f"temporal-attention must be one of {', '.join(TEMPORAL_MODES)}, got {temporal_attention!r}")
    if output_fit is not None and output_fit.canvas != canvas:
        raise InputError(f"output_fit is for a {output_fit.canvas[0]}x{output_fit.canvas[1]} canvas but the model works on "
                         f"{canvas[0]}x{canvas[1]}")  # fmt: skip
    schedule = pipeline.schedule(steps)  # checks the spacing too
    logger.info(
        "sampling video: %s, %d steps, guidance %.2f%s, batch %d, %s noise, seed %d",
        scheduler, steps, guidance, "" if guidance_source is None else f" (source {guidance_source:.2f})", batch_size, noise, seed,
    )  # fmt: skip
    return _generate(
        pipeline, source_image, pose_maps, schedule, batch_size,
        guidance, scheduler, seed, eta, noise, output_fit, progress, guidance_source, reuse, guidance_interval, deep_cache,
        temporal_attention,
    )  # fmt: skip


@torch.inference_mode()
def _generate(
    pipeline: FPDMPipeline,
    source_image: Tensor,
    pose_maps: Tensor | Iterable[Tensor],
    schedule: SamplingSchedule,
    batch_size: int,
    guidance: float,
    scheduler: str,
    seed: int,
    eta: float,
    noise: str,
    output_fit: CanvasFit | None,
    progress: bool,
    guidance_source: float | None,
    reuse: Reuse,
    guidance_interval: tuple[float, float] | None,
    deep_cache: int | None,
    temporal_attention: str = "off",
) -> Iterator[Tensor | np.ndarray]:
    """The generator behind :func:`sample_video` (arguments already checked)."""
    model = pipeline.model
    device, dtype = model_device_dtype(model)
    latent_one = pipeline.latent_shape(1)
    stochastic = is_stochastic(scheduler, eta)

    # 1. Encode the source once per video: context tokens (1, N, C_ctx) and e_img (1, D)
    encoding = model.encode_source(source_image[None].to(device=device, dtype=dtype))
    kv = model.context_kv(encoding.context) if reuse.context_kv else None  # its cross-attention K/V, for every frame and step

    # 2. Noise shared by every frame (fixed mode): x_T and the per-step draws, once from the seed
    shared = noise_draws(torch.Generator("cpu").manual_seed(seed), latent_one, schedule.num_steps, stochastic)
    # 2'. Cross-frame attention: the anchors' keys and values, carried from chunk to chunk
    store = None if temporal_attention == "off" else TemporalStore(temporal_attention)

    bar = tqdm(desc="frames", unit="frame", disable=not progress)
    for first, pose_chunk in rebatch(_pose_chunks(pose_maps, pipeline.canvas), batch_size):
        b = pose_chunk.shape[0]
        pose = pose_chunk.to(device=device, dtype=dtype)  # (b, 3, H, W)

        # 3. Per-frame conditions: fuse e_img with each pose; the context is shared by the chunk
        fused = model.fuse(encoding.image_embedding.expand(b, -1), pose)  # (b, D)
        context = encoding.context.expand(b, -1, -1)  # (b, N, C_ctx)

        # 4. Initial latents and per-step noise of the chunk: (1, ...) broadcast, or one draw per frame
        if noise == "fixed":
            initial, per_step = shared
        else:
            initial, per_step = independent_noise(seed, first, b, latent_one, schedule.num_steps, stochastic)
        latents = initial.to(device).expand(b, -1, -1, -1).clone()  # (b, C, s, s) float32
        if per_step is not None:
            per_step = per_step.to(device)  # (N, 1 or b, C, s, s)

        # 5. Denoise the chunk (2b or 3b rows per UNet call) and decode
        latents = pipeline.sample_latents(
            latents, pose, context, fused, schedule,
            guidance=guidance, guidance_source=guidance_source, scheduler=scheduler, eta=eta,
            step_noise=lambda i: None if per_step is None else per_step[i], progress=False,
            kv=kv, shared_start=noise == "fixed", reuse=reuse, guidance_interval=guidance_interval,
            deep_cache=deep_cache, **({} if store is None else {"temporal": store.chunk(first)}),
        )  # fmt: skip
        images = pipeline.decode(latents)  # (b, 3, H, W)
        bar.update(b)
        yield to_frames(images, output_fit) if output_fit is not None else images
    bar.close()
