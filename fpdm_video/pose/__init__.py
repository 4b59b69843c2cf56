"""Holistic poses: the PoseSequence type, extraction, .pose I/O, repair, retargeting, pose maps.

Importing this package is cheap: MediaPipe is imported only when an extractor opens.
"""

from fpdm_video.pose.extract import HolisticConfig, HolisticExtractor, extract_image_pose, extract_poses
from fpdm_video.pose.pose_format_io import load_holistic, read_pose, write_pose
from fpdm_video.pose.render import RenderStyle, render_pose_map, render_pose_maps, render_pose_video, style_for
from fpdm_video.pose.repair import RepairConfig, RepairReport, repair_poses
from fpdm_video.pose.retarget import RetargetConfig, RetargetReport, retarget, retarget_with_report
from fpdm_video.pose.smoothing import OneEuroConfig, smooth_poses
from fpdm_video.pose.sequence import (
    BODY_POINTS,
    FACE_POINTS,
    HAND_POINTS,
    HOLISTIC_COMPONENTS,
    Component,
    PoseSequence,
)

__all__ = [
    "RepairConfig",
    "RepairReport",
    "repair_poses",
    "OneEuroConfig",
    "smooth_poses",
    "RetargetConfig",
    "RetargetReport",
    "retarget",
    "retarget_with_report",
    "RenderStyle",
    "render_pose_map",
    "render_pose_maps",
    "render_pose_video",
    "style_for",
    "BODY_POINTS",
    "FACE_POINTS",
    "HAND_POINTS",
    "HOLISTIC_COMPONENTS",
    "Component",
    "HolisticConfig",
    "HolisticExtractor",
    "PoseSequence",
    "extract_image_pose",
    "extract_poses",
    "load_holistic",
    "read_pose",
    "write_pose",
]
