"""The face-identity section of an evaluation report: dlib face descriptors of the output against those of others.

Unlike the stage-1 similarity (the checkpoint's own encoder, so the model grades itself), this is an
independent, pretrained face-recognition network (see :mod:`fpdm_video.metrics.face_identity`).
Distances are Euclidean between 128-d descriptors; below 0.6 is the same person by dlib's threshold.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from fpdm_video.metrics.face_identity import Descriptor, FaceIdentityConfig, detection_rate, distances, share_under
from pipelines.evaluation.summary import summarise

MEASURE = ("dlib face_recognition_model_v1 (128-d descriptor of the most confident face, HOG detector, {landmarks}-point "
           "alignment): Euclidean distance, below {threshold:g} = the same person by dlib's threshold")  # fmt: skip


def face_section(output: Sequence[Descriptor | None], against: Mapping[str, Sequence[Descriptor | None] | Descriptor | None],
                 config: FaceIdentityConfig = FaceIdentityConfig(),
                 others_detected: Mapping[str, float] | None = None) -> tuple[dict, dict[str, list[float]]]:  # fmt: skip
    """(report section, per-frame series) of the output frames' descriptors against each of ``against``.

    ``against`` maps a name (``"reference"``, ``"driving_signer"``, ``"ground_truth"``) to one
    descriptor (a photo; None when it shows no face) or to one per output frame (same index).
    ``others_detected`` adds the detection rates of the compared images to the section.
    """
    section: dict = {
        "measure": MEASURE.format(landmarks=config.landmarks, threshold=config.threshold),
        "threshold": config.threshold,
        "frames": len(output),
        "detection_rate": {"output": detection_rate(output), **(others_detected or {})},
        "frames_with_face": int(sum(d is not None for d in output)),
    }
    series: dict[str, list[float]] = {}
    shares = {}
    for name, other in against.items():
        d = distances(output, other)
        section[f"to_{name}"] = summarise(d)
        shares[f"to_{name}"] = share_under(d, config.threshold)
        series[f"face_to_{name}"] = d.tolist()
    section["share_under_threshold"] = shares  # of all output frames: a frame without a face counts as not under
    return section, series


def photo_rate(descriptor: Descriptor | None) -> float:
    return 1.0 if descriptor is not None else 0.0


def pair_distances(a: Sequence[Descriptor | None], b: Sequence[Descriptor | None] | Descriptor | None) -> dict:
    """Summary of the distances between two other people (e.g. the reference photo and the driving signer), for scale."""
    return summarise(np.asarray(distances(a, b)))
