"""The FPDM sampling pipeline: source images + target pose maps -> generated images.

``FPDMPipeline(model)(source_images, pose_maps)`` runs the steps of the official FPDM sampler:
encode the source (stage 2 tokens and stage 1 e_img), fuse e_img with each target pose (stage 1),
then denoise from Gaussian latents with FPDM's guidance (one UNet call of 2B rows per step, 3B with
two guidance scales; see ``pipelines.guidance``) and decode. Settings come resolved and checked
(``pipelines.settings``); the tricks they ask for are hooks on the UNet for the call
(``pipelines.tricks``). The video entry point (``pipelines.video_sampling``) runs the same loop
(``pipelines.loop``) with source encodings computed once and noise shared by all frames.

Device and dtype come from the model: the caller moves and casts it (fp32, bf16 or fp16). The
latents and the sampler arithmetic stay in float32 for stability (small differences of large
numbers near the end of the chain); model inputs are cast to the model's dtype and its outputs
back to float32. Randomness comes only from the ``torch.Generator`` passed in; noise is drawn on
the generator's device (use a CPU generator for results that do not depend on the GPU) and moved
to the model's device.
"""

from __future__ import annotations

import logging

import torch
import torch.nn.functional as F
from torch import Tensor

from fpdm_video.errors import InputError
from pipelines.guidance import ChunkConditions, GuidedDenoiser, Guidance
from pipelines.loop import sample_latents
from pipelines.samplers import Sampler, SamplingSchedule, make_schedule
from pipelines.settings.sampling import SamplingSettings
from pipelines.tricks import hooks_for

logger = logging.getLogger(__name__)


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

    def guidance(self, settings: SamplingSettings) -> Guidance:
        """The guidance rule of ``settings`` on this model."""
        return Guidance(settings.guidance, settings.guidance_source, settings.guidance_interval, settings.reuse.two_branches,
                        self.model.noise_schedule.num_train_timesteps, embedded=self.model.config.student is not None)  # fmt: skip

    @torch.inference_mode()
    def __call__(self, source_images: Tensor, pose_maps: Tensor, settings: SamplingSettings = SamplingSettings(),
                 generator: torch.Generator | None = None, progress: bool = True) -> Tensor:  # fmt: skip
        """Generate (B, 3, H, W) images in [0, 1] (float32) on the model canvas, of the source people in the target poses.

        source_images: (B or 1, 3, H', W') float [0, 1] of the canvas's aspect (letterboxed); resized to the canvas.
        pose_maps: (B, 3, H, W) float [0, 1] rendered target poses on the model canvas (W x H; square for most sizes).
        ``settings`` (resolved, ``pipelines.settings``): its sampler, steps, guidance and tricks (its seed, noise
        mode and batch size are the video sampler's; here randomness comes from ``generator``).
        """
        device, dtype = model_device_dtype(self.model)
        # 1. Check inputs
        check_images(source_images, "source_images")
        check_images(pose_maps, "pose_maps", size=self.canvas)
        batch = pose_maps.shape[0]
        if source_images.shape[0] not in (1, batch):
            raise InputError(f"got {source_images.shape[0]} source images for {batch} pose maps; pass 1 or {batch}")
        source = fit_to_model(source_images, self.canvas).to(device=device, dtype=dtype)
        pose = pose_maps.to(device=device, dtype=dtype)
        hooks = hooks_for(settings, one_context=source.shape[0] == 1)
        with hooks.installed(self.model.denoiser.unet):
            # 2. Encode the source images: patch tokens (cross-attention context) and e_img (stage 1)
            encoding = self.model.encode_source(source)
            if source.shape[0] == 1:
                hooks.begin_video(self.model.denoiser, encoding.context)

            # 3. Fuse e_img with each target pose (stage 1 Combiner)
            image_embedding = encoding.image_embedding.expand(batch, -1)  # (B, D)
            fused = self.model.fuse(image_embedding, pose)  # (B, D)
            conditions = ChunkConditions(encoding.context.expand(batch, -1, -1), fused, pose,
                                         hooks.pose_features(self.model.denoiser, pose))  # fmt: skip

            # 4. Prepare the initial latents x_T ~ N(0, I), then one noise draw per step if the sampler needs it
            shape = self.latent_shape(batch)
            latents = draw_noise(shape, generator, device)  # (B, C, s, s) float32
            sampler = Sampler(settings.scheduler, settings.eta)

            def step_noise(i: int) -> Tensor | None:
                return draw_noise(shape, generator, device) if sampler.stochastic else None

            # 5. Denoising loop
            denoise = GuidedDenoiser(self.model, conditions, self.guidance(settings), hooks)
            latents = sample_latents(denoise, latents, self.schedule(settings.steps), sampler, step_noise, progress)

        # 6. Decode the latents to images
        return self.decode(latents, settings.decoder)

    def decode(self, latents: Tensor, decoder: str = "vae") -> Tensor:
        """Decode (B, C, h, w) latents to (B, 3, H, W) float32 images in [0, 1] (``decoder``: "vae" or "tiny")."""
        _, dtype = model_device_dtype(self.model)
        return self.model.decode_latents(latents.to(dtype), decoder).float().clamp(0, 1)
