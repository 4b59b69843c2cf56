"""``--speed paper|balanced|fast``: sampling presets, each a measured trade of time for quality.

- ``paper``: the paper's sampler, DDPM with the checkpoint's steps (20), guidance at every step;
  the exact savings (``pipelines.reuse``) make it faster without changing its output.
- ``balanced``: the paper's sampler (DDPM, the checkpoint's steps) with step feature caching: the
  whole UNet at every third step, its shallow blocks in between (DeepCache, ``--deep-cache 3``).
  It replaced DPM-Solver++ 2M at 12 steps, which was slower and lost more (docs/speed.md).
- ``fast``: DPM-Solver++ 2M, 6 steps, guidance only at the noisier steps (t >= 0.3 T; Kynkäänniemi
  et al. 2024), the fused branch alone at the last ones.

Their cost in quality is measured on held-out synthetic signers (docs/speed.md): chosen on data
seed 2, reported on seed 3.

Explicit settings win over the preset: ``--speed fast --steps 10`` samples 10 steps.

``--deep-cache N`` (any preset) runs the whole UNet at every N-th step only, and its shallow blocks
around the deep features kept from that step in between (DeepCache; ``fpdm_video.models.deep_cache``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from fpdm_video.errors import InputError


@dataclass(frozen=True)
class SpeedPreset:
    """The sampler settings a preset stands for."""

    scheduler: str  # transfer CLI sampler name: "ddpm", "ddim" or "dpm"
    steps: int | None  # None: the checkpoint's own (20 for the paper's and the demo)
    guidance_interval: tuple[float, float] | None  # guidance only for timesteps in [lo T, hi T]; None: every step
    deep_cache: int = 1  # the whole UNet every N steps (step feature caching); 1: every step


SPEED_PRESETS: dict[str, SpeedPreset] = {
    "paper": SpeedPreset(scheduler="ddpm", steps=None, guidance_interval=None),
    "balanced": SpeedPreset(scheduler="ddpm", steps=None, guidance_interval=None, deep_cache=3),
    "fast": SpeedPreset(scheduler="dpm", steps=6, guidance_interval=(0.3, 1.0)),
}


def speed_preset(name: str) -> SpeedPreset:
    if name not in SPEED_PRESETS:
        raise InputError(f"speed must be one of {', '.join(SPEED_PRESETS)}, got {name!r}")
    return SPEED_PRESETS[name]


def apply_speed(settings, speed: str, *, steps: int | None = None, scheduler: str | None = None, default_steps: int = 20,
                deep_cache: int | None = None):  # fmt: skip
    """``settings`` with the preset's sampler, where ``steps`` / ``scheduler`` / ``deep_cache`` were not given (None)."""
    preset = speed_preset(speed)
    return replace(
        settings,
        speed=speed,
        steps=steps if steps is not None else (preset.steps or default_steps),
        scheduler=scheduler if scheduler is not None else preset.scheduler,
        guidance_interval=preset.guidance_interval,
        deep_cache=deep_cache if deep_cache is not None else preset.deep_cache,
    )
