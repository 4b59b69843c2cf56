"""The FPDM sampling pipeline: source images + target pose maps -> generated images.

``FPDMPipeline(model)(source_images, pose_maps)`` runs the steps of the official FPDM sampler:
encode the source (stage 2 tokens and stage 1 e_img), fuse e_img with each target pose (stage 1),
then denoise from Gaussian latents with FPDM's guidance (one UNet call of 2B rows per step, 3B with
two guidance scales; see ``pipelines.guidance``) and
decode. The video entry point (``pipelines.video_sampling``) reuses ``sample_latents`` and
``decode`` with source encodings computed once and noise shared by all frames.

Device and dtype come from the model: the caller moves and casts it (fp32, bf16 or fp16). The
latents and the sampler arithmetic stay in float32 for stability (small differences of large
numbers near the end of the chain); model inputs are cast to the model's dtype and its outputs
back to float32. Randomness comes only from the ``torch.Generator`` passed in; noise is drawn on
the generator's device (use a CPU generator for results that do not depend on the GPU) and moved
to the model's device.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import Tensor
from tqdm.auto import tqdm

from fpdm_video.errors import InputError
from pipelines.guidance import guided_model_output, guided_model_output_deep
from pipelines.reuse import Reuse
from pipelines.samplers import SamplingSchedule, get_sampler, is_stochastic, make_schedule

logger = logging.getLogger(__name__)

StepNoise = Callable[[int], "Tensor | None"]  # step index -> noise broadcastable to the latents, or None


def model_device_dtype(model: torch.nn.Module) -> tuple[torch.device, torch.dtype]:
    """The device and floating dtype of the model's parameters."""
    parameter = next(model.parameters(), None)
    if parameter is None:
        return torch.device("cpu"), torch.float32
    return parameter.device, parameter.dtype


def draw_noise(shape: tuple[int, ...], generator: torch.Generator | None, device: torch.device) -> Tensor:
    """Standard normal float32 noise of ``shape`` on ``device``, drawn on the generator's device."""
    source_device = generator.device if generator is not None else device
    return torch.randn(shape, generator=generator, device=source_device, dtype=torch.float32).to(device)


def check_images(images: Tensor, name: str, *, batched: bool = True, size: tuple[int, int] | None = None) -> None:
    """Raise :class:`InputError` unless ``images`` is float (B, 3, H, W) (or (3, H, W)) in [0, 1].

    With ``size`` (the model canvas, (width, height)), the images must have that size.
    """
    layout = "(B, 3, H, W)" if batched else "(3, H, W)"
    if not isinstance(images, Tensor):
        raise InputError(f"{name} must be a torch.Tensor {layout}, got {type(images).__name__}")
    if images.ndim != (4 if batched else 3) or images.shape[-3] != 3:
        raise InputError(f"{name} must be shaped {layout} with 3 RGB channels, got {tuple(images.shape)}")
    if not images.is_floating_point():
        raise InputError(f"{name} must be a float tensor in [0, 1], got {images.dtype}; divide uint8 images by 255")
    if images.numel() and (float(images.min()) < -1e-3 or float(images.max()) > 1 + 1e-3):
        raise InputError(f"{name} must lie in [0, 1], got [{float(images.min()):.3g}, {float(images.max()):.3g}]")
    height, width = images.shape[-2:]
    if size is not None and (width, height) != tuple(size):
        raise InputError(f"{name} must be {size[0]}x{size[1]} (the model canvas), got {width}x{height}; "
                         "letterbox frames with fpdm_video.geometry.CanvasFit.image_to_canvas")  # fmt: skip


def check_settings(steps: int, guidance: float, scheduler: str, eta: float, num_train_timesteps: int,
                   guidance_source: float | None = None) -> None:  # fmt: skip
    """Raise :class:`InputError` for unusable sampling settings."""
    get_sampler(scheduler)
    if not isinstance(steps, int) or isinstance(steps, bool) or not 1 <= steps <= num_train_timesteps:
        raise InputError(f"steps must be an integer in [1, {num_train_timesteps}], got {steps!r}")
    if not guidance >= 0:  # also rejects NaN
        raise InputError(f"guidance must be >= 0 (2.0 is the paper's value, <= 1 means no guidance), got {guidance}")
    if guidance_source is not None and not guidance_source >= 0:
        raise InputError(f"guidance_source must be >= 0, got {guidance_source}")
    if not eta >= 0:
        raise InputError(f"eta must be >= 0, got {eta}")


def check_interval(interval: tuple[float, float] | None) -> None:
    """Raise :class:`InputError` unless ``interval`` is None or (lo, hi) with 0 <= lo < hi <= 1."""
    if interval is None:
        return
    try:
        lo, hi = (float(v) for v in interval)
    except (TypeError, ValueError):
        raise InputError(f"guidance interval must be two fractions (lo, hi) of the schedule, got {interval!r}") from None
    if not 0.0 <= lo < hi <= 1.0:
        raise InputError(f"guidance interval must satisfy 0 <= lo < hi <= 1, got ({lo:g}, {hi:g})")


def check_deep_cache(model, interval: int | None) -> None:
    """Raise :class:`InputError` unless ``interval`` is None or a positive integer, and the model can cache (when it is > 1)."""
    if interval is None:
        return
    if isinstance(interval, bool) or not isinstance(interval, int) or interval < 1:
        raise InputError(f"deep-cache must be a whole number of steps >= 1 (1: off), got {interval!r}")
    problem_of = getattr(model, "deep_cache_problem", None)
    problem = "the model has no deep/shallow split" if problem_of is None else problem_of()
    if interval > 1 and problem is not None:
        raise InputError(f"deep-cache {interval} cannot run on this model: {problem}")


def fit_to_model(images: Tensor, canvas: tuple[int, int]) -> Tensor:
    """Images (B, 3, H', W') of the canvas's aspect resized to the canvas (B, 3, H, W) (bilinear, antialiased when shrinking)."""
    width, height = canvas
    if tuple(images.shape[-2:]) == (height, width):
        return images
    in_h, in_w = images.shape[-2:]
    if abs(in_w * height - in_h * width) > max(in_w, in_h):  # more than a pixel off the canvas's aspect
        raise InputError(f"source images are {in_w}x{in_h}, not of the model canvas's aspect {width}x{height}; "
                         "letterbox them with fpdm_video.geometry.CanvasFit.image_to_canvas")  # fmt: skip
    return F.interpolate(images.float(), size=(height, width), mode="bilinear", antialias=True, align_corners=False).clamp(0, 1)


class FPDMPipeline:
    """Pose-guided image synthesis with an FPDM model (stage 1 fusion + stage 2 conditioned UNet)."""

    def __init__(self, model: torch.nn.Module, *, timestep_spacing: str | None = None, steps_offset: int = 1) -> None:
        self.model = model  # FPDM (or anything with its methods); already on its device and dtype
        if timestep_spacing is None:  # the spacing the model's noise schedule names
            timestep_spacing = model.noise_schedule.timestep_spacing
        self.timestep_spacing = timestep_spacing  # "leading" (official FPDM sampler) or "trailing"
        self.steps_offset = steps_offset  # added to "leading" timesteps; 1 as Stable Diffusion 2.x

    @property
    def canvas(self) -> tuple[int, int]:
        """(width, height) of the model's canvas."""
        return tuple(self.model.canvas)

    def latent_shape(self, batch: int) -> tuple[int, int, int, int]:
        """(B, C, h, w) of the model's latents."""
        return (batch, self.model.latent_channels, *self.model.latent_hw)

    def schedule(self, steps: int) -> SamplingSchedule:
        """The sampling schedule of ``steps`` steps for this model's noise schedule."""
        return make_schedule(self.model.noise_schedule, steps, self.timestep_spacing, self.steps_offset)

    @torch.inference_mode()
    def __call__(
        self,
        source_images: Tensor,
        pose_maps: Tensor,
        *,
        steps: int = 20,
        guidance: float = 2.0,
        guidance_source: float | None = None,
        scheduler: str = "ddpm",
        generator: torch.Generator | None = None,
        eta: float = 0.0,
        progress: bool = True,
    ) -> Tensor:
        """Generate (B, 3, H, W) images in [0, 1] (float32) on the model canvas, of the source people in the target poses.

        source_images: (B or 1, 3, H', W') float [0, 1] of the canvas's aspect (letterboxed); resized to the canvas.
        pose_maps: (B, 3, H, W) float [0, 1] rendered target poses on the model canvas (W x H; square for most sizes).
        """
        device, dtype = model_device_dtype(self.model)
        # 1. Check inputs
        check_images(source_images, "source_images")
        check_images(pose_maps, "pose_maps", size=self.canvas)
        check_settings(steps, guidance, scheduler, eta, self.model.noise_schedule.num_train_timesteps, guidance_source)
        batch = pose_maps.shape[0]
        if source_images.shape[0] not in (1, batch):
            raise InputError(f"got {source_images.shape[0]} source images for {batch} pose maps; pass 1 or {batch}")
        source = fit_to_model(source_images, self.canvas).to(device=device, dtype=dtype)
        pose = pose_maps.to(device=device, dtype=dtype)

        # 2. Encode the source images: patch tokens (cross-attention context) and e_img (stage 1); one
        #    source's cross-attention keys and values once for every row and step
        encoding = self.model.encode_source(source)
        context = encoding.context.expand(batch, -1, -1)  # (B, N, C_ctx)
        kv = self.model.context_kv(encoding.context) if encoding.context.shape[0] == 1 else None
        image_embedding = encoding.image_embedding.expand(batch, -1)  # (B, D)

        # 3. Fuse e_img with each target pose (stage 1 Combiner)
        fused = self.model.fuse(image_embedding, pose)  # (B, D)

        # 4. Prepare the initial latents x_T ~ N(0, I), then one noise draw per step if the sampler needs it
        shape = self.latent_shape(batch)
        latents = draw_noise(shape, generator, device)  # (B, C, s, s) float32
        stochastic = is_stochastic(scheduler, eta)

        def step_noise(i: int) -> Tensor | None:
            return draw_noise(shape, generator, device) if stochastic else None

        # 5. Denoising loop
        latents = self.sample_latents(
            latents, pose, context, fused, self.schedule(steps),
            guidance=guidance, guidance_source=guidance_source, scheduler=scheduler, eta=eta, step_noise=step_noise,
            progress=progress, kv=kv,
        )  # fmt: skip

        # 6. Decode the latents to images
        return self.decode(latents)

    def sample_latents(
        self,
        latents: Tensor,
        pose_maps: Tensor,
        context: Tensor,
        fused: Tensor,
        schedule: SamplingSchedule,
        *,
        guidance: float,
        scheduler: str,
        eta: float,
        step_noise: StepNoise,
        progress: bool = True,
        guidance_source: float | None = None,
        kv=None,
        shared_start: bool = False,
        reuse: Reuse = Reuse(),
        guidance_interval: tuple[float, float] | None = None,
        deep_cache: int | None = None,
        temporal=None,
    ) -> Tensor:
        """Run the denoising loop from ``latents`` x_T (B, C, s, s) float32 to x_0; returns float32 latents.

        pose_maps (B, 3, H, W), context (B, N, C_ctx) and fused (B, D) are in the model's dtype and
        on its device. ``step_noise(i)`` gives the noise of step i (broadcastable to the latents), or
        None for deterministic samplers; it is called once per step, in order. ``kv``: the context's
        cross-attention keys and values (``model.context_kv``), when every row has the same context.
        ``shared_start``: every row's x_T is the same (fixed noise), so step 0's unconditioned branch
        runs once.

        What does not change between steps is computed once: the pose features of the frames.
        ``reuse`` turns each saving off, to measure or check it. ``guidance_interval`` (lo, hi): guidance
        only at the steps whose timestep t lies in [lo T, hi T] (T training timesteps), the f branch
        alone elsewhere (Kynkäänniemi et al. 2024, "Applying guidance in a limited interval").
        ``deep_cache`` N > 1: the whole UNet at every N-th step (0, N, 2N, ...), only its shallow blocks
        around the deep features of the last full step in between (``fpdm_video.models.deep_cache``).
        ``temporal``: the chunk's ``TemporalView`` (``fpdm_video.models.temporal_attention``) for
        cross-frame attention; each step's calls get it with their step index.
        """
        check_deep_cache(self.model, deep_cache)
        _, dtype = model_device_dtype(self.model)
        pose_feature = self.model.pose_features(pose_maps) if reuse.pose_feature else None  # (B, C0, h, w), every step
        kv = kv if reuse.context_kv else None
        shared_start = shared_start and reuse.shared_start
        step = get_sampler(scheduler)
        previous_x0 = deep = None
        timesteps = tqdm(schedule.timesteps.tolist(), desc="denoising", unit="step", disable=not progress, leave=False)
        num_train = self.model.noise_schedule.num_train_timesteps
        for i, t in enumerate(timesteps):
            guided = guidance_interval is None or guidance_interval[0] * num_train <= t <= guidance_interval[1] * num_train
            # 5a. Model output of the guidance branches in one call (2B or 3B rows), combined by the guidance rule
            args = (self.model, latents.to(dtype), t, None if reuse.pose_feature else pose_maps, context, fused,
                    guidance if guided else 1.0, guidance_source if guided else None)
            options = {"pose_feature": pose_feature, "kv": kv, "same_latents": shared_start and i == 0,
                       "two_branches": reuse.two_branches}  # fmt: skip
            if temporal is not None:  # only when given: stand-in models need not know it
                options["temporal"] = temporal.at_step(i)
            if deep_cache is not None and deep_cache > 1:  # 5a'. with the deep features of the last full step, off the full steps
                model_output, deep = guided_model_output_deep(*args, cached=None if i % deep_cache == 0 else deep, **options)
            else:
                model_output = guided_model_output(*args, **options)
            # 5b. Noise of this step (the same tensor for every row when the caller shares it)
            noise = step_noise(i)
            # 5c. Sampler step x_t -> x_t' in float32
            out = step(schedule, i, latents, model_output, noise=noise, eta=eta, previous_x0=previous_x0)
            latents, previous_x0 = out.prev_sample, out.pred_x0
        return latents

    def decode(self, latents: Tensor) -> Tensor:
        """Decode (B, C, h, w) latents to (B, 3, H, W) float32 images in [0, 1]."""
        _, dtype = model_device_dtype(self.model)
        return self.model.decode_latents(latents.to(dtype)).float().clamp(0, 1)
