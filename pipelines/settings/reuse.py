"""The exact savings of sampling: what one run computes once instead of in every UNet row.

Each is on by default and can be turned off, to measure it alone (``benchmarks/bench_speed.py``) or
to check that it changes nothing but float rounding (the tests). See ``pipelines.guidance`` for the
algebra of the two branches and ``fpdm_video.models.hooks`` for the modules that do the saving.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Reuse:
    """Which exact savings sampling uses."""

    two_branches: bool = True  # one guidance scale: u and f only (the s branch cancels)
    pose_feature: bool = True  # each frame's pose embedding once for all steps and branches
    context_kv: bool = True  # the context's cross-attention keys and values once per video
    shared_start: bool = True  # fixed noise: step 0's unconditioned branch once for the chunk

    @classmethod
    def none(cls) -> Reuse:
        """Every row computed from scratch with the paper's three branches, as the official sampler does."""
        return cls(two_branches=False, pose_feature=False, context_kv=False, shared_start=False)
