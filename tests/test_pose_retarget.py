"""Retargeting: bone lengths and placement from the reference, motion from the driving, contacts kept."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from factories_pose_motion import foreshortened_forearms, scaled, smooth_track
from fpdm_video.errors import PoseError
from fpdm_video.pose.foreshortening import SideLengths, foreshortened_sides
from fpdm_video.pose.retarget import ROOT, RetargetConfig, kinematic_tree, retarget, retarget_with_report
from fpdm_video.pose.sequence import BODY_POINTS

B = {name: i for i, name in enumerate(BODY_POINTS)}
CHIN = 152  # face-mesh point at the bottom of the chin
MIDDLE_TIP = 12  # hand point: the longest finger of the synthetic hands, so the one that touches


@pytest.fixture(scope="module")
def truth():
    return smooth_track(t=40, size=512)


def _root(pose):
    return 0.5 * (pose.points[:, B["LEFT_SHOULDER"], :2] + pose.points[:, B["RIGHT_SHOULDER"], :2])  # (T, 2)


def _bone_lengths(pose) -> np.ndarray:
    """(T, N) 2D lengths of every bone of the kinematic tree (NaN where an end is missing)."""
    xy = np.concatenate([pose.points[..., :2], _root(pose)[:, None]], axis=1)
    ok = np.concatenate([pose.confidence > 0, np.ones((pose.num_frames, 1), dtype=bool)], axis=1)
    parents, children = np.array([(p, c) for p, c, _ in kinematic_tree()]).T
    lengths = np.linalg.norm(xy[:, children] - xy[:, parents], axis=-1)
    return np.where(ok[:, children] & ok[:, parents], lengths, np.nan)


def test_scaled_skeleton_gets_reference_bone_lengths_back(truth):
    driving = scaled(truth, 1.3, (40.0, -30.0), width=800, height=700)
    reference = truth.frames(0, 1)
    out, report = retarget_with_report(driving, reference)
    assert (out.width, out.height, out.num_frames, out.fps) == (512, 512, truth.num_frames, truth.fps)
    assert report.fallbacks == []
    assert report.ratios["shoulder"] == pytest.approx(1 / 1.3, rel=1e-4)
    want, got = _bone_lengths(truth), _bone_lengths(out)
    measurable = ~np.isnan(want) & (want > 1.0)  # bones of at least a pixel
    relative = np.abs(got[measurable] - want[measurable]) / want[measurable]
    assert np.all(relative < 0.02), relative.max()  # every bone of every frame within 2%
    # it stands where the reference stands, and here (pure scaling) it is the original motion
    assert np.allclose(_root(out), _root(reference), atol=0.5)
    assert np.abs(out.points[..., :2] - truth.points[..., :2]).max() < 0.5


def test_root_motion_is_scaled_and_anchored(truth):
    points = truth.points.copy()
    points[:, :, 0] += np.linspace(0.0, 26.0, truth.num_frames)[:, None].astype(np.float32)  # signer drifts right
    drifting = scaled(truth.with_data(points, truth.confidence.copy()), 1.3, (0.0, 0.0), 900, 900)
    out = retarget(drifting, truth.frames(0, 1), RetargetConfig(root_anchor="first"))
    drift = _root(out)[:, 0] - _root(truth.frames(0, 1))[0, 0]
    assert np.allclose(drift, np.linspace(0.0, 26.0, truth.num_frames), atol=0.05)  # 1.3 * 26 px / 1.3


def _with_chin_touch(pose, frames):
    """The right middle fingertip moved onto the chin (2 px below it) in ``frames``: the hand and wrist shift."""
    pose = pose.copy()
    rh, face = pose.slice_of("right_hand"), pose.slice_of("face")
    moved = [*range(rh.start, rh.stop), B["RIGHT_WRIST"], B["RIGHT_PINKY"], B["RIGHT_INDEX"], B["RIGHT_THUMB"]]
    for t in frames:
        shift = pose.points[t, face.start + CHIN, :2] + (0.0, 2.0) - pose.points[t, rh.start + MIDDLE_TIP, :2]
        pose.points[t, moved, :2] += shift
    return pose


def _other_person(pose):
    """One frame of a person with 1.3x longer arms and a 0.8x smaller head."""
    ref = pose.frames(0, 1)
    p = ref.points[0]
    nose = p[B["NOSE"]].copy()
    for side, hand in (("LEFT", ref.slice_of("left_hand")), ("RIGHT", ref.slice_of("right_hand"))):
        shoulder, elbow, wrist = (p[B[f"{side}_{n}"]].copy() for n in ("SHOULDER", "ELBOW", "WRIST"))
        new_elbow = shoulder + 1.3 * (elbow - shoulder)
        new_wrist = new_elbow + 1.3 * (wrist - elbow)
        p[B[f"{side}_ELBOW"]] = new_elbow
        hand_points = [*range(hand.start, hand.stop)] + [B[f"{side}_{n}"] for n in ("WRIST", "PINKY", "INDEX", "THUMB")]
        p[hand_points] += new_wrist - wrist
    head = [*range(ref.slice_of("face").start, ref.slice_of("face").stop), *range(0, 11)]
    p[head] = nose + 0.8 * (p[head] - nose)
    return ref.with_data(ref.points, ref.confidence)


def test_hand_to_face_contact_is_kept(truth):
    touching = [10, 11, 12]  # few frames: the stretched arm stays out of the 90th-percentile lengths
    driving = _with_chin_touch(truth, touching)
    reference = _other_person(truth)
    rh, face = driving.slice_of("right_hand"), driving.slice_of("face")
    head = np.linalg.norm(reference.points[0, B["LEFT_EAR"], :2] - reference.points[0, B["RIGHT_EAR"], :2])

    def chin_gap(pose):
        tip, chin = pose.points[touching, rh.start + MIDDLE_TIP, :2], pose.points[touching, face.start + CHIN, :2]
        return np.linalg.norm(tip - chin, axis=-1)

    kept, report = retarget_with_report(driving, reference)
    loose = retarget(driving, reference, RetargetConfig(keep_contacts=False))
    assert report.ratios["head"] == pytest.approx(0.8, rel=1e-3)
    assert report.ratios["forearm"] == pytest.approx(1.3, rel=1e-3)
    assert report.contact_frames["right_hand"] >= len(touching)
    # the driving fingertip is 2 px below the chin: 1.6 px at the reference's head size
    assert np.all(chin_gap(kept) < 0.05 * head), chin_gap(kept) / head
    assert np.all(chin_gap(loose) > 0.3 * head), chin_gap(loose) / head  # bone-wise alone loses the contact
    far = [t for t in range(truth.num_frames) if t not in touching and abs(t - 11) > 8]
    assert np.allclose(kept.points[far], loose.points[far])  # frames without contact are untouched


def test_reference_without_hands_falls_back_to_shoulder_ratio(truth, caplog):
    driving = scaled(truth, 1.3, (0.0, 0.0), 800, 800)
    reference = truth.frames(0, 1)
    for name in ("left_hand", "right_hand"):
        reference.confidence[:, reference.slice_of(name)] = 0.0
    reference = reference.with_data(reference.points, reference.confidence)
    with caplog.at_level(logging.WARNING, logger="fpdm_video.pose.retarget"):
        out, report = retarget_with_report(driving, reference)
    assert any("hand" in note for note in report.fallbacks)
    assert "not measurable in the reference" in caplog.text
    assert report.ratios["hand"] == pytest.approx(report.ratios["shoulder"])
    assert np.all(out.confidence[:, out.slice_of("left_hand")] > 0)  # the driving's hands are still there


def _proportions(pose) -> np.ndarray:
    """(T, N) each kinematic-tree bone's 2D length over the frame's shoulder width (NaN: unmeasurable or under 2 px)."""
    lengths = _bone_lengths(pose)
    shoulders = np.linalg.norm(pose.points[:, B["LEFT_SHOULDER"], :2] - pose.points[:, B["RIGHT_SHOULDER"], :2], axis=-1)
    return np.where(lengths >= 2.0, lengths, np.nan) / shoulders[:, None]


@pytest.mark.parametrize("sides", [("LEFT", "RIGHT"), ("RIGHT",)])
def test_foreshortened_reference_keeps_the_driving_proportions(truth, caplog, sides):
    """A reference whose forearms point at the camera (2D forearm 0.3 of its length) gives no stub forearms."""
    driving = scaled(truth, 1.3, (0.0, 0.0), 800, 800)  # the same person, 1.3x larger: proportions are equal
    reference = foreshortened_forearms(truth, sides)
    with caplog.at_level(logging.WARNING, logger="fpdm_video.pose.retarget"):
        out, report = retarget_with_report(driving, reference)
    want, got = _proportions(driving), _proportions(out)
    ok = ~np.isnan(want) & ~np.isnan(got)
    assert ok.sum() > 0.9 * ok.size
    relative = np.abs(got[ok] - want[ok]) / want[ok]
    assert np.all(relative < 0.10), relative.max()  # every bone of every frame within 10 % of the driving's proportion
    assert report.foreshortened == [f"{s.lower()}_forearm" for s in sides]
    assert report.ratios["forearm"] == pytest.approx(report.ratios["shoulder"], rel=1e-3)
    (note,) = [n for n in report.fallbacks if n.startswith("forearm")]
    assert "foreshortened in the reference" in note
    assert ("measured on the left side only" in note) == (sides == ("RIGHT",))
    assert "forearm: foreshortened in the reference" in caplog.text
    # without the check the forearms shrink to the photo's stubs (0.3 of the length, or 0.65 averaged with the other side)
    stub, plain = retarget_with_report(driving, reference, RetargetConfig(min_relative_length=0.0, min_side_ratio=0.0))
    forearms = [i for i, (_, _, kind) in enumerate(kinematic_tree()) if kind == "forearm"]
    assert plain.foreshortened == [] and plain.fallbacks == []
    assert np.nanmax(_proportions(stub)[:, forearms] / want[:, forearms]) < 0.66


def test_mildly_shorter_bones_are_the_reference_persons_own(truth):
    """Forearms at 0.8 of the driving's proportion (both sides) are a proportion, not foreshortening: kept."""
    driving = scaled(truth, 1.3, (0.0, 0.0), 800, 800)
    out, report = retarget_with_report(driving, foreshortened_forearms(truth, ("LEFT", "RIGHT"), factor=0.8))
    assert report.foreshortened == [] and report.fallbacks == []
    assert report.ratios["forearm"] == pytest.approx(0.8 * report.ratios["shoulder"], rel=1e-3)


def test_foreshortening_rules():
    even = SideLengths(100.0, 100.0)
    assert foreshortened_sides({"left": SideLengths(30.0, 100.0), "right": even}, 1.0) == {
        "left": "0.30 of the driving signer's proportion, below 0.65"}  # fmt: skip
    assert foreshortened_sides({"left": SideLengths(75.0, 100.0), "right": even}, 1.0) == {
        "left": "0.75 of the right side's length, below 0.8"}  # fmt: skip
    assert foreshortened_sides({"": SideLengths(60.0, 100.0)}, 0.5) == {}  # 1.2 of the proportion: a longer bone
    assert foreshortened_sides({"left": SideLengths(75.0, 100.0, 2), "right": even}, 1.0) == {}  # not the same bones
    assert foreshortened_sides({"left": SideLengths(30.0, 100.0), "right": even}, 1.0, 0.0, 0.0) == {}  # both off


def test_missing_driving_points_stay_missing(truth):
    driving = truth.copy()
    driving.confidence[5:8, driving.slice_of("left_hand")] = 0.0
    driving.confidence[20, B["RIGHT_ELBOW"]] = 0.0  # a missing parent: its children use the global map
    driving = driving.with_data(driving.points, driving.confidence)
    out = retarget(driving, truth.frames(0, 1))
    assert np.all(out.confidence[5:8, out.slice_of("left_hand")] == 0)
    assert np.all(out.points[5:8, out.slice_of("left_hand")] == 0)
    assert np.allclose(out.points[20, B["RIGHT_WRIST"]], truth.points[20, B["RIGHT_WRIST"]], atol=0.5)


def test_bad_references_are_rejected(truth):
    with pytest.raises(PoseError, match="one frame"):
        retarget(truth, truth.frames(0, 2))
    no_shoulders = truth.frames(0, 1)
    no_shoulders.confidence[:, [B["LEFT_SHOULDER"], B["RIGHT_SHOULDER"]]] = 0.0
    with pytest.raises(PoseError, match="shoulders"):
        retarget(truth, no_shoulders.with_data(no_shoulders.points, no_shoulders.confidence))
    with pytest.raises(PoseError, match="root_anchor"):
        RetargetConfig(root_anchor="mean")
    with pytest.raises(PoseError, match="min_side_ratio"):
        RetargetConfig(min_side_ratio=1.5)


def test_tree_reaches_every_point_once():
    children = [c for _, c, _ in kinematic_tree()]
    assert sorted(children) == list(range(ROOT))
    seen = {ROOT}
    for parent, child, _ in kinematic_tree():
        assert parent in seen, (parent, child)  # parents are placed before their children
        seen.add(child)


def test_real_driving_onto_real_reference(real_data):
    """The real example.pose signer retargeted onto the other real pose file's first frame."""
    from fpdm_video.pose import load_holistic

    driving = load_holistic(real_data / "example.pose")
    reference = load_holistic(real_data / "mediapipe.pose").frames(0, 1)
    out, report = retarget_with_report(driving, reference)
    assert (out.width, out.height, out.num_frames) == (reference.width, reference.height, driving.num_frames)
    ref_root = 0.5 * (reference.points[0, B["LEFT_SHOULDER"], :2] + reference.points[0, B["RIGHT_SHOULDER"], :2])
    assert np.linalg.norm(np.median(_root(out), axis=0) - ref_root) < 1.0
    assert 0.1 < report.ratios["shoulder"] < 20.0
