"""MediaPipe holistic extraction: real video and photo, input checks, the extract CLI.

One tracking-mode and one static-mode extractor are shared by the whole module; the real video is
extracted once (about 3 s on 2 cores) and its result checked by several tests.
"""

from __future__ import annotations

import os
from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image

from factories_pose import run_pose_cli
from fpdm_video.errors import InputError, PoseError, VideoReadError
from fpdm_video.pose.extract import (
    BODY_MIN_CONFIDENCE,
    HolisticConfig,
    HolisticExtractor,
    extract_image_pose,
    extract_poses,
    landmarks_to_arrays,
)
from fpdm_video.pose.pose_format_io import read_pose, write_pose
from fpdm_video.pose.sequence import HOLISTIC_COMPONENTS
from fpdm_video.video import read_video

WRIST = {"left": 15, "right": 16}  # body indices of LEFT_WRIST, RIGHT_WRIST


@pytest.fixture(scope="module")
def tracker():
    with HolisticExtractor() as ex:
        yield ex


@pytest.fixture(scope="module")
def still():
    with HolisticExtractor(HolisticConfig(static=True)) as ex:
        yield ex


@pytest.fixture(scope="module")
def video_pose(real_data, tracker):
    return extract_poses(real_data / "test_video.mp4", progress=False, extractor=tracker)


# ---- landmark conversion (no MediaPipe needed) ----------------------------------------------------
def fake_landmarks(n: int, x: float, visibility: float = 0.0) -> SimpleNamespace:
    marks = [SimpleNamespace(x=x, y=0.5, z=-0.1, visibility=visibility) for _ in range(n)]
    return SimpleNamespace(landmark=marks)


def test_landmarks_to_arrays_scales_to_pixels_and_marks_missing_parts():
    results = SimpleNamespace(
        pose_landmarks=fake_landmarks(33, 0.25, visibility=0.8),
        left_hand_landmarks=None,
        right_hand_landmarks=fake_landmarks(21, 1.5),  # outside the frame: kept as it is
        face_landmarks=fake_landmarks(468, 0.5),
    )
    points, conf = landmarks_to_arrays(results, width=200, height=100)
    assert points.shape == (543, 3) and conf.shape == (543,)
    body, lh, rh, face = (slice(0, 33), slice(33, 54), slice(54, 75), slice(75, 543))
    np.testing.assert_allclose(points[body][0], [50.0, 50.0, -20.0])  # x*W, y*H, z*W
    np.testing.assert_allclose(conf[body], 0.8)
    assert (conf[lh] == 0).all() and (points[lh] == 0).all()  # not detected: missing, not invented
    np.testing.assert_allclose(points[rh][:, 0], 300.0)
    assert (conf[rh] == 1).all() and (conf[face] == 1).all()  # hands and face have no per-point score

    results.pose_landmarks = fake_landmarks(33, 0.25, visibility=0.0)
    _, conf = landmarks_to_arrays(results, width=200, height=100)
    assert (conf[body] == BODY_MIN_CONFIDENCE).all()  # a found body's points never read as missing


# ---- real data ----------------------------------------------------------------------------------
@pytest.mark.slow
def test_real_video_finds_body_and_hands(video_pose):
    pose = video_pose
    assert (pose.num_frames, pose.width, pose.height) == (58, 540, 720)
    assert pose.components == HOLISTIC_COMPONENTS and pose.dims == 3
    assert pose.fps == pytest.approx(29.9, abs=0.1)
    assert pose.timestamps is not None and (np.diff(pose.timestamps) > 0).all()
    counts = pose.presence_counts()
    assert counts["body"] >= 56
    assert (pose.present("left_hand") | pose.present("right_hand")).sum() >= 15
    assert counts["face"] >= 50


@pytest.mark.slow
def test_real_video_hands_match_their_body_wrists(video_pose):
    body = video_pose.component("body")[0]
    found = 0
    for side, other in (("left", "right"), ("right", "left")):
        hand, conf = video_pose.component(f"{side}_hand")
        seen = conf[:, 0] > 0
        found += seen.sum()
        if seen.any():
            near = np.linalg.norm(hand[seen, 0, :2] - body[seen, WRIST[side], :2], axis=-1).mean()
            far = np.linalg.norm(hand[seen, 0, :2] - body[seen, WRIST[other], :2], axis=-1).mean()
            assert near < 60 and far > 3 * near, (side, near, far)
    assert found >= 15


@pytest.mark.slow
def test_real_video_keeps_offscreen_body_points(video_pose):
    body, conf = video_pose.component("body")
    found = video_pose.present("body")
    assert (conf[found] > 0).all()  # a found body has all 33 points, also those off screen
    knees = body[found][:, 25:27, 1]
    assert (knees > video_pose.height).all()  # the signer's knees are below the frame ...
    assert conf[found][:, 25:27].max() < 0.2  # ... and MediaPipe says so with a low visibility


@pytest.mark.slow
def test_extracted_poses_round_trip_through_a_pose_file(video_pose, tmp_path):
    back = read_pose(write_pose(video_pose, tmp_path / "video.pose"))
    assert back.components == HOLISTIC_COMPONENTS
    np.testing.assert_array_equal(back.points, video_pose.points)
    np.testing.assert_array_equal(back.confidence, video_pose.confidence)
    assert back.fps == pytest.approx(video_pose.fps) and (back.width, back.height) == (540, 720)


def test_path_and_array_sources_agree(real_data, tracker):
    path = real_data / "test_video.mp4"
    from_path = extract_poses(path, progress=False, max_frames=6, chunk_size=4, extractor=tracker)
    clip = read_video(path, 0, 6)
    chunks = [clip.frames[:2], clip.frames[2:]]
    from_chunks = extract_poses(chunks, fps=clip.fps, progress=False, extractor=tracker)
    assert from_path.num_frames == from_chunks.num_frames == 6
    np.testing.assert_array_equal(from_path.points, from_chunks.points)  # reset: same tracking start
    np.testing.assert_array_equal(from_path.confidence, from_chunks.confidence)
    np.testing.assert_array_equal(from_path.timestamps, clip.timestamps)
    assert from_chunks.timestamps is None and from_chunks.fps == clip.fps


def test_reference_photo_has_body_face_and_both_hands(real_data, still):
    pose = extract_image_pose(real_data / "fake_human.png", extractor=still)
    assert (pose.num_frames, pose.width, pose.height) == (1, 1928, 1928)
    for name in ("body", "face", "left_hand", "right_hand"):
        assert pose.present(name)[0], name
    for name in ("face", "left_hand", "right_hand"):
        xy = pose.component(name)[0][0, :, :2]
        assert (xy >= 0).all() and (xy <= 1928).all(), name


# ---- no person, bad input -----------------------------------------------------------------------
def test_frames_without_a_person_raise_pose_error(tracker, still):
    blank = np.full((3, 64, 48, 3), 128, dtype=np.uint8)
    with pytest.raises(PoseError, match="no person"):
        extract_poses(blank, fps=25.0, progress=False, extractor=tracker)
    with pytest.raises(PoseError, match="no person"):
        extract_image_pose(blank[0], extractor=still)


def test_bad_frames_raise_clear_errors(tracker, tmp_path):
    frames = np.zeros((2, 32, 32, 3), np.uint8)
    with pytest.raises(InputError, match="fps="):
        extract_poses(frames, progress=False, extractor=tracker)
    with pytest.raises(VideoReadError, match="uint8"):
        extract_poses(frames.astype(np.float32), fps=25.0, progress=False, extractor=tracker)
    with pytest.raises(VideoReadError, match=r"\(T, H, W, 3\)"):
        extract_poses(frames[0], fps=25.0, progress=False, extractor=tracker)
    with pytest.raises(VideoReadError, match="frame size changed"):
        chunks = [frames, np.zeros((1, 16, 32, 3), np.uint8)]
        extract_poses(chunks, fps=25.0, progress=False, extractor=tracker)
    with pytest.raises(InputError, match="chunk_size"):
        extract_poses(frames, fps=25.0, chunk_size=0, extractor=tracker)
    with pytest.raises(VideoReadError, match="does not exist"):
        extract_poses(tmp_path / "missing.mp4", progress=False, extractor=tracker)
    with pytest.raises(ValueError, match="static"):
        extract_poses(frames, fps=25.0, static=True, extractor=tracker)


def test_bad_images_raise_input_error(tmp_path, still):
    with pytest.raises(InputError, match="does not exist"):
        extract_image_pose(tmp_path / "nobody.png", extractor=still)
    text = tmp_path / "photo.png"
    text.write_text("not an image")
    with pytest.raises(InputError, match="not a readable image"):
        extract_image_pose(text, extractor=still)
    with pytest.raises(InputError, match=r"\(H, W, 3\)"):
        extract_image_pose(np.zeros((4, 4)), extractor=still)


def test_only_the_offline_model_is_accepted():
    with pytest.raises(InputError, match="model_complexity=1"):
        HolisticExtractor(HolisticConfig(model_complexity=2))


# ---- CLI ----------------------------------------------------------------------------------------
@pytest.mark.slow
def test_cli_extract_writes_a_pose_file_quietly(real_data, tmp_path):
    out = tmp_path / "clip.pose"
    done = run_pose_cli("extract", str(real_data / "test_video.mp4"), "-o", str(out), "--max-frames", "5", "--quiet")
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""  # no progress bar, no MediaPipe log lines
    pose = read_pose(out)
    assert pose.num_frames == 5 and pose.components == HOLISTIC_COMPONENTS
    assert os.listdir(tmp_path) == ["clip.pose"]


@pytest.mark.parametrize("case", ["missing", "not_a_video", "unwritable", "bad_suffix"])
def test_cli_extract_bad_input_exits_2_with_one_line(case, real_data, tmp_path):
    video, out = real_data / "test_video.mp4", tmp_path / "out.pose"
    if case == "missing":
        video = tmp_path / "missing.mp4"
    elif case == "not_a_video":
        video = tmp_path / "notes.mp4"
        video.write_text("hello")
    elif case == "unwritable":
        (tmp_path / "file").write_text("x")
        out = tmp_path / "file" / "out.pose"
    else:
        out = tmp_path / "out.json"
    done = run_pose_cli("extract", str(video), "-o", str(out))
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    assert "Traceback" not in done.stderr
    assert not out.exists()


def test_frame_folder_source_uses_its_frame_rate(real_data, tracker, tmp_path):
    frames = read_video(real_data / "test_video.mp4", 0, 3).frames
    for i, frame in enumerate(frames, start=1):
        Image.fromarray(frame).save(tmp_path / f"images{i:04d}.png")
    pose = extract_poses(tmp_path, progress=False, extractor=tracker)
    assert (pose.num_frames, pose.fps) == (3, 25.0)
    np.testing.assert_allclose(pose.timestamps, [0.0, 0.04, 0.08])
    assert extract_poses(tmp_path, fps=12.5, progress=False, extractor=tracker).fps == 12.5
