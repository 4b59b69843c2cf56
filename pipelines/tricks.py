"""The registry of sampling tricks: which hooks (``fpdm_video.models.hooks``) a run's settings ask for.

Each entry maps a trick's name to a function of the settings that gives its hook, or None when
the settings leave it off. Tricks compose without knowing each other; adding one is a hook
module, a settings field and one line here (docs/sampling.md).
"""

from __future__ import annotations

from collections.abc import Callable

from fpdm_video.models.hooks.base import HookSet, SamplingHook
from fpdm_video.models.hooks.context_kv import ContextKV
from fpdm_video.models.hooks.cross_frame import CrossFrameAttention
from fpdm_video.models.hooks.deep_cache import DeepCache
from fpdm_video.models.hooks.pose_features import PoseFeatures
from fpdm_video.models.hooks.token_merge import TokenMerge
from pipelines.settings.sampling import SamplingSettings

TRICKS: dict[str, Callable[[SamplingSettings], SamplingHook | None]] = {
    "context_kv": lambda s: ContextKV() if s.reuse.context_kv else None,  # exact
    "pose_features": lambda s: PoseFeatures() if s.reuse.pose_feature else None,  # exact
    "deep_cache": lambda s: DeepCache(s.deep_cache) if s.deep_cache > 1 else None,  # approximate
    "cross_frame": lambda s: CrossFrameAttention(s.temporal_attention, s.temporal_scope, s.steps) if s.temporal_attention != "off" else None,
    "token_merge": lambda s: TokenMerge(s.token_merge) if s.token_merge > 0 else None,  # approximate
}


def hooks_for(settings: SamplingSettings, *, one_context: bool = True) -> HookSet:
    """Fresh hooks for one run of ``settings`` (``one_context``: every row has the same source, so its keys and values can be kept)."""
    hooks = (make(settings) for name, make in TRICKS.items() if one_context or name != "context_kv")
    return HookSet(tuple(h for h in hooks if h is not None))
