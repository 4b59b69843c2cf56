"""What a user asks of the sampler (:class:`SamplingRequest`) and what it then runs with (:class:`SamplingSettings`).

A request holds only what was given (None: not given). ``pipelines.settings.resolve`` turns it,
the speed preset and the checkpoint's own sampling defaults into settings, once, at the boundary
of every front end (the CLI, the Python API, the web app, the flows, ``pipelines.synthetic_eval``
and the benchmarks). Settings are frozen and check themselves when made (:func:`settings_problem`),
so no later code checks them again.

Each request field carries its command-line flag and help in its metadata: the CLI and
``synthetic_eval`` add their sampling flags from it (:func:`add_sampling_arguments`), and the web
app builds its sampling controls from it, so a new setting reaches every front end by being added
here.
"""

from __future__ import annotations

import argparse
import math
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from fpdm_video.errors import InputError
from fpdm_video.models.hooks.cross_frame_modes import TEMPORAL_MODES, TEMPORAL_SCOPES
from pipelines.samplers.names import OWN_ETA, SAMPLER_NAMES
from pipelines.settings.presets import SPEED_PRESETS
from pipelines.settings.reuse import Reuse

GUIDANCE_RANGE = (1.0, 20.0)  # classifier-free guidance scales accepted: 1 is none, the paper uses 2; past ~10 colours saturate
SEED_MAX = 2**64 - 1  # torch.Generator takes 64-bit seeds
WARP_MODES = ("warped", "bilinear")  # the noise modes that move the noise from frame to frame (pipelines.noise_warp)
NOISE_MODES = ("fixed", "independent", "warped", "bilinear")  # one noise for all; each its own; moved with the signer (2)
FUSION_TOLERANCE = 0.3  # --fusion-tolerance's default: seed 2's choice by docs/evaluation.md's amendment 3
DECODERS = ("vae", "tiny")  # the checkpoint's VAE decoder, or its tiny decoder (fpdm_video.models.tiny_decoder)


def option(flag: str, help: str, **argparse_kwargs) -> Any:
    """A request field (default None: not given) with its command-line flag and help."""
    return field(default=None, metadata={"flag": flag, "help": help, **argparse_kwargs})


@dataclass(frozen=True)
class SamplingRequest:
    """The sampling settings a user gave; None: not given (the preset's, then the checkpoint's, then the default)."""

    speed: str | None = option("--speed", "sampling preset: paper (DDPM, the checkpoint's steps, the first frame's "
                               "attention at the late steps), balanced (DDPM with --deep-cache 3), fast (DPM-Solver++ 2M, 6 steps, guidance at the noisier ones), turbo (a "
                               "few-step student checkpoint's own steps and tiny decoder); the other sampling options "
                               "override it (docs/speed.md; default paper, turbo for a student)", choices=tuple(SPEED_PRESETS))
    steps: int | None = option("--steps", "denoising steps per frame: fewer is faster, more is cleaner (default: the "
                               "preset's, else the checkpoint's, 20 for the paper's and the demo)", type=int)
    guidance: float | None = option("--guidance", "how strongly the pose and the signer's look are followed, 1 (none) to "
                                    "20 (default: the checkpoint's, 2)", type=float)
    guidance_source: float | None = option("--guidance-source", "a separate scale for the pose and source tokens, the "
                                           "fused embedding keeping --guidance (dual guidance: three UNet branches "
                                           "instead of two; default: --guidance)", type=float)
    guidance_interval: tuple[float, float] | None = option("--guidance-interval", "guidance only at timesteps in [LO T, "
                                                           "HI T] (fractions of the schedule), the fused branch alone "
                                                           "elsewhere (default: the preset's; every step)", type=float,
                                                           nargs=2, metavar=("LO", "HI"))
    scheduler: str | None = option("--scheduler", "sampler: ddpm (the paper's), ddim, dpmpp_2m (DPM-Solver++ 2M, good "
                                   "with fewer steps) (default: the preset's)", choices=SAMPLER_NAMES)
    eta: float | None = option("--eta", "the noise of each step: for ddim, DDIM's eta (0 deterministic, the default; "
                               "1 the DDPM posterior's); for turbo, the share of fresh noise at each re-noising (1 "
                               "LCM's sampler, 0 none: the student's own predicted noise, deterministic and sharper; "
                               "default: the student's own) (docs/speed.md); ddpm and dpmpp_2m take none", type=float)
    deep_cache: int | None = option("--deep-cache", "run the whole UNet every N steps only, its shallow blocks in between "
                                    "(DeepCache; faster, approximate: docs/speed.md); 1 = off (default: the preset's)",
                                    type=int, metavar="N")
    token_merge: float | None = option("--token-merge", "merge this fraction of the tokens of each self-attention at "
                                       "the latent resolution before it and unmerge after (ToMe for SD; faster, "
                                       "approximate: docs/speed.md); 0 = off, at most 0.75 (default off)",
                                       type=float, metavar="RATIO")
    temporal_attention: str | None = option("--temporal-attention", "cross-frame attention: each frame's self-attention "
                                            "also sees the keys and values of the video's first frame (first), the "
                                            "previous frame (previous) or both; off: none, the paper's own sampler (docs/evaluation.md; "
                                            "default: first with --speed paper, off with the other presets)",
                                            choices=TEMPORAL_MODES)
    temporal_scope: str | None = option("--temporal-scope", "where cross-frame attention acts: all (every "
                                        "self-attention, every step), low (the lowest-resolution blocks only), early "
                                        "(the first half of the steps only), late (the second half only), low-early "
                                        "or low-late (both limits) (docs/evaluation.md; default: late with --speed paper's own "
                                        "anchors, else all)", choices=TEMPORAL_SCOPES)
    temporal_fusion: float | None = option("--temporal-fusion", "at every step, blend each frame's clean-sample estimate "
                                           "with the previous frame's, moved along the target poses' motion, with this "
                                           "weight (0 off, below 1; docs/sampling.md, docs/evaluation.md; default off)",
                                           type=float, metavar="W")
    fusion_tolerance: float | None = option("--fusion-tolerance", "with --temporal-fusion: differences between a frame's "
                                            "estimate and the previous frame's moved one much above S are real change and "
                                            "are not blended (a weight exp(-(d/S)^2)); inf: blend every difference, "
                                            "which smears fast hands (docs/sampling.md; default 0.3)", type=float, metavar="S")
    noise: str | None = option("--noise", "fixed: every frame starts from the same noise (steady output, the paper's); "
                               "independent: each frame its own; warped: the previous frame's noise moved along the "
                               "target poses' motion, kept Gaussian; bilinear: the same moved by a plain bilinear "
                               "warp (the naive baseline; docs/sampling.md; default fixed)", choices=NOISE_MODES)
    seed: int | None = option("--seed", "noise seed, 0 to 2**64 - 1; the same seed gives the same video (default 0)", type=int)
    batch_size: int | None = option("--batch-size", "frames rendered together (more is faster on a GPU and uses more "
                                    "memory; default 4)", type=int)
    decoder: str | None = option("--decoder", "latents to frames by the checkpoint's VAE decoder (vae) or its tiny decoder "
                                 "(tiny: faster, approximate; made by python -m fpdm_video.train tiny-decoder) (default: "
                                 "tiny with --speed turbo when the checkpoint has one, else vae)", choices=DECODERS)

    def given(self) -> dict[str, Any]:
        """The fields that were given."""
        return {k: v for k, v in asdict(self).items() if v is not None}


@dataclass(frozen=True)
class SamplingSettings:
    """How one run samples; checked when made (:class:`~fpdm_video.errors.InputError` naming the bad value)."""

    speed: str = "paper"  # the preset the settings started from (what it set is in the fields below)
    steps: int = 20  # denoising steps per frame
    guidance: float = 2.0  # classifier-free guidance scale g (g_f with dual guidance), 1 (none) to 20
    guidance_source: float | None = None  # g_s on the pose and source tokens (three branches); None: guidance
    guidance_interval: tuple[float, float] | None = None  # guidance only for timesteps in [lo T, hi T]; None: every step
    scheduler: str = "ddpm"  # sampler name, one of pipelines.samplers.SAMPLERS
    eta: float | None = None  # DDIM's eta (0: deterministic), LCM's share of fresh noise (0 to 1); None: the sampler's own
    deep_cache: int = 1  # the whole UNet every N steps, its shallow blocks in between (step feature caching); 1: off
    token_merge: float = 0.0  # fraction of self-attention tokens merged at the latent resolution (ToMe for SD); 0: off
    temporal_attention: str = "off"  # cross-frame attention anchors: "off", "first", "previous" or "both"
    temporal_scope: str = "all"  # where cross-frame attention acts: "all", "low" (blocks), "early"/"late" (steps), "low-early"/"low-late"
    temporal_fusion: float = 0.0  # weight of the previous frame's moved clean-sample estimate in each frame's (0: off)
    fusion_tolerance: float = FUSION_TOLERANCE  # latent RMS difference at which the blend falls to 1/e; inf: no limit
    noise: str = "fixed"  # "fixed" (one for all), "independent" (per frame), "warped" / "bilinear" (moved with the signer)
    seed: int = 0  # noise seed
    batch_size: int = 4  # frames denoised together
    decoder: str = "vae"  # "vae" or "tiny" (the checkpoint's tiny decoder)
    reuse: Reuse = Reuse()  # the exact savings (each can be turned off, to measure it)

    def __post_init__(self) -> None:
        if isinstance(self.guidance_interval, list):  # from JSON or YAML
            object.__setattr__(self, "guidance_interval", tuple(self.guidance_interval))
        if self.fusion_tolerance is None:  # from a record: strict JSON writes infinity as null
            object.__setattr__(self, "fusion_tolerance", math.inf)
        if isinstance(self.reuse, dict):
            object.__setattr__(self, "reuse", Reuse(**self.reuse))
        problem = settings_problem(self)
        if problem is not None:
            raise InputError(problem)

    @property
    def needs_motion(self) -> bool:
        """Whether sampling needs the target poses' motion fields (the noise or the estimates move with the signer)."""
        return self.noise in WARP_MODES or self.temporal_fusion > 0

    @property
    def motion_user(self) -> str:
        """What needs the motion fields, in words (for messages)."""
        users = ([f"noise {self.noise!r}"] if self.noise in WARP_MODES else []) + (
            [f"temporal-fusion {self.temporal_fusion:g}"] if self.temporal_fusion > 0 else [])
        return " and ".join(users) or "nothing"


def _is_number(value, minimum: float) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value >= minimum


def _whole(value, minimum: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= minimum


def _scale(value) -> bool:
    low, high = GUIDANCE_RANGE
    return isinstance(value, (int, float)) and not isinstance(value, bool) and low <= value <= high


def settings_problem(s: SamplingSettings) -> str | None:
    """What is wrong with ``s``, in words fit for a user, or None: the one check of sampling settings."""
    problems = [
        (s.speed not in SPEED_PRESETS, f"speed must be one of {', '.join(SPEED_PRESETS)}, got {s.speed!r}"),
        (not _whole(s.steps, 1), f"steps must be a positive whole number, got {s.steps!r}"),
        (not _scale(s.guidance), f"guidance must be a number from 1 (no guidance) to 20, got {s.guidance!r}"),
        (s.guidance_source is not None and not _scale(s.guidance_source),
         f"guidance-source must be a number from 1 (no guidance) to 20, got {s.guidance_source!r}"),
        (s.guidance_interval is not None and not _interval(s.guidance_interval),
         f"guidance-interval must be two fractions LO HI with 0 <= LO < HI <= 1, got {s.guidance_interval!r}"),
        (s.scheduler not in SAMPLER_NAMES, f"scheduler must be one of {', '.join(SAMPLER_NAMES)}, got {s.scheduler!r}"),
        (s.eta is not None and not _is_number(s.eta, minimum=0), f"eta must be a number >= 0, got {s.eta!r}"),
        (s.scheduler == "lcm" and _is_number(s.eta, minimum=0) and s.eta > 1,
         f"eta of turbo's sampler (lcm) is the share of fresh noise, from 0 to 1, got {s.eta!r}"),
        (s.scheduler in SAMPLER_NAMES and s.scheduler not in OWN_ETA and _is_number(s.eta, minimum=0) and s.eta > 0,
         f"eta is the noise of the ddim and turbo (lcm) samplers; {s.scheduler} takes none: leave eta out or use "
         f"--scheduler ddim"),
        (not _whole(s.deep_cache, 1), f"deep-cache must be a whole number of steps >= 1 (1: off), got {s.deep_cache!r}"),
        (not (isinstance(s.token_merge, (int, float)) and not isinstance(s.token_merge, bool) and 0 <= s.token_merge <= 0.75),
         f"token-merge must be a fraction from 0 (off) to 0.75, got {s.token_merge!r}"),
        (s.temporal_attention not in TEMPORAL_MODES,
         f"temporal-attention must be one of {', '.join(TEMPORAL_MODES)}, got {s.temporal_attention!r}"),
        (s.temporal_scope not in TEMPORAL_SCOPES,
         f"temporal-scope must be one of {', '.join(TEMPORAL_SCOPES)}, got {s.temporal_scope!r}"),
        (s.temporal_scope != "all" and s.temporal_attention == "off",
         f"temporal-scope {s.temporal_scope} limits cross-frame attention, which is off: give --temporal-attention too"),
        (not (_is_number(s.temporal_fusion, minimum=0) and s.temporal_fusion < 1),
         f"temporal-fusion must be a weight from 0 (off) to below 1, got {s.temporal_fusion!r}"),
        (not (isinstance(s.fusion_tolerance, (int, float)) and not isinstance(s.fusion_tolerance, bool) and s.fusion_tolerance > 0),
         f"fusion-tolerance must be a number > 0 (inf: no limit), got {s.fusion_tolerance!r}"),
        (s.scheduler == "lcm" and _is_number(s.temporal_fusion, minimum=0) and s.temporal_fusion > 0,
         "temporal-fusion is not built for turbo's consistency sampler (lcm); leave it out with --speed turbo"),
        (s.noise not in NOISE_MODES, f"noise must be one of {', '.join(NOISE_MODES)}, got {s.noise!r}"),
        (not (_whole(s.seed, 0) and s.seed <= SEED_MAX), f"seed must be a whole number from 0 to 2**64 - 1, got {s.seed!r}"),
        (not _whole(s.batch_size, 1), f"batch-size must be a positive whole number, got {s.batch_size!r}"),
        (s.decoder not in DECODERS, f"decoder must be one of {', '.join(DECODERS)}, got {s.decoder!r}"),
    ]
    return next((message for bad, message in problems if bad), None)


def _interval(interval) -> bool:
    try:
        lo, hi = interval
        return all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in (lo, hi)) \
            and 0.0 <= lo < hi <= 1.0  # fmt: skip
    except (TypeError, ValueError):
        return False


def request_fields() -> tuple:
    """The fields of :class:`SamplingRequest`, in order, each with its flag and help in ``metadata``."""
    return fields(SamplingRequest)


def add_sampling_arguments(parser: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    """Add one option per :class:`SamplingRequest` field (an option left out is absent from the namespace: not given)."""
    for f in request_fields():
        meta = dict(f.metadata)
        flag, text = meta.pop("flag"), meta.pop("help")
        parser.add_argument(flag, dest=f.name, default=argparse.SUPPRESS, help=text, **meta)


def request_from_args(args: argparse.Namespace) -> SamplingRequest:
    """The request of parsed arguments (:func:`add_sampling_arguments`)."""
    values = {f.name: getattr(args, f.name, None) for f in request_fields()}
    if values["guidance_interval"] is not None:
        values["guidance_interval"] = tuple(values["guidance_interval"])
    return SamplingRequest(**values)


def request_argv(request: SamplingRequest) -> list[str]:
    """The command-line options that give ``request`` back (what was not given is left out)."""
    argv: list[str] = []
    for f in request_fields():
        value = getattr(request, f.name)
        if value is not None:
            argv += [f.metadata["flag"], *(str(v) for v in (value if isinstance(value, tuple) else (value,)))]
    return argv
