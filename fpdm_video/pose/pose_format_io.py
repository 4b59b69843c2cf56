""".pose files (the pose-format library's binary format) <-> :class:`PoseSequence`.

Reading keeps a file's own layout: every component, in file order, with its point names, limbs and
colors. The MediaPipe component names (``POSE_LANDMARKS``, ``LEFT_HAND_LANDMARKS``,
``RIGHT_HAND_LANDMARKS``, ``FACE_LANDMARKS``) become the canonical names (``body``, ``left_hand``,
``right_hand``, ``face``); other components (e.g. ``POSE_WORLD_LANDMARKS``) keep their names.
:func:`load_holistic` then maps the result onto the canonical holistic layout.

Writing does the reverse: canonical names are written as the MediaPipe names, and canonical
components that carry no limbs get MediaPipe's connections (face: the contours), so that other
programs such as pose-format's visualizer can draw the file.

What a ``.pose`` file cannot hold, and is therefore not kept:

- people beyond the first: the format has a people axis; person 0 is read, others are ignored;
- timestamps of variable-frame-rate video: the file stores one fps;
- normalized coordinates: sequences are written in pixels (``to_pixels()`` first);
- the header's depth: written as 0.

Units: this project stores z in pixels (MediaPipe's normalised z times the frame width). Files
written by pose-format's own MediaPipe converter keep MediaPipe's unscaled z; z is read as stored.
"""

from __future__ import annotations

import functools
import logging
import os
import struct
from pathlib import Path

import numpy as np
from einops import rearrange
from pose_format import Pose
from pose_format.pose_header import VERSION, PoseHeader, PoseHeaderComponent, PoseHeaderDimensions
from pose_format.numpy import NumPyPoseBody

from fpdm_video.atomic import atomic_path
from fpdm_video.errors import PoseError
from fpdm_video.pose.sequence import (
    COMPONENT_ALIASES,
    FILE_COMPONENT_NAMES,
    HOLISTIC_COMPONENTS,
    Component,
    PoseSequence,
)

logger = logging.getLogger(__name__)

Limbs = tuple[tuple[int, int], ...]
Colors = tuple[tuple[int, int, int], ...]

DEFAULT_COLOR: tuple[int, int, int] = (128, 128, 128)  # for components without colors of their own
BODY_COLOR: tuple[int, int, int] = (230, 60, 60)  # RGB of the canonical body
FACE_COLOR: tuple[int, int, int] = (90, 90, 90)  # RGB of the canonical face
# RGB per finger (thumb, index, middle, ring, pinky); a hand's 21 points are wrist + 4 per finger
FINGER_COLORS: Colors = ((230, 90, 60), (240, 200, 40), (80, 200, 80), (60, 150, 230), (170, 90, 220))


# ---- reading -----------------------------------------------------------------------------------
def read_pose(path: str | os.PathLike) -> PoseSequence:
    """Read any ``.pose`` file into a :class:`PoseSequence` in the file's own layout (person 0)."""
    path = Path(path)
    if path.is_dir():
        raise PoseError(f"pose file {path} is a folder; give the path of a .pose file")
    if not path.is_file():  # missing, or a pipe or a device (never read: a pipe would block)
        raise PoseError(f"pose file {path} does not exist or is not a regular file; give the path of a .pose file")
    try:
        pose = Pose.read(path.read_bytes())
    except (struct.error, ValueError, NotImplementedError, UnicodeDecodeError, IndexError, TypeError) as exc:
        raise PoseError(
            f"{path} is not a readable .pose file ({type(exc).__name__}: {exc}); "
            "give a file written by pose-format or by `python -m fpdm_video.pose extract`"
        ) from exc
    try:
        return pose_to_sequence(pose)
    except PoseError as exc:
        raise PoseError(f"{path}: {exc}") from exc


def load_holistic(path: str | os.PathLike) -> PoseSequence:
    """Read a ``.pose`` file and map it onto the canonical holistic layout (the pipeline's form)."""
    pose = read_pose(path)
    try:
        return pose.to_holistic()
    except PoseError as exc:
        raise PoseError(f"{path}: {exc}") from exc


def pose_to_sequence(pose: Pose) -> PoseSequence:
    """Convert a pose-format :class:`Pose` (first person only) to a :class:`PoseSequence`."""
    data = pose.body.data  # (T, P, K, D), masked where a point is missing
    conf = np.asarray(pose.body.confidence, dtype=np.float32)  # (T, P, K)
    if data.ndim != 4 or data.shape[1] == 0:
        raise PoseError(f"pose body has shape {data.shape}; expected (frames, people >= 1, points, dims)")
    if data.shape[1] > 1:
        logger.info("pose file holds %d people; reading person 0 only", data.shape[1])
    points = np.asarray(np.ma.getdata(data)[:, 0], dtype=np.float32)  # (T, K, D)
    mask = np.ma.getmaskarray(data)[:, 0].any(axis=-1)  # (T, K)
    confidence = np.clip(np.nan_to_num(conf[:, 0], nan=0.0), 0.0, 1.0)
    confidence[mask | ~np.isfinite(points).all(axis=-1)] = 0.0
    points = np.nan_to_num(points, nan=0.0, posinf=0.0, neginf=0.0)
    components = tuple(
        Component(
            name=COMPONENT_ALIASES.get(c.name, c.name),
            points=tuple(c.points),
            limbs=tuple((int(a), int(b)) for a, b in c.limbs),
            colors=tuple((int(r), int(g), int(b)) for r, g, b in np.asarray(c.colors).reshape(-1, 3)),
        )
        for c in pose.header.components
    )
    dims = pose.header.dimensions
    return PoseSequence(
        points=points,
        confidence=confidence,
        fps=float(pose.body.fps),
        width=int(dims.width),
        height=int(dims.height),
        components=components,
    )


# ---- writing -----------------------------------------------------------------------------------
def write_pose(pose: PoseSequence, path: str | os.PathLike) -> Path:
    """Write ``pose`` to ``path`` as a ``.pose`` file, atomically; returns the path."""
    path = Path(path)
    pf_pose = sequence_to_pose(pose)
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        pf_pose.write(f)
    logger.debug("wrote %d frames of poses to %s", pose.num_frames, path)
    return path


def sequence_to_pose(pose: PoseSequence) -> Pose:
    """Convert a :class:`PoseSequence` to a pose-format :class:`Pose` (one person, pixel coordinates)."""
    pose = pose.to_pixels()
    if pose.width > 0xFFFF or pose.height > 0xFFFF:
        raise PoseError(f"frame size {pose.width}x{pose.height} exceeds the .pose limit of 65535 pixels")
    if pose.timestamps is not None:
        logger.debug(".pose files store one fps; per-frame timestamps are not written")
    point_format = "XYZC" if pose.dims == 3 else "XYC"
    components = [
        PoseHeaderComponent(
            name=FILE_COMPONENT_NAMES.get(c.name, c.name),
            points=list(c.points),
            limbs=list(c.limbs or canonical_limbs(c)),
            colors=list(c.colors or canonical_colors(c)),
            point_format=point_format,
        )
        for c in pose.components
    ]
    header = PoseHeader(VERSION, PoseHeaderDimensions(pose.width, pose.height, 0), components)
    data = rearrange(pose.points, "t k d -> t 1 k d")  # (T, 1, K, D), people axis of one
    confidence = rearrange(pose.confidence, "t k -> t 1 k")  # (T, 1, K)
    return Pose(header, NumPyPoseBody(fps=float(pose.fps), data=data, confidence=confidence))


# ---- drawing hints for the canonical layout ----------------------------------------------------
def canonical_limbs(component: Component) -> Limbs:
    """MediaPipe's connections for a canonical component (face: contours); ``()`` for others."""
    if component not in HOLISTIC_COMPONENTS:
        return ()
    return _mediapipe_connections()[component.name]


def canonical_colors(component: Component) -> Colors:
    """Colors for a component: one per finger for the canonical hands, one per other component."""
    if component not in HOLISTIC_COMPONENTS:
        return (DEFAULT_COLOR,)
    if component.name in ("left_hand", "right_hand"):
        return (DEFAULT_COLOR,) + tuple(color for color in FINGER_COLORS for _ in range(4))  # wrist, fingers
    return (BODY_COLOR,) if component.name == "body" else (FACE_COLOR,)


@functools.lru_cache(maxsize=1)
def _mediapipe_connections() -> dict[str, Limbs]:
    # imported here: loading mediapipe takes ~1.5 s and reading/writing files does not need it
    from mediapipe.python.solutions import face_mesh_connections, hands_connections, pose_connections

    def pairs(connections: frozenset) -> Limbs:
        return tuple(sorted((int(a), int(b)) for a, b in connections))

    hand = pairs(hands_connections.HAND_CONNECTIONS)
    return {
        "body": pairs(pose_connections.POSE_CONNECTIONS),
        "left_hand": hand,
        "right_hand": hand,
        "face": pairs(face_mesh_connections.FACEMESH_CONTOURS),
    }
