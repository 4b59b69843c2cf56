"""PoseSequence: a holistic pose track (body, hands, face) over the frames of one video.

Points are stored in one array ``points`` of shape (T, K, D) with D = 2 (x, y) or 3 (x, y, z) and a
confidence array (T, K). A confidence of 0 marks a point as missing; nothing is ever invented for
a missing point. The K points are grouped into named components. The canonical layout, which every
stage after loading works in, is MediaPipe holistic's:

    body 33 | left_hand 21 | right_hand 21 | face 468        (K = 543)

"left" and "right" are the signer's own sides, as in MediaPipe and pose-format (the signer's left
hand appears on the right of an unmirrored image). Files with other layouts (fewer body or face
points) are mapped onto it by point name with :meth:`PoseSequence.to_holistic`; points the file
does not have are missing.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from fpdm_video.errors import PoseError

BODY_POINTS: tuple[str, ...] = (
    "NOSE", "LEFT_EYE_INNER", "LEFT_EYE", "LEFT_EYE_OUTER", "RIGHT_EYE_INNER", "RIGHT_EYE",
    "RIGHT_EYE_OUTER", "LEFT_EAR", "RIGHT_EAR", "MOUTH_LEFT", "MOUTH_RIGHT", "LEFT_SHOULDER",
    "RIGHT_SHOULDER", "LEFT_ELBOW", "RIGHT_ELBOW", "LEFT_WRIST", "RIGHT_WRIST", "LEFT_PINKY",
    "RIGHT_PINKY", "LEFT_INDEX", "RIGHT_INDEX", "LEFT_THUMB", "RIGHT_THUMB", "LEFT_HIP", "RIGHT_HIP",
    "LEFT_KNEE", "RIGHT_KNEE", "LEFT_ANKLE", "RIGHT_ANKLE", "LEFT_HEEL", "RIGHT_HEEL",
    "LEFT_FOOT_INDEX", "RIGHT_FOOT_INDEX",
)  # fmt: skip
HAND_POINTS: tuple[str, ...] = (
    "WRIST", "THUMB_CMC", "THUMB_MCP", "THUMB_IP", "THUMB_TIP", "INDEX_FINGER_MCP",
    "INDEX_FINGER_PIP", "INDEX_FINGER_DIP", "INDEX_FINGER_TIP", "MIDDLE_FINGER_MCP",
    "MIDDLE_FINGER_PIP", "MIDDLE_FINGER_DIP", "MIDDLE_FINGER_TIP", "RING_FINGER_MCP",
    "RING_FINGER_PIP", "RING_FINGER_DIP", "RING_FINGER_TIP", "PINKY_MCP", "PINKY_PIP", "PINKY_DIP",
    "PINKY_TIP",
)  # fmt: skip
FACE_POINTS: tuple[str, ...] = tuple(str(i) for i in range(468))


@dataclass(frozen=True)
class Component:
    """A named group of points, e.g. ``body`` with its 33 point names in order.

    ``limbs`` and ``colors`` are drawing hints kept from (and written to) ``.pose`` files. They are
    not part of a component's identity: two components are equal when name and points are.
    """

    name: str  # "body", "left_hand", "right_hand", "face" in the canonical layout
    points: tuple[str, ...]  # point names, in storage order
    limbs: tuple[tuple[int, int], ...] = field(default=(), compare=False)  # index pairs into points
    colors: tuple[tuple[int, int, int], ...] = field(default=(), compare=False)  # RGB, cycled over points

    def __post_init__(self) -> None:
        n = len(self.points)
        bad = [limb for limb in self.limbs if not (0 <= limb[0] < n and 0 <= limb[1] < n)]
        if bad:
            raise PoseError(f"component {self.name!r} has {n} points but limbs {bad[:3]} point outside them")

    def __len__(self) -> int:
        return len(self.points)


HOLISTIC_COMPONENTS: tuple[Component, ...] = (
    Component("body", BODY_POINTS),
    Component("left_hand", HAND_POINTS),
    Component("right_hand", HAND_POINTS),
    Component("face", FACE_POINTS),
)

# pose-format / MediaPipe component names -> canonical names
COMPONENT_ALIASES: dict[str, str] = {
    "POSE_LANDMARKS": "body",
    "LEFT_HAND_LANDMARKS": "left_hand",
    "RIGHT_HAND_LANDMARKS": "right_hand",
    "FACE_LANDMARKS": "face",
}
# canonical names -> pose-format / MediaPipe component names (used when writing .pose files)
FILE_COMPONENT_NAMES: dict[str, str] = {canonical: name for name, canonical in COMPONENT_ALIASES.items()}


@dataclass
class PoseSequence:
    """Holistic poses of T frames. See the module docstring for the layout."""

    points: np.ndarray  # (T, K, D) float32, D in {2, 3}; pixels (x right, y down) unless normalized
    confidence: np.ndarray  # (T, K) float32 in [0, 1]; 0 = missing
    fps: float  # frames per second of the source
    width: int  # frame width in pixels the coordinates refer to
    height: int  # frame height in pixels
    components: tuple[Component, ...] = HOLISTIC_COMPONENTS
    normalized: bool = False  # True: x in [0, 1] of width, y in [0, 1] of height
    timestamps: np.ndarray | None = field(default=None)  # (T,) seconds, for variable frame rate

    def __post_init__(self) -> None:
        self.points = np.asarray(self.points, dtype=np.float32)
        self.confidence = np.asarray(self.confidence, dtype=np.float32)
        if self.points.ndim != 3 or self.points.shape[-1] not in (2, 3):
            raise PoseError(f"pose points must have shape (T, K, 2|3), got {self.points.shape}")
        if self.confidence.shape != self.points.shape[:2]:
            raise PoseError(
                f"pose confidence shape {self.confidence.shape} does not match points {self.points.shape[:2]}"
            )
        k = sum(len(c) for c in self.components)
        if k != self.points.shape[1]:
            raise PoseError(f"components name {k} points but the arrays hold {self.points.shape[1]}")
        if not (self.fps > 0):
            raise PoseError(f"fps must be positive, got {self.fps}")
        if self.width <= 0 or self.height <= 0:
            raise PoseError(f"frame size must be positive, got {self.width}x{self.height}")
        if self.timestamps is not None:
            self.timestamps = np.asarray(self.timestamps, dtype=np.float64)
            if self.timestamps.shape != (self.num_frames,):
                raise PoseError(f"timestamps shape {self.timestamps.shape} != ({self.num_frames},)")
        # missing points carry no coordinates
        self.points[self.confidence <= 0] = 0.0

    # ---- sizes -------------------------------------------------------------------------------
    @property
    def num_frames(self) -> int:
        return int(self.points.shape[0])

    def __len__(self) -> int:
        return self.num_frames

    @property
    def num_points(self) -> int:
        return int(self.points.shape[1])

    @property
    def dims(self) -> int:
        return int(self.points.shape[2])

    # ---- components --------------------------------------------------------------------------
    def component_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.components)

    def slice_of(self, name: str) -> slice:
        """Index range of component ``name`` along K."""
        start = 0
        for comp in self.components:
            if comp.name == name:
                return slice(start, start + len(comp))
            start += len(comp)
        raise KeyError(f"no component {name!r}; have {self.component_names()}")

    def component(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """Views ``(points (T, k, D), confidence (T, k))`` of one component."""
        s = self.slice_of(name)
        return self.points[:, s], self.confidence[:, s]

    def present(self, name: str, min_fraction: float | None = None) -> np.ndarray:
        """(T,) bool: whether component ``name`` was found in each frame.

        A component counts as present when at least ``min_fraction`` of its points have a
        confidence above zero. MediaPipe gives a part whole or not at all, so the thresholds only
        matter for partial data. The body is judged on its core points (shoulders, elbows, wrists,
        hips), which reduced layouts such as an 8-point body also have; the face needs a fifth of
        its 468 points by default, so a reduced 128-point face counts as present.
        """
        if name not in self.component_names():
            return np.zeros(self.num_frames, dtype=bool)
        _, conf = self.component(name)
        comp = self.components[self.component_names().index(name)]
        if name == "body":
            keep = [i for i, p in enumerate(comp.points) if p in CORE_BODY]
            if keep:
                conf = conf[:, keep]
        if min_fraction is None:
            min_fraction = DEFAULT_PRESENT_FRACTION.get(name, 0.5)
        return (conf > 0).mean(axis=1) >= min_fraction

    def presence_counts(self, min_fraction: float | None = None) -> dict[str, int]:
        """Number of frames in which each component is present (see :meth:`present`)."""
        return {name: int(self.present(name, min_fraction).sum()) for name in self.component_names()}

    # ---- coordinates -------------------------------------------------------------------------
    def to_pixels(self) -> PoseSequence:
        """The same poses in pixel coordinates."""
        if not self.normalized:
            return self
        pts = self.points.copy()
        pts[..., 0] *= self.width
        pts[..., 1] *= self.height
        if self.dims == 3:
            pts[..., 2] *= self.width
        return replace(self, points=pts, confidence=self.confidence.copy(), normalized=False)

    def to_normalized(self) -> PoseSequence:
        """The same poses with x, y in [0, 1] of the frame size (z scaled like x)."""
        if self.normalized:
            return self
        pts = self.points.copy()
        pts[..., 0] /= self.width
        pts[..., 1] /= self.height
        if self.dims == 3:
            pts[..., 2] /= self.width
        return replace(self, points=pts, confidence=self.confidence.copy(), normalized=True)

    def to_holistic(self) -> PoseSequence:
        """Map onto the canonical holistic layout by component and point name.

        Components are matched through :data:`COMPONENT_ALIASES` or their canonical names; points by
        name. Points absent from this sequence are missing (confidence 0) in the result. Components
        that are not part of holistic (e.g. world landmarks) are dropped.
        """
        if self.components == HOLISTIC_COMPONENTS:
            return self
        t, d = self.num_frames, self.dims
        k = sum(len(c) for c in HOLISTIC_COMPONENTS)
        pts = np.zeros((t, k, d), dtype=np.float32)
        conf = np.zeros((t, k), dtype=np.float32)
        offsets, start = {}, 0
        for comp in HOLISTIC_COMPONENTS:
            offsets[comp.name] = (start, {p: i for i, p in enumerate(comp.points)})
            start += len(comp)
        mapped = 0
        src = 0
        for comp in self.components:
            name = COMPONENT_ALIASES.get(comp.name, comp.name)
            if name in offsets:
                base, index = offsets[name]
                for j, pname in enumerate(comp.points):
                    i = index.get(pname)
                    if i is not None:
                        pts[:, base + i] = self.points[:, src + j]
                        conf[:, base + i] = self.confidence[:, src + j]
                        mapped += 1
            src += len(comp)
        if mapped == 0:
            raise PoseError(
                f"no point of components {self.component_names()} matches the holistic layout "
                "(body/POSE_LANDMARKS, left_hand, right_hand, face)"
            )
        return replace(self, points=pts, confidence=conf, components=HOLISTIC_COMPONENTS)

    # ---- frames ------------------------------------------------------------------------------
    def frames(self, start: int, stop: int | None = None) -> PoseSequence:
        """Frames ``start:stop`` as a new sequence (copies)."""
        s = slice(start, stop)
        ts = None if self.timestamps is None else self.timestamps[s].copy()
        return replace(self, points=self.points[s].copy(), confidence=self.confidence[s].copy(), timestamps=ts)

    def copy(self) -> PoseSequence:
        return self.frames(0, None)

    def with_data(self, points: np.ndarray, confidence: np.ndarray) -> PoseSequence:
        """A sequence with the same header and new arrays."""
        return replace(self, points=points, confidence=confidence)

    @staticmethod
    def concatenate(parts: list[PoseSequence]) -> PoseSequence:
        """Join sequences with identical headers along time."""
        if not parts:
            raise PoseError("cannot concatenate zero pose sequences")
        first = parts[0]
        for p in parts[1:]:
            if p.components != first.components or p.normalized != first.normalized or p.dims != first.dims:
                raise PoseError("cannot concatenate pose sequences with different layouts")
        ts = None
        if all(p.timestamps is not None for p in parts):
            ts = np.concatenate([p.timestamps for p in parts])
        return replace(
            first,
            points=np.concatenate([p.points for p in parts]),
            confidence=np.concatenate([p.confidence for p in parts]),
            timestamps=ts,
        )


CORE_BODY: frozenset[str] = frozenset(
    ("LEFT_SHOULDER", "RIGHT_SHOULDER", "LEFT_ELBOW", "RIGHT_ELBOW", "LEFT_WRIST", "RIGHT_WRIST", "LEFT_HIP", "RIGHT_HIP")
)
DEFAULT_PRESENT_FRACTION: dict[str, float] = {"body": 0.5, "left_hand": 0.5, "right_hand": 0.5, "face": 0.2}
