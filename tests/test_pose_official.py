"""The official FPDM's pose-map styles: OpenPose-18 and COCO-WholeBody-133 from holistic poses."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from factories_pose import make_pose_sequence
from fpdm_video.config import PoseMapConfig, pose_map_problem
from fpdm_video.pose import load_holistic
from fpdm_video.pose.keypoint_sets import FACE68_FROM_MESH, OPENPOSE18_NAMES, OPENPOSE18_TABLE, WHOLEBODY133_TABLE, select_points
from fpdm_video.pose.render import RenderStyle, render_pose_map, style_for
from fpdm_video.pose.render_official import OPENPOSE_COLORS, draw_keypoints, skeleton_spec, wholebody_colors
from fpdm_video.pose.sequence import BODY_POINTS
from fpdm_video.pose.skeleton import OFFSETS

B = {name: i for i, name in enumerate(BODY_POINTS)}


def whole_canvas_reference(points, shown, draw_size, style, stick_width) -> np.ndarray:
    """The official drawing loop as its code states it: every limb blended over the whole canvas."""
    _, limbs, colors, radius = skeleton_spec(style)
    canvas = np.zeros((draw_size[1], draw_size[0], 3), np.uint8)
    for i in np.flatnonzero(shown):
        cv2.circle(canvas, (int(points[i, 0]), int(points[i, 1])), radius, [int(c) for c in colors[i]], thickness=-1)
    for i, limb in enumerate(limbs):
        if not shown[limb].all():
            continue
        y, x = points[limb, 0], points[limb, 1]
        length = ((x[0] - x[1]) ** 2 + (y[0] - y[1]) ** 2) ** 0.5
        angle = math.degrees(math.atan2(x[0] - x[1], y[0] - y[1]))
        polygon = cv2.ellipse2Poly((int(np.mean(y)), int(np.mean(x))), (int(length / 2), stick_width), int(angle), 0, 360, 1)
        current = canvas.copy()
        cv2.fillConvexPoly(current, polygon, [int(c) for c in colors[i]])
        canvas = cv2.addWeighted(canvas, 0.4, current, 0.6, 0)
    return cv2.cvtColor(canvas, cv2.COLOR_BGR2RGB)


@pytest.mark.parametrize("style,count", [("openpose18", 18), ("wholebody133", 133)])
def test_blending_only_the_limbs_box_gives_the_whole_canvas_blend(style, count):
    rng = np.random.default_rng(3)
    for trial in range(20):
        points = rng.uniform(-40, 420, size=(count, 2))  # some off the canvas
        shown = rng.random(count) > 0.15
        ours = draw_keypoints(points, shown, (375, 550), style, 4 if trial % 2 else 2)
        assert np.array_equal(ours, whole_canvas_reference(points, shown, (375, 550), style, 4 if trial % 2 else 2))
        assert (ours > 0).any()


def test_colours_are_the_official_lists_drawn_bgr():
    points = np.full((18, 2), -1.0)
    points[OPENPOSE18_NAMES.index("neck")] = (100, 100)
    points[OPENPOSE18_NAMES.index("right_shoulder")] = (200, 100)  # limb 0 (neck - right shoulder), listed (255, 0, 0)
    shown = points[:, 0] >= 0
    image = draw_keypoints(points, shown, (375, 550), "openpose18", 4)
    assert tuple(image[100, 150]) == (0, 0, 153)  # 0.6 x (255, 0, 0), read as BGR
    assert tuple(image[100, 100]) != (0, 0, 0) and not image[300:].any()
    assert tuple(OPENPOSE_COLORS[0]) == (255, 0, 0)
    colors = wholebody_colors()
    assert colors.shape == (133, 3) and 0 <= colors.min() and colors.max() <= 255 and len({tuple(c) for c in colors}) == 133
    assert np.array_equal(colors, wholebody_colors())  # the module's generator, not the global one


def test_openpose_neck_is_the_shoulders_midpoint_and_needs_both():
    xy = np.zeros((543, 2))
    xy[B["LEFT_SHOULDER"]], xy[B["RIGHT_SHOULDER"]], xy[B["NOSE"]] = (80, 50), (20, 52), (50, 20)
    visible = np.zeros(543, bool)
    visible[[B["LEFT_SHOULDER"], B["RIGHT_SHOULDER"], B["NOSE"]]] = True
    points, shown = select_points(xy, visible, OPENPOSE18_TABLE)
    neck = OPENPOSE18_NAMES.index("neck")
    assert shown[neck] and np.allclose(points[neck], (50, 51))
    assert np.allclose(points[OPENPOSE18_NAMES.index("right_shoulder")], (20, 52)) and shown.sum() == 4
    visible[B["RIGHT_SHOULDER"]] = False
    assert not select_points(xy, visible, OPENPOSE18_TABLE)[1][neck]


def test_wholebody_layout_takes_body_feet_face_and_both_hands():
    table = WHOLEBODY133_TABLE
    assert table.shape == (133,) and table[5] == B["LEFT_SHOULDER"] and table[6] == B["RIGHT_SHOULDER"]
    assert table[18] == -1 and table[21] == -1  # MediaPipe has no small toes
    assert len(set(FACE68_FROM_MESH)) == 68 and all(0 <= i < 468 for i in FACE68_FROM_MESH)
    assert table[91] == OFFSETS["left_hand"] and table[112] == OFFSETS["right_hand"] and table[132] == OFFSETS["right_hand"] + 20


def test_the_68_face_points_sit_where_the_ibug_layout_puts_them(real_data):
    """On a real signer facing the camera: the jaw's lowest point is the chin, eyes and brows and mouth in order."""
    pose = load_holistic(real_data / "example.pose").to_holistic().to_pixels()
    face = pose.points[:, WHOLEBODY133_TABLE[23:91], :2]  # (T, 68, 2)
    ok = pose.confidence[:, WHOLEBODY133_TABLE[23:91]].min(axis=1) > 0.3
    assert ok.sum() > 50
    f = face[ok]
    x, y = f[..., 0], f[..., 1]
    assert (np.argmax(y[:, :17], axis=1) == 8).mean() > 0.9  # chin: the jaw's lowest point
    assert (x[:, 0] < x[:, 8]).all() and (x[:, 8] < x[:, 16]).all()  # jaw from the signer's right (image left) round to the left
    assert (x[:, 36] < x[:, 39]).all() and (x[:, 39] < x[:, 42]).all() and (x[:, 42] < x[:, 45]).all()  # eye corners in order
    assert (y[:, 17:27].mean(axis=1) < y[:, 36:48].mean(axis=1)).all()  # brows above the eyes
    assert (y[:, 27] < y[:, 30]).all() and (y[:, 30] < y[:, 51]).all() and (y[:, 51] < y[:, 57]).all()  # bridge, tip, lips
    assert (x[:, 48] < x[:, 54]).all() and (x[:, 60] < x[:, 64]).all()  # mouth corners
    mirror = np.abs((x[:, 0] + x[:, 16]) / 2 - x[:, 8]) / (x[:, 16] - x[:, 0])
    assert np.median(mirror) < 0.1  # left and right jaw points are mirror images about the chin


def test_a_models_pose_map_config_picks_the_drawing():
    pose = make_pose_sequence(t=1, width=200, height=300)
    holistic = render_pose_map(pose, 0, (352, 512), as_uint8=True)
    official = style_for(PoseMapConfig("openpose18", (375, 550), 4))
    assert official == RenderStyle(skeleton="openpose18", draw_size=(375, 550), stick_width=4)
    openpose = render_pose_map(pose, 0, (352, 512), as_uint8=True, style=official)
    whole = render_pose_map(pose, 0, (352, 512), as_uint8=True, style=style_for(PoseMapConfig("wholebody133", None, 2)))
    assert holistic.shape == openpose.shape == whole.shape == (512, 352, 3)
    assert openpose.any() and whole.any() and not np.array_equal(holistic, openpose) and not np.array_equal(openpose, whole)
    as_float = render_pose_map(pose, 0, (352, 512), style=official)
    assert np.array_equal(np.round(as_float.transpose(1, 2, 0) * 255).astype(np.uint8), openpose)


def test_bad_pose_map_configs_are_named():
    assert pose_map_problem(PoseMapConfig()) is None
    assert "style must be one of" in pose_map_problem(PoseMapConfig(style="openpose"))
    assert "draw_size" in pose_map_problem(PoseMapConfig(style="openpose18", draw_size=(0, 10)))
    assert "stick_width" in pose_map_problem(PoseMapConfig(style="openpose18", stick_width=0))
