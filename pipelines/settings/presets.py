"""``--speed paper|balanced|fast``: sampling presets, each a measured trade of time for quality.

- ``paper``: the paper's sampler, DDPM with the checkpoint's steps (20), guidance at every step;
  the exact savings (``pipelines.settings.reuse``) make it faster without changing its output.
- ``balanced``: the paper's sampler (DDPM, the checkpoint's steps) with step feature caching: the
  whole UNet at every third step, its shallow blocks in between (DeepCache, ``--deep-cache 3``).
  It replaced DPM-Solver++ 2M at 12 steps, which was slower and lost more (docs/speed.md).
- ``fast``: DPM-Solver++ 2M, 6 steps, guidance only at the noisier steps (t >= 0.3 T; Kynkäänniemi
  et al. 2024), the fused branch alone at the last ones.

Their cost in quality is measured on held-out synthetic signers (docs/speed.md): chosen on data
seed 2, reported on seed 3. A preset is a set of :class:`~pipelines.settings.sampling.SamplingSettings`
fields; what a user gives explicitly wins over it (``--speed fast --steps 10`` samples 10 steps),
and the checkpoint's own defaults fill what neither sets (``pipelines.settings.resolve``).
"""

from __future__ import annotations

from types import MappingProxyType

SPEED_PRESETS = MappingProxyType({
    "paper": MappingProxyType({"scheduler": "ddpm"}),
    "balanced": MappingProxyType({"scheduler": "ddpm", "deep_cache": 3}),
    "fast": MappingProxyType({"scheduler": "dpmpp_2m", "steps": 6, "guidance_interval": (0.3, 1.0)}),
})  # fmt: skip
