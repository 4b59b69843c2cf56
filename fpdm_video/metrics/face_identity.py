"""Face identity with dlib's pretrained face descriptor: is the face in a frame the same person as in another?

dlib's ``face_recognition_model_v1`` maps an aligned face to a 128-d descriptor; two faces whose
descriptors are less than 0.6 apart (Euclidean) are the same person by dlib's own threshold (99.38 %
on LFW). The weights come inside the ``face-recognition-models`` package (its ``models/`` folder),
so nothing is downloaded. Faces are found with dlib's HOG frontal face detector and aligned with
its 5-point (or 68-point) shape predictor. When a frame holds several faces, the detector's most
confident is used (not the largest: on the real test video a false detection on the signer's chest
is larger than her face).

A frame in which no face is found has no descriptor (``None``), and every distance to it is NaN;
the summaries count such frames as not detected.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image

SAME_PERSON = 0.6  # dlib's threshold: descriptors closer than this belong to the same person

Descriptor = np.ndarray  # (128,) float64


@dataclass(frozen=True)
class FaceIdentityConfig:
    """How faces are found and described."""

    landmarks: int = 5  # 5 or 68: the shape predictor that aligns the face
    upsample: int = 1  # the detector's upsampling: 1 finds faces down to about 40 pixels
    max_side: int = 1024  # larger images are shrunk to this longer side first (a face in a big photo stays big)
    jitters: int = 0  # random re-crops averaged per descriptor (dlib: 0 = none)
    threshold: float = SAME_PERSON

    def __post_init__(self) -> None:
        if self.landmarks not in (5, 68):
            raise ValueError(f"landmarks must be 5 or 68, not {self.landmarks}")


def model_folder() -> Path:
    """The ``models/`` folder of the installed ``face-recognition-models`` package, found without importing it.

    (Its ``__init__`` imports ``pkg_resources``, which recent setuptools no longer ships.)
    """
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the face-recognition-models package is not installed (a dependency of fpdm-video)")
    return Path(next(iter(spec.submodule_search_locations))) / "models"


@lru_cache(maxsize=2)
def _models(landmarks: int):
    import dlib

    folder = model_folder()
    predictor = folder / ("shape_predictor_5_face_landmarks.dat" if landmarks == 5 else "shape_predictor_68_face_landmarks.dat")
    return (dlib.get_frontal_face_detector(), dlib.shape_predictor(str(predictor)),
            dlib.face_recognition_model_v1(str(folder / "dlib_face_recognition_resnet_model_v1.dat")))  # fmt: skip


def _rgb(image: np.ndarray, max_side: int) -> np.ndarray:
    """A C-contiguous uint8 RGB copy (dlib needs one), shrunk to ``max_side`` if larger."""
    image = np.asarray(image)
    if image.dtype != np.uint8:
        image = (np.clip(image.astype(np.float64), 0.0, 1.0) * 255.0).round().astype(np.uint8)
    if image.ndim == 2:
        image = np.repeat(image[..., None], 3, axis=-1)
    image = image[..., :3]
    h, w = image.shape[:2]
    if max(h, w) > max_side:
        scale = max_side / max(h, w)
        image = np.asarray(Image.fromarray(image).resize((max(1, round(w * scale)), max(1, round(h * scale))), Image.LANCZOS))
    return np.ascontiguousarray(image)


def describe(image: np.ndarray, config: FaceIdentityConfig = FaceIdentityConfig()) -> Descriptor | None:
    """The 128-d descriptor of the most confident face in ``image`` ((H, W, 3) uint8 or float in [0, 1]), or None."""
    detector, predictor, recogniser = _models(config.landmarks)
    rgb = _rgb(image, config.max_side)
    faces, scores, _ = detector.run(rgb, config.upsample, 0.0)  # threshold 0: what detector(rgb, upsample) finds
    if len(faces) == 0:
        return None
    face = faces[int(np.argmax(scores))]
    return np.asarray(recogniser.compute_face_descriptor(rgb, predictor(rgb, face), config.jitters), dtype=np.float64)


def describe_all(frames: Sequence[np.ndarray] | np.ndarray, config: FaceIdentityConfig = FaceIdentityConfig()) -> list[Descriptor | None]:
    return [describe(f, config) for f in frames]


def distance(a: Descriptor | None, b: Descriptor | None) -> float:
    """Euclidean distance of two descriptors; NaN when either face was not found."""
    if a is None or b is None:
        return float("nan")
    return float(np.linalg.norm(np.asarray(a) - np.asarray(b)))


def distances(frames: Sequence[Descriptor | None], other: Sequence[Descriptor | None] | Descriptor | None) -> np.ndarray:
    """Per-frame distances to one descriptor (``other`` an array or None) or to the same index of a sequence."""
    if other is None or isinstance(other, np.ndarray):
        return np.array([distance(f, other) for f in frames], dtype=np.float64)
    if len(other) != len(frames):
        raise ValueError(f"{len(frames)} frames against {len(other)}")
    return np.array([distance(f, o) for f, o in zip(frames, other, strict=True)], dtype=np.float64)


def detection_rate(frames: Sequence[Descriptor | None]) -> float:
    return float(np.mean([f is not None for f in frames])) if len(frames) else float("nan")


def share_under(values: np.ndarray, threshold: float = SAME_PERSON) -> float:
    """The share of all frames closer than ``threshold``; a frame without a face (NaN) counts as not under."""
    values = np.asarray(values, dtype=np.float64)
    if values.size == 0:
        return float("nan")
    with np.errstate(invalid="ignore"):
        return float(np.mean(np.nan_to_num(values, nan=np.inf) < threshold))
