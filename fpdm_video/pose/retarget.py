"""Retargeting: the driving signer's motion in the reference person's proportions and place.

Method (all in pixels of the respective frames):

1. **Proportions.** Bones are grouped in classes (shoulder width, upper arm, forearm, torso, thigh,
   shin, foot, neck, head, hand). A class's size is the sum of its bones' nominal lengths (the 90th
   percentile over frames, so foreshortened frames do not shrink it; left and right both count),
   measured on bones present in both poses. Its ratio is reference size / driving size. A class the
   reference lacks (e.g. no visible hands) falls back to the shoulder-width ratio, with a warning
   and a note in :class:`RetargetReport`.

   **Foreshortened reference bones.** The reference is one photo, where a bone turned out of the
   image plane looks short (a forearm pointing at the camera). Each side of a class (left, right,
   or the midline for neck and head) is judged by :mod:`fpdm_video.pose.foreshortening`: it is
   foreshortened when its length is below ``min_relative_length`` (0.65) of what the driving
   signer's proportions give at the reference's shoulder width, or below ``min_side_ratio`` (0.8)
   of the mirrored bone's 2D length. A foreshortened side is left out of the class's measurement,
   so the class is measured on the other side; with no side left the class takes the shoulder
   ratio, which keeps the driving signer's own proportion for it. Either way a warning is logged
   and a note naming the side and the reason goes to :class:`RetargetReport`. The shoulder width
   itself is the anchor and is not judged.
2. **Root.** The root is the mid-shoulder point. It is placed where the reference's mid-shoulder is,
   plus the driving root's motion relative to its median position (or its first frame), scaled by
   the shoulder ratio.
3. **Bones.** The kinematic tree is walked from the root: each child point is its parent's new
   position plus the driving bone vector (direction and per-frame foreshortening kept) times its
   class ratio. Hand points hang off the body wrist of their side, the face off the body nose (via
   the face mesh's nose tip, point 1). A point whose parent is missing in a frame is placed by the
   global map ``root_ref + shoulder_ratio * (x - root_drv)``.
4. **Contacts.** Where a hand point is within ``contact_radius`` head sizes of a face point in the
   driving frame, the whole hand (and its body wrist points) is shifted so that the offset of the
   hand point closest to the face to its nearest face point, in head-size units, is the driving
   one. The shift's weight fades from 1 at half the radius to 0 at the radius, so the hand eases
   into and out of the contact. Only hand-to-face contacts are kept this way; hand to
   hand and hand to body contacts follow from the bone-wise pass alone.

The output has the reference's frame size and the driving sequence's frames, fps and timestamps.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np

from fpdm_video.errors import PoseError
from fpdm_video.pose.foreshortening import MIN_RELATIVE_LENGTH, MIN_SIDE_RATIO, SideLengths, foreshortened_sides
from fpdm_video.pose.sequence import BODY_POINTS, HAND_POINTS, HOLISTIC_COMPONENTS, PoseSequence
from fpdm_video.pose.skeleton import FINGER_BONES, OFFSETS

logger = logging.getLogger(__name__)

K = sum(len(c) for c in HOLISTIC_COMPONENTS)  # 543 points in the canonical layout
ROOT = K  # index of the virtual mid-shoulder point, appended after the K points
_B = {name: i for i, name in enumerate(BODY_POINTS)}
_LH, _RH, _FACE = OFFSETS["left_hand"], OFFSETS["right_hand"], OFFSETS["face"]
FACE_NOSE_TIP = _FACE + 1  # face-mesh point 1, the tip of the nose
SIDES = ("LEFT", "RIGHT")


def _body(name: str) -> int:
    return _B[name]


def _both(a: str, b: str) -> list[tuple[int, int]]:
    return [(_body(f"{s}_{a}"), _body(f"{s}_{b}")) for s in SIDES]


# Bone classes: the bones measured for a class's size.
HAND_MEASURE = ((0, 5), (0, 9), (0, 13), (0, 17), (5, 17))  # palm: wrist to knuckles, knuckle line
MEASURED: dict[str, list[tuple[int, int]]] = {
    "shoulder": [(_body("LEFT_SHOULDER"), _body("RIGHT_SHOULDER"))],
    "upper_arm": _both("SHOULDER", "ELBOW"),
    "forearm": _both("ELBOW", "WRIST"),
    "torso": _both("SHOULDER", "HIP"),
    "thigh": _both("HIP", "KNEE"),
    "shin": _both("KNEE", "ANKLE"),
    "foot": _both("ANKLE", "HEEL") + _both("ANKLE", "FOOT_INDEX"),
    "neck": [(ROOT, _body("NOSE")), (ROOT, FACE_NOSE_TIP)],  # the face-mesh nose tip for reduced body layouts
    "head": [(_body("LEFT_EAR"), _body("RIGHT_EAR")), (_FACE + 234, _FACE + 454),
             (_body("LEFT_EYE_OUTER"), _body("RIGHT_EYE_OUTER"))],  # fmt: skip
    "hand": [(base + a, base + b) for base in (_LH, _RH) for a, b in HAND_MEASURE],
}


def kinematic_tree() -> list[tuple[int, int, str]]:
    """Bones (parent, child, class) in walking order from the root; indices along K (ROOT = K)."""
    bones: list[tuple[int, int, str]] = []
    for side, hand in zip(SIDES, (_LH, _RH)):
        p = lambda name: _body(f"{side}_{name}")  # noqa: E731
        bones += [(ROOT, p("SHOULDER"), "shoulder"), (p("SHOULDER"), p("ELBOW"), "upper_arm"),
                  (p("ELBOW"), p("WRIST"), "forearm"), (p("SHOULDER"), p("HIP"), "torso"),
                  (p("HIP"), p("KNEE"), "thigh"), (p("KNEE"), p("ANKLE"), "shin"),
                  (p("ANKLE"), p("HEEL"), "foot"), (p("ANKLE"), p("FOOT_INDEX"), "foot")]  # fmt: skip
        bones += [(p("WRIST"), p(name), "hand") for name in ("PINKY", "INDEX", "THUMB")]
        bones.append((p("WRIST"), hand, "hand"))  # the hand component's wrist at the body wrist
        bones += [(hand + a, hand + b, "hand") for a, b in FINGER_BONES]
    bones.append((ROOT, _body("NOSE"), "neck"))
    for name in ("EYE_INNER", "EYE", "EYE_OUTER", "EAR"):
        bones += [(_body("NOSE"), _body(f"{s}_{name}"), "head") for s in SIDES]
    bones += [(_body("NOSE"), _body(f"MOUTH_{s}"), "head") for s in SIDES]
    bones.append((_body("NOSE"), FACE_NOSE_TIP, "head"))
    bones += [(FACE_NOSE_TIP, _FACE + i, "head") for i in range(468) if _FACE + i != FACE_NOSE_TIP]
    return bones


@dataclass(frozen=True)
class RetargetConfig:
    """Settings of :func:`retarget`. Distances in head sizes, percentiles in percent."""

    root_anchor: str = "median"  # driving root motion is taken relative to its "median" or "first" position
    length_percentile: float = 90.0  # percentile of a bone's lengths over frames taken as its nominal length
    keep_contacts: bool = True  # keep hand-to-face contacts (see the module docstring)
    contact_radius: float = 0.5  # head sizes: hand points nearer a face point than this are in contact
    # a reference bone shorter than this fraction of the driving signer's proportion, or of its mirrored bone,
    # is foreshortened (see fpdm_video.pose.foreshortening); 0 turns that rule off
    min_relative_length: float = MIN_RELATIVE_LENGTH
    min_side_ratio: float = MIN_SIDE_RATIO

    def __post_init__(self) -> None:
        if self.root_anchor not in ("median", "first"):
            raise PoseError(f"root_anchor must be 'median' or 'first', got {self.root_anchor!r}")
        if not 0.0 < self.length_percentile <= 100.0:
            raise PoseError(f"length_percentile must be in (0, 100], got {self.length_percentile}")
        for name in ("min_relative_length", "min_side_ratio"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise PoseError(f"{name} must be in [0, 1] (0 turns the check off), got {getattr(self, name)}")


@dataclass
class RetargetReport:
    """How :func:`retarget` scaled the driving pose."""

    ratios: dict[str, float]  # bone class -> reference size / driving size
    fallbacks: list[str] = field(default_factory=list)  # classes not measured as usual (missing, foreshortened): why
    foreshortened: list[str] = field(default_factory=list)  # reference bones left out: "left_forearm", "neck"
    contact_frames: dict[str, int] = field(default_factory=dict)  # hand -> frames whose face contact was kept


def _with_root(points: np.ndarray, confidence: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Append the mid-shoulder root: points (T, K+1, D), present (T, K+1) bool."""
    ls, rs = _body("LEFT_SHOULDER"), _body("RIGHT_SHOULDER")
    root = 0.5 * (points[:, ls] + points[:, rs])  # (T, D)
    present = confidence > 0
    root_ok = present[:, ls] & present[:, rs]
    return (np.concatenate([points, root[:, None]], axis=1).astype(np.float64),
            np.concatenate([present, root_ok[:, None]], axis=1))  # fmt: skip


def nominal_lengths(points: np.ndarray, present: np.ndarray, pairs: list[tuple[int, int]],
                    percentile: float) -> dict[tuple[int, int], float]:  # fmt: skip
    """Nominal 2D length of each pair present in some frame: the ``percentile`` of its lengths."""
    out = {}
    for a, b in pairs:
        ok = present[:, a] & present[:, b]
        if ok.any():
            lengths = np.linalg.norm(points[ok, a, :2] - points[ok, b, :2], axis=-1)
            if np.percentile(lengths, percentile) > 0:
                out[(a, b)] = float(np.percentile(lengths, percentile))
    return out


def _point_side(i: int) -> str:
    if _LH <= i < _LH + len(HAND_POINTS):
        return "left"
    if _RH <= i < _RH + len(HAND_POINTS):
        return "right"
    if i < len(BODY_POINTS):
        for side in SIDES:
            if BODY_POINTS[i].startswith(f"{side}_"):
                return side.lower()
    return ""


def side_of(pair: tuple[int, int]) -> str:
    """"left" or "right" (the signer's own) for a bone on one side of the body, "" for one across or on the midline."""
    a, b = (_point_side(i) for i in pair)
    return a if a == b else ""


def _drop_foreshortened(common: list[tuple[int, int]], d: dict, r: dict, shoulder_ratio: float, config: RetargetConfig,
                        ) -> tuple[list[tuple[int, int]], dict[str, str]]:  # fmt: skip
    """The pairs of one class whose side is not foreshortened in the reference, and the foreshortened sides' reasons."""
    sides: dict[str, SideLengths] = {}
    for p in common:
        m = sides.get(side_of(p), SideLengths(0.0, 0.0, 0))
        sides[side_of(p)] = SideLengths(m.reference + r[p], m.driving + d[p], m.bones + 1)
    bad = foreshortened_sides(sides, shoulder_ratio, config.min_relative_length, config.min_side_ratio)
    return [p for p in common if side_of(p) not in bad], bad


def class_ratios(drv: tuple[np.ndarray, np.ndarray], ref: tuple[np.ndarray, np.ndarray], config: RetargetConfig,
                 ) -> tuple[dict[str, float], list[str], list[str], float]:  # fmt: skip
    """Ratio of each bone class, the fallback notes, the foreshortened reference bones, the driving's head size (px)."""
    ratios, notes, short, head = {}, [], [], 0.0
    for name, pairs in MEASURED.items():
        d = nominal_lengths(*drv, pairs, config.length_percentile)
        r = nominal_lengths(*ref, pairs, config.length_percentile)
        common = [p for p in pairs if p in d and p in r]
        if name == "head" and common:
            head = sum(d[p] for p in common) / len(common)
        dropped = False  # every bone of the class both poses show is foreshortened in the reference
        if common and name != "shoulder":  # the shoulder width is the anchor of the foreshortening check
            kept, bad = _drop_foreshortened(common, d, r, ratios["shoulder"], config)
            dropped = not kept
            if bad:
                short += [f"{side}_{name}" if side else name for side in bad]
                why = "; ".join(f"{side} {reason}" if side else reason for side, reason in bad.items())
                then = (f"measured on the {' and '.join(sorted({side_of(p) for p in kept}))} side only" if kept
                        else "scaled by the shoulder ratio, the driving signer's own proportion")  # fmt: skip
                notes.append(f"{name}: foreshortened in the reference ({why}); {then}")
            common = kept
        if common:
            ratios[name] = sum(r[p] for p in common) / sum(d[p] for p in common)
        elif name == "shoulder":
            raise PoseError(
                "retargeting needs both shoulders in the reference pose and in some driving frame; "
                "use a reference photo that shows the upper body"
            )
        elif d and not dropped:  # the driving has the part but the reference does not show it
            notes.append(f"{name}: not measurable in the reference; scaled by the shoulder ratio")
    ratios = {name: ratios.get(name, ratios["shoulder"]) for name in MEASURED}  # unmeasured: the shoulder ratio
    if head == 0.0:  # no head width measurable: use a third of the shoulder width
        shoulder = nominal_lengths(*drv, MEASURED["shoulder"], config.length_percentile)
        head = shoulder.get(MEASURED["shoulder"][0], 0.0) / 3.0
    return ratios, notes, short, head


def retarget(driving: PoseSequence, reference: PoseSequence, config: RetargetConfig | None = None) -> PoseSequence:
    """The driving sequence in the reference's proportions and frame (see the module docstring)."""
    return retarget_with_report(driving, reference, config)[0]


def retarget_with_report(driving: PoseSequence, reference: PoseSequence, config: RetargetConfig | None = None,
                         ) -> tuple[PoseSequence, RetargetReport]:  # fmt: skip
    """:func:`retarget`, also returning the ratios used, the fallbacks taken and the contacts kept."""
    config = config or RetargetConfig()
    if reference.num_frames != 1:
        raise PoseError(
            f"the reference pose must have one frame, got {reference.num_frames}; pass reference.frames(i, i + 1)"
        )
    driving = driving.to_holistic().to_pixels()
    reference = reference.to_holistic().to_pixels()
    if driving.dims != reference.dims:
        raise PoseError(f"driving poses have {driving.dims} dims but the reference {reference.dims}")
    drv_pts, drv_ok = _with_root(driving.points, driving.confidence)  # (T, K+1, D), (T, K+1)
    ref_pts, ref_ok = _with_root(reference.points, reference.confidence)  # (1, K+1, D)
    ratios, notes, short, head = class_ratios((drv_pts, drv_ok), (ref_pts, ref_ok), config)
    for note in notes:
        logger.warning("retarget: %s", note)

    roots = drv_pts[drv_ok[:, ROOT], ROOT]  # (n, D) driving roots
    anchor = np.median(roots, axis=0) if config.root_anchor == "median" else roots[0]
    scale = ratios["shoulder"]

    def global_map(x: np.ndarray) -> np.ndarray:  # (..., D) driving pixels -> reference pixels
        return ref_pts[0, ROOT] + scale * (x - anchor)

    new = np.zeros_like(drv_pts)  # (T, K+1, D)
    new[:, ROOT] = global_map(drv_pts[:, ROOT])
    placed = drv_ok.copy()  # every present point gets placed
    for parent, child, kind in kinematic_tree():
        chained = (drv_ok[:, child] & drv_ok[:, parent])[:, None]  # (T, 1)
        bone = new[:, parent] + ratios[kind] * (drv_pts[:, child] - drv_pts[:, parent])
        new[:, child] = np.where(chained, bone, global_map(drv_pts[:, child]))
    new[~placed] = 0.0

    report = RetargetReport(ratios=ratios, fallbacks=notes, foreshortened=short)
    if config.keep_contacts:
        for side, hand, wrist in (("left_hand", _LH, "LEFT"), ("right_hand", _RH, "RIGHT")):
            report.contact_frames[side] = keep_face_contacts(
                new, drv_pts, drv_ok, hand, wrist, head, ratios["head"], config.contact_radius
            )
    confidence = np.where(placed[:, :K], driving.confidence, 0.0).astype(np.float32)
    out = PoseSequence(
        points=new[:, :K].astype(np.float32), confidence=confidence, fps=driving.fps,
        width=reference.width, height=reference.height, timestamps=driving.timestamps,
    )  # fmt: skip
    logger.info("retarget: ratios %s", {k: round(v, 3) for k, v in ratios.items()})
    return out, report


def keep_face_contacts(new: np.ndarray, drv: np.ndarray, ok: np.ndarray, hand: int, wrist_side: str,
                       head: float, head_ratio: float, radius: float) -> int:  # fmt: skip
    """Shift one hand, in place in ``new`` (T, K+1, D), so its driving contacts with the face hold.

    Returns the number of frames shifted.
    """
    if head <= 0:
        return 0
    hand_idx = np.arange(hand, hand + len(HAND_POINTS))
    face_idx = np.arange(_FACE, _FACE + 468)
    body_idx = np.array([_body(f"{wrist_side}_{n}") for n in ("WRIST", "PINKY", "INDEX", "THUMB")])
    reach = radius * head  # pixels in the driving frame
    count = 0
    for t in np.flatnonzero(ok[:, hand_idx].any(axis=1) & ok[:, face_idx].any(axis=1)):
        h_ok, f_ok = ok[t, hand_idx], ok[t, face_idx]
        hand_xy, face_xy = drv[t, hand_idx[h_ok], :2], drv[t, face_idx[f_ok], :2]  # (h, 2), (f, 2)
        dist = np.linalg.norm(hand_xy[:, None] - face_xy[None], axis=-1)  # (h, f)
        nearest = dist.argmin(axis=1)  # (h,)
        d = dist[np.arange(len(nearest)), nearest]
        closest = int(d.argmin())  # the hand point in contact decides the shift
        weight = float(np.clip((reach - d[closest]) / (0.5 * reach), 0.0, 1.0))  # 1 inside half the radius
        if weight == 0.0:
            continue
        anchor = face_idx[f_ok][nearest[closest]]  # face point nearest to it
        point = hand_idx[h_ok][closest]
        target = new[t, anchor] + head_ratio * (drv[t, point] - drv[t, anchor])  # (D,) offset in head units
        shift = weight * (target - new[t, point])
        moved = np.concatenate([hand_idx[h_ok], body_idx[ok[t, body_idx]]])
        new[t, moved] += shift
        count += 1
    return count
