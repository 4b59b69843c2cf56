"""Pose maps: shapes, mapping through CanvasFit, what is drawn and what not, colours, determinism, video."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from factories_pose import make_pose_sequence
from fpdm_video.errors import PoseError
from fpdm_video.geometry import CanvasFit
from fpdm_video.pose.render import render_pose_map, render_pose_maps, render_pose_video
from fpdm_video.pose.sequence import BODY_POINTS
from fpdm_video.pose.skeleton import FACE_BONES, HAND_BONES

B = {name: i for i, name in enumerate(BODY_POINTS)}
# sha256 of frame 0 of make_pose_sequence(t=2, 256x256, seed=0) drawn at 256, uint8 (OpenCV 4.11 from mediapipe);
# the image was looked at before it was fixed here. Anti-aliasing may differ in another OpenCV version.
CHECKSUM_256 = "eb1176b044aceb3c36acf7bd73669dbe3dcade8f17412cde31379b362b3570d0"


@pytest.fixture(scope="module")
def pose():
    return make_pose_sequence(t=4, width=256, height=256, seed=0)


def only(pose, *components, frames=None):
    """A copy with every component except ``components`` made missing."""
    confidence = pose.confidence.copy()
    for name in pose.component_names():
        if name not in components:
            confidence[:, pose.slice_of(name)] = 0.0
    return pose.with_data(pose.points.copy(), confidence)


def lit(image: np.ndarray) -> np.ndarray:
    """(H, W) bool: pixels that are not black, for uint8 (H, W, 3)."""
    return image.max(axis=-1) > 0


def test_shapes_and_ranges(pose):
    m = render_pose_map(pose, 0, 64)
    assert m.shape == (3, 64, 64) and m.dtype == np.float32 and 0.0 <= m.min() and m.max() <= 1.0 and m.max() > 0.5
    u = render_pose_map(pose, 0, 64, as_uint8=True)
    assert u.shape == (64, 64, 3) and u.dtype == np.uint8
    assert np.allclose(np.transpose(m, (1, 2, 0)), u / 255.0)
    maps = render_pose_maps(pose, 48, start=1, end=3)
    assert maps.shape == (2, 3, 48, 48) and maps.dtype == np.float32
    assert np.array_equal(maps[0], render_pose_map(pose, 1, 48))
    assert render_pose_maps(pose, 32).shape == (4, 3, 32, 32)


def test_regression_checksum():
    fixed = make_pose_sequence(t=2, width=256, height=256, seed=0)
    image = render_pose_map(fixed, 0, 256, as_uint8=True)
    assert hashlib.sha256(image.tobytes()).hexdigest() == CHECKSUM_256
    assert np.array_equal(image, render_pose_map(fixed, 0, 256, as_uint8=True))  # deterministic


def test_points_land_where_square_fit_maps_them():
    """A lone nose dot on a 320x240 frame is drawn at CanvasFit's canvas position."""
    p = make_pose_sequence(t=1, width=320, height=240)
    confidence = np.zeros_like(p.confidence)
    confidence[0, B["NOSE"]] = 1.0
    points = p.points.copy()
    points[0, B["NOSE"], :2] = (250.0, 60.0)
    dot = p.with_data(points, confidence)
    for size in (64, 256, (96, 64), (44, 64)):  # square canvases, and W x H ones (wider, and the official 352:512)
        image = render_pose_map(dot, 0, size, as_uint8=True).max(axis=-1).astype(np.float64)
        width, height = (size, size) if isinstance(size, int) else size
        assert image.shape == (height, width)
        ys, xs = np.mgrid[0:height, 0:width]
        centroid = np.array([(image * xs).sum(), (image * ys).sum()]) / image.sum() + 0.5  # pixel i spans [i, i+1)
        want = CanvasFit.of(320, 240, size).points_to_canvas(np.array([250.0, 60.0]))
        assert np.allclose(centroid, want, atol=0.25), (centroid, want)


def test_missing_and_low_confidence_parts_are_not_drawn(pose):
    assert not lit(render_pose_map(only(pose), 0, 128, as_uint8=True)).any()  # nothing present: black
    assert lit(render_pose_map(only(pose, "left_hand"), 0, 128, as_uint8=True)).any()
    legs = render_pose_map(only(pose, "body"), 0, 256, as_uint8=True)  # the factory's legs have confidence 0.05
    knee = CanvasFit.of(256, 256, 256).points_to_canvas(pose.points[0, B["LEFT_KNEE"], :2]).astype(int)
    if 0 <= knee[0] < 256 and 0 <= knee[1] < 256:
        assert not lit(legs)[knee[1], knee[0]]
    # a bone needs both ends: a lone shoulder is a dot, with its elbow it is a line
    conf = np.zeros_like(pose.confidence)
    conf[:, B["LEFT_SHOULDER"]] = 1.0
    dot = lit(render_pose_map(pose.with_data(pose.points.copy(), conf), 0, 256, as_uint8=True)).sum()
    conf[:, B["LEFT_ELBOW"]] = 1.0
    line = lit(render_pose_map(pose.with_data(pose.points.copy(), conf), 0, 256, as_uint8=True)).sum()
    assert 0 < dot < 40 and line > 3 * dot, (dot, line)
    conf[:, B["LEFT_ELBOW"]] = 0.2  # below the default 0.3 threshold
    weak = lit(render_pose_map(pose.with_data(pose.points.copy(), conf), 0, 256, as_uint8=True)).sum()
    assert weak == dot


def test_left_and_right_hands_have_their_own_colours(pose):
    def mean_color(side):
        image = render_pose_map(only(pose, side), 0, 256, as_uint8=True).astype(np.float64)
        bright = image.max(axis=-1) > 128
        colour = image[bright].mean(axis=0)
        return colour, len({tuple(c) for c in image[bright & (image.min(axis=-1) < 64)].astype(int)})

    (left, n_left), (right, n_right) = mean_color("left_hand"), mean_color("right_hand")
    assert left[0] > left[2] + 60 and right[2] > right[0] + 60, (left, right)  # warm left, cool right
    assert n_left > 20 and n_right > 20  # many distinct bone colours


def test_line_widths_scale_with_canvas(pose):
    """The horizontal shoulder line is about 4x thicker at 512 than at 128 (widths rounded to pixels)."""
    shoulders = only(pose, "body")
    conf = np.zeros_like(shoulders.confidence)
    conf[:, [B["LEFT_SHOULDER"], B["RIGHT_SHOULDER"]]] = 1.0
    shoulders = shoulders.with_data(shoulders.points.copy(), conf)
    middle = 0.5 * (pose.points[0, B["LEFT_SHOULDER"], 0] + pose.points[0, B["RIGHT_SHOULDER"], 0]) / pose.width

    def thickness(size):
        column = render_pose_map(shoulders, 0, size, as_uint8=True)[:, int(middle * size)].max(axis=-1)
        return column.sum() / 255.0  # ink across the line: its width in pixels, anti-aliased edges counted in part

    t128, t256, t512 = thickness(128), thickness(256), thickness(512)
    assert t128 < t256 < t512 and 2.5 < t512 / t128 < 4.5, (t128, t256, t512)


def test_face_chains_are_mediapipe_contours():
    from mediapipe.python.solutions import face_mesh_connections as fm

    sets = {
        "oval": fm.FACEMESH_FACE_OVAL, "lips": fm.FACEMESH_LIPS, "left_eye": fm.FACEMESH_LEFT_EYE,
        "right_eye": fm.FACEMESH_RIGHT_EYE, "left_eyebrow": fm.FACEMESH_LEFT_EYEBROW,
        "right_eyebrow": fm.FACEMESH_RIGHT_EYEBROW, "nose": fm.FACEMESH_NOSE,
    }  # fmt: skip
    for part, edges in sets.items():
        ours = {frozenset(b) for b in FACE_BONES[part]}
        theirs = {frozenset(e) for e in edges}
        assert ours <= theirs, (part, ours - theirs)
        if part != "nose":  # the nose is drawn as its midline and nostril base only
            assert ours == theirs, (part, theirs - ours)
    assert len(HAND_BONES) == 23 and {i for b in HAND_BONES for i in b} == set(range(21))


def test_bad_arguments(pose):
    with pytest.raises(PoseError, match="outside"):
        render_pose_map(pose, 10, 64)
    with pytest.raises(PoseError, match="CanvasFit"):
        render_pose_map(pose, 0, 64, fit=CanvasFit.of(256, 256, 128))
    with pytest.raises(PoseError, match="at least 8"):
        render_pose_maps(pose, 4)
    with pytest.raises(PoseError, match="select none"):
        render_pose_maps(pose, 32, start=4)


def test_preview_video(tmp_path):
    from fpdm_video.video import read_video

    p = make_pose_sequence(t=5, width=160, height=120)
    square = render_pose_video(p, tmp_path / "square.mp4", size=64)
    framed = render_pose_video(p, tmp_path / "framed.mp4")
    a, b = read_video(square), read_video(framed)
    assert a.frames.shape == (5, 64, 64, 3) and b.frames.shape == (5, 120, 160, 3)
    assert b.frames.max() > 100
    assert sorted(x.name for x in tmp_path.iterdir()) == ["framed.mp4", "square.mp4"]  # no temporary files left


def test_real_pose_hands_on_their_sides(real_data):
    """example.pose: the signer's left hand is drawn near the body's left wrist, in warm colours."""
    from fpdm_video.pose import load_holistic

    real = load_holistic(real_data / "example.pose")
    both = np.flatnonzero(real.present("left_hand") & real.present("right_hand"))
    assert both.size > 10
    fit = CanvasFit.of(real.width, real.height, 256)
    for t in both[:: max(1, both.size // 5)]:
        for side, wrist in (("left_hand", "LEFT_WRIST"), ("right_hand", "RIGHT_WRIST")):
            image = render_pose_map(only(real, side), int(t), 256, as_uint8=True)
            ys, xs = np.nonzero(lit(image))
            centre = np.array([xs.mean(), ys.mean()])
            own = fit.points_to_canvas(real.points[t, B[wrist], :2])
            other_wrist = "RIGHT_WRIST" if wrist == "LEFT_WRIST" else "LEFT_WRIST"
            other = fit.points_to_canvas(real.points[t, B[other_wrist], :2])
            assert np.linalg.norm(centre - own) < np.linalg.norm(centre - other)
            colour = image[lit(image)].astype(float).mean(axis=0)
            assert (colour[0] > colour[2]) == (side == "left_hand"), (side, colour)


def test_every_frame_of_the_reduced_real_file_renders(real_data):
    """The reduced layout (8 body, 128 face points, no left hand) renders frame by frame."""
    from fpdm_video.pose import load_holistic

    pose = load_holistic(real_data / "mediapipe.pose")
    maps = render_pose_maps(pose, 128)  # (T, 3, 128, 128)
    assert maps.shape == (170, 3, 128, 128) and maps.dtype == np.float32
    assert 0.0 <= maps.min() and maps.max() <= 1.0
    drawn = (maps.max(axis=1) > 0).mean(axis=(1, 2))  # (T,) share of drawn pixels
    assert (drawn > 0.005).all(), "every frame has its body, face and right hand drawn"
