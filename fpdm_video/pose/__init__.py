"""Holistic poses: the PoseSequence type, extraction, .pose I/O, repair, retargeting, pose maps."""

from fpdm_video.pose.sequence import (
    BODY_POINTS,
    FACE_POINTS,
    HAND_POINTS,
    HOLISTIC_COMPONENTS,
    Component,
    PoseSequence,
)

__all__ = ["BODY_POINTS", "FACE_POINTS", "HAND_POINTS", "HOLISTIC_COMPONENTS", "Component", "PoseSequence"]
