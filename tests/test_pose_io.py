""".pose I/O through pose-format: real files from other programs, round trips, canonical output."""

from __future__ import annotations

import os

import numpy as np
import pytest
from pose_format import Pose
from pose_format.numpy import NumPyPoseBody
from pose_format.pose_header import PoseHeader, PoseHeaderComponent, PoseHeaderDimensions

from factories_pose import make_pose_sequence, run_pose_cli
from fpdm_video.errors import InputError, PoseError
from fpdm_video.pose.pose_format_io import load_holistic, read_pose, sequence_to_pose, write_pose
from fpdm_video.pose.sequence import BODY_POINTS, HOLISTIC_COMPONENTS, PoseSequence


def read_raw(path) -> Pose:
    with open(path, "rb") as f:
        return Pose.read(f.read())


def assert_same_sequence(a: PoseSequence, b: PoseSequence) -> None:
    np.testing.assert_array_equal(a.points, b.points)
    np.testing.assert_array_equal(a.confidence, b.confidence)
    assert a.components == b.components
    assert [c.limbs for c in a.components] == [c.limbs for c in b.components]
    assert (a.fps, a.width, a.height, a.normalized) == (b.fps, b.width, b.height, b.normalized)


# ---- real files --------------------------------------------------------------------------------
def test_example_pose_reads_in_its_own_layout(real_data):
    pose = read_pose(real_data / "example.pose")
    assert pose.component_names() == ("body", "face", "left_hand", "right_hand", "POSE_WORLD_LANDMARKS")
    assert (pose.num_frames, pose.fps, pose.width, pose.height, pose.dims) == (97, 25.0, 320, 240, 3)
    assert pose.presence_counts()["body"] == 97
    assert 0 < pose.presence_counts()["left_hand"] < 97  # hands come and go: missing frames are kept


def test_example_pose_round_trip(real_data, tmp_path):
    source = real_data / "example.pose"
    pose = read_pose(source)
    out = write_pose(pose, tmp_path / "copy.pose")
    assert out == tmp_path / "copy.pose" and out.is_file()
    assert_same_sequence(pose, read_pose(out))

    # pose-format sees the same data and header as in the original file
    old, new = read_raw(source), read_raw(out)
    np.testing.assert_array_equal(np.ma.getmaskarray(old.body.data), np.ma.getmaskarray(new.body.data))
    np.testing.assert_array_equal(old.body.data.filled(0), new.body.data.filled(0))
    np.testing.assert_array_equal(old.body.confidence, new.body.confidence)
    assert old.body.fps == new.body.fps
    od, nd = old.header.dimensions, new.header.dimensions
    assert (od.width, od.height, od.depth) == (nd.width, nd.height, nd.depth)
    for oc, nc in zip(old.header.components, new.header.components, strict=True):
        assert (oc.name, oc.points, oc.format, oc.limbs) == (nc.name, nc.points, nc.format, nc.limbs)
        np.testing.assert_array_equal(oc.colors, nc.colors)


def test_example_pose_to_holistic(real_data):
    raw = read_pose(real_data / "example.pose")
    pose = load_holistic(real_data / "example.pose")
    assert pose.components == HOLISTIC_COMPONENTS
    for name in ("body", "left_hand", "right_hand", "face"):
        np.testing.assert_array_equal(pose.component(name)[0], raw.component(name)[0])
        np.testing.assert_array_equal(pose.component(name)[1], raw.component(name)[1])


def test_reduced_mediapipe_pose_maps_to_holistic(real_data):
    raw = read_pose(real_data / "mediapipe.pose")
    body = raw.components[raw.component_names().index("body")]
    assert len(body) == 8 and body.points[0] == "LEFT_SHOULDER"
    assert (raw.num_frames, raw.fps, raw.width, raw.height) == (170, 24.0, 1250, 1250)

    pose = load_holistic(real_data / "mediapipe.pose")
    assert pose.components == HOLISTIC_COMPONENTS
    hol_body, hol_conf = pose.component("body")
    raw_body, raw_conf = raw.component("body")
    for j, name in enumerate(body.points):  # each of the 8 points lands at its canonical index
        i = BODY_POINTS.index(name)
        np.testing.assert_array_equal(hol_body[:, i], raw_body[:, j])
        np.testing.assert_array_equal(hol_conf[:, i], raw_conf[:, j])
    assert BODY_POINTS.index("LEFT_SHOULDER") == 11 and np.array_equal(hol_body[:, 11], raw_body[:, 0])
    assert BODY_POINTS.index("RIGHT_HIP") == 24 and np.array_equal(hol_body[:, 24], raw_body[:, 7])
    assert (hol_conf.sum(axis=0) > 0).sum() == 8  # the other 25 body points are missing, not invented
    face_conf = pose.component("face")[1]
    assert (face_conf.sum(axis=0) > 0).sum() == 128
    np.testing.assert_array_equal(pose.component("right_hand")[0], raw.component("right_hand")[0])
    # a reduced body and face still count as found where the file has them
    assert pose.present("body").sum() == (raw_conf > 0).any(axis=1).sum() > 0
    assert pose.present("face").sum() == (raw.component("face")[1] > 0).any(axis=1).sum() > 0


# ---- canonical sequences -----------------------------------------------------------------------
def test_canonical_round_trip_uses_mediapipe_names_and_limbs(tmp_path):
    pose = make_pose_sequence(t=5, width=200, height=150, missing={"right_hand": [1, 3]})
    path = write_pose(pose, tmp_path / "fake.pose")
    raw = read_raw(path)
    names = [c.name for c in raw.header.components]
    assert names == ["POSE_LANDMARKS", "LEFT_HAND_LANDMARKS", "RIGHT_HAND_LANDMARKS", "FACE_LANDMARKS"]
    limbs = {c.name: set(map(tuple, c.limbs)) for c in raw.header.components}
    assert (11, 12) in limbs["POSE_LANDMARKS"] and (0, 1) in limbs["LEFT_HAND_LANDMARKS"]
    assert len(limbs["FACE_LANDMARKS"]) == 124  # MediaPipe's face contours
    assert all(len(c.colors) > 0 for c in raw.header.components)
    assert raw.body.data.shape == (5, 1, 543, 3)
    assert np.ma.getmaskarray(raw.body.data)[[1, 3], 0, 33 + 21 : 33 + 42].all()

    back = read_pose(path)
    assert back.components == HOLISTIC_COMPONENTS
    np.testing.assert_array_equal(back.points, pose.points)
    np.testing.assert_array_equal(back.confidence, pose.confidence)
    assert (back.fps, back.width, back.height) == (25.0, 200, 150)
    assert load_holistic(path).components == HOLISTIC_COMPONENTS


def test_normalized_and_2d_sequences_are_written_in_pixels(tmp_path):
    pose = make_pose_sequence(t=2, width=100, height=80)
    flat = pose.with_data(pose.points[..., :2], pose.confidence).to_normalized()
    back = read_pose(write_pose(flat, tmp_path / "flat.pose"))
    assert back.dims == 2 and not back.normalized
    assert read_raw(tmp_path / "flat.pose").header.components[0].format == "XYC"
    np.testing.assert_allclose(back.points, pose.points[..., :2], rtol=1e-5, atol=1e-3)


def test_first_person_of_a_multi_person_file(tmp_path):
    comp = PoseHeaderComponent("POSE_LANDMARKS", list(BODY_POINTS), [], [(255, 0, 0)], "XYC")
    header = PoseHeader(0.2, PoseHeaderDimensions(64, 48, 0), [comp])
    data = np.random.default_rng(0).uniform(1, 40, size=(3, 2, 33, 2)).astype(np.float32)  # (T, people, K, D)
    conf = np.ones((3, 2, 33), np.float32)
    conf[1, 0, :5] = 0
    path = tmp_path / "two.pose"
    with open(path, "wb") as f:
        Pose(header, NumPyPoseBody(25, data, conf)).write(f)
    pose = read_pose(path)
    assert pose.points.shape == (3, 33, 2)
    np.testing.assert_array_equal(pose.points[0], data[0, 0])
    assert (pose.confidence[1, :5] == 0).all() and (pose.points[1, :5] == 0).all()


# ---- errors and atomic output --------------------------------------------------------------------
def test_missing_and_corrupt_files_raise_pose_error(tmp_path):
    with pytest.raises(PoseError, match="does not exist"):
        read_pose(tmp_path / "nothing.pose")
    garbage = tmp_path / "garbage.pose"
    garbage.write_bytes(b"this is not a pose file at all")
    with pytest.raises(PoseError, match="not a readable .pose file"):
        read_pose(garbage)
    whole = write_pose(make_pose_sequence(t=2), tmp_path / "whole.pose").read_bytes()
    for cut in (300, len(whole) - 10):  # inside the header, inside the body
        truncated = tmp_path / "truncated.pose"
        truncated.write_bytes(whole[:cut])
        with pytest.raises(PoseError, match="truncated.pose"):
            read_pose(truncated)


def test_write_is_atomic_and_checks_the_folder(tmp_path):
    pose = make_pose_sequence(t=2)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(InputError):
        write_pose(pose, blocker / "sub" / "out.pose")  # the parent is a file
    target = tmp_path / "out.pose"
    write_pose(pose, target)
    assert sorted(os.listdir(tmp_path)) == ["file", "out.pose"]  # no temporary left behind

    huge = PoseSequence(points=pose.points, confidence=pose.confidence, fps=25, width=70000, height=10)
    with pytest.raises(PoseError, match="65535"):
        write_pose(huge, tmp_path / "huge.pose")
    assert not (tmp_path / "huge.pose").exists()


def test_sequence_to_pose_keeps_people_axis_of_one():
    pose = make_pose_sequence(t=3)
    pf = sequence_to_pose(pose)
    assert pf.body.data.shape == (3, 1, 543, 3) and pf.body.confidence.shape == (3, 1, 543)
    assert pf.header.dimensions.width == pose.width


# ---- the info command ----------------------------------------------------------------------------
def test_cli_info_reports_frames_and_presence(real_data):
    done = run_pose_cli("info", str(real_data / "example.pose"))
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "frames:     97" in out and "fps:        25" in out and "320x240" in out
    lines = {line.split()[0]: line.split() for line in out.splitlines() if line.startswith("  ")}
    assert lines["body"][1:] == ["33", "97/97"]
    assert lines["POSE_WORLD_LANDMARKS"][1:] == ["33", "97/97"]
    left = read_pose(real_data / "example.pose").presence_counts()["left_hand"]
    assert lines["left_hand"][1:] == ["21", f"{left}/97"]


def test_cli_info_bad_file_exits_2(tmp_path):
    bad = tmp_path / "bad.pose"
    bad.write_bytes(b"\x00\x01garbage")
    for path in (bad, tmp_path / "missing.pose"):
        done = run_pose_cli("info", str(path))
        assert done.returncode == 2
        assert done.stderr.startswith("error: ") and len(done.stderr.strip().splitlines()) == 1
        assert "Traceback" not in done.stderr


def test_pose_format_visualizer_draws_a_written_file(tmp_path):
    from pose_format.pose_visualizer import PoseVisualizer

    pose = make_pose_sequence(t=2, width=160, height=120)
    frames = list(PoseVisualizer(read_raw(write_pose(pose, tmp_path / "v.pose"))).draw(max_frames=2))
    assert len(frames) == 2 and frames[0].shape == (120, 160, 3)
    drawn = (frames[0] != 255).any(axis=-1)  # on a white background
    assert drawn.mean() > 0.02
    hand_box = pose.component("left_hand")[0][0, :, :2]
    (x0, y0), (x1, y1) = hand_box.min(axis=0).astype(int), hand_box.max(axis=0).astype(int)
    assert drawn[y0 : y1 + 1, x0 : x1 + 1].any()
