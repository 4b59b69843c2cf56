"""Each frame's pose features computed once for all steps and guidance branches.

The pose embedding (ControlNet's conditioning embedding, 10.7 % of the demo UNet's cost per row)
depends only on the frame's pose map, not on the step or the branch. :class:`PoseFeatures` computes
the chunk's features once when its conditions are built; without it, every UNet call embeds the
pose maps again (as training does). The output is the same.
"""

from __future__ import annotations

from torch import Tensor, nn

from fpdm_video.models.hooks.base import SamplingHook


class PoseFeatures(SamplingHook):
    """The chunk's pose features (B, C0, h, w), once per chunk."""

    name = "pose_features"

    def pose_features(self, denoiser: nn.Module, pose_maps: Tensor) -> Tensor:
        return denoiser.pose_features(pose_maps)
