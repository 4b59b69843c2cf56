"""``--speed paper|balanced|fast|turbo``: sampling presets, each a measured trade of time for quality.

- ``paper``: the paper's sampler, DDPM with the checkpoint's steps (20), guidance at every step;
  the exact savings (``pipelines.settings.reuse``) make it faster without changing its output. With
  it, cross-frame attention to the first frame in the second half of the steps (``first``,
  ``late``): chosen by the rule in docs/evaluation.md (-0.066 ± 0.017 of the ground truth's flicker
  on held-out signers, +0.05 dB, 1.11x the time); ``--temporal-attention off`` is the paper's
  sampler exactly. The other presets keep it off (it was not measured with them).
- ``balanced``: the paper's sampler (DDPM, the checkpoint's steps) with step feature caching: the
  whole UNet at every third step, its shallow blocks in between (DeepCache, ``--deep-cache 3``).
  It replaced DPM-Solver++ 2M at 12 steps, which was slower and lost more (docs/speed.md).
- ``fast``: DPM-Solver++ 2M, 6 steps, guidance only at the noisier steps (t >= 0.3 T; Kynkäänniemi
  et al. 2024), the fused branch alone at the last ones.

- ``turbo``: a few-step student (``python -m fpdm_video.train distill``) sampled with its consistency
  steps (``lcm``), at the step count and guidance scale it was distilled for, one UNet row per frame
  and step, and with its tiny decoder when it has one. Only a student checkpoint takes it, and a
  student takes only it (it is a student's default).

Their cost in quality is measured on held-out synthetic signers (docs/speed.md): chosen on data
seed 2, reported on seed 3. A preset is a set of :class:`~pipelines.settings.sampling.SamplingSettings`
fields; what a user gives explicitly wins over it (``--speed fast --steps 10`` samples 10 steps),
and the checkpoint's own defaults fill what neither sets (``pipelines.settings.resolve``). A preset's
cross-frame attention anchors and their scope go together: ``--temporal-attention`` given alone acts
at every step (scope ``all``) unless ``--temporal-scope`` is given too.
"""

from __future__ import annotations

from types import MappingProxyType

SPEED_PRESETS = MappingProxyType({
    "paper": MappingProxyType({"scheduler": "ddpm", "temporal_attention": "first", "temporal_scope": "late"}),
    "balanced": MappingProxyType({"scheduler": "ddpm", "deep_cache": 3}),
    "fast": MappingProxyType({"scheduler": "dpmpp_2m", "steps": 6, "guidance_interval": (0.3, 1.0)}),
    "turbo": MappingProxyType({"scheduler": "lcm"}),  # a student's own steps, guidance and decoder: pipelines.settings.resolve
})  # fmt: skip
