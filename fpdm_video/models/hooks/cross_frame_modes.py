"""The names of cross-frame attention's anchors and scopes (``fpdm_video.models.hooks.cross_frame``), without torch."""

from __future__ import annotations

TEMPORAL_MODES = ("off", "first", "previous", "both")  # the anchors each frame's self-attention also sees
# where: every layer and step; the lowest-resolution blocks; the first or the second half of the steps; both limits
TEMPORAL_SCOPES = ("all", "low", "early", "late", "low-early", "low-late")
