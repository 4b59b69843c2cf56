"""Sampling tricks as hooks: each one module that owns its state, installed on the UNet for one video.

- :mod:`~fpdm_video.models.hooks.base`: :class:`UNetCall`, :class:`SamplingHook` (the hook points), :class:`HookSet`
- :mod:`~fpdm_video.models.hooks.attention`: the attention processor that lets a call's hooks act
- :mod:`~fpdm_video.models.hooks.context_kv`: the context's cross-attention keys and values once per video (exact)
- :mod:`~fpdm_video.models.hooks.pose_features`: each frame's pose features once per chunk (exact)
- :mod:`~fpdm_video.models.hooks.deep_cache`: step feature caching, DeepCache (approximate)
- :mod:`~fpdm_video.models.hooks.cross_frame`: cross-frame attention (changes the output on purpose); its modes' names
  in :mod:`~fpdm_video.models.hooks.cross_frame_modes` (no torch: the settings and the parsers read them)

Which hooks a run gets is decided from its settings in ``pipelines.tricks``; docs/sampling.md shows
how the pieces fit and how to add a trick.
"""

from fpdm_video.lazy_exports import lazy_exports

__getattr__, __all__ = lazy_exports(__name__, dict.fromkeys(
    ("BRANCH_CONDITIONS", "NO_HOOKS", "HookSet", "SamplingHook", "UNetCall"), "fpdm_video.models.hooks.base"))
