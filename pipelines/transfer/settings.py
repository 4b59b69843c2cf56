"""The settings of one signer-transfer run, checked before any work starts."""

from __future__ import annotations

from dataclasses import dataclass

from fpdm_video.config import NoiseScheduleConfig
from fpdm_video.errors import InputError
from pipelines.samplers import make_schedule

SCHEDULERS = {"ddpm": "ddpm", "ddim": "ddim", "dpm": "dpmpp_2m"}  # CLI name -> sampler name
GUIDANCE_RANGE = (1.0, 20.0)  # classifier-free guidance scales accepted (the paper uses 2; past ~10 colours saturate)
SEED_MAX = 2**64 - 1  # torch.Generator takes 64-bit seeds


@dataclass(frozen=True)
class TransferSettings:
    """How to render: sampling, frame range, retargeting."""

    steps: int = 20  # denoising steps per frame
    guidance: float = 2.0  # classifier-free guidance scale, 1 (no guidance) to 20 (the fused one when guidance_source differs)
    guidance_source: float | None = None  # a separate scale for the pose and source tokens (three branches); None: guidance
    seed: int = 0  # seed of the noise shared by every frame, 0 to 2**64 - 1
    scheduler: str = "ddpm"  # "ddpm", "ddim" or "dpm" (DPM-Solver++ 2M)
    batch_size: int = 4  # frames denoised together
    start: int = 0  # first input frame
    end: int | None = None  # one past the last input frame; None: to the end
    max_frames: int | None = None  # at most this many frames from `start`
    retarget: bool = True  # scale the driving poses to the reference signer's proportions
    chunk_frames: int = 32  # frames decoded and turned into pose maps at a time (memory stays flat)
    speed: str = "paper"  # the preset the sampler settings came from: set it with pipelines.transfer.speed.apply_speed
    guidance_interval: tuple[float, float] | None = None  # guidance only for timesteps in [lo T, hi T]; None: every step
    deep_cache: int = 1  # the whole UNet every N steps, its shallow blocks in between (step feature caching); 1: off
    temporal_attention: str = "off"  # cross-frame attention anchors: "off", "first", "previous" or "both" (docs/evaluation.md)

    @property
    def sampler(self) -> str:
        return SCHEDULERS[self.scheduler]

    def sampling(self) -> dict:
        """The keyword arguments of ``pipelines.video_sampling.sample_video`` these settings stand for."""
        return {"batch_size": self.batch_size, "steps": self.steps, "guidance": self.guidance, "guidance_source": self.guidance_source,
                "guidance_interval": self.guidance_interval, "deep_cache": self.deep_cache, "scheduler": self.sampler,
                "seed": self.seed, "temporal_attention": self.temporal_attention}  # fmt: skip

    def check(self) -> None:
        def positive(name: str) -> None:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise InputError(f"{name.replace('_', '-')} must be a positive integer, got {value!r}")

        for name in ("steps", "batch_size", "chunk_frames", "deep_cache"):
            positive(name)
        if self.max_frames is not None:
            positive("max_frames")
        if self.scheduler not in SCHEDULERS:
            raise InputError(f"scheduler must be one of {', '.join(SCHEDULERS)}, got {self.scheduler!r}")
        low, high = GUIDANCE_RANGE
        for name in ("guidance", "guidance_source"):
            value = getattr(self, name)
            if value is None and name == "guidance_source":
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
                raise InputError(f"{name.replace('_', '-')} must be a number from {low:g} (no guidance) to {high:g}, got {value!r}")
        from pipelines.fpdm_pipeline import check_interval
        from pipelines.transfer.speed import speed_preset

        from fpdm_video.models.temporal_attention import TEMPORAL_MODES

        speed_preset(self.speed)
        if self.temporal_attention not in TEMPORAL_MODES:
            raise InputError(f"temporal-attention must be one of {', '.join(TEMPORAL_MODES)}, got {self.temporal_attention!r}")
        check_interval(self.guidance_interval)
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or not 0 <= self.seed <= SEED_MAX:
            raise InputError(f"seed must be an integer from 0 to 2**64 - 1, got {self.seed!r}")
        if isinstance(self.start, bool) or not isinstance(self.start, int) or self.start < 0:
            raise InputError(f"start must be a frame index of 0 or more, got {self.start!r}")
        if self.end is not None and (not isinstance(self.end, int) or self.end <= self.start):
            raise InputError(f"end must be a frame index after start ({self.start}), got {self.end!r}")

    def check_for_model(self, noise_schedule: NoiseScheduleConfig) -> None:
        """Raise unless the steps fit the model's noise schedule: its sampling schedule is built, and thrown away."""
        make_schedule(noise_schedule, self.steps, noise_schedule.timestep_spacing)

    def frame_range(self, total: int) -> tuple[int, int]:
        """The [start, end) range of a ``total``-frame input these settings select."""
        end = total if self.end is None else self.end
        if self.start >= total:
            raise InputError(f"start {self.start} is past the input's last frame ({total} frames)")
        if end > total:
            raise InputError(f"end {end} is past the input's {total} frames")
        if self.max_frames is not None:
            end = min(end, self.start + self.max_frames)
        return self.start, end
