"""The dlib face-identity metric on constructed cases: the same image, two different people, no face at all."""

from __future__ import annotations

import math

import numpy as np
import pytest

from fpdm_video.metrics.face_identity import (SAME_PERSON, FaceIdentityConfig, describe, describe_all, detection_rate, distance,
                                              distances, share_under)  # fmt: skip
from fpdm_video.pose.extract import load_rgb_image
from fpdm_video.strict_json import dumps
from fpdm_video.video import read_video
from pipelines.evaluation.face_identity import face_section
from pipelines.evaluation.video_eval import face_identity

from factories_offline import no_network  # noqa: F401 (fixture)


pytestmark = pytest.mark.usefixtures("no_network")  # every test here runs with the network refused


@pytest.fixture(scope="module")
def signer_frames(real_data):
    return read_video(real_data / "test_video.mp4", 0, 26).frames


@pytest.fixture(scope="module")
def photo(real_data):
    return load_rgb_image(real_data / "fake_human.png")


@pytest.mark.real_data
def test_the_same_image_is_0_apart(signer_frames, photo):
    for image in (signer_frames[0], photo):
        a, b = describe(image), describe(image.copy())
        assert a is not None and a.shape == (128,)
        assert distance(a, b) == 0.0
    assert distances([describe(photo)] * 3, describe(photo)).tolist() == [0.0, 0.0, 0.0]


@pytest.mark.real_data
def test_the_real_signer_and_fake_human_are_different_people(signer_frames, photo):
    frames = describe_all(signer_frames[[0, 4, 8, 12, 25]])
    assert all(d is not None for d in frames)
    apart = distances(frames, describe(photo))
    assert (apart > SAME_PERSON).all(), apart
    same = distances(frames[1:], frames[0])  # the signer against herself in other frames
    assert (same < SAME_PERSON).all(), same  # frame 25 also has a larger false detection on her chest: the confident face wins


@pytest.mark.real_data
def test_the_report_section_of_the_signer_against_the_photo(signer_frames, photo):
    blank = np.zeros_like(signer_frames[:2])
    output = np.concatenate([signer_frames[:3], blank])  # 3 frames of the signer, then 2 without a face
    section, series = face_identity(output, np.concatenate([signer_frames[:3], signer_frames[3:5]]), photo)
    assert section["frames"] == 5 and section["frames_with_face"] == 3
    assert section["detection_rate"] == {"output": 0.6, "driving": 1.0, "reference_photo": 1.0}
    assert section["to_driving_signer"]["max"] == 0.0 and section["to_driving_signer"]["count"] == 3  # the same frames
    assert section["to_reference"]["min"] > SAME_PERSON
    assert section["share_under_threshold"] == {"to_reference": 0.0, "to_driving_signer": 0.6}
    assert section["reference_to_driving_signer"]["min"] > SAME_PERSON
    assert math.isnan(series["face_to_reference"][4])


def test_no_face_is_not_detected_and_does_not_crash():
    rng = np.random.default_rng(0)
    images = [np.full((120, 100, 3), 128, np.uint8), rng.integers(0, 256, (90, 160, 3), dtype=np.uint8),
              np.zeros((1, 1, 3), np.uint8), rng.random((64, 64, 3))]  # fmt: skip
    found = describe_all(images)
    assert found == [None] * 4 and detection_rate(found) == 0.0
    assert math.isnan(distance(found[0], found[1]))
    assert share_under(distances(found, None)) == 0.0
    section, series = face_section(found, {"reference": None, "driving_signer": found})
    assert section["detection_rate"]["output"] == 0.0 and section["to_reference"]["count"] == 0
    assert section["share_under_threshold"] == {"to_reference": 0.0, "to_driving_signer": 0.0}
    assert '"mean": null' in dumps(section)  # NaN is written as null
    section, _ = face_identity(np.zeros((2, 48, 48, 3), np.uint8), np.zeros((2, 48, 48, 3), np.uint8), np.zeros((48, 48, 3), np.uint8))
    assert section["detection_rate"] == {"output": 0.0, "driving": 0.0, "reference_photo": 0.0}


def test_config_is_checked():
    with pytest.raises(ValueError, match="5 or 68"):
        FaceIdentityConfig(landmarks=7)


@pytest.mark.real_data
def test_the_dataset_form_compares_faces_with_the_ground_truth_and_the_photo(real_data, signer_frames, tmp_path):
    """A one-clip dataset of real frames evaluated against itself: 0 from its ground truth, far from fake_human."""
    import shutil

    from PIL import Image

    from fpdm_video.data.synthetic_dataset import SyntheticDatasetConfig, write_synthetic_dataset
    from pipelines.evaluation.dataset_eval import evaluate_dataset

    truth, generated = tmp_path / "gt", tmp_path / "gen"
    write_synthetic_dataset(truth, SyntheticDatasetConfig(clips=1, frames=3, width=270, height=360, seed=0, split="test"))
    for png, frame in zip(sorted((truth / "features").rglob("*.png")), signer_frames[[0, 12, 25]], strict=True):
        Image.fromarray(frame).resize((270, 360), Image.LANCZOS).save(png)  # the real signer in place of the cartoon
    shutil.copytree(truth, generated)
    report, _ = evaluate_dataset(generated, truth, "test", progress=False, signer=real_data / "fake_human.png")
    face = report["identity"]["face"]
    assert face["detection_rate"] == {"output": 1.0, "ground_truth": 1.0, "reference_photo": 1.0}
    assert face["to_ground_truth"]["max"] == 0.0 and face["share_under_threshold"]["to_ground_truth"] == 1.0
    assert face["to_reference"]["min"] > SAME_PERSON and face["share_under_threshold"]["to_reference"] == 0.0
    clip = next(iter(report["per_clip"].values()))
    assert clip["face"]["frames"] == 3
