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
- ``noise="warped"`` (and its naive baseline ``"bilinear"``): frame 0 has the fixed noise; every later
  frame's initial latent and per-step noise are the previous frame's, moved along the canvas's motion
  from the target poses (``fpdm_video.pose.motion_field``, ``pipelines.noise_warp``), so texture moves
  with the signer instead of sticking to the screen. :meth:`VideoSampler.render` then takes the
  chunk's motion fields, and the last frame's noise is part of the carry.
- ``temporal_attention`` (``first``, ``previous``, ``both``): each frame's self-attention also
  attends to an anchor frame's keys and values (``fpdm_video.models.hooks.cross_frame``).

A :class:`VideoSampler` is one video's sampling: the source encoded once, the run's hooks installed
on the UNet (``pipelines.tricks``), and :meth:`VideoSampler.render` for each batch of frames in
order. What later chunks need (the cross-frame anchors) is the sampler's :meth:`~VideoSampler.carry`:
a flow that renders each chunk in its own task saves it after a chunk (:func:`save_carry`) and
gives it to the next chunk's sampler, so chunked, resumed and one-process runs write the same
frames. :func:`sample_video` is the one-process form: one sampler over the whole pose stream.

All noise is drawn on the CPU (so a seed means the same video on any device) in the order
``FPDMPipeline.__call__`` draws it for one image: the initial latent, then one draw per step.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Iterator
from contextlib import ExitStack
from pathlib import Path

import numpy as np
import torch
from einops import rearrange
from torch import Tensor
from tqdm.auto import tqdm

from fpdm_video.atomic import atomic_path
from fpdm_video.errors import InputError
from fpdm_video.geometry import CanvasFit
from pipelines.fpdm_pipeline import FPDMPipeline, check_images, draw_noise, model_device_dtype
from pipelines.guidance import ChunkConditions, GuidedDenoiser
from pipelines.loop import sample_latents
from pipelines.estimate_fusion import EstimateFusion
from pipelines.noise_warp import move_noise
from pipelines.samplers import Sampler
from pipelines.settings.sampling import NOISE_MODES, WARP_MODES, SamplingSettings  # noqa: F401 (NOISE_MODES re-exported)
from pipelines.tricks import hooks_for

logger = logging.getLogger(__name__)


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


def latent_cell(model: torch.nn.Module) -> int:
    """Canvas pixels per latent cell side (the VAE's downsampling factor)."""
    pipeline = FPDMPipeline(model)
    return pipeline.canvas[0] // pipeline.latent_shape(1)[-1]


def stacked_noise(initial: Tensor, per_step: Tensor | None) -> Tensor:
    """x_T (1, C, h, w) and per-step noise (N, 1, C, h, w) or None -> the (M, C, h, w) maps a warp moves, M = 1 + N."""
    return initial if per_step is None else torch.cat([initial, per_step[:, 0]])


def warped_noise(mode: str, seed: int, first: int, motion: Tensor, start: Tensor, last: tuple[int, Tensor] | None
                 ) -> tuple[Tensor, tuple[int, Tensor]]:  # fmt: skip
    """The (b, M, C, h, w) noise of frames first .. first+b-1 moved along ``motion`` (b, 2, h, w) in latent cells, and
    the state after them.

    ``start``: frame 0's maps (M, C, h, w), the fixed noise; ``last``: (frame, its maps) before ``first`` (None at
    the video's start). Frame f's warp draws from a generator seeded by (seed, f), so batching does not matter.
    """
    frames = []
    for k in range(motion.shape[0]):
        frame = first + k
        if frame == 0:
            current = start
        elif last is None or last[0] != frame - 1:
            raise ValueError(f"warped noise renders frames in order: frame {frame} needs frame {frame - 1}'s noise "
                             f"(have {'none' if last is None else last[0]}); give the sampler the carry of the chunk before")  # fmt: skip
        else:
            current = move_noise(mode, last[1], motion[k], torch.Generator("cpu").manual_seed(frame_seed(seed, frame)))
        last = (frame, current)
        frames.append(current)
    return torch.stack(frames), last


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


def save_carry(path: str | os.PathLike, carry: dict[str, Tensor]) -> Path:
    """Write a sampler's carry (:meth:`VideoSampler.carry`) as safetensors, atomically."""
    from safetensors.torch import save_file

    with atomic_path(Path(path)) as tmp:
        save_file({k: v.detach().cpu().contiguous().clone() for k, v in carry.items()}, str(tmp))
    return Path(path)


def load_carry(path: str | os.PathLike) -> dict[str, Tensor]:
    """A carry written by :func:`save_carry`."""
    from safetensors.torch import load_file

    return load_file(str(path))


class VideoSampler:
    """One video's sampling: ``with VideoSampler(model, source, settings) as sampler: sampler.render(first, poses)``.

    source_image: (3, H, W) float [0, 1], already letterboxed to the model canvas. ``carry``: what an
    earlier sampler of the same video gave (:meth:`carry`) after the frames before the first one this
    one renders. The hooks of the settings are installed on the UNet inside the ``with`` block only.
    """

    def __init__(self, model: torch.nn.Module, source_image: Tensor, settings: SamplingSettings,
                 carry: dict[str, Tensor] | None = None) -> None:  # fmt: skip
        self.pipeline = FPDMPipeline(model)
        self.model, self.settings = model, settings
        check_images(source_image, "source_image", batched=False, size=self.pipeline.canvas)
        self.source_image = source_image
        self.schedule = self.pipeline.schedule(settings.steps)
        self.sampler = Sampler(settings.scheduler, settings.eta)
        self.hooks = hooks_for(settings)
        self._carry_in = carry
        self._open: ExitStack | None = None  # the installed hooks, while inside the with block
        self._warp: tuple[int, Tensor] | None = None  # warped noise: (last rendered frame, its noise maps)
        self.fusion = EstimateFusion(settings.temporal_fusion, self.schedule, settings.fusion_tolerance) if settings.temporal_fusion > 0 else None

    def __enter__(self) -> VideoSampler:
        device, dtype = model_device_dtype(self.model)
        with ExitStack() as stack:  # the hooks come off again if anything below fails
            stack.enter_context(self.hooks.installed(self.model.denoiser.unet))
            with torch.inference_mode():
                # 1. Encode the source once per video: context tokens (1, N, C_ctx) and e_img (1, D)
                self.encoding = self.model.encode_source(self.source_image[None].to(device=device, dtype=dtype))
                self.hooks.begin_video(self.model.denoiser, self.encoding.context)
            if self._carry_in:
                carried = {k: v.to(device) for k, v in self._carry_in.items()}
                self.hooks.load_carry(carried)
                if self.fusion is not None:
                    self.fusion.load_carry(carried)
                if "noise/maps" in self._carry_in:
                    self._warp = (int(self._carry_in["noise/frame"]), self._carry_in["noise/maps"].cpu())
            # 2. Noise shared by every frame (fixed mode): x_T and the per-step draws, once from the seed
            generator = torch.Generator("cpu").manual_seed(self.settings.seed)
            self.shared = noise_draws(generator, self.pipeline.latent_shape(1), self.schedule.num_steps, self.sampler.stochastic)
            self._open = stack.pop_all()
        return self

    def __exit__(self, *exc) -> None:
        if self._open is not None:
            self._open.close()
            self._open = None

    def carry(self) -> dict[str, Tensor]:
        """What the next chunk of the video needs from this one (tensors by name; empty when nothing)."""
        out = self.hooks.carry()
        if self.fusion is not None:
            out.update(self.fusion.carry())
        if self._warp is not None:
            out.update({"noise/frame": torch.tensor(self._warp[0]), "noise/maps": self._warp[1]})
        return out

    @property
    def needs_motion(self) -> bool:
        """Whether :meth:`render` needs the chunk's motion fields (the noise or the estimates move with the signer)."""
        return self.settings.needs_motion

    @torch.inference_mode()
    def render(self, first: int, pose_chunk: Tensor, motion: Tensor | None = None) -> Tensor:
        """Frames ``first .. first + b - 1`` of pose maps (b, 3, H, W) -> images (b, 3, H, W) float32 [0, 1] on the model's device.

        ``motion``: (b, 2, h, w) the canvas's motion into each frame from the one before, in latent cells
        (``pool_field`` by :func:`latent_cell`); needed when :attr:`needs_motion`, else ignored.
        """
        if self._open is None:
            raise ValueError("VideoSampler.render runs inside its with block")
        if self.needs_motion and (motion is None or tuple(motion.shape) != (pose_chunk.shape[0], 2, *self.pipeline.latent_shape(1)[-2:])):
            raise InputError(f"{self.settings.motion_user} needs the motion fields of the chunk's frames, "
                             f"(b, 2, h, w) in latent cells; got {None if motion is None else tuple(motion.shape)}")  # fmt: skip
        device, dtype = model_device_dtype(self.model)
        b, settings = pose_chunk.shape[0], self.settings
        pose = pose_chunk.to(device=device, dtype=dtype)  # (b, 3, H, W)

        # 3. Per-frame conditions: fuse e_img with each pose; the context is shared by the chunk
        fused = self.model.fuse(self.encoding.image_embedding.expand(b, -1), pose)  # (b, D)
        conditions = ChunkConditions(self.encoding.context.expand(b, -1, -1), fused, pose,
                                     self.hooks.pose_features(self.model.denoiser, pose),
                                     shared_start=settings.noise == "fixed" and settings.reuse.shared_start)  # fmt: skip

        # 4. Initial latents and per-step noise of the chunk: (1, ...) broadcast, or one draw per frame
        if settings.noise == "fixed":
            initial, per_step = self.shared
        elif settings.noise in WARP_MODES:
            maps, self._warp = warped_noise(settings.noise, settings.seed, first, motion.float().cpu(),
                                            stacked_noise(*self.shared), self._warp)  # (b, M, C, h, w)  # fmt: skip
            initial = maps[:, 0]  # (b, C, h, w)
            per_step = maps[:, 1:].transpose(0, 1) if self.sampler.stochastic else None  # (N, b, C, h, w)
        else:
            initial, per_step = independent_noise(settings.seed, first, b, self.pipeline.latent_shape(1),
                                                  self.schedule.num_steps, self.sampler.stochastic)  # fmt: skip
        latents = initial.to(device).expand(b, -1, -1, -1).clone()  # (b, C, s, s) float32
        per_step = None if per_step is None else per_step.to(device)  # (N, 1 or b, C, s, s)

        # 5. Denoise the chunk (2b or 3b rows per UNet call) and decode
        denoise = GuidedDenoiser(self.model, conditions, self.pipeline.guidance(settings), self.hooks, first)
        if self.fusion is not None:
            denoise = self.fusion.wrap(denoise, first, motion.to(device=device, dtype=torch.float32))
        latents = sample_latents(denoise, latents, self.schedule, self.sampler, lambda i: None if per_step is None else per_step[i])
        return self.pipeline.decode(latents, settings.decoder)  # (b, 3, H, W)


def check_canvas(model: torch.nn.Module, output_fit: CanvasFit | None) -> None:
    canvas = tuple(model.canvas)
    if output_fit is not None and output_fit.canvas != canvas:
        raise InputError(f"output_fit is for a {output_fit.canvas[0]}x{output_fit.canvas[1]} canvas but the model works on "
                         f"{canvas[0]}x{canvas[1]}")  # fmt: skip


def sample_video(model: torch.nn.Module, source_image: Tensor, pose_maps: Tensor | Iterable[Tensor], settings: SamplingSettings,
                 *, output_fit: CanvasFit | None = None, progress: bool = True, motion: Tensor | None = None,
                 ) -> Iterator[Tensor | np.ndarray]:  # fmt: skip
    """Generate the frames of a video of the source person performing the pose-map sequence.

    source_image: (3, H, W) float [0, 1], already letterboxed to the model canvas (W x H; square for most sizes).
    pose_maps: (T, 3, H, W) float [0, 1], or an iterable of such chunks (a long video streams).
    ``settings``: resolved sampling settings (``pipelines.settings.resolve_sampling``).
    ``motion``: (T, 2, h, w) the canvas's motion into each frame, in latent cells (``fpdm_video.pose.motion_field``:
    ``pool_field(motion_fields(...), cells)``); needed by the noise modes that move the noise.
    Yields, in frame order, chunks of up to ``settings.batch_size`` frames: (b, 3, H, W) float32 [0, 1]
    on the model's device, or, with ``output_fit``, (b, H, W, 3) uint8 numpy frames of the source size.
    The source image and the canvas are checked when this is called; pose-map chunks as they arrive.
    """
    check_canvas(model, output_fit)
    sampler = VideoSampler(model, source_image, settings)
    if sampler.needs_motion and motion is None:
        raise InputError(f"{settings.motion_user} moves with the signer and needs the motion fields of the target poses")
    logger.info("sampling video: %s", settings)
    return _generate(sampler, pose_maps, output_fit, progress, motion)


def _generate(sampler: VideoSampler, pose_maps, output_fit: CanvasFit | None, progress: bool,
              motion: Tensor | None) -> Iterator[Tensor | np.ndarray]:  # fmt: skip
    bar = tqdm(desc="frames", unit="frame", disable=not progress)
    with sampler:
        for first, pose_chunk in rebatch(_pose_chunks(pose_maps, sampler.pipeline.canvas), sampler.settings.batch_size):
            moving = None if motion is None else motion[first : first + pose_chunk.shape[0]]
            images = sampler.render(first, pose_chunk, moving)
            bar.update(images.shape[0])
            yield to_frames(images, output_fit) if output_fit is not None else images
    bar.close()
